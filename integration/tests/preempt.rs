//! Preemption on restart: default preempt, nopreempt, preempt_delay.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use keepalived_integration::{describe, kind_sets, render, Cluster, Instance};

const VIP: &str = "192.0.2.100";

fn configure(c: &Cluster, n1: impl Fn(&mut Instance)) {
    c.write_each(|i| {
        let mut inst = Instance::new(
            "VI_1",
            51,
            if i == 0 { 150 } else { 100 },
            &["192.0.2.100/32"],
        );
        if i == 0 {
            n1(&mut inst);
        }
        render(&[inst], &[], &[])
    })
    .unwrap();
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn restarted_higher_priority_preempts_after_its_down_timer() {
    for kinds in kind_sets("preempt", 2) {
        println!("== preempt: {}", describe(&kinds));
        let mut c = Cluster::new("pre", &kinds).unwrap();
        configure(&c, |_| {});
        c.start_all().unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        c.nodes[0].stop().unwrap();
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(2))
            .unwrap();
        c.nodes[0].start().unwrap();
        let took = c
            .wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        println!(
            "restarted n1 (150) preempted {} ms after start (down timer 3414 ms)",
            took.as_millis()
        );
        assert!(took >= Duration::from_millis(2500), "{took:?}");
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn nopreempt_never_takes_over() {
    for kinds in kind_sets("nopreempt", 2) {
        println!("== nopreempt: {}", describe(&kinds));
        let mut c = Cluster::new("nop", &kinds).unwrap();
        configure(&c, |i| i.nopreempt = true);
        c.nodes[1].start().unwrap();
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(8))
            .unwrap();
        c.nodes[0].start().unwrap();
        c.assert_stays_sole_holder(VIP, "n2", Duration::from_secs(7))
            .unwrap();
        println!("n1 (150, nopreempt) left n2 (100) master for 7 s");
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn preempt_delay_postpones_the_takeover() {
    for kinds in kind_sets("preempt_delay", 2) {
        println!("== preempt_delay 5: {}", describe(&kinds));
        let mut c = Cluster::new("pd", &kinds).unwrap();
        configure(&c, |i| i.preempt_delay = Some(5));
        c.nodes[1].start().unwrap();
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(8))
            .unwrap();
        let start = Instant::now();
        c.nodes[0].start().unwrap();
        c.assert_stays_sole_holder(VIP, "n2", Duration::from_millis(5000))
            .unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        let took = start.elapsed();
        println!(
            "n1 (preempt_delay 5) took over {} ms after start (keepalived lab: 7.4-9.4 s)",
            took.as_millis()
        );
        assert!(took <= Duration::from_secs(11), "{took:?}");
    }
}
