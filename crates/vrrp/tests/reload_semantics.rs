//! SIGHUP semantics (issue 5), on the pure router: a kept instance keeps its state, counters
//! and VIPs and changes only what differs; a MASTER advertises before any address changes; a
//! rename is the same instance; a removed MASTER sends priority 0; a priority change
//! preempts as RFC 5798 says. Two routers on a virtual LAN show what a peer sees.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_vrrp::instance::{Action, Input, InstanceParams, NotifyParams, NotifyScript, State};
use keepalived_vrrp::sync_group::{Routed, Router, Source, Target};
use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn v4(c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 9, c, d))
}

/// Instance `name`, VRID `vrid` on eth0 of node `node` (10.0.0.node), VIPs 10.9.vrid.x.
fn inst(name: &str, vrid: u8, node: u8, prio: u8, vips: &[u8]) -> InstanceParams {
    let mut p = InstanceParams::new(name, vrid, IpAddr::V4(Ipv4Addr::new(10, 0, 0, node)));
    p.interface = "eth0".into();
    p.priority = prio;
    p.vips = vips.iter().map(|&d| v4(vrid, d)).collect();
    p.notify = NotifyParams {
        master: true,
        backup: true,
        fault: true,
        stop: true,
        generic: true,
        ..Default::default()
    };
    p
}

/// Two routers on one LAN with instant delivery, the kernel addresses each holds, and the
/// trace of what every call asked for.
struct Lan {
    now: Duration,
    routers: [Router; 2],
    held: [BTreeSet<IpAddr>; 2],
    trace: Vec<(Duration, usize, Routed)>,
    /// Addresses that went away from node 0 at some point, with when.
    lost: Vec<(Duration, IpAddr)>,
}

impl Lan {
    fn new(a: Vec<InstanceParams>, b: Vec<InstanceParams>) -> Lan {
        let mut lan = Lan {
            now: Duration::ZERO,
            routers: [
                Router::new(a, vec![]).unwrap(),
                Router::new(b, vec![]).unwrap(),
            ],
            held: [BTreeSet::new(), BTreeSet::new()],
            trace: Vec::new(),
            lost: Vec::new(),
        };
        for n in 0..2 {
            lan.call(n, Target::All, Input::Start);
        }
        lan
    }

    fn call(&mut self, n: usize, target: Target, input: Input) {
        let out = self.routers[n].handle(self.now, target, input);
        self.carry_out(n, out);
    }

    fn carry_out(&mut self, n: usize, out: Vec<Routed>) {
        for r in out {
            match &r.action {
                Action::SendAdvert(adv) => {
                    let Source::Instance(i) = r.source else {
                        continue;
                    };
                    let source = self.routers[n].instances()[i].params().primary_addr;
                    let out = self.routers[1 - n].handle(
                        self.now,
                        Target::All,
                        Input::Advert {
                            advert: adv.header(),
                            source,
                        },
                    );
                    self.trace.push((self.now, n, r.clone()));
                    self.carry_out(1 - n, out);
                    continue;
                }
                Action::AddVips { vips, excluded, .. } => {
                    self.held[n].extend(vips.iter().chain(excluded));
                }
                Action::RemoveVips { vips, excluded, .. } => {
                    for a in vips.iter().chain(excluded) {
                        if self.held[n].remove(a) && n == 0 {
                            self.lost.push((self.now, *a));
                        }
                    }
                }
                _ => {}
            }
            self.trace.push((self.now, n, r));
        }
    }

    /// Runs timers up to `until`.
    fn run_until(&mut self, until: Duration) {
        loop {
            let next = (0..2)
                .filter_map(|n| {
                    self.routers[n]
                        .next_timer()
                        .map(|(i, d)| (d.at, n, i, d.id))
                })
                .min_by_key(|x| (x.0, x.1, x.2));
            match next {
                Some((at, n, i, id)) if at <= until => {
                    self.now = at;
                    self.call(n, Target::Instance(i), Input::Timer(id));
                }
                _ => break,
            }
        }
        self.now = until;
    }

