//! UDP size limits and truncation, EDNS, TCP framing, pipelining and limits, and
//! malformed input after which the server still answers.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{query, Zonal};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::RecordType;
use zonal::wire::{encode_query, OutgoingQuery};

const BIG: &str = "big.tricky.example.";

fn tricky_with(extra_args: &[&str]) -> (Zonal, tempfile::TempDir) {
    let dir = common::data_dir(&["tricky.example.zone"]);
    let mut args = vec!["--zone-dir", dir.path().to_str().expect("utf-8")];
    args.extend_from_slice(extra_args);
    (Zonal::start(&args), dir)
}

/// A query without RD or EDNS, as bytes.
fn raw_query(id: u16, name: &[u8], qtype: u16) -> Vec<u8> {
    let mut query = OutgoingQuery::new(name, qtype);
    query.id = id;
    query.rd = false;
    let mut p = Vec::new();
    encode_query(&query, &mut p);
    p
}

const WWW: &[u8] = b"\x03www\x06tricky\x07example\x00";

#[test]
fn oversized_udp_reply_is_truncated_and_tcp_has_it_all() {
    let (z, _d) = tricky_with(&[]);
    // No EDNS: 512 bytes.
    let udp = z.udp(&query(BIG, RecordType::TXT, None));
    assert!(udp.metadata.truncation);
    assert!(udp.answers.is_empty());
    // EDNS 1232: still too big (24 strings of ~66 bytes), but OPT is there.
    let udp = z.udp(&query(BIG, RecordType::TXT, Some(1232)));
    assert!(udp.metadata.truncation);
    assert!(udp.edns.is_some(), "a truncated reply keeps its OPT record");
    let tcp = z.tcp(&query(BIG, RecordType::TXT, None));
    assert!(!tcp.metadata.truncation);
    assert_eq!(tcp.answers.len(), 24);
    // dig retries over TCP by itself.
    let out = z.dig(&["big.tricky.example", "TXT", "+noedns"]);
    assert!(out.contains("Truncated, retrying in TCP mode"), "{out}");
    assert!(out.contains("ANSWER: 24"), "{out}");
}

#[test]
fn edns_payload_is_honoured_up_to_our_limit() {
    let (z, _d) = common::start_with_config(&["tricky.example.zone"], "udp_max_payload = 4096\n");
    let fits = z.udp(&query(BIG, RecordType::TXT, Some(4096)));
    assert!(!fits.metadata.truncation);
    assert_eq!(fits.answers.len(), 24);
    assert_eq!(fits.edns.as_ref().map(|e| e.max_payload()), Some(4096));
    let small = z.udp(&query(BIG, RecordType::TXT, Some(1400)));
    assert!(small.metadata.truncation);
    // A payload under 512 counts as 512 (RFC 6891 6.2.5).
    let tiny = z.udp(&query("www.tricky.example.", RecordType::A, Some(100)));
    assert_eq!(tiny.answers.len(), 1);
}

#[test]
fn edns_version_above_zero_gets_badvers() {
    let (z, _d) = tricky_with(&[]);
    let mut packet = raw_query(7, WWW, 1);
    packet[11] = 1; // ARCOUNT
    packet.extend_from_slice(&[0, 0, 41, 0x04, 0xd0, 0, 1, 0, 0, 0, 0]); // OPT, version 1
    let reply = z.udp_raw(&packet, Duration::from_secs(2)).expect("reply");
    assert_eq!(
        reply[3] & 0xF,
        0,
        "header rcode is the low bits of BADVERS (16)"
    );
    assert_eq!(u16::from_be_bytes([reply[6], reply[7]]), 0, "no answer");
    let opt = &reply[reply.len() - 11..];
    assert_eq!(&opt[1..3], &[0, 41]);
    assert_eq!(opt[5], 1, "extended rcode 1 << 4 = BADVERS");
    // And the same query with version 0 is answered.
    let version_at = packet.len() - 5;
    packet[version_at] = 0;
    let reply = z.udp_raw(&packet, Duration::from_secs(2)).expect("reply");
    assert_eq!(u16::from_be_bytes([reply[6], reply[7]]), 1);
}

