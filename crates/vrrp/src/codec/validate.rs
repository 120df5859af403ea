//! Receive validation: keepalived's checks on a received advert, in keepalived's order, each
//! failure a typed [`RxError`] and each accepted oddity an [`RxWarning`].

use super::error::{RxError, RxWarning};
use super::ip::{parse_ipv4, MAX_PADDED_IPV4_LEN, VRRP_TTL};
use super::message::{
    Family, PseudoHeader, RawMessage, AUTH_TYPE_AH, AUTH_TYPE_NONE, AUTH_TYPE_PASS, HEADER_LEN,
    IPPROTO_AH, IPPROTO_VRRP, MCAST_GROUP4, TYPE_ADVERTISEMENT,
};
use crate::advert::{Advert, AdvertHeader, Auth, Version};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// Size of the IPsec AH header keepalived uses (RFC 2402 with a 96-bit ICV).
pub const AH_HEADER_LEN: usize = 24;

/// A packet as the receive socket hands it over.
#[derive(Debug, Clone, Copy)]
pub enum RxPacket<'a> {
    /// IPv4 raw socket: the whole IP packet, header included.
    Ipv4(&'a [u8]),
    /// IPv6 raw socket: the VRRP message, with what `IPV6_RECVPKTINFO` / `IPV6_RECVHOPLIMIT`
    /// and the source sockaddr told.
    Ipv6 {
        /// The VRRP message.
        payload: &'a [u8],
        /// Source address.
        src: Ipv6Addr,
        /// Destination address (from the packet info).
        dst: Ipv6Addr,
        /// Hop limit; `None` if the ancillary data was missing (keepalived then skips the check).
        hop_limit: Option<u8>,
    },
}

/// A configured unicast peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnicastPeer {
    /// Peer address.
    pub addr: IpAddr,
    /// Lowest TTL / hop limit accepted from it (`min_ttl`, default 0).
    pub min_ttl: u8,
    /// Highest TTL / hop limit accepted from it (`max_ttl`, default 255).
    pub max_ttl: u8,
}

impl UnicastPeer {
    /// A peer accepting any TTL.
    pub const fn new(addr: IpAddr) -> Self {
        Self {
            addr,
            min_ttl: 0,
            max_ttl: 255,
        }
    }
}

/// keepalived's `old_unicast_checksum` setting for VRRPv3 over IPv4 unicast.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UnicastChecksumCompat {
    /// Not configured: standard checksum, but an old-style one received switches the instance
    /// to [`Old`](Self::Old) (reported as [`RxWarning::OldUnicastChecksum`]).
    #[default]
    Auto,
    /// `old_unicast_checksum never`: standard checksum only.
    Never,
    /// `old_unicast_checksum` (or detected): the pseudo-header destination is the multicast group.
    Old,
}

/// What an instance expects of the adverts it receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RxParams {
    /// Configured VRRP version.
    pub version: Version,
    /// Configured VRID.
    pub vrid: u8,
    /// Configured v2 authentication (password zero padded to 8 bytes); ignored for v3.
    pub auth: Auth,
    /// Configured advert interval.
    pub advert_interval: Duration,
    /// The instance's VIPs (the ones sent in adverts).
    pub vips: Vec<IpAddr>,
    /// Unicast peers; empty means multicast.
    pub unicast_peers: Vec<UnicastPeer>,
    /// `check_unicast_src` / `vrrp_check_unicast_src`.
    pub check_unicast_src: bool,
    /// `skip_check_adv_addr`: do not compare VIPs when the sender is [`last_master`](Self::last_master).
    pub skip_check_adv_addr: bool,
    /// Source of the last accepted advert (kept up to date by the state machine).
    pub last_master: Option<IpAddr>,
    /// `v3_checksum_as_v2`: VRRPv3 over IPv4 without pseudo-header.
    pub v3_checksum_as_v2: bool,
    /// `old_unicast_checksum`.
    pub unicast_checksum_compat: UnicastChecksumCompat,
    /// `vrrp_mcast_group4` (224.0.0.18 by default), for the old unicast checksum.
    pub mcast_group4: Ipv4Addr,
    /// Verify the IPv6 checksum too (keepalived leaves it to the kernel, `IPV6_CHECKSUM`).
    pub verify_ipv6_checksum: bool,
}

