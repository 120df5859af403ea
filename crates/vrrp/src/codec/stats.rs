//! The per-instance receive counters keepalived prints in its stats file.

use super::error::{RxCounter, RxError};
use super::validate::Validated;
use serde::{Deserialize, Serialize};

/// Receive-side counters of one instance, named as keepalived's `vrrp_stats` fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RxStats {
    /// "Advertisements / Received".
    pub advert_rcvd: u64,
    /// "Priority Zero / Received".
    pub pri_zero_rcvd: u64,
    /// "Packet Errors / Length".
    pub packet_len_err: u64,
    /// "Packet Errors / TTL".
    pub ip_ttl_err: u64,
    /// "Packet Errors / Invalid Type".
    pub invalid_type_rcvd: u64,
    /// "Packet Errors / Advertisement Interval" (never incremented by keepalived either).
    pub advert_interval_err: u64,
    /// "Packet Errors / Address List".
    pub addr_list_err: u64,
    /// "Authentication Errors / Invalid Type".
    pub invalid_authtype: u64,
    /// "Authentication Errors / Type Mismatch".
    pub authtype_mismatch: u64,
    /// "Authentication Errors / Failure".
    pub auth_failure: u64,
    /// Checksum errors (SNMP `vrrpStatsChecksumErrors`; not in the stats file).
    pub chk_err: u64,
    /// Version errors (SNMP `vrrpStatsVersionErrors`; not in the stats file).
    pub vers_err: u64,
}

impl RxStats {
    /// The counter's current value.
    pub fn get(&self, counter: RxCounter) -> u64 {
        match counter {
            RxCounter::PacketLength => self.packet_len_err,
            RxCounter::Ttl => self.ip_ttl_err,
            RxCounter::InvalidType => self.invalid_type_rcvd,
            RxCounter::AdvertInterval => self.advert_interval_err,
            RxCounter::AddressList => self.addr_list_err,
            RxCounter::InvalidAuthType => self.invalid_authtype,
            RxCounter::AuthTypeMismatch => self.authtype_mismatch,
            RxCounter::AuthFailure => self.auth_failure,
            RxCounter::Checksum => self.chk_err,
            RxCounter::Version => self.vers_err,
        }
    }

    /// Adds one to a counter.
    pub fn bump(&mut self, counter: RxCounter) {
        let c = match counter {
            RxCounter::PacketLength => &mut self.packet_len_err,
            RxCounter::Ttl => &mut self.ip_ttl_err,
            RxCounter::InvalidType => &mut self.invalid_type_rcvd,
            RxCounter::AdvertInterval => &mut self.advert_interval_err,
            RxCounter::AddressList => &mut self.addr_list_err,
            RxCounter::InvalidAuthType => &mut self.invalid_authtype,
            RxCounter::AuthTypeMismatch => &mut self.authtype_mismatch,
            RxCounter::AuthFailure => &mut self.auth_failure,
            RxCounter::Checksum => &mut self.chk_err,
            RxCounter::Version => &mut self.vers_err,
        };
        *c = c.saturating_add(1);
    }

    /// Counts a rejected packet as keepalived does.
    pub fn count_error(&mut self, error: &RxError) {
        if error.counts_as_received() {
            self.advert_rcvd = self.advert_rcvd.saturating_add(1);
        }
        if let Some(counter) = error.counter() {
            self.bump(counter);
        }
    }

    /// Counts an accepted advert and its warnings.
    pub fn count_accepted(&mut self, accepted: &Validated) {
        self.advert_rcvd = self.advert_rcvd.saturating_add(1);
        for w in &accepted.warnings {
            if let Some(counter) = w.counter() {
                self.bump(counter);
            }
        }
        if accepted.advert.priority == 0 {
            self.pri_zero_rcvd = self.pri_zero_rcvd.saturating_add(1);
        }
    }

    /// Counts the outcome of [`validate`](super::validate).
    pub fn record(&mut self, outcome: &Result<Validated, RxError>) {
        match outcome {
            Ok(v) => self.count_accepted(v),
            Err(e) => self.count_error(e),
        }
    }
}
