//! PURE: maps a [`keepalived_config::Config`] onto the VRRP core's parameters
//! ([`InstanceParams`], [`SyncGroupParams`]) and onto what the shell needs per instance
//! ([`InstanceShell`]: interface index, socket key, destinations, receive checks, VIP
//! specifications, notify command lines, trackers to feed).
//!
//! Facts about the running system (interface indexes, primary addresses, MACs) come in
//! through [`InterfaceLookup`], so this module stays testable without a network.
//!
//! Every configured feature the daemon does not act on yet produces a warning in
//! [`Plan::warnings`]; nothing is silently ignored.

use keepalived_config::model::vrrp::{AuthType, TrackRef, UnicastChecksumCompat as CfgCompat};
use keepalived_config::model::SyncGroup;
use keepalived_config::model::{Broadcast, Script, ScriptUser, VirtualAddress, VrrpInstance};
use keepalived_config::Config;
use keepalived_sys::netlink::RuleSpec;
use keepalived_vrrp::codec::{RxParams, UnicastChecksumCompat, UnicastPeer, V4Checksum};
use keepalived_vrrp::instance::{
    GarpParams, InitialState, InstanceParams, NotifyParams, NotifyScript, Tracker, TrackerKind,
    TrackerValue,
};
use keepalived_vrrp::sync_group::SyncGroupParams;
use keepalived_vrrp::{Auth, Version};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// IPv6 VRRP multicast group (ff02::12).
pub const MCAST_GROUP6: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 0x12);

/// What the daemon knows about one interface.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct InterfaceInfo {
    /// Kernel interface index.
    pub index: u32,
    /// Its primary IPv4 address (the first one the kernel lists), if any.
    pub primary_v4: Option<Ipv4Addr>,
    /// Its IPv6 link-local address, if any.
    pub link_local_v6: Option<Ipv6Addr>,
    /// Its MAC address.
    pub mac: Option<[u8; 6]>,
    /// Administratively up and with carrier.
    pub up: bool,
}

/// Resolves interface names to what the daemon needs to know about them.
pub trait InterfaceLookup {
    /// The interface called `name`, if it exists.
    fn interface(&self, name: &str) -> Option<InterfaceInfo>;
}

impl<F: Fn(&str) -> Option<InterfaceInfo>> InterfaceLookup for F {
    fn interface(&self, name: &str) -> Option<InterfaceInfo> {
        self(name)
    }
}

/// Address family of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Family {
    /// IPv4 (protocol 112 over IPv4, IP_HDRINCL).
    V4,
    /// IPv6 (protocol 112 over IPv6, the kernel builds the header).
    V6,
}

/// One receive/send socket: shared by the instances on the same interface, family and
/// unicast source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SocketKey {
    /// Interface index.
    pub ifindex: u32,
    /// Address family.
    pub family: Family,
    /// `unicast_src_ip` the socket binds to (unicast instances only).
    pub unicast_src: Option<IpAddr>,
    /// The multicast group joined (multicast instances only).
    pub group: Option<IpAddr>,
}

/// An address to add or remove, in rtnetlink terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VipSpec {
    /// Interface index (`dev`, else the instance's interface).
    pub ifindex: u32,
    /// The address.
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
    /// IPv4 broadcast (`brd`).
    pub broadcast: Option<Ipv4Addr>,
    /// rtnetlink scope number (0 global/universe, 200 site, 253 link, 254 host, 255 nowhere).
    pub scope: u8,
    /// `label`.
    pub label: Option<String>,
    /// `-nodad` (IPv6).
    pub nodad: bool,
    /// `no_track`: its external removal is not reported to the core.
    pub no_track: bool,
}

/// Route types (`RTN_*`).
pub mod rtn {
    /// An ordinary route.
    pub const UNICAST: u8 = 1;
    /// `blackhole`.
    pub const BLACKHOLE: u8 = 6;
    /// `unreachable`.
    pub const UNREACHABLE: u8 = 7;
    /// `prohibit`.
    pub const PROHIBIT: u8 = 8;
}

/// A `virtual_routes` entry in rtnetlink terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VRoute {
    /// Destination network.
    pub dst: IpAddr,
    /// Destination prefix length.
    pub prefix_len: u8,
    /// `via`.
    pub gateway: Option<IpAddr>,
    /// `dev` (the instance's interface when neither `dev` nor `via` is given).
    pub dev: Option<u32>,
    /// `table` (254 = main).
    pub table: u32,
    /// `metric` / `priority` / `preference`.
    pub metric: Option<u32>,
    /// `scope` number.
    pub scope: u8,
    /// `src`.
    pub src: Option<IpAddr>,
    /// Route type ([`rtn`]).
    pub route_type: u8,
}

/// Parses one `virtual_routes` line (`ip route` words). Unknown options are reported in
/// `warnings` and ignored; `None` when there is no usable destination.
pub fn parse_route(
    words: &[String],
    default_dev: u32,
    lookup: &dyn InterfaceLookup,
    warnings: &mut Vec<String>,
) -> Option<VRoute> {
    let mut dst: Option<(IpAddr, u8)> = None;
    let mut r = VRoute {
        dst: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
        prefix_len: 0,
        gateway: None,
        dev: None,
        table: 254,
        metric: None,
        scope: 0,
        src: None,
        route_type: rtn::UNICAST,
    };
    let line = words.join(" ");
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let mut arg = || it.next().cloned().unwrap_or_default();
        match w.as_str() {
            "via" | "gw" => r.gateway = arg().parse().ok(),
            "dev" | "oif" => {
                let name = arg();
                match lookup.interface(&name) {
                    Some(i) => r.dev = Some(i.index),
                    None => warnings.push(format!("virtual route {line}: no interface {name}")),
                }
            }
            "table" => {
                let t = arg();
                r.table = match t.as_str() {
                    "main" => 254,
                    "local" => 255,
                    "default" => 253,
                    n => n.parse().unwrap_or(254),
                }
            }
            "metric" | "priority" | "preference" => r.metric = arg().parse().ok(),
            "scope" => {
                let sc = arg();
                r.scope = scope_number(&sc).unwrap_or(0);
            }
            "src" => r.src = arg().parse().ok(),
            "to" => {}
            "blackhole" => r.route_type = rtn::BLACKHOLE,
            "unreachable" => r.route_type = rtn::UNREACHABLE,
            "prohibit" => r.route_type = rtn::PROHIBIT,
            "unicast" => r.route_type = rtn::UNICAST,
            "default" if dst.is_none() => dst = Some((IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0)),
            word if dst.is_none() && word.chars().next().is_some_and(|c| c.is_ascii_hexdigit()) => {
                let (a, len) = match word.split_once('/') {
                    Some((a, l)) => (a, l.parse::<u8>().ok()),
                    None => (word, None),
                };
                match a.parse::<IpAddr>() {
                    Ok(ip) => {
                        let full = if ip.is_ipv4() { 32 } else { 128 };
                        dst = Some((ip, len.unwrap_or(full)));
                    }
                    Err(_) => {
                        warnings.push(format!("virtual route {line}: bad destination {word}"))
                    }
                }
            }
            other => {
                warnings.push(format!(
                    "virtual route {line}: option {other} is not yet supported by keepalived-rs, ignored"
                ));
                let _ = arg();
            }
        }
    }
    let (d, len) = dst?;
    // `default` takes the family of the gateway or source when given.
    r.dst = match (d, r.gateway.or(r.src)) {
        (IpAddr::V4(a), Some(IpAddr::V6(_))) if a.is_unspecified() && len == 0 => {
            IpAddr::V6(Ipv6Addr::UNSPECIFIED)
        }
        _ => d,
    };
    r.prefix_len = len;
    if r.dev.is_none() && r.gateway.is_none() && r.route_type == rtn::UNICAST {
        r.dev = Some(default_dev);
    }
    Some(r)
}

