//! RFC 2136 dynamic updates end to end, with the real `nsupdate` (bind9-dnsutils)
//! and `knsupdate` (knot-dnsutils): prerequisites, operations, rcodes, TSIG and
//! its failures, policy, durability across restarts and kill -9, a torn journal,
//! concurrent clients.

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::nsupdate::nsupdate;
use common::Zonal;
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use zonal::tsig;
use zonal::tsig::keys::{Algorithm, TsigKey};
use zonal::wire::message::Message;

const ZONE: &str = "$TTL 300
@ SOA ns1 hostmaster 100 7200 900 1209600 300
@ NS ns1
@ NS ns2
ns1 A 192.0.2.1
ns2 A 192.0.2.2
www A 192.0.2.10
alias CNAME www
";
const SECRET: &str = "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IHNlY3JldA==";

/// A folder with the zone `example.test.`, key files and a state folder.
struct Setup {
    dir: tempfile::TempDir,
}

impl Setup {
    fn new() -> Setup {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir(dir.path().join("zones")).expect("zones");
        std::fs::write(dir.path().join("zones/example.test.zone"), ZONE).expect("zone");
        std::fs::create_dir(dir.path().join("other")).expect("other");
        std::fs::write(
            dir.path().join("other/other.test.zone"),
            ZONE.replace("example", "other"),
        )
        .expect("zone");
        for (name, secret) in [("registrar", SECRET), ("limited", SECRET)] {
            let key = format!(
                "key \"{name}\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{secret}\";\n}};\n"
            );
            std::fs::write(dir.path().join(format!("{name}.key")), key).expect("key");
        }
        Setup { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn path_str(&self, name: &str) -> String {
        self.path(name).to_str().expect("utf-8").to_owned()
    }

    /// zonal serving zones/ with the registrar key allowed everywhere, and `extra`.
    fn start(&self, extra: &[&str]) -> Zonal {
        let (zones, key, state) = (
            self.path_str("zones"),
            self.path_str("registrar.key"),
            self.path_str("state"),
        );
        let mut args = vec![
            "--zone-dir",
            &zones,
            "--tsig-key",
            &key,
            "--allow-update",
            "registrar",
            "--state-dir",
            &state,
        ];
        args.extend_from_slice(extra);
        Zonal::start(&args)
    }
}

fn signed(setup: &Setup, z: &Zonal, lines: &[&str]) -> (bool, String) {
    nsupdate(z.addr, Some(&setup.path("registrar.key")), lines)
}

/// The rcode nsupdate reported ("NOERROR" when it succeeded).
fn failure(result: (bool, String)) -> String {
    if result.0 {
        return "NOERROR".into();
    }
    result
        .1
        .lines()
        .find_map(|l| l.strip_prefix("update failed: "))
        .unwrap_or(&result.1)
        .trim()
        .to_owned()
}

fn a_records(z: &Zonal, name: &str) -> Vec<String> {
    common::answers(&z.query(name, RecordType::A))
}

fn serial(z: &Zonal) -> u32 {
    let m = z.query("example.test.", RecordType::SOA);
    match m.answers.first().map(|r| &r.data) {
        Some(hickory_proto::rr::RData::SOA(soa)) => soa.serial,
        other => panic!("no SOA: {other:?}"),
    }
}

#[test]
fn operations_prerequisites_and_one_serial_step_each() {
    let s = Setup::new();
    let z = s.start(&[]);
    assert_eq!(serial(&z), 100);
    // Add; two records in one update: one serial step.
    let r = signed(
        &s,
        &z,
        &[
            "zone example.test",
            "update add a.example.test 60 A 192.0.2.50",
            "update add a.example.test 60 A 192.0.2.51",
        ],
    );
    assert_eq!(failure(r), "NOERROR");
    assert_eq!(a_records(&z, "a.example.test.").len(), 2);
    assert_eq!(serial(&z), 101);
    // Delete one RR, then an RRset, then all at a name.
    assert_eq!(
        failure(signed(
            &s,
            &z,
            &["update delete a.example.test A 192.0.2.50"]
        )),
        "NOERROR"
    );
    assert_eq!(
        a_records(&z, "a.example.test."),
        ["a.example.test. A 192.0.2.51"]
    );
    assert_eq!(
        failure(signed(&s, &z, &["update delete www.example.test A"])),
        "NOERROR"
    );
    assert!(a_records(&z, "www.example.test.").is_empty());
    assert_eq!(
        failure(signed(&s, &z, &["update delete a.example.test"])),
        "NOERROR"
    );
    assert_eq!(
        z.query("a.example.test.", RecordType::A)
            .metadata
            .response_code,
        ResponseCode::NXDomain
    );
    assert_eq!(serial(&z), 104);
    // The five prerequisites, each failing with its rcode, then passing.
    let cases = [
        ("prereq yxdomain nowhere.example.test", "NXDOMAIN"),
        ("prereq nxdomain ns1.example.test", "YXDOMAIN"),
        ("prereq yxrrset ns1.example.test AAAA", "NXRRSET"),
        ("prereq nxrrset ns1.example.test A", "YXRRSET"),
        ("prereq yxrrset ns1.example.test A 192.0.2.99", "NXRRSET"),
    ];
    for (prereq, rcode) in cases {
        let r = signed(&s, &z, &[prereq, "update add p.example.test 60 TXT x"]);
        assert_eq!(failure(r), rcode, "{prereq}");
    }
    assert!(
        z.query("p.example.test.", RecordType::TXT)
            .answers
            .is_empty(),
        "nothing applied"
    );
    assert_eq!(serial(&z), 104, "a refused update changes no serial");
    let passing = [
        "prereq yxdomain ns1.example.test",
        "prereq nxdomain nowhere.example.test",
        "prereq yxrrset ns1.example.test A",
        "prereq nxrrset ns1.example.test AAAA",
        "prereq yxrrset ns1.example.test A 192.0.2.1",
    ];
    let mut lines: Vec<&str> = passing.to_vec();
    lines.push("update add p.example.test 60 TXT x");
    assert_eq!(failure(signed(&s, &z, &lines)), "NOERROR");
    assert_eq!(serial(&z), 105);
    // Prerequisites only: NOERROR, no new serial.
    assert_eq!(
        failure(signed(&s, &z, &["prereq yxdomain ns1.example.test"])),
        "NOERROR"
    );
    assert_eq!(serial(&z), 105);
}

#[test]
fn special_rules_and_refusals() {
    let s = Setup::new();
    let z = s.start(&[]);
    // The last apex NS stays; CNAME and other data do not mix; duplicates change nothing.
    assert_eq!(
        failure(signed(
            &s,
            &z,
            &["update delete example.test NS ns2.example.test"]
        )),
        "NOERROR"
    );
    assert_eq!(
        failure(signed(
            &s,
            &z,
            &["update delete example.test NS ns1.example.test"]
        )),
        "NOERROR"
    );
    assert_eq!(z.query("example.test.", RecordType::NS).answers.len(), 1);
    assert_eq!(
        failure(signed(
            &s,
            &z,
            &["update add alias.example.test 60 A 192.0.2.9"]
        )),
        "NOERROR"
    );
    assert!(a_records(&z, "alias.example.test.")
        .iter()
        .all(|r| !r.contains("192.0.2.9")));
    let before = serial(&z);
    assert_eq!(
        failure(signed(
            &s,
            &z,
            &["update add www.example.test 300 A 192.0.2.10"]
        )),
        "NOERROR"
    );
    assert_eq!(serial(&z), before, "a duplicate is no change");
    // An SOA with an older serial is ignored; a newer one is taken as given.
    let soa = |n: u32| {
        format!("update add example.test 300 SOA ns1.example.test. hostmaster.example.test. {n} 7200 900 1209600 300")
    };
    assert_eq!(failure(signed(&s, &z, &[&soa(5)])), "NOERROR");
    assert_eq!(serial(&z), before);
    assert_eq!(failure(signed(&s, &z, &[&soa(500)])), "NOERROR");
    assert_eq!(serial(&z), 500);
    // Outside the zone; a zone that is not ours; a change leaving glue missing.
    assert_eq!(
        failure(signed(
            &s,
            &z,
            &[
                "zone example.test",
                "update add x.elsewhere.test 60 A 192.0.2.1"
            ]
        )),
        "NOTZONE"
    );
    assert_eq!(
        failure(signed(
            &s,
            &z,
            &[
                "zone nothere.test",
                "update add x.nothere.test 60 A 192.0.2.1"
            ]
        )),
        "NOTAUTH"
    );
    assert_eq!(
        failure(signed(&s, &z, &["update delete ns1.example.test A"])),
        "REFUSED"
    );
    assert!(z.stderr().contains("glue missing"), "the reason is logged");
}

#[test]
fn tsig_success_and_each_failure() {
    let s = Setup::new();
    let z = s.start(&[]);
    // No key at all.
    let r = nsupdate(
        z.addr,
        None,
        &[
            "zone example.test",
            "update add u.example.test 60 A 192.0.2.1",
        ],
    );
    assert_eq!(failure(r), "NOTAUTH");
    // Unknown key; right name, wrong secret.
    let y = |name: &str, secret: &str| {
        let mut cmd = Command::new("nsupdate");
        cmd.args(["-t", "3", "-y", &format!("hmac-sha256:{name}:{secret}")]);
        cmd
    };
    for (name, secret, want) in [
        ("stranger", SECRET, "NOTAUTH(BADKEY)"),
        ("registrar", "b3RoZXIgc2VjcmV0", "NOTAUTH(BADSIG)"),
    ] {
        let mut child = y(name, secret)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("nsupdate");
        let script = format!(
            "server {} {}\nzone example.test\nupdate add u.example.test 60 A 192.0.2.1\nsend\n",
            z.addr.ip(),
            z.addr.port()
        );
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(script.as_bytes())
            .expect("write");
        let out = child.wait_with_output().expect("ends");
        let text = String::from_utf8_lossy(&out.stderr).into_owned()
            + &String::from_utf8_lossy(&out.stdout);
        assert!(!out.status.success());
        assert!(text.contains(want), "{name}: {text}");
    }
    // Clock skew: signed ten minutes ago, beyond the 300 s fudge: BADTIME, and the
    // reply is signed and tells the server's time.
    let key = TsigKey::new("registrar", Algorithm::HmacSha256, SECRET).expect("key");
    let mut packet = update_packet();
    let then = tsig::now() - 600;
    tsig::sign(&mut packet, &key, None, 0, &[], then);
    let reply = z.udp_raw(&packet, Duration::from_secs(2)).expect("reply");
    let m = Message::parse(&reply).expect("parses");
    assert_eq!(m.header.flags & 0xF, 9, "NOTAUTH");
    let record = m.additionals.last().expect("TSIG");
    let t = tsig::TsigRecord::parse(&m, record).expect("TSIG record");
    assert_eq!(t.error, tsig::error::BADTIME);
    assert_eq!(t.other.len(), 6, "the server's time");
    assert!(!t.mac.is_empty(), "a BADTIME reply is signed");
    // The same, signed now: accepted; the reply is signed.
    let mut packet = update_packet();
    tsig::sign(&mut packet, &key, None, 0, &[], tsig::now());
    let reply = z.udp_raw(&packet, Duration::from_secs(2)).expect("reply");
    let m = Message::parse(&reply).expect("parses");
    assert_eq!(m.header.flags & 0xF, 0);
    assert!(m.additionals.last().is_some_and(|r| r.rtype == 250));
    assert_eq!(
        a_records(&z, "raw.example.test."),
        ["raw.example.test. A 192.0.2.33"]
    );
    // knsupdate too.
    let mut child = Command::new("knsupdate")
        .args(["-t", "3", "-y", &format!("hmac-sha256:registrar:{SECRET}")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("knsupdate runs (install knot-dnsutils)");
    let script = format!(
        "server {} {}\nzone example.test\nupdate add k.example.test 60 TXT knot\nsend\n",
        z.addr.ip(),
        z.addr.port()
    );
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("write");
    assert!(child.wait_with_output().expect("ends").status.success());
    assert_eq!(z.query("k.example.test.", RecordType::TXT).answers.len(), 1);
    // A signed query gets a signed answer, and dig checks it.
    let out = z.dig(&["-k", &s.path_str("registrar.key"), "www.example.test", "A"]);
    assert!(
        out.contains("status: NOERROR") && out.contains("TSIG"),
        "{out}"
    );
    assert!(!out.contains("failure"), "{out}");
    // Secrets never appear in the log.
    assert!(!z.stderr().contains(SECRET));
}

/// An unsigned UPDATE adding raw.example.test A 192.0.2.33.
fn update_packet() -> Vec<u8> {
    let mut p = vec![0x77, 0x01, 5 << 3, 0, 0, 1, 0, 0, 0, 1, 0, 0];
    p.extend_from_slice(b"\x07example\x04test\x00\x00\x06\x00\x01");
    p.extend_from_slice(b"\x03raw\x07example\x04test\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04");
    p.extend_from_slice(&[192, 0, 2, 33]);
    p
}

#[test]
fn policy_limits_by_zone_name_type_and_network() {
    let s = Setup::new();
    let config = s.path("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \"{}\"\nstate_dir = \"{}\"\ntsig_key_files = [\"{}\", \"{}\"]\n\n\
             [[update]]\nkey = \"limited\"\nzones = [\"example.test\"]\nsubdomain = \"dyn.example.test\"\ntypes = [\"A\", \"TXT\"]\nnetworks = [\"127.0.0.0/8\"]\n\n\
             [[update]]\nkey = \"registrar\"\nzones = [\"example.test\"]\nnetworks = [\"192.0.2.0/24\"]\n",
            s.path_str("zones"),
            s.path_str("state"),
            s.path_str("registrar.key"),
            s.path_str("limited.key")
        ),
    )
    .expect("config");
    let z = Zonal::start(&["--config", config.to_str().expect("utf-8")]);
    let limited = s.path("limited.key");
    let go = |lines: &[&str]| failure(nsupdate(z.addr, Some(&limited), lines));
    assert_eq!(
        go(&["update add h.dyn.example.test 60 A 192.0.2.5"]),
        "NOERROR"
    );
    assert_eq!(go(&["update add h.dyn.example.test 60 TXT ok"]), "NOERROR");
    assert_eq!(
        go(&["update add h.dyn.example.test 60 MX 10 ns1.example.test."]),
        "REFUSED"
    );
    assert_eq!(
        go(&["update add www2.example.test 60 A 192.0.2.5"]),
        "REFUSED"
    );
    // The registrar key may only update from 192.0.2.0/24, and we are on loopback.
    assert_eq!(
        failure(signed(
            &s,
            &z,
            &["update add r.example.test 60 A 192.0.2.5"]
        )),
        "REFUSED"
    );
    // A zone no rule names: refused.
    std::fs::copy(
        s.path("other/other.test.zone"),
        s.path("zones/other.test.zone"),
    )
    .expect("copy");
    drop(z);
    let z = Zonal::start(&["--config", config.to_str().expect("utf-8")]);
    let r = nsupdate(
        z.addr,
        Some(&limited),
        &["zone other.test", "update add h.other.test 60 A 192.0.2.5"],
    );
    assert_eq!(failure(r), "REFUSED");
}

#[test]
fn updates_survive_clean_restarts() {
    let s = Setup::new();
    let z = s.start(&[]);
    for i in 0..5 {
        let line = format!("update add r{i}.example.test 60 A 192.0.2.{i}");
        assert_eq!(failure(signed(&s, &z, &[&line])), "NOERROR");
    }
    drop(z); // SIGKILL: the journal alone must carry the changes
    let z = s.start(&[]);
    assert_eq!(serial(&z), 105);
    for i in 0..5 {
        assert_eq!(a_records(&z, &format!("r{i}.example.test.")).len(), 1);
    }
    assert!(z.stderr().contains("journal replayed"), "{}", z.stderr());
    // A clean stop saves the zone: the next start replays nothing.
    let mut z = z;
    z.terminate();
    assert!(s.path("state/example.test.zone").exists());
    let z = s.start(&[]);
    assert_eq!(serial(&z), 105);
    assert!(!z.stderr().contains("journal replayed"));
    assert_eq!(a_records(&z, "r4.example.test.").len(), 1);
}

#[test]
fn kill_9_mid_stream_loses_no_acknowledged_update_and_keeps_none_half() {
    let s = Setup::new();
    let z = s.start(&[]);
    let key = TsigKey::new("registrar", Algorithm::HmacSha256, SECRET).expect("key");
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_millis(500)))
        .expect("timeout");
    // A stream of updates, each adding two records; kill -9 mid-stream, once
    // KILL_AFTER of them are acknowledged (or after 10 s of trying).
    const KILL_AFTER: usize = 200;
    let mut acknowledged = Vec::new();
    let count = Arc::new(AtomicUsize::new(0));
    let killer = {
        let (pid, count) = (z.pid(), count.clone());
        std::thread::spawn(move || {
            common::eventually(Duration::from_secs(10), || {
                count.load(Ordering::Relaxed) >= KILL_AFTER
            });
            let _ = Command::new("kill").args(["-9", &pid.to_string()]).status();
        })
    };
    for i in 0..5000u32 {
        let mut p = vec![(i >> 8) as u8, i as u8, 5 << 3, 0, 0, 1, 0, 0, 0, 2, 0, 0];
        p.extend_from_slice(b"\x07example\x04test\x00\x00\x06\x00\x01");
        for label in [b'a', b'b'] {
            let name = format!("{}{i}", label as char);
            p.push(name.len() as u8);
            p.extend_from_slice(name.as_bytes());
            p.extend_from_slice(b"\x07example\x04test\x00\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04");
            p.extend_from_slice(&i.to_be_bytes());
        }
        tsig::sign(&mut p, &key, None, 0, &[], tsig::now());
        if socket.send_to(&p, z.addr).is_err() {
            break;
        }
        let mut buf = [0u8; 512];
        match socket.recv_from(&mut buf) {
            Ok((len, _)) if len >= 12 && buf[3] & 0xF == 0 => {
                acknowledged.push(i);
                count.store(acknowledged.len(), Ordering::Relaxed);
            }
            Ok(_) => panic!("update {i} not accepted"),
            Err(_) => break, // the server is gone
        }
    }
    killer.join().expect("killer");
    assert!(
        acknowledged.len() >= KILL_AFTER,
        "some updates went through first ({})",
        acknowledged.len()
    );
    drop(z);
    let z = s.start(&[]);
    for &i in &acknowledged {
        assert_eq!(
            a_records(&z, &format!("a{i}.example.test.")).len(),
            1,
            "a{i}"
        );
        assert_eq!(
            a_records(&z, &format!("b{i}.example.test.")).len(),
            1,
            "b{i}"
        );
    }
    // Whatever was not acknowledged is there whole or not at all.
    let next = acknowledged.last().copied().unwrap_or(0) + 1;
    let a = a_records(&z, &format!("a{next}.example.test.")).len();
    let b = a_records(&z, &format!("b{next}.example.test.")).len();
    assert_eq!(a, b, "no half update");
    assert_eq!(serial(&z), 100 + acknowledged.len() as u32 + a as u32);
}

#[test]
fn a_torn_journal_tail_is_cut_and_the_rest_replayed() {
    let s = Setup::new();
    let z = s.start(&[]);
    for i in 0..3 {
        let line = format!("update add t{i}.example.test 60 A 192.0.2.{i}");
        assert_eq!(failure(signed(&s, &z, &[&line])), "NOERROR");
    }
    drop(z);
    // A crash mid-write: the last entry torn.
    let journal = s.path("state/example.test.journal");
    let bytes = std::fs::read(&journal).expect("journal");
    std::fs::write(&journal, &bytes[..bytes.len() - 7]).expect("tear");
    let z = s.start(&[]);
    assert_eq!(a_records(&z, "t1.example.test.").len(), 1);
    assert!(
        a_records(&z, "t2.example.test.").is_empty(),
        "the torn change is not replayed"
    );
    assert_eq!(serial(&z), 102);
    assert!(
        z.stderr()
            .contains("journal ended in a damaged or torn entry"),
        "{}",
        z.stderr()
    );
    // And the journal goes on from there.
    assert_eq!(
        failure(signed(
            &s,
            &z,
            &["update add t9.example.test 60 A 192.0.2.9"]
        )),
        "NOERROR"
    );
    drop(z);
    let z = s.start(&[]);
    assert_eq!(a_records(&z, "t9.example.test.").len(), 1);
    assert_eq!(serial(&z), 103);
}

#[test]
fn concurrent_clients_lose_no_update() {
    let s = Setup::new();
    let z = s.start(&[]);
    let key = s.path("registrar.key");
    let addr = z.addr;
    let clients: Vec<_> = (0..6)
        .map(|c| {
            let key = key.clone();
            std::thread::spawn(move || {
                for i in 0..8 {
                    let line = format!("update add c{c}-{i}.example.test 60 A 192.0.2.{c}");
                    let r = nsupdate(addr, Some(&key), &["zone example.test", &line]);
                    assert!(r.0, "{}", r.1);
                }
            })
        })
        .collect();
    for c in clients {
        c.join().expect("client");
    }
    for c in 0..6 {
        for i in 0..8 {
            assert_eq!(a_records(&z, &format!("c{c}-{i}.example.test.")).len(), 1);
        }
    }
    assert_eq!(serial(&z), 100 + 48, "one serial step per update");
}
