//! Online signing: a zone signed with NSEC, NSEC3 or NSEC3 opt-out (by
//! dnssec-signzone, in the test) served by zonal with its private keys in a key
//! folder (`--key-dir`), changed with `nsupdate`. After the updates the zone
//! transferred out of zonal must pass `dnssec-verify` (every RRset signed, the
//! chain complete and right) and a validating Unbound must find the new data and
//! the new denials secure. Signatures near expiry are made again by themselves.

mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use common::nsupdate::nsupdate;
use common::{unique_addr, Zonal};
use hickory_proto::op::ResponseCode;
use hickory_proto::rr::{RData, RecordType};

const ORIGIN: &str = "tricky.example";

/// A signed zone, its keys, a TSIG key and a state folder.
struct Signed {
    dir: tempfile::TempDir,
}

impl Signed {
    /// Signs the tricky zone with `denial` and keys of `algorithm`, signatures
    /// valid `lifetime_secs`.
    fn new(denial: &[&str], algorithm: &str, lifetime_secs: u64) -> Signed {
        let dir = tempfile::tempdir().expect("tempdir");
        for sub in ["zones", "keys", "state"] {
            std::fs::create_dir(dir.path().join(sub)).expect("mkdir");
        }
        let keys = dir.path().join("keys");
        std::fs::copy(
            common::data("tricky.example.zone"),
            keys.join("unsigned.zone"),
        )
        .expect("copy");
        common::sign::sign_zone_with(
            &keys,
            ORIGIN,
            &keys.join("unsigned.zone"),
            &dir.path().join("zones/tricky.example.zone"),
            denial,
            algorithm,
            lifetime_secs,
        );
        std::fs::write(
            dir.path().join("tsig.key"),
            "key \"registrar\" {\n\talgorithm hmac-sha256;\n\tsecret \"c2VjcmV0IHNlY3JldCBzZWNyZXQgc2VjcmV0IHNlY3JldA==\";\n};\n",
        )
        .expect("key");
        Signed { dir }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// zonal serving the zone, taking updates, transferring to loopback, with
    /// `extra` flags.
    fn start(&self, extra: &[&str]) -> Zonal {
        let owned: Vec<String> = [
            "--zone-dir",
            "zones",
            "--tsig-key",
            "tsig.key",
            "--allow-update",
            "registrar",
            "--state-dir",
            "state",
            "--allow-transfer",
            "127.0.0.0/8",
        ]
        .iter()
        .map(|a| match *a {
            "zones" | "tsig.key" | "state" => self.path(a).display().to_string(),
            other => other.to_owned(),
        })
        .collect();
        let mut args: Vec<&str> = owned.iter().map(String::as_str).collect();
        args.extend_from_slice(extra);
        Zonal::start(&args)
    }

    fn update(&self, z: &Zonal, lines: &[&str]) -> (bool, String) {
        let mut script = vec!["zone tricky.example"];
        script.extend_from_slice(lines);
        nsupdate(z.addr, Some(&self.path("tsig.key")), &script)
    }

    /// The zone as zonal transfers it, checked by dnssec-verify; returns the text.
    fn verify(&self, z: &Zonal) -> String {
        let text = z.dig(&[
            "+onesoa",
            "+nocmd",
            "+nostats",
            "+nocomments",
            ORIGIN,
            "AXFR",
        ]);
        assert!(text.contains("SOA"), "AXFR: {text}");
        let file = self.path("transferred.zone");
        std::fs::write(&file, &text).expect("write");
        let out = Command::new("dnssec-verify")
            .args(["-q", "-o", ORIGIN])
            .arg(&file)
            .output()
            .expect("dnssec-verify runs (install bind9-utils)");
        assert!(
            out.status.success(),
            "dnssec-verify refuses the zone zonal serves:\n{}{}\n--- zone\n{text}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        text
    }
}

/// The records of an AXFR's text, one a line, sorted.
fn records_of(axfr: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = axfr.lines().filter(|l| !l.trim().is_empty()).collect();
    lines.sort_unstable();
    lines
}

/// Asks `name`/`rtype` through Unbound; returns (rcode, AD, answer count).
fn ask(addr: SocketAddr, name: &str, rtype: RecordType) -> (ResponseCode, bool, usize) {
    let mut q = common::recursive_query(name, rtype);
    q.metadata.authentic_data = true;
    let reply = common::ask(addr, &q, false, Duration::from_secs(5)).expect("a reply from unbound");
    (
        reply.metadata.response_code,
        reply.metadata.authentic_data,
        reply.answers.len(),
    )
}

/// Updates of every kind to the zone signed with `denial`, then the checks.
fn updates_are_signed(denial: &[&str]) {
    let signed = Signed::new(denial, "ECDSAP256SHA256", 2_592_000);
    let keys = signed.path("keys");
    let z = signed.start(&["--key-dir", keys.to_str().expect("utf-8")]);
    let serial = |z: &Zonal| match z
        .query(ORIGIN, RecordType::SOA)
        .answers
        .first()
        .map(|r| &r.data)
    {
        Some(RData::SOA(soa)) => soa.serial,
        other => panic!("no SOA: {other:?}"),
    };
    let before = serial(&z);
    let steps: [&[&str]; 7] = [
        // A new name, and a new type at a name that has data.
        &["update add new.tricky.example 300 A 192.0.2.200", "update add www.tricky.example 300 TXT \"hello\""],
        // A new name two labels down: an empty non-terminal comes with it.
        &["update add leaf.branch.tricky.example 300 AAAA 2001:db8::200"],
        // A whole name deleted.
        &["update delete mail.tricky.example"],
        // A name whose ancestors were empty non-terminals, deleted: they go too.
        &["update delete x.y.z.tricky.example A"],
        // An insecure delegation, and a secure one with its DS.
        &["update add insecure.tricky.example 300 NS ns.elsewhere.example."],
        &[
            "update add secure.tricky.example 300 NS ns.elsewhere.example.",
            "update add secure.tricky.example 300 DS 54321 13 2 8D6A1B50F00D95C0E6D3A1DDEA2E9D97A32F7A1CF3DBEA0F6C5C1B3E4E5F6A7B",
        ],
        // A name that was a delegation becomes a plain name.
        &["update delete insecure.tricky.example NS", "update add insecure.tricky.example 300 TXT \"plain now\""],
    ];
    for step in steps {
        let (ok, out) = signed.update(&z, step);
        assert!(ok, "update {step:?} refused: {out}\n{}", z.stderr());
    }
    assert_eq!(
        serial(&z),
        before.wrapping_add(steps.len() as u32),
        "one serial per update"
    );
    let text = signed.verify(&z);
    assert!(
        !text.contains("mail.tricky.example.\t"),
        "mail deleted:\n{text}"
    );

    let run = tempfile::tempdir().expect("tempdir");
    let addr = unique_addr();
    let unbound = common::unbound::start_validating(
        run.path(),
        addr,
        ORIGIN,
        &keys.join("dsset-tricky.example."),
        z.addr,
    );
    let opt_out = denial.contains(&"-A");
    let t = |n: &str| format!("{n}.tricky.example.");
    // (name, type, rcode, answers?, secure even under opt-out)
    let cases = [
        (t("new"), RecordType::A, ResponseCode::NoError, true, true),
        (t("www"), RecordType::TXT, ResponseCode::NoError, true, true),
        (
            t("leaf.branch"),
            RecordType::AAAA,
            ResponseCode::NoError,
            true,
            true,
        ),
        (
            t("branch"),
            RecordType::A,
            ResponseCode::NoError,
            false,
            true,
        ),
        (
            t("mail"),
            RecordType::A,
            ResponseCode::NXDomain,
            false,
            false,
        ),
        (
            t("x.y.z"),
            RecordType::A,
            ResponseCode::NXDomain,
            false,
            false,
        ),
        (t("new"), RecordType::MX, ResponseCode::NoError, false, true),
        (
            t("insecure"),
            RecordType::TXT,
            ResponseCode::NoError,
            true,
            true,
        ),
        (
            t("secure"),
            RecordType::DS,
            ResponseCode::NoError,
            true,
            true,
        ),
    ];
    let mut failures = Vec::new();
    for (name, rtype, rcode, has_data, own_proof) in cases {
        let secure = own_proof || !opt_out;
        let got = ask(addr, &name, rtype);
        if got.0 != rcode || got.1 != secure || (got.2 > 0) != has_data {
            failures.push(format!(
                "{name} {rtype}: {:?} AD {} answers {} (want {rcode:?} AD {secure} answers {has_data})",
                got.0, got.1, got.2
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "not validated:\n{}\n--- unbound log\n{}",
        failures.join("\n"),
        unbound.log()
    );
    // The journal holds the signed changes: a restart serves the same signed zone.
    drop(z);
    let z = signed.start(&["--key-dir", keys.to_str().expect("utf-8")]);
    // The same records; their order within a name may differ (a restart builds
    // the zone from its saved copy, not in the order the updates made it).
    assert_eq!(
        records_of(&signed.verify(&z)),
        records_of(&text),
        "the same zone after a restart"
    );
}

#[test]
fn nsec_zone_updates_are_signed_and_validate() {
    updates_are_signed(&[]);
}

#[test]
fn nsec3_zone_updates_are_signed_and_validate() {
    updates_are_signed(&["-3", "aabbccdd", "-H", "0"]);
}

#[test]
fn nsec3_opt_out_zone_updates_are_signed_and_validate() {
    updates_are_signed(&["-3", "-", "-H", "0", "-A"]);
}

/// The RRSIG expirations in a zone's text (dig's presentation: the 5th field
/// after the type is the expiration, YYYYMMDDHHMMSS).
fn expirations(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            let at = fields.iter().position(|f| *f == "RRSIG")?;
            fields.get(at + 5).map(|s| (*s).to_owned())
        })
        .collect()
}

#[test]
fn signatures_near_expiry_are_made_again() {
    // Signed for one day; zonal refreshes what has less than two days left.
    // Ed25519 keys, NSEC3 (the updates test covers ECDSA).
    let signed = Signed::new(&["-3", "-", "-H", "0"], "ED25519", 86_400);
    let keys = signed.path("keys");
    let config = signed.path("zonal.toml");
    std::fs::write(
        &config,
        format!(
            "[signing]\nkey_dir = \"{}\"\nrrsig_lifetime_secs = 864000\nrrsig_refresh_secs = 172800\n",
            keys.display()
        ),
    )
    .expect("config");
    let z = signed.start(&["--config", config.to_str().expect("utf-8")]);
    let limit = chrono_like(2);
    let mut refreshed = String::new();
    let done = common::eventually(Duration::from_secs(15), || {
        refreshed = signed.verify(&z);
        let exp = expirations(&refreshed);
        !exp.is_empty() && exp.iter().all(|e| *e > limit)
    });
    assert!(
        done,
        "signatures not refreshed:\n{refreshed}\n{}",
        z.stderr()
    );
    // The file's serial was 2026112201; the refresh is a change like an update.
    assert!(
        !refreshed.contains("2026112201 7200"),
        "serial advanced:\n{refreshed}"
    );
    assert!(
        z.stderr().contains("signatures refreshed"),
        "{}",
        z.stderr()
    );
}

/// `days` from now as YYYYMMDDHHMMSS (UTC), as RRSIG times print.
fn chrono_like(days: u64) -> String {
    let out = Command::new("date")
        .args(["-u", "-d", &format!("+{days} days"), "+%Y%m%d%H%M%S"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn signed_zone_without_keys_or_with_dnssec_records_in_the_update_is_refused() {
    let signed = Signed::new(&[], "ECDSAP256SHA256", 2_592_000);
    let z = signed.start(&[]);
    let (ok, out) = signed.update(&z, &["update add new.tricky.example 300 A 192.0.2.1"]);
    assert!(!ok && out.contains("REFUSED"), "no keys: {out}");
    drop(z);
    let keys = signed.path("keys");
    let z = signed.start(&["--key-dir", keys.to_str().expect("utf-8")]);
    let (ok, out) = signed.update(
        &z,
        &["update add www.tricky.example 300 NSEC zz.tricky.example. A"],
    );
    assert!(!ok && out.contains("REFUSED"), "NSEC by hand: {out}");
}

/// Knot DNS signs the zone with keys it makes itself (`keymgr`'s PEM files); zonal
/// serves what Knot signed, with Knot's key folder as its key folder, and signs
/// updates with those keys.
#[test]
fn keys_made_by_knot_keymgr_sign_updates() {
    let signed = Signed::new(&[], "ECDSAP256SHA256", 2_592_000);
    let (run, zones) = (signed.path("knot"), signed.path("knot-zones"));
    for dir in [&run, &run.join("db/keys"), &zones] {
        std::fs::create_dir_all(dir).expect("mkdir");
    }
    std::fs::copy(
        common::data("tricky.example.zone"),
        zones.join("tricky.example.zone"),
    )
    .expect("copy");
    let knot_addr = unique_addr();
    let config = format!(
        "server:\n    listen: {ip}@{port}\n    rundir: {run}\ndatabase:\n    storage: {run}/db\n\
         policy:\n  - id: ecdsa\n    algorithm: ecdsap256sha256\n\
         acl:\n  - id: xfr\n    address: 127.0.0.0/8\n    action: transfer\n\
         zone:\n  - domain: {ORIGIN}\n    storage: {zones}\n    file: tricky.example.zone\n\
         \x20   zonefile-sync: -1\n    dnssec-signing: on\n    dnssec-policy: ecdsa\n    acl: xfr\n\
         log:\n  - target: {run}/knot.log\n    any: info\n",
        ip = knot_addr.ip(),
        port = knot_addr.port(),
        run = run.display(),
        zones = zones.display(),
    );
    std::fs::write(run.join("knot.conf"), config).expect("knot.conf");
    let mut knotd = Command::new("knotd")
        .arg("-c")
        .arg(run.join("knot.conf"))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("knotd runs (apt-get install knot)");
    // The zone as Knot signed it, once it serves it signed.
    let mut text = String::new();
    let signed_by_knot = common::eventually(Duration::from_secs(15), || {
        let out = Command::new("dig")
            .arg(format!("@{}", knot_addr.ip()))
            .args([
                "-p",
                &knot_addr.port().to_string(),
                "+time=1",
                "+tries=1",
                "+onesoa",
            ])
            .args(["+nocmd", "+nostats", "+nocomments", ORIGIN, "AXFR"])
            .output()
            .expect("dig");
        text = String::from_utf8_lossy(&out.stdout).into_owned();
        text.contains("RRSIG")
    });
    let _ = knotd.kill();
    let _ = knotd.wait();
    assert!(
        signed_by_knot,
        "Knot did not sign the zone:\n{}",
        std::fs::read_to_string(run.join("knot.log")).unwrap_or_default()
    );
    std::fs::write(signed.path("zones/tricky.example.zone"), &text).expect("zone");
    let pem_dir = std::fs::read_dir(run.join("db/keys/keys"))
        .map(|_| run.join("db/keys/keys"))
        .expect("keymgr's key folder (db/keys/keys) with .pem files");
    let z = signed.start(&["--key-dir", pem_dir.to_str().expect("utf-8")]);
    let (ok, out) = signed.update(
        &z,
        &[
            "update add knot.tricky.example 300 A 192.0.2.7",
            "update delete www.tricky.example A",
        ],
    );
    assert!(ok, "update refused: {out}\n{}", z.stderr());
    let after = signed.verify(&z);
    assert!(after.contains("knot.tricky.example."), "{after}");
}

/// A zonal secondary that has a signed zone's keys (a misconfiguration) leaves the
/// copy as the primary signed it: no background re-signing of a secondary zone.
#[test]
fn a_secondary_copy_is_not_signed_again() {
    // Signed for one day; refresh due at once wherever the keys are used.
    let signed = Signed::new(&[], "ECDSAP256SHA256", 86_400);
    let primary = signed.start(&[]);
    let config = signed.path("secondary.toml");
    std::fs::write(
        &config,
        format!(
            "state_dir = \"{state}\"\nlog = \"info,zonal::update=debug\"\n[signing]\nkey_dir = \"{keys}\"\nrrsig_lifetime_secs = 864000\n\
             rrsig_refresh_secs = 172800\n[[zone]]\nname = \"{ORIGIN}\"\nprimaries = [\"{primary}\"]\n",
            state = signed.path("secondary-state").display(),
            keys = signed.path("keys").display(),
            primary = primary.addr,
        ),
    )
    .expect("config");
    let secondary = Zonal::start(&["--config", config.to_str().expect("utf-8")]);
    let serial = |z: &Zonal| {
        z.query(ORIGIN, RecordType::SOA)
            .answers
            .first()
            .and_then(|r| match &r.data {
                RData::SOA(soa) => Some(soa.serial),
                _ => None,
            })
    };
    common::eventually(Duration::from_secs(10), || serial(&secondary).is_some());
    assert_eq!(serial(&secondary), serial(&primary), "the copy arrived");
    // The refresh pass runs a second after start: once it is done, having found
    // no zone of its own to look at, the copy is as it came.
    assert!(
        common::eventually(Duration::from_secs(10), || secondary
            .stderr()
            .contains("signature refresh pass done")),
        "no refresh pass ran:\n{}",
        secondary.stderr()
    );
    // The pass came after the copy, and did not count it among the zones to refresh.
    let log = secondary.stderr();
    let copied = log.find("secondary zone transferred");
    let passed = log.find("signature refresh pass done zones=0");
    assert!(
        copied.is_some() && passed.is_some() && copied < passed,
        "{log}"
    );
    assert_eq!(
        serial(&secondary),
        serial(&primary),
        "the copy left as it is"
    );
    assert!(
        !secondary.stderr().contains("signatures refreshed"),
        "{}",
        secondary.stderr()
    );
}
