//! The running `vrrp_script`s: which scripts run (only those an instance or a sync group
//! tracks), as whom, exec'd or through the shell, when, and what is reported.
//!
//! The decisions are `keepalived_check::script`'s; this module resolves users and files and
//! drives [`Procs`]. A result is sent to the parent (`ToParent::ScriptResult`) when the
//! script's state changes after rise/fall, and for its first result after start.
//!
//! Script security was decided when the parent validated the configuration
//! (`keepalived_config::validate::scripts`): scripts keepalived would refuse are already
//! gone from the model it sends, and their `track_script` references with them.

use crate::procs::{ProcExit, ProcId, ProcOwner, ProcSpec, Procs};
use keepalived_check::script::{invocation, Invocation, RiseFall, Schedule, ScriptOutcome, Turn};
use keepalived_config::model::{ScriptUser, VrrpScript};
use keepalived_config::Config;
use keepalived_ipc::{ScriptExit, ToParent};
use nix::sys::signal::Signal;
use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The `$PATH` keepalived searches bare script names in.
const SEARCH_PATH: [&str; 6] = [
    "/usr/local/sbin",
    "/usr/local/bin",
    "/usr/sbin",
    "/usr/bin",
    "/sbin",
    "/bin",
];

/// How many scripts [`ScriptSet::fire`] starts between two reaps.
const COLLECT_EVERY: usize = 32;

/// keepalived's default script user when `script_user` is not set.
const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// Everything that decides how a script runs; a reload keeps a script's state only when
/// this is unchanged.
#[derive(Debug, Clone, PartialEq, Eq)]
struct RunSpec {
    argv: Vec<String>,
    uid: Option<u32>,
    gid: Option<u32>,
    timeout: Duration,
    rise: u32,
    fall: u32,
    init_fail: bool,
}

#[derive(Debug, Clone)]
struct Entry {
    name: String,
    spec: RunSpec,
    interval: Duration,
    counter: RiseFall,
    last: Option<ScriptOutcome>,
    runs: u64,
    failures: u64,
    timeouts: u64,
    skipped: u64,
}

/// The scripts of one configuration.
#[derive(Debug, Default)]
pub struct ScriptSet {
    entries: Vec<Entry>,
    schedule: Schedule,
    /// Which entry each running process belongs to.
    running: HashMap<ProcId, usize>,
    started: bool,
}

/// The names of the `vrrp_script`s that an instance or a sync group tracks.
pub fn used_scripts(config: &Config) -> HashSet<&str> {
    config
        .vrrp_instances
        .iter()
        .flat_map(|i| i.track.scripts.iter())
        .chain(
            config
                .sync_groups
                .iter()
                .flat_map(|g| g.track.scripts.iter()),
        )
        .map(|r| r.name.as_str())
        .collect()
}

/// Resolves `USER [GROUP]` to ids (numbers accepted); the group defaults to the user's.
pub fn resolve_user(user: &ScriptUser) -> Result<(u32, u32), String> {
    use nix::unistd::{Group, User};
    let u = match user.user.parse::<u32>() {
        Ok(uid) => User::from_uid(uid.into()),
        Err(_) => User::from_name(&user.user),
    }
    .map_err(|e| format!("user {}: {e}", user.user))?
    .ok_or_else(|| format!("unknown user {}", user.user))?;
    let gid = match &user.group {
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => Group::from_name(g)
                .map_err(|e| format!("group {g}: {e}"))?
                .ok_or_else(|| format!("unknown group {g}"))?
                .gid
                .as_raw(),
        },
        None => u.gid.as_raw(),
    };
    Ok((u.uid.as_raw(), gid))
}

/// Who a script runs as: its `user`, else `script_user`, else `keepalived_script` if that
/// user exists, else the checker's own user (`None`).
fn script_ids(script: &VrrpScript, config: &Config) -> Result<Option<(u32, u32)>, String> {
    if let Some(u) = script.user.as_ref().or(config.global.script_user.as_ref()) {
        return resolve_user(u).map(Some);
    }
    let default = ScriptUser {
        user: DEFAULT_SCRIPT_USER.into(),
        group: None,
    };
    Ok(resolve_user(&default).ok())
}

/// The file a program name runs: a bare name is searched in keepalived's `$PATH`.
fn locate(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Some(PathBuf::from(program));
    }
    SEARCH_PATH
        .iter()
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

/// The first bytes of the program file, `None` when it cannot be read.
fn header(program: &str) -> Option<Vec<u8>> {
    let path = locate(program)?;
    let mut f = std::fs::File::open(path).ok()?;
    let mut buf = [0u8; 4];
    let mut n = 0;
    while n < buf.len() {
        match f.read(buf.get_mut(n..)?) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(_) => return None,
        }
    }
    Some(buf.get(..n)?.to_vec())
}

