//! Property tests on the simulator: random LANs, random chaos (crashes, restarts, loss,
//! partitions, link flaps, graceful stops), then the guarantees keepalived gives.
//! About 2,400 random runs in total.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sim;

use keepalived_vrrp::instance::{Input, State};
use keepalived_vrrp::sync_group::{SyncGroupParams, Target};
use keepalived_vrrp::timer::{master_down, skew};
use keepalived_vrrp::Version;
use proptest::prelude::*;
use sim::*;
use std::time::Duration;

/// A LAN shape: node i has priority `prios[i]`.
#[derive(Debug, Clone)]
struct Lan {
    prios: Vec<u8>,
    version: Version,
    adv: Duration,
    seed: u64,
}

fn lan_strategy(min_nodes: usize, max_nodes: usize) -> impl Strategy<Value = Lan> {
    (
        proptest::collection::btree_set(1u8..=254, min_nodes..=max_nodes),
        any::<bool>(),
        1u64..=3,
        20u64..=200,
        any::<u64>(),
    )
        .prop_map(|(set, v3, adv_s, adv_cs, seed)| {
            let mut prios: Vec<u8> = set.into_iter().collect();
            // Shuffle so the highest priority is not always the highest address.
            let mut rng = XorShift::new(seed);
            for i in (1..prios.len()).rev() {
                let j = rng.range(0, i as u64) as usize;
                prios.swap(i, j);
            }
            let (version, adv) = if v3 {
                (Version::V3, Duration::from_millis(adv_cs * 10))
            } else {
                (Version::V2, secs(adv_s))
            };
            Lan {
                prios,
                version,
                adv,
                seed,
            }
        })
}

impl Lan {
    fn sim(&self, tweak: impl Fn(usize, &mut keepalived_vrrp::instance::InstanceParams)) -> Sim {
        let specs = self
            .prios
            .iter()
            .enumerate()
            .map(|(n, &p)| {
                let mut params = instance("VI_1", 1, n, p);
                params.version = self.version;
                params.advert_interval = self.adv;
                tweak(n, &mut params);
                NodeSpec::single(params)
            })
            .collect();
        let mut sim = Sim::new(specs, self.seed);
        sim.record_trace = false;
        sim
    }

    fn down(&self, prio: u8) -> Duration {
        master_down(self.version, prio, self.adv, 3)
    }

    fn skew(&self, prio: u8) -> Duration {
        skew(self.version, prio, self.adv)
    }

    fn lowest(&self) -> u8 {
        *self.prios.iter().min().unwrap()
    }

    /// Node with the highest priority among `alive`.
    fn best(&self, alive: impl Fn(usize) -> bool) -> usize {
        (0..self.prios.len())
            .filter(|&n| alive(n))
            .max_by_key(|&n| self.prios[n])
            .unwrap()
    }

    /// Runs until the highest node is the single master.
    fn converge(&self, sim: &mut Sim) {
        sim.start_all();
        sim.run_until(self.down(self.lowest()) + self.adv * 2 + ms(5));
    }
}

const MAX_DELAY: Duration = Duration::from_micros(300);

/// Random chaos for `span` from `start`: crashes, restarts, stops, loss, cuts, link flaps.
fn chaos(sim: &mut Sim, nodes: usize, start: Duration, span: Duration, seed: u64) {
    let mut rng = XorShift::new(seed ^ 0x5eed);
    let events = rng.range(3, 12);
    for _ in 0..events {
        let at = start + Duration::from_millis(rng.range(0, span.as_millis() as u64));
        let n = rng.range(0, nodes as u64 - 1) as usize;
        let m = rng.range(0, nodes as u64 - 1) as usize;
        let op = match rng.range(0, 7) {
            0 => Op::Crash(n),
            1 => Op::Restart(n),
            2 => Op::Stop(n),
            3 => Op::Loss(rng.range(0, 600) as u32),
            4 if n != m => Op::Cut(n, m, true),
            5 => Op::Inject(n, Target::All, Input::Link { up: false }),
            6 => Op::Inject(n, Target::All, Input::Link { up: true }),
            _ => Op::Cut(n, m, false),
        };
        sim.schedule(at, op);
    }
}