impl RxParams {
    /// Parameters with keepalived's defaults: no auth, multicast, standard checksums.
    pub fn new(version: Version, vrid: u8, advert_interval: Duration, vips: Vec<IpAddr>) -> Self {
        Self {
            version,
            vrid,
            auth: Auth::None,
            advert_interval,
            vips,
            unicast_peers: Vec::new(),
            check_unicast_src: false,
            skip_check_adv_addr: false,
            last_master: None,
            v3_checksum_as_v2: false,
            unicast_checksum_compat: UnicastChecksumCompat::Auto,
            mcast_group4: MCAST_GROUP4,
            verify_ipv6_checksum: false,
        }
    }

    fn auth_type(&self) -> u8 {
        match self.auth {
            Auth::None => AUTH_TYPE_NONE,
            Auth::Pass(_) => AUTH_TYPE_PASS,
            Auth::Ah => AUTH_TYPE_AH,
        }
    }

    fn is_unicast(&self) -> bool {
        !self.unicast_peers.is_empty()
    }
}

/// An accepted advert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    /// The advert.
    pub advert: Advert,
    /// Its sender.
    pub src: IpAddr,
    /// The destination it was sent to.
    pub dst: IpAddr,
    /// Its TTL / hop limit (`None` when unknown).
    pub ttl: Option<u8>,
    /// Oddities keepalived logs but accepts.
    pub warnings: Vec<RxWarning>,
}

/// An accepted advert's fixed fields, from [`validate_header`]: the same checks as
/// [`validate`] without decoding the address list, so the receive path allocates nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedHeader {
    /// The advert's fixed fields.
    pub advert: AdvertHeader,
    /// Its sender.
    pub src: IpAddr,
    /// The destination it was sent to.
    pub dst: IpAddr,
    /// Its TTL / hop limit (`None` when unknown).
    pub ttl: Option<u8>,
    /// Oddities keepalived logs but accepts (empty, unallocated, for a regular advert).
    pub warnings: Vec<RxWarning>,
}

/// Compares two byte strings in time independent of where they differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// What the address-family-specific part of the packet told.
struct Envelope<'a> {
    family: Family,
    src: IpAddr,
    dst: IpAddr,
    ttl: Option<u8>,
    /// The VRRP message, any padding included.
    vrrp: &'a [u8],
    /// Whether trailing bytes after the expected message are tolerated as Ethernet padding.
    may_be_padded: bool,
    ah: bool,
    /// Bytes before the VRRP message (for the "header too short" message).
    headers_len: usize,
    total_len: usize,
}

