//! VRRP-side semantic checks: what keepalived's `vrrp_complete_init()` and the parse-time
//! lookups against the live system report, with the same outcome classes.

use super::Report;
use crate::diag::{ConfigClass, Diagnostic};
use crate::host::Host;
use crate::model::vrrp::{InitialState, TrackRef, OWNER_PRIORITY};
use crate::model::{Config, GlobalDefs, VrrpInstance};
use crate::source::Loc;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::net::IpAddr;
use std::time::Duration;

/// Whether an interface is usable: it exists, or `dynamic_interfaces` lets it appear later.
fn iface_ok(config: &Config, host: &dyn Host, name: &str) -> bool {
    config.global.dynamic_interfaces.is_some() || host.interface_exists(name)
}

/// Whether a named object is defined before `at` (keepalived resolves references while
/// parsing, so a later definition is "not found").
fn defined_before(def: Option<Loc>, at: Option<Loc>) -> bool {
    match (def, at) {
        // Lines expanded from one multi-line definition share a line: count that as before.
        (Some(d), Some(a)) => (d.file, d.line) <= (a.file, a.line),
        _ => true,
    }
}

/// Checks interfaces named outside instances: garp groups, link-beat, debounce delays, the
/// SMTP server. Returns whether a garp group names a missing interface.
pub fn check_globals(config: &mut Config, host: &dyn Host, r: &mut Report) -> bool {
    let mut missing = false;
    if let Some(s) = &config.global.smtp_server {
        let ip_like = !s.host.contains(['-', '/']) && s.host.parse::<IpAddr>().is_ok();
        if !ip_like && !host.resolves(&s.host) {
            r.push(
                Diagnostic::warning(s.loc, format!("Invalid smtp server {} {}", s.host, s.port))
                    .with_hint("the name does not resolve; use an IP address"),
            );
        }
    }
    if let (Some(su), Some(loc)) = (&config.global.script_user, config.global.script_user_loc) {
        let ok =
            host.user_exists(&su.user) && su.group.as_deref().is_none_or(|g| host.group_exists(g));
        if !ok {
            r.push(
                Diagnostic::warning(Some(loc), "Error setting global script uid/gid")
                    .with_hint(format!("user '{}' or its group does not exist", su.user)),
            );
        }
    }
    let mut seen_garp: HashSet<&str> = HashSet::default();
    for g in &config.garp_groups {
        for i in &g.interfaces {
            if !iface_ok(config, host, i) {
                missing = true;
                r.warn(
                    g.loc,
                    format!("WARNING - interface {i} specified for garp_group doesn't exist"),
                );
            } else if !seen_garp.insert(i.as_str()) {
                r.warn(
                    g.loc,
                    format!("garp_group already specified for {i} - ignoring"),
                );
            }
        }
    }
    for l in &config.linkbeat_interfaces {
        if !iface_ok(config, host, &l.interface) {
            r.push(
                Diagnostic::error(
                    l.loc,
                    format!(
                        "unknown interface {} specified for linkbeat interface",
                        l.interface
                    ),
                )
                .with_class(ConfigClass::Fatal),
            );
        }
    }
    for d in &config.interface_up_down_delays {
        if !iface_ok(config, host, &d.interface) {
            r.push(
                Diagnostic::error(
                    d.loc,
                    format!(
                        "unknown interface {} specified for up/down delay",
                        d.interface
                    ),
                )
                .with_class(ConfigClass::Fatal),
            );
        }
    }
    let default_if = config
        .global
        .default_interface
        .clone()
        .unwrap_or_else(|| "eth0".to_string());
    let mut keep = Vec::with_capacity(config.statics.addresses.len());
    for a in std::mem::take(&mut config.statics.addresses) {
        match &a.dev {
            Some(dev) => {
                if !iface_ok(config, host, dev) {
                    missing = true;
                    r.warn(
                        a.loc,
                        format!(
                            "WARNING - interface {dev} for ip address {} doesn't exist",
                            addr_text(a.addr, a.prefix)
                        ),
                    );
                }
            }
            None => {
                if !host.interface_exists(&default_if) {
                    r.push(
                        Diagnostic::error(
                            a.loc,
                            format!(
                                "Static address {} requires either an interface or default interface must exist",
                                addr_text(a.addr, a.prefix)
                            ),
                        )
                        .with_class(ConfigClass::Fatal),
                    );
                    continue;
                }
            }
        }
        keep.push(a);
    }
    config.statics.addresses = keep;
    missing
}

