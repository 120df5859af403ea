//! `vrrp_instance`, `vrrp_script`, `vrrp_sync_group` and the trackers that link them.

use super::{Script, ScriptUser, VirtualAddress};
use crate::source::Loc;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

/// keepalived's default priority (`VRRP_PRIO_DFL`).
pub const DEFAULT_PRIORITY: u8 = 100;
/// The address owner's priority (`VRRP_PRIO_OWNER`).
pub const OWNER_PRIORITY: u8 = 255;
/// Default advert interval (1 s).
pub const DEFAULT_ADVERT_INT: Duration = Duration::from_secs(1);

/// The state an instance starts in (`state`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum InitialState {
    /// `state BACKUP` (and the default).
    #[default]
    Backup,
    /// `state MASTER`.
    Master,
}

/// `authentication { auth_type }`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AuthType {
    /// Simple password (`PASS`).
    Pass,
    /// IPsec AH (`AH`).
    Ah,
}

/// `authentication { auth_type X; auth_pass Y }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    /// The type; `None` when only `auth_pass` was given.
    pub auth_type: Option<AuthType>,
    /// The password, already truncated to 8 bytes as keepalived does.
    pub auth_pass: Option<String>,
}

/// `use_vmac [IFNAME] [MAC]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Vmac {
    /// The macvlan's name; default `vrrp.<VRID>`.
    pub name: Option<String>,
    /// An explicit MAC address (`xx:xx:xx:xx:xx:xx`) instead of the RFC 5798 one.
    pub mac: Option<String>,
}

/// `use_ipvlan [IFNAME] [IP[/len]] [bridge|private|vepa]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Ipvlan {
    /// The ipvlan's name.
    pub name: Option<String>,
    /// The address to put on it (also used as the source address).
    pub addr: Option<IpAddr>,
    /// `bridge` (default), `private` or `vepa`.
    pub mode: Option<String>,
}

/// `unicast_peer { IP [min_ttl N] [max_ttl N] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnicastPeer {
    /// The peer's address.
    pub addr: IpAddr,
    /// Lowest acceptable TTL/hop limit of its adverts.
    pub min_ttl: Option<u8>,
    /// Highest acceptable TTL/hop limit of its adverts.
    pub max_ttl: Option<u8>,
}

/// A tracker reference in `track_interface`, `track_script`, `track_file`,
/// `track_process` or `track_bfd`: `NAME [weight N [reverse|noreverse]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackRef {
    /// The interface, script, file, process or BFD name.
    pub name: String,
    /// The weight given on the reference; `None` uses the tracked object's own default.
    pub weight: Option<i32>,
    /// `reverse`: the weight applies inversely.
    pub reverse: bool,
    /// Where the reference is written.
    pub loc: Option<Loc>,
}

/// All trackers of an instance or a sync group.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Trackers {
    /// `track_interface { IF [weight N [reverse]] }`.
    pub interfaces: Vec<TrackRef>,
    /// `track_script { NAME [weight N [reverse|noreverse]] }`.
    pub scripts: Vec<TrackRef>,
    /// `track_file { NAME [weight N [reverse]] }`.
    pub files: Vec<TrackRef>,
    /// `track_process { NAME [weight N [reverse]] }`.
    pub processes: Vec<TrackRef>,
    /// `track_bfd { NAME [weight N [reverse]] }`.
    pub bfds: Vec<TrackRef>,
}

/// The notify scripts of an instance or a sync group. Boxed: most instances have none, and a
/// script inline would make every instance 700 bytes larger (the VRRP child keeps them all).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Notify {
    /// `notify_master`.
    pub master: Option<Box<Script>>,
    /// `notify_backup`.
    pub backup: Option<Box<Script>>,
    /// `notify_fault`.
    pub fault: Option<Box<Script>>,
    /// `notify_stop`.
    pub stop: Option<Box<Script>>,
    /// `notify_deleted SCRIPT` (instances only).
    pub deleted: Option<Box<Script>>,
    /// `notify_deleted` given at all (reports DELETED instead of FAULT).
    pub notify_deleted: bool,
    /// Generic `notify` (gets TYPE NAME STATE PRIORITY appended).
    pub generic: Option<Box<Script>>,
    /// `notify_master_rx_lower_pri` (instances only).
    pub master_rx_lower_pri: Option<Box<Script>>,
}

