//! Property tests: encode -> decode round trips for arbitrary valid adverts, and no panic on
//! arbitrary bytes, truncations or bit flips of valid packets.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_vrrp::codec::{
    decode_message, encode_ipv4_advert, encode_message, parse_ipv4, validate, Family, Garp,
    Ipv4Send, PseudoHeader, RxPacket, RxParams, RxStats, UnicastChecksumCompat, UnicastPeer,
    UnsolicitedNa, V4Checksum, MCAST_GROUP4, MCAST_GROUP6,
};
use keepalived_vrrp::{Advert, Auth, Version};
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

fn advert_strategy() -> impl Strategy<Value = Advert> {
    let v2 = (
        any::<u8>(),
        any::<u8>(),
        0u64..=255,
        prop::collection::vec(any::<u32>(), 0..=20),
        prop::option::of(any::<[u8; 8]>()),
    )
        .prop_map(|(vrid, priority, secs, addrs, pw)| Advert {
            version: Version::V2,
            vrid,
            priority,
            interval: Duration::from_secs(secs),
            addrs: addrs
                .into_iter()
                .map(|a| IpAddr::V4(Ipv4Addr::from(a)))
                .collect(),
            auth: pw.map_or(Auth::None, Auth::Pass),
        });
    let v3 = (
        any::<u8>(),
        any::<u8>(),
        0u64..=4095,
        any::<bool>(),
        prop::collection::vec(any::<u128>(), 0..=20),
    )
        .prop_map(|(vrid, priority, centis, six, addrs)| Advert {
            version: Version::V3,
            vrid,
            priority,
            interval: Duration::from_millis(centis * 10),
            addrs: addrs
                .into_iter()
                .map(|a| {
                    if six {
                        IpAddr::V6(Ipv6Addr::from(a))
                    } else {
                        IpAddr::V4(Ipv4Addr::from(a as u32))
                    }
                })
                .collect(),
            auth: Auth::None,
        });
    prop_oneof![v2, v3]
}

fn family_of(a: &Advert) -> Family {
    match a.addrs.first() {
        Some(IpAddr::V6(_)) => Family::V6,
        _ => Family::V4,
    }
}

fn params_for(a: &Advert) -> RxParams {
    let mut p = RxParams::new(a.version, a.vrid, a.interval, a.addrs.clone());
    p.auth = a.auth.clone();
    p.verify_ipv6_checksum = true;
    p
}

const SRC4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
fn src6() -> Ipv6Addr {
    "fe80::1".parse().unwrap()
}

/// The packet as it would reach `validate`: whole IPv4 packet, or IPv6 payload.
fn wire(a: &Advert) -> Vec<u8> {
    let mut out = Vec::new();
    match family_of(a) {
        Family::V4 => {
            let send = Ipv4Send {
                src: SRC4,
                dst: MCAST_GROUP4,
                ttl: 255,
                id: 1,
            };
            encode_ipv4_advert(a, &send, V4Checksum::Standard, &mut out).unwrap();
        }
        Family::V6 => {
            let pseudo = PseudoHeader::V6 {
                src: src6(),
                dst: MCAST_GROUP6,
            };
            encode_message(a, pseudo, &mut out).unwrap();
        }
    }
    out
}

fn rx<'a>(a: &Advert, bytes: &'a [u8]) -> RxPacket<'a> {
    match family_of(a) {
        Family::V4 => RxPacket::Ipv4(bytes),
        Family::V6 => RxPacket::Ipv6 {
            payload: bytes,
            src: src6(),
            dst: MCAST_GROUP6,
            hop_limit: Some(255),
        },
    }
}

fn some_params() -> Vec<RxParams> {
    let vips4 = vec![IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1))];
    let mut list = vec![
        RxParams::new(Version::V2, 1, Duration::from_secs(1), vips4.clone()),
        RxParams::new(Version::V3, 1, Duration::from_secs(1), vips4.clone()),
        RxParams::new(
            Version::V3,
            1,
            Duration::from_secs(1),
            vec!["fe80::1".parse().unwrap()],
        ),
    ];
    let mut pass = RxParams::new(Version::V2, 1, Duration::from_secs(1), vips4.clone());
    pass.auth = Auth::Pass(*b"pass\0\0\0\0");
    list.push(pass);
    let mut ah = RxParams::new(Version::V2, 1, Duration::from_secs(1), vips4.clone());
    ah.auth = Auth::Ah;
    list.push(ah);
    let mut uni = RxParams::new(Version::V3, 1, Duration::from_secs(1), vips4);
    uni.unicast_peers = vec![UnicastPeer {
        addr: IpAddr::V4(SRC4),
        min_ttl: 10,
        max_ttl: 200,
    }];
    uni.check_unicast_src = true;
    uni.unicast_checksum_compat = UnicastChecksumCompat::Auto;
    uni.verify_ipv6_checksum = true;
    list.push(uni);
    list
}

