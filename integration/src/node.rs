//! One lab node: a namespace, its files, and the daemon running in it.

use std::fs::OpenOptions;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

use crate::cmd::{in_ns, ip};
use crate::notify::{read_notify_log, write_notify_scripts, NotifyLine};
use crate::{LabError, NodeKind, Result};

/// A node of a [`crate::Lab`]. Dropping it kills its daemon (process group, SIGKILL).
#[derive(Debug)]
pub struct Node {
    name: String,
    ns: String,
    kind: NodeKind,
    dir: PathBuf,
    addr4: String,
    addr6: String,
    daemon: Option<Child>,
}

impl Node {
    pub(crate) fn new(
        name: &str,
        ns: String,
        kind: NodeKind,
        dir: PathBuf,
        addr4: String,
        addr6: String,
    ) -> Result<Node> {
        std::fs::create_dir_all(&dir).map_err(|source| LabError::File {
            path: dir.clone(),
            source,
        })?;
        write_notify_scripts(&dir)?;
        Ok(Node {
            name: name.to_string(),
            ns,
            kind,
            dir,
            addr4,
            addr6,
            daemon: None,
        })
    }

    /// Node name (also the suffix of its namespace).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Network namespace name.
    pub fn ns(&self) -> &str {
        &self.ns
    }

    /// Which daemon the node runs.
    pub fn kind(&self) -> NodeKind {
        self.kind
    }

    /// The node's own directory (config, log, pid files, notify scripts and their log).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The node's own IPv4 address on `eth0`.
    pub fn addr4(&self) -> &str {
        &self.addr4
    }

    /// The node's own IPv6 address on `eth0`.
    pub fn addr6(&self) -> &str {
        &self.addr6
    }

