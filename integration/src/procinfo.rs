//! What a node's processes look like from `/proc`: the daemon's pids (from its pid files),
//! CPU time, RSS, open descriptors, every process in the namespace (zombies included), and
//! the stats file a SIGUSR2 writes.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};

use nix::sys::signal::Signal;
use nix::unistd::Pid;

use crate::{LabError, Node, Result};

/// One process as `/proc/PID/stat` describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcInfo {
    /// Process id.
    pub pid: i32,
    /// Parent's pid.
    pub ppid: i32,
    /// Process group.
    pub pgid: i32,
    /// State letter (`Z` for a zombie).
    pub state: char,
    /// Command name.
    pub comm: String,
    /// User plus system CPU time in clock ticks.
    pub cpu_ticks: u64,
}

/// Reads `/proc/PID/stat`; `None` once the process is gone.
pub fn proc_info(pid: i32) -> Option<ProcInfo> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // comm may hold spaces and parentheses: it ends at the last ')'.
    let open = text.find('(')?;
    let close = text.rfind(')')?;
    let comm = text.get(open + 1..close)?.to_string();
    let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
    // Fields after comm, 0-based: state 0, ppid 1, pgrp 2, ..., utime 11, stime 12.
    let num = |i: usize| rest.get(i).and_then(|v| v.parse::<i64>().ok());
    Some(ProcInfo {
        pid,
        ppid: i32::try_from(num(1)?).ok()?,
        pgid: i32::try_from(num(2)?).ok()?,
        state: rest.first()?.chars().next()?,
        comm,
        cpu_ticks: u64::try_from(num(11)? + num(12)?).ok()?,
    })
}

/// Clock ticks per second of `/proc` CPU times.
pub fn ticks_per_second() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .and_then(|t| u64::try_from(t).ok())
        .unwrap_or(100)
}

/// Resident set size in KiB (`VmRSS`), `None` once the process is gone.
pub fn rss_kib(pid: i32) -> Option<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
}

/// Number of open descriptors, `None` once the process is gone.
pub fn fd_count(pid: i32) -> Option<usize> {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .ok()
        .map(|d| d.count())
}

/// Every process in network namespace `ns` (`ip netns pids`), zombies included.
pub fn processes_in_ns(ns: &str) -> Result<Vec<ProcInfo>> {
    let out = crate::cmd::run("ip", &["netns", "pids", ns])?;
    Ok(out
        .split_whitespace()
        .filter_map(|p| p.parse::<i32>().ok())
        .filter_map(proc_info)
        .collect())
}

/// Reads a pid file; `None` if missing or not a number.
pub fn read_pid_file(path: &Path) -> Option<i32> {
    std::fs::read_to_string(path).ok()?.trim().parse().ok()
}

/// The pids a node's daemon wrote: parent (`keepalived.pid`), VRRP child (`vrrp.pid`),
/// checker (`checkers.pid`), each `None` when the file is missing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaemonPids {
    /// The parent.
    pub parent: Option<i32>,
    /// The VRRP child.
    pub vrrp: Option<i32>,
    /// The checker child.
    pub checker: Option<i32>,
}

impl DaemonPids {
    /// Reads the node's pid files.
    pub fn of(node: &Node) -> DaemonPids {
        let f = |name: &str| read_pid_file(&node.dir().join(name));
        DaemonPids {
            parent: f("keepalived.pid"),
            vrrp: f("vrrp.pid"),
            checker: f("checkers.pid"),
        }
    }

    /// The pids that are set.
    pub fn all(&self) -> Vec<i32> {
        [self.parent, self.vrrp, self.checker]
            .into_iter()
            .flatten()
            .collect()
    }

    /// Total CPU ticks of the pids that are set and alive.
    pub fn cpu_ticks(&self) -> u64 {
        self.all()
            .into_iter()
            .filter_map(proc_info)
            .map(|p| p.cpu_ticks)
            .sum()
    }
}

