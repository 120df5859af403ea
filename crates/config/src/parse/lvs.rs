//! The LVS side of the parser: `virtual_server_group`, `virtual_server` (with its
//! `real_server` and checker blocks) and the top-level `SSL` block.
//!
//! The checks keepalived makes while reading these blocks (bad values, address-family
//! mismatches, incomplete checkers) are made here, with keepalived's messages, and the model
//! keeps what keepalived would keep: an invalid virtual or real server header skips its
//! block, a real server of the wrong family is dropped, an HTTP_GET without urls is dropped.
//! Whole-config checks (ports, quorum, scheduler and protocol defaults, script security)
//! are in `validate::lvs`.

use super::framework::{
    block, kw, parse_int_text, parse_ip_text, split_script, walk, Ctx, Keyword, Node,
};
use crate::lexer::Token;
use crate::model::lvs::*;
use crate::model::{Config, Script, ScriptUser};
use crate::source::Loc;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

/// `LVS_MAX_TIMEOUT`: 31 days, the largest `persistence_timeout`.
const LVS_MAX_TIMEOUT: u32 = 86400 * 31;
/// Largest timer keepalived reads (`UINT_MAX` µs) for connect timeouts.
const MAX_CONNECT_TIMEOUT: Duration = Duration::from_micros(u32::MAX as u64);
/// Largest timer otherwise (keepalived's `TIMER_MAXIMUM` is far beyond any sane value).
const MAX_TIMER: Duration = Duration::from_secs(u32::MAX as u64);
const ONE_US: Duration = Duration::from_micros(1);

// ---------------------------------------------------------------------------------------
// Small value helpers with keepalived's messages.

/// The keyword's first argument, or a "missing" report.
fn arg_text(c: &mut Ctx, n: &Node) -> Option<String> {
    c.str_arg(n, 0)
}

/// keepalived's `check_true_false`: exact lower-case words only.
fn true_false(s: &str) -> Option<bool> {
    match s {
        "true" | "on" | "yes" => Some(true),
        "false" | "off" | "no" => Some(false),
        _ => None,
    }
}

/// A flag keyword with an optional boolean; a bad value reports `what` and returns `None`.
fn opt_flag(c: &mut Ctx, n: &Node, what: &str) -> Option<bool> {
    match n.arg(0) {
        None => Some(true),
        Some(t) => match true_false(t.text) {
            Some(b) => Some(b),
            None => {
                c.warn(t.loc, format!("Invalid {what} parameter {}", t.text));
                None
            }
        },
    }
}

/// An unsigned number in `[min, max]`, keepalived style: the value problem is reported, then
/// `msg` (if any) names what was being set.
fn unsigned(c: &mut Ctx, n: &Node, min: u32, max: u32, msg: &str) -> Option<u32> {
    let tok = trimmed(c.arg(n, 0)?);
    let v = c.int(&tok, i64::from(min), i64::from(max));
    let out = v.and_then(|v| u32::try_from(v).ok());
    if out.is_none() && !msg.is_empty() {
        let text = msg.replace("{}", tok.text);
        c.warn(tok.loc, text);
    }
    out
}

/// A timer in `[min, max]`; a bad one reports `msg` (`{}` is the value) after the value error.
fn timer(c: &mut Ctx, n: &Node, min: Duration, max: Duration, msg: &str) -> Option<Duration> {
    let tok = trimmed(c.arg(n, 0)?);
    let v = c.timer(&tok, min, max);
    if v.is_none() {
        c.warn(tok.loc, msg.replace("{}", tok.text));
    }
    v
}

/// keepalived skips leading blanks in numbers (`weight "  5"`).
fn trimmed<'a>(tok: &Token<'a>) -> Token<'a> {
    let text = if tok.text.starts_with([' ', '\t']) {
        tok.text.trim_start()
    } else {
        tok.text
    };
    Token { text, ..*tok }
}

/// A port given to `virtual_server`/`real_server`/`sorry_server`: `None` or all zeros means
/// "no port"; otherwise it must be a number in 1..=65535.
fn port_text(s: Option<&str>) -> Result<u16, ()> {
    match s {
        None => Ok(0),
        Some(p) if !p.is_empty() && p.bytes().all(|b| b == b'0') => Ok(0),
        Some(p) => match parse_int_text(p) {
            Some(v) if (1..=65535).contains(&v) => u16::try_from(v).map_err(|_| ()),
            _ => Err(()),
        },
    }
}

/// A script keyword's value, split the way keepalived does: the first quoted-escaped word is
/// the command line (split again into argv), the next two the user and group.
fn script_value(c: &mut Ctx, n: &Node) -> Option<Script> {
    let words = split_script(n.rest_raw());
    let Some(cmd) = words.first() else {
        c.arg(n, 0);
        return None;
    };
    let argv = split_script(cmd);
    if argv.is_empty() {
        c.warn(
            n.loc(),
            format!("Unable to parse script '{cmd}' - ignoring"),
        );
        return None;
    }
    Some(Script {
        command: cmd.clone(),
        argv,
        user: words.get(1).map(|u| ScriptUser {
            user: u.clone(),
            group: words.get(2).cloned(),
        }),
        loc: Some(n.loc()),
    })
}

// ---------------------------------------------------------------------------------------
// SSL

const SSL: &[Keyword<SslConfig>] = &[
    kw("password", |c, s, n| {
        ssl_file(c, n, &mut s.password, "password")
    }),
    kw("ca", |c, s, n| ssl_file(c, n, &mut s.ca, "cafile")),
    kw("certificate", |c, s, n| {
        ssl_file(c, n, &mut s.certificate, "certfile")
    }),
    kw("key", |c, s, n| ssl_file(c, n, &mut s.key, "keyfile")),
];

fn ssl_file(c: &mut Ctx, n: &Node, slot: &mut Option<String>, what: &str) {
    let Some(v) = n.arg(0) else {
        c.warn(n.loc(), format!("SSL {what} missing"));
        return;
    };
    if slot.is_some() {
        c.warn(n.loc(), format!("SSL {what} already specified - replacing"));
    }
    *slot = Some(v.text.to_string());
}

/// The top-level `SSL { password; ca; certificate; key }` block.
pub fn ssl(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    if config.ssl.is_some() {
        ctx.warn(node.loc(), "SSL context already specified - replacing");
    }
    let mut s = SslConfig {
        loc: Some(node.loc()),
        ..SslConfig::default()
    };
    walk(ctx, &mut s, node.children(), SSL);
    config.ssl = Some(s);
}

// ---------------------------------------------------------------------------------------
// virtual_server_group

/// `virtual_server_group NAME { IP[-N|-IP|/LEN] [PORT]; fwmark N [inet|inet6] }`.
pub fn virtual_server_group(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let Some(name) = arg_text(ctx, node) else {
        return;
    };
    let mut vsg = VirtualServerGroup {
        name,
        members: Vec::new(),
        loc: Some(node.loc()),
    };
    for entry in node.children() {
        if entry.block.is_some() {
            ctx.warn(entry.loc(), "Unexpected '{' - ignoring");
        }
        if let Some(m) = vsg_entry(ctx, &vsg.name, entry) {
            vsg.members.push(m);
        }
    }
    let (has_v4, has_v6) = (vsg.has_ipv4(), vsg.has_ipv6());
    let fwmark_no_family = vsg.has_fwmark_without_family();
    if vsg.members.is_empty() {
        ctx.warn(
            node.loc(),
            format!(
                "virtual server group {} has no entries - removing",
                vsg.name
            ),
        );
        return;
    }
    if has_v4 && has_v6 && fwmark_no_family {
        ctx.warn(
            node.loc(),
            format!(
                "virtual server group {} cannot have IPv4, IPv6 and fwmark without family - removing",
                vsg.name
            ),
        );
        return;
    }
    config.virtual_server_groups.push(vsg);
}

fn vsg_entry(c: &mut Ctx, gname: &str, n: &Node) -> Option<VsgMember> {
    let first = n.keyword();
    if first == "fwmark" {
        let tok = c.arg(n, 0)?;
        let mark = match parse_int_text(tok.text).and_then(|v| u32::try_from(v).ok()) {
            Some(m) => m,
            None => {
                c.warn(
                    tok.loc,
                    format!(
                        "({gname}): fwmark '{}' must be in [0, {}] - ignoring",
                        tok.text,
                        u32::MAX
                    ),
                );
                return None;
            }
        };
        let family = match n.arg(1).map(|t| t.text) {
            None => None,
            Some("inet") => Some(IpFamily::Inet),
            Some("inet6") => Some(IpFamily::Inet6),
            Some(other) => {
                c.warn(
                    n.loc(),
                    format!("({gname}): fwmark '{mark}' family {other} unknown - ignoring"),
                );
                return None;
            }
        };
        return Some(VsgMember::Fwmark { mark, family });
    }

    let port_str = n.arg(0).map(|t| t.text);
    let bad_addr = |c: &mut Ctx| {
        let shown = match port_str {
            Some(p) => format!("{first} /port/{p}"),
            None => format!("{first} "),
        };
        c.warn(
            n.loc(),
            format!("Invalid virtual server group IP address {shown} - skipping"),
        );
    };
    let Ok(port) = port_text(port_str) else {
        bad_addr(c);
        return None;
    };
    let port = (port != 0).then_some(port);

    // IP/LEN: every address of the prefix, which must have no host bits set.
    if let Some((addr, len)) = first.split_once('/') {
        let Some(ip) = parse_ip_text(addr) else {
            bad_addr(c);
            return None;
        };
        let max = if ip.is_ipv4() { 32 } else { 128 };
        let len = match parse_int_text(len) {
            Some(l) if l >= 1 && l <= max => l as u32,
            _ => {
                c.warn(n.loc(), format!("Invalid netmask - {first} - skipping"));
                return None;
            }
        };
        let Some((lo, hi)) = prefix_range(ip, len) else {
            c.warn(
                n.loc(),
                format!("Address mask bits not empty - {first} - skipping"),
            );
            return None;
        };
        return Some(if lo == hi {
            VsgMember::Address { ip: lo, port }
        } else {
            VsgMember::Range {
                first: lo,
                last: hi,
                port,
            }
        });
    }

    // IP-IP or IP-N.
    if let Some((start, end)) = first.split_once('-') {
        let Some(ip) = parse_ip_text(start) else {
            bad_addr(c);
            return None;
        };
        let full_end = match ip {
            IpAddr::V4(_) => end.contains('.'),
            IpAddr::V6(_) => end.contains(':'),
        };
        if full_end {
            let Some(last) = parse_ip_text(end) else {
                c.warn(n.loc(), format!("Invalid range end {first} - skipping"));
                return None;
            };
            if last.is_ipv4() != ip.is_ipv4() {
                c.warn(
                    n.loc(),
                    format!("Range address families do not match {first} - skipping"),
                );
                return None;
            }
            if last < ip {
                c.warn(
                    n.loc(),
                    format!(
                        "Address range end is less than address range start - {first} - skipping"
                    ),
                );
                return None;
            }
            return Some(VsgMember::Range {
                first: ip,
                last,
                port,
            });
        }
        // The last octet (IPv4, decimal) or group (IPv6, hex) is replaced by N.
        let (last, start_val, end_val) = match ip {
            IpAddr::V4(v4) => {
                let Some(e) = end.parse::<u8>().ok().filter(|_| !end.is_empty()) else {
                    bad_addr(c);
                    return None;
                };
                let mut o = v4.octets();
                let s = o[3];
                o[3] = e;
                (IpAddr::V4(Ipv4Addr::from(o)), u32::from(s), u32::from(e))
            }
            IpAddr::V6(v6) => {
                let Some(e) = u16::from_str_radix(end, 16).ok() else {
                    bad_addr(c);
                    return None;
                };
                let mut s = v6.segments();
                let st = s[7];
                s[7] = e;
                (IpAddr::V6(Ipv6Addr::from(s)), u32::from(st), u32::from(e))
            }
        };
        if start_val >= end_val {
            c.warn(
                n.loc(),
                format!(
                    "Address range end is not greater than address range start - {first} - skipping"
                ),
            );
            return None;
        }
        return Some(VsgMember::Range {
            first: ip,
            last,
            port,
        });
    }

    let Some(ip) = parse_ip_text(first) else {
        bad_addr(c);
        return None;
    };
    Some(VsgMember::Address { ip, port })
}

