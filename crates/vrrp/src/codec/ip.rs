//! The IPv4 header keepalived builds itself (raw socket with `IP_HDRINCL`) and the parsing
//! of a received IPv4 packet. IPv6 headers are built and stripped by the kernel.

use super::checksum::internet_checksum;
use super::error::{EncodeError, RxError};
use super::message::{encode_message, PseudoHeader, IPPROTO_VRRP};
use crate::advert::Advert;
use std::net::Ipv4Addr;

/// Length of an IPv4 header without options.
pub const IPV4_HEADER_LEN: usize = 20;
/// TOS keepalived sets: precedence "internetwork control" (0xc0).
pub const VRRP_TOS: u8 = 0xc0;
/// The TTL / hop limit VRRP requires on multicast.
pub const VRRP_TTL: u8 = 255;
/// Largest IPv4 packet that Ethernet may have padded: a 46-byte minimum payload plus two
/// VLAN tags' worth of slack (keepalived tolerates padding "modulo VLAN tag sizes").
pub const MAX_PADDED_IPV4_LEN: usize = 46 + 2 * 4;

/// The IPv4 identification keepalived puts in each packet: incremented per packet, never 0
/// (0 would let the kernel choose one).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IpIdCounter {
    last: u16,
}

impl IpIdCounter {
    /// A counter whose first id is 1, as keepalived's.
    pub const fn new() -> Self {
        Self { last: 0 }
    }

    /// A counter continuing after `last` (e.g. carried over a restart).
    pub const fn starting_after(last: u16) -> Self {
        Self { last }
    }

    /// The next id: previous + 1, skipping 0 on wrap-around.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u16 {
        self.last = self.last.wrapping_add(1);
        if self.last == 0 {
            self.last = 1;
        }
        self.last
    }
}

/// How the VRRPv3 checksum over IPv4 is computed (ignored for v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum V4Checksum {
    /// RFC 5798: pseudo-header with the packet's own source and destination.
    Standard,
    /// keepalived's `v3_checksum_as_v2`: no pseudo-header.
    AsV2,
    /// keepalived's `old_unicast_checksum`: pseudo-header destination is this multicast group
    /// even when the packet is sent unicast (keepalived <= 1.3.6).
    OldUnicast {
        /// The VRRP multicast group (224.0.0.18 unless `vrrp_mcast_group4` says otherwise).
        group: Ipv4Addr,
    },
}

impl V4Checksum {
    /// The pseudo-header for a packet from `src` to `dst`.
    pub fn pseudo_header(self, src: Ipv4Addr, dst: Ipv4Addr) -> PseudoHeader {
        match self {
            V4Checksum::Standard => PseudoHeader::V4 { src, dst },
            V4Checksum::AsV2 => PseudoHeader::None,
            V4Checksum::OldUnicast { group } => PseudoHeader::V4 { src, dst: group },
        }
    }
}

/// Addressing of one IPv4 advert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Send {
    /// Source address (primary address of the interface, `mcast_src_ip` or `unicast_src_ip`).
    pub src: Ipv4Addr,
    /// Destination: the multicast group or one unicast peer.
    pub dst: Ipv4Addr,
    /// 255, or `unicast_ttl` for unicast.
    pub ttl: u8,
    /// Identification, from an [`IpIdCounter`].
    pub id: u16,
}

/// Appends the whole IPv4 packet keepalived sends for `advert`: header (TOS 0xc0, no DF, as
/// keepalived 2.2), header checksum and VRRP message.
pub fn encode_ipv4_advert(
    advert: &Advert,
    send: &Ipv4Send,
    checksum: V4Checksum,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let start = out.len();
    out.extend_from_slice(&[0u8; IPV4_HEADER_LEN]);
    let pseudo = checksum.pseudo_header(send.src, send.dst);
    if let Err(e) = encode_message(advert, pseudo, out) {
        out.truncate(start);
        return Err(e);
    }
    let total = out.len() - start;
    let Ok(total) = u16::try_from(total) else {
        out.truncate(start);
        return Err(EncodeError::TooLarge);
    };
    let mut header = [0u8; IPV4_HEADER_LEN];
    header[0] = 0x45;
    header[1] = VRRP_TOS;
    header[2..4].copy_from_slice(&total.to_be_bytes());
    header[4..6].copy_from_slice(&send.id.to_be_bytes());
    // Bytes 6-7 (flags, fragment offset) stay 0: keepalived sets no DF bit.
    header[8] = send.ttl;
    header[9] = IPPROTO_VRRP;
    header[12..16].copy_from_slice(&send.src.octets());
    header[16..20].copy_from_slice(&send.dst.octets());
    let ck = internet_checksum(&header);
    header[10..12].copy_from_slice(&ck.to_be_bytes());
    if let Some(dst) = out.get_mut(start..start + IPV4_HEADER_LEN) {
        dst.copy_from_slice(&header);
    }
    Ok(())
}

