//! Operations end to end: the metrics endpoint (exact counter deltas, checked by
//! `promtool` and scraped by a real Prometheus server), zone files reloaded while
//! serving (an edit, a broken edit, a new file, SIGHUP with a changed config), and
//! a clean stop during TCP traffic.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{answers, http_get, metrics_addr, query, scrape, unique_addr, Zonal};
use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::RecordType;

fn delta(before: &BTreeMap<String, f64>, after: &BTreeMap<String, f64>, key: &str) -> f64 {
    after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0)
}

/// zonal on a fresh address with the zones of `dir` and the metrics endpoint on.
fn start(dir: &Path, extra: &[&str]) -> (Zonal, SocketAddr) {
    let addr = unique_addr();
    let metrics = metrics_addr(addr);
    let mut args = vec!["--zone-dir", dir.to_str().expect("utf-8"), "--metrics"];
    let metrics_text = metrics.to_string();
    args.push(&metrics_text);
    args.extend_from_slice(extra);
    (Zonal::start_at(addr, &args), metrics)
}

const ZONE: &str = "$ORIGIN ops.test.\n$TTL 300\n@ SOA ns hostmaster 1 3600 600 86400 300\n@ NS ns\nns A 192.0.2.1\nwww A 192.0.2.10\n";

fn zone_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("ops.test.zone"), ZONE).expect("zone");
    dir
}

fn a_of(z: &Zonal, name: &str) -> Vec<String> {
    answers(&z.query(name, RecordType::A))
}

/// How soon a change must show (the issue's bound).
const TWO_SECONDS: Duration = Duration::from_secs(2);

/// Waits up to 2 s for `check`.
fn within_two_seconds(check: impl FnMut() -> bool) -> bool {
    common::eventually(TWO_SECONDS, check)
}

