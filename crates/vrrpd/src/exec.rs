//! Carries out the core's [`Action`]s, in the order the core returned them, through the
//! [`Os`] trait: adverts are built here with the codec (IPv4 header with our own IP id per
//! instance, IPv6 message only), GARP/NA frames too, VIPs become rtnetlink address
//! specifications, notifies become command lines.
//!
//! The trait keeps this module testable: the tests below record the calls of a fake `Os`
//! and check their order against keepalived's (advert, then VIPs, then GARPs, then notifies).

use crate::params::{
    Family, InstanceShell, NotifyCommand, NotifyKey, Plan, SocketKey, VRoute, VipSpec,
};
use keepalived_vrrp::codec::{
    encode_ipv4_advert, encode_message, Garp, IpIdCounter, Ipv4Send, PseudoHeader, UnsolicitedNa,
};
use keepalived_vrrp::instance::{Action, LogLevel, State};
use keepalived_vrrp::sync_group::{Routed, Source};
use keepalived_vrrp::Advert;
use std::collections::HashSet;
use std::net::IpAddr;

/// What the executor needs from the operating system.
pub trait Os {
    /// Sends one advert on the socket `key`: a whole IPv4 packet, or an IPv6 VRRP message.
    fn send_advert(&mut self, key: &SocketKey, packet: &[u8], dst: IpAddr) -> Result<(), String>;
    /// Adds an address; `Ok(false)` when it was already there.
    fn add_addr(&mut self, spec: &VipSpec) -> Result<bool, String>;
    /// Removes an address; `Ok(false)` when it was not there.
    fn del_addr(&mut self, spec: &VipSpec) -> Result<bool, String>;
    /// Adds a route; `Ok(false)` when it was already there.
    fn add_route(&mut self, route: &VRoute) -> Result<bool, String>;
    /// Removes a route; `Ok(false)` when it was not there.
    fn del_route(&mut self, route: &VRoute) -> Result<bool, String>;
    /// Adds an `ip rule`; `Ok(false)` when it was already there.
    fn add_rule(&mut self, rule: &keepalived_sys::netlink::RuleSpec) -> Result<bool, String>;
    /// Removes an `ip rule`; `Ok(false)` when it was not there.
    fn del_rule(&mut self, rule: &keepalived_sys::netlink::RuleSpec) -> Result<bool, String>;
    /// Sends a whole Ethernet frame on interface `ifindex`.
    fn send_frame(&mut self, ifindex: u32, frame: &[u8]) -> Result<(), String>;
    /// The MAC address of interface `ifindex`.
    fn mac(&mut self, ifindex: u32) -> Option<[u8; 6]>;
    /// Starts a notify script (never waits for it).
    fn run_script(&mut self, cmd: &NotifyCommand, extra_args: &[String]) -> Result<(), String>;
    /// Writes a line to the notify FIFO (lost if it would block, as keepalived does).
    fn fifo_write(&mut self, line: &str);
    /// An instance changed state (for the parent's `InstanceState`).
    fn report_state(&mut self, name: &str, state: State, priority: u8);
}

/// Carries out actions; keeps the per-instance IP id counters and the addresses we removed
/// ourselves (so their netlink removal events are not taken for someone else's).
#[derive(Debug, Default)]
pub struct Executor {
    ip_ids: Vec<IpIdCounter>,
    self_removed: HashSet<(u32, IpAddr)>,
    buf: Vec<u8>,
    /// Skip VIP removal (`--dont-release-vrrp`).
    pub dont_release: bool,
}

impl Executor {
    /// An executor for `instances` instances.
    pub fn new(instances: usize, dont_release: bool) -> Self {
        Executor {
            ip_ids: vec![IpIdCounter::new(); instances],
            self_removed: HashSet::new(),
            buf: Vec::with_capacity(128),
            dont_release,
        }
    }

    /// Adjusts to a reloaded plan (counters of kept instances are kept by index when the
    /// count grows; a fresh counter otherwise).
    pub fn resize(&mut self, instances: usize) {
        self.ip_ids.resize(instances, IpIdCounter::new());
    }

    /// Records that we removed `addr` from `ifindex` ourselves.
    pub fn note_self_removed(&mut self, ifindex: u32, addr: IpAddr) {
        self.self_removed.insert((ifindex, addr));
    }

