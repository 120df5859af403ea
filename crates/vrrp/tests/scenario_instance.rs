//! One scenario per keepalived behaviour of a single instance, in holo's conformance style:
//! a spec comment (what keepalived / RFC 5798 says), then a few lines driving the pure state
//! machine and checking its actions.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_vrrp::instance::{
    Action, InitialState, Input, Instance, InstanceParams, NotifyParams, NotifyScript, State,
    Tracker, TrackerKind, TrackerValue,
};
use keepalived_vrrp::timer::{TimerId, TimerKind};
use keepalived_vrrp::{Advert, Auth, Version};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn us(u: u64) -> Duration {
    Duration::from_micros(u)
}

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

fn vip() -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 9, 0, 1))
}

/// Our instance: 10.0.0.5, VRID 1, priority `prio`, one VIP, every notify configured.
fn params(prio: u8) -> InstanceParams {
    let mut p = InstanceParams::new("VI_1", 1, ip(5));
    p.priority = prio;
    p.vips = vec![vip()];
    p.notify = NotifyParams {
        master: true,
        backup: true,
        fault: true,
        stop: true,
        generic: true,
        master_rx_lower_pri: true,
        fifo: true,
        priority_changes: false,
    };
    p
}

fn advert(version: Version, prio: u8, interval: Duration) -> Advert {
    Advert {
        version,
        vrid: 1,
        priority: prio,
        interval,
        addrs: vec![vip()],
        auth: Auth::None,
    }
}

fn rx(inst: &mut Instance, now: Duration, prio: u8, from: u8) -> Vec<Action> {
    let version = inst.params().version;
    inst.handle(
        now,
        Input::Advert {
            advert: advert(version, prio, SEC).header(),
            source: ip(from),
        },
    )
}

/// Fires the next timer; returns its time and the actions.
fn fire(inst: &mut Instance) -> (Duration, Vec<Action>) {
    let d = inst.next_timer().expect("a timer is armed");
    (d.at, inst.handle(d.at, Input::Timer(d.id)))
}

fn started(p: InstanceParams) -> Instance {
    let mut inst = Instance::new(p);
    inst.handle(Duration::ZERO, Input::Start);
    inst
}

/// A MASTER (became master at 3.609375 s for priority 100).
fn master(p: InstanceParams) -> (Instance, Duration) {
    let mut inst = started(p);
    let (at, _) = fire(&mut inst);
    assert_eq!(inst.state(), State::Master);
    (inst, at)
}

fn logs(actions: &[Action]) -> Vec<&str> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Log { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

fn adverts(actions: &[Action]) -> Vec<u8> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::SendAdvert(ad) => Some(ad.priority),
            _ => None,
        })
        .collect()
}

fn notifies(actions: &[Action]) -> Vec<(NotifyScript, Vec<String>)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::RunNotify { script, args } => Some((*script, args.clone())),
            _ => None,
        })
        .collect()
}

fn args(s: &[&str]) -> Vec<String> {
    s.iter().map(|x| x.to_string()).collect()
}

/// Compact names of the actions, for order checks.
fn kinds(actions: &[Action]) -> Vec<&'static str> {
    actions
        .iter()
        .map(|a| match a {
            Action::SendAdvert(_) => "advert",
            Action::AddVips { .. } => "add",
            Action::RemoveVips { .. } => "remove",
            Action::SendGarp { .. } => "garp",
            Action::RunNotify { .. } => "notify",
            Action::FifoWrite(_) => "fifo",
            Action::Log { .. } => "log",
            Action::StateChanged { .. } => "state",
        })
        .collect()
}

// keepalived vrrp_init_state: every non-MASTER instance enters BACKUP "(init)", runs its
// notifies, and arms Master_Down_Interval = 3 * adv + skew (v2 prio 100: 3.609375 s).
#[test]
fn start_reports_backup_init() {
    let mut inst = Instance::new(params(100));
    let out = inst.handle(Duration::ZERO, Input::Start);
    assert_eq!(inst.state(), State::Backup);
    assert_eq!(logs(&out), vec!["(VI_1) Entering BACKUP STATE (init)"]);
    assert_eq!(
        notifies(&out),
        vec![
            (NotifyScript::Backup, vec![]),
            (
                NotifyScript::Generic,
                args(&["INSTANCE", "VI_1", "BACKUP", "100"])
            ),
        ]
    );
    assert!(out.contains(&Action::FifoWrite("INSTANCE \"VI_1\" BACKUP 100\n".into())));
    assert_eq!(inst.next_deadline(), Some(us(3_609_375)));
    assert!(adverts(&out).is_empty(), "a backup sends nothing");
}

