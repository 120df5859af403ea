//! The harness itself: a panicking scenario leaves no namespace and no daemon behind.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::Duration;

use keepalived_integration::{render, Cluster, Instance, NodeKind, Partition};

#[test]
#[ignore = "needs root, netns and daemons: run by make integration"]
fn a_panicking_scenario_cleans_up_namespaces_and_daemons() {
    let (tx, rx) = std::sync::mpsc::channel();
    let joined = std::thread::spawn(move || {
        let mut c = Cluster::new("cu", &[NodeKind::Keepalived, NodeKind::Keepalived]).unwrap();
        let inst = Instance::new("VI_1", 51, 100, &["192.0.2.100/32"]);
        c.write_config_all(&render(&[inst], &[], &[])).unwrap();
        c.start_all().unwrap();
        let _cut = Partition::new(&c.nodes[0]).unwrap();
        std::thread::sleep(Duration::from_millis(500));
        tx.send(c.lab.prefix().to_string()).unwrap();
        panic!("deliberate panic with daemons running");
    })
    .join();
    assert!(joined.is_err(), "the scenario thread should have panicked");
    let prefix = rx.recv().unwrap();
    let list = std::process::Command::new("ip")
        .args(["netns", "list"])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(!list.contains(&prefix), "namespaces left behind: {list}");
    let ps = std::process::Command::new("ps")
        .args(["-eo", "pid,stat,args"])
        .output()
        .unwrap();
    let ps = String::from_utf8_lossy(&ps.stdout);
    let left: Vec<&str> = ps
        .lines()
        .filter(|l| {
            l.contains(&prefix)
                && !l
                    .split_whitespace()
                    .nth(1)
                    .is_some_and(|s| s.starts_with('Z'))
        })
        .collect();
    assert!(left.is_empty(), "processes left behind: {left:?}");
    // The panicking lab kept its files for inspection; this one was deliberate.
    let _ = std::fs::remove_dir_all(std::env::temp_dir().join("krs-integration").join(&prefix));
}
