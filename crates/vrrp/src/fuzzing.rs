//! Entry points shared by the cargo-fuzz targets (`crates/vrrp/fuzz`) and the corpus replay
//! test (`tests/fuzz_corpus.rs`), so the two always exercise the same code. Not an API.

use crate::codec::{
    decode_message, parse_ipv4, validate, Family, Garp, PseudoHeader, RxPacket, RxParams, RxStats,
    UnicastChecksumCompat, UnicastPeer, UnsolicitedNa, MCAST_GROUP6,
};
use crate::{Auth, Version};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// The receiving instance chosen by `selector`: version, VIP family, auth, unicast peer,
/// checksum compatibility settings.
fn params(selector: u8, vrid: u8) -> RxParams {
    let v4 = |d| IpAddr::V4(Ipv4Addr::new(10, 0, 0, d));
    let version = if selector & 1 == 0 {
        Version::V2
    } else {
        Version::V3
    };
    let vips = if selector & 2 == 0 {
        vec![v4(1), v4(2)]
    } else {
        vec![IpAddr::V6(Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 1))]
    };
    let mut p = RxParams::new(version, vrid, Duration::from_secs(1), vips);
    p.auth = match (selector >> 2) & 3 {
        1 => Auth::Pass(*b"secret12"),
        2 => Auth::Ah,
        _ => Auth::None,
    };
    if selector & 16 != 0 {
        p.unicast_peers = vec![UnicastPeer {
            addr: v4(9),
            min_ttl: 5,
            max_ttl: 250,
        }];
        p.check_unicast_src = true;
    }
    p.unicast_checksum_compat = match (selector >> 5) & 3 {
        1 => UnicastChecksumCompat::Never,
        2 => UnicastChecksumCompat::Old,
        _ => UnicastChecksumCompat::Auto,
    };
    p.v3_checksum_as_v2 = selector & 128 != 0;
    p.verify_ipv6_checksum = selector & 64 != 0;
    p.skip_check_adv_addr = selector & 8 != 0;
    p.last_master = Some(v4(9));
    p
}

/// Arbitrary bytes into every receive path: IPv4 parse, VRRP decode, validate (IPv4 and IPv6,
/// the instance configuration chosen by the first byte), stats counting, GARP/NA parsing. Must
/// never panic.
pub fn decode(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    // Use the VRID the packet carries (IPv4 or IPv6 position) so validation goes deep.
    let vrid4 = bytes.get(21).copied().unwrap_or(0);
    let vrid6 = bytes.get(1).copied().unwrap_or(0);
    let mut stats = RxStats::default();
    stats.record(&validate(RxPacket::Ipv4(bytes), &params(selector, vrid4)));
    let v6 = RxPacket::Ipv6 {
        payload: bytes,
        src: Ipv6Addr::new(0xfe80, 0, 0, 0, 0, 0, 0, 9),
        dst: if selector & 1 == 0 {
            MCAST_GROUP6
        } else {
            Ipv6Addr::LOCALHOST
        },
        hop_limit: if selector & 4 == 0 { Some(255) } else { None },
    };
    stats.record(&validate(v6, &params(selector, vrid6)));
    if let Err(e) = validate(RxPacket::Ipv4(bytes), &params(selector, vrid4)) {
        let _ = (e.to_string(), e.counter(), e.is_drop(), e.from());
    }
    let _ = parse_ipv4(bytes);
    let _ = decode_message(bytes, Family::V4, PseudoHeader::None);
    let _ = decode_message(bytes, Family::V6, PseudoHeader::None);
    let _ = Garp::parse(bytes);
    let _ = UnsolicitedNa::parse(bytes);
}
