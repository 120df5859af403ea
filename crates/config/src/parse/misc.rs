//! Smaller top-level blocks and keywords: `track_file`, `vrrp_track_process`,
//! `bfd_instance`, `garp_group`, `static_*`, `track_group`, `linkbeat_interfaces`,
//! `interface_up_down_delays`, namespaces and process settings.

use super::address::{parse_address_entry, parse_route_entry, AddressKind};
use super::framework::{kw, walk, Ctx, Keyword, Node};
use crate::model::misc::ParamMatch;
use crate::model::{
    BfdInstance, Config, GarpGroup, LinkbeatInterface, TrackFile, TrackGroup, TrackProcess,
    UpDownDelay,
};
use std::time::Duration;

/// `net_namespace NAME`, `net_namespace_ipvs NAME`, `instance NAME`.
pub fn top_string(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let v = ctx.str_arg(node, 0);
    match node.keyword() {
        "net_namespace" => {
            if config.net_namespace.is_some() {
                ctx.warn(node.loc(), "Duplicate net_namespace definition - ignoring");
            } else {
                config.net_namespace = v;
            }
        }
        "net_namespace_ipvs" => config.net_namespace_ipvs = v,
        _ => {
            if config.instance.is_some() {
                ctx.warn(node.loc(), "Duplicate instance definition - ignoring");
            } else {
                config.instance = v;
            }
        }
    }
}

/// `child_wait_time SECS`.
pub fn child_wait_time(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    if let Some(v) = ctx.int_arg(node, 0, 0, i64::from(u32::MAX / 1_000_000)) {
        config.child_wait_time = Duration::from_secs(u64::try_from(v).unwrap_or(5));
    }
}

/// `track_file NAME { ... }` / `vrrp_track_file NAME { ... }`.
pub fn track_file(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let Some(name) = node.arg(0) else {
        ctx.arg(node, 0);
        return;
    };
    if !ctx.define("track_file", name.text) {
        ctx.warn(
            node.loc(),
            format!("track_file {} already defined", name.text),
        );
        return;
    }
    let mut tf = TrackFile {
        name: name.text.to_string(),
        loc: Some(node.loc()),
        file: None,
        weight: 1,
        reverse: false,
        init_file: None,
    };
    walk(ctx, &mut tf, node.children(), TRACK_FILE);
    if tf.file.is_none() {
        ctx.warn(
            node.loc(),
            format!("No file set for track_file {} - ignoring", tf.name),
        );
        return;
    }
    config.track_files.push(tf);
}

const TRACK_FILE: &[Keyword<TrackFile>] = &[
    kw("file", |c, t, n| {
        if t.file.is_some() {
            c.warn(
                n.loc(),
                format!("File already set for track file {} - ignoring", t.name),
            );
            return;
        }
        t.file = c.str_arg(n, 0);
    }),
    kw("weight", |c, t, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, -254, 254) {
            Some(w) => t.weight = i32::try_from(w).unwrap_or(1),
            None => c.warn(
                tok.loc,
                format!(
                    "Weight for track file {} must be between [-254..254] inclusive. Ignoring...",
                    t.name
                ),
            ),
        }
        if let Some(o) = n.arg(1) {
            if o.text == "reverse" {
                t.reverse = true;
            } else {
                c.warn(
                    o.loc,
                    format!("track_file {} unknown weight option {}", t.name, o.text),
                );
            }
        }
    }),
    kw("init_file", |c, t, n| {
        let mut value = 0;
        let mut overwrite = false;
        for tok in n.args() {
            if tok.text == "overwrite" {
                overwrite = true;
            } else if let Some(v) = c.int(tok, i64::from(i32::MIN), i64::from(i32::MAX)) {
                value = v;
            }
        }
        t.init_file = Some((value, overwrite));
    }),
];

/// `vrrp_track_process NAME { ... }`.
pub fn track_process(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let Some(name) = node.arg(0) else {
        ctx.arg(node, 0);
        return;
    };
    let mut tp = TrackProcess {
        name: name.text.to_string(),
        loc: Some(node.loc()),
        process: None,
        params: Vec::new(),
        param_match: ParamMatch::None,
        weight: 0,
        reverse: false,
        quorum: 1,
        quorum_max: None,
        terminate_delay: None,
        fork_delay: None,
        full_command: false,
    };
    walk(ctx, &mut tp, node.children(), TRACK_PROCESS);
    if tp.process.is_none() {
        ctx.warn(
            node.loc(),
            format!("track process '{}' process name not specified", tp.name),
        );
        return;
    }
    config.track_processes.push(tp);
}