/// Parses one `virtual_rules` line (`ip rule` words) into rtnetlink's plain rule data.
/// `ipv6` is the family when neither `from` nor `to` says. Unknown options are reported in
/// `warnings` and ignored.
pub fn parse_rule(words: &[String], ipv6: bool, warnings: &mut Vec<String>) -> RuleSpec {
    use keepalived_sys::netlink::{
        FR_ACT_BLACKHOLE, FR_ACT_GOTO, FR_ACT_PROHIBIT, FR_ACT_UNREACHABLE,
    };
    let line = words.join(" ");
    let mut r = RuleSpec::new(ipv6);
    let prefix = |w: &str| -> Option<(IpAddr, u8)> {
        let (a, len) = match w.split_once('/') {
            Some((a, l)) => (a, l.parse::<u8>().ok()),
            None => (w, None),
        };
        let ip: IpAddr = a.parse().ok()?;
        Some((ip, len.unwrap_or(if ip.is_ipv4() { 32 } else { 128 })))
    };
    let mut it = words.iter();
    while let Some(w) = it.next() {
        let mut arg = || it.next().cloned().unwrap_or_default();
        match w.as_str() {
            "from" => r.from = prefix(&arg()),
            "to" => r.to = prefix(&arg()),
            "not" => r.invert = true,
            "table" | "lookup" => {
                let t = arg();
                r.table = match t.as_str() {
                    "main" => 254,
                    "local" => 255,
                    "default" => 253,
                    n => n.parse().unwrap_or(254),
                }
            }
            "priority" | "preference" | "pref" => r.priority = arg().parse().ok(),
            "iif" | "dev" => r.iif = Some(arg()),
            "oif" => r.oif = Some(arg()),
            "fwmark" => {
                let m = arg();
                let num = |t: &str| {
                    t.strip_prefix("0x")
                        .map_or_else(|| t.parse().ok(), |h| u32::from_str_radix(h, 16).ok())
                };
                r.fwmark = match m.split_once('/') {
                    Some((v, mask)) => num(v).map(|v| (v, num(mask))),
                    None => num(&m).map(|v| (v, None)),
                };
            }
            "tos" | "dsfield" => r.tos = arg().parse().unwrap_or(0),
            "goto" => {
                r.action = FR_ACT_GOTO;
                r.goto = arg().parse().ok();
            }
            "blackhole" => r.action = FR_ACT_BLACKHOLE,
            "unreachable" => r.action = FR_ACT_UNREACHABLE,
            "prohibit" => r.action = FR_ACT_PROHIBIT,
            other => {
                warnings.push(format!(
                    "virtual rule {line}: option {other} is not yet supported by keepalived-rs, ignored"
                ));
                let _ = arg();
            }
        }
    }
    if let Some((a, _)) = r.from.or(r.to) {
        r.ipv6 = a.is_ipv6();
    }
    r
}

/// A notify command line with the user it runs as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotifyCommand {
    /// The program and its configured arguments.
    pub argv: Vec<String>,
    /// `USER [GROUP]` (the notify's own, else `global_defs script_user`).
    pub user: Option<ScriptUser>,
}

/// What the shell needs to run one instance, besides the core's parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct InstanceShell {
    /// Instance name.
    pub name: String,
    /// Interface name.
    pub ifname: String,
    /// Interface index.
    pub ifindex: u32,
    /// Interface MAC (source of GARP/NA frames).
    pub mac: Option<[u8; 6]>,
    /// Family.
    pub family: Family,
    /// The socket the instance sends and receives on.
    pub socket: SocketKey,
    /// Source address of adverts (IPv4: written in the header; IPv6: informational).
    pub src: IpAddr,
    /// Advert destinations: the multicast group, or every unicast peer.
    pub destinations: Vec<IpAddr>,
    /// TTL / hop limit of sent adverts.
    pub ttl: u8,
    /// VRRPv3-over-IPv4 checksum mode.
    pub v4_checksum: V4Checksum,
    /// What received adverts are checked against.
    pub rx: RxParams,
    /// `virtual_ipaddress`, in configuration order.
    pub vips: Vec<VipSpec>,
    /// `virtual_ipaddress_excluded`.
    pub excluded: Vec<VipSpec>,
    /// Notify scripts by slot.
    pub notify: BTreeMap<NotifyKey, NotifyCommand>,
    /// `track_interface` names with their indexes (unknown interfaces are warned about).
    pub track_interfaces: Vec<(String, u32)>,
    /// `virtual_routes`.
    pub routes: Vec<VRoute>,
    /// `virtual_rules` (plain rtnetlink data).
    pub rules: Vec<RuleSpec>,
    /// `use_vmac`: the macvlan the instance sends from and puts its VIPs on (the shell
    /// creates it before planning; `ifindex`/`mac` above are then the VMAC's).
    pub vmac: Option<VmacPlan>,
}

/// A VMAC (`use_vmac`) of an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VmacPlan {
    /// Its name (`vrrp.<VRID>` by default).
    pub name: String,
    /// Its MAC (`00:00:5e:00:01:<VRID>` by default).
    pub mac: [u8; 6],
    /// The parent interface's index.
    pub parent: u32,
    /// The parent interface's name.
    pub parent_name: String,
}

