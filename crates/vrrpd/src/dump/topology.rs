//! `------< VRRP Topology >------` (one block per instance) and `------< VRRP Sockpool >------`.

use super::format::{cmd_str, ed, g, secs, tf, timestamp, vip, yn, Lines};
use super::{DumpInput, InstanceView};
use crate::params::Family;
use keepalived_config::model::vrrp::{AuthType, TrackRef, UnicastChecksumCompat};
use keepalived_config::model::{Script, VrrpInstance};
use keepalived_vrrp::instance::State;
use keepalived_vrrp::timer;
use keepalived_vrrp::{Auth, Version};

/// keepalived's state words for the dump (`get_state_str`): STOP is not one of them.
pub fn state_str(s: State) -> &'static str {
    match s {
        State::Init => "INIT",
        State::Backup => "BACKUP",
        State::Master => "MASTER",
        State::Fault => "FAULT",
        State::Stop => "unknown",
    }
}

/// keepalived's `wantstate`: MASTER once the instance wants it, else its state.
pub fn wantstate(v: &InstanceView<'_>) -> State {
    if v.inst.wants_master() {
        State::Master
    } else {
        v.inst.state()
    }
}

/// Appends the topology section (nothing without instances, as keepalived).
pub fn write(out: &mut Lines, input: &DumpInput<'_>) {
    let views = input.instances();
    if views.is_empty() {
        return;
    }
    out.line("------< VRRP Topology >------");
    for v in &views {
        instance(out, input, v);
    }
}

/// The version number keepalived prints.
pub fn version_number(v: Version) -> u8 {
    match v {
        Version::V2 => 2,
        Version::V3 => 3,
    }
}

fn has_flags(cfg: Option<&VrrpInstance>, v: &InstanceView<'_>) -> bool {
    let p = v.inst.params();
    p.unicast
        || p.nopreempt
        || cfg.is_some_and(|c| {
            c.unicast_configured
                || c.unicast_fault_no_peer
                || c.dont_track_primary
                || c.skip_check_adv_addr == Some(true)
                || c.src_ip.is_some()
                || c.track_src_ip
                || c.check_unicast_src
                || c.promote_secondaries
                || c.use_vmac.is_some()
        })
}

