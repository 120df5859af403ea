//! `global_defs { ... }`.

use super::framework::{
    block, either, kw, parse_bool_text, parse_ip_text, walk, Ctx, Keyword, Node,
};
use crate::model::global::{LvsSyncDaemon, NotifyFifo, ProcessTuning, SmtpServer};
use crate::model::{Config, GlobalDefs, ScriptUser};
use std::net::IpAddr;
use std::time::Duration;

/// `global_defs { ... }`.
pub fn global_defs(ctx: &mut Ctx, config: &mut Config, node: &Node) {
    walk(ctx, &mut config.global, node.children(), GLOBAL);
}

fn not_impl(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    ctx.not_implemented(node);
    g.not_implemented.push(node.keyword().to_string());
}

/// An optional boolean argument (`keyword [on|off|...]`); an invalid one is reported.
fn opt_bool(ctx: &mut Ctx, node: &Node) -> Option<bool> {
    match node.arg(0) {
        None => Some(true),
        Some(t) => {
            let v = parse_bool_text(t.text);
            if v.is_none() {
                ctx.warn(
                    t.loc,
                    format!("Invalid value '{}' for {}", t.text, node.keyword()),
                );
            }
            v
        }
    }
}

fn secs(ctx: &mut Ctx, node: &Node, max: u32) -> Option<Duration> {
    ctx.int_arg(node, 0, 0, i64::from(max))
        .map(|v| Duration::from_secs(u64::try_from(v).unwrap_or(0)))
}

fn fifo_slot<'a>(g: &'a mut GlobalDefs, keyword: &str) -> &'a mut NotifyFifo {
    if keyword.starts_with("vrrp_") {
        &mut g.vrrp_notify_fifo
    } else if keyword.starts_with("lvs_") {
        &mut g.lvs_notify_fifo
    } else {
        &mut g.notify_fifo
    }
}

fn fifo(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    let Some(path) = ctx.str_arg(node, 0) else {
        return;
    };
    let f = fifo_slot(g, node.keyword());
    f.path = Some(path);
    f.user = node.arg(1).map(|u| ScriptUser {
        user: u.text.to_string(),
        group: node.arg(2).map(|t| t.text.to_string()),
    });
}

fn fifo_script(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    let script = ctx.script_arg(node);
    fifo_slot(g, node.keyword()).script = script;
}

fn tuning<'a>(g: &'a mut GlobalDefs, keyword: &str) -> &'a mut ProcessTuning {
    if keyword.starts_with("checker_") {
        &mut g.checker_process
    } else if keyword.starts_with("bfd_") {
        &mut g.bfd_process
    } else {
        &mut g.vrrp_process
    }
}

fn priority(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    if let Some(p) = ctx.i32_arg(node, 0, -20, 19) {
        tuning(g, node.keyword()).priority = Some(p);
    }
}

/// `vrrp`, `checker` or `bfd`: the process a tuning keyword is about (for messages).
fn process_of(keyword: &str) -> &str {
    keyword.split('_').next().unwrap_or(keyword)
}

/// keepalived clamps an out-of-range realtime priority into SCHED_RR's [1, 99], with a warning.
fn rt_priority(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    let Some(tok) = ctx.arg(node, 0) else { return };
    let Some(p) = ctx.int(tok, i64::from(i32::MIN), i64::from(i32::MAX)) else {
        return;
    };
    let process = process_of(node.keyword());
    let clamped = if p < 1 {
        ctx.warn(
            tok.loc,
            format!(
                "{process} process real-time priority {p} less than minimum 1 - setting to minimum"
            ),
        );
        1
    } else if p > 99 {
        ctx.warn(
            tok.loc,
            format!("{process} process real-time priority {p} greater than maximum 99 - setting to maximum"),
        );
        99
    } else {
        p
    };
    tuning(g, node.keyword()).rt_priority = u32::try_from(clamped).ok();
}

/// `*_cpu_affinity CPU...`: any bad CPU number empties the whole set, as in keepalived. CPUs
/// are checked against the CPUs online when the child applies them.
fn cpu_affinity(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    if node.args().is_empty() {
        let process = process_of(node.keyword());
        ctx.warn(node.loc(), format!("No {process} cpu_id set specified"));
        return;
    }
    let mut cpus = Vec::new();
    for tok in node.args() {
        match ctx.int(tok, 0, 1023).and_then(|c| u32::try_from(c).ok()) {
            Some(c) => cpus.push(c),
            None => {
                tuning(g, node.keyword()).cpu_affinity.clear();
                return;
            }
        }
    }
    cpus.sort_unstable();
    cpus.dedup();
    tuning(g, node.keyword()).cpu_affinity = cpus;
}

