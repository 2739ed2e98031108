//! Running zonal as a service: the metrics and health endpoint (`exporter`,
//! `http`) and zone reloading (`reload`). Uses every other module; none uses it.

pub mod exporter;
pub mod http;
pub mod reload;
