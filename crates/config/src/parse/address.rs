//! Address, route and rule entries of `virtual_ipaddress`, `static_ipaddress`,
//! `virtual_routes`, `virtual_rules` and friends.

use super::framework::{parse_ip_text, parse_prefix_text, valid_ifname, Ctx, Node};
use crate::model::vrrp::RouteSpec;
use crate::model::{Broadcast, VirtualAddress};

/// Which block an address entry comes from (some options are only valid in one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddressKind {
    /// `virtual_ipaddress` / `virtual_ipaddress_excluded`.
    Virtual,
    /// `static_ipaddress`.
    Static,
}

/// Parses the address part `IP[/len]` like keepalived's `parse_ipaddress`: a bad prefix
/// length is reported and replaced by the full length; a bad address skips the entry.
fn parse_ip_with_prefix(
    ctx: &mut Ctx,
    text: &str,
    loc: crate::Loc,
) -> Option<(std::net::IpAddr, u8)> {
    let (addr_text, len_text) = match text.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (text, None),
    };
    let v6 = addr_text.contains(':');
    let max: u8 = if v6 { 128 } else { 32 };
    let ip = match parse_ip_text(addr_text) {
        Some(ip) if ip.is_ipv6() == v6 => ip,
        _ => {
            ctx.warn(
                loc,
                format!("VRRP parsed invalid IP {text}. skipping IP..."),
            );
            return None;
        }
    };
    let mut prefix = max;
    if let Some(l) = len_text {
        match super::framework::parse_int_text(l) {
            Some(n) if !l.starts_with('-') && n >= 0 && n <= i128::from(max) => {
                prefix = u8::try_from(n).unwrap_or(max)
            }
            parsed => {
                // keepalived's number reader speaks first, then the address parser.
                let first = match parsed {
                    _ if l.trim_start().starts_with('-') => format!("negative number '{l}'"),
                    Some(_) => format!("number '{l}' outside range [0, {max}]"),
                    None => format!("invalid number '{l}'"),
                };
                ctx.warn(loc, first);
                ctx.warn(
                    loc,
                    format!("Invalid address prefix len {l} for address {text} - using {max}"),
                );
            }
        }
    }
    Some((ip, prefix))
}

