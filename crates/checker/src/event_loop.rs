//! The checker child's one event loop: a mio `Poll` over the IPC channel and a signalfd
//! (SIGCHLD, SIGTERM, SIGINT, SIGHUP); its timeout is the earliest of the scripts' next
//! turns, the processes' timeouts and a one-second tick (a safety net that reaps even if a
//! coalesced SIGCHLD was missed).

use crate::alert::Alerts;
use crate::ipc::{Ipc, IpcError};
use crate::procs::{ProcOwner, Procs};
use crate::scripts::ScriptSet;
use crate::vs::{VirtualServers, VsContext, TOKEN_BASE};
use crate::CheckerOptions;
use keepalived_config::Config;
use keepalived_ipc::{DumpFormat, ToChild, ToParent};
use keepalived_sys::SignalFd;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::Signal;
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

const IPC: Token = Token(0);
const SIGNALS: Token = Token(1);
/// The safety-net tick.
const TICK: Duration = Duration::from_secs(1);
/// How long shutdown lets running scripts end after SIGTERM (keepalived: 1 s).
const STOP_GRACE: Duration = Duration::from_secs(1);

/// Why the loop could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// An OS resource could not be created.
    #[error("{what}: {source}")]
    Os {
        /// What was being set up.
        what: &'static str,
        /// The error.
        source: std::io::Error,
    },
}

fn os_err(what: &'static str) -> impl FnOnce(std::io::Error) -> StartError {
    move |source| StartError::Os { what, source }
}

/// The running checker.
pub struct Checker {
    poll: Poll,
    signals: SignalFd,
    ipc: Option<Ipc>,
    ipc_writable: bool,
    procs: Procs,
    scripts: ScriptSet,
    /// `None` with `no_virtual_servers` (`-P`).
    vs: Option<VirtualServers>,
    reports: Vec<ToParent>,
    stopping: bool,
    next_tick: Instant,
    opts: CheckerOptions,
    alerts: Alerts,
}

impl Checker {
    /// Sets up the loop for `config`; `ipc` is the channel to the parent (`None` when run
    /// standalone). Nothing runs before [`Self::start`].
    pub fn new(
        config: &Config,
        opts: CheckerOptions,
        ipc: Option<Ipc>,
    ) -> Result<Self, StartError> {
        let signals = SignalFd::new(&[
            Signal::SIGCHLD,
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGHUP,
        ])
        .map_err(|e| StartError::Os {
            what: "signalfd",
            source: std::io::Error::other(e.to_string()),
        })?;
        let poll = Poll::new().map_err(os_err("epoll"))?;
        poll.registry()
            .register(
                &mut SourceFd(&signals.as_raw_fd()),
                SIGNALS,
                Interest::READABLE,
            )
            .map_err(os_err("poll signalfd"))?;
        if let Some(ipc) = &ipc {
            poll.registry()
                .register(
                    &mut SourceFd(&ipc.stream().as_raw_fd()),
                    IPC,
                    Interest::READABLE,
                )
                .map_err(os_err("poll IPC"))?;
        }
        let scripts = if opts.no_scripts {
            ScriptSet::default()
        } else {
            ScriptSet::new(config)
        };
        let vs = if opts.no_virtual_servers {
            None
        } else {
            let mut vs = VirtualServers::new(config);
            vs.set_dont_release_ipvs(opts.dont_release_ipvs);
            Some(vs)
        };
        Ok(Checker {
            poll,
            signals,
            ipc,
            ipc_writable: false,
            procs: Procs::new(),
            scripts,
            vs,
            reports: Vec::new(),
            stopping: false,
            next_tick: Instant::now() + TICK,
            opts,
            alerts: Alerts::new(config),
        })
    }

    /// Starts the scripts (each runs at once, then every interval).
    pub fn start(&mut self) {
        let now = Instant::now();
        log::info!("Starting {} vrrp_script(s)", self.scripts.len());
        self.scripts.start(now);
        if let Some(vs) = self.vs.as_mut() {
            let mut ctx = VsContext {
                registry: self.poll.registry(),
                procs: &mut self.procs,
                reports: &mut self.reports,
            };
            vs.start(&mut ctx, now);
        }
    }

    /// Asks the loop to stop after the current round.
    pub fn stop(&mut self) {
        self.stopping = true;
    }

