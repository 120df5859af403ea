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
            _ => ctx.warn(
                loc,
                format!("Invalid address prefix len {l} for address {text} - using {max}"),
            ),
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
    let (ip, prefix) = parse_ip_with_prefix(ctx, &first.text, first.loc)?;
    let mut a = VirtualAddress::new(ip);
    a.prefix = prefix;
    a.loc = Some(first.loc);
    let mut i = 1;
    while let Some(tok) = toks.get(i) {
        let opt = tok.text.as_str();
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
        let p = param.map(|t| t.text.clone()).unwrap_or_default();
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
    if a.peer.is_some() && a.broadcast.is_some() {
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
    if kind == AddressKind::Static && a.dev.is_none() {
        ctx.push(
            crate::diag::Diagnostic::error(
                Some(first.loc),
                format!("Static address {} requires either an interface", first.text),
            )
            .with_class(crate::diag::ConfigClass::Fatal),
        );
        return None;
    }
    Some(a)
}

/// Route keywords keepalived accepts (`ip route` syntax, full names only).
const ROUTE_WORDS: &[&str] = &[
    "src",
    "via",
    "gw",
    "or",
    "dev",
    "oif",
    "table",
    "metric",
    "priority",
    "preference",
    "scope",
    "protocol",
    "proto",
    "type",
    "tos",
    "dsfield",
    "realms",
    "realm",
    "mtu",
    "hoplimit",
    "advmss",
    "rtt",
    "rttvar",
    "reordering",
    "window",
    "cwnd",
    "initcwnd",
    "initrwnd",
    "ssthresh",
    "features",
    "quickack",
    "congctl",
    "pref",
    "fastopen_no_cookie",
    "rto_min",
    "nexthop",
    "onlink",
    "no_track",
    "blackhole",
    "unreachable",
    "prohibit",
    "throw",
    "local",
    "broadcast",
    "anycast",
    "multicast",
    "unicast",
    "nat",
    "encap",
    "expires",
    "lock",
    "ttl-propagate",
    "from",
    "to",
    "not",
    "fwmark",
    "iif",
    "l3mdev",
    "uidrange",
    "sport",
    "dport",
    "ipproto",
    "goto",
    "suppress_prefixlength",
    "suppress_ifgroup",
    "lookup",
    "action",
    "all",
    "tun_id",
    "inet",
    "inet6",
    "default",
    "weight",
    "ip_proto",
    "flowid",
    "classid",
    "nop",
];

/// One route or rule line, kept in word form after light validation of the destination.
pub fn parse_route_entry(ctx: &mut Ctx, entry: &Node, is_rule: bool) -> Option<RouteSpec> {
    let toks = &entry.line.tokens;
    let first = toks.first()?;
    if !is_rule {
        let dest_idx = toks
            .iter()
            .position(|t| {
                !matches!(
                    t.text.as_str(),
                    "inet"
                        | "inet6"
                        | "blackhole"
                        | "unreachable"
                        | "prohibit"
                        | "throw"
                        | "local"
                        | "broadcast"
                        | "anycast"
                        | "multicast"
                        | "unicast"
                        | "nat"
                        | "to"
                )
            })
            .unwrap_or(0);
        if let Some(dest) = toks.get(dest_idx) {
            let d = dest.text.as_str();
            if !matches!(d, "default" | "any" | "all" | "default6")
                && parse_ip_with_prefix(ctx, d, dest.loc).is_none()
            {
                return None;
            }
        }
        for t in toks.iter().skip(dest_idx + 1) {
            if t.text
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && !ROUTE_WORDS.contains(&t.text.as_str())
                && parse_ip_text(&t.text).is_none()
                && !valid_word_value(toks, t)
            {
                ctx.warn(t.loc, format!("unknown route keyword {}", t.text));
                break;
            }
        }
    } else {
        let mut i = 0;
        while let Some(t) = toks.get(i) {
            let w = t.text.as_str();
            if matches!(w, "from" | "to") {
                if let Some(v) = toks.get(i + 1) {
                    if v.text != "all" && parse_prefix_text(&v.text).is_none() {
                        ctx.warn(v.loc, format!("Invalid rule {w} address {}", v.text));
                        return None;
                    }
                }
                i += 2;
                continue;
            }
            if t.text
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic())
                && !ROUTE_WORDS.contains(&w)
                && !valid_word_value(toks, t)
            {
                ctx.warn(t.loc, format!("Unknown rule option {w}"));
                break;
            }
            i += 1;
        }
    }
    let _ = first;
    Some(RouteSpec {
        words: toks.iter().map(|t| t.text.clone()).collect(),
        loc: Some(entry.loc()),
    })
}

/// Whether `t` is the value of the keyword before it (so any word is fine).
fn valid_word_value(toks: &[crate::lexer::Token], t: &crate::lexer::Token) -> bool {
    let Some(pos) = toks.iter().position(|x| std::ptr::eq(x, t)) else {
        return false;
    };
    let Some(prev) = pos.checked_sub(1).and_then(|p| toks.get(p)) else {
        return false;
    };
    matches!(
        prev.text.as_str(),
        "dev"
            | "oif"
            | "table"
            | "lookup"
            | "scope"
            | "protocol"
            | "proto"
            | "type"
            | "iif"
            | "congctl"
            | "features"
            | "realms"
            | "realm"
            | "action"
            | "goto"
            | "encap"
            | "suppress_ifgroup"
            | "uidrange"
            | "ipproto"
            | "ip_proto"
            | "fwmark"
            | "tos"
            | "dsfield"
            | "pref"
            | "priority"
            | "preference"
    )
}