/// The VMAC an instance asks for: (name, MAC), or `None` without `use_vmac` or for IPv6
/// (not supported yet).
pub fn vmac_wanted(v: &VrrpInstance) -> Option<(String, [u8; 6])> {
    let vmac = v.use_vmac.as_ref()?;
    let vrid = v.virtual_router_id?;
    if v.is_ipv6() {
        return None;
    }
    let name = vmac.name.clone().unwrap_or_else(|| format!("vrrp.{vrid}"));
    let mac = vmac
        .mac
        .as_deref()
        .and_then(parse_mac)
        .unwrap_or([0x00, 0x00, 0x5e, 0x00, 0x01, vrid]);
    Some((name, mac))
}

fn parse_mac(text: &str) -> Option<[u8; 6]> {
    let mut mac = [0u8; 6];
    let mut parts = text.split(':');
    for b in &mut mac {
        *b = u8::from_str_radix(parts.next()?, 16).ok()?;
    }
    parts.next().is_none().then_some(mac)
}

/// A notify slot, orderable for a map (mirrors [`NotifyScript`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NotifyKey {
    /// `notify_master`.
    Master,
    /// `notify_backup`.
    Backup,
    /// `notify_fault`.
    Fault,
    /// `notify_stop`.
    Stop,
    /// `notify_master_rx_lower_pri`.
    MasterRxLowerPri,
    /// `notify`.
    Generic,
}

impl From<NotifyScript> for NotifyKey {
    fn from(s: NotifyScript) -> Self {
        match s {
            NotifyScript::Master => NotifyKey::Master,
            NotifyScript::Backup => NotifyKey::Backup,
            NotifyScript::Fault => NotifyKey::Fault,
            NotifyScript::Stop => NotifyKey::Stop,
            NotifyScript::MasterRxLowerPri => NotifyKey::MasterRxLowerPri,
            NotifyScript::Generic => NotifyKey::Generic,
        }
    }
}

/// A `track_file` the shell polls.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrackedFile {
    /// The `track_file` block name (the tracker name the core knows).
    pub name: String,
    /// The file's path.
    pub path: String,
}

/// Everything derived from a configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    /// The core's instance parameters (same order as [`Plan::shells`]).
    pub instances: Vec<InstanceParams>,
    /// The sync groups.
    pub groups: Vec<SyncGroupParams>,
    /// The shell's view of each instance.
    pub shells: Vec<InstanceShell>,
    /// Group notify scripts, by group name.
    pub group_notify: BTreeMap<String, BTreeMap<NotifyKey, NotifyCommand>>,
    /// Tracked files to poll.
    pub files: Vec<TrackedFile>,
    /// `vrrp_notify_fifo` (else `notify_fifo`) path.
    pub fifo: Option<String>,
    /// Things configured that keepalived-rs does not do (yet), one line each.
    pub warnings: Vec<String>,
}

/// Mapping options.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct PlanOptions {
    /// `vrrp_script` results arrive over IPC (a checker child runs them). When false, each
    /// script is assumed to succeed and a warning says so.
    pub scripts_supported: bool,
}

fn scope_number(name: &str) -> Option<u8> {
    match name {
        "global" | "universe" => Some(0),
        "site" => Some(200),
        "link" => Some(253),
        "host" => Some(254),
        "nowhere" => Some(255),
        n => n.parse().ok(),
    }
}

fn v4_broadcast(addr: Ipv4Addr, prefix: u8, brd: Broadcast) -> Option<Ipv4Addr> {
    let mask = if prefix == 0 {
        0
    } else {
        u32::MAX.checked_shl(32 - u32::from(prefix.min(32)))?
    };
    let a = u32::from(addr);
    match brd {
        Broadcast::Plus => Some(Ipv4Addr::from((a & mask) | !mask)),
        Broadcast::Minus => Some(Ipv4Addr::from(a & mask)),
        Broadcast::Addr(IpAddr::V4(b)) => Some(b),
        Broadcast::Addr(IpAddr::V6(_)) => None,
    }
}

struct Mapper<'a> {
    config: &'a Config,
    lookup: &'a dyn InterfaceLookup,
    opts: PlanOptions,
    warnings: Vec<String>,
    /// The first `vrrp_script` and `track_file` of each name: instances look theirs up by
    /// name, and a configuration may have thousands of both.
    scripts: HashMap<&'a str, &'a keepalived_config::model::VrrpScript>,
    track_files: HashMap<&'a str, &'a keepalived_config::model::TrackFile>,
}

/// The first item of each name, in configuration order.
fn first_by_name<'a, T>(
    items: &'a [T],
    name: impl Fn(&'a T) -> &'a str,
) -> HashMap<&'a str, &'a T> {
    let mut map = HashMap::with_capacity(items.len());
    for item in items {
        map.entry(name(item)).or_insert(item);
    }
    map
}