/// `*_rlimit_rttime USECS` (and the deprecated `*_rlimit_rtime`): an invalid value means no
/// limit at all (keepalived stores 0); 1 becomes 2 so that the soft limit (half) is not 0.
fn rlimit_rttime(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    let kw = node.keyword();
    if let Some(base) = kw.strip_suffix("_rtime") {
        ctx.note_warn(
            node.loc(),
            format!("Keyword '{kw}' is deprecated - please use '{base}_rttime'"),
        );
    }
    let limit = ctx
        .arg(node, 0)
        .and_then(|tok| ctx.int(tok, 1, i64::from(u32::MAX)))
        .and_then(|v| u32::try_from(v).ok())
        .map_or(0, |v| v.max(2));
    tuning(g, kw).rlimit_rttime = Some(limit);
}

fn no_swap(_: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    tuning(g, node.keyword()).no_swap = true;
}

fn smtp_server(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    let Some(host) = ctx.arg(node, 0) else { return };
    let port = match node.arg(1) {
        None => Some(25),
        Some(p) => super::framework::parse_int_text(p.text)
            .filter(|v| (1..=65535).contains(v))
            .and_then(|v| u16::try_from(v).ok()),
    };
    match port {
        Some(port) => {
            g.smtp_server = Some(SmtpServer {
                host: host.text.to_string(),
                port,
                loc: Some(node.loc()),
            })
        }
        None => ctx.warn(
            node.loc(),
            format!(
                "Invalid smtp server {} {}",
                host.text,
                node.arg(1).map_or("", |t| t.text)
            ),
        ),
    }
}

fn lvs_sync_daemon(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    let Some(ifname) = ctx.ifname_arg(node, 0) else {
        return;
    };
    let mut d = LvsSyncDaemon {
        interface: ifname,
        ..LvsSyncDaemon::default()
    };
    let args = node.args();
    let mut i = 1;
    if let Some(t) = args.get(1) {
        if !matches!(t.text, "id" | "maxlen" | "port" | "ttl" | "group") {
            d.vrrp_instance = Some(t.text.to_string());
            i = 2;
        }
    }
    while let Some(t) = args.get(i) {
        let Some(v) = args.get(i + 1) else {
            ctx.warn(
                t.loc,
                format!("lvs_sync_daemon {} requires a value", t.text),
            );
            break;
        };
        match t.text {
            "id" => d.sync_id = ctx.int(v, 0, 255).and_then(|x| u8::try_from(x).ok()),
            "maxlen" => match ctx.int(v, 1, 65507) {
                Some(x) => d.maxlen = u16::try_from(x).ok(),
                None => ctx.warn(
                    v.loc,
                    format!("Invalid lvs_sync_daemon maxlen ({}) - ignoring", v.text),
                ),
            },
            "port" => d.port = ctx.int(v, 1, 65535).and_then(|x| u16::try_from(x).ok()),
            "ttl" => d.ttl = ctx.int(v, 1, 255).and_then(|x| u8::try_from(x).ok()),
            "group" => d.group = ctx.ip(v),
            other => {
                ctx.warn(
                    t.loc,
                    format!("Unknown option {other} specified for lvs_sync_daemon"),
                );
                i += 1;
                continue;
            }
        }
        i += 2;
    }
    g.lvs_sync_daemon = Some(d);
}

fn lvs_timeouts(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    let args = node.args();
    let mut i = 0;
    while let Some(t) = args.get(i) {
        let Some(v) = args.get(i + 1) else {
            ctx.warn(
                t.loc,
                format!("No value specified for lvs_timeout {}", t.text),
            );
            break;
        };
        let val = ctx
            .int(v, 0, 86400 * 31)
            .map(|x| Duration::from_secs(u64::try_from(x).unwrap_or(0)));
        match t.text {
            "tcp" => g.lvs_timeouts.tcp = val,
            "tcpfin" => g.lvs_timeouts.tcpfin = val,
            "udp" => g.lvs_timeouts.udp = val,
            other => {
                ctx.warn(
                    t.loc,
                    format!("Unknown option {other} specified for lvs_timeouts"),
                );
                i += 1;
                continue;
            }
        }
        i += 2;
    }
}

