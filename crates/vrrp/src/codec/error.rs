//! Everything that can go wrong building or receiving a VRRP packet.
//!
//! [`RxError`] is one variant per failure class of keepalived's receive checks; its `Display`
//! is keepalived's log text without the leading `(instance)`, which the caller adds.

use crate::advert::Version;
use std::net::IpAddr;
use std::time::Duration;
use thiserror::Error;

/// An advert that cannot be put on the wire.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum EncodeError {
    /// VIPs of both families in one advert.
    #[error("an advert cannot carry both IPv4 and IPv6 addresses")]
    MixedFamilies,
    /// More than 255 addresses.
    #[error("{count} addresses do not fit in one advert (at most 255)")]
    TooManyAddresses {
        /// Addresses given.
        count: usize,
    },
    /// VRRPv2 carries only IPv4.
    #[error("VRRP version 2 cannot carry IPv6 addresses")]
    V2OverIpv6,
    /// v2 needs whole seconds 0..=255, v3 whole centiseconds 0..=4095.
    #[error("advert interval {interval:?} cannot be carried by VRRP {version:?}")]
    Interval {
        /// Interval asked for.
        interval: Duration,
        /// Version asked for.
        version: Version,
    },
    /// IPsec AH authentication is recognised but not implemented.
    #[error("IPsec AH authentication is not supported")]
    AhUnsupported,
    /// VRRPv3 has no authentication.
    #[error("VRRP version 3 has no authentication")]
    V3WithAuth,
    /// The IP packet would exceed 65535 bytes (cannot happen with at most 255 addresses).
    #[error("packet too large for IPv4")]
    TooLarge,
}

/// A VRRP message that does not decode (structural checks of [`decode_message`](super::decode_message)).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DecodeError {
    /// Fewer bytes than the header or the counted addresses need.
    #[error("VRRP message too short: {len} bytes, need {need}")]
    Truncated {
        /// Bytes present.
        len: usize,
        /// Bytes needed.
        need: usize,
    },
    /// Version nibble not 2 or 3 (or 2 over IPv6).
    #[error("unsupported VRRP version {0}")]
    Version(u8),
    /// Type nibble not 1.
    #[error("invalid VRRP packet type {0}")]
    Type(u8),
    /// v2 auth type not 0, 1 or 2.
    #[error("invalid VRRP auth type {0}")]
    AuthType(u8),
    /// Checksum does not verify.
    #[error("invalid VRRP checksum")]
    Checksum,
}

/// One of the per-instance receive counters keepalived keeps (`vrrp_stats`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RxCounter {
    /// `packet_len_err`: stats file "Packet Errors / Length".
    PacketLength,
    /// `ip_ttl_err`: "Packet Errors / TTL".
    Ttl,
    /// `invalid_type_rcvd`: "Packet Errors / Invalid Type".
    InvalidType,
    /// `advert_interval_err`: "Packet Errors / Advertisement Interval" (keepalived never increments it).
    AdvertInterval,
    /// `addr_list_err`: "Packet Errors / Address List".
    AddressList,
    /// `invalid_authtype`: "Authentication Errors / Invalid Type".
    InvalidAuthType,
    /// `authtype_mismatch`: "Authentication Errors / Type Mismatch".
    AuthTypeMismatch,
    /// `auth_failure`: "Authentication Errors / Failure".
    AuthFailure,
    /// `chk_err`: SNMP only, not in the stats file.
    Checksum,
    /// `vers_err`: SNMP only, not in the stats file.
    Version,
}

