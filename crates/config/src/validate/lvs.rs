//! Whole-configuration checks of the LVS side, in keepalived's order and with its outcome
//! classes: linking virtual servers to their groups (`link_vsg_to_vs`), the per-service
//! checks of `validate_check_config` (real servers, protocol, scheduler, forwarding method,
//! quorum, ports), checkers that name something defined elsewhere, script users, and
//! checker script security (`check_check_script_security`).
//!
//! keepalived prints most of these without a line number; ours point at the block.
//! Messages keepalived only logs are reported with class `Ok` so they never change the exit
//! code; the ones it reports as config errors are class `General` (exit 5), and the script
//! security violation is class `Security` (exit 6).

use crate::diag::{ConfigClass, Diagnostic};
use crate::host::Host;
use crate::model::lvs::*;
use crate::model::{Config, Script};
use crate::source::Loc;
use rustc_hash::FxHashSet as HashSet;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// Runs every LVS check over `config`, appending findings to `diags`, and removes the
/// MISC_CHECKs keepalived removes (`check_misc_script_security` frees the checker): script
/// user not settable, script not found or not executable, or insecure under
/// `enable_script_security`. The checker child then never sees them.
pub(crate) fn check(config: &mut Config, host: &dyn Host, diags: &mut Vec<Diagnostic>) {
    let refused = check_all(config, host, diags);
    if refused.is_empty() {
        return;
    }
    for vs in &mut config.virtual_servers {
        for rs in &mut vs.real_servers {
            rs.checkers.retain(|c| match c {
                Checker::Misc(m) => m
                    .path
                    .as_ref()
                    .is_none_or(|s| !refused.iter().any(|r| std::ptr::eq(*r, s))),
                _ => true,
            });
        }
    }
}

/// The checks of [`check`]; returns the MISC_CHECK scripts to remove (compared by address).
fn check_all(config: &Config, host: &dyn Host, diags: &mut Vec<Diagnostic>) -> Vec<*const Script> {
    let linked = link_groups(config, diags);
    // Looked up when a live virtual server first needs it: a configuration without one
    // costs no user database lookup at each reload.
    let users = std::cell::OnceCell::new();
    let users = || users.get_or_init(|| ScriptUsers::new(config, host));
    let mut scripts: Vec<&Script> = Vec::new();
    let mut default_user_reported = false;
    let mut any_live = false;
    let mut live_misc: Vec<*const Script> = Vec::new();
    for (vs, group, seq) in &linked {
        let ok = check_virtual_server(vs, *group, *seq, diags);
        if !ok {
            continue;
        }
        any_live = true;
        for rs in &vs.real_servers {
            for c in &rs.checkers {
                if let Checker::Misc(MiscCheck { path: Some(s), .. }) = c {
                    live_misc.push(s);
                }
            }
        }
        check_checkers(config, vs, diags);
        collect_scripts(
            vs,
            users(),
            host,
            diags,
            &mut scripts,
            &mut default_user_reported,
        );
    }
    check_duplicate_services(&linked, diags);
    // keepalived checks script security only when a virtual server survived validation.
    if any_live {
        for fifo in [&config.global.notify_fifo, &config.global.lvs_notify_fifo] {
            if let Some(s) = &fifo.script {
                scripts.push(s);
            }
        }
        let disabled = script_security(config, &scripts, users(), host, diags);
        live_misc.retain(|m| {
            let kept = scripts.iter().any(|s| std::ptr::eq(*s, *m));
            !kept || disabled.iter().any(|d| std::ptr::eq(*d, *m))
        });
        return live_misc;
    }
    Vec::new()
}

/// A General (exit 5) finding keepalived reports as a config error.
fn general(loc: Option<Loc>, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::warning(loc, msg)
}

/// A finding keepalived only logs: shown, but never changes the exit code.
fn logged(loc: Option<Loc>, msg: impl Into<String>) -> Diagnostic {
    Diagnostic::warning(loc, msg).with_class(ConfigClass::Ok)
}

fn proto_name(p: Option<LvsProtocol>) -> &'static str {
    match p {
        Some(LvsProtocol::Tcp) => "tcp",
        Some(LvsProtocol::Udp) => "udp",
        Some(LvsProtocol::Sctp) => "sctp",
        None => "none",
    }
}

/// keepalived's `FMT_VS`: `[IP]:proto:port`, `FWM N` or `[group]:seq`.
fn fmt_vs(vs: &VirtualServer, proto: Option<LvsProtocol>, seq: usize) -> String {
    match &vs.key {
        VirtualServerKey::Address { ip, port } => format!("[{ip}]:{}:{port}", proto_name(proto)),
        VirtualServerKey::Fwmark(m) => format!("FWM {m}"),
        VirtualServerKey::Group(g) => format!("[{g}]:{seq}"),
    }
}

/// keepalived's `FMT_RS`: `[IP]:proto:port`.
fn fmt_rs(ip: &std::net::IpAddr, port: u16, proto: Option<LvsProtocol>) -> String {
    format!("[{ip}]:{}:{port}", proto_name(proto))
}

/// keepalived's `format_vsge`.
fn fmt_vsge(m: &VsgMember) -> String {
    match m {
        VsgMember::Fwmark { mark, .. } => format!("FWM {mark}"),
        VsgMember::Address { ip, port } => format!("{ip},{}", port.unwrap_or(0)),
        VsgMember::Range { first, last, port } => {
            format!("{first}-{last},{}", port.unwrap_or(0))
        }
    }
}

type Linked<'a> = Vec<(&'a VirtualServer, Option<&'a VirtualServerGroup>, usize)>;