fn instance(out: &mut Lines, input: &DumpInput<'_>, v: &InstanceView<'_>) {
    let inst = v.inst;
    let p = inst.params();
    let cfg = v.cfg;
    let eff = cfg.map(|c| c.effective(&input.config.global));
    out.line(format!(" VRRP Instance = {}", p.name));
    out.line(format!("   VRRP Version = {}", version_number(p.version)));
    if let Some(group) = v.group {
        out.line(format!("   Sync group = {group}"));
    }
    if p.primary_addr.is_ipv6() {
        out.line("   Using Native IPv6");
    }
    out.line(format!("   State = {}", state_str(inst.state())));
    if inst.state() == State::Backup {
        out.line(format!(
            "   Master router = {}",
            inst.master_addr()
                .map_or_else(|| "(none)".to_string(), |a| a.to_string())
        ));
        out.line(format!("   Master priority = {}", inst.master_priority()));
        if p.version == Version::V3 {
            out.line(format!(
                "   Master advert int = {:.2} sec",
                inst.master_adver_int().as_secs_f64()
            ));
        }
    }
    if has_flags(cfg, v) {
        out.line("   Flags:");
        if p.unicast {
            out.line("     Using unicast");
        } else if cfg.is_some_and(|c| c.unicast_configured) {
            out.line("     Unicast config option specified but using multicast");
        }
        if cfg.is_some_and(|c| c.unicast_fault_no_peer) {
            out.line("     If unicast go to fault state if no peers");
        }
    } else {
        out.line("   Flags: none");
    }
    out.line(format!("   Wantstate = {}", state_str(wantstate(v))));
    out.line("   Number of config faults = 0");
    let faults = inst.faults();
    out.line(format!(
        "   Number of interface and track script faults = {}",
        u32::from(faults.interface_down) + u32::from(faults.tracker)
    ));
    out.line("   Number of track scripts init = 0");
    out.line(format!(
        "   Last transition = {}",
        timestamp(input.clock.wall(inst.last_transition()))
    ));
    match inst.next_deadline() {
        Some(at) => out.line(format!(
            "   Read timeout = {}",
            timestamp(input.clock.wall(at))
        )),
        None => out.line("   Read timeout = DISABLED"),
    }
    let down = timer::master_down(
        p.version,
        inst.effective_priority(),
        inst.master_adver_int(),
        p.down_timer_adverts,
    );
    out.line(format!("   Master down timer = {} usecs", down.as_micros()));
    if let Some(vmac) = v.shell.and_then(|s| s.vmac.as_ref()) {
        out.line(format!(
            "   Use VMAC, i/f name {}, is_up = {}, xmit_base = {}",
            vmac.name,
            tf(input.os.link_up(&vmac.name)),
            tf(cfg.is_some_and(|c| c.vmac_xmit_base))
        ));
        out.line(format!(
            "   Interface = {}, vmac on {}{}",
            vmac.name,
            vmac.parent_name,
            if cfg.is_some_and(|c| c.vmac_xmit_base) {
                ", xmit base i/f"
            } else {
                ""
            }
        ));
    } else {
        let ifname = if p.interface.is_empty() {
            "not configured"
        } else {
            p.interface.as_str()
        };
        out.line(format!("   Interface = {ifname}"));
    }
    if let Some(vrf) = cfg.and_then(|c| c.vrf.as_ref()) {
        out.line(format!("   VRF = {vrf}"));
    }
    if cfg.is_some_and(|c| c.dont_track_primary) {
        out.line("   VRRP interface tracking disabled");
    }
    if eff.as_ref().is_some_and(|e| e.skip_check_adv_addr) {
        out.line("   Skip checking advert IP addresses");
    }
    if eff.as_ref().is_some_and(|e| e.strict) {
        out.line("   Enforcing strict VRRP compliance");
    }
    let src = v
        .shell
        .map_or_else(|| p.primary_addr.to_string(), |s| s.src.to_string());
    out.line(format!(
        "   Using src_ip = {src}{}",
        if cfg.is_some_and(|c| c.src_ip.is_some()) {
            " (from configuration)"
        } else {
            ""
        }
    ));
    if !p.unicast {
        let group = eff
            .as_ref()
            .and_then(|e| e.mcast_dst_ip)
            .map_or_else(String::new, |a| a.to_string());
        if p.primary_addr.is_ipv6() {
            let ifindex = v.shell.map_or(0, |s| s.ifindex);
            out.line(format!("   Multicast address {group}, ifindex {ifindex}"));
        } else {
            out.line(format!("   Multicast address {group}"));
        }
    }
    let garp = &p.garp;
    out.line(format!(
        "   Gratuitous ARP delay = {}",
        secs(garp.master_delay)
    ));
    out.line(format!("   Gratuitous ARP repeat = {}", garp.master_repeat));
    out.line(format!(
        "   Gratuitous ARP refresh = {}",
        secs(garp.master_refresh)
    ));
    out.line(format!(
        "   Gratuitous ARP refresh repeat = {}",
        garp.refresh_repeat
    ));
    out.line(format!(
        "   Gratuitous ARP lower priority delay = {}",
        secs(garp.lower_prio_delay)
    ));
    out.line(format!(
        "   Gratuitous ARP lower priority repeat = {}",
        garp.lower_prio_repeat
    ));
    out.line(format!("   Down timer adverts = {}", p.down_timer_adverts));
    if let Some((every, all_if)) = cfg.and_then(|c| c.garp.extra_if) {
        if !every.is_zero() {
            out.line(format!(
                "   Gratuitous ARP for each secondary {} = {}",
                if all_if { "i/f" } else { "VMAC" },
                secs(every)
            ));
        }
    }
    out.line(format!(
        "   Send advert after receive lower priority advert = {}",
        tf(!p.lower_prio_no_advert)
    ));
    out.line(format!(
        "   Send advert after receive higher priority advert = {}",
        tf(p.higher_prio_send_advert)
    ));
    out.line(format!("   Virtual Router ID = {}", p.vrid));
    out.line(format!("   Priority = {}", p.priority));
    out.line(format!(
        "   Effective priority = {}",
        inst.effective_priority()
    ));
    out.line(format!("   Total priority = {}", total_priority(v)));
    match p.version {
        Version::V2 => out.line(format!(
            "   Advert interval = {} sec",
            p.advert_interval.as_secs()
        )),
        Version::V3 => out.line(format!(
            "   Advert interval = {} milli-sec",
            p.advert_interval.as_millis()
        )),
    }
    if inst.state() == State::Backup && p.version == Version::V3 {
        out.line(format!(
            "   Master advert interval = {} milli-sec",
            inst.master_adver_int().as_millis()
        ));
    }
    out.line(format!("   Accept = {}", ed(p.accept)));
    out.line(format!("   Preempt = {}", ed(!p.nopreempt)));
    if !p.preempt_delay.is_zero() {
        out.line(format!(
            "   Preempt delay = {} secs",
            g(p.preempt_delay.as_secs_f64())
        ));
    }
    out.line(format!(
        "   Promote_secondaries = {}",
        ed(cfg.is_some_and(|c| c.promote_secondaries))
    ));
    match &p.auth {
        Auth::Pass(bytes) => {
            out.line("   Authentication type = SIMPLE_PASSWORD");
            let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
            let pass = String::from_utf8_lossy(bytes.get(..end).unwrap_or(&[])).into_owned();
            out.line(format!("   Password = {pass}"));
        }
        Auth::Ah => out.line("   Authentication type = IPSEC_AH"),
        Auth::None => {
            let configured_ah = cfg
                .and_then(|c| c.authentication.as_ref())
                .is_some_and(|a| a.auth_type == Some(AuthType::Ah));
            if configured_ah {
                out.line("   Authentication type = IPSEC_AH");
            } else if p.version == Version::V2 {
                out.line("   Authentication type = none");
            }
        }
    }
    if let Some(size) = cfg.and_then(|c| c.kernel_rx_buf_size).filter(|s| *s > 0) {
        out.line(format!("   Kernel rx buffer size = {size}"));
    }
    if let Some(debug) = cfg.map(|c| c.debug).filter(|d| *d > 0) {
        out.line(format!("   Debug level = {debug}"));
    }
    let set = inst.state() == State::Master;
    if let Some(c) = cfg {
        if !c.virtual_ipaddress.is_empty() {
            out.line(format!("   Virtual IP ({}):", c.virtual_ipaddress.len()));
            for va in &c.virtual_ipaddress {
                let dev = va.dev.as_deref().unwrap_or(&p.interface);
                out.line(format!("     {}", vip(va, vip_dev(v, dev), set)));
            }
        }
        if !c.virtual_ipaddress_excluded.is_empty() {
            out.line("   Virtual IP Excluded :");
            for va in &c.virtual_ipaddress_excluded {
                let dev = va.dev.as_deref().unwrap_or(&p.interface);
                out.line(format!("     {}", vip(va, vip_dev(v, dev), set)));
            }
        }
    }
    if p.unicast {
        let ttl = v.shell.map_or(255, |s| s.ttl);
        out.line(format!("   Unicast TTL = {ttl}"));
        out.line(format!(
            "   Check unicast src : {}",
            yn(eff.as_ref().is_some_and(|e| e.check_unicast_src))
        ));
        out.line("   Unicast Peer :");
        for peer in cfg.map(|c| c.unicast_peers.as_slice()).unwrap_or(&[]) {
            out.line(format!(
                "     {} min_ttl {} max_ttl {}",
                peer.addr,
                peer.min_ttl.unwrap_or(0),
                peer.max_ttl.unwrap_or(255)
            ));
        }
        out.line(format!(
            "   Unicast checksum compatibility = {}",
            match cfg.and_then(|c| c.old_unicast_checksum) {
                None => "no",
                Some(UnicastChecksumCompat::Old) => "config",
                Some(UnicastChecksumCompat::Never) => "never",
            }
        ));
    }
    match v.shell.and_then(|s| input.os.fd_of(&s.socket)) {
        // One socket sends and receives: keepalived's two descriptors are the same one.
        Some(fd) => out.line(format!("   fd_in {fd}, fd_out {fd}")),
        None => out.line("   No sockets allocated"),
    }
    if let Some(c) = cfg {
        if !c.virtual_routes.is_empty() {
            out.line("   Virtual Routes :");
            for r in &c.virtual_routes {
                out.line(format!("     {}", r.words.join(" ")));
            }
        }
        if !c.virtual_rules.is_empty() {
            out.line("   Virtual Rules :");
            for r in &c.virtual_rules {
                out.line(format!("     {}", r.words.join(" ")));
            }
        }
        trackers(out, input, c);
    }
    out.line(format!(
        "   Using smtp notification = {}",
        yn(eff.as_ref().is_some_and(|e| e.smtp_alert))
    ));
    out.line(format!(
        "   Notify deleted = {}",
        if cfg.is_some_and(|c| c.notify.notify_deleted) {
            "Deleted"
        } else {
            "Fault"
        }
    ));
    if let Some(c) = cfg {
        let n = &c.notify;
        for (script, what) in [
            (&n.backup, "Backup"),
            (&n.master, "Master"),
            (&n.fault, "Fault"),
            (&n.stop, "Stop"),
            (&n.deleted, "Deleted"),
            (&n.generic, "Generic"),
            (&n.master_rx_lower_pri, "Master rx lower pri"),
        ] {
            if let Some(s) = script {
                notify_script(out, input, s, what);
            }
        }
    }
    out.line(format!(
        "   Notify priority changes = {}",
        tf(eff.as_ref().is_some_and(|e| e.notify_priority_changes))
    ));
}