fn open(packet: RxPacket<'_>) -> Result<Envelope<'_>, RxError> {
    match packet {
        RxPacket::Ipv4(bytes) => {
            let (ip, payload) = parse_ipv4(bytes)?;
            let ah = match ip.protocol {
                IPPROTO_VRRP => false,
                IPPROTO_AH => true,
                protocol => return Err(RxError::NotVrrp { protocol }),
            };
            let skip = if ah { AH_HEADER_LEN } else { 0 };
            let vrrp = payload.get(skip..).unwrap_or(&[]);
            Ok(Envelope {
                family: Family::V4,
                src: IpAddr::V4(ip.src),
                dst: IpAddr::V4(ip.dst),
                ttl: Some(ip.ttl),
                vrrp,
                may_be_padded: usize::from(ip.total_len) <= MAX_PADDED_IPV4_LEN,
                ah,
                headers_len: ip.header_len + skip,
                total_len: bytes.len(),
            })
        }
        RxPacket::Ipv6 {
            payload,
            src,
            dst,
            hop_limit,
        } => Ok(Envelope {
            family: Family::V6,
            src: IpAddr::V6(src),
            dst: IpAddr::V6(dst),
            ttl: hop_limit,
            vrrp: payload,
            may_be_padded: false,
            ah: false,
            headers_len: 0,
            total_len: payload.len(),
        }),
    }
}

fn version_number(v: Version) -> u8 {
    match v {
        Version::V2 => 2,
        Version::V3 => 3,
    }
}

/// Validates a received packet against an instance's parameters.
///
/// The checks and their order follow keepalived's `vrrp_check_packet()`: VRID, AH presence,
/// length, TTL, version, v2 authentication and interval, type, checksum, unicast/multicast,
/// then the VIP list (accepted with a warning, as keepalived 2.3.3+) and the unicast source.
/// Never panics, whatever the bytes.
pub fn validate(packet: RxPacket<'_>, params: &RxParams) -> Result<Validated, RxError> {
    let (checked, raw, family) = check(packet, params)?;
    Ok(Validated {
        advert: raw.to_advert(params.version, family),
        src: checked.src,
        dst: checked.dst,
        ttl: checked.ttl,
        warnings: checked.warnings,
    })
}

/// [`validate`] returning the advert's fixed fields only ([`Advert::header`]): what the
/// state machine reads, without allocating the address list.
pub fn validate_header(
    packet: RxPacket<'_>,
    params: &RxParams,
) -> Result<ValidatedHeader, RxError> {
    check(packet, params).map(|(checked, _, _)| checked)
}

/// The checks of [`validate`]; also hands back the message and the family, for the caller
/// that decodes the address list.
fn check<'a>(
    packet: RxPacket<'a>,
    params: &RxParams,
) -> Result<(ValidatedHeader, RawMessage<'a>, Family), RxError> {
    let env = open(packet)?;
    let raw = RawMessage::new(env.vrrp).ok_or(RxError::HeaderTooShort {
        len: env.total_len,
        need: env.headers_len + HEADER_LEN,
    })?;
    let from = env.src;

    // Dispatch: keepalived finds the instance by VRID before any other check.
    if raw.vrid() != params.vrid {
        return Err(RxError::UnknownVrid {
            vrid: raw.vrid(),
            from,
        });
    }

    let wants_ah = matches!(params.auth, Auth::Ah) && params.version == Version::V2;
    match (env.ah, wants_ah) {
        (true, false) => return Err(RxError::AhHeaderUnexpected { from }),
        (false, true) => return Err(RxError::AhHeaderMissing { from }),
        _ => {}
    }

    let expected = raw.expected_len(params.version, env.family);
    let len = env.vrrp.len();
    if len < expected || (len > expected && !env.may_be_padded) {
        return Err(RxError::Length {
            from,
            len,
            expected,
        });
    }

    check_ttl(&env, params)?;

    if raw.version() != version_number(params.version) {
        return Err(RxError::Version {
            from,
            received: raw.version(),
            expected: version_number(params.version),
        });
    }

    if params.version == Version::V2 {
        check_v2_auth(&raw, &env, params)?;
        let mine = params.advert_interval;
        if Duration::from_secs(u64::from(raw.v2_interval_secs())) != mine {
            return Err(RxError::AdvertInterval {
                from,
                mine: mine.as_secs(),
                received: raw.v2_interval_secs(),
            });
        }
    }

    if raw.kind() != TYPE_ADVERTISEMENT {
        return Err(RxError::InvalidType {
            from,
            kind: raw.kind(),
        });
    }

    let mut warnings = Vec::new();
    check_checksum(&raw, &env, params, expected, &mut warnings)?;

    let multicast = env.dst.is_multicast();
    if multicast == params.is_unicast() {
        return Err(RxError::CastMismatch {
            from,
            expected_unicast: params.is_unicast(),
        });
    }

    if params.version == Version::V3 {
        let ours = params.advert_interval.as_millis() / 10;
        let received = raw.v3_interval_centis();
        if ours != u128::from(received) {
            warnings.push(RxWarning::V3Interval {
                from,
                ours: u64::try_from(ours).unwrap_or(u64::MAX),
                received,
            });
        }
    }

    let same_master = params.skip_check_adv_addr && params.last_master == Some(from);
    if !same_master && !raw.carries_in_order(&params.vips) {
        if usize::from(raw.count()) != params.vips.len() {
            warnings.push(RxWarning::VipCount {
                from,
                expected: params.vips.len(),
                received: raw.count(),
            });
        }
        if let Some(vip) = params.vips.iter().find(|v| !raw.carries(v)) {
            warnings.push(RxWarning::VipMissing {
                from,
                vrid: params.vrid,
                vip: *vip,
            });
        }
    }

    if params.check_unicast_src
        && params.is_unicast()
        && !params.unicast_peers.iter().any(|p| p.addr == from)
    {
        return Err(RxError::UnicastSrcNotPeer { from });
    }

    let checked = ValidatedHeader {
        advert: raw.to_header(params.version),
        src: from,
        dst: env.dst,
        ttl: env.ttl,
        warnings,
    };
    Ok((checked, raw, env.family))
}

