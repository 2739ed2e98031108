//! zonal as a secondary: zones taken from Knot DNS, BIND and zonal primaries with a
//! TSIG key, kept fresh by NOTIFY + IXFR after an `nsupdate` on the primary (and by
//! the SOA refresh timer from a zonal primary, which sends no NOTIFY), a wrong key
//! refused and counted while the old copy keeps serving, a zone that expires when
//! its primary is gone, a restart that serves the saved copy at once, and broken
//! transfers from a made-up primary (cut short, a zone that fails the load checks,
//! serials that do not match) that leave the copy served as it was.

mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{metrics_addr, query, scrape, unique_addr, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, CNAME, NS, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

const SECRET: &str = "c2VjcmV0IHNlY3JldCBzZWNyZXQ=";
const WRONG_SECRET: &str = "b3RoZXIgc2VjcmV0";

/// The zone every primary serves, with `timers` (refresh retry expire).
fn zone_text(origin: &str, timers: &str) -> String {
    format!(
        "$ORIGIN {origin}\n$TTL 60\n@ SOA ns hm 1 {timers} 60\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.80\n"
    )
}

/// The Knot DNS primary of `sec.test`: transfers and updates with the key, NOTIFY
/// (signed) to `secondary`, IXFR from its journal.
fn knot_primary(
    addr: SocketAddr,
    run: &Path,
    secondary: SocketAddr,
    timers: &str,
) -> common::knot::Knot {
    std::fs::write(run.join("sec.test.zone"), zone_text("sec.test.", timers)).expect("zone");
    let sections = format!(
        "key:\n  - id: xfr-key\n    algorithm: hmac-sha256\n    secret: {SECRET}\n\
         remote:\n  - id: zonal\n    address: {sip}@{sport}\n    key: xfr-key\n    via: {ip}\n\
         acl:\n  - id: xfr\n    key: xfr-key\n    action: [transfer, update]\n\
         zone:\n  - domain: sec.test\n    storage: {run}\n    file: sec.test.zone\n    notify: zonal\n    acl: xfr\n    zonefile-sync: -1\n",
        sip = secondary.ip(),
        sport = secondary.port(),
        ip = addr.ip(),
        run = run.display(),
    );
    common::knot::start_with(addr, run, &sections, "sec.test.")
}

/// The config of a zonal secondary of `zone` from `primary` with `secret`, its
/// state in `state`; written to `dir`, returned as the arguments to start with.
fn secondary_args(
    dir: &Path,
    state: &Path,
    zone: &str,
    primaries: &[SocketAddr],
    secret: &str,
) -> Vec<String> {
    let config = dir.join("secondary.toml");
    let primaries = primaries
        .iter()
        .map(|p| format!("\"{p}\""))
        .collect::<Vec<_>>()
        .join(", ");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{state}\"\nallow_transfer = [\"127.0.0.0/8\"]\n\
             [[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{secret}\"\n\
             [[zone]]\nname = \"{zone}\"\nprimaries = [{primaries}]\nkey = \"xfr-key\"\n",
            state = state.display(),
        ),
    )
    .expect("config");
    vec!["--config".into(), config.display().to_string()]
}

/// Starts zonal at `addr` with `args` and the metrics endpoint beside it.
fn start_secondary(addr: SocketAddr, args: &[String]) -> Zonal {
    let metrics = metrics_addr(addr).to_string();
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend(["--metrics", &metrics]);
    Zonal::start_at(addr, &all)
}

/// Asks `server` for `name`/`rtype` until `done` holds, for at most `limit`;
/// the last reply.
fn poll(
    server: &Zonal,
    name: &str,
    rtype: RecordType,
    limit: Duration,
    done: impl Fn(&Message) -> bool,
) -> Message {
    let question = query(name, rtype, None);
    let mut last = None;
    let arrived = common::eventually(limit, || {
        last = common::ask(server.addr, &question, false, Duration::from_millis(300));
        last.as_ref().is_some_and(&done)
    });
    if arrived {
        return last.expect("the reply that was as expected");
    }
    panic!(
        "{name} {rtype} never as expected within {limit:?}; last reply: {last:?}\n{}",
        server.stderr()
    );
}