/// The device name of a VIP: a VMAC instance puts its VIPs on the VMAC.
fn vip_dev<'a>(v: &'a InstanceView<'_>, dev: &'a str) -> &'a str {
    match v.shell.and_then(|s| s.vmac.as_ref()) {
        Some(vmac) if dev == vmac.parent_name => &vmac.name,
        _ => dev,
    }
}

/// Base priority plus the tracker weights that apply, before clamping (keepalived's
/// `total_priority`); an owner stays at 255.
pub fn total_priority(v: &InstanceView<'_>) -> i64 {
    let p = v.inst.params();
    if p.is_owner() {
        return 255;
    }
    let sum: i64 = v
        .inst
        .tracker_values()
        .map(|(t, value)| match t.effect(value) {
            keepalived_vrrp::instance::Effect::Weight(w) => w,
            keepalived_vrrp::instance::Effect::Fault => 0,
        })
        .sum();
    i64::from(p.priority).saturating_add(sum)
}

/// A notify script line, with the user it runs as.
pub fn notify_script(out: &mut Lines, input: &DumpInput<'_>, s: &Script, what: &str) {
    let (uid, gid) = input
        .os
        .ids_of(s.user.as_ref().or(input.config.global.script_user.as_ref()));
    out.line(format!(
        "   {what} state transition script = {}, uid:gid {uid}:{gid}",
        cmd_str(s)
    ));
}