/// First and last address of `ip/len`, or `None` if host bits are set.
fn prefix_range(ip: IpAddr, len: u32) -> Option<(IpAddr, IpAddr)> {
    match ip {
        IpAddr::V4(v4) => {
            let a = u32::from(v4);
            let host = u32::MAX.checked_shr(len).unwrap_or(0);
            (a & host == 0).then(|| (ip, IpAddr::V4(Ipv4Addr::from(a | host))))
        }
        IpAddr::V6(v6) => {
            let a = u128::from(v6);
            let host = u128::MAX.checked_shr(len).unwrap_or(0);
            (a & host == 0).then(|| (ip, IpAddr::V6(Ipv6Addr::from(a | host))))
        }
    }
}

// ---------------------------------------------------------------------------------------
// virtual_server

/// Parse state of one `virtual_server` block: the model plus what keepalived tracks while
/// reading it.
struct VsState {
    vs: VirtualServer,
    /// keepalived's `vs->af`: set by the address, `ip_family`, `persistence_granularity`
    /// and the first non-tunnelled real server.
    af: Option<IpFamily>,
    /// The scheduler name set so far: `sh-*`/`mh-*` flags depend on it.
    sched_name: Option<String>,
}

const VIRTUAL_SERVER: &[Keyword<VsState>] = &[
    kw("ip_family", vs_ip_family),
    kw("retry", |c, s, n| {
        if let Some(v) = unsigned(c, n, 1, u32::MAX, "retry value invalid - {}") {
            s.vs.retry = Some(v);
        }
    }),
    kw("delay_before_retry", |c, s, n| {
        if let Some(v) = timer(
            c,
            n,
            Duration::ZERO,
            MAX_TIMER,
            "virtual server delay before retry '{}' invalid - ignoring",
        ) {
            s.vs.delay_before_retry = Some(v);
        }
    }),
    kw("warmup", |c, s, n| {
        if let Some(v) = timer(
            c,
            n,
            Duration::ZERO,
            MAX_TIMER,
            "virtual server warmup '{}' invalid - ignoring",
        ) {
            s.vs.warmup = Some(v);
        }
    }),
    kw("connect_timeout", |c, s, n| {
        if let Some(v) = timer(
            c,
            n,
            ONE_US,
            MAX_CONNECT_TIMEOUT,
            "virtual server connect_timeout {} invalid - ignoring",
        ) {
            s.vs.connect_timeout = Some(v);
        }
    }),
    kw("delay_loop", |c, s, n| {
        if let Some(v) = timer(
            c,
            n,
            ONE_US,
            MAX_TIMER,
            "virtual server delay loop '{}' invalid - ignoring",
        ) {
            s.vs.delay_loop = Some(v);
        }
    }),
    kw("inhibit_on_failure", |_, s, _| {
        s.vs.inhibit_on_failure = true
    }),
    kw("lb_algo", vs_sched),
    kw("lvs_sched", vs_sched),
    kw("hashed", vs_sched_flag),
    kw("ops", vs_sched_flag),
    kw("flag-1", vs_sched_flag),
    kw("flag-2", vs_sched_flag),
    kw("flag-3", vs_sched_flag),
    kw("sh-port", vs_sched_flag),
    kw("sh-fallback", vs_sched_flag),
    kw("mh-port", vs_sched_flag),
    kw("mh-fallback", vs_sched_flag),
    kw("lb_kind", vs_method),
    kw("lvs_method", vs_method),
    kw("persistence_engine", |c, s, n| {
        if let Some(v) = arg_text(c, n) {
            // IPVS keeps at most 15 characters of the engine name.
            if v.len() > 15 {
                c.warn(
                    n.loc(),
                    format!("persistence_name too long, truncating - {v}"),
                );
            }
            s.vs.persistence_engine = Some(v.chars().take(15).collect());
        }
    }),
    kw("persistence_timeout", |c, s, n| {
        if n.arg(0).is_none() {
            s.vs.persistence_timeout = Some(DEFAULT_PERSISTENCE_TIMEOUT);
        } else if let Some(v) = unsigned(c, n, 1, LVS_MAX_TIMEOUT, "persistence_timeout invalid") {
            s.vs.persistence_timeout = Some(v);
        }
    }),
    kw("persistence_granularity", vs_granularity),
    kw("protocol", |c, s, n| {
        let Some(v) = arg_text(c, n) else { return };
        match v.to_ascii_uppercase().as_str() {
            "TCP" => s.vs.protocol = Some(LvsProtocol::Tcp),
            "UDP" => s.vs.protocol = Some(LvsProtocol::Udp),
            "SCTP" => s.vs.protocol = Some(LvsProtocol::Sctp),
            _ => c.warn(n.loc(), format!("Unknown protocol {v} - ignoring")),
        }
    }),
    kw("ha_suspend", |_, s, _| s.vs.ha_suspend = true),
    kw("smtp_alert", |c, s, n| {
        if let Some(b) = opt_flag(c, n, "virtual_server smtp_alert") {
            s.vs.smtp_alert = Some(b);
        }
    }),
    kw("virtualhost", |c, s, n| match n.arg(0) {
        Some(t) => s.vs.virtualhost = Some(t.text.to_string()),
        None => c.warn(n.loc(), "virtual server virtualhost missing"),
    }),
    kw("snmp_name", |c, s, n| {
        if n.args().len() != 1 {
            c.warn(
                n.loc(),
                "virtual server snmp_name missing or extra parameters",
            );
        } else {
            s.vs.snmp_name = n.arg(0).map(|t| t.text.to_string());
        }
    }),
    kw("alpha", |_, s, _| s.vs.alpha = true),
    kw("omega", |_, s, _| s.vs.omega = true),
    kw("quorum_up", |c, s, n| {
        if s.vs.quorum_up.is_some() {
            let what = n.arg(0).map(|t| t.text).unwrap_or("");
            c.warn(
                n.loc(),
                format!(
                    "({}) quorum_up script already specified - ignoring {what}",
                    s.vs.key
                ),
            );
            return;
        }
        s.vs.quorum_up = script_value(c, n);
    }),
    kw("quorum_down", |c, s, n| {
        if s.vs.quorum_down.is_some() {
            let what = n.arg(0).map(|t| t.text).unwrap_or("");
            c.warn(
                n.loc(),
                format!(
                    "({}) quorum_down script already specified - ignoring {what}",
                    s.vs.key
                ),
            );
            return;
        }
        s.vs.quorum_down = script_value(c, n);
    }),
    kw("quorum", |c, s, n| {
        let q = unsigned(c, n, 1, u32::MAX, "").unwrap_or_else(|| {
            let v = n.arg(0).map(|t| t.text).unwrap_or("");
            c.warn(
                n.loc(),
                format!("Quorum {v} must be in [1, {}]. Setting to 1.", u32::MAX),
            );
            1
        });
        s.vs.quorum = Some(q);
    }),
    kw("hysteresis", |c, s, n| {
        let msg = format!("Hysteresis {{}} must be in [0, {}] - ignoring", u32::MAX);
        if let Some(v) = unsigned(c, n, 0, u32::MAX, &msg) {
            s.vs.hysteresis = Some(v);
        }
    }),
    kw("weight", |c, s, n| {
        let msg = format!(
            "Virtual server weight {{}} is outside range 1-{}",
            IPVS_WEIGHT_LIMIT
        );
        if let Some(v) = unsigned(c, n, 1, IPVS_WEIGHT_LIMIT, &msg) {
            s.vs.weight = Some(v);
        }
    }),
    kw("sorry_server", vs_sorry_server),
    kw("sorry_server_inhibit", |c, s, n| {
        match &mut s.vs.sorry_server {
            Some(ss) => ss.inhibit = true,
            None => c.warn(
                n.loc(),
                "Ignoring sorry_server inhibit used before or without sorry_server",
            ),
        }
    }),
    kw("sorry_server_lvs_method", |c, s, n| {
        if s.vs.sorry_server.is_none() {
            c.warn(n.loc(), "sorry_server forwarding used without sorry_server");
            return;
        }
        let prev =
            s.vs.sorry_server
                .as_ref()
                .and_then(|ss| ss.method)
                .or(s.vs.method);
        if let Some(m) = forwarding(c, n, "sorry", prev) {
            if let Some(ss) = &mut s.vs.sorry_server {
                ss.method = Some(m);
            }
        }
    }),
    block("real_server", real_server),
];

