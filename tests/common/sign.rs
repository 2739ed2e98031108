//! Signing a test zone with BIND's tools (dnssec-keygen, dnssec-signzone): a KSK and
//! a ZSK (ECDSA P-256 unless asked otherwise), 30-day signatures, NSEC or NSEC3 as `denial` says.

use std::path::Path;
use std::process::Command;

fn run(dir: &Path, program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap_or_else(|e| panic!("{program} runs (apt-get install bind9-utils): {e}"));
    assert!(
        out.status.success(),
        "{program}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Signs `unsigned` (origin `origin`) into `signed`, with the keys made in
/// `keys` (where dnssec-signzone also leaves `dsset-ORIGIN.`); `denial` holds
/// dnssec-signzone's NSEC3 options (none: NSEC).
pub fn sign_zone(keys: &Path, origin: &str, unsigned: &Path, signed: &Path, denial: &[&str]) {
    sign_zone_with(
        keys,
        origin,
        unsigned,
        signed,
        denial,
        "ECDSAP256SHA256",
        2_592_000,
    );
}

/// As [`sign_zone`], with keys of `algorithm` (dnssec-keygen's name) and
/// signatures valid for `lifetime_secs` from now.
pub fn sign_zone_with(
    keys: &Path,
    origin: &str,
    unsigned: &Path,
    signed: &Path,
    denial: &[&str],
    algorithm: &str,
    lifetime_secs: u64,
) {
    run(
        keys,
        "dnssec-keygen",
        &["-q", "-a", algorithm, "-K", ".", origin],
    );
    run(
        keys,
        "dnssec-keygen",
        &["-q", "-a", algorithm, "-f", "KSK", "-K", ".", origin],
    );
    let lifetime = format!("+{lifetime_secs}");
    let mut args = vec!["-q"];
    args.extend_from_slice(denial);
    let (signed_text, unsigned_text) = (
        signed.to_str().expect("utf-8"),
        unsigned.to_str().expect("utf-8"),
    );
    args.extend_from_slice(&[
        "-S",
        "-K",
        ".",
        "-o",
        origin,
        "-e",
        &lifetime,
        "-f",
        signed_text,
        unsigned_text,
    ]);
    run(keys, "dnssec-signzone", &args);
    let text = std::fs::read_to_string(signed).expect("signed zone");
    assert_eq!(
        text.contains("NSEC3PARAM"),
        denial.contains(&"-3"),
        "signed as asked"
    );
}
