//! Running zonal: the built-in default, the config file, and every way a config can
//! be wrong (one clear line, non-zero exit).

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::Zonal;
use hickory_proto::rr::RecordType;

/// Runs zonal expecting it to fail at start; returns its stderr.
fn fails_to_start(args: &[&str]) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_zonal"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("zonal runs");
    let mut exited = None;
    if common::eventually(Duration::from_secs(5), || {
        exited = child.try_wait().ok().flatten();
        exited.is_some()
    }) {
        assert!(!exited.expect("exited").success());
        let mut stderr = String::new();
        std::io::Read::read_to_string(child.stderr.as_mut().expect("stderr"), &mut stderr)
            .expect("read");
        return stderr;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("zonal kept running with {args:?}");
}

fn write_config(dir: &std::path::Path, text: &str) -> String {
    let path = dir.join("zonal.toml");
    std::fs::write(&path, text).expect("write");
    path.to_str().expect("utf-8").to_owned()
}

#[test]
fn built_in_default_serves_example_com() {
    // From a folder with no zones/, the compiled-in example zones are served.
    let empty = tempfile::tempdir().expect("tempdir");
    let addr = common::unique_addr();
    let mut child = Command::new(env!("CARGO_BIN_EXE_zonal"))
        .args(["--listen", &addr.to_string()])
        .current_dir(empty.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("zonal runs");
    let probe = common::query("www.example.com.", RecordType::A, None)
        .to_vec()
        .expect("encodes");
    let mut reply = None;
    for _ in 0..100 {
        reply = common::udp_raw(addr, &probe, Duration::from_millis(100));
        if reply.is_some() {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let reply = hickory_proto::op::Message::from_vec(&reply.expect("an answer")).expect("decodes");
    assert!(reply.metadata.authoritative);
    assert_eq!(common::answers(&reply), ["www.example.com. A 192.0.2.10"]);
}

#[test]
fn config_file_sets_listen_and_zones() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        common::data("child.tricky.example.zone"),
        dir.path().join("child.zone"),
    )
    .expect("copy");
    let config = write_config(
        dir.path(),
        "workers = 1\nudp_max_payload = 1400\ntcp_idle_timeout_secs = 3\ntcp_max_connections = 8\nlog = \"info\"\n\
         [[zone]]\nname = \"child.tricky.example\"\nfile = \"child.zone\"\n",
    );
    let z = Zonal::start(&["--config", &config]);
    let reply = z.query("www.child.tricky.example.", RecordType::A);
    assert_eq!(reply.answers.len(), 1);
    assert_eq!(reply.edns.as_ref().map(|e| e.max_payload()), Some(1400));
}

#[test]
fn config_mistakes_are_one_clear_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let unknown = write_config(dir.path(), "listen = [\"127.0.0.1:5353\"]\nwokers = 2\n");
    let unknown_key = fails_to_start(&["--config", &unknown]);
    assert!(
        unknown_key.contains("zonal.toml:2: unknown field `wokers`"),
        "{unknown_key}"
    );

    let bad_address = fails_to_start(&["--listen", "127.0.0.1"]);
    assert!(
        bad_address.contains("'127.0.0.1' is not an ADDRESS:PORT"),
        "{bad_address}"
    );

    let unreadable = fails_to_start(&["--config", "/nonexistent/zonal.toml"]);
    assert!(
        unreadable.starts_with("zonal: cannot read config /nonexistent/zonal.toml"),
        "{unreadable}"
    );

    let no_zone_dir = fails_to_start(&["--zone-dir", "/nonexistent/zones"]);
    assert!(no_zone_dir.contains("/nonexistent/zones"), "{no_zone_dir}");

    let bad_payload = write_config(dir.path(), "udp_max_payload = 9000\n");
    let out_of_range = fails_to_start(&["--config", &bad_payload]);
    assert!(out_of_range.contains("udp_max_payload"), "{out_of_range}");

    let bad_share = write_config(
        dir.path(),
        "tcp_max_connections = 10\ntcp_max_connections_per_client = 11\n",
    );
    let per_client = fails_to_start(&["--config", &bad_share]);
    assert!(
        per_client.contains("tcp_max_connections_per_client")
            && per_client.contains("11 is not within 1 to tcp_max_connections (10)"),
        "{per_client}"
    );

    for message in [
        unknown_key,
        bad_address,
        unreadable,
        no_zone_dir,
        out_of_range,
        per_client,
    ] {
        assert_eq!(message.lines().count(), 1, "one line: {message}");
    }
}

