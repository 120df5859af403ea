//! The checker child's process runner: starts scripts (vrrp_script, MISC_CHECK, notify
//! scripts) in their own process groups, kills a whole group at its timeout, and turns
//! reaped children into `(ProcId, ProcOwner, ProcExit)`.
//!
//! The loop calls [`Procs::reap`] when SIGCHLD arrives (signalfd) and
//! [`Procs::fire_timeouts`] at [`Procs::next_deadline`]. Reaping is `waitpid(-1, WNOHANG)`
//! until nothing is left, so a burst of exits costs one wake-up. Scripts' stdin, stdout and
//! stderr are `/dev/null`: nothing is read from them, so a script printing megabytes never
//! blocks on a full pipe.
//!
//! A timeout sends SIGKILL to the process group at once (keepalived sends SIGTERM first and
//! SIGKILL 2 s later; a tracked script past its timeout has already failed, and one signal
//! that cannot be ignored keeps the number of live processes bounded). The group is only
//! signalled before its leader is reaped, so a recycled pid is never hit.

use keepalived_sys::process::{self, ExitKind, Pid};
use nix::sys::signal::Signal;
use std::collections::{BTreeSet, HashMap};
use std::time::{Duration, Instant};

/// Who started a process: the loop hands the exit back to that owner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcOwner {
    /// A `vrrp_script`, by its index in the running script set.
    Script(usize),
    /// The virtual-server module (MISC_CHECK, notify_up/down, quorum scripts): its own key.
    Vs(u64),
}

/// A started process, unique for the life of the [`Procs`] (never reused, unlike pids).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProcId(pub u64);

/// How a process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProcExit {
    /// It exited with this status.
    Exited(i32),
    /// A signal (not our timeout) killed it.
    Signaled(i32),
    /// It ran past its timeout; its group was killed.
    TimedOut,
}

/// What to run.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ProcSpec {
    /// The program and its arguments (`["/bin/sh", "-c", line]` for a shell line).
    pub argv: Vec<String>,
    /// Run as this user (`None`: as the checker).
    pub uid: Option<u32>,
    /// Run with this group (`None`: the checker's, or the user's when `uid` is set by the
    /// caller with its group).
    pub gid: Option<u32>,
    /// Kill the whole group after this long (`None`: never).
    pub timeout: Option<Duration>,
    /// Variables added to the environment.
    pub env: Vec<(String, String)>,
}

impl ProcSpec {
    /// A spec for `argv` with no user change, timeout or environment.
    pub fn new(argv: Vec<String>) -> Self {
        ProcSpec {
            argv,
            ..ProcSpec::default()
        }
    }

    /// A spec running `line` through `/bin/sh -c`.
    pub fn shell(line: &str) -> Self {
        Self::new(vec!["/bin/sh".into(), "-c".into(), line.into()])
    }
}

/// Why a process could not be started.
#[derive(Debug, thiserror::Error)]
pub enum ProcError {
    /// fork/exec failed (missing program, no permission, no memory, ...).
    #[error("cannot start {command}: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// The OS error.
        source: keepalived_sys::SysError,
    },
}

#[derive(Debug)]
struct Running {
    id: ProcId,
    owner: ProcOwner,
    deadline: Option<Instant>,
    timed_out: bool,
}

/// The processes the checker started and has not reaped yet.
#[derive(Debug, Default)]
pub struct Procs {
    running: HashMap<Pid, Running>,
    deadlines: BTreeSet<(Instant, Pid)>,
    next_id: u64,
    /// Exits of pids we did not start (a previous generation after a reload, or a VS helper's
    /// own child): counted, not reported.
    strays: u64,
    /// Exits collected by [`Procs::collect`], returned by the next [`Procs::reap`].
    pending: Vec<(ProcId, ProcOwner, ProcExit)>,
}

impl Procs {
    /// An empty runner.
    pub fn new() -> Self {
        Self::default()
    }

    /// Starts `spec` for `owner`; its exit comes back from [`Self::reap`].
    pub fn spawn(&mut self, spec: ProcSpec, owner: ProcOwner) -> Result<ProcId, ProcError> {
        self.spawn_at(spec, owner, Instant::now())
    }

