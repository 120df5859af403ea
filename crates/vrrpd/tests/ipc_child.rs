//! `run_child` driven over a socketpair as the supervisor drives it: handshake, `Start`,
//! `Ready`, `InstanceState` reports, `Stats`, `Dump`, `Shutdown`. The child runs in a thread
//! moved into its own network namespace (setns only changes the calling thread's).
//! Needs root; run with
//! `cargo test -p keepalived-vrrpd --test ipc_child -- --ignored --test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::Ns;
use keepalived_config::{load_str, AssumeAll, LoadOptions};
use keepalived_ipc::{ToChild, ToParent, VrrpState, PROTOCOL_VERSION};
use std::io::Read;
use std::time::{Duration, Instant};

#[test]
#[ignore = "needs root + netns"]
fn supervisor_protocol() {
    let ns = Ns::with_veth("kvipc");
    let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n state MASTER\n priority 255\n virtual_ipaddress {\n 192.0.2.50/24\n }\n virtual_routes {\n 198.51.100.0/24 via 192.0.2.254\n }\n virtual_rules {\n from 192.0.2.50 table 100 priority 1000\n }\n}\n";
    let loaded = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
    let (mut p, child) = ns.spawn_child();
    p.start(loaded.config);
    // The owner becomes MASTER at once (after the 200 ms Resume grace).
    let m =
        p.recv_until(|m| matches!(m, ToParent::InstanceState(s) if s.state == VrrpState::Master));
    let ToParent::InstanceState(s) = m else {
        panic!()
    };
    assert_eq!((s.name.as_str(), s.priority), ("VI_1", 255));
    let t0 = Instant::now();
    while !ns.has("192.0.2.50") && t0.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(ns.has("192.0.2.50"));
    let text = p.stats(7, false);
    assert!(text.starts_with("VRRP Instance: VI_1\n"), "{text}");
    assert!(text.contains("Became master: 1"), "{text}");
    let text = p.dump(8, keepalived_ipc::DumpFormat::Data);
    assert!(text.contains("State = MASTER"), "{text}");
    // Reload: add a VIP (the other stays), then remove the first one; no transition.
    let reload = |vips: &str| {
        let text = format!("vrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 9\n state MASTER\n priority 255\n virtual_ipaddress {{\n{vips} }}\n virtual_routes {{\n 198.51.100.0/24 via 192.0.2.254\n }}\n virtual_rules {{\n from 192.0.2.50 table 100 priority 1000\n }}\n}}\n");
        let loaded = load_str("t.conf", &text, &LoadOptions::default(), &AssumeAll);
        ToChild::Reload {
            config: Box::new(loaded.config),
        }
    };
    p.send(&reload(" 192.0.2.50/24\n 192.0.2.51/24\n"));
    let m = p.recv_until(|m| matches!(m, ToParent::ReloadDone { .. }));
    assert_eq!(m, ToParent::ReloadDone { warnings: vec![] });
    assert!(ns.has("192.0.2.50") && ns.has("192.0.2.51"));
    p.send(&reload(" 192.0.2.51/24\n"));
    let _ = p.recv_until(|m| matches!(m, ToParent::ReloadDone { .. }));
    assert!(!ns.has("192.0.2.50") && ns.has("192.0.2.51"));
    let text = p.stats(9, false);
    assert!(text.contains("Became master: 1"), "{text}");
    p.send(&ToChild::Shutdown);
    let m = p.recv_until(|m| matches!(m, ToParent::InstanceState(s) if s.state == VrrpState::Stop));
    assert!(matches!(m, ToParent::InstanceState(_)));
    let code = child.join().unwrap();
    assert_eq!(
        format!("{code:?}"),
        format!("{:?}", std::process::ExitCode::SUCCESS)
    );
    assert!(!ns.has("192.0.2.50") && !ns.has("192.0.2.51"));
    assert!(!ns.routes().contains("198.51.100.0/24"), "{}", ns.routes());
}

/// A respawned child told its instance was MASTER takes it back at once without removing the
/// VIP its predecessor left; FIFO lines are written as keepalived writes them.
#[test]
#[ignore = "needs root + netns"]
fn resume_keeps_master_and_fifo_lines() {
    use std::os::unix::fs::OpenOptionsExt;
    let ns = Ns::with_veth("kvres");
    // The predecessor's VIP.
    ns.ip(&["addr", "add", "192.0.2.60/32", "dev", "eth0"]);
    let dir = std::env::temp_dir().join(format!("kvres{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let fifo = dir.join("fifo");
    nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::S_IRWXU).unwrap();
    let mut reader = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(nix::fcntl::OFlag::O_NONBLOCK.bits())
        .open(&fifo)
        .unwrap();
    let text = format!(
        "global_defs {{\n vrrp_notify_fifo {}\n}}\nvrrp_instance VI_1 {{\n interface eth0\n virtual_router_id 9\n priority 100\n virtual_ipaddress {{\n 192.0.2.60\n }}\n}}\n",
        fifo.display()
    );
    let loaded = load_str("t.conf", &text, &LoadOptions::default(), &AssumeAll);
    let (mut p, child) = ns.spawn_child();
    p.send(&ToChild::Hello {
        version: PROTOCOL_VERSION,
    });
    p.send(&ToChild::Start {
        config: Box::new(loaded.config),
    });
    p.send(&ToChild::Resume {
        last_states: vec![keepalived_ipc::InstanceStatus {
            name: "VI_1".into(),
            state: VrrpState::Master,
            priority: 100,
            since: keepalived_ipc::UnixMicros(0),
        }],
    });
    let t0 = Instant::now();
    assert_eq!(
        p.recv(),
        ToParent::Hello {
            version: PROTOCOL_VERSION
        }
    );
    assert_eq!(p.recv(), ToParent::Ready);
    let m = p.recv_until(|m| matches!(m, ToParent::InstanceState(_)));
    let ToParent::InstanceState(s) = m else {
        panic!()
    };
    assert_eq!(
        s.state,
        VrrpState::Master,
        "no BACKUP (init) first on resume"
    );
    assert!(
        t0.elapsed() < Duration::from_millis(500),
        "{:?}",
        t0.elapsed()
    );
    assert!(ns.has("192.0.2.60"));
    p.send(&ToChild::Shutdown);
    let _ = child.join().unwrap();
    let mut lines = String::new();
    let _ = reader.read_to_string(&mut lines);
    assert_eq!(
        lines,
        "INSTANCE \"VI_1\" MASTER 100\nINSTANCE \"VI_1\" STOP 100\n"
    );
    assert!(!ns.has("192.0.2.60"));
    let _ = std::fs::remove_dir_all(&dir);
}
