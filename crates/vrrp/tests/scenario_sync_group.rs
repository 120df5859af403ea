//! Sync-group scenarios (keepalived `vrrp_sync_group`, `vrrp_sync.c`), one behaviour each.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_vrrp::instance::{Action, Input, InstanceParams, NotifyParams, NotifyScript, State};
use keepalived_vrrp::sync_group::{Routed, Router, RouterError, Source, SyncGroupParams, Target};
use keepalived_vrrp::{Advert, Auth, Version};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn ip(last: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
}

fn member(name: &str, vrid: u8) -> InstanceParams {
    let mut p = InstanceParams::new(name, vrid, ip(5));
    p.vips = vec![IpAddr::V4(Ipv4Addr::new(10, 9, 0, vrid))];
    p
}

fn all_notifies() -> NotifyParams {
    NotifyParams {
        master: true,
        backup: true,
        fault: true,
        stop: true,
        generic: true,
        master_rx_lower_pri: false,
        fifo: true,
        priority_changes: false,
    }
}

fn router() -> Router {
    Router::new(
        vec![member("VI_1", 1), member("VI_2", 2), member("VI_3", 3)],
        vec![SyncGroupParams {
            name: "SG1".into(),
            members: vec!["VI_1".into(), "VI_2".into()],
            notify: all_notifies(),
        }],
    )
    .unwrap()
}

fn states(r: &Router) -> Vec<State> {
    r.instances().iter().map(|i| i.state()).collect()
}

fn group_lines(out: &[Routed]) -> Vec<String> {
    out.iter()
        .filter(|r| r.source == Source::Group(0))
        .filter_map(|r| match &r.action {
            Action::RunNotify {
                script: NotifyScript::Generic,
                args,
            } => Some(args.join(" ")),
            Action::FifoWrite(l) => Some(l.trim_end().to_string()),
            _ => None,
        })
        .collect()
}

/// Fires timers until `until`, returning everything.
fn run(r: &mut Router, until: Duration) -> Vec<Routed> {
    let mut out = Vec::new();
    while let Some((i, d)) = r.next_timer() {
        if d.at > until {
            break;
        }
        r.handle_into(d.at, Target::Instance(i), Input::Timer(d.id), &mut out);
    }
    out
}

fn advert(vrid: u8, prio: u8) -> Input {
    Input::Advert {
        advert: Advert {
            version: Version::V2,
            vrid,
            priority: prio,
            interval: SEC,
            addrs: vec![IpAddr::V4(Ipv4Addr::new(10, 9, 0, vrid))],
            auth: Auth::None,
        }
        .header(),
        source: ip(9),
    }
}

// keepalived: group notifies (`GROUP <name> <STATE> 0`) follow the member notifies; at start
// the group reports BACKUP once every member has.
#[test]
fn group_reports_backup_after_members_at_start() {
    let mut r = router();
    let out = r.handle(Duration::ZERO, Target::All, Input::Start);
    assert_eq!(
        group_lines(&out),
        vec!["GROUP SG1 BACKUP 0", "GROUP \"SG1\" BACKUP 0"]
    );
    let last_member = out
        .iter()
        .rposition(|x| matches!(x.source, Source::Instance(0 | 1)))
        .unwrap();
    let first_group = out
        .iter()
        .position(|x| x.source == Source::Group(0))
        .unwrap();
    assert!(first_group > last_member);
}

// keepalived vrrp_sync_can_goto_master: a member whose down timer expires waits until every
// member wants MASTER; then all members become MASTER together.
#[test]
fn members_become_master_together() {
    let mut r = router();
    r.handle(Duration::ZERO, Target::All, Input::Start);
    let out = run(&mut r, 3 * SEC + 700 * Duration::from_millis(1));
    assert_eq!(states(&r), vec![State::Master; 3]);
    assert!(group_lines(&out).contains(&"GROUP SG1 MASTER 0".to_string()));
    // VI_1's expiry came first and was held back; both entered MASTER at VI_2's expiry.
    let entered: Vec<usize> = out
        .iter()
        .filter_map(|x| match (x.source, &x.action) {
            (
                Source::Instance(i),
                Action::StateChanged {
                    to: State::Master, ..
                },
            ) => Some(i),
            _ => None,
        })
        .collect();
    assert_eq!(entered, vec![1, 0, 2]);
}

// keepalived: a member kept back by a member that hears a better master stays BACKUP
// (the group prefers BACKUP to thrashing).
#[test]
fn member_waits_while_another_follows_a_master() {
    let mut r = router();
    r.handle(Duration::ZERO, Target::All, Input::Start);
    // a better master for VRID 2 keeps advertising
    for s in 1..10u32 {
        r.handle(s * SEC, Target::All, advert(2, 200));
        run(&mut r, s * SEC + SEC / 2);
    }
    assert_eq!(r.instances()[0].state(), State::Backup);
    assert!(r.instances()[0].wants_master());
    assert_eq!(r.instances()[1].state(), State::Backup);
    assert_eq!(r.instances()[2].state(), State::Master); // not in the group
}

