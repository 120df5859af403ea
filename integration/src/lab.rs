//! The lab: a bridge namespace and one namespace per node.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use crate::cmd::{ip, run};
use crate::node::Node;
use crate::{LabError, NodeKind, Result};

/// Counts labs within this process so that names stay unique when a test binary makes several.
static LAB_SEQ: AtomicU32 = AtomicU32::new(0);

/// One isolated LAN: namespace `<prefix>-br` holding bridge `br0`, and a namespace per node whose
/// `eth0` is a veth to the bridge. Dropping the lab kills whatever still runs in its namespaces
/// and deletes them.
#[derive(Debug)]
pub struct Lab {
    prefix: String,
    bridge_ns: String,
    dir: PathBuf,
    node_namespaces: Vec<String>,
}

impl Lab {
    /// Creates the bridge namespace. `tag` (a few letters naming the scenario) goes into the
    /// namespace names together with the pid, so parallel runs never collide.
    pub fn new(tag: &str) -> Result<Lab> {
        let seq = LAB_SEQ.fetch_add(1, Ordering::Relaxed);
        let prefix = format!("krsi-{tag}-{}-{seq}", std::process::id());
        let dir = std::env::temp_dir().join("krs-integration").join(&prefix);
        std::fs::create_dir_all(&dir).map_err(|source| LabError::File {
            path: dir.clone(),
            source,
        })?;
        let bridge_ns = format!("{prefix}-br");
        let lab = Lab {
            prefix,
            bridge_ns,
            dir,
            node_namespaces: Vec::new(),
        };
        run("ip", &["netns", "add", &lab.bridge_ns])?;
        ip(&lab.bridge_ns, &["link", "add", "br0", "type", "bridge"])?;
        // VRRP and ND multicast must be flooded whatever the bridge learnt from IGMP/MLD.
        ip(
            &lab.bridge_ns,
            &[
                "link",
                "set",
                "br0",
                "type",
                "bridge",
                "mcast_snooping",
                "0",
            ],
        )?;
        ip(&lab.bridge_ns, &["link", "set", "br0", "up"])?;
        Ok(lab)
    }

    /// Prefix of every namespace name of this lab.
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Directory holding the nodes' configs, logs and pid files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds node number `index` (1-based; its addresses are 192.0.2.`10+index`/24 and
    /// fd00::`10+index`/64 on `eth0`) running `kind`. The daemon is not started.
    pub fn add_node(&mut self, name: &str, index: u8, kind: NodeKind) -> Result<Node> {
        let ns = format!("{}-{name}", self.prefix);
        run("ip", &["netns", "add", &ns])?;
        self.node_namespaces.push(ns.clone());
        // No DAD: link-local and VIP addresses must be usable at once (VRRPv3 over IPv6).
        for key in [
            "net.ipv6.conf.all.accept_dad=0",
            "net.ipv6.conf.default.accept_dad=0",
        ] {
            crate::cmd::in_ns(&ns, "sysctl", &["-q", "-w", key])?;
        }
        let port = format!("v{index}");
        ip(
            &self.bridge_ns,
            &[
                "link", "add", &port, "type", "veth", "peer", "name", "eth0", "netns", &ns,
            ],
        )?;
        ip(&self.bridge_ns, &["link", "set", &port, "master", "br0"])?;
        ip(&self.bridge_ns, &["link", "set", &port, "up"])?;
        ip(&ns, &["link", "set", "lo", "up"])?;
        let addr4 = format!("192.0.2.{}", 10 + u16::from(index));
        let addr6 = format!("fd00::{}", 10 + u16::from(index));
        ip(&ns, &["addr", "add", &format!("{addr4}/24"), "dev", "eth0"])?;
        ip(
            &ns,
            &[
                "addr",
                "add",
                &format!("{addr6}/64"),
                "dev",
                "eth0",
                "nodad",
            ],
        )?;
        // A second, node-local link whose carrier a scenario can cut (track_interface).
        ip(
            &ns,
            &[
                "link", "add", "trk0", "type", "veth", "peer", "name", "trk1",
            ],
        )?;
        for dev in ["eth0", "trk0", "trk1"] {
            ip(&ns, &["link", "set", dev, "up"])?;
        }
        let dir = self.dir.join(name);
        Node::new(name, ns, kind, dir, addr4, addr6)
    }

    fn kill_everything_in(ns: &str) {
        if let Ok(pids) = run("ip", &["netns", "pids", ns]) {
            for pid in pids
                .split_whitespace()
                .filter_map(|p| p.parse::<i32>().ok())
            {
                let _ = nix::sys::signal::kill(
                    nix::unistd::Pid::from_raw(pid),
                    nix::sys::signal::Signal::SIGKILL,
                );
            }
        }
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        for ns in self.node_namespaces.iter().chain([&self.bridge_ns]) {
            Self::kill_everything_in(ns);
        }
        // Let the kernel release the killed processes' references before deleting.
        std::thread::sleep(std::time::Duration::from_millis(50));
        for ns in self.node_namespaces.iter().chain([&self.bridge_ns]) {
            let _ = run("ip", &["netns", "del", ns]);
        }
        if std::thread::panicking() {
            eprintln!("lab files kept for inspection: {}", self.dir.display());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}
