//! The bounds of an incoming transfer, against the real binary as a secondary of a
//! primary made up here (UDP for the SOA query, TCP for the transfer, on a
//! loopback address of its own): a transfer past the zone's record or byte limit,
//! one that stalls, and one that trickles past its deadline are each abandoned,
//! logged with the primary and the reason, and counted in
//! `zonal_transfers_in_total{result="too_large"|"timeout"}`, while the copy served
//! before (from the zone's file, serial 1) stays served, nothing of the new one in
//! it.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{metrics_addr, scrape, unique_addr, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{A, NS, SOA};
use hickory_proto::rr::{Name, RData, Record, RecordType};

/// What the made-up primary does once it has read a transfer request.
#[derive(Debug, Clone, Copy)]
enum Behaviour {
    /// Streams a whole, valid zone of this many address records (100 a message).
    Stream(u32),
    /// Sends the opening SOA, then nothing more, the connection held open.
    Stall,
    /// Sends the first message one byte every 100 ms.
    Trickle,
}

/// A primary made up by the test: SOA queries over UDP are answered with serial
/// 2; a transfer over TCP as its [`Behaviour`] says. Stopped when dropped.
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

fn name(text: &str) -> Name {
    Name::from_ascii(text).expect("name")
}

fn soa(serial: u32) -> Record {
    let data = SOA::new(
        name("ns.fake.test."),
        name("hm.fake.test."),
        serial,
        2,
        1,
        60,
        60,
    );
    Record::from_rdata(name("fake.test."), 60, RData::SOA(data))
}

/// The records of serial 2 of the zone, `hosts` address records among them, in
/// AXFR order (the SOA first and last).
fn zone_records(hosts: u32) -> Vec<Record> {
    let mut records = vec![
        soa(2),
        Record::from_rdata(name("fake.test."), 60, RData::NS(NS(name("ns.fake.test.")))),
        Record::from_rdata(name("ns.fake.test."), 60, RData::A(A::new(192, 0, 2, 1))),
    ];
    for n in 0..hosts {
        let host = name(&format!("h{n}.fake.test."));
        let address = A::new(10, (n >> 16) as u8, (n >> 8) as u8, n as u8);
        records.push(Record::from_rdata(host, 60, RData::A(address)));
    }
    records.push(soa(2));
    records
}

/// A reply to `request` with `answers`, its question copied.
fn reply(request: &Message, answers: &[Record]) -> Vec<u8> {
    let mut reply = Message::response(request.metadata.id, request.metadata.op_code);
    reply.metadata.authoritative = true;
    reply.queries = request.queries.clone();
    reply.answers = answers.to_vec();
    reply.to_vec().expect("encodes")
}

/// Answers one transfer connection as `behaviour` says, until the secondary
/// closes it or `stop` is set.
fn serve_transfer(mut conn: TcpStream, behaviour: Behaviour, stop: &AtomicBool) {
    let _ = conn.set_nonblocking(false);
    let _ = conn.set_read_timeout(Some(Duration::from_secs(2)));
    let _ = conn.set_write_timeout(Some(Duration::from_secs(2)));
    let Some(request) = common::read_framed(&mut conn) else {
        return;
    };
    let Ok(request) = Message::from_vec(&request) else {
        return;
    };
    let framed = |answers: &[Record]| {
        let message = reply(&request, answers);
        let mut bytes = (message.len() as u16).to_be_bytes().to_vec();
        bytes.extend_from_slice(&message);
        bytes
    };
    match behaviour {
        Behaviour::Stream(hosts) => {
            for chunk in zone_records(hosts).chunks(100) {
                if stop.load(Ordering::Relaxed) || conn.write_all(&framed(chunk)).is_err() {
                    return;
                }
            }
        }
        Behaviour::Stall => {
            if conn.write_all(&framed(&[soa(2)])).is_err() {
                return;
            }
        }
        Behaviour::Trickle => {
            for byte in framed(&zone_records(10)) {
                if stop.load(Ordering::Relaxed) || conn.write_all(&[byte]).is_err() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }
    // Held open until the secondary closes it (or the test ends).
    let _ = conn.set_read_timeout(Some(Duration::from_millis(50)));
    let mut buf = [0u8; 512];
    while !stop.load(Ordering::Relaxed) {
        match conn.read(&mut buf) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) => {}
            Err(_) => return,
        }
    }
}

fn fake_primary(behaviour: Behaviour) -> FakePrimary {
    let addr = unique_addr();
    let stop = Arc::new(AtomicBool::new(false));
    let udp = std::net::UdpSocket::bind(addr).expect("udp");
    udp.set_read_timeout(Some(Duration::from_millis(50)))
        .expect("timeout");
    let tcp = std::net::TcpListener::bind(addr).expect("tcp");
    tcp.set_nonblocking(true).expect("nonblocking");
    let udp_stop = stop.clone();
    let udp_thread = std::thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !udp_stop.load(Ordering::Relaxed) {
            if let Ok((len, from)) = udp.recv_from(&mut buf) {
                if let Ok(request) = Message::from_vec(&buf[..len]) {
                    let _ = udp.send_to(&reply(&request, &[soa(2)]), from);
                }
            }
        }
    });
    let tcp_stop = stop.clone();
    let tcp_thread = std::thread::spawn(move || {
        while !tcp_stop.load(Ordering::Relaxed) {
            match tcp.accept() {
                Ok((conn, _)) => serve_transfer(conn, behaviour, &tcp_stop),
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    });
    FakePrimary {
        addr,
        stop,
        threads: vec![udp_thread, tcp_thread],
    }
}

/// zonal as a secondary of `fake.test` from `primary`, its copy at first from a
/// zone file of serial 1 (retry 1 s), with `limits` (TOML lines, in the zone's
/// table); the metrics endpoint beside it. The folder holds its files.
fn secondary(primary: SocketAddr, global: &str, limits: &str) -> (Zonal, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("fake.test.zone"),
        "$ORIGIN fake.test.\n$TTL 60\n@ SOA ns hm 1 2 1 60 60\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.80\n",
    )
    .expect("zone");
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{d}/state\"\n{global}\n[[zone]]\nname = \"fake.test\"\nfile = \"{d}/fake.test.zone\"\nprimaries = [\"{primary}\"]\n{limits}\n",
            d = dir.path().display(),
        ),
    )
    .expect("config");
    let addr = unique_addr();
    let metrics = metrics_addr(addr).to_string();
    let config = config.display().to_string();
    let zonal = Zonal::start_at(addr, &["--config", &config, "--metrics", &metrics]);
    (zonal, dir)
}