// keepalived vrrp_init_state: an owner (priority 255) configured `state MASTER` times out of
// BACKUP after 1 µs, without a BACKUP report, so it is master at once.
#[test]
fn owner_with_state_master_is_master_at_once() {
    let mut p = params(255);
    p.initial_state = InitialState::Master;
    let mut inst = Instance::new(p);
    let out = inst.handle(Duration::ZERO, Input::Start);
    assert!(notifies(&out).is_empty());
    let (at, out) = fire(&mut inst);
    assert_eq!(at, us(1));
    assert_eq!(inst.state(), State::Master);
    assert_eq!(adverts(&out), vec![255]);
}

// keepalived vrrp_state_goto_master / become_master: the advert goes out first, then the
// VIPs, then garp_master_repeat GARPs, then the notifies (specific, generic, FIFO); a second
// burst follows garp_master_delay later, and adverts every advert_int.
#[test]
fn becoming_master_order_and_garp_bursts() {
    let mut inst = started(params(100));
    let (at, out) = fire(&mut inst);
    assert_eq!(at, us(3_609_375));
    assert_eq!(
        kinds(&out),
        vec!["state", "advert", "log", "add", "garp", "notify", "notify", "fifo"]
    );
    assert!(out.contains(&Action::SendGarp {
        addrs: vec![vip()],
        repeat: 5
    }));
    assert_eq!(logs(&out), vec!["(VI_1) Entering MASTER STATE"]);
    assert_eq!(inst.stats().became_master, 1);
    // adverts every second; the second GARP burst 5 s after the first
    let mut garps = vec![];
    let mut sent = vec![];
    while let Some(d) = inst.next_timer() {
        if d.at > at + 6 * SEC {
            break;
        }
        let out = inst.handle(d.at, Input::Timer(d.id));
        if out.iter().any(|a| matches!(a, Action::SendGarp { .. })) {
            garps.push(d.at - at);
        }
        if !adverts(&out).is_empty() {
            sent.push(d.at - at);
        }
    }
    assert_eq!(garps, vec![5 * SEC]);
    assert_eq!(sent, (1..=6).map(|s| s * SEC).collect::<Vec<_>>());
}

// keepalived garp_master_refresh: a periodic burst of garp_master_refresh_repeat while MASTER.
#[test]
fn garp_master_refresh_is_periodic() {
    let mut p = params(100);
    p.garp.master_refresh = 10 * SEC;
    p.garp.refresh_repeat = 2;
    p.garp.master_delay = Duration::ZERO;
    let (mut inst, at) = master(p);
    let mut refreshes = vec![];
    while let Some(d) = inst.next_timer() {
        if d.at > at + 25 * SEC {
            break;
        }
        for a in inst.handle(d.at, Input::Timer(d.id)) {
            if let Action::SendGarp { repeat, .. } = a {
                refreshes.push((d.at - at, repeat));
            }
        }
    }
    assert_eq!(refreshes, vec![(10 * SEC, 2), (20 * SEC, 2)]);
}

// RFC 5798 6.4.2 / keepalived: a BACKUP receiving priority 0 sets its down timer to Skew_Time.
#[test]
fn backup_priority_zero_waits_skew_only() {
    let mut inst = started(params(100));
    let out = rx(&mut inst, SEC, 0, 9);
    assert_eq!(
        logs(&out),
        vec!["(VI_1) Backup received priority 0 advertisement"]
    );
    assert_eq!(inst.next_deadline(), Some(SEC + us(609_375)));
    assert_eq!(inst.stats().pri_zero_rcvd, 1);
    fire(&mut inst);
    assert_eq!(inst.state(), State::Master);
}