/// Drops references to undefined (or later-defined) trackers, with keepalived's messages.
fn resolve_refs(
    r: &mut Report,
    owner: &str,
    refs: &mut Vec<TrackRef>,
    known: &HashMap<&str, Option<Loc>>,
    what: &str,
) {
    refs.retain(|t| {
        let found = known
            .get(t.name.as_str())
            .is_some_and(|def| defined_before(*def, t.loc));
        if !found {
            r.warn(
                t.loc,
                format!("({owner}) track {what} {} not found, ignoring...", t.name),
            );
        }
        found
    });
}

/// Resolves tracker references of instances and sync groups, and checks tracked interfaces.
/// Returns whether a tracked interface is missing.
pub fn check_trackers(config: &mut Config, host: &dyn Host, r: &mut Report) -> bool {
    let mut missing = false;
    let scripts: HashMap<&str, Option<Loc>> = config
        .vrrp_scripts
        .iter()
        .map(|s| (s.name.as_str(), s.loc))
        .collect();
    let files: HashMap<&str, Option<Loc>> = config
        .track_files
        .iter()
        .map(|s| (s.name.as_str(), s.loc))
        .collect();
    let procs: HashMap<&str, Option<Loc>> = config
        .track_processes
        .iter()
        .map(|s| (s.name.as_str(), s.loc))
        .collect();
    // BFD instances are known to the VRRP side whatever their order in the file.
    let bfds: HashMap<&str, Option<Loc>> = config
        .bfd_instances
        .iter()
        .map(|s| (s.name.as_str(), None))
        .collect();
    let dynamic = config.global.dynamic_interfaces.is_some();
    let mut check_ifs = |owner: &str, refs: &mut Vec<TrackRef>, r: &mut Report| {
        refs.retain(|t| {
            let ok = dynamic || host.interface_exists(&t.name);
            if !ok {
                missing = true;
                r.warn(
                    t.loc,
                    format!("({owner}) tracked interface {} doesn't exist", t.name),
                );
            }
            ok
        });
    };
    for v in &mut config.vrrp_instances {
        let name = v.name.clone();
        check_ifs(&name, &mut v.track.interfaces, r);
        resolve_refs(r, &name, &mut v.track.scripts, &scripts, "script");
        resolve_refs(r, &name, &mut v.track.files, &files, "file");
        resolve_refs(r, &name, &mut v.track.processes, &procs, "process");
        resolve_refs(r, &name, &mut v.track.bfds, &bfds, "bfd");
    }
    for g in &mut config.sync_groups {
        let name = g.name.clone();
        check_ifs(&name, &mut g.track.interfaces, r);
        resolve_refs(r, &name, &mut g.track.scripts, &scripts, "script");
        resolve_refs(r, &name, &mut g.track.files, &files, "file");
        resolve_refs(r, &name, &mut g.track.processes, &procs, "process");
        resolve_refs(r, &name, &mut g.track.bfds, &bfds, "bfd");
    }
    missing
}

/// Interface checks done while parsing an instance (`vrrp_int_handler`, VIP `dev`).
/// Returns whether an interface is missing.
pub fn check_instance_interfaces(config: &mut Config, host: &dyn Host, r: &mut Report) -> bool {
    let dynamic = config.global.dynamic_interfaces.is_some();
    let mut missing_any = false;
    for v in &mut config.vrrp_instances {
        if let Some(i) = v.interface.clone() {
            if i == "lo" {
                r.warn(
                    v.interface_loc,
                    format!(
                        "({}) cannot use a loopback interface ({i}) for vrrp - ignoring",
                        v.name
                    ),
                );
                v.interface = None;
            } else if !dynamic && !host.interface_exists(&i) {
                r.push(
                    Diagnostic::warning(
                        v.interface_loc,
                        format!(
                            "WARNING - interface {i} for vrrp_instance {} doesn't exist",
                            v.name
                        ),
                    )
                    .with_len(i.chars().count())
                    .with_hint(
                        "use an existing interface, or set dynamic_interfaces in global_defs",
                    ),
                );
                v.interface = None;
                missing_any = true;
            }
        }
        if let Some(vrf) = &v.vrf {
            if !dynamic && !host.interface_exists(vrf) {
                missing_any = true;
                r.warn(
                    v.loc,
                    format!("({}) WARNING - VRF interface {vrf} doesn't exist", v.name),
                );
            }
        }
        for a in v
            .virtual_ipaddress
            .iter()
            .chain(v.virtual_ipaddress_excluded.iter())
        {
            if let Some(dev) = &a.dev {
                if !dynamic && !host.interface_exists(dev) {
                    missing_any = true;
                    r.warn(
                        a.loc,
                        format!(
                            "WARNING - interface {dev} for ip address {} doesn't exist",
                            addr_text(a.addr, a.prefix)
                        ),
                    );
                }
            }
        }
    }
    missing_any
}

