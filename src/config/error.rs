//! What is wrong with a configuration, told once and on one line.

use std::path::{Path, PathBuf};

/// A configuration that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has an unknown key.
    #[error("config {}:{line}: {message}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line the TOML parser stopped at.
        line: usize,
        /// What it said, on one line.
        message: String,
    },
    /// A value out of range or malformed.
    #[error("config: {key}: {reason}")]
    Invalid {
        /// The key.
        key: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A zone folder or zone name that cannot be used.
    #[error("config: {0}")]
    Zone(#[from] crate::zonefile::SyntaxError),
    /// A key file or key that cannot be used.
    #[error("config: {0}")]
    Key(#[from] crate::tsig::keys::KeyError),
}

/// A TOML error as one line: the line it is on and the parser's message.
pub(super) fn parse_error(path: &Path, text: &str, error: &toml::de::Error) -> ConfigError {
    let line = error.span().map_or(1, |span| {
        text.as_bytes()[..span.start.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    });
    ConfigError::Parse {
        path: path.to_path_buf(),
        line,
        message: error.message().trim().replace('\n', " "),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::config::load::parse_str as parse;

    #[test]
    fn toml_mistakes_are_parse_errors_on_one_line() {
        assert!(matches!(
            parse("lisen = []"),
            Err(ConfigError::Parse { .. })
        ));
        let e = parse("workers = \"two\"").unwrap_err().to_string();
        assert!(e.starts_with("config t.toml:1: "), "{e}");
        assert_eq!(e.lines().count(), 1);
    }
}
