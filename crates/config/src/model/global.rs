//! `global_defs { ... }` and the other top-level settings.

use super::{Script, ScriptUser};
use crate::source::Loc;
use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// `smtp_server IP|HOST [PORT]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmtpServer {
    /// The address or host name as written.
    pub host: String,
    /// The port (default 25).
    pub port: u16,
    /// Where it is written.
    pub loc: Option<Loc>,
}

/// `notify_fifo PATH [USER [GROUP]]` and its `*_script`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct NotifyFifo {
    /// The FIFO's path.
    pub path: Option<String>,
    /// The owner to create it with.
    pub user: Option<ScriptUser>,
    /// The `*_fifo_script` reading it.
    pub script: Option<Script>,
}

/// `lvs_sync_daemon IF INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LvsSyncDaemon {
    /// The interface.
    pub interface: String,
    /// The vrrp_instance whose state drives it.
    pub vrrp_instance: Option<String>,
    /// `id` 0..255.
    pub sync_id: Option<u8>,
    /// `maxlen` 1..65507.
    pub maxlen: Option<u16>,
    /// `port`.
    pub port: Option<u16>,
    /// `ttl` 1..255.
    pub ttl: Option<u8>,
    /// `group IP`.
    pub group: Option<IpAddr>,
}

/// `lvs_timeouts [tcp N] [tcpfin N] [udp N]`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct LvsTimeouts {
    /// `tcp`.
    pub tcp: Option<Duration>,
    /// `tcpfin`.
    pub tcpfin: Option<Duration>,
    /// `udp`.
    pub udp: Option<Duration>,
}

/// Process tuning for one child: `*_priority`, `*_rt_priority`, `*_no_swap`,
/// `*_rlimit_rttime`, `*_cpu_affinity`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProcessTuning {
    /// Nice value -20..19.
    pub priority: Option<i32>,
    /// Realtime priority.
    pub rt_priority: Option<u32>,
    /// `mlockall`.
    pub no_swap: bool,
    /// `*_rlimit_rttime` in microseconds (`None`: keepalived's 10000; `Some(0)`: an invalid
    /// value was given, which keepalived turns into no limit at all).
    pub rlimit_rttime: Option<u32>,
    /// `*_cpu_affinity`: CPU numbers (empty: the affinity is left alone).
    pub cpu_affinity: Vec<u32>,
}

/// `global_defs { ... }`, with keepalived's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GlobalDefs {
    /// `router_id` (default: the host name).
    pub router_id: Option<String>,
    /// `notification_email { ... }`.
    pub notification_email: Vec<String>,
    /// `notification_email_from`.
    pub notification_email_from: Option<String>,
    /// `smtp_server`.
    pub smtp_server: Option<SmtpServer>,
    /// `smtp_helo_name`.
    pub smtp_helo_name: Option<String>,
    /// `smtp_connect_timeout` (default 30 s).
    pub smtp_connect_timeout: Duration,
    /// `smtp_alert [bool]`.
    pub smtp_alert: Option<bool>,
    /// `smtp_alert_vrrp [bool]`.
    pub smtp_alert_vrrp: Option<bool>,
    /// `smtp_alert_checker [bool]`.
    pub smtp_alert_checker: Option<bool>,
    /// `vrrp_mcast_group4` (default 224.0.0.18).
    pub vrrp_mcast_group4: Ipv4Addr,
    /// `vrrp_mcast_group6` (default ff02::12).
    pub vrrp_mcast_group6: Ipv6Addr,
    /// `vrrp_garp_master_delay` (default 5 s).
    pub vrrp_garp_master_delay: Duration,
    /// `vrrp_garp_master_repeat` (default 5).
    pub vrrp_garp_master_repeat: u32,
    /// `vrrp_garp_master_refresh` (default 0 = off).
    pub vrrp_garp_master_refresh: Duration,
    /// `vrrp_garp_master_refresh_repeat` (default 1).
    pub vrrp_garp_master_refresh_repeat: u32,
    /// `vrrp_garp_lower_prio_delay` (default: the master delay).
    pub vrrp_garp_lower_prio_delay: Option<Duration>,
    /// `vrrp_garp_lower_prio_repeat` (default: the master repeat).
    pub vrrp_garp_lower_prio_repeat: Option<u32>,
    /// `vrrp_garp_interval` (default 0).
    pub vrrp_garp_interval: Duration,
    /// `vrrp_gna_interval` (default 0).
    pub vrrp_gna_interval: Duration,
    /// `vrrp_min_garp`.
    pub vrrp_min_garp: bool,
    /// `vrrp_garp_extra_if [all] SECS`.
    pub vrrp_garp_extra_if: Option<(Duration, bool)>,
    /// `vrrp_down_timer_adverts` (default 3).
    pub vrrp_down_timer_adverts: u32,
    /// `vrrp_lower_prio_no_advert [bool]` (default false).
    pub vrrp_lower_prio_no_advert: bool,
    /// `vrrp_higher_prio_send_advert [bool]` (default false).
    pub vrrp_higher_prio_send_advert: bool,
    /// `vrrp_version 2|3` (default 2).
    pub vrrp_version: u8,
    /// `vrrp_iptables [IN [OUT]]`.
    pub vrrp_iptables: Option<Vec<String>>,
    /// `vrrp_ipsets [...]`.
    pub vrrp_ipsets: Option<Vec<String>>,
    /// `nftables [TABLE]` (default table `keepalived`).
    pub nftables: Option<String>,
    /// `vrrp_check_unicast_src`.
    pub vrrp_check_unicast_src: bool,
    /// `vrrp_skip_check_adv_addr`.
    pub vrrp_skip_check_adv_addr: bool,
    /// `vrrp_strict`.
    pub vrrp_strict: bool,
    /// `vrrp_startup_delay`.
    pub vrrp_startup_delay: Option<Duration>,
    /// `vrrp_priority`, `vrrp_rt_priority`, `vrrp_no_swap`.
    pub vrrp_process: ProcessTuning,
    /// `checker_priority`, `checker_rt_priority`, `checker_no_swap`.
    pub checker_process: ProcessTuning,
    /// `bfd_priority`, `bfd_rt_priority`, `bfd_no_swap`.
    pub bfd_process: ProcessTuning,
    /// `max_auto_priority [N]` (-1 = unset).
    pub max_auto_priority: Option<i32>,
    /// `min_auto_priority_delay` (`None`: keepalived's 1 s).
    pub min_auto_priority_delay: Option<Duration>,
    /// `enable_script_security`.
    pub enable_script_security: bool,
    /// `script_user USER [GROUP]`.
    pub script_user: Option<ScriptUser>,
    /// Where `script_user` is written.
    pub script_user_loc: Option<Loc>,
    /// `dynamic_interfaces [allow_if_changes]`: `Some(allow_if_changes)`.
    pub dynamic_interfaces: Option<bool>,
    /// `process_names`.
    pub process_names: bool,
    /// `lvs_sync_daemon ...`.
    pub lvs_sync_daemon: Option<LvsSyncDaemon>,
    /// `lvs_flush`.
    pub lvs_flush: bool,
    /// `lvs_flush_on_stop [VS|ALL]`.
    pub lvs_flush_on_stop: Option<String>,
    /// `lvs_timeouts ...`.
    pub lvs_timeouts: LvsTimeouts,
    /// `notify_fifo` (+ `notify_fifo_script`).
    pub notify_fifo: NotifyFifo,
    /// `vrrp_notify_fifo` (+ `_script`).
    pub vrrp_notify_fifo: NotifyFifo,
    /// `lvs_notify_fifo` (+ `_script`).
    pub lvs_notify_fifo: NotifyFifo,
    /// `vrrp_notify_priority_changes [bool]`.
    pub vrrp_notify_priority_changes: bool,
    /// `default_interface` (default eth0).
    pub default_interface: Option<String>,
    /// `umask`.
    pub umask: Option<u32>,
    /// `startup_script` / `shutdown_script`.
    pub startup_script: Option<Script>,
    /// `shutdown_script`.
    pub shutdown_script: Option<Script>,
    /// `state_dump_file`, `stats_dump_file`, `json_dump_file` (newer keepalived).
    pub dump_files: Vec<(String, String)>,
    /// `enable_snmp_*`, `enable_dbus`, `enable_traps`, ... given.
    pub snmp_dbus: Vec<String>,
    /// Keywords accepted without being acted on.
    pub not_implemented: Vec<String>,
}