    /// True (and forgotten) when `addr` on `ifindex` was removed by us.
    pub fn take_self_removed(&mut self, ifindex: u32, addr: IpAddr) -> bool {
        self.self_removed.remove(&(ifindex, addr))
    }

    /// Carries out `actions` in order.
    pub fn run(&mut self, os: &mut dyn Os, plan: &Plan, actions: &[Routed]) {
        for r in actions {
            match r.source {
                Source::Instance(i) => {
                    if let Some(shell) = plan.shells.get(i) {
                        self.instance_action(os, i, shell, &r.action);
                    }
                }
                Source::Group(g) => {
                    let name = plan.groups.get(g).map(|g| g.name.as_str()).unwrap_or("");
                    let notify = plan.group_notify.get(name);
                    self.common_action(os, name, notify, &r.action);
                }
            }
        }
    }

    /// Carries out the actions of one instance that is no longer in the plan (reload).
    pub fn run_for_shell(&mut self, os: &mut dyn Os, shell: &InstanceShell, actions: &[Action]) {
        let mut counter = IpIdCounter::new();
        for a in actions {
            match a {
                Action::SendAdvert(adv) => self.send_advert(os, &mut counter, shell, adv),
                other => self.instance_action_no_advert(os, shell, other),
            }
        }
    }

    fn instance_action(&mut self, os: &mut dyn Os, i: usize, shell: &InstanceShell, a: &Action) {
        match a {
            Action::SendAdvert(adv) => {
                let mut counter = self.ip_ids.get(i).copied().unwrap_or_default();
                self.send_advert(os, &mut counter, shell, adv);
                if let Some(slot) = self.ip_ids.get_mut(i) {
                    *slot = counter;
                }
            }
            other => self.instance_action_no_advert(os, shell, other),
        }
    }

    fn instance_action_no_advert(&mut self, os: &mut dyn Os, shell: &InstanceShell, a: &Action) {
        match a {
            Action::SendAdvert(_) => {}
            Action::AddVips {
                vips,
                excluded,
                routes_and_rules,
            } => {
                for spec in specs(shell, vips, excluded) {
                    self.self_removed.remove(&(spec.ifindex, spec.addr));
                    if let Err(e) = os.add_addr(spec) {
                        log::error!("({}) cannot add {}: {e}", shell.name, spec.addr);
                    }
                }
                if *routes_and_rules {
                    for r in &shell.rules {
                        if let Err(e) = os.add_rule(r) {
                            log::error!("({}) cannot add rule: {e}", shell.name);
                        }
                    }
                    for r in &shell.routes {
                        if let Err(e) = os.add_route(r) {
                            log::error!(
                                "({}) cannot add route {}/{}: {e}",
                                shell.name,
                                r.dst,
                                r.prefix_len
                            );
                        }
                    }
                }
            }
            Action::RemoveVips {
                vips,
                excluded,
                routes_and_rules,
            } => {
                if self.dont_release {
                    return;
                }
                if *routes_and_rules {
                    for r in &shell.rules {
                        if let Err(e) = os.del_rule(r) {
                            log::error!("({}) cannot remove rule: {e}", shell.name);
                        }
                    }
                    for r in &shell.routes {
                        if let Err(e) = os.del_route(r) {
                            log::error!(
                                "({}) cannot remove route {}/{}: {e}",
                                shell.name,
                                r.dst,
                                r.prefix_len
                            );
                        }
                    }
                }
                for spec in specs(shell, vips, excluded) {
                    match os.del_addr(spec) {
                        Ok(true) => {
                            self.self_removed.insert((spec.ifindex, spec.addr));
                        }
                        Ok(false) => {}
                        Err(e) => log::error!("({}) cannot remove {}: {e}", shell.name, spec.addr),
                    }
                }
            }
            Action::SendGarp { addrs, repeat } => {
                for addr in addrs {
                    let ifindex = shell
                        .vips
                        .iter()
                        .chain(&shell.excluded)
                        .find(|s| s.addr == *addr)
                        .map_or(shell.ifindex, |s| s.ifindex);
                    let Some(mac) = os.mac(ifindex).or(shell.mac) else {
                        continue;
                    };
                    for _ in 0..*repeat {
                        let sent = match addr {
                            IpAddr::V4(vip) => os.send_frame(
                                ifindex,
                                &Garp {
                                    src_mac: mac,
                                    vip: *vip,
                                }
                                .to_frame(),
                            ),
                            IpAddr::V6(vip) => os.send_frame(
                                ifindex,
                                &UnsolicitedNa {
                                    src_mac: mac,
                                    vip: *vip,
                                    router: false,
                                }
                                .to_frame(),
                            ),
                        };
                        if let Err(e) = sent {
                            log::warn!("({}) gratuitous ARP/NA for {addr}: {e}", shell.name);
                            break;
                        }
                    }
                }
            }
            other => self.common_action(os, &shell.name, Some(&shell.notify), other),
        }
    }