/// Ends the chaos at `at`: heal the LAN, links up, restart what is down.
fn stabilise(sim: &mut Sim, at: Duration) {
    sim.run_until(at);
    sim.apply(Op::Heal);
    for n in 0..sim.nodes.len() {
        if sim.nodes[n].alive {
            sim.apply(Op::Inject(n, Target::All, Input::Link { up: true }));
        } else {
            sim.apply(Op::Restart(n));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 600, failure_persistence: None, ..ProptestConfig::default() })]

    // RFC 5798 / keepalived: once the network is stable for Master_Down_Interval plus one
    // advert, exactly one router is MASTER and it has the highest priority.
    #[test]
    fn one_master_highest_after_stability(lan in lan_strategy(2, 5)) {
        let mut sim = lan.sim(|_, _| {});
        sim.start_all();
        let chaos_end = secs(12);
        chaos(&mut sim, lan.prios.len(), ms(100), chaos_end - ms(200), lan.seed);
        stabilise(&mut sim, chaos_end);
        let settle = lan.down(lan.lowest()) + lan.adv + MAX_DELAY * 2 + ms(1);
        sim.run_until(chaos_end + settle);
        let best = lan.best(|_| true);
        prop_assert_eq!(sim.masters(1), vec![best]);
        // and it stays so
        sim.run_for(lan.adv * 3);
        prop_assert_eq!(sim.masters(1), vec![best]);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    // RFC 5798 6.4.2: a backup takes over at most Master_Down_Interval after the master's
    // last advert, so no later than master_down (+ LAN delay) after a crash.
    #[test]
    fn backup_takes_over_within_master_down(lan in lan_strategy(2, 5), offset_ms in 0u64..3000) {
        let mut sim = lan.sim(|_, _| {});
        lan.converge(&mut sim);
        let master = lan.best(|_| true);
        prop_assert_eq!(sim.masters(1), vec![master]);
        let crash = sim.now + ms(offset_ms);
        sim.schedule(crash, Op::Crash(master));
        let next = lan.best(|n| n != master);
        sim.run_until(crash + lan.down(lan.lowest()) * 2 + lan.adv * 2);
        let first = sim
            .transitions
            .iter()
            .find(|t| t.at >= crash && t.to == State::Master)
            .unwrap();
        prop_assert!(first.at <= crash + lan.down(lan.prios[next]) + MAX_DELAY);
        prop_assert_eq!(sim.masters(1), vec![next]);
    }

    // keepalived: a graceful stop sends priority 0; the best backup takes over after its
    // Skew_Time, well within skew + one advert.
    #[test]
    fn graceful_stop_hands_over_within_skew(lan in lan_strategy(2, 5), offset_ms in 0u64..3000) {
        let mut sim = lan.sim(|_, _| {});
        lan.converge(&mut sim);
        let master = lan.best(|_| true);
        let stop = sim.now + ms(offset_ms);
        sim.schedule(stop, Op::Stop(master));
        let next = lan.best(|n| n != master);
        sim.run_until(stop + lan.down(lan.lowest()) + lan.adv);
        let first = sim
            .transitions
            .iter()
            .find(|t| t.at >= stop && t.to == State::Master)
            .unwrap();
        prop_assert!(first.at <= stop + lan.skew(lan.prios[next]) + MAX_DELAY);
        prop_assert!(first.at <= stop + lan.skew(lan.prios[next]) + lan.adv);
        prop_assert_eq!(first.node, next);
        prop_assert_eq!(sim.masters(1), vec![next]);
    }

    // keepalived `nopreempt`: a higher-priority backup never takes the VIP back from a live
    // master.
    #[test]
    fn nopreempt_never_takes_back(lan in lan_strategy(2, 4), back_ms in 0u64..5000) {
        let mut sim = lan.sim(|_, p| p.nopreempt = true);
        lan.converge(&mut sim);
        let top = lan.best(|_| true);
        let crash = sim.now;
        sim.apply(Op::Crash(top));
        sim.run_until(crash + lan.down(lan.lowest()) + lan.adv + ms(1));
        let holder = sim.masters(1);
        prop_assert_eq!(holder.len(), 1);
        let restart = sim.now + ms(back_ms);
        sim.schedule(restart, Op::Restart(top));
        sim.run_until(restart + secs(30));
        prop_assert!(sim.first_entry_after(top, State::Master, restart).is_none());
        prop_assert!(!sim.nodes[top].vips.contains(&vip(1)));
        prop_assert_eq!(sim.masters(1), holder);
    }

    // keepalived `preempt_delay`: the delay starts at the first lower-priority advert after
    // start; adverts are accepted during it; the takeover follows its own down timer.
    #[test]
    fn preempt_delay_waits(lan in lan_strategy(2, 4), delay_s in 1u64..10, back_ms in 0u64..3000) {
        let delay = secs(delay_s);
        let mut sim = lan.sim(|_, p| p.preempt_delay = delay);
        lan.converge(&mut sim);
        let top = lan.best(|_| true);
        sim.apply(Op::Crash(top));
        sim.run_until(sim.now + lan.down(lan.lowest()) + lan.adv + ms(1));
        let restart = sim.now + ms(back_ms);
        sim.schedule(restart, Op::Restart(top));
        sim.run_until(restart + delay + lan.adv * 2 + lan.down(lan.prios[top]) + ms(2));
        let took = sim.first_entry_after(top, State::Master, restart).unwrap();
        prop_assert!(took >= restart + delay, "took {:?} restart {:?}", took, restart);
        prop_assert!(took <= restart + delay + lan.adv + lan.down(lan.prios[top]) + ms(1));
        prop_assert_eq!(sim.masters(1), vec![top]);
    }

    // Equal priorities: the higher primary address wins among equals, and there is always
    // exactly one master with the top priority.
    #[test]
    fn ties_converge_to_one_top_master(n in 2usize..5, prio in 1u8..=254, seed in any::<u64>()) {
        let lan = Lan { prios: vec![prio; n], version: Version::V2, adv: secs(1), seed };
        let mut sim = lan.sim(|_, _| {});
        lan.converge(&mut sim);
        sim.run_for(secs(3));
        prop_assert_eq!(sim.masters(1).len(), 1);
    }
}

