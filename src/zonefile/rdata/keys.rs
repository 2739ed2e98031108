//! Key and certificate material outside DNSSEC proper: CERT (RFC 4398), IPSECKEY
//! (RFC 4025) and HIP (RFC 8005). Base64 is read as Knot DNS reads it: each blank-
//! separated piece a whole number of 4-character blocks.

use std::net::{Ipv4Addr, Ipv6Addr};

use data_encoding::HEXLOWER_PERMISSIVE;

use super::fields::{bad_item, base64_blocks, decimal, Fields};
use super::{RdataError, Result};

/// CERT: `type key-tag algorithm base64`, the type by number or mnemonic
/// (RFC 4398 2.1).
pub(super) fn cert(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let t = fields.token("certificate type")?;
    let code = match t.text.to_ascii_uppercase().as_slice() {
        b"PKIX" => 1,
        b"SPKI" => 2,
        b"PGP" => 3,
        b"IPKIX" => 4,
        b"ISPKI" => 5,
        b"IPGP" => 6,
        b"ACPKIX" => 7,
        b"IACPKIX" => 8,
        b"URI" => 253,
        b"OID" => 254,
        _ => decimal(t.text, u16::MAX.into()).ok_or_else(|| bad_item("certificate type", t.text))?
            as u16,
    };
    out.extend_from_slice(&code.to_be_bytes());
    fields.u16(out, "key tag")?;
    fields.algorithm(out)?;
    fields.rest_base64(out)
}

/// IPSECKEY: `precedence gateway-type algorithm gateway [base64-key]` (RFC 4025 3.1).
pub(super) fn ipseckey(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    fields.u8(out, "precedence")?;
    let t = fields.token("gateway type")?;
    let gateway_type = decimal(t.text, 3).ok_or_else(|| bad_item("gateway type", t.text))? as u8;
    out.push(gateway_type);
    let algorithm = fields.number("algorithm", u8::MAX.into())?;
    out.push(algorithm as u8);
    let gateway = fields.token("gateway")?;
    match gateway_type {
        // RFC 4025 3.1: no gateway is written ".".
        0 if gateway.text == b"." => {}
        1 => {
            let addr: Ipv4Addr = std::str::from_utf8(gateway.text)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad_item("gateway", gateway.text))?;
            out.extend_from_slice(&addr.octets());
        }
        2 => {
            let addr: Ipv6Addr = std::str::from_utf8(gateway.text)
                .ok()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad_item("gateway", gateway.text))?;
            out.extend_from_slice(&addr.octets());
        }
        3 => out.extend_from_slice(&fields.name_of(&gateway)?),
        _ => return Err(bad_item("gateway", gateway.text)),
    }
    // RFC 4025 2.4: algorithm 0 means no key is present.
    if algorithm == 0 {
        return Ok(());
    }
    if fields.more() {
        fields.rest_base64(out)?;
    }
    Ok(())
}

