//! Elections: the highest priority holds the VIP, with two and three routers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use keepalived_integration::{
    describe, kind_sets, master_down, render, AddrMonitor, Cluster, Instance,
};

const VIP: &str = "192.0.2.100";

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn two_routers_highest_priority_holds_the_vip() {
    for kinds in kind_sets("two_routers", 2) {
        println!("== two routers: {}", describe(&kinds));
        let mut c = Cluster::new("el2", &kinds).unwrap();
        for (node, prio) in c.nodes.iter().zip([150, 100]) {
            let i = Instance::new("VI_1", 51, prio, &["192.0.2.100/32"]);
            node.write_config(&render(&[i], &[], &[])).unwrap();
        }
        c.start_all().unwrap();
        let took = c
            .wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        println!("n1 holds {VIP} {} ms after start", took.as_millis());
        c.assert_stays_sole_holder(VIP, "n1", Duration::from_secs(2))
            .unwrap();
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn three_routers_elect_the_highest_then_the_next() {
    for kinds in kind_sets("three_routers", 3) {
        println!("== three routers: {}", describe(&kinds));
        let mut c = Cluster::new("el3", &kinds).unwrap();
        for (node, prio) in c.nodes.iter().zip([150, 120, 100]) {
            let i = Instance::new("VI_1", 51, prio, &["192.0.2.100/32"]);
            node.write_config(&render(&[i], &[], &[])).unwrap();
        }
        c.start_all().unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        c.assert_stays_sole_holder(VIP, "n1", Duration::from_secs(1))
            .unwrap();
        let mon = AddrMonitor::new(&c.nodes[1]).unwrap();
        let killed = c.nodes[0].kill9().unwrap();
        let took = mon
            .added_after(VIP, killed, Duration::from_secs(6))
            .unwrap();
        // The dead master keeps its VIP (nothing removes it): n2 and n1 both hold it.
        let md = master_down(Duration::from_secs(1), 120);
        println!(
            "n2 (120) took over {} ms after kill -9 (master_down {} ms)",
            took.as_millis(),
            md.as_millis()
        );
        assert!(took <= md + Duration::from_millis(300), "took {took:?}");
        std::thread::sleep(Duration::from_secs(1));
        assert!(!c.nodes[2].holds(VIP), "n3 (100) must stay backup");
    }
}
