//! `run_child` driven over a socketpair as the supervisor drives it: handshake, `Start`,
//! `Ready`, `InstanceState` reports, `Stats`, `Dump`, `Shutdown`. The child runs in a thread
//! moved into its own network namespace (setns only changes the calling thread's).
//! Needs root; run with
//! `cargo test -p keepalived-vrrpd --test ipc_child -- --ignored --test-threads=1`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::{load_str, AssumeAll, LoadOptions};
use keepalived_ipc::{encode, FrameDecoder, ToChild, ToParent, VrrpState, PROTOCOL_VERSION};
use keepalived_vrrpd::{run_child, VrrpdOptions};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::Command;
use std::time::{Duration, Instant};

struct Ns(String);

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn ip(args: &[&str]) {
    assert!(
        Command::new("ip").args(args).status().unwrap().success(),
        "ip {args:?}"
    );
}

fn has(ns: &str, addr: &str) -> bool {
    let out = Command::new("ip")
        .args(["-n", ns, "-br", "addr"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .any(|w| w.split('/').next() == Some(addr))
}

struct Parent {
    stream: UnixStream,
    decoder: FrameDecoder<ToParent>,
}

impl Parent {
    fn send(&mut self, m: &ToChild) {
        self.stream.write_all(&encode(m).unwrap()).unwrap();
    }

    fn recv(&mut self) -> ToParent {
        let mut buf = [0u8; 65536];
        loop {
            if let Some(m) = self.decoder.pop().unwrap() {
                return m;
            }
            let n = self.stream.read(&mut buf).expect("read from child");
            assert!(n > 0, "child closed the channel");
            self.decoder.push(&buf[..n]).unwrap();
        }
    }

    fn recv_until(&mut self, f: impl Fn(&ToParent) -> bool) -> ToParent {
        loop {
            let m = self.recv();
            if f(&m) {
                return m;
            }
        }
    }
}

#[test]
#[ignore = "needs root + netns"]
fn supervisor_protocol() {
    let ns = Ns(format!("kvipc{}", std::process::id()));
    ip(&["netns", "add", &ns.0]);
    ip(&[
        "-n", &ns.0, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ]);
    ip(&["-n", &ns.0, "addr", "add", "192.0.2.1/24", "dev", "eth0"]);
    ip(&["-n", &ns.0, "link", "set", "eth0", "up"]);
    ip(&["-n", &ns.0, "link", "set", "eth1", "up"]);
    let text = "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 9\n state MASTER\n priority 255\n virtual_ipaddress {\n 192.0.2.50/24\n }\n virtual_routes {\n 198.51.100.0/24 via 192.0.2.254\n }\n virtual_rules {\n from 192.0.2.50 table 100 priority 1000\n }\n}\n";
    let loaded = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
    let (ours, theirs) = UnixStream::pair().unwrap();
    theirs
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ns_path = format!("/run/netns/{}", ns.0);
    let child = std::thread::spawn(move || {
        let f = std::fs::File::open(ns_path).unwrap();
        nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        run_child(ours.into(), VrrpdOptions::default())
    });
    let mut p = Parent {
        stream: theirs,
        decoder: FrameDecoder::new(),
    };
    p.send(&ToChild::Hello {
        version: PROTOCOL_VERSION,
    });
    assert_eq!(
        p.recv(),
        ToParent::Hello {
            version: PROTOCOL_VERSION
        }
    );
    p.send(&ToChild::Start {
        config: Box::new(loaded.config),
    });
    assert_eq!(p.recv(), ToParent::Ready);
    // The owner becomes MASTER at once (after the 200 ms Resume grace).
    let m =
        p.recv_until(|m| matches!(m, ToParent::InstanceState(s) if s.state == VrrpState::Master));
    let ToParent::InstanceState(s) = m else {
        panic!()
    };
    assert_eq!((s.name.as_str(), s.priority), ("VI_1", 255));
    let t0 = Instant::now();
    while !has(&ns.0, "192.0.2.50") && t0.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(has(&ns.0, "192.0.2.50"));
    p.send(&ToChild::Stats {
        id: 7,
        clear: false,
    });
    let m = p.recv_until(|m| matches!(m, ToParent::StatsReply { .. }));
    let ToParent::StatsReply { id, text } = m else {
        panic!()
    };
    assert_eq!(id, 7);
    assert!(text.starts_with("VRRP Instance: VI_1\n"), "{text}");
    assert!(text.contains("Became master: 1"), "{text}");
    p.send(&ToChild::Dump {
        id: 8,
        format: keepalived_ipc::DumpFormat::Data,
    });
    let m = p.recv_until(|m| matches!(m, ToParent::DumpReply { .. }));
    let ToParent::DumpReply { id, text } = m else {
        panic!()
    };
    assert_eq!(id, 8);
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
    assert!(has(&ns.0, "192.0.2.50") && has(&ns.0, "192.0.2.51"));
    p.send(&reload(" 192.0.2.51/24\n"));
    let _ = p.recv_until(|m| matches!(m, ToParent::ReloadDone { .. }));
    assert!(!has(&ns.0, "192.0.2.50") && has(&ns.0, "192.0.2.51"));
    p.send(&ToChild::Stats {
        id: 9,
        clear: false,
    });
    let m = p.recv_until(|m| matches!(m, ToParent::StatsReply { .. }));
    let ToParent::StatsReply { text, .. } = m else {
        panic!()
    };
    assert!(text.contains("Became master: 1"), "{text}");
    p.send(&ToChild::Shutdown);
    let m = p.recv_until(|m| matches!(m, ToParent::InstanceState(s) if s.state == VrrpState::Stop));
    assert!(matches!(m, ToParent::InstanceState(_)));
    let code = child.join().unwrap();
    assert_eq!(
        format!("{code:?}"),
        format!("{:?}", std::process::ExitCode::SUCCESS)
    );
    assert!(!has(&ns.0, "192.0.2.50") && !has(&ns.0, "192.0.2.51"));
    assert!(
        !routes(&ns.0).contains("198.51.100.0/24"),
        "{}",
        routes(&ns.0)
    );
}

fn routes(ns: &str) -> String {
    let out = Command::new("ip")
        .args(["-n", ns, "route"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A respawned child told its instance was MASTER takes it back at once without removing the
/// VIP its predecessor left; FIFO lines are written as keepalived writes them.
#[test]
#[ignore = "needs root + netns"]
fn resume_keeps_master_and_fifo_lines() {
    use std::os::unix::fs::OpenOptionsExt;
    let ns = Ns(format!("kvres{}", std::process::id()));
    ip(&["netns", "add", &ns.0]);
    ip(&[
        "-n", &ns.0, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
    ]);
    ip(&["-n", &ns.0, "addr", "add", "192.0.2.1/24", "dev", "eth0"]);
    ip(&["-n", &ns.0, "link", "set", "eth0", "up"]);
    ip(&["-n", &ns.0, "link", "set", "eth1", "up"]);
    // The predecessor's VIP.
    ip(&["-n", &ns.0, "addr", "add", "192.0.2.60/32", "dev", "eth0"]);
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
    let (ours, theirs) = UnixStream::pair().unwrap();
    theirs
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let ns_path = format!("/run/netns/{}", ns.0);
    let child = std::thread::spawn(move || {
        let f = std::fs::File::open(ns_path).unwrap();
        nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
        run_child(ours.into(), VrrpdOptions::default())
    });
    let mut p = Parent {
        stream: theirs,
        decoder: FrameDecoder::new(),
    };
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
    assert!(has(&ns.0, "192.0.2.60"));
    p.send(&ToChild::Shutdown);
    let _ = child.join().unwrap();
    let mut lines = String::new();
    let _ = reader.read_to_string(&mut lines);
    assert_eq!(
        lines,
        "INSTANCE \"VI_1\" MASTER 100\nINSTANCE \"VI_1\" STOP 100\n"
    );
    assert!(!has(&ns.0, "192.0.2.60"));
    let _ = std::fs::remove_dir_all(&dir);
}