    fn reload(&mut self, n: usize, instances: Vec<InstanceParams>) -> Vec<Action> {
        let outcome = self.routers[n].reload(self.now, instances, vec![]).unwrap();
        let mut all: Vec<Action> = Vec::new();
        let removed: Vec<Routed> = outcome
            .removed
            .iter()
            .flat_map(|(_, actions)| actions.iter().cloned())
            .map(|action| Routed {
                // Removed instances are outside the router: route their adverts by hand.
                source: Source::Group(usize::MAX),
                action,
            })
            .collect();
        for r in &removed {
            all.push(r.action.clone());
            match &r.action {
                Action::SendAdvert(adv) => {
                    let source = IpAddr::V4(Ipv4Addr::new(10, 0, 0, n as u8 + 1));
                    let out = self.routers[1 - n].handle(
                        self.now,
                        Target::All,
                        Input::Advert {
                            advert: adv.header(),
                            source,
                        },
                    );
                    self.carry_out(1 - n, out);
                }
                Action::RemoveVips { vips, excluded, .. } => {
                    for a in vips.iter().chain(excluded) {
                        if self.held[n].remove(a) && n == 0 {
                            self.lost.push((self.now, *a));
                        }
                    }
                }
                _ => {}
            }
        }
        all.extend(outcome.actions.iter().map(|r| r.action.clone()));
        self.carry_out(n, outcome.actions);
        all
    }

    fn state(&self, n: usize, vrid: u8) -> State {
        self.routers[n]
            .instances()
            .iter()
            .find(|i| i.params().vrid == vrid)
            .map(|i| i.state())
            .unwrap_or(State::Stop)
    }

    /// The first time node `n`'s instance of `vrid` entered `to` at or after `t`.
    fn entered(&self, n: usize, to: State, t: Duration) -> Option<Duration> {
        self.trace.iter().find_map(|(at, node, r)| match r.action {
            Action::StateChanged { to: s, .. } if *node == n && s == to && *at >= t => Some(*at),
            _ => None,
        })
    }
}

/// Node 0 MASTER (priority 150) and node 1 BACKUP (100) of VRIDs 1 and 2, settled.
fn settled() -> Lan {
    let mut lan = Lan::new(
        vec![
            inst("VI_1", 1, 1, 150, &[1, 2]),
            inst("VI_2", 2, 1, 150, &[1]),
        ],
        vec![
            inst("VI_1", 1, 2, 100, &[1, 2]),
            inst("VI_2", 2, 2, 100, &[1]),
        ],
    );
    lan.run_until(10 * SEC);
    assert_eq!(lan.state(0, 1), State::Master);
    assert_eq!(lan.state(1, 1), State::Backup);
    lan
}

fn position(actions: &[Action], f: impl Fn(&Action) -> bool) -> Option<usize> {
    actions.iter().position(f)
}

fn no_transition(actions: &[Action]) -> bool {
    !actions.iter().any(|a| {
        matches!(
            a,
            Action::StateChanged { .. } | Action::RunNotify { .. } | Action::FifoWrite(_)
        )
    })
}

