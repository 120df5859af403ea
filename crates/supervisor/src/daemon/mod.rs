//! The parent's life: start-up, the event loop, child death and respawn, reload, dumps, stop.

use crate::backoff::Backoff;
use crate::channel::Channel;
use crate::children::ChildKind;
use crate::logging::{self, PARENT_IDENT};
use crate::os::{self, PidFileError, PidLock};
use crate::pidfiles::pid_paths;
use crate::reload::ReloadQueue;
use crate::signals::realtime::{self, SelfPipe};
use crate::{exit, ChildEntries, ChildEntry, SupervisorOptions};
use keepalived_config::{cannot_run, load, Config, Host, LoadOptions, Loaded, Severity};
use keepalived_ipc::InstanceStatus;
use keepalived_sys::SignalFd;
use log::{error, info, warn};
use mio::unix::SourceFd;
use mio::{Interest, Poll, Token};
use std::collections::{BTreeMap, HashMap};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

mod lifecycle;
mod requests;

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
    if cannot_run(&loaded.diagnostics) {
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