    fn common_action(
        &mut self,
        os: &mut dyn Os,
        name: &str,
        notify: Option<&std::collections::BTreeMap<NotifyKey, NotifyCommand>>,
        a: &Action,
    ) {
        match a {
            Action::RunNotify { script, args } => {
                let key = NotifyKey::from(*script);
                if let Some(cmd) = notify.and_then(|n| n.get(&key)) {
                    if let Err(e) = os.run_script(cmd, args) {
                        log::error!("({name}) cannot run notify script {:?}: {e}", cmd.argv);
                    }
                }
            }
            Action::FifoWrite(line) => os.fifo_write(line),
            Action::Log { level, text } => match level {
                LogLevel::Info => log::info!("{text}"),
                LogLevel::Warning => log::warn!("{text}"),
            },
            Action::StateChanged { to, priority, .. } => os.report_state(name, *to, *priority),
            Action::SendAdvert(_)
            | Action::AddVips { .. }
            | Action::RemoveVips { .. }
            | Action::SendGarp { .. } => {}
        }
    }

    fn send_advert(
        &mut self,
        os: &mut dyn Os,
        ids: &mut IpIdCounter,
        shell: &InstanceShell,
        adv: &Advert,
    ) {
        for dst in &shell.destinations {
            self.buf.clear();
            let encoded = match (shell.family, shell.src, dst) {
                (Family::V4, IpAddr::V4(src), IpAddr::V4(dst)) => {
                    let send = Ipv4Send {
                        src,
                        dst: *dst,
                        ttl: shell.ttl,
                        id: ids.next(),
                    };
                    encode_ipv4_advert(adv, &send, shell.v4_checksum, &mut self.buf)
                }
                (Family::V6, IpAddr::V6(src), IpAddr::V6(dst)) => {
                    encode_message(adv, PseudoHeader::V6 { src, dst: *dst }, &mut self.buf)
                }
                _ => {
                    log::error!("({}) address family mismatch for {dst}", shell.name);
                    continue;
                }
            };
            if let Err(e) = encoded {
                log::error!("({}) cannot encode advert: {e}", shell.name);
                continue;
            }
            if let Err(e) = os.send_advert(&shell.socket, &self.buf, *dst) {
                log::warn!("({}) cannot send advert to {dst}: {e}", shell.name);
            }
        }
    }
}

