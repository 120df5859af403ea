//! The parent's life: start-up, the event loop, child death and respawn, reload, dumps, stop.

use crate::backoff::Backoff;
use crate::channel::Channel;
use crate::children::ChildKind;
use crate::dumpfile::DumpKind;
use crate::logging::{self, PARENT_IDENT};
use crate::notify::Notifier;
use crate::os::{self, PidFileError, PidLock};
use crate::pidfiles::pid_paths;
use crate::reload::ReloadQueue;
use crate::signals::realtime::{self, SelfPipe};
use crate::{exit, ChildEntries, ChildEntry, SupervisorOptions};
use keepalived_config::{cannot_run, load, Config, Host, LoadOptions, Loaded, Severity};
use keepalived_ipc::{InstanceBytes, InstanceStatus, ToChild};
use keepalived_sys::SignalFd;
use log::{debug, error, info, warn};
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

impl Slot {
    fn new(
        kind: ChildKind,
        wanted: bool,
        entry: ChildEntry,
        pid_file: Option<PidLock>,
        now: Instant,
    ) -> Self {
        Self {
            kind,
            wanted,
            entry: Some(entry),
            pid: None,
            started: now,
            channel: None,
            backoff: Backoff::new(),
            restart_at: wanted.then_some(now),
            ready: false,
            pid_file,
            last_states: BTreeMap::new(),
        }
    }
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
    /// The running configuration's settings the parent reads itself (global definitions,
    /// namespaces, `child_wait_time`); its blocks (instances, scripts, servers) are only in
    /// [`Self::start_frame`].
    config: Box<Config>,
    /// `Start` with the whole running model, encoded once: what every child is sent when it
    /// starts. A tenth of the decoded model's size, which the parent never reads again.
    start_frame: Vec<u8>,
    /// The encoding of each instance the VRRP child runs: what a reload compares the new
    /// ones with, to send it only those that changed (`None`: not known, send them all).
    running_instances: Option<InstanceBytes>,
    poll: Poll,
    signal_fd: SignalFd,
    rt_json: Option<SelfPipe>,
    rt_stats_clear: Option<SelfPipe>,
    parent_pid_file: Option<PidLock>,
    parent_pid: i32,
    vrrp_pid_path: PathBuf,
    checker_pid_path: PathBuf,
    /// Whether a checker entry point was given (else scripts and virtual servers are unchecked).
    has_checker: bool,
    slots: Vec<Slot>,
    /// The last state the checker reported for each `vrrp_script`: replayed to a respawned
    /// VRRP child (a respawned checker changes nothing until it reports).
    script_states: BTreeMap<String, bool>,
    notifier: Notifier,
    startup_reported: bool,
    reloads: ReloadQueue,
    /// Set when stopping: the deadline after which children are killed.
    stop_deadline: Option<Instant>,
    killed: bool,
    exit_code: u8,
    next_request: u64,
    pending_dumps: HashMap<u64, DumpKind>,
    /// When to give back the pages of a burst again (the children's first state reports
    /// after start-up or a reload run code and fill buffers the idle parent does not use).
    shed_at: Option<Instant>,
}

/// How long after start-up or a reload the parent sheds that burst's pages once more.
const SHED_AFTER_BURST: std::time::Duration = std::time::Duration::from_secs(5);