fn addr_text(ip: IpAddr, prefix: u8) -> String {
    format!("{ip}/{prefix}")
}

/// Interfaces named by route (`dev`, `oif`) and rule (`dev`, `iif`, `oif`) entries.
fn route_interfaces<'a>(words: &'a [String], is_rule: bool) -> impl Iterator<Item = &'a str> + 'a {
    words
        .windows(2)
        .filter_map(move |w| match (w.first(), w.get(1)) {
            (Some(k), Some(v)) if k == "dev" || k == "oif" || (is_rule && k == "iif") => {
                Some(v.as_str())
            }
            _ => None,
        })
}

/// Interfaces of routes and rules (virtual and static) must exist. Returns whether one is
/// missing.
pub fn check_route_interfaces(config: &Config, host: &dyn Host, r: &mut Report) -> bool {
    if config.global.dynamic_interfaces.is_some() {
        return false;
    }
    let mut missing = false;
    let routes = config
        .vrrp_instances
        .iter()
        .flat_map(|v| v.virtual_routes.iter())
        .chain(config.statics.routes.iter())
        .map(|x| (x, false));
    let rules = config
        .vrrp_instances
        .iter()
        .flat_map(|v| v.virtual_rules.iter())
        .chain(config.statics.rules.iter())
        .map(|x| (x, true));
    for (spec, is_rule) in routes.chain(rules) {
        for i in route_interfaces(&spec.words, is_rule) {
            if !host.interface_exists(i) {
                missing = true;
                let what = if is_rule { "rule" } else { "VROUTE nexthop" };
                r.warn(
                    spec.loc,
                    format!("WARNING - interface {i} for {what} doesn't exist"),
                );
            }
        }
    }
    missing
}

/// `chk_min_cfg`, sync groups, `vrrp_complete_instance` and VRID conflicts.
pub fn check_instances(config: &mut Config, r: &mut Report) {
    // chk_min_cfg: keepalived stops validating VRRP at the first failure.
    for v in &config.vrrp_instances {
        if v.virtual_router_id.is_none() {
            r.push(
                Diagnostic::warning(
                    v.loc,
                    format!("({}) the virtual router id must be set", v.name),
                )
                .with_hint(
                    "add 'virtual_router_id N' (1-255), the same on every router of this group",
                ),
            );
            return;
        }
        // keepalived 2.2.7 tests its unicast flag here before setting it, so an instance
        // without a (usable) interface always stops the validation.
        if v.interface.is_none() {
            r.warn(v.loc, format!("({}) Unknown interface!", v.name));
            return;
        }
    }
    check_sync_groups(config, r);
    let weights = DefaultWeights::of(config);
    // Members of a sync group without sync_group_tracking_weight ignore tracker weights.
    let unweighted_members: HashSet<String> = config
        .sync_groups
        .iter()
        .filter(|g| !g.sync_group_tracking_weight)
        .flat_map(|g| g.group.iter().cloned())
        .collect();
    let globals = config.global.clone();
    for v in &mut config.vrrp_instances {
        if !complete_instance(v, &globals, r) {
            return;
        }
        let sync = unweighted_members.contains(&v.name);
        if sync || v.priority == Some(OWNER_PRIORITY) {
            ignore_weights(v, sync, &weights, r);
        }
    }
    check_vrid_conflicts(config, r);
    check_sync_group_tracking(config, &weights, r);
}

/// The weights trackers have when a reference gives none.
struct DefaultWeights {
    scripts: HashMap<String, i32>,
    files: HashMap<String, i32>,
    processes: HashMap<String, i32>,
    bfds: HashMap<String, i32>,
}

impl DefaultWeights {
    fn of(config: &Config) -> Self {
        Self {
            scripts: config
                .vrrp_scripts
                .iter()
                .map(|s| (s.name.clone(), s.weight))
                .collect(),
            files: config
                .track_files
                .iter()
                .map(|s| (s.name.clone(), s.weight))
                .collect(),
            processes: config
                .track_processes
                .iter()
                .map(|s| (s.name.clone(), s.weight))
                .collect(),
            bfds: config
                .bfd_instances
                .iter()
                .map(|s| (s.name.clone(), s.weight.unwrap_or(0)))
                .collect(),
        }
    }
}

