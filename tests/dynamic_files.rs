//! A dynamic zone and its zone file changing on disk: every sequence of file
//! events (removed and restored, replaced by an older, the same or a newer serial,
//! renamed over, edited without a new serial), SIGHUPs and kill -9 keeps every
//! acknowledged update, by the rule of `zonal::journal::state`: the state (saved
//! zone and journal) wins over a file whose serial is not newer; a newer file
//! replaces the zone and the state it replaces is set aside, not deleted.
//!
//! No fixed waits: each step waits until the server shows it happened (the zone
//! served or not, a log line), bounded in time.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::nsupdate::nsupdate;
use common::{answers, eventually, unique_addr, Zonal};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use zonal::tsig;
use zonal::tsig::keys::{Algorithm, TsigKey};

const SECRET: &str = "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IHNlY3JldA==";

/// `dyn.test` at `serial`, with `www` at `www`.
fn zone_text(serial: u32, www: &str) -> String {
    format!(
        "$ORIGIN dyn.test.\n$TTL 300\n@ SOA ns hostmaster {serial} 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\nwww A {www}\n"
    )
}

/// How long any one step may take to show.
const STEP: Duration = Duration::from_secs(5);

/// A zone folder with `dyn.test`, a key allowed to update it and a state folder.
struct Setup {
    dir: tempfile::TempDir,
    addr: SocketAddr,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        for folder in ["zones", "away"] {
            std::fs::create_dir(dir.path().join(folder)).expect("folder");
        }
        std::fs::write(
            dir.path().join("zones/dyn.test.zone"),
            zone_text(100, "192.0.2.10"),
        )
        .expect("zone");
        std::fs::write(
            dir.path().join("k.key"),
            format!("key \"k\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{SECRET}\";\n}};\n"),
        )
        .expect("key");
        Setup {
            dir,
            addr: unique_addr(),
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn file(&self) -> PathBuf {
        self.path("zones/dyn.test.zone")
    }

    /// zonal on this setup's address (the same across restarts).
    fn start(&self) -> Zonal {
        let (zones, key, state) = (self.path("zones"), self.path("k.key"), self.path("state"));
        Zonal::start_at(
            self.addr,
            &[
                "--zone-dir",
                zones.to_str().expect("utf-8"),
                "--tsig-key",
                key.to_str().expect("utf-8"),
                "--allow-update",
                "k",
                "--state-dir",
                state.to_str().expect("utf-8"),
                "--no-recursion",
            ],
        )
    }

    /// Adds `NAME.dyn.test A address` with nsupdate; panics unless acknowledged.
    fn add(&self, name: &str, address: &str) {
        let line = format!("update add {name}.dyn.test. 300 A {address}");
        let (ok, out) = nsupdate(
            self.addr,
            Some(&self.path("k.key")),
            &["zone dyn.test.", &line],
        );
        assert!(ok, "update of {name} not acknowledged: {out}");
    }

    /// Moves the zone file out of the folder and waits until the zone is gone.
    fn move_away(&self, z: &Zonal) {
        std::fs::rename(self.file(), self.path("away/dyn.test.zone")).expect("mv out");
        assert!(
            eventually(STEP, || !served(z)),
            "zone still served with its file away:\n{}",
            z.stderr()
        );
    }

    /// Moves the zone file back and waits until the zone is served again.
    fn move_back(&self, z: &Zonal) {
        std::fs::rename(self.path("away/dyn.test.zone"), self.file()).expect("mv back");
        assert!(
            eventually(STEP, || served(z)),
            "zone not served with its file back:\n{}",
            z.stderr()
        );
    }

    /// The files set aside in the state folder.
    fn set_aside(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.path("state"))
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| n.contains("set-aside"))
                    .collect()
            })
            .unwrap_or_default();
        names.sort();
        names
    }
}

/// Whether `dyn.test` is served (its SOA answered with AA).
fn served(z: &Zonal) -> bool {
    let reply = z.query("dyn.test.", RecordType::SOA);
    reply.response_code == ResponseCode::NoError && !reply.answers.is_empty()
}

/// The addresses of `NAME.dyn.test`.
fn a_of(z: &Zonal, name: &str) -> Vec<String> {
    answers(&z.query(&format!("{name}.dyn.test."), RecordType::A))
}

