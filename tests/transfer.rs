//! Zone transfers out of zonal: AXFR streamed over TCP to allowed clients (dig, and
//! Knot DNS and NSD as secondaries), refused to others, IXFR answered over UDP with
//! the SOA and over TCP in full (or with the SOA alone for a current client); and
//! transfers signed with TSIG: checked, every message signed, taken by dig, kdig,
//! Knot DNS and NSD with the key, refused with the TSIG error to a wrong one; and
//! NSD keeping up with 200 updates a second, told by coalesced NOTIFYs.

mod common;

use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

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

/// The messages of a transfer over TCP, read until `done` says they are all there.
fn read_transfer(
    addr: SocketAddr,
    message: &Message,
    done: impl Fn(&[Message]) -> bool,
) -> Vec<Message> {
    let mut stream = TcpStream::connect(addr).expect("tcp");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    common::write_framed(&mut stream, &message.to_vec().expect("encode"));
    let mut messages = Vec::new();
    while let Some(bytes) = common::read_framed(&mut stream) {
        messages.push(Message::from_vec(&bytes).expect("decode"));
        if done(&messages) {
            break;
        }
    }
    messages
}

/// The serials of the SOA records of `messages`, in order.
fn soa_serials(messages: &[Message]) -> Vec<u32> {
    messages
        .iter()
        .flat_map(|m| m.answers.iter())
        .filter_map(|r| match &r.data {
            hickory_proto::rr::RData::SOA(soa) => Some(soa.serial),
            _ => None,
        })
        .collect()
}

/// Every message of a transfer until the closing SOA (or the first message when it
/// is an error or a lone SOA).
fn transfer(addr: SocketAddr, message: &Message) -> Vec<Message> {
    read_transfer(addr, message, |messages| {
        let first = &messages[0];
        first.metadata.response_code != ResponseCode::NoError
            || (messages.len() == 1 && first.answers.len() == 1)
            || soa_serials(messages).len() >= 2
    })
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

/// RFC 4034 3: each RRSIG goes out with the TTL of the RRset it covers, though a
/// name's RRSIGs are kept as one set — in an AXFR, and in the zone zonal saves.
#[test]
fn each_rrsig_has_the_ttl_of_the_rrset_it_covers() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sig = "13 3 3600 20270102130308 20261203130308 28291 sig.test. \
               pj7U8s7mv78EVElf1jdsafIYRGC51cXjhf1tN2Rc2eLBO/BaMfXFxtNzePlu/tQQEDdZg2kghreIOxkgXRuq0A==";
    let text = format!(
        "$ORIGIN sig.test.\n$TTL 300\n@ SOA ns hm 7 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n\
         www 3600 A 192.0.2.10\nwww 600 TXT \"hello\"\nwww 120 MX 10 ns\n\
         www 3600 RRSIG A {sig}\nwww 600 RRSIG TXT {sig}\nwww 120 RRSIG MX {sig}\n"
    );
    std::fs::write(dir.path().join("sig.test.zone"), text).expect("zone");
    let z = Zonal::start(&[
        "--zone-dir",
        dir.path().to_str().expect("utf-8"),
        "--allow-transfer",
        "127.0.0.0/8",
    ]);
    let out = z.dig(&["+nocmd", "+nostats", "+nocomments", "sig.test.", "AXFR"]);
    let mut ttls = std::collections::BTreeMap::new();
    for line in out.lines().filter(|l| l.starts_with("www.")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (ttl, rtype) = (fields[1], fields[3]);
        let key = if rtype == "RRSIG" {
            format!("RRSIG {}", fields[4])
        } else {
            rtype.to_owned()
        };
        ttls.insert(key, ttl.to_owned());
    }
    let want: std::collections::BTreeMap<String, String> = [
        ("A", "3600"),
        ("TXT", "600"),
        ("MX", "120"),
        ("RRSIG A", "3600"),
        ("RRSIG TXT", "600"),
        ("RRSIG MX", "120"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    assert_eq!(ttls, want, "AXFR:\n{out}");
}

#[test]
fn ixfr_gets_the_soa_over_udp_and_the_zone_over_tcp() {
    let (z, _dir) = primary();
    // Over UDP: the SOA (RFC 1995 2), whatever the client has.
    let over_udp = z.udp(&ixfr_query(3));
    assert_eq!(over_udp.answers.len(), 1);
    assert_eq!(over_udp.answers[0].record_type(), RecordType::SOA);
    // Over TCP: the whole zone for a client behind; the SOA alone for a current one.
    let behind = transfer(z.addr, &ixfr_query(3));
    assert_eq!(
        behind.iter().map(|m| m.answers.len()).sum::<usize>(),
        RECORDS + 1
    );
    let current = transfer(z.addr, &ixfr_query(7));
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].answers.len(), 1);
}