/// The fields of a received IPv4 header that VRRP looks at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Header {
    /// Header length in bytes (IHL * 4), options included.
    pub header_len: usize,
    /// Type of service byte.
    pub tos: u8,
    /// Total length field.
    pub total_len: u16,
    /// Identification.
    pub id: u16,
    /// Flags and fragment offset.
    pub flags_fragment: u16,
    /// Time to live.
    pub ttl: u8,
    /// Protocol (112 VRRP, 51 AH).
    pub protocol: u8,
    /// Header checksum field (the kernel has verified it).
    pub checksum: u16,
    /// Source address.
    pub src: Ipv4Addr,
    /// Destination address.
    pub dst: Ipv4Addr,
}

/// Parses a received IPv4 packet and returns its header and payload.
///
/// The payload ends at the total length; bytes beyond it are tolerated as Ethernet padding
/// when the whole packet is no longer than [`MAX_PADDED_IPV4_LEN`].
pub fn parse_ipv4(bytes: &[u8]) -> Result<(Ipv4Header, &[u8]), RxError> {
    let fixed: &[u8; IPV4_HEADER_LEN] = bytes
        .get(..IPV4_HEADER_LEN)
        .and_then(|b| b.try_into().ok())
        .ok_or(RxError::HeaderTooShort {
            len: bytes.len(),
            need: IPV4_HEADER_LEN,
        })?;
    if fixed[0] >> 4 != 4 {
        return Err(RxError::BadIpHeader {
            reason: "version is not 4",
        });
    }
    let header_len = usize::from(fixed[0] & 0x0f) * 4;
    if header_len < IPV4_HEADER_LEN {
        return Err(RxError::BadIpHeader {
            reason: "header length below 20",
        });
    }
    let header = Ipv4Header {
        header_len,
        tos: fixed[1],
        total_len: u16::from_be_bytes([fixed[2], fixed[3]]),
        id: u16::from_be_bytes([fixed[4], fixed[5]]),
        flags_fragment: u16::from_be_bytes([fixed[6], fixed[7]]),
        ttl: fixed[8],
        protocol: fixed[9],
        checksum: u16::from_be_bytes([fixed[10], fixed[11]]),
        src: Ipv4Addr::new(fixed[12], fixed[13], fixed[14], fixed[15]),
        dst: Ipv4Addr::new(fixed[16], fixed[17], fixed[18], fixed[19]),
    };
    let total = usize::from(header.total_len);
    let padded = bytes.len() > total && bytes.len() <= MAX_PADDED_IPV4_LEN;
    if total != bytes.len() && !padded {
        return Err(RxError::TotalLength {
            tot_len: header.total_len,
            received: bytes.len(),
        });
    }
    let payload = bytes.get(header_len..total).ok_or(RxError::BadIpHeader {
        reason: "header length beyond total length",
    })?;
    Ok((header, payload))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_counter_skips_zero() {
        let mut c = IpIdCounter::new();
        assert_eq!(c.next(), 1);
        assert_eq!(c.next(), 2);
        let mut c = IpIdCounter::starting_after(u16::MAX - 1);
        assert_eq!(c.next(), u16::MAX);
        assert_eq!(c.next(), 1);
    }

    #[test]
    fn short_and_bad_headers() {
        assert!(matches!(
            parse_ipv4(&[0x45; 10]),
            Err(RxError::HeaderTooShort { len: 10, need: 20 })
        ));
        let mut h = [0u8; 20];
        h[0] = 0x65;
        assert!(matches!(parse_ipv4(&h), Err(RxError::BadIpHeader { .. })));
        h[0] = 0x44;
        assert!(matches!(parse_ipv4(&h), Err(RxError::BadIpHeader { .. })));
        // IHL 15 (60 bytes) but total length 20.
        h[0] = 0x4f;
        h[3] = 20;
        assert!(matches!(parse_ipv4(&h), Err(RxError::BadIpHeader { .. })));
    }

    #[test]
    fn padding_tolerated_only_for_small_frames() {
        let mut p = vec![0u8; 46];
        p[0] = 0x45;
        p[3] = 32;
        let (h, payload) = parse_ipv4(&p).unwrap();
        assert_eq!(h.total_len, 32);
        assert_eq!(payload.len(), 12);
        let mut big = vec![0u8; 100];
        big[0] = 0x45;
        big[3] = 60;
        assert!(matches!(
            parse_ipv4(&big),
            Err(RxError::TotalLength {
                tot_len: 60,
                received: 100
            })
        ));
        big[3] = 120;
        assert!(matches!(parse_ipv4(&big), Err(RxError::TotalLength { .. })));
    }
}
