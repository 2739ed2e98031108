//! Shared by the end-to-end tests: start the real `zonal` binary on a loopback
//! address of its own, ask it questions with hickory-proto and with dig, and stop it.
#![allow(dead_code, unreachable_pub, missing_docs)]

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub mod bind;
pub mod knot;
pub mod nsupdate;
pub mod played;
pub mod sign;
pub mod unbound;

use hickory_proto::op::{Edns, Message, Query};
use hickory_proto::rr::{Name, RecordType};

/// Where the test data lives.
pub fn data(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(file)
}

/// A loopback address and port no other test of this run uses.
pub fn unique_addr() -> SocketAddr {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    let pid = std::process::id();
    // 127.A.B.C: A and B from the process, C from the counter; one port for all.
    let a = 1 + (pid % 250) as u8;
    let b = ((pid / 250) % 250) as u8;
    let c = 1 + (n % 250) as u8;
    let port = 20_000 + (pid % 20_000) as u16;
    format!("127.{a}.{b}.{c}:{port}")
        .parse()
        .expect("valid address")
}

/// A running `zonal`; stopped when dropped.
pub struct Zonal {
    child: Child,
    pub addr: SocketAddr,
    pub stderr_path: PathBuf,
    _dir: tempfile::TempDir,
}

impl Zonal {
    /// Starts zonal on a fresh address with `args` (plus `--listen`), and waits until it answers.
    pub fn start(args: &[&str]) -> Zonal {
        for _ in 0..5 {
            let mut zonal = Zonal::spawn(unique_addr(), args, 2);
            if zonal.wait_ready() {
                return zonal;
            }
            let log = zonal.stderr();
            if !log.contains("cannot listen") {
                panic!("zonal did not start:\n{log}");
            }
        }
        panic!("no free loopback address for zonal");
    }

    /// Starts zonal on `addr` (one worker) with `args`, and waits until it answers;
    /// for servers whose address must be known before they start (a test hierarchy).
    pub fn start_at(addr: SocketAddr, args: &[&str]) -> Zonal {
        let mut zonal = Zonal::spawn(addr, args, 1);
        assert!(
            zonal.wait_ready(),
            "zonal did not start at {addr}:\n{}",
            zonal.stderr()
        );
        zonal
    }

    /// Starts zonal serving the zone files in `dir`.
    pub fn with_zone_dir(dir: &Path) -> Zonal {
        Zonal::start(&["--zone-dir", dir.to_str().expect("utf-8 path")])
    }

    /// Starts zonal as [`Zonal::start`] does, run by `wrapper` (a command that
    /// execs the rest of its arguments, as `prlimit --nofile=300:300 --` does).
    pub fn start_under(wrapper: &[&str], args: &[&str]) -> Zonal {
        let mut zonal = Zonal::spawn_under(wrapper, unique_addr(), args, 2);
        assert!(
            zonal.wait_ready(),
            "zonal did not start:\n{}",
            zonal.stderr()
        );
        zonal
    }

    fn spawn(addr: SocketAddr, args: &[&str], workers: u32) -> Zonal {
        Zonal::spawn_under(&[], addr, args, workers)
    }