/// An IXFR for the test zone from a client at `serial` (RFC 1995 3: its SOA in
/// the authority section).
fn ixfr_query(serial: u32) -> Message {
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
    let question = query(name, RecordType::A, None);
    assert!(
        common::eventually(Duration::from_secs(15), || {
            common::ask(addr, &question, false, Duration::from_millis(200))
                .is_some_and(|m| m.answers.len() == 1 && m.metadata.authoritative)
        }),
        "{what} never served {name} from a transfer"
    );
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
    let (_nsd, nsd_addr) = nsd_secondary(nsd_dir.path(), primary, None);
    wait_for_copy(nsd_addr, &name, "NSD");
    assert!(
        z.stderr().matches("zone transferred").count() >= 2,
        "{}",
        z.stderr()
    );
}

/// NSD as a secondary of `xfr.test` from `primary`, its files in `run`, taking the
/// zone with the key `(name, secret)` when given; and its address.
fn nsd_secondary(
    run: &Path,
    primary: SocketAddr,
    key: Option<(&str, &str)>,
) -> (Secondary, SocketAddr) {
    let nsd_addr = unique_addr();
    let nsd = ["/usr/sbin/nsd", "/usr/bin/nsd"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .expect("nsd installed (apt-get install nsd)");
    let (key_section, key_name) = match key {
        Some((name, secret)) => (
            format!("key:\n    name: \"{name}\"\n    algorithm: hmac-sha256\n    secret: \"{secret}\"\n"),
            name,
        ),
        None => (String::new(), "NOKEY"),
    };
    let run = run.display();
    let config = format!(
        "server:\n    ip-address: {ip}@{port}\n    port: {port}\n    username: \"\"\n    chroot: \"\"\n    zonesdir: \"{run}\"\n\
         \x20   database: \"\"\n    pidfile: \"{run}/nsd.pid\"\n    xfrdfile: \"{run}/xfrd.state\"\n    xfrdir: \"{run}\"\n\
         \x20   logfile: \"{run}/nsd.log\"\n    verbosity: 2\n    server-count: 1\n    zonelistfile: \"{run}/zone.list\"\n\
         remote-control:\n    control-enable: no\n{key_section}\
         zone:\n    name: xfr.test\n    zonefile: xfr.test.zone\n    request-xfr: AXFR {pip}@{pport} {key_name}\n    allow-notify: {pip} {key_name}\n",
        ip = nsd_addr.ip(),
        port = nsd_addr.port(),
        pip = primary.ip(),
        pport = primary.port(),
    );
    std::fs::write(format!("{run}/nsd.conf"), config).expect("nsd.conf");
    let child = Command::new(nsd)
        .args(["-d", "-c"])
        .arg(format!("{run}/nsd.conf"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("nsd starts");
    (Secondary(child), nsd_addr)
}

/// Writes the TSIG key file `k.key` (key `k`, allowed to update) in `dir`.
fn update_key(dir: &Path) -> std::path::PathBuf {
    let key = dir.join("k.key");
    std::fs::write(
        &key,
        "key \"k\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IDEyMzQ=\";\n};\n",
    )
    .expect("key");
    key
}

#[test]
fn ixfr_sends_the_differences_the_journal_still_has() {
    let dir = zone_dir();
    let key = update_key(dir.path());
    let zones = dir.path().join("zones");
    std::fs::create_dir(&zones).expect("mkdir");
    std::fs::rename(
        dir.path().join("xfr.test.zone"),
        zones.join("xfr.test.zone"),
    )
    .expect("move");
    let state = dir.path().join("state");
    let z = Zonal::start(&[
        "--zone-dir",
        zones.to_str().expect("utf-8"),
        "--allow-transfer",
        "127.0.0.0/8",
        "--tsig-key",
        key.to_str().expect("utf-8"),
        "--allow-update",
        "k",
        "--state-dir",
        state.to_str().expect("utf-8"),
    ]);
    // Three updates: serial 7 → 10, one new name each, the last also deleting
    // the name the second added.
    for i in 1..=3 {
        let add = format!("update add new{i}.xfr.test 300 A 192.0.2.{i}");
        let mut lines = vec!["zone xfr.test", add.as_str()];
        if i == 3 {
            lines.push("update delete new2.xfr.test A");
        }
        let (ok, out) = common::nsupdate::nsupdate(z.addr, Some(&key), &lines);
        assert!(ok, "update {i}: {out}");
    }
    let serial_of = |r: &hickory_proto::rr::Record| match &r.data {
        hickory_proto::rr::RData::SOA(soa) => Some(soa.serial),
        _ => None,
    };
    // From 8: the new SOA, then the two changes condensed into one (old SOA, new
    // SOA, added A — new2 came and went, so it is not sent), then the new SOA.
    let messages = transfer_until(z.addr, &ixfr_query(8), 3);
    let records: Vec<_> = messages.iter().flat_map(|m| m.answers.iter()).collect();
    let shape: Vec<String> = records
        .iter()
        .map(|r| match serial_of(r) {
            Some(serial) => format!("SOA {serial}"),
            None => format!("{} {}", r.record_type(), r.name.to_ascii()),
        })
        .collect();
    assert_eq!(
        shape,
        ["SOA 10", "SOA 8", "SOA 10", "A new3.xfr.test.", "SOA 10"]
    );
    // A serial the journal does not reach (older than the zone file): the whole zone.
    let messages = transfer(z.addr, &ixfr_query(3));
    assert_eq!(
        messages.iter().map(|m| m.answers.len()).sum::<usize>(),
        RECORDS + 2 + 1
    );
}

/// The messages of an IXFR over TCP, until the SOA with the newest serial (the
/// first one sent) has come `times` times.
fn transfer_until(addr: SocketAddr, message: &Message, times: usize) -> Vec<Message> {
    read_transfer(addr, message, |messages| {
        let serials = soa_serials(messages);
        serials
            .iter()
            .filter(|s| Some(*s) == serials.first())
            .count()
            >= times
    })
}

/// The key of the signed-transfer tests, as `dig -y` takes it.
const KEY: &str = "hmac-sha256:xfr-key:c2VjcmV0IHNlY3JldCBzZWNyZXQ=";

/// zonal serving the zone above to those who sign with `xfr-key`, and to nobody else.
fn signed_primary() -> (Zonal, tempfile::TempDir) {
    let dir = zone_dir();
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \"{d}\"\nstate_dir = \"{d}/state\"\n\
             [[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"c2VjcmV0IHNlY3JldCBzZWNyZXQ=\"\n\
             [[transfer]]\nkey = \"xfr-key\"\nzones = [\"xfr.test\"]\n",
            d = dir.path().display()
        ),
    )
    .expect("config");
    let z = Zonal::start(&["--config", config.to_str().expect("utf-8")]);
    (z, dir)
}

#[test]
fn signed_transfers_are_checked_and_every_message_signed() {
    let (z, _dir) = signed_primary();
    // dig checks the TSIG of every message and fails the transfer on any error.
    let out = z.dig(&["-y", KEY, "xfr.test.", "AXFR"]);
    assert!(
        out.contains(&format!("XFR size: {} records", RECORDS + 1)),
        "{out}"
    );
    let kdig = Command::new("kdig")
        .arg(format!("@{}", z.addr.ip()))
        .args([
            "-p",
            &z.addr.port().to_string(),
            "-y",
            KEY,
            "xfr.test.",
            "AXFR",
        ])
        .output()
        .expect("kdig runs (apt-get install knot-dnsutils)");
    let kdig = String::from_utf8_lossy(&kdig.stdout);
    assert!(kdig.contains(&format!("{} records", RECORDS + 1)), "{kdig}");
    // Another secret: NOTAUTH with BADSIG; an unknown key: BADKEY (RFC 8945 5.2).
    for (key, error) in [
        ("hmac-sha256:xfr-key:b3RoZXIgc2VjcmV0", "BADSIG"),
        ("hmac-sha256:stranger:b3RoZXIgc2VjcmV0", "BADKEY"),
    ] {
        let out = z.dig(&["-y", key, "xfr.test.", "AXFR"]);
        assert!(
            out.contains(error) && out.contains("Transfer failed"),
            "{out}"
        );
    }
    // Unsigned: refused, the rule wants the key.
    let refused = transfer(z.addr, &query("xfr.test.", RecordType::AXFR, None));
    assert_eq!(refused[0].metadata.response_code, ResponseCode::Refused);
    assert!(z.stderr().contains("transfer refused: TSIG does not check"));
}

#[test]
fn knot_dns_and_nsd_take_the_zone_signed_with_a_key() {
    let (z, _dir) = signed_primary();
    let run = tempfile::tempdir().expect("tempdir");
    let sections = format!(
        "key:\n  - id: xfr-key\n    algorithm: hmac-sha256\n    secret: c2VjcmV0IHNlY3JldCBzZWNyZXQ=\n\
         remote:\n  - id: zonal\n    address: {ip}@{port}\n    key: xfr-key\n\
         zone:\n  - domain: xfr.test\n    storage: {run}\n    file: xfr.test.zone\n    master: zonal\n    zonefile-sync: -1\n    journal-content: none\n",
        ip = z.addr.ip(),
        port = z.addr.port(),
        run = run.path().display(),
    );
    let knot = common::knot::start_with(unique_addr(), run.path(), &sections, "xfr.test.");
    wait_for_copy(knot.addr, &format!("h{HOSTS}.xfr.test."), "Knot DNS");
    let nsd_dir = tempfile::tempdir().expect("tempdir");
    let key = ("xfr-key", "c2VjcmV0IHNlY3JldCBzZWNyZXQ=");
    let (_nsd, nsd_addr) = nsd_secondary(nsd_dir.path(), z.addr, Some(key));
    wait_for_copy(nsd_addr, &format!("h{HOSTS}.xfr.test."), "NSD");
    assert!(z.stderr().contains("signed=true"), "{}", z.stderr());
}

#[test]
fn nsd_secondary_gets_an_update_by_notify_within_seconds() {
    // NSD's refresh timer is an hour (the zone's SOA): only NOTIFY brings changes.
    let dir = zone_dir();
    let key = update_key(dir.path());
    let zonal_addr = unique_addr();
    let nsd_dir = tempfile::tempdir().expect("tempdir");
    let (_nsd, nsd_addr) = nsd_secondary(nsd_dir.path(), zonal_addr, None);
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \".\"\nstate_dir = \"state\"\ntsig_key_files = [\"k.key\"]\n\
             allow_update = [\"k\"]\nallow_transfer = [\"127.0.0.0/8\"]\n\
             [[notify]]\ntargets = [\"{nsd_addr}\"]\n"
        ),
    )
    .expect("config");
    let z = Zonal::start_at(zonal_addr, &["--config", config.to_str().expect("utf-8")]);
    // Told at start, NSD takes the zone at once.
    wait_for_copy(nsd_addr, "h1.xfr.test.", "NSD");
    let (ok, out) = common::nsupdate::nsupdate(
        z.addr,
        Some(&key),
        &["zone xfr.test", "update add new.xfr.test 300 A 192.0.2.77"],
    );
    assert!(ok, "update: {out}");
    wait_for_copy(nsd_addr, "new.xfr.test.", "NSD");
}