impl Notify {
    /// Every configured script with the keyword that set it.
    pub fn scripts(&self) -> impl Iterator<Item = (&'static str, &Script)> {
        [
            ("notify_master", &self.master),
            ("notify_backup", &self.backup),
            ("notify_fault", &self.fault),
            ("notify_stop", &self.stop),
            ("notify_deleted", &self.deleted),
            ("notify", &self.generic),
            ("notify_master_rx_lower_pri", &self.master_rx_lower_pri),
        ]
        .into_iter()
        .filter_map(|(k, s)| s.as_deref().map(|s| (k, s)))
    }
}

/// Per-instance GARP/NA settings; `None` inherits the `global_defs` value.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GarpSettings {
    /// `garp_master_delay` (seconds).
    pub master_delay: Option<Duration>,
    /// `garp_master_repeat`.
    pub master_repeat: Option<u32>,
    /// `garp_master_refresh` (0 = off).
    pub master_refresh: Option<Duration>,
    /// `garp_master_refresh_repeat`.
    pub master_refresh_repeat: Option<u32>,
    /// `garp_lower_prio_delay`.
    pub lower_prio_delay: Option<Duration>,
    /// `garp_lower_prio_repeat`.
    pub lower_prio_repeat: Option<u32>,
    /// `garp_extra_if [all] SECS`: interval and whether for all interfaces.
    pub extra_if: Option<(Duration, bool)>,
}

/// A `virtual_routes` / `virtual_rules` / `static_routes` / `static_rules` entry, kept in
/// `ip route` / `ip rule` word form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RouteSpec {
    /// The words of the line.
    pub words: Vec<String>,
    /// Where it is written.
    pub loc: Option<Loc>,
}

/// `old_unicast_checksum [never]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum UnicastChecksumCompat {
    /// Keyword alone: use the pre-1.3.6 checksum.
    Old,
    /// `never`: never switch automatically.
    Never,
}