/// One instance's block of `keepalived.stats`: `"Section/Field"` (or `"Field"` for the
/// one-line ones such as `Became master`) to value.
pub type InstanceStats = BTreeMap<String, u64>;

/// Parses `keepalived.stats` into instance name -> counters.
pub fn parse_stats(text: &str) -> BTreeMap<String, InstanceStats> {
    let mut all: BTreeMap<String, InstanceStats> = BTreeMap::new();
    let mut instance: Option<String> = None;
    let mut section = String::new();
    for line in text.lines() {
        if let Some(name) = line.strip_prefix("VRRP Instance: ") {
            instance = Some(name.trim().to_string());
            continue;
        }
        let Some(inst) = instance.as_ref() else {
            continue;
        };
        let depth = line.len() - line.trim_start().len();
        let Some((key, value)) = line.trim().split_once(':') else {
            continue;
        };
        let value = value.trim();
        if value.is_empty() {
            section = key.to_string();
            continue;
        }
        let Ok(v) = value.parse::<u64>() else {
            continue;
        };
        let name = if depth > 2 {
            format!("{section}/{key}")
        } else {
            key.to_string()
        };
        all.entry(inst.clone()).or_default().insert(name, v);
    }
    all
}

/// Sends SIGUSR2 to the daemon's parent and returns the parsed `keepalived.stats` from the
/// node's `TMPDIR` once it has been rewritten.
pub fn read_stats(node: &Node) -> Result<BTreeMap<String, InstanceStats>> {
    let path = node.dir().join("keepalived.stats");
    let before = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
    let parent = DaemonPids::of(node)
        .parent
        .ok_or_else(|| LabError::NotRunning(node.name().to_string()))?;
    let asked = SystemTime::now();
    nix::sys::signal::kill(Pid::from_raw(parent), Signal::SIGUSR2).map_err(|source| {
        LabError::Signal {
            signal: "SIGUSR2".into(),
            target: format!("{parent} of {}", node.name()),
            source,
        }
    })?;
    let start = Instant::now();
    loop {
        let now = std::fs::metadata(&path).and_then(|m| m.modified()).ok();
        if now.is_some() && now != before {
            // Written atomically (rename), but give a writer that is not a moment.
            std::thread::sleep(Duration::from_millis(20));
            let text = std::fs::read_to_string(&path).map_err(|source| LabError::File {
                path: path.clone(),
                source,
            })?;
            return Ok(parse_stats(&text));
        }
        if start.elapsed() > Duration::from_secs(5) {
            return Err(LabError::Timeout {
                what: format!(
                    "{} to be rewritten after SIGUSR2 sent {:?} ago",
                    path.display(),
                    asked.elapsed().unwrap_or_default()
                ),
                waited_ms: start.elapsed().as_millis(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_stats_file() {
        let text = "VRRP Instance: VI_1\n  Advertisements:\n    Received: 3\n    Sent: 4\n  \
                    Became master: 1\n  Packet Errors:\n    Length: 7\n    TTL: 9\n  \
                    Authentication Errors:\n    Invalid Type: 0\n    Failure: 2\n";
        let s = parse_stats(text);
        let vi = &s["VI_1"];
        assert_eq!(vi["Advertisements/Received"], 3);
        assert_eq!(vi["Became master"], 1);
        assert_eq!(vi["Packet Errors/TTL"], 9);
        assert_eq!(vi["Authentication Errors/Failure"], 2);
    }

    #[test]
    fn reads_our_own_stat_line() {
        let me = proc_info(i32::try_from(std::process::id()).unwrap()).unwrap();
        // The test process's main thread waits for the test threads: running or sleeping.
        assert!(matches!(me.state, 'R' | 'S'), "state {}", me.state);
        assert!(rss_kib(me.pid).unwrap() > 0);
        assert!(fd_count(me.pid).unwrap() >= 3);
    }
}
