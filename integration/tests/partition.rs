//! Split brain and heal; unicast peers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use keepalived_integration::{
    describe, kind_sets, master_down, render, wait_until, AddrMonitor, Cluster, Instance, NftGuard,
    Partition,
};

const VIP: &str = "192.0.2.100";

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn split_brain_gives_two_masters_and_healing_leaves_one() {
    for kinds in kind_sets("split_brain", 2) {
        println!("== split brain: {}", describe(&kinds));
        let mut c = Cluster::new("sb", &kinds).unwrap();
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
        let cut = Partition::new(&c.nodes[0]).unwrap();
        let t = Instant::now();
        wait_until("both nodes to hold the VIP", Duration::from_secs(6), || {
            c.holders(VIP) == ["n1", "n2"]
        })
        .unwrap();
        println!(
            "protocol 112 dropped on n1: two masters after {} ms",
            t.elapsed().as_millis()
        );
        std::thread::sleep(Duration::from_secs(1));
        assert_eq!(c.holders(VIP), ["n1", "n2"]);
        let mon = AddrMonitor::new(&c.nodes[1]).unwrap();
        let healed = std::time::SystemTime::now();
        cut.heal();
        let gone = mon
            .wait_for(VIP, true, healed, Duration::from_secs(3))
            .unwrap();
        let took = gone.duration_since(healed).unwrap_or_default();
        println!(
            "healed: n2 gave the VIP up {} ms later (keepalived lab: < 1 s)",
            took.as_millis()
        );
        assert!(took <= Duration::from_millis(1300), "{took:?}");
        c.assert_stays_sole_holder(VIP, "n1", Duration::from_secs(2))
            .unwrap();
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn unicast_peers_work_without_multicast() {
    for kinds in kind_sets("unicast", 2) {
        println!("== unicast peers: {}", describe(&kinds));
        let mut c = Cluster::new("uc", &kinds).unwrap();
        c.write_each(|i| {
            let mut inst = Instance::new(
                "VI_1",
                51,
                if i == 0 { 150 } else { 100 },
                &["192.0.2.100/32"],
            );
            inst.unicast_src = Some("@ADDR4@".into());
            inst.unicast_peers
                .push(if i == 0 { "192.0.2.12" } else { "192.0.2.11" }.into());
            render(&[inst], &[], &[])
        })
        .unwrap();
        // Multicast VRRP would be dropped: only the unicast adverts can make this work.
        let rule = "ip daddr 224.0.0.18 drop";
        let _g1 = NftGuard::new(&c.nodes[0], &[rule], &[rule]).unwrap();
        let _g2 = NftGuard::new(&c.nodes[1], &[rule], &[rule]).unwrap();
        c.start_all().unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        c.assert_stays_sole_holder(VIP, "n1", Duration::from_secs(2))
            .unwrap();
        let mon = AddrMonitor::new(&c.nodes[1]).unwrap();
        let killed = c.nodes[0].kill9().unwrap();
        let took = mon
            .added_after(VIP, killed, Duration::from_secs(6))
            .unwrap();
        println!(
            "unicast: n2 took over {} ms after kill -9",
            took.as_millis()
        );
        assert!(took <= master_down(Duration::from_secs(1), 100) + Duration::from_millis(300));
    }
}