impl Mapper<'_> {
    fn warn(&mut self, text: String) {
        self.warnings.push(text);
    }

    fn vip_spec(&mut self, inst: &str, ifindex: u32, v: &VirtualAddress) -> VipSpec {
        let ifindex = match &v.dev {
            Some(dev) => match self.lookup.interface(dev) {
                Some(i) => i.index,
                None => {
                    self.warn(format!(
                        "({inst}) virtual address {}: interface {dev} does not exist, using the instance's interface",
                        v.addr
                    ));
                    ifindex
                }
            },
            None => ifindex,
        };
        let scope = match &v.scope {
            Some(s) => scope_number(s).unwrap_or_else(|| {
                self.warn(format!("({inst}) unknown scope {s} for {}", v.addr));
                0
            }),
            None => 0,
        };
        let broadcast = match (v.addr, v.broadcast) {
            (IpAddr::V4(a), Some(b)) => v4_broadcast(a, v.prefix, b),
            _ => None,
        };
        let unsupported = [
            (v.peer.is_some(), "peer"),
            (v.home, "home"),
            (v.mngtmpaddr, "mngtmpaddr"),
            (v.noprefixroute, "noprefixroute"),
            (v.autojoin, "autojoin"),
            (v.preferred_lft.is_some(), "preferred_lft"),
            (v.use_vmac, "use_vmac"),
        ];
        for (set, what) in unsupported {
            if set {
                self.warn(format!(
                    "({inst}) virtual address {}: option {what} is not yet supported by keepalived-rs, ignored",
                    v.addr
                ));
            }
        }
        VipSpec {
            ifindex,
            addr: v.addr,
            prefix_len: v.prefix,
            broadcast,
            scope,
            label: v.label.clone(),
            nodad: v.nodad,
            no_track: v.no_track,
        }
    }

    fn notify_map(
        &mut self,
        owner: &str,
        n: &keepalived_config::model::vrrp::Notify,
    ) -> (NotifyParams, BTreeMap<NotifyKey, NotifyCommand>) {
        let default_user = self.config.global.script_user.clone();
        let mut map = BTreeMap::new();
        let mut add = |key: NotifyKey, s: &Option<Box<Script>>| {
            if let Some(s) = s {
                if !s.argv.is_empty() {
                    map.insert(
                        key,
                        NotifyCommand {
                            argv: s.argv.clone(),
                            user: s.user.clone().or_else(|| default_user.clone()),
                        },
                    );
                }
            }
        };
        add(NotifyKey::Master, &n.master);
        add(NotifyKey::Backup, &n.backup);
        add(NotifyKey::Fault, &n.fault);
        add(NotifyKey::Stop, &n.stop);
        add(NotifyKey::MasterRxLowerPri, &n.master_rx_lower_pri);
        add(NotifyKey::Generic, &n.generic);
        if n.deleted.is_some() || n.notify_deleted {
            self.warn(format!(
                "({owner}) notify_deleted is not yet supported by keepalived-rs, ignored"
            ));
        }
        let g = &self.config.global;
        let fifo = g.vrrp_notify_fifo.path.is_some() || g.notify_fifo.path.is_some();
        let params = NotifyParams {
            master: map.contains_key(&NotifyKey::Master),
            backup: map.contains_key(&NotifyKey::Backup),
            fault: map.contains_key(&NotifyKey::Fault),
            stop: map.contains_key(&NotifyKey::Stop),
            generic: map.contains_key(&NotifyKey::Generic),
            master_rx_lower_pri: map.contains_key(&NotifyKey::MasterRxLowerPri),
            fifo,
            priority_changes: false,
        };
        (params, map)
    }

    fn trackers(
        &mut self,
        inst: &str,
        refs: &keepalived_config::model::vrrp::Trackers,
        track_ifs: &mut Vec<(String, u32)>,
    ) -> Vec<Tracker> {
        let mut out = Vec::new();
        for r in &refs.interfaces {
            match self.lookup.interface(&r.name) {
                Some(info) => {
                    track_ifs.push((r.name.clone(), info.index));
                    out.push(Tracker {
                        kind: TrackerKind::Interface,
                        name: r.name.clone(),
                        weight: r.weight.unwrap_or(0),
                        reverse: r.reverse,
                        initial: TrackerValue::Up(info.up),
                    });
                }
                None => self.warn(format!(
                    "({inst}) track_interface {}: no such interface, ignored",
                    r.name
                )),
            }
        }
        for r in &refs.scripts {
            let Some(script) = self.scripts.get(r.name.as_str()).copied() else {
                self.warn(format!(
                    "({inst}) track_script {}: no such vrrp_script, ignored",
                    r.name
                ));
                continue;
            };
            let initial = if self.opts.scripts_supported {
                TrackerValue::Up(!script.init_fail)
            } else {
                TrackerValue::Up(true)
            };
            out.push(Tracker {
                kind: TrackerKind::Script,
                name: r.name.clone(),
                weight: r.weight.unwrap_or(script.weight),
                reverse: tracker_reverse(r, script.weight_reverse),
                initial,
            });
        }
        for r in &refs.files {
            let Some(file) = self.track_files.get(r.name.as_str()).copied() else {
                self.warn(format!(
                    "({inst}) track_file {}: no such track_file, ignored",
                    r.name
                ));
                continue;
            };
            let init = file.init_file.map_or(0, |(v, _)| v);
            out.push(Tracker {
                kind: TrackerKind::File,
                name: r.name.clone(),
                weight: r.weight.unwrap_or(file.weight),
                reverse: tracker_reverse(r, file.reverse),
                initial: TrackerValue::File(init),
            });
        }
        for r in &refs.processes {
            self.warn(format!(
                "({inst}) track_process {}: not yet supported by keepalived-rs, ignored",
                r.name
            ));
        }
        for r in &refs.bfds {
            self.warn(format!(
                "({inst}) track_bfd {}: not yet supported by keepalived-rs, ignored",
                r.name
            ));
        }
        out
    }

    fn instance(
        &mut self,
        v: &VrrpInstance,
        group_track: Option<&keepalived_config::model::vrrp::Trackers>,
    ) -> Option<(InstanceParams, InstanceShell)> {
        let g = &self.config.global;
        let name = v.name.clone();
        let Some(ifname) = v.interface.clone().or_else(|| g.default_interface.clone()) else {
            self.warn(format!(
                "({name}) no interface configured, instance skipped"
            ));
            return None;
        };
        let Some(info) = self.lookup.interface(&ifname) else {
            self.warn(format!(
                "({name}) interface {ifname} does not exist, instance skipped"
            ));
            return None;
        };
        let Some(vrid) = v.virtual_router_id else {
            self.warn(format!("({name}) no virtual_router_id, instance skipped"));
            return None;
        };
        // With a VMAC, adverts and VIPs go on the macvlan; the source address stays the
        // parent's primary one.
        let mut vmac = None;
        let mut send_info = info.clone();
        if v.use_vmac.is_some() {
            match vmac_wanted(v) {
                Some((vname, mac)) => match self.lookup.interface(&vname) {
                    Some(vi) => {
                        vmac = Some(VmacPlan {
                            name: vname,
                            mac,
                            parent: info.index,
                            parent_name: ifname.clone(),
                        });
                        send_info.index = vi.index;
                        send_info.mac = Some(mac);
                        send_info.up = vi.up;
                    }
                    None => self.warn(format!(
                        "({name}) VMAC {vname} could not be created, using {ifname}"
                    )),
                },
                None => self.warn(format!(
                    "({name}) use_vmac for IPv6 is not yet supported by keepalived-rs, ignored"
                )),
            }
        }
        let strict = v.strict_mode.unwrap_or(g.vrrp_strict);
        let family = if v.is_ipv6() { Family::V6 } else { Family::V4 };
        let version = match v.version.unwrap_or(g.vrrp_version) {
            2 if family == Family::V4 => Version::V2,
            _ => Version::V3,
        };
        let src: IpAddr = match (family, v.src_ip) {
            (_, Some(ip)) => ip,
            (Family::V4, None) => match info.primary_v4 {
                Some(a) => IpAddr::V4(a),
                None => {
                    self.warn(format!(
                        "({name}) interface {ifname} has no IPv4 address: adverts go out from 0.0.0.0"
                    ));
                    IpAddr::V4(Ipv4Addr::UNSPECIFIED)
                }
            },
            (Family::V6, None) => match info.link_local_v6 {
                Some(a) => IpAddr::V6(a),
                None => {
                    self.warn(format!(
                        "({name}) interface {ifname} has no IPv6 link-local address yet"
                    ));
                    IpAddr::V6(Ipv6Addr::UNSPECIFIED)
                }
            },
        };
        let unicast = !v.unicast_peers.is_empty();
        let group: IpAddr = match (family, v.mcast_dst_ip) {
            (_, Some(ip)) => ip,
            (Family::V4, None) => IpAddr::V4(g.vrrp_mcast_group4),
            (Family::V6, None) => IpAddr::V6(g.vrrp_mcast_group6),
        };
        let destinations: Vec<IpAddr> = if unicast {
            v.unicast_peers.iter().map(|p| p.addr).collect()
        } else {
            vec![group]
        };
        let socket = SocketKey {
            ifindex: send_info.index,
            family,
            unicast_src: if unicast { v.src_ip } else { None },
            group: if unicast { None } else { Some(group) },
        };
        let auth = match &v.authentication {
            Some(a) if version == Version::V2 => match (a.auth_type, &a.auth_pass) {
                (Some(AuthType::Ah), _) => {
                    self.warn(format!(
                        "({name}) auth_type AH is not supported by keepalived-rs, adverts are sent without authentication"
                    ));
                    Auth::None
                }
                (_, Some(pw)) => Auth::pass(pw),
                (_, None) => Auth::None,
            },
            _ => Auth::None,
        };
        let vips: Vec<VipSpec> = v
            .virtual_ipaddress
            .iter()
            .map(|a| self.vip_spec(&name, send_info.index, a))
            .collect();
        let excluded: Vec<VipSpec> = v
            .virtual_ipaddress_excluded
            .iter()
            .map(|a| self.vip_spec(&name, send_info.index, a))
            .collect();
        let mut track_interfaces = Vec::new();
        let mut trackers = self.trackers(&name, &v.track, &mut track_interfaces);
        if let Some(gt) = group_track {
            trackers.extend(self.trackers(&name, gt, &mut track_interfaces));
        }
        let (mut notify, notify_map) = self.notify_map(&name, &v.notify);
        notify.priority_changes = v
            .notify_priority_changes
            .unwrap_or(g.vrrp_notify_priority_changes);
        let master_delay = v.garp.master_delay.unwrap_or(g.vrrp_garp_master_delay);
        let master_repeat = v.garp.master_repeat.unwrap_or(g.vrrp_garp_master_repeat);
        let garp = GarpParams {
            master_delay,
            master_repeat,
            master_refresh: v.garp.master_refresh.unwrap_or(g.vrrp_garp_master_refresh),
            refresh_repeat: v
                .garp
                .master_refresh_repeat
                .unwrap_or(g.vrrp_garp_master_refresh_repeat),
            lower_prio_repeat: v
                .garp
                .lower_prio_repeat
                .or(g.vrrp_garp_lower_prio_repeat)
                .unwrap_or(if strict { 0 } else { master_repeat }),
            lower_prio_delay: v
                .garp
                .lower_prio_delay
                .or(g.vrrp_garp_lower_prio_delay)
                .unwrap_or(if strict { Duration::ZERO } else { master_delay }),
        };
        let priority = v.effective_priority();
        let params = InstanceParams {
            name: name.clone(),
            vrid,
            interface: ifname.clone(),
            version,
            priority,
            advert_interval: v.advert_int,
            vips: vips.iter().map(|s| s.addr).collect(),
            excluded_vips: excluded.iter().map(|s| s.addr).collect(),
            has_routes_or_rules: !v.virtual_routes.is_empty() || !v.virtual_rules.is_empty(),
            initial_state: match v.effective_state() {
                keepalived_config::model::vrrp::InitialState::Master => InitialState::Master,
                keepalived_config::model::vrrp::InitialState::Backup => InitialState::Backup,
            },
            nopreempt: v.nopreempt,
            preempt_delay: if strict {
                Duration::ZERO
            } else {
                v.preempt_delay
            },
            accept: v.accept.unwrap_or(priority == 255 || !strict),
            unicast,
            garp,
            lower_prio_no_advert: v
                .lower_prio_no_advert
                .unwrap_or(strict || g.vrrp_lower_prio_no_advert),
            higher_prio_send_advert: v
                .higher_prio_send_advert
                .unwrap_or(!strict && g.vrrp_higher_prio_send_advert),
            owner_ignore_adverts: strict,
            down_timer_adverts: if strict {
                3
            } else {
                v.down_timer_adverts.unwrap_or(g.vrrp_down_timer_adverts)
            },
            trackers,
            notify,
            primary_addr: src,
            auth: auth.clone(),
        };
        let mut rx = RxParams::new(version, vrid, v.advert_int, params.vips.clone());
        rx.auth = auth;
        rx.unicast_peers = v
            .unicast_peers
            .iter()
            .map(|p| UnicastPeer {
                addr: p.addr,
                min_ttl: p.min_ttl.unwrap_or(0),
                max_ttl: p.max_ttl.unwrap_or(255),
            })
            .collect();
        rx.check_unicast_src = v.check_unicast_src || g.vrrp_check_unicast_src;
        rx.skip_check_adv_addr = v.skip_check_adv_addr.unwrap_or(g.vrrp_skip_check_adv_addr);
        rx.unicast_checksum_compat = match v.old_unicast_checksum {
            Some(CfgCompat::Old) => UnicastChecksumCompat::Old,
            Some(CfgCompat::Never) => UnicastChecksumCompat::Never,
            None => UnicastChecksumCompat::Auto,
        };
        rx.mcast_group4 = g.vrrp_mcast_group4;
        let v4_checksum = match rx.unicast_checksum_compat {
            UnicastChecksumCompat::Old if unicast => V4Checksum::OldUnicast {
                group: g.vrrp_mcast_group4,
            },
            _ => V4Checksum::Standard,
        };
        self.unsupported_instance_features(v);
        let mut route_warnings = Vec::new();
        let routes = v
            .virtual_routes
            .iter()
            .filter_map(|r| parse_route(&r.words, info.index, self.lookup, &mut route_warnings))
            .collect();
        let rules = v
            .virtual_rules
            .iter()
            .map(|r| parse_rule(&r.words, family == Family::V6, &mut route_warnings))
            .collect();
        for w in route_warnings {
            self.warn(format!("({name}) {w}"));
        }
        let shell = InstanceShell {
            name,
            ifname: vmac.as_ref().map_or(ifname, |m| m.name.clone()),
            ifindex: send_info.index,
            mac: send_info.mac,
            family,
            socket,
            src,
            destinations,
            ttl: if unicast {
                v.unicast_ttl.unwrap_or(255)
            } else {
                255
            },
            v4_checksum,
            rx,
            vips,
            excluded,
            notify: notify_map,
            track_interfaces,
            routes,
            rules,
            vmac,
        };
        Some((params, shell))
    }

    fn unsupported_instance_features(&mut self, v: &VrrpInstance) {
        let name = &v.name;
        let checks = [
            (v.use_vmac_addr, "use_vmac_addr"),
            (v.use_ipvlan.is_some(), "use_ipvlan"),
            (v.vrf.is_some(), "vrf"),
            (v.accept == Some(false), "no_accept (firewall rules)"),
            (v.unicast_fault_no_peer, "unicast_fault_no_peer"),
            (v.track_src_ip, "track_src_ip"),
            (v.promote_secondaries, "promote_secondaries"),
            (v.kernel_rx_buf_size.is_some(), "kernel_rx_buf_size"),
            (v.garp.extra_if.is_some(), "garp_extra_if"),
        ];
        for (set, what) in checks {
            if set {
                self.warn(format!(
                    "({name}) {what} is not yet supported by keepalived-rs, ignored"
                ));
            }
        }
        for kw in &v.not_implemented {
            self.warn(format!(
                "({name}) {kw} is not yet supported by keepalived-rs, ignored"
            ));
        }
    }
}