/// `virtual_server IP [PORT] | fwmark N | group NAME { ... }`.
pub fn virtual_server(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let Some(key) = vs_key(ctx, node) else {
        return;
    };
    let af = match &key {
        VirtualServerKey::Address { ip, .. } => Some(IpFamily::of(ip)),
        _ => None,
    };
    let mut st = VsState {
        vs: VirtualServer {
            key,
            loc: Some(node.loc()),
            ..VirtualServer::default()
        },
        af,
        sched_name: None,
    };
    // Sized for the block (a list grown one by one holds room for twice as many).
    let real_servers = node
        .children()
        .iter()
        .filter(|n| n.keyword() == "real_server")
        .count();
    st.vs.real_servers.reserve_exact(real_servers);
    walk(ctx, &mut st, node.children(), VIRTUAL_SERVER);
    vs_end(ctx, &mut st, node.loc());
    config.virtual_servers.push(st.vs);
}

fn vs_key(c: &mut Ctx, n: &Node) -> Option<VirtualServerKey> {
    let p1 = c.arg(n, 0)?.text.to_string();
    let p2 = n.arg(1).map(|t| t.text.to_string());
    match p1.as_str() {
        "group" => {
            let Some(g) = p2 else {
                c.arg(n, 1);
                return None;
            };
            Some(VirtualServerKey::Group(g))
        }
        "fwmark" => {
            let Some(m) = p2 else {
                c.arg(n, 1);
                return None;
            };
            match parse_int_text(&m).and_then(|v| u32::try_from(v).ok()) {
                Some(v) => Some(VirtualServerKey::Fwmark(v)),
                None => {
                    c.warn(
                        n.loc(),
                        format!(
                            "virtual server fwmark '{m}' must be in [0, {}] - ignoring",
                            u32::MAX
                        ),
                    );
                    None
                }
            }
        }
        _ => {
            let port = port_text(p2.as_deref());
            match (parse_ip_text(&p1), port) {
                (Some(ip), Ok(port)) => Some(VirtualServerKey::Address { ip, port }),
                _ => {
                    let (slash, shown) = match (&p2, port) {
                        (Some(p), Err(())) | (Some(p), Ok(1..)) => ("/port", format!("/{p}")),
                        _ => ("", String::new()),
                    };
                    c.warn(
                        n.loc(),
                        format!("Invalid virtual server IP address{slash} {p1}{shown} - skipping"),
                    );
                    None
                }
            }
        }
    }
}

fn vs_ip_family(c: &mut Ctx, s: &mut VsState, n: &Node) {
    let Some(v) = arg_text(c, n) else { return };
    let af = match v.as_str() {
        "inet" => IpFamily::Inet,
        "inet6" => IpFamily::Inet6,
        _ => {
            c.warn(n.loc(), format!("unknown address family {v}"));
            return;
        }
    };
    if s.af.is_some_and(|cur| cur != af) {
        c.warn(
            n.loc(),
            format!("Virtual server specified family {v} conflicts with server family"),
        );
        return;
    }
    s.af = Some(af);
}

fn vs_sched(c: &mut Ctx, s: &mut VsState, n: &Node) {
    let Some(v) = arg_text(c, n) else { return };
    match Scheduler::from_name(&v) {
        Some(sched) => {
            s.vs.scheduler = Some(sched);
            s.sched_name = Some(v);
        }
        None => c.warn(n.loc(), format!("Invalid lvs_scheduler '{v}' - ignoring")),
    }
}

fn vs_sched_flag(c: &mut Ctx, s: &mut VsState, n: &Node) {
    let f = &mut s.vs.flags;
    let sched = s.sched_name.as_deref().unwrap_or("");
    match n.keyword() {
        "ops" => f.one_packet = true,
        "flag-1" => f.flag_1 = true,
        "flag-2" => f.flag_2 = true,
        "flag-3" => f.flag_3 = true,
        // keepalived accepts `hashed` and the sh-/mh- flags without effect when they do not
        // match the scheduler, and reports them only for other schedulers.
        kw if sched == "sh" || sched == "mh" => {
            let prefix = if sched == "sh" { "sh-" } else { "mh-" };
            if let Some(rest) = kw.strip_prefix(prefix) {
                match rest {
                    "port" => f.flag_2 = true,
                    "fallback" => f.flag_1 = true,
                    _ => {}
                }
            }
            if kw == "hashed" {
                s.vs.hashed = true;
            }
        }
        kw => c.warn(
            n.loc(),
            format!("{kw} only applies to sh scheduler - ignoring"),
        ),
    }
}

fn vs_method(c: &mut Ctx, s: &mut VsState, n: &Node) {
    if let Some(m) = forwarding(c, n, "virtual", s.vs.method) {
        s.vs.method = Some(m);
    }
}

/// `NAT | DR | TUN [type ipip|gue|gre] [port N] [nocsum|csum|remcsum]`. `prev` supplies the
/// tunnel options a bare `TUN` keeps.
fn forwarding(
    c: &mut Ctx,
    n: &Node,
    s_type: &str,
    prev: Option<ForwardingMethod>,
) -> Option<ForwardingMethod> {
    let m = arg_text(c, n)?;
    match m.as_str() {
        "NAT" => return Some(ForwardingMethod::Nat),
        "DR" => return Some(ForwardingMethod::Dr),
        "TUN" => {}
        _ => {
            c.warn(
                n.loc(),
                format!("PARSER : unknown [{m}] routing method for {s_type} server."),
            );
            return None;
        }
    }
    // Every TUN line starts from ipip/nocsum; on a bad option keepalived has already
    // switched to TUN but keeps the server's previous tunnel settings.
    let before = match prev {
        Some(ForwardingMethod::Tun(o)) => o,
        _ => TunnelOptions::default(),
    };
    let mut opts = TunnelOptions::default();
    let mut kind = "ipip";
    let mut port: u16 = 0;
    let args = n.args();
    let mut i = 1;
    let keep = Some(ForwardingMethod::Tun(before));
    while let Some(tok) = args.get(i) {
        match tok.text {
            "type" => {
                let Some(t) = args.get(i + 1) else {
                    c.warn(n.loc(), format!("Missing tunnel type for {s_type} server."));
                    return keep;
                };
                kind = match t.text {
                    "ipip" => "ipip",
                    "gue" => "gue",
                    "gre" => "gre",
                    other => {
                        c.warn(
                            t.loc,
                            format!("Unknown tunnel type {other} for {s_type} server."),
                        );
                        return keep;
                    }
                };
                i += 1;
            }
            "port" => {
                let Some(p) = args.get(i + 1) else {
                    c.warn(
                        n.loc(),
                        format!("Missing port for {s_type} server gue tunnel."),
                    );
                    return keep;
                };
                match parse_int_text(p.text).and_then(|v| u16::try_from(v).ok()) {
                    Some(v) if v >= 1 => port = v,
                    _ => {
                        c.warn(
                            p.loc,
                            format!("Invalid gue tunnel port {} for {s_type} server.", p.text),
                        );
                        return keep;
                    }
                }
                i += 1;
            }
            "nocsum" => opts.checksum = TunnelChecksum::NoCsum,
            "csum" => opts.checksum = TunnelChecksum::Csum,
            "remcsum" => opts.checksum = TunnelChecksum::RemCsum,
            other => {
                c.warn(
                    tok.loc,
                    format!("Invalid tunnel option {other} for {s_type} server."),
                );
                return keep;
            }
        }
        i += 1;
    }
    if (kind == "gue") != (port != 0) {
        c.warn(
            n.loc(),
            "gue tunnels require port, otherwise cannot have port.",
        );
        return keep;
    }
    if kind == "ipip" && opts.checksum != TunnelChecksum::NoCsum {
        c.warn(n.loc(), "ipip tunnels do not support checksum option.");
        return keep;
    }
    if kind == "gre" && opts.checksum == TunnelChecksum::RemCsum {
        c.warn(
            n.loc(),
            "gre tunnels do not support remote checksum option.",
        );
        return keep;
    }
    opts.kind = match kind {
        "gue" => TunnelType::Gue { port },
        "gre" => TunnelType::Gre,
        _ => TunnelType::Ipip,
    };
    Some(ForwardingMethod::Tun(opts))
}

fn vs_granularity(c: &mut Ctx, s: &mut VsState, n: &Node) {
    let Some(v) = arg_text(c, n) else { return };
    let af = s.af.unwrap_or(if v.contains('.') {
        IpFamily::Inet
    } else {
        IpFamily::Inet6
    });
    let g = match af {
        IpFamily::Inet6 => match parse_int_text(&v).and_then(|x| u8::try_from(x).ok()) {
            Some(len @ 1..=128) => PersistenceGranularity::V6Prefix(len),
            _ => {
                c.warn(
                    n.loc(),
                    format!("Invalid IPv6 persistence_granularity specified - {v}"),
                );
                return;
            }
        },
        IpFamily::Inet => match v.parse::<Ipv4Addr>() {
            Ok(mask) => PersistenceGranularity::V4Mask(mask),
            Err(_) => {
                c.warn(
                    n.loc(),
                    format!("Invalid IPv4 persistence_granularity specified - {v}"),
                );
                return;
            }
        },
    };
    s.vs.persistence_granularity = Some(g);
    if s.af.is_none() {
        s.af = Some(af);
    }
    if s.vs.persistence_timeout.is_none() {
        s.vs.persistence_timeout = Some(DEFAULT_PERSISTENCE_TIMEOUT);
    }
}

fn vs_sorry_server(c: &mut Ctx, s: &mut VsState, n: &Node) {
    let Some(ip_text) = arg_text(c, n) else {
        return;
    };
    let port = port_text(n.arg(1).map(|t| t.text));
    match (parse_ip_text(&ip_text), port) {
        (Some(ip), Ok(port)) => {
            s.vs.sorry_server = Some(SorryServer {
                ip,
                port,
                inhibit: false,
                method: None,
                loc: Some(n.loc()),
            });
        }
        _ => c.warn(
            n.loc(),
            format!("Invalid sorry server IP address {ip_text} - skipping"),
        ),
    }
}