fn weight_of(t: &TrackRef, defaults: &HashMap<String, i32>) -> i32 {
    t.weight
        .unwrap_or_else(|| defaults.get(&t.name).copied().unwrap_or(0))
}

/// keepalived: a sync-group member (without `sync_group_tracking_weight`) or an address
/// owner cannot have weighted trackers.
fn ignore_weights(v: &mut VrrpInstance, sync: bool, w: &DefaultWeights, r: &mut Report) {
    let name = v.name.clone();
    let why = if sync { "SYNC group" } else { "address owner" };
    let why_ = if sync { "SYNC group" } else { "address_owner" };
    for t in &mut v.track.interfaces {
        if t.weight.is_some_and(|x| x != 0) {
            r.warn(
                t.loc,
                format!(
                    "({name}) ignoring {} tracked interface {}due to {why}",
                    t.name,
                    if sync { "weight " } else { "" }
                ),
            );
            t.weight = Some(0);
        }
    }
    if !sync {
        v.track
            .interfaces
            .retain(|t| t.weight.is_none_or(|x| x == 0));
    }
    v.track.scripts.retain(|t| {
        let weighted = weight_of(t, &w.scripts) != 0;
        if weighted {
            r.warn(
                t.loc,
                format!(
                    "({name}) ignoring tracked script {} with weights due to {why_}",
                    t.name
                ),
            );
        }
        !weighted
    });
    v.track.files.retain_mut(|t| {
        let weight = weight_of(t, &w.files);
        if weight == 1 {
            r.warn(
                t.loc,
                format!(
                    "({name}) ignoring weight from tracked file {} due to {why_}. specify weight 0",
                    t.name
                ),
            );
            t.weight = Some(0);
            true
        } else if weight != 0 {
            r.warn(
                t.loc,
                format!(
                    "({name}) ignoring tracked file {} with weight {weight} due to {why_}",
                    t.name
                ),
            );
            false
        } else {
            true
        }
    });
    v.track.bfds.retain(|t| {
        let weight = weight_of(t, &w.bfds);
        if weight != 0 {
            r.warn(
                t.loc,
                format!(
                    "({name}) ignoring tracked bfd {} with weight {weight} due to {why_}",
                    t.name
                ),
            );
        }
        weight == 0
    });
}

/// One kind of group-level tracker: its name, the references, the default weights (none
/// for interfaces) and what keepalived says it does about a weight.
type GroupTrackers<'a> = (
    &'static str,
    &'a [TrackRef],
    Option<&'a HashMap<String, i32>>,
    &'static str,
);

/// Group-level trackers: no weights when a member is the address owner, and an interface
/// tracked both by the group and by a member is reported.
fn check_sync_group_tracking(config: &mut Config, w: &DefaultWeights, r: &mut Report) {
    let by_name: HashMap<&str, &VrrpInstance> = config
        .vrrp_instances
        .iter()
        .map(|v| (v.name.as_str(), v))
        .collect();
    let mut diags = Vec::new();
    let mut clear: Vec<(usize, &'static str, usize)> = Vec::new();
    for (gi, g) in config.sync_groups.iter().enumerate() {
        let members: Vec<&VrrpInstance> = g
            .group
            .iter()
            .filter_map(|m| by_name.get(m.as_str()).copied())
            .collect();
        let has_owner = members.iter().any(|v| v.priority == Some(OWNER_PRIORITY));
        if has_owner {
            let lists: [GroupTrackers<'_>; 5] = [
                (
                    "script",
                    &g.track.scripts,
                    Some(&w.scripts),
                    "clearing weight",
                ),
                ("file", &g.track.files, Some(&w.files), "setting weight 0"),
                (
                    "process",
                    &g.track.processes,
                    Some(&w.processes),
                    "setting weight 0",
                ),
                ("bfd", &g.track.bfds, Some(&w.bfds), "setting weight 0"),
                ("interface", &g.track.interfaces, None, "clearing weight"),
            ];
            for (kind, list, defaults, action) in lists {
                for (ti, t) in list.iter().enumerate() {
                    let weight = match defaults {
                        Some(d) => weight_of(t, d),
                        None => t.weight.unwrap_or(0),
                    };
                    if weight != 0 {
                        diags.push(Diagnostic::warning(
                            t.loc,
                            format!(
                                "({}) Cannot have weighted track {kind} '{}' with member having priority 255 - {action}",
                                g.name, t.name
                            ),
                        ));
                        clear.push((gi, kind_key(kind), ti));
                    }
                }
            }
        }
        for t in &g.track.interfaces {
            for v in &members {
                let own = v.interface.as_deref() == Some(t.name.as_str()) && !v.dont_track_primary;
                if own || v.track.interfaces.iter().any(|x| x.name == t.name) {
                    diags.push(Diagnostic::warning(
                        t.loc,
                        format!(
                            "({}) track_interface {} is configured on VRRP instance and sync group. Remove vrrp instance or sync group config",
                            v.name, t.name
                        ),
                    ));
                }
            }
        }
    }
    for d in diags {
        r.push(d);
    }
    for (gi, kind, ti) in clear {
        let Some(g) = config.sync_groups.get_mut(gi) else {
            continue;
        };
        let list = match kind {
            "script" => &mut g.track.scripts,
            "file" => &mut g.track.files,
            "process" => &mut g.track.processes,
            "bfd" => &mut g.track.bfds,
            _ => &mut g.track.interfaces,
        };
        if let Some(t) = list.get_mut(ti) {
            t.weight = Some(0);
        }
    }
}

fn kind_key(kind: &str) -> &'static str {
    match kind {
        "script" => "script",
        "file" => "file",
        "process" => "process",
        "bfd" => "bfd",
        _ => "interface",
    }
}