impl RxCounter {
    /// The section of keepalived's stats file (`/tmp/keepalived.stats`) that shows the counter.
    pub const fn stats_section(self) -> Option<&'static str> {
        match self {
            RxCounter::PacketLength
            | RxCounter::Ttl
            | RxCounter::InvalidType
            | RxCounter::AdvertInterval
            | RxCounter::AddressList => Some("Packet Errors"),
            RxCounter::InvalidAuthType | RxCounter::AuthTypeMismatch | RxCounter::AuthFailure => {
                Some("Authentication Errors")
            }
            RxCounter::Checksum | RxCounter::Version => None,
        }
    }

    /// The line name in keepalived's stats file, `None` for counters it does not print.
    pub const fn stats_name(self) -> Option<&'static str> {
        match self {
            RxCounter::PacketLength => Some("Length"),
            RxCounter::Ttl => Some("TTL"),
            RxCounter::InvalidType | RxCounter::InvalidAuthType => Some("Invalid Type"),
            RxCounter::AdvertInterval => Some("Advertisement Interval"),
            RxCounter::AddressList => Some("Address List"),
            RxCounter::AuthTypeMismatch => Some("Type Mismatch"),
            RxCounter::AuthFailure => Some("Failure"),
            RxCounter::Checksum | RxCounter::Version => None,
        }
    }

    /// keepalived's field name in `vrrp_stats` (also its JSON key).
    pub const fn field_name(self) -> &'static str {
        match self {
            RxCounter::PacketLength => "packet_len_err",
            RxCounter::Ttl => "ip_ttl_err",
            RxCounter::InvalidType => "invalid_type_rcvd",
            RxCounter::AdvertInterval => "advert_interval_err",
            RxCounter::AddressList => "addr_list_err",
            RxCounter::InvalidAuthType => "invalid_authtype",
            RxCounter::AuthTypeMismatch => "authtype_mismatch",
            RxCounter::AuthFailure => "auth_failure",
            RxCounter::Checksum => "chk_err",
            RxCounter::Version => "vers_err",
        }
    }
}

fn unicast_word(unicast: bool) -> &'static str {
    if unicast {
        "un"
    } else {
        "mult"
    }
}

fn long_or_short(len: usize, expected: usize) -> &'static str {
    if len > expected {
        "long"
    } else {
        "short"
    }
}

