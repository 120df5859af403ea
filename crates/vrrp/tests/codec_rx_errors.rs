//! Every receive failure class and warning, each produced by a crafted packet, with its
//! counter, drop/KO class and keepalived log text.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_vrrp::codec::{
    encode_ipv4_advert, encode_message, internet_checksum, validate, InternetChecksum, Ipv4Send,
    PseudoHeader, RxCounter, RxError, RxPacket, RxParams, RxStats, RxWarning,
    UnicastChecksumCompat, UnicastPeer, V4Checksum, MCAST_GROUP4, MCAST_GROUP6,
};
use keepalived_vrrp::{Advert, Auth, Version};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

const SRC: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
const PEER_DST: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
const VIP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 100);

fn advert(version: Version) -> Advert {
    Advert {
        version,
        vrid: 51,
        priority: 100,
        interval: Duration::from_secs(1),
        addrs: vec![IpAddr::V4(VIP)],
        auth: Auth::None,
    }
}

fn params(version: Version) -> RxParams {
    RxParams::new(version, 51, Duration::from_secs(1), vec![IpAddr::V4(VIP)])
}

fn packet_to(a: &Advert, dst: Ipv4Addr, ttl: u8, checksum: V4Checksum) -> Vec<u8> {
    let mut out = Vec::new();
    let send = Ipv4Send {
        src: SRC,
        dst,
        ttl,
        id: 7,
    };
    encode_ipv4_advert(a, &send, checksum, &mut out).unwrap();
    out
}

fn packet(a: &Advert) -> Vec<u8> {
    packet_to(a, MCAST_GROUP4, 255, V4Checksum::Standard)
}

/// Recomputes the VRRPv2 checksum after the message bytes were changed.
fn restamp_v2(pkt: &mut [u8]) {
    pkt[26] = 0;
    pkt[27] = 0;
    let ck = internet_checksum(&pkt[20..]);
    pkt[26..28].copy_from_slice(&ck.to_be_bytes());
}

fn set_total_len(pkt: &mut [u8]) {
    let len = u16::try_from(pkt.len()).unwrap();
    pkt[2..4].copy_from_slice(&len.to_be_bytes());
}

fn rx(pkt: &[u8], p: &RxParams) -> Result<keepalived_vrrp::codec::Validated, RxError> {
    validate(RxPacket::Ipv4(pkt), p)
}

fn from() -> IpAddr {
    IpAddr::V4(SRC)
}

/// Checks the error's counter, drop class, and that RxStats counts it there.
fn assert_counted(e: &RxError, counter: Option<RxCounter>, drop: bool) {
    assert_eq!(e.counter(), counter, "{e:?}");
    assert_eq!(e.is_drop(), drop, "{e:?}");
    let mut stats = RxStats::default();
    stats.count_error(e);
    if let Some(c) = counter {
        assert_eq!(stats.get(c), 1);
    } else {
        assert_eq!(
            stats,
            RxStats {
                advert_rcvd: stats.advert_rcvd,
                ..RxStats::default()
            }
        );
    }
}

#[test]
fn header_too_short() {
    let e = rx(
        &[0x45, 0, 0, 10, 0, 0, 0, 0, 255, 112],
        &params(Version::V2),
    )
    .unwrap_err();
    assert_eq!(e, RxError::HeaderTooShort { len: 10, need: 20 });
    assert_counted(&e, Some(RxCounter::PacketLength), false);
    // IP header present but no VRRP header.
    let mut pkt = packet(&advert(Version::V2));
    pkt.truncate(24);
    set_total_len(&mut pkt);
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(e, RxError::HeaderTooShort { len: 24, need: 28 });
    assert_eq!(
        e.to_string(),
        "ip/vrrp header too short. 24 and expect at least 28"
    );
}

