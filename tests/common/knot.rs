//! Knot DNS for the tests that compare with it: knotd run in the foreground as a
//! child on a loopback address of its own, serving zone files as they are (no
//! signing, no journal), killed when dropped. Without knotd the test fails, saying
//! so: a comparison that did not run must not pass.

use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// A running knotd.
pub struct Knot {
    child: Child,
    pub addr: SocketAddr,
}

impl Drop for Knot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts knotd serving `zones` (origin, file name in `zone_dir`); waits until it
/// answers for `probe`'s SOA.
pub fn start(zone_dir: &Path, run_dir: &Path, zones: &[(&str, &str)], probe: &str) -> Knot {
    let sections = format!(
        "template:\n  - id: default\n    storage: {zones}\n    zonefile-sync: -1\n    zonefile-load: whole\n    journal-content: none\n\
         zone:\n{zone_list}",
        zones = zone_dir.display(),
        zone_list = zones
            .iter()
            .map(|(origin, file)| format!("  - domain: {origin}\n    file: {file}\n"))
            .collect::<String>(),
    );
    start_with(super::unique_addr(), run_dir, &sections, probe)
}

/// Starts knotd on `addr` with the config `sections` (`key:`, `remote:`, `acl:`,
/// `template:`, `zone:`; the server, database and log sections are written here);
/// waits until it answers for `probe`'s SOA.
pub fn start_with(addr: SocketAddr, run_dir: &Path, sections: &str, probe: &str) -> Knot {
    let Some(knotd) = ["/usr/sbin/knotd", "/usr/bin/knotd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
    else {
        panic!("knotd is not installed: apt-get install knot (bash .ci/run installs it)");
    };
    let config = format!(
        "server:\n    listen: {ip}@{port}\n    rundir: {run}\ndatabase:\n    storage: {run}/db\n\
         {sections}\
         log:\n  - target: {run}/knot.log\n    any: info\n",
        ip = addr.ip(),
        port = addr.port(),
        run = run_dir.display(),
    );
    // The journal (IXFR, updates) lives there: knotd does not make the folder.
    std::fs::create_dir_all(run_dir.join("db")).expect("knot database folder");
    let conf_path = run_dir.join("knot.conf");
    std::fs::write(&conf_path, config).expect("write knot.conf");
    let child = Command::new(knotd)
        .arg("-c")
        .arg(&conf_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("knotd starts");
    let knot = Knot { child, addr };
    if super::wait_for_soa(knot.addr, probe, Duration::from_secs(10)) {
        return knot;
    }
    let log = std::fs::read_to_string(run_dir.join("knot.log")).unwrap_or_default();
    panic!("knotd did not serve {probe} on {}:\n{log}", knot.addr);
}
