//! Trackers: track_file weights, track_interface FAULT, sync groups.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use keepalived_integration::{
    describe, kind_sets, render, Cluster, Instance, SyncGroup, TrackFile,
};

const VIP: &str = "192.0.2.100";
const VIP2: &str = "192.0.2.101";

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn track_file_weight_makes_priorities_cross() {
    for kinds in kind_sets("track_file", 2) {
        println!("== track_file weight -60: {}", describe(&kinds));
        let mut c = Cluster::new("tf", &kinds).unwrap();
        let file = c.nodes[0].dir().join("track");
        std::fs::write(&file, "0\n").unwrap();
        c.write_each(|i| {
            let mut inst = Instance::new(
                "VI_1",
                51,
                if i == 0 { 150 } else { 100 },
                &["192.0.2.100/32"],
            );
            if i == 0 {
                inst.track_files.push("tf1".into());
                let tf = TrackFile {
                    name: "tf1".into(),
                    file: "@DIR@/track".into(),
                    weight: -60,
                };
                render(&[inst], &[], &[tf])
            } else {
                render(&[inst], &[], &[])
            }
        })
        .unwrap();
        c.start_all().unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        let t = Instant::now();
        std::fs::write(&file, "1\n").unwrap();
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(7))
            .unwrap();
        println!(
            "file=1 (150-60=90 < 100): n2 took over after {} ms",
            t.elapsed().as_millis()
        );
        let t = Instant::now();
        std::fs::write(&file, "0\n").unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(7))
            .unwrap();
        println!(
            "file=0 (150): n1 preempted after {} ms",
            t.elapsed().as_millis()
        );
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn track_interface_down_means_fault_and_the_vip_moves() {
    for kinds in kind_sets("track_interface", 2) {
        println!("== track_interface: {}", describe(&kinds));
        let mut c = Cluster::new("ti", &kinds).unwrap();
        c.write_each(|i| {
            let mut inst = Instance::new(
                "VI_1",
                51,
                if i == 0 { 150 } else { 100 },
                &["192.0.2.100/32"],
            );
            inst.track_interfaces.push("trk0".into());
            render(&[inst], &[], &[])
        })
        .unwrap();
        c.start_all().unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        let t = Instant::now();
        c.nodes[0].link_down("trk0").unwrap();
        keepalived_integration::wait_until("n1 to drop the VIP", Duration::from_secs(2), || {
            !c.nodes[0].holds(VIP)
        })
        .unwrap();
        println!(
            "trk0 down: n1 (FAULT) removed the VIP after {} ms",
            t.elapsed().as_millis()
        );
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(6))
            .unwrap();
        println!("n2 holds it after {} ms", t.elapsed().as_millis());
        let t = Instant::now();
        c.nodes[0].link_up("trk0").unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(7))
            .unwrap();
        println!(
            "trk0 up: n1 master again after {} ms",
            t.elapsed().as_millis()
        );
    }
}

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn sync_group_members_fail_over_together() {
    for kinds in kind_sets("sync_group", 2) {
        println!("== sync group: {}", describe(&kinds));
        let mut c = Cluster::new("sg", &kinds).unwrap();
        c.write_each(|i| {
            let prio = if i == 0 { 150 } else { 100 };
            let mut a = Instance::new("VI_1", 51, prio, &["192.0.2.100/32"]);
            let b = Instance::new("VI_2", 52, prio, &["192.0.2.101/32"]);
            a.track_interfaces.push("trk0".into());
            let g = SyncGroup {
                name: "G1".into(),
                members: vec!["VI_1".into(), "VI_2".into()],
            };
            render(&[a, b], &[g], &[])
        })
        .unwrap();
        c.start_all().unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(8))
            .unwrap();
        c.wait_sole_holder(VIP2, "n1", Duration::from_secs(2))
            .unwrap();
        let t = Instant::now();
        // Only VI_1 tracks trk0: the whole group must follow it.
        c.nodes[0].link_down("trk0").unwrap();
        c.wait_sole_holder(VIP, "n2", Duration::from_secs(6))
            .unwrap();
        c.wait_sole_holder(VIP2, "n2", Duration::from_secs(2))
            .unwrap();
        println!(
            "VI_1 FAULT on n1: both VIPs on n2 after {} ms",
            t.elapsed().as_millis()
        );
        c.nodes[0].link_up("trk0").unwrap();
        c.wait_sole_holder(VIP, "n1", Duration::from_secs(7))
            .unwrap();
        c.wait_sole_holder(VIP2, "n1", Duration::from_secs(2))
            .unwrap();
    }
}