// RFC 5798 6.4.3 / keepalived: a MASTER receiving priority 0 answers with an advert at once.
#[test]
fn master_answers_priority_zero_at_once() {
    let (mut inst, at) = master(params(100));
    let out = rx(&mut inst, at + us(10), 0, 9);
    assert_eq!(adverts(&out), vec![100]);
    assert_eq!(inst.state(), State::Master);
}

// keepalived (not RFC): a MASTER hearing a lower priority logs "forcing new election", sends an
// advert at once, repeats its GARPs (garp_lower_prio_repeat, and again after
// garp_lower_prio_delay) and runs notify_master_rx_lower_pri.
#[test]
fn master_hearing_lower_priority_forces_election() {
    let (mut inst, at) = master(params(100));
    let now = at + us(500);
    let out = rx(&mut inst, now, 90, 9);
    assert_eq!(
        logs(&out),
        vec!["(VI_1) Received advert from 10.0.0.9 with lower priority 90, ours 100, forcing new election"]
    );
    assert_eq!(adverts(&out), vec![100]);
    assert!(out.contains(&Action::SendGarp {
        addrs: vec![vip()],
        repeat: 5
    }));
    assert_eq!(
        notifies(&out),
        vec![(NotifyScript::MasterRxLowerPri, vec![])]
    );
    assert!(out.contains(&Action::FifoWrite(
        "INSTANCE \"VI_1\" MASTER_RX_LOWER_PRI 100\n".into()
    )));
    assert_eq!(inst.state(), State::Master);
}

// keepalived lower_prio_no_advert: the master stays silent (RFC behaviour).
#[test]
fn lower_prio_no_advert_stays_silent() {
    let mut p = params(100);
    p.lower_prio_no_advert = true;
    let (mut inst, at) = master(p);
    let out = rx(&mut inst, at + us(500), 90, 9);
    assert!(adverts(&out).is_empty());
    assert_eq!(
        logs(&out),
        vec!["(VI_1) Received advert from 10.0.0.9 with lower priority 90, ours 100"]
    );
}

// RFC 5798 6.4.3: a MASTER hearing a higher priority goes BACKUP and removes its VIPs; it
// sends no GARP. With keepalived's higher_prio_send_advert it first sends its own advert.
#[test]
fn master_hearing_higher_priority_steps_down() {
    let (mut inst, at) = master(params(100));
    let out = rx(&mut inst, at + us(500), 150, 9);
    assert_eq!(inst.state(), State::Backup);
    assert!(adverts(&out).is_empty());
    assert_eq!(
        kinds(&out),
        vec!["log", "remove", "state", "log", "notify", "notify", "fifo"]
    );
    assert_eq!(inst.stats().release_master, 1);
    assert_eq!(inst.master_addr(), Some(ip(9)));

    let mut p = params(100);
    p.higher_prio_send_advert = true;
    let (mut inst, at) = master(p);
    let out = rx(&mut inst, at + us(500), 150, 9);
    assert_eq!(adverts(&out), vec![100]);
    assert_eq!(kinds(&out)[..3], ["log", "advert", "remove"]);
}

// RFC 5798 6.4.3: equal priority is broken by the higher primary address.
#[test]
fn equal_priority_higher_address_wins() {
    let (mut inst, at) = master(params(100));
    rx(&mut inst, at + us(10), 100, 4); // 10.0.0.4 < 10.0.0.5: we stay
    assert_eq!(inst.state(), State::Master);
    let out = rx(&mut inst, at + us(20), 100, 6); // 10.0.0.6 > 10.0.0.5: we yield
    assert_eq!(inst.state(), State::Backup);
    assert_eq!(
        logs(&out)[0],
        "(VI_1) Master received advert from 10.0.0.6 with same priority 100 but higher IP address than ours"
    );
}

// keepalived vrrp_state_backup: with preemption a lower-priority advert is discarded
// ("received lower priority (P) advert from X - discarding"), the down timer keeps running.
#[test]
fn backup_discards_lower_priority_when_preempting() {
    let mut inst = started(params(100));
    let before = inst.next_deadline();
    let out = rx(&mut inst, SEC, 90, 9);
    assert_eq!(
        logs(&out),
        vec!["(VI_1) received lower priority (90) advert from 10.0.0.9 - discarding"]
    );
    assert_eq!(inst.next_deadline(), before);
    // higher or equal priority resets it
    rx(&mut inst, 2 * SEC, 100, 9);
    assert_eq!(inst.next_deadline(), Some(2 * SEC + us(3_609_375)));
}

