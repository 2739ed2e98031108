//! BIND 9 (`named`) for the tests that take zones from it: run in the foreground
//! as a child on a loopback address of its own with the config sections a test
//! gives, killed when dropped. Without named the test fails, saying so.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running named.
pub struct Bind {
    child: Child,
    pub addr: SocketAddr,
}

impl Drop for Bind {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts named, its files in `run_dir`, with `options` added to its `options { }`
/// block and `sections` (keys, zones) after it; waits until it answers for
/// `probe`'s SOA. named listens only on addresses an interface has, so it gets
/// 127.0.0.1 on this test process's own port ([`super::unique_addr`]'s, which no
/// other process uses on 127.0.0.1). NOTIFY leaves from that address
/// (notify-source), as a secondary that checks where a NOTIFY comes from expects.
pub fn start(run_dir: &Path, options: &str, sections: &str, probe: &str) -> Bind {
    let addr = SocketAddr::from(([127, 0, 0, 1], super::unique_addr().port()));
    let Some(named) = ["/usr/sbin/named", "/usr/bin/named"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        panic!("named is not installed: apt-get install bind9");
    };
    let run = run_dir.display();
    let config = format!(
        "options {{\n  directory \"{run}\";\n  pid-file \"{run}/named.pid\";\n  session-keyfile \"{run}/session.key\";\n\
         \x20 managed-keys-directory \"{run}\";\n  listen-on port {port} {{ {ip}; }};\n  listen-on-v6 {{ none; }};\n\
         \x20 recursion no;\n  dnssec-validation no;\n  notify-source {ip};\n{options}}};\ncontrols {{ }};\n{sections}",
        ip = addr.ip(),
        port = addr.port(),
    );
    let conf_path = run_dir.join("named.conf");
    std::fs::write(&conf_path, config).expect("write named.conf");
    let log = std::fs::File::create(run_dir.join("named.log")).expect("named.log");
    let child = Command::new(named)
        .arg("-g")
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("named starts");
    let bind = Bind { child, addr };
    if super::wait_for_soa(bind.addr, probe, Duration::from_secs(10)) {
        return bind;
    }
    let log = std::fs::read_to_string(run_dir.join("named.log")).unwrap_or_default();
    panic!("named did not serve {probe} on {}:\n{log}", bind.addr);
}