fn process_delay(c: &mut Ctx, t: &mut TrackProcess, n: &Node) {
    let Some(tok) = c.arg(n, 0) else { return };
    let Some(d) = c.timer(tok, Duration::from_micros(1), Duration::from_secs(3600)) else {
        c.warn(
            tok.loc,
            format!(
                "{} ({}) for vrrp_track_process {} must be between [0.000001..3600] inclusive. Ignoring...",
                n.keyword(),
                tok.text,
                t.name
            ),
        );
        return;
    };
    match n.keyword() {
        "terminate_delay" => t.terminate_delay = Some(d),
        "fork_delay" => t.fork_delay = Some(d),
        _ => {
            t.terminate_delay = Some(d);
            t.fork_delay = Some(d);
        }
    }
}

const TRACK_PROCESS: &[Keyword<TrackProcess>] = &[
    kw("process", |c, t, n| {
        if t.process.is_some() {
            c.warn(
                n.loc(),
                format!(
                    "Process already set for track process {} - ignoring",
                    t.name
                ),
            );
            return;
        }
        t.process = c.str_arg(n, 0);
        if n.args().len() > 1 {
            t.params = n
                .args()
                .iter()
                .skip(1)
                .map(|a| a.text.to_string())
                .collect();
            if t.param_match == ParamMatch::None {
                t.param_match = ParamMatch::Exact;
            }
            t.full_command = true;
        }
    }),
    kw("param_match", |c, t, n| {
        t.param_match = match n.arg(0).map(|a| a.text) {
            None => ParamMatch::Exact,
            Some("initial") => ParamMatch::Initial,
            Some("partial") => ParamMatch::Partial,
            Some(other) => {
                c.warn(
                    n.loc(),
                    format!("Invalid param_match type {other} - ignoring"),
                );
                return;
            }
        };
        t.full_command = true;
    }),
    kw("weight", |c, t, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match c.int(tok, -254, 254) {
            Some(w) => t.weight = i32::try_from(w).unwrap_or(0),
            None => c.warn(
                tok.loc,
                format!(
                    "Weight ({}) for vrrp_track_process {} must be between [-254..254] inclusive. Ignoring...",
                    tok.text, t.name
                ),
            ),
        }
        if let Some(o) = n.arg(1) {
            if o.text == "reverse" {
                t.reverse = true;
            } else {
                c.warn(
                    o.loc,
                    format!(
                        "vrrp_track_process {} unknown weight option {}",
                        t.name, o.text
                    ),
                );
            }
        }
    }),
    kw("quorum", |c, t, n| {
        if let Some(q) = c.u32_arg(n, 0, 1, 65535) {
            if t.quorum_max.is_some_and(|m| q > m) {
                c.warn(n.loc(), "Quorum is greater than quorum_max - ignoring");
            } else {
                t.quorum = q;
            }
        }
    }),
    kw("quorum_max", |c, t, n| {
        if let Some(q) = c.u32_arg(n, 0, 0, 65535) {
            if (q != 0 || t.quorum > 1) && q < t.quorum {
                c.warn(n.loc(), "quorum_max is less than quorum - ignoring");
            } else {
                t.quorum_max = Some(q);
                if q == 0 {
                    t.quorum = 0;
                }
            }
        }
    }),
    kw("delay", process_delay),
    kw("terminate_delay", process_delay),
    kw("fork_delay", process_delay),
    kw("full_command", |_, t, _| t.full_command = true),
];

/// `bfd_instance NAME { ... }`.
pub fn bfd_instance(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let Some(name) = node.arg(0) else {
        ctx.arg(node, 0);
        return;
    };
    if !ctx.define("bfd_instance", name.text) {
        ctx.warn(
            node.loc(),
            format!("BFD instance {} already configured", name.text),
        );
        return;
    }
    let mut b = BfdInstance::new(name.text.to_string(), Some(node.loc()));
    walk(ctx, &mut b, node.children(), BFD);
    if b.neighbor_ip.is_none() {
        // Kept (VRRP still knows the name for track_bfd) but never run.
        ctx.warn(
            node.loc(),
            format!(
                "Configuration error: BFD instance {} has no neighbor address set, disabling instance",
                b.name
            ),
        );
    }
    config.bfd_instances.push(b);
}

