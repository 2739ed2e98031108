//! Catalog zones (RFC 9432) out of zonal: Knot DNS, consuming the catalog zonal
//! produces, serves every zone zonal serves; a zone file added to zonal's folder
//! appears on Knot, one removed disappears — by reload, catalog, NOTIFY and
//! transfer, within seconds.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::{query, unique_addr, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

fn zone_text(name: &str) -> String {
    format!(
        "$ORIGIN {name}.\n$TTL 300\n@ SOA ns hm 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n"
    )
}

/// Whether `addr` answers for `zone` with authority (its SOA, AA set).
fn serves(addr: SocketAddr, zone: &str) -> bool {
    let packet = query(zone, RecordType::SOA, None).to_vec().expect("encode");
    common::udp_raw(addr, &packet, Duration::from_millis(300))
        .and_then(|r| Message::from_vec(&r).ok())
        .is_some_and(|m| {
            m.metadata.response_code == ResponseCode::NoError
                && m.metadata.authoritative
                && !m.answers.is_empty()
        })
}

fn within(limit: Duration, what: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if what() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[test]
fn knot_takes_the_zones_zonal_lists_in_its_catalog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zones = dir.path().join("zones");
    std::fs::create_dir(&zones).expect("mkdir");
    std::fs::write(zones.join("a.test.zone"), zone_text("a.test")).expect("zone");
    let knot_addr = unique_addr();
    let zonal_addr = unique_addr();
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \"zones\"\nallow_transfer = [\"127.0.0.0/8\"]\n\
             [catalog]\nproduce = \"cat.example\"\n\
             [[notify]]\ntargets = [\"{knot_addr}\"]\n"
        ),
    )
    .expect("config");
    let z = Zonal::start_at(zonal_addr, &["--config", config.to_str().expect("utf-8")]);
    assert!(serves(z.addr, "cat.example."), "zonal serves its catalog");

    let run = dir.path().join("knot");
    std::fs::create_dir_all(run.join("db/catalog")).expect("mkdir");
    let sections = format!(
        "remote:\n  - id: zonal\n    address: {zip}@{zport}\n\
         acl:\n  - id: from_zonal\n    address: 127.0.0.0/8\n    action: notify\n\
         template:\n  - id: default\n    storage: {run}\n    zonefile-sync: -1\n\
         \x20 - id: member\n    storage: {run}\n    master: zonal\n    acl: from_zonal\n    zonefile-sync: -1\n\
         zone:\n  - domain: cat.example\n    master: zonal\n    acl: from_zonal\n\
         \x20   catalog-role: interpret\n    catalog-template: member\n",
        zip = zonal_addr.ip(),
        zport = zonal_addr.port(),
        run = run.display(),
    );
    // Up once it serves the member the catalog lists (Knot does not answer for an
    // interpreted catalog itself).
    let _knot = common::knot::start_with(knot_addr, &run, &sections, "a.test.");
    let log = || {
        format!(
            "--- knot\n{}\n--- zonal\n{}",
            std::fs::read_to_string(run.join("knot.log")).unwrap_or_default(),
            z.stderr()
        )
    };
    assert!(
        within(Duration::from_secs(15), || serves(knot_addr, "a.test.")),
        "Knot did not take a.test from the catalog:\n{}",
        log()
    );
    // A new zone file: reloaded, listed, notified, taken.
    std::fs::write(zones.join("b.test.zone"), zone_text("b.test")).expect("zone");
    assert!(
        within(Duration::from_secs(15), || serves(knot_addr, "b.test.")),
        "Knot did not take b.test once zonal listed it:\n{}",
        log()
    );
    // A zone file removed: no longer listed, dropped by Knot.
    std::fs::remove_file(zones.join("a.test.zone")).expect("rm");
    assert!(
        within(Duration::from_secs(15), || !serves(knot_addr, "a.test.")),
        "Knot still serves a.test:\n{}",
        log()
    );
    assert!(serves(knot_addr, "b.test."));
}