/// The argv that runs `argv` as keepalived would: exec'd, or `/bin/sh -c` for a `< FILE`
/// test or a file that is neither an ELF image nor a `#!` script.
fn command_argv(name: &str, argv: &[String]) -> Vec<String> {
    let Some(program) = argv.first() else {
        return Vec::new();
    };
    let inv = if program.starts_with('<') {
        Invocation::Shell(keepalived_check::script::shell_line(argv))
    } else {
        invocation(argv, header(program).as_deref())
    };
    if let Invocation::Shell(_) = inv {
        if !program.starts_with('<') {
            log::warn!("Please add a #! shebang to script {program} (vrrp_script {name})");
        }
    }
    inv.argv()
}

fn ipc_exit(o: ScriptOutcome) -> ScriptExit {
    match o {
        ScriptOutcome::Exited(c) => ScriptExit::Exited(c),
        ScriptOutcome::Signaled(s) => ScriptExit::Signaled(s),
        ScriptOutcome::TimedOut => ScriptExit::TimedOut,
        ScriptOutcome::SpawnFailed => ScriptExit::SpawnFailed,
    }
}

fn describe(o: ScriptOutcome) -> String {
    match o {
        ScriptOutcome::Exited(c) => format!("exited with status {c}"),
        ScriptOutcome::Signaled(s) => format!("killed by signal {s}"),
        ScriptOutcome::TimedOut => "timed out".into(),
        ScriptOutcome::SpawnFailed => "could not be started".into(),
    }
}

fn build_entries(config: &Config) -> Vec<Entry> {
    let used = used_scripts(config);
    let mut out = Vec::new();
    for s in &config.vrrp_scripts {
        if !used.contains(s.name.as_str()) {
            continue;
        }
        let Some(script) = s.script.as_ref().filter(|x| !x.argv.is_empty()) else {
            log::warn!("vrrp_script {}: no script configured, ignored", s.name);
            continue;
        };
        let ids = match script_ids(s, config) {
            Ok(ids) => ids,
            Err(e) => {
                log::error!(
                    "Unable to set uid/gid for script {}: {e} - disabling",
                    s.name
                );
                continue;
            }
        };
        let spec = RunSpec {
            argv: command_argv(&s.name, &script.argv),
            uid: ids.map(|(u, _)| u),
            gid: ids.map(|(_, g)| g),
            timeout: s.timeout.unwrap_or(s.interval),
            rise: s.rise,
            fall: s.fall,
            init_fail: s.init_fail,
        };
        out.push(Entry {
            name: s.name.clone(),
            counter: RiseFall::new(s.rise, s.fall, s.init_fail),
            interval: s.interval,
            spec,
            last: None,
            runs: 0,
            failures: 0,
            timeouts: 0,
            skipped: 0,
        });
    }
    out
}

impl ScriptSet {
    /// The used scripts of `config`, not started.
    pub fn new(config: &Config) -> Self {
        let entries = build_entries(config);
        let schedule = Schedule::new(entries.iter().map(|e| e.interval));
        ScriptSet {
            entries,
            schedule,
            running: HashMap::new(),
            started: false,
        }
    }

