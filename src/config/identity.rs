//! What the server says about itself: `nsid` (RFC 5001), text or `0x` and hex
//! digits, as Knot DNS's `nsid` takes it.

use super::{ConfigError, ConfigFile};
use crate::wire::writer::{Nsid, MAX_NSID_BYTES};

/// `nsid`: `None` when absent or empty (no NSID is sent).
pub(super) fn nsid(file: &ConfigFile) -> Result<Option<Nsid>, ConfigError> {
    let Some(text) = file.nsid.as_deref().filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    let bytes = match text.strip_prefix("0x") {
        Some(hex) => data_encoding::HEXLOWER_PERMISSIVE
            .decode(hex.as_bytes())
            .map_err(|_| ConfigError::Invalid {
                key: "nsid",
                reason: format!("'{text}' is not 0x and an even number of hex digits"),
            })?,
        None => text.as_bytes().to_vec(),
    };
    Nsid::new(&bytes)
        .map(Some)
        .ok_or_else(|| ConfigError::Invalid {
            key: "nsid",
            reason: format!("{} bytes, more than {MAX_NSID_BYTES}", bytes.len()),
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::load::parse_str;

    #[test]
    fn nsid_is_text_or_hex() {
        let nsid = |text: &str| parse_str(text).map(|c| c.nsid.map(|n| n.as_bytes().to_vec()));
        assert_eq!(nsid("").unwrap(), None);
        assert_eq!(nsid("nsid = \"\"\n").unwrap(), None);
        assert_eq!(
            nsid("nsid = \"ns1.fra\"\n").unwrap(),
            Some(b"ns1.fra".to_vec())
        );
        assert_eq!(
            nsid("nsid = \"0x6E7331\"\n").unwrap(),
            Some(b"ns1".to_vec())
        );
        assert!(nsid("nsid = \"0x6E73F\"\n")
            .unwrap_err()
            .to_string()
            .contains("nsid"));
        let long = format!("nsid = \"{}\"\n", "x".repeat(129));
        assert!(nsid(&long)
            .unwrap_err()
            .to_string()
            .contains("more than 128"));
    }
}