/// keepalived's `vs_end_handler`: the sorry server's family must match, and a virtual server
/// without a family takes one from its servers.
fn vs_end(c: &mut Ctx, s: &mut VsState, loc: Loc) {
    let vs_method = s.vs.method;
    if let Some(ss) = &s.vs.sorry_server {
        let method = ss.method.or(vs_method);
        if !matches!(method, Some(ForwardingMethod::Tun(_))) {
            let fam = IpFamily::of(&ss.ip);
            match s.af {
                None => s.af = Some(fam),
                Some(af) if af != fam => {
                    c.warn(
                        ss.loc.unwrap_or(loc),
                        format!(
                            "Address family of virtual server and sorry server {} don't match - skipping sorry server.",
                            ss.ip
                        ),
                    );
                    s.vs.sorry_server = None;
                }
                Some(_) => {}
            }
        }
    }
    if s.af.is_none() && !matches!(s.vs.key, VirtualServerKey::Group(_)) {
        // Only fwmark services with all servers tunnelled get here: take the servers'
        // family if they agree, else IPv4.
        let mut fams =
            s.vs.sorry_server
                .iter()
                .map(|ss| IpFamily::of(&ss.ip))
                .chain(s.vs.real_servers.iter().map(|rs| IpFamily::of(&rs.ip)));
        let first = fams.next();
        let mixed = first.is_some_and(|f| fams.any(|g| g != f));
        s.af = Some(if mixed {
            IpFamily::Inet
        } else {
            first.unwrap_or(IpFamily::Inet)
        });
    }
    s.vs.ip_family = s.af;
}

// ---------------------------------------------------------------------------------------
// real_server

struct RsState {
    rs: RealServer,
}

const REAL_SERVER: &[Keyword<RsState>] = &[
    kw("weight", |c, s, n| {
        let msg = format!(
            "Real server weight {{}} is outside range 0-{}",
            IPVS_WEIGHT_LIMIT
        );
        if let Some(v) = unsigned(c, n, 0, IPVS_WEIGHT_LIMIT, &msg) {
            s.rs.weight = Some(v);
        }
    }),
    kw("lvs_method", |c, s, n| {
        if let Some(m) = forwarding(c, n, "real", s.rs.method) {
            s.rs.method = Some(m);
        }
    }),
    kw("uthreshold", |c, s, n| {
        if let Some(v) = unsigned(
            c,
            n,
            0,
            u32::MAX,
            "Invalid real_server uthreshold '{}' - ignoring",
        ) {
            s.rs.uthreshold = Some(v);
        }
    }),
    kw("lthreshold", |c, s, n| {
        if let Some(v) = unsigned(
            c,
            n,
            0,
            u32::MAX,
            "Invalid real_server lthreshold '{}' - ignoring",
        ) {
            s.rs.lthreshold = Some(v);
        }
    }),
    kw("inhibit_on_failure", |c, s, n| {
        if let Some(b) = opt_flag(c, n, "inhibit_on_failure") {
            s.rs.inhibit_on_failure = Some(b);
        }
    }),
    kw("notify_up", |c, s, n| {
        if s.rs.notify_up.is_some() {
            c.warn(n.loc(), "notify_up script already specified - ignoring");
            return;
        }
        s.rs.notify_up = script_value(c, n);
    }),
    kw("notify_down", |c, s, n| {
        if s.rs.notify_down.is_some() {
            c.warn(n.loc(), "notify_down script already specified - ignoring");
            return;
        }
        s.rs.notify_down = script_value(c, n);
    }),
    kw("alpha", |c, s, n| {
        if let Some(b) = opt_flag(c, n, "alpha") {
            s.rs.alpha = Some(b);
        }
    }),
    kw("retry", |c, s, n| {
        if let Some(v) = unsigned(c, n, 1, u32::MAX, "retry value invalid - {}") {
            s.rs.retry = Some(v);
        }
    }),
    kw("delay_before_retry", |c, s, n| {
        if let Some(v) = timer(
            c,
            n,
            Duration::ZERO,
            MAX_TIMER,
            "real server delay_before_retry '{}' invalid - ignoring",
        ) {
            s.rs.delay_before_retry = Some(v);
        }
    }),
    kw("warmup", |c, s, n| {
        if let Some(v) = timer(
            c,
            n,
            Duration::ZERO,
            MAX_TIMER,
            "real server warmup '{}' invalid - ignoring",
        ) {
            s.rs.warmup = Some(v);
        }
    }),
    kw("connect_timeout", |c, s, n| {
        if let Some(v) = timer(
            c,
            n,
            ONE_US,
            MAX_CONNECT_TIMEOUT,
            "real server connect_timeout {} invalid - ignoring",
        ) {
            s.rs.connect_timeout = Some(v);
        }
    }),
    kw("delay_loop", |c, s, n| {
        if let Some(v) = timer(
            c,
            n,
            ONE_US,
            MAX_TIMER,
            "real server delay_loop '{}' invalid - ignoring",
        ) {
            s.rs.delay_loop = Some(v);
        }
    }),
    kw("smtp_alert", |c, s, n| {
        if let Some(b) = opt_flag(c, n, "real_server smtp_alert") {
            s.rs.smtp_alert = Some(b);
        }
    }),
    kw("virtualhost", |c, s, n| match n.arg(0) {
        Some(t) => s.rs.virtualhost = Some(t.text.to_string()),
        None => c.warn(n.loc(), "real server virtualhost missing"),
    }),
    kw("snmp_name", |c, s, n| {
        if n.args().len() != 1 {
            c.warn(n.loc(), "real server snmp_name missing or extra parameters");
        } else {
            s.rs.snmp_name = n.arg(0).map(|t| t.text.to_string());
        }
    }),
    block("TCP_CHECK", tcp_check),
    block("HTTP_GET", http_get),
    block("SSL_GET", ssl_get),
    block("MISC_CHECK", misc_check),
    block("SMTP_CHECK", smtp_check),
    block("DNS_CHECK", dns_check),
    block("UDP_CHECK", udp_check),
    block("PING_CHECK", ping_check),
    block("FILE_CHECK", file_check),
    block("BFD_CHECK", bfd_check),
];

fn real_server(c: &mut Ctx, s: &mut VsState, n: &Node) {
    let Some(ip_text) = arg_text(c, n) else {
        return;
    };
    let port_arg = n.arg(1).map(|t| t.text.to_string());
    let (ip, port) = match (parse_ip_text(&ip_text), port_text(port_arg.as_deref())) {
        (Some(ip), Ok(port)) => (ip, port),
        _ => {
            c.warn(
                n.loc(),
                format!(
                    "Invalid real server ip address/port {ip_text}/{} - skipping",
                    port_arg.as_deref().unwrap_or("(null)")
                ),
            );
            return;
        }
    };
    let mut st = RsState {
        rs: RealServer::new(ip, port),
    };
    st.rs.loc = Some(n.loc());
    walk(c, &mut st, n.children(), REAL_SERVER);

    // keepalived's rs_end_handler: non-tunnelled servers must share the virtual server's
    // family, and the first one sets it.
    let method = st.rs.method.or(s.vs.method);
    if !matches!(method, Some(ForwardingMethod::Tun(_))) {
        let fam = IpFamily::of(&ip);
        match s.af {
            None => s.af = Some(fam),
            Some(af) if af != fam => {
                c.warn(
                    n.loc(),
                    format!(
                        "Address family of virtual server and real server {ip} don't match - skipping real server."
                    ),
                );
                return;
            }
            Some(_) => {}
        }
    }
    s.vs.real_servers.push(st.rs);
}

// ---------------------------------------------------------------------------------------
// Checkers: shared keywords

/// A checker with connection options.
trait HasConnect {
    fn co(&mut self) -> &mut ConnectOptions;
}

/// A checker with the common settings.
trait HasCommon {
    fn common(&mut self) -> &mut CheckerCommon;
}

macro_rules! impl_has {
    (connect: $($t:ty),*) => { $(impl HasConnect for $t { fn co(&mut self) -> &mut ConnectOptions { &mut self.connect } })* };
    (common: $($t:ty),*) => { $(impl HasCommon for $t { fn common(&mut self) -> &mut CheckerCommon { &mut self.common } })* };
}
impl_has!(connect: TcpCheck, SmtpCheck, DnsCheck, UdpCheck, PingCheck);
impl_has!(common: TcpCheck, HttpState, MiscState, SmtpCheck, DnsCheck, UdpCheck, PingCheck, FileCheck);

impl HasConnect for HttpState {
    fn co(&mut self) -> &mut ConnectOptions {
        &mut self.chk.connect
    }
}

fn co_ip<T: HasConnect>(c: &mut Ctx, t: &mut T, n: &Node) {
    let Some(v) = arg_text(c, n) else { return };
    let Some(ip) = parse_ip_text(&v) else {
        c.warn(
            n.loc(),
            format!("Invalid connect_ip address {v} - ignoring"),
        );
        return;
    };
    let co = t.co();
    if co.bindto.is_some_and(|b| b.is_ipv4() != ip.is_ipv4()) {
        c.warn(
            n.loc(),
            format!("connect_ip address {v} does not match address family of bindto - skipping"),
        );
        co.connect_ip = None;
        return;
    }
    co.connect_ip = Some(ip);
}

fn co_port<T: HasConnect>(c: &mut Ctx, t: &mut T, n: &Node) {
    if let Some(v) = unsigned(c, n, 1, 65535, "Invalid checker connect_port '{}'") {
        t.co().connect_port = u16::try_from(v).ok();
    }
}

fn co_bindto<T: HasConnect>(c: &mut Ctx, t: &mut T, n: &Node) {
    let Some(v) = arg_text(c, n) else { return };
    let Some(ip) = parse_ip_text(&v) else {
        c.warn(n.loc(), format!("Invalid bindto address {v} - ignoring"));
        return;
    };
    let co = t.co();
    if co.connect_ip.is_some_and(|d| d.is_ipv4() != ip.is_ipv4()) {
        c.warn(
            n.loc(),
            format!("bindto address {v} does not match address family of connect_ip - skipping"),
        );
        co.bindto = None;
        return;
    }
    co.bindto = Some(ip);
}

