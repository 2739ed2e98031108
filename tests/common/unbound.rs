//! Unbound for the tests that compare with it or validate through it: run in the
//! foreground as a child on a loopback address, killed when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hickory_proto::rr::RecordType;

/// A running Unbound.
pub struct Unbound {
    child: Child,
    pub addr: SocketAddr,
    log: PathBuf,
}

impl Unbound {
    /// What Unbound wrote to stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Unbound {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts Unbound on `addr` with `server_lines` added to its `server:` clause and
/// `clauses` (stub-zone: and the like) after it, and waits until it answers.
/// Without an unbound binary the test fails, saying so.
pub fn start(run_dir: &Path, addr: SocketAddr, server_lines: &str, clauses: &str) -> Unbound {
    let Some(binary) = [
        "/usr/sbin/unbound",
        "/usr/bin/unbound",
        "/usr/local/sbin/unbound",
    ]
    .into_iter()
    .find(|p| Path::new(p).exists()) else {
        panic!("unbound is not installed: apt-get install unbound (the test cannot run)");
    };
    let config = format!(
        "server:\n\
         \x20   interface: {ip}@{port}\n\
         \x20   port: {port}\n\
         \x20   access-control: 127.0.0.0/8 allow\n\
         \x20   do-not-query-localhost: no\n\
         \x20   do-ip6: no\n\
         \x20   num-threads: 1\n\
         \x20   so-reuseport: no\n\
         \x20   username: \"\"\n\
         \x20   chroot: \"\"\n\
         \x20   directory: \"{run}\"\n\
         \x20   pidfile: \"{run}/unbound.pid\"\n\
         \x20   use-syslog: no\n\
         \x20   logfile: \"\"\n\
         \x20   verbosity: 0\n\
         {server_lines}\
         remote-control:\n\
         \x20   control-enable: no\n\
         {clauses}",
        ip = addr.ip(),
        port = addr.port(),
        run = run_dir.display(),
    );
    let conf_path = run_dir.join("unbound.conf");
    std::fs::write(&conf_path, config).expect("write unbound.conf");
    let log = run_dir.join("unbound.stderr");
    let stderr = std::fs::File::create(&log).expect("log file");
    let child = Command::new(binary)
        .arg("-d")
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("unbound starts");
    let mut unbound = Unbound { child, addr, log };
    // `localhost.` is one of Unbound's built-in local zones: answered without asking
    // anyone, so waiting warms no cache.
    let mut probe = super::query("localhost.", RecordType::A, Some(1232));
    probe.metadata.recursion_desired = true;
    let probe = probe.to_vec().expect("encodes");
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(Some(status)) = unbound.child.try_wait() {
            panic!("unbound exited ({status}):\n{}", unbound.log());
        }
        if super::udp_raw(addr, &probe, Duration::from_millis(100)).is_some() {
            return unbound;
        }
    }
    panic!("unbound did not come up on {addr}:\n{}", unbound.log());
}

/// Starts a validating Unbound on `addr` that trusts the DS records in `dsset`
/// (dnssec-signzone's `dsset-ZONE.` file) and asks `server` for `zone`.
pub fn start_validating(
    run_dir: &Path,
    addr: SocketAddr,
    zone: &str,
    dsset: &Path,
    server: SocketAddr,
) -> Unbound {
    let ds = std::fs::read_to_string(dsset).expect("dsset");
    let anchors: String = ds
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            format!(
                "\x20   trust-anchor: \"{}\"\n",
                l.split_whitespace().collect::<Vec<_>>().join(" ")
            )
        })
        .collect();
    start(
        run_dir,
        addr,
        &format!(
            "\x20   module-config: \"validator iterator\"\n{anchors}\x20   val-log-level: 2\n"
        ),
        &format!(
            "stub-zone:\n\x20   name: \"{zone}\"\n\x20   stub-addr: {}@{}\n",
            server.ip(),
            server.port()
        ),
    )
}
