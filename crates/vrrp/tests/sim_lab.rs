//! The lab measurements of keepalived 2.2.7 (`lab-observations.md`), replayed on the simulator
//! with a 0.1-0.3 ms LAN: each test quotes the figure it reproduces.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sim;

use keepalived_vrrp::instance::State;
use keepalived_vrrp::Version;
use sim::*;
use std::time::Duration;

fn us(u: u64) -> Duration {
    Duration::from_micros(u)
}

// Lab: all nodes `state BACKUP`, nothing is sent until the highest node's own
// Master_Down_Interval expires (3 * 1 + (256-150)/256 = 3.414 s); then it sends an advert.
#[test]
fn election_waits_for_own_master_down() {
    let mut sim = lan(&[150, 100], Version::V2, 1);
    sim.start_all();
    sim.run_until(secs(10));
    assert!(sim.sent.iter().all(|s| s.node == 0), "a backup never sends");
    let first = sim.sent.first().unwrap();
    assert_eq!(first.at, us(3_414_062));
    assert_eq!(sim.masters(1), vec![0]);
    assert_eq!(sim.state(1, 0), State::Backup);
}

// Lab: kill -9 of the master, the backup's first advert comes 3609.4 ms (protocol) after the
// master's last one (3 x 1 s + (256-100)/256 s), plus the LAN delay of that last advert.
#[test]
fn crash_failover_is_master_down_after_last_advert() {
    let mut sim = lan(&[150, 100], Version::V2, 2);
    sim.start_all();
    sim.run_until(secs(10));
    let crash = secs(10) + ms(500);
    sim.schedule(crash, Op::Crash(0));
    sim.run_until(secs(20));
    let last = sim.sent.iter().rfind(|s| s.node == 0).unwrap().at;
    let first_b = sim.sent.iter().find(|s| s.node == 1).unwrap().at;
    let gap = first_b - last;
    assert!(
        gap >= us(3_609_375 + 100) && gap <= us(3_609_375 + 300),
        "gap {gap:?}"
    );
    assert_eq!(sim.masters(1), vec![1]);
    // The crashed master keeps its VIP (nothing removes it).
    assert!(sim.nodes[0].vips.contains(&vip(1)));
}

// Lab: SIGTERM, priority-0 advert at once; the backup takes over skew (609.4 ms) later.
#[test]
fn graceful_stop_hands_over_after_skew() {
    let mut sim = lan(&[150, 100], Version::V2, 3);
    sim.start_all();
    sim.run_until(secs(10));
    sim.schedule(secs(10) + ms(300), Op::Stop(0));
    sim.run_until(secs(15));
    let zero = sim.sent.iter().find(|s| s.priority == 0).unwrap();
    assert_eq!(zero.node, 0);
    assert_eq!(zero.at, secs(10) + ms(300));
    let took = sim.first_entry_after(1, State::Master, zero.at).unwrap();
    let gap = took - zero.at;
    assert!(
        gap >= us(609_375 + 100) && gap <= us(609_375 + 300),
        "gap {gap:?}"
    );
    assert!(sim.nodes[0].vips.is_empty());
}

// Lab: a restarted higher-priority node discards the lower-priority adverts and takes over
// when its own down timer expires (~3.4 s); the old master gives up at its first advert.
#[test]
fn restarted_higher_priority_preempts_after_its_down_timer() {
    let mut sim = lan(&[150, 100], Version::V2, 4);
    sim.start_all();
    sim.schedule(secs(5), Op::Crash(0));
    sim.run_until(secs(12));
    assert_eq!(sim.masters(1), vec![1]);
    sim.schedule(secs(12), Op::Restart(0));
    sim.run_until(secs(20));
    let took = sim.first_entry_after(0, State::Master, secs(12)).unwrap();
    assert_eq!(took, secs(12) + us(3_414_062));
    let gave_up = sim.first_entry_after(1, State::Backup, secs(12)).unwrap();
    assert!(gave_up - took <= ms(1));
    assert_eq!(sim.masters(1), vec![0]);
}