#[test]
fn bad_ip_header_and_other_protocols() {
    let mut pkt = packet(&advert(Version::V2));
    pkt[0] = 0x65;
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert!(matches!(e, RxError::BadIpHeader { .. }));
    assert_counted(&e, Some(RxCounter::PacketLength), false);

    let mut pkt = packet(&advert(Version::V2));
    pkt[9] = 17;
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(e, RxError::NotVrrp { protocol: 17 });
    assert_counted(&e, None, true);
}

#[test]
fn unknown_vrid() {
    let mut a = advert(Version::V2);
    a.vrid = 52;
    let e = rx(&packet(&a), &params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::UnknownVrid {
            vrid: 52,
            from: from()
        }
    );
    assert_counted(&e, None, true);
    assert_eq!(
        e.to_string(),
        "Unknown VRID(52) received from 10.0.0.1. ignoring..."
    );
}

/// A v2 packet carried in an IPsec AH header (ICV left zero).
fn ah_packet() -> Vec<u8> {
    let mut a = advert(Version::V2);
    a.auth = Auth::None;
    let plain = packet(&a);
    let mut pkt = plain[..20].to_vec();
    pkt[9] = 51;
    let mut ah = [0u8; 24];
    ah[0] = 112;
    ah[1] = 4;
    ah[4..8].copy_from_slice(&SRC.octets());
    pkt.extend_from_slice(&ah);
    pkt.extend_from_slice(&plain[20..]);
    pkt[20 + 24 + 4] = 2; // VRRP auth type AH
    set_total_len(&mut pkt);
    pkt
}

#[test]
fn ah_presence_mismatch_and_unsupported() {
    let e = rx(&ah_packet(), &params(Version::V2)).unwrap_err();
    assert_eq!(e, RxError::AhHeaderUnexpected { from: from() });
    assert_counted(&e, Some(RxCounter::AuthTypeMismatch), false);
    assert_eq!(e.to_string(), "Received AH header but auth type not AH");

    let mut p = params(Version::V2);
    p.auth = Auth::Ah;
    let e = rx(&packet(&advert(Version::V2)), &p).unwrap_err();
    assert_eq!(e, RxError::AhHeaderMissing { from: from() });
    assert_counted(&e, Some(RxCounter::AuthTypeMismatch), false);
    assert_eq!(e.to_string(), "No AH header but auth type is AH");

    let e = rx(&ah_packet(), &p).unwrap_err();
    assert_eq!(e, RxError::AhUnsupported { from: from() });
    assert_counted(&e, Some(RxCounter::AuthFailure), false);
}

#[test]
fn total_length_mismatch() {
    let mut pkt = packet(&advert(Version::V2));
    pkt[3] += 1;
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::TotalLength {
            tot_len: 41,
            received: 40
        }
    );
    assert_counted(&e, Some(RxCounter::PacketLength), false);
    assert_eq!(
        e.to_string(),
        "ip_tot_len mismatch against received length. 41 and received 40"
    );
}

#[test]
fn vrrp_length_mismatch() {
    // Count says 2 addresses but only one is there.
    let mut pkt = packet(&advert(Version::V2));
    pkt[23] = 2;
    restamp_v2(&mut pkt);
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::Length {
            from: from(),
            len: 20,
            expected: 24
        }
    );
    assert_counted(&e, Some(RxCounter::PacketLength), false);
    assert_eq!(
        e.to_string(),
        "vrrp packet from 10.0.0.1 too short, length 20 and expect 24"
    );

    // IPv6 carries no padding: extra bytes are "too long".
    let vip6: IpAddr = "fe80::1".parse().unwrap();
    let a = Advert {
        addrs: vec![vip6],
        ..advert(Version::V3)
    };
    let mut payload = Vec::new();
    encode_message(&a, PseudoHeader::None, &mut payload).unwrap();
    payload.extend_from_slice(&[0; 4]);
    let p = RxParams::new(Version::V3, 51, Duration::from_secs(1), vec![vip6]);
    let e = validate(
        RxPacket::Ipv6 {
            payload: &payload,
            src: "fe80::2".parse().unwrap(),
            dst: MCAST_GROUP6,
            hop_limit: Some(255),
        },
        &p,
    )
    .unwrap_err();
    assert!(e
        .to_string()
        .starts_with("vrrp packet from fe80::2 too long, length 28 and expect 24"));
}