#[test]
fn counters_move_by_exactly_what_was_asked() {
    let dir = zone_dir();
    let (z, metrics) = start(dir.path(), &["--no-recursion"]);
    assert_eq!(http_get(metrics, "/healthz").0, 200);
    assert_eq!(http_get(metrics, "/readyz").0, 200);
    let before = scrape(metrics);
    for _ in 0..3 {
        assert_eq!(a_of(&z, "www.ops.test."), ["www.ops.test. A 192.0.2.10"]);
    }
    let nx = z.tcp(&query("nope.ops.test.", RecordType::A, None));
    assert_eq!(nx.metadata.response_code, ResponseCode::NXDomain);
    let refused = z.query("www.elsewhere.example.", RecordType::A);
    assert_eq!(refused.metadata.response_code, ResponseCode::Refused);
    let nodata = z.query("www.ops.test.", RecordType::AAAA);
    assert!(nodata.answers.is_empty());
    // A malformed query (QDCOUNT 2): FORMERR. A response sent to us: dropped.
    let mut bad = query("www.ops.test.", RecordType::A, None)
        .to_vec()
        .expect("encode");
    bad[5] = 2;
    let reply = z
        .udp_raw(&bad, Duration::from_secs(2))
        .expect("a FORMERR reply");
    assert_eq!(reply[3] & 0x0F, 1);
    let mut response = query("www.ops.test.", RecordType::A, None)
        .to_vec()
        .expect("encode");
    response[2] |= 0x80;
    assert!(z.udp_raw(&response, Duration::from_millis(300)).is_none());
    let after = scrape(metrics);
    let d = |key: &str| delta(&before, &after, key);
    assert_eq!(
        d(r#"zonal_queries_total{transport="udp",qtype="A",rcode="NOERROR"}"#),
        3.0
    );
    assert_eq!(
        d(r#"zonal_queries_total{transport="tcp",qtype="A",rcode="NXDOMAIN"}"#),
        1.0
    );
    assert_eq!(
        d(r#"zonal_queries_total{transport="udp",qtype="A",rcode="REFUSED"}"#),
        1.0
    );
    assert_eq!(
        d(r#"zonal_queries_total{transport="udp",qtype="AAAA",rcode="NOERROR"}"#),
        1.0
    );
    assert_eq!(d(r#"zonal_answers_total{kind="answer"}"#), 3.0);
    assert_eq!(d(r#"zonal_answers_total{kind="nxdomain"}"#), 1.0);
    assert_eq!(d(r#"zonal_answers_total{kind="nodata"}"#), 1.0);
    assert_eq!(d(r#"zonal_answers_total{kind="refused"}"#), 1.0);
    assert_eq!(d(r#"zonal_answers_total{kind="error"}"#), 1.0);
    assert_eq!(d("zonal_malformed_total"), 1.0);
    assert_eq!(d(r#"zonal_dropped_total{reason="invalid"}"#), 1.0);
    assert_eq!(
        d(r#"zonal_response_duration_seconds_count{transport="udp"}"#),
        6.0
    );
    assert_eq!(
        d(r#"zonal_response_duration_seconds_count{transport="tcp"}"#),
        1.0
    );
    assert_eq!(
        after.get(r#"zonal_zone_serial{zone="ops.test."}"#),
        Some(&1.0)
    );
    assert_eq!(
        after.get(r#"zonal_zone_records{zone="ops.test."}"#),
        Some(&4.0)
    );
    assert_eq!(after.get("zonal_zones"), Some(&1.0));
    assert!(after
        .get("process_resident_memory_bytes")
        .is_some_and(|v| *v > 0.0));
}

#[test]
fn promtool_finds_no_problem_in_the_metrics() {
    let dir = zone_dir();
    let (z, metrics) = start(dir.path(), &[]);
    let _ = a_of(&z, "www.ops.test.");
    let (_, body) = http_get(metrics, "/metrics");
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (apt-get install prometheus)");
    check
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("write");
    let out = check.wait_with_output().expect("promtool ends");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool: {said}"
    );
}

/// A Prometheus server started by the test; killed when dropped.
struct Prometheus {
    child: Child,
    _dir: tempfile::TempDir,
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn a_real_prometheus_scrapes_zonal() {
    let dir = zone_dir();
    let (_z, metrics) = start(dir.path(), &[]);
    let web = SocketAddr::new(metrics.ip(), metrics.port() + 1);
    let data = tempfile::tempdir().expect("tempdir");
    let config = data.path().join("prometheus.yml");
    std::fs::write(
        &config,
        format!("global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: zonal\n    static_configs:\n      - targets: ['{metrics}']\n"),
    )
    .expect("config");
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!(
            "--storage.tsdb.path={}",
            data.path().join("tsdb").display()
        ))
        .arg(format!("--web.listen-address={web}"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("prometheus runs (apt-get install prometheus)");
    let _prometheus = Prometheus { child, _dir: data };
    let mut last = String::new();
    let scraped = common::eventually(Duration::from_secs(30), || {
        last.clear();
        if let Ok(mut stream) = TcpStream::connect(web) {
            let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
            let _ = write!(
                stream,
                "GET /api/v1/query?query=zonal_zone_serial HTTP/1.1\r\nHost: p\r\nConnection: close\r\n\r\n"
            );
            let _ = stream.read_to_string(&mut last);
        }
        last.contains(r#""zone":"ops.test.""#)
    });
    assert!(scraped, "Prometheus never had zonal_zone_serial: {last}");
    assert!(
        last.contains(r#""1"]"#),
        "serial 1 through Prometheus: {last}"
    );
}

#[test]
fn zone_files_are_reloaded_as_they_change() {
    let dir = zone_dir();
    let (z, metrics) = start(dir.path(), &[]);
    let file = dir.path().join("ops.test.zone");
    // An edit (written in two steps, as editors do) is served within two seconds.
    std::fs::write(
        &file,
        ZONE.replace("192.0.2.10", "192.0.2.99")
            .replace("@ NS ns\n", ""),
    )
    .expect("write");
    std::fs::write(&file, ZONE.replace("192.0.2.10", "192.0.2.99")).expect("write");
    assert!(within_two_seconds(
        || a_of(&z, "www.ops.test.") == ["www.ops.test. A 192.0.2.99"]
    ));
    // A broken edit: the old answers stay, the failure is counted and logged with file:line.
    std::fs::write(
        &file,
        format!(
            "{}www A not-an-address\n",
            ZONE.replace("192.0.2.10", "192.0.2.99")
        ),
    )
    .expect("write");
    assert!(within_two_seconds(|| {
        scrape(metrics).get(r#"zonal_zone_load_failures_total{zone="ops.test."}"#) == Some(&1.0)
    }));
    assert_eq!(a_of(&z, "www.ops.test."), ["www.ops.test. A 192.0.2.99"]);
    assert!(z.stderr().contains("ops.test.zone:7"), "{}", z.stderr());
    // A new file in the folder is a new zone; a removed one goes.
    std::fs::write(
        dir.path().join("new.test.zone"),
        ZONE.replace("ops.test.", "new.test."),
    )
    .expect("write");
    assert!(within_two_seconds(
        || a_of(&z, "www.new.test.") == ["www.new.test. A 192.0.2.10"]
    ));
    std::fs::remove_file(dir.path().join("new.test.zone")).expect("remove");
    assert!(within_two_seconds(|| {
        z.query("www.new.test.", RecordType::A)
            .metadata
            .response_code
            == ResponseCode::Refused
    }));
}

#[test]
fn sighup_rereads_the_config() {
    let dir = zone_dir();
    let other = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        other.path().join("extra.zone"),
        ZONE.replace("ops.test.", "extra.test."),
    )
    .expect("write");
    let config = dir.path().join("zonal.toml");
    let base = format!("zone_dir = \"{}\"\n", dir.path().display());
    std::fs::write(&config, &base).expect("config");
    let z = Zonal::start_at(
        unique_addr(),
        &["--config", config.to_str().expect("utf-8")],
    );
    assert_eq!(
        z.query("www.extra.test.", RecordType::A)
            .metadata
            .response_code,
        ResponseCode::Refused
    );
    std::fs::write(
        &config,
        format!(
            "{base}[[zone]]\nname = \"extra.test\"\nfile = \"{}\"\n",
            other.path().join("extra.zone").display()
        ),
    )
    .expect("config");
    let hup = Command::new("kill")
        .args(["-HUP", &z.pid().to_string()])
        .status()
        .expect("kill");
    assert!(hup.success());
    assert!(within_two_seconds(
        || a_of(&z, "www.extra.test.") == ["www.extra.test. A 192.0.2.10"]
    ));
}

#[test]
fn sigterm_during_tcp_traffic_answers_what_was_sent_and_exits_0() {
    let dir = zone_dir();
    let mut z = Zonal::start_at(
        unique_addr(),
        &["--zone-dir", dir.path().to_str().expect("utf-8")],
    );
    let mut stream = TcpStream::connect(z.addr).expect("tcp");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let sent = 200u16;
    let mut batch = Vec::new();
    for id in 0..sent {
        let mut q = query("www.ops.test.", RecordType::A, None);
        q.metadata.id = id;
        let bytes = q.to_vec().expect("encode");
        batch.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        batch.extend_from_slice(&bytes);
    }
    stream.write_all(&batch).expect("send");
    let term = Command::new("kill")
        .args(["-TERM", &z.pid().to_string()])
        .status()
        .expect("kill");
    assert!(term.success());
    let mut answered = 0u16;
    while let Some(reply) = common::read_framed(&mut stream) {
        let m = Message::from_vec(&reply).expect("decode");
        assert_eq!(m.metadata.id, answered, "in order");
        answered += 1;
    }
    assert_eq!(
        answered, sent,
        "every query sent before SIGTERM is answered"
    );
    let status = z.wait_exit(Duration::from_secs(10));
    assert_eq!(status, Some(0), "{}", z.stderr());
}

#[test]
fn a_reload_respects_dynamic_updates() {
    let dir = zone_dir();
    let state = tempfile::tempdir().expect("tempdir");
    let key = state.path().join("k.key");
    std::fs::write(&key, "key \"k\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IDEyMzQ=\";\n};\n")
        .expect("key");
    let state_dir = state.path().join("state");
    let args = |dir: &Path| {
        vec![
            "--zone-dir".to_owned(),
            dir.to_str().expect("utf-8").to_owned(),
            "--tsig-key".to_owned(),
            key.to_str().expect("utf-8").to_owned(),
            "--allow-update".to_owned(),
            "k".to_owned(),
            "--state-dir".to_owned(),
            state_dir.to_str().expect("utf-8").to_owned(),
        ]
    };
    let addr = unique_addr();
    let owned = args(dir.path());
    let argv: Vec<&str> = owned.iter().map(String::as_str).collect();
    let mut z = Zonal::start_at(addr, &argv);
    // An update: serial 1 → 2, a new name.
    let mut nsupdate = Command::new("nsupdate")
        .args(["-t", "3", "-k", key.to_str().expect("utf-8")])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nsupdate runs (install bind9-dnsutils)");
    let script = format!(
        "server {} {}\nzone ops.test\nupdate add dyn.ops.test 300 A 192.0.2.77\nsend\n",
        addr.ip(),
        addr.port()
    );
    nsupdate
        .stdin
        .take()
        .expect("stdin")
        .write_all(script.as_bytes())
        .expect("script");
    assert!(nsupdate
        .wait_with_output()
        .expect("nsupdate ends")
        .status
        .success());
    assert_eq!(a_of(&z, "dyn.ops.test."), ["dyn.ops.test. A 192.0.2.77"]);
    // The file edited without raising the serial over the updated one: not applied.
    let file = dir.path().join("ops.test.zone");
    std::fs::write(&file, ZONE.replace("192.0.2.10", "192.0.2.55")).expect("write");
    assert!(
        within_two_seconds(|| z.stderr().contains("zone file not applied")),
        "{}",
        z.stderr()
    );
    assert_eq!(a_of(&z, "www.ops.test."), ["www.ops.test. A 192.0.2.10"]);
    assert_eq!(a_of(&z, "dyn.ops.test."), ["dyn.ops.test. A 192.0.2.77"]);
    // With a newer serial it is: the file is the zone now, and stays so after a restart.
    std::fs::write(
        &file,
        ZONE.replace("192.0.2.10", "192.0.2.55")
            .replace(" 1 3600", " 10 3600"),
    )
    .expect("write");
    assert!(within_two_seconds(
        || a_of(&z, "www.ops.test.") == ["www.ops.test. A 192.0.2.55"]
    ));
    z.terminate();
    let z = Zonal::start_at(unique_addr(), &argv);
    assert_eq!(a_of(&z, "www.ops.test."), ["www.ops.test. A 192.0.2.55"]);
    let soa = z.query("ops.test.", RecordType::SOA);
    assert!(
        format!("{:?}", soa.answers).contains("serial: 10"),
        "{:?}",
        soa.answers
    );
}

#[test]
fn a_burst_of_writes_is_one_reload() {
    let dir = zone_dir();
    let (z, _metrics) = start(dir.path(), &[]);
    let file = dir.path().join("ops.test.zone");
    for i in 0..5 {
        std::fs::write(
            &file,
            ZONE.replace("192.0.2.10", &format!("192.0.2.{}", 20 + i)),
        )
        .expect("write");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(within_two_seconds(
        || a_of(&z, "www.ops.test.") == ["www.ops.test. A 192.0.2.24"]
    ));
    // One more write, once the burst shows: when it shows too, the watcher has
    // dealt with all that came before it, and the burst was one reload of two.
    std::fs::write(&file, ZONE.replace("192.0.2.10", "192.0.2.99")).expect("write");
    assert!(within_two_seconds(
        || a_of(&z, "www.ops.test.") == ["www.ops.test. A 192.0.2.99"]
    ));
    assert_eq!(
        z.stderr().matches("zone reloaded").count(),
        2,
        "{}",
        z.stderr()
    );
}

#[test]
fn json_logs_and_the_query_log() {
    let dir = zone_dir();
    let config = dir.path().join("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "zone_dir = \"{}\"\nlog_json = true\nquery_log = true\n",
            dir.path().display()
        ),
    )
    .expect("config");
    let z = Zonal::start_at(
        unique_addr(),
        &["--config", config.to_str().expect("utf-8")],
    );
    let _ = a_of(&z, "www.ops.test.");
    let _ = z.tcp(&query("nope.ops.test.", RecordType::MX, None));
    assert!(within_two_seconds(|| z
        .stderr()
        .matches("\"query\"")
        .count()
        >= 2));
    let log = z.stderr();
    for line in log.lines() {
        assert!(
            line.starts_with('{') && line.ends_with('}'),
            "not a JSON line: {line}"
        );
    }
    let udp = log
        .lines()
        .find(|l| l.contains("www.ops.test."))
        .expect("the UDP query logged");
    assert!(
        udp.contains("\"qtype\":1") && udp.contains("\"rcode\":0") && udp.contains("127."),
        "{udp}"
    );
    let tcp = log
        .lines()
        .find(|l| l.contains("nope.ops.test."))
        .expect("the TCP query logged");
    assert!(
        tcp.contains("\"qtype\":15") && tcp.contains("\"rcode\":3") && tcp.contains("Tcp"),
        "{tcp}"
    );
}