/// One `vrrp_instance NAME { ... }` block.
///
/// Settings are kept as written: `None` means "not given". Validation of a loaded config
/// fills `version`, `priority`, `state` and `accept` with keepalived's values; the settings
/// inherited from `global_defs` or strict mode are resolved by [`VrrpInstance::effective`].
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct VrrpInstance {
    /// The instance name.
    pub name: String,
    /// Where the block starts.
    pub loc: Option<Loc>,
    /// `state MASTER|BACKUP`. When not given, validation derives it from the priority
    /// (MASTER for 255, otherwise BACKUP).
    pub state: Option<InitialState>,
    /// `interface IF`.
    pub interface: Option<String>,
    /// Where `interface` is written.
    pub interface_loc: Option<Loc>,
    /// `vrf IF`.
    pub vrf: Option<String>,
    /// `virtual_router_id` 1..255 (mandatory).
    pub virtual_router_id: Option<u8>,
    /// `priority` 1..255. When not given, validation sets keepalived's default: 255 for
    /// `state MASTER`, otherwise 100.
    pub priority: Option<u8>,
    /// Where `priority` is written.
    pub priority_loc: Option<Loc>,
    /// `advert_int` (default 1 s), as configured (before v2/v3 rounding).
    pub advert_int: Duration,
    /// Where `advert_int` is written.
    pub advert_int_loc: Option<Loc>,
    /// `version 2|3`; `None` uses `global_defs vrrp_version`.
    pub version: Option<u8>,
    /// `native_ipv6`.
    pub native_ipv6: bool,
    /// The address family deduced while parsing (first of `mcast_src_ip`/`unicast_src_ip`,
    /// `mcast_dst_ip`, VIPs, unicast peers, `native_ipv6`): `Some(true)` for IPv6, `None`
    /// when nothing says (IPv4).
    pub ipv6: Option<bool>,
    /// `virtual_ipaddress { ... }`.
    pub virtual_ipaddress: Vec<VirtualAddress>,
    /// `virtual_ipaddress_excluded { ... }`.
    pub virtual_ipaddress_excluded: Vec<VirtualAddress>,
    /// `virtual_routes { ... }`.
    pub virtual_routes: Vec<RouteSpec>,
    /// `virtual_rules { ... }`.
    pub virtual_rules: Vec<RouteSpec>,
    /// `mcast_src_ip` or `unicast_src_ip`.
    pub src_ip: Option<IpAddr>,
    /// `mcast_dst_ip`.
    pub mcast_dst_ip: Option<IpAddr>,
    /// `unicast_peer { ... }`.
    pub unicast_peers: Vec<UnicastPeer>,
    /// A unicast keyword was given (`unicast_peer`, `unicast_src_ip`, `unicast_fault_no_peer`, ...).
    pub unicast_configured: bool,
    /// `unicast_ttl` (0..255).
    pub unicast_ttl: Option<u8>,
    /// `unicast_fault_no_peer`.
    pub unicast_fault_no_peer: bool,
    /// `check_unicast_src`.
    pub check_unicast_src: bool,
    /// `old_unicast_checksum [never]`.
    pub old_unicast_checksum: Option<UnicastChecksumCompat>,
    /// `track_src_ip`.
    pub track_src_ip: bool,
    /// `dont_track_primary`.
    pub dont_track_primary: bool,
    /// The `track_*` blocks.
    #[serde(with = "super::wire::default_as_none")]
    pub track: Trackers,
    /// The notify scripts.
    #[serde(with = "super::wire::default_as_none")]
    pub notify: Notify,
    /// `smtp_alert [bool]`.
    pub smtp_alert: Option<bool>,
    /// `notify_priority_changes [bool]`.
    pub notify_priority_changes: Option<bool>,
    /// `authentication { ... }`.
    pub authentication: Option<Authentication>,
    /// `use_vmac ...`.
    pub use_vmac: Option<Vmac>,
    /// `use_vmac_addr`.
    pub use_vmac_addr: bool,
    /// `vmac_xmit_base`.
    pub vmac_xmit_base: bool,
    /// `use_ipvlan ...`.
    pub use_ipvlan: Option<Ipvlan>,
    /// `nopreempt` (`preempt` clears it).
    pub nopreempt: bool,
    /// `preempt_delay` (0..TIMER_MAX).
    pub preempt_delay: Duration,
    /// GARP settings.
    #[serde(with = "super::wire::default_as_none")]
    pub garp: GarpSettings,
    /// `accept` (true) / `no_accept` (false); `None`: keepalived's default.
    pub accept: Option<bool>,
    /// `strict_mode [bool]`; `None` inherits `vrrp_strict`.
    pub strict_mode: Option<bool>,
    /// `skip_check_adv_addr [bool]`.
    pub skip_check_adv_addr: Option<bool>,
    /// `lower_prio_no_advert [bool]`.
    pub lower_prio_no_advert: Option<bool>,
    /// `higher_prio_send_advert [bool]`.
    pub higher_prio_send_advert: Option<bool>,
    /// `down_timer_adverts` 1..100 (default 3).
    pub down_timer_adverts: Option<u32>,
    /// `debug` 0..4.
    pub debug: u32,
    /// `promote_secondaries`.
    pub promote_secondaries: bool,
    /// `kernel_rx_buf_size`.
    pub kernel_rx_buf_size: Option<u32>,
    /// `linkbeat_use_polling` (deprecated here).
    pub linkbeat_use_polling: bool,
    /// `lvs_sync_daemon_interface` (deprecated here).
    pub lvs_sync_daemon_interface: Option<String>,
    /// Keywords keepalived knows that keepalived-rs accepts without acting on them.
    pub not_implemented: Vec<String>,
}