// keepalived nopreempt: lower-priority adverts are accepted; a backup never preempts.
#[test]
fn nopreempt_accepts_lower_priority() {
    let mut p = params(200);
    p.nopreempt = true;
    let mut inst = started(p);
    for s in 1..20u32 {
        rx(&mut inst, s * SEC, 90, 9);
    }
    assert_eq!(inst.state(), State::Backup);
    assert_eq!(inst.master_priority(), 90);
}

// keepalived preempt_delay: the window opens at the first lower-priority advert after start;
// adverts are accepted during it; afterwards they are discarded and the down timer runs out.
#[test]
fn preempt_delay_window() {
    let mut p = params(200);
    p.preempt_delay = 5 * SEC;
    let mut inst = started(p);
    let down = us(3_000_000 + 218_750); // v2 prio 200: skew (56/256) s
                                        // first lower advert at 2 s opens the window until 7 s
    for s in 2..=6u32 {
        rx(&mut inst, s * SEC, 90, 9);
        assert_eq!(inst.next_deadline(), Some(s * SEC + down));
    }
    rx(&mut inst, 7 * SEC, 90, 9); // window closed: discarded
    assert_eq!(inst.next_deadline(), Some(6 * SEC + down));
    let (at, _) = fire(&mut inst);
    assert_eq!(at, 6 * SEC + down);
    assert_eq!(inst.state(), State::Master);
}

// RFC 5798 6.4.2 (v3): a backup learns Master_Adver_Interval from the master's adverts and
// recomputes Master_Down_Interval: prio 150, master advertising every 4 s ->
// 3 * 4 s + 1.656250 s.
#[test]
fn v3_backup_learns_master_interval() {
    let mut p = params(150);
    p.version = Version::V3;
    let mut inst = started(p);
    assert_eq!(inst.next_deadline(), Some(us(3_414_062)));
    inst.handle(
        SEC,
        Input::Advert {
            advert: advert(Version::V3, 200, 4 * SEC).header(),
            source: ip(9),
        },
    );
    assert_eq!(inst.master_adver_int(), 4 * SEC);
    assert_eq!(inst.next_deadline(), Some(SEC + us(13_656_250)));
}

fn script(weight: i32) -> Tracker {
    Tracker {
        kind: TrackerKind::Script,
        name: "chk".into(),
        weight,
        reverse: false,
        initial: TrackerValue::Up(true),
    }
}

fn script_result(up: bool) -> Input {
    Input::Tracker {
        kind: TrackerKind::Script,
        name: "chk".into(),
        value: TrackerValue::Up(up),
    }
}

// keepalived: effective priority = base + tracker weights; the master's next advert carries
// it (lab: weight -60 turns 150 into 90); a BACKUP rescales its running down timer.
#[test]
fn tracker_weight_changes_effective_priority() {
    let mut p = params(150);
    p.trackers = vec![script(-60)];
    let (mut inst, at) = master(p);
    let out = inst.handle(at + us(100), script_result(false));
    assert_eq!(
        logs(&out),
        vec!["(VI_1) Changing effective priority from 150 to 90"]
    );
    assert_eq!(inst.effective_priority(), 90);
    let (_, out) = fire(&mut inst);
    assert_eq!(adverts(&out), vec![90]);

    let mut p = params(150);
    p.trackers = vec![script(-60)];
    let mut inst = started(p);
    inst.handle(SEC, script_result(false));
    // down timer started at 0: now 3 s + (256-90)/256 s
    assert_eq!(inst.next_deadline(), Some(us(3_000_000 + 648_437)));
}

// keepalived: an owner (255) never changes priority through trackers.
#[test]
fn owner_priority_never_changes() {
    let mut p = params(255);
    p.trackers = vec![script(-60)];
    let mut inst = started(p);
    inst.handle(SEC, script_result(false));
    assert_eq!(inst.effective_priority(), 255);
}