/// keepalived's `link_vsg_to_vs`: a group service needs its group, and the families must
/// agree. Failures are only logged; the service is dropped. Group services are numbered in
/// order per group (keepalived shows that number as the "port").
fn link_groups<'a>(config: &'a Config, diags: &mut Vec<Diagnostic>) -> Linked<'a> {
    let mut out: Linked<'a> = Vec::new();
    for vs in &config.virtual_servers {
        let VirtualServerKey::Group(name) = &vs.key else {
            out.push((vs, None, 0));
            continue;
        };
        let shown = format!("[{name}]:0");
        let Some(g) = config
            .virtual_server_groups
            .iter()
            .find(|g| &g.name == name)
        else {
            diags.push(
                logged(
                    vs.loc,
                    format!(
                        "Virtual server group {name} specified but not configured - ignoring virtual server {shown}"
                    ),
                )
                .with_hint("define the virtual_server_group before using it"),
            );
            continue;
        };
        let (v4, v6) = (g.has_ipv4(), g.has_ipv6());
        let af = vs.ip_family;
        if v4 && v6 && af.is_some() {
            diags.push(logged(
                vs.loc,
                format!("{name}: virtual server group with IPv4 & IPv6 doesn't match virtual server {shown} - ignoring"),
            ));
            continue;
        }
        if (v4 && af == Some(IpFamily::Inet6)) || (v6 && af == Some(IpFamily::Inet)) {
            diags.push(logged(
                vs.loc,
                format!("{name}: address family doesn't match virtual server {shown} - ignoring"),
            ));
            continue;
        }
        if !v4 && !v6 && af.is_none() && g.has_fwmark_without_family() {
            diags.push(logged(
                vs.loc,
                format!("{name}: Virtual server {shown} address family cannot be determined, defaulting to IPv4"),
            ));
        }
        out.push((vs, Some(g), 0));
    }
    // Number the group services.
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for (vs, _, seq) in &mut out {
        if let VirtualServerKey::Group(name) = &vs.key {
            match counts.iter_mut().find(|(n, _)| *n == name.as_str()) {
                Some((_, c)) => {
                    *seq = *c;
                    *c += 1;
                }
                None => counts.push((name.as_str(), 1)),
            }
        }
    }
    out
}

/// keepalived's per-service checks from `validate_check_config`. Returns false when the
/// service is dropped.
fn check_virtual_server(
    vs: &VirtualServer,
    group: Option<&VirtualServerGroup>,
    seq: usize,
    diags: &mut Vec<Diagnostic>,
) -> bool {
    let loc = vs.loc;
    let mut proto = vs.protocol;
    if vs.real_servers.is_empty() {
        diags.push(
            general(
                loc,
                format!(
                    "Virtual server {} has no real servers - ignoring",
                    fmt_vs(vs, proto, seq)
                ),
            )
            .with_hint("add a real_server block"),
        );
        return false;
    }
    let is_fwmark = matches!(vs.key, VirtualServerKey::Fwmark(_));
    let group_has_fwmarks = group.is_some_and(VirtualServerGroup::has_fwmarks);
    let group_has_addrs = group.is_some_and(VirtualServerGroup::has_addresses);

    if vs.ha_suspend && (is_fwmark || group_has_fwmarks) {
        diags.push(general(
            loc,
            format!(
                "Virtual server {}: cannot use ha_suspend with fwmarks - clearing ha_suspend",
                fmt_vs(vs, proto, seq)
            ),
        ));
    }

    let mut persistence = vs.persistence_timeout;
    let address_based = group_has_addrs || (group.is_none() && !is_fwmark);
    if address_based {
        if proto.is_none() {
            diags.push(
                general(
                    loc,
                    format!(
                        "Virtual server {}: no protocol set - defaulting to UDP",
                        fmt_vs(vs, proto, seq)
                    ),
                )
                .with_hint("add 'protocol TCP' (or UDP/SCTP) to the virtual_server"),
            );
            proto = Some(LvsProtocol::Udp);
        }
        if vs.flags.one_packet && proto != Some(LvsProtocol::Udp) {
            diags.push(general(
                loc,
                format!(
                    "Virtual server {}: one packet scheduling requires UDP - resetting",
                    fmt_vs(vs, proto, seq)
                ),
            ));
        }
        if let VirtualServerKey::Address { port: 0, .. } = vs.key {
            if persistence.is_none() {
                diags.push(general(
                    loc,
                    format!(
                        "Virtual server {}: zero port only valid for persistent services - setting",
                        fmt_vs(vs, proto, seq)
                    ),
                ));
                persistence = Some(DEFAULT_PERSISTENCE_TIMEOUT);
            }
        }
    }
    if persistence.is_none() {
        if let Some(g) = group {
            let zero_port = g
                .members
                .iter()
                .any(|m| !matches!(m, VsgMember::Fwmark { .. }) && m.port() == 0);
            if zero_port {
                diags.push(general(
                    loc,
                    format!(
                        "Virtual server {}: zero port only valid for persistent services - setting",
                        fmt_vs(vs, proto, seq)
                    ),
                ));
            }
        }
    }
    let fwmark_only = (group.is_some() && !group_has_addrs && group_has_fwmarks)
        || (group.is_none() && is_fwmark);
    if proto.is_some() && fwmark_only {
        diags.push(general(
            loc,
            format!(
                "Warning: Virtual server {}: protocol specified for fwmark - protocol will be ignored",
                fmt_vs(vs, proto, seq)
            ),
        ));
        proto = None;
    }
    if vs.scheduler.is_none() {
        diags.push(
            general(
                loc,
                format!(
                    "Virtual server {}: no scheduler set, setting default 'wlc'",
                    fmt_vs(vs, proto, seq)
                ),
            )
            .with_hint("add 'lvs_sched' (e.g. 'lvs_sched wlc')"),
        );
    }

    // Real servers: duplicates, forwarding method, weights, the sorry-server twin.
    let mut vs_method = vs.method;
    let mut weight_sum: u32 = 0;
    let mut kept: Vec<&RealServer> = Vec::new();
    // A set beside `kept`: generated configs have thousands of real servers per service.
    let mut kept_keys: HashSet<(IpAddr, u16)> = HashSet::default();
    let mut ss_inhibit = vs.sorry_server.as_ref().map(|s| s.inhibit);
    for rs in &vs.real_servers {
        if !kept_keys.insert((rs.ip, rs.port)) {
            diags.push(general(
                rs.loc,
                format!(
                    "VS {}: real server {} is duplicated - removing second rs",
                    fmt_vs(vs, proto, seq),
                    fmt_rs(&rs.ip, rs.port, proto)
                ),
            ));
            continue;
        }
        if rs.method.is_none() && vs_method.is_none() {
            diags.push(
                general(
                    loc,
                    format!(
                        "Virtual server {}: no forwarding method set, setting default NAT",
                        fmt_vs(vs, proto, seq)
                    ),
                )
                .with_hint("add 'lvs_method NAT|DR|TUN' to the virtual_server"),
            );
            vs_method = Some(ForwardingMethod::Nat);
        }
        weight_sum = weight_sum.wrapping_add(rs.effective_weight(vs));
        if let Some(ss) = &vs.sorry_server {
            if ss.ip == rs.ip && ss.port == rs.port {
                let rs_inhibit = rs.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure);
                if ss_inhibit != Some(rs_inhibit) {
                    diags.push(general(
                        rs.loc,
                        format!(
                            "Virtual server {}: real server {} matches sorry server, but inhibit setting differs, {}ing on sorry server",
                            fmt_vs(vs, proto, seq),
                            fmt_rs(&rs.ip, rs.port, proto),
                            if rs_inhibit { "sett" } else { "clear" }
                        ),
                    ));
                    ss_inhibit = Some(rs_inhibit);
                }
            }
        }
        kept.push(rs);
    }
    if let Some(ss) = &vs.sorry_server {
        if ss.method.is_none() && vs_method.is_none() {
            diags.push(general(
                loc,
                format!(
                    "Virtual server {}: no forwarding method set, setting default NAT",
                    fmt_vs(vs, proto, seq)
                ),
            ));
            vs_method = Some(ForwardingMethod::Nat);
        }
    }

    let mut quorum = vs.effective_quorum();
    if quorum > weight_sum {
        diags.push(
            general(
                loc,
                format!(
                    "Warning - quorum {quorum} for {} exceeds total weight of real servers {weight_sum}, reducing quorum to {weight_sum}",
                    fmt_vs(vs, proto, seq)
                ),
            )
            .with_hint("lower 'quorum' or raise the real servers' weights"),
        );
        quorum = weight_sum;
    }
    let hysteresis = vs.hysteresis.unwrap_or(0);
    if hysteresis >= quorum {
        diags.push(general(
            loc,
            format!(
                "Virtual server {}: hysteresis {hysteresis} >= quorum {quorum}; setting hysteresis to {}",
                fmt_vs(vs, proto, seq),
                quorum.wrapping_sub(1)
            ),
        ));
    }

    check_ports(vs, group, seq, proto, vs_method, &kept, diags);
    true
}

