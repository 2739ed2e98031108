//! DNS cookies (RFC 7873, RFC 9018) against the real server: what `dig +cookie`
//! and `kdig +cookie` see, a server cookie sent back, tampered with, stale or
//! malformed, the operator's `require_server_cookie` and `badcookie_slip`, a fleet
//! sharing a secret, a secret rotation, UPDATE replies, the metrics, and Knot
//! DNS's mod-cookies given the same questions (and the same secret: each accepts
//! the other's cookies).
//!
//! The cookies the tests send are made with `zonal::wire::cookie`, whose hashes
//! RFC 9018's test vectors check (its unit tests); the client is 127.0.0.1.

mod common;

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use common::Zonal;
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::opt::{EdnsCode, EdnsOption};
use zonal::wire::cookie::{now, CookieSecret, ServerSecrets};
use zonal::wire::name::parse_presentation;

/// The fleet's secret (RFC 9018 Appendix A's), and another one.
const SECRET: &str = "e5e973e5a6b2a43f48e7dc849e37bfcf";
const NEW_SECRET: &str = "445536bcd2513298075a5d379663c962";
/// The client cookie the tests send.
const CLIENT: [u8; 8] = [0x24, 0x64, 0xc4, 0xab, 0xcf, 0x10, 0xc9, 0x57];

fn secret(hex: &str) -> CookieSecret {
    let bytes = data_encoding::HEXLOWER.decode(hex.as_bytes()).expect("hex");
    CookieSecret::new(bytes.try_into().expect("16 bytes"))
}

fn secrets(current: &str) -> ServerSecrets {
    ServerSecrets {
        current: secret(current),
        previous: None,
    }
}

fn client_ip() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

/// A server cookie of `secret` for our client, made at `at` (Unix seconds).
fn cookie_made(secret: &str, at: u32) -> Vec<u8> {
    secrets(secret)
        .fresh(&CLIENT, client_ip(), at)
        .as_bytes()
        .to_vec()
}

/// zonal serving tricky.example with `extra` config.
fn start(extra: &str) -> (Zonal, tempfile::TempDir) {
    common::start_with_config(&["tricky.example.zone"], extra)
}

/// A query for www.tricky.example/A with EDNS and, when given, the COOKIE
/// option data `cookie`.
fn query(cookie: Option<&[u8]>) -> Vec<u8> {
    common::cookie_query("www.tricky.example.", 0x5151, cookie)
}

/// What a reply said: its rcode (extended ones included), its answers, and the
/// COOKIE option it carried.
#[derive(Debug)]
struct Reply {
    rcode: ResponseCode,
    answers: usize,
    cookie: Option<Vec<u8>>,
    opt: bool,
}

fn read(bytes: &[u8]) -> Reply {
    let m = Message::from_vec(bytes).expect("reply decodes");
    let cookie = m
        .edns
        .as_ref()
        .and_then(|e| match e.options().get(EdnsCode::Cookie) {
            Some(EdnsOption::Unknown(10, data)) => Some(data.clone()),
            _ => None,
        });
    Reply {
        rcode: m.metadata.response_code,
        answers: m.answers.len(),
        cookie,
        opt: m.edns.is_some(),
    }
}

/// Asks `addr` over UDP; `None` when no reply comes within a second.
fn udp(addr: SocketAddr, packet: &[u8]) -> Option<Reply> {
    common::udp_raw(addr, packet, Duration::from_secs(1)).map(|r| read(&r))
}

/// Asks `addr` over TCP.
fn tcp(addr: SocketAddr, packet: &[u8]) -> Reply {
    let mut stream = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(3)))
        .expect("timeout");
    common::write_framed(&mut stream, packet);
    read(&common::read_framed(&mut stream).expect("a reply over TCP"))
}

