//! Two VRRP routers in two network namespaces joined by a veth pair (192.0.2.0/24,
//! fd00::/64), each running `vrrpd_standalone` (or Debian's keepalived for the interop
//! tests). Needs root and `ip`; run with
//! `cargo test -p keepalived-vrrpd --test two_nodes -- --ignored --test-threads=1`.
//!
//! Namespaces, processes and temporary files are cleaned up by a Drop guard, also when a
//! test fails.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_vrrpd_standalone");
const KEEPALIVED: &str = "/usr/sbin/keepalived";
const VIP4: &str = "192.0.2.100";
const VIP6: &str = "fd00::100";

static SEQ: AtomicUsize = AtomicUsize::new(0);

fn ip(args: &[&str]) {
    let st = Command::new("ip").args(args).status().expect("run ip");
    assert!(st.success(), "ip {args:?} failed");
}

/// One node: its namespace and the daemon running in it.
struct Node {
    ns: String,
    child: Option<Child>,
    /// keepalived's VRRP child pid file, when the node runs keepalived.
    keepalived_vrrp_pid: Option<PathBuf>,
}

struct Lab {
    nodes: Vec<Node>,
    dir: PathBuf,
}

impl Lab {
    fn new() -> Lab {
        let id = format!(
            "{}{}",
            std::process::id() % 100_000,
            SEQ.fetch_add(1, Ordering::SeqCst)
        );
        let dir = std::env::temp_dir().join(format!("vrrpd-lab-{id}"));
        std::fs::create_dir_all(&dir).unwrap();
        let names = [format!("kvA{id}"), format!("kvB{id}")];
        let mut lab = Lab {
            nodes: Vec::new(),
            dir,
        };
        for ns in &names {
            ip(&["netns", "add", ns]);
            lab.nodes.push(Node {
                ns: ns.clone(),
                child: None,
                keepalived_vrrp_pid: None,
            });
            ip(&["-n", ns, "link", "set", "lo", "up"]);
        }
        let (va, vb) = (format!("kva{id}"), format!("kvb{id}"));
        ip(&["link", "add", &va, "type", "veth", "peer", "name", &vb]);
        for (i, (dev, ns)) in [(&va, &names[0]), (&vb, &names[1])].into_iter().enumerate() {
            ip(&["link", "set", dev, "netns", ns, "name", "eth0"]);
            let a4 = format!("192.0.2.{}/24", i + 1);
            let a6 = format!("fd00::{}/64", i + 1);
            ip(&["-n", ns, "addr", "add", &a4, "dev", "eth0"]);
            ip(&["-n", ns, "addr", "add", &a6, "dev", "eth0", "nodad"]);
            ip(&["-n", ns, "link", "set", "eth0", "up"]);
        }
        lab
    }

    fn conf(&self, node: usize, text: &str) -> PathBuf {
        let p = self.dir.join(format!("node{node}.conf"));
        std::fs::write(&p, text).unwrap();
        p
    }

    fn log_path(&self, node: usize, run: &str) -> PathBuf {
        self.dir.join(format!("node{node}-{run}.log"))
    }

