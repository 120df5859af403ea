//! The decoded form of a VRRP advertisement: what the codec produces and the state machine
//! consumes. Shared vocabulary of `codec` and `instance`.

use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

/// VRRP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Version {
    /// RFC 3768: IPv4 only, advert interval in whole seconds, optional authentication.
    V2,
    /// RFC 5798: IPv4 and IPv6, advert interval in centiseconds, no authentication.
    V3,
}

/// VRRPv2 authentication carried in an advert.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Auth {
    /// Type 0, or any VRRPv3 advert.
    None,
    /// Type 1: simple text password, exactly 8 bytes on the wire (zero padded).
    Pass([u8; 8]),
    /// Type 2: IPsec AH. Recognised, not supported.
    Ah,
}

/// A VRRP advertisement, decoded from or to be encoded onto the wire.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Advert {
    /// Protocol version.
    pub version: Version,
    /// Virtual router id, 1..=255.
    pub vrid: u8,
    /// Sender's priority; 0 means "master is stepping down", 255 "address owner".
    pub priority: u8,
    /// Advertisement interval. v2 carries whole seconds, v3 centiseconds (12 bits).
    pub interval: Duration,
    /// The virtual addresses, all of one family.
    pub addrs: Vec<IpAddr>,
    /// Authentication (always `None` for v3).
    pub auth: Auth,
}