/// HIP: `pk-algorithm hex-HIT base64-key [rendezvous-server...]` (RFC 8005 4).
pub(super) fn hip(fields: &mut Fields<'_, '_>, out: &mut Vec<u8>) -> Result<()> {
    let t = fields.token("PK algorithm")?;
    let algorithm =
        decimal(t.text, u8::MAX.into()).ok_or_else(|| bad_item("PK algorithm", t.text))? as u8;
    let t = fields.token("HIT")?;
    let hit = HEXLOWER_PERMISSIVE
        .decode(t.text)
        .map_err(|_| RdataError::BadEncoding("hex"))?;
    let hit_len = u8::try_from(hit.len())
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| bad_item("HIT", t.text))?;
    let t = fields.token("public key")?;
    let key = base64_blocks(t.text)?;
    let key_len = u16::try_from(key.len()).map_err(|_| RdataError::TooLong)?;
    out.push(hit_len);
    out.push(algorithm);
    out.extend_from_slice(&key_len.to_be_bytes());
    out.extend_from_slice(&hit);
    out.extend_from_slice(&key);
    while fields.more() {
        fields.name(out, "rendezvous server")?;
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::super::tests::rdata;
    use super::super::RdataError;

    /// Knot DNS's scanner tests (tests/libzscanner/data/29_CERT.in).
    #[test]
    fn cert_knot_cases() {
        assert_eq!(rdata("CERT", "0 0 0 AA==").unwrap(), [0, 0, 0, 0, 0, 0]);
        assert_eq!(
            rdata("CERT", "PGP 1 RSASHA256 Zm9v YmE=").unwrap(),
            b"\x00\x03\x00\x01\x08fooba"
        );
        for text in [
            "65535 65535 255 AA==",
            "IACPKIX 0 0 AA==",
            "URI 0 PRIVATEOID AA==",
            "oid 0 0 AA==",
        ] {
            assert!(rdata("CERT", text).is_ok(), "{text}");
        }
        for text in [
            "",
            "\\# 0",
            "65536 0 0 AA==",
            "X 0 0 AA==",
            "0 65536 0 AA==",
            "0 0 256 AA==",
            "0 0 0 A",
            "0 0 0 ABC",
            "0 0 0 A===",
            "0 0 0 ====",
            "0 0 0",
        ] {
            assert!(rdata("CERT", text).is_err(), "{text} must be refused");
        }
    }

    /// RFC 4025 3.3 examples and Knot DNS's tests (35_IPSECKEY.in).
    #[test]
    fn ipseckey_cases() {
        let key = "AQNRU3mG7TVTO2BkR47usntb102uFJtugbo6BSGvgqt4AQ==";
        assert_eq!(
            rdata("IPSECKEY", &format!("10 1 2 192.0.2.38 {key}")).unwrap()[..7],
            [10, 1, 2, 192, 0, 2, 38]
        );
        assert_eq!(
            rdata("IPSECKEY", &format!("10 0 2 . {key}")).unwrap()[..3],
            [10, 0, 2]
        );
        assert_eq!(
            rdata("IPSECKEY", &format!("10 3 2 mygateway.example.com. {key}")).unwrap()[3..13],
            *b"\x09mygateway"
        );
        assert_eq!(
            rdata(
                "IPSECKEY",
                &format!("10 2 2 2001:0DB8:0:8002::2000:1 {key}")
            )
            .unwrap()[3..5],
            [0x20, 0x01]
        );
        for text in [
            "0 0 0 .",
            "255 3 255 . AA==",
            "0 1 0 0.0.0.0",
            "0 2 0 ::",
            "0 3 0 \\0320\\ \\\\\\\"\\.\\@\\*.tld.",
            "0 0 1 . Zm9v YmE=",
        ] {
            assert!(rdata("IPSECKEY", text).is_ok(), "{text}");
        }
        for text in [
            "",
            "\\# 0",
            "256 0 0 .",
            "0 4 0 .",
            "0 0 256 . AA==",
            "0 0 0 . AA==",
            "0 0 1 . A",
            "0 0 1 . =",
            "0 0",
            "0 0 0 192.0.2.1",
            "0 1 0 ::1",
        ] {
            assert!(rdata("IPSECKEY", text).is_err(), "{text} must be refused");
        }
        assert_eq!(
            rdata("IPSECKEY", "0 0 0 . AA=="),
            Err(RdataError::Extra("AA==".into()))
        );
    }

    /// RFC 8005 6 examples.
    #[test]
    fn hip_cases() {
        let hit = "200100107B1A74DF365639CC39F1D578";
        let key = "AwEAAbdxyhNuSutc5EMzxTs9LBPCIkOFH8cIvM4p9+LrV4e19WzK00+CI6zBCQTdtWsuxKbWIy87UOoJTwkUs7lBu+Upr1gsNrut79ryra+bSRGQb1slImA8YVJyuIDsj7kwzG7jnERNqnWxZ48AWkskmdHaVDP4BcelrTI3rMXdXF5D";
        let hip = rdata("HIP", &format!("2 {hit} {key} rvs.example.com.")).unwrap();
        assert_eq!(hip[..4], [16, 2, 0, 132]);
        assert!(hip.ends_with(b"\x03rvs\x07example\x03com\x00"));
        assert!(rdata("HIP", &format!("2 {hit} {key}")).is_ok());
        assert!(rdata(
            "HIP",
            &format!("2 {hit} {key} rvs1.example.com. rvs2.example.com.")
        )
        .is_ok());
        for text in [
            "",
            "\\# 0",
            &format!("2 {hit}"),
            &format!("2 XYZ {key}"),
            &format!("256 {hit} {key}"),
            &format!("2 {hit} AA="),
        ] {
            assert!(rdata("HIP", text).is_err(), "{text} must be refused");
        }
    }
}
