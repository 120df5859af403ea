//! The Internet checksum (RFC 1071) and the pseudo-headers VRRPv3 and ICMPv6 put in front of it.

use std::net::{Ipv4Addr, Ipv6Addr};

/// A running one's-complement sum of 16-bit big-endian words.
///
/// Feed it with [`add`](Self::add); every chunk except the last must have an even length,
/// which holds for every header this crate sums (pseudo-headers are 12 or 40 bytes).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InternetChecksum {
    // 64 bits so that no realistic input can overflow before folding.
    sum: u64,
}

impl InternetChecksum {
    /// An empty sum.
    pub const fn new() -> Self {
        Self { sum: 0 }
    }

    /// Adds bytes as big-endian 16-bit words; an odd trailing byte is padded with a zero byte.
    pub fn add(&mut self, data: &[u8]) -> &mut Self {
        let mut words = data.chunks_exact(2);
        for w in &mut words {
            if let [hi, lo] = w {
                self.sum += u64::from(u16::from_be_bytes([*hi, *lo]));
            }
        }
        if let [last] = words.remainder() {
            self.sum += u64::from(u16::from_be_bytes([*last, 0]));
        }
        self
    }

    /// Adds one 16-bit word.
    pub fn add_u16(&mut self, word: u16) -> &mut Self {
        self.sum += u64::from(word);
        self
    }

    /// The folded sum, not yet complemented.
    pub fn folded(&self) -> u16 {
        let mut s = self.sum;
        while s > 0xffff {
            s = (s & 0xffff) + (s >> 16);
        }
        // The loop leaves s <= 0xffff.
        u16::try_from(s).unwrap_or(u16::MAX)
    }

    /// The checksum to put on the wire: the complement of the folded sum.
    ///
    /// Over data that already carries a correct checksum, this is 0.
    pub fn finish(&self) -> u16 {
        !self.folded()
    }

    /// Starts a sum with the IPv4 pseudo-header `{src, dst, 0, protocol, length}`.
    pub fn ipv4_pseudo_header(src: Ipv4Addr, dst: Ipv4Addr, protocol: u8, len: u16) -> Self {
        let mut c = Self::new();
        c.add(&src.octets())
            .add(&dst.octets())
            .add_u16(u16::from(protocol))
            .add_u16(len);
        c
    }

    /// Starts a sum with the IPv6 pseudo-header `{src, dst, length (32 bits), 0, next header}`.
    pub fn ipv6_pseudo_header(src: Ipv6Addr, dst: Ipv6Addr, next_header: u8, len: u32) -> Self {
        let mut c = Self::new();
        c.add(&src.octets())
            .add(&dst.octets())
            .add(&len.to_be_bytes())
            .add_u16(u16::from(next_header));
        c
    }
}

/// The Internet checksum of `data` alone (no pseudo-header).
pub fn internet_checksum(data: &[u8]) -> u16 {
    InternetChecksum::new().add(data).finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 section 3: the words 0001 f203 f4f5 f6f7 sum to ddf2 (folded).
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        let mut c = InternetChecksum::new();
        c.add(&data);
        assert_eq!(c.folded(), 0xddf2);
        assert_eq!(c.finish(), 0x220d);
        assert_eq!(internet_checksum(&data), 0x220d);
    }

    #[test]
    fn odd_length_pads_with_zero() {
        assert_eq!(internet_checksum(&[0x12]), !0x1200);
        assert_eq!(
            internet_checksum(&[0x12, 0x34, 0x56]),
            !(0x1234u16 + 0x5600)
        );
    }

    #[test]
    fn empty_and_all_ones() {
        assert_eq!(internet_checksum(&[]), 0xffff);
        assert_eq!(internet_checksum(&[0xff, 0xff]), 0x0000);
    }

    #[test]
    fn data_with_its_checksum_sums_to_zero() {
        let mut data = vec![0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11];
        data.extend_from_slice(&[0, 0, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7]);
        let ck = internet_checksum(&data);
        // The textbook IPv4 header example (Wikipedia "IPv4 header checksum").
        assert_eq!(ck, 0xb861);
        data[10..12].copy_from_slice(&ck.to_be_bytes());
        assert_eq!(internet_checksum(&data), 0);
    }

    #[test]
    fn carries_fold_more_than_once() {
        let data = vec![0xffu8; 2 * 70_000];
        assert_eq!(internet_checksum(&data), 0);
    }
}