impl VrrpInstance {
    /// A new instance named `name`, with keepalived's defaults.
    pub fn new(name: impl Into<String>, loc: Option<Loc>) -> Self {
        Self {
            name: name.into(),
            loc,
            advert_int: DEFAULT_ADVERT_INT,
            ..Self::default()
        }
    }

    /// The configured priority, or keepalived's default for the state.
    pub fn effective_priority(&self) -> u8 {
        self.priority.unwrap_or(match self.state {
            Some(InitialState::Master) => OWNER_PRIORITY,
            _ => DEFAULT_PRIORITY,
        })
    }

    /// The configured state, or the one keepalived derives from the priority.
    pub fn effective_state(&self) -> InitialState {
        self.state
            .unwrap_or(if self.priority == Some(OWNER_PRIORITY) {
                InitialState::Master
            } else {
                InitialState::Backup
            })
    }

    /// Whether the instance is IPv6 (see [`VrrpInstance::ipv6`]).
    pub fn is_ipv6(&self) -> bool {
        self.ipv6.unwrap_or(false)
    }
}

/// The settings of an instance as keepalived runs them: inherited from `global_defs` and
/// adjusted for strict mode (`vrrp_complete_instance`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Effective {
    /// Strict mode (`strict_mode`, else `vrrp_strict`).
    pub strict: bool,
    /// Do not answer a lower-priority advert (forced in strict mode).
    pub lower_prio_no_advert: bool,
    /// Send an advert before yielding to a higher priority (never in strict mode).
    pub higher_prio_send_advert: bool,
    /// Skip checking the addresses in received adverts.
    pub skip_check_adv_addr: bool,
    /// Check unicast adverts come from a configured peer.
    pub check_unicast_src: bool,
    /// Adverts missed before the master is declared down (3 in strict mode).
    pub down_timer_adverts: u32,
    /// Send SMTP alerts on transitions.
    pub smtp_alert: bool,
    /// Report effective-priority changes to the FIFO.
    pub notify_priority_changes: bool,
    /// Delay before the second GARP burst after becoming master (0: none).
    pub garp_master_delay: Duration,
    /// GARPs per VIP in a burst.
    pub garp_master_repeat: u32,
    /// Period of refresh bursts while master (0: off).
    pub garp_master_refresh: Duration,
    /// GARPs per VIP in a refresh burst.
    pub garp_master_refresh_repeat: u32,
    /// Delay of the second burst after a lower-priority advert (0 in strict mode).
    pub garp_lower_prio_delay: Duration,
    /// GARPs per VIP after a lower-priority advert (0 in strict mode).
    pub garp_lower_prio_repeat: u32,
    /// Where multicast adverts go (`None` for unicast).
    pub mcast_dst_ip: Option<IpAddr>,
}