/// `reverse` on the reference, else the tracked object's own.
fn tracker_reverse(r: &TrackRef, own: bool) -> bool {
    r.reverse || own
}

/// Maps `config` onto the core's parameters and the shell's per-instance data.
pub fn plan(config: &Config, lookup: &dyn InterfaceLookup, opts: PlanOptions) -> Plan {
    let mut m = Mapper {
        config,
        lookup,
        opts,
        warnings: Vec::new(),
        scripts: first_by_name(&config.vrrp_scripts, |s| &s.name),
        track_files: first_by_name(&config.track_files, |f| &f.name),
    };
    // The first sync group naming each instance (by map: one group per pair of instances
    // is common, and a scan per instance would be quadratic).
    let mut group_of: HashMap<&str, &SyncGroup> = HashMap::new();
    for g in &config.sync_groups {
        for n in &g.group {
            group_of.entry(n.as_str()).or_insert(g);
        }
    }
    let mut instances = Vec::new();
    let mut shells = Vec::new();
    for v in &config.vrrp_instances {
        let group_track = group_of.get(v.name.as_str()).map(|g| &g.track);
        if let Some((p, s)) = m.instance(v, group_track) {
            instances.push(p);
            shells.push(s);
        }
    }
    let planned: HashSet<&str> = instances.iter().map(|i| i.name.as_str()).collect();
    let mut groups = Vec::new();
    let mut group_notify = BTreeMap::new();
    for g in &config.sync_groups {
        let members: Vec<String> = g
            .group
            .iter()
            .filter(|n| planned.contains(n.as_str()))
            .cloned()
            .collect();
        if members.is_empty() {
            m.warn(format!("sync group {}: no usable member, ignored", g.name));
            continue;
        }
        let (notify, map) = m.notify_map(&g.name, &g.notify);
        groups.push(SyncGroupParams {
            name: g.name.clone(),
            members,
            notify,
        });
        group_notify.insert(g.name.clone(), map);
    }
    if !opts.scripts_supported {
        for s in &config.vrrp_scripts {
            let used = config
                .vrrp_instances
                .iter()
                .any(|i| i.track.scripts.iter().any(|r| r.name == s.name))
                || config
                    .sync_groups
                    .iter()
                    .any(|g| g.track.scripts.iter().any(|r| r.name == s.name));
            if used {
                m.warn(format!(
                    "vrrp_script {}: not yet supported by keepalived-rs, treated as succeeding",
                    s.name
                ));
            }
        }
    }
    let files = config
        .track_files
        .iter()
        .filter_map(|f| {
            f.file.as_ref().map(|p| TrackedFile {
                name: f.name.clone(),
                path: p.clone(),
            })
        })
        .collect();
    let g = &config.global;
    let fifo = g
        .vrrp_notify_fifo
        .path
        .clone()
        .or_else(|| g.notify_fifo.path.clone());
    if g.vrrp_notify_fifo.script.is_some() || g.notify_fifo.script.is_some() {
        m.warn("notify_fifo_script is not yet supported by keepalived-rs, ignored".to_string());
    }
    if !config.statics.addresses.is_empty()
        || !config.statics.routes.is_empty()
        || !config.statics.rules.is_empty()
    {
        m.warn(
            "static_ipaddress/static_routes/static_rules are not yet supported by keepalived-rs, ignored"
                .to_string(),
        );
    }
    if g.vrrp_startup_delay.is_some() {
        m.warn("vrrp_startup_delay is not yet supported by keepalived-rs, ignored".to_string());
    }
    if !g.vrrp_garp_interval.is_zero() || !g.vrrp_gna_interval.is_zero() {
        m.warn(
            "vrrp_garp_interval/vrrp_gna_interval are not yet supported by keepalived-rs: GARPs are sent back to back"
                .to_string(),
        );
    }
    Plan {
        instances,
        groups,
        shells,
        group_notify,
        files,
        fifo,
        warnings: m.warnings,
    }
}