/// One address line: `IP[/len] [options...]`.
pub fn parse_address_entry(
    ctx: &mut Ctx,
    entry: &Node,
    kind: AddressKind,
) -> Option<VirtualAddress> {
    let toks = &entry.line.tokens;
    let first = toks.first()?;
    let (ip, prefix) = parse_ip_with_prefix(ctx, first.text, first.loc)?;
    let mut a = VirtualAddress::new(ip);
    a.prefix = prefix;
    a.loc = Some(first.loc);
    let mut i = 1;
    while let Some(tok) = toks.get(i) {
        let opt = tok.text;
        let takes_param = matches!(
            opt,
            "dev"
                | "scope"
                | "broadcast"
                | "brd"
                | "label"
                | "peer"
                | "preferred_lft"
                | "track_group"
        );
        let param = toks.get(i + 1);
        if takes_param && param.is_none() {
            ctx.warn(
                tok.loc,
                format!("No {opt} parameter specified for {}", first.text),
            );
            break;
        }
        let p = param.map(|t| t.text.to_string()).unwrap_or_default();
        match opt {
            "dev" => {
                if a.dev.is_some() {
                    ctx.warn(
                        tok.loc,
                        format!(
                            "Cannot specify ipaddress device more than once for {}",
                            first.text
                        ),
                    );
                } else if valid_ifname(&p) {
                    a.dev = Some(p);
                } else {
                    ctx.warn(tok.loc, format!("Invalid interface name '{p}'"));
                }
            }
            "scope" => {
                const SCOPES: [&str; 5] = ["site", "link", "host", "nowhere", "global"];
                if SCOPES.contains(&p.as_str())
                    || super::framework::parse_int_text(&p).is_some_and(|n| (0..=255).contains(&n))
                {
                    a.scope = Some(p);
                } else {
                    ctx.warn(
                        tok.loc,
                        format!(
                            "Invalid scope '{p}' specified for {} - ignoring",
                            first.text
                        ),
                    );
                }
            }
            "broadcast" | "brd" => {
                if ip.is_ipv6() {
                    ctx.warn(
                        tok.loc,
                        format!(
                            "VRRP is trying to assign a broadcast {p} to the IPv6 address {} !!?? WTF... skipping VIP...",
                            first.text
                        ),
                    );
                    return None;
                }
                a.broadcast = match p.as_str() {
                    "-" => Some(Broadcast::Minus),
                    "+" => Some(Broadcast::Plus),
                    s => match parse_ip_text(s) {
                        Some(b) if b.is_ipv4() => Some(Broadcast::Addr(b)),
                        _ => {
                            ctx.warn(
                                tok.loc,
                                format!("VRRP is trying to assign invalid broadcast {s}. skipping VIP..."),
                            );
                            return None;
                        }
                    },
                };
            }
            "label" => {
                if p.len() >= 16 {
                    ctx.warn(
                        tok.loc,
                        format!(
                            "Address label {p} is longer than maximum length 15 - removing address"
                        ),
                    );
                    return None;
                }
                a.label = Some(p);
            }
            "peer" => {
                if a.peer.is_some() {
                    ctx.warn(
                        tok.loc,
                        format!("Peer {p} - another peer has already been specified"),
                    );
                } else {
                    match parse_prefix_text(&p) {
                        Some((pip, _)) if pip.is_ipv4() == ip.is_ipv4() => a.peer = Some(pip),
                        Some(_) => ctx.warn(
                            tok.loc,
                            format!("Peer address {p} does not match address family"),
                        ),
                        None => ctx.warn(tok.loc, format!("Invalid peer address {p}")),
                    }
                }
            }
            "preferred_lft" => {
                if p == "forever" {
                    a.preferred_lft = None;
                } else {
                    match super::framework::parse_int_text(&p) {
                        Some(n) if (0..=i128::from(u32::MAX)).contains(&n) => {
                            a.preferred_lft = u32::try_from(n).ok()
                        }
                        _ => ctx.warn(tok.loc, format!("preferred_lft {p} is invalid")),
                    }
                }
            }
            "track_group" if kind == AddressKind::Static => a.track_group = Some(p),
            "home" => a.home = true,
            "-nodad" => a.nodad = true,
            "mngtmpaddr" => a.mngtmpaddr = true,
            "noprefixroute" => a.noprefixroute = true,
            "autojoin" => a.autojoin = true,
            "no_track" => a.no_track = true,
            "use_vmac" if kind == AddressKind::Virtual => a.use_vmac = true,
            _ => {
                ctx.warn(
                    tok.loc,
                    format!("Unknown configuration entry '{opt}' for ip address - ignoring"),
                );
                i += 1;
                continue;
            }
        }
        i += if takes_param { 2 } else { 1 };
    }
    if a.peer.is_some() && matches!(a.broadcast, Some(Broadcast::Addr(_))) {
        ctx.warn(
            first.loc,
            "Cannot specify broadcast and peer addresses - ignoring broadcast address",
        );
        a.broadcast = None;
    }
    if ip.is_ipv6() && a.scope.is_some() {
        ctx.warn(
            first.loc,
            format!(
                "Cannot specify scope for IPv6 addresses ({}) - ignoring scope",
                first.text
            ),
        );
        a.scope = None;
    }
    if ip.is_ipv6() && a.label.is_some() {
        ctx.warn(
            first.loc,
            format!(
                "Cannot specify label for IPv6 addresses ({}) - ignoring label",
                first.text
            ),
        );
        a.label = None;
    }
    Some(a)
}

/// Route options followed by one value (`mtu lock N` style options also accept `lock`).
const ROUTE_VALUE: &[&str] = &[
    "tos",
    "dsfield",
    "table",
    "protocol",
    "proto",
    "scope",
    "metric",
    "priority",
    "preference",
    "realms",
    "expires",
    "mtu",
    "hoplimit",
    "advmss",
    "rtt",
    "rttvar",
    "reordering",
    "window",
    "cwnd",
    "ssthresh",
    "rto_min",
    "initcwnd",
    "initrwnd",
    "features",
    "quickack",
    "congctl",
    "pref",
    "fastopen_no_cookie",
    "ttl-propagate",
    "vrf",
    "track_group",
];
/// Route types keepalived accepts before the destination.
const ROUTE_TYPES: &[&str] = &[
    "unicast",
    "local",
    "broadcast",
    "multicast",
    "throw",
    "unreachable",
    "prohibit",
    "blackhole",
    "nat",
    "anycast",
];

