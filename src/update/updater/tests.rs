//! The updater on its own: a shared zone set, a state folder, signed UPDATE
//! messages made here — no server, no sockets.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use super::*;
use crate::auth::{SharedZones, ZoneSet};
use crate::tsig::{Algorithm, TsigKey};
use crate::update::policy::UpdateRule;
use crate::zonefile::load_zone_text;

const SECRET: &str = "c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IHNlY3JldA==";
const ORIGIN: &[u8] = b"\x03dyn\x04test\x00";

fn key() -> TsigKey {
    TsigKey::new("k", Algorithm::HmacSha256, SECRET).unwrap()
}

fn zone(serial: u32, www: &str) -> Zone {
    let text = format!(
        "$TTL 300\n@ SOA ns hm {serial} 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\nwww A {www}\n"
    );
    load_zone_text(ORIGIN, text.as_bytes(), Path::new("dyn.test.zone")).unwrap()
}

/// An updater of `dyn.test` (serial 100) with the key `k` allowed everything,
/// its state in `dir`.
fn updater(dir: &Path) -> (Updater, Arc<SharedZones>) {
    let settings = UpdateSettings {
        signing: Default::default(),
        keys: KeyRing::new(vec![key()]),
        policy: UpdatePolicy {
            rules: vec![UpdateRule::everything(b"\x01k\x00".to_vec())],
        },
        serial_policy: SerialPolicy::Increment,
        state_dir: dir.to_path_buf(),
        journal: crate::journal::JournalLimits {
            keep: 10,
            max_bytes: u64::MAX,
        },
        save_interval: Duration::from_secs(300),
    };
    let zones = Arc::new(SharedZones::from_pointee(ZoneSet::default()));
    let updater = Updater::new(settings, zones.clone());
    let restored = updater.restore(vec![zone(100, "192.0.2.10")]);
    zones.store(Arc::new(ZoneSet::new(restored.into_iter().map(Arc::new))));
    (updater, zones)
}

/// An UPDATE adding `LABEL.dyn.test 60 A 192.0.2.LAST`, its TSIG (by `k`) verified
/// as the dispatcher leaves it, unless `signed` is false.
fn add(label: &str, last: u8, signed: bool) -> OwnedRequest {
    let mut p = vec![0x12, 0x34, 5 << 3, 0, 0, 1, 0, 0, 0, 1, 0, 0];
    p.extend_from_slice(ORIGIN);
    p.extend_from_slice(&[0, 6, 0, 1]);
    p.push(label.len() as u8);
    p.extend_from_slice(label.as_bytes());
    p.extend_from_slice(ORIGIN);
    p.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, last]);
    OwnedRequest {
        packet: p,
        client: SocketAddr::from(([127, 0, 0, 1], 5300)),
        transport: crate::exchange::Transport::Udp,
        tsig: signed.then(|| crate::exchange::VerifiedTsig {
            key: key(),
            mac: vec![0; 32],
        }),
        sections: None,
    }
}

fn rcode_of(reply: &SlowReply) -> u16 {
    u16::from(reply.message[3] & 0xF)
}

fn served(zones: &SharedZones) -> Option<Arc<Zone>> {
    zones.load().get(ORIGIN).cloned()
}

fn has(zones: &SharedZones, label: &[u8]) -> bool {
    let mut name = vec![label.len() as u8];
    name.extend_from_slice(label);
    name.extend_from_slice(ORIGIN);
    served(zones).is_some_and(|z| z.node_by_name(&name).is_some())
}

#[tokio::test]
async fn an_update_is_journaled_then_served_and_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let (updater, zones) = updater(dir.path());
    let reply = updater.update(add("a", 1, true)).await.unwrap();
    assert_eq!(rcode_of(&reply), rcode::NOERROR);
    assert_eq!(served(&zones).unwrap().serial(), 101);
    assert!(has(&zones, b"a"));
    // The base it applied to was saved first; the journal has the change.
    let paths = StatePaths::new(dir.path(), ORIGIN);
    assert!(paths.zone.exists() && paths.journal.exists());
    drop(updater);
    let (_again, zones) = self::updater(dir.path());
    assert!(has(&zones, b"a"));
    assert_eq!(served(&zones).unwrap().serial(), 101);
}