    /// How many scripts run.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no script runs.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The names of the scripts, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|e| e.name.as_str())
    }

    /// Whether script `name` is good now (the assumed state before its first result).
    pub fn is_good(&self, name: &str) -> Option<bool> {
        self.entries
            .iter()
            .find(|e| e.name == name)
            .map(|e| e.counter.is_good())
    }

    /// Makes every script due at `now`.
    pub fn start(&mut self, now: Instant) {
        self.started = true;
        self.schedule.start(now);
    }

    /// The next time a script is due.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.schedule.next_deadline()
    }

    /// Starts the scripts whose turn has come.
    pub fn fire(&mut self, procs: &mut Procs, reports: &mut Vec<ToParent>, now: Instant) {
        let mut started = 0usize;
        for turn in self.schedule.due(now) {
            match turn {
                Turn::Run(i) => {
                    self.run(i, procs, reports, now);
                    started += 1;
                    // Starting hundreds of scripts takes a while: reap the quick ones as we
                    // go so they do not wait as zombies.
                    if started % COLLECT_EVERY == 0 {
                        procs.collect();
                    }
                }
                Turn::StillRunning(i) => {
                    if let Some(e) = self.entries.get_mut(i) {
                        e.skipped += 1;
                        log::info!(
                            "Track script {} is already running, expect idle - skipping run",
                            e.name
                        );
                    }
                }
            }
        }
    }

    fn run(&mut self, i: usize, procs: &mut Procs, reports: &mut Vec<ToParent>, now: Instant) {
        let Some(e) = self.entries.get_mut(i) else {
            return;
        };
        let spec = ProcSpec {
            argv: e.spec.argv.clone(),
            uid: e.spec.uid,
            gid: e.spec.gid,
            timeout: Some(e.spec.timeout),
            env: Vec::new(),
        };
        e.runs += 1;
        match procs.spawn_at(spec, ProcOwner::Script(i), now) {
            Ok(id) => {
                self.running.insert(id, i);
            }
            Err(err) => {
                log::error!("VRRP_Script({}) {err}", e.name);
                self.schedule.finished(i);
                self.record(i, ScriptOutcome::SpawnFailed, reports);
            }
        }
    }

    /// A script process ended: count it and report a change. Processes of scripts a
    /// reload removed are ignored.
    pub fn process_exited(&mut self, id: ProcId, exit: ProcExit, reports: &mut Vec<ToParent>) {
        let Some(i) = self.running.remove(&id) else {
            return;
        };
        self.schedule.finished(i);
        let outcome = match exit {
            ProcExit::Exited(c) => ScriptOutcome::Exited(c),
            ProcExit::Signaled(s) => ScriptOutcome::Signaled(s),
            ProcExit::TimedOut => ScriptOutcome::TimedOut,
        };
        self.record(i, outcome, reports);
    }

    fn record(&mut self, i: usize, outcome: ScriptOutcome, reports: &mut Vec<ToParent>) {
        let Some(e) = self.entries.get_mut(i) else {
            return;
        };
        e.last = Some(outcome);
        if !outcome.is_success() {
            e.failures += 1;
        }
        if outcome == ScriptOutcome::TimedOut {
            e.timeouts += 1;
            log::warn!("VRRP_Script({}) timed_out", e.name);
        }
        let Some(good) = e.counter.record(outcome.is_success()) else {
            return;
        };
        if good {
            log::info!("VRRP_Script({}) succeeded", e.name);
        } else {
            log::info!("VRRP_Script({}) failed ({})", e.name, describe(outcome));
        }
        reports.push(ToParent::ScriptResult {
            script: e.name.clone(),
            good,
            exit: ipc_exit(outcome),
        });
    }

    /// Replaces the scripts with `config`'s. A script whose name and settings are
    /// unchanged keeps its state, schedule and running process, and nothing is reported
    /// for it; the others start afresh (and report their first result). Processes of
    /// removed or changed scripts get SIGTERM.
    pub fn reload(&mut self, config: &Config, procs: &mut Procs, now: Instant) {
        let fresh = build_entries(config);
        let mut old: HashMap<String, (usize, Entry)> = std::mem::take(&mut self.entries)
            .into_iter()
            .enumerate()
            .map(|(i, e)| (e.name.clone(), (i, e)))
            .collect();
        let mut remap: HashMap<usize, usize> = HashMap::new();
        let mut entries = Vec::with_capacity(fresh.len());
        for e in fresh {
            match old.remove(&e.name) {
                Some((oi, prev)) if prev.spec == e.spec && prev.interval == e.interval => {
                    remap.insert(oi, entries.len());
                    entries.push(prev);
                }
                _ => entries.push(e),
            }
        }
        let mut schedule = Schedule::new(entries.iter().map(|e| e.interval));
        if self.started {
            schedule.start(now);
            for (&oi, &ni) in &remap {
                if let Some((next, running)) = self.schedule.slot(oi) {
                    schedule.set_slot(ni, next, running);
                }
            }
        }
        let mut running = HashMap::new();
        for (id, oi) in std::mem::take(&mut self.running) {
            match remap.get(&oi) {
                Some(&ni) => {
                    running.insert(id, ni);
                }
                None => procs.signal_proc(id, Signal::SIGTERM),
            }
        }
        self.entries = entries;
        self.schedule = schedule;
        self.running = running;
    }

    /// keepalived's `VRRP Script` section of the data dump.
    pub fn dump(&self) -> String {
        let mut out = String::new();
        if self.entries.is_empty() {
            return out;
        }
        out.push_str("------< VRRP Scripts >------\n");
        for e in &self.entries {
            out.push_str(&format!(" VRRP Script = {}\n", e.name));
            out.push_str(&format!("   Command = {}\n", e.spec.argv.join(" ")));
            out.push_str(&format!("   Interval = {} sec\n", e.interval.as_secs_f64()));
            out.push_str(&format!(
                "   Timeout = {} sec\n",
                e.spec.timeout.as_secs_f64()
            ));
            out.push_str(&format!("   Rise = {}\n", e.spec.rise));
            out.push_str(&format!("   Fall = {}\n", e.spec.fall));
            out.push_str(&format!(
                "   Status = {}\n",
                if e.counter.is_good() { "GOOD" } else { "BAD" }
            ));
            if let Some(last) = e.last {
                out.push_str(&format!("   Last result = {}\n", describe(last)));
            }
            out.push_str(&format!(
                "   Runs = {}, failures = {}, timeouts = {}, skipped = {}\n",
                e.runs, e.failures, e.timeouts, e.skipped
            ));
        }
        out
    }
}
