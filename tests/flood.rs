//! A flood of junk for a minute (random bytes, mutated queries, QR=1 packets from
//! many source ports) while valid queries are timed: the valid ones are still
//! answered (≥ 99%, p99 ≤ 50 ms) and the server's memory stays flat.
//!
//! Bounded: the flood is paced (`FLOOD_PPS` packets a second, 20,000 by default)
//! and lasts `FLOOD_SECS` (60 by default); the timed queries wait at most a second
//! each. `.config/nextest.toml` runs this test alone, so the rest of the suite does
//! not share the cores with it.

mod common;

use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{mutate, query, write_zone, Rng, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The server's resident memory, KiB.
fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

#[test]
fn valid_queries_are_answered_through_a_minute_of_junk() {
    let secs = env_or("FLOOD_SECS", 60);
    let pps = env_or("FLOOD_PPS", 20_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let mut zone = String::from(
        "$ORIGIN flood.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\n*.wild A 192.0.2.9\n",
    );
    for i in 0..1000 {
        zone.push_str(&format!("h{i} A 10.0.{}.{}\n", i / 256, i % 256));
    }
    write_zone(dir.path(), "", "flood.test.zone", &zone);
    let z = Zonal::start(&[
        "--zone-dir",
        dir.path().to_str().expect("utf-8"),
        "--no-recursion",
    ]);
    let target = z.addr;

    // The junk: built from valid queries of every kind the server answers.
    let seeds: Vec<Vec<u8>> = [
        ("h1.flood.test.", RecordType::A, None),
        ("h2.flood.test.", RecordType::AAAA, Some(1232)),
        ("x.wild.flood.test.", RecordType::A, Some(4096)),
        ("nope.flood.test.", RecordType::MX, Some(512)),
        ("flood.test.", RecordType::SOA, None),
    ]
    .iter()
    .map(|(name, rtype, payload)| query(name, *rtype, *payload).to_vec().expect("encode"))
    .collect();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let flood = {
        let (stop, sent, seeds) = (stop.clone(), sent.clone(), seeds.clone());
        std::thread::spawn(move || {
            let sockets: Vec<UdpSocket> = (0..64)
                .map(|_| {
                    let s = UdpSocket::bind("127.0.0.1:0").expect("bind");
                    s.set_nonblocking(true).expect("nonblocking");
                    s
                })
                .collect();
            let alphabet: Vec<u8> = (0..=255).collect();
            let mut rng = Rng(0x5eed_f100_d000_0001);
            let started = Instant::now();
            let mut n = 0u64;
            while !stop.load(Ordering::Relaxed) {
                // Paced: no more than `pps` a second on average.
                let due = started.elapsed().as_secs_f64() * pps as f64;
                if (n as f64) >= due {
                    std::thread::sleep(Duration::from_micros(500));
                    continue;
                }
                let seed = &seeds[rng.below(seeds.len())];
                let packet = match n % 3 {
                    // Random bytes, 0 to 512 of them.
                    0 => (0..rng.below(513)).map(|_| rng.next() as u8).collect(),
                    // A query with a few bytes changed, cut or added.
                    1 => mutate(&mut rng, seed, &alphabet),
                    // A response (QR=1): to be dropped, never answered.
                    _ => {
                        let mut p = seed.clone();
                        p[2] |= 0x80;
                        p
                    }
                };
                // Full socket buffers drop packets: a flood does not wait.
                let _ = sockets[rng.below(sockets.len())].send_to(&packet, target);
                n += 1;
            }
            sent.store(n, Ordering::Relaxed);
        })
    };

    // The timed queries: one at a time, about 500 a second, each answer checked.
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(1)))
        .expect("timeout");
    let pid = z.pid();
    let started = Instant::now();
    let mut rng = Rng(0xa5a5_0000_1111_2222);
    let mut latencies = Vec::new();
    let (mut asked, mut wrong) = (0u64, 0u64);
    let mut rss_early = 0;
    let mut rss_peak = 0;
    let mut buf = vec![0u8; 65_535];
    while started.elapsed() < Duration::from_secs(secs) {
        let i = rng.below(1000);
        let mut message = query(&format!("h{i}.flood.test."), RecordType::A, Some(1232));
        let id = rng.next() as u16;
        message.metadata.id = id;
        let packet = message.to_vec().expect("encode");
        let sent_at = Instant::now();
        asked += 1;
        socket.send_to(&packet, target).expect("send");
        // Read until our reply (stale replies to an earlier, timed-out query skipped).
        // A timeout ends the loop: not answered.
        while let Ok((len, _)) = socket.recv_from(&mut buf) {
            let Ok(reply) = Message::from_vec(&buf[..len]) else {
                continue;
            };
            if reply.metadata.id != id {
                continue;
            }
            let right =
                reply.metadata.response_code == ResponseCode::NoError && reply.answers.len() == 1;
            if right {
                latencies.push(sent_at.elapsed());
            } else {
                wrong += 1;
            }
            break;
        }
        let elapsed = started.elapsed();
        if rss_early == 0 && elapsed > Duration::from_secs(secs.min(10) / 2) {
            rss_early = rss_kib(pid);
        }
        rss_peak = rss_peak.max(rss_kib(pid));
        std::thread::sleep(Duration::from_millis(2));
    }
    stop.store(true, Ordering::Relaxed);
    flood.join().expect("flood thread");
    let rss_end = rss_kib(pid);

    latencies.sort();
    let answered = latencies.len() as u64;
    let p = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .copied()
            .unwrap_or(Duration::MAX)
    };
    let (p50, p99) = (p(0.50), p(0.99));
    let junk = sent.load(Ordering::Relaxed);
    eprintln!(
        "flood: {junk} junk packets in {secs} s ({pps}/s asked); valid: {answered} of {asked} answered, \
         {wrong} wrong, p50 {p50:?}, p99 {p99:?}; RSS {rss_early} KiB early, {rss_peak} KiB peak, {rss_end} KiB at the end"
    );
    assert!(
        junk >= pps * secs * 9 / 10,
        "the flood fell short: {junk} packets"
    );
    assert_eq!(wrong, 0, "wrong answers under the flood");
    assert!(
        answered * 100 >= asked * 99,
        "only {answered} of {asked} valid queries answered:\n{}",
        z.stderr()
    );
    assert!(p99 <= Duration::from_millis(50), "p99 {p99:?}");
    assert!(
        rss_end <= rss_early + rss_early / 4 + 8 * 1024,
        "memory grew under the flood: {rss_early} KiB → {rss_end} KiB"
    );
    // Still serving, and the flood left nothing behind it.
    let after = z.query("h7.flood.test.", RecordType::A);
    assert_eq!(after.metadata.response_code, ResponseCode::NoError);
}