// Adding a VIP to a MASTER: one advert carrying the new list comes first, then only the new
// address is added (and announced); nothing is removed, the state and counters stay.
#[test]
fn add_vip_adds_only_it_after_one_advert() {
    let mut lan = settled();
    let stats = *lan.routers[0].instances()[0].stats();
    lan.now += SEC / 3;
    let actions = lan.reload(
        0,
        vec![
            inst("VI_1", 1, 1, 150, &[1, 2, 3]),
            inst("VI_2", 2, 1, 150, &[1]),
        ],
    );
    let advert = position(&actions, |a| {
        matches!(a, Action::SendAdvert(ad) if ad.vrid == 1 && ad.addrs.len() == 3 && ad.priority == 150)
    })
    .expect("one advert with the new list");
    let add = position(
        &actions,
        |a| matches!(a, Action::AddVips { vips, .. } if vips == &vec![v4(1, 3)]),
    )
    .expect("only the new VIP added");
    assert!(advert < add);
    assert!(!actions
        .iter()
        .any(|a| matches!(a, Action::RemoveVips { .. })));
    assert!(no_transition(&actions));
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::SendGarp { addrs, .. } if addrs.contains(&v4(1, 3)))));
    // The unchanged instance does nothing (its reload advert went out when the SIGHUP
    // arrived, `Input::ReloadAdvert`, before the new configuration was read).
    assert_eq!(
        actions
            .iter()
            .filter(|a| matches!(a, Action::SendAdvert(ad) if ad.vrid == 2))
            .count(),
        0
    );
    let after = lan.routers[0].instances()[0].stats();
    assert_eq!(after.advert_sent, stats.advert_sent + 1);
    assert_eq!(after.became_master, stats.became_master);
    assert_eq!(lan.held[0].len(), 4);
    lan.run_until(30 * SEC);
    assert_eq!(lan.state(0, 1), State::Master);
    assert_eq!(lan.state(1, 1), State::Backup);
    assert!(lan.lost.is_empty(), "{:?}", lan.lost);
}

// Removing a VIP: the advert first, then exactly that address goes; the others stay.
#[test]
fn remove_vip_removes_only_it() {
    let mut lan = settled();
    lan.now += SEC / 3;
    let actions = lan.reload(
        0,
        vec![inst("VI_1", 1, 1, 150, &[1]), inst("VI_2", 2, 1, 150, &[1])],
    );
    let advert = position(
        &actions,
        |a| matches!(a, Action::SendAdvert(ad) if ad.vrid == 1 && ad.addrs == vec![v4(1, 1)]),
    )
    .unwrap();
    let remove = position(&actions, |a| {
        matches!(a, Action::RemoveVips { vips, excluded, .. } if vips == &vec![v4(1, 2)] && excluded.is_empty())
    })
    .unwrap();
    assert!(advert < remove);
    assert!(!actions.iter().any(|a| matches!(a, Action::AddVips { .. })));
    assert!(no_transition(&actions));
    assert_eq!(lan.lost, vec![(lan.now, v4(1, 2))]);
    assert!(lan.held[0].contains(&v4(1, 1)));
    lan.run_until(30 * SEC);
    assert_eq!(lan.state(0, 1), State::Master);
    assert_eq!(lan.lost.len(), 1);
}

// A renamed instance (same VRID, family, interface, mode) is the same instance: no
// transition, no notify, counters kept; with a VIP change at the same time only the
// difference is applied.
#[test]
fn rename_keeps_state_and_counters() {
    let mut lan = settled();
    let sent = lan.routers[0].instances()[0].stats().advert_sent;
    lan.now += SEC / 3;
    let actions = lan.reload(
        0,
        vec![
            inst("VI_2", 2, 1, 150, &[1]),
            inst("WEB", 1, 1, 150, &[2, 3]),
        ],
    );
    assert!(no_transition(&actions), "{actions:?}");
    let web = lan.routers[0].find("WEB").unwrap();
    assert_eq!(web, 1);
    let i = &lan.routers[0].instances()[web];
    assert_eq!(i.state(), State::Master);
    assert_eq!(i.stats().advert_sent, sent + 1);
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::RemoveVips { vips, .. } if vips == &vec![v4(1, 1)])));
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::AddVips { vips, .. } if vips == &vec![v4(1, 3)])));
    assert_eq!(lan.lost, vec![(lan.now, v4(1, 1))]);
    lan.run_until(30 * SEC);
    assert_eq!(lan.state(0, 1), State::Master);
    assert_eq!(lan.state(1, 1), State::Backup);
}