fn check_sync_groups(config: &mut Config, r: &mut Report) {
    let names: HashSet<&str> = config
        .vrrp_instances
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    let mut member_of: HashSet<String> = HashSet::default();
    let mut keep = Vec::with_capacity(config.sync_groups.len());
    for mut g in std::mem::take(&mut config.sync_groups) {
        if g.group.is_empty() {
            r.warn(
                g.loc,
                format!("Sync group {} has no virtual router(s). removing", g.name),
            );
            continue;
        }
        let mut members = Vec::new();
        for (i, inst) in g.group.iter().enumerate() {
            let loc = g.group_locs.get(i).copied().or(g.loc);
            if !names.contains(inst.as_str()) {
                r.warn(
                    Some(loc).flatten(),
                    format!(
                        "Virtual router {inst} specified in sync group {} doesn't exist - ignoring",
                        g.name
                    ),
                );
                continue;
            }
            if !member_of.insert(inst.clone()) {
                r.warn(
                    Some(loc).flatten(),
                    format!(
                        "Virtual router {inst} cannot exist in more than one sync group; ignoring {}",
                        g.name
                    ),
                );
                continue;
            }
            members.push(inst.clone());
        }
        if members.is_empty() {
            r.warn(
                g.loc,
                format!(
                    "Sync group {}, no matching virtual router found in group declaration - removing",
                    g.name
                ),
            );
            continue;
        }
        if members.len() == 1 {
            r.warn(
                g.loc,
                format!(
                    "Sync group {} has only 1 virtual router(s) - this probably isn't what you want",
                    g.name
                ),
            );
        }
        g.group = members;
        g.group_locs.clear();
        keep.push(g);
    }
    config.sync_groups = keep;
}