// Lab (VRRPv3, advert_int 0.1 / 0.02 s): kill -9 failover in 360.9 / 72.1 ms, i.e. the
// protocol's master_down.
#[test]
fn v3_fast_intervals_fail_over_at_master_down() {
    for (adv, down) in [(ms(100), us(360_937)), (ms(20), us(72_187))] {
        let specs = [150u8, 100]
            .iter()
            .enumerate()
            .map(|(n, &p)| {
                let mut params = instance("VI_1", 1, n, p);
                params.version = Version::V3;
                params.advert_interval = adv;
                NodeSpec::single(params)
            })
            .collect();
        let mut sim = Sim::new(specs, 5);
        sim.delay = (Duration::ZERO, Duration::ZERO);
        sim.start_all();
        sim.run_until(secs(3));
        sim.schedule(secs(3) + us(1), Op::Crash(0));
        sim.run_until(secs(5));
        let last = sim.sent.iter().rfind(|s| s.node == 0).unwrap().at;
        let first_b = sim.sent.iter().find(|s| s.node == 1).unwrap().at;
        assert_eq!(first_b - last, down);
    }
}

// Lab: split brain (adverts cut), both become MASTER; after the heal the first advert of the
// higher node makes the other give up at once.
#[test]
fn split_brain_heals_at_next_advert() {
    let mut sim = lan(&[150, 100], Version::V2, 6);
    sim.start_all();
    sim.run_until(secs(6));
    sim.apply(Op::Cut(0, 1, true));
    sim.run_until(secs(12));
    assert_eq!(sim.masters(1), vec![0, 1]);
    sim.apply(Op::Heal);
    sim.run_until(secs(13) + ms(10));
    assert_eq!(sim.masters(1), vec![0]);
    let gave_up = sim.first_entry_after(1, State::Backup, secs(12)).unwrap();
    assert!(gave_up - secs(12) <= secs(1) + ms(1));
}

// Lab: track_script weight -60 on the 150 master: its next advert carries 90; the backup
// (100) discards those and takes over when its down timer runs out (3.609 s after the last
// 150 advert). When the script recovers, the old master preempts after its own down timer
// (3.414 s after the last advert it accepted).
#[test]
fn track_script_weight_moves_the_master_and_back() {
    use keepalived_vrrp::instance::{Input, Tracker, TrackerKind, TrackerValue};
    use keepalived_vrrp::sync_group::Target;
    let specs = [150u8, 100]
        .iter()
        .enumerate()
        .map(|(n, &p)| {
            let mut params = instance("VI_1", 1, n, p);
            params.trackers = vec![Tracker {
                kind: TrackerKind::Script,
                name: "chk".into(),
                weight: -60,
                reverse: false,
                initial: TrackerValue::Up(true),
            }];
            NodeSpec::single(params)
        })
        .collect();
    let mut sim = Sim::new(specs, 7);
    sim.start_all();
    sim.run_until(secs(10));
    let fail = secs(10) + ms(250);
    let script = |up| Input::Tracker {
        kind: TrackerKind::Script,
        name: "chk".into(),
        value: TrackerValue::Up(up),
    };
    sim.schedule(fail, Op::Inject(0, Target::All, script(false)));
    sim.run_until(secs(20));
    let last150 = sim
        .sent
        .iter()
        .rfind(|s| s.node == 0 && s.priority == 150)
        .unwrap()
        .at;
    let next = sim
        .sent
        .iter()
        .find(|s| s.node == 0 && s.at > fail)
        .unwrap();
    assert_eq!(next.priority, 90);
    assert!(next.at - fail <= secs(1));
    let took = sim.first_entry_after(1, State::Master, fail).unwrap();
    let gap = took - last150;
    assert!(
        gap >= us(3_609_375 + 100) && gap <= us(3_609_375 + 300),
        "{gap:?}"
    );
    assert_eq!(sim.state(0, 0), State::Backup);

    let back = secs(20) + ms(400);
    sim.schedule(back, Op::Inject(0, Target::All, script(true)));
    sim.run_until(secs(30));
    let retook = sim.first_entry_after(0, State::Master, back).unwrap();
    assert!(retook - back <= us(3_414_062) && retook - back >= us(2_414_062));
    assert_eq!(sim.masters(1), vec![0]);
}
