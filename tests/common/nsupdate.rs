//! Running BIND's `nsupdate` against a server, as operators do.

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs nsupdate against `addr` with `lines` (a `send` is added), signed with the
/// key file `key` when given; returns whether it succeeded and what it printed.
pub fn nsupdate(addr: SocketAddr, key: Option<&Path>, lines: &[&str]) -> (bool, String) {
    let mut cmd = Command::new("nsupdate");
    cmd.args(["-t", "3"]);
    if let Some(key) = key {
        cmd.arg("-k").arg(key);
    }
    let mut child = cmd
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nsupdate runs (install bind9-dnsutils)");
    let mut script = format!("server {} {}\n", addr.ip(), addr.port());
    for line in lines {
        script.push_str(line);
        script.push('\n');
    }
    script.push_str("send\n");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script");
    let out = child.wait_with_output().expect("nsupdate ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