// Removing a MASTER instance: a priority-0 advert, then its VIPs go, then the FAULT notify
// (keepalived's DELETED-or-FAULT); the peer takes over after its skew time, not
// Master_Down_Interval. The other instance is untouched.
#[test]
fn removed_master_sends_priority_zero_and_peer_takes_over_in_skew() {
    let mut lan = settled();
    lan.now += SEC / 3;
    let at = lan.now;
    let actions = lan.reload(0, vec![inst("VI_2", 2, 1, 150, &[1])]);
    let zero = position(
        &actions,
        |a| matches!(a, Action::SendAdvert(ad) if ad.vrid == 1 && ad.priority == 0),
    )
    .unwrap();
    let remove = position(
        &actions,
        |a| matches!(a, Action::RemoveVips { vips, .. } if vips == &vec![v4(1, 1), v4(1, 2)]),
    )
    .unwrap();
    assert!(zero < remove);
    assert!(actions.iter().any(|a| matches!(
        a,
        Action::RunNotify { script: NotifyScript::Generic, args } if args[2] == "FAULT"
    )));
    assert!(!actions.iter().any(|a| matches!(
        a,
        Action::RunNotify {
            script: NotifyScript::Stop,
            ..
        }
    )));
    assert_eq!(lan.routers[0].instances().len(), 1);
    lan.run_until(at + 2 * SEC);
    let took = lan.entered(1, State::Master, at).unwrap() - at;
    // Skew of priority 100: (256 - 100) / 256 s = 609.375 ms.
    assert_eq!(took, Duration::from_micros(609_375));
    assert_eq!(lan.state(1, 1), State::Master);
    assert_eq!(lan.state(0, 2), State::Master);
    assert_eq!(lan.state(1, 2), State::Backup);
}

// Removing a BACKUP instance sends nothing on the wire and removes nothing.
#[test]
fn removed_backup_is_silent_on_the_wire() {
    let mut lan = settled();
    lan.now += SEC / 3;
    let actions = lan.reload(1, vec![inst("VI_2", 2, 2, 100, &[1])]);
    assert!(!actions
        .iter()
        .any(|a| matches!(a, Action::SendAdvert(_) | Action::RemoveVips { .. })));
    assert_eq!(lan.state(1, 2), State::Backup);
}

// Raising a BACKUP's priority above the MASTER's: RFC 5798 6.4.2 with preemption, the
// backup discards the lower-priority adverts and takes over when its down timer expires
// (Master_Down_Interval for the new priority); the old master yields at the first advert.
#[test]
fn priority_raise_preempts_after_master_down() {
    let mut lan = settled();
    lan.now += SEC / 3;
    let at = lan.now;
    let actions = lan.reload(
        1,
        vec![
            inst("VI_1", 1, 2, 200, &[1, 2]),
            inst("VI_2", 2, 2, 100, &[1]),
        ],
    );
    assert!(no_transition(&actions));
    assert_eq!(lan.routers[1].instances()[0].effective_priority(), 200);
    lan.run_until(at + 6 * SEC);
    let took = lan.entered(1, State::Master, at).unwrap() - at;
    // The last advert of the master came at most one interval before; 3 x 1 s + skew(200).
    assert!(took <= 3 * SEC + Duration::from_micros(218_750), "{took:?}");
    assert!(took > 2 * SEC, "{took:?}");
    assert_eq!(lan.state(1, 1), State::Master);
    assert_eq!(lan.state(0, 1), State::Backup);
    assert_eq!(lan.state(0, 2), State::Master);
}

// Lowering a MASTER's priority below its BACKUP's: the reload advert carries the new
// priority; the backup (preempting) ignores the lower adverts and takes over after its down
// timer.
#[test]
fn priority_drop_lets_the_backup_preempt() {
    let mut lan = settled();
    lan.now += SEC / 3;
    let at = lan.now;
    let actions = lan.reload(
        0,
        vec![
            inst("VI_1", 1, 1, 50, &[1, 2]),
            inst("VI_2", 2, 1, 150, &[1]),
        ],
    );
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::SendAdvert(ad) if ad.vrid == 1 && ad.priority == 50)));
    assert!(!actions
        .iter()
        .any(|a| matches!(a, Action::RemoveVips { .. } | Action::AddVips { .. })));
    lan.run_until(at + 6 * SEC);
    assert_eq!(lan.state(1, 1), State::Master);
    assert_eq!(lan.state(0, 1), State::Backup);
    assert!(lan.entered(1, State::Master, at).unwrap() - at <= 4 * SEC);
}