/// The specifications of `vips` then `excluded`, found by address in the shell's lists
/// (either list: a reload hands over the old addresses in the merged shell's `excluded`).
fn specs<'a>(
    shell: &'a InstanceShell,
    vips: &'a [IpAddr],
    excluded: &'a [IpAddr],
) -> impl Iterator<Item = &'a VipSpec> + 'a {
    vips.iter().chain(excluded).filter_map(|a| {
        shell
            .vips
            .iter()
            .chain(&shell.excluded)
            .find(|s| s.addr == *a)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{plan, InterfaceInfo, PlanOptions};
    use keepalived_config::{load_str, AssumeAll, LoadOptions};
    use keepalived_vrrp::codec::{validate, RxPacket};
    use keepalived_vrrp::instance::Input;
    use keepalived_vrrp::sync_group::{Router, Target};
    use std::net::Ipv4Addr;
    use std::time::Duration;

    #[derive(Default)]
    struct Fake {
        calls: Vec<String>,
        packets: Vec<Vec<u8>>,
    }

    impl Os for Fake {
        fn send_advert(&mut self, _: &SocketKey, p: &[u8], dst: IpAddr) -> Result<(), String> {
            self.calls.push(format!(
                "advert prio {} to {dst}",
                p.get(22).copied().unwrap_or(0)
            ));
            self.packets.push(p.to_vec());
            Ok(())
        }
        fn add_addr(&mut self, s: &VipSpec) -> Result<bool, String> {
            self.calls.push(format!("add {}/{}", s.addr, s.prefix_len));
            Ok(true)
        }
        fn del_addr(&mut self, s: &VipSpec) -> Result<bool, String> {
            self.calls.push(format!("del {}", s.addr));
            Ok(true)
        }
        fn add_route(&mut self, r: &VRoute) -> Result<bool, String> {
            self.calls
                .push(format!("add route {}/{}", r.dst, r.prefix_len));
            Ok(true)
        }
        fn del_route(&mut self, r: &VRoute) -> Result<bool, String> {
            self.calls
                .push(format!("del route {}/{}", r.dst, r.prefix_len));
            Ok(true)
        }
        fn add_rule(&mut self, _: &keepalived_sys::netlink::RuleSpec) -> Result<bool, String> {
            self.calls.push("add rule".into());
            Ok(true)
        }
        fn del_rule(&mut self, _: &keepalived_sys::netlink::RuleSpec) -> Result<bool, String> {
            self.calls.push("del rule".into());
            Ok(true)
        }
        fn send_frame(&mut self, i: u32, f: &[u8]) -> Result<(), String> {
            let g = Garp::parse(f)
                .map(|g| g.vip.to_string())
                .unwrap_or_default();
            self.calls.push(format!("garp {g} on {i}"));
            Ok(())
        }
        fn mac(&mut self, _: u32) -> Option<[u8; 6]> {
            Some([2, 0, 0, 0, 0, 1])
        }
        fn run_script(&mut self, c: &NotifyCommand, extra: &[String]) -> Result<(), String> {
            self.calls.push(
                format!("run {} {}", c.argv.join(" "), extra.join(" "))
                    .trim_end()
                    .to_string(),
            );
            Ok(())
        }
        fn fifo_write(&mut self, line: &str) {
            self.calls.push(format!("fifo {}", line.trim_end()));
        }
        fn report_state(&mut self, name: &str, state: State, priority: u8) {
            self.calls.push(format!("state {name} {state} {priority}"));
        }
    }

    fn setup(text: &str) -> (Plan, Router) {
        let loaded = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
        let lookup = |_: &str| {
            Some(InterfaceInfo {
                index: 2,
                primary_v4: Some(Ipv4Addr::new(192, 0, 2, 1)),
                link_local_v6: None,
                mac: Some([2, 0, 0, 0, 0, 1]),
                up: true,
            })
        };
        let p = plan(&loaded.config, &lookup, PlanOptions::default());
        let r = Router::new(p.instances.clone(), p.groups.clone()).unwrap();
        (p, r)
    }

    const CONF: &str = "global_defs {\n vrrp_notify_fifo /tmp/f\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n priority 150\n garp_master_repeat 2\n virtual_ipaddress {\n 192.0.2.100/24\n }\n notify_master /bin/m\n notify \"/bin/n x\"\n notify_stop /bin/s\n}\n";

    #[test]
    fn becoming_master_in_keepalived_order() {
        let (plan, mut router) = setup(CONF);
        let mut exec = Executor::new(plan.shells.len(), false);
        let mut os = Fake::default();
        let t0 = Duration::ZERO;
        let out = router.handle(t0, Target::All, Input::Start);
        exec.run(&mut os, &plan, &out);
        assert_eq!(
            os.calls,
            vec![
                "state VI_1 BACKUP 150",
                "run /bin/n x INSTANCE VI_1 BACKUP 150",
                "fifo INSTANCE \"VI_1\" BACKUP 150"
            ]
        );
        os.calls.clear();
        let (i, d) = router.next_timer().unwrap();
        let out = router.handle(d.at, Target::Instance(i), Input::Timer(d.id));
        exec.run(&mut os, &plan, &out);
        assert_eq!(
            os.calls,
            vec![
                "state VI_1 MASTER 150",
                "advert prio 150 to 224.0.0.18",
                "add 192.0.2.100/24",
                "garp 192.0.2.100 on 2",
                "garp 192.0.2.100 on 2",
                "run /bin/m",
                "run /bin/n x INSTANCE VI_1 MASTER 150",
                "fifo INSTANCE \"VI_1\" MASTER 150",
            ]
        );
        // The advert is a valid VRRPv2 packet for VRID 51 from the primary address.
        let rx = &plan.shells[0].rx;
        let v = validate(RxPacket::Ipv4(&os.packets[0]), rx).unwrap();
        assert_eq!(v.advert.priority, 150);
        assert_eq!(v.src, IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)));
        // IP ids count from 1 per instance.
        assert_eq!(&os.packets[0][4..6], &[0, 1]);
        os.calls.clear();
        let out = router.handle(d.at, Target::All, Input::Shutdown);
        exec.run(&mut os, &plan, &out);
        assert_eq!(
            os.calls,
            vec![
                "advert prio 0 to 224.0.0.18",
                "del 192.0.2.100",
                "state VI_1 STOP 150",
                "run /bin/s",
                "run /bin/n x INSTANCE VI_1 STOP 150",
                "fifo INSTANCE \"VI_1\" STOP 150",
            ]
        );
        assert_eq!(&os.packets[1][4..6], &[0, 2]);
        assert!(exec.take_self_removed(2, "192.0.2.100".parse().unwrap()));
        assert!(!exec.take_self_removed(2, "192.0.2.100".parse().unwrap()));
    }

    #[test]
    fn dont_release_keeps_vips() {
        let (plan, mut router) = setup(CONF);
        let mut exec = Executor::new(plan.shells.len(), true);
        let mut os = Fake::default();
        let _ = router.handle(Duration::ZERO, Target::All, Input::Start);
        let (i, d) = router.next_timer().unwrap();
        let _ = router.handle(d.at, Target::Instance(i), Input::Timer(d.id));
        let out = router.handle(d.at, Target::All, Input::Shutdown);
        exec.run(&mut os, &plan, &out);
        assert!(
            os.calls.iter().all(|c| !c.starts_with("del")),
            "{:?}",
            os.calls
        );
        assert_eq!(os.calls[0], "advert prio 0 to 224.0.0.18");
    }

    #[test]
    fn routes_follow_addresses_in_and_precede_them_out() {
        let (plan, mut router) = setup(
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n 192.0.2.100\n }\n virtual_routes {\n 198.51.100.0/24 via 192.0.2.254\n }\n}\n",
        );
        let mut exec = Executor::new(1, false);
        let mut os = Fake::default();
        let _ = router.handle(Duration::ZERO, Target::All, Input::Start);
        let (i, d) = router.next_timer().unwrap();
        let out = router.handle(d.at, Target::Instance(i), Input::Timer(d.id));
        exec.run(&mut os, &plan, &out);
        let pos = |c: &[String], s: &str| c.iter().position(|x| x == s).unwrap();
        assert!(pos(&os.calls, "add 192.0.2.100/32") < pos(&os.calls, "add route 198.51.100.0/24"));
        os.calls.clear();
        let out = router.handle(d.at, Target::All, Input::Shutdown);
        exec.run(&mut os, &plan, &out);
        assert!(pos(&os.calls, "del route 198.51.100.0/24") < pos(&os.calls, "del 192.0.2.100"));
    }

    #[test]
    fn unicast_adverts_go_to_each_peer() {
        let (plan, mut router) = setup(
            "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n state MASTER\n priority 255\n unicast_peer {\n 192.0.2.2\n 192.0.2.3\n }\n virtual_ipaddress {\n 192.0.2.100\n }\n}\n",
        );
        let mut exec = Executor::new(1, false);
        let mut os = Fake::default();
        let _ = router.handle(Duration::ZERO, Target::All, Input::Start);
        let (i, d) = router.next_timer().unwrap();
        let out = router.handle(d.at, Target::Instance(i), Input::Timer(d.id));
        exec.run(&mut os, &plan, &out);
        assert_eq!(os.calls[1], "advert prio 255 to 192.0.2.2");
        assert_eq!(os.calls[2], "advert prio 255 to 192.0.2.3");
    }
}