#[test]
fn ethernet_padding_is_tolerated() {
    // A v3 packet with one VIP is 32 bytes; padded inside the IP datagram to 46.
    let mut pkt = packet(&advert(Version::V3));
    pkt.resize(46, 0);
    set_total_len(&mut pkt);
    let ok = rx(&pkt, &params(Version::V3)).unwrap();
    assert_eq!(ok.advert, advert(Version::V3));
    // Padding after the IP datagram (tot_len unchanged) too.
    let mut pkt = packet(&advert(Version::V3));
    pkt.resize(46, 0);
    assert!(rx(&pkt, &params(Version::V3)).is_ok());
}

#[test]
fn multicast_ttl() {
    let pkt = packet_to(&advert(Version::V2), MCAST_GROUP4, 64, V4Checksum::Standard);
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::Ttl {
            from: from(),
            ttl: 64
        }
    );
    assert_counted(&e, Some(RxCounter::Ttl), false);
    assert_eq!(
        e.to_string(),
        "invalid TTL/HL from 10.0.0.1. Received 64 and expect 255"
    );

    // IPv6 hop limit from the ancillary data; unknown hop limit is not checked.
    let vip6: IpAddr = "fe80::1".parse().unwrap();
    let a = Advert {
        addrs: vec![vip6],
        ..advert(Version::V3)
    };
    let mut payload = Vec::new();
    encode_message(&a, PseudoHeader::None, &mut payload).unwrap();
    let p = RxParams::new(Version::V3, 51, Duration::from_secs(1), vec![vip6]);
    let with = |hop_limit| RxPacket::Ipv6 {
        payload: &payload,
        src: "fe80::2".parse().unwrap(),
        dst: MCAST_GROUP6,
        hop_limit,
    };
    assert!(matches!(
        validate(with(Some(1)), &p),
        Err(RxError::Ttl { ttl: 1, .. })
    ));
    assert!(validate(with(None), &p).is_ok());
    assert!(validate(with(Some(255)), &p).is_ok());
}

fn unicast_params(version: Version) -> RxParams {
    let mut p = params(version);
    p.unicast_peers = vec![UnicastPeer {
        addr: IpAddr::V4(SRC),
        min_ttl: 250,
        max_ttl: 255,
    }];
    p
}

#[test]
fn unicast_ttl_range() {
    let pkt = packet_to(&advert(Version::V2), PEER_DST, 64, V4Checksum::Standard);
    let e = rx(&pkt, &unicast_params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::UnicastTtlRange {
            from: from(),
            ttl: 64,
            min: 250,
            max: 255
        }
    );
    assert_counted(&e, Some(RxCounter::Ttl), true);
    assert_eq!(
        e.to_string(),
        "TTL/HL 64 from 10.0.0.1 not in range [250, 255]"
    );
    // Unicast without a TTL range: any TTL.
    let mut p = unicast_params(Version::V2);
    p.unicast_peers[0] = UnicastPeer::new(IpAddr::V4(SRC));
    assert!(rx(&pkt, &p).is_ok());
}

#[test]
fn wrong_version() {
    let mut pkt = packet(&advert(Version::V2));
    pkt[20] = 0x31;
    restamp_v2(&mut pkt);
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::Version {
            from: from(),
            received: 3,
            expected: 2
        }
    );
    assert_counted(&e, Some(RxCounter::Version), false);
    assert_eq!(
        e.to_string(),
        "wrong VRRP version from 10.0.0.1. Received 3 and expect 2"
    );
}