/// keepalived's `vrrp_complete_instance`: defaults and the checks that depend on them.
/// Returns `false` where keepalived aborts the VRRP validation.
fn complete_instance(v: &mut VrrpInstance, g: &GlobalDefs, r: &mut Report) -> bool {
    let strict_global = g.vrrp_strict;
    let global_version = g.vrrp_version;
    let name = v.name.clone();
    let loc = v.loc;
    let strict = v.strict_mode.unwrap_or(strict_global);
    let ipv6 = v.is_ipv6();
    if ipv6 {
        if v.version == Some(2) && strict {
            r.warn(
                loc,
                format!("({name}) cannot use IPv6 with VRRP version 2; setting version 3"),
            );
        }
        v.version = Some(3);
    }
    let version = *v.version.get_or_insert(global_version);
    if v.virtual_ipaddress.is_empty() {
        if version == 3 || strict {
            r.warn(
                loc,
                format!("({name}) No VIP specified; at least one is required"),
            );
            return false;
        }
        r.warn(
            loc,
            format!("({name}) No VIP specified; at least one is sensible"),
        );
    }
    let priority = v.effective_priority();
    v.priority = Some(priority);
    match v.state {
        None => v.state = Some(v.effective_state()),
        Some(s) => {
            if strict && ((s == InitialState::Master) != (priority == OWNER_PRIORITY)) {
                r.push(
                    Diagnostic::warning(
                        loc,
                        format!("({name}) State MASTER must match being address owner"),
                    )
                    .with_hint(
                        "in strict mode only the address owner (priority 255) may start as MASTER",
                    ),
                );
                v.state = Some(if priority == OWNER_PRIORITY {
                    InitialState::Master
                } else {
                    InitialState::Backup
                });
            }
        }
    }
    if let Some(auth) = &v.authentication {
        if auth.auth_type.is_some() {
            let msg = if strict {
                Some(format!(
                    "({name}) Strict mode does not support authentication. Ignoring."
                ))
            } else if version == 3 {
                Some(format!(
                    "({name}) VRRP version 3 does not support authentication. Ignoring."
                ))
            } else if auth.auth_pass.as_deref().is_none_or(str::is_empty) {
                Some(format!(
                    "({name}) Authentication specified but no password given. Ignoring"
                ))
            } else if ipv6 && auth.auth_type == Some(crate::model::vrrp::AuthType::Ah) {
                Some(format!(
                    "({name}) Cannot use AH authentication with IPv6. ignoring"
                ))
            } else {
                None
            };
            if let Some(m) = msg {
                r.warn(loc, m);
                v.authentication = None;
            } else if auth.auth_type == Some(crate::model::vrrp::AuthType::Ah)
                && v.state == Some(InitialState::Master)
                && priority != OWNER_PRIORITY
            {
                r.warn(
                    loc,
                    format!(
                        "({name}) Initial state master is incompatible with AH authentication - clearing"
                    ),
                );
                v.state = Some(InitialState::Backup);
            }
        }
    }
    let unicast = !v.unicast_peers.is_empty();
    // keepalived 2.2.7 also refuses unicast peers in strict mode, but tests its unicast
    // flag before setting it, so the check never fires: configs it accepts stay accepted.
    if v.interface.is_none() {
        if v.src_ip.is_none() {
            r.warn(
                loc,
                format!("({name}): Unicast instances must have unicast_src_ip or interface"),
            );
            return false;
        }
        if let Some(IpAddr::V6(a)) = v.src_ip {
            if a.segments().first().is_some_and(|s| s & 0xffc0 == 0xfe80) {
                r.warn(
                    loc,
                    format!("({name}) Non link-local address required if interface omitted"),
                );
                return false;
            }
        }
    }
    if v.unicast_configured && !unicast && !v.unicast_fault_no_peer {
        r.warn(
            loc,
            format!("({name}) A unicast keyword has been specified without any unicast peers. Defaulting to multicast. This usage is deprecated - please update your configuration."),
        );
    }
    if strict {
        if let Some(vm) = &mut v.use_vmac {
            if vm.mac.take().is_some() {
                r.warn(
                    loc,
                    format!("({name}): cannot specify MAC address with strict mode - clearing"),
                );
            }
        }
    }
    if ipv6 && !unicast && strict {
        if let Some(IpAddr::V6(a)) = v.virtual_ipaddress.first().map(|a| a.addr) {
            if a.segments().first().is_none_or(|s| s & 0xffc0 != 0xfe80) {
                r.warn(
                    loc,
                    format!("({name}) the first IPv6 VIP address must be link local"),
                );
            }
        }
    }
    if v.vrf.is_some() && (v.interface.is_some() || !unicast) {
        r.warn(
            loc,
            format!(
                "({name}) vrf can only be specified with{} - clearing",
                if v.interface.is_some() {
                    "out interface"
                } else {
                    " unicast"
                }
            ),
        );
        v.vrf = None;
    }
    // VIPs that do not fit in one advert become eVIPs (1500-byte MTU assumed).
    let max_addr = if ipv6 {
        (1500 - 14 - 40 - 8) / 16
    } else {
        let auth = if version == 2 { 8 } else { 0 };
        ((1500 - 14 - 20 - 8 - auth) / 4).min(255)
    };
    if v.virtual_ipaddress.len() > max_addr {
        r.warn(
            loc,
            format!(
                "({name}) Number of VIPs ({}) exceeds maximum/space available in packet (max {max_addr} addresses) - excess moved to eVIPs",
                v.virtual_ipaddress.len()
            ),
        );
        let extra = v.virtual_ipaddress.split_off(max_addr);
        v.virtual_ipaddress_excluded.extend(extra);
    }
    if priority == OWNER_PRIORITY && v.nopreempt {
        r.warn(
            loc,
            format!("({name}) nopreempt is incompatible with priority 255. resetting nopreempt"),
        );
        v.nopreempt = false;
    }
    if v.state == Some(InitialState::Master) {
        if v.nopreempt {
            r.warn(
                loc,
                format!("({name}) Warning - nopreempt will not work with initial state MASTER - clearing"),
            );
            v.nopreempt = false;
        }
        if !v.preempt_delay.is_zero() {
            r.warn(
                loc,
                format!("({name}) Warning - preempt delay will not work with initial state MASTER - clearing"),
            );
            v.preempt_delay = Duration::ZERO;
        }
    }
    if !v.preempt_delay.is_zero() {
        if strict {
            r.warn(
                loc,
                format!("({name}) preempt_delay is incompatible with strict mode - resetting"),
            );
            v.preempt_delay = Duration::ZERO;
        }
        if v.nopreempt {
            r.warn(
                loc,
                format!("({name}) preempt_delay is incompatible with nopreempt mode - resetting"),
            );
            v.preempt_delay = Duration::ZERO;
        }
    }
    if strict && v.down_timer_adverts.is_some_and(|d| d != 3) {
        r.warn(
            loc,
            format!("({name}) down_timer_adverts is incompatible with strict mode - resetting"),
        );
        v.down_timer_adverts = Some(3);
    }
    let accept = *v
        .accept
        .get_or_insert(priority == OWNER_PRIORITY || !strict);
    if accept && priority != OWNER_PRIORITY && strict && version == 2 {
        r.warn(
            loc,
            format!("({name}) warning - accept mode for VRRP version 2 does not comply with RFC3768 - resetting"),
        );
        v.accept = Some(false);
    }
    if unicast && v.mcast_dst_ip.is_some() {
        r.warn(
            loc,
            format!("({name}) multicast destination specified with unicast - ignoring"),
        );
        v.mcast_dst_ip = None;
    }
    if strict {
        if v.garp.lower_prio_repeat.is_some_and(|x| x != 0) {
            r.warn(
                loc,
                format!("({name}) Strict mode requires no repeat garps. resetting"),
            );
            v.garp.lower_prio_repeat = Some(0);
        }
        if v.garp.lower_prio_delay.is_some_and(|x| !x.is_zero()) {
            r.warn(
                loc,
                format!("({name}) Strict mode requires no repeat garp delay. resetting"),
            );
            v.garp.lower_prio_delay = Some(Duration::ZERO);
        }
        if v.lower_prio_no_advert == Some(false) {
            r.warn(
                loc,
                format!("({name}) Strict mode requires no lower priority advert. resetting"),
            );
            v.lower_prio_no_advert = Some(true);
        }
        if v.higher_prio_send_advert == Some(true) {
            r.warn(
                loc,
                format!(
                    "({name}) strict mode requires higher_prio_send_advert to be clear. resetting"
                ),
            );
            v.higher_prio_send_advert = Some(false);
        }
    }
    let adv_loc = v.advert_int_loc.or(loc);
    let adv = v.advert_int;
    if version == 2 {
        if adv >= Duration::from_secs(256) {
            r.warn(
                adv_loc,
                format!(
                    "({name}) VRRPv2 advertisement interval {:.2}s is out of range. Must be less than 256s. Setting to 255s",
                    adv.as_secs_f64()
                ),
            );
            v.advert_int = Duration::from_secs(255);
        } else if adv.subsec_micros() != 0 {
            r.push(
                Diagnostic::warning(
                    adv_loc,
                    format!(
                        "({name}) VRRPv2 advertisement interval {:.6}s must be an integer. rounding",
                        adv.as_secs_f64()
                    ),
                )
                .with_hint("VRRPv2 adverts carry whole seconds; use 'version 3' for sub-second intervals"),
            );
            let rounded = (adv + Duration::from_millis(500)).as_secs().max(1);
            v.advert_int = Duration::from_secs(rounded);
        }
    } else {
        let centi = Duration::from_millis(10);
        if adv >= Duration::from_millis(40960) {
            r.warn(
                adv_loc,
                format!(
                    "({name}) VRRPv3 advertisement interval {:.2}s is out of range. Must be less than 40.96s. Setting to 40.95s",
                    adv.as_secs_f64()
                ),
            );
            v.advert_int = Duration::from_millis(40950);
        } else if adv.as_micros() % centi.as_micros() != 0 {
            r.warn(
                adv_loc,
                format!(
                    "({name}) VRRPv3 advertisement interval {:.6}s must be in units of 10ms - rounding",
                    adv.as_secs_f64()
                ),
            );
            let us = adv.as_micros() + 5000;
            let us = (us - us % 10_000).max(10_000);
            v.advert_int = Duration::from_micros(u64::try_from(us).unwrap_or(1_000_000));
        }
    }
    // Trackers on the instance's own interface.
    if let Some(own) = v.interface.clone() {
        v.track.interfaces.retain(|t| {
            if t.name == own {
                r.warn(
                    t.loc,
                    format!("({name}) Ignoring track_interface {own} since own interface"),
                );
                false
            } else {
                true
            }
        });
    }
    if v.promote_secondaries && (v.use_vmac.is_some() || v.use_ipvlan.is_some()) {
        r.warn(
            loc,
            format!("({name}) promote_secondaries is automatically set for vmacs - ignoring"),
        );
        v.promote_secondaries = false;
    }
    if v.vmac_xmit_base && v.use_vmac.is_none() {
        r.warn(
            loc,
            format!("({name}) vmac_xmit_base is only valid with a vmac"),
        );
        v.vmac_xmit_base = false;
    }
    if let Some(ipv) = &v.use_ipvlan {
        if !ipv6 && ipv.addr.is_none() {
            r.warn(
                loc,
                format!("({name}) IPv4 ipvlan requires a source ip address to be configured. setting instance to fault state"),
            );
        } else if ipv.addr.is_some_and(|a| a.is_ipv6() != ipv6) {
            r.warn(
                loc,
                format!("({name}) IPv4 ipvlan address family does not match instance. setting instance to fault state"),
            );
        }
    }
    true
}

