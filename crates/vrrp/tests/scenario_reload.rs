//! SIGHUP at the router level: instances are matched by (VRID, family, interface, unicast),
//! keep their state and counters; new ones start; vanished ones shut down.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_vrrp::instance::{Action, Input, InstanceParams, State};
use keepalived_vrrp::sync_group::{Router, SyncGroupParams, Target};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

const SEC: Duration = Duration::from_secs(1);

fn inst(name: &str, vrid: u8) -> InstanceParams {
    let mut p = InstanceParams::new(name, vrid, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 5)));
    p.interface = "eth0".into();
    p.vips = vec![IpAddr::V4(Ipv4Addr::new(10, 9, 0, vrid))];
    p
}

fn run(r: &mut Router, until: Duration) {
    while let Some((i, d)) = r.next_timer() {
        if d.at > until {
            break;
        }
        r.handle(d.at, Target::Instance(i), Input::Timer(d.id));
    }
}

// keepalived reload: a kept MASTER stays MASTER with its counters, sends one advert with the
// new address list and adds only the new VIP; a renamed instance with the same VRID and
// interface is the same instance; a new instance starts in BACKUP (init); a removed MASTER
// sends priority 0 and removes its VIPs.
#[test]
fn reload_matches_keeps_starts_and_removes() {
    let mut r = Router::new(vec![inst("VI_1", 1), inst("VI_2", 2)], vec![]).unwrap();
    r.handle(Duration::ZERO, Target::All, Input::Start);
    run(&mut r, 5 * SEC);
    assert_eq!(r.instances()[0].state(), State::Master);
    let sent_before = r.instances()[0].stats().advert_sent;

    let mut renamed = inst("VI_ONE", 1);
    renamed.vips.push(IpAddr::V4(Ipv4Addr::new(10, 9, 0, 100)));
    let outcome = r
        .reload(5 * SEC + SEC / 2, vec![inst("VI_3", 3), renamed], vec![])
        .unwrap();
    assert_eq!(r.instances()[1].name(), "VI_ONE");
    assert_eq!(r.instances()[1].state(), State::Master);
    assert_eq!(r.instances()[1].stats().advert_sent, sent_before + 1);
    assert_eq!(r.instances()[0].state(), State::Backup);
    let added: Vec<&Action> = outcome
        .actions
        .iter()
        .map(|x| &x.action)
        .filter(|a| matches!(a, Action::AddVips { .. }))
        .collect();
    assert_eq!(
        added,
        vec![&Action::AddVips {
            vips: vec![IpAddr::V4(Ipv4Addr::new(10, 9, 0, 100))],
            excluded: vec![],
            routes_and_rules: false
        }]
    );
    assert!(!outcome
        .actions
        .iter()
        .any(|x| matches!(x.action, Action::RemoveVips { .. })));
    assert_eq!(outcome.removed.len(), 1);
    let (name, actions) = &outcome.removed[0];
    assert_eq!(name, "VI_2");
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::SendAdvert(ad) if ad.priority == 0)));
    assert!(actions
        .iter()
        .any(|a| matches!(a, Action::RemoveVips { .. })));
}

// A reload that moves instances into a sync group keeps their state and the group's derived
// state without a group notify.
#[test]
fn reload_into_a_group_is_silent() {
    let mut r = Router::new(vec![inst("VI_1", 1), inst("VI_2", 2)], vec![]).unwrap();
    r.handle(Duration::ZERO, Target::All, Input::Start);
    run(&mut r, 5 * SEC);
    let group = SyncGroupParams {
        name: "SG1".into(),
        members: vec!["VI_1".into(), "VI_2".into()],
        notify: keepalived_vrrp::instance::NotifyParams {
            generic: true,
            ..Default::default()
        },
    };
    let outcome = r
        .reload(6 * SEC, vec![inst("VI_1", 1), inst("VI_2", 2)], vec![group])
        .unwrap();
    assert!(outcome
        .actions
        .iter()
        .all(|x| !matches!(x.action, Action::RunNotify { .. })));
    assert_eq!(r.groups()[0].state(), State::Master);
}

// An invalid new configuration is refused and the old one keeps running.
#[test]
fn reload_with_bad_groups_keeps_old_config() {
    let mut r = Router::new(vec![inst("VI_1", 1)], vec![]).unwrap();
    r.handle(Duration::ZERO, Target::All, Input::Start);
    let bad = SyncGroupParams {
        name: "SG1".into(),
        members: vec!["VI_X".into()],
        notify: Default::default(),
    };
    assert!(r.reload(SEC, vec![inst("VI_1", 1)], vec![bad]).is_err());
    assert_eq!(r.instances().len(), 1);
    assert_eq!(r.instances()[0].state(), State::Backup);
}
