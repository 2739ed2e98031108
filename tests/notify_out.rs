//! NOTIFY out of zonal (RFC 1996): Knot DNS as a secondary of zonal gets an
//! nsupdate made on zonal within seconds — told by NOTIFY, it asks for the SOA and
//! takes an IXFR, long before its refresh timer — and notifications signed with a
//! TSIG key check with that key.

mod common;

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use common::nsupdate::nsupdate;
use common::{query, unique_addr, Zonal};
use hickory_proto::op::Message;
use hickory_proto::rr::RecordType;
use zonal::tsig::keys::{Algorithm, KeyRing, TsigKey};
use zonal::tsig::{self, TsigCheck};

const ZONE: &str = "$ORIGIN notify.test.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.2\n";
const SECRET: &str = "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IHNlY3JldA==";

/// A folder with the zone, a TSIG key file, and a config with `notify` tables.
fn setup(notify: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir(dir.path().join("zones")).expect("mkdir");
    std::fs::write(dir.path().join("zones/notify.test.zone"), ZONE).expect("zone");
    std::fs::write(
        dir.path().join("k.key"),
        format!("key \"k\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{SECRET}\";\n}};\n"),
    )
    .expect("key");
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \"zones\"\ntsig_key_files = [\"k.key\"]\nallow_update = [\"k\"]\n\
             state_dir = \"state\"\nallow_transfer = [\"127.0.0.0/8\"]\n{notify}"
        ),
    )
    .expect("config");
    (dir, config)
}

fn answers(addr: SocketAddr, name: &str) -> usize {
    let packet = query(name, RecordType::A, None).to_vec().expect("encode");
    common::udp_raw(addr, &packet, Duration::from_millis(300))
        .and_then(|r| Message::from_vec(&r).ok())
        .map_or(0, |m| m.answers.len())
}

#[test]
fn knot_secondary_gets_an_update_by_notify_within_seconds() {
    let knot_addr = unique_addr();
    let (dir, config) = setup(&format!("[[notify]]\ntargets = [\"{knot_addr}\"]\n"));
    let zonal_addr = unique_addr();
    let z = Zonal::start_at(zonal_addr, &["--config", config.to_str().expect("utf-8")]);
    let run = dir.path().join("knot");
    std::fs::create_dir(&run).expect("mkdir");
    let sections = format!(
        "remote:\n  - id: zonal\n    address: {zip}@{zport}\n\
         acl:\n  - id: from_zonal\n    address: {zip}\n    action: notify\n\
         zone:\n  - domain: notify.test\n    storage: {run}\n    file: notify.test.zone\n\
         \x20   master: zonal\n    acl: from_zonal\n    zonefile-sync: -1\n",
        zip = zonal_addr.ip(),
        zport = zonal_addr.port(),
        run = run.display(),
    );
    // Up once it has the zone.
    let _knot = common::knot::start_with(knot_addr, &run, &sections, "notify.test.");
    let knot_log = || std::fs::read_to_string(run.join("knot.log")).unwrap_or_default();
    let wait_for =
        |name: &str, limit: Duration| common::eventually(limit, || answers(knot_addr, name) > 0);
    assert!(
        wait_for("www.notify.test.", Duration::from_secs(15)),
        "Knot did not take the zone from zonal:\n{}",
        knot_log()
    );
    let (ok, out) = nsupdate(
        z.addr,
        Some(&dir.path().join("k.key")),
        &[
            "zone notify.test",
            "update add new.notify.test 300 A 192.0.2.9",
        ],
    );
    assert!(ok, "update: {out}");
    // Knot's refresh timer is an hour: only the NOTIFY can bring it this fast.
    let started = Instant::now();
    assert!(
        wait_for("new.notify.test.", Duration::from_secs(10)),
        "Knot did not get the update:\n{}\n--- zonal\n{}",
        knot_log(),
        z.stderr()
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(knot_log().contains("IXFR"), "by IXFR:\n{}", knot_log());
}

#[test]
fn notifications_are_signed_with_the_configured_key_and_retried() {
    let secondary = UdpSocket::bind("127.0.0.1:0").expect("bind");
    secondary
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let target = secondary.local_addr().expect("addr");
    let (_dir, config) = setup(&format!(
        "[[notify]]\ntargets = [\"{target}\"]\nzones = [\"notify.test\"]\nkey = \"k\"\n"
    ));
    let _z = Zonal::start(&["--config", config.to_str().expect("utf-8")]);
    let ring = KeyRing::new(vec![
        TsigKey::new("k", Algorithm::HmacSha256, SECRET).expect("key")
    ]);
    let mut buf = [0u8; 1024];
    // The notification at start, unanswered, then again: both signed with the key.
    for attempt in 0..2 {
        let (len, from) = secondary.recv_from(&mut buf).expect("a NOTIFY");
        let packet = buf[..len].to_vec();
        let message = zonal::wire::message::Message::parse(&packet).expect("parses");
        assert_eq!((packet[2] >> 3) & 0xF, 4, "opcode NOTIFY");
        assert!(
            matches!(
                tsig::check(&message, &ring, tsig::now()),
                TsigCheck::Signed(_)
            ),
            "attempt {attempt}: signed with k"
        );
        if attempt == 1 {
            let mut reply = packet[..12].to_vec();
            reply[2] |= 0x80;
            reply[6..12].fill(0);
            reply[5] = 0;
            secondary.send_to(&reply, from).expect("reply");
        }
    }
}
