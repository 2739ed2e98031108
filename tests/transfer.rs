//! Zone transfers out of zonal: AXFR streamed over TCP to allowed clients (dig, and
//! Knot DNS and NSD as secondaries), refused to others, IXFR answered over UDP with
//! the SOA and over TCP in full (or with the SOA alone for a current client).

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{query, unique_addr, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

const HOSTS: usize = 5_000;

fn zone_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = String::from(
        "$ORIGIN xfr.test.\n$TTL 300\n@ SOA ns hm 7 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n",
    );
    text.push_str(&format!("$GENERATE 1-{HOSTS} h$ A 10.0.0.1\n"));
    text.push_str("sub NS ns.sub\nns.sub A 192.0.2.9\nbig TXT \"");
    text.push_str(&"x".repeat(200));
    text.push_str("\"\n");
    std::fs::write(dir.path().join("xfr.test.zone"), text).expect("zone");
    dir
}

/// zonal serving the zone above, transfers allowed from loopback.
fn primary() -> (Zonal, tempfile::TempDir) {
    let dir = zone_dir();
    let z = Zonal::start(&[
        "--zone-dir",
        dir.path().to_str().expect("utf-8"),
        "--allow-transfer",
        "127.0.0.0/8",
    ]);
    (z, dir)
}

/// Records in the zone above: SOA, NS, ns A, the hosts, sub NS, ns.sub A, big TXT.
const RECORDS: usize = HOSTS + 6;

/// Every message of a transfer over TCP until the closing SOA (or the first message
/// when it is an error or a lone SOA).
fn transfer(addr: SocketAddr, message: &Message) -> Vec<Message> {
    let mut stream = TcpStream::connect(addr).expect("tcp");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    common::write_framed(&mut stream, &message.to_vec().expect("encode"));
    let mut messages = Vec::new();
    let mut soas = 0;
    while let Some(bytes) = common::read_framed(&mut stream) {
        let m = Message::from_vec(&bytes).expect("decode");
        soas += m
            .answers
            .iter()
            .filter(|r| r.record_type() == RecordType::SOA)
            .count();
        let done = m.metadata.response_code != ResponseCode::NoError
            || soas >= 2
            || (soas == 1 && m.answers.len() == 1);
        messages.push(m);
        if done {
            break;
        }
    }
    messages
}

#[test]
fn axfr_streams_the_zone_to_allowed_clients_only() {
    let (z, dir) = primary();
    let messages = transfer(z.addr, &query("xfr.test.", RecordType::AXFR, None));
    assert!(messages.len() > 1, "several messages");
    let records: Vec<_> = messages.iter().flat_map(|m| m.answers.iter()).collect();
    assert_eq!(records.len(), RECORDS + 1, "every record, the SOA twice");
    assert_eq!(
        records.first().map(|r| r.record_type()),
        Some(RecordType::SOA)
    );
    assert_eq!(
        records.last().map(|r| r.record_type()),
        Some(RecordType::SOA)
    );
    assert!(messages
        .iter()
        .all(|m| m.metadata.authoritative && m.metadata.id == messages[0].metadata.id));
    assert_eq!(
        messages[0].queries.len(),
        1,
        "the question in the first message"
    );
    // dig agrees.
    let out = z.dig(&["xfr.test.", "AXFR"]);
    assert!(
        out.contains(&format!("XFR size: {} records", RECORDS + 1)),
        "{out}"
    );

    // Not a zone of ours, or a client not allowed: REFUSED.
    let other = transfer(z.addr, &query("other.test.", RecordType::AXFR, None));
    assert_eq!(other[0].metadata.response_code, ResponseCode::Refused);
    let closed = Zonal::start(&["--zone-dir", dir.path().to_str().expect("utf-8")]);
    let refused = transfer(closed.addr, &query("xfr.test.", RecordType::AXFR, None));
    assert_eq!(refused.len(), 1);
    assert_eq!(refused[0].metadata.response_code, ResponseCode::Refused);
    assert!(refused[0].answers.is_empty());
}

