//! Real packets captured from keepalived 2.2.7 (`tests/data/*.pcap`, made with the config in
//! `/work/shared/vectors/packets-config.conf`): decode each, check every field, re-encode it
//! byte for byte.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_vrrp::codec::{
    encode_ipv4_advert, encode_message, parse_ipv4, validate, Garp, Ipv4Send, PseudoHeader,
    RxPacket, RxParams, RxStats, UnsolicitedNa, V4Checksum, MCAST_GROUP6,
};
use keepalived_vrrp::{Advert, Auth, Version};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::time::Duration;

/// The frames of a classic little-endian pcap file (Ethernet link type).
fn pcap_frames(name: &str) -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    let data = std::fs::read(&path).unwrap();
    assert_eq!(&data[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "little-endian pcap");
    let linktype = u32::from_le_bytes(data[20..24].try_into().unwrap());
    assert_eq!(linktype, 1, "Ethernet");
    let mut frames = Vec::new();
    let mut at = 24;
    while at + 16 <= data.len() {
        let incl = u32::from_le_bytes(data[at + 8..at + 12].try_into().unwrap()) as usize;
        let orig = u32::from_le_bytes(data[at + 12..at + 16].try_into().unwrap()) as usize;
        assert_eq!(incl, orig, "capture not truncated");
        frames.push(data[at + 16..at + 16 + incl].to_vec());
        at += 16 + incl;
    }
    assert_eq!(at, data.len());
    frames
}

fn single_frame(name: &str) -> Vec<u8> {
    let mut frames = pcap_frames(name);
    assert_eq!(frames.len(), 1);
    frames.pop().unwrap()
}

const SRC_MAC: [u8; 6] = [0x02, 0x00, 0x0a, 0xd5, 0x00, 0x0b];
const N1: Ipv4Addr = Ipv4Addr::new(10, 213, 0, 11);
const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

fn v4(a: &str) -> IpAddr {
    IpAddr::V4(a.parse().unwrap())
}

/// Ethernet header to the multicast MAC of 224.0.0.18, then the IPv4 packet.
fn ipv4_payload(frame: &[u8]) -> &[u8] {
    assert_eq!(&frame[0..6], &[0x01, 0x00, 0x5e, 0x00, 0x00, 0x12]);
    assert_eq!(&frame[6..12], &SRC_MAC);
    assert_eq!(&frame[12..14], &[0x08, 0x00]);
    &frame[14..]
}

fn check_ipv4_advert(
    file: &str,
    mut params: RxParams,
    expect: &Advert,
    expect_id: u16,
    checksum: V4Checksum,
) {
    let frame = single_frame(file);
    let packet = ipv4_payload(&frame);

    let (ip, _) = parse_ipv4(packet).unwrap();
    assert_eq!(ip.header_len, 20);
    assert_eq!(ip.tos, 0xc0);
    assert_eq!(usize::from(ip.total_len), packet.len());
    assert_eq!(ip.id, expect_id);
    assert_eq!(ip.flags_fragment, 0, "keepalived 2.2.7 sets no DF");
    assert_eq!(ip.ttl, 255);
    assert_eq!(ip.protocol, 112);
    assert_eq!(ip.src, N1);
    assert_eq!(ip.dst, GROUP);

    params.auth = expect.auth.clone();
    let ok = validate(RxPacket::Ipv4(packet), &params).unwrap();
    assert_eq!(&ok.advert, expect);
    assert_eq!(ok.src, IpAddr::V4(N1));
    assert_eq!(ok.dst, IpAddr::V4(GROUP));
    assert_eq!(ok.ttl, Some(255));
    assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);
    let mut stats = RxStats::default();
    stats.record(&Ok(ok));
    assert_eq!(stats.advert_rcvd, 1);
    assert_eq!(stats.pri_zero_rcvd, u64::from(expect.priority == 0));

    let send = Ipv4Send {
        src: N1,
        dst: GROUP,
        ttl: 255,
        id: expect_id,
    };
    let mut out = Vec::new();
    encode_ipv4_advert(expect, &send, checksum, &mut out).unwrap();
    assert_eq!(out, packet, "{file}: re-encoded packet differs");
}

#[test]
fn vrrpv2_advert() {
    let advert = Advert {
        version: Version::V2,
        vrid: 51,
        priority: 150,
        interval: Duration::from_secs(1),
        addrs: vec![v4("10.213.0.100")],
        auth: Auth::None,
    };
    let params = RxParams::new(
        Version::V2,
        51,
        Duration::from_secs(1),
        advert.addrs.clone(),
    );
    check_ipv4_advert(
        "vrrpv2-advert.pcap",
        params,
        &advert,
        1,
        V4Checksum::Standard,
    );
}

#[test]
fn vrrpv2_authpass() {
    let advert = Advert {
        version: Version::V2,
        vrid: 53,
        priority: 150,
        interval: Duration::from_secs(1),
        addrs: vec![v4("10.213.0.104")],
        auth: Auth::Pass(*b"secret12"),
    };
    let params = RxParams::new(
        Version::V2,
        53,
        Duration::from_secs(1),
        advert.addrs.clone(),
    );
    check_ipv4_advert(
        "vrrpv2-authpass.pcap",
        params,
        &advert,
        1,
        V4Checksum::Standard,
    );
}

