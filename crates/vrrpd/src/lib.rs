//! The VRRP child of keepalived-rs: one mio event loop that wires the pure VRRP core
//! (`keepalived_vrrp`) to the OS layer (`keepalived_sys`).
//!
//! * [`params`] (pure) maps the configuration onto the core's parameters;
//! * [`net`] owns the VRRP sockets and the receive path;
//! * [`exec`] carries out the core's actions;
//! * [`system`] is the real operating system behind [`exec::Os`];
//! * [`alert`] decides and sends the SMTP alerts of state changes;
//! * [`dump`] (pure) formats keepalived's dump files (data, stats, JSON);
//! * [`event_loop`] is the loop itself.
//!
//! [`run_child`] is what the supervisor calls after fork; [`run_standalone`] runs without a
//! parent (the `vrrpd_standalone` binary).
//!
//! Choices and gaps (each unsupported configured feature is also logged as a warning):
//! * `vrrp_script` results come from the checker over IPC (`TrackUpdate`/`TrackerUpdate`).
//!   Without a checker ([`VrrpdOptions::scripts_supported`] false) every tracked script is
//!   treated as succeeding, with one warning per script: an untested script must not take
//!   every node to FAULT (with weight 0) and so drop the VIP everywhere.
//! * `track_file` is polled once a second (no inotify); a missing or non-numeric file reads 0.
//! * Not done yet: `static_*`, IPv6 `use_vmac`, `use_ipvlan`, `vrf`,
//!   `no_accept` firewall rules, `track_process`, `track_bfd`, `notify_deleted`, FIFO
//!   scripts, `vrrp_garp_interval` pacing, VMACs for instances added by a reload, and FAULT
//!   when the interface's primary address disappears.
//! * A child started by `Start` waits up to 200 ms for a `Resume` before starting afresh.

pub mod alert;
pub mod dump;
pub mod event_loop;
pub mod exec;
pub mod kernel_view;
pub mod net;
pub mod params;
pub mod system;

use event_loop::{Daemon, Ipc};
use keepalived_config::Config;
use keepalived_ipc::{check_hello, encode, hello, FrameDecoder, ToChild, ToParent};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;

/// Options of the VRRP child (from the command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VrrpdOptions {
    /// `--dont-release-vrrp`: leave the VIPs in place at shutdown.
    pub dont_release_vrrp: bool,
    /// `--release-vips`: accepted for keepalived compatibility; configured VIPs found at
    /// start are always removed (as keepalived does after a crash), so this changes nothing.
    pub release_vips: bool,
    /// A checker child reports `vrrp_script` results over IPC. When false, every tracked
    /// script is treated as succeeding and a warning says so.
    pub scripts_supported: bool,
}

/// Errors of the IPC handshake.
#[derive(Debug, thiserror::Error)]
enum HandshakeFailure {
    #[error("IPC I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("IPC: {0}")]
    Frame(String),
    #[error("IPC: the parent closed the channel")]
    Closed,
}

fn read_message(
    stream: &mut UnixStream,
    decoder: &mut FrameDecoder<ToChild>,
) -> Result<ToChild, HandshakeFailure> {
    let mut buf = [0u8; 64 * 1024];
    loop {
        if let Some(m) = decoder
            .pop()
            .map_err(|e| HandshakeFailure::Frame(e.to_string()))?
        {
            return Ok(m);
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Err(HandshakeFailure::Closed);
        }
        decoder
            .push(buf.get(..n).unwrap_or(&[]))
            .map_err(|e| HandshakeFailure::Frame(e.to_string()))?;
    }
}

fn handshake(
    stream: &mut UnixStream,
    decoder: &mut FrameDecoder<ToChild>,
) -> Result<Config, HandshakeFailure> {
    let bytes = encode(&hello::<ToParent>()).map_err(|e| HandshakeFailure::Frame(e.to_string()))?;
    stream.write_all(&bytes)?;
    let first = read_message(stream, decoder)?;
    check_hello(&first).map_err(|e| HandshakeFailure::Frame(e.to_string()))?;
    loop {
        match read_message(stream, decoder)? {
            ToChild::Start { config } => {
                // The Start frame of thousands of instances: its buffer goes now.
                decoder.release();
                return Ok(*config);
            }
            ToChild::Shutdown => return Err(HandshakeFailure::Closed),
            other => log::warn!("IPC: {other:?} before Start ignored"),
        }
    }
}

/// The VRRP child after fork: handshake on `ipc`, wait for `Start{config}`, answer `Ready`,
/// run until `Shutdown` or SIGTERM (also delivered by PDEATHSIG when the parent dies).
///
/// A respawned child is sent `Resume` right after `Start`; the instances start once it
/// arrives, or after 200 ms without it.
pub fn run_child(ipc: OwnedFd, opts: VrrpdOptions) -> ExitCode {
    if let Err(e) = nix::sys::prctl::set_pdeathsig(nix::sys::signal::Signal::SIGTERM) {
        log::warn!("PR_SET_PDEATHSIG: {e}");
    }
    // The parent's blocked signals are inherited across fork; start from a clean mask.
    if let Err(e) = keepalived_sys::signals::unblock_all() {
        log::warn!("unblock signals: {e}");
    }
    let mut stream = UnixStream::from(ipc);
    let mut decoder = FrameDecoder::new();
    let config = match handshake(&mut stream, &mut decoder) {
        Ok(c) => c,
        Err(e) => {
            log::error!("VRRP child: {e}");
            return ExitCode::FAILURE;
        }
    };
    if let Err(e) = stream.set_nonblocking(true) {
        log::error!("VRRP child: IPC non-blocking: {e}");
        return ExitCode::FAILURE;
    }
    let ipc = Some(Ipc::new(stream, decoder));
    let mut daemon = match Daemon::new(config, opts, ipc) {
        Ok(d) => d,
        Err(e) => {
            log::error!("VRRP child cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    daemon.send(&ToParent::Ready);
    daemon.start_after_grace();
    daemon.on_ipc();
    // Start-up ran the netlink dumps and the planning once: their code pages leave the
    // resident set (the loop maps back what it runs).
    let _ = keepalived_sys::memory::release_clean_file_pages();
    daemon.run();
    ExitCode::SUCCESS
}

/// Runs the VRRP side without a parent: SIGTERM or SIGINT stop it.
pub fn run_standalone(config: Config, opts: VrrpdOptions) -> ExitCode {
    let mut daemon = match Daemon::new(config, opts, None) {
        Ok(d) => d,
        Err(e) => {
            log::error!("cannot start: {e}");
            return ExitCode::FAILURE;
        }
    };
    daemon.start(None);
    daemon.run();
    ExitCode::SUCCESS
}