#[test]
fn ixfr_gets_the_soa_over_udp_and_the_zone_over_tcp() {
    let (z, _dir) = primary();
    let ixfr = |serial: u32| {
        let mut q = query("xfr.test.", RecordType::IXFR, None);
        let soa = hickory_proto::rr::rdata::SOA::new(
            hickory_proto::rr::Name::from_ascii("ns.xfr.test.").expect("name"),
            hickory_proto::rr::Name::from_ascii("hm.xfr.test.").expect("name"),
            serial,
            3600,
            600,
            86400,
            300,
        );
        q.authorities.push(hickory_proto::rr::Record::from_rdata(
            hickory_proto::rr::Name::from_ascii("xfr.test.").expect("name"),
            0,
            hickory_proto::rr::RData::SOA(soa),
        ));
        q
    };
    // Over UDP: the SOA (RFC 1995 2), whatever the client has.
    let over_udp = z.udp(&ixfr(3));
    assert_eq!(over_udp.answers.len(), 1);
    assert_eq!(over_udp.answers[0].record_type(), RecordType::SOA);
    // Over TCP: the whole zone for a client behind; the SOA alone for a current one.
    let behind = transfer(z.addr, &ixfr(3));
    assert_eq!(
        behind.iter().map(|m| m.answers.len()).sum::<usize>(),
        RECORDS + 1
    );
    let current = transfer(z.addr, &ixfr(7));
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].answers.len(), 1);
}

/// A secondary server started by the test; killed when dropped.
struct Secondary(Child);

impl Drop for Secondary {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Waits until `addr` answers `name` A from its copy of the zone.
fn wait_for_copy(addr: SocketAddr, name: &str, what: &str) {
    let deadline = Instant::now() + Duration::from_secs(15);
    let packet = query(name, RecordType::A, None).to_vec().expect("encode");
    while Instant::now() < deadline {
        if let Some(reply) = common::udp_raw(addr, &packet, Duration::from_millis(200)) {
            if Message::from_vec(&reply)
                .is_ok_and(|m| m.answers.len() == 1 && m.metadata.authoritative)
            {
                return;
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("{what} never served {name} from a transfer");
}

#[test]
fn knot_dns_and_nsd_take_the_zone_as_secondaries() {
    let (z, _dir) = primary();
    let primary = z.addr;
    let name = format!("h{HOSTS}.xfr.test.");

    // Knot DNS.
    let knot_dir = tempfile::tempdir().expect("tempdir");
    let knot_addr = unique_addr();
    let knotd = ["/usr/sbin/knotd", "/usr/bin/knotd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("knotd installed (apt-get install knot)");
    let run = knot_dir.path().display();
    let config = format!(
        "server:\n    listen: {ip}@{port}\n    rundir: {run}\ndatabase:\n    storage: {run}/db\n\
         remote:\n  - id: zonal\n    address: {pip}@{pport}\n\
         zone:\n  - domain: xfr.test\n    storage: {run}\n    file: xfr.test.zone\n    master: zonal\n    zonefile-sync: -1\n    journal-content: none\n\
         log:\n  - target: {run}/knot.log\n    any: info\n",
        ip = knot_addr.ip(),
        port = knot_addr.port(),
        pip = primary.ip(),
        pport = primary.port(),
    );
    std::fs::write(knot_dir.path().join("knot.conf"), config).expect("knot.conf");
    let child = Command::new(knotd)
        .arg("-c")
        .arg(knot_dir.path().join("knot.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("knotd starts");
    let _knot = Secondary(child);
    wait_for_copy(knot_addr, &name, "Knot DNS");

    // NSD.
    let nsd_dir = tempfile::tempdir().expect("tempdir");
    let nsd_addr = unique_addr();
    let nsd = ["/usr/sbin/nsd", "/usr/bin/nsd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nsd installed (apt-get install nsd)");
    let run = nsd_dir.path().display();
    let config = format!(
        "server:\n    ip-address: {ip}@{port}\n    port: {port}\n    username: \"\"\n    chroot: \"\"\n    zonesdir: \"{run}\"\n\
         \x20   database: \"\"\n    pidfile: \"{run}/nsd.pid\"\n    xfrdfile: \"{run}/xfrd.state\"\n    xfrdir: \"{run}\"\n\
         \x20   logfile: \"{run}/nsd.log\"\n    server-count: 1\n    zonelistfile: \"{run}/zone.list\"\n\
         remote-control:\n    control-enable: no\n\
         zone:\n    name: xfr.test\n    zonefile: xfr.test.zone\n    request-xfr: AXFR {pip}@{pport} NOKEY\n    allow-notify: {pip} NOKEY\n",
        ip = nsd_addr.ip(),
        port = nsd_addr.port(),
        pip = primary.ip(),
        pport = primary.port(),
    );
    std::fs::write(nsd_dir.path().join("nsd.conf"), config).expect("nsd.conf");
    let child = Command::new(nsd)
        .args(["-d", "-c"])
        .arg(nsd_dir.path().join("nsd.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nsd starts");
    let _nsd = Secondary(child);
    wait_for_copy(nsd_addr, &name, "NSD");
    assert!(
        z.stderr().matches("zone transferred").count() >= 2,
        "{}",
        z.stderr()
    );
}
