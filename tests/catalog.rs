//! Catalog zones (RFC 9432) both ways, within seconds (catalog NOTIFY, transfer,
//! member transfers).
//!
//! Out of zonal: Knot DNS, consuming the catalog zonal produces, serves every zone
//! zonal serves; a zone file added to zonal's folder appears on Knot, one removed
//! disappears.
//!
//! Into zonal: zonal consuming the catalog of Knot DNS (`catalog-role:
//! generate`), of BIND (a catalog zone edited with nsupdate) and of another zonal
//! (`[catalog] produce`) serves every member, takes a member added on the producer
//! and drops one removed; a member whose id changes is taken again whole; restarted
//! with its producer down, it serves the members at once from the state folder.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use common::{eventually, query, unique_addr, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

const SECRET: &str = "c2VjcmV0IHNlY3JldCBzZWNyZXQ=";

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

/// A zonal at `addr` serving the zone files of `dir`/zones and the catalog
/// `cat.example` listing them, notifying `secondary`.
fn start_producer(dir: &Path, addr: SocketAddr, secondary: SocketAddr) -> Zonal {
    let config = dir.join("producer.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \"zones\"\nallow_transfer = [\"127.0.0.0/8\"]\n\
             [catalog]\nproduce = \"cat.example\"\n\
             [[notify]]\ntargets = [\"{secondary}\"]\n"
        ),
    )
    .expect("config");
    Zonal::start_at(addr, &["--config", config.to_str().expect("utf-8")])
}

/// Writes the zone file of each of `names` into `dir`.
fn write_zones(dir: &Path, names: &[&str]) {
    for name in names {
        common::write_zone(dir, "", &format!("{name}.zone"), &zone_text(name));
    }
}

#[test]
fn knot_takes_the_zones_zonal_lists_in_its_catalog() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zones = dir.path().join("zones");
    write_zones(&zones, &["a.test"]);
    let knot_addr = unique_addr();
    let zonal_addr = unique_addr();
    let z = start_producer(dir.path(), zonal_addr, knot_addr);
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
        eventually(Duration::from_secs(15), || serves(knot_addr, "a.test.")),
        "Knot did not take a.test from the catalog:\n{}",
        log()
    );
    // A new zone file: reloaded, listed, notified, taken.
    write_zones(&zones, &["b.test"]);
    assert!(
        eventually(Duration::from_secs(15), || serves(knot_addr, "b.test.")),
        "Knot did not take b.test once zonal listed it:\n{}",
        log()
    );
    // A zone file removed: no longer listed, dropped by Knot.
    std::fs::remove_file(zones.join("a.test.zone")).expect("rm");
    assert!(
        eventually(Duration::from_secs(15), || !serves(knot_addr, "a.test.")),
        "Knot still serves a.test:\n{}",
        log()
    );
    assert!(serves(knot_addr, "b.test."));
}

/// A zonal at `addr` consuming the catalog `cat.example` of `primary`, signed
/// with the key when `signed`, its config (`extra` tables at the end) and state
/// in `dir`, letting loopback clients transfer its zones; with its arguments, to
/// start it again.
fn start_consumer(
    dir: &Path,
    addr: SocketAddr,
    primary: SocketAddr,
    signed: bool,
    extra: &str,
) -> (Zonal, Vec<String>) {
    let config = dir.join("consumer.toml");
    let key = if signed {
        format!("[[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{SECRET}\"\n")
    } else {
        String::new()
    };
    let zone_key = if signed { "key = \"xfr-key\"\n" } else { "" };
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{state}\"\nallow_transfer = [\"127.0.0.0/8\"]\n{key}\
             [[zone]]\nname = \"cat.example\"\nprimaries = [\"{primary}\"]\n{zone_key}catalog = true\n{extra}",
            state = dir.join("state").display(),
        ),
    )
    .expect("config");
    let args = vec![
        "--config".to_owned(),
        config.display().to_string(),
        "--no-recursion".to_owned(),
    ];
    let all: Vec<&str> = args.iter().map(String::as_str).collect();
    (Zonal::start_at(addr, &all), args)
}

/// Waits (at most 15 s) until `addr` serves every zone of `served` and none of
/// `gone`; fails with `what` and the `log` otherwise.
fn wait_members(
    addr: SocketAddr,
    served: &[&str],
    gone: &[&str],
    what: &str,
    log: impl Fn() -> String,
) {
    assert!(
        eventually(Duration::from_secs(15), || {
            served.iter().all(|z| serves(addr, z)) && !gone.iter().any(|z| serves(addr, z))
        }),
        "{what}:\n{}",
        log()
    );
}

