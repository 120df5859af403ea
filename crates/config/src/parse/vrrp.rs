//! `vrrp_instance`, `vrrp_script` and `vrrp_sync_group` blocks.

use super::address::{parse_address_entry, parse_route_entry, AddressKind};
use super::framework::{block, either, kw, walk, Ctx, Keyword, Node};
use crate::diag::Diagnostic;
use crate::model::vrrp::{
    AuthType, Authentication, InitialState, Ipvlan, Notify, TrackRef, Trackers,
    UnicastChecksumCompat, UnicastPeer,
};
use crate::model::{Config, Script, ScriptUser, SyncGroup, VrrpInstance, VrrpScript};
use std::time::Duration;

/// keepalived's `TIMER_MAX_SEC`.
const TIMER_MAX_SECS: u64 = 4294;

/// `vrrp_instance NAME { ... }`.
pub fn vrrp_instance(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let args = node.args();
    let [name] = args else {
        ctx.warn(node.loc(), "vrrp_instance must have a name");
        return;
    };
    if !ctx.define("vrrp_instance", name.text) {
        ctx.warn(
            node.loc(),
            format!("vrrp instance {} already defined", name.text),
        );
        return;
    }
    let mut inst = VrrpInstance::new(name.text.to_string(), Some(node.loc()));
    walk(ctx, &mut inst, node.children(), INSTANCE);
    instance_end(ctx, &mut inst);
    unique_vmac_name(ctx, config, &mut inst);
    config.vrrp_instances.push(inst);
}

/// keepalived's end-of-block checks for an instance (`vrrp_end_handler`).
fn instance_end(ctx: &mut Ctx, inst: &mut VrrpInstance) {
    let loc = inst.loc;
    if inst.unicast_configured && (inst.use_vmac.is_some() || inst.use_ipvlan.is_some()) {
        if inst.interface.is_none() {
            ctx.push(Diagnostic::warning(
                loc,
                format!(
                    "({}): Cannot use VMAC/ipvlan with unicast and no interface - clearing use_vmac",
                    inst.name
                ),
            ));
            inst.use_vmac = None;
            inst.use_ipvlan = None;
        } else if !inst.vmac_xmit_base {
            ctx.push(Diagnostic::warning(
                loc,
                format!(
                    "({}) unicast with use_vmac requires vmac_xmit_base - setting",
                    inst.name
                ),
            ));
            inst.vmac_xmit_base = true;
        }
    }
    if inst.unicast_peers.is_empty() && inst.unicast_ttl.is_some() {
        ctx.push(Diagnostic::warning(
            loc,
            format!(
                "({}): Cannot use unicast_ttl without unicast peers - resetting",
                inst.name
            ),
        ));
        inst.unicast_ttl = None;
    }
}

/// A VMAC/ipvlan interface name may be used by one instance only.
fn unique_vmac_name(ctx: &mut Ctx, config: &Config, inst: &mut VrrpInstance) {
    let mine = inst
        .use_vmac
        .as_ref()
        .and_then(|v| v.name.clone())
        .or_else(|| inst.use_ipvlan.as_ref().and_then(|v| v.name.clone()));
    let Some(mine) = mine else { return };
    if ctx.define("vmac_name", &mine) {
        return;
    }
    let other = config.vrrp_instances.iter().find(|o| {
        o.use_vmac.as_ref().and_then(|v| v.name.as_deref()) == Some(mine.as_str())
            || o.use_ipvlan.as_ref().and_then(|v| v.name.as_deref()) == Some(mine.as_str())
    });
    if let Some(o) = other {
        ctx.push(Diagnostic::warning(
            inst.loc,
            format!(
                "({}) VRRP instance {} is already using {mine} - ignoring name",
                inst.name, o.name
            ),
        ));
        if let Some(v) = &mut inst.use_vmac {
            v.name = None;
        }
        if let Some(v) = &mut inst.use_ipvlan {
            v.name = None;
        }
    }
}

fn notify_slot<'a>(notify: &'a mut Notify, keyword: &str) -> Option<&'a mut Option<Box<Script>>> {
    Some(match keyword {
        "notify_master" => &mut notify.master,
        "notify_backup" => &mut notify.backup,
        "notify_fault" => &mut notify.fault,
        "notify_stop" => &mut notify.stop,
        "notify_deleted" => &mut notify.deleted,
        "notify" => &mut notify.generic,
        "notify_master_rx_lower_pri" => &mut notify.master_rx_lower_pri,
        _ => return None,
    })
}

/// A `notify*` keyword: one script per kind; a second one is reported and ignored.
fn set_notify(ctx: &mut Ctx, owner: &str, notify: &mut Notify, node: &Node) {
    let keyword = node.keyword();
    if keyword == "notify_deleted" {
        notify.notify_deleted = true;
        if node.args().is_empty() {
            return;
        }
    }
    let Some(slot) = notify_slot(notify, keyword) else {
        return;
    };
    if slot.is_some() {
        let what = node.arg(0).map_or("", |t| t.text);
        ctx.warn(
            node.loc(),
            format!("({owner}) {keyword} script already specified - ignoring {what}"),
        );
        return;
    }
    *slot = ctx.script_arg(node).map(Box::new);
}

fn opt_bool(ctx: &mut Ctx, node: &Node, owner: &str) -> Option<bool> {
    match node.arg(0) {
        None => Some(true),
        Some(tok) => match super::framework::parse_bool_text(tok.text) {
            Some(v) => Some(v),
            None => {
                ctx.warn(
                    tok.loc,
                    format!(
                        "({owner}) invalid {} {} specified",
                        node.keyword(),
                        tok.text
                    ),
                );
                None
            }
        },
    }
}