    /// Where the daemon's stdout and stderr go.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join("daemon.log")
    }

    /// The configuration file the daemon reads.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join("keepalived.conf")
    }

    /// Writes the configuration from `template`, replacing `@NAME@`, `@DIR@`, `@ADDR4@`,
    /// `@ADDR6@`.
    pub fn write_config(&self, template: &str) -> Result<()> {
        let text = template
            .replace("@NAME@", &self.name)
            .replace("@DIR@", &self.dir.display().to_string())
            .replace("@ADDR4@", &self.addr4)
            .replace("@ADDR6@", &self.addr6);
        let path = self.config_path();
        std::fs::write(&path, text).map_err(|source| LabError::File { path, source })
    }

    /// The daemon's command line (program first).
    pub fn command_line(&self) -> Vec<String> {
        let d = |f: &str| self.dir.join(f).display().to_string();
        let mut args = vec![
            self.kind.binary().display().to_string(),
            "-n".into(),
            "-l".into(),
            "-D".into(),
        ];
        // Same command line for both kinds (drop-in): `-P` = VRRP only, this kernel has no IPVS.
        args.extend([
            "-P".into(),
            "-f".into(),
            d("keepalived.conf"),
            "-p".into(),
            d("keepalived.pid"),
            "-r".into(),
            d("vrrp.pid"),
            "-c".into(),
            d("checkers.pid"),
        ]);
        args
    }

    /// Starts the daemon in the node's namespace, in its own process group, with its own
    /// `TMPDIR` and pid files, output appended to [`Node::log_path`].
    pub fn start(&mut self) -> Result<()> {
        if self.daemon.is_some() {
            self.stop()?;
        }
        // A SIGKILLed daemon leaves its pid files; a zombie holding such a pid makes the next
        // start believe it is already running (and exit 0 silently).
        for f in ["keepalived.pid", "vrrp.pid", "checkers.pid"] {
            let _ = std::fs::remove_file(self.dir.join(f));
        }
        let log_path = self.log_path();
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .map_err(|source| LabError::File {
                path: log_path.clone(),
                source,
            })?;
        let err = log.try_clone().map_err(|source| LabError::File {
            path: log_path.clone(),
            source,
        })?;
        let argv = self.command_line();
        let child = Command::new("ip")
            .args(["netns", "exec", &self.ns])
            .args(&argv)
            .env("TMPDIR", &self.dir)
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .process_group(0)
            .spawn()
            .map_err(|source| LabError::Spawn {
                cmd: argv.join(" "),
                source,
            })?;
        self.daemon = Some(child);
        Ok(())
    }

    /// True while the daemon's main process has not exited.
    pub fn is_running(&mut self) -> bool {
        match self.daemon.as_mut() {
            Some(child) => matches!(child.try_wait(), Ok(None)),
            None => false,
        }
    }

    fn group(&self) -> Result<Pid> {
        let child = self
            .daemon
            .as_ref()
            .ok_or_else(|| LabError::NotRunning(self.name.clone()))?;
        Ok(Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX)))
    }

    /// Sends `sig` to the daemon's whole process group; returns when it was sent.
    pub fn signal(&self, sig: Signal) -> Result<SystemTime> {
        let pg = self.group()?;
        let at = SystemTime::now();
        killpg(pg, sig).map_err(|source| LabError::Signal {
            signal: sig.to_string(),
            target: format!("process group {pg} of {}", self.name),
            source,
        })?;
        Ok(at)
    }

    /// SIGTERM to the main process only (the graceful stop keepalived's init script does);
    /// returns when it was sent. Does not wait.
    pub fn sigterm(&self) -> Result<SystemTime> {
        let pid = self.group()?;
        let at = SystemTime::now();
        nix::sys::signal::kill(pid, Signal::SIGTERM).map_err(|source| LabError::Signal {
            signal: "SIGTERM".into(),
            target: format!("{pid} of {}", self.name),
            source,
        })?;
        Ok(at)
    }

    /// SIGHUP to the main process (reload).
    pub fn sighup(&self) -> Result<()> {
        let pid = self.group()?;
        nix::sys::signal::kill(pid, Signal::SIGHUP).map_err(|source| LabError::Signal {
            signal: "SIGHUP".into(),
            target: format!("{pid} of {}", self.name),
            source,
        })
    }

    /// Crash: SIGSTOP the whole group first (so no child can react to its parent's death with
    /// a graceful shutdown), then SIGKILL it. Returns when the SIGSTOP was sent.
    pub fn kill9(&mut self) -> Result<SystemTime> {
        let at = self.signal(Signal::SIGSTOP)?;
        self.signal(Signal::SIGKILL)?;
        self.reap(Duration::from_secs(5));
        Ok(at)
    }

    /// Graceful stop: SIGTERM, wait up to 5 s for the group to exit, SIGKILL otherwise.
    pub fn stop(&mut self) -> Result<()> {
        if self.daemon.is_none() {
            return Ok(());
        }
        let _ = self.sigterm();
        self.reap(Duration::from_secs(5));
        Ok(())
    }

    /// Waits for the main process to exit and for every process of its group to be gone,
    /// SIGKILLing the group after `timeout`.
    fn reap(&mut self, timeout: Duration) {
        let Some(mut child) = self.daemon.take() else {
            return;
        };
        let pg = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
        let start = Instant::now();
        loop {
            let main_gone = !matches!(child.try_wait(), Ok(None));
            // killpg(0) fails with ESRCH once no process of the group is left (zombies of
            // orphans reparented to pid 1 may linger until it reaps them; that is fine).
            let group_gone = killpg(pg, None).is_err();
            if main_gone && group_gone {
                break;
            }
            if start.elapsed() >= timeout {
                let _ = killpg(pg, Signal::SIGKILL);
                let _ = child.wait();
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Addresses (without prefix length) currently on the node's interfaces.
    pub fn addresses(&self) -> Result<Vec<String>> {
        let out = ip(&self.ns, &["-j", "addr", "show"])?;
        let parse_err = |why: String| LabError::Parse {
            cmd: format!("ip -n {} -j addr show", self.ns),
            why,
        };
        let json: serde_json::Value =
            serde_json::from_str(&out).map_err(|e| parse_err(e.to_string()))?;
        let mut addrs = Vec::new();
        for link in json.as_array().into_iter().flatten() {
            for info in link["addr_info"].as_array().into_iter().flatten() {
                if let Some(local) = info["local"].as_str() {
                    addrs.push(local.to_string());
                }
            }
        }
        Ok(addrs)
    }

    /// True when `vip` is configured on one of the node's interfaces.
    pub fn holds(&self, vip: &str) -> bool {
        self.addresses().is_ok_and(|a| a.iter().any(|x| x == vip))
    }

    /// Sets the node's `dev` administratively down (carrier loss for the daemon).
    pub fn link_down(&self, dev: &str) -> Result<()> {
        ip(&self.ns, &["link", "set", "dev", dev, "down"]).map(|_| ())
    }

    /// Sets the node's `dev` up again.
    pub fn link_up(&self, dev: &str) -> Result<()> {
        ip(&self.ns, &["link", "set", "dev", dev, "up"]).map(|_| ())
    }

    /// Runs `ip args...` in the node's namespace (e.g. deleting a VIP by hand).
    pub fn ip(&self, args: &[&str]) -> Result<String> {
        ip(&self.ns, args)
    }

    /// Runs any program in the node's namespace.
    pub fn exec(&self, program: &str, args: &[&str]) -> Result<String> {
        in_ns(&self.ns, program, args)
    }

    /// Lines the notify scripts appended so far.
    pub fn notify_lines(&self) -> Result<Vec<NotifyLine>> {
        read_notify_log(&self.dir)
    }

    /// The daemon's log so far (empty if none).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_path()).unwrap_or_default()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        if let Ok(pg) = self.group() {
            let _ = killpg(pg, Signal::SIGSTOP);
            let _ = killpg(pg, Signal::SIGKILL);
        }
        self.reap(Duration::from_secs(2));
    }
}

/// Names of the nodes that hold `vip` right now.
pub fn holders(nodes: &[&Node], vip: &str) -> Vec<String> {
    nodes
        .iter()
        .filter(|n| n.holds(vip))
        .map(|n| n.name().to_string())
        .collect()
}