impl Default for GlobalDefs {
    fn default() -> Self {
        Self {
            router_id: None,
            notification_email: Vec::new(),
            notification_email_from: None,
            smtp_server: None,
            smtp_helo_name: None,
            smtp_connect_timeout: Duration::from_secs(30),
            smtp_alert: None,
            smtp_alert_vrrp: None,
            smtp_alert_checker: None,
            vrrp_mcast_group4: Ipv4Addr::new(224, 0, 0, 18),
            vrrp_mcast_group6: Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12),
            vrrp_garp_master_delay: Duration::from_secs(5),
            vrrp_garp_master_repeat: 5,
            vrrp_garp_master_refresh: Duration::ZERO,
            vrrp_garp_master_refresh_repeat: 1,
            vrrp_garp_lower_prio_delay: None,
            vrrp_garp_lower_prio_repeat: None,
            vrrp_garp_interval: Duration::ZERO,
            vrrp_gna_interval: Duration::ZERO,
            vrrp_min_garp: false,
            vrrp_garp_extra_if: None,
            vrrp_down_timer_adverts: 3,
            vrrp_lower_prio_no_advert: false,
            vrrp_higher_prio_send_advert: false,
            vrrp_version: 2,
            vrrp_iptables: None,
            vrrp_ipsets: None,
            nftables: None,
            vrrp_check_unicast_src: false,
            vrrp_skip_check_adv_addr: false,
            vrrp_strict: false,
            vrrp_startup_delay: None,
            vrrp_process: ProcessTuning::default(),
            checker_process: ProcessTuning::default(),
            bfd_process: ProcessTuning::default(),
            max_auto_priority: None,
            min_auto_priority_delay: None,
            enable_script_security: false,
            script_user: None,
            script_user_loc: None,
            dynamic_interfaces: None,
            process_names: false,
            lvs_sync_daemon: None,
            lvs_flush: false,
            lvs_flush_on_stop: None,
            lvs_timeouts: LvsTimeouts::default(),
            notify_fifo: NotifyFifo::default(),
            vrrp_notify_fifo: NotifyFifo::default(),
            lvs_notify_fifo: NotifyFifo::default(),
            vrrp_notify_priority_changes: false,
            default_interface: None,
            umask: None,
            startup_script: None,
            shutdown_script: None,
            dump_files: Vec::new(),
            snmp_dbus: Vec::new(),
            not_implemented: Vec::new(),
        }
    }
}