fn co_bind_port<T: HasConnect>(c: &mut Ctx, t: &mut T, n: &Node) {
    if let Some(v) = unsigned(c, n, 1, 65535, "Invalid checker bind_port '{}'") {
        t.co().bind_port = u16::try_from(v).ok();
    }
}

fn co_bind_if<T: HasConnect>(c: &mut Ctx, t: &mut T, n: &Node) {
    let Some(v) = arg_text(c, n) else { return };
    if v.len() > 15 {
        c.warn(
            n.loc(),
            format!("Interface name {v} is too long - ignoring"),
        );
        return;
    }
    t.co().bind_if = Some(v);
}

fn co_timeout<T: HasConnect>(c: &mut Ctx, t: &mut T, n: &Node) {
    if let Some(v) = timer(
        c,
        n,
        ONE_US,
        MAX_CONNECT_TIMEOUT,
        "connect_timeout {} invalid - ignoring",
    ) {
        t.co().connect_timeout = Some(v);
    }
}

fn co_fwmark<T: HasConnect>(c: &mut Ctx, t: &mut T, n: &Node) {
    if let Some(v) = unsigned(c, n, 0, u32::MAX, "Invalid fwmark connection value '{}'") {
        t.co().fwmark = Some(v);
    }
}

fn cm_retry<T: HasCommon>(c: &mut Ctx, t: &mut T, n: &Node) {
    if let Some(v) = unsigned(c, n, 0, u32::MAX, "Invalid retry connection value '{}'") {
        t.common().retry = Some(v);
    }
}

fn cm_delay_before_retry<T: HasCommon>(c: &mut Ctx, t: &mut T, n: &Node) {
    if let Some(v) = timer(
        c,
        n,
        Duration::ZERO,
        MAX_TIMER,
        "Invalid delay_before_retry connection value '{}'",
    ) {
        t.common().delay_before_retry = Some(v);
    }
}

fn cm_warmup<T: HasCommon>(c: &mut Ctx, t: &mut T, n: &Node) {
    if let Some(v) = timer(
        c,
        n,
        Duration::ZERO,
        MAX_TIMER,
        "Invalid warmup connection value '{}'",
    ) {
        t.common().warmup = Some(v);
    }
}

fn cm_delay_loop<T: HasCommon>(c: &mut Ctx, t: &mut T, n: &Node) {
    if let Some(v) = timer(
        c,
        n,
        ONE_US,
        MAX_TIMER,
        "delay_loop '{}' is invalid - ignoring",
    ) {
        t.common().delay_loop = Some(v);
    }
}

fn cm_alpha<T: HasCommon>(c: &mut Ctx, t: &mut T, n: &Node) {
    if let Some(b) = opt_flag(c, n, "alpha") {
        t.common().alpha = Some(b);
    }
}

fn cm_log_all_failures<T: HasCommon>(c: &mut Ctx, t: &mut T, n: &Node) {
    if let Some(b) = opt_flag(c, n, "log_all_failures") {
        t.common().log_all_failures = Some(b);
    }
}

/// A checker's keyword table: the connection keywords (if `connect`), the common ones, then
/// the checker's own.
macro_rules! checker_table {
    (connect, $t:ty, [$($extra:expr),* $(,)?]) => {
        &[
            kw("connect_ip", co_ip::<$t>),
            kw("connect_port", co_port::<$t>),
            kw("bindto", co_bindto::<$t>),
            kw("bind_port", co_bind_port::<$t>),
            kw("bind_if", co_bind_if::<$t>),
            kw("connect_timeout", co_timeout::<$t>),
            kw("fwmark", co_fwmark::<$t>),
            kw("retry", cm_retry::<$t>),
            kw("delay_before_retry", cm_delay_before_retry::<$t>),
            kw("warmup", cm_warmup::<$t>),
            kw("delay_loop", cm_delay_loop::<$t>),
            kw("alpha", cm_alpha::<$t>),
            kw("log_all_failures", cm_log_all_failures::<$t>),
            $($extra),*
        ]
    };
    (common, $t:ty, [$($extra:expr),* $(,)?]) => {
        &[
            kw("retry", cm_retry::<$t>),
            kw("delay_before_retry", cm_delay_before_retry::<$t>),
            kw("warmup", cm_warmup::<$t>),
            kw("delay_loop", cm_delay_loop::<$t>),
            kw("alpha", cm_alpha::<$t>),
            kw("log_all_failures", cm_log_all_failures::<$t>),
            $($extra),*
        ]
    };
}

/// keepalived's `check_conn_opts`: a link-local IPv6 target needs `bind_if`.
fn conn_ok(c: &mut Ctx, co: &ConnectOptions, rs: &RealServer, loc: Loc) -> bool {
    let dst = co.connect_ip.unwrap_or(rs.ip);
    if let IpAddr::V6(v6) = dst {
        if (v6.segments()[0] & 0xffc0) == 0xfe80 && co.bind_if.is_none() {
            c.warn(
                loc,
                format!("Checker link local address {dst} requires a bind_if"),
            );
            return false;
        }
    }
    true
}

// ---------------------------------------------------------------------------------------
// TCP_CHECK, PING_CHECK

const TCP_CHECK: &[Keyword<TcpCheck>] = checker_table!(connect, TcpCheck, []);
const PING_CHECK: &[Keyword<PingCheck>] = checker_table!(connect, PingCheck, []);

fn tcp_check(c: &mut Ctx, s: &mut RsState, n: &Node) {
    let mut chk = TcpCheck::default();
    walk(c, &mut chk, n.children(), TCP_CHECK);
    if conn_ok(c, &chk.connect, &s.rs, n.loc()) {
        s.rs.checkers.push(Checker::Tcp(chk));
    }
}

fn ping_check(c: &mut Ctx, s: &mut RsState, n: &Node) {
    let mut chk = PingCheck::default();
    walk(c, &mut chk, n.children(), PING_CHECK);
    if conn_ok(c, &chk.connect, &s.rs, n.loc()) {
        s.rs.checkers.push(Checker::Ping(chk));
    }
}

// ---------------------------------------------------------------------------------------
// HTTP_GET / SSL_GET

/// Parse state of an HTTP_GET/SSL_GET block.
struct HttpState {
    chk: HttpCheck,
    common: CheckerCommon,
}

/// Parse state of one `url` block: keepalived keeps `regex_options` aside until the block
/// ends.
struct UrlState {
    url: Url,
    has_path: bool,
}

const HTTP_GET: &[Keyword<HttpState>] = checker_table!(
    connect,
    HttpState,
    [
        kw("nb_get_retry", |c, s, n| {
            c.warn(n.loc(), "nb_get_retry is deprecated - please use 'retry'");
            if let Some(v) = unsigned(c, n, 0, u32::MAX, "Invalid nb_get_retry value '{}'") {
                s.common.retry = Some(v);
            }
        }),
        kw("virtualhost", |c, s, n| match n.arg(0) {
            Some(t) => s.chk.virtualhost = Some(t.text.to_string()),
            None => c.warn(n.loc(), "HTTP_GET virtualhost name missing"),
        }),
        kw("http_protocol", |c, s, n| {
            let Some(t) = n.arg(0) else {
                c.warn(n.loc(), "Missing http_protocol version");
                return;
            };
            s.chk.http_protocol = match t.text {
                "1.0" => Some(HttpProtocol::Http10),
                "1.1" => Some(HttpProtocol::Http11),
                "1.0C" | "1.0c" => Some(HttpProtocol::Http10Close),
                other => {
                    c.warn(t.loc, format!("Invalid http_protocol version {other}"));
                    return;
                }
            };
        }),
        kw("enable_sni", |c, s, n| {
            if let Some(b) = opt_flag(c, n, "enable_sni") {
                s.chk.enable_sni = Some(b);
            }
        }),
        kw("sni_name", |c, s, n| {
            // Newer keepalived only; accepted so configs written for it keep their value.
            if let Some(v) = arg_text(c, n) {
                s.chk.sni_name = Some(v);
            }
        }),
        kw("fast_recovery", |c, s, n| {
            if let Some(b) = opt_flag(c, n, "fast_recovery") {
                s.chk.fast_recovery = Some(b);
            }
        }),
        block("url", url_block),
    ]
);

/// The regex options PCRE2 knows by these names.
const REGEX_OPTIONS: &[&str] = &[
    "allow_empty_class",
    "alt_bsux",
    "auto_callout",
    "caseless",
    "dollar_endonly",
    "dotall",
    "dupnames",
    "extended",
    "firstline",
    "match_unset_backref",
    "multiline",
    "never_ucp",
    "never_utf",
    "no_auto_capture",
    "no_auto_possess",
    "no_dotstar_anchor",
    "no_start_optimize",
    "ucp",
    "ungreedy",
    "utf",
    "never_backslash_c",
    "alt_circumflex",
    "alt_verbnames",
    "use_offset_limit",
];

const URL: &[Keyword<UrlState>] = &[
    kw("path", |c, s, n| {
        if let Some(v) = arg_text(c, n) {
            s.url.path = v;
            s.has_path = true;
        }
    }),
    kw("digest", url_digest),
    kw("status_code", url_status_code),
    kw("virtualhost", |c, s, n| match n.arg(0) {
        Some(t) => s.url.virtualhost = Some(t.text.to_string()),
        None => c.warn(n.loc(), "Missing HTTP_GET virtualhost name"),
    }),
    kw("regex", |c, s, n| {
        let words = split_script(n.rest_raw());
        if words.len() != 1 {
            c.note_warn(n.loc(), "regex missing or too many fields");
            return;
        }
        s.url.regex = words.into_iter().next();
    }),
    kw("regex_no_match", |_, s, _| s.url.regex_no_match = true),
    kw("regex_options", |c, s, n| {
        for t in n.args() {
            if REGEX_OPTIONS.contains(&t.text) {
                s.url.regex_options.push(t.text.to_string());
            } else {
                // keepalived skips unknown names without a word; say so, without counting.
                c.note_warn(
                    t.loc,
                    format!("unknown regex option '{}' - ignoring", t.text),
                );
            }
        }
    }),
    kw("regex_min_offset", |c, s, n| {
        s.url.regex_min_offset = regex_offset(c, n, "min");
    }),
    kw("regex_max_offset", |c, s, n| {
        s.url.regex_max_offset = regex_offset(c, n, "max");
    }),
    kw("regex_stack", |c, s, n| {
        let args = n.args();
        let (Some(a), Some(b), 2) = (args.first(), args.get(1), args.len()) else {
            c.note_warn(n.loc(), "regex_stack requires start and max values");
            return;
        };
        let (Ok(start), Ok(max)) = (a.text.parse::<u64>(), b.text.parse::<u64>()) else {
            c.note_warn(n.loc(), "regex_stack invalid start or max value");
            return;
        };
        if start > max {
            c.note_warn(n.loc(), "regex stack start cannot exceed max value");
            return;
        }
        s.url.regex_stack = Some((start, max));
    }),
];

