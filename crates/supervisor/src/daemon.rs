//! The parent's life: start-up, the event loop, child death and respawn, reload, dumps, stop.

use crate::backoff::Backoff;
use crate::channel::Channel;
use crate::children::{after_death, AfterDeath, ChildExit, ChildKind};
use crate::logging::{self, PARENT_IDENT};
use crate::os::{self, Forked, PidFileError, PidLock};
use crate::pidfiles::pid_paths;
use crate::reload::{unchangeable_setting, ReloadQueue, ReloadRequest};
use crate::signals::realtime::{self, SelfPipe};
use crate::signals::{action_for, SignalAction};
use crate::{dumpfile, exit, ChildEntries, ChildEntry, SupervisorOptions};
use keepalived_config::{exit_code, load, Config, Host, LoadOptions, Loaded, Severity};
use keepalived_ipc::{DumpFormat, InstanceStatus, LogLevel, ToChild, ToParent};
use keepalived_sys::SignalFd;
use log::{debug, error, info, warn};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::Signal;
use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

const SIGNAL_TOKEN: Token = Token(0);
const JSON_TOKEN: Token = Token(usize::MAX - 1);
const STATS_CLEAR_TOKEN: Token = Token(usize::MAX - 2);

/// What a dump request asks the VRRP child for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DumpRequest {
    /// SIGUSR1: `keepalived.data`.
    Data,
    /// The JSON signal: `keepalived.json`.
    Json,
    /// SIGUSR2 (`clear` false) or STATS_CLEAR (`clear` true): `keepalived.stats`.
    Stats { clear: bool },
}

/// One child the parent runs (running or waiting to be respawned).
struct Slot {
    kind: ChildKind,
    /// Whether the configuration needs this child.
    wanted: bool,
    entry: Option<ChildEntry>,
    pid: Option<i32>,
    started: Instant,
    channel: Option<Channel>,
    backoff: Backoff,
    restart_at: Option<Instant>,
    ready: bool,
    pid_file: Option<PidLock>,
    /// The VRRP instances' last reported states, sent to a respawned child as `Resume`.
    last_states: BTreeMap<String, InstanceStatus>,
}

/// How the loop ended.
enum LoopEnd {
    /// The parent is done: exit with this code.
    Parent(u8),
    /// We are a freshly forked child: run slot `usize` on this descriptor.
    Child(OwnedFd, usize),
}

struct Supervisor<'h> {
    opts: SupervisorOptions,
    host: &'h dyn Host,
    config: Box<Config>,
    poll: Poll,
    signal_fd: SignalFd,
    rt_json: Option<SelfPipe>,
    rt_stats_clear: Option<SelfPipe>,
    parent_pid_file: Option<PidLock>,
    parent_pid: i32,
    vrrp_pid_path: PathBuf,
    slots: Vec<Slot>,
    startup_reported: bool,
    reloads: ReloadQueue,
    /// Set when stopping: the deadline after which children are killed.
    stop_deadline: Option<Instant>,
    killed: bool,
    exit_code: u8,
    next_request: u64,
    pending_dumps: HashMap<u64, &'static str>,
}

