//! The VRRP message itself (RFC 3768 section 5, RFC 5798 section 5): building it from an
//! [`Advert`] and reading its fields from received bytes.

use super::checksum::InternetChecksum;
use super::error::EncodeError;
use crate::advert::{Advert, AdvertHeader, Auth, Version};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// IP protocol number of VRRP.
pub const IPPROTO_VRRP: u8 = 112;
/// IP protocol number of IPsec AH.
pub const IPPROTO_AH: u8 = 51;
/// Fixed part of every VRRP message.
pub const HEADER_LEN: usize = 8;
/// Authentication data that ends a VRRPv2 message.
pub const AUTH_LEN: usize = 8;
/// The only VRRP packet type.
pub const TYPE_ADVERTISEMENT: u8 = 1;
/// v2 authentication type: none.
pub const AUTH_TYPE_NONE: u8 = 0;
/// v2 authentication type: simple text password.
pub const AUTH_TYPE_PASS: u8 = 1;
/// v2 authentication type: IPsec AH.
pub const AUTH_TYPE_AH: u8 = 2;
/// Largest v3 advert interval: 12 bits of centiseconds.
pub const V3_MAX_INTERVAL_CENTIS: u16 = 0x0fff;
/// Default IPv4 VRRP multicast group.
pub const MCAST_GROUP4: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);
/// Default IPv6 VRRP multicast group.
pub const MCAST_GROUP6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// Address family of the VIPs and of the packet carrying them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Family {
    /// IPv4: 4-byte addresses.
    V4,
    /// IPv6: 16-byte addresses.
    V6,
}

impl Family {
    /// Bytes one address takes in a VRRP message.
    pub const fn addr_len(self) -> usize {
        match self {
            Family::V4 => 4,
            Family::V6 => 16,
        }
    }

    /// The family of an address.
    pub const fn of(addr: &IpAddr) -> Family {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }
}

/// What goes in front of the VRRP message when its checksum is computed.
///
/// VRRPv2 always uses [`PseudoHeader::None`], whatever is passed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PseudoHeader {
    /// No pseudo-header: VRRPv2, or v3 with keepalived's `v3_checksum_as_v2`.
    None,
    /// RFC 5798 section 5.2.8 over IPv4: `{src, dst, 0, 112, length}`.
    V4 {
        /// IP source address.
        src: Ipv4Addr,
        /// IP destination address (the multicast group for `old_unicast_checksum`).
        dst: Ipv4Addr,
    },
    /// RFC 5798 over IPv6 (RFC 8200 section 8.1).
    V6 {
        /// IPv6 source address.
        src: Ipv6Addr,
        /// IPv6 destination address.
        dst: Ipv6Addr,
    },
}

impl PseudoHeader {
    fn start(self, len: usize) -> InternetChecksum {
        match self {
            PseudoHeader::None => InternetChecksum::new(),
            PseudoHeader::V4 { src, dst } => InternetChecksum::ipv4_pseudo_header(
                src,
                dst,
                IPPROTO_VRRP,
                u16::try_from(len).unwrap_or(u16::MAX),
            ),
            PseudoHeader::V6 { src, dst } => InternetChecksum::ipv6_pseudo_header(
                src,
                dst,
                IPPROTO_VRRP,
                u32::try_from(len).unwrap_or(u32::MAX),
            ),
        }
    }
}

/// Length of the VRRP message for `count` addresses of `family`.
pub const fn message_len(version: Version, family: Family, count: usize) -> usize {
    let auth = match version {
        Version::V2 => AUTH_LEN,
        Version::V3 => 0,
    };
    HEADER_LEN + count * family.addr_len() + auth
}

/// The VRRP message length of an advert (its family taken from its first address; IPv4 when empty).
pub fn encoded_len(advert: &Advert) -> usize {
    let family = advert.addrs.first().map_or(Family::V4, Family::of);
    message_len(advert.version, family, advert.addrs.len())
}

/// Checks that an advert can be put on the wire and returns its family and interval field.
fn wire_fields(advert: &Advert) -> Result<(Family, u16, u8), EncodeError> {
    let family = advert.addrs.first().map_or(Family::V4, Family::of);
    if advert.addrs.iter().any(|a| Family::of(a) != family) {
        return Err(EncodeError::MixedFamilies);
    }
    let count = u8::try_from(advert.addrs.len()).map_err(|_| EncodeError::TooManyAddresses {
        count: advert.addrs.len(),
    })?;
    let interval = match advert.version {
        Version::V2 => {
            if family == Family::V6 {
                return Err(EncodeError::V2OverIpv6);
            }
            let secs = advert.interval.as_secs();
            if advert.interval.subsec_nanos() != 0 || secs > 255 {
                return Err(EncodeError::Interval {
                    interval: advert.interval,
                    version: advert.version,
                });
            }
            // secs <= 255 was checked just above.
            u16::try_from(secs).unwrap_or(0)
        }
        Version::V3 => {
            let nanos = advert.interval.as_nanos();
            let centis = nanos / 10_000_000;
            if nanos % 10_000_000 != 0 || centis > u128::from(V3_MAX_INTERVAL_CENTIS) {
                return Err(EncodeError::Interval {
                    interval: advert.interval,
                    version: advert.version,
                });
            }
            u16::try_from(centis).unwrap_or(0)
        }
    };
    match (&advert.version, &advert.auth) {
        (_, Auth::Ah) => return Err(EncodeError::AhUnsupported),
        (Version::V3, Auth::Pass(_)) => return Err(EncodeError::V3WithAuth),
        _ => {}
    }
    Ok((family, interval, count))
}