fn regex_offset(c: &mut Ctx, n: &Node, which: &str) -> Option<u64> {
    let args = n.args();
    if args.len() != 1 {
        c.note_warn(
            n.loc(),
            format!("Missing or too may options for regex_{which}_offset"),
        );
        return None;
    }
    let t = args.first()?;
    match t.text.parse::<u64>() {
        Ok(v) => Some(v),
        Err(_) => {
            c.note_warn(
                t.loc,
                format!("Invalid regex_{which}_offset {} specified", t.text),
            );
            None
        }
    }
}

fn url_digest(c: &mut Ctx, s: &mut UrlState, n: &Node) {
    let Some(t) = c.arg(n, 0) else { return };
    let d = t.text.to_string();
    if s.url.digest.is_some() {
        c.warn(t.loc, format!("Digest '{d}' is a duplicate"));
        return;
    }
    if d.len() != 32 {
        c.warn(
            t.loc,
            format!(
                "digest '{d}' character length should be 32 rather than {}",
                d.len()
            ),
        );
        return;
    }
    let mut out = [0u8; 16];
    // keepalived converts from the last pair backwards and reports the first bad one found.
    for (i, slot) in out.iter_mut().enumerate().rev() {
        let pair = d.get(2 * i..2 * i + 2).unwrap_or("");
        match u8::from_str_radix(pair, 16) {
            Ok(v) if pair.bytes().all(|b| b.is_ascii_hexdigit()) => *slot = v,
            _ => {
                c.warn(
                    t.loc,
                    format!(
                        "Unable to interpret hex digit in '{d}' at offset {}/{}",
                        2 * i,
                        2 * i + 1
                    ),
                );
                return;
            }
        }
    }
    s.url.digest = Some(out);
}

/// Parses one `status_code` word: `NNN` or `NNN-MMM`, each in 100..=599.
pub fn parse_status_code(s: &str) -> Option<StatusCodeRange> {
    let num = |x: &str| -> Option<u16> {
        if x.is_empty() || !x.bytes().all(|b| b.is_ascii_digit()) || x.len() > 5 {
            return None;
        }
        x.parse().ok()
    };
    let (lo, hi) = match s.split_once('-') {
        Some((a, b)) => (num(a)?, num(b)?),
        None => {
            let v = num(s)?;
            (v, v)
        }
    };
    let ok = |v: u16| (100..=599).contains(&v);
    (ok(lo) && ok(hi) && lo <= hi).then_some(StatusCodeRange { low: lo, high: hi })
}

fn url_status_code(c: &mut Ctx, s: &mut UrlState, n: &Node) {
    for t in n.args() {
        match parse_status_code(t.text) {
            Some(r) => s.url.status_codes.push(r),
            None => c.warn(t.loc, format!("Invalid HTTP_GET status code '{}'", t.text)),
        }
    }
}

fn url_block(c: &mut Ctx, s: &mut HttpState, n: &Node) {
    let mut st = UrlState {
        url: Url {
            loc: Some(n.loc()),
            ..Url::default()
        },
        has_path: false,
    };
    walk(c, &mut st, n.children(), URL);
    if !st.has_path {
        c.warn(n.loc(), "HTTP/SSL_GET checker url has no path - ignoring");
        return;
    }
    let u = &mut st.url;
    if u.regex.is_none()
        && (!u.regex_options.is_empty()
            || u.regex_no_match
            || u.regex_min_offset.is_some()
            || u.regex_max_offset.is_some()
            || u.regex_stack.is_some())
    {
        c.note_warn(n.loc(), "regex parameters specified without regex");
        u.regex_options.clear();
        u.regex_no_match = false;
        u.regex_min_offset = None;
        u.regex_max_offset = None;
        u.regex_stack = None;
    }
    if let (Some(min), Some(max)) = (u.regex_min_offset, u.regex_max_offset) {
        if min > max {
            c.note_warn(
                n.loc(),
                format!("regex min offset {min} > regex_max_offset {max} - ignoring"),
            );
            u.regex_min_offset = None;
            u.regex_max_offset = None;
        }
    }
    s.chk.urls.push(st.url);
}

fn http_common(c: &mut Ctx, s: &mut RsState, n: &Node) -> Option<HttpCheck> {
    let mut st = HttpState {
        chk: HttpCheck::default(),
        common: CheckerCommon::default(),
    };
    walk(c, &mut st, n.children(), HTTP_GET);
    st.chk.common = st.common;
    if st.chk.urls.is_empty() {
        c.warn(
            n.loc(),
            "HTTP/SSL_GET checker has no urls specified - ignoring",
        );
        return None;
    }
    conn_ok(c, &st.chk.connect, &s.rs, n.loc()).then_some(st.chk)
}

fn http_get(c: &mut Ctx, s: &mut RsState, n: &Node) {
    if let Some(chk) = http_common(c, s, n) {
        s.rs.checkers.push(Checker::Http(chk));
    }
}

fn ssl_get(c: &mut Ctx, s: &mut RsState, n: &Node) {
    if let Some(chk) = http_common(c, s, n) {
        s.rs.checkers.push(Checker::Ssl(chk));
    }
}

// ---------------------------------------------------------------------------------------
// MISC_CHECK

/// MISC_CHECK state: `user` may come before or after `misc_path`.
struct MiscState {
    chk: MiscCheck,
    common: CheckerCommon,
    user: Option<ScriptUser>,
}

const MISC_CHECK: &[Keyword<MiscState>] = checker_table!(
    common,
    MiscState,
    [
        kw("misc_path", |c, s, n| {
            // Only the first word counts: the command line.
            if let Some(sc) = script_value(c, n) {
                s.chk.path = Some(Script { user: None, ..sc });
            }
        }),
        kw("misc_timeout", |c, s, n| {
            if let Some(v) = unsigned(
                c,
                n,
                0,
                u32::MAX / 1_000_000,
                "Invalid misc_timeout value '{}'",
            ) {
                s.chk.timeout = Some(Duration::from_secs(u64::from(v)));
            }
        }),
        kw("misc_dynamic", |_, s, _| s.chk.dynamic = true),
        kw("user", |c, s, n| {
            let Some(u) = n.arg(0) else {
                c.warn(n.loc(), "No user specified for misc checker script");
                return;
            };
            s.user = Some(ScriptUser {
                user: u.text.to_string(),
                group: n.arg(1).map(|t| t.text.to_string()),
            });
        }),
    ]
);

fn misc_check(c: &mut Ctx, s: &mut RsState, n: &Node) {
    let mut st = MiscState {
        chk: MiscCheck::default(),
        common: CheckerCommon::default(),
        user: None,
    };
    walk(c, &mut st, n.children(), MISC_CHECK);
    let mut chk = st.chk;
    chk.common = st.common;
    let Some(path) = &mut chk.path else {
        c.warn(
            n.loc(),
            "No script path has been specified for MISC_CHECKER - skipping",
        );
        return;
    };
    path.user = st.user;
    s.rs.checkers.push(Checker::Misc(chk));
}

// ---------------------------------------------------------------------------------------
// SMTP_CHECK

/// A deprecated `host` block: its own connection options; keepalived also accepts the
/// common checker keywords there, and they set the checker's values.
struct HostState {
    host: SmtpHost,
    common: CheckerCommon,
}

impl HasConnect for HostState {
    fn co(&mut self) -> &mut ConnectOptions {
        &mut self.host.connect
    }
}
impl HasCommon for HostState {
    fn common(&mut self) -> &mut CheckerCommon {
        &mut self.common
    }
}

const SMTP_HOST: &[Keyword<HostState>] = checker_table!(connect, HostState, []);

/// Copies the values set in `from` over `into`.
fn merge_common(into: &mut CheckerCommon, from: CheckerCommon) {
    into.retry = from.retry.or(into.retry);
    into.delay_before_retry = from.delay_before_retry.or(into.delay_before_retry);
    into.warmup = from.warmup.or(into.warmup);
    into.delay_loop = from.delay_loop.or(into.delay_loop);
    into.alpha = from.alpha.or(into.alpha);
    into.log_all_failures = from.log_all_failures.or(into.log_all_failures);
}

/// SMTP_CHECK state: host blocks are checked against the real server when the block ends.
struct SmtpState {
    chk: SmtpCheck,
    host_locs: Vec<Loc>,
}

impl HasConnect for SmtpState {
    fn co(&mut self) -> &mut ConnectOptions {
        &mut self.chk.connect
    }
}
impl HasCommon for SmtpState {
    fn common(&mut self) -> &mut CheckerCommon {
        &mut self.chk.common
    }
}

const SMTP_CHECK: &[Keyword<SmtpState>] = checker_table!(
    connect,
    SmtpState,
    [
        kw("helo_name", |c, s, n| match n.arg(0) {
            Some(t) => s.chk.helo_name = Some(t.text.to_string()),
            None => c.warn(n.loc(), "SMTP_CHECK helo name missing"),
        }),
        block("host", |c, s, n| {
            let mut h = HostState {
                host: SmtpHost {
                    loc: Some(n.loc()),
                    ..SmtpHost::default()
                },
                common: CheckerCommon::default(),
            };
            walk(c, &mut h, n.children(), SMTP_HOST);
            merge_common(&mut s.chk.common, h.common);
            s.chk.hosts.push(h.host);
            s.host_locs.push(n.loc());
        }),
    ]
);

