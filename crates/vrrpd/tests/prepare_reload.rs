//! `PrepareReload`: the child dumps links and addresses while the parent parses, and a
//! `Reload` plans with that dump only if the kernel announced no change since. Needs root; run
//! with `cargo test -p keepalived-vrrpd --test prepare_reload -- --ignored --test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Ns;
use keepalived_config::{load_str, AssumeAll, LoadOptions};
use keepalived_ipc::{ToChild, ToParent, VrrpState};
use std::time::{Duration, Instant};

const VI_1: &str = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n state MASTER\n priority 255\n virtual_ipaddress {\n 192.0.2.50/24\n }\n}\n";
const VI_2: &str = "vrrp_instance VI_2 {\n interface eth2\n virtual_router_id 10\n state MASTER\n priority 255\n virtual_ipaddress {\n 198.51.100.50/24\n }\n}\n";

fn reload(text: &str) -> ToChild {
    let loaded = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
    ToChild::Reload {
        config: Box::new(loaded.config),
    }
}

fn wait_for(ns: &Ns, addr: &str) -> bool {
    let t0 = Instant::now();
    while !ns.has(addr) && t0.elapsed() < Duration::from_secs(3) {
        std::thread::sleep(Duration::from_millis(10));
    }
    ns.has(addr)
}

#[test]
#[ignore = "needs root + netns"]
fn a_link_added_after_the_prepared_dump_is_seen_by_the_reload() {
    let ns = Ns::with_veth("kvprep");
    let loaded = load_str("t.conf", VI_1, &LoadOptions::default(), &AssumeAll);
    let (mut p, child) = ns.spawn_child();
    p.start(loaded.config);
    p.recv_until(|m| matches!(m, ToParent::InstanceState(s) if s.state == VrrpState::Master));
    assert!(wait_for(&ns, "192.0.2.50"));

    // Prepared and nothing changed: the reload keeps the VIP and warns of nothing.
    p.send(&ToChild::PrepareReload);
    std::thread::sleep(Duration::from_millis(200));
    p.send(&reload(VI_1));
    let m = p.recv_until(|m| matches!(m, ToParent::ReloadDone { .. }));
    assert_eq!(m, ToParent::ReloadDone { warnings: vec![] });
    assert!(ns.has("192.0.2.50"));

    // Prepared, then a link appears before the Reload that uses it: the dump taken on
    // PrepareReload does not know eth2, so the reload must not plan with it.
    p.send(&ToChild::PrepareReload);
    std::thread::sleep(Duration::from_millis(200));
    ns.ip(&[
        "link", "add", "eth2", "type", "veth", "peer", "name", "eth3",
    ]);
    ns.ip(&["addr", "add", "198.51.100.1/24", "dev", "eth2"]);
    ns.ip(&["link", "set", "eth2", "up"]);
    ns.ip(&["link", "set", "eth3", "up"]);
    p.send(&reload(&format!("{VI_1}{VI_2}")));
    let m = p.recv_until(|m| matches!(m, ToParent::ReloadDone { .. }));
    assert_eq!(m, ToParent::ReloadDone { warnings: vec![] });
    assert!(
        wait_for(&ns, "198.51.100.50"),
        "the new instance on eth2 took no VIP"
    );
    assert!(ns.has("192.0.2.50"));

    p.send(&ToChild::Shutdown);
    p.recv_until(|m| matches!(m, ToParent::InstanceState(s) if s.state == VrrpState::Stop));
    child.join().unwrap();
}
