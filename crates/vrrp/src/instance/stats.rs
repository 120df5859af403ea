//! Per-instance counters, as keepalived's SIGUSR2 file (`keepalived.stats`) lists them.

use crate::codec::{RxCounter, RxError};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

/// The counters of one instance.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stats {
    /// Adverts received (after validation).
    pub advert_rcvd: u64,
    /// Adverts sent, priority-0 ones included.
    pub advert_sent: u64,
    /// Transitions into MASTER.
    pub became_master: u64,
    /// Transitions out of MASTER.
    pub release_master: u64,
    /// Packet errors: bad length.
    pub packet_len_err: u64,
    /// Packet errors: TTL / hop limit not 255.
    pub ip_ttl_err: u64,
    /// Packet errors: not an advertisement.
    pub invalid_type_rcvd: u64,
    /// Packet errors: advert interval differs (VRRPv2).
    pub advert_interval_err: u64,
    /// Packet errors: address list differs.
    pub addr_list_err: u64,
    /// Authentication errors: unknown type.
    pub invalid_authtype: u64,
    /// Authentication errors: type differs from ours.
    pub authtype_mismatch: u64,
    /// Authentication errors: wrong password.
    pub auth_failure: u64,
    /// Priority-0 adverts received.
    pub pri_zero_rcvd: u64,
    /// Priority-0 adverts sent.
    pub pri_zero_sent: u64,
}

impl Stats {
    /// Charges a packet that receive validation rejected, as keepalived does (some errors
    /// also count as a received advert). Checksum and version errors have no line in the
    /// stats file and are left to the codec's own counters.
    pub fn count_rx_error(&mut self, error: &RxError) {
        if error.counts_as_received() {
            self.advert_rcvd = self.advert_rcvd.saturating_add(1);
        }
        let field = match error.counter() {
            Some(RxCounter::PacketLength) => &mut self.packet_len_err,
            Some(RxCounter::Ttl) => &mut self.ip_ttl_err,
            Some(RxCounter::InvalidType) => &mut self.invalid_type_rcvd,
            Some(RxCounter::AdvertInterval) => &mut self.advert_interval_err,
            Some(RxCounter::AddressList) => &mut self.addr_list_err,
            Some(RxCounter::InvalidAuthType) => &mut self.invalid_authtype,
            Some(RxCounter::AuthTypeMismatch) => &mut self.authtype_mismatch,
            Some(RxCounter::AuthFailure) => &mut self.auth_failure,
            Some(RxCounter::Checksum | RxCounter::Version) | None => return,
        };
        *field = field.saturating_add(1);
    }

    /// Appends this instance's block of `keepalived.stats` to `out`.
    pub fn render(&self, name: &str, out: &mut String) {
        // Writing to a String cannot fail.
        let _ = write!(
            out,
            "VRRP Instance: {name}\n\
             \x20 Advertisements:\n\
             \x20   Received: {}\n\
             \x20   Sent: {}\n\
             \x20 Became master: {}\n\
             \x20 Released master: {}\n\
             \x20 Packet Errors:\n\
             \x20   Length: {}\n\
             \x20   TTL: {}\n\
             \x20   Invalid Type: {}\n\
             \x20   Advertisement Interval: {}\n\
             \x20   Address List: {}\n\
             \x20 Authentication Errors:\n\
             \x20   Invalid Type: {}\n\
             \x20   Type Mismatch: {}\n\
             \x20   Failure: {}\n\
             \x20 Priority Zero:\n\
             \x20   Received: {}\n\
             \x20   Sent: {}\n",
            self.advert_rcvd,
            self.advert_sent,
            self.became_master,
            self.release_master,
            self.packet_len_err,
            self.ip_ttl_err,
            self.invalid_type_rcvd,
            self.advert_interval_err,
            self.addr_list_err,
            self.invalid_authtype,
            self.authtype_mismatch,
            self.auth_failure,
            self.pri_zero_rcvd,
            self.pri_zero_sent,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rx_errors_charge_keepalived_counters() {
        let mut stats = Stats::default();
        stats.count_rx_error(&RxError::HeaderTooShort { len: 10, need: 28 });
        assert_eq!(stats.packet_len_err, 1);
        assert_eq!(stats.advert_rcvd, 0);
    }

    #[test]
    fn matches_sample_layout() {
        let stats = Stats {
            advert_sent: 4,
            became_master: 1,
            ..Stats::default()
        };
        let mut out = String::new();
        stats.render("VI_1", &mut out);
        stats.render("VI_2", &mut out);
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/samples/keepalived.stats");
        if let Ok(expected) = std::fs::read_to_string(&sample) {
            assert_eq!(out, expected);
        }
        assert!(out.starts_with("VRRP Instance: VI_1\n  Advertisements:\n    Received: 0\n"));
    }
}