#[test]
fn vrrpv2_priority_zero() {
    let advert = Advert {
        version: Version::V2,
        vrid: 51,
        priority: 0,
        interval: Duration::from_secs(1),
        addrs: vec![v4("10.213.0.100")],
        auth: Auth::None,
    };
    let params = RxParams::new(
        Version::V2,
        51,
        Duration::from_secs(1),
        advert.addrs.clone(),
    );
    check_ipv4_advert(
        "vrrpv2-prio0.pcap",
        params,
        &advert,
        4,
        V4Checksum::Standard,
    );
}

#[test]
fn vrrpv3_ipv4_advert() {
    let advert = Advert {
        version: Version::V3,
        vrid: 52,
        priority: 150,
        interval: Duration::from_millis(1000),
        addrs: vec![v4("10.213.0.102"), v4("10.213.0.103")],
        auth: Auth::None,
    };
    let params = RxParams::new(
        Version::V3,
        52,
        Duration::from_secs(1),
        advert.addrs.clone(),
    );
    check_ipv4_advert(
        "vrrpv3-advert.pcap",
        params,
        &advert,
        1,
        V4Checksum::Standard,
    );
}

#[test]
fn vrrpv3_ipv6_advert() {
    let frame = single_frame("vrrpv3-ipv6-advert.pcap");
    assert_eq!(&frame[0..6], &[0x33, 0x33, 0, 0, 0, 0x12]);
    assert_eq!(&frame[6..12], &SRC_MAC);
    assert_eq!(&frame[12..14], &[0x86, 0xdd]);
    let ip6 = &frame[14..54];
    assert_eq!(ip6[0] >> 4, 6);
    // Traffic class 0xc0, as keepalived asks the kernel (IPV6_TCLASS).
    assert_eq!(((ip6[0] & 0x0f) << 4) | (ip6[1] >> 4), 0xc0);
    assert_eq!(ip6[6], 112, "next header VRRP");
    assert_eq!(ip6[7], 255, "hop limit");
    let src = Ipv6Addr::from(<[u8; 16]>::try_from(&ip6[8..24]).unwrap());
    let dst = Ipv6Addr::from(<[u8; 16]>::try_from(&ip6[24..40]).unwrap());
    assert_eq!(src, "fe80::aff:fed5:b".parse::<Ipv6Addr>().unwrap());
    assert_eq!(dst, MCAST_GROUP6);
    let payload = &frame[54..];
    assert_eq!(
        usize::from(u16::from_be_bytes([ip6[4], ip6[5]])),
        payload.len()
    );

    let vip: IpAddr = "fe80::213:56".parse().unwrap();
    let mut params = RxParams::new(Version::V3, 56, Duration::from_secs(1), vec![vip]);
    params.verify_ipv6_checksum = true;
    let ok = validate(
        RxPacket::Ipv6 {
            payload,
            src,
            dst,
            hop_limit: Some(255),
        },
        &params,
    )
    .unwrap();
    let expect = Advert {
        version: Version::V3,
        vrid: 56,
        priority: 150,
        interval: Duration::from_secs(1),
        addrs: vec![vip],
        auth: Auth::None,
    };
    assert_eq!(ok.advert, expect);
    assert!(ok.warnings.is_empty());

    let mut out = Vec::new();
    encode_message(&expect, PseudoHeader::V6 { src, dst }, &mut out).unwrap();
    assert_eq!(out, payload);
}

#[test]
fn gratuitous_arp() {
    let frame = single_frame("garp.pcap");
    let garp = Garp::parse(&frame).unwrap();
    assert_eq!(garp.src_mac, SRC_MAC);
    assert_eq!(garp.vip, Ipv4Addr::new(10, 213, 0, 100));
    assert_eq!(&frame[0..6], &[0xff; 6], "Ethernet broadcast");
    assert_eq!(&frame[20..22], &[0, 1], "ARP request");
    assert_eq!(&frame[32..38], &[0xff; 6], "target MAC broadcast");
    assert_eq!(garp.to_frame().as_slice(), frame.as_slice());
}

#[test]
fn unsolicited_neighbour_advert() {
    let frame = single_frame("unsolicited-na.pcap");
    let na = UnsolicitedNa::parse(&frame).unwrap();
    assert_eq!(na.src_mac, SRC_MAC);
    assert_eq!(na.vip, "fe80::213:56".parse::<Ipv6Addr>().unwrap());
    assert!(!na.router);
    assert_eq!(&frame[0..6], &[0x33, 0x33, 0, 0, 0, 1]);
    assert_eq!(frame[21], 255, "hop limit");
    assert_eq!(frame[54], 136, "ICMPv6 NA");
    assert_eq!(frame[58], 0x20, "Override only");
    assert_eq!(na.to_frame().as_slice(), frame.as_slice());

    let routed = UnsolicitedNa { router: true, ..na }.to_frame();
    assert_eq!(routed[58], 0xa0);
    assert_eq!(
        UnsolicitedNa::parse(&routed).unwrap(),
        UnsolicitedNa { router: true, ..na }
    );
}
