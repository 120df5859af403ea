//! The daemon path: the command line turned into the supervisor's options, with the VRRP
//! child's entry point wired in.

use crate::cli::Cli;
use crate::system_host::{default_config_id, SystemHost};
use keepalived_supervisor::logging::{parse_facility, LogSettings};
use keepalived_supervisor::pidfiles::PidOverrides;
use keepalived_supervisor::{ChildEntries, SupervisorOptions};
use keepalived_vrrpd::VrrpdOptions;
use std::process::ExitCode;

/// Runs the parent (and, in a forked child, that child's main).
pub fn run(cli: &Cli) -> ExitCode {
    let mut log = LogSettings {
        console: cli.log_console,
        syslog: !cli.no_syslog,
        detail: cli.log_detail,
        log_file: cli.log_file.clone(),
        flush_log_file: cli.flush_log_file,
        ..LogSettings::default()
    };
    let mut bad_facility = None;
    if let Some(text) = &cli.log_facility {
        match parse_facility(text) {
            Some(f) => log.facility = f,
            None => bad_facility = Some(text.clone()),
        }
    }
    let umask = cli.umask.as_deref().and_then(|text| {
        let mask = keepalived_supervisor::parse_umask(text);
        if mask.is_none() {
            eprintln!("keepalived-rs: invalid umask '{text}': ignored");
        }
        mask
    });
    let opts = SupervisorOptions {
        config_path: cli.use_file.clone(),
        config_id: cli.config_id.clone().unwrap_or_else(default_config_id),
        dont_fork: cli.dont_fork,
        only_vrrp: cli.vrrp,
        only_check: cli.check,
        all: cli.all,
        dont_respawn: cli.dont_respawn,
        pid_overrides: PidOverrides {
            parent: cli.pid.clone(),
            vrrp: cli.vrrp_pid.clone(),
            checker: cli.checkers_pid.clone(),
        },
        log,
        umask,
    };
    if let Some(text) = bad_facility {
        eprintln!("keepalived-rs: invalid log facility '{text}': using daemon");
    }
    // The checker child: vrrp_scripts (unless -C) and virtual servers (unless -P).
    let checker_opts = keepalived_checker::CheckerOptions {
        dont_release_ipvs: cli.dont_release_ipvs,
        no_scripts: cli.check,
        no_virtual_servers: cli.vrrp,
    };
    let checker: Option<keepalived_supervisor::ChildEntry> = Some(Box::new(move |ipc| {
        keepalived_checker::run_child(ipc, checker_opts)
    }));
    let vrrp_opts = VrrpdOptions {
        dont_release_vrrp: cli.dont_release_vrrp,
        release_vips: cli.release_vips,
        // vrrp_script results come from the checker (which -P starts for the scripts alone).
        scripts_supported: checker.is_some(),
    };
    let entries = ChildEntries {
        vrrp: Box::new(move |ipc| keepalived_vrrpd::run_child(ipc, vrrp_opts)),
        checker,
    };
    keepalived_supervisor::run(opts, &SystemHost, entries)
}