/// `zonal_transfers_in_total` of `fake.test.` for `result`.
fn failures(zonal: &Zonal, result: &str) -> f64 {
    scrape(metrics_addr(zonal.addr))
        .get(&format!(
            "zonal_transfers_in_total{{zone=\"fake.test.\",result=\"{result}\"}}"
        ))
        .copied()
        .unwrap_or(0.0)
}

/// Waits until a failure of `result` is counted and logged with `reason` and the
/// primary, then checks that the copy of serial 1 is what is served.
fn failure_keeps_the_old_copy(zonal: &Zonal, primary: SocketAddr, result: &str, reason: &str) {
    assert!(
        common::eventually(Duration::from_secs(20), || failures(zonal, result) >= 1.0),
        "no {result} failure counted:\n{}",
        zonal.stderr()
    );
    let log = zonal.stderr();
    assert!(
        log.lines()
            .any(|l| l.contains(reason) && l.contains(&format!("primary={primary}"))),
        "the log says why ({reason}) and from whom:\n{log}"
    );
    assert_eq!(failures(zonal, "axfr"), 0.0, "{log}");
    let soa = zonal.query("fake.test.", RecordType::SOA);
    assert!(
        matches!(soa.answers.first().map(|r| &r.data), Some(RData::SOA(s)) if s.serial == 1),
        "the old copy is served: {soa:?}\n{log}"
    );
    let www = zonal.query("www.fake.test.", RecordType::A);
    assert_eq!(common::answers(&www), ["www.fake.test. A 192.0.2.80"]);
    let new = zonal.query("h1.fake.test.", RecordType::A);
    assert_eq!(
        new.metadata.response_code,
        ResponseCode::NXDomain,
        "{new:?}"
    );
}

#[test]
fn a_transfer_past_the_record_limit_keeps_the_old_copy() {
    let primary = fake_primary(Behaviour::Stream(2_000));
    let (zonal, _dir) = secondary(primary.addr, "", "transfer_in_max_records = 500");
    failure_keeps_the_old_copy(
        &zonal,
        primary.addr,
        "too_large",
        "more than 500 records (transfer_in_max_records)",
    );
}

#[test]
fn a_transfer_past_the_byte_limit_keeps_the_old_copy() {
    // 2,000 records of some 35 bytes: past 20,000 bytes, under the record limit.
    let primary = fake_primary(Behaviour::Stream(2_000));
    let (zonal, _dir) = secondary(primary.addr, "transfer_in_max_bytes = 20000", "");
    failure_keeps_the_old_copy(
        &zonal,
        primary.addr,
        "too_large",
        "more than 20000 bytes (transfer_in_max_bytes)",
    );
}

#[test]
fn a_stalled_transfer_times_out_and_keeps_the_old_copy() {
    let primary = fake_primary(Behaviour::Stall);
    let (zonal, _dir) = secondary(primary.addr, "", "transfer_in_idle_timeout_secs = 1");
    failure_keeps_the_old_copy(
        &zonal,
        primary.addr,
        "timeout",
        "the transfer stalled: nothing from the primary for 1s",
    );
}

#[test]
fn a_trickling_transfer_stops_at_its_deadline_and_keeps_the_old_copy() {
    let primary = fake_primary(Behaviour::Trickle);
    let (zonal, _dir) = secondary(
        primary.addr,
        "transfer_in_idle_timeout_secs = 1\ntransfer_in_timeout_secs = 2",
        "",
    );
    failure_keeps_the_old_copy(
        &zonal,
        primary.addr,
        "timeout",
        "the transfer took longer than its deadline of 2s",
    );
}

/// The limits are not in the way of a zone within them: the same primary's
/// 2,000-host zone is taken under the defaults.
#[test]
fn a_transfer_within_the_limits_is_taken() {
    let primary = fake_primary(Behaviour::Stream(2_000));
    let (zonal, _dir) = secondary(primary.addr, "", "");
    let question = common::query("h1999.fake.test.", RecordType::A, None);
    assert!(
        common::eventually(Duration::from_secs(20), || {
            common::ask(zonal.addr, &question, false, Duration::from_millis(300))
                .is_some_and(|m| common::answers(&m) == ["h1999.fake.test. A 10.0.7.207"])
        }),
        "{}",
        zonal.stderr()
    );
    assert_eq!(failures(&zonal, "axfr"), 1.0, "{}", zonal.stderr());
}
