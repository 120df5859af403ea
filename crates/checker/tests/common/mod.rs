//! What the virtual-server tests share: a harness that drives `VirtualServers` on a mio loop
//! of its own and records the IPVS commands, the config loader, scratch directories and a
//! guard that stops a server thread. Each test file uses the parts it needs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_check::ipvs::{IpvsCommand, IpvsError, IpvsSink};
use keepalived_checker::procs::{ProcOwner, Procs};
use keepalived_checker::vs::{VirtualServers, VsContext, TOKEN_BASE};
use keepalived_config::{load_str, AssumeAll, Config, LoadOptions};
use keepalived_ipc::ToParent;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// An IPVS sink whose commands the test reads back (`take`) while the harness owns it.
#[derive(Clone, Default)]
pub struct SharedRecorder(Arc<Mutex<Vec<String>>>);

impl IpvsSink for SharedRecorder {
    fn apply(&mut self, cmd: &IpvsCommand) -> Result<(), IpvsError> {
        self.0.lock().unwrap().push(cmd.to_string());
        Ok(())
    }
}

impl SharedRecorder {
    /// The commands applied since the last call.
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// How the harness's loop treats processes and hang-ups.
#[derive(Clone, Copy, Debug)]
pub struct Style {
    /// Reap exited processes and hand them to the checks. Reaping is `waitpid(-1)`, so a
    /// test file whose checks start no process turns it off: it would steal the children
    /// other tests of the same binary wait for.
    pub reap: bool,
    /// A hang-up or socket error counts as readable (as in the daemon's loop); otherwise
    /// only a readable event does.
    pub hangup_is_readable: bool,
}

impl Style {
    /// Checks that run scripts (MISC_CHECK, notify scripts).
    pub const SCRIPTS: Style = Style {
        reap: true,
        hangup_is_readable: false,
    };
    /// Checks that only use sockets.
    pub const SOCKETS: Style = Style {
        reap: false,
        hangup_is_readable: true,
    };
}

/// `VirtualServers` on a mio loop of the test's own.
pub struct Harness {
    pub poll: mio::Poll,
    pub procs: Procs,
    pub reports: Vec<ToParent>,
    pub vs: VirtualServers,
    pub ipvs: SharedRecorder,
    style: Style,
}

impl Harness {
    /// Starts the checks of `config` in the [`Style::SCRIPTS`] style.
    pub fn new(config: &Config) -> Self {
        Self::with_style(config, Style::SCRIPTS)
    }

    /// Starts the checks of `config`.
    pub fn with_style(config: &Config, style: Style) -> Self {
        let ipvs = SharedRecorder::default();
        let vs = VirtualServers::with_sink(config, Box::new(ipvs.clone()));
        let mut h = Self {
            poll: mio::Poll::new().unwrap(),
            procs: Procs::new(),
            reports: Vec::new(),
            vs,
            ipvs,
            style,
        };
        let mut ctx = VsContext {
            registry: h.poll.registry(),
            procs: &mut h.procs,
            reports: &mut h.reports,
        };
        h.vs.start(&mut ctx, Instant::now());
        h
    }

    /// Runs the loop for `d`.
    pub fn run(&mut self, d: Duration) {
        let end = Instant::now() + d;
        let mut events = mio::Events::with_capacity(256);
        loop {
            let now = Instant::now();
            if now >= end {
                break;
            }
            {
                let mut ctx = VsContext {
                    registry: self.poll.registry(),
                    procs: &mut self.procs,
                    reports: &mut self.reports,
                };
                self.vs.fire_timers(&mut ctx, now);
            }
            let mut until = end.min(now + Duration::from_millis(20));
            if let Some(t) = self.vs.next_deadline() {
                until = until.min(t);
            }
            self.poll
                .poll(
                    &mut events,
                    Some(until.saturating_duration_since(Instant::now())),
                )
                .unwrap();
            let now = Instant::now();
            let mut ctx = VsContext {
                registry: self.poll.registry(),
                procs: &mut self.procs,
                reports: &mut self.reports,
            };
            for ev in events.iter() {
                assert!(ev.token().0 >= TOKEN_BASE);
                let readable = ev.is_readable()
                    || (self.style.hangup_is_readable && (ev.is_read_closed() || ev.is_error()));
                self.vs
                    .ready(&mut ctx, ev.token(), readable, ev.is_writable(), now);
            }
            if self.style.reap {
                ctx.procs.fire_timeouts(now);
                for (id, owner, exit) in ctx.procs.reap() {
                    if let ProcOwner::Vs(_) = owner {
                        self.vs.process_exited(&mut ctx, id, exit, now);
                    }
                }
            }
        }
    }

    /// Runs until `f` holds (or panics after `max`).
    pub fn run_until(&mut self, max: Duration, what: &str, f: impl Fn(&Self) -> bool) {
        let end = Instant::now() + max;
        while !f(self) {
            assert!(
                Instant::now() < end,
                "timed out waiting for {what}\n{}",
                self.vs.dump()
            );
            self.run(Duration::from_millis(20));
        }
    }

    /// Whether real server `rs` of the first virtual server is up.
    pub fn alive(&self, rs: usize) -> bool {
        self.vs.rs_alive(0, rs).unwrap()
    }

    /// The real-server transitions reported so far: (real server, up).
    pub fn states(&self) -> Vec<(String, bool)> {
        self.reports
            .iter()
            .filter_map(|r| match r {
                ToParent::RealServerState { rs, up, .. } => Some((rs.clone(), *up)),
                _ => None,
            })
            .collect()
    }

    /// The reported transitions, up or down, in order.
    pub fn ups(&self) -> Vec<bool> {
        self.states().into_iter().map(|(_, up)| up).collect()
    }

    /// The real servers reported down, in order.
    pub fn downs(&self) -> Vec<String> {
        self.states()
            .into_iter()
            .filter_map(|(rs, up)| (!up).then_some(rs))
            .collect()
    }

    /// Stops the checks as the checker child does at exit.
    pub fn shutdown(&mut self) {
        let mut ctx = VsContext {
            registry: self.poll.registry(),
            procs: &mut self.procs,
            reports: &mut self.reports,
        };
        self.vs.shutdown(&mut ctx);
    }
}

/// The configuration `text` (diagnostics are not looked at).
pub fn config(text: &str) -> Config {
    load_str("vs.conf", text, &LoadOptions::default(), &AssumeAll).config
}

/// A TCP port nothing listens on (just now).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// An empty scratch directory `<tmp>/krs-<tag>-<pid>-<name>`.
pub fn scratch(tag: &str, name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("krs-{tag}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// The lines of a file (none when it does not exist).
pub fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect()
}

/// A server thread that runs while its `stop` flag is clear; dropping the guard sets the flag
/// and joins the thread.
pub struct ServerThread {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl ServerThread {
    /// Guards `handle`, a thread that returns soon after `stop` is set.
    pub fn new(stop: Arc<AtomicBool>, handle: thread::JoinHandle<()>) -> Self {
        Self {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for ServerThread {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