fn check_ttl(env: &Envelope<'_>, params: &RxParams) -> Result<(), RxError> {
    let Some(ttl) = env.ttl else {
        return Ok(());
    };
    if !params.is_unicast() {
        if ttl != VRRP_TTL {
            return Err(RxError::Ttl { from: env.src, ttl });
        }
    } else if let Some(peer) = params.unicast_peers.iter().find(|p| p.addr == env.src) {
        if ttl < peer.min_ttl || ttl > peer.max_ttl {
            return Err(RxError::UnicastTtlRange {
                from: env.src,
                ttl,
                min: peer.min_ttl,
                max: peer.max_ttl,
            });
        }
    }
    Ok(())
}

fn check_v2_auth(
    raw: &RawMessage<'_>,
    env: &Envelope<'_>,
    params: &RxParams,
) -> Result<(), RxError> {
    let from = env.src;
    let received = raw.auth_type();
    if received > AUTH_TYPE_AH {
        return Err(RxError::InvalidAuthType {
            from,
            auth_type: received,
        });
    }
    if received != params.auth_type() {
        return Err(RxError::AuthTypeMismatch {
            from,
            received,
            expected: params.auth_type(),
        });
    }
    match &params.auth {
        Auth::Pass(password) => {
            let data = raw.auth_data(env.family).unwrap_or(&[]);
            if !constant_time_eq(data, password) {
                return Err(RxError::AuthFailure { from });
            }
        }
        Auth::Ah => return Err(RxError::AhUnsupported { from }),
        Auth::None => {}
    }
    Ok(())
}

fn check_checksum(
    raw: &RawMessage<'_>,
    env: &Envelope<'_>,
    params: &RxParams,
    len: usize,
    warnings: &mut Vec<RxWarning>,
) -> Result<(), RxError> {
    let from = env.src;
    let bad = match params.version {
        Version::V2 => RxError::ChecksumV2 { from },
        Version::V3 => RxError::ChecksumV3 { from },
    };
    let pseudo = match (env.src, env.dst, params.version) {
        (IpAddr::V4(_), _, Version::V2) => PseudoHeader::None,
        (IpAddr::V4(_), _, Version::V3) if params.v3_checksum_as_v2 => PseudoHeader::None,
        (IpAddr::V4(src), IpAddr::V4(dst), Version::V3) => {
            let group = params.mcast_group4;
            let pseudo_dst = match params.unicast_checksum_compat {
                UnicastChecksumCompat::Old => group,
                UnicastChecksumCompat::Auto | UnicastChecksumCompat::Never => dst,
            };
            let may_be_old = params.is_unicast()
                && params.unicast_checksum_compat == UnicastChecksumCompat::Auto
                && pseudo_dst != group;
            if may_be_old
                && !raw.checksum_ok(
                    len,
                    PseudoHeader::V4 {
                        src,
                        dst: pseudo_dst,
                    },
                )
                && raw.checksum_ok(len, PseudoHeader::V4 { src, dst: group })
            {
                warnings.push(RxWarning::OldUnicastChecksum { from });
                return Ok(());
            }
            PseudoHeader::V4 {
                src,
                dst: pseudo_dst,
            }
        }
        (IpAddr::V6(src), IpAddr::V6(dst), _) if params.verify_ipv6_checksum => {
            PseudoHeader::V6 { src, dst }
        }
        // IPv6: the kernel verifies it (IPV6_CHECKSUM), as keepalived relies on.
        _ => return Ok(()),
    };
    if raw.checksum_ok(len, pseudo) {
        Ok(())
    } else {
        Err(bad)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_works() {
        assert!(constant_time_eq(b"secret12", b"secret12"));
        assert!(!constant_time_eq(b"secret12", b"secret13"));
        assert!(!constant_time_eq(b"secret1", b"secret12"));
    }
}
