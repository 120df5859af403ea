//! The health-check child of keepalived-rs: one mio event loop that runs `vrrp_script`s and the
//! real-server checks of `virtual_server`s, using the pure core in `keepalived_check`.
//!
//! * [`ipc`]: the channel to the parent (handshake, non-blocking frames);
//! * [`procs`]: the process runner (own process groups, timeouts kill the group, reaping);
//! * [`scripts`]: the running `vrrp_script`s (users, exec or shell, rise/fall, reports);
//! * [`event_loop`]: the loop.
//!
//! [`run_child`] is what the supervisor calls after fork.
//!
//! Choices: a script's first result after start is always reported (keepalived's rule);
//! its assumed state before that (good unless `init_fail`) is the VRRP child's own starting
//! point, so it is not sent, and a respawned checker does not flip the VRRP child's states
//! back to the configured initial ones. A timed-out script's group gets SIGKILL at once.

pub mod alert;
pub mod event_loop;
pub mod ipc;
pub mod ipvs_kernel;
pub mod procs;
pub mod scripts;
pub mod vs;

use event_loop::Checker;
use ipc::Ipc;
use keepalived_config::Config;
use keepalived_ipc::ToParent;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;

/// Options of the checker child (from the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct CheckerOptions {
    /// `--dont-release-ipvs` (`-I`): leave the IPVS table in place at shutdown.
    pub dont_release_ipvs: bool,
    /// Do not run `vrrp_script`s (`-C`: no VRRP child to use their results).
    pub no_scripts: bool,
    /// Do not run virtual-server checks or program IPVS (`-P`: keepalived still runs the
    /// `vrrp_script`s then, so the checker is started for them alone).
    pub no_virtual_servers: bool,
}

/// The checker child after fork: handshake on `ipc`, wait for `Start{config}`, answer
/// `Ready`, run until `Shutdown`, SIGTERM (also sent by PDEATHSIG when the parent dies) or
/// the parent closing the channel.
pub fn run_child(ipc: OwnedFd, opts: CheckerOptions) -> ExitCode {
    if let Err(e) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM) {
        log::warn!("PR_SET_PDEATHSIG: {e}");
    }
    // The parent's blocked signals are inherited across fork; start from a clean mask.
    if let Err(e) = keepalived_sys::signals::unblock_all() {
        log::warn!("unblock signals: {e}");
    }
    let (ipc, config) = match Ipc::handshake(UnixStream::from(ipc)) {
        Ok(x) => x,
        Err(ipc::IpcError::Closed) => return ExitCode::SUCCESS,
        Err(e) => {
            log::error!("checker child: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut checker = match Checker::new(&config, opts, Some(ipc)) {
        Ok(c) => c,
        Err(e) => {
            log::error!("checker child cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    // The checker holds what it runs; the decoded model would stay for the child's whole life.
    drop(config);
    keepalived_sys::memory::release_free_heap();
    checker.send(&ToParent::Ready);
    checker.start();
    checker.on_ipc();
    // Start-up code pages leave the resident set (the loop maps back what it runs).
    let _ = keepalived_sys::memory::release_clean_file_pages();
    checker.run();
    ExitCode::SUCCESS
}

/// Runs the checker without a parent (results are logged): SIGTERM or SIGINT stop it.
pub fn run_standalone(config: &Config, opts: CheckerOptions) -> ExitCode {
    let mut checker = match Checker::new(config, opts, None) {
        Ok(c) => c,
        Err(e) => {
            log::error!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    checker.start();
    checker.run();
    ExitCode::SUCCESS
}