fn mcast_group(ctx: &mut Ctx, g: &mut GlobalDefs, node: &Node) {
    let Some(tok) = ctx.arg(node, 0) else { return };
    let v6 = node.keyword().ends_with('6');
    match parse_ip_text(tok.text) {
        Some(IpAddr::V4(a)) if !v6 && a.is_multicast() => g.vrrp_mcast_group4 = a,
        Some(IpAddr::V6(a)) if v6 && a.is_multicast() => g.vrrp_mcast_group6 = a,
        _ => ctx.warn(
            tok.loc,
            format!(
                "{} address {} is not a valid multicast address - ignoring",
                node.keyword(),
                tok.text
            ),
        ),
    }
}

fn garp_repeat(ctx: &mut Ctx, node: &Node) -> Option<u32> {
    let tok = ctx.arg(node, 0)?;
    match ctx.int(tok, 0, i64::from(u32::MAX)) {
        Some(0) => {
            ctx.warn(
                tok.loc,
                format!("{} must be greater than 0, setting to 1", node.keyword()),
            );
            Some(1)
        }
        Some(v) => u32::try_from(v).ok(),
        None => None,
    }
}

/// The `global_defs` keyword table.
pub(crate) const GLOBAL: &[Keyword<GlobalDefs>] = &[
    kw("router_id", |c, g, n| g.router_id = c.str_arg(n, 0)),
    block("notification_email", |c, g, n| {
        for e in n.children() {
            g.notification_email
                .extend(e.line.tokens.iter().map(|t| t.text.to_string()));
        }
        if n.children().is_empty() {
            c.warn(n.loc(), "Warning - empty notification_email block");
        }
    }),
    kw("notification_email_from", |c, g, n| {
        g.notification_email_from = c.str_arg(n, 0)
    }),
    kw("smtp_server", smtp_server),
    kw("smtp_helo_name", |c, g, n| {
        g.smtp_helo_name = c.str_arg(n, 0)
    }),
    kw("smtp_connect_timeout", |c, g, n| {
        if let Some(d) = c.int_arg(n, 0, 1, i64::from(u32::MAX / 1_000_000)) {
            g.smtp_connect_timeout = Duration::from_secs(u64::try_from(d).unwrap_or(30));
        }
    }),
    kw("smtp_alert", |c, g, n| g.smtp_alert = opt_bool(c, n)),
    kw("smtp_alert_vrrp", |c, g, n| {
        g.smtp_alert_vrrp = opt_bool(c, n)
    }),
    kw("smtp_alert_checker", |c, g, n| {
        g.smtp_alert_checker = opt_bool(c, n)
    }),
    kw("no_email_faults", not_impl),
    kw("vrrp_mcast_group4", mcast_group),
    kw("vrrp_mcast_group6", mcast_group),
    kw("vrrp_garp_master_delay", |c, g, n| {
        if let Some(d) = secs(c, n, u32::MAX / 1_000_000) {
            g.vrrp_garp_master_delay = d;
        }
    }),
    kw("vrrp_garp_master_repeat", |c, g, n| {
        if let Some(r) = garp_repeat(c, n) {
            g.vrrp_garp_master_repeat = r;
        }
    }),
    kw("vrrp_garp_master_refresh", |c, g, n| {
        let Some(tok) = c.arg(n, 0) else { return };
        match super::framework::parse_int_text(tok.text) {
            Some(v) if (0..=i128::from(u32::MAX)).contains(&v) => {
                g.vrrp_garp_master_refresh = Duration::from_secs(u64::try_from(v).unwrap_or(0))
            }
            _ => c.warn(
                tok.loc,
                format!("Invalid vrrp_garp_master_refresh '{}' - ignoring", tok.text),
            ),
        }
    }),
    kw("vrrp_garp_master_refresh_repeat", |c, g, n| {
        if let Some(r) = garp_repeat(c, n) {
            g.vrrp_garp_master_refresh_repeat = r;
        }
    }),
    kw("vrrp_garp_lower_prio_delay", |c, g, n| {
        g.vrrp_garp_lower_prio_delay = secs(c, n, u32::MAX / 1_000_000)
    }),
    kw("vrrp_garp_lower_prio_repeat", |c, g, n| {
        g.vrrp_garp_lower_prio_repeat = c.u32_arg(n, 0, 0, i32::MAX.unsigned_abs())
    }),
    kw("vrrp_down_timer_adverts", |c, g, n| {
        if let Some(v) = c.u32_arg(n, 0, 1, 100) {
            g.vrrp_down_timer_adverts = v;
        }
    }),
    kw("vrrp_garp_interval", |c, g, n| {
        if let Some(d) = garp_interval(c, n) {
            g.vrrp_garp_interval = d;
        }
    }),
    kw("vrrp_gna_interval", |c, g, n| {
        if let Some(d) = garp_interval(c, n) {
            g.vrrp_gna_interval = d;
        }
    }),
    kw("vrrp_min_garp", |c, g, n| {
        if let Some(b) = opt_bool(c, n) {
            g.vrrp_min_garp = b;
            if b {
                g.vrrp_garp_master_repeat = 1;
                g.vrrp_garp_master_delay = Duration::ZERO;
            }
        }
    }),
    kw("vrrp_garp_extra_if", garp_extra_if),
    kw("vrrp_vmac_garp_intvl", garp_extra_if),
    kw("vrrp_lower_prio_no_advert", |c, g, n| {
        if let Some(b) = opt_bool(c, n) {
            g.vrrp_lower_prio_no_advert = b;
        }
    }),
    kw("vrrp_higher_prio_send_advert", |c, g, n| {
        if let Some(b) = opt_bool(c, n) {
            g.vrrp_higher_prio_send_advert = b;
        }
    }),
    kw("vrrp_version", |c, g, n| {
        if let Some(v) = c.u8_arg(n, 0, 2, 3) {
            g.vrrp_version = v;
        }
    }),
    kw("vrrp_iptables", |c, g, n| {
        g.vrrp_iptables = Some(n.args().iter().map(|t| t.text.to_string()).collect());
        c.push(
            crate::diag::Diagnostic::warning(
                Some(n.loc()),
                "iptables not supported, using nftables instead. Please replace 'vrrp_iptables and 'vrrp_ipsets' with 'nftables' config option",
            ),
        );
        if g.nftables.is_none() {
            g.nftables = Some("keepalived".into());
        }
    }),
    kw("vrrp_ipsets", |_, g, n| {
        g.vrrp_ipsets = Some(n.args().iter().map(|t| t.text.to_string()).collect())
    }),
    kw("nftables", |_, g, n| {
        g.nftables = Some(
            n.arg(0)
                .map_or_else(|| "keepalived".to_string(), |t| t.text.to_string()),
        )
    }),
    kw("nftables_priority", not_impl),
    kw("nftables_ifindex", not_impl),
    kw("nftables_ipvs", not_impl),
    kw("nftables_ipvs_priority", not_impl),
    kw("nftables_ipvs_start_fwmark", not_impl),
    kw("nftables_counters", not_impl),
    kw("vrrp_check_unicast_src", |_, g, _| {
        g.vrrp_check_unicast_src = true
    }),
    kw("vrrp_skip_check_adv_addr", |c, g, n| {
        if let Some(b) = opt_bool(c, n) {
            g.vrrp_skip_check_adv_addr = b;
        }
    }),
    kw("vrrp_strict", |_, g, _| g.vrrp_strict = true),
    kw("vrrp_startup_delay", |c, g, n| {
        g.vrrp_startup_delay = c.timer_arg(n, 0, Duration::ZERO, Duration::from_secs(3600))
    }),
    kw("vrrp_priority", priority),
    kw("checker_priority", priority),
    kw("bfd_priority", priority),
    kw("vrrp_rt_priority", rt_priority),
    kw("checker_rt_priority", rt_priority),
    kw("bfd_rt_priority", rt_priority),
    kw("vrrp_no_swap", no_swap),
    kw("checker_no_swap", no_swap),
    kw("bfd_no_swap", no_swap),
    kw("vrrp_cpu_affinity", cpu_affinity),
    kw("checker_cpu_affinity", cpu_affinity),
    kw("bfd_cpu_affinity", cpu_affinity),
    kw("vrrp_rlimit_rttime", rlimit_rttime),
    kw("vrrp_rlimit_rtime", rlimit_rttime),
    kw("checker_rlimit_rttime", rlimit_rttime),
    kw("checker_rlimit_rtime", rlimit_rttime),
    kw("bfd_rlimit_rttime", rlimit_rttime),
    kw("bfd_rlimit_rtime", rlimit_rttime),
    kw("max_auto_priority", |c, g, n| {
        g.max_auto_priority = match n.arg(0) {
            None => Some(99),
            Some(t) => c.int(t, -1, 99).and_then(|v| i32::try_from(v).ok()),
        }
    }),
    kw("min_auto_priority_delay", |c, g, n| {
        if let Some(us) = c
            .int_arg(n, 0, 1, 10_000_000)
            .and_then(|v| u64::try_from(v).ok())
        {
            g.min_auto_priority_delay = Some(Duration::from_micros(us));
        }
    }),
    kw("enable_script_security", |_, g, _| {
        g.enable_script_security = true
    }),
    kw("script_user", |c, g, n| {
        if let Some(user) = c.str_arg(n, 0) {
            g.script_user = Some(ScriptUser {
                user,
                group: n.arg(1).map(|t| t.text.to_string()),
            });
            g.script_user_loc = Some(n.loc());
        }
    }),
    kw("dynamic_interfaces", |_, g, n| {
        g.dynamic_interfaces = Some(n.arg(0).is_some_and(|t| t.text == "allow_if_changes"))
    }),
    kw("process_names", |_, g, _| g.process_names = true),
    kw("process_name", not_impl),
    kw("vrrp_process_name", not_impl),
    kw("checker_process_name", not_impl),
    kw("lvs_process_name", not_impl),
    kw("bfd_process_name", not_impl),
    kw("lvs_sync_daemon", lvs_sync_daemon),
    kw("lvs_flush", |_, g, _| g.lvs_flush = true),
    kw("lvs_flush_on_stop", |_, g, n| {
        g.lvs_flush_on_stop = Some(
            n.arg(0)
                .map_or_else(|| "ALL".into(), |t| t.text.to_string()),
        )
    }),
    kw("lvs_flush_onstop", |_, g, n| {
        g.lvs_flush_on_stop = Some(
            n.arg(0)
                .map_or_else(|| "ALL".into(), |t| t.text.to_string()),
        )
    }),
    kw("lvs_timeouts", lvs_timeouts),
    kw("notify_fifo", fifo),
    kw("notify_fifo_script", fifo_script),
    kw("vrrp_notify_fifo", fifo),
    kw("vrrp_notify_fifo_script", fifo_script),
    kw("lvs_notify_fifo", fifo),
    kw("lvs_notify_fifo_script", fifo_script),
    kw("vrrp_notify_priority_changes", |c, g, n| {
        if let Some(b) = opt_bool(c, n) {
            g.vrrp_notify_priority_changes = b;
        }
    }),
    kw("fifo_write_vrrp_states_on_reload", not_impl),
    kw("default_interface", |c, g, n| {
        g.default_interface = c.ifname_arg(n, 0)
    }),
    kw("umask", umask),
    kw("startup_script", |c, g, n| {
        g.startup_script = c.script_arg(n)
    }),
    kw("startup_script_timeout", not_impl),
    kw("shutdown_script", |c, g, n| {
        g.shutdown_script = c.script_arg(n)
    }),
    kw("shutdown_script_timeout", not_impl),
    kw("state_dump_file", dump_file),
    kw("stats_dump_file", dump_file),
    kw("json_dump_file", dump_file),
    kw("checker_log_all_failures", not_impl),
    kw("disable_local_igmp", not_impl),
    kw("snmp_socket", snmp),
    kw("enable_traps", snmp),
    kw("enable_snmp_vrrp", snmp),
    kw("enable_snmp_keepalived", snmp),
    kw("enable_snmp_rfc", snmp),
    kw("enable_snmp_rfcv2", snmp),
    kw("enable_snmp_rfcv3", snmp),
    kw("enable_snmp_checker", snmp),
    kw("enable_dbus", snmp),
    kw("dbus_service_name", snmp),
    kw("vrrp_netlink_cmd_rcv_bufs", not_impl),
    kw("vrrp_netlink_cmd_rcv_bufs_force", not_impl),
    kw("vrrp_netlink_monitor_rcv_bufs", not_impl),
    kw("vrrp_netlink_monitor_rcv_bufs_force", not_impl),
    kw("process_monitor_rcv_bufs", not_impl),
    kw("process_monitor_rcv_bufs_force", not_impl),
    kw("lvs_netlink_cmd_rcv_bufs", not_impl),
    kw("lvs_netlink_cmd_rcv_bufs_force", not_impl),
    kw("lvs_netlink_monitor_rcv_bufs", not_impl),
    kw("lvs_netlink_monitor_rcv_bufs_force", not_impl),
    kw("rs_init_notifies", not_impl),
    kw("no_checker_emails", not_impl),
    kw("vrrp_rx_bufs_policy", not_impl),
    kw("vrrp_rx_bufs_multiplier", not_impl),
    kw("log_unknown_vrids", not_impl),
    kw("vmac_prefix", not_impl),
    kw("vmac_addr_prefix", not_impl),
    kw("random_seed", not_impl),
    kw("reload_check_config", not_impl),
    kw("reload_time_file", not_impl),
    kw("reload_repeat", not_impl),
    kw("reload_file", not_impl),
    // The lexer applies include_check while it reads includes.
    kw("include_check", super::framework::ignore),
    kw("config_save_dir", not_impl),
    kw("tmp_config_directory", not_impl),
    kw("data_use_instance", not_impl),
    kw("json_version", not_impl),
    kw("iproute_usr_dir", not_impl),
    kw("iproute_etc_dir", not_impl),
    kw("use_symlink_paths", not_impl),
    kw("set_supplementary_groups", not_impl),
    kw("vrrp_owner_ignore_adverts", not_impl),
    kw("v3_checksum_as_v2", not_impl),
    kw("vrrp_delay_after_boot", not_impl),
    kw("bfd_nl_cmd_rcv_bufs", not_impl),
    either("linkbeat_use_polling", not_impl),
];