    /// [`Self::spawn`] with the start time given (the timeout counts from `now`).
    pub fn spawn_at(
        &mut self,
        spec: ProcSpec,
        owner: ProcOwner,
        now: Instant,
    ) -> Result<ProcId, ProcError> {
        let pid =
            process::spawn_script(&spec.argv, &spec.env, spec.uid, spec.gid).map_err(|source| {
                ProcError::Spawn {
                    command: spec.argv.join(" "),
                    source,
                }
            })?;
        self.next_id += 1;
        let id = ProcId(self.next_id);
        let deadline = spec.timeout.map(|t| now + t);
        if let Some(at) = deadline {
            self.deadlines.insert((at, pid));
        }
        self.running.insert(
            pid,
            Running {
                id,
                owner,
                deadline,
                timed_out: false,
            },
        );
        Ok(id)
    }

    /// How many started processes have not been reaped.
    pub fn running(&self) -> usize {
        self.running.len()
    }

    /// Exits of processes this runner did not start, seen by [`Self::reap`].
    pub fn strays(&self) -> u64 {
        self.strays
    }

    /// The earliest timeout still pending.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.deadlines.first().map(|(at, _)| *at)
    }

    /// Kills the group of every process whose timeout is at or before `now`. Their exits
    /// are reported by [`Self::reap`] as [`ProcExit::TimedOut`].
    pub fn fire_timeouts(&mut self, now: Instant) {
        while let Some(&(at, pid)) = self.deadlines.first() {
            if at > now {
                break;
            }
            self.deadlines.remove(&(at, pid));
            if let Some(r) = self.running.get_mut(&pid) {
                r.timed_out = true;
                r.deadline = None;
                if let Err(e) = process::kill_group(pid, Signal::SIGKILL) {
                    log::warn!("cannot kill timed-out process group {pid}: {e}");
                }
            }
        }
    }

    /// Reaps ended children now but keeps their exits for the next [`Self::reap`]: for a
    /// caller starting many processes in a row, so that none stays a zombie meanwhile.
    pub fn collect(&mut self) {
        let mut out = std::mem::take(&mut self.pending);
        self.reap_into(&mut out);
        self.pending = out;
    }

    /// Collects every ended child (`waitpid(-1, WNOHANG)` until none is left) and returns
    /// the exits of the processes started here (with those [`Self::collect`] kept).
    pub fn reap(&mut self) -> Vec<(ProcId, ProcOwner, ProcExit)> {
        let mut out = std::mem::take(&mut self.pending);
        self.reap_into(&mut out);
        out
    }

    fn reap_into(&mut self, out: &mut Vec<(ProcId, ProcOwner, ProcExit)>) {
        for (pid, kind) in process::reap() {
            let Some(r) = self.running.remove(&pid) else {
                self.strays += 1;
                continue;
            };
            if let Some(at) = r.deadline {
                self.deadlines.remove(&(at, pid));
            }
            let exit = match kind {
                _ if r.timed_out => ProcExit::TimedOut,
                ExitKind::Exited(code) => ProcExit::Exited(code),
                ExitKind::Signaled(sig) => ProcExit::Signaled(sig),
            };
            out.push((r.id, r.owner, exit));
        }
    }

    /// Whether [`Self::collect`] holds exits not yet returned by [`Self::reap`].
    pub fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Sends `signal` to the group of every process still running (shutdown, reload).
    pub fn signal_all(&self, signal: Signal) {
        for pid in self.running.keys() {
            if let Err(e) = process::kill_group(*pid, signal) {
                log::warn!("cannot signal process group {pid}: {e}");
            }
        }
    }

    /// Sends `signal` to the group of process `id` if it is still running.
    pub fn signal_proc(&self, id: ProcId, signal: Signal) {
        if let Some((pid, _)) = self.running.iter().find(|(_, r)| r.id == id) {
            if let Err(e) = process::kill_group(*pid, signal) {
                log::warn!("cannot signal process group {pid}: {e}");
            }
        }
    }

    /// Sends `signal` to the groups of `owner`'s processes still running.
    pub fn signal_owner(&self, owner: ProcOwner, signal: Signal) {
        for (pid, r) in &self.running {
            if r.owner == owner {
                if let Err(e) = process::kill_group(*pid, signal) {
                    log::warn!("cannot signal process group {pid}: {e}");
                }
            }
        }
    }

    /// Stops everything: SIGTERM to every group, reaping for up to `grace`, then SIGKILL and
    /// a last reap (keepalived gives its tracked children 1 s). Returns what ended.
    pub fn terminate_all(&mut self, grace: Duration) -> Vec<(ProcId, ProcOwner, ProcExit)> {
        let mut out = Vec::new();
        if self.running.is_empty() {
            return out;
        }
        self.signal_all(Signal::SIGTERM);
        let until = Instant::now() + grace;
        loop {
            out.extend(self.reap());
            if self.running.is_empty() || Instant::now() >= until {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        if !self.running.is_empty() {
            self.signal_all(Signal::SIGKILL);
            let until = Instant::now() + Duration::from_millis(500);
            loop {
                out.extend(self.reap());
                if self.running.is_empty() || Instant::now() >= until {
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `reap` takes any child of the process: tests that spawn must not overlap.
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        LOCK.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn wait_all(p: &mut Procs, limit: Duration) -> Vec<(ProcId, ProcOwner, ProcExit)> {
        let until = Instant::now() + limit;
        let mut out = Vec::new();
        while p.running() > 0 && Instant::now() < until {
            p.fire_timeouts(Instant::now());
            out.extend(p.reap());
            std::thread::sleep(Duration::from_millis(5));
        }
        out
    }

    #[test]
    fn exits_come_back_with_their_owner() {
        let _g = serial();
        let mut p = Procs::new();
        let a = p
            .spawn(ProcSpec::shell("exit 0"), ProcOwner::Script(0))
            .unwrap();
        let b = p
            .spawn(ProcSpec::shell("exit 3"), ProcOwner::Vs(7))
            .unwrap();
        let c = p
            .spawn(ProcSpec::shell("kill -9 $$"), ProcOwner::Script(2))
            .unwrap();
        let mut got = wait_all(&mut p, Duration::from_secs(5));
        got.sort_by_key(|x| x.0);
        assert_eq!(
            got,
            vec![
                (a, ProcOwner::Script(0), ProcExit::Exited(0)),
                (b, ProcOwner::Vs(7), ProcExit::Exited(3)),
                (c, ProcOwner::Script(2), ProcExit::Signaled(9)),
            ]
        );
        assert_eq!(p.next_deadline(), None);
    }

    #[test]
    fn timeout_kills_the_group() {
        let _g = serial();
        let mut p = Procs::new();
        let mut spec = ProcSpec::shell("sleep 30 & sleep 30; wait");
        spec.timeout = Some(Duration::from_millis(100));
        let t0 = Instant::now();
        let id = p.spawn(spec, ProcOwner::Script(1)).unwrap();
        assert!(p.next_deadline().is_some());
        let got = wait_all(&mut p, Duration::from_secs(5));
        assert_eq!(got, vec![(id, ProcOwner::Script(1), ProcExit::TimedOut)]);
        assert!(t0.elapsed() < Duration::from_secs(3));
    }

    #[test]
    fn missing_program_is_a_spawn_error() {
        let _g = serial();
        let mut p = Procs::new();
        let err = p
            .spawn(
                ProcSpec::new(vec!["/nonexistent/krs-checker".into()]),
                ProcOwner::Script(0),
            )
            .unwrap_err();
        assert!(
            err.to_string().contains("/nonexistent/krs-checker"),
            "{err}"
        );
        assert_eq!(p.running(), 0);
    }

    #[test]
    fn terminate_all_ends_everything() {
        let _g = serial();
        let mut p = Procs::new();
        for i in 0..3 {
            p.spawn(
                ProcSpec::shell("trap '' TERM; sleep 30"),
                ProcOwner::Script(i),
            )
            .unwrap();
        }
        let got = p.terminate_all(Duration::from_millis(200));
        assert_eq!(got.len(), 3);
        assert_eq!(p.running(), 0);
    }
}