fn smtp_check(c: &mut Ctx, s: &mut RsState, n: &Node) {
    let mut st = SmtpState {
        chk: SmtpCheck::default(),
        host_locs: Vec::new(),
    };
    walk(c, &mut st, n.children(), SMTP_CHECK);
    if !st.chk.hosts.is_empty() {
        c.note_warn(
            n.loc(),
            "The SMTP_CHECK host block is deprecated. Please define additional checkers.",
        );
    }
    let rs = &s.rs;
    let hosts = std::mem::take(&mut st.chk.hosts);
    st.chk.hosts = hosts
        .into_iter()
        .zip(st.host_locs.iter())
        .filter(|(h, loc)| conn_ok(c, &h.connect, rs, **loc))
        .map(|(h, _)| h)
        .collect();
    let uses_own = st.chk.connect != ConnectOptions::default() || st.chk.hosts.is_empty();
    if uses_own && !conn_ok(c, &st.chk.connect, rs, n.loc()) {
        return;
    }
    s.rs.checkers.push(Checker::Smtp(st.chk));
}

// ---------------------------------------------------------------------------------------
// DNS_CHECK

const DNS_CHECK: &[Keyword<DnsCheck>] = checker_table!(
    connect,
    DnsCheck,
    [
        kw("type", |c, s, n| {
            let Some(t) = arg_text(c, n) else { return };
            match DnsType::from_name(&t) {
                Some(v) => s.query_type = Some(v),
                None => c.warn(n.loc(), format!("Unknown DNS check type {t} - ignoring")),
            }
        }),
        kw("name", |c, s, n| {
            let Some(name) = arg_text(c, n) else { return };
            if s.name.is_some() {
                c.warn(n.loc(), "DNS_CHECK name already specified - ignoring");
                return;
            }
            let empty_label = (name.starts_with('.') && name != ".") || name.contains("..");
            if empty_label {
                c.warn(
                    n.loc(),
                    format!("DNS_CHECK name '{name}' has empty label - ignoring"),
                );
                return;
            }
            s.name = Some(name);
        }),
    ]
);

fn dns_check(c: &mut Ctx, s: &mut RsState, n: &Node) {
    let mut chk = DnsCheck::default();
    walk(c, &mut chk, n.children(), DNS_CHECK);
    if conn_ok(c, &chk.connect, &s.rs, n.loc()) {
        s.rs.checkers.push(Checker::Dns(chk));
    }
}

// ---------------------------------------------------------------------------------------
// UDP_CHECK

/// keepalived's `read_hex_str`: hex digits with optional blanks; with `wildcards`, `X`/`x`
/// nibbles are allowed. `None` if invalid or empty.
pub fn parse_hex(s: &str, wildcards: bool) -> Option<Vec<u8>> {
    let nibbles: Vec<u8> = s
        .chars()
        .filter(|c| *c != ' ' && *c != '\t')
        .map(|c| match c.to_digit(16) {
            Some(d) => u8::try_from(d).ok(),
            None if wildcards && (c == 'x' || c == 'X') => Some(0),
            None => None,
        })
        .collect::<Option<Vec<u8>>>()?;
    if nibbles.is_empty() {
        return None;
    }
    // An odd final nibble is the high half of a last byte.
    Some(
        nibbles
            .chunks(2)
            .map(|p| (p.first().copied().unwrap_or(0) << 4) | p.get(1).copied().unwrap_or(0))
            .collect(),
    )
}

const UDP_CHECK: &[Keyword<UdpCheck>] = checker_table!(
    connect,
    UdpCheck,
    [
        kw("payload", |c, s, n| {
            if n.args().is_empty() {
                c.warn(n.loc(), "UDP_CHECK payload requires a payload");
                return;
            }
            let text: Vec<&str> = n.args().iter().map(|t| t.text).collect();
            match parse_hex(&text.join(" "), false) {
                Some(p) => s.payload = Some(p),
                None => c.warn(n.loc(), "Invalid hex string for UDP_CHECK payload"),
            }
        }),
        kw("require_reply", |c, s, n| {
            if n.args().is_empty() {
                s.require_reply = Some(None);
                return;
            }
            let text: Vec<&str> = n.args().iter().map(|t| t.text).collect();
            let text = text.join(" ");
            if parse_hex(&text, true).is_none() {
                c.warn(n.loc(), "Invalid hex string for UDP_CHECK reply");
            }
            s.require_reply = Some(Some(text));
        }),
        kw("min_reply_length", |c, s, n| {
            if let Some(v) = unsigned(
                c,
                n,
                0,
                65535,
                "UDP_CHECK min length {} not valid - must be between 0 & 65535",
            ) {
                s.min_reply_length = u16::try_from(v).ok();
            }
        }),
        kw("max_reply_length", |c, s, n| {
            if let Some(v) = unsigned(
                c,
                n,
                0,
                65535,
                "UDP_CHECK max length {} not valid - must be between 0 & 65535",
            ) {
                s.max_reply_length = u16::try_from(v).ok();
            }
        }),
    ]
);

fn udp_check(c: &mut Ctx, s: &mut RsState, n: &Node) {
    let mut chk = UdpCheck::default();
    walk(c, &mut chk, n.children(), UDP_CHECK);
    if !conn_ok(c, &chk.connect, &s.rs, n.loc()) {
        return;
    }
    let min = chk.min_reply_length.unwrap_or(0);
    let max = chk.max_reply_length.unwrap_or(0);
    if min > max {
        c.warn(
            n.loc(),
            format!("UDP_CHECK min_reply length {min} > max_reply_length {max} - will always fail"),
        );
    }
    s.rs.checkers.push(Checker::Udp(chk));
}

// ---------------------------------------------------------------------------------------
// FILE_CHECK, BFD_CHECK

const FILE_CHECK: &[Keyword<FileCheck>] = &[
    kw("track_file", |c, s, n| {
        if let Some(v) = arg_text(c, n) {
            s.track_file = Some(v);
            s.loc = Some(n.loc());
        }
    }),
    kw("weight", |c, s, n| {
        let Some(tok) = n.arg(0) else {
            c.warn(n.loc(), "track file weight missing");
            return;
        };
        let lim = i64::from(IPVS_WEIGHT_LIMIT);
        let Some(w) = c.int(tok, -lim, lim).and_then(|v| i32::try_from(v).ok()) else {
            c.warn(
                n.loc(),
                format!(
                    "weight for track file must be in [{}..{}] inclusive. Ignoring...",
                    -lim, lim
                ),
            );
            return;
        };
        let reverse = match n.arg(1).map(|t| t.text) {
            None | Some("noreverse") => false,
            Some("reverse") => true,
            Some(other) => {
                c.warn(
                    n.loc(),
                    format!("unknown track file weight option {other} - ignoring"),
                );
                return;
            }
        };
        s.weight = Some(w);
        s.reverse = reverse;
    }),
];

fn file_check(c: &mut Ctx, s: &mut RsState, n: &Node) {
    let mut chk = FileCheck::default();
    walk(c, &mut chk, n.children(), FILE_CHECK);
    if chk.track_file.is_none() {
        c.warn(n.loc(), "FILE_CHECK has no track_file specified - ignoring");
        return;
    }
    s.rs.checkers.push(Checker::File(chk));
}

const BFD_CHECK: &[Keyword<BfdCheck>] = &[
    kw("name", |c, s, n| {
        if n.args().len() != 1 {
            c.warn(
                n.loc(),
                "BFD_CHECK - No or too many names specified - skipping checker",
            );
            return;
        }
        let name = n.arg(0).map(|t| t.text.to_string()).unwrap_or_default();
        if let Some(prev) = &s.name {
            c.warn(
                n.loc(),
                format!("BFD_CHECK - BFD {name} already specified as {prev}"),
            );
            return;
        }
        s.name = Some(name);
        s.loc = Some(n.loc());
    }),
    kw("alpha", |c, s, n| {
        if let Some(b) = opt_flag(c, n, "alpha") {
            s.alpha = Some(b);
        }
    }),
];

