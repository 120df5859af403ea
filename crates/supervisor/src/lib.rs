//! The keepalived-rs parent process ("supervisor"): it reads and validates the configuration
//! once, takes the pid files, daemonises, forks the VRRP child (and, later, the checker), talks
//! to them over socketpairs carrying bincode frames (`keepalived-ipc`), respawns a dead child
//! with keepalived's back-off, and turns signals into requests: SIGTERM/SIGINT stop, SIGHUP
//! reloads, SIGUSR1/SIGUSR2 dump.
//!
//! Single-threaded, always: it forks. Signals arrive through a signalfd in one `mio::Poll`.
//!
//! The children's entry points are passed in ([`ChildEntries`]) so that this crate does not
//! depend on the children's crates; the binary wires `keepalived_vrrpd::run_child`.

pub mod backoff;
pub mod channel;
pub mod children;
mod daemon;
pub mod dumpfile;
pub mod logging;
pub mod os;
pub mod pidfiles;
pub mod reload;
pub mod signals;
pub mod stand_in;

use keepalived_config::Host;
use logging::LogSettings;
use pidfiles::PidOverrides;
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::process::ExitCode;

/// keepalived's daemon exit codes (`lib/scheduler.h`).
pub mod exit {
    /// Normal stop.
    pub const OK: u8 = 0;
    /// A fatal error.
    pub const FATAL: u8 = 1;
    /// The configuration cannot run.
    pub const CONFIG: u8 = 2;
    /// The configuration file does not exist.
    pub const NO_CONFIG: u8 = 6;
}

/// A child's main function: runs in the forked child with its end of the IPC socketpair and
/// returns the child's exit status.
pub type ChildEntry = Box<dyn FnMut(OwnedFd) -> ExitCode>;

/// The main functions of the children.
pub struct ChildEntries {
    /// The VRRP child.
    pub vrrp: ChildEntry,
    /// The checker child; `None` until it exists (configs that need it get a warning).
    pub checker: Option<ChildEntry>,
}

/// The parent's settings, from the command line.
#[derive(Debug, Clone)]
pub struct SupervisorOptions {
    /// `-f`.
    pub config_path: PathBuf,
    /// `-i` (or the host name up to the first dot).
    pub config_id: String,
    /// `-n`: stay in the foreground.
    pub dont_fork: bool,
    /// `-P` given.
    pub only_vrrp: bool,
    /// `-C` given.
    pub only_check: bool,
    /// `--all`: start children even without configuration for them.
    pub all: bool,
    /// `-R`: exit instead of respawning a dead child.
    pub dont_respawn: bool,
    /// `-p`, `-r`, `-c`.
    pub pid_overrides: PidOverrides,
    /// Logging (`-l`, `-G`, `-S`, `-D`).
    pub log: LogSettings,
}

/// Runs the daemon. Returns the parent's exit status, or, in a forked child, the child's.
pub fn run(opts: SupervisorOptions, host: &dyn Host, entries: ChildEntries) -> ExitCode {
    daemon::run(opts, host, entries)
}
