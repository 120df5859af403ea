//! Carries out the core's [`Action`]s, in the order the core returned them, through the
//! [`Os`] trait: adverts are built here with the codec (IPv4 header with our own IP id per
//! instance, IPv6 message only), GARP/NA frames too, VIPs become rtnetlink address
//! specifications, notifies become command lines.
//!
//! The trait keeps this module testable: the tests below record the calls of a fake `Os`
//! and check their order against keepalived's (advert, then VIPs, then GARPs, then notifies).
//!
//! Address, route and rule changes are collected and handed to the kernel in one batch
//! ([`Os::apply`]): a SIGTERM releasing 1,000 VIPs makes one batch, not 1,000 round trips.
//! Every action that could notice the changes (GARPs, notify scripts, FIFO lines, state
//! reports, logs) is held back until the batch is made, in its order; adverts are queued per socket
//! by the shell, which sends them (one sendmmsg) before the batch or any other OS action.
//! An instance's own order is kept: a change it asks for after one of its actions was held
//! back first flushes the batch. Across instances the order becomes keepalived's shutdown
//! order: every instance's VIPs are removed before the `notify_stop` scripts run.

use crate::params::{
    Family, InstanceShell, NotifyCommand, NotifyKey, Plan, SocketKey, VRoute, VipSpec,
};
use keepalived_vrrp::codec::{
    encode_ipv4_advert, encode_message, Garp, IpIdCounter, Ipv4Send, PseudoHeader, UnsolicitedNa,
};
use keepalived_vrrp::instance::{Action, LogLevel, State};
use keepalived_vrrp::sync_group::{Routed, Source};
use keepalived_vrrp::Advert;
use std::collections::{BTreeMap, HashSet};
use std::net::IpAddr;