/// keepalived's port checks: unless NAT, real and sorry servers use the service's port, and
/// none with a fwmark.
fn check_ports(
    vs: &VirtualServer,
    group: Option<&VirtualServerGroup>,
    seq: usize,
    proto: Option<LvsProtocol>,
    vs_method: Option<ForwardingMethod>,
    kept: &[&RealServer],
    diags: &mut Vec<Diagnostic>,
) {
    let vs_m = vs_method.unwrap_or_default();
    let is_nat = |m: Option<ForwardingMethod>| m.unwrap_or(vs_m) == ForwardingMethod::Nat;
    let shown = fmt_vs(vs, proto, seq);
    let ss = vs.sorry_server.as_ref();
    let ss_non_nat = ss.filter(|s| !is_nat(s.method));
    if let Some(g) = group {
        if g.has_fwmarks() {
            for rs in kept.iter().filter(|r| !is_nat(r.method) && r.port != 0) {
                diags.push(general(
                    rs.loc,
                    format!(
                        "WARNING - fwmark virtual server {shown}, real server {} has port specified - port will be ignored",
                        fmt_rs(&rs.ip, rs.port, proto)
                    ),
                ));
            }
            if let Some(s) = ss_non_nat.filter(|s| s.port != 0) {
                diags.push(general(
                    s.loc,
                    format!("WARNING - fwmark virtual server {shown}, sorry server has port specified - port will be ignored"),
                ));
            }
        }
        for m in g
            .members
            .iter()
            .filter(|m| !matches!(m, VsgMember::Fwmark { .. }))
        {
            for rs in kept.iter().filter(|r| !is_nat(r.method)) {
                if rs.port != 0 && m.port() != rs.port {
                    diags.push(general(
                        rs.loc,
                        format!(
                            "virtual server {shown}:[{}] and real server {} ports don't match",
                            fmt_vsge(m),
                            fmt_rs(&rs.ip, rs.port, proto)
                        ),
                    ));
                }
            }
            if let Some(s) = ss_non_nat.filter(|s| s.port != 0 && m.port() != s.port) {
                diags.push(general(
                    s.loc,
                    format!("WARNING - virtual server {shown}, sorry server has port specified - port will be ignored"),
                ));
            }
        }
        return;
    }
    let (is_fwmark, vport) = match vs.key {
        VirtualServerKey::Address { port, .. } => (false, port),
        _ => (true, 0),
    };
    for rs in kept.iter().filter(|r| !is_nat(r.method)) {
        if is_fwmark {
            if rs.port != 0 {
                diags.push(general(
                    rs.loc,
                    format!(
                        "WARNING - fwmark virtual server {shown}, real server {} has port specified - clearing",
                        fmt_rs(&rs.ip, rs.port, proto)
                    ),
                ));
            }
        } else if rs.port != 0 && rs.port != vport {
            diags.push(
                general(
                    rs.loc,
                    format!(
                        "WARNING - virtual server {shown} and real server {} ports don't match - resetting",
                        fmt_rs(&rs.ip, rs.port, proto)
                    ),
                )
                .with_hint("with DR and TUN the real server must use the virtual server's port"),
            );
        }
    }
    if let Some(s) = ss_non_nat {
        if is_fwmark {
            if s.port != 0 {
                diags.push(general(
                    s.loc,
                    format!("WARNING - virtual server {shown}, sorry server has port specified - clearing"),
                ));
            }
        } else if s.port != 0 && s.port != vport {
            diags.push(general(
                s.loc,
                format!("WARNING - virtual server {shown} and sorry server ports don't match - resetting"),
            ));
        }
    }
}