/// Which tracker list a `track_*` block fills, and its weight range.
fn track_block(ctx: &mut Ctx, owner: &str, track: &mut Trackers, node: &Node) {
    let (list, what, lo, hi) = match node.keyword() {
        "track_interface" => (&mut track.interfaces, "track_interface", -254, 254),
        "track_script" => (&mut track.scripts, "track_script", -254, 254),
        "track_file" => (&mut track.files, "track_file", -254, 254),
        "track_process" => (&mut track.processes, "track_process", -254, 254),
        _ => (&mut track.bfds, "track_bfd", -253, 253),
    };
    // Sized for the block (a list grown one by one holds room for twice as many): a large
    // configuration has one of these per instance.
    list.reserve_exact(node.children().len());
    for entry in ctx.value_block(node) {
        if let Some(r) = track_ref(ctx, owner, what, entry, lo, hi) {
            if list.iter().any(|e| e.name == r.name) {
                ctx.warn(
                    entry.loc(),
                    format!("({owner}) duplicate {what} {} - ignoring", r.name),
                );
                continue;
            }
            list.push(r);
        }
    }
}

/// `NAME [weight N [reverse|noreverse]]`.
fn track_ref(
    ctx: &mut Ctx,
    owner: &str,
    what: &str,
    entry: &Node,
    lo: i64,
    hi: i64,
) -> Option<TrackRef> {
    let toks = &entry.line.tokens;
    let name = toks.first()?.text;
    let mut r = TrackRef {
        name: name.to_string(),
        weight: None,
        reverse: false,
        loc: Some(entry.loc()),
    };
    let Some(opt) = toks.get(1) else {
        return Some(r);
    };
    if opt.text != "weight" {
        ctx.warn(
            opt.loc,
            format!(
                "({owner}) unknown {what} {name} option {} - ignoring",
                opt.text
            ),
        );
        return None;
    }
    let Some(w) = toks.get(2) else {
        ctx.warn(
            opt.loc,
            format!("({owner}) weight without value specified for {what} {name} - ignoring"),
        );
        return None;
    };
    match ctx.int(w, lo, hi) {
        Some(v) if v.abs() == 254 => {
            ctx.warn(
                w.loc,
                format!("({owner}) weight for {name} cannot be +/-254. Setting to +/-253"),
            );
            r.weight = Some(if v < 0 { -253 } else { 253 });
        }
        Some(v) => r.weight = i32::try_from(v).ok(),
        None => {
            ctx.warn(
                w.loc,
                format!(
                    "({owner}) weight {} for {name} must be between [{}..{}] inclusive. Ignoring...",
                    w.text,
                    lo.max(-253),
                    hi.min(253)
                ),
            );
            r.weight = Some(0);
        }
    }
    if let Some(o) = toks.get(3) {
        match o.text {
            "reverse" => r.reverse = true,
            "noreverse" => r.reverse = false,
            _ => ctx.warn(
                o.loc,
                format!(
                    "({owner}) unknown {what} {name} weight option {} - ignoring",
                    o.text
                ),
            ),
        }
    }
    Some(r)
}

fn set_timer_secs(ctx: &mut Ctx, node: &Node, owner: &str, what: &str) -> Option<Duration> {
    let tok = ctx.arg(node, 0)?;
    match ctx.int(tok, 0, i64::from(u32::MAX / 1_000_000)) {
        Some(v) => Some(Duration::from_secs(u64::try_from(v).unwrap_or(0))),
        None => {
            ctx.warn(
                tok.loc,
                format!("({owner}): {what} '{}' invalid - ignoring", tok.text),
            );
            None
        }
    }
}

fn set_repeat(ctx: &mut Ctx, node: &Node, owner: &str, what: &str) -> Option<u32> {
    let tok = ctx.arg(node, 0)?;
    match ctx.int(tok, 0, i64::from(u32::MAX)) {
        Some(0) => {
            ctx.warn(
                tok.loc,
                format!("({owner}): {what} must be greater than 0, setting to 1"),
            );
            Some(1)
        }
        Some(v) => u32::try_from(v).ok(),
        None => {
            ctx.warn(
                tok.loc,
                format!("({owner}): {what} '{}' invalid - ignoring", tok.text),
            );
            None
        }
    }
}

/// Sets or checks the instance's address family; `false` when `ip` does not match it.
fn family_ok(v: &mut VrrpInstance, ip: std::net::IpAddr) -> bool {
    match v.ipv6 {
        None => {
            v.ipv6 = Some(ip.is_ipv6());
            true
        }
        Some(f) => f == ip.is_ipv6(),
    }
}

fn src_ip(ctx: &mut Ctx, v: &mut VrrpInstance, node: &Node) {
    let Some(tok) = ctx.arg(node, 0) else { return };
    // keepalived's address parser ignores a trailing /prefix here.
    let text = tok.text.split('/').next().unwrap_or("");
    match super::framework::parse_ip_text(text) {
        Some(ip) if !family_ok(v, ip) => ctx.warn(
            tok.loc,
            format!(
                "Configuration error: VRRP instance[{}] and src address[{}] MUST be of the same family !!! Skipping...",
                v.name, tok.text
            ),
        ),
        Some(ip) => v.src_ip = Some(ip),
        None => ctx.warn(
            tok.loc,
            format!(
                "Configuration error: VRRP instance[{}] malformed src address[{}]. Skipping...",
                v.name, tok.text
            ),
        ),
    }
}

fn vmac(ctx: &mut Ctx, v: &mut VrrpInstance, node: &Node) {
    let mut vm = v.use_vmac.take().unwrap_or_default();
    for tok in node.args().iter().take(2) {
        if tok.text.contains(':') {
            if vm.mac.is_some() {
                ctx.warn(tok.loc, "VMAC interface address already specified");
            } else if valid_mac(tok.text) {
                vm.mac = Some(tok.text.to_string());
            } else {
                ctx.warn(
                    tok.loc,
                    format!("VMAC invalid MAC address {} - ignored", tok.text),
                );
            }
        } else if vm.name.is_some() {
            ctx.warn(tok.loc, "VMAC interface name already specified");
        } else if super::framework::valid_ifname(tok.text) {
            vm.name = Some(tok.text.to_string());
        } else {
            ctx.warn(
                tok.loc,
                format!(
                    "VMAC interface name '{}' too long or invalid characters - ignoring",
                    tok.text
                ),
            );
        }
    }
    v.use_vmac = Some(vm);
}