/// See [`crate::run`].
pub fn run(mut opts: SupervisorOptions, host: &dyn Host, entries: ChildEntries) -> ExitCode {
    logging::init(opts.log, PARENT_IDENT);
    info!(
        "Starting keepalived-rs v{} (keepalived 2.2 compatible)",
        env!("CARGO_PKG_VERSION")
    );
    let args: Vec<String> = std::env::args().map(|a| format!("'{a}'")).collect();
    info!("Command line: {}", args.join(" "));
    // daemonising changes directory to /: keep the configuration path meaningful for reloads.
    if opts.config_path.is_relative() {
        if let Ok(cwd) = std::env::current_dir() {
            opts.config_path = cwd.join(&opts.config_path);
        }
    }
    if !opts.config_path.exists() {
        error!("Config files missing '{}'.", opts.config_path.display());
        return stopped(exit::NO_CONFIG);
    }
    info!("Configuration file {}", opts.config_path.display());
    let loaded = load_config(&opts, host);
    log_diagnostics(&loaded);
    if exit_code(&loaded.diagnostics) >= 4 {
        error!("The configuration cannot run (see the errors above)");
        return stopped(exit::CONFIG);
    }
    let config = Box::new(loaded.config);
    if config.net_namespace.is_some() {
        warn!(
            "net_namespace is not supported by keepalived-rs yet: running in the current namespace"
        );
    }

    let paths = pid_paths(
        &opts.pid_overrides,
        config.use_pid_dir,
        config.instance.as_deref(),
        config.net_namespace.as_deref(),
    );
    let vrrp_enabled = opts.only_vrrp || !opts.only_check;
    let check_enabled = opts.only_check || !opts.only_vrrp;
    let vrrp_wanted = vrrp_enabled && (opts.all || !config.vrrp_instances.is_empty());
    warn_checker(&config, check_enabled);

    let me = std::process::id() as i32;
    if let Some(dir) = paths.parent.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    let parent_pid_file = match take_pid_file(&paths.parent, me) {
        Ok(p) => p,
        Err(code) => return ExitCode::from(code),
    };
    let vrrp_pid_file = if vrrp_wanted {
        match take_pid_file(&paths.vrrp, me) {
            Ok(p) => Some(p),
            Err(code) => return ExitCode::from(code),
        }
    } else {
        None
    };

    let umask = opts
        .umask
        .or(config.global.umask)
        .unwrap_or(crate::DEFAULT_UMASK);
    nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(umask));

    if !opts.dont_fork {
        if let Err(e) = os::daemonize() {
            error!("cannot daemonise: {e}");
            return ExitCode::from(exit::FATAL);
        }
        logging::set_ident(PARENT_IDENT);
    }
    let parent_pid = std::process::id() as i32;
    let mut parent_pid_file = parent_pid_file;
    if let Err(e) = parent_pid_file.write_pid(parent_pid) {
        warn!("cannot write {}: {e}", parent_pid_file.path().display());
    }
    if let Err(e) = os::set_child_subreaper() {
        warn!("cannot become a child subreaper: {e}");
    }
    let signal_fd = match os::signal_fd(&os::PARENT_SIGNALS) {
        Ok(fd) => fd,
        Err(e) => {
            error!("cannot set up the signalfd: {e}");
            return ExitCode::from(exit::FATAL);
        }
    };
    let poll = match Poll::new() {
        Ok(p) => p,
        Err(e) => {
            error!("cannot create the event poll: {e}");
            return ExitCode::from(exit::FATAL);
        }
    };
    if let Err(e) = poll.registry().register(
        &mut SourceFd(&signal_fd.as_raw_fd()),
        SIGNAL_TOKEN,
        Interest::READABLE,
    ) {
        error!("cannot watch the signalfd: {e}");
        return ExitCode::from(exit::FATAL);
    }

    let rt_json = watch_realtime(&poll, realtime::json_signal(), JSON_TOKEN);
    let rt_stats_clear = watch_realtime(&poll, realtime::stats_clear_signal(), STATS_CLEAR_TOKEN);

    let now = Instant::now();
    let slots = vec![Slot {
        kind: ChildKind::Vrrp,
        wanted: vrrp_wanted,
        entry: Some(entries.vrrp),
        pid: None,
        started: now,
        channel: None,
        backoff: Backoff::new(),
        restart_at: vrrp_wanted.then_some(now),
        ready: false,
        pid_file: vrrp_pid_file,
        last_states: BTreeMap::new(),
    }];
    drop(entries.checker);
    if !vrrp_wanted {
        warn!("Warning - keepalived has no configuration to run");
    }

    let mut sup = Supervisor {
        opts,
        host,
        config,
        poll,
        signal_fd,
        rt_json,
        rt_stats_clear,
        parent_pid_file: Some(parent_pid_file),
        parent_pid,
        vrrp_pid_path: paths.vrrp.clone(),
        slots,
        startup_reported: false,
        reloads: ReloadQueue::default(),
        stop_deadline: None,
        killed: false,
        exit_code: exit::OK,
        next_request: 1,
        pending_dumps: HashMap::new(),
    };
    match sup.event_loop() {
        LoopEnd::Parent(code) => {
            sup.remove_pid_files();
            stopped(code)
        }
        LoopEnd::Child(fd, idx) => sup.become_child(fd, idx),
    }
}

