//! A zone transfer client that only counts: it sends one AXFR (or, given SERIAL,
//! one IXFR from that serial) over TCP, reads the length-prefixed messages until the
//! closing SOA, and prints the wall time, the time to the first message, the
//! messages, records and bytes received, the form of the reply (`axfr`: the whole
//! zone; `ixfr`: differences; `soa`: the SOA alone) and its own CPU seconds. It keeps
//! nothing, so the time measured is the server's (kdig formats every record as text,
//! which costs more than serving it).
//!
//! ```text
//! transfer_pull SERVER:PORT ZONE [SERIAL]
//! ```
//!
//! benches/transfer.sh runs it against zonal and Knot DNS. Run by the test
//! harnesses (no arguments), it does nothing.
#![allow(missing_docs, clippy::print_stdout)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use zonal::wire::message::Message;
use zonal::wire::name::parse_presentation;
use zonal::wire::types;

/// How long one read may wait before the transfer counts as stalled.
const READ_TIMEOUT_SECS: u64 = 30;

/// An AXFR query for `zone`, or an IXFR with our SOA at `serial` in the authority
/// section (RFC 1995 3).
fn query(zone: &[u8], serial: Option<u32>) -> Vec<u8> {
    let mut q = 0x2a2au16.to_be_bytes().to_vec();
    q.extend_from_slice(&[0, 0, 0, 1, 0, 0, 0, u8::from(serial.is_some()), 0, 0]);
    q.extend_from_slice(zone);
    let qtype = if serial.is_some() {
        types::IXFR
    } else {
        types::AXFR
    };
    q.extend_from_slice(&qtype.to_be_bytes());
    q.extend_from_slice(&[0, 1]);
    if let Some(serial) = serial {
        q.extend_from_slice(zone);
        q.extend_from_slice(&types::SOA.to_be_bytes());
        q.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 22, 0, 0]); // class IN, TTL 0, RDLENGTH 22
        q.extend_from_slice(&serial.to_be_bytes());
        q.extend_from_slice(&[0; 16]);
    }
    q
}

/// CPU seconds (user + system) this process has used.
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage fills the struct it is given; a zeroed rusage is valid.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) } != 0 {
        return 0.0;
    }
    let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    secs(usage.ru_utime) + secs(usage.ru_stime)
}

/// What came back.
#[derive(Default)]
struct Tally {
    messages: u64,
    records: u64,
    bytes: u64,
    first_ms: f64,
    /// Serial of the first SOA (the server's).
    serial: Option<u32>,
    /// Whether the second record is a SOA (the IXFR form).
    incremental: Option<bool>,
    /// Times the server's SOA has been seen.
    soas: u32,
    /// Whether an IXFR was asked for (only it may be answered with the SOA alone).
    ixfr: bool,
}

impl Tally {
    /// Takes one message in; true when it closes the transfer.
    fn take(&mut self, packet: &[u8]) -> Result<bool, String> {
        let message = Message::parse(packet).map_err(|e| e.to_string())?;
        let rcode = message.header.flags & 0xF;
        if rcode != 0 {
            return Err(format!("rcode {rcode}"));
        }
        for record in &message.answers {
            self.records += 1;
            let soa_serial = (record.rtype == types::SOA)
                .then(|| message.rdata_uncompressed(record).ok())
                .flatten()
                .and_then(|rdata| {
                    let at = rdata.len().checked_sub(20)?;
                    let b = rdata.get(at..at + 4)?;
                    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
                });
            if self.records == 1 {
                self.serial = Some(soa_serial.ok_or("the first record is not a SOA")?);
                self.soas = 1;
                continue;
            }
            if self.records == 2 {
                self.incremental = Some(soa_serial.is_some_and(|s| Some(s) != self.serial));
            }
            if soa_serial.is_some() && soa_serial == self.serial {
                self.soas += 1;
            }
        }
        // The whole zone ends at its second SOA; differences at the third (the
        // last change's new SOA, then the closing one); a SOA alone in a message
        // that holds nothing else is the whole reply to an IXFR.
        let done = match self.incremental {
            None => self.ixfr && self.records == 1 && message.answers.len() == 1,
            Some(false) => self.soas >= 2,
            Some(true) => self.soas >= 3,
        };
        Ok(done)
    }

    fn form(&self) -> &'static str {
        match self.incremental {
            None => "soa",
            Some(false) => "axfr",
            Some(true) => "ixfr",
        }
    }
}

fn pull(server: SocketAddr, zone: &[u8], serial: Option<u32>) -> Result<(Tally, f64), String> {
    let started = Instant::now();
    let mut stream = TcpStream::connect(server).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(Duration::from_secs(READ_TIMEOUT_SECS)))
        .map_err(|e| e.to_string())?;
    let q = query(zone, serial);
    let mut framed = (q.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(&q);
    stream.write_all(&framed).map_err(|e| e.to_string())?;
    let mut tally = Tally {
        ixfr: serial.is_some(),
        ..Tally::default()
    };
    let mut buf = vec![0u8; 65_535];
    loop {
        let mut prefix = [0u8; 2];
        stream
            .read_exact(&mut prefix)
            .map_err(|e| format!("after {} messages: {e}", tally.messages))?;
        let len = usize::from(u16::from_be_bytes(prefix));
        stream
            .read_exact(&mut buf[..len])
            .map_err(|e| format!("after {} messages: {e}", tally.messages))?;
        if tally.messages == 0 {
            tally.first_ms = started.elapsed().as_secs_f64() * 1e3;
        }
        tally.messages += 1;
        tally.bytes += len as u64 + 2;
        if tally.take(&buf[..len])? {
            return Ok((tally, started.elapsed().as_secs_f64()));
        }
    }
}

fn main() {
    // Test harnesses pass flags (`--bench`, `--list --format terse`, `--exact`):
    // none of ours starts with a dash.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let [server, zone, rest @ ..] = args.as_slice() else {
        // Run by `cargo test`/nextest or `cargo bench` alone: nothing to measure.
        return;
    };
    let usage = "usage: transfer_pull SERVER:PORT ZONE [SERIAL]";
    let Ok(server) = server.parse::<SocketAddr>() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let serial = match rest.first().map(|s| s.parse::<u32>()) {
        None => None,
        Some(Ok(serial)) => Some(serial),
        Some(Err(_)) => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
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
    match pull(server, &zone, serial) {
        Ok((t, seconds)) => println!(
            "ms {:.1} first_ms {:.1} messages {} records {} bytes {} form {} serial {} client_cpu {:.3}",
            seconds * 1e3,
            t.first_ms,
            t.messages,
            t.records,
            t.bytes,
            t.form(),
            t.serial.unwrap_or(0),
            cpu_seconds()
        ),
        Err(e) => {
            eprintln!("transfer from {server} failed: {e}");
            std::process::exit(1);
        }
    }
}