/// Whether the reply answers with `address`, authoritatively.
fn has_address(address: &'static str) -> impl Fn(&Message) -> bool {
    move |m: &Message| {
        m.metadata.authoritative && m.answers.iter().any(|r| r.data.to_string() == address)
    }
}

/// Adds `record` to `zone` on `server` with nsupdate, signed with the key made of
/// `secret`; whether it succeeded and what nsupdate printed.
fn add_record(server: SocketAddr, secret: &str, zone: &str, record: &str) -> (bool, String) {
    let key = vec!["-y".to_owned(), format!("hmac-sha256:xfr-key:{secret}")];
    let zone_line = format!("zone {zone}");
    let add = format!("update add {record}");
    common::nsupdate(server, &key, &[&zone_line, &add])
}

/// Adds a record to `zone` on `primary` and waits until `secondary` answers it,
/// having taken the change by IXFR.
fn update_reaches_secondary(primary: SocketAddr, secondary: &Zonal, zone: &str) {
    let name = format!("new.{zone}");
    let (ok, out) = add_record(primary, SECRET, zone, &format!("{name} 60 A 192.0.2.77"));
    assert!(ok, "{out}");
    wait_for(secondary, &name, "192.0.2.77");
    assert_eq!(
        transfers_in(secondary, zone, "ixfr"),
        1.0,
        "{}",
        secondary.stderr()
    );
}

/// Waits (at most 10 s) until `server` answers `name` A with `address`.
fn wait_for(server: &Zonal, name: &str, address: &'static str) {
    poll(
        server,
        name,
        RecordType::A,
        Duration::from_secs(10),
        has_address(address),
    );
}

/// A Knot DNS primary of `sec.test` with `timers` and a zonal secondary of it that
/// has taken the zone; the secondary's arguments, to start it again. Bind every
/// folder when taking it apart: a dropped TempDir deletes its folder.
struct KnotAndZonal {
    /// Knot's files and the secondary's config.
    run: tempfile::TempDir,
    /// The secondary's state folder.
    state: tempfile::TempDir,
    /// The primary.
    knot: common::knot::Knot,
    /// The secondary.
    zonal: Zonal,
    /// The secondary's arguments.
    args: Vec<String>,
}

fn knot_and_zonal(timers: &str) -> KnotAndZonal {
    let run = tempfile::tempdir().expect("tempdir");
    let state = tempfile::tempdir().expect("tempdir");
    let secondary_addr = unique_addr();
    let knot = knot_primary(unique_addr(), run.path(), secondary_addr, timers);
    let args = secondary_args(run.path(), state.path(), "sec.test.", &[knot.addr], SECRET);
    let zonal = start_secondary(secondary_addr, &args);
    wait_for(&zonal, "www.sec.test.", "192.0.2.80");
    KnotAndZonal {
        run,
        state,
        knot,
        zonal,
        args,
    }
}

/// The value of the transfer counter for `zone` and `result`.
fn transfers_in(secondary: &Zonal, zone: &str, result: &str) -> f64 {
    let samples = scrape(metrics_addr(secondary.addr));
    samples
        .get(&format!(
            "zonal_transfers_in_total{{zone=\"{zone}\",result=\"{result}\"}}"
        ))
        .copied()
        .unwrap_or(0.0)
}