/// Installs the self-pipe of a realtime signal and registers it; a failure only costs that
/// signal (logged).
fn watch_realtime(poll: &Poll, signo: i32, token: Token) -> Option<SelfPipe> {
    let pipe = match SelfPipe::install(signo) {
        Ok(p) => p,
        Err(e) => {
            warn!("cannot handle signal {signo}: {e}");
            return None;
        }
    };
    match poll
        .registry()
        .register(&mut SourceFd(&pipe.raw_fd()), token, Interest::READABLE)
    {
        Ok(()) => Some(pipe),
        Err(e) => {
            warn!("cannot watch signal {signo}: {e}");
            None
        }
    }
}

fn stopped(code: u8) -> ExitCode {
    info!(
        "Stopped keepalived-rs v{} (keepalived 2.2 compatible)",
        env!("CARGO_PKG_VERSION")
    );
    ExitCode::from(code)
}

fn load_config(opts: &SupervisorOptions, host: &dyn Host) -> Loaded {
    let load_opts = LoadOptions {
        config_id: opts.config_id.clone(),
    };
    load(&opts.config_path, &load_opts, host)
}

fn log_diagnostics(loaded: &Loaded) {
    for d in &loaded.diagnostics {
        let text = d.render(&loaded.sources);
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            match d.severity {
                Severity::Error => error!("{line}"),
                Severity::Warning => warn!("{line}"),
                Severity::Note => info!("{line}"),
            }
        }
    }
}

fn warn_checker(config: &Config, check_enabled: bool) {
    let vs = config.virtual_servers.len();
    let scripts = config.vrrp_scripts.len();
    if check_enabled && (vs > 0 || scripts > 0) {
        warn!(
            "the health-checker child is not implemented yet in keepalived-rs: \
             {vs} virtual_server(s) and {scripts} vrrp_script(s) are not checked"
        );
    }
}

/// Takes a pid file; on failure returns the exit code (0 when another daemon holds it, as
/// keepalived).
fn take_pid_file(path: &Path, pid: i32) -> Result<PidLock, u8> {
    match PidLock::create(path, pid) {
        Ok(p) => Ok(p),
        Err(PidFileError::AlreadyRunning { .. }) => {
            info!("daemon is already running");
            Err(exit::OK)
        }
        Err(e) => {
            error!("cannot create pid file {e}");
            Err(exit::FATAL)
        }
    }
}

fn ipc_level(level: LogLevel) -> log::Level {
    match level {
        LogLevel::Error => log::Level::Error,
        LogLevel::Warn => log::Level::Warn,
        LogLevel::Info => log::Level::Info,
        LogLevel::Debug => log::Level::Debug,
        LogLevel::Trace => log::Level::Trace,
    }
}

