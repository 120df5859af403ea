//! The dump requests end to end: `run_child` in its own network namespace answers `Dump`
//! (data and JSON) from the running instance and the real system (interfaces, socket
//! descriptors), and `Stats { clear: true }` writes the counters then zeroes them.
//! Needs root; run with
//! `cargo test -p keepalived-vrrpd --test dump_child -- --ignored --test-threads=1`
//! (about 2 s).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Ns;
use keepalived_config::{load_str, AssumeAll, LoadOptions};
use keepalived_ipc::{DumpFormat, ToChild, ToParent, VrrpState};
use std::time::Duration;

fn counter(stats: &str, key: &str) -> u64 {
    stats
        .lines()
        .find(|l| l.trim_start().starts_with(key))
        .and_then(|l| l.rsplit(": ").next())
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| panic!("{key} in {stats}"))
}

#[test]
#[ignore = "needs root + netns"]
fn dumps_and_stats_clear_from_the_child() {
    let ns = Ns::with_veth("kvdump");
    let text = "global_defs {\n router_id dumptest\n}\nvrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n state MASTER\n priority 255\n advert_int 1\n virtual_ipaddress {\n 192.0.2.50/24\n }\n}\n";
    let loaded = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
    let (mut p, child) = ns.spawn_child();
    p.start(loaded.config);
    p.recv_until(|m| matches!(m, ToParent::InstanceState(s) if s.state == VrrpState::Master));

    let data = p.dump(1, DumpFormat::Data);
    if std::env::var_os("DUMP_PRINT").is_some() {
        eprintln!("{data}");
    }
    for want in [
        "------< Global definitions >------\n",
        " Router ID = dumptest\n",
        "------< VRRP Topology >------\n VRRP Instance = VI_1\n   VRRP Version = 2\n   State = MASTER\n",
        "   Using src_ip = 192.0.2.1\n",
        "     192.0.2.50/24 dev eth0 scope global set\n",
        "------< VRRP Sockpool >------\n",
        "------< Interfaces >------\n",
        " Name = eth0\n",
        // A new namespace's loopback is down; it has no MAC line.
        " Name = lo\n   index = 1\n   IPv4 address = (none)\n   IPv6 address = (none)\n   State = not UP, not RUNNING, no broadcast, loopback, no multicast\n",
        "   IPv4 address = 192.0.2.1\n",
        "     VI_1, weight 0\n",
    ] {
        assert!(data.contains(want), "{want:?} missing from\n{data}");
    }
    // A real descriptor, the same in the instance and in the socket pool.
    let fd_line = data
        .lines()
        .find(|l| l.starts_with("   fd_in "))
        .unwrap_or_else(|| panic!("{data}"));
    let fd: i32 = fd_line
        .trim_start_matches("   fd_in ")
        .split(',')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(fd > 2, "{fd_line}");
    assert!(
        data.contains(&format!(" fd_in {fd} fd_out = {fd}\n")),
        "{data}"
    );

    let json: serde_json::Value = serde_json::from_str(&p.dump(2, DumpFormat::Json)).unwrap();
    let first = &json[0];
    assert_eq!(first["data"]["iname"], "VI_1");
    assert_eq!(first["data"]["state"], 2);
    assert_eq!(first["data"]["vipset"], true);
    assert_eq!(first["data"]["ifp_ifname"], "eth0");
    assert_eq!(first["stats"]["become_master"], 1);

    // STATS_CLEAR: this file still has the counts, the next one starts from zero.
    std::thread::sleep(Duration::from_millis(1100));
    let written = p.stats(3, true);
    assert_eq!(counter(&written, "Became master:"), 1, "{written}");
    assert!(counter(&written, "Sent:") >= 1, "{written}");
    let after = p.stats(4, false);
    assert_eq!(counter(&after, "Became master:"), 0, "{after}");
    assert!(counter(&after, "Sent:") <= 1, "{after}");

    p.send(&ToChild::Shutdown);
    p.recv_until(|m| matches!(m, ToParent::InstanceState(s) if s.state == VrrpState::Stop));
    child.join().unwrap();
}
