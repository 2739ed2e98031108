//! The DNS header (RFC 1035 4.1.1) in one place: its size, the opcode and class
//! numbers, the flag bits copied from a request into its reply, the message size
//! limits, and the header-only error reply. Every layer reads the header through
//! these, never with its own masks.

/// Size of the DNS header (RFC 1035 4.1.1).
pub const HEADER_BYTES: usize = 12;

/// Largest reply over UDP without EDNS (RFC 1035 4.2.1).
pub const MIN_UDP_PAYLOAD_BYTES: usize = 512;

/// Largest DNS message (the TCP length prefix is 16 bits).
pub const MAX_MESSAGE_BYTES: usize = 65_535;

/// Opcodes (RFC 1035 4.1.1, RFC 1996, RFC 2136).
pub mod opcode {
    /// A standard query.
    pub const QUERY: u8 = 0;
    /// A zone change notification (RFC 1996).
    pub const NOTIFY: u8 = 4;
    /// A dynamic update (RFC 2136).
    pub const UPDATE: u8 = 5;
}

/// Classes (RFC 1035 3.2.4, RFC 2136 2.4).
pub mod class {
    /// The Internet.
    pub const IN: u16 = 1;
    /// CHAOS (server identity queries).
    pub const CH: u16 = 3;
    /// NONE: "delete this RR" in an UPDATE (RFC 2136 2.5.4).
    pub const NONE: u16 = 254;
    /// ANY: "any class" (RFC 1035 3.2.5; RFC 2136 2.4, 2.5.2).
    pub const ANY: u16 = 255;
}

/// The bits of the second header word a reply copies from its request: the
/// opcode and RD (RFC 1035 4.1.1).
pub const COPIED_FLAGS: u16 = 0x7900;

/// QR: the message is a reply.
pub const QR: u16 = 0x8000;

/// The opcode of `packet`, from its header (`None` for a packet too short to have one).
#[inline]
pub fn opcode_of(packet: &[u8]) -> Option<u8> {
    packet.get(2).map(|b| (b >> 3) & 0xF)
}

/// The second header word of a reply to a request whose second word is
/// `request_flags`: QR, the request's opcode and RD, and `rcode`'s low 4 bits.
#[inline]
pub fn reply_flags(request_flags: u16, rcode: u16) -> u16 {
    QR | (request_flags & COPIED_FLAGS) | (rcode & 0xF)
}

/// The header of a reply to `packet` that has no records: its ID, opcode and RD
/// copied, `rcode`, every count 0. For FORMERR and NOTIMP, when the rest of the
/// request cannot be trusted.
pub fn error_header(packet: &[u8], rcode: u16) -> [u8; HEADER_BYTES] {
    let mut head = [0u8; HEADER_BYTES];
    if let Some(id) = packet.get(..2) {
        head[..2].copy_from_slice(id);
    }
    let request_flags = packet
        .get(2..4)
        .map_or(0, |f| u16::from_be_bytes([f[0], f[1]]));
    head[2..4].copy_from_slice(&reply_flags(request_flags, rcode).to_be_bytes());
    head
}

/// Adds `delta` to ARCOUNT (the additional records' count) of `message`, in place.
pub fn add_to_arcount(message: &mut [u8], delta: i16) {
    if let Some(count) = message.get_mut(10..12) {
        let n = u16::from_be_bytes([count[0], count[1]]).wrapping_add_signed(delta);
        count.copy_from_slice(&n.to_be_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opcode_and_reply_flags() {
        // ID 0x1234, UPDATE, RD.
        let packet = [0x12, 0x34, 5 << 3 | 1, 0, 0, 1];
        assert_eq!(opcode_of(&packet), Some(opcode::UPDATE));
        assert_eq!(opcode_of(&packet[..2]), None);
        let head = error_header(&packet, 1);
        assert_eq!(head[..4], [0x12, 0x34, 0x80 | 5 << 3 | 1, 1]);
        assert_eq!(head[4..], [0; 8]);
        // AA, TC and RA of a request are not copied.
        assert_eq!(reply_flags(0x0680, 4), 0x8004);
    }

    #[test]
    fn arcount_moves_by_delta() {
        let mut message = [0u8; 12];
        message[11] = 2;
        add_to_arcount(&mut message, -1);
        assert_eq!(message[10..12], [0, 1]);
        add_to_arcount(&mut message[..5], 1); // too short: left alone
    }
}