    /// Runs until `Shutdown`, SIGTERM/SIGINT or the parent closing the channel; then ends
    /// the running scripts.
    pub fn run(&mut self) {
        let mut events = Events::with_capacity(64);
        while !self.stopping {
            let now = Instant::now();
            self.procs.fire_timeouts(now);
            self.scripts.fire(&mut self.procs, &mut self.reports, now);
            if let Some(vs) = self.vs.as_mut() {
                let mut ctx = VsContext {
                    registry: self.poll.registry(),
                    procs: &mut self.procs,
                    reports: &mut self.reports,
                };
                vs.fire_timers(&mut ctx, now);
            }
            if self.procs.has_pending() {
                self.reap();
            }
            self.send_alerts();
            self.alerts.on_timeout(self.poll.registry(), Instant::now());
            self.flush_reports();
            if self.stopping {
                break;
            }
            let timeout = self.timeout(Instant::now());
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != ErrorKind::Interrupted {
                    log::error!("poll: {e}");
                    break;
                }
            }
            let mut reap = false;
            for ev in events.iter() {
                match ev.token() {
                    IPC => {
                        if ev.is_readable() || ev.is_read_closed() || ev.is_error() {
                            self.on_ipc();
                        }
                        if ev.is_writable() {
                            if let Some(ipc) = self.ipc.as_mut() {
                                ipc.flush();
                            }
                            self.update_write_interest();
                        }
                    }
                    SIGNALS => reap |= self.on_signals(),
                    token if self.alerts.owns(token) => {
                        (self.alerts).ready(self.poll.registry(), token, Instant::now())
                    }
                    token if token.0 >= TOKEN_BASE => {
                        if let Some(vs) = self.vs.as_mut() {
                            let mut ctx = VsContext {
                                registry: self.poll.registry(),
                                procs: &mut self.procs,
                                reports: &mut self.reports,
                            };
                            let (r, w) = (
                                ev.is_readable() || ev.is_read_closed() || ev.is_error(),
                                ev.is_writable() || ev.is_write_closed(),
                            );
                            vs.ready(&mut ctx, token, r, w, Instant::now());
                        }
                    }
                    _ => {}
                }
            }
            let now = Instant::now();
            if now >= self.next_tick {
                self.next_tick = now + TICK;
                reap = true;
            }
            if reap {
                self.reap();
            }
        }
        self.shutdown();
    }

    fn timeout(&self, now: Instant) -> Duration {
        let mut until = self.next_tick;
        let vs = self.vs.as_ref().and_then(VirtualServers::next_deadline);
        let mail = self.alerts.next_deadline();
        for d in [
            self.scripts.next_deadline(),
            self.procs.next_deadline(),
            vs,
            mail,
        ]
        .into_iter()
        .flatten()
        {
            until = until.min(d);
        }
        until.saturating_duration_since(now)
    }

    fn reap(&mut self) {
        for (id, owner, exit) in self.procs.reap() {
            match owner {
                ProcOwner::Script(_) => self.scripts.process_exited(id, exit, &mut self.reports),
                ProcOwner::Vs(_) => match self.vs.as_mut() {
                    Some(vs) => {
                        let mut ctx = VsContext {
                            registry: self.poll.registry(),
                            procs: &mut self.procs,
                            reports: &mut self.reports,
                        };
                        vs.process_exited(&mut ctx, id, exit, Instant::now());
                    }
                    None => log::debug!("process {id:?} ended: {exit:?}"),
                },
            }
        }
    }

    /// Reads the signalfd; true when a child ended.
    fn on_signals(&mut self) -> bool {
        let mut child = false;
        loop {
            match self.signals.read() {
                Ok(Some(info)) => match info.signal() {
                    Some(Signal::SIGCHLD) => child = true,
                    Some(Signal::SIGTERM | Signal::SIGINT) => {
                        log::info!("Stopping");
                        self.stopping = true;
                    }
                    Some(Signal::SIGHUP) => {
                        log::info!("SIGHUP: reloads are sent by the parent; ignored")
                    }
                    _ => {}
                },
                Ok(None) => break,
                Err(e) => {
                    log::warn!("signalfd: {e}");
                    break;
                }
            }
        }
        child
    }

    /// Reads and handles whatever the parent sent (also what arrived with `Start`).
    pub fn on_ipc(&mut self) {
        let Some(ipc) = self.ipc.as_mut() else { return };
        match ipc.read() {
            Ok(msgs) => {
                for m in msgs {
                    self.on_message(m);
                }
            }
            Err(IpcError::Closed) => {
                log::info!("parent closed the IPC channel: stopping");
                self.drop_ipc();
            }
            Err(e) => {
                log::error!("{e}: stopping");
                self.drop_ipc();
            }
        }
    }

    fn drop_ipc(&mut self) {
        self.stopping = true;
        if let Some(ipc) = self.ipc.take() {
            let _ = self
                .poll
                .registry()
                .deregister(&mut SourceFd(&ipc.stream().as_raw_fd()));
        }
    }

    /// Handles one message from the parent (after `Start`).
    pub fn on_message(&mut self, msg: ToChild) {
        match msg {
            ToChild::Hello { .. } | ToChild::Start { .. } => {
                log::warn!("IPC: unexpected Hello/Start ignored");
            }
            ToChild::Reload { config } => {
                log::info!("Reloading");
                self.send_alerts();
                self.alerts.reload(&config, self.poll.registry());
                if let Some(vs) = self.vs.as_mut() {
                    let mut ctx = VsContext {
                        registry: self.poll.registry(),
                        procs: &mut self.procs,
                        reports: &mut self.reports,
                    };
                    vs.reload(&mut ctx, &config, Instant::now());
                }
                if !self.opts.no_scripts {
                    self.scripts
                        .reload(&config, &mut self.procs, Instant::now());
                }
                log::info!("Reload complete ({} vrrp_script(s))", self.scripts.len());
                self.send(&ToParent::ReloadDone {
                    warnings: Vec::new(),
                });
            }
            ToChild::Dump { id, format } => {
                let text = match format {
                    DumpFormat::Data => {
                        let mut text = self.scripts.dump();
                        if let Some(vs) = self.vs.as_ref() {
                            text.push_str(&vs.dump());
                        }
                        text
                    }
                    // keepalived's JSON dump holds only the VRRP side.
                    DumpFormat::Json => String::new(),
                };
                self.send(&ToParent::DumpReply { id, text });
            }
            ToChild::Stats { id, .. } => {
                // keepalived's statistics file holds only the VRRP side.
                self.send(&ToParent::StatsReply {
                    id,
                    text: String::new(),
                });
            }
            ToChild::Shutdown => self.stopping = true,
            // The checker keeps no configuration to change: it takes reloads whole.
            ToChild::ReloadDelta { .. } => self.send(&ToParent::ReloadNeedsFull),
            ToChild::TrackUpdate { .. }
            | ToChild::TrackerUpdate { .. }
            | ToChild::Resume { .. }
            | ToChild::PrepareReload => {
                log::debug!("IPC: a VRRP-only message reached the checker; ignored");
            }
        }
    }

    /// Sends a message to the parent (if any).
    pub fn send(&mut self, msg: &ToParent) {
        if let Some(ipc) = self.ipc.as_mut() {
            ipc.send(msg);
        }
        self.update_write_interest();
    }

    fn flush_reports(&mut self) {
        if self.reports.is_empty() {
            return;
        }
        let reports = std::mem::take(&mut self.reports);
        match self.ipc.as_mut() {
            Some(ipc) => {
                for r in &reports {
                    ipc.send(r);
                }
            }
            None => {
                for r in &reports {
                    log::debug!("{r:?}");
                }
            }
        }
        self.update_write_interest();
    }

    /// Asks for writability only while output is queued (a slow parent).
    fn update_write_interest(&mut self) {
        let Some(ipc) = self.ipc.as_ref() else { return };
        let want = ipc.has_pending_output();
        if want == self.ipc_writable {
            return;
        }
        let interest = if want {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        };
        match self.poll.registry().reregister(
            &mut SourceFd(&ipc.stream().as_raw_fd()),
            IPC,
            interest,
        ) {
            Ok(()) => self.ipc_writable = want,
            Err(e) => log::warn!("poll IPC: {e}"),
        }
    }

    /// Hands the virtual servers' real-server and quorum changes to the mail client.
    fn send_alerts(&mut self) {
        let Some(vs) = self.vs.as_mut() else { return };
        let events = vs.take_alerts();
        if !events.is_empty() {
            (self.alerts).send(self.poll.registry(), Instant::now(), &events);
        }
    }

    /// Gives the mails under way up to `limit` to finish (shutdown).
    fn drain_mails(&mut self, limit: Duration) {
        let until = Instant::now() + limit;
        let mut events = Events::with_capacity(16);
        while self.alerts.in_flight() > 0 {
            let now = Instant::now();
            if now >= until {
                log::info!("{} mail(s) not sent at shutdown", self.alerts.in_flight());
                break;
            }
            let wake = self.alerts.next_deadline().map_or(until, |d| d.min(until));
            let timeout = wake.saturating_duration_since(now);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != ErrorKind::Interrupted {
                    break;
                }
            }
            for ev in events.iter() {
                if self.alerts.owns(ev.token()) {
                    (self.alerts).ready(self.poll.registry(), ev.token(), Instant::now());
                }
            }
            self.alerts.on_timeout(self.poll.registry(), Instant::now());
        }
    }

    fn shutdown(&mut self) {
        if let Some(vs) = self.vs.as_mut() {
            let mut ctx = VsContext {
                registry: self.poll.registry(),
                procs: &mut self.procs,
                reports: &mut self.reports,
            };
            vs.shutdown(&mut ctx);
        }
        self.send_alerts();
        self.drain_mails(STOP_GRACE);
        self.flush_reports();
        let ended = self.procs.terminate_all(STOP_GRACE);
        if !ended.is_empty() {
            log::debug!("{} script(s) ended at shutdown", ended.len());
        }
        if let Some(ipc) = self.ipc.as_mut() {
            ipc.flush();
        }
    }
}