    fn start_ours(&mut self, node: usize, conf: &str, run: &str) {
        let c = self.conf(node, conf);
        let log = std::fs::File::create(self.log_path(node, run)).unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.nodes[node].ns, BIN, "-f"])
            .arg(&c)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.nodes[node].child = Some(child);
    }

    fn start_keepalived(&mut self, node: usize, conf: &str, run: &str) {
        let c = self.conf(node, conf);
        let d = self.dir.join(format!("ka{node}"));
        std::fs::create_dir_all(&d).unwrap();
        let log = std::fs::File::create(self.log_path(node, run)).unwrap();
        let vrrp_pid = d.join("vrrp.pid");
        // Stale pid files of a killed keepalived make it exit with "daemon is already running".
        for f in ["k.pid", "vrrp.pid", "c.pid"] {
            let _ = std::fs::remove_file(d.join(f));
        }
        let child = Command::new("ip")
            .args(["netns", "exec", &self.nodes[node].ns, KEEPALIVED])
            .args(["-n", "-l", "-D", "-P", "-f"])
            .arg(&c)
            .arg("-p")
            .arg(d.join("k.pid"))
            .arg("-r")
            .arg(&vrrp_pid)
            .arg("-c")
            .arg(d.join("c.pid"))
            .env("TMPDIR", &d)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap();
        self.nodes[node].child = Some(child);
        self.nodes[node].keepalived_vrrp_pid = Some(vrrp_pid);
    }

    fn signal(&mut self, node: usize, sig: &str) {
        let n = &mut self.nodes[node];
        let Some(child) = n.child.as_ref() else {
            return;
        };
        let mut pids = vec![child.id().to_string()];
        if let Some(p) = &n.keepalived_vrrp_pid {
            if let Ok(t) = std::fs::read_to_string(p) {
                pids.push(t.trim().to_string());
            }
        }
        if sig == "KILL" {
            // Freeze every process first, so a dying parent's PDEATHSIG cannot make the
            // VRRP child shut down gracefully (lab-observations.md).
            for p in &pids {
                let _ = Command::new("kill").args(["-STOP", p]).status();
            }
            for p in &pids {
                let _ = Command::new("kill").args(["-KILL", p]).status();
            }
            if let Some(mut c) = n.child.take() {
                let _ = c.wait();
            }
        } else {
            let _ = Command::new("kill")
                .args([&format!("-{sig}"), &pids[0]])
                .status();
        }
    }

    /// Waits for the node's daemon to exit; returns its exit status.
    fn wait_exit(&mut self, node: usize, timeout: Duration) -> Option<std::process::ExitStatus> {
        let until = Instant::now() + timeout;
        let child = self.nodes[node].child.as_mut()?;
        loop {
            if let Ok(Some(st)) = child.try_wait() {
                self.nodes[node].child = None;
                return Some(st);
            }
            if Instant::now() > until {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    fn has(&self, node: usize, addr: &str) -> bool {
        self.has_on(node, "eth0", addr)
    }

    fn has_on(&self, node: usize, dev: &str, addr: &str) -> bool {
        let out = Command::new("ip")
            .args([
                "-n",
                &self.nodes[node].ns,
                "-br",
                "addr",
                "show",
                "dev",
                dev,
            ])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .any(|w| w.split('/').next() == Some(addr))
    }

    fn log(&self, node: usize, run: &str) -> String {
        std::fs::read_to_string(self.log_path(node, run)).unwrap_or_default()
    }

    /// Polls `f` every 5 ms; returns how long it took to hold, or None on timeout.
    fn wait_for(&self, timeout: Duration, f: impl Fn(&Lab) -> bool) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < timeout {
            if f(self) {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        None
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.signal(i, "KILL");
            if let Some(mut c) = self.nodes[i].child.take() {
                let _ = c.wait();
            }
        }
        for n in &self.nodes {
            let _ = Command::new("ip").args(["netns", "del", &n.ns]).status();
        }
        if std::env::var_os("VRRPD_LAB_KEEP").is_none() {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

fn conf(prio: u8, vip: &str) -> String {
    format!(
        "vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  priority {prio}\n  advert_int 1\n  virtual_ipaddress {{\n    {vip}\n  }}\n}}\n"
    )
}

fn skip() -> bool {
    let root = nix_is_root();
    if !root {
        eprintln!("skipped: needs root");
    }
    !root
}

fn nix_is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// master_down for priority 100, v2: 3 s + 156/256 s.
const MASTER_DOWN_100: Duration = Duration::from_micros(3_609_375);

#[test]
#[ignore = "needs root + netns"]
fn failover_kill_preempt_and_sigterm() {
    if skip() {
        return;
    }
    let mut lab = Lab::new();
    lab.start_ours(0, &conf(150, VIP4), "a1");
    lab.start_ours(1, &conf(100, VIP4), "b1");
    let t = lab.wait_for(Duration::from_secs(6), |l| l.has(0, VIP4));
    assert!(t.is_some(), "A never took the VIP:\n{}", lab.log(0, "a1"));
    eprintln!("A holds the VIP {:?} after start", t);
    // The backup hears the adverts and stays BACKUP.
    std::thread::sleep(Duration::from_secs(5));
    assert!(
        !lab.has(1, VIP4),
        "B took the VIP too:\n{}",
        lab.log(1, "b1")
    );
    assert!(
        !lab.log(1, "b1").contains("Entering MASTER STATE"),
        "{}",
        lab.log(1, "b1")
    );

    // kill -9: B takes over within master_down (+ up to one advert interval of phase).
    let t0 = Instant::now();
    lab.signal(0, "KILL");
    lab.wait_exit(0, Duration::from_secs(2));
    let t = lab.wait_for(MASTER_DOWN_100 + Duration::from_millis(800), |l| {
        l.has(1, VIP4)
    });
    let t = t.unwrap_or_else(|| panic!("B did not take over:\n{}", lab.log(1, "b1")));
    eprintln!(
        "kill -9 failover: {:?} after the kill (protocol: <= {:?})",
        t, MASTER_DOWN_100
    );
    assert!(t >= Duration::from_millis(2500), "too early: {t:?}");
    // The killed master left its VIP (nothing removed it); a restart removes it and preempts.
    assert!(lab.has(0, VIP4));
    lab.start_ours(0, &conf(150, VIP4), "a2");
    let t = lab.wait_for(Duration::from_secs(2), |l| !l.has(0, VIP4));
    assert!(
        t.is_some(),
        "stale VIP not removed at start:\n{}",
        lab.log(0, "a2")
    );
    assert!(lab.log(0, "a2").contains("(VI_1) removing VIPs."));
    let t = lab.wait_for(Duration::from_secs(6), |l| {
        l.has(0, VIP4) && !l.has(1, VIP4)
    });
    assert!(
        t.is_some(),
        "A did not preempt:\n{}\n{}",
        lab.log(0, "a2"),
        lab.log(1, "b1")
    );
    let _ = t0;

    // SIGTERM: priority 0, B takes over after its skew time (0.61 s).
    std::thread::sleep(Duration::from_millis(1500));
    let t0 = Instant::now();
    lab.signal(0, "TERM");
    let t = lab.wait_for(Duration::from_secs(2), |l| l.has(1, VIP4));
    let t = t.unwrap_or_else(|| panic!("no handover:\n{}\n{}", lab.log(0, "a2"), lab.log(1, "b1")));
    eprintln!("SIGTERM handover: {t:?} (skew 609 ms)");
    assert!(t < Duration::from_millis(1200), "{t:?}");
    let st = lab
        .wait_exit(0, Duration::from_secs(3))
        .expect("A did not exit");
    assert!(st.success(), "{st:?}");
    assert!(!lab.has(0, VIP4));
    assert!(t0.elapsed() < Duration::from_secs(4));
    let a = lab.log(0, "a2");
    assert!(a.contains("(VI_1) Entering STOP STATE"), "{a}");
    assert!(lab
        .log(1, "b1")
        .contains("(VI_1) Backup received priority 0 advertisement"));
}

#[test]
#[ignore = "needs root + netns"]
fn ipv6_master_and_failover() {
    if skip() {
        return;
    }
    let mut lab = Lab::new();
    let vip = format!("{VIP6}/64");
    lab.start_ours(0, &conf(150, &vip), "a");
    lab.start_ours(1, &conf(100, &vip), "b");
    let t = lab.wait_for(Duration::from_secs(8), |l| l.has(0, VIP6));
    assert!(t.is_some(), "A never took the VIP:\n{}", lab.log(0, "a"));
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !lab.has(1, VIP6),
        "B took the VIP too:\n{}",
        lab.log(1, "b")
    );
    lab.signal(0, "KILL");
    let t = lab.wait_for(MASTER_DOWN_100 + Duration::from_millis(800), |l| {
        l.has(1, VIP6)
    });
    assert!(t.is_some(), "B did not take over:\n{}", lab.log(1, "b"));
    eprintln!("IPv6 kill -9 failover: {:?}", t);
}

#[test]
#[ignore = "needs root + netns"]
fn link_down_is_fault() {
    if skip() {
        return;
    }
    let mut lab = Lab::new();
    lab.start_ours(0, &conf(150, VIP4), "a");
    lab.start_ours(1, &conf(100, VIP4), "b");
    assert!(lab
        .wait_for(Duration::from_secs(6), |l| l.has(0, VIP4))
        .is_some());
    let ns = lab.nodes[0].ns.clone();
    // Down on a veth is carrier loss on both ends: both go FAULT, A drops its VIP.
    ip(&["-n", &ns, "link", "set", "eth0", "down"]);
    let t = lab.wait_for(Duration::from_secs(5), |l| {
        l.log(0, "a").contains("Entering FAULT STATE")
    });
    assert!(t.is_some(), "{}", lab.log(0, "a"));
    assert!(lab
        .wait_for(Duration::from_secs(2), |l| !l.has(0, VIP4))
        .is_some());
    assert!(
        lab.log(1, "b").contains("Entering FAULT STATE"),
        "{}",
        lab.log(1, "b")
    );
    ip(&["-n", &ns, "link", "set", "eth0", "up"]);
    let t = lab.wait_for(Duration::from_secs(8), |l| {
        l.has(0, VIP4) && !l.has(1, VIP4)
    });
    assert!(t.is_some(), "{}\n{}", lab.log(0, "a"), lab.log(1, "b"));
}

fn keepalived_present() -> bool {
    let present = Path::new(KEEPALIVED).exists();
    if !present {
        eprintln!("skipped: {KEEPALIVED} not installed");
    }
    present
}

#[test]
#[ignore = "needs root + netns"]
fn interop_keepalived_master_ours_backup() {
    if skip() || !keepalived_present() {
        return;
    }
    let mut lab = Lab::new();
    lab.start_keepalived(0, &conf(150, VIP4), "ka");
    lab.start_ours(1, &conf(100, VIP4), "b");
    let t = lab.wait_for(Duration::from_secs(8), |l| l.has(0, VIP4));
    assert!(
        t.is_some(),
        "keepalived never took the VIP:\n{}",
        lab.log(0, "ka")
    );
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !lab.has(1, VIP4),
        "ours took the VIP too:\n{}",
        lab.log(1, "b")
    );
    // keepalived dies: ours takes over.
    lab.signal(0, "KILL");
    let t = lab.wait_for(MASTER_DOWN_100 + Duration::from_millis(800), |l| {
        l.has(1, VIP4)
    });
    assert!(t.is_some(), "ours did not take over:\n{}", lab.log(1, "b"));
    eprintln!("keepalived killed -> ours MASTER after {:?}", t);
    // keepalived comes back with the higher priority and preempts ours.
    lab.start_keepalived(0, &conf(150, VIP4), "ka2");
    let t = lab.wait_for(Duration::from_secs(8), |l| {
        l.has(0, VIP4) && !l.has(1, VIP4)
    });
    assert!(
        t.is_some(),
        "no preemption:\n{}\n{}",
        lab.log(0, "ka2"),
        lab.log(1, "b")
    );
    // Graceful stop of keepalived: priority 0, ours takes over after its skew.
    std::thread::sleep(Duration::from_millis(1500));
    lab.signal(0, "TERM");
    let t = lab.wait_for(Duration::from_secs(3), |l| l.has(1, VIP4));
    assert!(t.is_some(), "{}", lab.log(1, "b"));
    eprintln!("keepalived SIGTERM -> ours MASTER after {:?}", t);
}

#[test]
#[ignore = "needs root + netns"]
fn interop_ours_master_keepalived_backup() {
    if skip() || !keepalived_present() {
        return;
    }
    let mut lab = Lab::new();
    lab.start_ours(0, &conf(150, VIP4), "a");
    lab.start_keepalived(1, &conf(100, VIP4), "kb");
    let t = lab.wait_for(Duration::from_secs(8), |l| l.has(0, VIP4));
    assert!(t.is_some(), "ours never took the VIP:\n{}", lab.log(0, "a"));
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !lab.has(1, VIP4),
        "keepalived took the VIP too:\n{}",
        lab.log(1, "kb")
    );
    // Graceful stop of ours: keepalived takes over after its skew.
    lab.signal(0, "TERM");
    let t = lab.wait_for(Duration::from_secs(3), |l| l.has(1, VIP4));
    assert!(t.is_some(), "{}", lab.log(1, "kb"));
    eprintln!("ours SIGTERM -> keepalived MASTER after {:?}", t);
    assert!(lab
        .wait_exit(0, Duration::from_secs(3))
        .is_some_and(|s| s.success()));
    // Ours comes back with the higher priority and preempts keepalived; then kill -9.
    lab.start_ours(0, &conf(150, VIP4), "a2");
    let t = lab.wait_for(Duration::from_secs(8), |l| {
        l.has(0, VIP4) && !l.has(1, VIP4)
    });
    assert!(
        t.is_some(),
        "no preemption:\n{}\n{}",
        lab.log(0, "a2"),
        lab.log(1, "kb")
    );
    lab.signal(0, "KILL");
    let t = lab.wait_for(MASTER_DOWN_100 + Duration::from_millis(800), |l| {
        l.has(1, VIP4)
    });
    assert!(
        t.is_some(),
        "keepalived did not take over:\n{}",
        lab.log(1, "kb")
    );
    eprintln!("ours killed -> keepalived MASTER after {:?}", t);
}

#[test]
#[ignore = "needs root + netns"]
fn track_file_weight_and_notify() {
    if skip() {
        return;
    }
    let mut lab = Lab::new();
    let tf = lab.dir.join("track");
    let notes = lab.dir.join("notify.log");
    std::fs::write(&tf, "0\n").unwrap();
    let a = format!(
        "global_defs {{\n  enable_script_security\n}}\ntrack_file tf {{\n  file {}\n  weight -60\n}}\nvrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  priority 150\n  track_file {{\n    tf\n  }}\n  notify \"/bin/sh -c 'echo \\\"$*\\\" >> {}' sh\"\n  virtual_ipaddress {{\n    {VIP4}\n  }}\n}}\n",
        tf.display(),
        notes.display()
    );
    lab.start_ours(0, &a, "a");
    lab.start_ours(1, &conf(100, VIP4), "b");
    assert!(
        lab.wait_for(Duration::from_secs(6), |l| l.has(0, VIP4))
            .is_some(),
        "{}",
        lab.log(0, "a")
    );
    // The file says 1: 150 - 60 = 90 < 100, B takes over.
    std::fs::write(&tf, "1\n").unwrap();
    let t = lab.wait_for(Duration::from_secs(7), |l| {
        l.has(1, VIP4) && !l.has(0, VIP4)
    });
    assert!(t.is_some(), "{}\n{}", lab.log(0, "a"), lab.log(1, "b"));
    eprintln!("track_file weight: B took over {t:?} after the write");
    assert!(lab
        .log(0, "a")
        .contains("(VI_1) Changing effective priority from 150 to 90"));
    // Back to 0: A preempts again.
    std::fs::write(&tf, "0\n").unwrap();
    let t = lab.wait_for(Duration::from_secs(7), |l| {
        l.has(0, VIP4) && !l.has(1, VIP4)
    });
    assert!(t.is_some(), "{}\n{}", lab.log(0, "a"), lab.log(1, "b"));
    std::thread::sleep(Duration::from_millis(300));
    let n = std::fs::read_to_string(&notes).unwrap_or_default();
    let lines: Vec<&str> = n.lines().collect();
    assert_eq!(
        lines,
        vec![
            "INSTANCE VI_1 BACKUP 150",
            "INSTANCE VI_1 MASTER 150",
            "INSTANCE VI_1 BACKUP 90",
            "INSTANCE VI_1 MASTER 150",
        ],
        "{n}"
    );
}

#[test]
#[ignore = "needs root + netns"]
fn unicast_failover() {
    if skip() {
        return;
    }
    let mut lab = Lab::new();
    let uc = |prio: u8, me: u8, peer: u8| {
        format!(
            "vrrp_instance VI_1 {{\n  interface eth0\n  virtual_router_id 51\n  priority {prio}\n  unicast_src_ip 192.0.2.{me}\n  unicast_peer {{\n    192.0.2.{peer}\n  }}\n  virtual_ipaddress {{\n    {VIP4}\n  }}\n}}\n"
        )
    };
    lab.start_ours(0, &uc(150, 1, 2), "a");
    lab.start_ours(1, &uc(100, 2, 1), "b");
    assert!(
        lab.wait_for(Duration::from_secs(6), |l| l.has(0, VIP4))
            .is_some(),
        "{}",
        lab.log(0, "a")
    );
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !lab.has(1, VIP4),
        "B took the VIP too:\n{}",
        lab.log(1, "b")
    );
    lab.signal(0, "TERM");
    let t = lab.wait_for(Duration::from_secs(2), |l| l.has(1, VIP4));
    assert!(t.is_some(), "{}", lab.log(1, "b"));
    eprintln!("unicast SIGTERM handover: {t:?}");
}

#[test]
#[ignore = "needs root + netns"]
fn vmac_failover() {
    if skip() {
        return;
    }
    let mut lab = Lab::new();
    let vm = |prio: u8| {
        format!(
            "vrrp_instance VI_1 {{\n  interface eth0\n  use_vmac\n  virtual_router_id 51\n  priority {prio}\n  virtual_ipaddress {{\n    {VIP4}/24\n  }}\n}}\n"
        )
    };
    lab.start_ours(0, &vm(150), "a");
    lab.start_ours(1, &vm(100), "b");
    let t = lab.wait_for(Duration::from_secs(6), |l| l.has_on(0, "vrrp.51", VIP4));
    assert!(t.is_some(), "{}", lab.log(0, "a"));
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !lab.has_on(1, "vrrp.51", VIP4),
        "B took the VIP too:\n{}",
        lab.log(1, "b")
    );
    // B resolves the VIP to the virtual MAC. (The first connection makes A learn B's MAC:
    // A's own ARP request for B goes out of eth0 with the VIP as sender address, which
    // would overwrite B's entry; the second resolution is the one checked.)
    let ns_b = lab.nodes[1].ns.clone();
    let _ = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns_b,
            "timeout",
            "2",
            "bash",
            "-c",
            &format!("echo > /dev/tcp/{VIP4}/9"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    ip(&["-n", &ns_b, "neigh", "flush", "all"]);
    // The resolution that is checked.
    let _ = Command::new("ip")
        .args([
            "netns",
            "exec",
            &ns_b,
            "timeout",
            "2",
            "bash",
            "-c",
            &format!("echo > /dev/tcp/{VIP4}/9"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let neigh = Command::new("ip")
        .args(["-n", &ns_b, "neigh"])
        .output()
        .unwrap();
    let neigh = String::from_utf8_lossy(&neigh.stdout).into_owned();
    assert!(neigh.contains("00:00:5e:00:01:33"), "{neigh}");
    lab.signal(0, "KILL");
    let t = lab.wait_for(MASTER_DOWN_100 + Duration::from_millis(800), |l| {
        l.has_on(1, "vrrp.51", VIP4)
    });
    assert!(t.is_some(), "{}", lab.log(1, "b"));
    eprintln!("VMAC kill -9 failover: {t:?}");
    lab.signal(1, "TERM");
    assert!(lab
        .wait_exit(1, Duration::from_secs(3))
        .is_some_and(|s| s.success()));
    let links = Command::new("ip")
        .args(["-n", &ns_b, "-br", "link"])
        .output()
        .unwrap();
    let links = String::from_utf8_lossy(&links.stdout).into_owned();
    assert!(!links.contains("vrrp.51"), "VMAC left behind: {links}");
}
