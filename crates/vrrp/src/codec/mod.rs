//! The VRRP wire format: encoding and decoding of VRRPv2 (RFC 3768) and VRRPv3 (RFC 5798)
//! adverts over IPv4 and IPv6, keepalived's receive validation, the IPv4 header keepalived
//! builds itself, and the gratuitous ARP / unsolicited NA frames.
//!
//! Pure functions over byte slices: nothing here touches a socket, and nothing panics on
//! any input.

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
pub use validate::{validate, RxPacket, RxParams, UnicastChecksumCompat, UnicastPeer, Validated};
