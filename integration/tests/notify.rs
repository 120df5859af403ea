//! Notify scripts: called with the exact arguments, in keepalived's order.
//! Reference: /work/shared/samples/notify.log (keepalived 2.2.7, same steps).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use keepalived_integration::{describe, kind_sets, render, Cluster, Instance, Node, NotifyLine};

const VIP: &str = "192.0.2.100";

/// Checks one node's notify log: the specific scripts and the generic one each saw `states`,
/// the generic one with `INSTANCE VI_1 <state> <configured priority>`, the specific ones with
/// no argument, and the specific script forked before the generic one of the same transition.
fn check(node: &Node, prio: u8, states: &[&str]) {
    let lines = node.notify_lines().unwrap();
    let generic: Vec<&NotifyLine> = lines.iter().filter(|l| l.script == "notify").collect();
    let specific: Vec<&NotifyLine> = lines.iter().filter(|l| l.script != "notify").collect();
    let got: Vec<&str> = generic
        .iter()
        .map(|l| l.args.get(2).map_or("?", String::as_str))
        .collect();
    assert_eq!(
        got,
        states,
        "{}: generic notify states; all lines: {lines:#?}",
        node.name()
    );
    for l in &generic {
        assert_eq!(l.args.len(), 4, "{}: {l:?}", node.name());
        assert_eq!(l.args[..2], ["INSTANCE", "VI_1"], "{}: {l:?}", node.name());
        assert_eq!(l.args[3], prio.to_string(), "{}: {l:?}", node.name());
    }
    let got: Vec<String> = specific.iter().map(|l| l.script.clone()).collect();
    let want: Vec<String> = states
        .iter()
        .map(|s| format!("notify_{}", s.to_lowercase()))
        .collect();
    assert_eq!(got, want, "{}: specific scripts", node.name());
    for (s, g) in specific.iter().zip(&generic) {
        assert!(s.args.is_empty(), "{}: {s:?}", node.name());
        assert!(
            s.pid < g.pid,
            "{}: specific {s:?} not forked before generic {g:?}",
            node.name()
        );
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn notify_scripts_get_the_exact_arguments_in_order() {
    for kinds in kind_sets("notify", 2) {
        println!("== notify: {}", describe(&kinds));
        let mut c = Cluster::new("nt", &kinds).unwrap();
        c.write_each(|i| {
            let mut inst = Instance::new(
                "VI_1",
                51,
                if i == 0 { 150 } else { 100 },
                &["192.0.2.100/32"],
            );
            inst.notify = true;
            render(&[inst], &[], &[])
        })
        .unwrap();
        c.start_all().unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        // Carrier loss on n1: FAULT there, n2 takes over.
        c.nodes[0].link_down("eth0").unwrap();
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(6))
            .unwrap();
        // Carrier back: n1 BACKUP, then MASTER after its down timer; n2 BACKUP.
        c.nodes[0].link_up("eth0").unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(7))
            .unwrap();
        std::thread::sleep(Duration::from_millis(300));
        c.nodes[0].stop().unwrap();
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(3))
            .unwrap();
        c.nodes[1].stop().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        check(
            &c.nodes[0],
            150,
            &["BACKUP", "MASTER", "FAULT", "BACKUP", "MASTER", "STOP"],
        );
        check(
            &c.nodes[1],
            100,
            &["BACKUP", "MASTER", "BACKUP", "MASTER", "STOP"],
        );
        println!("notify sequences match keepalived's");
    }
}
