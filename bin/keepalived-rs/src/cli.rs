//! keepalived's command line, with keepalived's flags and meanings.

use clap::{ArgAction, Parser};
use std::path::PathBuf;

/// Default configuration file, as keepalived's.
pub const DEFAULT_CONFIG: &str = "/etc/keepalived/keepalived.conf";

/// keepalived-rs: keepalived's VRRP and health-check daemon, rebuilt in Rust.
#[derive(Debug, Parser)]
#[command(
    name = "keepalived-rs",
    version,
    disable_version_flag = true,
    about = "keepalived, rebuilt in Rust: VRRP and health checks, a drop-in replacement"
)]
pub struct Cli {
    /// Use the specified configuration file.
    #[arg(short = 'f', long = "use-file", value_name = "FILE", default_value = DEFAULT_CONFIG)]
    pub use_file: PathBuf,

    /// Only run with the VRRP subsystem.
    #[arg(short = 'P', long = "vrrp")]
    pub vrrp: bool,

    /// Only run with the health-checker subsystem.
    #[arg(short = 'C', long = "check")]
    pub check: bool,

    /// Don't run the BFD subsystem (keepalived-rs has none: accepted for compatibility).
    #[arg(short = 'B', long = "no_bfd")]
    pub no_bfd: bool,

    /// Force all child processes to run, even if they have no configuration.
    #[arg(long = "all")]
    pub all: bool,

    /// Log messages to the local console.
    #[arg(short = 'l', long = "log-console")]
    pub log_console: bool,

    /// Detailed log messages.
    #[arg(short = 'D', long = "log-detail")]
    pub log_detail: bool,

    /// Set the syslog facility: 0-7 (local0-7), local0-7, user or daemon (default).
    #[arg(short = 'S', long = "log-facility", value_name = "FACILITY")]
    pub log_facility: Option<String>,

    /// Don't log via syslog.
    #[arg(short = 'G', long = "no-syslog")]
    pub no_syslog: bool,

    /// Log to this file (the children insert _vrrp / _healthcheckers before the extension).
    #[arg(short = 'g', long = "log-file", value_name = "FILE")]
    pub log_file: Option<PathBuf>,

    /// Flush the log file after each line.
    #[arg(long = "flush-log-file")]
    pub flush_log_file: bool,

    /// umask for file creation (numeric).
    #[arg(short = 'u', long = "umask", value_name = "MASK")]
    pub umask: Option<String>,

    /// Drop VIPs on transition from signal.
    #[arg(short = 'X', long = "release-vips")]
    pub release_vips: bool,

    /// Don't remove VRRP VIPs and virtual routes on daemon stop.
    #[arg(short = 'V', long = "dont-release-vrrp")]
    pub dont_release_vrrp: bool,

    /// Don't remove the IPVS topology on daemon stop.
    #[arg(short = 'I', long = "dont-release-ipvs")]
    pub dont_release_ipvs: bool,

    /// Don't respawn child processes.
    #[arg(short = 'R', long = "dont-respawn")]
    pub dont_respawn: bool,

    /// Don't fork the daemon process.
    #[arg(short = 'n', long = "dont-fork")]
    pub dont_fork: bool,

    /// Dump the configuration data.
    #[arg(short = 'd', long = "dump-conf")]
    pub dump_conf: bool,

    /// Print the typed configuration model as JSON (keepalived-rs extension).
    #[arg(long = "dump-conf-json")]
    pub dump_conf_json: bool,

    /// Use the specified pidfile for the parent process.
    #[arg(short = 'p', long = "pid", value_name = "FILE")]
    pub pid: Option<PathBuf>,

    /// Use the specified pidfile for the VRRP child process.
    #[arg(short = 'r', long = "vrrp_pid", value_name = "FILE")]
    pub vrrp_pid: Option<PathBuf>,

    /// Use the specified pidfile for the checkers child process.
    #[arg(short = 'c', long = "checkers_pid", value_name = "FILE")]
    pub checkers_pid: Option<PathBuf>,

    /// Use the specified pidfile for the BFD child process (accepted for compatibility).
    #[arg(short = 'b', long = "bfd_pid", value_name = "FILE")]
    pub bfd_pid: Option<PathBuf>,

    /// Report all address additions/deletions notified via netlink.
    #[arg(short = 'a', long = "address-monitoring")]
    pub address_monitoring: bool,

    /// Enter genhash utility mode.
    #[arg(short = 'T', long = "genhash")]
    pub genhash: bool,

    /// Enable the SNMP subsystem (not supported by keepalived-rs).
    #[arg(short = 'x', long = "snmp")]
    pub snmp: bool,

    /// Use the specified socket for the SNMP master agent (not supported).
    #[arg(short = 'A', long = "snmp-agent-socket", value_name = "FILE")]
    pub snmp_agent_socket: Option<PathBuf>,

    /// Run in network namespace NAME (overrides the config).
    #[arg(short = 's', long = "namespace", value_name = "NAME")]
    pub namespace: Option<String>,

    /// Produce a core dump if terminating abnormally.
    #[arg(short = 'm', long = "core-dump")]
    pub core_dump: bool,

    /// Also set /proc/sys/kernel/core_pattern to PATTERN.
    #[arg(short = 'M', long = "core-dump-pattern", value_name = "PATTERN", num_args = 0..=1, require_equals = true, default_missing_value = "core")]
    pub core_dump_pattern: Option<String>,

    /// Error if any configuration file is missing (same as includet).
    #[arg(short = 'e', long = "all-config")]
    pub all_config: bool,

    /// Skip configuration lines beginning '@' that don't match ID, and lines beginning '@^' that do.
    /// Defaults to the host name up to the first '.'.
    #[arg(short = 'i', long = "config-id", value_name = "ID")]
    pub config_id: Option<String>,

    /// Print the signal number for STOP, RELOAD, DATA, STATS, STATS_CLEAR or JSON.
    #[arg(long = "signum", value_name = "SIGFUNC")]
    pub signum: Option<String>,

    /// Check the configuration for errors; output to stderr, or to LOG_FILE.
    #[arg(short = 't', long = "config-test", value_name = "LOG_FILE", num_args = 0..=1, require_equals = true, default_missing_value = "")]
    pub config_test: Option<String>,

    /// Display the version number.
    #[arg(short = 'v', long = "version", action = ArgAction::SetTrue)]
    pub version: bool,
}
