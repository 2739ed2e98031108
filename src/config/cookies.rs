//! DNS cookies (RFC 7873, RFC 9018): `cookies` (on by default, as BIND's
//! `answer-cookie`), `cookie_secret` and `cookie_secret_previous` (32 hex digits
//! each, as BIND's `cookie-secret` and Knot DNS's `secret` take them; a random
//! secret at start when absent), `require_server_cookie` (BIND's name, off by
//! default) and `badcookie_slip` (Knot DNS's, 1 by default).

use super::{ConfigError, ConfigFile};
use crate::server::cookies::CookiePolicy;
use crate::wire::cookie::{CookieSecret, ServerSecrets, SECRET_BYTES};

/// The cookie settings, `None` when `cookies = false`.
pub(super) fn cookie_policy(file: &ConfigFile) -> Result<Option<CookiePolicy>, ConfigError> {
    let current = file
        .cookie_secret
        .as_deref()
        .map(|text| secret("cookie_secret", text))
        .transpose()?;
    let previous = file
        .cookie_secret_previous
        .as_deref()
        .map(|text| secret("cookie_secret_previous", text))
        .transpose()?;
    let slip = file.badcookie_slip.unwrap_or(1);
    if slip == 0 {
        return Err(ConfigError::Invalid {
            key: "badcookie_slip",
            reason: "must be at least 1 (1: every request without a valid cookie gets BADCOOKIE)"
                .into(),
        });
    }
    if !file.cookies.unwrap_or(true) {
        return Ok(None);
    }
    let current = match (current, previous) {
        (Some(current), _) => current,
        (None, Some(_)) => {
            return Err(ConfigError::Invalid {
                key: "cookie_secret_previous",
                reason: "needs cookie_secret (the secret cookies are made with)".into(),
            })
        }
        (None, None) => CookieSecret::random().ok_or_else(|| ConfigError::Invalid {
            key: "cookie_secret",
            reason: "none set, and no random one could be made".into(),
        })?,
    };
    Ok(Some(CookiePolicy {
        secrets: ServerSecrets { current, previous },
        require_server_cookie: file.require_server_cookie.unwrap_or(false),
        badcookie_slip: slip,
    }))
}

/// A 128-bit secret: 32 hex digits, `0x` before them or not.
fn secret(key: &'static str, text: &str) -> Result<CookieSecret, ConfigError> {
    let hex = text.strip_prefix("0x").unwrap_or(text);
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(hex.as_bytes())
        .ok()
        .and_then(|bytes| <[u8; SECRET_BYTES]>::try_from(bytes).ok())
        .map(CookieSecret::new)
        .ok_or_else(|| ConfigError::Invalid {
            key,
            // The text is a secret: not repeated in the error.
            reason: format!("must be {} hex digits (128 bits)", 2 * SECRET_BYTES),
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::load::parse_str;
    use super::*;

    const SECRET: &str = "e5e973e5a6b2a43f48e7dc849e37bfcf";

    #[test]
    fn cookies_are_on_by_default_with_a_random_secret() {
        let a = parse_str("").unwrap().cookies.unwrap();
        let b = parse_str("").unwrap().cookies.unwrap();
        assert_ne!(a.secrets.current, b.secrets.current);
        assert_eq!(a.secrets.previous, None);
        assert!(!a.require_server_cookie);
        assert_eq!(a.badcookie_slip, 1);
        assert!(parse_str("cookies = false\n").unwrap().cookies.is_none());
    }

    #[test]
    fn secrets_are_32_hex_digits() {
        let c = parse_str(&format!(
            "cookie_secret = \"{SECRET}\"\ncookie_secret_previous = \"0x{}\"\n\
             require_server_cookie = true\nbadcookie_slip = 3\n",
            SECRET.to_uppercase()
        ))
        .unwrap()
        .cookies
        .unwrap();
        let bytes: [u8; 16] = data_encoding::HEXLOWER
            .decode(SECRET.as_bytes())
            .unwrap()
            .try_into()
            .unwrap();
        assert_eq!(c.secrets.current, CookieSecret::new(bytes));
        assert_eq!(c.secrets.previous, Some(CookieSecret::new(bytes)));
        assert!(c.require_server_cookie);
        assert_eq!(c.badcookie_slip, 3);
        for bad in ["abc", "e5e973e5a6b2a43f48e7dc849e37bfcf00", "zz", ""] {
            let error = parse_str(&format!("cookie_secret = \"{bad}\"\n"))
                .unwrap_err()
                .to_string();
            assert!(
                error.contains("cookie_secret: must be 32 hex digits"),
                "{error}"
            );
            if !bad.is_empty() {
                assert!(!error.contains(bad), "the secret is not repeated: {error}");
            }
        }
        let error = parse_str(&format!("cookie_secret_previous = \"{SECRET}\"\n"))
            .unwrap_err()
            .to_string();
        assert!(error.contains("needs cookie_secret"), "{error}");
        let error = parse_str("badcookie_slip = 0\n").unwrap_err().to_string();
        assert!(error.contains("badcookie_slip"), "{error}");
    }
}