#[test]
fn knot_dns_primary_notify_and_ixfr_reach_zonal() {
    // Long timers: only a NOTIFY brings the change in a few seconds.
    let KnotAndZonal {
        run: _run,
        state: _state,
        knot,
        zonal,
        args: _,
    } = knot_and_zonal("3600 600 86400");
    assert_eq!(transfers_in(&zonal, "sec.test.", "axfr"), 1.0);

    update_reaches_secondary(knot.addr, &zonal, "sec.test.");
    // zonal passes the change on to its own secondaries by IXFR, from its journal:
    // old SOA, new SOA, the record added, and the new SOA around them.
    let out = zonal.dig(&["+tcp", "sec.test.", "IXFR=1"]);
    assert!(
        out.contains("new.sec.test.") && out.contains("XFR size: 5 records"),
        "{out}"
    );
    assert!(
        zonal.stderr().contains("notify: refreshing"),
        "{}",
        zonal.stderr()
    );

    // A NOTIFY from elsewhere than a primary is refused; one for a zone we do not
    // take, NOTAUTH (RFC 1996 3.10).
    for (zone, code) in [
        ("sec.test.", ResponseCode::Refused),
        ("other.test.", ResponseCode::NotAuth),
    ] {
        let mut notify = query(zone, RecordType::SOA, None);
        notify.metadata.op_code = hickory_proto::op::OpCode::Notify;
        assert_eq!(zonal.udp(&notify).metadata.response_code, code, "{zone}");
    }
    // The secondary takes no update, even signed with a key it knows.
    let (ok, out) = add_record(
        zonal.addr,
        SECRET,
        "sec.test.",
        "other.sec.test. 60 A 192.0.2.78",
    );
    assert!(!ok && out.contains("REFUSED"), "{out}");
}

#[test]
fn bind_primary_notify_and_ixfr_reach_zonal() {
    let run = tempfile::tempdir().expect("tempdir");
    let state = tempfile::tempdir().expect("tempdir");
    let secondary_addr = unique_addr();
    std::fs::write(
        run.path().join("bind.test.zone"),
        zone_text("bind.test.", "3600 600 86400"),
    )
    .expect("zone");
    let sections = format!(
        "key \"xfr-key\" {{ algorithm hmac-sha256; secret \"{SECRET}\"; }};\n\
         zone \"bind.test\" {{ type primary; file \"{run}/bind.test.zone\"; allow-transfer {{ key xfr-key; }};\n\
         \x20 allow-update {{ key xfr-key; }}; notify explicit; notify-delay 0; also-notify {{ {ip} port {port} key xfr-key; }}; ixfr-from-differences yes; }};\n",
        run = run.path().display(),
        ip = secondary_addr.ip(),
        port = secondary_addr.port(),
    );
    let bind = common::bind::start(run.path(), "", &sections, "bind.test.");
    // The first primary listed is not there: the second is asked next.
    let nobody = unique_addr();
    let args = secondary_args(
        run.path(),
        state.path(),
        "bind.test.",
        &[nobody, bind.addr],
        SECRET,
    );
    let zonal = start_secondary(secondary_addr, &args);
    wait_for(&zonal, "www.bind.test.", "192.0.2.80");

    update_reaches_secondary(bind.addr, &zonal, "bind.test.");
    assert!(transfers_in(&zonal, "bind.test.", "unreachable") >= 1.0);
    assert!(
        zonal.stderr().contains(&format!("primary={nobody}")),
        "{}",
        zonal.stderr()
    );
}

#[test]
fn zonal_primary_changes_reach_zonal_secondary_on_refresh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = tempfile::tempdir().expect("tempdir");
    let primary_state = dir.path().join("primary-state");
    std::fs::write(
        dir.path().join("zz.test.zone"),
        zone_text("zz.test.", "2 1 60"),
    )
    .expect("zone");
    let config = dir.path().join("primary.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{state}\"\nallow_update = [\"xfr-key\"]\n\
             [[zone]]\nname = \"zz.test\"\nfile = \"{dir}/zz.test.zone\"\n\
             [[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{SECRET}\"\n\
             [[transfer]]\nkey = \"xfr-key\"\n",
            state = primary_state.display(),
            dir = dir.path().display(),
        ),
    )
    .expect("config");
    let primary = Zonal::start(&["--config", config.to_str().expect("utf-8")]);
    let args = secondary_args(
        dir.path(),
        state.path(),
        "zz.test.",
        &[primary.addr],
        SECRET,
    );
    let zonal = start_secondary(unique_addr(), &args);
    wait_for(&zonal, "www.zz.test.", "192.0.2.80");

    // No [[notify]] on the primary here: the refresh timer (2 s) finds the new serial.
    update_reaches_secondary(primary.addr, &zonal, "zz.test.");
    assert!(
        primary.stderr().contains("signed=true"),
        "{}",
        primary.stderr()
    );
}