#[test]
fn invalid_auth_type() {
    let mut pkt = packet(&advert(Version::V2));
    pkt[24] = 7;
    restamp_v2(&mut pkt);
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::InvalidAuthType {
            from: from(),
            auth_type: 7
        }
    );
    assert_counted(&e, Some(RxCounter::InvalidAuthType), false);
    assert_eq!(e.to_string(), "Invalid auth type from 10.0.0.1: 7");
}

#[test]
fn auth_type_mismatch_and_failure() {
    let mut a = advert(Version::V2);
    a.auth = Auth::Pass(*b"secret\0\0");
    let pkt = packet(&a);
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::AuthTypeMismatch {
            from: from(),
            received: 1,
            expected: 0
        }
    );
    assert_counted(&e, Some(RxCounter::AuthTypeMismatch), false);
    assert_eq!(
        e.to_string(),
        "received a 1 auth from 10.0.0.1, expecting 0!"
    );

    let mut p = params(Version::V2);
    p.auth = Auth::Pass(*b"secreT\0\0");
    let e = rx(&pkt, &p).unwrap_err();
    assert_eq!(e, RxError::AuthFailure { from: from() });
    assert_counted(&e, Some(RxCounter::AuthFailure), false);
    assert_eq!(e.to_string(), "received an invalid passwd from 10.0.0.1!");

    p.auth = Auth::Pass(*b"secret\0\0");
    assert_eq!(rx(&pkt, &p).unwrap().advert.auth, a.auth);
}

#[test]
fn v2_interval_mismatch_is_dropped() {
    let mut a = advert(Version::V2);
    a.interval = Duration::from_secs(3);
    let e = rx(&packet(&a), &params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::AdvertInterval {
            from: from(),
            mine: 1,
            received: 3
        }
    );
    assert_counted(&e, None, true);
    assert_eq!(
        e.to_string(),
        "advertisement interval mismatch with 10.0.0.1 mine=1 sec rcv'd=3 sec"
    );
}

#[test]
fn invalid_type() {
    let mut pkt = packet(&advert(Version::V2));
    pkt[20] = 0x22;
    restamp_v2(&mut pkt);
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::InvalidType {
            from: from(),
            kind: 2
        }
    );
    assert_counted(&e, Some(RxCounter::InvalidType), false);
    assert_eq!(
        e.to_string(),
        "Invalid packet type from 10.0.0.1. 2 and expect 1"
    );
}

#[test]
fn bad_checksums() {
    let mut pkt = packet(&advert(Version::V2));
    pkt[27] ^= 1;
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(e, RxError::ChecksumV2 { from: from() });
    assert_counted(&e, Some(RxCounter::Checksum), false);
    assert_eq!(e.to_string(), "Invalid VRRPv2 checksum");

    let mut pkt = packet(&advert(Version::V3));
    pkt[27] ^= 1;
    let e = rx(&pkt, &params(Version::V3)).unwrap_err();
    assert_eq!(e, RxError::ChecksumV3 { from: from() });
    assert_eq!(e.to_string(), "Invalid VRRPv3 checksum from 10.0.0.1");
}

#[test]
fn unicast_multicast_mismatch() {
    let pkt = packet_to(&advert(Version::V2), PEER_DST, 255, V4Checksum::Standard);
    let e = rx(&pkt, &params(Version::V2)).unwrap_err();
    assert_eq!(
        e,
        RxError::CastMismatch {
            from: from(),
            expected_unicast: false
        }
    );
    assert_counted(&e, Some(RxCounter::AddressList), false);
    assert_eq!(
        e.to_string(),
        "Expected multicast packet but received unicast packet from 10.0.0.1"
    );

    let e = rx(&packet(&advert(Version::V2)), &unicast_params(Version::V2)).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Expected unicast packet but received multicast packet from 10.0.0.1"
    );
}

