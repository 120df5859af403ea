//! The keepalived-rs parent process ("supervisor"): it reads and validates the configuration
//! once, takes the pid files, daemonises, forks the VRRP child and the checker child, talks
//! to them over socketpairs carrying bincode frames (`keepalived-ipc`), respawns a dead child
//! with keepalived's back-off, relays the checker's `vrrp_script` results to the VRRP child,
//! tells systemd how it is doing ([`notify`]), and turns signals into requests: SIGTERM/SIGINT
//! stop, SIGHUP reloads, SIGUSR1/SIGUSR2/JSON/STATS_CLEAR dump ([`dumpfile`]).
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
pub mod notify;
pub mod os;
pub mod pidfiles;
pub mod reload;
pub mod signals;
pub mod stand_in;
pub mod tuning;

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
    /// The checker child (`vrrp_script`s and virtual servers); `None` when this build has none
    /// (configs that need it get a warning).
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
    /// Logging (`-l`, `-G`, `-S`, `-D`, `-g`, `--flush-log-file`).
    pub log: LogSettings,
    /// `-u MASK`: overrides the config's `umask` and keepalived's default [`DEFAULT_UMASK`].
    pub umask: Option<u32>,
}

/// keepalived's umask when neither `-u` nor `umask` says otherwise: only the owner may read
/// and write what the daemon creates (pid files are created before it applies).
pub const DEFAULT_UMASK: u32 = 0o177;

/// Parses a umask the way C's `strtoul(text, _, 0)` does: `0x..` hex, `0..` octal, else
/// decimal. Masks above 0o777 are refused.
pub fn parse_umask(text: &str) -> Option<u32> {
    let t = text.trim();
    let value = if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok()?
    } else if t.len() > 1 && t.starts_with('0') {
        u32::from_str_radix(t.get(1..)?, 8).ok()?
    } else {
        t.parse().ok()?
    };
    (value <= 0o777).then_some(value)
}

/// Runs the daemon. Returns the parent's exit status, or, in a forked child, the child's.
pub fn run(opts: SupervisorOptions, host: &dyn Host, entries: ChildEntries) -> ExitCode {
    daemon::run(opts, host, entries)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn umask_bases() {
        assert_eq!(parse_umask("0177"), Some(0o177));
        assert_eq!(parse_umask("022"), Some(0o22));
        assert_eq!(parse_umask("18"), Some(18));
        assert_eq!(parse_umask("0x1ff"), Some(0o777));
        assert_eq!(parse_umask("0"), Some(0));
        assert_eq!(parse_umask("01000"), None);
        assert_eq!(parse_umask("089"), None);
        assert_eq!(parse_umask("abc"), None);
    }
}
