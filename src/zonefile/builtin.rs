//! The example zones of `zones/`, compiled in, so `zonal` with no arguments serves
//! something from any folder.

use std::path::Path;

use super::loader::{load_zone_text, origin_from_text, LoadError};
use crate::auth::Zone;

/// (origin, file name, text) of each built-in zone.
const BUILTIN_ZONES: &[(&str, &str, &str)] = &[
    (
        "example.com.",
        "zones/example.com.zone",
        include_str!("../../zones/example.com.zone"),
    ),
    (
        "2.0.192.in-addr.arpa.",
        "zones/2.0.192.in-addr.arpa.zone",
        include_str!("../../zones/2.0.192.in-addr.arpa.zone"),
    ),
];

/// Loads the built-in zones.
pub fn builtin_zones() -> Result<Vec<Zone>, LoadError> {
    BUILTIN_ZONES
        .iter()
        .map(|(origin, file, text)| {
            let origin = origin_from_text(origin, Path::new(file))?;
            load_zone_text(&origin, text.as_bytes(), Path::new(file))
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    #[test]
    fn builtin_zones_load() {
        let zones = super::builtin_zones().unwrap();
        assert_eq!(zones.len(), 2);
    }
}