fn bfd_ms(c: &mut Ctx, n: &Node, min: u64, max: u64) -> Option<Duration> {
    c.int_arg(
        n,
        0,
        i64::try_from(min).unwrap_or(0),
        i64::try_from(max).unwrap_or(0),
    )
    .map(|v| Duration::from_millis(u64::try_from(v).unwrap_or(0)))
}

const BFD: &[Keyword<BfdInstance>] = &[
    kw("neighbor_ip", bfd_neighbor),
    kw("neighbour_ip", bfd_neighbor),
    kw("source_ip", |c, b, n| b.source_ip = c.ip_arg(n, 0)),
    kw("min_rx", |c, b, n| {
        if let Some(d) = bfd_ms(c, n, 1, 1000) {
            b.min_rx = d;
        }
    }),
    kw("min_tx", |c, b, n| {
        if let Some(d) = bfd_ms(c, n, 1, 1000) {
            b.min_tx = d;
        }
    }),
    kw("idle_tx", |c, b, n| {
        if let Some(d) = bfd_ms(c, n, 1000, 10000) {
            b.idle_tx = d;
        }
    }),
    kw("multiplier", |c, b, n| {
        if let Some(m) = c.u8_arg(n, 0, 1, 10) {
            b.multiplier = m;
        }
    }),
    kw("passive", |_, b, _| b.passive = true),
    kw("ttl", |c, b, n| b.ttl = c.u8_arg(n, 0, 1, 255)),
    kw("hoplimit", |c, b, n| b.ttl = c.u8_arg(n, 0, 1, 255)),
    kw("max_hops", |c, b, n| b.max_hops = c.u8_arg(n, 0, 0, 255)),
    kw("weight", |c, b, n| b.weight = c.i32_arg(n, 0, -253, 253)),
    kw("vrrp", |_, b, _| b.vrrp = true),
    kw("checker", |_, b, _| b.checker = true),
];

fn bfd_neighbor(c: &mut Ctx, b: &mut BfdInstance, n: &Node) {
    let Some(tok) = c.arg(n, 0) else { return };
    match super::framework::parse_ip_text(tok.text) {
        Some(ip) => b.neighbor_ip = Some(ip),
        None => c.warn(
            tok.loc,
            format!(
                "Configuration error: BFD instance {} has malformed neighbor address {}, ignoring",
                b.name, tok.text
            ),
        ),
    }
}

/// `garp_group { ... }`.
pub fn garp_group(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let mut g = GarpGroup {
        loc: Some(node.loc()),
        ..GarpGroup::default()
    };
    walk(ctx, &mut g, node.children(), GARP_GROUP);
    if g.garp_interval.is_none() && g.gna_interval.is_none() {
        // Kept so its interfaces are still checked, but it sets no delay.
        ctx.warn(
            node.loc(),
            format!(
                "garp group {} does not have any delay set - removing",
                config.garp_groups.len() + 1
            ),
        );
    }
    config.garp_groups.push(g);
}

const GARP_GROUP: &[Keyword<GarpGroup>] = &[
    kw("garp_interval", |c, g, n| {
        g.garp_interval = c.timer_arg(n, 0, Duration::ZERO, Duration::from_secs(2147))
    }),
    kw("gna_interval", |c, g, n| {
        g.gna_interval = c.timer_arg(n, 0, Duration::ZERO, Duration::from_secs(2147))
    }),
    kw("interface", |c, g, n| {
        if let Some(i) = c.str_arg(n, 0) {
            g.interfaces.push(i);
        }
    }),
    super::framework::block("interfaces", |c, g, n| {
        let before = g.interfaces.len();
        for e in n.children() {
            g.interfaces
                .extend(e.line.tokens.iter().map(|t| t.text.to_string()));
        }
        if g.interfaces.len() == before {
            c.warn(n.loc(), "Warning - empty garp_group interfaces block");
        }
    }),
];

/// `track_group NAME { group { ... } }`.
pub fn track_group(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let [name] = node.args() else {
        ctx.warn(node.loc(), "track_group must have a name - skipping");
        return;
    };
    if !ctx.define("track_group", name.text) {
        ctx.warn(
            node.loc(),
            format!("track_group {} already defined", name.text),
        );
        return;
    }
    let mut tg = TrackGroup {
        name: name.text.to_string(),
        group: Vec::new(),
        loc: Some(node.loc()),
    };
    walk(ctx, &mut tg, node.children(), TRACK_GROUP);
    config.track_groups.push(tg);
}

