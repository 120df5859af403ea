//! What the child tests share: a network namespace with one veth pair (deleted however the
//! test ends), `run_child` on a thread moved into it (setns only changes the calling
//! thread's), and the supervisor's side of the socketpair.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::Config;
use keepalived_ipc::{encode, DumpFormat, FrameDecoder, ToChild, ToParent, PROTOCOL_VERSION};
use keepalived_vrrpd::{run_child, VrrpdOptions};
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::process::{Command, ExitCode};
use std::thread::JoinHandle;
use std::time::Duration;

/// A namespace with `eth0` (192.0.2.1/24) and its veth peer `eth1`, both up; deleted on drop.
pub struct Ns(pub String);

impl Ns {
    /// Creates `<prefix><pid>` with the veth pair.
    pub fn with_veth(prefix: &str) -> Ns {
        let ns = Ns(format!("{prefix}{}", std::process::id()));
        ip(&["netns", "add", &ns.0]);
        ip(&[
            "-n", &ns.0, "link", "add", "eth0", "type", "veth", "peer", "name", "eth1",
        ]);
        ip(&["-n", &ns.0, "addr", "add", "192.0.2.1/24", "dev", "eth0"]);
        ip(&["-n", &ns.0, "link", "set", "eth0", "up"]);
        ip(&["-n", &ns.0, "link", "set", "eth1", "up"]);
        ns
    }

    /// Runs `ip -n <ns> args…` and asserts it succeeded.
    pub fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.0.as_str()];
        all.extend_from_slice(args);
        ip(&all);
    }

    /// Whether an interface in the namespace has `addr`.
    pub fn has(&self, addr: &str) -> bool {
        let out = Command::new("ip")
            .args(["-n", &self.0, "-br", "addr"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .any(|w| w.split('/').next() == Some(addr))
    }

    /// `ip route` in the namespace.
    pub fn routes(&self) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.0, "route"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Starts `run_child` in the namespace; returns the parent's end and the child's thread.
    pub fn spawn_child(&self) -> (Parent, JoinHandle<ExitCode>) {
        let (ours, theirs) = UnixStream::pair().unwrap();
        theirs
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let ns_path = format!("/run/netns/{}", self.0);
        let child = std::thread::spawn(move || {
            let f = std::fs::File::open(ns_path).unwrap();
            nix::sched::setns(f, nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
            run_child(ours.into(), VrrpdOptions::default())
        });
        let parent = Parent {
            stream: theirs,
            decoder: FrameDecoder::new(),
        };
        (parent, child)
    }
}

impl Drop for Ns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// Runs `ip args…` and asserts it succeeded.
pub fn ip(args: &[&str]) {
    assert!(
        Command::new("ip").args(args).status().unwrap().success(),
        "ip {args:?}"
    );
}

/// The supervisor's end of the channel.
pub struct Parent {
    stream: UnixStream,
    decoder: FrameDecoder<ToParent>,
}

impl Parent {
    /// Sends one message.
    pub fn send(&mut self, m: &ToChild) {
        self.stream.write_all(&encode(m).unwrap()).unwrap();
    }

    /// The next message (10 s at most).
    pub fn recv(&mut self) -> ToParent {
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

    /// The first message for which `f` holds; the ones before it are dropped.
    pub fn recv_until(&mut self, f: impl Fn(&ToParent) -> bool) -> ToParent {
        loop {
            let m = self.recv();
            if f(&m) {
                return m;
            }
        }
    }

    /// The handshake and `Start`: the child must answer `Hello` then `Ready`.
    pub fn start(&mut self, config: Config) {
        self.send(&ToChild::Hello {
            version: PROTOCOL_VERSION,
        });
        assert_eq!(
            self.recv(),
            ToParent::Hello {
                version: PROTOCOL_VERSION
            }
        );
        self.send(&ToChild::Start {
            config: Box::new(config),
        });
        assert_eq!(self.recv(), ToParent::Ready);
    }

    /// The text of dump `id` in `format`.
    pub fn dump(&mut self, id: u64, format: DumpFormat) -> String {
        self.send(&ToChild::Dump { id, format });
        match self.recv_until(|m| matches!(m, ToParent::DumpReply { id: got, .. } if *got == id)) {
            ToParent::DumpReply { text, .. } => text,
            other => panic!("{other:?}"),
        }
    }

    /// The text of stats request `id`.
    pub fn stats(&mut self, id: u64, clear: bool) -> String {
        self.send(&ToChild::Stats { id, clear });
        match self.recv_until(|m| matches!(m, ToParent::StatsReply { id: got, .. } if *got == id)) {
            ToParent::StatsReply { text, .. } => text,
            other => panic!("{other:?}"),
        }
    }
}