/// Checkers naming things defined elsewhere, and connecting checkers left without a port.
fn check_checkers(config: &Config, vs: &VirtualServer, diags: &mut Vec<Diagnostic>) {
    let vport = match vs.key {
        VirtualServerKey::Address { port, .. } => port,
        _ => 0,
    };
    for rs in &vs.real_servers {
        for chk in &rs.checkers {
            match chk {
                Checker::File(f) => {
                    if let Some(name) = &f.track_file {
                        // keepalived looks the name up while parsing, so the track_file
                        // block must come first.
                        let defined_before = |t: &&crate::model::TrackFile| match (t.loc, f.loc) {
                            (Some(a), Some(b)) if a.file == b.file => a.line < b.line,
                            _ => true,
                        };
                        let known = config
                            .track_files
                            .iter()
                            .filter(defined_before)
                            .any(|t| &t.name == name);
                        if !known {
                            diags.push(general(f.loc, format!("track_file {name} not found")));
                            diags.push(general(
                                f.loc,
                                "FILE_CHECK has no track_file specified - ignoring",
                            ));
                        }
                    }
                }
                Checker::Bfd(b) => {
                    if let Some(name) = &b.name {
                        // keepalived's checker knows every bfd_instance block by name, even
                        // one the BFD process disables; the model keeps only valid ones, so
                        // this is reported without counting.
                        if !config.bfd_instances.iter().any(|i| &i.name == name) {
                            diags.push(logged(
                                b.loc,
                                format!(
                                    "({}) BFD_CHECK - BFD {name} not configured",
                                    fmt_rs(&rs.ip, rs.port, vs.protocol)
                                ),
                            ));
                        }
                    }
                }
                Checker::Ping(_) | Checker::Misc(_) => {}
                _ => {
                    let port = chk.connect().and_then(|c| c.connect_port);
                    let rs_port = if rs.port != 0 { rs.port } else { vport };
                    if port.is_none() && rs_port == 0 {
                        diags.push(
                            logged(
                                rs.loc,
                                format!(
                                    "{} for real server {} has no port to connect to",
                                    chk.keyword(),
                                    fmt_rs(&rs.ip, rs.port, vs.protocol)
                                ),
                            )
                            .with_hint("add 'connect_port' to the checker"),
                        );
                    }
                }
            }
        }
    }
}

/// Two services with the same key: IPVS would see one service configured twice.
fn check_duplicate_services(linked: &Linked<'_>, diags: &mut Vec<Diagnostic>) {
    // The keys seen so far in a set: comparing each service with all before it is quadratic
    // (10,000 services: 50 million comparisons).
    let mut seen = HashSet::default();
    for (vs, _, _) in linked.iter() {
        let dup = !seen.insert((&vs.key, vs.protocol));
        if dup && !matches!(vs.key, VirtualServerKey::Group(_)) {
            diags.push(
                logged(
                    vs.loc,
                    format!("virtual server {} is configured more than once", vs.key),
                )
                .with_hint("merge the real servers into one virtual_server block"),
            );
        }
    }
}

// ---------------------------------------------------------------------------------------
// Script users and script security.

/// Who scripts run as by default, as keepalived resolves it (`get_default_script_user`).
struct ScriptUsers {
    /// The default user's uid, or `None` when it cannot be set (then scripts without their
    /// own user are removed).
    default_uid: Option<u32>,
    /// The default user's gid (approximated: 0 for root, else non-zero).
    default_gid: u32,
    /// Why the default user could not be set, when keepalived reports it itself.
    failure: Option<String>,
    security: bool,
}

impl ScriptUsers {
    fn new(config: &Config, host: &dyn Host) -> Self {
        let g = &config.global;
        let security = g.enable_script_security;
        if let Some(u) = &g.script_user {
            let ok = host.user_exists(&u.user)
                && u.group.as_deref().is_none_or(|gr| host.group_exists(gr));
            let uid = host.user_uid(&u.user).unwrap_or(65534);
            return Self {
                default_uid: ok.then_some(uid),
                default_gid: if uid == 0 { 0 } else { 65534 },
                failure: None,
                security,
            };
        }
        if host.user_exists("keepalived_script") {
            let uid = host.user_uid("keepalived_script").unwrap_or(65534);
            return Self {
                default_uid: Some(uid),
                default_gid: if uid == 0 { 0 } else { 65534 },
                failure: None,
                security,
            };
        }
        if security {
            return Self {
                default_uid: None,
                default_gid: 0,
                failure: Some("Unable to set default user keepalived_script for script".into()),
                security,
            };
        }
        Self {
            default_uid: Some(0),
            default_gid: 0,
            failure: None,
            security,
        }
    }