const TRACK_GROUP: &[Keyword<TrackGroup>] = &[super::framework::block("group", |c, t, n| {
    if !t.group.is_empty() {
        c.warn(
            n.loc(),
            format!("Group list already specified for sync group {}", t.name),
        );
        return;
    }
    for e in n.children() {
        t.group
            .extend(e.line.tokens.iter().map(|x| x.text.to_string()));
    }
    if t.group.is_empty() {
        c.warn(
            n.loc(),
            format!("Warning - track group {} has empty group block", t.name),
        );
    }
})];

/// `static_ipaddress { ... }`.
pub fn static_ipaddress(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    for e in ctx.value_block(node) {
        if let Some(a) = parse_address_entry(ctx, e, AddressKind::Static) {
            config.statics.addresses.push(a);
        }
    }
}

/// `static_routes { ... }` and `static_rules { ... }`.
pub fn static_routes(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    let rules = node.keyword() == "static_rules";
    for e in ctx.value_block(node) {
        if let Some(r) = parse_route_entry(ctx, e, rules) {
            if rules {
                config.statics.rules.push(r);
            } else {
                config.statics.routes.push(r);
            }
        }
    }
}

/// `linkbeat_interfaces { IF [MII|ETHTOOL|IOCTL] }`.
pub fn linkbeat_interfaces(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    for e in ctx.value_block(node) {
        let toks = &e.line.tokens;
        let Some(first) = toks.first() else { continue };
        let method = toks.get(1).map(|t| t.text.to_string());
        if let Some(m) = &method {
            if !matches!(m.as_str(), "MII" | "ETHTOOL" | "IOCTL") || toks.len() > 2 {
                ctx.warn(
                    e.loc(),
                    format!("extra characters {m} in linkbeat interface"),
                );
            }
        }
        config.linkbeat_interfaces.push(LinkbeatInterface {
            interface: first.text.to_string(),
            method,
            loc: Some(first.loc),
        });
    }
}

/// `interface_up_down_delays { IF DOWN [UP] }`.
pub fn interface_up_down_delays(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    for e in ctx.value_block(node) {
        let toks = &e.line.tokens;
        let Some(first) = toks.first() else { continue };
        let max = Duration::from_secs(255);
        let Some(down_tok) = toks.get(1) else {
            ctx.note_warn(
                first.loc,
                format!("No timeouts specified for {} up/down delays", first.text),
            );
            continue;
        };
        let Some(down) = ctx.timer(down_tok, Duration::ZERO, max) else {
            continue;
        };
        let up = match toks.get(2) {
            None => Duration::ZERO,
            Some(t) => match ctx.timer(t, Duration::ZERO, max) {
                Some(u) => u,
                None => continue,
            },
        };
        config.interface_up_down_delays.push(UpDownDelay {
            interface: first.text.to_string(),
            down,
            up,
            loc: Some(first.loc),
        });
    }
}

#[cfg(test)]
mod tests {
    use crate::model::misc::ParamMatch;
    use crate::model::Config;
    use std::time::Duration;

    fn parse(text: &str) -> (Config, Vec<String>) {
        let mut sm = crate::SourceMap::new();
        let mut d = Vec::new();
        let lines = crate::lexer::lex_str(
            std::path::Path::new("t.conf"),
            text.to_string(),
            &crate::lexer::PreprocessOptions::default(),
            &mut sm,
            &mut d,
        );
        let mut ctx = super::super::framework::Ctx::new();
        let tokens = lines.tokens();
        let c = super::super::parse(lines.lines(&tokens), &mut ctx);
        (c, ctx.diags.into_iter().map(|d| d.message).collect())
    }

