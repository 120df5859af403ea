//! `------< Global definitions >------`: the `global_defs` the VRRP child runs with, in
//! keepalived 2.2.7's order. Settings keepalived-rs does not model print keepalived's
//! defaults, so the lines and their order are those of a stock keepalived.

use super::format::{cmd_str, g, secs, tf, Lines};
use super::DumpInput;
use keepalived_config::model::global::NotifyFifo;
use keepalived_config::model::ScriptUser;

/// Appends the global section.
pub fn write(out: &mut Lines, input: &DumpInput<'_>) {
    let c = input.config;
    let gd = &c.global;
    let os = input.os;
    out.line("------< Global definitions >------");
    out.line(format!(
        " Network namespace = {}",
        c.net_namespace.as_deref().unwrap_or("(default)")
    ));
    out.line(format!(
        " Network namespace ipvs = {}",
        match c.net_namespace_ipvs.as_deref() {
            None => "(main namespace)",
            Some("") => "(default)",
            Some(ns) => ns,
        }
    ));
    if let Some(instance) = &c.instance {
        out.line(format!(" Instance name = {instance}"));
    }
    // keepalived defaults the router id to the host name.
    out.line(format!(
        " Router ID = {}",
        gd.router_id.as_deref().unwrap_or(&os.hostname)
    ));
    if let Some(smtp) = &gd.smtp_server {
        out.line(format!(" Smtp server = {}", smtp.host));
        out.line(format!(" Smtp server port = {}", smtp.port));
        out.line(format!(
            " Smtp HELO name = {}",
            gd.smtp_helo_name.as_deref().unwrap_or(&os.hostname)
        ));
        out.line(format!(
            " Smtp server connection timeout = {}",
            secs(gd.smtp_connect_timeout)
        ));
    } else if let Some(helo) = &gd.smtp_helo_name {
        out.line(format!(" Smtp HELO name = {helo}"));
    }
    let email_from = gd.notification_email_from.clone().or_else(|| {
        gd.smtp_server
            .as_ref()
            .map(|_| format!("{}@{}", os.user_name, os.hostname))
    });
    if let Some(from) = email_from {
        out.line(format!(" Email notification from = {from}"));
        out.line(" Email notification to:");
        for to in &gd.notification_email {
            out.line(format!("   {to}"));
        }
    }
    let alert = |v: Option<bool>| match v {
        None => "unset",
        Some(true) => "on",
        Some(false) => "off",
    };
    out.line(format!(" Default smtp_alert = {}", alert(gd.smtp_alert)));
    out.line(format!(
        " Default smtp_alert_vrrp = {}",
        alert(gd.smtp_alert_vrrp)
    ));
    out.line(format!(
        " Default smtp_alert_checker = {}",
        alert(gd.smtp_alert_checker)
    ));
    out.line(" Checkers log all failures = false");
    out.line(" No test config before reload");
    if let Some(s) = &gd.startup_script {
        let (uid, gid) = os.ids_of(s.user.as_ref().or(gd.script_user.as_ref()));
        out.line(format!(
            " Startup script = {}, uid:gid {uid}:{gid}, timeout 10",
            cmd_str(s)
        ));
    }
    if let Some(s) = &gd.shutdown_script {
        let (uid, gid) = os.ids_of(s.user.as_ref().or(gd.script_user.as_ref()));
        out.line(format!(
            " Shutdown script = {}, uid:gid {uid}:{gid} timeout 10",
            cmd_str(s)
        ));
    }
    out.line(format!(
        " Dynamic interfaces = {}",
        tf(gd.dynamic_interfaces.is_some())
    ));
    if let Some(allow) = gd.dynamic_interfaces {
        out.line(format!(" Allow interface changes = {}", tf(allow)));
    }
    for (name, value) in [
        ("LVS TCP timeout", gd.lvs_timeouts.tcp),
        ("LVS TCP FIN timeout", gd.lvs_timeouts.tcpfin),
        // keepalived 2.2.7 labels the UDP timeout "TCP" too.
        ("LVS TCP timeout", gd.lvs_timeouts.udp),
    ] {
        if let Some(v) = value.filter(|v| !v.is_zero()) {
            out.line(format!(" {name} = {}", secs(v)));
        }
    }
    out.line(format!(
        " Default interface = {}",
        gd.default_interface.as_deref().unwrap_or("eth0")
    ));
    out.line(" Disable local IGMP = no");
    if let Some(sync) = &gd.lvs_sync_daemon {
        if let Some(vrrp) = &sync.vrrp_instance {
            out.line(format!(" LVS syncd vrrp instance = {vrrp}"));
        }
        out.line(format!(" LVS syncd interface = {}", sync.interface));
        out.line(format!(" LVS syncd syncid = {}", sync.sync_id.unwrap_or(0)));
        if let Some(m) = sync.maxlen {
            out.line(format!(" LVS syncd maxlen = {m}"));
        }
        if let Some(grp) = sync.group {
            out.line(format!(" LVS mcast group {grp}"));
        }
        if let Some(p) = sync.port {
            out.line(format!(" LVS syncd mcast port = {p}"));
        }
        if let Some(t) = sync.ttl {
            out.line(format!(" LVS syncd mcast ttl = {t}"));
        }
    }
    out.line(format!(" LVS flush = {}", tf(gd.lvs_flush)));
    out.line(format!(
        " LVS flush on stop = {}",
        match gd.lvs_flush_on_stop.as_deref() {
            None => "disabled",
            Some(v) if v.eq_ignore_ascii_case("VS") => "VS",
            Some(_) => "full",
        }
    ));
    fifo(out, input, "Global notify fifo", &gd.notify_fifo);
    fifo(out, input, "VRRP notify fifo", &gd.vrrp_notify_fifo);
    fifo(out, input, "LVS notify fifo", &gd.lvs_notify_fifo);
    out.line(" FIFO write vrrp states on reload = false");
    out.line(format!(
        " VRRP notify priority changes = {}",
        tf(gd.vrrp_notify_priority_changes)
    ));
    out.line(format!(" VRRP IPv4 mcast group = {}", gd.vrrp_mcast_group4));
    out.line(format!(" VRRP IPv6 mcast group = {}", gd.vrrp_mcast_group6));
    out.line(format!(
        " Gratuitous ARP delay = {}",
        secs(gd.vrrp_garp_master_delay)
    ));
    out.line(format!(
        " Gratuitous ARP repeat = {}",
        gd.vrrp_garp_master_repeat
    ));
    out.line(format!(
        " Gratuitous ARP refresh timer = {}",
        secs(gd.vrrp_garp_master_refresh)
    ));
    out.line(format!(
        " Gratuitous ARP refresh repeat = {}",
        gd.vrrp_garp_master_refresh_repeat
    ));
    out.line(format!(
        " Gratuitous ARP lower priority delay = {}",
        secs(
            gd.vrrp_garp_lower_prio_delay
                .unwrap_or(gd.vrrp_garp_master_delay)
        )
    ));
    out.line(format!(
        " Gratuitous ARP lower priority repeat = {}",
        gd.vrrp_garp_lower_prio_repeat
            .unwrap_or(gd.vrrp_garp_master_repeat)
    ));
    out.line(format!(
        " Num adverts before down = {}",
        gd.vrrp_down_timer_adverts
    ));
    let (extra, all_if) = gd.vrrp_garp_extra_if.unwrap_or_default();
    out.line(format!(
        " Gratuitous ARP for each secondary {} = {}s",
        if all_if { "i/f" } else { "VMAC" },
        secs(extra)
    ));
    out.line(format!(
        " Send advert after receive lower priority advert = {}",
        tf(!gd.vrrp_lower_prio_no_advert)
    ));
    out.line(format!(
        " Send advert after receive higher priority advert = {}",
        tf(gd.vrrp_higher_prio_send_advert)
    ));
    out.line(format!(
        " Gratuitous ARP interval = {:.6}",
        gd.vrrp_garp_interval.as_secs_f64()
    ));
    out.line(format!(
        " Gratuitous NA interval = {:.6}",
        gd.vrrp_gna_interval.as_secs_f64()
    ));
    out.line(format!(
        " VRRP default protocol version = {}",
        gd.vrrp_version
    ));
    if let Some(chains) = &gd.vrrp_iptables {
        if let Some(inchain) = chains.first() {
            out.line(format!(" Iptables input chain = {inchain}"));
            if let Some(outchain) = chains.get(1) {
                out.line(format!(" Iptables output chain = {outchain}"));
            }
        }
    }
    if let Some(table) = &gd.nftables {
        let table = if table.is_empty() {
            "keepalived"
        } else {
            table
        };
        out.line(format!(" nftables table name = {table}"));
        out.line(" nftables base chain priority = -1");
        out.line(" nftables don't force use ifindex for link local IPv6");
    }
    out.line(" nftables without counters");
    out.line(" libnftnl version 1.2.3");
    out.line(format!(
        " VRRP check unicast_src = {}",
        tf(gd.vrrp_check_unicast_src)
    ));
    out.line(format!(
        " VRRP skip check advert addresses = {}",
        tf(gd.vrrp_skip_check_adv_addr)
    ));
    out.line(format!(" VRRP strict mode = {}", tf(gd.vrrp_strict)));
    match gd.max_auto_priority {
        Some(-1) => out.line(" Max auto priority = Disabled"),
        v => out.line(format!(" Max auto priority = {}", v.unwrap_or(0))),
    }
    out.line(format!(
        " Min auto priority delay = {} usecs",
        gd.min_auto_priority_delay
            .map_or(1_000_000, |d| d.as_micros())
    ));
    for (name, p) in [
        ("VRRP", &gd.vrrp_process),
        ("Checker", &gd.checker_process),
        ("BFD", &gd.bfd_process),
    ] {
        out.line(format!(
            " {name} process priority = {}",
            p.priority.unwrap_or(0)
        ));
        out.line(format!(" {name} don't swap = {}", tf(p.no_swap)));
        out.line(format!(
            " {name} realtime priority = {}",
            p.rt_priority.unwrap_or(0)
        ));
        if !p.cpu_affinity.is_empty() {
            let cpus: Vec<String> = p.cpu_affinity.iter().map(ToString::to_string).collect();
            out.line(format!(" {name} CPU Affinity = {} ", cpus.join(" ")));
        }
        out.line(format!(
            " {name} realtime limit = {}",
            p.rlimit_rttime.unwrap_or(10_000)
        ));
    }
    let snmp = |what: &str| gd.snmp_dbus.iter().any(|k| k == what);
    let on = |b: bool| if b { "enabled" } else { "disabled" };
    out.line(format!(
        " SNMP vrrp {}",
        on(snmp("enable_snmp_vrrp") || snmp("enable_snmp_keepalived"))
    ));
    out.line(format!(
        " SNMP checker {}",
        on(snmp("enable_snmp_checker") || snmp("enable_snmp_keepalived"))
    ));
    out.line(format!(" SNMP RFCv2 {}", on(snmp("enable_snmp_rfcv2"))));
    out.line(format!(" SNMP RFCv3 {}", on(snmp("enable_snmp_rfcv3"))));
    out.line(format!(" SNMP traps {}", on(snmp("enable_traps"))));
    out.line(" SNMP socket = default (unix:/var/agentx/master)");
    out.line(format!(" DBus {}", on(snmp("enable_dbus"))));
    out.line(" DBus service name = ");
    out.line(format!(
        " Script security {}",
        on(gd.enable_script_security)
    ));
    if let Some((uid, gid)) = os.default_script_ids {
        out.line(format!(" Default script uid:gid {uid}:{gid}"));
    }
    for key in [
        "vrrp_netlink_cmd_rcv_bufs",
        "vrrp_netlink_cmd_rcv_bufs_force",
        "vrrp_netlink_monitor_rcv_bufs",
        "vrrp_netlink_monitor_rcv_bufs_force",
        "process_monitor_rcv_bufs",
        "process_monitor_rcv_bufs_force",
        "lvs_netlink_cmd_rcv_bufs",
        "lvs_netlink_cmd_rcv_bufs_force",
        "lvs_netlink_monitor_rcv_bufs",
        "lvs_netlink_monitor_rcv_bufs_force",
        "rs_init_notifies",
        "no_checker_emails",
    ] {
        out.line(format!(" {key} = 0"));
    }
    out.line(" rx_bufs_multiples = 3");
    out.line(format!(" umask = 0{:o}", os.umask));
    if let Some(d) = gd.vrrp_startup_delay.filter(|d| !d.is_zero()) {
        out.line(format!(" vrrp_startup_delay = {}", g(d.as_secs_f64())));
    }
}

fn fifo(out: &mut Lines, input: &DumpInput<'_>, what: &str, f: &NotifyFifo) {
    let Some(path) = &f.path else { return };
    // The FIFO is created by the daemon itself (root) unless an owner is given.
    let (uid, gid) = f
        .user
        .as_ref()
        .and_then(|u| input.os.resolve(u))
        .unwrap_or((0, 0));
    out.line(format!(" {what} = {path}, uid:gid {uid}:{gid}"));
    if let Some(s) = &f.script {
        let user: Option<&ScriptUser> =
            s.user.as_ref().or(input.config.global.script_user.as_ref());
        let (uid, gid) = input.os.ids_of(user);
        out.line(format!(
            " {what} script = {}, uid:gid {uid}:{gid}",
            cmd_str(s)
        ));
    }
}