impl VrrpInstance {
    /// The settings keepalived would run this instance with, given the `global_defs`.
    pub fn effective(&self, g: &super::GlobalDefs) -> Effective {
        let strict = self.strict_mode.unwrap_or(g.vrrp_strict);
        let garp = &self.garp;
        Effective {
            strict,
            lower_prio_no_advert: strict
                || self
                    .lower_prio_no_advert
                    .unwrap_or(g.vrrp_lower_prio_no_advert),
            higher_prio_send_advert: !strict
                && self
                    .higher_prio_send_advert
                    .unwrap_or(g.vrrp_higher_prio_send_advert),
            skip_check_adv_addr: self
                .skip_check_adv_addr
                .unwrap_or(g.vrrp_skip_check_adv_addr),
            check_unicast_src: self.check_unicast_src || g.vrrp_check_unicast_src,
            down_timer_adverts: if strict {
                3
            } else {
                self.down_timer_adverts.unwrap_or(g.vrrp_down_timer_adverts)
            },
            smtp_alert: self
                .smtp_alert
                .or(g.smtp_alert_vrrp)
                .or(g.smtp_alert)
                .unwrap_or(false),
            notify_priority_changes: self
                .notify_priority_changes
                .unwrap_or(g.vrrp_notify_priority_changes),
            garp_master_delay: garp.master_delay.unwrap_or(g.vrrp_garp_master_delay),
            garp_master_repeat: garp.master_repeat.unwrap_or(g.vrrp_garp_master_repeat),
            garp_master_refresh: garp.master_refresh.unwrap_or(g.vrrp_garp_master_refresh),
            garp_master_refresh_repeat: garp
                .master_refresh_repeat
                .unwrap_or(g.vrrp_garp_master_refresh_repeat),
            garp_lower_prio_delay: if strict {
                Duration::ZERO
            } else {
                garp.lower_prio_delay.unwrap_or(
                    g.vrrp_garp_lower_prio_delay
                        .unwrap_or(g.vrrp_garp_master_delay),
                )
            },
            garp_lower_prio_repeat: if strict {
                0
            } else {
                garp.lower_prio_repeat.unwrap_or(
                    g.vrrp_garp_lower_prio_repeat
                        .unwrap_or(g.vrrp_garp_master_repeat),
                )
            },
            mcast_dst_ip: if self.unicast_peers.is_empty() {
                Some(self.mcast_dst_ip.unwrap_or(if self.is_ipv6() {
                    IpAddr::V6(g.vrrp_mcast_group6)
                } else {
                    IpAddr::V4(g.vrrp_mcast_group4)
                }))
            } else {
                None
            },
        }
    }
}

/// One `vrrp_script NAME { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VrrpScript {
    /// The script's name (what `track_script` refers to).
    pub name: String,
    /// Where the block starts.
    pub loc: Option<Loc>,
    /// `script "CMD ARGS"`.
    pub script: Option<Script>,
    /// `interval` (default 1 s).
    pub interval: Duration,
    /// `timeout` (default: the interval).
    pub timeout: Option<Duration>,
    /// `weight` -253..253 (default 0).
    pub weight: i32,
    /// `weight N reverse`.
    pub weight_reverse: bool,
    /// `rise` (default 1).
    pub rise: u32,
    /// `fall` (default 1).
    pub fall: u32,
    /// `user USER [GROUP]`.
    pub user: Option<ScriptUser>,
    /// `init_fail`.
    pub init_fail: bool,
}

impl VrrpScript {
    /// A new script named `name` with keepalived's defaults.
    pub fn new(name: impl Into<String>, loc: Option<Loc>) -> Self {
        Self {
            name: name.into(),
            loc,
            script: None,
            interval: Duration::from_secs(1),
            timeout: None,
            weight: 0,
            weight_reverse: false,
            rise: 1,
            fall: 1,
            user: None,
            init_fail: false,
        }
    }

    /// The timeout in effect (defaults to the interval).
    pub fn effective_timeout(&self) -> Duration {
        self.timeout.unwrap_or(self.interval)
    }
}

/// One `vrrp_sync_group NAME { ... }` block.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SyncGroup {
    /// The group name.
    pub name: String,
    /// Where the block starts.
    pub loc: Option<Loc>,
    /// `group { INSTANCE ... }`.
    pub group: Vec<String>,
    /// Where each member is written (parallel to `group`).
    pub group_locs: Vec<Loc>,
    /// The group notify scripts.
    #[serde(with = "super::wire::default_as_none")]
    pub notify: Notify,
    /// `smtp_alert [bool]`.
    pub smtp_alert: Option<bool>,
    /// The group-level `track_*` blocks.
    #[serde(with = "super::wire::default_as_none")]
    pub track: Trackers,
    /// `sync_group_tracking_weight` (or the deprecated `global_tracking`).
    pub sync_group_tracking_weight: bool,
    /// `notify_priority_changes [bool]`.
    pub notify_priority_changes: Option<bool>,
}
