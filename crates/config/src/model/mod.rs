//! The typed configuration model: what a keepalived.conf says, with keepalived's defaults.
//!
//! Every type is plain data (serde `Serialize + Deserialize`) so the parent can send the
//! model to its children. The VRRP side lives in [`vrrp`], [`global`] and [`misc`]; the LVS
//! side in [`lvs`].

pub mod global;
pub mod lvs;
pub mod misc;
pub mod vrrp;
pub mod wire;

use crate::source::Loc;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

pub use global::GlobalDefs;
pub use misc::{
    BfdInstance, GarpGroup, LinkbeatInterface, StaticConfig, TrackFile, TrackGroup, TrackProcess,
    UpDownDelay,
};
pub use vrrp::{SyncGroup, VrrpInstance, VrrpScript};

/// A script command as written in the config, plus its argv as keepalived splits it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Script {
    /// The command text after the keyword, as written (quotes kept).
    pub command: String,
    /// The command split with keepalived's quoting and escape rules; `argv[0]` is the program.
    pub argv: Vec<String>,
    /// `USER [GROUP]` written after the command (notify scripts only).
    pub user: Option<ScriptUser>,
    /// Where the keyword is written.
    pub loc: Option<Loc>,
}

/// `USER [GROUP]` a script runs as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScriptUser {
    /// User name or number.
    pub user: String,
    /// Group name or number; default: the user's primary group.
    pub group: Option<String>,
}

/// `broadcast`/`brd` of an address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Broadcast {
    /// `brd +`: all host bits set.
    Plus,
    /// `brd -`: all host bits clear.
    Minus,
    /// An explicit address.
    Addr(IpAddr),
}

/// One `virtual_ipaddress` / `virtual_ipaddress_excluded` / `static_ipaddress` entry:
/// `IP[/len] [brd X] [dev IF] [scope S] [label L] [peer IP] [home] [-nodad] [mngtmpaddr]
/// [noprefixroute] [autojoin] [no_track] [preferred_lft N|forever] [use_vmac] [track_group G]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VirtualAddress {
    /// The address.
    pub addr: IpAddr,
    /// The prefix length (default /32 or /128).
    pub prefix: u8,
    /// `brd`.
    pub broadcast: Option<Broadcast>,
    /// `dev IF` (default: the instance's interface).
    pub dev: Option<String>,
    /// `scope S` (name or number).
    pub scope: Option<String>,
    /// `label L`.
    pub label: Option<String>,
    /// `peer IP[/len]`.
    pub peer: Option<IpAddr>,
    /// `home` (IPv6).
    pub home: bool,
    /// `-nodad` (IPv6).
    pub nodad: bool,
    /// `mngtmpaddr` (IPv6).
    pub mngtmpaddr: bool,
    /// `noprefixroute`.
    pub noprefixroute: bool,
    /// `autojoin`.
    pub autojoin: bool,
    /// `no_track`: deleting it externally does not make the instance go BACKUP.
    pub no_track: bool,
    /// `preferred_lft N` (`forever` = `None` with `preferred_lft_set`).
    pub preferred_lft: Option<u32>,
    /// `use_vmac` (VIPs only).
    pub use_vmac: bool,
    /// `track_group NAME` (static addresses only).
    pub track_group: Option<String>,
    /// Where it is written.
    pub loc: Option<Loc>,
}

impl VirtualAddress {
    /// An address with the default prefix and no options.
    pub fn new(addr: IpAddr) -> Self {
        Self {
            addr,
            prefix: if addr.is_ipv4() { 32 } else { 128 },
            broadcast: None,
            dev: None,
            scope: None,
            label: None,
            peer: None,
            home: false,
            nodad: false,
            mngtmpaddr: false,
            noprefixroute: false,
            autojoin: false,
            no_track: false,
            preferred_lft: None,
            use_vmac: false,
            track_group: None,
            loc: None,
        }
    }
}

/// A whole keepalived configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// `global_defs`.
    pub global: GlobalDefs,
    /// `net_namespace NAME`.
    pub net_namespace: Option<String>,
    /// `net_namespace_ipvs NAME`.
    pub net_namespace_ipvs: Option<String>,
    /// `namespace_with_ipsets`.
    pub namespace_with_ipsets: bool,
    /// `use_pid_dir`.
    pub use_pid_dir: bool,
    /// `instance NAME`.
    pub instance: Option<String>,
    /// `child_wait_time` (default 5 s).
    pub child_wait_time: Duration,
    /// `linkbeat_use_polling` (top level).
    pub linkbeat_use_polling: bool,
    /// `linkbeat_interfaces { ... }`.
    pub linkbeat_interfaces: Vec<LinkbeatInterface>,
    /// `interface_up_down_delays { ... }`.
    pub interface_up_down_delays: Vec<UpDownDelay>,
    /// `track_group` blocks.
    pub track_groups: Vec<TrackGroup>,
    /// `static_ipaddress`, `static_routes`, `static_rules`.
    pub statics: StaticConfig,
    /// `track_file` / `vrrp_track_file` blocks.
    pub track_files: Vec<TrackFile>,
    /// `vrrp_track_process` blocks.
    pub track_processes: Vec<TrackProcess>,
    /// `vrrp_script` blocks.
    pub vrrp_scripts: Vec<VrrpScript>,
    /// `vrrp_sync_group` blocks.
    pub sync_groups: Vec<SyncGroup>,
    /// `garp_group` blocks.
    pub garp_groups: Vec<GarpGroup>,
    /// `vrrp_instance` blocks.
    pub vrrp_instances: Vec<VrrpInstance>,
    /// `bfd_instance` blocks.
    pub bfd_instances: Vec<BfdInstance>,
    /// `virtual_server_group` blocks.
    pub virtual_server_groups: Vec<lvs::VirtualServerGroup>,
    /// `virtual_server` blocks.
    pub virtual_servers: Vec<lvs::VirtualServer>,
    /// The top-level `SSL` block.
    pub ssl: Option<lvs::SslConfig>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            global: GlobalDefs::default(),
            net_namespace: None,
            net_namespace_ipvs: None,
            namespace_with_ipsets: false,
            use_pid_dir: false,
            instance: None,
            child_wait_time: Duration::from_secs(5),
            linkbeat_use_polling: false,
            linkbeat_interfaces: Vec::new(),
            interface_up_down_delays: Vec::new(),
            track_groups: Vec::new(),
            statics: StaticConfig::default(),
            track_files: Vec::new(),
            track_processes: Vec::new(),
            vrrp_scripts: Vec::new(),
            sync_groups: Vec::new(),
            garp_groups: Vec::new(),
            vrrp_instances: Vec::new(),
            bfd_instances: Vec::new(),
            virtual_server_groups: Vec::new(),
            virtual_servers: Vec::new(),
            ssl: None,
        }
    }
}
