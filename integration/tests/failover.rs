//! Failover timing: kill -9 and SIGTERM of the master, VRRPv3 at 0.1 s, IPv6 VIPs.
//! Times come from the kernel's address events on the backup (AddrMonitor), not polling.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use keepalived_integration::{
    describe, kind_sets, master_down, render, AddrMonitor, Capture, Cluster, Instance,
};

const VIP: &str = "192.0.2.100";

/// Time between n1's last advert and n2's first one, as captured on n2.
fn wire_gap(cap: &Capture, c: &Cluster) -> Duration {
    std::thread::sleep(Duration::from_millis(100));
    let Some((last, first)) = cap.handover(c.nodes[0].addr4(), c.nodes[1].addr4()) else {
        panic!("capture missed the handover: {:?}", cap.adverts());
    };
    first.time.duration_since(last.time).unwrap_or_default()
}

fn two_nodes(
    tag: &str,
    kinds: &[keepalived_integration::NodeKind],
    make: impl Fn(u8) -> Instance,
) -> Cluster {
    let mut c = Cluster::new(tag, kinds).unwrap();
    c.write_each(|i| render(&[make(if i == 0 { 150 } else { 100 })], &[], &[]))
        .unwrap();
    c.start_all().unwrap();
    c
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn kill9_of_the_master_backup_takes_over_within_master_down() {
    for kinds in kind_sets("kill9_failover", 2) {
        println!("== kill -9 failover: {}", describe(&kinds));
        let mut c = two_nodes("k9", &kinds, |p| {
            Instance::new("VI_1", 51, p, &["192.0.2.100/32"])
        });
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let mon = AddrMonitor::new(&c.nodes[1]).unwrap();
        let cap = Capture::new(&c.nodes[1]).unwrap();
        std::thread::sleep(Duration::from_millis(1200));
        let killed = c.nodes[0].kill9().unwrap();
        let took = mon
            .added_after(VIP, killed, Duration::from_secs(6))
            .unwrap();
        let md = master_down(Duration::from_secs(1), 100);
        println!(
            "n2 added {VIP} {} ms after kill -9 (protocol master_down {} ms after the last advert)",
            took.as_millis(),
            md.as_millis()
        );
        std::thread::sleep(Duration::from_millis(100));
        let gap = wire_gap(&cap, &c);
        println!(
            "on the wire: n2's first advert {:.1} ms after n1's last (protocol {} ms)",
            gap.as_secs_f64() * 1000.0,
            md.as_millis()
        );
        assert!(
            gap + Duration::from_millis(20) >= md && gap <= md + Duration::from_millis(150),
            "advert gap {gap:?}"
        );
        assert!(took <= md + Duration::from_millis(300), "took {took:?}");
        assert!(
            took >= md - Duration::from_millis(1100),
            "too early: {took:?}"
        );
        assert!(c.nodes[1].holds(VIP));
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn sigterm_of_the_master_hands_over_within_skew() {
    for kinds in kind_sets("sigterm_handover", 2) {
        println!("== SIGTERM handover: {}", describe(&kinds));
        let mut c = two_nodes("st", &kinds, |p| {
            Instance::new("VI_1", 51, p, &["192.0.2.100/32"])
        });
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        std::thread::sleep(Duration::from_millis(500));
        let mon1 = AddrMonitor::new(&c.nodes[0]).unwrap();
        let mon2 = AddrMonitor::new(&c.nodes[1]).unwrap();
        let cap = Capture::new(&c.nodes[1]).unwrap();
        let at = c.nodes[0].sigterm().unwrap();
        let gone = mon1
            .wait_for(VIP, true, at, Duration::from_secs(2))
            .unwrap()
            .duration_since(at)
            .unwrap_or_default();
        let took = mon2.added_after(VIP, at, Duration::from_secs(3)).unwrap();
        println!(
            "n1 removed {VIP} {} ms after SIGTERM; n2 added it {} ms after SIGTERM (skew 609 ms)",
            gone.as_millis(),
            took.as_millis()
        );
        assert!(gone <= Duration::from_millis(300), "removal took {gone:?}");
        assert!(
            took >= Duration::from_millis(450) && took <= Duration::from_millis(1000),
            "{took:?}"
        );
        let gap = wire_gap(&cap, &c);
        let (last, _) = cap
            .handover(c.nodes[0].addr4(), c.nodes[1].addr4())
            .unwrap();
        println!(
            "on the wire: n2's first advert {:.1} ms after n1's priority-{} advert (skew 609.4 ms)",
            gap.as_secs_f64() * 1000.0,
            last.prio
        );
        assert_eq!(last.prio, 0, "n1 must send a priority-0 advert on SIGTERM");
        assert!(
            gap >= Duration::from_millis(590) && gap <= Duration::from_millis(750),
            "{gap:?}"
        );
        c.nodes[0].stop().unwrap();
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(1))
            .unwrap();
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn vrrpv3_advert_0_1_is_stable_and_fails_over_in_361_ms() {
    for kinds in kind_sets("vrrpv3_fast", 2) {
        println!("== VRRPv3 advert_int 0.1: {}", describe(&kinds));
        let mut c = two_nodes("v3", &kinds, |p| {
            let mut i = Instance::new("VI_1", 51, p, &["192.0.2.100/32"]);
            i.version = Some(3);
            i.advert_int = "0.1".into();
            i
        });
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(3))
            .unwrap();
        let mon = AddrMonitor::new(&c.nodes[1]).unwrap();
        let cap = Capture::new(&c.nodes[1]).unwrap();
        // No spurious transition: n2 never adds the VIP while n1 is alive.
        std::thread::sleep(Duration::from_secs(3));
        assert_eq!(
            mon.times_added(VIP),
            0,
            "n2 took the VIP while n1 was alive"
        );
        let killed = c.nodes[0].kill9().unwrap();
        let took = mon
            .added_after(VIP, killed, Duration::from_secs(2))
            .unwrap();
        let md = master_down(Duration::from_millis(100), 100);
        println!(
            "n2 added {VIP} {} ms after kill -9 (master_down {} ms)",
            took.as_millis(),
            md.as_millis()
        );
        assert!(took <= md + Duration::from_millis(150), "took {took:?}");
        let gap = wire_gap(&cap, &c);
        println!(
            "on the wire: n2's first advert {:.1} ms after n1's last (protocol {:.1} ms)",
            gap.as_secs_f64() * 1000.0,
            md.as_secs_f64() * 1000.0
        );
        assert!(
            gap + Duration::from_millis(5) >= md && gap <= md + Duration::from_millis(100),
            "advert gap {gap:?}"
        );
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn ipv6_vips_over_vrrpv3_fail_over() {
    const VIP6: &str = "fd00::100";
    for kinds in kind_sets("ipv6", 2) {
        println!("== IPv6 VIPs (VRRPv3): {}", describe(&kinds));
        let mut c = two_nodes("v6", &kinds, |p| {
            let mut i = Instance::new("VI_6", 61, p, &["fd00::100/64"]);
            i.version = Some(3);
            i
        });
        c.wait_sole_holder(VIP6, "n1", Duration::from_secs(8))
            .unwrap();
        c.assert_stays_sole_holder(VIP6, "n1", Duration::from_secs(1))
            .unwrap();
        let mon = AddrMonitor::new(&c.nodes[1]).unwrap();
        let killed = c.nodes[0].kill9().unwrap();
        let took = mon
            .added_after(VIP6, killed, Duration::from_secs(6))
            .unwrap();
        println!("n2 added {VIP6} {} ms after kill -9", took.as_millis());
        assert!(took <= master_down(Duration::from_secs(1), 100) + Duration::from_millis(300));
    }
}