fn valid_mac(s: &str) -> bool {
    let parts: Vec<&str> = s.trim_end_matches(':').split(':').collect();
    (parts.len() == 5 || parts.len() == 6)
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 2 && p.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn ipvlan(ctx: &mut Ctx, v: &mut VrrpInstance, node: &Node) {
    if v.use_ipvlan.is_some() {
        ctx.warn(
            node.loc(),
            format!("({}) use_ipvlan already specified", v.name),
        );
        return;
    }
    let mut ipv = Ipvlan::default();
    for tok in node.args() {
        match tok.text {
            "bridge" | "private" | "vepa" => {
                if ipv.mode.is_some() {
                    ctx.warn(
                        tok.loc,
                        format!(
                            "({}) ipvlan type already specified - ignoring '{}'",
                            v.name, tok.text
                        ),
                    );
                } else {
                    ipv.mode = Some(tok.text.to_string());
                }
            }
            t => {
                if let Some((ip, _)) = super::framework::parse_prefix_text(t) {
                    if ipv.addr.is_some() {
                        ctx.warn(
                            tok.loc,
                            format!(
                                "({}) ipvlan address already specified - ignoring '{t}'",
                                v.name
                            ),
                        );
                    } else {
                        ipv.addr = Some(ip);
                        if v.src_ip.is_none() {
                            v.src_ip = Some(ip);
                        }
                    }
                } else if ipv.name.is_some() {
                    ctx.warn(
                        tok.loc,
                        format!(
                            "({}) IPVLAN interface already specified - ignoring '{t}'",
                            v.name
                        ),
                    );
                } else if t.len() >= 16 {
                    ctx.warn(
                        tok.loc,
                        format!(
                            "({}) IPVLAN interface name '{t}' too long - ignoring",
                            v.name
                        ),
                    );
                } else {
                    ipv.name = Some(t.to_string());
                }
            }
        }
    }
    v.use_ipvlan = Some(ipv);
}

fn unicast_peers(ctx: &mut Ctx, v: &mut VrrpInstance, node: &Node) {
    v.unicast_configured = true;
    for entry in ctx.value_block(node) {
        let toks = &entry.line.tokens;
        let Some(first) = toks.first() else { continue };
        let Some(addr) = super::framework::parse_ip_text(first.text) else {
            ctx.warn(
                first.loc,
                format!(
                    "Configuration error: VRRP instance[{}] malformed unicast peer address[{}]. Skipping...",
                    v.name, first.text
                ),
            );
            continue;
        };
        let mut peer = UnicastPeer {
            addr,
            min_ttl: None,
            max_ttl: None,
        };
        let mut i = 1;
        while let Some(opt) = toks.get(i) {
            let slot = match opt.text {
                "min_ttl" => &mut peer.min_ttl,
                "max_ttl" => &mut peer.max_ttl,
                other => {
                    ctx.warn(
                        opt.loc,
                        format!("({}) Unknown unicast_peer option {other}", v.name),
                    );
                    i += 1;
                    continue;
                }
            };
            match toks.get(i + 1) {
                Some(val) => {
                    if let Some(n) = ctx.int(val, 0, 255) {
                        *slot = u8::try_from(n).ok();
                    }
                }
                None => ctx.warn(
                    opt.loc,
                    format!("({}) {} requires a value", v.name, opt.text),
                ),
            }
            i += 2;
        }
        if let (Some(lo), Some(hi)) = (peer.min_ttl, peer.max_ttl) {
            if lo > hi {
                ctx.warn(
                    first.loc,
                    format!(
                        "({}) unicast peer min_ttl {lo} > max_ttl {hi} - ignoring",
                        v.name
                    ),
                );
                peer.min_ttl = None;
                peer.max_ttl = None;
            }
        }
        if !family_ok(v, peer.addr) {
            ctx.warn(
                first.loc,
                format!(
                    "Configuration error: VRRP instance[{}] and unicast peer address[{}] MUST be of the same family !!! Skipping...",
                    v.name, first.text
                ),
            );
            continue;
        }
        v.unicast_peers.push(peer);
    }
}

fn addresses(ctx: &mut Ctx, v: &mut VrrpInstance, node: &Node) {
    let excluded = node.keyword() == "virtual_ipaddress_excluded";
    // Sized for the block, as in `track_block`.
    let entries = node.children().len();
    if excluded {
        v.virtual_ipaddress_excluded.reserve_exact(entries);
    } else {
        v.virtual_ipaddress.reserve_exact(entries);
    }
    for entry in ctx.value_block(node) {
        if let Some(a) = parse_address_entry(ctx, entry, AddressKind::Virtual) {
            if excluded {
                v.virtual_ipaddress_excluded.push(a);
            } else if !family_ok(v, a.addr) {
                let text = entry.keyword().to_string();
                ctx.warn(
                    entry.loc(),
                    format!(
                        "({}): address family must match VRRP instance [{text}] - ignoring",
                        v.name
                    ),
                );
            } else {
                v.virtual_ipaddress.push(a);
            }
        }
    }
}

fn auth_type(ctx: &mut Ctx, v: &mut VrrpInstance, node: &Node) {
    let Some(tok) = ctx.arg(node, 0) else { return };
    let t = match tok.text {
        "PASS" => AuthType::Pass,
        "AH" => AuthType::Ah,
        other => {
            ctx.warn(
                tok.loc,
                format!("({}) unknown authentication type '{other}'", v.name),
            );
            return;
        }
    };
    v.authentication
        .get_or_insert(Authentication {
            auth_type: None,
            auth_pass: None,
        })
        .auth_type = Some(t);
}

fn auth_pass(ctx: &mut Ctx, v: &mut VrrpInstance, node: &Node) {
    let Some(tok) = ctx.arg(node, 0) else { return };
    let mut pass = tok.text.to_string();
    if pass.len() > 8 {
        ctx.push(
            Diagnostic::warning(Some(tok.loc), "Truncating auth_pass to 8 characters")
                .with_len(tok.text.chars().count())
                .with_hint("VRRPv2 PASS authentication carries at most 8 bytes"),
        );
        let mut end = 8;
        while !pass.is_char_boundary(end) {
            end -= 1;
        }
        pass.truncate(end);
    }
    v.authentication
        .get_or_insert(Authentication {
            auth_type: None,
            auth_pass: None,
        })
        .auth_pass = Some(pass);
}

const AUTH: &[Keyword<VrrpInstance>] = &[kw("auth_type", auth_type), kw("auth_pass", auth_pass)];

fn not_impl(ctx: &mut Ctx, v: &mut VrrpInstance, node: &Node) {
    ctx.not_implemented(node);
    v.not_implemented.push(node.keyword().to_string());
}

/// The `vrrp_instance` keyword table.
pub(crate) const INSTANCE: &[Keyword<VrrpInstance>] = &[
    kw("state", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match tok.text {
            "MASTER" => v.state = Some(InitialState::Master),
            "BACKUP" => {
                if v.state == Some(InitialState::Master) {
                    c.warn(
                        tok.loc,
                        format!(
                            "({}) state previously set as MASTER - ignoring BACKUP",
                            v.name
                        ),
                    );
                } else {
                    v.state = Some(InitialState::Backup);
                }
            }
            other => {
                let hint = super::framework::did_you_mean(other, ["MASTER", "BACKUP"].into_iter());
                let mut d = Diagnostic::warning(
                    Some(tok.loc),
                    format!("({}) unknown state '{other}', defaulting to BACKUP", v.name),
                )
                .with_len(other.chars().count());
                if let Some(h) = hint {
                    d = d.with_hint(format!("did you mean '{h}'?"));
                }
                c.push(d);
                v.state = Some(InitialState::Backup);
            }
        }
    }),
    kw("interface", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        if tok.text.len() >= 16 {
            c.warn(
                tok.loc,
                format!("Interface name '{}' too long - ignoring", tok.text),
            );
            return;
        }
        v.interface = Some(tok.text.to_string());
        v.interface_loc = Some(tok.loc);
    }),
    kw("vrf", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        if v.interface.is_some() {
            c.warn(
                tok.loc,
                format!(
                    "({}) Cannot specify VRF interface and interface - ignoring",
                    v.name
                ),
            );
            return;
        }
        v.vrf = Some(tok.text.to_string());
    }),
    kw("virtual_router_id", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, 1, 255) {
            Some(id) => v.virtual_router_id = u8::try_from(id).ok(),
            None => c.warn(
                tok.loc,
                format!(
                    "({}): VRID '{}' not valid - must be between 1 & 255",
                    v.name, tok.text
                ),
            ),
        }
    }),
    kw("priority", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        v.priority_loc = Some(tok.loc);
        match c.int(tok, 1, 255) {
            Some(p) => v.priority = u8::try_from(p).ok(),
            None => {
                c.push(
                    Diagnostic::warning(
                        Some(tok.loc),
                        format!(
                            "({}) Priority not valid! must be between 1 & 255. Using default 100",
                            v.name
                        ),
                    )
                    .with_len(tok.text.chars().count()),
                );
                v.priority = Some(100);
            }
        }
    }),
    kw("advert_int", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        v.advert_int_loc = Some(tok.loc);
        match c.timer(tok, Duration::from_millis(10), Duration::from_secs(255)) {
            Some(d) if !d.is_zero() => v.advert_int = d,
            _ => c.warn(
                tok.loc,
                format!(
                    "({}) Advert interval ({}) not valid! Must be > 0 - ignoring",
                    v.name, tok.text
                ),
            ),
        }
    }),
    kw("version", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, 2, 3) {
            Some(ver) => {
                let ver = u8::try_from(ver).unwrap_or(2);
                if v.version.is_some_and(|o| o != ver) || (ver == 2 && v.ipv6 == Some(true)) {
                    c.warn(
                        tok.loc,
                        format!(
                            "({}) vrrp_version {ver} conflicts with configured or deduced version {}; ignoring.",
                            v.name,
                            v.version.unwrap_or(3)
                        ),
                    );
                } else {
                    v.version = Some(ver);
                }
            }
            None => c.warn(
                tok.loc,
                format!("({}): Version must be either 2 or 3", v.name),
            ),
        }
    }),
    kw("native_ipv6", |c, v, n| {
        if v.virtual_ipaddress
            .first()
            .is_some_and(|a| a.addr.is_ipv4())
        {
            c.warn(
                n.loc(),
                format!(
                    "({}) Cannot specify native_ipv6 with IPv4 addresses",
                    v.name
                ),
            );
            return;
        }
        v.native_ipv6 = true;
        v.ipv6 = Some(true);
        v.version = Some(3);
    }),
    block("virtual_ipaddress", addresses),
    block("virtual_ipaddress_excluded", addresses),
    block("virtual_routes", |c, v, n| {
        for e in c.value_block(n) {
            if let Some(r) = parse_route_entry(c, e, false) {
                v.virtual_routes.push(r);
            }
        }
    }),
    block("virtual_rules", |c, v, n| {
        for e in c.value_block(n) {
            if let Some(r) = parse_route_entry(c, e, true) {
                v.virtual_rules.push(r);
            }
        }
    }),
    kw("mcast_src_ip", src_ip),
    kw("unicast_src_ip", |c, v, n| {
        v.unicast_configured = true;
        src_ip(c, v, n);
    }),
    kw("mcast_dst_ip", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match super::framework::parse_ip_text(tok.text) {
            Some(ip) if !family_ok(v, ip) => c.warn(
                tok.loc,
                format!(
                    "({}) mcast dest address {} MUST match VRRP instance family. Skipping...",
                    v.name, tok.text
                ),
            ),
            Some(ip) if ip.is_multicast() => v.mcast_dst_ip = Some(ip),
            Some(ip) => c.warn(
                tok.loc,
                format!(
                    "({}) mcast_dst_ip {} not{} multicast. Skipping...",
                    v.name,
                    tok.text,
                    if ip.is_ipv6() { " link-local" } else { "" }
                ),
            ),
            None => c.warn(
                tok.loc,
                format!(
                    "({}) malformed mcast dest address {}. Skipping...",
                    v.name, tok.text
                ),
            ),
        }
    }),
    kw("track_src_ip", |_, v, _| v.track_src_ip = true),
    either("unicast_peer", unicast_peers),
    kw("unicast_ttl", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, 0, 255) {
            Some(t) => v.unicast_ttl = u8::try_from(t).ok(),
            None => c.warn(
                tok.loc,
                format!(
                    "({}): TTL '{}' not valid - must be between 0 & 255",
                    v.name, tok.text
                ),
            ),
        }
    }),
    kw("unicast_fault_no_peer", |_, v, _| {
        v.unicast_configured = true;
        v.unicast_fault_no_peer = true;
    }),
    kw("check_unicast_src", |_, v, _| {
        v.unicast_configured = true;
        v.check_unicast_src = true;
    }),
    kw("old_unicast_checksum", |c, v, n| {
        v.unicast_configured = true;
        match n.arg(0) {
            None => v.old_unicast_checksum = Some(UnicastChecksumCompat::Old),
            Some(t) if t.text == "never" => {
                v.old_unicast_checksum = Some(UnicastChecksumCompat::Never)
            }
            Some(t) => c.warn(
                t.loc,
                format!(
                    "({}) Unknown old_unicast_chksum mode {} - ignoring",
                    v.name, t.text
                ),
            ),
        }
    }),
    kw("dont_track_primary", |_, v, _| v.dont_track_primary = true),
    either("track_interface", |c, v, n| {
        track_block(c, &v.name, &mut v.track, n)
    }),
    either("track_script", |c, v, n| {
        track_block(c, &v.name, &mut v.track, n)
    }),
    either("track_file", |c, v, n| {
        track_block(c, &v.name, &mut v.track, n)
    }),
    either("track_process", |c, v, n| {
        track_block(c, &v.name, &mut v.track, n)
    }),
    either("track_bfd", |c, v, n| {
        track_block(c, &v.name, &mut v.track, n)
    }),
    kw("notify_master", notify_kw),
    kw("notify_backup", notify_kw),
    kw("notify_fault", notify_kw),
    kw("notify_stop", notify_kw),
    kw("notify_deleted", notify_kw),
    kw("notify", notify_kw),
    kw("notify_master_rx_lower_pri", notify_kw),
    kw("smtp_alert", |c, v, n| match n.arg(0) {
        None => v.smtp_alert = Some(true),
        Some(t) => match super::framework::parse_bool_text(t.text) {
            Some(b) => v.smtp_alert = Some(b),
            None => c.warn(
                t.loc,
                format!("Invalid vrrp_instance smtp_alert parameter {}", t.text),
            ),
        },
    }),
    kw("notify_priority_changes", |c, v, n| match n.arg(0) {
        None => v.notify_priority_changes = Some(true),
        Some(t) => match super::framework::parse_bool_text(t.text) {
            Some(b) => v.notify_priority_changes = Some(b),
            None => c.warn(
                t.loc,
                format!(
                    "({}) Invalid value '{}' for notify_priority_changes specified",
                    v.name, t.text
                ),
            ),
        },
    }),
    block("authentication", |c, v, n| walk(c, v, n.children(), AUTH)),
    kw("use_vmac", vmac),
    kw("use_vmac_addr", |_, v, _| v.use_vmac_addr = true),
    kw("vmac_xmit_base", |_, v, _| v.vmac_xmit_base = true),
    kw("use_ipvlan", ipvlan),
    kw("nopreempt", |_, v, _| v.nopreempt = true),
    kw("preempt", |_, v, _| v.nopreempt = false),
    kw("preempt_delay", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.timer(tok, Duration::ZERO, Duration::from_secs(TIMER_MAX_SECS)) {
            Some(d) => v.preempt_delay = d,
            None => {
                c.warn(
                    tok.loc,
                    format!(
                        "({}) Preempt_delay not valid! must be between 0-{TIMER_MAX_SECS}",
                        v.name
                    ),
                );
                v.preempt_delay = Duration::ZERO;
            }
        }
    }),
    kw("garp_master_delay", |c, v, n| {
        if let Some(d) = set_timer_secs(c, n, &v.name, "garp_master_delay") {
            v.garp.master_delay = Some(d);
        }
    }),
    kw("garp_master_refresh", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, 0, i64::from(u32::MAX)) {
            Some(s) => {
                v.garp.master_refresh = Some(Duration::from_secs(u64::try_from(s).unwrap_or(0)))
            }
            None => {
                c.warn(
                    tok.loc,
                    format!(
                        "({}): Invalid garp_master_refresh '{}' - ignoring",
                        v.name, tok.text
                    ),
                );
                v.garp.master_refresh = Some(Duration::ZERO);
            }
        }
    }),
    kw("garp_master_repeat", |c, v, n| {
        if let Some(r) = set_repeat(c, n, &v.name, "garp_master_repeat") {
            v.garp.master_repeat = Some(r);
        }
    }),
    kw("garp_master_refresh_repeat", |c, v, n| {
        if let Some(r) = set_repeat(c, n, &v.name, "garp_master_refresh_repeat") {
            v.garp.master_refresh_repeat = Some(r);
        }
    }),
    kw("garp_lower_prio_delay", |c, v, n| {
        if let Some(d) = set_timer_secs(c, n, &v.name, "garp_lower_prio_delay") {
            v.garp.lower_prio_delay = Some(d);
        }
    }),
    kw("garp_lower_prio_repeat", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, 0, i64::from(i32::MAX)) {
            Some(r) => v.garp.lower_prio_repeat = u32::try_from(r).ok(),
            None => c.warn(
                tok.loc,
                format!(
                    "({}): Invalid garp_lower_prio_repeat '{}'",
                    v.name, tok.text
                ),
            ),
        }
    }),
    kw("down_timer_adverts", |c, v, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, 1, 100) {
            Some(r) => v.down_timer_adverts = u32::try_from(r).ok(),
            None => c.warn(
                tok.loc,
                format!(
                    "({}): Invalid down_timer_adverts [1:100] '{}'",
                    v.name, tok.text
                ),
            ),
        }
    }),
    kw("garp_extra_if", garp_extra_if),
    kw("vmac_garp_intvl", garp_extra_if),
    kw("lower_prio_no_advert", |c, v, n| {
        if let Some(b) = opt_bool(c, n, &v.name) {
            v.lower_prio_no_advert = Some(b);
        }
    }),
    kw("higher_prio_send_advert", |c, v, n| {
        if let Some(b) = opt_bool(c, n, &v.name) {
            v.higher_prio_send_advert = Some(b);
        }
    }),
    kw("skip_check_adv_addr", |c, v, n| {
        if opt_bool(c, n, &v.name).is_some() {
            // keepalived sets the flag for any valid boolean, even `off`.
            v.skip_check_adv_addr = Some(true);
        }
    }),
    kw("strict_mode", |c, v, n| {
        if let Some(b) = opt_bool(c, n, &v.name) {
            v.strict_mode = Some(b);
        }
    }),
    kw("accept", |_, v, _| v.accept = Some(true)),
    kw("no_accept", |_, v, _| v.accept = Some(false)),
    kw("debug", |c, v, n| {
        let Some(tok) = n.arg(0) else {
            v.debug = 0;
            return;
        };
        match c.int(tok, 0, 4) {
            Some(d) => v.debug = u32::try_from(d).unwrap_or(0),
            None => c.warn(
                tok.loc,
                format!(
                    "({}) Debug value '{}' not valid; must be between 0-4",
                    v.name, tok.text
                ),
            ),
        }
    }),
    kw("promote_secondaries", |_, v, _| {
        v.promote_secondaries = true
    }),
    kw("kernel_rx_buf_size", |c, v, n| match n.args() {
        [tok] => match super::framework::parse_int_text(tok.text) {
            Some(x) if (0..=i128::from(u32::MAX)).contains(&x) => {
                v.kernel_rx_buf_size = u32::try_from(x).ok()
            }
            _ => c.warn(
                n.loc(),
                format!("({}) invalid kernel_rx_buf_size specified", v.name),
            ),
        },
        _ => c.warn(
            n.loc(),
            format!("({}) invalid kernel_rx_buf_size specified", v.name),
        ),
    }),
    kw("linkbeat_use_polling", |c, v, n| {
        v.linkbeat_use_polling = true;
        c.warn(
            n.loc(),
            format!(
                "({}) 'linkbeat_use_polling' in vrrp instance deprecated - use linkbeat_interfaces block",
                v.name
            ),
        );
    }),
    kw("lvs_sync_daemon_interface", |c, v, n| {
        c.warn(
            n.loc(),
            format!(
                "({}) Specifying lvs_sync_daemon_interface against a vrrp is deprecated.",
                v.name
            ),
        );
        v.lvs_sync_daemon_interface = c.str_arg(n, 0);
    }),
    kw("timer_expired_backup", not_impl),
    kw("thread_timer_expired", not_impl),
    kw("owner_ignore_adverts", not_impl),
    kw("no_virtual_ipaddress", not_impl),
    kw("v3_checksum_as_v2", not_impl),
];

