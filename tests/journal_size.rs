//! A journal stays bounded by `journal_max_bytes` however many updates come between
//! periodic saves and however often the process is killed: past the limit the zone
//! is saved at once and the journal trimmed, after an update or at a start that
//! found a journal left too big, so a restart replays little. Every acknowledged
//! update survives each kill -9.
//!
//! No fixed waits: each step waits until the server or the state folder shows it
//! happened, bounded in time.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use common::nsupdate::nsupdate;
use common::{answers, eventually, unique_addr, wait_for_soa, Zonal};
use hickory_proto::rr::RecordType;

const SECRET: &str = "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IHNlY3JldA==";
/// The limit the test sets.
const LIMIT: u64 = 4096;
/// How long any one step may take to show.
const STEP: Duration = Duration::from_secs(10);

/// A zone folder with `big.test`, a key allowed to update it and a state folder.
struct Setup {
    dir: tempfile::TempDir,
    addr: SocketAddr,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("zones")).expect("zones");
        std::fs::write(
            dir.path().join("zones/big.test.zone"),
            "$ORIGIN big.test.\n$TTL 300\n@ SOA ns hostmaster 100 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n",
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

    /// zonal on this setup's address, periodic saves an hour apart (so only the
    /// size limit saves), with `journal_max_bytes = limit` when given.
    fn start(&self, limit: Option<u64>) -> Zonal {
        let mut config = String::from("zone_save_secs = 3600\n");
        if let Some(limit) = limit {
            config.push_str(&format!("journal_max_bytes = {limit}\n"));
        }
        std::fs::write(self.path("zonal.toml"), config).expect("config");
        let path = |name: &str| self.path(name).to_str().expect("utf-8").to_owned();
        let z = Zonal::start_at(
            self.addr,
            &[
                "--config",
                &path("zonal.toml"),
                "--zone-dir",
                &path("zones"),
                "--tsig-key",
                &path("k.key"),
                "--allow-update",
                "k",
                "--state-dir",
                &path("state"),
                "--no-recursion",
            ],
        );
        assert!(
            wait_for_soa(self.addr, "big.test.", STEP),
            "not serving:\n{}",
            z.stderr()
        );
        z
    }

    /// Adds `h{first}` .. `h{first + count - 1}` (TXT records of 100 bytes), one
    /// update each; panics unless every one is acknowledged.
    fn add(&self, first: u32, count: u32) {
        let lines: Vec<String> = (first..first + count)
            .flat_map(|i| {
                [
                    format!("update add h{i}.big.test. 300 TXT \"{}\"", "x".repeat(100)),
                    "send".to_owned(),
                ]
            })
            .collect();
        let mut script: Vec<&str> = vec!["zone big.test."];
        // The last `send` is nsupdate's own.
        script.extend(lines[..lines.len() - 1].iter().map(String::as_str));
        let (ok, out) = nsupdate(self.addr, Some(&self.path("k.key")), &script);
        assert!(ok, "updates from h{first} not acknowledged: {out}");
    }

    fn journal_bytes(&self) -> u64 {
        std::fs::metadata(self.path("state/big.test.journal")).map_or(0, |m| m.len())
    }
}

fn kill_9(z: Zonal) {
    let _ = Command::new("kill")
        .args(["-9", &z.pid().to_string()])
        .status();
    drop(z);
}

/// How many of `h{0}` .. `h{count - 1}` are served.
fn served(z: &Zonal, count: u32) -> u32 {
    (0..count)
        .filter(|i| answers(&z.query(&format!("h{i}.big.test."), RecordType::TXT)).len() == 1)
        .count() as u32
}

/// The journal entries replayed at the last start, from its log line.
fn replayed(z: &Zonal) -> Option<u64> {
    let log = z.stderr();
    let line = log.lines().rev().find(|l| l.contains("journal replayed"))?;
    let at = line.find("changes=")? + "changes=".len();
    line[at..]
        .split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[test]
fn the_journal_stays_within_its_limit_and_every_update_survives_kill_9() {
    let s = Setup::new();

    // 1. The default limit (1 MiB): 150 updates stay in the journal, unsaved.
    let z = s.start(None);
    s.add(0, 150);
    let unbounded = s.journal_bytes();
    assert!(
        unbounded > 4 * LIMIT,
        "journal of 150 updates: {unbounded} bytes"
    );
    kill_9(z);

    // 2. Restarted with a 4 KiB limit: the journal left too big is replayed once,
    //    then the zone is saved at once and the journal trimmed.
    let started = Instant::now();
    let z = s.start(Some(LIMIT));
    let first_start = started.elapsed();
    assert_eq!(served(&z, 150), 150, "{}", z.stderr());
    assert!(
        eventually(STEP, || s.journal_bytes() <= LIMIT),
        "journal still {} bytes after a start past the limit:\n{}",
        s.journal_bytes(),
        z.stderr()
    );

    // 3. 250 more updates in batches: after each batch the journal is back within
    //    the limit (plus the one entry that may have just passed it).
    let mut largest = 0;
    for batch in 0..5 {
        s.add(150 + batch * 50, 50);
        assert!(
            eventually(STEP, || s.journal_bytes() <= LIMIT + 512),
            "journal {} bytes after batch {batch}:\n{}",
            s.journal_bytes(),
            z.stderr()
        );
        largest = largest.max(s.journal_bytes());
    }
    assert_eq!(served(&z, 400), 400);
    kill_9(z);

    // 4. Every update survives, and the start replays only what followed the
    //    last save: a few entries, not 400.
    let started = Instant::now();
    let z = s.start(Some(LIMIT));
    let second_start = started.elapsed();
    assert_eq!(served(&z, 400), 400, "{}", z.stderr());
    let replayed = replayed(&z).unwrap_or(0);
    assert!(
        replayed < 40,
        "replayed {replayed} entries after kill -9:\n{}",
        z.stderr()
    );
    eprintln!(
        "journal: {unbounded} bytes for 150 updates unbounded; at most {largest} bytes with a {LIMIT}-byte limit; \
         start {first_start:?} (150 entries to replay), {second_start:?} ({replayed} entries)"
    );
}
