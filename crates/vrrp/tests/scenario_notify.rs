//! The lab run recorded in `shared/samples/notify.log` (n1 priority 150, n2 priority 100:
//! start, n1 link cut, heal, stop n1, stop n2), replayed on the simulator. The notify scripts
//! each node runs, with their arguments and in keepalived's order (the specific script is
//! forked before the generic one: PID order), must be the ones keepalived ran.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod sim;

use keepalived_vrrp::instance::{Action, Input, NotifyParams, NotifyScript, State};
use keepalived_vrrp::sync_group::Target;
use sim::*;

fn script_name(s: NotifyScript) -> &'static str {
    match s {
        NotifyScript::Master => "notify_master",
        NotifyScript::Backup => "notify_backup",
        NotifyScript::Fault => "notify_fault",
        NotifyScript::Stop => "notify_stop",
        NotifyScript::MasterRxLowerPri => "notify_master_rx_lower_pri",
        NotifyScript::Generic => "notify",
    }
}

/// Our notify calls of node `n` as `name arg arg...` lines.
fn ours(sim: &Sim, n: usize) -> Vec<String> {
    sim.actions_of(n, std::time::Duration::ZERO)
        .into_iter()
        .filter_map(|a| match a {
            Action::RunNotify { script, args } => {
                let mut line = script_name(*script).to_string();
                for arg in args {
                    line.push(' ');
                    line.push_str(arg);
                }
                Some(line)
            }
            _ => None,
        })
        .collect()
}

/// The sample's notify calls of `node`, sorted by PID (fork order), as `name arg...` lines.
fn sample(text: &str, node: &str) -> Vec<String> {
    let mut calls: Vec<(u64, String)> = text
        .lines()
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let _time = words.next()?;
            if words.next()? != node {
                return None;
            }
            let name = words.next()?.to_string();
            let pid: u64 = words.next()?.strip_prefix("pid=")?.parse().ok()?;
            let _argc = words.next()?;
            let mut line = name;
            for w in words {
                line.push(' ');
                line.push_str(w.trim_matches('"'));
            }
            Some((pid, line))
        })
        .collect();
    calls.sort();
    calls.into_iter().map(|(_, l)| l).collect()
}

#[test]
fn notify_order_matches_keepalived_lab_run() {
    let mut specs = Vec::new();
    for (n, prio) in [(0, 150), (1, 100)] {
        let mut p = instance("VI_1", 1, n, prio);
        p.notify = NotifyParams {
            master: true,
            backup: true,
            fault: true,
            stop: true,
            generic: true,
            ..NotifyParams::default()
        };
        specs.push(NodeSpec::single(p));
    }
    let mut sim = Sim::new(specs, 42);
    sim.start_all();
    sim.run_until(secs(5)); // n1 MASTER at 3.41 s
                            // "cut n1 link": carrier loss, so its priority-0 advert cannot leave either.
    sim.apply(Op::Cut(0, 1, true));
    sim.apply(Op::Inject(0, Target::All, Input::Link { up: false }));
    sim.run_until(secs(10)); // n2 MASTER after its down timer
    assert_eq!(sim.masters(1), vec![1]);
    sim.apply(Op::Cut(0, 1, false));
    sim.apply(Op::Inject(0, Target::All, Input::Link { up: true }));
    sim.run_until(secs(15)); // n1 BACKUP, then MASTER after 3.4 s; n2 BACKUP
    assert_eq!(sim.masters(1), vec![0]);
    sim.apply(Op::Stop(0));
    sim.run_until(secs(17)); // n2 MASTER after the skew
    assert_eq!(sim.state(1, 0), State::Master);
    sim.apply(Op::Stop(1));

    let expected_n1 = [
        "notify_backup",
        "notify INSTANCE VI_1 BACKUP 150",
        "notify_master",
        "notify INSTANCE VI_1 MASTER 150",
        "notify_fault",
        "notify INSTANCE VI_1 FAULT 150",
        "notify_backup",
        "notify INSTANCE VI_1 BACKUP 150",
        "notify_master",
        "notify INSTANCE VI_1 MASTER 150",
        "notify_stop",
        "notify INSTANCE VI_1 STOP 150",
    ];
    let expected_n2 = [
        "notify_backup",
        "notify INSTANCE VI_1 BACKUP 100",
        "notify_master",
        "notify INSTANCE VI_1 MASTER 100",
        "notify_backup",
        "notify INSTANCE VI_1 BACKUP 100",
        "notify_master",
        "notify INSTANCE VI_1 MASTER 100",
        "notify_stop",
        "notify INSTANCE VI_1 STOP 100",
    ];
    assert_eq!(ours(&sim, 0), expected_n1);
    assert_eq!(ours(&sim, 1), expected_n2);

    // And the same against the recorded file itself, when the shared samples are present.
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/notify.log");
    if let Ok(text) = std::fs::read_to_string(path) {
        assert_eq!(ours(&sim, 0), sample(&text, "n1"));
        assert_eq!(ours(&sim, 1), sample(&text, "n2"));
    }
}