fn notify_kw(c: &mut Ctx, v: &mut VrrpInstance, n: &Node) {
    set_notify(c, &v.name, &mut v.notify, n);
}

fn garp_extra_if(c: &mut Ctx, v: &mut VrrpInstance, n: &Node) {
    let cmd = n.keyword().to_string();
    if cmd == "vmac_garp_intvl" {
        c.warn(
            n.loc(),
            "Keyword \"vmac_garp_intvl\" is deprecated - please use \"garp_extra_if\"",
        );
    }
    let mut all = false;
    let mut delay = None;
    for tok in n.args() {
        if tok.text == "all" {
            all = true;
        } else {
            match c.int(tok, 0, 86400) {
                Some(d) => delay = Some(Duration::from_secs(u64::try_from(d).unwrap_or(0))),
                None => {
                    c.warn(
                        tok.loc,
                        format!("({}): {cmd} '{}' invalid - ignoring", v.name, tok.text),
                    );
                    return;
                }
            }
        }
    }
    match delay {
        Some(d) => v.garp.extra_if = Some((d, all)),
        None => c.warn(
            n.loc(),
            format!("({}): {cmd} specified without time - ignoring", v.name),
        ),
    }
}

/// `vrrp_script NAME { ... }`.
pub fn vrrp_script(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let Some(name) = node.arg(0) else {
        ctx.arg(node, 0);
        return;
    };
    let mut s = VrrpScript::new(name.text.to_string(), Some(node.loc()));
    walk(ctx, &mut s, node.children(), SCRIPT);
    if s.script.is_none() {
        ctx.warn(
            node.loc(),
            format!("No script set for vrrp_script {} - removing", s.name),
        );
        return;
    }
    config.vrrp_scripts.push(s);
}

