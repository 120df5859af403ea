//! Gratuitous ARP (IPv4) and unsolicited neighbour advertisement (IPv6) frames, built whole
//! for a packet socket, as keepalived sends them after becoming master.

use super::checksum::InternetChecksum;
use std::net::{Ipv4Addr, Ipv6Addr};

/// A MAC address.
pub type Mac = [u8; 6];

/// Ethernet broadcast address.
pub const BROADCAST_MAC: Mac = [0xff; 6];
/// EtherType ARP.
pub const ETHERTYPE_ARP: u16 = 0x0806;
/// EtherType IPv6.
pub const ETHERTYPE_IPV6: u16 = 0x86dd;
/// Length of a GARP frame (no padding: the NIC pads to 60 bytes).
pub const GARP_FRAME_LEN: usize = 14 + 28;
/// Length of an unsolicited NA frame.
pub const NA_FRAME_LEN: usize = 14 + 40 + NA_ICMP_LEN;
/// ICMPv6 NA with one target link-layer address option.
const NA_ICMP_LEN: usize = 24 + 8;
/// All-nodes multicast group, destination of unsolicited NAs.
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
/// ICMPv6 type of a neighbour advertisement.
pub const ICMPV6_NEIGHBOR_ADVERT: u8 = 136;
/// IP protocol number of ICMPv6.
pub const IPPROTO_ICMPV6: u8 = 58;
/// NA flag: sender is a router.
pub const NA_FLAG_ROUTER: u8 = 0x80;
/// NA flag: solicited.
pub const NA_FLAG_SOLICITED: u8 = 0x40;
/// NA flag: override existing cache entries.
pub const NA_FLAG_OVERRIDE: u8 = 0x20;

/// A gratuitous ARP: ARP request with sender IP = target IP = the VIP, target MAC broadcast.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Garp {
    /// Ethernet source and ARP sender hardware address (interface MAC or VMAC).
    pub src_mac: Mac,
    /// The virtual address announced.
    pub vip: Ipv4Addr,
}

impl Garp {
    /// The Ethernet frame.
    pub fn to_frame(&self) -> [u8; GARP_FRAME_LEN] {
        let mut f = [0u8; GARP_FRAME_LEN];
        f[0..6].copy_from_slice(&BROADCAST_MAC);
        f[6..12].copy_from_slice(&self.src_mac);
        f[12..14].copy_from_slice(&ETHERTYPE_ARP.to_be_bytes());
        // Ethernet hardware, IPv4 protocol, 6-byte and 4-byte addresses, request.
        f[14..22].copy_from_slice(&[0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]);
        f[22..28].copy_from_slice(&self.src_mac);
        f[28..32].copy_from_slice(&self.vip.octets());
        f[32..38].copy_from_slice(&BROADCAST_MAC);
        f[38..42].copy_from_slice(&self.vip.octets());
        f
    }

    /// Reads a GARP frame back; `None` unless it is an Ethernet ARP request with sender IP
    /// equal to target IP.
    pub fn parse(frame: &[u8]) -> Option<Garp> {
        let f: &[u8; GARP_FRAME_LEN] = frame.get(..GARP_FRAME_LEN)?.try_into().ok()?;
        if f[12..14] != ETHERTYPE_ARP.to_be_bytes()
            || f[14..22] != [0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01]
            || f[28..32] != f[38..42]
        {
            return None;
        }
        let src_mac: Mac = f[22..28].try_into().ok()?;
        let vip: [u8; 4] = f[28..32].try_into().ok()?;
        Some(Garp {
            src_mac,
            vip: Ipv4Addr::from(vip),
        })
    }
}

/// An unsolicited neighbour advertisement to ff02::1 from the VIP, hop limit 255, with the
/// Override flag (and Router when asked) and a target link-layer address option.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnsolicitedNa {
    /// Ethernet source and target link-layer address (interface MAC or VMAC).
    pub src_mac: Mac,
    /// The virtual address announced: IPv6 source and NA target, as keepalived does.
    pub vip: Ipv6Addr,
    /// Set the Router flag (keepalived does when IPv6 forwarding is on).
    pub router: bool,
}

impl UnsolicitedNa {
    /// The Ethernet frame.
    pub fn to_frame(&self) -> [u8; NA_FRAME_LEN] {
        let mut f = [0u8; NA_FRAME_LEN];
        // 33:33 + low 32 bits of ff02::1.
        f[0..6].copy_from_slice(&[0x33, 0x33, 0, 0, 0, 1]);
        f[6..12].copy_from_slice(&self.src_mac);
        f[12..14].copy_from_slice(&ETHERTYPE_IPV6.to_be_bytes());
        f[14] = 0x60;
        f[18..20].copy_from_slice(&(NA_ICMP_LEN as u16).to_be_bytes());
        f[20] = IPPROTO_ICMPV6;
        f[21] = 255;
        f[22..38].copy_from_slice(&self.vip.octets());
        f[38..54].copy_from_slice(&ALL_NODES.octets());
        let icmp = 54;
        f[icmp] = ICMPV6_NEIGHBOR_ADVERT;
        f[icmp + 4] = NA_FLAG_OVERRIDE | if self.router { NA_FLAG_ROUTER } else { 0 };
        f[icmp + 8..icmp + 24].copy_from_slice(&self.vip.octets());
        // Option: target link-layer address, length 1 (8 bytes).
        f[icmp + 24] = 2;
        f[icmp + 25] = 1;
        f[icmp + 26..icmp + 32].copy_from_slice(&self.src_mac);
        let ck = InternetChecksum::ipv6_pseudo_header(
            self.vip,
            ALL_NODES,
            IPPROTO_ICMPV6,
            NA_ICMP_LEN as u32,
        )
        .add(&f[icmp..])
        .finish();
        f[icmp + 2..icmp + 4].copy_from_slice(&ck.to_be_bytes());
        f
    }

    /// Reads an unsolicited NA frame back; `None` unless it is an Ethernet IPv6 ICMPv6 NA with
    /// a target link-layer address option and a correct checksum.
    pub fn parse(frame: &[u8]) -> Option<UnsolicitedNa> {
        let f: &[u8; NA_FRAME_LEN] = frame.get(..NA_FRAME_LEN)?.try_into().ok()?;
        let icmp = 54;
        if f[12..14] != ETHERTYPE_IPV6.to_be_bytes()
            || f[14] >> 4 != 6
            || f[20] != IPPROTO_ICMPV6
            || f[icmp] != ICMPV6_NEIGHBOR_ADVERT
            || f[icmp + 24] != 2
            || f[icmp + 25] != 1
        {
            return None;
        }
        let src: [u8; 16] = f[22..38].try_into().ok()?;
        let dst: [u8; 16] = f[38..54].try_into().ok()?;
        let ok = InternetChecksum::ipv6_pseudo_header(
            Ipv6Addr::from(src),
            Ipv6Addr::from(dst),
            IPPROTO_ICMPV6,
            NA_ICMP_LEN as u32,
        )
        .add(&f[icmp..])
        .finish()
            == 0;
        if !ok {
            return None;
        }
        let target: [u8; 16] = f[icmp + 8..icmp + 24].try_into().ok()?;
        let src_mac: Mac = f[icmp + 26..icmp + 32].try_into().ok()?;
        Some(UnsolicitedNa {
            src_mac,
            vip: Ipv6Addr::from(target),
            router: f[icmp + 4] & NA_FLAG_ROUTER != 0,
        })
    }
}
