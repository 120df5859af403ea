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

impl Auth {
    /// PASS authentication from a configured `auth_pass`: its first 8 bytes, zero padded, as
    /// keepalived keeps it ("Truncating auth_pass to 8 characters").
    pub fn pass(password: &str) -> Auth {
        let mut pw = [0u8; 8];
        for (slot, byte) in pw.iter_mut().zip(password.bytes()) {
            *slot = byte;
        }
        Auth::Pass(pw)
    }
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

impl Advert {
    /// The fixed fields the state machine reads (everything but the addresses and the
    /// authentication, which receive validation has already checked).
    pub fn header(&self) -> AdvertHeader {
        AdvertHeader {
            version: self.version,
            vrid: self.vrid,
            priority: self.priority,
            interval: self.interval,
        }
    }
}

/// What an instance needs of a received advert once it passed validation: a small `Copy`
/// value, so the receive path hands it over without allocating the address list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AdvertHeader {
    /// Protocol version.
    pub version: Version,
    /// Virtual router id, 1..=255.
    pub vrid: u8,
    /// Sender's priority; 0 means "master is stepping down", 255 "address owner".
    pub priority: u8,
    /// Advertisement interval (v2: whole seconds, v3: centiseconds, 12 bits).
    pub interval: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pass_is_truncated_and_zero_padded() {
        assert_eq!(Auth::pass("secret"), Auth::Pass(*b"secret\0\0"));
        assert_eq!(Auth::pass("secret12345"), Auth::Pass(*b"secret12"));
        assert_eq!(Auth::pass(""), Auth::Pass([0; 8]));
    }
}