pub(crate) const SCRIPT: &[Keyword<VrrpScript>] = &[
    kw("script", |c, s, n| {
        if let Some(mut sc) = c.script_arg(n) {
            // `script` takes only the command: extra words are not a user.
            sc.user = None;
            s.script = Some(sc);
        }
    }),
    kw("interval", |c, s, n| {
        if let Some(d) = script_secs(c, s, n, "interval") {
            s.interval = d;
        }
    }),
    kw("timeout", |c, s, n| {
        if let Some(d) = script_secs(c, s, n, "timeout") {
            s.timeout = Some(d);
        }
    }),
    kw("weight", |c, s, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, -253, 253) {
            Some(w) => s.weight = i32::try_from(w).unwrap_or(0),
            None => c.warn(
                tok.loc,
                format!(
                    "vrrp_script {} weight {} must be in [-253, 253]",
                    s.name, tok.text
                ),
            ),
        }
        if let Some(o) = n.arg(1) {
            if o.text == "reverse" {
                s.weight_reverse = true;
            } else {
                c.warn(
                    o.loc,
                    format!("vrrp_script {} unknown weight option {}", s.name, o.text),
                );
            }
        }
    }),
    kw("rise", |c, s, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, 1, i64::from(i32::MAX)) {
            Some(v) => s.rise = u32::try_from(v).unwrap_or(1),
            None => {
                c.warn(
                    tok.loc,
                    format!(
                        "({}): vrrp script rise value '{}' invalid, defaulting to 1",
                        s.name, tok.text
                    ),
                );
                s.rise = 1;
            }
        }
    }),
    kw("fall", |c, s, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, 1, i64::from(i32::MAX)) {
            Some(v) => s.fall = u32::try_from(v).unwrap_or(1),
            None => {
                c.warn(
                    tok.loc,
                    format!(
                        "({}): vrrp script fall value '{}' invalid, defaulting to 1",
                        s.name, tok.text
                    ),
                );
                s.fall = 1;
            }
        }
    }),
    kw("user", |c, s, n| {
        if let Some(user) = c.str_arg(n, 0) {
            s.user = Some(ScriptUser {
                user,
                group: n.arg(1).map(|t| t.text.to_string()),
            });
        }
    }),
    kw("init_fail", |_, s, _| s.init_fail = true),
];

