//! A load of signed dynamic updates: CLIENTS threads, each sending one UPDATE at a
//! time over UDP (a new name with an A record, signed with TSIG) and waiting for
//! its reply, for SECONDS; prints updates per second and latency percentiles.
//! With RATE, each client sends at most RATE updates per second (a steady stream
//! rather than as fast as the server answers).
//!
//! ```text
//! update_load SERVER:PORT ZONE ALG:KEYNAME:SECRET CLIENTS SECONDS [PREFIX [RATE]]
//! ```
//!
//! benches/updates.sh runs it against zonal, Knot DNS and BIND. Run by the test
//! harnesses (no arguments), it does nothing.
#![allow(missing_docs, clippy::print_stdout)]

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use zonal::tsig;
use zonal::tsig::keys::{Algorithm, TsigKey};
use zonal::wire::name::parse_presentation;

/// What one client did.
#[derive(Default)]
struct Tally {
    ok: u64,
    refused: u64,
    timeouts: u64,
    latencies_us: Vec<u64>,
}

fn update(id: u16, zone: &[u8], name: &[u8], address: [u8; 4], key: &TsigKey) -> Vec<u8> {
    let mut p = id.to_be_bytes().to_vec();
    p.extend_from_slice(&[5 << 3, 0, 0, 1, 0, 0, 0, 1, 0, 0]);
    p.extend_from_slice(zone);
    p.extend_from_slice(&[0, 6, 0, 1]);
    p.extend_from_slice(name);
    p.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
    p.extend_from_slice(&address);
    tsig::sign(&mut p, key, None, 0, &[], tsig::now());
    p
}

/// One client's part of the load.
struct Client {
    server: SocketAddr,
    zone: Vec<u8>,
    key: TsigKey,
    index: usize,
    prefix: String,
    /// Time between sends; zero: send when the reply is in.
    pace: Duration,
    until: Instant,
}

fn client(c: Client) -> Tally {
    let Client {
        server,
        zone,
        key,
        index,
        prefix,
        pace,
        until,
    } = c;
    let mut tally = Tally::default();
    let Ok(socket) = UdpSocket::bind("127.0.0.1:0") else {
        return tally;
    };
    if socket.connect(server).is_err()
        || socket
            .set_read_timeout(Some(Duration::from_secs(2)))
            .is_err()
    {
        return tally;
    }
    let mut buf = [0u8; 1024];
    let mut n: u32 = 0;
    let mut next_send = Instant::now();
    while Instant::now() < until {
        if !pace.is_zero() {
            let now = Instant::now();
            if next_send > now {
                std::thread::sleep(next_send - now);
            }
            next_send += pace;
        }
        n += 1;
        let label = format!("{prefix}-{index}-{n}");
        let Ok(name) = parse_presentation(label.as_bytes(), Some(&zone)) else {
            break;
        };
        let id = (n & 0xFFFF) as u16;
        let packet = update(id, &zone, &name, n.to_be_bytes(), &key);
        let sent = Instant::now();
        if socket.send(&packet).is_err() {
            tally.timeouts += 1;
            continue;
        }
        loop {
            match socket.recv(&mut buf) {
                Ok(len) if len >= 12 && u16::from_be_bytes([buf[0], buf[1]]) == id => {
                    tally.latencies_us.push(sent.elapsed().as_micros() as u64);
                    if buf[3] & 0xF == 0 {
                        tally.ok += 1;
                    } else {
                        tally.refused += 1;
                    }
                    break;
                }
                Ok(_) => continue, // a late reply to an earlier try
                Err(_) => {
                    tally.timeouts += 1;
                    break;
                }
            }
        }
    }
    tally
}

fn main() {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let [server, zone, key, clients, seconds, rest @ ..] = args.as_slice() else {
        // Run by `cargo test`/nextest or `cargo bench` alone: nothing to measure.
        return;
    };
    let (Ok(server), Ok(clients), Ok(seconds)) = (
        server.parse::<SocketAddr>(),
        clients.parse::<usize>(),
        seconds.parse::<u64>(),
    ) else {
        eprintln!("usage: update_load SERVER:PORT ZONE ALG:KEYNAME:SECRET CLIENTS SECONDS [PREFIX [RATE]]");
        std::process::exit(2);
    };
    let zone_text = if zone.ends_with('.') {
        zone.clone()
    } else {
        format!("{zone}.")
    };
    let Ok(zone) = parse_presentation(zone_text.as_bytes(), None) else {
        eprintln!("bad zone '{zone}'");
        std::process::exit(2);
    };
    let mut parts = key.splitn(3, ':');
    let (Some(alg), Some(name), Some(secret)) = (parts.next(), parts.next(), parts.next()) else {
        eprintln!("the key is ALG:NAME:SECRET");
        std::process::exit(2);
    };
    let Some(key) = Algorithm::from_mnemonic(alg).and_then(|a| TsigKey::new(name, a, secret).ok())
    else {
        eprintln!("bad key");
        std::process::exit(2);
    };
    let prefix = rest
        .first()
        .cloned()
        .unwrap_or_else(|| format!("u{}", tsig::now()));
    let pace = match rest.get(1).map(|r| r.parse::<f64>()) {
        None => Duration::ZERO,
        Some(Ok(rate)) if rate > 0.0 => Duration::from_secs_f64(1.0 / rate),
        Some(_) => {
            eprintln!("RATE is updates per second per client, above 0");
            std::process::exit(2);
        }
    };
    let until = Instant::now() + Duration::from_secs(seconds);
    let started = Instant::now();
    let threads: Vec<_> = (0..clients)
        .map(|i| {
            let (zone, key, prefix) = (zone.clone(), key.clone(), prefix.clone());
            std::thread::spawn(move || {
                client(Client {
                    server,
                    zone,
                    key,
                    index: i,
                    prefix,
                    pace,
                    until,
                })
            })
        })
        .collect();
    let mut all = Tally::default();
    for t in threads {
        if let Ok(t) = t.join() {
            all.ok += t.ok;
            all.refused += t.refused;
            all.timeouts += t.timeouts;
            all.latencies_us.extend(t.latencies_us);
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.latencies_us.sort_unstable();
    let pct = |p: f64| {
        all.latencies_us
            .get(
                ((all.latencies_us.len() as f64 * p) as usize)
                    .min(all.latencies_us.len().saturating_sub(1)),
            )
            .copied()
            .unwrap_or(0)
    };
    println!(
        "updates/s {:.0} ok {} refused {} timeouts {} latency_us p50 {} p99 {} max {}",
        all.ok as f64 / elapsed,
        all.ok,
        all.refused,
        all.timeouts,
        pct(0.5),
        pct(0.99),
        all.latencies_us.last().copied().unwrap_or(0)
    );
}