/// The serial served.
fn serial(z: &Zonal) -> u32 {
    let reply = z.query("dyn.test.", RecordType::SOA);
    let text = answers(&reply).join(" ");
    // "dyn.test. SOA ns.dyn.test. hostmaster.dyn.test. SERIAL ..."
    text.split_whitespace()
        .nth(4)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no serial in {text:?}"))
}

fn kill_9(z: Zonal) {
    let _ = Command::new("kill")
        .args(["-9", &z.pid().to_string()])
        .status();
    drop(z);
}

fn has(z: &Zonal, name: &str, address: &str) -> bool {
    a_of(z, name) == [format!("{name}.dyn.test. A {address}")]
}

/// The reproduction: the file moved away and back (what a save-by-rename,
/// `git checkout` or rsync does), an update after, then kill -9.
#[test]
fn a_file_moved_away_and_back_keeps_every_update_across_kill_9() {
    let s = Setup::new();
    let z = s.start();
    s.add("a", "192.0.2.1");
    assert!(has(&z, "a", "192.0.2.1"));
    s.move_away(&z);
    s.move_back(&z);
    assert!(has(&z, "a", "192.0.2.1"), "{}", z.stderr());
    assert_eq!(serial(&z), 101);
    s.add("b", "192.0.2.2");
    assert_eq!(serial(&z), 102, "no serial of the journal reused");
    kill_9(z);
    let z = s.start();
    assert!(has(&z, "a", "192.0.2.1"), "{}", z.stderr());
    assert!(has(&z, "b", "192.0.2.2"), "{}", z.stderr());
    assert_eq!(serial(&z), 102);
    assert!(
        s.set_aside().is_empty(),
        "nothing replaced: {:?}",
        s.set_aside()
    );
}

/// The file comes back (or is rewritten) older or with the same serial, with
/// other data: the state wins, and keeps winning after SIGHUP and kill -9.
#[test]
fn an_older_or_same_serial_file_never_replaces_updates() {
    let s = Setup::new();
    let z = s.start();
    s.add("a", "192.0.2.1");
    // Replaced by an older serial while away.
    s.move_away(&z);
    std::fs::write(s.path("away/dyn.test.zone"), zone_text(50, "192.0.2.50")).expect("write");
    s.move_back(&z);
    assert!(has(&z, "a", "192.0.2.1"), "{}", z.stderr());
    assert!(has(&z, "www", "192.0.2.10"));
    // Edited in place with the served serial (101): not applied.
    std::fs::write(s.file(), zone_text(101, "192.0.2.99")).expect("write");
    assert!(
        eventually(STEP, || z.stderr().contains("zone file not applied")),
        "{}",
        z.stderr()
    );
    assert!(has(&z, "www", "192.0.2.10"));
    // Renamed over (an editor's save) with an older serial, then SIGHUP.
    std::fs::write(s.path("away/new"), zone_text(100, "192.0.2.77")).expect("write");
    std::fs::rename(s.path("away/new"), s.file()).expect("rename over");
    let _ = Command::new("kill")
        .args(["-HUP", &z.pid().to_string()])
        .status();
    assert!(
        eventually(STEP, || z.stderr().matches("zone file not applied").count()
            >= 2),
        "{}",
        z.stderr()
    );
    assert!(has(&z, "www", "192.0.2.10"));
    assert!(has(&z, "a", "192.0.2.1"));
    s.add("b", "192.0.2.2");
    kill_9(z);
    let z = s.start();
    assert!(has(&z, "a", "192.0.2.1"), "{}", z.stderr());
    assert!(has(&z, "b", "192.0.2.2"), "{}", z.stderr());
    assert!(has(&z, "www", "192.0.2.10"));
    assert_eq!(serial(&z), 102);
    assert!(s.set_aside().is_empty(), "{:?}", s.set_aside());
}