/// See [`crate::run`].
pub fn run(mut opts: SupervisorOptions, host: &dyn Host, entries: ChildEntries) -> ExitCode {
    logging::init(opts.log.clone(), PARENT_IDENT);
    // Before the load and the forks: the children inherit the allocator's settings.
    if !keepalived_sys::memory::tune_allocator() {
        log::debug!("glibc refused an allocator setting (mallopt)");
    }
    info!(
        "Starting keepalived-rs v{} (keepalived 2.2 compatible)",
        env!("CARGO_PKG_VERSION")
    );
    if let Some(kernel) = running_on() {
        info!("Running on {kernel}");
    }
    let detail = opts.log.detail;
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
        return stopped(exit::NO_CONFIG, detail);
    }
    info!("Configuration file {}", opts.config_path.display());
    let loaded = load_config(&opts, host);
    log_diagnostics(&loaded);
    if cannot_run(&loaded.diagnostics) {
        error!("The configuration cannot run (see the errors above)");
        return stopped(exit::CONFIG, detail);
    }
    // Only the model lives on: the parent keeps it for reloads, respawns and dumps, and
    // every forked child starts with a copy of the parent's heap.
    let config = keep_model_only(loaded);
    crate::tuning::startup_notice(&config.global);
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
    let has_checker = entries.checker.is_some();
    let vrrp_wanted = vrrp_wanted(&opts, &config);
    let checker_wanted = has_checker && checker_wanted(&opts, &config);
    warn_checker(&opts, &config, has_checker);

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
    let checker_pid_file = if checker_wanted {
        match take_pid_file(&paths.checker, me) {
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
    let mut slots = vec![Slot::new(
        ChildKind::Vrrp,
        vrrp_wanted,
        entries.vrrp,
        vrrp_pid_file,
        now,
    )];
    if let Some(entry) = entries.checker {
        slots.push(Slot::new(
            ChildKind::Checker,
            checker_wanted,
            entry,
            checker_pid_file,
            now,
        ));
    }
    if !vrrp_wanted && !checker_wanted {
        warn!("Warning - keepalived has no configuration to run");
    }
    let notifier = Notifier::from_env();
    let running_instances = match InstanceBytes::encode(&config.vrrp_instances) {
        Ok(r) => Some(r),
        Err(e) => {
            debug!("instances not encoded one by one: {e}");
            None
        }
    };
    let Some((config, start_frame)) = keep_for_parent(config) else {
        return ExitCode::from(exit::FATAL);
    };
    keepalived_sys::memory::release_free_heap();

    let mut sup = Supervisor {
        opts,
        host,
        config,
        start_frame,
        running_instances,
        poll,
        signal_fd,
        rt_json,
        rt_stats_clear,
        parent_pid_file: Some(parent_pid_file),
        parent_pid,
        vrrp_pid_path: paths.vrrp.clone(),
        checker_pid_path: paths.checker.clone(),
        has_checker,
        slots,
        script_states: BTreeMap::new(),
        notifier,
        startup_reported: false,
        reloads: ReloadQueue::default(),
        shed_at: None,
        stop_deadline: None,
        killed: false,
        exit_code: exit::OK,
        next_request: 1,
        pending_dumps: HashMap::new(),
    };
    if !vrrp_wanted && !checker_wanted {
        // Nothing will say Ready: the daemon is as started as it will be.
        sup.report_startup();
    }
    match sup.event_loop() {
        LoopEnd::Parent(code) => {
            sup.remove_pid_files();
            stopped(code, detail)
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

fn stopped(code: u8, detail: bool) -> ExitCode {
    if detail {
        if let Some(line) = cpu_usage() {
            info!("{line}");
        }
    }
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

/// Keeps the model and frees the rest of a load (the source text, the diagnostics) at
/// once, with the load's temporaries given back to the kernel: a partly moved [`Loaded`]
/// would hold them until the end of the daemon's life.
fn keep_model_only(loaded: Loaded) -> Box<Config> {
    let Loaded {
        config,
        diagnostics,
        sources,
    } = loaded;
    drop(diagnostics);
    drop(sources);
    let config = Box::new(config);
    keepalived_sys::memory::release_free_heap();
    config
}

/// After start-up or a reload: gives back the freed heap and drops the code and read-only
/// data pages that only the load ran from the resident set (see `keepalived_sys::memory`).
pub(crate) fn shed_unused_memory() {
    keepalived_sys::memory::release_free_heap();
    match keepalived_sys::memory::release_clean_file_pages() {
        Ok(r) => log::debug!(
            "released {} kB of read-only file pages ({} mappings)",
            r.resident_kb,
            r.mappings
        ),
        Err(e) => log::debug!("cannot read /proc/self/smaps: {e}"),
    }
}

/// Encodes `Start` with the whole model (what every child, first or respawned, is sent) and
/// keeps only the settings the parent reads itself. `None` when the model cannot be encoded
/// (logged).
pub(crate) fn keep_for_parent(config: Box<Config>) -> Option<(Box<Config>, Vec<u8>)> {
    let msg = ToChild::Start { config };
    let mut frame = match keepalived_ipc::encode(&msg) {
        Ok(f) => f,
        Err(e) => {
            error!("cannot encode the configuration for the children: {e}");
            return None;
        }
    };
    frame.shrink_to_fit();
    let ToChild::Start { config } = msg else {
        return None;
    };
    Some((Box::new(parent_settings(*config)), frame))
}

/// The parts of `config` the parent reads itself.
pub(crate) fn parent_settings(config: Config) -> Config {
    Config {
        global: config.global,
        net_namespace: config.net_namespace,
        net_namespace_ipvs: config.net_namespace_ipvs,
        namespace_with_ipsets: config.namespace_with_ipsets,
        use_pid_dir: config.use_pid_dir,
        instance: config.instance,
        child_wait_time: config.child_wait_time,
        ..Config::default()
    }
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

/// Whether the VRRP child runs: not `-C`, and instances configured (or `--all`).
fn vrrp_wanted(opts: &SupervisorOptions, config: &Config) -> bool {
    let enabled = opts.only_vrrp || !opts.only_check;
    enabled && (opts.all || !config.vrrp_instances.is_empty())
}

/// Whether the checker child runs: a `vrrp_script` in use (unless `-C`: no VRRP to feed), a
/// `virtual_server` configured (unless `-P`), or `--all`. keepalived runs `vrrp_script`s in its
/// VRRP child, so `-P` keeps them; keepalived-rs runs them in the checker, which reports each
/// result for the parent to relay, so under `-P` the checker runs for the scripts only.
fn checker_wanted(opts: &SupervisorOptions, config: &Config) -> bool {
    let scripts = !opts.only_check && scripts_in_use(config);
    let servers = !opts.only_vrrp && !config.virtual_servers.is_empty();
    opts.all || scripts || servers
}

/// Whether any instance or sync group tracks a defined `vrrp_script`.
pub(crate) fn scripts_in_use(config: &Config) -> bool {
    let tracked = config
        .vrrp_instances
        .iter()
        .map(|i| &i.track)
        .chain(config.sync_groups.iter().map(|g| &g.track))
        .flat_map(|t| t.scripts.iter());
    let mut tracked = tracked;
    tracked.any(|r| config.vrrp_scripts.iter().any(|s| s.name == r.name))
}

fn warn_checker(opts: &SupervisorOptions, config: &Config, has_checker: bool) {
    let vs = config.virtual_servers.len();
    let scripts = config.vrrp_scripts.len();
    if !has_checker && checker_wanted(opts, config) {
        warn!(
            "the health-checker child is not available in this build of keepalived-rs: \
             {vs} virtual_server(s) and {scripts} vrrp_script(s) are not checked"
        );
    }
}

/// keepalived's "Running on" line: kernel name, release and version.
fn running_on() -> Option<String> {
    let read = |f: &str| std::fs::read_to_string(format!("/proc/sys/kernel/{f}")).ok();
    let release = read("osrelease")?;
    let version = read("version").unwrap_or_default();
    Some(format!("Linux {} {}", release.trim(), version.trim()))
}

/// keepalived's `-D` line at exit: CPU used by the parent and by its reaped children.
fn cpu_usage() -> Option<String> {
    use nix::sys::resource::{getrusage, UsageWho};
    let me = getrusage(UsageWho::RUSAGE_SELF).ok()?;
    let kids = getrusage(UsageWho::RUSAGE_CHILDREN).ok()?;
    let tv = |t: nix::sys::time::TimeVal| format!("{}.{:06}", t.tv_sec(), t.tv_usec());
    Some(format!(
        "CPU usage (self/children) user: {}/{} system: {}/{}",
        tv(me.user_time()),
        tv(kids.user_time()),
        tv(me.system_time()),
        tv(kids.system_time())
    ))
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