#[test]
fn malformed_packets_get_formerr_or_nothing_and_the_server_goes_on() {
    let (mut z, _d) = tricky_with(&[]);
    let wait = Duration::from_millis(300);
    // Shorter than a header: dropped.
    assert!(z.udp_raw(&[1, 2, 3], wait).is_none());
    // A response (QR=1): never answered.
    let mut response = raw_query(9, WWW, 1);
    response[2] |= 0x80;
    assert!(z.udp_raw(&response, wait).is_none());
    // Two questions: FORMERR.
    let mut two = raw_query(10, WWW, 1);
    two[5] = 2;
    two.extend_from_slice(&raw_query(0, WWW, 1)[12..]);
    let reply = z.udp_raw(&two, wait).expect("FORMERR reply");
    assert_eq!(
        (u16::from_be_bytes([reply[0], reply[1]]), reply[3] & 0xF),
        (10, 1)
    );
    // Question cut short, a label running off the end, trailing garbage: FORMERR.
    let whole = raw_query(11, WWW, 1);
    for bad in [
        whole[..20].to_vec(),
        [&whole[..12], b"\x3f\x61".as_slice()].concat(),
        [whole.clone(), vec![0xde, 0xad]].concat(),
    ] {
        let reply = z.udp_raw(&bad, wait).expect("FORMERR reply");
        assert_eq!(reply[3] & 0xF, 1, "FORMERR for {bad:?}");
    }
    // An opcode we do not implement (STATUS): NOTIMP.
    let mut status = raw_query(12, WWW, 1);
    status[2] = 2 << 3;
    let reply = z.udp_raw(&status, wait).expect("NOTIMP reply");
    assert_eq!(reply[3] & 0xF, 4);
    // A bounded storm of random bytes (seeded, so a failure can be replayed).
    let mut rng = common::Rng(0x2545_f491_4f6c_dd1d);
    let socket = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind");
    for _ in 0..3000 {
        let len = rng.below(80);
        let mut packet: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        if packet.len() > 5 && rng.next() % 2 == 0 {
            packet[2] &= 0x7f; // mostly queries, to go deeper
            packet[4] = 0;
            packet[5] = 1;
        }
        let _ = socket.send_to(&packet, z.addr);
    }
    // Still alive, still answering.
    assert!(z.is_running());
    let reply = z.query("www.tricky.example.", RecordType::A);
    assert_eq!(reply.metadata.response_code, ResponseCode::NoError);
    assert_eq!(reply.answers.len(), 1);
}

#[test]
fn tcp_pipelined_queries_are_all_answered_in_order() {
    let (z, _d) = tricky_with(&[]);
    let mut stream = TcpStream::connect(z.addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    let mut burst = Vec::new();
    for id in 1..=5u16 {
        let q = raw_query(id, WWW, 1);
        burst.extend_from_slice(&(q.len() as u16).to_be_bytes());
        burst.extend_from_slice(&q);
    }
    // Split mid-message to check reassembly.
    stream.write_all(&burst[..7]).expect("write");
    std::thread::sleep(Duration::from_millis(50));
    stream.write_all(&burst[7..]).expect("write");
    for id in 1..=5u16 {
        let reply = common::read_framed(&mut stream).expect("reply");
        assert_eq!(u16::from_be_bytes([reply[0], reply[1]]), id);
        assert_eq!(u16::from_be_bytes([reply[6], reply[7]]), 1, "one answer");
    }
}

/// Whether the server closed `stream`: end of file or a reset, not a read timeout.
fn closed_by_server(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1];
    match stream.read(&mut buf) {
        Ok(0) => true,
        Ok(_) => false,
        Err(e) => matches!(
            e.kind(),
            std::io::ErrorKind::ConnectionReset | std::io::ErrorKind::ConnectionAborted
        ),
    }
}

/// One query and its reply on `stream`: the connection is accepted and served.
fn round_trip(stream: &mut TcpStream, id: u16) {
    common::write_framed(stream, &raw_query(id, WWW, 1));
    let reply = common::read_framed(stream).expect("a reply on this connection");
    assert_eq!(u16::from_be_bytes([reply[0], reply[1]]), id);
}

/// A TCP connection to `server` from `source` (a loopback address), with a 3 s
/// read timeout.
fn connect_from(source: &str, server: std::net::SocketAddr) -> TcpStream {
    let socket =
        socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).expect("socket");
    let source: std::net::SocketAddr = format!("{source}:0").parse().expect("address");
    socket
        .bind(&source.into())
        .expect("bind the source address");
    socket.connect(&server.into()).expect("connect");
    let stream: TcpStream = socket.into();
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    stream
}