#[test]
fn unicast_source_not_a_peer() {
    let pkt = packet_to(&advert(Version::V2), PEER_DST, 255, V4Checksum::Standard);
    let mut p = unicast_params(Version::V2);
    p.unicast_peers[0].addr = "10.0.0.9".parse().unwrap();
    assert!(rx(&pkt, &p).is_ok(), "not checked by default");
    p.check_unicast_src = true;
    let e = rx(&pkt, &p).unwrap_err();
    assert_eq!(e, RxError::UnicastSrcNotPeer { from: from() });
    assert_counted(&e, None, false);
    assert!(e.counts_as_received());
    let mut stats = RxStats::default();
    stats.count_error(&e);
    assert_eq!(stats.advert_rcvd, 1);
    assert_eq!(
        e.to_string(),
        "unicast source address 10.0.0.1 not a unicast peer"
    );
}

#[test]
fn accepted_with_warnings() {
    // v3 interval differs: accepted, warning only.
    let mut a = advert(Version::V3);
    a.interval = Duration::from_millis(250);
    let ok = rx(&packet(&a), &params(Version::V3)).unwrap();
    assert_eq!(
        ok.warnings,
        vec![RxWarning::V3Interval {
            from: from(),
            ours: 100,
            received: 25
        }]
    );
    assert_eq!(
        ok.warnings[0].to_string(),
        "advertisement interval mismatch ours = 100 centi-sec rcv'd=25 centi-sec"
    );

    // VIP count and content differ: accepted (keepalived >= 2.3.3), counted in Address List.
    let mut a = advert(Version::V2);
    a.addrs = vec!["10.0.0.5".parse().unwrap(), "10.0.0.6".parse().unwrap()];
    let ok = rx(&packet(&a), &params(Version::V2)).unwrap();
    assert_eq!(
        ok.warnings,
        vec![
            RxWarning::VipCount {
                from: from(),
                expected: 1,
                received: 2
            },
            RxWarning::VipMissing {
                from: from(),
                vrid: 51,
                vip: IpAddr::V4(VIP)
            }
        ]
    );
    assert_eq!(ok.warnings[0].to_string(), "expected 1 VIPs but received 2");
    assert_eq!(
        ok.warnings[1].to_string(),
        "ip address associated with VRID 51 not present in advert from 10.0.0.1: 10.0.0.100"
    );
    let mut stats = RxStats::default();
    stats.record(&Ok(ok));
    assert_eq!(stats.addr_list_err, 2);
    assert_eq!(stats.advert_rcvd, 1);

    // skip_check_adv_addr: no VIP comparison for the same master.
    let mut p = params(Version::V2);
    p.skip_check_adv_addr = true;
    p.last_master = Some(from());
    assert!(rx(&packet(&a), &p).unwrap().warnings.is_empty());
    p.last_master = Some("10.0.0.3".parse().unwrap());
    assert_eq!(rx(&packet(&a), &p).unwrap().warnings.len(), 2);
}

#[test]
fn v3_checksum_as_v2() {
    let a = advert(Version::V3);
    let plain = packet_to(&a, MCAST_GROUP4, 255, V4Checksum::AsV2);
    let vrrp = &plain[20..];
    assert_eq!(internet_checksum(vrrp), 0, "no pseudo-header");
    let mut p = params(Version::V3);
    assert!(matches!(rx(&plain, &p), Err(RxError::ChecksumV3 { .. })));
    p.v3_checksum_as_v2 = true;
    assert!(rx(&plain, &p).is_ok());
    assert!(matches!(
        rx(&packet(&a), &p),
        Err(RxError::ChecksumV3 { .. })
    ));
}