/// Appends the VRRP message for `advert` to `out`, checksum included.
///
/// `pseudo` is used only for VRRPv3. On error nothing is appended.
pub fn encode_message(
    advert: &Advert,
    pseudo: PseudoHeader,
    out: &mut Vec<u8>,
) -> Result<(), EncodeError> {
    let (_family, interval, count) = wire_fields(advert)?;
    let start = out.len();
    let version_nibble = match advert.version {
        Version::V2 => 2u8,
        Version::V3 => 3u8,
    };
    out.push((version_nibble << 4) | TYPE_ADVERTISEMENT);
    out.push(advert.vrid);
    out.push(advert.priority);
    out.push(count);
    match advert.version {
        Version::V2 => {
            let auth_type = match advert.auth {
                Auth::Pass(_) => AUTH_TYPE_PASS,
                _ => AUTH_TYPE_NONE,
            };
            out.push(auth_type);
            out.push(u8::try_from(interval).unwrap_or(u8::MAX));
        }
        Version::V3 => out.extend_from_slice(&(interval & V3_MAX_INTERVAL_CENTIS).to_be_bytes()),
    }
    out.extend_from_slice(&[0, 0]);
    for addr in &advert.addrs {
        match addr {
            IpAddr::V4(a) => out.extend_from_slice(&a.octets()),
            IpAddr::V6(a) => out.extend_from_slice(&a.octets()),
        }
    }
    if advert.version == Version::V2 {
        match &advert.auth {
            Auth::Pass(pw) => out.extend_from_slice(pw),
            _ => out.extend_from_slice(&[0; AUTH_LEN]),
        }
    }
    let msg = out.get(start..).unwrap_or(&[]);
    let pseudo = match advert.version {
        Version::V2 => PseudoHeader::None,
        Version::V3 => pseudo,
    };
    let ck = pseudo.start(msg.len()).add(msg).finish();
    if let Some(field) = out.get_mut(start + 6..start + 8) {
        field.copy_from_slice(&ck.to_be_bytes());
    }
    Ok(())
}

/// A read-only view of a received VRRP message whose 8-byte header is present.
///
/// Accessors read the header fields as they are on the wire, without judging them;
/// [`validate`](super::validate) does the judging in keepalived's order.
#[derive(Debug, Clone, Copy)]
pub struct RawMessage<'a> {
    bytes: &'a [u8],
    header: [u8; HEADER_LEN],
}

impl<'a> RawMessage<'a> {
    /// Wraps `bytes` (the VRRP message, possibly followed by padding); `None` if shorter than the header.
    pub fn new(bytes: &'a [u8]) -> Option<Self> {
        let header: [u8; HEADER_LEN] = bytes.get(..HEADER_LEN)?.try_into().ok()?;
        Some(Self { bytes, header })
    }

    /// All the bytes given, the header included.
    pub fn bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The version nibble (2 or 3 when valid).
    pub fn version(&self) -> u8 {
        self.header[0] >> 4
    }

    /// The type nibble (1 when valid).
    pub fn kind(&self) -> u8 {
        self.header[0] & 0x0f
    }

    /// Virtual router id.
    pub fn vrid(&self) -> u8 {
        self.header[1]
    }

    /// Sender's priority.
    pub fn priority(&self) -> u8 {
        self.header[2]
    }

    /// Count of addresses.
    pub fn count(&self) -> u8 {
        self.header[3]
    }

    /// v2 authentication type (byte 4).
    pub fn auth_type(&self) -> u8 {
        self.header[4]
    }

    /// v2 advert interval in seconds (byte 5).
    pub fn v2_interval_secs(&self) -> u8 {
        self.header[5]
    }

    /// v3 max advert interval in centiseconds (low 12 bits of bytes 4-5).
    pub fn v3_interval_centis(&self) -> u16 {
        u16::from_be_bytes([self.header[4], self.header[5]]) & V3_MAX_INTERVAL_CENTIS
    }

    /// The checksum field.
    pub fn checksum(&self) -> u16 {
        u16::from_be_bytes([self.header[6], self.header[7]])
    }

    /// Length of the message implied by the header, read as `version`.
    pub fn expected_len(&self, version: Version, family: Family) -> usize {
        message_len(version, family, usize::from(self.count()))
    }