/// Two multicast instances with one VRID on the same interface, family and group, or two
/// unicast ones with overlapping peers.
fn check_vrid_conflicts(config: &Config, r: &mut Report) {
    let g4 = IpAddr::V4(config.global.vrrp_mcast_group4);
    let g6 = IpAddr::V6(config.global.vrrp_mcast_group6);
    let mut multicast: HashMap<(u8, bool, &str, IpAddr), &str> = HashMap::default();
    let mut unicast: HashMap<(u8, bool, IpAddr), &str> = HashMap::default();
    for v in &config.vrrp_instances {
        let Some(vrid) = v.virtual_router_id else {
            continue;
        };
        let ipv6 = v.is_ipv6();
        if !v.unicast_peers.is_empty() {
            for p in &v.unicast_peers {
                if let Some(other) = unicast.get(&(vrid, ipv6, p.addr)) {
                    if *other != v.name {
                        r.warn(
                            v.loc,
                            format!(
                                "({}) duplicate VRID conflict with {other} VRID {vrid}",
                                v.name
                            ),
                        );
                        break;
                    }
                } else {
                    unicast.insert((vrid, ipv6, p.addr), v.name.as_str());
                }
            }
            continue;
        }
        let Some(ifname) = v.interface.as_deref() else {
            continue;
        };
        let group = v.mcast_dst_ip.unwrap_or(if ipv6 { g6 } else { g4 });
        let key = (vrid, ipv6, ifname, group);
        match multicast.get(&key) {
            Some(other) => r.push(
                Diagnostic::warning(
                    v.loc,
                    format!(
                        "{other} and {} both use VRID {vrid} with IPv{} on interface {ifname}",
                        v.name,
                        if ipv6 { 6 } else { 4 }
                    ),
                )
                .with_hint("each VRRP router group on one link needs its own virtual_router_id"),
            ),
            None => {
                multicast.insert(key, v.name.as_str());
            }
        }
    }
}

