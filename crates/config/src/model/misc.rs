//! The smaller top-level blocks: trackers defined outside instances, static addresses,
//! GARP groups, BFD, link-beat and interface debounce settings.

use super::vrrp::RouteSpec;
use super::VirtualAddress;
use crate::source::Loc;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use std::time::Duration;

/// `track_file NAME { file PATH; weight N [reverse]; init_file [V] [overwrite] }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackFile {
    /// The name `track_file` references use.
    pub name: String,
    /// Where the block starts.
    pub loc: Option<Loc>,
    /// `file PATH`.
    pub file: Option<String>,
    /// `weight` -254..254 (default 1).
    pub weight: i32,
    /// `weight N reverse`.
    pub reverse: bool,
    /// `init_file [VALUE] [overwrite]`: value (default 0) and overwrite.
    pub init_file: Option<(i64, bool)>,
}

/// How `vrrp_track_process` matches command-line parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum ParamMatch {
    /// No parameters to match.
    #[default]
    None,
    /// The parameters must match exactly.
    Exact,
    /// `param_match initial`.
    Initial,
    /// `param_match partial`.
    Partial,
}

/// `vrrp_track_process NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrackProcess {
    /// The name `track_process` references use.
    pub name: String,
    /// Where the block starts.
    pub loc: Option<Loc>,
    /// `process PATH [ARGS...]`: the process name or path.
    pub process: Option<String>,
    /// The parameters after the process name.
    pub params: Vec<String>,
    /// `param_match`.
    pub param_match: ParamMatch,
    /// `weight` -254..254 (default 0).
    pub weight: i32,
    /// `weight N reverse`.
    pub reverse: bool,
    /// `quorum` (default 1).
    pub quorum: u32,
    /// `quorum_max`.
    pub quorum_max: Option<u32>,
    /// `terminate_delay` (or `delay`).
    pub terminate_delay: Option<Duration>,
    /// `fork_delay` (or `delay`).
    pub fork_delay: Option<Duration>,
    /// `full_command`.
    pub full_command: bool,
}

/// `bfd_instance NAME { ... }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BfdInstance {
    /// The name.
    pub name: String,
    /// Where the block starts.
    pub loc: Option<Loc>,
    /// `neighbor_ip`/`neighbour_ip` (mandatory: an instance without one is disabled).
    pub neighbor_ip: Option<IpAddr>,
    /// `source_ip`.
    pub source_ip: Option<IpAddr>,
    /// `min_rx` (default 10 ms).
    pub min_rx: Duration,
    /// `min_tx` (default 10 ms).
    pub min_tx: Duration,
    /// `idle_tx` (default 1 s).
    pub idle_tx: Duration,
    /// `multiplier` (default 5).
    pub multiplier: u8,
    /// `passive`.
    pub passive: bool,
    /// `ttl` / `hoplimit`.
    pub ttl: Option<u8>,
    /// `max_hops`.
    pub max_hops: Option<u8>,
    /// `weight`.
    pub weight: Option<i32>,
    /// `vrrp` (report to VRRP only) / `checker`.
    pub vrrp: bool,
    /// `checker`.
    pub checker: bool,
}

impl BfdInstance {
    /// A new BFD instance with keepalived's defaults.
    pub fn new(name: impl Into<String>, loc: Option<Loc>) -> Self {
        Self {
            name: name.into(),
            loc,
            neighbor_ip: None,
            source_ip: None,
            min_rx: Duration::from_millis(10),
            min_tx: Duration::from_millis(10),
            idle_tx: Duration::from_secs(1),
            multiplier: 5,
            passive: false,
            ttl: None,
            max_hops: None,
            weight: None,
            vrrp: false,
            checker: false,
        }
    }
}

/// `garp_group { garp_interval; gna_interval; interface IF | interfaces { ... } }`.
/// A group with neither interval set has no effect (keepalived removes it).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct GarpGroup {
    /// Where the block starts.
    pub loc: Option<Loc>,
    /// `garp_interval`.
    pub garp_interval: Option<Duration>,
    /// `gna_interval`.
    pub gna_interval: Option<Duration>,
    /// The interfaces it applies to.
    pub interfaces: Vec<String>,
}

/// `track_group NAME { group { INSTANCE ... } }`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct TrackGroup {
    /// The name static addresses refer to.
    pub name: String,
    /// The instances.
    pub group: Vec<String>,
    /// Where the block starts.
    pub loc: Option<Loc>,
}

/// `linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] }` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkbeatInterface {
    /// The interface.
    pub interface: String,
    /// The polling method, if given.
    pub method: Option<String>,
    /// Where it is written.
    pub loc: Option<Loc>,
}

/// `interface_up_down_delays { IF DOWN [UP] }` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpDownDelay {
    /// The interface.
    pub interface: String,
    /// Delay before acting on link down.
    pub down: Duration,
    /// Delay before acting on link up.
    pub up: Duration,
    /// Where it is written.
    pub loc: Option<Loc>,
}

/// `static_ipaddress`, `static_routes`, `static_rules`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StaticConfig {
    /// `static_ipaddress { ... }`.
    pub addresses: Vec<VirtualAddress>,
    /// `static_routes { ... }`.
    pub routes: Vec<RouteSpec>,
    /// `static_rules { ... }`.
    pub rules: Vec<RouteSpec>,
}
