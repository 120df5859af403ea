//! DNS_CHECK's query and reply check (`check_dns.c`), without I/O.
//!
//! The query: a 12-byte header with a random id, RD set and one question; the name as labels
//! (`.` or an empty name is the root); class IN. The reply passes when it is a response (QR) to
//! our id with rcode 0. A datagram too short for a header, with another id, or that is not a
//! response is ignored (keepalived keeps waiting for the right one until the timeout).

use keepalived_config::model::lvs::DnsType;

/// The size of a DNS header.
pub const HEADER_LEN: usize = 12;

/// The record type number of a configured `type`.
pub fn type_code(t: DnsType) -> u16 {
    match t {
        DnsType::A => 1,
        DnsType::Ns => 2,
        DnsType::Cname => 5,
        DnsType::Soa => 6,
        DnsType::Mx => 15,
        DnsType::Txt => 16,
        DnsType::Aaaa => 28,
    }
}

/// The query keepalived sends for `name` and `qtype` with transaction id `id`.
pub fn query(id: u16, name: &str, qtype: DnsType) -> Vec<u8> {
    let mut q = Vec::with_capacity(HEADER_LEN + name.len() + 6);
    q.extend_from_slice(&id.to_be_bytes());
    q.extend_from_slice(&0x0100u16.to_be_bytes()); // RD
    q.extend_from_slice(&1u16.to_be_bytes()); // QDCOUNT
    q.extend_from_slice(&[0; 6]); // AN, NS, AR counts
    for label in name.split('.').filter(|l| !l.is_empty()) {
        // A label holds at most 63 bytes; the config check rejects longer ones, so cutting
        // here only keeps a bad name from corrupting the packet.
        let bytes = label.as_bytes();
        let bytes = bytes.get(..63).unwrap_or(bytes);
        q.push(bytes.len() as u8);
        q.extend_from_slice(bytes);
    }
    q.push(0);
    q.extend_from_slice(&type_code(qtype).to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes()); // IN
    q
}

/// What a received datagram means for the check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DnsReply {
    /// Not our answer (short, another id, or a query): keep waiting.
    Ignore,
    /// Our answer, rcode 0.
    Ok,
    /// Our answer with this rcode.
    Error(u8),
}

/// Checks `reply` against the query id `id`.
pub fn check_reply(id: u16, reply: &[u8]) -> DnsReply {
    let Some(h) = reply.get(..HEADER_LEN) else {
        return DnsReply::Ignore;
    };
    let (Some(&i0), Some(&i1), Some(&f0), Some(&f1)) = (h.first(), h.get(1), h.get(2), h.get(3))
    else {
        return DnsReply::Ignore;
    };
    if u16::from_be_bytes([i0, i1]) != id {
        return DnsReply::Ignore;
    }
    if f0 & 0x80 == 0 {
        return DnsReply::Ignore;
    }
    match f1 & 0x0f {
        0 => DnsReply::Ok,
        rcode => DnsReply::Error(rcode),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn root_soa_query_bytes() {
        let q = query(0xbeef, "", DnsType::Soa);
        assert_eq!(
            q,
            vec![
                0xbe, 0xef, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, // header
                0, // root
                0, 6, 0, 1
            ]
        );
        assert_eq!(query(0xbeef, ".", DnsType::Soa), q);
    }

    #[test]
    fn named_query_bytes() {
        let q = query(1, "www.example.com.", DnsType::Aaaa);
        let mut want = vec![0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        want.extend_from_slice(b"\x03www\x07example\x03com\x00");
        want.extend_from_slice(&[0, 28, 0, 1]);
        assert_eq!(q, want);
        assert_eq!(query(1, "www.example.com", DnsType::Aaaa), want);
        let mx = query(2, "example.org", DnsType::Mx);
        assert_eq!(mx.get(mx.len() - 4..), Some(&[0u8, 15, 0, 1][..]));
    }

    /// A hand-built answer: id 0x1234, QR|RD|RA, one question, the given rcode.
    fn answer(id: u16, qr: bool, rcode: u8) -> Vec<u8> {
        let mut r = id.to_be_bytes().to_vec();
        r.push(if qr { 0x81 } else { 0x01 });
        r.push(0x80 | rcode);
        r.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 0]);
        r.extend_from_slice(b"\x00\x00\x06\x00\x01");
        r
    }

    #[test]
    fn replies() {
        assert_eq!(check_reply(0x1234, &answer(0x1234, true, 0)), DnsReply::Ok);
        assert_eq!(
            check_reply(0x1234, &answer(0x1234, true, 2)),
            DnsReply::Error(2)
        );
        assert_eq!(
            check_reply(0x1234, &answer(0x4321, true, 0)),
            DnsReply::Ignore
        );
        assert_eq!(
            check_reply(0x1234, &answer(0x1234, false, 0)),
            DnsReply::Ignore
        );
        assert_eq!(check_reply(0x1234, &[0x12, 0x34, 0x81]), DnsReply::Ignore);
        // Our own query echoed back is not an answer.
        assert_eq!(
            check_reply(7, &query(7, "", DnsType::Soa)),
            DnsReply::Ignore
        );
    }

    proptest! {
        #[test]
        fn any_reply_bytes_never_panic(id in any::<u16>(), bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let _ = check_reply(id, &bytes);
        }

        #[test]
        fn any_name_encodes(id in any::<u16>(), name in "\\PC{0,300}") {
            let q = query(id, &name, DnsType::A);
            prop_assert!(q.len() >= HEADER_LEN + 5);
            prop_assert_eq!(check_reply(id, &q), DnsReply::Ignore);
        }
    }
}