/// One change of the kernel's address, route or rule tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetChange<'a> {
    /// Add a VIP.
    AddAddr(&'a VipSpec),
    /// Remove a VIP.
    DelAddr(&'a VipSpec),
    /// Add a virtual route.
    AddRoute(&'a VRoute),
    /// Remove a virtual route.
    DelRoute(&'a VRoute),
    /// Add a virtual rule.
    AddRule(&'a keepalived_sys::netlink::RuleSpec),
    /// Remove a virtual rule.
    DelRule(&'a keepalived_sys::netlink::RuleSpec),
}

/// What the executor needs from the operating system.
pub trait Os {
    /// Sends one advert on the socket `key`: a whole IPv4 packet, or an IPv6 VRRP message.
    fn send_advert(&mut self, key: &SocketKey, packet: &[u8], dst: IpAddr) -> Result<(), String>;
    /// Makes `changes` in order, as one batch; one result per change: `Ok(true)` made,
    /// `Ok(false)` already so (present when added, absent when removed), or why it failed.
    fn apply(&mut self, changes: &[NetChange<'_>]) -> Vec<Result<bool, String>>;
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

    /// Carries out `actions` in order (address changes batched, see the module doc).
    pub fn run(&mut self, os: &mut dyn Os, plan: &Plan, actions: &[Routed]) {
        let mut batch = Batch::default();
        for r in actions {
            match r.source {
                Source::Instance(i) => {
                    if let Some(shell) = plan.shells.get(i) {
                        self.instance_action(os, &mut batch, i, shell, &r.action);
                    }
                }
                Source::Group(g) => {
                    let group = plan.groups.get(g);
                    let name = group.map(|g| g.name.as_str()).unwrap_or("");
                    let notify = plan.group_notify.get(name);
                    if batch.is_empty() {
                        self.common_action(os, name, notify, &r.action);
                    } else {
                        let members = group.map(|g| g.members.as_slice()).unwrap_or_default();
                        batch.hold_group(name, notify, &r.action, members);
                    }
                }
            }
        }
        self.flush(os, &mut batch);
    }

    /// Makes `changes` (each with the name of the instance asking, for its error message)
    /// in one batch: refusals are logged, addresses removed are remembered as our own
    /// removals.
    pub fn apply_changes(&mut self, os: &mut dyn Os, changes: &[(&str, NetChange<'_>)]) {
        if changes.is_empty() {
            return;
        }
        let wanted: Vec<NetChange<'_>> = changes.iter().map(|(_, c)| *c).collect();
        let mut results = os.apply(&wanted).into_iter();
        for (name, change) in changes {
            let result = results
                .next()
                .unwrap_or_else(|| Err("no result".to_string()));
            match (change, result) {
                (NetChange::DelAddr(spec), Ok(true)) => {
                    self.self_removed.insert((spec.ifindex, spec.addr));
                }
                (_, Ok(_)) => {}
                (NetChange::AddAddr(spec), Err(e)) => {
                    log::error!("({name}) cannot add {}: {e}", spec.addr);
                }
                (NetChange::DelAddr(spec), Err(e)) => {
                    log::error!("({name}) cannot remove {}: {e}", spec.addr);
                }
                (NetChange::AddRoute(r), Err(e)) => {
                    log::error!("({name}) cannot add route {}/{}: {e}", r.dst, r.prefix_len);
                }
                (NetChange::DelRoute(r), Err(e)) => {
                    log::error!(
                        "({name}) cannot remove route {}/{}: {e}",
                        r.dst,
                        r.prefix_len
                    );
                }
                (NetChange::AddRule(_), Err(e)) => log::error!("({name}) cannot add rule: {e}"),
                (NetChange::DelRule(_), Err(e)) => {
                    log::error!("({name}) cannot remove rule: {e}");
                }
            }
        }
    }

    /// Makes the batched changes, then carries out the actions held back for them.
    fn flush(&mut self, os: &mut dyn Os, batch: &mut Batch<'_>) {
        self.apply_changes(os, &batch.changes);
        batch.changes.clear();
        batch.holding.clear();
        for held in std::mem::take(&mut batch.held) {
            match held {
                Held::Instance(shell, action) => self.observable_action(os, shell, action),
                Held::Group {
                    name,
                    notify,
                    action,
                } => self.common_action(os, name, notify, action),
            }
        }
    }

    /// Carries out the actions of one instance that is no longer in the plan (reload).
    pub fn run_for_shell(&mut self, os: &mut dyn Os, shell: &InstanceShell, actions: &[Action]) {
        let mut counter = IpIdCounter::new();
        let mut batch = Batch::default();
        for a in actions {
            match a {
                Action::SendAdvert(adv) => self.send_advert(os, &mut counter, shell, adv),
                other => self.instance_action_no_advert(os, &mut batch, shell, other),
            }
        }
        self.flush(os, &mut batch);
    }

    fn instance_action<'p>(
        &mut self,
        os: &mut dyn Os,
        batch: &mut Batch<'p>,
        i: usize,
        shell: &'p InstanceShell,
        a: &'p Action,
    ) {
        match a {
            Action::SendAdvert(adv) => {
                let mut counter = self.ip_ids.get(i).copied().unwrap_or_default();
                self.send_advert(os, &mut counter, shell, adv);
                if let Some(slot) = self.ip_ids.get_mut(i) {
                    *slot = counter;
                }
            }
            other => self.instance_action_no_advert(os, batch, shell, other),
        }
    }

    /// Batches the address, route and rule changes of `a`; carries out any other action at
    /// once, or after the batch when changes are waiting.
    fn instance_action_no_advert<'p>(
        &mut self,
        os: &mut dyn Os,
        batch: &mut Batch<'p>,
        shell: &'p InstanceShell,
        a: &'p Action,
    ) {
        let name = shell.name.as_str();
        match a {
            Action::SendAdvert(_) => {}
            Action::AddVips { .. } | Action::RemoveVips { .. } if batch.holds(name) => {
                // An action of this instance waits for the batch: it must not see this change.
                self.flush(os, batch);
                self.instance_action_no_advert(os, batch, shell, a);
            }
            Action::AddVips {
                vips,
                excluded,
                routes_and_rules,
            } => {
                for spec in specs(shell, vips, excluded) {
                    self.self_removed.remove(&(spec.ifindex, spec.addr));
                    batch.change(name, NetChange::AddAddr(spec));
                }
                if *routes_and_rules {
                    for r in &shell.rules {
                        batch.change(name, NetChange::AddRule(r));
                    }
                    for r in &shell.routes {
                        batch.change(name, NetChange::AddRoute(r));
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
                        batch.change(name, NetChange::DelRule(r));
                    }
                    for r in &shell.routes {
                        batch.change(name, NetChange::DelRoute(r));
                    }
                }
                for spec in specs(shell, vips, excluded) {
                    batch.change(name, NetChange::DelAddr(spec));
                }
            }
            other if batch.is_empty() => self.observable_action(os, shell, other),
            other => batch.hold(shell, other),
        }
    }

    /// Carries out an action that is neither an advert nor an address change.
    fn observable_action(&mut self, os: &mut dyn Os, shell: &InstanceShell, a: &Action) {
        match a {
            Action::SendAdvert(_) | Action::AddVips { .. } | Action::RemoveVips { .. } => {}
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

/// Address, route and rule changes waiting to be made in one batch, and the actions held
/// back until they are.
#[derive(Default)]
struct Batch<'p> {
    /// The changes, each with the name of the instance asking.
    changes: Vec<(&'p str, NetChange<'p>)>,
    /// Actions to carry out once the changes are made, in their order.
    held: Vec<Held<'p>>,
    /// Instances with a held action: a change of theirs first flushes the batch.
    holding: HashSet<&'p str>,
}

/// An action waiting for a batch.
enum Held<'p> {
    /// An instance's.
    Instance(&'p InstanceShell, &'p Action),
    /// A sync group's (notify scripts, FIFO lines, logs).
    Group {
        name: &'p str,
        notify: Option<&'p BTreeMap<NotifyKey, NotifyCommand>>,
        action: &'p Action,
    },
}

impl<'p> Batch<'p> {
    fn is_empty(&self) -> bool {
        self.changes.is_empty()
    }

    fn holds(&self, instance: &str) -> bool {
        self.holding.contains(instance)
    }

    fn change(&mut self, instance: &'p str, change: NetChange<'p>) {
        self.changes.push((instance, change));
    }

    fn hold(&mut self, shell: &'p InstanceShell, action: &'p Action) {
        self.holding.insert(&shell.name);
        self.held.push(Held::Instance(shell, action));
    }

    /// A group's action waits; its members' changes must not overtake it.
    fn hold_group(
        &mut self,
        name: &'p str,
        notify: Option<&'p BTreeMap<NotifyKey, NotifyCommand>>,
        action: &'p Action,
        members: &'p [String],
    ) {
        self.holding.extend(members.iter().map(String::as_str));
        self.held.push(Held::Group {
            name,
            notify,
            action,
        });
    }
}

/// The specifications of `vips` then `excluded`, found by address in the shell's lists
/// (either list: a reload hands over the old addresses in the merged shell's `excluded`).
/// The core usually lists them in the shell's own order, so the same position is tried
/// first: an instance with thousands of VIPs is not searched once per address.
fn specs<'a>(
    shell: &'a InstanceShell,
    vips: &'a [IpAddr],
    excluded: &'a [IpAddr],
) -> impl Iterator<Item = &'a VipSpec> + 'a {
    let at = |k: usize| match k.checked_sub(shell.vips.len()) {
        None => shell.vips.get(k),
        Some(e) => shell.excluded.get(e),
    };
    vips.iter()
        .chain(excluded)
        .enumerate()
        .filter_map(move |(k, a)| {
            at(k).filter(|s| s.addr == *a).or_else(|| {
                shell
                    .vips
                    .iter()
                    .chain(&shell.excluded)
                    .find(|s| s.addr == *a)
            })
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
        /// The size of each batch of changes.
        batches: Vec<usize>,
        /// Addresses whose change fails.
        refuse: Vec<IpAddr>,
        /// Addresses already absent (a removal finds nothing).
        absent: Vec<IpAddr>,
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
        fn apply(&mut self, changes: &[NetChange<'_>]) -> Vec<Result<bool, String>> {
            self.batches.push(changes.len());
            changes
                .iter()
                .map(|c| {
                    let (call, addr) = match c {
                        NetChange::AddAddr(s) => {
                            (format!("add {}/{}", s.addr, s.prefix_len), Some(s.addr))
                        }
                        NetChange::DelAddr(s) => (format!("del {}", s.addr), Some(s.addr)),
                        NetChange::AddRoute(r) => {
                            (format!("add route {}/{}", r.dst, r.prefix_len), None)
                        }
                        NetChange::DelRoute(r) => {
                            (format!("del route {}/{}", r.dst, r.prefix_len), None)
                        }
                        NetChange::AddRule(_) => ("add rule".to_string(), None),
                        NetChange::DelRule(_) => ("del rule".to_string(), None),
                    };
                    self.calls.push(call);
                    match addr {
                        Some(a) if self.refuse.contains(&a) => Err("EPERM".to_string()),
                        Some(a) if self.absent.contains(&a) => Ok(false),
                        _ => Ok(true),
                    }
                })
                .collect()
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

    /// Three instances, each MASTER with `vips` VIPs and a `notify_stop` script.
    fn three_masters(vips: usize) -> (Plan, Router, Executor, Fake) {
        let mut text = String::new();
        for i in 0..3 {
            text.push_str(&format!(
                "vrrp_instance VI_{i} {{\n interface eth0\n virtual_router_id {}\n priority 150\n virtual_ipaddress {{\n",
                i + 1
            ));
            for v in 0..vips {
                text.push_str(&format!("  10.{i}.{}.{}\n", v / 250, v % 250 + 1));
            }
            text.push_str(&format!(" }}\n notify_stop /bin/stop{i}\n}}\n"));
        }
        let (plan, mut router) = setup(&text);
        let mut exec = Executor::new(plan.shells.len(), false);
        let mut os = Fake::default();
        let out = router.handle(Duration::ZERO, Target::All, Input::Start);
        exec.run(&mut os, &plan, &out);
        for _ in 0..100 {
            if router
                .instances()
                .iter()
                .all(|x| x.state() == State::Master)
            {
                break;
            }
            let (i, d) = router.next_timer().unwrap();
            let out = router.handle(d.at, Target::Instance(i), Input::Timer(d.id));
            exec.run(&mut os, &plan, &out);
        }
        os.calls.clear();
        os.batches.clear();
        (plan, router, exec, os)
    }

    #[test]
    fn shutdown_releases_every_instance_in_one_batch_before_the_scripts() {
        let (plan, mut router, mut exec, mut os) = three_masters(2);
        let out = router.handle(Duration::from_secs(10), Target::All, Input::Shutdown);
        exec.run(&mut os, &plan, &out);
        assert_eq!(os.batches, vec![6], "{:?}", os.calls);
        let adverts = os
            .calls
            .iter()
            .filter(|c| c.starts_with("advert prio 0"))
            .count();
        assert_eq!(adverts, 3);
        let last_del = os
            .calls
            .iter()
            .rposition(|c| c.starts_with("del "))
            .unwrap();
        let first_run = os.calls.iter().position(|c| c.starts_with("run ")).unwrap();
        assert!(last_del < first_run, "{:?}", os.calls);
        let runs: Vec<&String> = os.calls.iter().filter(|c| c.starts_with("run ")).collect();
        assert_eq!(runs, ["run /bin/stop0", "run /bin/stop1", "run /bin/stop2"]);
        // Each instance's own order: its advert, its VIPs, then its state and script.
        for i in 0..3 {
            let del = os
                .calls
                .iter()
                .position(|c| c == &format!("del 10.{i}.0.1"))
                .unwrap();
            let state = os
                .calls
                .iter()
                .position(|c| c == &format!("state VI_{i} STOP 150"))
                .unwrap();
            assert!(del < state, "{:?}", os.calls);
        }
        assert!(exec.take_self_removed(2, "10.1.0.2".parse().unwrap()));
    }

    #[test]
    fn each_failure_is_reported_for_its_own_address() {
        let (plan, mut router, mut exec, mut os) = three_masters(2);
        os.refuse.push("10.1.0.1".parse().unwrap());
        os.absent.push("10.2.0.2".parse().unwrap());
        let out = router.handle(Duration::from_secs(10), Target::All, Input::Shutdown);
        exec.run(&mut os, &plan, &out);
        assert_eq!(os.batches, vec![6]);
        // Removed by us: remembered, so their netlink events are not taken for someone
        // else's; refused or already absent: not.
        assert!(exec.take_self_removed(2, "10.1.0.2".parse().unwrap()));
        assert!(!exec.take_self_removed(2, "10.1.0.1".parse().unwrap()));
        assert!(!exec.take_self_removed(2, "10.2.0.2".parse().unwrap()));
        assert!(exec.take_self_removed(2, "10.2.0.1".parse().unwrap()));
    }

    #[test]
    fn a_change_after_an_instance_s_held_action_flushes_first() {
        let (plan, _, mut exec, mut os) = three_masters(1);
        let at = |i: usize, action: Action| Routed {
            source: Source::Instance(i),
            action,
        };
        let remove = |a: &str| Action::RemoveVips {
            vips: vec![a.parse().unwrap()],
            excluded: vec![],
            routes_and_rules: false,
        };
        let add = |a: &str| Action::AddVips {
            vips: vec![a.parse().unwrap()],
            excluded: vec![],
            routes_and_rules: false,
        };
        let fifo = |t: &str| Action::FifoWrite(format!("{t}\n"));
        let actions = vec![
            at(0, remove("10.0.0.1")),
            at(0, fifo("zero down")),
            at(1, remove("10.1.0.1")),
            at(1, fifo("one down")),
            at(0, add("10.0.0.1")),
            at(0, fifo("zero up")),
        ];
        exec.run(&mut os, &plan, &actions);
        assert_eq!(os.batches, vec![2, 1]);
        assert_eq!(
            os.calls,
            [
                "del 10.0.0.1",
                "del 10.1.0.1",
                "fifo zero down",
                "fifo one down",
                "add 10.0.0.1/32",
                "fifo zero up"
            ]
        );
    }

    #[test]
    fn many_vips_of_one_instance_go_in_one_batch_in_order() {
        let (plan, mut router, mut exec, mut os) = three_masters(200);
        let out = router.handle(Duration::from_secs(10), Target::All, Input::Shutdown);
        exec.run(&mut os, &plan, &out);
        assert_eq!(os.batches, vec![600]);
        let dels: Vec<&String> = os.calls.iter().filter(|c| c.starts_with("del ")).collect();
        assert_eq!(dels.first().map(|s| s.as_str()), Some("del 10.0.0.1"));
        assert_eq!(dels.get(199).map(|s| s.as_str()), Some("del 10.0.0.200"));
        assert_eq!(dels.len(), 600);
    }
}