#[test]
fn old_unicast_checksum() {
    let a = advert(Version::V3);
    let old = packet_to(
        &a,
        PEER_DST,
        255,
        V4Checksum::OldUnicast {
            group: MCAST_GROUP4,
        },
    );
    let ck = InternetChecksum::ipv4_pseudo_header(SRC, MCAST_GROUP4, 112, 12)
        .add(&old[20..])
        .finish();
    assert_eq!(ck, 0, "pseudo-header destination is the group");
    let mut p = unicast_params(Version::V3);
    p.unicast_peers[0] = UnicastPeer::new(IpAddr::V4(SRC));

    // Default: detected, accepted, and reported so the instance switches.
    let ok = rx(&old, &p).unwrap();
    assert_eq!(
        ok.warnings,
        vec![RxWarning::OldUnicastChecksum { from: from() }]
    );
    assert_eq!(
        ok.warnings[0].to_string(),
        "Setting unicast VRRPv3 checksum to old version"
    );
    p.unicast_checksum_compat = UnicastChecksumCompat::Old;
    assert!(rx(&old, &p).unwrap().warnings.is_empty());
    p.unicast_checksum_compat = UnicastChecksumCompat::Never;
    assert!(matches!(rx(&old, &p), Err(RxError::ChecksumV3 { .. })));

    // A standard unicast checksum under Old mode fails.
    let standard = packet_to(&a, PEER_DST, 255, V4Checksum::Standard);
    p.unicast_checksum_compat = UnicastChecksumCompat::Old;
    assert!(matches!(rx(&standard, &p), Err(RxError::ChecksumV3 { .. })));
    p.unicast_checksum_compat = UnicastChecksumCompat::Auto;
    assert!(rx(&standard, &p).unwrap().warnings.is_empty());
}

#[test]
fn ipv6_checksum_when_asked() {
    let vip6: IpAddr = "fe80::1".parse().unwrap();
    let src: Ipv6Addr = "fe80::2".parse().unwrap();
    let a = Advert {
        addrs: vec![vip6],
        ..advert(Version::V3)
    };
    let mut payload = Vec::new();
    encode_message(
        &a,
        PseudoHeader::V6 {
            src,
            dst: MCAST_GROUP6,
        },
        &mut payload,
    )
    .unwrap();
    payload[7] ^= 0xff;
    let mut p = RxParams::new(Version::V3, 51, Duration::from_secs(1), vec![vip6]);
    let pkt = RxPacket::Ipv6 {
        payload: &payload,
        src,
        dst: MCAST_GROUP6,
        hop_limit: Some(255),
    };
    assert!(validate(pkt, &p).is_ok(), "kernel's job by default");
    p.verify_ipv6_checksum = true;
    assert!(matches!(validate(pkt, &p), Err(RxError::ChecksumV3 { .. })));
}

#[test]
fn stats_names_match_keepalived_stats_file() {
    let names: Vec<_> = [
        RxCounter::PacketLength,
        RxCounter::Ttl,
        RxCounter::InvalidType,
        RxCounter::AdvertInterval,
        RxCounter::AddressList,
        RxCounter::InvalidAuthType,
        RxCounter::AuthTypeMismatch,
        RxCounter::AuthFailure,
    ]
    .iter()
    .map(|c| {
        format!(
            "{}: {}",
            c.stats_section().unwrap(),
            c.stats_name().unwrap()
        )
    })
    .collect();
    assert_eq!(
        names,
        [
            "Packet Errors: Length",
            "Packet Errors: TTL",
            "Packet Errors: Invalid Type",
            "Packet Errors: Advertisement Interval",
            "Packet Errors: Address List",
            "Authentication Errors: Invalid Type",
            "Authentication Errors: Type Mismatch",
            "Authentication Errors: Failure",
        ]
    );
    assert_eq!(RxCounter::Checksum.stats_name(), None);
    assert_eq!(RxCounter::Ttl.field_name(), "ip_ttl_err");
}

#[test]
fn priority_zero_counted() {
    let mut a = advert(Version::V2);
    a.priority = 0;
    let mut stats = RxStats::default();
    stats.record(&rx(&packet(&a), &params(Version::V2)));
    assert_eq!((stats.advert_rcvd, stats.pri_zero_rcvd), (1, 1));
}