/// A file with a newer serial replaces the zone (the logged decision) and the
/// state it replaced is set aside, holding the updates; updates after it are kept.
#[test]
fn a_newer_file_replaces_the_zone_and_sets_the_old_state_aside() {
    let s = Setup::new();
    let z = s.start();
    s.add("a", "192.0.2.1");
    std::fs::write(s.path("away/new"), zone_text(200, "192.0.2.20")).expect("write");
    std::fs::rename(s.path("away/new"), s.file()).expect("rename over");
    assert!(
        eventually(STEP, || has(&z, "www", "192.0.2.20")),
        "{}",
        z.stderr()
    );
    assert!(
        z.stderr().contains("the file replaces it"),
        "{}",
        z.stderr()
    );
    assert!(a_of(&z, "a").is_empty());
    let aside = s.set_aside();
    assert_eq!(
        aside.len(),
        2,
        "saved zone and journal set aside: {aside:?}"
    );
    // What was replaced is still on disk: the journal set aside holds `a`.
    let journal = aside
        .iter()
        .find(|n| n.starts_with("dyn.test.journal"))
        .expect("journal set aside");
    let held = std::fs::read(s.path("state").join(journal)).expect("read");
    assert!(
        held.windows(3).any(|w| w == b"\x01a\x03"),
        "the update is in the journal set aside"
    );
    s.add("c", "192.0.2.3");
    assert_eq!(serial(&z), 201);
    kill_9(z);
    let z = s.start();
    assert!(has(&z, "c", "192.0.2.3"), "{}", z.stderr());
    assert!(has(&z, "www", "192.0.2.20"));
    assert_eq!(serial(&z), 201);
}

/// kill -9 while the file is away: after the restart the zone is not served
/// (nothing names it); when the file comes back, its state does.
#[test]
fn a_crash_while_the_file_is_away_loses_nothing() {
    let s = Setup::new();
    let z = s.start();
    s.add("a", "192.0.2.1");
    s.move_away(&z);
    kill_9(z);
    let z = s.start();
    assert!(!served(&z));
    s.move_back(&z);
    assert!(has(&z, "a", "192.0.2.1"), "{}", z.stderr());
    s.add("b", "192.0.2.2");
    kill_9(z);
    let z = s.start();
    assert!(has(&z, "a", "192.0.2.1"), "{}", z.stderr());
    assert!(has(&z, "b", "192.0.2.2"), "{}", z.stderr());
}

/// Updates streaming while the file goes away: once the zone is removed no update
/// brings it back, and every update acknowledged is there when the file returns
/// and after kill -9.
#[test]
fn updates_in_flight_when_the_file_goes_never_bring_the_zone_back() {
    let s = Setup::new();
    let z = s.start();
    let key = TsigKey::new("k", Algorithm::HmacSha256, SECRET).expect("key");
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    let mut acknowledged = Vec::new();
    let mut refused = 0u32;
    let mut moved = false;
    for i in 0..3000u32 {
        if i == 100 {
            std::fs::rename(s.file(), s.path("away/dyn.test.zone")).expect("mv out");
            moved = true;
        }
        let mut p = vec![(i >> 8) as u8, i as u8, 5 << 3, 0, 0, 1, 0, 0, 0, 1, 0, 0];
        p.extend_from_slice(b"\x03dyn\x04test\x00\x00\x06\x00\x01");
        let name = format!("n{i}");
        p.push(name.len() as u8);
        p.extend_from_slice(name.as_bytes());
        p.extend_from_slice(b"\x03dyn\x04test\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04");
        p.extend_from_slice(&i.to_be_bytes());
        tsig::sign(&mut p, &key, None, 0, &[], tsig::now());
        socket.send_to(&p, z.addr).expect("send");
        let mut buf = [0u8; 512];
        match socket.recv_from(&mut buf) {
            Ok((len, _)) if len >= 12 && buf[3] & 0xF == 0 => acknowledged.push(i),
            Ok(_) => {
                refused += 1;
                // Refused (the zone is gone): it must stay gone.
                if refused > 20 {
                    break;
                }
            }
            Err(e) => panic!("update {i} unanswered: {e}"),
        }
    }
    assert!(
        moved && refused > 20,
        "the zone went away under the updates"
    );
    assert!(acknowledged.len() >= 100, "{}", acknowledged.len());
    // Removed, and it stays removed.
    assert!(!served(&z));
    assert!(z.stderr().contains("zone file gone"));
    s.move_back(&z);
    for &i in &acknowledged {
        assert_eq!(a_of(&z, &format!("n{i}")).len(), 1, "n{i}: {}", z.stderr());
    }
    kill_9(z);
    let z = s.start();
    for &i in &acknowledged {
        assert_eq!(a_of(&z, &format!("n{i}")).len(), 1, "n{i} after kill -9");
    }
}