fn script_secs(c: &mut Ctx, s: &VrrpScript, n: &Node, what: &str) -> Option<Duration> {
    let tok = c.arg(n, 0)?;
    match c.int(tok, 0, i64::from(u32::MAX / 1_000_000)) {
        Some(0) => {
            c.warn(
                tok.loc,
                format!(
                    "({}): vrrp script {what} must be greater than 0, setting to 1",
                    s.name
                ),
            );
            Some(Duration::from_secs(1))
        }
        Some(v) => Some(Duration::from_secs(u64::try_from(v).unwrap_or(1))),
        None => {
            c.warn(
                tok.loc,
                format!(
                    "({}): vrrp script {what} '{}' invalid - ignoring",
                    s.name, tok.text
                ),
            );
            None
        }
    }
}

/// `vrrp_sync_group NAME { ... }`.
pub fn vrrp_sync_group(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let [name] = node.args() else {
        ctx.warn(node.loc(), "vrrp_sync_group must have a name - skipping");
        return;
    };
    if !ctx.define("vrrp_sync_group", name.text) {
        ctx.warn(
            node.loc(),
            format!("vrrp sync group {} already defined", name.text),
        );
        return;
    }
    let mut g = SyncGroup {
        name: name.text.to_string(),
        loc: Some(node.loc()),
        ..SyncGroup::default()
    };
    let mut have_group = false;
    for child in node.children() {
        if child.keyword() == "group" {
            if have_group {
                ctx.warn(
                    child.loc(),
                    format!("Group list already specified for sync group {}", g.name),
                );
                continue;
            }
            have_group = true;
            for e in child.children() {
                for t in e.line.tokens {
                    g.group.push(t.text.to_string());
                    g.group_locs.push(t.loc);
                }
            }
            if g.group.is_empty() {
                ctx.warn(
                    child.loc(),
                    format!("Warning - sync group {} has empty group block", g.name),
                );
            }
        } else {
            walk(ctx, &mut g, std::slice::from_ref(child), SYNC_GROUP);
        }
    }
    config.sync_groups.push(g);
}