#[test]
fn port_in_use_is_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::copy(
        common::data("child.tricky.example.zone"),
        dir.path().join("child.tricky.example.zone"),
    )
    .expect("copy");
    let first = Zonal::with_zone_dir(dir.path());
    let e = fails_to_start(&[
        "--zone-dir",
        dir.path().to_str().expect("utf-8"),
        "--listen",
        &first.addr.to_string(),
    ]);
    assert!(
        e.contains(&format!("cannot listen on {}", first.addr)) && e.contains("in use"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");
}

#[test]
fn check_config_loads_every_zone() {
    let dir = common::data_dir(&["tricky.example.zone"]);
    let check = || {
        let out = Command::new(env!("CARGO_BIN_EXE_zonal"))
            .args([
                "--zone-dir",
                dir.path().to_str().expect("utf-8"),
                "check-config",
            ])
            .output()
            .expect("runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (ok, stderr) = check();
    assert!(ok, "{stderr}");
    assert!(stderr.contains("1 zones\nOK"), "{stderr}");

    std::fs::copy(
        common::data("cname_beside_a.invalid.zone"),
        dir.path().join("broken.example.zone"),
    )
    .expect("copy");
    let (ok, stderr) = check();
    assert!(!ok);
    assert!(
        stderr.contains("broken.example.zone:5: CNAME at 'www.broken.example.'"),
        "{stderr}"
    );
    assert!(stderr.contains("1 of 2 zones failed to load"), "{stderr}");
}

#[test]
fn chaos_version_and_identity_are_configurable() {
    let (z, _d) = common::start_with_config(&["tricky.example.zone"], "");
    let version = z.dig(&["CH", "TXT", "version.bind", "+short"]);
    assert_eq!(
        version.trim(),
        format!("\"zonal {}\"", env!("CARGO_PKG_VERSION"))
    );
    let out = z.dig(&["CH", "TXT", "version.server"]);
    assert!(
        out.contains("flags: qr aa") && out.contains("CH\tTXT"),
        "{out}"
    );
    let out = z.dig(&["CH", "TXT", "nonsense.bind"]);
    assert!(out.contains("status: REFUSED"), "{out}");

    let (z, _d) = common::start_with_config(
        &["tricky.example.zone"],
        "version = \"\"\nidentity = \"ns1.example.net\"\n",
    );
    let out = z.dig(&["CH", "TXT", "version.bind"]);
    assert!(out.contains("status: REFUSED"), "hidden version: {out}");
    assert_eq!(
        z.dig(&["CH", "TXT", "id.server", "+short"]).trim(),
        "\"ns1.example.net\""
    );
    assert_eq!(
        z.dig(&["CH", "TXT", "HOSTNAME.bind", "+short"]).trim(),
        "\"ns1.example.net\""
    );
}

#[test]
fn nsid_is_sent_to_the_queries_that_ask_for_it() {
    // Not configured: no NSID, even when asked.
    let (z, _d) = common::start_with_config(&["tricky.example.zone"], "");
    let out = z.dig(&["+nsid", "www.tricky.example.", "A"]);
    assert!(
        out.contains("status: NOERROR") && !out.contains("NSID"),
        "{out}"
    );

    let (z, _d) = common::start_with_config(&["tricky.example.zone"], "nsid = \"ns1.fra\"\n");
    // dig +nsid: the option comes back, the answer as before.
    let out = z.dig(&["+nsid", "www.tricky.example.", "A"]);
    assert!(
        out.contains("NSID: 6e 73 31 2e 66 72 61 (\"ns1.fra\")") && out.contains("ANSWER: 1"),
        "{out}"
    );
    // Also on a negative answer, beside a cookie (dig sends one), and over TCP.
    let out = z.dig(&["+nsid", "+cookie", "+tcp", "nothing.tricky.example.", "A"]);
    assert!(
        out.contains("status: NXDOMAIN") && out.contains("(\"ns1.fra\")"),
        "{out}"
    );
    // Not asked: not sent.
    let out = z.dig(&["www.tricky.example.", "A"]);
    assert!(!out.contains("NSID"), "{out}");
    // kdig reads it the same way.
    let kdig = std::process::Command::new("kdig")
        .arg(format!("@{}", z.addr.ip()))
        .args([
            "-p",
            &z.addr.port().to_string(),
            "+nsid",
            "+time=2",
            "+retry=0",
        ])
        .arg("www.tricky.example.")
        .output()
        .expect("kdig runs (install knot-dnsutils)");
    let out = String::from_utf8_lossy(&kdig.stdout);
    assert!(
        out.contains("NSID: 6E7331") && out.contains("ns1.fra"),
        "{out}"
    );
}

#[test]
fn started_as_root_it_runs_as_the_configured_user() {
    // SAFETY: plain integer result.
    let root = unsafe { libc::geteuid() } == 0;
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state");
    std::fs::create_dir(&state).expect("state dir");
    let extra = format!("user = \"nobody\"\nstate_dir = \"{}\"\n", state.display());
    if !root {
        // Not root: a clear refusal to start, not a silent run as someone else.
        let config = write_config(dir.path(), &extra);
        let out = fails_to_start(&["--config", &config]);
        assert!(out.contains("needs zonal to be started as root"), "{out}");
        return;
    }
    // As in deployment: the zone files readable by the service user, the state
    // folder its own.
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).expect("chmod");
    std::fs::copy(
        common::data("tricky.example.zone"),
        dir.path().join("tricky.example.zone"),
    )
    .expect("copy the zone");
    let nobody = Command::new("chown")
        .args(["nobody", state.to_str().expect("utf-8")])
        .status()
        .expect("chown runs");
    assert!(nobody.success());
    let config = write_config(
        dir.path(),
        &format!("zone_dir = \"{}\"\n{extra}", dir.path().display()),
    );
    let z = Zonal::start(&["--config", &config]);
    let status = std::fs::read_to_string(format!("/proc/{}/status", z.pid())).expect("status");
    let ids = |key: &str| {
        status
            .lines()
            .find(|l| l.starts_with(key))
            .map(|l| l.split_whitespace().skip(1).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    // Real, effective, saved and file-system IDs: all nobody's (65534), none root.
    assert_eq!(ids("Uid:"), ["65534"; 4], "{status}");
    assert_eq!(ids("Gid:"), ["65534"; 4], "{status}");
    assert_eq!(ids("Groups:"), ["65534"], "{status}");
    assert!(
        z.stderr().contains("running as an unprivileged user"),
        "{}",
        z.stderr()
    );
    // It still serves, and its port was bound while root.
    assert_eq!(
        z.query("www.tricky.example.", RecordType::A).answers.len(),
        1
    );
    // An unknown user is a clear error.
    let config = write_config(dir.path(), "user = \"no-such-user-zonal\"\n");
    let out = fails_to_start(&["--config", &config]);
    assert!(out.contains("no user 'no-such-user-zonal'"), "{out}");
}