/// The log of the producer (`file`, or the text itself) and of the consumer.
fn logs(producer: &str, consumer: &Zonal) -> String {
    let producer = std::fs::read_to_string(producer).unwrap_or_else(|_| producer.to_owned());
    format!(
        "--- producer\n{producer}\n--- consumer\n{}",
        consumer.stderr()
    )
}

/// Waits (at most 5 s) until the catalog `relay.example` of `consumer` lists every
/// zone of `listed` and none of `unlisted`; fails with the `log` otherwise.
fn relays(consumer: &Zonal, listed: &[&str], unlisted: &[&str], log: impl Fn() -> String) {
    let catalog = || consumer.dig(&["relay.example", "AXFR"]);
    let lists = |text: &str, z: &str| text.contains(&format!("PTR\t{z}"));
    assert!(
        eventually(Duration::from_secs(5), || {
            let text = catalog();
            listed.iter().all(|z| lists(&text, z)) && !unlisted.iter().any(|z| lists(&text, z))
        }),
        "the consumer's own catalog:\n{}\n{}",
        catalog(),
        log()
    );
}

/// The Knot DNS `zone:` entry of a member of its catalog.
fn knot_member(name: &str) -> String {
    format!(
        "  - domain: {name}\n    file: {name}.zone\n    catalog-role: member\n    catalog-zone: cat.example\n"
    )
}

/// Rewrites Knot's config with `members` and has it reloaded (`knotc reload`).
fn knot_reload(run: &Path, members: &[&str]) {
    let conf = run.join("knot.conf");
    let text = std::fs::read_to_string(&conf).expect("knot.conf");
    let catalog = "    catalog-role: generate\n";
    let head = &text[..text.find(catalog).expect("the catalog") + catalog.len()];
    let log = &text[text.find("log:").expect("log section")..];
    let entries: String = members.iter().map(|m| knot_member(m)).collect();
    std::fs::write(&conf, format!("{head}{entries}{log}")).expect("knot.conf");
    let out = Command::new("knotc")
        .arg("-s")
        .arg(run.join("knot.sock"))
        .arg("reload")
        .output()
        .expect("knotc runs");
    assert!(
        out.status.success(),
        "knotc reload: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn zonal_takes_the_zones_a_knot_dns_catalog_lists() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("knot");
    write_zones(&run, &["a.test", "b.test", "c.test"]);
    let knot_addr = unique_addr();
    let zonal_addr = unique_addr();
    let sections = format!(
        "key:\n  - id: xfr-key\n    algorithm: hmac-sha256\n    secret: {SECRET}\n\
         remote:\n  - id: zonal\n    address: {zip}@{zport}\n    key: xfr-key\n    via: {kip}\n\
         acl:\n  - id: xfr\n    key: xfr-key\n    action: transfer\n\
         template:\n  - id: default\n    storage: {run}\n    zonefile-sync: -1\n    notify: zonal\n    acl: xfr\n\
         zone:\n  - domain: cat.example\n    catalog-role: generate\n{a}{b}",
        zip = zonal_addr.ip(),
        zport = zonal_addr.port(),
        kip = knot_addr.ip(),
        run = run.display(),
        a = knot_member("a.test"),
        b = knot_member("b.test"),
    );
    let _knot = common::knot::start_with(knot_addr, &run, &sections, "b.test.");
    let (z, _) = start_consumer(dir.path(), zonal_addr, knot_addr, true, "");
    let knot_log = run.join("knot.log").display().to_string();
    let log = || logs(&knot_log, &z);
    let members = "zonal did not take the members of Knot's catalog";
    wait_members(zonal_addr, &["a.test.", "b.test."], &[], members, log);
    // A member added on Knot: a new catalog version, notified, read, taken.
    knot_reload(&run, &["a.test", "b.test", "c.test"]);
    wait_members(zonal_addr, &["c.test."], &[], "c.test not taken", log);
    // A member removed on Knot: dropped, its copy set aside.
    knot_reload(&run, &["a.test", "c.test"]);
    let after = ["a.test.", "c.test."];
    wait_members(zonal_addr, &after, &["b.test."], "b.test still served", log);
    let state = dir.path().join("state");
    assert!(
        eventually(Duration::from_secs(5), || state
            .join("b.test.zone.removed")
            .exists()
            && !state.join("b.test.zone").exists()),
        "the copy of b.test not set aside:\n{}",
        log()
    );
}

#[test]
fn zonal_follows_a_bind_catalog_updated_with_nsupdate_and_resets_a_member_whose_id_changes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let run = dir.path().join("bind");
    write_zones(&run, &["a.test", "b.test", "c.test"]);
    // A catalog as RFC 9432 lays it out, edited with nsupdate.
    std::fs::write(
        run.join("cat.example.zone"),
        "$ORIGIN cat.example.\n$TTL 0\n@ SOA invalid. invalid. 1 3600 600 2147483646 0\n\
         @ NS invalid.\nversion TXT \"2\"\nida.zones PTR a.test.\nidb.zones PTR b.test.\n\
         group.ida.zones TXT \"ignored\"\n",
    )
    .expect("catalog");
    let zonal_addr = unique_addr();
    let notify = format!(
        "notify explicit; notify-delay 0; also-notify {{ {ip} port {port} key xfr-key; }};",
        ip = zonal_addr.ip(),
        port = zonal_addr.port(),
    );
    let zone = |name: &str, extra: &str| {
        format!(
            "zone \"{name}\" {{ type primary; file \"{run}/{name}.zone\"; allow-transfer {{ key xfr-key; }}; {notify} {extra} }};\n",
            run = run.display(),
        )
    };
    let sections = format!(
        "key \"xfr-key\" {{ algorithm hmac-sha256; secret \"{SECRET}\"; }};\n{}{}{}{}",
        zone(
            "cat.example",
            "allow-update { key xfr-key; }; ixfr-from-differences yes;"
        ),
        zone("a.test", ""),
        zone("b.test", ""),
        zone("c.test", ""),
    );
    let bind = common::bind::start(&run, "", &sections, "cat.example.");
    let (z, _) = start_consumer(dir.path(), zonal_addr, bind.addr, true, "");
    let named_log = run.join("named.log").display().to_string();
    let log = || logs(&named_log, &z);
    let members = "zonal did not take the members of BIND's catalog";
    wait_members(zonal_addr, &["a.test.", "b.test."], &[], members, log);
    let key = vec!["-y".to_owned(), format!("hmac-sha256:xfr-key:{SECRET}")];
    let update = |lines: &[&str]| {
        let mut all = vec!["zone cat.example"];
        all.extend_from_slice(lines);
        let (ok, out) = common::nsupdate(bind.addr, &key, &all);
        assert!(ok, "nsupdate: {out}");
    };
    update(&[
        "update add idc.zones.cat.example. 0 PTR c.test.",
        "update delete idb.zones.cat.example. PTR",
    ]);
    let changed = "c.test in, b.test out: not followed";
    wait_members(zonal_addr, &["c.test."], &["b.test."], changed, log);
    // A new unique id for a.test: reset, taken whole again though its serial is
    // the same.
    update(&[
        "update delete ida.zones.cat.example. PTR",
        "update add ida2.zones.cat.example. 0 PTR a.test.",
    ]);
    let axfrs = || {
        z.stderr()
            .lines()
            .filter(|l| l.contains("transferred zone=a.test.") && l.contains("how=\"axfr\""))
            .count()
    };
    assert!(
        eventually(Duration::from_secs(15), || axfrs() == 2),
        "a.test not taken again after its id changed:\n{}",
        log()
    );
    assert!(z.stderr().contains("catalog member reset"), "{}", log());
    assert!(serves(zonal_addr, "a.test.") && serves(zonal_addr, "c.test."));
}