#[test]
fn a_wrong_key_is_refused_and_the_saved_copy_keeps_serving() {
    let KnotAndZonal {
        run,
        state,
        knot,
        mut zonal,
        args: _,
    } = knot_and_zonal("2 1 86400");
    let secondary_addr = zonal.addr;
    zonal.terminate();
    drop(zonal);

    // The same state, another secret: the saved copy is served at once, and every
    // refresh (each 1 s retry) fails on the signature.
    let args = secondary_args(
        run.path(),
        state.path(),
        "sec.test.",
        &[knot.addr],
        WRONG_SECRET,
    );
    let zonal = start_secondary(secondary_addr, &args);
    let reply = zonal.query("www.sec.test.", RecordType::A);
    assert!(has_address("192.0.2.80")(&reply), "{reply:?}");
    assert!(
        common::eventually(Duration::from_secs(10), || transfers_in(
            &zonal,
            "sec.test.",
            "tsig"
        ) >= 2.0),
        "no TSIG failure counted:\n{}",
        zonal.stderr()
    );
    assert!(zonal.stderr().contains("TSIG"), "{}", zonal.stderr());
    let reply = zonal.query("www.sec.test.", RecordType::A);
    assert!(has_address("192.0.2.80")(&reply), "{reply:?}");
}

#[test]
fn a_zone_expires_without_its_primary_and_a_restart_serves_the_saved_copy() {
    let KnotAndZonal {
        run: _run,
        state: _state,
        knot,
        mut zonal,
        args,
    } = knot_and_zonal("2 1 6");
    let secondary_addr = zonal.addr;

    // The primary gone, the copy is served until the expire (6 s) has passed since the
    // last contact, then SERVFAIL.
    drop(knot);
    let reply = zonal.query("www.sec.test.", RecordType::A);
    assert!(has_address("192.0.2.80")(&reply), "{reply:?}");
    poll(
        &zonal,
        "www.sec.test.",
        RecordType::A,
        Duration::from_secs(15),
        |m| m.metadata.response_code == ResponseCode::ServFail,
    );
    assert!(zonal.stderr().contains("secondary zone expired"));
    let samples = scrape(metrics_addr(zonal.addr));
    assert_eq!(
        samples.get("zonal_zone_expired{zone=\"sec.test.\"}"),
        Some(&1.0)
    );
    zonal.terminate();
    drop(zonal);

    // Restarted with the primary still down: the saved copy is past its expire too.
    let zonal = start_secondary(secondary_addr, &args);
    let reply = zonal.query("www.sec.test.", RecordType::A);
    assert_eq!(reply.metadata.response_code, ResponseCode::ServFail);
    drop(zonal);

    // A restart within the expire serves the saved copy at once, primary down.
    let KnotAndZonal {
        run: _run,
        state: _state,
        knot,
        mut zonal,
        args,
    } = knot_and_zonal("2 1 86400");
    let secondary_addr = zonal.addr;
    zonal.terminate();
    drop(zonal);
    drop(knot);
    let zonal = start_secondary(secondary_addr, &args);
    let reply = zonal.query("www.sec.test.", RecordType::A);
    assert!(
        has_address("192.0.2.80")(&reply),
        "{reply:?}\n{}",
        zonal.stderr()
    );
    assert!(
        zonal.stderr().contains("serving the copy kept"),
        "{}",
        zonal.stderr()
    );
}

