//! Exact command sequences for the life of a virtual server: start, real servers failing
//! (removed, or weight 0 with `inhibit_on_failure`), quorum lost and regained with a sorry
//! server, a flapping server, reloads and stop. The wanted tables are written by hand the
//! way keepalived's checker would want them at each step.

use super::*;
use std::net::IpAddr;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn vs() -> ServiceKey {
    ServiceKey::Addr {
        protocol: Protocol::Tcp,
        addr: ip("10.0.0.1"),
        port: 80,
    }
}

fn rs(last: u8, weight: u32) -> Dest {
    Dest::new(ip(&format!("10.0.0.{last}")), 80, weight, FwdMethod::Masq)
}

fn sorry() -> Dest {
    Dest::new(ip("192.168.0.9"), 80, 1, FwdMethod::Masq)
}

/// One service with `dests`.
fn table(sched: &str, dests: &[Dest]) -> IpvsTable {
    let mut t = IpvsTable::new();
    t.insert_service(Service::new(vs(), sched));
    for d in dests {
        t.insert_dest(&vs(), *d);
    }
    t
}

/// Plans from the recorder's table to `wanted`, applies, and returns the lines sent.
fn step(rec: &mut Recorder, wanted: &IpvsTable) -> Vec<String> {
    let cmds = plan(wanted, rec.table());
    assert!(rec.apply_all(&cmds).is_empty(), "refused: {cmds:?}");
    assert_eq!(rec.table(), wanted);
    rec.take_lines()
}

fn start(rec: &mut Recorder, wanted: &IpvsTable) -> Vec<String> {
    let cmds = plan_start(wanted, false);
    assert!(rec.apply_all(&cmds).is_empty());
    rec.take_lines()
}

#[test]
fn start_with_quorum_adds_service_then_dests() {
    let mut rec = Recorder::new();
    assert_eq!(
        start(&mut rec, &table("rr", &[rs(2, 1), rs(3, 1)])),
        [
            "-A -t 10.0.0.1:80 -s rr",
            "-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1",
            "-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1",
        ]
    );
}

#[test]
fn lvs_flush_flushes_first() {
    let cmds = plan_start(&table("rr", &[rs(2, 1)]), true);
    assert_eq!(cmds.first(), Some(&IpvsCommand::Flush));
    assert_eq!(cmds.len(), 3);
}

#[test]
fn real_server_down_is_deleted_and_back_is_added() {
    let mut rec = Recorder::new();
    start(&mut rec, &table("rr", &[rs(2, 1), rs(3, 1)]));
    assert_eq!(
        step(&mut rec, &table("rr", &[rs(2, 1)])),
        ["-d -t 10.0.0.1:80 -r 10.0.0.3:80"]
    );
    assert_eq!(
        step(&mut rec, &table("rr", &[rs(2, 1), rs(3, 1)])),
        ["-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1"]
    );
}

#[test]
fn inhibit_on_failure_sets_weight_zero_and_back() {
    let mut rec = Recorder::new();
    start(&mut rec, &table("rr", &[rs(2, 1), rs(3, 5)]));
    assert_eq!(
        step(&mut rec, &table("rr", &[rs(2, 1), rs(3, 0)])),
        ["-e -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 0"]
    );
    assert_eq!(
        step(&mut rec, &table("rr", &[rs(2, 1), rs(3, 5)])),
        ["-e -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 5"]
    );
}

#[test]
fn quorum_lost_adds_sorry_server_then_removes_real_servers() {
    // quorum 2: with .3 down only .2 is alive, so the quorum is lost; keepalived adds the
    // sorry server and removes the real servers still alive.
    let mut rec = Recorder::new();
    start(&mut rec, &table("rr", &[rs(2, 1), rs(3, 1)]));
    assert_eq!(
        step(&mut rec, &table("rr", &[sorry()])),
        [
            "-a -t 10.0.0.1:80 -r 192.168.0.9:80 -m -w 1",
            "-d -t 10.0.0.1:80 -r 10.0.0.2:80",
            "-d -t 10.0.0.1:80 -r 10.0.0.3:80",
        ]
    );
    // Quorum back: real servers first, then the sorry server goes.
    assert_eq!(
        step(&mut rec, &table("rr", &[rs(2, 1), rs(3, 1)])),
        [
            "-a -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 1",
            "-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1",
            "-d -t 10.0.0.1:80 -r 192.168.0.9:80",
        ]
    );
}