// keepalived down_instance / try_up_instance: a weight-0 tracker failing puts the instance
// in FAULT (a MASTER sends priority 0 and removes its VIPs first); its recovery means BACKUP.
#[test]
fn weight_zero_tracker_fault_and_recovery() {
    let mut p = params(150);
    p.trackers = vec![script(0)];
    let (mut inst, at) = master(p);
    let out = inst.handle(at + SEC, script_result(false));
    assert_eq!(inst.state(), State::Fault);
    assert_eq!(adverts(&out), vec![0]);
    assert_eq!(kinds(&out)[..2], ["advert", "remove"]);
    assert_eq!(logs(&out), vec!["(VI_1) Entering FAULT STATE"]);
    assert_eq!(
        notifies(&out),
        vec![
            (NotifyScript::Fault, vec![]),
            (
                NotifyScript::Generic,
                args(&["INSTANCE", "VI_1", "FAULT", "150"])
            ),
        ]
    );
    assert_eq!(inst.next_timer(), None);
    assert_eq!(inst.stats().pri_zero_sent, 1);
    let out = inst.handle(at + 2 * SEC, script_result(true));
    assert_eq!(inst.state(), State::Backup);
    assert_eq!(logs(&out), vec!["(VI_1) Entering BACKUP STATE"]);
}

// keepalived try_up_instance: an owner that wants MASTER goes straight back to MASTER.
#[test]
fn owner_recovers_straight_to_master() {
    let mut p = params(255);
    p.initial_state = InitialState::Master;
    let (mut inst, at) = master(p);
    inst.handle(at + SEC, Input::Link { up: false });
    assert_eq!(inst.state(), State::Fault);
    inst.handle(at + 2 * SEC, Input::Link { up: true });
    assert_eq!(inst.state(), State::Master);
}

// keepalived: carrier loss on the instance's interface is FAULT; carrier back is BACKUP,
// then MASTER after the down timer (lab: 3.4 s).
#[test]
fn link_down_fault_link_up_backup() {
    let (mut inst, at) = master(params(150));
    inst.handle(at + SEC, Input::Link { up: false });
    assert_eq!(inst.state(), State::Fault);
    // packets are ignored in FAULT
    let out = rx(&mut inst, at + 2 * SEC, 200, 9);
    assert!(out.is_empty());
    let back = at + 3 * SEC;
    inst.handle(back, Input::Link { up: true });
    assert_eq!(inst.state(), State::Backup);
    let (t, _) = fire(&mut inst);
    assert_eq!(t, back + us(3_414_062));
    assert_eq!(inst.state(), State::Master);
}

// keepalived netlink_if_address_filter -> set_vrrp_backup: a VIP deleted by someone else makes
// the MASTER step down with a priority-0 advert and a down timer of Skew_Time, so it takes
// over again after the skew and re-adds every address.
#[test]
fn vip_removed_externally_retakes_after_skew() {
    let (mut inst, at) = master(params(100));
    let now = at + SEC / 2;
    let out = inst.handle(now, Input::VipRemoved(vip()));
    assert_eq!(inst.state(), State::Backup);
    assert_eq!(adverts(&out), vec![0]);
    assert_eq!(inst.next_deadline(), Some(now + us(609_375)));
    let (_, out) = fire(&mut inst);
    assert_eq!(inst.state(), State::Master);
    assert!(out.iter().any(|a| matches!(a, Action::AddVips { .. })));
    // an address that is not ours changes nothing
    let out = inst.handle(now + 2 * SEC, Input::VipRemoved(ip(77)));
    assert!(out.is_empty());
}

// keepalived SIGHUP: state is kept; a MASTER sends one advert first with the new list, adds
// only the new VIP and re-sends GARPs for the changed instance; after a removal, no GARP.
#[test]
fn reload_keeps_state_and_applies_differences() {
    let (mut inst, at) = master(params(100));
    let extra = IpAddr::V4(Ipv4Addr::new(10, 9, 0, 2));
    let mut p = params(100);
    p.vips = vec![vip(), extra];
    let out = inst.handle(at + SEC / 2, Input::Reload(Box::new(p)));
    assert_eq!(inst.state(), State::Master);
    assert!(!out.iter().any(|a| matches!(a, Action::StateChanged { .. })));
    assert_eq!(kinds(&out), vec!["advert", "add", "garp"]);
    assert!(out.contains(&Action::AddVips {
        vips: vec![extra],
        excluded: vec![],
        routes_and_rules: false
    }));
    match &out[0] {
        Action::SendAdvert(ad) => assert_eq!(ad.addrs, vec![vip(), extra]),
        other => panic!("{other:?}"),
    }
    let out = inst.handle(at + SEC, Input::Reload(Box::new(params(100))));
    assert_eq!(kinds(&out), vec!["advert", "remove"]);
}