/// Updates in a burst, and the pace they are sent at (issue 22: NSD 4.6 fell
/// behind when each of 200 updates a second was a NOTIFY of its own).
const BURST_UPDATES: u32 = 400;
const BURST_UPDATES_PER_SEC: u32 = 200;
/// The serial of the test zone before the burst.
const ZONE_SERIAL: u32 = 7;

/// What a burst of updates on zonal did to NSD as its secondary.
struct Burst {
    /// Updates a second zonal took: each is answered before the next is sent.
    rate: f64,
    /// NOTIFYs zonal sent and NSD acknowledged (zonal's debug log), from the
    /// burst's start until NSD caught up.
    notifies: usize,
    /// From the end of the burst until NSD served the last serial; `None`: not
    /// within the bound.
    caught_up: Option<Duration>,
    /// The burst's names NSD does not serve (once caught up, or at the bound).
    missing: Vec<String>,
    /// What NSD logged.
    nsd_log: String,
}

impl Burst {
    /// Transfers NSD took after the first (the zone at start); it loads them
    /// later, the newest only, when it can.
    fn transfers(&self) -> usize {
        self.nsd_log
            .matches("committed \"received update")
            .count()
            .saturating_sub(1)
    }

    /// Transfers NSD gave up on to start again.
    fn restarts(&self) -> usize {
        self.nsd_log.matches("restarting transfer").count()
    }
}