#[test]
fn zonal_takes_the_zones_another_zonal_lists_and_keeps_them_over_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let zones = dir.path().join("zones");
    write_zones(&zones, &["a.test", "b.test"]);
    let producer_addr = unique_addr();
    let consumer_addr = unique_addr();
    let producer = start_producer(dir.path(), producer_addr, consumer_addr);
    let (mut consumer, args) = start_consumer(
        dir.path(),
        consumer_addr,
        producer_addr,
        false,
        "[catalog]\nproduce = \"relay.example\"\n",
    );
    let log = |consumer: &Zonal| logs(&producer.stderr(), consumer);
    let members = "the consumer did not take the members";
    wait_members(consumer_addr, &["a.test.", "b.test."], &[], members, || {
        log(&consumer)
    });
    write_zones(&zones, &["c.test"]);
    wait_members(consumer_addr, &["c.test."], &[], "c.test not taken", || {
        log(&consumer)
    });
    // The consumer's own catalog lists each member once it is served.
    let all = ["a.test.", "b.test.", "c.test.", "cat.example."];
    relays(&consumer, &all, &[], || log(&consumer));
    std::fs::remove_file(zones.join("a.test.zone")).expect("rm");
    let after = ["b.test.", "c.test."];
    wait_members(
        consumer_addr,
        &after,
        &["a.test."],
        "a.test still served",
        || log(&consumer),
    );
    relays(&consumer, &after, &["a.test."], || log(&consumer));

    // Restarted with its producer down: the members of the saved catalog are
    // served at once from their saved copies.
    drop(producer);
    consumer.terminate();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let consumer = Zonal::start_at(consumer_addr, &args);
    for member in after {
        assert!(
            serves(consumer_addr, member),
            "{member} not served from the state folder after a restart:\n{}",
            consumer.stderr()
        );
    }
    assert!(!serves(consumer_addr, "a.test."));
}