/// A primary made up by the test: SOA queries over UDP are answered with serial
/// 2, and every transfer over TCP with the records `stream` in one message, after
/// which the connection is closed. Stopped when dropped.
struct FakePrimary {
    /// Where it answers, UDP and TCP.
    addr: SocketAddr,
    /// Set when dropped: its threads end.
    stop: Arc<AtomicBool>,
    /// The UDP and TCP threads.
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Drop for FakePrimary {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// A reply to `request` with `answers`.
fn fake_reply(request: &[u8], answers: &[Record]) -> Vec<u8> {
    let request = Message::from_vec(request).expect("a request");
    let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
    reply.metadata.authoritative = true;
    reply.queries = request.queries.clone();
    reply.answers = answers.to_vec();
    reply.to_vec().expect("encodes")
}

fn fake_primary(stream: Vec<Record>) -> FakePrimary {
    let addr = unique_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let udp = std::net::UdpSocket::bind(addr).expect("udp");
    udp.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let tcp = std::net::TcpListener::bind(addr).expect("tcp");
    tcp.set_nonblocking(true).expect("nonblocking");
    let soa = vec![soa_record(2)];
    let udp_stop = stop.clone();
    let udp_thread = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !udp_stop.load(Ordering::Relaxed) {
            if let Ok((len, from)) = udp.recv_from(&mut buf) {
                let _ = udp.send_to(&fake_reply(&buf[..len], &soa), from);
            }
        }
    });
    let tcp_stop = stop.clone();
    let tcp_thread = std::thread::spawn(move || {
        while !tcp_stop.load(Ordering::Relaxed) {
            let Ok((mut conn, _)) = tcp.accept() else {
                std::thread::sleep(Duration::from_millis(20));
                continue;
            };
            let _ = conn.set_nonblocking(false);
            let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
            if let Some(request) = common::read_framed(&mut conn) {
                common::write_framed(&mut conn, &fake_reply(&request, &stream));
            }
        }
    });
    FakePrimary {
        addr,
        stop,
        threads: vec![udp_thread, tcp_thread],
    }
}

/// The record `name` with `data`, TTL 60.
fn record(name: &str, data: RData) -> Record {
    Record::from_rdata(Name::from_ascii(name).expect("name"), 60, data)
}

fn soa_record(serial: u32) -> Record {
    let name = |n: &str| Name::from_ascii(n).expect("name");
    record(
        "fake.test.",
        RData::SOA(SOA::new(
            name("ns.fake.test."),
            name("hm.fake.test."),
            serial,
            2,
            1,
            60,
            60,
        )),
    )
}

#[test]
fn a_broken_transfer_keeps_the_copy_served() {
    let ns = || {
        record(
            "fake.test.",
            RData::NS(NS(Name::from_ascii("ns.fake.test.").expect("name"))),
        )
    };
    let glue = || record("ns.fake.test.", RData::A(A::new(192, 0, 2, 1)));
    let cases = [
        // Cut short: no closing SOA, then the connection closes.
        ("malformed", vec![soa_record(2), ns(), glue()]),
        // A CNAME beside other data: the zone fails the load checks.
        (
            "bad_zone",
            vec![
                soa_record(2),
                ns(),
                glue(),
                record(
                    "ns.fake.test.",
                    RData::CNAME(CNAME(Name::from_ascii("x.fake.test.").expect("name"))),
                ),
                soa_record(2),
            ],
        ),
        // A record whose RDATA does not read as its type (a 5-byte A), and a meta
        // type: a saved copy holding them would not load.
        (
            "malformed",
            vec![
                soa_record(2),
                ns(),
                glue(),
                record(
                    "bad.fake.test.",
                    RData::Unknown {
                        code: RecordType::A,
                        rdata: hickory_proto::rr::rdata::NULL::with(vec![1, 2, 3, 4, 5]),
                    },
                ),
                soa_record(2),
            ],
        ),
        (
            "malformed",
            vec![
                soa_record(2),
                ns(),
                glue(),
                record(
                    "meta.fake.test.",
                    RData::Unknown {
                        code: RecordType::Unknown(200),
                        rdata: hickory_proto::rr::rdata::NULL::with(vec![1]),
                    },
                ),
                soa_record(2),
            ],
        ),
        // Closed by the SOA of another serial.
        (
            "serial_mismatch",
            vec![soa_record(2), ns(), glue(), soa_record(3)],
        ),
    ];
    for (result, stream) in cases {
        let primary = fake_primary(stream);
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join("fake.test.zone"),
            zone_text("fake.test.", "2 1 60"),
        )
        .expect("zone");
        let config = dir.path().join("zonal.toml");
        std::fs::write(
            &config,
            format!(
                "state_dir = \"{d}/state\"\n[[zone]]\nname = \"fake.test\"\nfile = \"{d}/fake.test.zone\"\nprimaries = [\"{p}\"]\n",
                d = dir.path().display(),
                p = primary.addr,
            ),
        )
        .expect("config");
        let zonal = start_secondary(
            unique_addr(),
            &["--config".into(), config.display().to_string()],
        );
        // IXFR, then AXFR: both broken, each counted.
        assert!(
            common::eventually(Duration::from_secs(10), || transfers_in(
                &zonal,
                "fake.test.",
                result
            ) >= 2.0),
            "no {result} failure counted:\n{}",
            zonal.stderr()
        );
        wait_for(&zonal, "www.fake.test.", "192.0.2.80");
        let soa = zonal.query("fake.test.", RecordType::SOA);
        assert!(
            matches!(&soa.answers[0].data, RData::SOA(s) if s.serial == 1),
            "{soa:?}"
        );
        assert!(
            zonal
                .stderr()
                .contains(&format!("primary={}", primary.addr)),
            "{}",
            zonal.stderr()
        );
    }
}

