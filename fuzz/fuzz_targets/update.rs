#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| zonal_fuzz::update(data));