// A VIP moving from one MASTER instance to another in a single reload is never removed.
#[test]
fn vip_moving_between_masters_stays() {
    let mut lan = settled();
    lan.now += SEC / 3;
    // 10.9.1.2 moves from VI_1 to VI_2 (listed first, so its add would come first).
    let mut vi2 = inst("VI_2", 2, 1, 150, &[1]);
    vi2.vips.push(v4(1, 2));
    let actions = lan.reload(0, vec![vi2, inst("VI_1", 1, 1, 150, &[1])]);
    assert!(
        !actions
            .iter()
            .any(|a| matches!(a, Action::RemoveVips { vips, .. } if vips.contains(&v4(1, 2)))),
        "{actions:?}"
    );
    assert!(lan.held[0].contains(&v4(1, 2)));
    assert!(lan.lost.is_empty());
}

// A new instance in a reload starts as at start-up: BACKUP (init), then MASTER after its
// down timer when nobody else is master.
#[test]
fn new_instance_starts_as_usual() {
    let mut lan = settled();
    lan.now += SEC / 3;
    let at = lan.now;
    let actions = lan.reload(
        0,
        vec![
            inst("VI_1", 1, 1, 150, &[1, 2]),
            inst("VI_2", 2, 1, 150, &[1]),
            inst("VI_3", 3, 1, 150, &[1]),
        ],
    );
    assert!(actions.iter().any(|a| matches!(
        a,
        Action::StateChanged {
            from: State::Init,
            to: State::Backup,
            ..
        }
    )));
    lan.run_until(at + 5 * SEC);
    assert_eq!(lan.state(0, 3), State::Master);
    assert!(lan.held[0].contains(&v4(3, 1)));
}

// 100 reloads in a row, alternating between a config with an extra VIP and a changed
// priority and the original: the MASTER never leaves MASTER, never removes an address that
// stays, the backup never takes over, and the counters only grow.
#[test]
fn hundred_reloads_lose_nothing() {
    let mut lan = settled();
    let a = vec![
        inst("VI_1", 1, 1, 150, &[1, 2]),
        inst("VI_2", 2, 1, 150, &[1]),
    ];
    let b = vec![
        inst("VI_1", 1, 1, 140, &[1, 2, 3]),
        inst("VI_2", 2, 1, 160, &[1]),
    ];
    let mut sent = 0;
    for k in 0..100 {
        lan.run_until(lan.now + Duration::from_millis(7));
        let actions = lan.reload(0, if k % 2 == 0 { b.clone() } else { a.clone() });
        assert!(no_transition(&actions), "reload {k}: {actions:?}");
        let now_sent = lan.routers[0].instances()[0].stats().advert_sent;
        assert!(now_sent > sent);
        sent = now_sent;
    }
    lan.run_until(lan.now + 10 * SEC);
    // Only 10.9.1.3 ever went away (50 times), never an address of both configs.
    assert_eq!(lan.lost.len(), 50);
    assert!(lan.lost.iter().all(|(_, a)| *a == v4(1, 3)));
    assert_eq!(lan.state(0, 1), State::Master);
    assert_eq!(lan.state(0, 2), State::Master);
    assert_eq!(lan.state(1, 1), State::Backup);
    assert_eq!(lan.state(1, 2), State::Backup);
    assert_eq!(lan.entered(1, State::Master, Duration::ZERO), None);
    assert_eq!(lan.routers[0].instances()[0].stats().became_master, 1);
}
