//! Hand-checked checksums: RFC 1071's own example, and the VRRPv3 advert keepalived 2.2.7
//! sent (`vrrpv3-advert.pcap`) computed with, without, and with the "old unicast" pseudo-header.
//! The expected values were worked out independently (16-bit one's-complement sums by hand /
//! with a separate script), not by this crate.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_vrrp::codec::{
    encode_ipv4_advert, encode_message, internet_checksum, InternetChecksum, Ipv4Send,
    PseudoHeader, V4Checksum, MCAST_GROUP4,
};
use keepalived_vrrp::{Advert, Auth, Version};
use std::net::Ipv4Addr;
use std::time::Duration;

#[test]
fn rfc1071_section3_example() {
    // 0001 + f203 + f4f5 + f6f7 = 2ddf0 -> ddf2, complement 220d.
    let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
    assert_eq!(internet_checksum(&data), 0x220d);
    // Byte-order independence (RFC 1071 2(B)): swapped bytes give the swapped sum.
    let swapped = [0x01, 0x00, 0x03, 0xf2, 0xf5, 0xf4, 0xf7, 0xf6];
    assert_eq!(internet_checksum(&swapped), 0x0d22);
}

#[test]
fn incremental_equals_whole() {
    let data: Vec<u8> = (0..=255u8).collect();
    let mut c = InternetChecksum::new();
    c.add(&data[..100]).add(&data[100..]);
    assert_eq!(c.finish(), internet_checksum(&data));
}

const SRC: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 11);
const PEER: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 12);
/// VRRPv3 message of vrrpv3-advert.pcap with its checksum field zeroed.
const V3_MSG: [u8; 16] = [
    0x31, 0x34, 0x96, 0x02, 0x00, 0x64, 0x00, 0x00, 10, 213, 0, 102, 10, 213, 0, 103,
];

fn v3_advert() -> Advert {
    Advert {
        version: Version::V3,
        vrid: 0x34,
        priority: 0x96,
        interval: Duration::from_secs(1),
        addrs: vec![
            "10.213.0.102".parse().unwrap(),
            "10.213.0.103".parse().unwrap(),
        ],
        auth: Auth::None,
    }
}

fn field(msg: &[u8]) -> u16 {
    u16::from_be_bytes([msg[6], msg[7]])
}

#[test]
fn v3_ipv4_with_pseudo_header() {
    // Pseudo-header 0ad5 000b e000 0012 0070 0010 + message: the capture's 367b.
    let ck = InternetChecksum::ipv4_pseudo_header(SRC, MCAST_GROUP4, 112, 16)
        .add(&V3_MSG)
        .finish();
    assert_eq!(ck, 0x367b);
    let mut out = Vec::new();
    let pseudo = PseudoHeader::V4 {
        src: SRC,
        dst: MCAST_GROUP4,
    };
    encode_message(&v3_advert(), pseudo, &mut out).unwrap();
    assert_eq!(field(&out), 0x367b);
}

#[test]
fn v3_ipv4_without_pseudo_header() {
    // v3_checksum_as_v2: the message alone.
    assert_eq!(internet_checksum(&V3_MSG), 0x21ee);
    let mut out = Vec::new();
    encode_message(&v3_advert(), PseudoHeader::None, &mut out).unwrap();
    assert_eq!(field(&out), 0x21ee);
}

#[test]
fn v3_ipv4_unicast_standard_and_old() {
    let send = Ipv4Send {
        src: SRC,
        dst: PEER,
        ttl: 255,
        id: 1,
    };
    // Standard unicast: pseudo-header destination is the peer.
    let mut out = Vec::new();
    encode_ipv4_advert(&v3_advert(), &send, V4Checksum::Standard, &mut out).unwrap();
    assert_eq!(field(&out[20..]), 0x0bad);
    // old_unicast_checksum: destination in the pseudo-header is still the group.
    let mut out = Vec::new();
    let old = V4Checksum::OldUnicast {
        group: MCAST_GROUP4,
    };
    encode_ipv4_advert(&v3_advert(), &send, old, &mut out).unwrap();
    assert_eq!(field(&out[20..]), 0x367b);
    assert_eq!(
        &out[16..20],
        &PEER.octets(),
        "but the packet goes to the peer"
    );
    // AsV2 over unicast.
    let mut out = Vec::new();
    encode_ipv4_advert(&v3_advert(), &send, V4Checksum::AsV2, &mut out).unwrap();
    assert_eq!(field(&out[20..]), 0x21ee);
}

#[test]
fn v2_ignores_pseudo_header() {
    let a = Advert {
        version: Version::V2,
        vrid: 51,
        priority: 150,
        interval: Duration::from_secs(1),
        addrs: vec!["10.213.0.100".parse().unwrap()],
        auth: Auth::None,
    };
    let mut out = Vec::new();
    let pseudo = PseudoHeader::V4 {
        src: SRC,
        dst: MCAST_GROUP4,
    };
    encode_message(&a, pseudo, &mut out).unwrap();
    // vrrpv2-advert.pcap's checksum.
    assert_eq!(field(&out), 0x3d91);
}

#[test]
fn ipv4_header_checksum() {
    let send = Ipv4Send {
        src: SRC,
        dst: MCAST_GROUP4,
        ttl: 255,
        id: 1,
    };
    let mut out = Vec::new();
    encode_ipv4_advert(&v3_advert(), &send, V4Checksum::Standard, &mut out).unwrap();
    // vrrpv3-advert.pcap's header checksum.
    assert_eq!(u16::from_be_bytes([out[10], out[11]]), 0xcfb6);
    assert_eq!(internet_checksum(&out[..20]), 0);
}