// keepalived SIGTERM: a MASTER sends priority 0, removes its VIPs, then runs notify_stop and
// the generic STOP (no BACKUP); a BACKUP only notifies STOP.
#[test]
fn shutdown_master_and_backup() {
    let (mut inst, at) = master(params(150));
    let out = inst.handle(at + SEC, Input::Shutdown);
    assert_eq!(inst.state(), State::Stop);
    assert_eq!(adverts(&out), vec![0]);
    assert_eq!(kinds(&out)[..2], ["advert", "remove"]);
    assert_eq!(
        notifies(&out),
        vec![
            (NotifyScript::Stop, vec![]),
            (
                NotifyScript::Generic,
                args(&["INSTANCE", "VI_1", "STOP", "150"])
            ),
        ]
    );
    assert_eq!(inst.next_timer(), None);
    let mut inst = started(params(100));
    let out = inst.handle(SEC, Input::Shutdown);
    assert!(adverts(&out).is_empty());
    assert_eq!(notifies(&out).len(), 2);
    assert!(inst.handle(2 * SEC, Input::Shutdown).is_empty());
}

// Timers carry a generation: a timer of an earlier arming (re-armed or cancelled since) is
// ignored (holo-vrrp defect #5).
#[test]
fn stale_timer_is_ignored() {
    let mut inst = started(params(100));
    let first = inst.next_timer().unwrap();
    rx(&mut inst, SEC, 150, 9); // re-arms the down timer
    let out = inst.handle(first.at, Input::Timer(first.id));
    assert!(out.is_empty());
    assert_eq!(inst.state(), State::Backup);
    let bogus = TimerId {
        kind: TimerKind::Advert,
        generation: 999,
    };
    assert!(inst.handle(10 * SEC, Input::Timer(bogus)).is_empty());
}

// keepalived.stats: adverts received and sent, became/released master, priority 0 in/out.
#[test]
fn statistics_count_like_keepalived() {
    let (mut inst, at) = master(params(100));
    fire(&mut inst); // one periodic advert
    rx(&mut inst, at + SEC + us(1), 0, 9);
    rx(&mut inst, at + SEC + us(2), 200, 9);
    inst.handle(at + 2 * SEC, Input::Shutdown);
    let s = inst.stats();
    assert_eq!(s.advert_rcvd, 2);
    assert_eq!(s.advert_sent, 3); // become master, periodic, answer to priority 0
    assert_eq!(s.became_master, 1);
    assert_eq!(s.release_master, 1);
    assert_eq!(s.pri_zero_rcvd, 1);
    assert_eq!(s.pri_zero_sent, 0);
}

// keepalived send_instance_notifies: the generic script and the FIFO both carry the
// effective priority (base + tracker weights).
#[test]
fn notifies_carry_the_effective_priority() {
    let mut p = params(150);
    p.trackers = vec![script(-60)];
    let mut inst = started(p);
    inst.handle(SEC, script_result(false));
    let (_, out) = fire(&mut inst);
    assert!(out.contains(&Action::FifoWrite("INSTANCE \"VI_1\" MASTER 90\n".into())));
    assert!(notifies(&out).contains(&(
        NotifyScript::Generic,
        args(&["INSTANCE", "VI_1", "MASTER", "90"])
    )));
}

// keepalived vrrp_init_state: a non-owner `state MASTER` reports BACKUP (init) and waits one
// advert interval plus the minimum skew (v2: 1 s + 1/256 s) instead of Master_Down_Interval.
#[test]
fn non_owner_state_master_waits_one_interval() {
    let mut p = params(100);
    p.initial_state = InitialState::Master;
    let mut inst = Instance::new(p);
    let out = inst.handle(Duration::ZERO, Input::Start);
    assert_eq!(logs(&out), vec!["(VI_1) Entering BACKUP STATE (init)"]);
    let (at, _) = fire(&mut inst);
    assert_eq!(at, us(1_003_906));
    assert_eq!(inst.state(), State::Master);
}