    /// The v2 authentication data: the 8 bytes after the addresses.
    pub fn auth_data(&self, family: Family) -> Option<&'a [u8]> {
        let at = HEADER_LEN + usize::from(self.count()) * family.addr_len();
        self.bytes.get(at..at + AUTH_LEN)
    }

    /// Whether the checksum over the first `len` bytes, after `pseudo`, is correct.
    pub fn checksum_ok(&self, len: usize, pseudo: PseudoHeader) -> bool {
        match self.bytes.get(..len) {
            Some(msg) => pseudo.start(len).add(msg).finish() == 0,
            None => false,
        }
    }

    /// The addresses, as many as the header counts and the bytes hold.
    pub fn addrs(&self, family: Family) -> Vec<IpAddr> {
        let count = usize::from(self.count());
        let body = self.bytes.get(HEADER_LEN..).unwrap_or(&[]);
        let mut addrs = Vec::with_capacity(count.min(body.len() / family.addr_len()));
        match family {
            Family::V4 => {
                for c in body.chunks_exact(4).take(count) {
                    if let Ok(o) = <[u8; 4]>::try_from(c) {
                        addrs.push(IpAddr::V4(Ipv4Addr::from(o)));
                    }
                }
            }
            Family::V6 => {
                for c in body.chunks_exact(16).take(count) {
                    if let Ok(o) = <[u8; 16]>::try_from(c) {
                        addrs.push(IpAddr::V6(Ipv6Addr::from(o)));
                    }
                }
            }
        }
        addrs
    }

    /// Whether the message carries exactly `addrs`, in that order (the usual case, checked in
    /// linear time before any search).
    pub fn carries_in_order(&self, addrs: &[IpAddr]) -> bool {
        if usize::from(self.count()) != addrs.len() {
            return false;
        }
        let mut at = HEADER_LEN;
        addrs.iter().all(|a| {
            let ok = match a {
                IpAddr::V4(a) => self.bytes.get(at..at + 4) == Some(&a.octets()[..]),
                IpAddr::V6(a) => self.bytes.get(at..at + 16) == Some(&a.octets()[..]),
            };
            at += Family::of(a).addr_len();
            ok
        })
    }

    /// Whether `vip` is among the addresses carried.
    pub fn carries(&self, vip: &IpAddr) -> bool {
        let count = usize::from(self.count());
        let body = self.bytes.get(HEADER_LEN..).unwrap_or(&[]);
        match vip {
            IpAddr::V4(a) => body.chunks_exact(4).take(count).any(|c| c == a.octets()),
            IpAddr::V6(a) => body.chunks_exact(16).take(count).any(|c| c == a.octets()),
        }
    }

    /// The decoded advert, read as `version` with addresses of `family`.
    ///
    /// Meant for a message whose length was already checked; missing bytes give fewer
    /// addresses and no password rather than an error.
    pub fn to_advert(&self, version: Version, family: Family) -> Advert {
        let auth = match version {
            Version::V2 => match self.auth_type() {
                AUTH_TYPE_PASS => {
                    let mut pw = [0u8; AUTH_LEN];
                    if let Some(data) = self.auth_data(family) {
                        pw.copy_from_slice(data);
                    }
                    Auth::Pass(pw)
                }
                AUTH_TYPE_AH => Auth::Ah,
                _ => Auth::None,
            },
            Version::V3 => Auth::None,
        };
        let header = self.to_header(version);
        Advert {
            version,
            vrid: header.vrid,
            priority: header.priority,
            interval: header.interval,
            addrs: self.addrs(family),
            auth,
        }
    }

    /// The fixed fields read as `version`: [`RawMessage::to_advert`] without the addresses
    /// and the authentication, allocating nothing.
    pub fn to_header(&self, version: Version) -> AdvertHeader {
        let interval = match version {
            Version::V2 => Duration::from_secs(u64::from(self.v2_interval_secs())),
            Version::V3 => Duration::from_millis(u64::from(self.v3_interval_centis()) * 10),
        };
        AdvertHeader {
            version,
            vrid: self.vrid(),
            priority: self.priority(),
            interval,
        }
    }
}

/// Decodes a VRRP message with structural checks only (version, type, length, auth type, checksum).
///
/// For receive processing use [`validate`](super::validate), which applies keepalived's rules
/// and order. Trailing bytes after the message are ignored.
pub fn decode_message(
    bytes: &[u8],
    family: Family,
    pseudo: PseudoHeader,
) -> Result<Advert, super::error::DecodeError> {
    use super::error::DecodeError;
    let raw = RawMessage::new(bytes).ok_or(DecodeError::Truncated {
        len: bytes.len(),
        need: HEADER_LEN,
    })?;
    let version = match raw.version() {
        2 if family == Family::V4 => Version::V2,
        3 => Version::V3,
        v => return Err(DecodeError::Version(v)),
    };
    if raw.kind() != TYPE_ADVERTISEMENT {
        return Err(DecodeError::Type(raw.kind()));
    }
    let need = raw.expected_len(version, family);
    if bytes.len() < need {
        return Err(DecodeError::Truncated {
            len: bytes.len(),
            need,
        });
    }
    if version == Version::V2 && raw.auth_type() > AUTH_TYPE_AH {
        return Err(DecodeError::AuthType(raw.auth_type()));
    }
    let pseudo = match version {
        Version::V2 => PseudoHeader::None,
        Version::V3 => pseudo,
    };
    if !raw.checksum_ok(need, pseudo) {
        return Err(DecodeError::Checksum);
    }
    Ok(raw.to_advert(version, family))
}