    fn spawn_under(wrapper: &[&str], addr: SocketAddr, args: &[&str], workers: u32) -> Zonal {
        let dir = tempfile::tempdir().expect("tempdir");
        let stderr_path = dir.path().join("stderr");
        let stderr = std::fs::File::create(&stderr_path).expect("stderr file");
        let zonal = env!("CARGO_BIN_EXE_zonal");
        let mut command = match wrapper.split_first() {
            Some((program, rest)) => {
                let mut command = Command::new(program);
                command.args(rest).arg(zonal);
                command
            }
            None => Command::new(zonal),
        };
        let child = command
            .args(args)
            .args([
                "--listen",
                &addr.to_string(),
                "--workers",
                &workers.to_string(),
            ])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(stderr)
            .spawn()
            .expect("zonal starts");
        Zonal {
            child,
            addr,
            stderr_path,
            _dir: dir,
        }
    }

    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if self.stderr().contains("zonal ready") {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// What zonal logged so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// The process ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Stops zonal as an operator would (SIGTERM) and waits until it has exited
    /// (at most 10 s); a clean stop saves what it must.
    pub fn terminate(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("zonal did not stop on SIGTERM:\n{}", self.stderr());
    }

    /// Waits up to `limit` for the process to exit; its exit code.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return status.code();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    /// Sends raw bytes over UDP and returns the reply, or `None` after `wait`.
    pub fn udp_raw(&self, packet: &[u8], wait: Duration) -> Option<Vec<u8>> {
        udp_raw(self.addr, packet, wait)
    }

    /// Asks over UDP with EDNS (payload 1232).
    pub fn query(&self, name: &str, rtype: RecordType) -> Message {
        self.udp(&query(name, rtype, Some(1232)))
    }

    /// Sends a message over UDP and decodes the reply.
    pub fn udp(&self, message: &Message) -> Message {
        ask(self.addr, message, false, Duration::from_secs(2)).expect("a reply over UDP")
    }

    /// Sends a message over TCP and decodes the reply.
    pub fn tcp(&self, message: &Message) -> Message {
        ask(self.addr, message, true, Duration::from_secs(3)).expect("a reply over TCP")
    }

    /// Runs dig against this server; returns its stdout.
    pub fn dig(&self, args: &[&str]) -> String {
        let out = Command::new("dig")
            .arg(format!("@{}", self.addr.ip()))
            .args(["-p", &self.addr.port().to_string(), "+time=2", "+tries=1"])
            .args(args)
            .output()
            .expect("dig runs (install bind9-dnsutils)");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Zonal {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A query message for `name`/`rtype`, with EDNS at `payload` if given.
pub fn query(name: &str, rtype: RecordType, payload: Option<u16>) -> Message {
    let mut message = Message::query();
    message.add_query(Query::query(
        Name::from_ascii(name).expect("valid name"),
        rtype,
    ));
    if let Some(size) = payload {
        let mut edns = Edns::new();
        edns.set_max_payload(size);
        message.set_edns(edns);
    }
    message
}

pub fn udp_raw(addr: SocketAddr, packet: &[u8], wait: Duration) -> Option<Vec<u8>> {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind");
    socket.set_read_timeout(Some(wait)).expect("timeout");
    socket.send_to(packet, addr).expect("send");
    let mut buf = vec![0u8; 65_535];
    let (len, _) = socket.recv_from(&mut buf).ok()?;
    buf.truncate(len);
    Some(buf)
}

pub fn write_framed(stream: &mut TcpStream, message: &[u8]) {
    let mut framed = (message.len() as u16).to_be_bytes().to_vec();
    framed.extend_from_slice(message);
    stream.write_all(&framed).expect("tcp write");
}

pub fn read_framed(stream: &mut TcpStream) -> Option<Vec<u8>> {
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).ok()?;
    let mut body = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut body).ok()?;
    Some(body)
}

/// The reply as comparable text: header line, then each section's records sorted.
pub fn render(message: &Message) -> String {
    let m = &message.metadata;
    let mut out = format!(
        "rcode={:?} aa={} tc={} counts={}/{}/{}\n",
        m.response_code,
        m.authoritative,
        m.truncation,
        message.answers.len(),
        message.authorities.len(),
        message.additionals.len()
    );
    for (label, section) in [
        ("an", &message.answers),
        ("ns", &message.authorities),
        ("ar", &message.additionals),
    ] {
        let mut lines: Vec<String> = section
            .iter()
            .map(|r| {
                format!(
                    "{label} {} {} {} {}",
                    r.name.to_ascii().to_lowercase(),
                    r.ttl,
                    r.record_type(),
                    r.data
                )
            })
            .collect();
        lines.sort();
        for line in lines {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}

/// The answer section's records as `name type rdata` lines (sorted).
pub fn answers(message: &Message) -> Vec<String> {
    let mut lines: Vec<String> = message
        .answers
        .iter()
        .map(|r| {
            format!(
                "{} {} {}",
                r.name.to_ascii().to_lowercase(),
                r.record_type(),
                r.data
            )
        })
        .collect();
    lines.sort();
    lines
}

/// A temporary folder with copies of the given files of tests/data.
pub fn data_dir(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for file in files {
        std::fs::copy(data(file), dir.path().join(file)).expect("copy test data");
    }
    dir
}

/// Starts zonal with a config file: `zone_dir` is a folder holding `files` of
/// tests/data, and `extra` is more TOML.
pub fn start_with_config(files: &[&str], extra: &str) -> (Zonal, tempfile::TempDir) {
    let dir = data_dir(files);
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!("zone_dir = \"{}\"\n{extra}", dir.path().display()),
    )
    .expect("write config");
    let zonal = Zonal::start(&["--config", config.to_str().expect("utf-8")]);
    (zonal, dir)
}

/// A port for the metrics endpoint on `dns`'s address (its DNS port + 1).
pub fn metrics_addr(dns: SocketAddr) -> SocketAddr {
    SocketAddr::new(dns.ip(), dns.port() + 1)
}

/// GET `path` from `addr`: status code and body.
pub fn http_get(addr: SocketAddr, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(addr).expect("connect to the metrics endpoint");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: zonal\r\nConnection: close\r\n\r\n"
    )
    .expect("request");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response");
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    (status, body)
}

/// Every sample of a scrape: `name{labels}` → value.
pub fn scrape(addr: SocketAddr) -> BTreeMap<String, f64> {
    let (status, body) = http_get(addr, "/metrics");
    assert_eq!(status, 200, "{body}");
    body.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (key, value) = l.rsplit_once(' ')?;
            Some((key.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// Waits up to `limit` until `addr` answers the SOA of `zone` with data.
pub fn wait_for_soa(addr: SocketAddr, zone: &str, limit: Duration) -> bool {
    let question = query(zone, RecordType::SOA, None);
    eventually(limit, || {
        ask(addr, &question, false, Duration::from_millis(200))
            .is_some_and(|m| !m.answers.is_empty())
    })
}

/// How often [`eventually`] looks again.
const POLL_INTERVAL: Duration = Duration::from_millis(25);

/// Looks at `check` until it holds, for at most `limit` (and once more at the
/// end); whether it held. The one way the tests wait for the server to show that
/// something happened: no fixed sleeps, and a bound on the wait.
pub fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if check() {
            return true;
        }
        std::thread::sleep(POLL_INTERVAL);
    }
    check()
}

/// Sleeps until `since + after`: for waits that are themselves the thing tested
/// (a TTL that must run out), measured from when it started running.
pub fn sleep_until(since: Instant, after: Duration) {
    let until = since + after;
    let now = Instant::now();
    if until > now {
        std::thread::sleep(until - now);
    }
}

/// Writes the zone file `file` into `dir`/`folder` (made if missing; `""` for
/// `dir` itself), as one server's zone folder of a test hierarchy.
pub fn write_zone(dir: &Path, folder: &str, file: &str, text: &str) {
    let folder = dir.join(folder);
    std::fs::create_dir_all(&folder).expect("mkdir");
    std::fs::write(folder.join(file), text).expect("write zone");
}

/// Sends `message` to `addr` over TCP (framed) or UDP and decodes the reply;
/// `None` when none came within `wait`.
pub fn ask(addr: SocketAddr, message: &Message, tcp: bool, wait: Duration) -> Option<Message> {
    let bytes = message.to_vec().expect("encodes");
    let reply = if tcp {
        let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()?;
        stream.set_read_timeout(Some(wait)).ok()?;
        write_framed(&mut stream, &bytes);
        read_framed(&mut stream)?
    } else {
        udp_raw(addr, &bytes, wait)?
    };
    Some(Message::from_vec(&reply).expect("reply decodes"))
}

/// A recursive question (RD) with EDNS (payload 1232) and a random ID.
pub fn recursive_query(name: &str, rtype: RecordType) -> Message {
    let mut q = query(name, rtype, Some(1232));
    q.metadata.recursion_desired = true;
    q.metadata.id = rand::random();
    q
}

/// A query for `name`/A (RD=0) with id `id`, EDNS (1232 bytes) and, when given,
/// the COOKIE option (RFC 7873) data `cookie`: a client cookie, or client and
/// server cookie.
pub fn cookie_query(name: &str, id: u16, cookie: Option<&[u8]>) -> Vec<u8> {
    use zonal::wire::{encode_query, OutgoingQuery, QueryEdns};
    let qname = zonal::wire::name::parse_presentation(name.as_bytes(), None).expect("name");
    let mut q = OutgoingQuery::new(&qname, 1);
    q.id = id;
    q.rd = false;
    q.edns = Some(QueryEdns {
        udp_payload: 1232,
        dnssec_ok: false,
    });
    let mut p = Vec::new();
    encode_query(&q, &mut p);
    if let Some(cookie) = cookie {
        let at = p.len() - 2;
        p[at..].copy_from_slice(&(4 + cookie.len() as u16).to_be_bytes());
        p.extend_from_slice(&[0, 10, 0, cookie.len() as u8]);
        p.extend_from_slice(cookie);
    }
    p
}

/// `input` with one to four random edits (a byte replaced from `alphabet`, removed,
/// inserted, or the rest cut off), for mutation tests.
pub fn mutate(rng: &mut Rng, input: &[u8], alphabet: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        match rng.below(4) {
            0 if !out.is_empty() => {
                let at = rng.below(out.len());
                out[at] = alphabet[rng.below(alphabet.len())];
            }
            1 if !out.is_empty() => {
                let at = rng.below(out.len());
                out.remove(at);
            }
            2 => {
                let at = rng.below(out.len() + 1);
                out.insert(at, alphabet[rng.below(alphabet.len())]);
            }
            _ => out.truncate(rng.below(out.len() + 1)),
        }
    }
    out
}

/// xorshift64: small, seeded, reproducible, so a failure can be replayed.
pub struct Rng(pub u64);

impl Rng {
    /// The next number of the sequence.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Runs nsupdate against `addr` with `key_args` (`-k FILE`, `-y ALG:NAME:SECRET`,
/// or none) and `lines` (a `send` is added); returns whether it succeeded and
/// what it printed.
pub fn nsupdate(addr: SocketAddr, key_args: &[String], lines: &[&str]) -> (bool, String) {
    let mut child = Command::new("nsupdate")
        .args(["-t", "3"])
        .args(key_args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nsupdate runs (install bind9-dnsutils)");
    let mut script = format!("server {} {}\n", addr.ip(), addr.port());
    for line in lines {
        script.push_str(line);
        script.push('\n');
    }
    script.push_str("send\n");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script");
    let out = child.wait_with_output().expect("nsupdate ends");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}