/// Checks that `cookie` is our client cookie with a version 1 server cookie of
/// `secret` made within the last minute; its timestamp.
fn assert_ours(cookie: &[u8], secret: &str) -> u32 {
    assert_eq!(cookie.len(), 24, "client + server cookie: {cookie:02x?}");
    assert_eq!(&cookie[..8], &CLIENT, "our client cookie comes back");
    assert_eq!(&cookie[8..12], &[1, 0, 0, 0], "version 1, reserved zero");
    let at = u32::from_be_bytes([cookie[12], cookie[13], cookie[14], cookie[15]]);
    assert!(now().wrapping_sub(at) < 60, "made now: {at}");
    assert_eq!(cookie, cookie_made(secret, at), "made with {secret}");
    at
}

/// Whether `addr` answers www.tricky.example over UDP.
fn answers_www(addr: SocketAddr) -> bool {
    udp(addr, &query(None)).is_some_and(|r| r.answers == 1)
}

/// The value of `name` in a scrape of zonal's metrics endpoint.
fn metric(zonal: &Zonal, name: &str) -> f64 {
    let scrape = common::scrape(common::metrics_addr(zonal.addr));
    scrape.get(name).copied().unwrap_or(0.0)
}

/// Runs kdig against `addr` with `args`; its stdout.
fn kdig(addr: SocketAddr, args: &[&str]) -> String {
    let out = Command::new("kdig")
        .arg(format!("@{}", addr.ip()))
        .args(["-p", &addr.port().to_string(), "+timeout=2", "+retry=0"])
        .args(args)
        .output()
        .expect("kdig runs (install knot-dnsutils)");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The cookie dig or kdig printed (`COOKIE: <hex>`), as bytes.
fn printed_cookie(out: &str) -> Vec<u8> {
    let hex = out
        .lines()
        .find_map(|l| l.split("COOKIE: ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no COOKIE in:\n{out}"));
    data_encoding::HEXLOWER_PERMISSIVE
        .decode(hex.as_bytes())
        .unwrap_or_else(|_| panic!("not hex: {hex}"))
}

#[test]
fn dig_and_kdig_get_our_server_cookie_and_sending_it_back_is_accepted() {
    let (z, _d) = start(&format!("cookie_secret = \"{SECRET}\"\n"));
    let client = data_encoding::HEXLOWER.encode(&CLIENT);
    // dig +cookie with our client cookie: the reply carries it with a server cookie.
    let out = z.dig(&[&format!("+cookie={client}"), "www.tricky.example.", "A"]);
    assert!(
        out.contains("status: NOERROR") && out.contains("ANSWER: 1"),
        "{out}"
    );
    assert!(
        out.contains("(good)"),
        "dig checks the client cookie:\n{out}"
    );
    let given = printed_cookie(&out);
    assert_ours(&given, SECRET);
    // Sent back, it is valid: young, it comes back as it was (RFC 7873 5.2.5 (a)).
    let hex = data_encoding::HEXLOWER.encode(&given);
    let out = z.dig(&[&format!("+cookie={hex}"), "www.tricky.example.", "A"]);
    assert!(out.contains("ANSWER: 1"), "{out}");
    assert_eq!(printed_cookie(&out), given, "{out}");
    // kdig +cookie: a client cookie of its own, a server cookie of ours.
    let out = kdig(z.addr, &["+cookie", "www.tricky.example.", "A"]);
    assert!(
        out.contains("NOERROR") && out.contains("192.0.2.10"),
        "{out}"
    );
    let kdig_cookie = printed_cookie(&out);
    assert_eq!(kdig_cookie.len(), 24, "{out}");
    // And sending it back.
    let hex = data_encoding::HEXLOWER.encode(&kdig_cookie);
    let out = kdig(
        z.addr,
        &[&format!("+cookie={hex}"), "www.tricky.example.", "A"],
    );
    assert!(
        out.contains("NOERROR") && out.contains("192.0.2.10"),
        "{out}"
    );
    assert_eq!(printed_cookie(&out), kdig_cookie, "{out}");
    // Without a cookie, none comes back.
    let out = z.dig(&["+nocookie", "www.tricky.example.", "A"]);
    assert!(
        out.contains("ANSWER: 1") && !out.contains("COOKIE"),
        "{out}"
    );
}

#[test]
fn a_tampered_or_stale_cookie_is_answered_with_a_new_one() {
    let (z, _d) = start(&format!("cookie_secret = \"{SECRET}\"\n"));
    let reply = udp(z.addr, &query(Some(&CLIENT))).expect("a reply");
    let given = reply.cookie.expect("a cookie");
    assert_ours(&given, SECRET);
    // One bit of the hash changed: still answered (cookies are not required), with
    // a fresh cookie.
    let mut tampered = given.clone();
    tampered[23] ^= 1;
    let reply = udp(z.addr, &query(Some(&tampered))).expect("a reply");
    assert_eq!((reply.rcode, reply.answers), (ResponseCode::NoError, 1));
    assert_ours(&reply.cookie.expect("a cookie"), SECRET);
    // RFC 9018 4.3: valid for an hour; renewed once more than half an hour old.
    let old = cookie_made(SECRET, now() - 2400);
    let reply = udp(z.addr, &query(Some(&old))).expect("a reply");
    let renewed = reply.cookie.expect("a cookie");
    assert_ne!(renewed, old);
    assert_ours(&renewed, SECRET);
    let young = cookie_made(SECRET, now() - 600);
    let reply = udp(z.addr, &query(Some(&young))).expect("a reply");
    assert_eq!(
        reply.cookie.as_deref(),
        Some(&young[..]),
        "a young one comes back"
    );
    // Over an hour old, or more than 5 minutes ahead: answered, with a fresh one.
    for stale in [
        cookie_made(SECRET, now() - 3700),
        cookie_made(SECRET, now() + 400),
    ] {
        let reply = udp(z.addr, &query(Some(&stale))).expect("a reply");
        assert_eq!(reply.answers, 1);
        assert_ours(&reply.cookie.expect("a cookie"), SECRET);
    }
    // A server cookie that is not ours in length (8 bytes): the same.
    let mut short = CLIENT.to_vec();
    short.extend_from_slice(&[7; 8]);
    let reply = udp(z.addr, &query(Some(&short))).expect("a reply");
    assert_ours(&reply.cookie.expect("a cookie"), SECRET);
    // Over TCP alike.
    let reply = tcp(z.addr, &query(Some(&tampered)));
    assert_eq!(reply.answers, 1);
    assert_ours(&reply.cookie.expect("a cookie"), SECRET);
}

#[test]
fn a_malformed_cookie_is_formerr_and_the_next_query_is_answered() {
    let (z, _d) = start("");
    // RFC 7873 5.2.2: lengths other than 8 and 16 to 40 (dig +ednsopt sends any).
    for option in [
        "10:0102",
        "10:01020304050607080910",
        &format!("10:{}", "ab".repeat(41)),
    ] {
        let out = z.dig(&[
            "+nocookie",
            &format!("+ednsopt={option}"),
            "www.tricky.example.",
            "A",
        ]);
        assert!(out.contains("status: FORMERR"), "{option}:\n{out}");
        let out = z.dig(&["www.tricky.example.", "A"]);
        assert!(
            out.contains("status: NOERROR") && out.contains("ANSWER: 1"),
            "{out}"
        );
    }
    // With the question and an OPT record (as Knot DNS and BIND), over UDP and TCP.
    for len in [0usize, 7, 9, 15, 41] {
        let reply = udp(z.addr, &query(Some(&vec![3; len]))).expect("a reply");
        assert_eq!(reply.rcode, ResponseCode::FormErr, "length {len}");
        assert!(
            reply.opt && reply.cookie.is_none(),
            "length {len}: {reply:?}"
        );
    }
    let reply = tcp(z.addr, &query(Some(&[3; 9])));
    assert_eq!(reply.rcode, ResponseCode::FormErr);
    assert!(answers_www(z.addr));
    // kdig alike.
    let out = kdig(z.addr, &["+ednsopt=10:0102", "www.tricky.example.", "A"]);
    assert!(out.contains("FORMERR"), "{out}");
}

#[test]
fn required_cookies_get_badcookie_over_udp_and_tcp_is_answered() {
    let dir = common::data_dir(&["tricky.example.zone"]);
    let addr = common::unique_addr();
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \"{}\"\ncookie_secret = \"{SECRET}\"\nrequire_server_cookie = true\n\
             metrics_listen = \"{}\"\n",
            dir.path().display(),
            common::metrics_addr(addr)
        ),
    )
    .expect("config");
    let z = Zonal::start_at(addr, &["--config", config.to_str().expect("utf-8")]);
    // A client cookie alone: BADCOOKIE, the question and a fresh cookie, no answer.
    let reply = udp(z.addr, &query(Some(&CLIENT))).expect("a reply");
    assert_eq!((reply.rcode, reply.answers), (ResponseCode::BADCOOKIE, 0));
    let given = reply.cookie.expect("a cookie with BADCOOKIE");
    assert_ours(&given, SECRET);
    // With that cookie: answered.
    let reply = udp(z.addr, &query(Some(&given))).expect("a reply");
    assert_eq!((reply.rcode, reply.answers), (ResponseCode::NoError, 1));
    // Tampered: BADCOOKIE again.
    let mut tampered = given.clone();
    tampered[20] ^= 0x80;
    let reply = udp(z.addr, &query(Some(&tampered))).expect("a reply");
    assert_eq!(reply.rcode, ResponseCode::BADCOOKIE);
    // Over TCP, which proves the address: answered, with a cookie.
    let reply = tcp(z.addr, &query(Some(&tampered)));
    assert_eq!((reply.rcode, reply.answers), (ResponseCode::NoError, 1));
    assert_ours(&reply.cookie.expect("a cookie"), SECRET);
    // Without a cookie at all: answered (a client that knows nothing of cookies).
    let reply = udp(z.addr, &query(None)).expect("a reply");
    assert_eq!((reply.rcode, reply.cookie), (ResponseCode::NoError, None));
    // dig retries a BADCOOKIE with the cookie it was given, and gets the answer.
    let out = z.dig(&["+cookie", "www.tricky.example.", "A"]);
    assert!(
        out.contains("status: NOERROR") && out.contains("ANSWER: 1"),
        "{out}"
    );
    let out = z.dig(&["+cookie", "+nobadcookie", "www.tricky.example.", "A"]);
    assert!(out.contains("status: BADCOOKIE"), "{out}");
    // The counters: client cookies alone, valid and invalid ones, BADCOOKIE sent.
    assert!(metric(&z, r#"zonal_cookies_total{result="client_only"}"#) >= 3.0);
    assert!(metric(&z, r#"zonal_cookies_total{result="valid"}"#) >= 2.0);
    assert!(metric(&z, r#"zonal_cookies_total{result="invalid"}"#) >= 2.0);
    assert!(metric(&z, "zonal_badcookie_total") >= 4.0);
}

#[test]
fn badcookie_slip_answers_one_in_n_and_counts_the_rest() {
    let dir = common::data_dir(&["tricky.example.zone"]);
    let addr = common::unique_addr();
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \"{}\"\nrequire_server_cookie = true\nbadcookie_slip = 3\n\
             metrics_listen = \"{}\"\n",
            dir.path().display(),
            common::metrics_addr(addr)
        ),
    )
    .expect("config");
    // One worker: the slip is counted per worker.
    let z = Zonal::start_at(addr, &["--config", config.to_str().expect("utf-8")]);
    let answered: Vec<bool> = (0..6)
        .map(|_| udp(z.addr, &query(Some(&CLIENT))).is_some())
        .collect();
    assert_eq!(answered, [true, false, false, true, false, false]);
    assert_eq!(
        metric(&z, r#"zonal_dropped_total{reason="badcookie"}"#),
        4.0
    );
    assert_eq!(metric(&z, "zonal_badcookie_total"), 2.0);
    // TCP is never slipped.
    assert_eq!(tcp(z.addr, &query(Some(&CLIENT))).answers, 1);
}

#[test]
fn a_fleet_sharing_a_secret_accepts_each_others_cookies() {
    let fleet = format!("cookie_secret = \"{SECRET}\"\nrequire_server_cookie = true\n");
    let (a, _da) = start(&fleet);
    let (b, _db) = start(&fleet);
    let (other, _do) = start(&format!(
        "cookie_secret = \"{NEW_SECRET}\"\nrequire_server_cookie = true\n"
    ));
    let given = udp(a.addr, &query(Some(&CLIENT)))
        .expect("a reply")
        .cookie
        .expect("a cookie");
    assert_ours(&given, SECRET);
    // B takes A's cookie as its own.
    let reply = udp(b.addr, &query(Some(&given))).expect("a reply");
    assert_eq!((reply.rcode, reply.answers), (ResponseCode::NoError, 1));
    // A server with another secret does not.
    let reply = udp(other.addr, &query(Some(&given))).expect("a reply");
    assert_eq!(reply.rcode, ResponseCode::BADCOOKIE);
    assert_ours(&reply.cookie.expect("a cookie"), NEW_SECRET);
}

#[test]
fn a_rotation_accepts_cookies_of_the_previous_secret() {
    // RFC 9018 5, stage 2: the new secret makes cookies, the old one still checks.
    let (z, _d) = start(&format!(
        "cookie_secret = \"{NEW_SECRET}\"\ncookie_secret_previous = \"{SECRET}\"\n\
         require_server_cookie = true\n"
    ));
    let old = cookie_made(SECRET, now() - 60);
    let reply = udp(z.addr, &query(Some(&old))).expect("a reply");
    assert_eq!((reply.rcode, reply.answers), (ResponseCode::NoError, 1));
    // Answered with a cookie of the new secret, which is then valid too.
    let renewed = reply.cookie.expect("a cookie");
    assert_ours(&renewed, NEW_SECRET);
    let reply = udp(z.addr, &query(Some(&renewed))).expect("a reply");
    assert_eq!(reply.rcode, ResponseCode::NoError);
    // Stage 3: the old secret gone, its cookies are not valid any more.
    let (z, _d) = start(&format!(
        "cookie_secret = \"{NEW_SECRET}\"\nrequire_server_cookie = true\n"
    ));
    let reply = udp(z.addr, &query(Some(&old))).expect("a reply");
    assert_eq!(reply.rcode, ResponseCode::BADCOOKIE);
}

#[test]
fn a_query_without_a_question_asks_for_a_server_cookie() {
    // RFC 7873 5.4: dig +header-only sends no question.
    let (z, _d) = start(&format!(
        "cookie_secret = \"{SECRET}\"\nrequire_server_cookie = true\n"
    ));
    let client = data_encoding::HEXLOWER.encode(&CLIENT);
    let out = z.dig(&["+header-only", &format!("+cookie={client}")]);
    assert!(
        out.contains("status: NOERROR") && out.contains("QUERY: 0, ANSWER: 0"),
        "{out}"
    );
    let given = printed_cookie(&out);
    assert_ours(&given, SECRET);
    // With it: NOERROR; tampered: BADCOOKIE (RFC 7873 5.4).
    let hex = data_encoding::HEXLOWER.encode(&given);
    let out = z.dig(&["+header-only", &format!("+cookie={hex}")]);
    assert!(out.contains("status: NOERROR"), "{out}");
    let mut tampered = given.clone();
    tampered[23] ^= 1;
    let hex = data_encoding::HEXLOWER.encode(&tampered);
    let out = z.dig(&["+header-only", "+nobadcookie", &format!("+cookie={hex}")]);
    assert!(out.contains("status: BADCOOKIE"), "{out}");
    // Without a cookie, FORMERR (RFC 9619); and so with cookies off.
    let out = z.dig(&["+header-only", "+nocookie"]);
    assert!(out.contains("status: FORMERR"), "{out}");
    let (off, _d) = start("cookies = false\n");
    let out = off.dig(&["+header-only", "+cookie"]);
    assert!(out.contains("status: FORMERR"), "{out}");
}

#[test]
fn cookies_off_leaves_replies_as_they_were() {
    let (z, _d) = start("cookies = false\n");
    let reply = udp(z.addr, &query(Some(&CLIENT))).expect("a reply");
    assert_eq!((reply.rcode, reply.answers), (ResponseCode::NoError, 1));
    assert!(reply.opt && reply.cookie.is_none(), "{reply:?}");
    let out = z.dig(&["+cookie", "www.tricky.example.", "A"]);
    assert!(
        out.contains("ANSWER: 1") && !out.contains("COOKIE:"),
        "{out}"
    );
}

#[test]
fn update_replies_carry_the_cookie() {
    let (z, _d) = start(&format!("cookie_secret = \"{SECRET}\"\n"));
    // An UPDATE of tricky.example (zone section: its SOA), unsigned: REFUSED,
    // with an OPT carrying our cookie.
    let mut update = query(Some(&CLIENT));
    update[2] = 5 << 3; // opcode UPDATE
    let origin = parse_presentation(b"tricky.example.", None).expect("name");
    let mut zone_section = origin.clone();
    zone_section.extend_from_slice(&[0, 6, 0, 1]);
    let question_end = 12 + "www.tricky.example.".len() + 1 + 4;
    update.splice(12..question_end, zone_section);
    let reply = udp(z.addr, &update).expect("a reply");
    assert_eq!(reply.rcode, ResponseCode::Refused);
    assert_ours(&reply.cookie.expect("a cookie"), SECRET);
}

/// Knot DNS with mod-cookies and zonal requiring cookies, given the same secret
/// and the same questions: where they agree (asserted) and the two places they
/// differ: a query without a question (RFC 7873 5.4), and a valid cookie that
/// Knot sends back whatever its age where zonal renews it after half an hour, as
/// RFC 9018 4.3 says it should.
#[test]
fn knot_mod_cookies_and_zonal_agree_and_take_each_others_cookies() {
    let zones = common::data_dir(&["tricky.example.zone"]);
    let run = tempfile::tempdir().expect("tempdir");
    let sections = format!(
        "mod-cookies:\n  - id: fleet\n    secret: 0x{SECRET}\n\
         template:\n  - id: default\n    storage: {zones}\n    zonefile-sync: -1\n    \
         zonefile-load: whole\n    journal-content: none\n    global-module: mod-cookies/fleet\n\
         zone:\n  - domain: tricky.example\n    file: tricky.example.zone\n",
        zones = zones.path().display(),
    );
    let knot = common::knot::start_with(
        common::unique_addr(),
        run.path(),
        &sections,
        "tricky.example.",
    );
    let (z, _d) = start(&format!(
        "cookie_secret = \"{SECRET}\"\nrequire_server_cookie = true\n"
    ));
    let servers = [("knot", knot.addr), ("zonal", z.addr)];
    for (who, addr) in servers {
        // A client cookie alone over UDP: BADCOOKIE with a cookie made as RFC 9018 says.
        let reply = udp(addr, &query(Some(&CLIENT))).expect("a reply");
        assert_eq!(
            (reply.rcode, reply.answers),
            (ResponseCode::BADCOOKIE, 0),
            "{who}"
        );
        let given = reply.cookie.expect("a cookie");
        assert_ours(&given, SECRET);
        // Valid: answered, the cookie sent back as it came.
        let reply = udp(addr, &query(Some(&given))).expect("a reply");
        assert_eq!(
            (reply.rcode, reply.answers),
            (ResponseCode::NoError, 1),
            "{who}"
        );
        assert_eq!(reply.cookie.as_deref(), Some(&given[..]), "{who}");
        // One made 10 minutes ago (a fresh one would differ): sent back as it came.
        let earlier = cookie_made(SECRET, now() - 600);
        let reply = udp(addr, &query(Some(&earlier))).expect("a reply");
        assert_eq!(reply.rcode, ResponseCode::NoError, "{who}");
        assert_eq!(reply.cookie.as_deref(), Some(&earlier[..]), "{who}");
        // Made by the other server: valid here too.
        for (other, other_addr) in servers {
            let theirs = udp(other_addr, &query(Some(&CLIENT)))
                .expect("a reply")
                .cookie
                .expect("a cookie");
            let reply = udp(addr, &query(Some(&theirs))).expect("a reply");
            assert_eq!(
                reply.rcode,
                ResponseCode::NoError,
                "{who} takes {other}'s cookie"
            );
        }
        // Tampered: BADCOOKIE; over TCP: answered.
        let mut tampered = given.clone();
        tampered[23] ^= 1;
        let reply = udp(addr, &query(Some(&tampered))).expect("a reply");
        assert_eq!(reply.rcode, ResponseCode::BADCOOKIE, "{who}");
        let reply = tcp(addr, &query(Some(&tampered)));
        assert_eq!(
            (reply.rcode, reply.answers),
            (ResponseCode::NoError, 1),
            "{who}"
        );
        assert_ours(&reply.cookie.expect("a cookie"), SECRET);
        // Stale (70 minutes): BADCOOKIE.
        let stale = cookie_made(SECRET, now() - 4200);
        let reply = udp(addr, &query(Some(&stale))).expect("a reply");
        assert_eq!(reply.rcode, ResponseCode::BADCOOKIE, "{who}");
        // Malformed: FORMERR; no cookie: answered without one.
        let reply = udp(addr, &query(Some(&[1, 2, 3]))).expect("a reply");
        assert_eq!(reply.rcode, ResponseCode::FormErr, "{who}");
        assert!(reply.opt, "{who}: FORMERR with an OPT");
        let reply = udp(addr, &query(None)).expect("a reply");
        assert_eq!(
            (reply.rcode, reply.cookie),
            (ResponseCode::NoError, None),
            "{who}"
        );
        // kdig +cookie sees the same.
        let out = kdig(addr, &["+cookie", "+tcp", "www.tricky.example.", "A"]);
        assert!(
            out.contains("NOERROR") && out.contains("192.0.2.10"),
            "{who}: {out}"
        );
    }
    // Where they differ: a query without a question asking for a cookie (RFC 7873
    // 5.4) is FORMERR from Knot, answered by zonal (as by BIND).
    let header_only = |addr: SocketAddr| {
        let out = Command::new("dig")
            .arg(format!("@{}", addr.ip()))
            .args(["-p", &addr.port().to_string(), "+time=2", "+tries=1"])
            .args(["+header-only", "+cookie", "+nobadcookie"])
            .output()
            .expect("dig runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let (knot_out, zonal_out) = (header_only(knot.addr), header_only(z.addr));
    assert!(knot_out.contains("status: FORMERR"), "{knot_out}");
    assert!(
        zonal_out.contains("NOERROR") && zonal_out.contains("COOKIE"),
        "{zonal_out}"
    );
    // And a valid cookie 40 minutes old is sent back by Knot as it
    // came, and renewed by zonal (RFC 9018 4.3: SHOULD, past half an hour).
    let old = cookie_made(SECRET, now() - 2400);
    let knot_reply = udp(knot.addr, &query(Some(&old))).expect("a reply");
    assert_eq!(knot_reply.rcode, ResponseCode::NoError);
    assert_eq!(knot_reply.cookie.as_deref(), Some(&old[..]));
    let zonal_reply = udp(z.addr, &query(Some(&old))).expect("a reply");
    assert_eq!(zonal_reply.rcode, ResponseCode::NoError);
    assert_ours(&zonal_reply.cookie.expect("a cookie"), SECRET);
}
