//! PING_CHECK's echo request and reply check (`check_ping.c`), without I/O.
//!
//! The checker sends on an unprivileged `SOCK_DGRAM` ICMP (ICMPv6) socket: the kernel fills in
//! the identifier (and, for ICMPv6, the checksum) and delivers only the replies to that
//! identifier. A reply passes when it is an echo reply (type 0, ICMPv6 129); like keepalived,
//! the sequence number is not compared.

/// The bytes of data after the 8-byte header (keepalived's `ICMP_BUFSIZE`).
pub const PAYLOAD_LEN: usize = 128;
/// The size of an ICMP echo header.
pub const HEADER_LEN: usize = 8;

const ECHO_REQUEST_V4: u8 = 8;
const ECHO_REPLY_V4: u8 = 0;
const ECHO_REQUEST_V6: u8 = 128;
const ECHO_REPLY_V6: u8 = 129;

/// Why a received packet is not a good echo reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplyError {
    /// Shorter than an ICMP header (length given).
    Short(usize),
    /// Another ICMP type (given).
    Type(u8),
}

/// An echo request with sequence `seq`, identifier 0 (the kernel sets it) and a fixed
/// pattern as data. The IPv4 checksum is filled in (the kernel recomputes it anyway).
pub fn echo_request(v6: bool, seq: u16) -> Vec<u8> {
    let mut p = vec![0u8; HEADER_LEN + PAYLOAD_LEN];
    if let Some(t) = p.first_mut() {
        *t = if v6 { ECHO_REQUEST_V6 } else { ECHO_REQUEST_V4 };
    }
    let [s0, s1] = seq.to_be_bytes();
    if let Some(s) = p.get_mut(6..8) {
        s.copy_from_slice(&[s0, s1]);
    }
    for (i, b) in p.iter_mut().skip(HEADER_LEN).enumerate() {
        *b = i as u8;
    }
    if !v6 {
        let [c0, c1] = checksum(&p).to_be_bytes();
        if let Some(c) = p.get_mut(2..4) {
            c.copy_from_slice(&[c0, c1]);
        }
    }
    p
}

/// The Internet checksum (RFC 1071) of `data`.
pub fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data
        .chunks(2)
        .map(|c| match c {
            [a, b] => u32::from(u16::from_be_bytes([*a, *b])),
            [a] => u32::from(*a) << 8,
            _ => 0,
        })
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// Checks a packet received on the ping socket.
pub fn check_reply(v6: bool, packet: &[u8]) -> Result<(), ReplyError> {
    if packet.len() < HEADER_LEN {
        return Err(ReplyError::Short(packet.len()));
    }
    let t = packet.first().copied().unwrap_or(0);
    let want = if v6 { ECHO_REPLY_V6 } else { ECHO_REPLY_V4 };
    if t != want {
        return Err(ReplyError::Type(t));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn checksum_known_vectors() {
        // RFC 1071's example words.
        assert_eq!(
            checksum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]),
            !0xddf2
        );
        assert_eq!(checksum(&[]), 0xffff);
        assert_eq!(checksum(&[0xff]), !0xff00);
    }

    #[test]
    fn request_layout() {
        let p = echo_request(false, 0x0102);
        assert_eq!(p.len(), HEADER_LEN + PAYLOAD_LEN);
        assert_eq!(p.get(..2), Some(&[8u8, 0][..]));
        assert_eq!(p.get(6..8), Some(&[1u8, 2][..]));
        // A packet with its checksum in place sums to zero.
        assert_eq!(checksum(&p), 0);
        let p6 = echo_request(true, 7);
        assert_eq!(p6.first(), Some(&128));
        assert_eq!(p6.get(2..4), Some(&[0u8, 0][..]));
    }

    #[test]
    fn replies() {
        let mut r = echo_request(false, 1);
        assert_eq!(check_reply(false, &r), Err(ReplyError::Type(8)));
        r[0] = 0;
        assert_eq!(check_reply(false, &r), Ok(()));
        assert_eq!(check_reply(true, &r), Err(ReplyError::Type(0)));
        assert_eq!(check_reply(true, &[129, 0, 0, 0, 0, 0, 0, 0]), Ok(()));
        assert_eq!(check_reply(false, &[0, 0, 0]), Err(ReplyError::Short(3)));
        // Destination unreachable.
        assert_eq!(
            check_reply(false, &[3, 3, 0, 0, 0, 0, 0, 0]),
            Err(ReplyError::Type(3))
        );
    }

    proptest! {
        #[test]
        fn any_packet_never_panics(v6 in any::<bool>(), p in proptest::collection::vec(any::<u8>(), 0..300)) {
            let _ = check_reply(v6, &p);
            let _ = checksum(&p);
        }

        #[test]
        fn v4_requests_always_verify(seq in any::<u16>()) {
            prop_assert_eq!(checksum(&echo_request(false, seq)), 0);
        }
    }
}