fn group_notify(c: &mut Ctx, g: &mut SyncGroup, n: &Node) {
    let name = format!("vrrp group {}:", g.name);
    let keyword = n.keyword();
    let Some(slot) = notify_slot(&mut g.notify, keyword) else {
        return;
    };
    if slot.is_some() {
        let what = n.arg(0).map_or("", |t| t.text);
        c.warn(
            n.loc(),
            format!("{name} {keyword} script already specified - ignoring {what}"),
        );
        return;
    }
    *slot = c.script_arg(n).map(Box::new);
}

fn group_track(c: &mut Ctx, g: &mut SyncGroup, n: &Node) {
    track_block(c, &g.name, &mut g.track, n);
}

pub(crate) const SYNC_GROUP: &[Keyword<SyncGroup>] = &[
    block("group", |_, _, _| {}),
    either("track_interface", group_track),
    either("track_script", group_track),
    either("track_file", group_track),
    either("track_process", group_track),
    either("track_bfd", group_track),
    kw("notify_master", group_notify),
    kw("notify_backup", group_notify),
    kw("notify_fault", group_notify),
    kw("notify_stop", group_notify),
    kw("notify", group_notify),
    kw("smtp_alert", |c, g, n| match n.arg(0) {
        None => g.smtp_alert = Some(true),
        Some(t) => match super::framework::parse_bool_text(t.text) {
            Some(b) => g.smtp_alert = Some(b),
            None => c.warn(
                t.loc,
                format!("Invalid vrrp_group smtp_alert parameter {}", t.text),
            ),
        },
    }),
    kw("global_tracking", |c, g, n| {
        c.warn(
            n.loc(),
            format!(
                "({}) global_tracking is deprecated. Use track_interface/script/file on the sync group",
                g.name
            ),
        );
        g.sync_group_tracking_weight = true;
    }),
    kw("sync_group_tracking_weight", |_, g, _| {
        g.sync_group_tracking_weight = true
    }),
    kw("notify_priority_changes", |c, g, n| match n.arg(0) {
        None => g.notify_priority_changes = Some(true),
        Some(t) => match super::framework::parse_bool_text(t.text) {
            Some(b) => g.notify_priority_changes = Some(b),
            None => c.warn(
                t.loc,
                format!(
                    "({}) Invalid value '{}' for sync group notify_priority_changes specified",
                    g.name, t.text
                ),
            ),
        },
    }),
];