#[test]
fn quorum_lost_with_inhibit_keeps_failed_server_at_weight_zero() {
    let mut rec = Recorder::new();
    start(&mut rec, &table("rr", &[rs(2, 1), rs(3, 1)]));
    assert_eq!(
        step(&mut rec, &table("rr", &[rs(2, 1), rs(3, 0)])),
        ["-e -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 0"]
    );
    assert_eq!(
        step(&mut rec, &table("rr", &[rs(2, 0), rs(3, 0), sorry()])),
        [
            "-a -t 10.0.0.1:80 -r 192.168.0.9:80 -m -w 1",
            "-e -t 10.0.0.1:80 -r 10.0.0.2:80 -m -w 0",
        ]
    );
}

#[test]
fn flapping_server_sends_one_command_per_transition() {
    let mut rec = Recorder::new();
    let up = table("rr", &[rs(2, 1), rs(3, 1)]);
    let down = table("rr", &[rs(2, 1)]);
    start(&mut rec, &up);
    let mut sent = Vec::new();
    for wanted in [&down, &up, &down, &down, &up] {
        sent.extend(step(&mut rec, wanted));
    }
    assert_eq!(
        sent,
        [
            "-d -t 10.0.0.1:80 -r 10.0.0.3:80",
            "-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1",
            "-d -t 10.0.0.1:80 -r 10.0.0.3:80",
            "-a -t 10.0.0.1:80 -r 10.0.0.3:80 -m -w 1",
        ]
    );
}

#[test]
fn reload_changes_only_what_changed() {
    let mut rec = Recorder::new();
    let other = ServiceKey::Fwmark {
        family: Family::V4,
        mark: 5,
    };
    let mut before = table("rr", &[rs(2, 1)]);
    before.insert_service(Service::new(other, "wlc"));
    before.insert_dest(&other, Dest::new(ip("10.0.1.2"), 0, 1, FwdMethod::Route));
    start(&mut rec, &before);

    // Same config again: nothing.
    assert!(step(&mut rec, &before).is_empty());

    // Scheduler changed on one, the other removed, a third added.
    let third = ServiceKey::Addr {
        protocol: Protocol::Udp,
        addr: ip("10.0.0.1"),
        port: 53,
    };
    let mut after = table("wrr", &[rs(2, 1)]);
    after.insert_service(Service::new(third, "rr").with_persistence(300));
    after.insert_dest(&third, Dest::new(ip("10.0.0.5"), 53, 2, FwdMethod::Masq));
    assert_eq!(
        step(&mut rec, &after),
        [
            "-E -t 10.0.0.1:80 -s wrr",
            "-A -u 10.0.0.1:53 -s rr -p 300",
            "-a -u 10.0.0.1:53 -r 10.0.0.5:53 -m -w 2",
            "-d -f 5 -r 10.0.1.2:0",
            "-D -f 5",
        ]
    );
}

#[test]
fn stop_removes_dests_then_services_unless_told_otherwise() {
    let mut rec = Recorder::new();
    let mut t = table("rr", &[rs(2, 1), sorry()]);
    let fw = ServiceKey::Fwmark {
        family: Family::V4,
        mark: 5,
    };
    t.insert_service(Service::new(fw, "wlc"));
    start(&mut rec, &t);

    let remove = plan_stop(rec.table(), StopMode::from_settings(false, None));
    let lines: Vec<String> = remove.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "-D -f 5",
            "-d -t 10.0.0.1:80 -r 10.0.0.2:80",
            "-d -t 10.0.0.1:80 -r 192.168.0.9:80",
            "-D -t 10.0.0.1:80",
        ]
    );
    assert!(rec.apply_all(&remove).is_empty());
    assert!(rec.table().is_empty());

    assert!(plan_stop(&t, StopMode::from_settings(true, Some("ALL"))).is_empty());
    assert_eq!(
        plan_stop(&t, StopMode::from_settings(false, Some("ALL"))),
        [IpvsCommand::Flush]
    );
    assert_eq!(
        plan_stop(&t, StopMode::from_settings(false, Some("VS"))),
        [IpvsCommand::DelService(fw), IpvsCommand::DelService(vs())]
    );
}

#[test]
fn recorder_refuses_like_the_kernel() {
    let mut rec = Recorder::new();
    let add = IpvsCommand::AddService(Service::new(vs(), "rr"));
    assert!(rec.apply(&add).is_ok());
    assert!(matches!(rec.apply(&add), Err(IpvsError::Exists { .. })));
    let del = IpvsCommand::DelDest(vs(), rs(9, 1).key());
    assert!(matches!(rec.apply(&del), Err(IpvsError::NotFound { .. })));
    assert_eq!(rec.commands().len(), 3);
}

#[test]
fn logging_sink_accepts_everything() {
    let mut sink = LoggingSink::new();
    let cmds = plan_start(&table("rr", &[rs(2, 1)]), false);
    assert!(sink.apply_all(&cmds).is_empty());
    assert_eq!(sink.applied(), 2);
}