/// Why a received packet was not accepted. `Display` is keepalived's log text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RxError {
    /// Not even the IP and VRRP headers: nothing can be read.
    #[error("ip/vrrp header too short. {len} and expect at least {need}")]
    HeaderTooShort {
        /// Bytes received.
        len: usize,
        /// Bytes needed for the headers.
        need: usize,
    },
    /// The IPv4 header is malformed (version not 4, IHL below 5 or beyond the data).
    #[error("invalid IPv4 header: {reason}")]
    BadIpHeader {
        /// What is wrong.
        reason: &'static str,
    },
    /// IPv4 protocol is neither VRRP (112) nor AH (51): not for us.
    #[error("received IP protocol {protocol}, not VRRP")]
    NotVrrp {
        /// The protocol field.
        protocol: u8,
    },
    /// No instance with this VRID here.
    #[error("Unknown VRID({vrid}) received from {from}. ignoring...")]
    UnknownVrid {
        /// VRID received.
        vrid: u8,
        /// Sender.
        from: IpAddr,
    },
    /// AH header present, but the instance does not use AH.
    #[error("Received AH header but auth type not AH")]
    AhHeaderUnexpected {
        /// Sender.
        from: IpAddr,
    },
    /// No AH header, but the instance uses AH.
    #[error("No AH header but auth type is AH")]
    AhHeaderMissing {
        /// Sender.
        from: IpAddr,
    },
    /// AH is configured and present; keepalived-rs does not implement its ICV check.
    #[error("IPsec AH authentication from {from} is not supported")]
    AhUnsupported {
        /// Sender.
        from: IpAddr,
    },
    /// The IPv4 total length does not match the bytes received (beyond Ethernet padding).
    #[error("ip_tot_len mismatch against received length. {tot_len} and received {received}")]
    TotalLength {
        /// The IPv4 total length field.
        tot_len: u16,
        /// Bytes received.
        received: usize,
    },
    /// The VRRP message length does not match what its address count implies.
    #[error("vrrp packet from {from} too {}, length {len} and expect {expected}", long_or_short(*.len, *.expected))]
    Length {
        /// Sender.
        from: IpAddr,
        /// Message length received.
        len: usize,
        /// Length expected from the header.
        expected: usize,
    },
    /// Multicast packet with TTL / hop limit other than 255.
    #[error("invalid TTL/HL from {from}. Received {ttl} and expect 255")]
    Ttl {
        /// Sender.
        from: IpAddr,
        /// TTL or hop limit received.
        ttl: u8,
    },
    /// Unicast packet whose TTL is outside the peer's `min_ttl`..=`max_ttl`.
    #[error("TTL/HL {ttl} from {from} not in range [{min}, {max}]")]
    UnicastTtlRange {
        /// Sender.
        from: IpAddr,
        /// TTL or hop limit received.
        ttl: u8,
        /// The peer's `min_ttl`.
        min: u8,
        /// The peer's `max_ttl`.
        max: u8,
    },
    /// VRRP version not the configured one.
    #[error("wrong VRRP version from {from}. Received {received} and expect {expected}")]
    Version {
        /// Sender.
        from: IpAddr,
        /// Version nibble received.
        received: u8,
        /// Version configured.
        expected: u8,
    },
    /// v2 auth type not 0, 1 or 2.
    #[error("Invalid auth type from {from}: {auth_type}")]
    InvalidAuthType {
        /// Sender.
        from: IpAddr,
        /// Auth type received.
        auth_type: u8,
    },
    /// v2 auth type valid but not the configured one.
    #[error("received a {received} auth from {from}, expecting {expected}!")]
    AuthTypeMismatch {
        /// Sender.
        from: IpAddr,
        /// Auth type received.
        received: u8,
        /// Auth type configured.
        expected: u8,
    },
    /// v2 PASS password differs.
    #[error("received an invalid passwd from {from}!")]
    AuthFailure {
        /// Sender.
        from: IpAddr,
    },
    /// v2 advert interval differs from ours.
    #[error("advertisement interval mismatch with {from} mine={mine} sec rcv'd={received} sec")]
    AdvertInterval {
        /// Sender.
        from: IpAddr,
        /// Our interval, seconds.
        mine: u64,
        /// Received interval, seconds.
        received: u8,
    },
    /// Type nibble not 1 (ADVERTISEMENT).
    #[error("Invalid packet type from {from}. {kind} and expect 1")]
    InvalidType {
        /// Sender.
        from: IpAddr,
        /// Type received.
        kind: u8,
    },
    /// VRRPv2 checksum does not verify.
    #[error("Invalid VRRPv2 checksum")]
    ChecksumV2 {
        /// Sender.
        from: IpAddr,
    },
    /// VRRPv3 checksum does not verify.
    #[error("Invalid VRRPv3 checksum from {from}")]
    ChecksumV3 {
        /// Sender.
        from: IpAddr,
    },
    /// Multicast on a unicast instance, or unicast on a multicast one.
    #[error("Expected {}icast packet but received {}icast packet from {from}", unicast_word(*.expected_unicast), unicast_word(!*.expected_unicast))]
    CastMismatch {
        /// Sender.
        from: IpAddr,
        /// Whether the instance is unicast.
        expected_unicast: bool,
    },
    /// `check_unicast_src` is on and the sender is not a configured peer.
    #[error("unicast source address {from} not a unicast peer")]
    UnicastSrcNotPeer {
        /// Sender.
        from: IpAddr,
    },
}

impl RxError {
    /// `true` when keepalived ignores the packet silently (`VRRP_PACKET_DROP` or not for this
    /// instance at all); `false` when it is an invalid packet (`VRRP_PACKET_KO`).
    pub const fn is_drop(&self) -> bool {
        matches!(
            self,
            RxError::NotVrrp { .. }
                | RxError::UnknownVrid { .. }
                | RxError::UnicastTtlRange { .. }
                | RxError::AdvertInterval { .. }
        )
    }

    /// The counter keepalived increments for this error, if any.
    pub const fn counter(&self) -> Option<RxCounter> {
        match self {
            RxError::HeaderTooShort { .. }
            | RxError::BadIpHeader { .. }
            | RxError::TotalLength { .. }
            | RxError::Length { .. } => Some(RxCounter::PacketLength),
            RxError::Ttl { .. } | RxError::UnicastTtlRange { .. } => Some(RxCounter::Ttl),
            RxError::AhHeaderUnexpected { .. }
            | RxError::AhHeaderMissing { .. }
            | RxError::AuthTypeMismatch { .. } => Some(RxCounter::AuthTypeMismatch),
            RxError::AhUnsupported { .. } | RxError::AuthFailure { .. } => {
                Some(RxCounter::AuthFailure)
            }
            RxError::InvalidAuthType { .. } => Some(RxCounter::InvalidAuthType),
            RxError::InvalidType { .. } => Some(RxCounter::InvalidType),
            RxError::ChecksumV2 { .. } | RxError::ChecksumV3 { .. } => Some(RxCounter::Checksum),
            RxError::CastMismatch { .. } => Some(RxCounter::AddressList),
            RxError::Version { .. } => Some(RxCounter::Version),
            RxError::NotVrrp { .. }
            | RxError::UnknownVrid { .. }
            | RxError::AdvertInterval { .. }
            | RxError::UnicastSrcNotPeer { .. } => None,
        }
    }

