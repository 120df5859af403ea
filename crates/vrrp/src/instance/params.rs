//! What one `vrrp_instance` is configured with, in the form the state machine needs.
//! The daemon maps the config model onto [`InstanceParams`].

use super::trackers::Tracker;
use crate::advert::{Auth, Version};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

/// The state an instance is configured to want at start (`state MASTER|BACKUP`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum InitialState {
    /// `state BACKUP` (the default).
    Backup,
    /// `state MASTER`: keepalived becomes master at once (down timer of 1 µs).
    Master,
}

/// Gratuitous ARP / unsolicited NA settings of one instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GarpParams {
    /// `garp_master_delay`: the second burst after becoming master; zero = none.
    pub master_delay: Duration,
    /// `garp_master_repeat`: packets per VIP in each burst on becoming master.
    pub master_repeat: u32,
    /// `garp_master_refresh`: a periodic burst while master; zero = off.
    pub master_refresh: Duration,
    /// `garp_master_refresh_repeat`: packets per VIP in each refresh.
    pub refresh_repeat: u32,
    /// `garp_lower_prio_repeat`: packets per VIP after a lower-priority advert.
    pub lower_prio_repeat: u32,
    /// `garp_lower_prio_delay`: the second burst after a lower-priority advert; zero = none.
    pub lower_prio_delay: Duration,
}

impl Default for GarpParams {
    fn default() -> Self {
        GarpParams {
            master_delay: Duration::from_secs(5),
            master_repeat: 5,
            master_refresh: Duration::ZERO,
            refresh_repeat: 1,
            lower_prio_repeat: 5,
            lower_prio_delay: Duration::from_secs(5),
        }
    }
}

/// Which notify scripts and FIFOs are configured; the state machine only emits what is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotifyParams {
    /// `notify_master`.
    pub master: bool,
    /// `notify_backup`.
    pub backup: bool,
    /// `notify_fault`.
    pub fault: bool,
    /// `notify_stop`.
    pub stop: bool,
    /// Generic `notify`.
    pub generic: bool,
    /// `notify_master_rx_lower_pri`.
    pub master_rx_lower_pri: bool,
    /// A VRRP notify FIFO (`notify_fifo` / `vrrp_notify_fifo`).
    pub fifo: bool,
    /// `notify_priority_changes`: FIFO `MASTER_PRIORITY` / `BACKUP_PRIORITY` events.
    pub priority_changes: bool,
}

/// The parameters of one VRRP instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstanceParams {
    /// Instance name, as in `vrrp_instance NAME`.
    pub name: String,
    /// Virtual router id, 1..=255.
    pub vrid: u8,
    /// The interface the instance runs on; with the VRID, family and unicast flag it
    /// identifies the instance across a reload.
    pub interface: String,
    /// Protocol version.
    pub version: Version,
    /// `priority` as configured (1..=255, 255 = address owner).
    pub priority: u8,
    /// `advert_int`.
    pub advert_interval: Duration,
    /// `virtual_ipaddress`: the addresses carried in adverts.
    pub vips: Vec<IpAddr>,
    /// `virtual_ipaddress_excluded`: added and removed with the VIPs, never advertised.
    pub excluded_vips: Vec<IpAddr>,
    /// Whether `virtual_routes` / `virtual_rules` are configured.
    pub has_routes_or_rules: bool,
    /// `state`.
    pub initial_state: InitialState,
    /// `nopreempt`.
    pub nopreempt: bool,
    /// `preempt_delay`; zero = none.
    pub preempt_delay: Duration,
    /// `accept` (informational here: the shell installs the firewall rules).
    pub accept: bool,
    /// True when `unicast_peer` is configured.
    pub unicast: bool,
    /// Gratuitous ARP / NA timing.
    pub garp: GarpParams,
    /// `lower_prio_no_advert`.
    pub lower_prio_no_advert: bool,
    /// `higher_prio_send_advert`.
    pub higher_prio_send_advert: bool,
    /// `owner_ignore_adverts` (forced by strict mode): an owner drops every advert.
    pub owner_ignore_adverts: bool,
    /// `down_timer_adverts` (default 3).
    pub down_timer_adverts: u32,
    /// Trackers that change the priority or put the instance in FAULT.
    pub trackers: Vec<Tracker>,
    /// Configured notify scripts.
    pub notify: NotifyParams,
    /// This router's primary (source) address on the instance's interface: the tie-breaker
    /// between equal priorities.
    pub primary_addr: IpAddr,
    /// Authentication sent in VRRPv2 adverts.
    pub auth: Auth,
}

impl InstanceParams {
    /// Parameters with keepalived's defaults for everything but the identity.
    pub fn new(name: impl Into<String>, vrid: u8, primary_addr: IpAddr) -> Self {
        InstanceParams {
            name: name.into(),
            vrid,
            interface: String::new(),
            version: Version::V2,
            priority: 100,
            advert_interval: Duration::from_secs(1),
            vips: Vec::new(),
            excluded_vips: Vec::new(),
            has_routes_or_rules: false,
            initial_state: InitialState::Backup,
            nopreempt: false,
            preempt_delay: Duration::ZERO,
            accept: true,
            unicast: false,
            garp: GarpParams::default(),
            lower_prio_no_advert: false,
            higher_prio_send_advert: false,
            owner_ignore_adverts: false,
            down_timer_adverts: 3,
            trackers: Vec::new(),
            notify: NotifyParams::default(),
            primary_addr,
            auth: Auth::None,
        }
    }

    /// True for the address owner (priority 255).
    pub fn is_owner(&self) -> bool {
        self.priority == 255
    }
}