/// The weight a `track_script` reference uses: its own, else the script's.
pub fn script_weight(input: &DumpInput<'_>, r: &TrackRef) -> (i32, bool) {
    match r.weight {
        Some(w) => (w, r.reverse),
        None => input
            .config
            .vrrp_scripts
            .iter()
            .find(|s| s.name == r.name)
            .map_or((0, r.reverse), |s| {
                (s.weight, s.weight_reverse || r.reverse)
            }),
    }
}

/// The weight a `track_file` reference uses: its own, else the file's.
pub fn file_weight(input: &DumpInput<'_>, r: &TrackRef) -> (i32, bool) {
    match r.weight {
        Some(w) => (w, r.reverse),
        None => input
            .config
            .track_files
            .iter()
            .find(|f| f.name == r.name)
            .map_or((1, r.reverse), |f| (f.weight, f.reverse || r.reverse)),
    }
}

fn rev(reverse: bool) -> &'static str {
    if reverse {
        " reverse"
    } else {
        ""
    }
}

/// The `Tracked ... :` lists of an instance or a sync group.
pub fn tracker_lists(
    out: &mut Lines,
    input: &DumpInput<'_>,
    track: &keepalived_config::model::vrrp::Trackers,
) {
    if !track.interfaces.is_empty() {
        out.line("   Tracked interfaces :");
        for r in &track.interfaces {
            out.line(format!(
                "     {} weight {}{}",
                r.name,
                r.weight.unwrap_or(0),
                rev(r.reverse)
            ));
        }
    }
    if !track.scripts.is_empty() {
        out.line("   Tracked scripts :");
        for r in &track.scripts {
            let (w, reverse) = script_weight(input, r);
            out.line(format!("     {} weight {w}{}", r.name, rev(reverse)));
        }
    }
    if !track.files.is_empty() {
        out.line("   Tracked files :");
        for r in &track.files {
            let (w, reverse) = file_weight(input, r);
            out.line(format!("     {}, weight {w}{}", r.name, rev(reverse)));
        }
    }
    if !track.processes.is_empty() {
        out.line("   Tracked processes :");
        for r in &track.processes {
            out.line(format!(
                "     {}, weight {}{}",
                r.name,
                r.weight.unwrap_or(0),
                rev(r.reverse)
            ));
        }
    }
    if !track.bfds.is_empty() {
        out.line("   Tracked BFDs :");
        for r in &track.bfds {
            out.line(format!(
                "     {}: weight {}{}",
                r.name,
                r.weight.unwrap_or(0),
                rev(r.reverse)
            ));
        }
    }
}