    /// Whether keepalived has already counted the packet as a received advert
    /// (`advert_rcvd`) when it rejects it: only the checks after checksum and cast do so.
    pub const fn counts_as_received(&self) -> bool {
        matches!(self, RxError::UnicastSrcNotPeer { .. })
    }

    /// The sender, when the packet got far enough to know it.
    pub const fn from(&self) -> Option<IpAddr> {
        match self {
            RxError::HeaderTooShort { .. }
            | RxError::BadIpHeader { .. }
            | RxError::NotVrrp { .. }
            | RxError::TotalLength { .. } => None,
            RxError::UnknownVrid { from, .. }
            | RxError::AhHeaderUnexpected { from }
            | RxError::AhHeaderMissing { from }
            | RxError::AhUnsupported { from }
            | RxError::Length { from, .. }
            | RxError::Ttl { from, .. }
            | RxError::UnicastTtlRange { from, .. }
            | RxError::Version { from, .. }
            | RxError::InvalidAuthType { from, .. }
            | RxError::AuthTypeMismatch { from, .. }
            | RxError::AuthFailure { from }
            | RxError::AdvertInterval { from, .. }
            | RxError::InvalidType { from, .. }
            | RxError::ChecksumV2 { from }
            | RxError::ChecksumV3 { from }
            | RxError::CastMismatch { from, .. }
            | RxError::UnicastSrcNotPeer { from } => Some(*from),
        }
    }
}

/// Something odd about an advert that is nevertheless accepted. `Display` is keepalived's log text.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RxWarning {
    /// v3 interval differs from ours; a backup adopts the master's.
    #[error("advertisement interval mismatch ours = {ours} centi-sec rcv'd={received} centi-sec")]
    V3Interval {
        /// Sender.
        from: IpAddr,
        /// Our configured interval, centiseconds.
        ours: u64,
        /// Received interval, centiseconds.
        received: u16,
    },
    /// Number of VIPs differs from ours (rejected by keepalived up to 2.3.2, accepted since).
    #[error("expected {expected} VIPs but received {received}")]
    VipCount {
        /// Sender.
        from: IpAddr,
        /// VIPs configured.
        expected: usize,
        /// VIPs received.
        received: u8,
    },
    /// One of our VIPs is missing from the advert.
    #[error("ip address associated with VRID {vrid} not present in advert from {from}: {vip}")]
    VipMissing {
        /// Sender.
        from: IpAddr,
        /// Our VRID.
        vrid: u8,
        /// The first VIP not found.
        vip: IpAddr,
    },
    /// A unicast v3 checksum verified only with the multicast group as pseudo-header destination
    /// (keepalived <= 1.3.6): the instance should switch to `old_unicast_checksum`.
    #[error("Setting unicast VRRPv3 checksum to old version")]
    OldUnicastChecksum {
        /// Sender.
        from: IpAddr,
    },
}

impl RxWarning {
    /// The sender of the advert.
    pub const fn from(&self) -> IpAddr {
        match self {
            RxWarning::V3Interval { from, .. }
            | RxWarning::VipCount { from, .. }
            | RxWarning::VipMissing { from, .. }
            | RxWarning::OldUnicastChecksum { from } => *from,
        }
    }

    /// The counter keepalived increments for this warning, if any.
    pub const fn counter(&self) -> Option<RxCounter> {
        match self {
            RxWarning::VipCount { .. } | RxWarning::VipMissing { .. } => {
                Some(RxCounter::AddressList)
            }
            RxWarning::V3Interval { .. } | RxWarning::OldUnicastChecksum { .. } => None,
        }
    }
}
