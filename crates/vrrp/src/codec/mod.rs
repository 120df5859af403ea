//! The VRRP wire format: encoding and decoding of VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798)
//! adverts over IPv4 and IPv6, keepalived's receive validation, the IPv4 header keepalived
//! builds itself, and the gratuitous ARP / unsolicited NA frames.
//!
//! Pure functions over byte slices: nothing here touches a socket, and nothing panics on
//! any input.
//!
//! Sending: [`encode_ipv4_advert`] builds the whole IPv4 packet (keepalived uses `IP_HDRINCL`);
//! for IPv6, [`encode_message`] builds the VRRP message and the kernel adds the header (with
//! `IPV6_CHECKSUM` it also recomputes the checksum, so the pseudo-header passed may be `None`).
//! Receiving: [`validate`] takes an [`RxPacket`] and an instance's [`RxParams`] and returns a
//! [`Validated`] advert or an [`RxError`]; [`RxStats::record`] counts the outcome.
//!
//! ```
//! use keepalived_vrrp::codec::{
//!     encode_ipv4_advert, validate, IpIdCounter, Ipv4Send, RxPacket, RxParams, RxStats,
//!     V4Checksum, MCAST_GROUP4,
//! };
//! use keepalived_vrrp::{Advert, Auth, Version};
//! use std::time::Duration;
//!
//! let vips = vec!["10.0.0.100".parse().unwrap()];
//! let advert = Advert {
//!     version: Version::V3,
//!     vrid: 51,
//!     priority: 150,
//!     interval: Duration::from_secs(1),
//!     addrs: vips.clone(),
//!     auth: Auth::None,
//! };
//! let mut ids = IpIdCounter::new();
//! let send = Ipv4Send { src: "10.0.0.1".parse().unwrap(), dst: MCAST_GROUP4, ttl: 255, id: ids.next() };
//! let mut packet = Vec::new();
//! encode_ipv4_advert(&advert, &send, V4Checksum::Standard, &mut packet).unwrap();
//!
//! let params = RxParams::new(Version::V3, 51, Duration::from_secs(1), vips);
//! let outcome = validate(RxPacket::Ipv4(&packet), &params);
//! let mut stats = RxStats::default();
//! stats.record(&outcome);
//! assert_eq!(outcome.unwrap().advert, advert);
//! assert_eq!(stats.advert_rcvd, 1);
//! ```
//!
//! Where this differs from keepalived 2.2.7:
//! * a VIP list that differs from ours is accepted with [`RxWarning`]s, as keepalived 2.3.3+
//!   does (2.2.7 rejected it);
//! * IPsec AH (v2 auth type 2) is recognised but not implemented: such packets are rejected
//!   with [`RxError::AhUnsupported`] (counted as an authentication failure);
//! * `auth_hmac` (keepalived 2.4) is not implemented;
//! * ignoring adverts in FAULT/INIT, during `vrrp_startup_delay` or as an owner with
//!   `owner_ignore_adverts` needs instance state and is left to the state machine.

pub mod checksum;
pub mod error;
pub mod garp;
pub mod ip;
pub mod message;
pub mod stats;
pub mod validate;

pub use checksum::{internet_checksum, InternetChecksum};
pub use error::{DecodeError, EncodeError, RxCounter, RxError, RxWarning};
pub use garp::{Garp, Mac, UnsolicitedNa};
pub use ip::{encode_ipv4_advert, parse_ipv4, IpIdCounter, Ipv4Header, Ipv4Send, V4Checksum};
pub use message::{
    decode_message, encode_message, encoded_len, Family, PseudoHeader, RawMessage, IPPROTO_VRRP,
    MCAST_GROUP4, MCAST_GROUP6,
};
pub use stats::RxStats;
pub use validate::{
    validate, validate_header, RxPacket, RxParams, UnicastChecksumCompat, UnicastPeer, Validated,
    ValidatedHeader,
};