impl Supervisor<'_> {
    fn event_loop(&mut self) -> LoopEnd {
        let mut events = Events::with_capacity(16);
        loop {
            let now = Instant::now();
            if let Some(end) = self.start_due_children(now) {
                return end;
            }
            if let Some(deadline) = self.stop_deadline {
                if self.slots.iter().all(|s| s.pid.is_none()) {
                    return LoopEnd::Parent(self.exit_code);
                }
                if now >= deadline && !self.killed {
                    self.kill_remaining();
                }
            }
            let timeout = self
                .next_deadline()
                .map(|d| d.saturating_duration_since(now));
            if let Err(e) = self.poll.poll(&mut events, timeout) {
                if e.kind() != std::io::ErrorKind::Interrupted {
                    error!("poll failed: {e}");
                    return LoopEnd::Parent(exit::FATAL);
                }
                continue;
            }
            for event in events.iter() {
                match event.token() {
                    SIGNAL_TOKEN => self.handle_signals(),
                    JSON_TOKEN => {
                        if self.rt_json.as_mut().is_some_and(SelfPipe::drain) {
                            self.request_dump(DumpRequest::Json);
                        }
                    }
                    STATS_CLEAR_TOKEN => {
                        if self.rt_stats_clear.as_mut().is_some_and(SelfPipe::drain) {
                            self.request_dump(DumpRequest::Stats { clear: true });
                        }
                    }
                    Token(n) => self.handle_channel(n.saturating_sub(1)),
                }
            }
            for slot in &mut self.slots {
                if let Some(ch) = slot.channel.as_mut().filter(|c| c.pending()) {
                    if let Err(e) = ch.flush() {
                        debug!("IPC write to {} child failed: {e}", slot.kind.label());
                    }
                }
            }
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let restarts = self.slots.iter().filter_map(|s| s.restart_at);
        let stop = self.stop_deadline.filter(|_| !self.killed);
        restarts.chain(stop).min()
    }

    fn start_due_children(&mut self, now: Instant) -> Option<LoopEnd> {
        if self.stop_deadline.is_some() {
            return None;
        }
        for idx in 0..self.slots.len() {
            let due = self
                .slots
                .get(idx)
                .and_then(|s| s.restart_at)
                .is_some_and(|t| t <= now);
            if due {
                if let Some(slot) = self.slots.get_mut(idx) {
                    slot.restart_at = None;
                }
                if let Some(end) = self.spawn(idx) {
                    return Some(end);
                }
            }
        }
        None
    }

    /// Forks the child of slot `idx`. Returns `Some` in the child.
    fn spawn(&mut self, idx: usize) -> Option<LoopEnd> {
        let (parent_end, child_end) = match os::socketpair_stream() {
            Ok(pair) => pair,
            Err(e) => {
                error!("cannot create the IPC socketpair: {e}");
                self.retry_later(idx);
                return None;
            }
        };
        let forked = match os::fork() {
            Ok(f) => f,
            Err(e) => {
                error!("cannot fork: {e}");
                self.retry_later(idx);
                return None;
            }
        };
        let pid = match forked {
            Forked::Child => {
                drop(parent_end);
                return Some(LoopEnd::Child(child_end, idx));
            }
            Forked::Parent(pid) => pid,
        };
        drop(child_end);
        let config = self.config.clone();
        let registry_result;
        {
            let slot = self.slots.get_mut(idx)?;
            info!("Starting {} child process, pid={pid}", slot.kind.label());
            slot.pid = Some(pid);
            slot.started = Instant::now();
            slot.ready = false;
            if let Some(p) = slot.pid_file.as_mut() {
                if let Err(e) = p.write_pid(pid) {
                    warn!("cannot write {}: {e}", p.path().display());
                }
            }
            let mut channel = match Channel::new(parent_end) {
                Ok(c) => c,
                Err(e) => {
                    error!("cannot set up the IPC channel: {e}");
                    return None;
                }
            };
            channel.send(&ToChild::Start { config });
            if slot.kind == ChildKind::Vrrp && !slot.last_states.is_empty() {
                let last_states = slot.last_states.values().cloned().collect();
                channel.send(&ToChild::Resume { last_states });
            }
            registry_result = self.poll.registry().register(
                &mut SourceFd(&channel.raw_fd()),
                Token(idx + 1),
                Interest::READABLE | Interest::WRITABLE,
            );
            slot.channel = Some(channel);
        }
        if let Err(e) = registry_result {
            error!("cannot watch the IPC channel: {e}");
        }
        None
    }

    fn retry_later(&mut self, idx: usize) {
        if let Some(slot) = self.slots.get_mut(idx) {
            slot.restart_at = Some(Instant::now() + Duration::from_secs(1));
        }
    }

    /// In a freshly forked child: drop the parent's descriptors and run the child's main.
    fn become_child(mut self, ipc: OwnedFd, idx: usize) -> ExitCode {
        if let Err(e) = os::set_pdeathsig() {
            warn!("cannot set the parent-death signal: {e}");
        }
        if nix::unistd::getppid().as_raw() != self.parent_pid {
            return ExitCode::SUCCESS;
        }
        let (kind, entry) = match self.slots.get_mut(idx) {
            Some(slot) => (slot.kind, slot.entry.take()),
            None => return ExitCode::from(exit::FATAL),
        };
        for pipe in [self.rt_json.take(), self.rt_stats_clear.take()]
            .into_iter()
            .flatten()
        {
            pipe.uninstall();
        }
        for fd in self.inherited_fds() {
            os::close_inherited(fd);
        }
        // The descriptors are closed; their owners must not close them (or remove pid files).
        std::mem::forget(self);
        if let Err(e) = os::unblock_all_signals() {
            warn!("cannot reset the signal mask: {e}");
        }
        logging::set_ident(kind.ident());
        match entry {
            Some(mut main) => main(ipc),
            None => ExitCode::from(exit::FATAL),
        }
    }

    fn inherited_fds(&self) -> Vec<RawFd> {
        let mut fds = vec![self.signal_fd.as_raw_fd(), self.poll.as_raw_fd()];
        fds.extend(self.parent_pid_file.as_ref().map(PidLock::raw_fd));
        for slot in &self.slots {
            fds.extend(slot.pid_file.as_ref().map(PidLock::raw_fd));
            fds.extend(slot.channel.as_ref().map(Channel::raw_fd));
        }
        fds
    }

    fn remove_pid_files(&mut self) {
        for slot in &mut self.slots {
            if let Some(p) = slot.pid_file.take() {
                p.remove();
            }
        }
        if let Some(p) = self.parent_pid_file.take() {
            p.remove();
        }
    }

    fn handle_signals(&mut self) {
        loop {
            match self.signal_fd.read() {
                Ok(Some(info)) => {
                    let signo = info.signo;
                    match action_for(signo) {
                        SignalAction::Stop => self.begin_stop(exit::OK),
                        SignalAction::Reload => self.reload(),
                        SignalAction::DumpData => self.request_dump(DumpRequest::Data),
                        SignalAction::Stats => {
                            self.request_dump(DumpRequest::Stats { clear: false })
                        }
                        SignalAction::ChildExited => self.reap_children(),
                        SignalAction::Ignore => debug!("ignoring signal {signo}"),
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    error!("reading the signalfd failed: {e}");
                    break;
                }
            }
        }
    }

    fn reap_children(&mut self) {
        for (pid, exit) in os::reap() {
            self.on_child_exit(pid, exit);
        }
    }

    fn close_channel(&mut self, idx: usize) {
        if let Some(slot) = self.slots.get_mut(idx) {
            if let Some(ch) = slot.channel.take() {
                let _ = self.poll.registry().deregister(&mut SourceFd(&ch.raw_fd()));
            }
        }
    }

    fn on_child_exit(&mut self, pid: i32, how: ChildExit) {
        let Some(idx) = self.slots.iter().position(|s| s.pid == Some(pid)) else {
            debug!("reaped pid {pid} ({how:?})");
            return;
        };
        self.close_channel(idx);
        let stopping = self.stop_deadline.is_some();
        let dont_respawn = self.opts.dont_respawn;
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        slot.pid = None;
        slot.ready = false;
        if stopping {
            debug!("{} child process({pid}) exited: {how:?}", slot.kind.label());
            return;
        }
        let lived = slot.started.elapsed();
        let (what, lines) =
            after_death(slot.kind, pid, how, lived, dont_respawn, &mut slot.backoff);
        for line in &lines {
            warn!("{line}");
        }
        match what {
            AfterDeath::Respawn(delay) => {
                slot.restart_at = Some(Instant::now() + delay);
            }
            AfterDeath::Terminate(code) => self.begin_stop(code),
            AfterDeath::Exit => self.begin_stop(exit::OK),
        }
        self.reload_step_done(idx);
    }

    fn handle_channel(&mut self, idx: usize) {
        let Some(ch) = self.slots.get_mut(idx).and_then(|s| s.channel.as_mut()) else {
            return;
        };
        if let Err(e) = ch.flush() {
            debug!("IPC write failed: {e}");
        }
        let got = ch.receive();
        for msg in got.messages {
            self.on_message(idx, msg);
        }
        if got.closed {
            self.close_channel(idx);
            // A child without its channel cannot be told anything: end it, and the usual
            // death handling respawns it (when it already exited, this is a no-op).
            if let Some(slot) = self.slots.get(idx) {
                if let (Some(pid), None) = (slot.pid, self.stop_deadline) {
                    debug!("IPC channel of {} child {pid} closed", slot.kind.label());
                    let _ = os::kill(pid, Signal::SIGTERM);
                }
            }
        }
    }

    fn on_message(&mut self, idx: usize, msg: ToParent) {
        let Some(slot) = self.slots.get_mut(idx) else {
            return;
        };
        match msg {
            ToParent::Hello { .. } => {}
            ToParent::Ready => {
                slot.ready = true;
                let all_ready = self
                    .slots
                    .iter()
                    .filter(|s| s.pid.is_some())
                    .all(|s| s.ready);
                if all_ready && !self.startup_reported {
                    self.startup_reported = true;
                    info!("Startup complete");
                }
            }
            ToParent::ReloadDone { warnings } => {
                for w in warnings {
                    warn!("{w}");
                }
                self.reload_step_done(idx);
            }
            ToParent::InstanceState(status) => {
                slot.last_states.insert(status.name.clone(), status);
            }
            ToParent::DumpReply { id, text } | ToParent::StatsReply { id, text } => {
                match self.pending_dumps.remove(&id) {
                    Some(name) => match dumpfile::write_dump(name, &text) {
                        Ok(path) => info!("Wrote {}", path.display()),
                        Err(e) => error!("cannot write {name}: {e}"),
                    },
                    None => debug!("unexpected dump reply {id}"),
                }
            }
            ToParent::Log { level, text } => log::log!(ipc_level(level), "{text}"),
            ToParent::ScriptResult { script, good, .. } => {
                // Relay to the VRRP child (the checker is not implemented yet).
                if let Some(ch) = self
                    .slots
                    .iter_mut()
                    .find(|s| s.kind == ChildKind::Vrrp)
                    .and_then(|s| s.channel.as_mut())
                {
                    ch.send(&ToChild::TrackUpdate { script, good });
                }
            }
            ToParent::RealServerState { vs, rs, up } => {
                info!("{vs}: real server {rs} {}", if up { "up" } else { "down" });
            }
        }
    }

    fn begin_stop(&mut self, code: u8) {
        if self.stop_deadline.is_some() {
            return;
        }
        info!("Stopping");
        self.exit_code = code;
        self.stop_deadline = Some(Instant::now() + self.config.child_wait_time);
        for slot in &mut self.slots {
            slot.restart_at = None;
            let Some(pid) = slot.pid else { continue };
            match slot.channel.as_mut() {
                Some(ch) => ch.send(&ToChild::Shutdown),
                None => {
                    if let Err(e) = os::kill(pid, Signal::SIGTERM) {
                        debug!("SIGTERM to {pid}: {e}");
                    }
                }
            }
        }
    }

    fn kill_remaining(&mut self) {
        self.killed = true;
        for slot in &self.slots {
            if let Some(pid) = slot.pid {
                warn!(
                    "{} child process({pid}) failed to die - forcing termination",
                    slot.kind.label()
                );
                if let Err(e) = os::kill(pid, Signal::SIGKILL) {
                    debug!("SIGKILL to {pid}: {e}");
                }
            }
        }
    }

    fn reload(&mut self) {
        if self.stop_deadline.is_some() {
            return;
        }
        if self.reloads.request() == ReloadRequest::Queued {
            info!("Reload requested while a reload is running: queued");
            return;
        }
        info!("Reloading ...");
        let loaded = load_config(&self.opts, self.host);
        log_diagnostics(&loaded);
        let cannot_run = exit_code(&loaded.diagnostics) >= 4;
        if cannot_run
            || loaded
                .diagnostics
                .iter()
                .any(|d| d.severity == Severity::Error)
        {
            error!("The new configuration has errors: keeping the running configuration");
            return;
        }
        if let Some(what) = unchangeable_setting(&self.config, &loaded.config) {
            error!("Cannot change {what} at a reload - please restart");
            return;
        }
        *self.config = loaded.config;
        // Instances gone from the configuration must not be resumed by a later respawn.
        let names: std::collections::HashSet<&str> = self
            .config
            .vrrp_instances
            .iter()
            .map(|i| i.name.as_str())
            .collect();
        for slot in &mut self.slots {
            slot.last_states
                .retain(|name, _| names.contains(name.as_str()));
        }
        let check_enabled = self.opts.only_check || !self.opts.only_vrrp;
        warn_checker(&self.config, check_enabled);
        let vrrp_enabled = self.opts.only_vrrp || !self.opts.only_check;
        let vrrp_wanted = vrrp_enabled && (self.opts.all || !self.config.vrrp_instances.is_empty());
        let now = Instant::now();
        let mut sent = Vec::new();
        for (idx, slot) in self.slots.iter_mut().enumerate() {
            if slot.kind == ChildKind::Vrrp && vrrp_wanted && !slot.wanted {
                slot.wanted = true;
                if slot.pid_file.is_none() {
                    match PidLock::create(&self.vrrp_pid_path, self.parent_pid) {
                        Ok(p) => slot.pid_file = Some(p),
                        Err(e) => {
                            error!("cannot start the VRRP child: {e}");
                            slot.wanted = false;
                            continue;
                        }
                    }
                }
            }
            match slot.channel.as_mut() {
                Some(ch) if slot.pid.is_some() => {
                    ch.send(&ToChild::Reload {
                        config: self.config.clone(),
                    });
                    sent.push(idx);
                }
                _ => {
                    if slot.wanted && slot.pid.is_none() && slot.restart_at.is_none() {
                        slot.restart_at = Some(now);
                    }
                }
            }
        }
        if self.reloads.started(sent) {
            info!("Reload complete");
        }
    }

    /// Child `idx` finished its part of a reload (answered or died).
    fn reload_step_done(&mut self, idx: usize) {
        if let Some(run_queued) = self.reloads.child_done(idx) {
            info!("Reload complete");
            if run_queued {
                self.reload();
            }
        }
    }

    fn request_dump(&mut self, what: DumpRequest) {
        let id = self.next_request;
        self.next_request = self.next_request.wrapping_add(1);
        let Some(ch) = self
            .slots
            .iter_mut()
            .find(|s| s.kind == ChildKind::Vrrp)
            .and_then(|s| s.channel.as_mut())
        else {
            info!("no VRRP child running: nothing to dump");
            return;
        };
        let (msg, name) = match what {
            DumpRequest::Data => (
                ToChild::Dump {
                    id,
                    format: DumpFormat::Data,
                },
                "keepalived.data",
            ),
            DumpRequest::Json => (
                ToChild::Dump {
                    id,
                    format: DumpFormat::Json,
                },
                "keepalived.json",
            ),
            DumpRequest::Stats { clear } => (ToChild::Stats { id, clear }, "keepalived.stats"),
        };
        ch.send(&msg);
        self.pending_dumps.insert(id, name);
    }
}
