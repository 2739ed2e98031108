//! A DNS server played by a test, over UDP ([`PlayedUdp`]) or TCP ([`PlayedTcp`]):
//! every query it gets is recorded (when, and its bytes) and handed to the test's
//! handler, whose replies are sent back in order (none: a server that never
//! answers). Stopped when dropped.

use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// What the played server sends for a query: the replies, in order.
pub type Handler = dyn Fn(&[u8]) -> Vec<Vec<u8>> + Send + Sync;

/// One query as it came.
#[derive(Debug, Clone)]
pub struct Arrival {
    /// When.
    pub at: Instant,
    /// The message.
    pub query: Vec<u8>,
}

/// A played UDP server. See the module doc.
pub struct PlayedUdp {
    pub addr: SocketAddr,
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PlayedUdp {
    /// Serves on `addr` with `handler`.
    pub fn start(addr: SocketAddr, handler: Arc<Handler>) -> PlayedUdp {
        let socket = UdpSocket::bind(addr).expect("played server binds");
        socket
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (arrivals.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let mut buf = vec![0u8; 65_535];
            while !stopped.load(Ordering::Relaxed) {
                let Ok((len, from)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let query = buf[..len].to_vec();
                seen.lock().expect("lock").push(Arrival {
                    at: Instant::now(),
                    query: query.clone(),
                });
                for reply in handler(&query) {
                    let _ = socket.send_to(&reply, from);
                }
            }
        });
        PlayedUdp {
            addr,
            arrivals,
            stop,
            thread: Some(thread),
        }
    }

    /// The queries so far.
    pub fn arrivals(&self) -> Vec<Arrival> {
        self.arrivals.lock().expect("lock").clone()
    }

    /// How many queries so far.
    pub fn count(&self) -> usize {
        self.arrivals.lock().expect("lock").len()
    }
}

impl Drop for PlayedUdp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// A played TCP server: queries one by one on each connection (at most 10 a
/// connection, each within 2 s). See the module doc.
pub struct PlayedTcp {
    arrivals: Arc<Mutex<Vec<Arrival>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl PlayedTcp {
    /// Serves on `addr` with `handler`.
    pub fn start(addr: SocketAddr, handler: Arc<Handler>) -> PlayedTcp {
        let listener = TcpListener::bind(addr).expect("played server binds TCP");
        listener.set_nonblocking(true).expect("nonblocking");
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (seen, stopped) = (arrivals.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                let Ok((mut stream, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(5));
                    continue;
                };
                let _ = stream.set_nonblocking(false);
                let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
                for _ in 0..10 {
                    let Some(query) = super::read_framed(&mut stream) else {
                        break;
                    };
                    seen.lock().expect("lock").push(Arrival {
                        at: Instant::now(),
                        query: query.clone(),
                    });
                    for reply in handler(&query) {
                        super::write_framed(&mut stream, &reply);
                    }
                }
            }
        });
        PlayedTcp {
            arrivals,
            stop,
            thread: Some(thread),
        }
    }

    /// How many queries so far.
    pub fn count(&self) -> usize {
        self.arrivals.lock().expect("lock").len()
    }
}

impl Drop for PlayedTcp {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Where the question of `message` ends (after its type and class), if it has one.
pub fn question_end(message: &[u8]) -> Option<usize> {
    let mut at = 12;
    loop {
        let len = usize::from(*message.get(at)?);
        at += 1 + len;
        if len == 0 {
            break;
        }
    }
    let end = at + 4;
    (end <= message.len()).then_some(end)
}

/// The data of the first EDNS option `code` of `message`'s OPT (the record right
/// after the question, as resolvers send it), if there is one.
pub fn edns_option(message: &[u8], code: u16) -> Option<Vec<u8>> {
    let at = question_end(message)?;
    let opt = message.get(at..at + 11)?;
    if opt[0] != 0 || opt[1..3] != [0, 41] {
        return None;
    }
    let rdlen = usize::from(u16::from_be_bytes([opt[9], opt[10]]));
    let mut rdata = message.get(at + 11..at + 11 + rdlen)?;
    while rdata.len() >= 4 {
        let option = u16::from_be_bytes([rdata[0], rdata[1]]);
        let len = usize::from(u16::from_be_bytes([rdata[2], rdata[3]]));
        let data = rdata.get(4..4 + len)?;
        if option == code {
            return Some(data.to_vec());
        }
        rdata = &rdata[4 + len..];
    }
    None
}

/// An authoritative reply to `query` with one A record for its name, `address`,
/// and when `options` is given an OPT carrying those EDNS options (code, data).
pub fn a_reply(query: &[u8], address: [u8; 4], options: Option<&[(u16, Vec<u8>)]>) -> Vec<u8> {
    rcode_reply(query, 0, Some(address), options)
}

/// A reply to `query` with extended rcode `rcode` (its high bits in the OPT, which
/// `options` must then give), an A record `address` if any, and `options` in an OPT.
pub fn rcode_reply(
    query: &[u8],
    rcode: u16,
    address: Option<[u8; 4]>,
    options: Option<&[(u16, Vec<u8>)]>,
) -> Vec<u8> {
    let end = question_end(query).expect("a question");
    let mut r = query[..2].to_vec();
    let rd = query[2] & 0x01;
    let counts = [
        0,
        1,
        0,
        u8::from(address.is_some()),
        0,
        0,
        0,
        u8::from(options.is_some()),
    ];
    r.extend_from_slice(&[0x84 | rd, (rcode & 0x0F) as u8]);
    r.extend_from_slice(&counts);
    r.extend_from_slice(&query[12..end]);
    if let Some(address) = address {
        r.extend_from_slice(&[0xC0, 12, 0, 1, 0, 1, 0, 0, 1, 44, 0, 4]);
        r.extend_from_slice(&address);
    }
    if let Some(options) = options {
        let mut rdata = Vec::new();
        for (code, data) in options {
            rdata.extend_from_slice(&code.to_be_bytes());
            rdata.extend_from_slice(&(data.len() as u16).to_be_bytes());
            rdata.extend_from_slice(data);
        }
        // Root, OPT, payload 1232, the extended rcode's high bits, version 0.
        r.extend_from_slice(&[0, 0, 41, 4, 0xD0, (rcode >> 4) as u8, 0, 0, 0]);
        r.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        r.extend_from_slice(&rdata);
    }
    r
}