/// A zonal secondary tells its own secondaries of a new copy only once the IXFR
/// it took is in its journal: a secondary that asks at once (the test, on the
/// NOTIFY) gets the difference, not the whole zone.
#[test]
fn a_chained_secondary_asking_at_once_gets_the_difference() {
    let dir = tempfile::tempdir().expect("tempdir");
    let state = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("ch.test.zone"),
        zone_text("ch.test.", "3600 600 86400"),
    )
    .expect("zone");
    // The secondary of the secondary: a UDP socket that is told by NOTIFY.
    let told = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    told.set_read_timeout(Some(Duration::from_millis(200)))
        .expect("timeout");
    let secondary_addr = unique_addr();
    let primary_config = dir.path().join("primary.toml");
    std::fs::write(
        &primary_config,
        format!(
            "state_dir = \"{state}\"\nallow_update = [\"xfr-key\"]\n\
             [[zone]]\nname = \"ch.test\"\nfile = \"{dir}/ch.test.zone\"\n\
             [[key]]\nname = \"xfr-key\"\nalgorithm = \"hmac-sha256\"\nsecret = \"{SECRET}\"\n\
             [[transfer]]\nkey = \"xfr-key\"\n\
             [[notify]]\ntargets = [\"{secondary_addr}\"]\nkey = \"xfr-key\"\n",
            state = dir.path().join("primary-state").display(),
            dir = dir.path().display(),
        ),
    )
    .expect("config");
    let primary = Zonal::start(&["--config", primary_config.to_str().expect("utf-8")]);
    let mut args = secondary_args(
        dir.path(),
        state.path(),
        "ch.test.",
        &[primary.addr],
        SECRET,
    );
    let config = std::path::PathBuf::from(&args[1]);
    let mut text = std::fs::read_to_string(&config).expect("config");
    text.push_str(&format!(
        "[[notify]]\ntargets = [\"{}\"]\n",
        told.local_addr().expect("addr")
    ));
    std::fs::write(&config, text).expect("config");
    args[1] = config.display().to_string();
    let secondary = start_secondary(secondary_addr, &args);
    wait_for(&secondary, "www.ch.test.", "192.0.2.80");

    let (ok, out) = add_record(
        primary.addr,
        SECRET,
        "ch.test.",
        "new.ch.test. 60 A 192.0.2.77",
    );
    assert!(ok, "{out}");
    // On each NOTIFY, IXFR from serial 1 at once; the one that finds serial 2 must
    // be the difference (old SOA second, RFC 1995 4), not the zone (NS second).
    let mut ixfr = query("ch.test.", RecordType::IXFR, None);
    ixfr.authorities.push(Record::from_rdata(
        Name::from_ascii("ch.test.").expect("name"),
        0,
        RData::SOA(SOA::new(
            Name::from_ascii("ns.ch.test.").expect("name"),
            Name::from_ascii("hm.ch.test.").expect("name"),
            1,
            3600,
            600,
            86400,
            60,
        )),
    ));
    let mut second_record = None;
    let found = common::eventually(Duration::from_secs(10), || {
        let mut buf = [0u8; 512];
        if told.recv_from(&mut buf).is_err() {
            return false;
        }
        let Some(reply) = common::ask(secondary.addr, &ixfr, true, Duration::from_secs(3)) else {
            return false;
        };
        let serials: Vec<u32> = reply
            .answers
            .iter()
            .filter_map(|r| match &r.data {
                RData::SOA(soa) => Some(soa.serial),
                _ => None,
            })
            .collect();
        if serials.first() != Some(&2) {
            return false; // a NOTIFY from before the change
        }
        second_record = reply
            .answers
            .get(1)
            .map(|r| format!("{} {:?}", r.record_type(), r.data));
        true
    });
    assert!(found, "no NOTIFY for serial 2:\n{}", secondary.stderr());
    let second = second_record.unwrap_or_default();
    assert!(
        second.starts_with("SOA") && second.contains("serial: 1"),
        "an incremental transfer: the old SOA second, not {second}"
    );
}