/// One route line, checked like keepalived's `alloc_route` and kept in word form.
fn check_route(ctx: &mut Ctx, entry: &Node) -> bool {
    let toks = &entry.line.tokens;
    let mut dest: Option<&str> = None;
    let mut has_oif = false;
    let mut no_track = false;
    let mut protocol: Option<&str> = None;
    let mut i = 0;
    while let Some(t) = toks.get(i) {
        let w = t.text;
        let next = toks.get(i + 1);
        match w {
            "inet" | "inet6" | "onlink" => {}
            "no_track" => no_track = true,
            "nexthop" => break,
            "src" | "via" | "gw" | "from" | "or" => {
                let mut j = i + 1;
                if matches!(w, "via" | "gw")
                    && toks
                        .get(j)
                        .is_some_and(|x| x.text == "inet" || x.text == "inet6")
                {
                    j += 1;
                }
                let Some(v) = toks.get(j) else {
                    ctx.warn(t.loc, format!("No value specified for route option {w}"));
                    return false;
                };
                if w == "gw" {
                    ctx.warn(t.loc, "\"gw\" for routes is deprecated. Please use \"via\"");
                }
                let ok = if w == "from" {
                    parse_prefix_text(v.text).is_some() || v.text == "default"
                } else {
                    parse_ip_text(v.text).is_some()
                };
                if !ok {
                    ctx.warn(v.loc, format!("invalid route {w} address {}", v.text));
                    return false;
                }
                i = j + 1;
                continue;
            }
            "dev" | "oif" => {
                has_oif = true;
                i += 2;
                continue;
            }
            "as" => {
                i += if toks.get(i + 1).is_some_and(|x| x.text == "to") {
                    3
                } else {
                    2
                };
                continue;
            }
            "encap" => break,
            _ if ROUTE_VALUE.contains(&w) => {
                if w == "protocol" || w == "proto" {
                    protocol = next.map(|x| x.text);
                }
                i += if next.is_some_and(|x| x.text == "lock") {
                    3
                } else {
                    2
                };
                continue;
            }
            _ => {
                let mut j = i;
                if w == "to" {
                    j += 1;
                }
                if toks.get(j).is_some_and(|x| ROUTE_TYPES.contains(&x.text)) {
                    j += 1;
                }
                let Some(d) = toks.get(j) else { break };
                let text = d.text;
                let special = matches!(text, "default" | "any" | "all" | "default6");
                if !special && parse_ip_with_prefix(ctx, text, d.loc).is_none() {
                    ctx.warn(d.loc, format!("unknown route keyword {text}"));
                    return false;
                }
                dest = Some(text);
                i = j + 1;
                continue;
            }
        }
        i += 1;
    }
    let Some(dest) = dest else {
        ctx.warn(entry.loc(), "Route must have a destination");
        return false;
    };
    if !no_track {
        if protocol.is_some_and(|p| p != "keepalived" && p != "18") {
            ctx.warn(
                entry.loc(),
                "Route cannot be tracked if protocol is not RTPROT_KEEPALIVED(18), resetting protocol",
            );
        }
        if !has_oif {
            ctx.warn(
                entry.loc(),
                format!(
                    "Warning - cannot track route {dest} with no interface specified, not tracking"
                ),
            );
        }
    }
    true
}

/// Rule options followed by one value.
const RULE_VALUE: &[&str] = &[
    "preference",
    "priority",
    "pref",
    "table",
    "lookup",
    "tos",
    "dsfield",
    "fwmark",
    "realms",
    "iif",
    "oif",
    "goto",
    "suppress_prefixlength",
    "suppress_ifgroup",
    "uidrange",
    "sport",
    "dport",
    "ipproto",
    "tun_id",
    "track_group",
    "protocol",
];

/// One rule line, checked like keepalived's `alloc_rule`.
fn check_rule(ctx: &mut Ctx, entry: &Node) -> bool {
    let toks = &entry.line.tokens;
    let mut has_pref = false;
    let mut i = 0;
    while let Some(t) = toks.get(i) {
        let w = t.text;
        match w {
            "from" | "to" => {
                let Some(v) = toks.get(i + 1) else {
                    ctx.warn(t.loc, format!("No value specified for rule option {w}"));
                    return false;
                };
                if !matches!(v.text, "all" | "any" | "default")
                    && parse_prefix_text(v.text).is_none()
                {
                    ctx.warn(v.loc, format!("Invalid rule {w} address {}", v.text));
                    return false;
                }
                i += 2;
                continue;
            }
            "inet" | "inet6" | "not" | "l3mdev" | "no_track" | "unicast" | "blackhole"
            | "unreachable" | "prohibit" | "nat" | "nop" => {}
            _ if RULE_VALUE.contains(&w) => {
                if matches!(w, "preference" | "priority" | "pref") {
                    has_pref = true;
                }
                i += 2;
                continue;
            }
            _ => {
                ctx.warn(t.loc, format!("Unknown rule option {w}"));
                return false;
            }
        }
        i += 1;
    }
    if !has_pref {
        ctx.warn(
            entry.loc(),
            "Rule has no preference specified - setting to 16384. This is probably not what you want.",
        );
    }
    true
}

/// One route or rule line, kept in word form after keepalived's checks.
pub fn parse_route_entry(ctx: &mut Ctx, entry: &Node, is_rule: bool) -> Option<RouteSpec> {
    let ok = if is_rule {
        check_rule(ctx, entry)
    } else {
        check_route(ctx, entry)
    };
    ok.then(|| RouteSpec {
        words: entry
            .line
            .tokens
            .iter()
            .map(|t| t.text.to_string())
            .collect(),
        loc: Some(entry.loc()),
    })
}