fn trackers(out: &mut Lines, input: &DumpInput<'_>, c: &VrrpInstance) {
    tracker_lists(out, input, &c.track);
}

/// Appends the socket pool: one entry per socket, with the instances on it.
pub fn write_sockpool(out: &mut Lines, input: &DumpInput<'_>) {
    let mut keys = Vec::new();
    for s in &input.plan.shells {
        if !keys.contains(&s.socket) {
            keys.push(s.socket);
        }
    }
    if keys.is_empty() {
        return;
    }
    out.line("------< VRRP Sockpool >------");
    for key in keys {
        let fd = input.os.fd_of(&key).unwrap_or(-1);
        out.line(format!(" fd_in {fd} fd_out = {fd}"));
        let ifname = input
            .plan
            .shells
            .iter()
            .find(|s| s.socket == key)
            .map_or_else(String::new, |s| s.ifname.clone());
        out.line(format!("   Interface = {ifname}"));
        out.line(format!(
            "   Family = {}",
            match key.family {
                Family::V4 => "IPv4",
                Family::V6 => "IPv6",
            }
        ));
        out.line("   Protocol = VRRP");
        match key.unicast_src {
            Some(src) => {
                out.line("   Type = Unicast");
                out.line(format!("   Address = {src}"));
            }
            None => out.line("   Type = Multicast"),
        }
        out.line("   Rx buf size = 0");
        out.line("   VRRP instances");
        let mut members: Vec<(u8, &str)> = input
            .plan
            .shells
            .iter()
            .filter(|s| s.socket == key)
            .map(|s| (s.rx.vrid, s.name.as_str()))
            .collect();
        // keepalived keeps a socket's instances in a tree ordered by VRID.
        members.sort();
        for (vrid, name) in members {
            out.line(format!("     {name} vrid {vrid}"));
        }
    }
}