/// Runs every receive path on `bytes`; the only property is that nothing panics.
fn exercise(bytes: &[u8]) {
    let mut stats = RxStats::default();
    for mut p in some_params() {
        for vrid in [
            1,
            bytes.get(21).copied().unwrap_or(0),
            bytes.get(1).copied().unwrap_or(0),
        ] {
            p.vrid = vrid;
            stats.record(&validate(RxPacket::Ipv4(bytes), &p));
            stats.record(&validate(
                RxPacket::Ipv6 {
                    payload: bytes,
                    src: src6(),
                    dst: MCAST_GROUP6,
                    hop_limit: Some(255),
                },
                &p,
            ));
        }
    }
    let _ = parse_ipv4(bytes);
    for family in [Family::V4, Family::V6] {
        let _ = decode_message(bytes, family, PseudoHeader::None);
    }
    let _ = Garp::parse(bytes);
    let _ = UnsolicitedNa::parse(bytes);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn message_round_trip(a in advert_strategy()) {
        let family = family_of(&a);
        let pseudo = match family {
            Family::V4 => PseudoHeader::V4 { src: SRC4, dst: MCAST_GROUP4 },
            Family::V6 => PseudoHeader::V6 { src: src6(), dst: MCAST_GROUP6 },
        };
        let mut out = Vec::new();
        encode_message(&a, pseudo, &mut out).unwrap();
        prop_assert_eq!(out.len(), keepalived_vrrp::codec::encoded_len(&a));
        prop_assert_eq!(decode_message(&out, family, pseudo).unwrap(), a);
    }

    #[test]
    fn validate_round_trip(a in advert_strategy()) {
        let bytes = wire(&a);
        let ok = validate(rx(&a, &bytes), &params_for(&a)).unwrap();
        prop_assert!(ok.warnings.is_empty(), "{:?}", ok.warnings);
        prop_assert_eq!(ok.advert, a);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        exercise(&bytes);
    }

    #[test]
    fn ipv4_looking_bytes_never_panic(
        ihl in 0u8..16,
        tot in any::<u16>(),
        proto in prop_oneof![Just(112u8), Just(51u8), any::<u8>()],
        rest in prop::collection::vec(any::<u8>(), 0..200),
    ) {
        let mut bytes = vec![0x40 | ihl, 0xc0];
        bytes.extend_from_slice(&tot.to_be_bytes());
        bytes.extend_from_slice(&[0, 1, 0, 0, 255, proto, 0, 0]);
        bytes.extend_from_slice(&SRC4.octets());
        bytes.extend_from_slice(&MCAST_GROUP4.octets());
        bytes.extend_from_slice(&rest);
        exercise(&bytes);
    }

    #[test]
    fn truncations_never_panic(a in advert_strategy(), cut in any::<prop::sample::Index>()) {
        let bytes = wire(&a);
        let cut = cut.index(bytes.len() + 1);
        let short = &bytes[..cut];
        exercise(short);
        if cut < bytes.len() {
            prop_assert!(validate(rx(&a, short), &params_for(&a)).is_err());
        }
    }

    #[test]
    fn bit_flips_are_caught(a in advert_strategy(), at in any::<prop::sample::Index>(), bit in 0u8..8) {
        let mut bytes = wire(&a);
        let at = at.index(bytes.len());
        bytes[at] ^= 1 << bit;
        exercise(&bytes);
        let vrrp_start = match family_of(&a) { Family::V4 => 20, Family::V6 => 0 };
        if at >= vrrp_start {
            // A single-bit error in the VRRP message always breaks the checksum, if nothing earlier.
            prop_assert!(validate(rx(&a, &bytes), &params_for(&a)).is_err());
        }
    }
}
