//! Running zonal as a service: the metrics and health endpoint (`exporter`,
//! `http`), zone reloading (`reload`) and dropping root (`privileges`). Uses every
//! other module; none uses it.

pub mod exporter;
pub mod http;
pub mod privileges;
pub mod reload;