    /// uid and gid a script runs as, or `None` if it has no usable user.
    fn of(&self, script: &Script, host: &dyn Host) -> Option<(u32, u32)> {
        match &script.user {
            Some(u) => {
                let ok = host.user_exists(&u.user)
                    && u.group.as_deref().is_none_or(|gr| host.group_exists(gr));
                let uid = host.user_uid(&u.user).unwrap_or(65534);
                ok.then_some((uid, if uid == 0 { 0 } else { 65534 }))
            }
            None => self.default_uid.map(|uid| (uid, self.default_gid)),
        }
    }
}

/// keepalived's `cmd_str`: every argument in single quotes.
fn cmd_str(s: &Script) -> String {
    s.argv
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Applies the script-user rules to the service's scripts, collecting the ones that stay.
fn collect_scripts<'a>(
    vs: &'a VirtualServer,
    users: &ScriptUsers,
    host: &dyn Host,
    diags: &mut Vec<Diagnostic>,
    out: &mut Vec<&'a Script>,
    default_user_reported: &mut bool,
) {
    let mut report_default =
        |diags: &mut Vec<Diagnostic>, loc: Option<Loc>| {
            if let (Some(msg), false) = (&users.failure, *default_user_reported) {
                diags.push(general(loc, msg.clone()).with_hint(
                    "create the keepalived_script user or set global_defs 'script_user'",
                ));
                *default_user_reported = true;
            }
        };
    let notify = [(&vs.quorum_up, "quorum"), (&vs.quorum_down, "quorum")]
        .into_iter()
        .chain(
            vs.real_servers
                .iter()
                .flat_map(|rs| [(&rs.notify_up, "notify"), (&rs.notify_down, "notify")]),
        );
    for (script, kind) in notify {
        let Some(s) = script else { continue };
        let prog = s.argv.first().map(String::as_str).unwrap_or("");
        if s.user.is_some() {
            if users.of(s, host).is_none() {
                diags.push(logged(
                    s.loc,
                    format!("Invalid user/group for {kind} script {prog} - ignoring"),
                ));
                continue;
            }
        } else if users.default_uid.is_none() {
            report_default(diags, s.loc);
            diags.push(logged(
                s.loc,
                format!("Failed to set default user for {kind} script {prog} - ignoring"),
            ));
            continue;
        }
        out.push(s);
    }
    for rs in &vs.real_servers {
        for chk in &rs.checkers {
            let Checker::Misc(m) = chk else { continue };
            let Some(s) = &m.path else { continue };
            if s.user.is_some() {
                if users.of(s, host).is_none() {
                    diags.push(general(
                        s.loc,
                        format!(
                            "Failed to set uid/gid for misc checker script {} - removing",
                            cmd_str(s)
                        ),
                    ));
                    continue;
                }
            } else if users.default_uid.is_none() {
                report_default(diags, s.loc);
                diags.push(
                    general(
                        s.loc,
                        format!(
                            "Unable to set default user for misc script {} - removing",
                            cmd_str(s)
                        ),
                    )
                    .with_hint(
                        "add 'user USER' to the MISC_CHECK or fix global_defs 'script_user'",
                    ),
                );
                continue;
            }
            out.push(s);
        }
    }
}

/// What checking one script found (keepalived's `SC_*` flags).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ScriptFlags {
    /// The file exists: a script will be run (`SC_ISSCRIPT`).
    pub is_script: bool,
    /// Not found or not accessible (`SC_NOTFOUND`).
    pub not_found: bool,
    /// Executable by its user (`SC_EXECUTABLE`).
    pub executable: bool,
    /// Runs with root privilege from a path non-root users can change (`SC_INSECURE`).
    pub insecure: bool,
    /// Not a file keepalived runs but a `</path` open test (`SC_SYSTEM`).
    pub system: bool,
}