/// Reads a tracked file's value as keepalived does: the leading integer, 0 when the file is
/// missing, empty or not a number.
pub fn parse_track_file(text: &str) -> i64 {
    let t = text.trim_start();
    let end = t
        .char_indices()
        .find(|&(i, c)| !(c.is_ascii_digit() || (i == 0 && (c == '-' || c == '+'))))
        .map_or(t.len(), |(i, _)| i);
    t.get(..end).and_then(|n| n.parse().ok()).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::{load_str, AssumeAll, LoadOptions};

    fn lookup(name: &str) -> Option<InterfaceInfo> {
        let index = match name {
            "eth0" => 2,
            "eth1" => 3,
            _ => return None,
        };
        Some(InterfaceInfo {
            index,
            primary_v4: Some(Ipv4Addr::new(192, 0, 2, index as u8)),
            link_local_v6: Some("fe80::1".parse().unwrap()),
            mac: Some([2, 0, 0, 0, 0, index as u8]),
            up: true,
        })
    }

    fn plan_of(text: &str) -> Plan {
        let loaded = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
        plan(&loaded.config, &lookup, PlanOptions::default())
    }

    #[test]
    fn basic_instance() {
        let p = plan_of(
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n advert_int 1\n virtual_ipaddress {\n 192.0.2.100/24 brd + dev eth1 label eth1:vip scope link\n 192.0.2.101\n }\n}\n",
        );
        assert_eq!(p.instances.len(), 1);
        let i = &p.instances[0];
        assert_eq!(i.vrid, 51);
        assert_eq!(i.priority, 150);
        assert_eq!(i.version, Version::V2);
        assert_eq!(i.primary_addr, "192.0.2.2".parse::<IpAddr>().unwrap());
        assert_eq!(i.garp.master_repeat, 5);
        assert_eq!(i.garp.lower_prio_repeat, 5);
        let s = &p.shells[0];
        assert_eq!(s.ifindex, 2);
        assert_eq!(
            s.destinations,
            vec!["224.0.0.18".parse::<IpAddr>().unwrap()]
        );
        assert_eq!(s.ttl, 255);
        assert_eq!(s.vips[0].ifindex, 3);
        assert_eq!(s.vips[0].prefix_len, 24);
        assert_eq!(s.vips[0].broadcast, Some(Ipv4Addr::new(192, 0, 2, 255)));
        assert_eq!(s.vips[0].scope, 253);
        assert_eq!(s.vips[0].label.as_deref(), Some("eth1:vip"));
        assert_eq!(s.vips[1].prefix_len, 32);
        assert_eq!(s.socket.group, Some("224.0.0.18".parse().unwrap()));
        assert!(p.warnings.is_empty(), "{:?}", p.warnings);
    }

    #[test]
    fn unicast_v3_and_auth() {
        let p = plan_of(
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 5\n version 3\n unicast_src_ip 192.0.2.9\n unicast_ttl 64\n unicast_peer {\n 192.0.2.10\n 192.0.2.11 min_ttl 60\n }\n virtual_ipaddress {\n 192.0.2.100\n }\n}\nvrrp_instance VI_2 {\n interface eth0\n virtual_router_id 6\n authentication {\n auth_type PASS\n auth_pass secret\n }\n virtual_ipaddress {\n 192.0.2.200\n }\n}\n",
        );
        let s = &p.shells[0];
        assert_eq!(p.instances[0].version, Version::V3);
        assert!(p.instances[0].unicast);
        assert_eq!(s.socket.unicast_src, Some("192.0.2.9".parse().unwrap()));
        assert_eq!(s.destinations.len(), 2);
        assert_eq!(s.ttl, 64);
        assert_eq!(s.rx.unicast_peers[1].min_ttl, 60);
        assert_eq!(
            p.instances[0].primary_addr,
            "192.0.2.9".parse::<IpAddr>().unwrap()
        );
        assert_eq!(p.instances[1].auth, Auth::pass("secret"));
        assert_eq!(p.shells[1].rx.auth, Auth::pass("secret"));
    }

    #[test]
    fn ipv6_instance() {
        let p = plan_of(
            "vrrp_instance V6 {\n interface eth0\n virtual_router_id 7\n virtual_ipaddress {\n fd00::100/64\n }\n}\n",
        );
        assert_eq!(p.shells[0].family, Family::V6);
        assert_eq!(p.instances[0].version, Version::V3);
        assert_eq!(p.shells[0].destinations, vec![IpAddr::V6(MCAST_GROUP6)]);
        assert_eq!(
            p.instances[0].primary_addr,
            "fe80::1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn trackers_notify_and_warnings() {
        let p = plan_of(
            "global_defs {\n enable_script_security\n}\nvrrp_script chk {\n script \"/bin/true\"\n weight -60\n}\ntrack_file tf {\n file /tmp/x\n weight 10\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n track_interface {\n eth1 weight -20\n nope\n }\n track_script {\n chk\n }\n track_file {\n tf\n }\n notify_master \"/bin/echo master\"\n notify /bin/notify\n use_vmac\n virtual_ipaddress {\n 192.0.2.100\n }\n}\n",
        );
        let i = &p.instances[0];
        assert_eq!(i.trackers.len(), 3);
        assert_eq!(i.trackers[0].kind, TrackerKind::Interface);
        assert_eq!(i.trackers[0].weight, -20);
        assert_eq!(i.trackers[1].weight, -60);
        assert_eq!(i.trackers[1].initial, TrackerValue::Up(true));
        assert_eq!(i.trackers[2].weight, 10);
        assert!(i.notify.master && i.notify.generic && !i.notify.backup);
        let s = &p.shells[0];
        assert_eq!(
            s.notify[&NotifyKey::Master].argv,
            vec!["/bin/echo", "master"]
        );
        assert_eq!(s.track_interfaces, vec![("eth1".to_string(), 3)]);
        assert_eq!(
            p.files,
            vec![TrackedFile {
                name: "tf".into(),
                path: "/tmp/x".into()
            }]
        );
        let w = p.warnings.join("\n");
        assert!(w.contains("track_interface nope"), "{w}");
        assert!(w.contains("VMAC vrrp.51 could not be created"), "{w}");
        assert!(
            w.contains(
                "vrrp_script chk: not yet supported by keepalived-rs, treated as succeeding"
            ),
            "{w}"
        );
    }

    #[test]
    fn strict_mode_defaults() {
        let p = plan_of(
            "global_defs {\n vrrp_strict\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 100\n virtual_ipaddress {\n 192.0.2.100\n }\n}\n",
        );
        let i = &p.instances[0];
        assert_eq!(i.garp.lower_prio_repeat, 0);
        assert!(i.lower_prio_no_advert);
        assert!(i.owner_ignore_adverts);
        assert!(!i.accept);
    }

    #[test]
    fn sync_groups_and_missing_interface() {
        let p = plan_of(
            "vrrp_sync_group G {\n group {\n A\n B\n }\n notify /bin/g\n}\nvrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n 192.0.2.1\n }\n}\nvrrp_instance B {\n interface eth9\n virtual_router_id 2\n virtual_ipaddress {\n 192.0.2.2\n }\n}\n",
        );
        assert_eq!(p.instances.len(), 1);
        assert_eq!(p.groups[0].members, vec!["A".to_string()]);
        assert!(p.groups[0].notify.generic);
        assert!(p.warnings.iter().any(|w| w.contains("eth9")));
    }

    /// One sync group per pair of instances, each group tracking an interface and a script
    /// of its own, and as many instances outside groups tracking a script each: every member
    /// and tracker is resolved by name through the maps `plan` and `Router::new` build.
    #[test]
    fn many_sync_groups_and_scripts_resolve_by_name() {
        let mut text = String::from("global_defs {\n enable_script_security\n}\n");
        let n = 600;
        for i in 0..2 * n {
            text.push_str(&format!(
                "vrrp_script s{i} {{\n script /bin/true\n weight {}\n}}\n",
                i % 50 + 1
            ));
        }
        for g in 0..n / 2 {
            text.push_str(&format!(
                "vrrp_sync_group G{g} {{\n group {{\n I{}\n I{}\n }}\n track_interface {{\n eth1 weight -{}\n }}\n track_script {{\n s{g}\n }}\n}}\n",
                2 * g,
                2 * g + 1,
                g % 100 + 1
            ));
        }
        for i in 0..2 * n {
            let own = if i < n {
                String::new()
            } else {
                format!(" track_script {{\n s{i}\n }}\n")
            };
            text.push_str(&format!(
                "vrrp_instance I{i} {{\n interface eth0\n virtual_router_id {}\n{own} virtual_ipaddress {{\n 192.0.2.{}\n }}\n}}\n",
                i % 250 + 1,
                i % 250 + 1
            ));
        }
        let p = plan_of(&text);
        assert_eq!((p.instances.len(), p.groups.len()), (2 * n, n / 2));
        for (g, group) in p.groups.iter().enumerate() {
            assert_eq!(
                group.members,
                [format!("I{}", 2 * g), format!("I{}", 2 * g + 1)]
            );
        }
        for (i, inst) in p.instances.iter().enumerate() {
            let names: Vec<&str> = inst.trackers.iter().map(|t| t.name.as_str()).collect();
            let script = if i < n {
                format!("s{}", i / 2)
            } else {
                format!("s{i}")
            };
            assert!(names.contains(&script.as_str()), "I{i}: {names:?}");
            assert_eq!(names.contains(&"eth1"), i < n, "I{i}: {names:?}");
        }
        let router = keepalived_vrrp::sync_group::Router::new(p.instances, p.groups);
        assert!(router.is_ok());
    }

    #[test]
    fn virtual_routes() {
        let p = plan_of(
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n 192.0.2.100\n }\n virtual_routes {\n 198.51.100.0/24 via 192.0.2.254\n src 192.0.2.100 to 203.0.113.0/24 dev eth1 metric 5 table 100\n blackhole 10.0.0.0/8\n default via 192.0.2.254 onlink\n }\n}\n",
        );
        let r = &p.shells[0].routes;
        assert_eq!(r.len(), 4, "{:?}", p.warnings);
        assert_eq!(
            (r[0].dst, r[0].prefix_len),
            ("198.51.100.0".parse().unwrap(), 24)
        );
        assert_eq!(r[0].gateway, Some("192.0.2.254".parse().unwrap()));
        assert_eq!(r[0].dev, None);
        assert_eq!(r[1].src, Some("192.0.2.100".parse().unwrap()));
        assert_eq!((r[1].dev, r[1].metric, r[1].table), (Some(3), Some(5), 100));
        assert_eq!(r[2].route_type, rtn::BLACKHOLE);
        assert_eq!(r[3].prefix_len, 0);
        assert!(p.instances[0].has_routes_or_rules);
        assert!(
            p.warnings.iter().any(|w| w.contains("option onlink")),
            "{:?}",
            p.warnings
        );
    }

    #[test]
    fn vmac_moves_sending_and_vips_to_the_macvlan() {
        let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n use_vmac\n virtual_ipaddress {\n 192.0.2.100\n }\n}\n";
        let loaded = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
        let lookup = |name: &str| match name {
            "vrrp.51" => Some(InterfaceInfo {
                index: 9,
                up: true,
                ..InterfaceInfo::default()
            }),
            other => lookup(other),
        };
        let p = plan(&loaded.config, &lookup, PlanOptions::default());
        let s = &p.shells[0];
        assert_eq!(s.ifindex, 9);
        assert_eq!(s.socket.ifindex, 9);
        assert_eq!(s.vips[0].ifindex, 9);
        assert_eq!(s.mac, Some([0, 0, 0x5e, 0, 1, 51]));
        assert_eq!(s.src, "192.0.2.2".parse::<IpAddr>().unwrap());
        let vm = s.vmac.as_ref().unwrap();
        assert_eq!((vm.name.as_str(), vm.parent), ("vrrp.51", 2));
        assert_eq!(parse_mac("00:00:5E:00:01:07"), Some([0, 0, 0x5e, 0, 1, 7]));
        assert_eq!(parse_mac("00:00:5e:00:01"), None);
    }

    #[test]
    fn virtual_rules() {
        let mut w = Vec::new();
        let words = |t: &str| t.split(' ').map(String::from).collect::<Vec<_>>();
        let r = parse_rule(
            &words("from 192.0.2.100 table 100 priority 10"),
            false,
            &mut w,
        );
        assert_eq!(r.from, Some(("192.0.2.100".parse().unwrap(), 32)));
        assert_eq!((r.table, r.priority), (100, Some(10)));
        let r = parse_rule(
            &words("to fd00::/64 fwmark 0x10/0xff blackhole"),
            false,
            &mut w,
        );
        assert!(r.ipv6);
        assert_eq!(r.fwmark, Some((16, Some(255))));
        assert_eq!(r.action, keepalived_sys::netlink::FR_ACT_BLACKHOLE);
        assert!(w.is_empty(), "{w:?}");
    }

    #[test]
    fn track_file_values() {
        assert_eq!(parse_track_file("12\n"), 12);
        assert_eq!(parse_track_file(" -3 foo"), -3);
        assert_eq!(parse_track_file(""), 0);
        assert_eq!(parse_track_file("abc"), 0);
    }
}