// keepalived vrrp_init_state (`reload_master`): an instance that was MASTER before its VRRP
// process was respawned becomes MASTER again after 1 µs, without a BACKUP report.
#[test]
fn resume_as_master_after_respawn() {
    let mut inst = Instance::new(params(100));
    let out = inst.handle(Duration::ZERO, Input::Resume { was_master: true });
    assert!(notifies(&out).is_empty());
    let (at, out) = fire(&mut inst);
    assert_eq!(at, us(1));
    assert_eq!(inst.state(), State::Master);
    assert!(out.iter().any(|a| matches!(a, Action::AddVips { .. })));
    let mut inst = Instance::new(params(100));
    inst.handle(Duration::ZERO, Input::Resume { was_master: false });
    assert_eq!(inst.next_deadline(), Some(us(3_609_375)));
}

// keepalived: two owners (255) log a configuration error; the one with the lower address
// reverts to BACKUP at once. With owner_ignore_adverts an owner drops every advert.
#[test]
fn two_owners_and_owner_ignore_adverts() {
    let mut p = params(255);
    p.initial_state = InitialState::Master;
    let (mut inst, at) = master(p.clone());
    let out = rx(&mut inst, at + us(10), 255, 9);
    assert!(logs(&out)[0].contains("CONFIGURATION ERROR: local instance and 10.0.0.9"));
    assert_eq!(inst.state(), State::Backup);

    p.owner_ignore_adverts = true;
    let (mut inst, at) = master(p);
    assert!(rx(&mut inst, at + us(10), 255, 9).is_empty());
    assert_eq!(inst.state(), State::Master);
    assert_eq!(inst.stats().advert_rcvd, 0);
}

// keepalived try_up_instance (#1283): with unicast peers, leaving FAULT sends one gratuitous
// ARP / NA for our own source address to refresh the peers' neighbour caches.
#[test]
fn unicast_leaving_fault_announces_own_address() {
    let mut p = params(100);
    p.unicast = true;
    let mut inst = started(p);
    inst.handle(SEC, Input::Link { up: false });
    let out = inst.handle(2 * SEC, Input::Link { up: true });
    assert_eq!(
        out.iter()
            .find(|a| matches!(a, Action::SendGarp { .. }))
            .cloned(),
        Some(Action::SendGarp {
            addrs: vec![ip(5)],
            repeat: 1
        })
    );
}

// keepalived notify_priority_changes: a FIFO MASTER_PRIORITY / BACKUP_PRIORITY line with the
// new effective priority.
#[test]
fn priority_changes_reach_the_fifo() {
    let mut p = params(150);
    p.trackers = vec![script(-60)];
    p.notify.priority_changes = true;
    let (mut inst, at) = master(p);
    let out = inst.handle(at + SEC, script_result(false));
    assert!(out.contains(&Action::FifoWrite(
        "INSTANCE \"VI_1\" MASTER_PRIORITY 90\n".into()
    )));
}

// keepalived's reload advert (`send_reload_advert_thread`): when the SIGHUP arrives a MASTER
// sends one advert, a BACKUP nothing. A reload that changes nothing for a MASTER then sends
// nothing more and keeps its advert timer's phase; a changed one still advertises first.
#[test]
fn reload_advert_then_unchanged_reload_is_silent() {
    let (mut inst, at) = master(params(100));
    let deadline = inst.next_deadline();
    let out = inst.handle(at + SEC / 4, Input::ReloadAdvert);
    assert_eq!(kinds(&out), vec!["advert"]);
    assert_eq!(inst.next_deadline(), deadline);
    let out = inst.handle(at + SEC / 2, Input::Reload(Box::new(params(100))));
    assert!(out.is_empty(), "{out:?}");
    assert_eq!(inst.next_deadline(), deadline);
    let out = inst.handle(at + SEC / 2, Input::Reload(Box::new(params(120))));
    assert!(kinds(&out).contains(&"advert"), "{out:?}");

    let mut backup = started(params(100));
    assert!(backup.handle(SEC / 4, Input::ReloadAdvert).is_empty());
}
