//! nsupdate with a key file, as most tests run it.

use std::net::SocketAddr;
use std::path::Path;

/// Runs nsupdate against `addr` with `lines` (a `send` is added), signed with the
/// key file `key` when given; returns whether it succeeded and what it printed.
pub fn nsupdate(addr: SocketAddr, key: Option<&Path>, lines: &[&str]) -> (bool, String) {
    let key_args: Vec<String> = key
        .map(|k| vec!["-k".to_owned(), k.display().to_string()])
        .unwrap_or_default();
    super::nsupdate(addr, &key_args, lines)
}