fn bfd_check(c: &mut Ctx, s: &mut RsState, n: &Node) {
    let mut chk = BfdCheck::default();
    walk(c, &mut chk, n.children(), BFD_CHECK);
    if chk.name.is_none() {
        c.warn(
            n.loc(),
            format!(
                "([{}]:{}) No name has been specified for BFD_CHECKER - skipping",
                s.rs.ip, s.rs.port
            ),
        );
        return;
    }
    s.rs.checkers.push(Checker::Bfd(chk));
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::host::AssumeAll;
    use crate::{load_str, LoadOptions, Loaded};

    fn load(body: &str) -> Loaded {
        let text = format!(
            "virtual_server 10.0.0.1 80 {{\nlvs_sched rr\nlvs_method NAT\nprotocol TCP\n{body}\n}}\n"
        );
        load_str("t.conf", &text, &LoadOptions::default(), &AssumeAll)
    }

    fn msgs(l: &Loaded) -> Vec<&str> {
        l.diagnostics.iter().map(|d| d.message.as_str()).collect()
    }

    fn rs_checkers(l: &Loaded) -> &[Checker] {
        &l.config.virtual_servers[0].real_servers[0].checkers
    }

    #[test]
    fn tunnel_options() {
        let l = load("lvs_method TUN type ipip csum\nreal_server 10.0.0.2 80 {\n}");
        assert!(msgs(&l).contains(&"ipip tunnels do not support checksum option."));
        let l = load("lvs_method TUN type gre remcsum\nreal_server 10.0.0.2 80 {\n}");
        assert!(msgs(&l).contains(&"gre tunnels do not support remote checksum option."));
        let l = load("lvs_method TUN type vxlan\nreal_server 10.0.0.2 80 {\n}");
        assert!(msgs(&l).contains(&"Unknown tunnel type vxlan for virtual server."));
        let l = load("lvs_method TUN port 0\nreal_server 10.0.0.2 80 {\n}");
        assert!(msgs(&l).contains(&"Invalid gue tunnel port 0 for virtual server."));
        let l = load("lvs_method FOO\nreal_server 10.0.0.2 80 {\n}");
        assert!(msgs(&l).contains(&"PARSER : unknown [FOO] routing method for virtual server."));
    }

    #[test]
    fn scheduler_flags_follow_the_scheduler() {
        let l = load("sh-port\nflag-3\nlvs_sched bogus\nreal_server 10.0.0.2 80 {\n}");
        let m = msgs(&l);
        assert!(m.contains(&"sh-port only applies to sh scheduler - ignoring"));
        assert!(m.contains(&"Invalid lvs_scheduler 'bogus' - ignoring"));
        let vs = &l.config.virtual_servers[0];
        assert!(vs.flags.flag_3 && !vs.flags.flag_2);
    }

    #[test]
    fn family_rules() {
        let l = load("ip_family inet6\npersistence_granularity 24\nreal_server 10.0.0.2 80 {\n}");
        assert!(msgs(&l)
            .contains(&"Virtual server specified family inet6 conflicts with server family"));
        let vs = &l.config.virtual_servers[0];
        assert_eq!(
            vs.persistence_granularity, None,
            "24 is not an IPv4 netmask for an IPv4 service"
        );
        let l = load("persistence_granularity 255.255.255.0\nreal_server 10.0.0.2 80 {\n}");
        let vs = &l.config.virtual_servers[0];
        assert_eq!(
            vs.persistence_granularity,
            Some(PersistenceGranularity::V4Mask(Ipv4Addr::new(
                255, 255, 255, 0
            )))
        );
        assert_eq!(vs.persistence_timeout, Some(DEFAULT_PERSISTENCE_TIMEOUT));
        // A tunnelled real server may be of the other family.
        let l = load("real_server 2001:db8::2 80 {\n lvs_method TUN\n}");
        assert_eq!(l.config.virtual_servers[0].real_servers.len(), 1);
    }

    #[test]
    fn connection_options() {
        let l = load(
            "real_server 10.0.0.2 80 {\n TCP_CHECK {\n  connect_ip 2001:db8::5\n  bindto 10.0.0.9\n  connect_port 70000\n  fwmark 9\n }\n}",
        );
        let m = msgs(&l);
        assert!(m.contains(
            &"bindto address 10.0.0.9 does not match address family of connect_ip - skipping"
        ));
        assert!(m.contains(&"Invalid checker connect_port '70000'"));
        let Checker::Tcp(t) = &rs_checkers(&l)[0] else {
            panic!("expected TCP_CHECK")
        };
        assert_eq!(t.connect.bindto, None);
        assert_eq!(t.connect.fwmark, Some(9));
        let l = load("real_server 10.0.0.2 80 {\n TCP_CHECK {\n  connect_ip fe80::1\n }\n}");
        assert!(msgs(&l).contains(&"Checker link local address fe80::1 requires a bind_if"));
        assert!(rs_checkers(&l).is_empty());
    }

    #[test]
    fn http_details() {
        let l = load(
            "real_server 10.0.0.2 80 {\n HTTP_GET {\n  url {\n   path /\n   regex_no_match\n  }\n  url {\n   path /r\n   regex \"^OK\"\n   regex_options caseless bogus\n   regex_min_offset 2\n   regex_max_offset 9\n  }\n  http_protocol 2.0\n  virtualhost example.org\n }\n}",
        );
        let m = msgs(&l);
        assert!(m.contains(&"regex parameters specified without regex"));
        assert!(m.contains(&"Invalid http_protocol version 2.0"));
        let Checker::Http(h) = &rs_checkers(&l)[0] else {
            panic!("expected HTTP_GET")
        };
        assert!(!h.urls[0].regex_no_match);
        assert_eq!(h.urls[1].regex.as_deref(), Some("^OK"));
        assert_eq!(h.urls[1].regex_options, vec!["caseless"]);
        assert_eq!(
            (h.urls[1].regex_min_offset, h.urls[1].regex_max_offset),
            (Some(2), Some(9))
        );
        assert_eq!(h.virtualhost.as_deref(), Some("example.org"));
    }

    #[test]
    fn dns_udp_smtp_file_bfd_details() {
        let l = load(
            "real_server 10.0.0.2 80 {\n DNS_CHECK {\n  type BOGUS\n  name a..b\n }\n UDP_CHECK {\n  payload zz\n  min_reply_length 10\n  max_reply_length 5\n }\n SMTP_CHECK {\n  host {\n   connect_ip 10.0.0.3\n  }\n }\n FILE_CHECK {\n  track_file tf\n  weight 3 sideways\n }\n BFD_CHECK {\n  name a b\n }\n}",
        );
        let m = msgs(&l);
        for want in [
            "Unknown DNS check type BOGUS - ignoring",
            "DNS_CHECK name 'a..b' has empty label - ignoring",
            "Invalid hex string for UDP_CHECK payload",
            "UDP_CHECK min_reply length 10 > max_reply_length 5 - will always fail",
            "The SMTP_CHECK host block is deprecated. Please define additional checkers.",
            "unknown track file weight option sideways - ignoring",
            "BFD_CHECK - No or too many names specified - skipping checker",
            "([10.0.0.2]:80) No name has been specified for BFD_CHECKER - skipping",
        ] {
            assert!(m.contains(&want), "missing {want:?} in {m:#?}");
        }
        let kinds: Vec<_> = rs_checkers(&l).iter().map(Checker::keyword).collect();
        assert_eq!(
            kinds,
            vec!["DNS_CHECK", "UDP_CHECK", "SMTP_CHECK", "FILE_CHECK"]
        );
    }

    #[test]
    fn misc_user_before_path_and_scripts() {
        let l = load(
            "real_server 10.0.0.2 80 {\n notify_up \"/bin/up.sh a\" nobody nogroup\n notify_up /bin/again\n MISC_CHECK {\n  user nobody\n  misc_path /bin/check\n }\n}",
        );
        assert!(msgs(&l).contains(&"notify_up script already specified - ignoring"));
        let rs = &l.config.virtual_servers[0].real_servers[0];
        let up = rs.notify_up.as_ref().unwrap();
        assert_eq!(up.argv, vec!["/bin/up.sh", "a"]);
        let u = up.user.as_ref().unwrap();
        assert_eq!(
            (u.user.as_str(), u.group.as_deref()),
            ("nobody", Some("nogroup"))
        );
        let Checker::Misc(m) = &rs.checkers[0] else {
            panic!("expected MISC_CHECK")
        };
        let p = m.path.as_ref().unwrap();
        assert_eq!(p.argv, vec!["/bin/check"]);
        assert_eq!(p.user.as_ref().map(|u| u.user.as_str()), Some("nobody"));
    }

    #[test]
    fn values_and_ranges() {
        let l = load(
            "quorum 0\nhysteresis x\nweight 0\npersistence_timeout 99999999\nprotocol ICMP\ndelay_loop 0\nreal_server 10.0.0.2 80 {\n weight -1\n alpha maybe\n}",
        );
        let m = msgs(&l);
        for want in [
            "Quorum 0 must be in [1, 4294967295]. Setting to 1.",
            "Hysteresis x must be in [0, 4294967295] - ignoring",
            "Virtual server weight 0 is outside range 1-2147483647",
            "persistence_timeout invalid",
            "Unknown protocol ICMP - ignoring",
            "virtual server delay loop '0' invalid - ignoring",
            "Real server weight -1 is outside range 0-2147483647",
            "Invalid alpha parameter maybe",
        ] {
            assert!(m.contains(&want), "missing {want:?} in {m:#?}");
        }
        let vs = &l.config.virtual_servers[0];
        assert_eq!(vs.quorum, Some(1));
        assert_eq!(vs.protocol, Some(LvsProtocol::Tcp));
    }

    #[test]
    fn ssl_block_replacement() {
        let l = load_str(
            "t.conf",
            "SSL {\n ca a\n ca b\n key\n}\nSSL {\n}\n",
            &LoadOptions::default(),
            &AssumeAll,
        );
        let m = msgs(&l);
        assert!(m.contains(&"SSL cafile already specified - replacing"));
        assert!(m.contains(&"SSL keyfile missing"));
        assert!(m.contains(&"SSL context already specified - replacing"));
        assert_eq!(l.config.ssl.as_ref().and_then(|s| s.ca.clone()), None);
    }

    #[test]
    fn ipv6_group_ranges() {
        let l = load_str(
            "t.conf",
            "virtual_server_group g {\n 2001:db8::1-1f 443\n fwmark 2 inet6\n}\n",
            &LoadOptions::default(),
            &AssumeAll,
        );
        let g = &l.config.virtual_server_groups[0];
        assert_eq!(
            g.members[0],
            VsgMember::Range {
                first: "2001:db8::1".parse().unwrap(),
                last: "2001:db8::1f".parse().unwrap(),
                port: Some(443)
            }
        );
        assert!(g.has_ipv6() && !g.has_ipv4());
    }

    proptest::proptest! {
        #[test]
        fn lvs_parser_never_panics(body in "[a-zA-Z0-9_ .:/{}\"-]{0,300}") {
            let _ = load(&body);
        }
    }

    #[test]
    fn status_codes() {
        assert_eq!(
            parse_status_code("200-299"),
            Some(StatusCodeRange {
                low: 200,
                high: 299
            })
        );
        assert_eq!(
            parse_status_code("404"),
            Some(StatusCodeRange {
                low: 404,
                high: 404
            })
        );
        assert_eq!(parse_status_code("99"), None);
        assert_eq!(parse_status_code("600"), None);
        assert_eq!(parse_status_code("300-200"), None);
        assert_eq!(parse_status_code("2xx"), None);
    }

    #[test]
    fn hex_strings() {
        assert_eq!(parse_hex("0a0B ff", false), Some(vec![0x0a, 0x0b, 0xff]));
        assert_eq!(parse_hex("abc", false), Some(vec![0xab, 0xc0]));
        assert_eq!(parse_hex("xx", false), None);
        assert_eq!(parse_hex("xx", true), Some(vec![0]));
        assert_eq!(parse_hex("", false), None);
    }

    #[test]
    fn prefixes() {
        let ip: IpAddr = "10.0.0.0".parse().unwrap();
        assert_eq!(
            prefix_range(ip, 30),
            Some((ip, "10.0.0.3".parse().unwrap()))
        );
        assert_eq!(prefix_range("10.0.0.1".parse().unwrap(), 30), None);
        assert_eq!(prefix_range(ip, 32), Some((ip, ip)));
    }

    #[test]
    fn ports() {
        assert_eq!(port_text(None), Ok(0));
        assert_eq!(port_text(Some("000")), Ok(0));
        assert_eq!(port_text(Some("80")), Ok(80));
        assert_eq!(port_text(Some("65536")), Err(()));
        assert_eq!(port_text(Some("http")), Err(()));
    }
}