/// `lvs_sync_daemon IF INSTANCE` must name an instance.
pub fn check_lvs_syncd(config: &mut Config, r: &mut Report) {
    let Some(d) = &config.global.lvs_sync_daemon else {
        return;
    };
    if let Some(inst) = &d.vrrp_instance {
        if !config.vrrp_instances.iter().any(|v| &v.name == inst) {
            r.warn(
                None,
                format!(
                    "Unable to find vrrp instance {inst} for lvs_syncd - clearing lvs_syncd config"
                ),
            );
            config.global.lvs_sync_daemon = None;
        }
    }
}

/// Scripts never tracked by any instance or group (keepalived does not report this under
/// `-t`, so it does not change the exit code).
pub fn check_unused_scripts(config: &Config, r: &mut Report) {
    let used: HashSet<&str> = config
        .vrrp_instances
        .iter()
        .flat_map(|v| v.track.scripts.iter())
        .chain(
            config
                .sync_groups
                .iter()
                .flat_map(|g| g.track.scripts.iter()),
        )
        .map(|t| t.name.as_str())
        .collect();
    for s in &config.vrrp_scripts {
        if !used.contains(s.name.as_str()) {
            r.push(
                Diagnostic::warning(s.loc, format!("Warning - script {} is not used", s.name))
                    .with_class(ConfigClass::Ok)
                    .with_hint("reference it from a track_script block, or remove it"),
            );
        }
    }
}