/// The serial of `xfr.test` at `addr`, if it answers.
fn serial_at(addr: SocketAddr) -> Option<u32> {
    let question = query("xfr.test.", RecordType::SOA, None);
    common::ask(addr, &question, false, Duration::from_millis(200))
        .and_then(|m| soa_serials(std::slice::from_ref(&m)).first().copied())
}

/// zonal as primary of the test zone with NOTIFY to NSD as its secondary and
/// `notify_delay_secs`; once NSD has the zone, [`BURST_UPDATES`] nsupdates of one
/// new name each at [`BURST_UPDATES_PER_SEC`], by one nsupdate process; then up
/// to 15 s for NSD to serve the last serial.
fn burst_to_nsd(notify_delay_secs: u64) -> Burst {
    use std::io::Write;
    let dir = zone_dir();
    let key = update_key(dir.path());
    let zonal_addr = unique_addr();
    let nsd_dir = tempfile::tempdir().expect("tempdir");
    let (_nsd, nsd_addr) = nsd_secondary(nsd_dir.path(), zonal_addr, None);
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \".\"\nstate_dir = \"state\"\ntsig_key_files = [\"k.key\"]\n\
             allow_update = [\"k\"]\nallow_transfer = [\"127.0.0.0/8\"]\n\
             notify_delay_secs = {notify_delay_secs}\nlog = \"info,zonal::transfer::notifier=debug\"\n\
             [[notify]]\ntargets = [\"{nsd_addr}\"]\n"
        ),
    )
    .expect("config");
    let z = Zonal::start_at(zonal_addr, &["--config", config.to_str().expect("utf-8")]);
    wait_for_copy(nsd_addr, "h1.xfr.test.", "NSD");
    let acknowledged = || z.stderr().matches("NOTIFY acknowledged").count();
    let before = acknowledged();

    // One nsupdate reading the blocks as they are written, one every 5 ms; its
    // `send` waits for zonal's answer, so it ends once zonal has taken them all.
    let mut nsupdate = Command::new("nsupdate")
        .args(["-t", "3", "-k"])
        .arg(&key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nsupdate runs (install bind9-dnsutils)");
    let mut script = nsupdate.stdin.take().expect("stdin");
    writeln!(script, "server {} {}", z.addr.ip(), z.addr.port()).expect("script");
    let started = std::time::Instant::now();
    for i in 0..BURST_UPDATES {
        common::sleep_until(
            started,
            Duration::from_secs(u64::from(i)) / BURST_UPDATES_PER_SEC,
        );
        let block = format!(
            "zone xfr.test\nupdate add burst{i}.xfr.test 300 A 10.1.{}.{}\nsend\n",
            i / 256,
            i % 256
        );
        if script.write_all(block.as_bytes()).is_err() {
            break; // nsupdate gave up: its output says why
        }
    }
    drop(script);
    let out = nsupdate.wait_with_output().expect("nsupdate ends");
    let burst = started.elapsed();
    assert!(
        out.status.success(),
        "nsupdate: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let last = ZONE_SERIAL + BURST_UPDATES;
    assert_eq!(serial_at(z.addr), Some(last), "zonal took every update");

    let done = std::time::Instant::now();
    let caught_up =
        common::eventually(CATCH_UP, || serial_at(nsd_addr) == Some(last)).then(|| done.elapsed());
    let missing = (0..BURST_UPDATES)
        .map(|i| format!("burst{i}.xfr.test."))
        .filter(|name| {
            let question = query(name, RecordType::A, None);
            common::ask(nsd_addr, &question, false, Duration::from_millis(200))
                .is_none_or(|m| m.answers.len() != 1)
        })
        .collect();
    Burst {
        rate: f64::from(BURST_UPDATES) / burst.as_secs_f64(),
        notifies: acknowledged() - before,
        caught_up,
        missing,
        nsd_log: std::fs::read_to_string(nsd_dir.path().join("nsd.log")).unwrap_or_default(),
    }
}

/// How long NSD may take to be on the last serial after the burst: under a second
/// on a quiet host; NSD loads each transfer of this zone in about a second on a
/// loaded one, and may restart one.
const CATCH_UP: Duration = Duration::from_secs(30);

#[test]
fn nsd_keeps_up_with_200_updates_a_second() {
    let burst = burst_to_nsd(1);
    eprintln!(
        "notify_delay_secs = 1: {BURST_UPDATES} updates at {:.0}/s: {} NOTIFYs, {} transfers, \
         NSD on the last serial {:?} after the last update",
        burst.rate,
        burst.notifies,
        burst.transfers(),
        burst.caught_up
    );
    assert!(
        burst.caught_up.is_some(),
        "NSD not on serial {} within {CATCH_UP:?}:\n{}",
        ZONE_SERIAL + BURST_UPDATES,
        burst.nsd_log
    );
    assert!(burst.missing.is_empty(), "NSD lacks {:?}", burst.missing);
    // Paced at 200 a second; a loaded host takes them more slowly (down to ~100
    // a second with other suites beside), still dozens of updates to a NOTIFY.
    assert!(burst.rate > 50.0, "{:.0} updates/s", burst.rate);
    // Coalesced: one NOTIFY a second of the burst and one at its end, not one per update.
    let seconds = f64::from(BURST_UPDATES) / burst.rate;
    assert!(
        burst.notifies >= 1 && burst.notifies as f64 <= seconds.ceil() + 2.0,
        "{} NOTIFYs in {seconds:.1} s",
        burst.notifies
    );
    // NSD gives up a transfer ("soa serial N update failed, restarting transfer")
    // when a newer one is committed while it still loads the older. Told once a
    // second it does not, but on a loaded host, where its load of this zone takes
    // a second itself, it may once or twice — and takes the newer serial.
    assert!(burst.restarts() <= 2, "{}", burst.nsd_log);
}

/// The contrast, for the README's figures: with `notify_delay_secs = 0` each
/// update is a NOTIFY of its own. What NSD makes of that varies from run to run,
/// so it is reported, not asserted. Run by hand: its hundreds of transfers for up
/// to 15 s load the host enough to slow the other tests' bursts.
#[test]
#[ignore = "figures for the README: cargo nextest run --test transfer --run-ignored only"]
fn a_notify_per_update_is_reported() {
    let burst = burst_to_nsd(0);
    eprintln!(
        "notify_delay_secs = 0: {BURST_UPDATES} updates at {:.0}/s: {} NOTIFYs, {} transfers, \
         {} restarted, NSD on the last serial {:?} after the last update, {} names missing",
        burst.rate,
        burst.notifies,
        burst.transfers(),
        burst.restarts(),
        burst.caught_up,
        burst.missing.len(),
    );
    assert!(burst.notifies > 8, "{} NOTIFYs", burst.notifies);
}