#[test]
fn a_secondary_zone_not_copied_yet_refuses_updates() {
    // The primary is a port nobody listens on: the zone is configured but has no
    // copy, and an UPDATE to it is still refused as to a secondary, not NOTAUTH.
    let dir = tempfile::tempdir().expect("tempdir");
    let state = tempfile::tempdir().expect("tempdir");
    let nobody = unique_addr();
    let args = secondary_args(dir.path(), state.path(), "wait.test.", &[nobody], SECRET);
    let zonal = start_secondary(unique_addr(), &args);
    let (ok, out) = add_record(
        zonal.addr,
        SECRET,
        "wait.test.",
        "a.wait.test. 60 A 192.0.2.1",
    );
    assert!(!ok && out.contains("REFUSED"), "{out}\n{}", zonal.stderr());
    assert!(
        zonal.stderr().contains("update refused: a secondary zone"),
        "{}",
        zonal.stderr()
    );
}

#[test]
fn transfer_source_lets_a_primary_allow_the_secondary_by_address() {
    // The primary allows transfers to 127.0.0.77 only, unsigned.
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("src.test.zone"),
        zone_text("src.test.", "3600 600 86400"),
    )
    .expect("zone");
    let config = dir.path().join("primary.toml");
    std::fs::write(
        &config,
        format!(
            "allow_transfer = [\"127.0.0.77/32\"]\n[[zone]]\nname = \"src.test\"\nfile = \"{}/src.test.zone\"\n",
            dir.path().display()
        ),
    )
    .expect("config");
    let primary = Zonal::start(&["--config", config.to_str().expect("utf-8")]);
    let secondary = |name: &str, source: &str| {
        let state = dir.path().join(format!("{name}-state"));
        let config = dir.path().join(format!("{name}.toml"));
        std::fs::write(
            &config,
            format!(
                "state_dir = \"{}\"\n{source}[[zone]]\nname = \"src.test\"\nprimaries = [\"{}\"]\n",
                state.display(),
                primary.addr
            ),
        )
        .expect("config");
        start_secondary(
            unique_addr(),
            &["--config".into(), config.display().to_string()],
        )
    };
    // From 127.0.0.77: taken.
    let allowed = secondary("allowed", "transfer_source = [\"127.0.0.77\"]\n");
    wait_for(&allowed, "www.src.test.", "192.0.2.80");
    assert_eq!(transfers_in(&allowed, "src.test.", "axfr"), 1.0);
    // From wherever the kernel picks (127.0.0.1 toward loopback): refused.
    let other = secondary("other", "");
    assert!(
        common::eventually(Duration::from_secs(5), || {
            transfers_in(&other, "src.test.", "refused") >= 1.0
                || other.stderr().contains("REFUSED")
        }),
        "{}",
        other.stderr()
    );
    assert_eq!(transfers_in(&other, "src.test.", "axfr"), 0.0);
    assert!(
        primary.stderr().contains("127.0.0.77"),
        "{}",
        primary.stderr()
    );
}