// keepalived vrrp_sync_backup: a member dropping from MASTER to BACKUP takes the others along.
#[test]
fn member_to_backup_takes_group_to_backup() {
    let mut r = router();
    r.handle(Duration::ZERO, Target::All, Input::Start);
    run(&mut r, 5 * SEC);
    let out = r.handle(5 * SEC, Target::All, advert(1, 200));
    assert_eq!(
        states(&r),
        vec![State::Backup, State::Backup, State::Master]
    );
    assert!(group_lines(&out).contains(&"GROUP SG1 BACKUP 0".to_string()));
}

// keepalived vrrp_sync_fault: a member in FAULT puts the group in FAULT (a MASTER member sends
// priority 0 first); the group leaves FAULT only when no member has a fault of its own.
#[test]
fn member_fault_faults_the_group_until_all_recover() {
    let mut r = router();
    r.handle(Duration::ZERO, Target::All, Input::Start);
    run(&mut r, 5 * SEC);
    let out = r.handle(5 * SEC, Target::Instance(0), Input::Link { up: false });
    assert_eq!(states(&r), vec![State::Fault, State::Fault, State::Master]);
    let zero_from: Vec<Source> = out
        .iter()
        .filter(|x| matches!(&x.action, Action::SendAdvert(a) if a.priority == 0))
        .map(|x| x.source)
        .collect();
    assert_eq!(zero_from, vec![Source::Instance(0), Source::Instance(1)]);
    assert!(group_lines(&out).contains(&"GROUP SG1 FAULT 0".to_string()));
    r.handle(6 * SEC, Target::Instance(1), Input::Link { up: false });
    r.handle(7 * SEC, Target::Instance(0), Input::Link { up: true });
    assert_eq!(states(&r)[..2], [State::Fault, State::Fault]);
    let out = r.handle(8 * SEC, Target::Instance(1), Input::Link { up: true });
    assert_eq!(states(&r)[..2], [State::Backup, State::Backup]);
    assert!(group_lines(&out).contains(&"GROUP SG1 BACKUP 0".to_string()));
    run(&mut r, 13 * SEC);
    assert_eq!(states(&r), vec![State::Master; 3]);
}

// Adverts sent to every instance are routed by VRID (and version / family).
#[test]
fn adverts_are_routed_by_vrid() {
    let mut r = router();
    r.handle(Duration::ZERO, Target::All, Input::Start);
    r.handle(SEC, Target::All, advert(3, 200));
    let rcvd: Vec<u64> = r
        .instances()
        .iter()
        .map(|i| i.stats().advert_rcvd)
        .collect();
    assert_eq!(rcvd, vec![0, 0, 1]);
}

// keepalived: an instance can belong to one group only, and members must exist.
#[test]
fn bad_groups_are_rejected() {
    let g = |name: &str, members: &[&str]| SyncGroupParams {
        name: name.into(),
        members: members.iter().map(|m| m.to_string()).collect(),
        notify: NotifyParams::default(),
    };
    let err = Router::new(vec![member("VI_1", 1)], vec![g("SG1", &["VI_9"])]).unwrap_err();
    assert!(matches!(err, RouterError::UnknownMember { .. }));
    let err = Router::new(
        vec![member("VI_1", 1)],
        vec![g("SG1", &["VI_1"]), g("SG2", &["VI_1"])],
    )
    .unwrap_err();
    assert_eq!(
        err.to_string(),
        "instance VI_1 is in sync groups SG1 and SG2"
    );
}

// SIGTERM: every member STOPs and the group reports STOP.
#[test]
fn shutdown_stops_the_group() {
    let mut r = router();
    r.handle(Duration::ZERO, Target::All, Input::Start);
    run(&mut r, 5 * SEC);
    let out = r.handle(6 * SEC, Target::All, Input::Shutdown);
    assert_eq!(states(&r), vec![State::Stop; 3]);
    assert!(group_lines(&out).contains(&"GROUP SG1 STOP 0".to_string()));
}

// keepalived vrrp_state_master_rx: after a lower-priority advert, a MASTER member repeats the
// GARPs of the other members of its sync group too.
#[test]
fn lower_priority_advert_repeats_garps_of_the_whole_group() {
    let mut r = router();
    r.handle(Duration::ZERO, Target::All, Input::Start);
    run(&mut r, 5 * SEC);
    let out = r.handle(5 * SEC, Target::All, advert(1, 50));
    let garps: Vec<Source> = out
        .iter()
        .filter(|x| matches!(x.action, Action::SendGarp { .. }))
        .map(|x| x.source)
        .collect();
    assert_eq!(garps, vec![Source::Instance(0), Source::Instance(1)]);
}