fn garp_interval(c: &mut Ctx, n: &Node) -> Option<Duration> {
    let tok = c.arg(n, 0)?;
    let d = c.timer(
        tok,
        Duration::from_micros(1),
        Duration::from_micros(u64::from(u32::MAX)),
    );
    if d.is_none() {
        c.warn(
            tok.loc,
            format!("{} '{}' is invalid", n.keyword(), tok.text),
        );
    }
    d
}

/// `umask N` (octal/decimal/hex like `strtol` base 0) or `umask IRUSR | IWGRP ...`.
fn umask(c: &mut Ctx, g: &mut GlobalDefs, n: &Node) {
    let Some(first) = c.arg(n, 0) else { return };
    if first.text.starts_with(|ch: char| ch.is_ascii_digit()) {
        if n.args().len() != 1 {
            c.warn(n.loc(), "Extra parameter(s) to umask option");
            return;
        }
        let t = first.text;
        let v = if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            u32::from_str_radix(h, 16).ok()
        } else if t.len() > 1 && t.starts_with('0') {
            u32::from_str_radix(&t[1..], 8).ok()
        } else {
            t.parse().ok()
        };
        match v {
            Some(v) if v & !0o777 == 0 => g.umask = Some(v),
            _ => c.warn(first.loc, format!("invalid umask value {t}")),
        }
        return;
    }
    const BITS: [(&str, u32); 9] = [
        ("IRUSR", 0o400),
        ("IWUSR", 0o200),
        ("IXUSR", 0o100),
        ("IRGRP", 0o040),
        ("IWGRP", 0o020),
        ("IXGRP", 0o010),
        ("IROTH", 0o004),
        ("IWOTH", 0o002),
        ("IXOTH", 0o001),
    ];
    let text: String = n.args().iter().map(|t| t.text).collect();
    let mut bits = 0;
    for part in text.split('|') {
        match BITS.iter().find(|(name, _)| *name == part) {
            Some((_, b)) => bits |= b,
            None => {
                c.warn(n.loc(), format!("Unknown umask bit {part}"));
                return;
            }
        }
    }
    g.umask = Some(bits);
}