#[tokio::test]
async fn unsigned_and_unknown_zones_are_refused_and_change_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let (updater, zones) = updater(dir.path());
    let reply = updater.update(add("a", 1, false)).await.unwrap();
    assert_eq!(rcode_of(&reply), rcode::NOTAUTH);
    assert!(!has(&zones, b"a"));
    // A zone not served: NOTAUTH, and no state is made for it.
    zones.store(Arc::new(ZoneSet::default()));
    let reply = updater.update(add("a", 1, true)).await.unwrap();
    assert_eq!(rcode_of(&reply), rcode::NOTAUTH);
    assert!(!StatePaths::new(dir.path(), ORIGIN).journal.exists());
}

#[tokio::test]
async fn a_secondary_zone_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (updater, zones) = updater(dir.path());
    let mut copy = zone(100, "192.0.2.10");
    copy.secondary = true;
    zones.store(Arc::new(ZoneSet::new([Arc::new(copy)])));
    let reply = updater.update(add("a", 1, true)).await.unwrap();
    assert_eq!(rcode_of(&reply), rcode::REFUSED);
    assert!(!has(&zones, b"a"));
}

#[tokio::test]
async fn a_secondary_zone_not_copied_yet_is_refused_not_unknown() {
    let dir = tempfile::tempdir().unwrap();
    let (updater, zones) = updater(dir.path());
    zones.store(Arc::new(ZoneSet::default()));
    let updater = updater.with_secondary_zones(Arc::new(|origin: &[u8]| origin == ORIGIN));
    let reply = updater.update(add("a", 1, true)).await.unwrap();
    assert_eq!(rcode_of(&reply), rcode::REFUSED);
    assert!(!StatePaths::new(dir.path(), ORIGIN).journal.exists());
}

#[tokio::test]
async fn a_removed_zone_stays_removed_and_comes_back_with_its_updates() {
    let dir = tempfile::tempdir().unwrap();
    let (updater, zones) = updater(dir.path());
    updater.update(add("a", 1, true)).await.unwrap();
    updater.remove_zone(ORIGIN).await;
    assert!(served(&zones).is_none());
    // An update after the removal does not bring the zone back.
    let reply = updater.update(add("b", 2, true)).await.unwrap();
    assert_eq!(rcode_of(&reply), rcode::NOTAUTH);
    assert!(served(&zones).is_none());
    // The file comes back older than the state: the state is served.
    assert!(!updater.reload_zone(zone(100, "192.0.2.99")).await);
    assert!(has(&zones, b"a"));
    assert_eq!(served(&zones).unwrap().serial(), 101);
    // The next update follows on from the state's serial.
    updater.update(add("c", 3, true)).await.unwrap();
    assert_eq!(served(&zones).unwrap().serial(), 102);
}

#[tokio::test]
async fn a_file_replaces_the_zone_only_with_a_newer_serial() {
    let dir = tempfile::tempdir().unwrap();
    let (updater, zones) = updater(dir.path());
    updater.update(add("a", 1, true)).await.unwrap();
    // Same serial as served (101), other data: not taken.
    assert!(!updater.reload_zone(zone(101, "192.0.2.99")).await);
    assert!(has(&zones, b"a"));
    // Newer: taken; the state it replaced set aside.
    assert!(updater.reload_zone(zone(200, "192.0.2.20")).await);
    assert_eq!(served(&zones).unwrap().serial(), 200);
    assert!(!has(&zones, b"a"));
    let aside = crate::journal::state::set_aside_count(dir.path());
    assert_eq!(aside, 2);
    // Updates go on from the file's serial, and survive a restart.
    updater.update(add("b", 2, true)).await.unwrap();
    drop(updater);
    let (_again, zones) = self::updater(dir.path());
    assert_eq!(served(&zones).unwrap().serial(), 201);
    assert!(has(&zones, b"b"));
}

#[tokio::test]
async fn save_changed_writes_the_version_served() {
    let dir = tempfile::tempdir().unwrap();
    let (updater, zones) = updater(dir.path());
    for (i, label) in ["a", "b", "c"].iter().enumerate() {
        updater.update(add(label, i as u8, true)).await.unwrap();
    }
    updater.save_changed().await;
    let saved =
        crate::zonefile::load_zone(ORIGIN, &StatePaths::new(dir.path(), ORIGIN).zone).unwrap();
    assert_eq!(saved.serial(), served(&zones).unwrap().serial());
    assert_eq!(saved.serial(), 103);
}