#[test]
fn tcp_idle_connections_are_closed() {
    let (z, _d) =
        common::start_with_config(&["tricky.example.zone"], "tcp_idle_timeout_secs = 1\n");
    let mut first = connect_from("127.0.0.1", z.addr);
    round_trip(&mut first, 1);
    // A silent client holds no worker: UDP is answered meanwhile.
    assert_eq!(
        z.query("www.tricky.example.", RecordType::A).answers.len(),
        1
    );
    // The idle one is closed after the timeout (1 s), not by our read timeout (3 s).
    let started = Instant::now();
    assert!(closed_by_server(&mut first), "idle: closed");
    assert!(started.elapsed() < Duration::from_millis(2500));
}

#[test]
fn at_the_cap_an_idle_connection_makes_room() {
    let (z, _d) = common::start_with_config(
        &["tricky.example.zone"],
        "tcp_idle_timeout_secs = 30\ntcp_max_connections = 2\n",
    );
    // Two clients fill the cap and go idle. (Which one has been idle longer is
    // the server's tasks' timing; the unit tests of net::connections check that
    // the longest idle goes first.)
    let mut first = connect_from("127.0.0.1", z.addr);
    round_trip(&mut first, 1);
    let mut second = connect_from("127.0.0.2", z.addr);
    round_trip(&mut second, 2);
    // A third is served, and one of the idle ones is closed to make room (RFC
    // 7766 6.2.3), well before its idle timeout; the other is still served.
    let mut third = connect_from("127.0.0.3", z.addr);
    round_trip(&mut third, 3);
    let started = Instant::now();
    first
        .set_read_timeout(Some(Duration::from_millis(1500)))
        .expect("timeout");
    let mut kept = if closed_by_server(&mut first) {
        second
    } else {
        assert!(
            closed_by_server(&mut second),
            "neither idle connection was closed for the new one"
        );
        first
    };
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "closed at once, not idle"
    );
    round_trip(&mut kept, 4);
    round_trip(&mut third, 5);
}

#[test]
fn one_client_cannot_take_every_connection() {
    let (z, _d) = common::start_with_config(
        &["tricky.example.zone"],
        "tcp_max_connections = 8\ntcp_max_connections_per_client = 2\n",
    );
    let mut held = [
        connect_from("127.0.0.1", z.addr),
        connect_from("127.0.0.1", z.addr),
    ];
    for (id, stream) in (1..).zip(&mut held) {
        round_trip(stream, id);
    }
    // Over its own cap: the client's new connections are closed at once, as fast
    // as it reconnects, and its open ones are not touched.
    for _ in 0..20 {
        let mut more = connect_from("127.0.0.1", z.addr);
        let started = Instant::now();
        assert!(closed_by_server(&mut more), "over the client's cap: closed");
        assert!(started.elapsed() < Duration::from_secs(2));
    }
    // Another client is served meanwhile. (One connection: the server counts a
    // closed one until it has seen it close.)
    let mut other = connect_from("127.0.0.2", z.addr);
    for id in 10..15 {
        round_trip(&mut other, id);
    }
    for (id, stream) in (20..).zip(&mut held) {
        round_trip(stream, id);
    }
}

#[test]
fn serves_ipv6_loopback() {
    // Every machine this project runs on has ::1; a missing one is a failure to
    // look into, not a test that passes unseen.
    assert!(
        std::net::UdpSocket::bind("[::1]:0").is_ok(),
        "no IPv6 loopback (::1) on this machine"
    );
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        common::data("tricky.example.zone"),
        dir.path().join("tricky.example.zone"),
    )
    .expect("copy");
    let port = common::unique_addr().port() + 1;
    let v6 = format!("[::1]:{port}");
    let z = Zonal::start(&[
        "--zone-dir",
        dir.path().to_str().expect("utf-8"),
        "--listen",
        &v6,
    ]);
    let addr: std::net::SocketAddr = v6.parse().expect("addr");
    let socket = std::net::UdpSocket::bind("[::1]:0").expect("bind");
    socket
        .set_read_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    socket.send_to(&raw_query(3, WWW, 28), addr).expect("send");
    let mut buf = [0u8; 512];
    let (len, _) = socket.recv_from(&mut buf).expect("reply over IPv6");
    assert!(len > 12);
    assert_eq!(buf[3] & 0xF, 0);
    drop(z);
}