#[cfg(test)]
mod tests {
    use crate::model::vrrp::InitialState;
    use std::time::Duration;

    /// Parses only (no validation), so the model is exactly what was written.
    fn load(text: &str) -> crate::Loaded {
        let mut sources = crate::SourceMap::new();
        let mut diagnostics = Vec::new();
        let lines = crate::lexer::lex_str(
            std::path::Path::new("t.conf"),
            text.to_string(),
            &crate::lexer::PreprocessOptions::default(),
            &mut sources,
            &mut diagnostics,
        );
        let mut ctx = super::super::framework::Ctx::new();
        let tokens = lines.tokens();
        let config = super::super::parse(lines.lines(&tokens), &mut ctx);
        diagnostics.append(&mut ctx.diags);
        crate::Loaded {
            config,
            diagnostics,
            sources,
        }
    }

    #[test]
    fn typical_instance() {
        let l = load(
            "vrrp_instance VI_1 {\n state MASTER\n interface eth0\n virtual_router_id 51\n priority 150\n advert_int 2\n authentication {\n auth_type PASS\n auth_pass secret123\n }\n virtual_ipaddress {\n 10.0.0.1/24 dev eth0 label eth0:1\n 10.0.0.2\n }\n unicast_src_ip 10.0.0.10\n unicast_peer {\n 10.0.0.11 min_ttl 250\n }\n notify_master \"/bin/notify.sh master\"\n track_interface {\n eth1 weight -20\n }\n}\n",
        );
        let v = &l.config.vrrp_instances[0];
        assert_eq!(v.state, Some(InitialState::Master));
        assert_eq!(v.interface.as_deref(), Some("eth0"));
        assert_eq!(v.virtual_router_id, Some(51));
        assert_eq!(v.priority, Some(150));
        assert_eq!(v.advert_int, Duration::from_secs(2));
        assert_eq!(v.virtual_ipaddress.len(), 2);
        assert_eq!(v.virtual_ipaddress[0].prefix, 24);
        assert_eq!(v.virtual_ipaddress[0].label.as_deref(), Some("eth0:1"));
        assert_eq!(v.unicast_peers[0].min_ttl, Some(250));
        let auth = v.authentication.as_ref().map(|a| a.auth_pass.clone());
        assert_eq!(auth, Some(Some("secret12".into())));
        let nm = v.notify.master.as_ref().map(|s| s.argv.clone());
        assert_eq!(
            nm,
            Some(vec!["/bin/notify.sh".to_string(), "master".to_string()])
        );
        assert_eq!(v.track.interfaces[0].weight, Some(-20));
        let msgs: Vec<_> = l.diagnostics.iter().map(|d| d.message.clone()).collect();
        assert!(
            msgs.iter()
                .any(|m| m == "Truncating auth_pass to 8 characters"),
            "{msgs:?}"
        );
    }

    #[test]
    fn bad_priority_defaults_to_100() {
        let l = load("vrrp_instance V {\n priority 300\n}\n");
        assert_eq!(l.config.vrrp_instances[0].priority, Some(100));
        assert!(l
            .diagnostics
            .iter()
            .any(|d| d.message == "number '300' outside range [1, 255]"));
    }

    #[test]
    fn unknown_state_defaults_to_backup() {
        let l = load("vrrp_instance V {\n state MASTR\n}\n");
        assert_eq!(l.config.vrrp_instances[0].state, Some(InitialState::Backup));
        let d = l
            .diagnostics
            .iter()
            .find(|d| d.message.contains("unknown state"))
            .cloned();
        assert_eq!(
            d.and_then(|d| d.hint),
            Some("did you mean 'MASTER'?".into())
        );
    }

    #[test]
    fn scripts_and_groups() {
        let l = load(
            "vrrp_script chk {\n script \"/usr/bin/killall -0 haproxy\"\n interval 2\n weight -4 reverse\n fall 3\n rise 2\n user nobody\n}\nvrrp_script empty {\n interval 1\n}\nvrrp_sync_group G {\n group {\n A\n B\n }\n notify \"/bin/n\"\n}\n",
        );
        let s = &l.config.vrrp_scripts;
        assert_eq!(s.len(), 1);
        assert_eq!(s[0].interval, Duration::from_secs(2));
        assert_eq!(s[0].weight, -4);
        assert!(s[0].weight_reverse);
        assert_eq!((s[0].rise, s[0].fall), (2, 3));
        assert_eq!(s[0].user.as_ref().map(|u| u.user.as_str()), Some("nobody"));
        let argv = s[0].script.as_ref().map(|x| x.argv.len());
        assert_eq!(argv, Some(3));
        assert_eq!(l.config.sync_groups[0].group, vec!["A", "B"]);
        assert!(l
            .diagnostics
            .iter()
            .any(|d| d.message == "No script set for vrrp_script empty - removing"));
    }
}
