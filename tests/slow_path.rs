//! The hand-off of slow requests: the router defers an UPDATE to its handler, which
//! answers later on the socket the request came in on, while the UDP worker goes on
//! answering other queries. Real sockets on loopback, a test handler.

mod common;

use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use zonal::auth::ZoneSet;
use zonal::net::{Listeners, TcpLimits};
use zonal::server::{
    Outcome, OwnedRequest, ReplyFuture, Server, ServerOptions, SlowHandler, SlowReply, Transport,
};
use zonal::wire::name::parse_presentation;
use zonal::wire::{encode_query, OutgoingQuery};
use zonal::zonefile::load_zone_text;

/// Answers every request after a delay with its header turned into a reply, and
/// records who asked and how.
struct SlowEcho {
    delay: Duration,
    seen: Mutex<Vec<(SocketAddr, Transport)>>,
}

impl SlowHandler for SlowEcho {
    fn handle(self: Arc<Self>, request: OwnedRequest) -> ReplyFuture {
        if let Ok(mut seen) = self.seen.lock() {
            seen.push((request.client, request.transport));
        }
        let delay = self.delay;
        Box::pin(async move {
            tokio::time::sleep(delay).await;
            let mut message = request.packet;
            message[2] |= 0x80; // QR
            Some(SlowReply {
                message,
                outcome: Outcome {
                    route: zonal::server::Route::Update,
                    rcode: 0,
                    kind: zonal::auth::AnswerKind::Answer,
                    qtype: 6,
                    zone: None,
                    truncated: false,
                    cookie: zonal::exchange::CookieStatus::Absent,
                    wildcard: false,
                },
            })
        })
    }
}

fn packet(id: u16, name: &str, qtype: u16, opcode: u8) -> Vec<u8> {
    let qname = parse_presentation(name.as_bytes(), None).expect("name");
    let mut query = OutgoingQuery::new(&qname, qtype);
    query.id = id;
    query.opcode = opcode;
    let mut p = Vec::new();
    encode_query(&query, &mut p);
    p
}

#[test]
fn a_deferred_request_is_answered_later_and_blocks_no_worker() {
    let zone = load_zone_text(
        b"\x01z\x00",
        b"$TTL 60\n@ SOA ns hm 1 2 3 4 5\n@ NS ns\nns A 192.0.2.1\n",
        Path::new("z"),
    )
    .expect("zone");
    let handler = Arc::new(SlowEcho {
        delay: Duration::from_secs(2),
        seen: Mutex::new(Vec::new()),
    });
    let mut server = Server::new(ZoneSet::new([Arc::new(zone)]), ServerOptions::default());
    server.slow.update = Some(handler.clone());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let addr = common::unique_addr();
    // One UDP worker: if it waited for the handler, the plain query would wait too.
    Listeners::bind(&[addr], 1)
        .expect("bind")
        .serve(
            runtime.handle(),
            Arc::new(server),
            TcpLimits {
                idle_timeout: Duration::from_secs(5),
                max_connections: 8,
                max_connections_per_client: 8,
            },
        )
        .expect("serve");

    let client = UdpSocket::bind("127.0.0.1:0").expect("bind");
    client
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let started = Instant::now();
    client
        .send_to(&packet(1, "z.", 6, 5), addr)
        .expect("send UPDATE");
    client
        .send_to(&packet(2, "ns.z.", 1, 0), addr)
        .expect("send query");
    let mut buf = [0u8; 512];
    let (_, from) = client.recv_from(&mut buf).expect("first reply");
    assert_eq!(from, addr);
    assert_eq!(u16::from_be_bytes([buf[0], buf[1]]), 2, "the query first");
    // Well before the handler's 2 s: the worker did not wait for it.
    assert!(started.elapsed() < Duration::from_millis(1500));
    let (_, from) = client.recv_from(&mut buf).expect("the UPDATE's reply");
    assert_eq!(from, addr, "from the socket the request came to");
    assert_eq!(u16::from_be_bytes([buf[0], buf[1]]), 1);
    assert!(buf[2] & 0x80 != 0);
    assert!(started.elapsed() >= Duration::from_secs(2));

    // Over TCP the connection waits for it, then goes on.
    let mut stream = TcpStream::connect(addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    common::write_framed(&mut stream, &packet(3, "z.", 6, 5));
    common::write_framed(&mut stream, &packet(4, "ns.z.", 1, 0));
    let first = common::read_framed(&mut stream).expect("UPDATE reply over TCP");
    let second = common::read_framed(&mut stream).expect("query reply over TCP");
    assert_eq!(u16::from_be_bytes([first[0], first[1]]), 3);
    assert_eq!(u16::from_be_bytes([second[0], second[1]]), 4);

    let seen = handler.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 2);
    assert_eq!(
        seen[0],
        (client.local_addr().expect("addr"), Transport::Udp)
    );
    assert_eq!(seen[1].1, Transport::Tcp);
    runtime.shutdown_timeout(Duration::from_millis(100));
}