fn dump_file(c: &mut Ctx, g: &mut GlobalDefs, n: &Node) {
    if let Some(p) = c.str_arg(n, 0) {
        g.dump_files.push((n.keyword().to_string(), p));
    }
}

fn snmp(c: &mut Ctx, g: &mut GlobalDefs, n: &Node) {
    c.not_implemented(n);
    g.snmp_dbus.push(n.keyword().to_string());
}

fn garp_extra_if(c: &mut Ctx, g: &mut GlobalDefs, n: &Node) {
    let mut all = false;
    let mut delay = None;
    for tok in n.args() {
        if tok.text == "all" {
            all = true;
        } else if let Some(d) = c.int(tok, 0, 86400) {
            delay = Some(Duration::from_secs(u64::try_from(d).unwrap_or(0)));
        }
    }
    match delay {
        Some(d) => g.vrrp_garp_extra_if = Some((d, all)),
        None => c.warn(
            n.loc(),
            format!("{} specified without time - ignoring", n.keyword()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use crate::{load_str, AssumeAll, LoadOptions};
    use std::time::Duration;

    #[test]
    fn typical_global_defs() {
        let l = load_str(
            "t.conf",
            "global_defs {\n router_id LVS_1\n notification_email {\n a@b.c\n d@e.f\n }\n smtp_server 10.0.0.1 2525\n smtp_connect_timeout 10\n vrrp_garp_master_delay 2\n vrrp_strict\n enable_script_security\n script_user nobody nogroup\n vrrp_version 3\n enable_snmp_vrrp\n}\n",
            &LoadOptions::default(),
            &AssumeAll,
        );
        let g = &l.config.global;
        assert_eq!(g.router_id.as_deref(), Some("LVS_1"));
        assert_eq!(g.notification_email.len(), 2);
        assert_eq!(g.smtp_server.as_ref().map(|s| s.port), Some(2525));
        assert_eq!(g.smtp_connect_timeout, Duration::from_secs(10));
        assert_eq!(g.vrrp_garp_master_delay, Duration::from_secs(2));
        assert!(g.vrrp_strict && g.enable_script_security);
        assert_eq!(g.vrrp_version, 3);
        assert_eq!(
            g.script_user.as_ref().and_then(|u| u.group.as_deref()),
            Some("nogroup")
        );
        // Only the "not implemented" note, which does not change the exit code.
        assert_eq!(crate::exit_code(&l.diagnostics), 0, "{:?}", l.diagnostics);
    }

    fn globals(text: &str) -> crate::Loaded {
        load_str(
            "t.conf",
            &format!("global_defs {{\n{text}}}\n"),
            &LoadOptions::default(),
            &AssumeAll,
        )
    }

    #[test]
    fn process_tuning_keywords() {
        let l = globals(
            " vrrp_rt_priority 130\n checker_rt_priority 0\n vrrp_rlimit_rttime 1\n checker_rlimit_rtime 3000\n bfd_rlimit_rttime x\n vrrp_cpu_affinity 1 0 1\n checker_cpu_affinity 0 2000\n min_auto_priority_delay 1000\n max_auto_priority\n",
        );
        let g = &l.config.global;
        assert_eq!(g.vrrp_process.rt_priority, Some(99));
        assert_eq!(g.checker_process.rt_priority, Some(1));
        assert_eq!(g.vrrp_process.rlimit_rttime, Some(2));
        assert_eq!(g.checker_process.rlimit_rttime, Some(3000));
        assert_eq!(g.bfd_process.rlimit_rttime, Some(0));
        assert_eq!(g.vrrp_process.cpu_affinity, vec![0, 1]);
        assert!(g.checker_process.cpu_affinity.is_empty());
        assert_eq!(g.min_auto_priority_delay, Some(Duration::from_millis(1)));
        assert_eq!(g.max_auto_priority, Some(99));
        let text: Vec<&str> = l.diagnostics.iter().map(|d| d.message.as_str()).collect();
        assert!(text.contains(
            &"vrrp process real-time priority 130 greater than maximum 99 - setting to maximum"
        ));
        assert!(text.contains(
            &"Keyword 'checker_rlimit_rtime' is deprecated - please use 'checker_rlimit_rttime'"
        ));
        assert!(
            !text.iter().any(|t| t.contains("not implemented")),
            "{text:?}"
        );
        assert!(g.not_implemented.is_empty());
    }

    #[test]
    fn untuned_defaults() {
        let g = globals(" router_id x\n").config.global;
        assert_eq!(g.vrrp_process, Default::default());
        assert_eq!(g.vrrp_process.rlimit_rttime, None);
        assert_eq!(g.min_auto_priority_delay, None);
        assert_eq!(g.max_auto_priority, None);
    }
}