/// Two routers, each with two instances (VRIDs 1 and 2) in one sync group.
fn group_sim(prios: [u8; 2], adv: Duration, seed: u64) -> Sim {
    let specs = (0..2)
        .map(|n| {
            let mut a = instance("VI_1", 1, n, prios[n]);
            let mut b = instance("VI_2", 2, n, prios[n]);
            a.advert_interval = adv;
            b.advert_interval = adv;
            NodeSpec {
                instances: vec![a, b],
                groups: vec![SyncGroupParams {
                    name: "SG1".into(),
                    members: vec!["VI_1".into(), "VI_2".into()],
                    notify: Default::default(),
                }],
            }
        })
        .collect();
    let mut sim = Sim::new(specs, seed);
    sim.record_trace = false;
    sim
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, failure_persistence: None, ..ProptestConfig::default() })]

    // keepalived sync groups: members are never split between MASTER and BACKUP (here: not
    // for longer than one advert interval), and after the chaos the better router holds both.
    #[test]
    fn sync_group_members_never_split(
        p0 in 2u8..=254, p1 in 1u8..=253, adv_s in 1u64..=2, seed in any::<u64>()
    ) {
        prop_assume!(p0 != p1);
        let adv = secs(adv_s);
        let mut sim = group_sim([p0, p1], adv, seed);
        sim.start_all();
        let mut rng = XorShift::new(seed);
        for _ in 0..rng.range(3, 10) {
            let at = ms(rng.range(0, 15_000));
            let n = rng.range(0, 1) as usize;
            let i = rng.range(0, 1) as usize;
            let op = match rng.range(0, 6) {
                0 => Op::Crash(n),
                1 => Op::Restart(n),
                2 => Op::Inject(n, Target::Instance(i), Input::Link { up: false }),
                3 => Op::Inject(n, Target::Instance(i), Input::Link { up: true }),
                4 => Op::Loss(rng.range(0, 700) as u32),
                5 => Op::Cut(0, 1, true),
                _ => Op::Stop(n),
            };
            sim.schedule(at, op);
        }
        let end = secs(16);
        let mut split_since: [Option<Duration>; 2] = [None, None];
        let step = ms(10);
        let mut t = Duration::ZERO;
        while t < end {
            t += step;
            sim.run_until(t);
            for (n, since) in split_since.iter_mut().enumerate() {
                let states: Vec<State> = (0..2).map(|i| sim.state(n, i)).collect();
                let split = states.contains(&State::Master) && states.contains(&State::Backup);
                match (split, *since) {
                    (true, None) => *since = Some(t),
                    (true, Some(s)) => prop_assert!(t - s <= adv, "node {} split since {:?}", n, s),
                    (false, _) => *since = None,
                }
            }
        }
        stabilise(&mut sim, end);
        for n in 0..2 {
            for i in 0..2 {
                sim.apply(Op::Inject(n, Target::Instance(i), Input::Link { up: true }));
            }
        }
        let low = p0.min(p1);
        sim.run_until(end + master_down(Version::V2, low, adv, 3) * 2 + adv * 2 + ms(2));
        let best = if p0 > p1 { 0 } else { 1 };
        prop_assert_eq!(sim.masters(1), vec![best]);
        prop_assert_eq!(sim.masters(2), vec![best]);
        prop_assert_eq!(sim.nodes[best].router.groups()[0].state(), State::Master);
        prop_assert_eq!(sim.nodes[1 - best].router.groups()[0].state(), State::Backup);
    }
}