/// The directories keepalived's path search looks in when `PATH` is the default.
const DEFAULT_PATH: &[&str] = &[
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// keepalived's `check_script_secure` for one program run as `uid:gid`, with the messages it
/// logs (class `Ok`).
pub(crate) fn script_flags(
    program: &str,
    uid: u32,
    gid: u32,
    security: bool,
    loc: Option<Loc>,
    host: &dyn Host,
    diags: &mut Vec<Diagnostic>,
) -> ScriptFlags {
    let mut f = ScriptFlags::default();
    let trimmed = program.strip_prefix('<').map(|r| r.trim_start());
    if trimmed.is_some_and(|r| r.starts_with('/')) {
        f.system = true;
        return f;
    }
    let path: PathBuf = if program.contains('/') {
        PathBuf::from(program)
    } else {
        match DEFAULT_PATH
            .iter()
            .map(|d| Path::new(d).join(program))
            .find(|p| host.file_meta(p).is_some())
        {
            Some(p) => {
                diags.push(logged(
                    loc,
                    format!(
                        "WARNING - script `{program}` resolved by path search to `{}`. Please specify full path.",
                        p.display()
                    ),
                ));
                p
            }
            None => {
                diags.push(logged(
                    loc,
                    format!("Cannot find script {program} in path - disabling"),
                ));
                f.not_found = true;
                return f;
            }
        }
    };
    let Some(meta) = host.file_meta(&path) else {
        diags.push(logged(
            loc,
            format!("Script {program} cannot be accessed - No such file or directory"),
        ));
        f.not_found = true;
        return f;
    };
    f.is_script = true;
    let mode = meta.mode;
    let exec = if uid == 0 {
        mode & 0o111 != 0
    } else if meta.uid == uid {
        mode & 0o100 != 0
    } else if meta.gid == gid {
        mode & 0o010 != 0
    } else {
        mode & 0o001 != 0
    };
    if !exec {
        diags.push(logged(
            loc,
            format!(
                "WARNING - script '{program}' is not executable for uid:gid {uid}:{gid} - disabling."
            ),
        ));
        return f;
    }
    f.executable = true;
    let setuid_root = meta.uid == 0 && mode & 0o100 != 0 && mode & 0o4000 != 0;
    let setgid_root = meta.gid == 0 && mode & 0o010 != 0 && mode & 0o2000 != 0;
    if !(uid == 0 || gid == 0 || setuid_root || setgid_root) {
        return f;
    }
    // Every component from `/` down must be root-owned and not writable by others.
    let mut prefixes: Vec<PathBuf> = path.ancestors().map(Path::to_path_buf).collect();
    prefixes.reverse();
    for p in prefixes.iter().filter(|p| !p.as_os_str().is_empty()) {
        let Some(m) = host.file_meta(p) else {
            diags.push(logged(
                loc,
                format!(
                    "check_script_secure could not find script '{}' - disabling",
                    path.display()
                ),
            ));
            f.not_found = true;
            return f;
        };
        let is_file = p == &path;
        let sticky_dir = !is_file && m.mode & 0o1000 != 0;
        let writable = (m.gid != 0 && m.mode & 0o020 != 0) || m.mode & 0o002 != 0;
        if m.uid != 0 || (!sticky_dir && writable) {
            diags.push(logged(
                loc,
                format!(
                    "Unsafe permissions found for script '{}'{}.",
                    path.display(),
                    if security { " - disabling" } else { "" }
                ),
            ));
            f.insecure = true;
            return f;
        }
    }
    f
}

/// keepalived's `check_check_script_security`: with scripts present and
/// `enable_script_security` off, a `Security` error (exit 6). Returns the scripts keepalived
/// will not run (not found, not executable, or insecure with `enable_script_security`).
fn script_security(
    config: &Config,
    scripts: &[&Script],
    users: &ScriptUsers,
    host: &dyn Host,
    diags: &mut Vec<Diagnostic>,
) -> Vec<*const Script> {
    let mut disabled: Vec<*const Script> = Vec::new();
    let mut any_script = false;
    let mut any_insecure = false;
    for s in scripts {
        let Some((uid, gid)) = users.of(s, host) else {
            continue;
        };
        let prog = s.argv.first().map(String::as_str).unwrap_or("");
        let f = script_flags(prog, uid, gid, users.security, s.loc, host, diags);
        any_script |= f.is_script;
        any_insecure |= f.insecure;
        if f.not_found || (f.insecure && users.security) || !(f.executable || f.system) {
            disabled.push(*s);
        }
        if f.not_found {
            diags.push(logged(
                s.loc,
                format!(
                    "Disabling misc script {} since not found/accessible",
                    cmd_str(s)
                ),
            ));
        } else if f.insecure && users.security {
            diags.push(logged(
                s.loc,
                format!("Disabling misc script {} due to insecure", cmd_str(s)),
            ));
        }
    }
    if any_script && !config.global.enable_script_security {
        diags.push(
            Diagnostic::error(
                None,
                format!(
                    "SECURITY VIOLATION - check scripts are being executed but script_security not enabled.{}",
                    if any_insecure { " There are insecure scripts." } else { "" }
                ),
            )
            .with_class(ConfigClass::Security)
            .with_hint("add 'enable_script_security' to global_defs"),
        );
    }
    disabled
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::{AssumeAll, FileMeta};
    use crate::{load_str, LoadOptions};
    use std::collections::HashMap;

    /// Counted diagnostics of `text` loaded on a host where everything exists.
    fn counted(text: &str) -> Vec<String> {
        let l = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
        l.diagnostics
            .iter()
            .filter(|d| d.class != ConfigClass::Ok)
            .map(|d| d.message.clone())
            .collect()
    }

    fn all(text: &str) -> Vec<String> {
        let l = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
        l.diagnostics.iter().map(|d| d.message.clone()).collect()
    }

    fn vs(header: &str, body: &str) -> String {
        format!("virtual_server {header} {{\n{body}\n}}\n")
    }

    const RS: &str = "real_server 10.0.0.2 80 {\n TCP_CHECK {\n }\n}";

    #[test]
    fn one_packet_needs_udp() {
        let t = vs(
            "10.0.0.1 80",
            &format!("lvs_sched rr\nlvs_method NAT\nprotocol TCP\nops\n{RS}"),
        );
        assert_eq!(
            counted(&t),
            vec![
                "Virtual server [10.0.0.1]:tcp:80: one packet scheduling requires UDP - resetting"
            ]
        );
    }

    #[test]
    fn zero_port_needs_persistence() {
        let t = vs(
            "10.0.0.1 0",
            &format!("lvs_sched rr\nlvs_method NAT\nprotocol TCP\n{RS}"),
        );
        assert_eq!(
            counted(&t),
            vec!["Virtual server [10.0.0.1]:tcp:0: zero port only valid for persistent services - setting"]
        );
        let t = vs(
            "10.0.0.1 0",
            &format!("lvs_sched rr\nlvs_method NAT\nprotocol TCP\npersistence_timeout 60\n{RS}"),
        );
        assert!(counted(&t).is_empty());
    }

    #[test]
    fn fwmark_rules() {
        let t = vs(
            "fwmark 5",
            "lvs_sched rr\nlvs_method DR\nprotocol TCP\nha_suspend\nsorry_server 10.0.0.9 80\nreal_server 10.0.0.2 80 {\n TCP_CHECK {\n }\n}",
        );
        assert_eq!(
            counted(&t),
            vec![
                "Virtual server FWM 5: cannot use ha_suspend with fwmarks - clearing ha_suspend",
                "Warning: Virtual server FWM 5: protocol specified for fwmark - protocol will be ignored",
                "WARNING - fwmark virtual server FWM 5, real server [10.0.0.2]:none:80 has port specified - clearing",
                "WARNING - virtual server FWM 5, sorry server has port specified - clearing",
            ]
        );
    }

    #[test]
    fn sorry_server_twin_inhibit_and_ports() {
        let t = vs(
            "10.0.0.1 80",
            "lvs_sched rr\nlvs_method DR\nprotocol TCP\nsorry_server 10.0.0.2 8080\nreal_server 10.0.0.2 8080 {\n inhibit_on_failure\n TCP_CHECK {\n }\n}",
        );
        assert_eq!(
            counted(&t),
            vec![
                "Virtual server [10.0.0.1]:tcp:80: real server [10.0.0.2]:tcp:8080 matches sorry server, but inhibit setting differs, setting on sorry server",
                "WARNING - virtual server [10.0.0.1]:tcp:80 and real server [10.0.0.2]:tcp:8080 ports don't match - resetting",
                "WARNING - virtual server [10.0.0.1]:tcp:80 and sorry server ports don't match - resetting",
            ]
        );
    }

    #[test]
    fn nat_allows_other_ports_and_sorry_server_without_method() {
        let t = vs(
            "10.0.0.1 80",
            "lvs_sched rr\nprotocol TCP\nsorry_server 10.0.0.9 8080\nreal_server 10.0.0.2 8080 {\n lvs_method NAT\n TCP_CHECK {\n }\n}",
        );
        assert_eq!(
            counted(&t),
            vec!["Virtual server [10.0.0.1]:tcp:80: no forwarding method set, setting default NAT"]
        );
    }

    #[test]
    fn group_links_and_checks() {
        let groups = "virtual_server_group g4 {\n 10.0.0.1-3 80\n fwmark 3\n}\nvirtual_server_group g6 {\n 2001:db8::1 0\n}\n";
        let body = "lvs_sched rr\nlvs_method DR\nprotocol TCP\nreal_server 10.0.0.2 81 {\n TCP_CHECK {\n }\n}";
        let t = format!(
            "{groups}{}{}",
            vs("group g4", body),
            vs("group g6", "lvs_sched rr\nlvs_method NAT\nprotocol TCP\nip_family inet\nreal_server 10.0.0.2 80 {\n TCP_CHECK {\n }\n}")
        );
        let msgs = all(&t);
        assert!(msgs.contains(
            &"WARNING - fwmark virtual server [g4]:0, real server [10.0.0.2]:tcp:81 has port specified - port will be ignored".to_string()
        ));
        assert!(msgs.contains(
            &"virtual server [g4]:0:[10.0.0.1-10.0.0.3,80] and real server [10.0.0.2]:tcp:81 ports don't match".to_string()
        ));
        assert!(msgs.contains(
            &"g6: address family doesn't match virtual server [g6]:0 - ignoring".to_string()
        ));
        // The g6 service was dropped before its own checks: no zero-port message for it.
        assert!(!msgs.iter().any(|m| m.contains("zero port")));
    }

    #[test]
    fn group_zero_port_needs_persistence() {
        let t = format!(
            "virtual_server_group g {{\n 10.0.0.1 0\n}}\n{}",
            vs(
                "group g",
                &format!("lvs_sched rr\nlvs_method NAT\nprotocol TCP\n{RS}")
            )
        );
        assert_eq!(
            counted(&t),
            vec!["Virtual server [g]:0: zero port only valid for persistent services - setting"]
        );
    }

    #[test]
    fn file_and_bfd_checks_need_their_targets() {
        let t = vs(
            "10.0.0.1 80",
            "lvs_sched rr\nlvs_method NAT\nprotocol TCP\nreal_server 10.0.0.2 80 {\n FILE_CHECK {\n  track_file nosuch\n }\n BFD_CHECK {\n  name nobfd\n }\n}",
        );
        assert_eq!(
            counted(&t),
            vec![
                "track_file nosuch not found",
                "FILE_CHECK has no track_file specified - ignoring"
            ]
        );
        assert!(all(&t)
            .contains(&"([10.0.0.2]:tcp:80) BFD_CHECK - BFD nobfd not configured".to_string()));
    }

    #[test]
    fn track_file_must_come_first() {
        let v = vs(
            "10.0.0.1 80",
            "lvs_sched rr\nlvs_method NAT\nprotocol TCP\nreal_server 10.0.0.2 80 {\n FILE_CHECK {\n  track_file tf\n }\n}",
        );
        let tf = "track_file tf {\n file /tmp/tf\n}\n";
        assert!(counted(&format!("{tf}{v}")).is_empty());
        assert_eq!(
            counted(&format!("{v}{tf}")),
            vec![
                "track_file tf not found",
                "FILE_CHECK has no track_file specified - ignoring"
            ]
        );
    }

    #[test]
    fn checker_without_port_is_noted() {
        let t = vs(
            "fwmark 1",
            "lvs_sched rr\nlvs_method NAT\nreal_server 10.0.0.2 {\n HTTP_GET {\n  url {\n   path /\n  }\n }\n}",
        );
        assert!(counted(&t).is_empty());
        assert!(all(&t).contains(
            &"HTTP_GET for real server [10.0.0.2]:none:0 has no port to connect to".to_string()
        ));
    }

    #[test]
    fn duplicate_services_are_noted() {
        let one = vs(
            "10.0.0.1 80",
            &format!("lvs_sched rr\nlvs_method NAT\nprotocol TCP\n{RS}"),
        );
        let t = format!("{one}{one}");
        assert!(counted(&t).is_empty());
        assert!(all(&t)
            .contains(&"virtual server [10.0.0.1]:80 is configured more than once".to_string()));
    }

    #[test]
    fn misc_script_users() {
        let body = "lvs_sched rr\nlvs_method NAT\nprotocol TCP\nreal_server 10.0.0.2 80 {\n MISC_CHECK {\n  misc_path \"/bin/check a\"\n }\n}";
        // enable_script_security without a usable default user: the checker is removed.
        let t = format!(
            "global_defs {{\n enable_script_security\n}}\n{}",
            vs("10.0.0.1 80", body)
        );
        struct NoScriptUser;
        impl Host for NoScriptUser {
            fn interface_exists(&self, _: &str) -> bool {
                true
            }
            fn user_exists(&self, n: &str) -> bool {
                n == "root"
            }
            fn group_exists(&self, _: &str) -> bool {
                true
            }
            fn file_meta(&self, p: &Path) -> Option<FileMeta> {
                AssumeAll.file_meta(p)
            }
            fn resolves(&self, _: &str) -> bool {
                true
            }
        }
        let l = load_str("t.conf", &t, &LoadOptions::default(), &NoScriptUser);
        let msgs: Vec<_> = l
            .diagnostics
            .iter()
            .filter(|d| d.class != ConfigClass::Ok && d.message.contains("misc"))
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(
            msgs,
            vec!["Unable to set default user for misc script '/bin/check' 'a' - removing"]
        );
        assert_eq!(crate::exit_code(&l.diagnostics), 5);
    }

    /// A file system given as a table: path -> (uid, gid, mode, is_dir).
    struct Fs(HashMap<&'static str, (u32, u32, u32, bool)>);

    impl Host for Fs {
        fn interface_exists(&self, _: &str) -> bool {
            true
        }
        fn user_exists(&self, _: &str) -> bool {
            true
        }
        fn group_exists(&self, _: &str) -> bool {
            true
        }
        fn file_meta(&self, p: &Path) -> Option<FileMeta> {
            let (uid, gid, mode, is_dir) = *self.0.get(p.to_str()?)?;
            Some(FileMeta {
                uid,
                gid,
                mode,
                is_dir,
                executable: mode & 0o111 != 0,
            })
        }
        fn resolves(&self, _: &str) -> bool {
            true
        }
    }

    fn fs() -> Fs {
        Fs(HashMap::from([
            ("/", (0, 0, 0o755, true)),
            ("/usr", (0, 0, 0o755, true)),
            ("/usr/bin", (0, 0, 0o755, true)),
            ("/usr/bin/ok", (0, 0, 0o755, false)),
            ("/usr/bin/noexec", (0, 0, 0o644, false)),
            ("/tmp", (0, 0, 0o1777, true)),
            ("/tmp/ok", (0, 0, 0o755, false)),
            ("/home", (0, 0, 0o755, true)),
            ("/home/u", (1000, 1000, 0o755, true)),
            ("/home/u/x", (0, 0, 0o755, false)),
            ("/srv", (0, 0, 0o777, true)),
            ("/srv/x", (0, 0, 0o755, false)),
        ]))
    }

    fn flags(prog: &str, uid: u32) -> ScriptFlags {
        let mut d = Vec::new();
        script_flags(prog, uid, uid, false, None, &fs(), &mut d)
    }

    #[test]
    fn script_security_flags() {
        let ok = flags("/usr/bin/ok", 0);
        assert!(ok.is_script && ok.executable && !ok.insecure);
        // Bare names are searched in $PATH.
        assert!(flags("ok", 0).is_script);
        assert!(flags("missing", 0).not_found);
        assert!(flags("/nope/x", 0).not_found);
        assert!(!flags("/usr/bin/noexec", 0).executable);
        // A sticky world-writable directory is fine; a non-root-owned or world-writable one
        // is not.
        assert!(!flags("/tmp/ok", 0).insecure);
        assert!(flags("/home/u/x", 0).insecure);
        assert!(flags("/srv/x", 0).insecure);
        // A non-root user runs it: no path check.
        assert!(!flags("/srv/x", 1000).insecure);
        assert!(flags("</etc/passwd", 0).system);
    }

    /// The MISC_CHECK scripts left in the model after validation on [`fs`].
    fn misc_left(security: bool) -> Vec<String> {
        let rs = ["/srv/x", "/usr/bin/ok", "/usr/bin/noexec", "/nope/x"]
            .iter()
            .enumerate()
            .map(|(i, p)| {
                format!(
                    "real_server 10.0.0.{} 80 {{\n MISC_CHECK {{\n  misc_path {p}\n }}\n}}\n",
                    i + 2
                )
            })
            .collect::<String>();
        let t = format!(
            "global_defs {{\n script_user root\n{}}}\n{}",
            if security {
                " enable_script_security\n"
            } else {
                ""
            },
            vs(
                "10.0.0.1 80",
                &format!("lvs_sched rr\nlvs_method NAT\nprotocol TCP\n{rs}")
            )
        );
        let l = load_str("t.conf", &t, &LoadOptions::default(), &fs());
        l.config.virtual_servers[0]
            .real_servers
            .iter()
            .flat_map(|r| &r.checkers)
            .filter_map(|c| match c {
                Checker::Misc(m) => m.path.as_ref().map(|s| s.command.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn refused_misc_scripts_leave_the_model() {
        // Not found and not executable are removed either way; the insecure one (root, in a
        // world-writable directory) only with enable_script_security.
        assert_eq!(misc_left(true), vec!["/usr/bin/ok"]);
        assert_eq!(misc_left(false), vec!["/srv/x", "/usr/bin/ok"]);
    }

    #[test]
    fn formats_follow_keepalived() {
        assert_eq!(
            fmt_vsge(&VsgMember::Range {
                first: "10.0.0.1".parse().unwrap(),
                last: "10.0.0.9".parse().unwrap(),
                port: None
            }),
            "10.0.0.1-10.0.0.9,0"
        );
        assert_eq!(
            fmt_rs(&"2001:db8::1".parse().unwrap(), 80, Some(LvsProtocol::Sctp)),
            "[2001:db8::1]:sctp:80"
        );
        let s = Script {
            command: "/x a".into(),
            argv: vec!["/x".into(), "a".into()],
            user: None,
            loc: None,
        };
        assert_eq!(cmd_str(&s), "'/x' 'a'");
    }
}