    #[test]
    fn top_level_settings() {
        let (c, d) = parse(
            "net_namespace blue\ninstance one\nuse_pid_dir\nchild_wait_time 9\nnamespace_with_ipsets\nlinkbeat_use_polling\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(c.net_namespace.as_deref(), Some("blue"));
        assert_eq!(c.instance.as_deref(), Some("one"));
        assert!(c.use_pid_dir && c.namespace_with_ipsets && c.linkbeat_use_polling);
        assert_eq!(c.child_wait_time, Duration::from_secs(9));
    }

    #[test]
    fn track_file_block() {
        let (c, d) = parse(
            "track_file tf {\n file /run/x\n weight -5 reverse\n init_file 3 overwrite\n}\ntrack_file empty {\n weight 2\n}\n",
        );
        assert_eq!(d, ["No file set for track_file empty - ignoring"]);
        let t = &c.track_files[0];
        assert_eq!(t.file.as_deref(), Some("/run/x"));
        assert_eq!((t.weight, t.reverse), (-5, true));
        assert_eq!(t.init_file, Some((3, true)));
    }

    #[test]
    fn track_process_block() {
        let (c, d) = parse(
            "vrrp_track_process p {\n process haproxy -f /etc/h.cfg\n param_match initial\n quorum 2\n quorum_max 4\n delay 0.5\n weight 10\n}\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let p = &c.track_processes[0];
        assert_eq!(p.process.as_deref(), Some("haproxy"));
        assert_eq!(p.params, ["-f", "/etc/h.cfg"]);
        assert_eq!(p.param_match, ParamMatch::Initial);
        assert_eq!((p.quorum, p.quorum_max), (2, Some(4)));
        assert_eq!(p.fork_delay, Some(Duration::from_millis(500)));
        assert_eq!(p.weight, 10);
    }

    #[test]
    fn bfd_block() {
        let (c, d) = parse(
            "bfd_instance b {\n neighbor_ip 10.0.0.2\n source_ip 10.0.0.1\n min_rx 50\n min_tx 60\n idle_tx 2000\n multiplier 3\n ttl 250\n max_hops 1\n}\nbfd_instance nobody {\n min_rx 5\n}\n",
        );
        assert_eq!(
            d,
            ["Configuration error: BFD instance nobody has no neighbor address set, disabling instance"]
        );
        let b = &c.bfd_instances[0];
        assert_eq!(b.neighbor_ip, "10.0.0.2".parse().ok());
        assert_eq!(
            (b.min_rx, b.min_tx),
            (Duration::from_millis(50), Duration::from_millis(60))
        );
        assert_eq!(b.idle_tx, Duration::from_secs(2));
        assert_eq!((b.multiplier, b.ttl, b.max_hops), (3, Some(250), Some(1)));
    }

    #[test]
    fn garp_group_and_interfaces() {
        let (c, d) = parse(
            "garp_group {\n garp_interval 0.001\n gna_interval 0.002\n interface eth0\n interfaces {\n eth1\n eth2\n }\n}\n",
        );
        assert!(d.is_empty(), "{d:?}");
        let g = &c.garp_groups[0];
        assert_eq!(g.garp_interval, Some(Duration::from_millis(1)));
        assert_eq!(g.interfaces, ["eth0", "eth1", "eth2"]);
    }

    #[test]
    fn statics_and_delays() {
        let (c, d) = parse(
            "static_ipaddress {\n 192.168.1.1/24 dev eth0 scope link\n}\nstatic_routes {\n 10.9.0.0/16 via 192.168.1.254 dev eth0\n}\nstatic_rules {\n from 10.9.0.0/16 table 9 priority 90\n}\ninterface_up_down_delays {\n eth0 2.5 1\n}\nlinkbeat_interfaces {\n eth1 MII\n}\ntrack_group tg {\n group {\n VI_1\n }\n}\n",
        );
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(c.statics.addresses[0].scope.as_deref(), Some("link"));
        assert_eq!(c.statics.routes.len(), 1);
        assert_eq!(c.statics.rules.len(), 1);
        let u = &c.interface_up_down_delays[0];
        assert_eq!(
            (u.down, u.up),
            (Duration::from_millis(2500), Duration::from_secs(1))
        );
        assert_eq!(c.linkbeat_interfaces[0].method.as_deref(), Some("MII"));
        assert_eq!(c.track_groups[0].group, ["VI_1"]);
    }

    #[test]
    fn route_and_rule_messages() {
        let (_, d) = parse(
            "static_routes {\n 10.1.0.0/16 via 10.0.0.1\n src 10.0.0.9 10.2.0.0/16 dev eth0 no_track\n 10.3.0.0/16 bogus 1\n}\nstatic_rules {\n from 10.0.0.0/8 table 5\n}\n",
        );
        assert_eq!(
            d,
            [
                "Warning - cannot track route 10.1.0.0/16 with no interface specified, not tracking",
                "VRRP parsed invalid IP bogus. skipping IP...",
                "unknown route keyword bogus",
                "Rule has no preference specified - setting to 16384. This is probably not what you want.",
            ]
        );
    }
}
