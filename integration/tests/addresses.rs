//! Address hygiene: a VIP deleted by hand comes back; link flaps leave no stray address.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use keepalived_integration::{describe, kind_sets, render, AddrMonitor, Cluster, Instance};

const VIP: &str = "192.0.2.100";

fn two(tag: &str, kinds: &[keepalived_integration::NodeKind]) -> Cluster {
    let mut c = Cluster::new(tag, kinds).unwrap();
    c.write_each(|i| {
        render(
            &[Instance::new(
                "VI_1",
                51,
                if i == 0 { 150 } else { 100 },
                &["192.0.2.100/32"],
            )],
            &[],
            &[],
        )
    })
    .unwrap();
    c.start_all().unwrap();
    c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
        .unwrap();
    c
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn a_vip_deleted_by_hand_is_put_back() {
    for kinds in kind_sets("vip_deleted", 2) {
        println!("== VIP deleted by hand: {}", describe(&kinds));
        let c = two("vd", &kinds);
        let mon = AddrMonitor::new(&c.nodes[0]).unwrap();
        let at = std::time::SystemTime::now();
        c.nodes[0]
            .ip(&["addr", "del", "192.0.2.100/32", "dev", "eth0"])
            .unwrap();
        let took = mon.added_after(VIP, at, Duration::from_secs(3)).unwrap();
        println!(
            "n1 put {VIP} back {} ms after it was deleted",
            took.as_millis()
        );
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(3))
            .unwrap();
        c.assert_stays_sole_holder(VIP, "n1", Duration::from_secs(1))
            .unwrap();
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn thirty_link_flaps_leave_no_stray_address() {
    for kinds in kind_sets("link_flaps", 2) {
        println!("== 30 link flaps: {}", describe(&kinds));
        let mut c = two("lf", &kinds);
        for _ in 0..30 {
            c.nodes[0].link_down("eth0").unwrap();
            std::thread::sleep(Duration::from_millis(60));
            c.nodes[0].link_up("eth0").unwrap();
            std::thread::sleep(Duration::from_millis(60));
        }
        let took = c
            .wait_sole_holder(VIP, "n1", Duration::from_secs(10))
            .unwrap();
        println!(
            "after the flaps n1 is the only holder again within {} ms",
            took.as_millis()
        );
        c.assert_stays_sole_holder(VIP, "n1", Duration::from_secs(1))
            .unwrap();
        for n in &c.nodes {
            let count = n
                .addresses()
                .unwrap()
                .iter()
                .filter(|a| a.as_str() == VIP)
                .count();
            assert!(count <= 1, "{} holds {VIP} {count} times", n.name());
        }
        // A graceful stop must take the VIP away with it: nothing left on n1.
        c.nodes[0].stop().unwrap();
        assert!(!c.nodes[0].holds(VIP), "n1 kept {VIP} after stopping");
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(2))
            .unwrap();
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn sighup_adds_and_removes_a_vip_without_a_transition() {
    const VIP3: &str = "192.0.2.102";
    for kinds in kind_sets("sighup_reload", 2) {
        println!("== SIGHUP reload: {}", describe(&kinds));
        let c = two("hu", &kinds);
        let with = |vips: &[&str]| render(&[Instance::new("VI_1", 51, 150, vips)], &[], &[]);
        let mon = AddrMonitor::new(&c.nodes[0]).unwrap();
        c.nodes[0]
            .write_config(&with(&["192.0.2.100/32", "192.0.2.102/32"]))
            .unwrap();
        let at = std::time::SystemTime::now();
        c.nodes[0].sighup().unwrap();
        let took = mon.added_after(VIP3, at, Duration::from_secs(3)).unwrap();
        println!("SIGHUP: {VIP3} added after {} ms", took.as_millis());
        c.nodes[0].write_config(&with(&["192.0.2.100/32"])).unwrap();
        let at = std::time::SystemTime::now();
        c.nodes[0].sighup().unwrap();
        let gone = mon
            .wait_for(VIP3, true, at, Duration::from_secs(3))
            .unwrap()
            .duration_since(at)
            .unwrap_or_default();
        println!("SIGHUP: {VIP3} removed after {} ms", gone.as_millis());
        std::thread::sleep(Duration::from_millis(500));
        let lost = mon.events().iter().any(|e| e.addr == VIP && e.deleted);
        assert!(!lost, "{VIP} disappeared during a reload");
        c.assert_stays_sole_holder(VIP, "n1", Duration::from_secs(1))
            .unwrap();
        assert!(!c.nodes[1].holds(VIP3));
    }
}
