//! The VRRP child's one event loop: a mio `Poll` over the VRRP sockets, the rtnetlink
//! monitor, the IPC channel, a signalfd and a timerfd armed at the next deadline.
//!
//! Timers: the poll timeout is whole milliseconds (rounded up by mio), so the wake-up at the
//! core's next deadline comes from a timerfd armed at that instant with nanosecond
//! resolution ([`keepalived_sys::DeadlineTimer`]; re-armed only when the deadline changes),
//! with the thread's timer slack at 1 µs. The poll timeout only backs it up. Each pass
//! through the timers reads the clock once. An advert timer due within a small window
//! ([`advert_window`]) fires with the one that woke the loop, as if at its own deadline:
//! the adverts of 1,000 instances then go out in a few wake-ups a second, and the window
//! only ever makes an advert early, never late. Every other timer (Master_Down above all)
//! fires at its deadline.
//!
//! Adverts queued while handling a wake-up are sent before the loop sleeps again (one
//! `sendmmsg` per socket, [`crate::net::Sockets::flush`]).
//!
//! Time: the core's [`Time`] is the monotonic time since the loop was created.
//! Tracked files are polled once a second (no inotify: a second is keepalived's own
//! resolution for `track_file` changes read by its inotify thread plus the scheduler, and
//! polling also catches files on filesystems without inotify). Finished scripts are reaped
//! on SIGCHLD and on the same one-second tick.

use crate::exec::Executor;
use crate::kernel_view::KernelView;
use crate::net::arrival::ArrivalClock;
use crate::params::{self, parse_track_file, Plan, PlanOptions};
use crate::system::{Snapshot, System};
use crate::VrrpdOptions;
use keepalived_config::Config;
use keepalived_ipc::{
    encode_into, FrameDecoder, InstanceStatus, ToChild, ToParent, TrackerKind as IpcKind,
    TrackerStatus, VrrpState,
};
use keepalived_sys::netlink::{Monitor, NetEvent};
use keepalived_sys::vrrp_socket::RecvBatch;
use keepalived_sys::{DeadlineTimer, SignalFd};
use keepalived_vrrp::instance::{Input, TrackerKind, TrackerValue};
use keepalived_vrrp::sync_group::{Routed, Router, Target};
use keepalived_vrrp::timer::{Time, TimerKind};
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};
use nix::sys::signal::Signal;
use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::time::{Duration, Instant};

const IPC: Token = Token(0);
const SIGNALS: Token = Token(1);
const MONITOR: Token = Token(2);
const TIMER: Token = Token(3);
/// Tick for tracked files and reaping.
const TICK: Duration = Duration::from_secs(1);
/// How long a child started by `Start` waits for a `Resume` before starting afresh.
const RESUME_GRACE: Duration = Duration::from_millis(200);
/// How long shutdown waits for `notify_stop` scripts (keepalived's limit is 1 s).
const STOP_WAIT: Duration = Duration::from_secs(1);
/// The poll timeout's margin past the deadline: the timerfd wakes the loop; the timeout
/// only matters if it did not.
const POLL_BACKSTOP: Duration = Duration::from_millis(5);
/// The timer slack of the VRRP child's thread (the kernel's default is 50 µs).
const TIMER_SLACK: Duration = Duration::from_micros(1);
/// Receive slots of one `recvmmsg`, and their size: a valid IPv4 advert is at most 1,116
/// bytes (60 of IP header, 255 addresses); a longer datagram is truncated, and stays invalid.
const RX_SLOTS: usize = 32;
const RX_SLOT_LEN: usize = 2048;
/// How long after start-up or a reload the pages only that burst used are given back.
const SHED_AFTER_BURST: Duration = Duration::from_secs(5);
/// Capacity of the IPC output buffer kept once it is empty.
const OUT_RETAINED: usize = 64 * 1024;
/// How long a link and address dump taken on `PrepareReload` is kept for the `Reload`: past
/// this the parent refused the new configuration (or is very slow) and the memory goes.
const PREPARED_TTL: Duration = Duration::from_secs(10);

/// How early an advert timer may fire to join the wake-up of an earlier timer: 1 ms, or a
/// sixteenth of the advert interval when that is less (625 µs at the smallest, 10 ms).
pub fn advert_window(advert_interval: Duration) -> Duration {
    (advert_interval / 16).min(Duration::from_millis(1))
}

/// The IPC channel to the parent.
pub struct Ipc {
    stream: UnixStream,
    decoder: FrameDecoder<ToChild>,
    out: Vec<u8>,
}

impl Ipc {
    /// Wraps a connected, non-blocking stream and the decoder that read the handshake (it
    /// may hold messages that arrived with `Start`).
    pub fn new(stream: UnixStream, decoder: FrameDecoder<ToChild>) -> Self {
        Ipc {
            stream,
            decoder,
            out: Vec::new(),
        }
    }

    /// Queues a message and tries to send it.
    pub fn send(&mut self, msg: &ToParent) {
        if let Err(e) = encode_into(msg, &mut self.out) {
            log::error!("cannot encode IPC message: {e}");
        }
        self.flush();
    }

    fn flush(&mut self) {
        while !self.out.is_empty() {
            match self.stream.write(&self.out) {
                Ok(0) => break,
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        // A dump of thousands of instances is megabytes: its buffer goes once it is sent.
        if self.out.is_empty() && self.out.capacity() > OUT_RETAINED {
            self.out = Vec::new();
        }
    }

    /// Reads what is available; `Err` when the parent closed the channel.
    fn read(&mut self) -> Result<Vec<ToChild>, ()> {
        let mut buf = [0u8; 16 * 1024];
        let mut closed = false;
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => {
                    if let Err(e) = self.decoder.push(buf.get(..n).unwrap_or(&[])) {
                        log::error!("IPC: {e}");
                        return Err(());
                    }
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        let mut msgs = Vec::new();
        loop {
            match self.decoder.pop() {
                Ok(Some(m)) => msgs.push(m),
                Ok(None) => break,
                Err(e) => log::error!("IPC: dropped a frame: {e}"),
            }
        }
        // A reload frame of thousands of instances must not keep its buffer for good.
        self.decoder.release();
        if closed && msgs.is_empty() {
            return Err(());
        }
        Ok(msgs)
    }
}

/// The instances' next deadlines, ordered, refreshed from `Router::touched` after each
/// input (the router itself would scan every instance). A min-heap: one push per re-arm
/// (`keepalived_vrrp::timer_queue`), not a B-tree removal and insertion.
#[derive(Debug, Default)]
struct TimerQueue {
    queue: keepalived_vrrp::timer_queue::DeadlineQueue,
}

impl TimerQueue {
    fn refresh(&mut self, router: &Router, i: usize) {
        let new = router.instances().get(i).and_then(|x| x.next_deadline());
        self.queue.set(i, new);
    }

    fn refresh_all(&mut self, router: &Router) {
        self.queue.clear();
        for i in 0..router.instances().len() {
            self.refresh(router, i);
        }
    }

    /// The earliest deadline if it is due by `horizon` (entries beyond stay unsorted).
    fn first_by(&mut self, horizon: Time) -> Option<(Time, usize)> {
        self.queue.first_by(horizon)
    }

    /// Appends the entries due in `(after, until]`, in deadline order.
    fn due_between(&self, after: Time, until: Time, out: &mut Vec<(Time, usize)>) {
        self.queue.due_between(after, until, out);
    }
}

/// The running VRRP child.
pub struct Daemon {
    poll: Poll,
    epoch: Instant,
    opts: VrrpdOptions,
    plan: Plan,
    /// The running configuration: the dump files print it, and a `ReloadDelta` takes the
    /// instances it leaves unchanged from it. Kept decoded (about a kilobyte per instance) so
    /// that a reload decodes only what changed.
    config: Config,
    router: Router,
    exec: Executor,
    sys: System,
    monitor: Option<Monitor>,
    signals: SignalFd,
    ipc: Option<Ipc>,
    link_up: HashMap<u32, bool>,
    file_values: HashMap<String, i64>,
    /// `Some(deadline)` while waiting for a possible `Resume` before starting.
    pending_start: Option<Instant>,
    started: bool,
    stopping: bool,
    next_tick: Instant,
    rx: RecvBatch,
    vmacs: Vmacs,
    timers: TimerQueue,
    /// The latest time given to the core other than as a packet's arrival: a packet read
    /// after that is never placed before it, so the core sees events in the order it got them.
    fed_until: Time,
    /// The wake-up at the next deadline; `None` if no timerfd could be made (the poll
    /// timeout then does it, to the millisecond).
    timer: Option<DeadlineTimer>,
    /// Advert timers firing early with the current wake-up (kept to reuse its memory).
    early: Vec<(Time, usize)>,
    /// The actions of a timer or of received adverts (kept to reuse its memory).
    actions: Vec<Routed>,
    touched: Vec<usize>,
    alerts: crate::alert::Alerts,
    /// The plan a reload replaced, freed once the parent has its answer.
    retired_plan: Option<Plan>,
    /// When to give back the memory and code pages of a burst (start-up, a reload): the
    /// transitions, GARPs and notifications that follow one run code the steady state does
    /// not.
    shed_at: Option<Instant>,
    /// The links and addresses dumped on `PrepareReload`, while the parent read the new
    /// configuration, and when. Any netlink notification since makes it stale (dropped), so
    /// a reload plans with what the kernel holds, as with a dump taken at the `Reload`.
    prepared: Option<(Snapshot, Instant)>,
    /// The last dump of links and addresses with the monitor's events since applied: what a
    /// reload plans with instead of dumping again (`None` without a monitor, after lost
    /// events, or where the order of addresses is the kernel's to choose).
    view: Option<KernelView>,
}

/// The VMACs this process created and the sysctls it changed for them.
#[derive(Debug, Default)]
struct Vmacs {
    links: Vec<(String, u32)>,
    sysctls: Vec<keepalived_sys::netlink::SysctlChange>,
}

/// Creates the macvlans of `use_vmac` instances (private mode, the VRRP MAC) before the
/// instances are planned, with keepalived's sysctls.
fn setup_vmacs(config: &Config, snapshot: &Snapshot, sys: &mut System) -> Vmacs {
    let mut out = Vmacs::default();
    for v in &config.vrrp_instances {
        let Some((name, mac)) = params::vmac_wanted(v) else {
            continue;
        };
        let Some(parent) = v
            .interface
            .as_ref()
            .and_then(|i| snapshot.links.iter().find(|l| &l.name == i))
        else {
            continue;
        };
        match sys.rtnl.add_macvlan(parent.index, &name, mac) {
            Ok(index) => {
                log::info!("({}) Created VMAC {name} on {}", v.name, parent.name);
                out.links.push((name.clone(), index));
                match keepalived_sys::netlink::configure_vmac_sysctls(&name, &parent.name) {
                    Ok(changes) => out.sysctls.extend(changes),
                    Err(e) => log::warn!("({}) VMAC sysctls: {e}", v.name),
                }
            }
            Err(e) => log::error!("({}) cannot create VMAC {name}: {e}", v.name),
        }
    }
    out
}

/// Why the daemon could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A system resource could not be set up.
    #[error("{0}")]
    Os(String),
    /// The instances could not form a router.
    #[error("{0}")]
    Router(String),
}

fn os_err(what: &str, e: impl std::fmt::Display) -> StartError {
    StartError::Os(format!("{what}: {e}"))
}

impl Daemon {
    /// Sets everything up for `config` (sockets, netlink, signals) without starting the
    /// instances; `ipc` is the channel to the parent, if any.
    pub fn new(config: Config, opts: VrrpdOptions, ipc: Option<Ipc>) -> Result<Self, StartError> {
        let signals = SignalFd::new(&[
            Signal::SIGTERM,
            Signal::SIGINT,
            Signal::SIGCHLD,
            Signal::SIGHUP,
        ])
        .map_err(|e| os_err("signalfd", e))?;
        let poll = Poll::new().map_err(|e| os_err("epoll", e))?;
        if let Err(e) = keepalived_sys::timer::set_timer_slack(TIMER_SLACK) {
            log::warn!("{e}");
        }
        let mut timer = match DeadlineTimer::new() {
            Ok(t) => Some(t),
            Err(e) => {
                log::warn!("timers fall back to the poll timeout (whole milliseconds): {e}");
                None
            }
        };
        let mut sys = System::new().map_err(|e| os_err("rtnetlink", e))?;
        let monitor = match Monitor::new() {
            Ok(m) => Some(m),
            Err(e) => {
                log::error!(
                    "cannot open the netlink monitor, link and address changes are not seen: {e}"
                );
                None
            }
        };
        let mut snapshot = Snapshot::take(&mut sys.rtnl).map_err(|e| os_err("netlink dump", e))?;
        let vmacs = setup_vmacs(&config, &snapshot, &mut sys);
        if !vmacs.links.is_empty() {
            snapshot = Snapshot::take(&mut sys.rtnl).map_err(|e| os_err("netlink dump", e))?;
        }
        let view = monitor
            .is_some()
            .then(|| KernelView::from_snapshot(&snapshot));
        let plan_opts = PlanOptions {
            scripts_supported: opts.scripts_supported,
        };
        let mut plan = params::plan(&config, &snapshot, plan_opts);
        for w in &plan.warnings {
            log::warn!("{w}");
        }
        // The core's parameters move into the router: the plan keeps only the shells.
        let router = Router::new(std::mem::take(&mut plan.instances), plan.groups.clone())
            .map_err(|e| StartError::Router(e.to_string()))?;
        plan.shells.shrink_to_fit();
        sys.set_links(&snapshot.links);
        sys.set_fifo(plan.fifo.clone());
        let link_up = snapshot
            .links
            .iter()
            .map(|l| (l.index, l.up && l.running))
            .collect();
        let registry = poll.registry();
        registry
            .register(
                &mut SourceFd(&signals.as_raw_fd()),
                SIGNALS,
                Interest::READABLE,
            )
            .map_err(|e| os_err("poll signalfd", e))?;
        if let Some(m) = &monitor {
            registry
                .register(&mut SourceFd(&m.as_raw_fd()), MONITOR, Interest::READABLE)
                .map_err(|e| os_err("poll netlink monitor", e))?;
        }
        if let Some(ipc) = &ipc {
            registry
                .register(
                    &mut SourceFd(&ipc.stream.as_raw_fd()),
                    IPC,
                    Interest::READABLE,
                )
                .map_err(|e| os_err("poll IPC", e))?;
        }
        if let Some(t) = &timer {
            if let Err(e) =
                registry.register(&mut SourceFd(&t.as_raw_fd()), TIMER, Interest::READABLE)
            {
                log::warn!("timers fall back to the poll timeout (whole milliseconds): {e}");
                timer = None;
            }
        }
        let exec = Executor::new(plan.shells.len(), opts.dont_release_vrrp);
        let alerts = crate::alert::Alerts::new(&config);
        let now = Instant::now();
        let mut d = Daemon {
            poll,
            epoch: now,
            opts,
            plan,
            config,
            router,
            exec,
            sys,
            monitor,
            signals,
            ipc,
            link_up,
            file_values: HashMap::new(),
            pending_start: None,
            started: false,
            stopping: false,
            next_tick: now,
            rx: RecvBatch::new(RX_SLOTS, RX_SLOT_LEN),
            vmacs,
            timers: TimerQueue::default(),
            fed_until: Time::ZERO,
            timer,
            early: Vec::new(),
            actions: Vec::new(),
            touched: Vec::new(),
            alerts,
            retired_plan: None,
            shed_at: None,
            prepared: None,
            view,
        };
        for e in d.sys.sockets.sync(d.poll.registry(), &d.plan) {
            log::error!("{e}");
        }
        Ok(d)
    }

    fn now(&self) -> Time {
        self.epoch.elapsed()
    }

    fn execute(&mut self, actions: &[Routed]) {
        self.exec.run(&mut self.sys, &self.plan, actions);
        let registry = self.poll.registry();
        let now = Instant::now();
        (self.alerts).observe(registry, now, &self.plan, &self.router, actions);
    }

    fn handle(&mut self, target: Target, input: Input) {
        let now = self.now();
        self.fed_until = now;
        let out = self.router.handle(now, target, input);
        self.reschedule_touched();
        self.execute(&out);
    }

    fn reschedule_touched(&mut self) {
        for &i in self.router.touched() {
            self.timers.refresh(&self.router, i);
        }
    }

    /// Starts after a grace period for a `Resume` (child of a supervisor).
    pub fn start_after_grace(&mut self) {
        self.pending_start = Some(Instant::now() + RESUME_GRACE);
    }

    /// Starts the instances; `resume` holds the states a predecessor reported.
    pub fn start(&mut self, resume: Option<&[InstanceStatus]>) {
        if self.started {
            return;
        }
        self.started = true;
        self.pending_start = None;
        self.shed_at = Some(Instant::now() + SHED_AFTER_BURST);
        let was_master = |name: &str| {
            resume.is_some_and(|r| {
                r.iter()
                    .any(|s| s.name == name && s.state == VrrpState::Master)
            })
        };
        // keepalived removes configured VIPs left behind (after a crash) before starting.
        match Snapshot::take(&mut self.sys.rtnl) {
            Ok(snap) => {
                let mut leftovers = Vec::new();
                for shell in &self.plan.shells {
                    if was_master(&shell.name) {
                        continue;
                    }
                    let before = leftovers.len();
                    leftovers.extend(
                        (shell.vips.iter().chain(&shell.excluded))
                            .filter(|s| snap.has_addr(s.ifindex, s.addr))
                            .map(|s| (shell.name.as_str(), crate::exec::NetChange::DelAddr(s))),
                    );
                    if leftovers.len() > before {
                        log::info!("({}) removing VIPs.", shell.name);
                    }
                }
                self.exec.apply_changes(&mut self.sys, &leftovers);
            }
            Err(e) => log::error!("netlink dump: {e}"),
        }
        // Initial tracker and link values, then start.
        self.poll_files(true);
        let downs: Vec<usize> = self
            .plan
            .shells
            .iter()
            .enumerate()
            .filter(|(_, s)| self.link_up.get(&s.ifindex) == Some(&false))
            .map(|(i, _)| i)
            .collect();
        for i in downs {
            self.handle(Target::Instance(i), Input::Link { up: false });
        }
        for i in 0..self.plan.shells.len() {
            let name = self
                .plan
                .shells
                .get(i)
                .map(|s| s.name.clone())
                .unwrap_or_default();
            let input = if resume.is_some() {
                Input::Resume {
                    was_master: was_master(&name),
                }
            } else {
                Input::Start
            };
            self.handle(Target::Instance(i), input);
        }
    }

    fn poll_files(&mut self, force: bool) {
        let files = self.plan.files.clone();
        for f in files {
            let v = std::fs::read_to_string(&f.path)
                .map(|t| parse_track_file(&t))
                .unwrap_or(0);
            let old = self.file_values.insert(f.name.clone(), v);
            if force || old != Some(v) {
                self.handle(
                    Target::All,
                    Input::Tracker {
                        kind: TrackerKind::File,
                        name: f.name.clone(),
                        value: TrackerValue::File(v),
                    },
                );
            }
        }
    }

    /// Fires every timer that is due, and the advert timers due within their window.
    fn fire_timers(&mut self) {
        loop {
            // One clock read per pass; another pass only if this one fired something (the
            // handlers take time, more may have fallen due meanwhile).
            let now = self.now();
            self.fed_until = now;
            let mut fired = false;
            while let Some((_, i)) = self.timers.first_by(now) {
                fired |= self.fire(i, now, now);
            }
            let mut early = std::mem::take(&mut self.early);
            early.clear();
            self.timers
                .due_between(now, now + advert_window(Duration::MAX), &mut early);
            for &(at, i) in &early {
                let Some(inst) = self.router.instances().get(i) else {
                    continue;
                };
                let window = advert_window(inst.params().advert_interval);
                let is_advert = inst
                    .next_timer()
                    .is_some_and(|d| d.at == at && d.id.kind == TimerKind::Advert);
                if is_advert && at <= now + window {
                    // The core sees its own deadline, so the next advert is armed one
                    // interval after it, not after this early moment: no drift.
                    fired |= self.fire(i, at, at);
                }
            }
            self.early = early;
            if !fired {
                break;
            }
        }
    }

    /// Fires instance `i`'s next timer if it is due at `due_by`, handing the core `now`;
    /// returns whether it fired. Refreshes the instance's queue entry either way.
    fn fire(&mut self, i: usize, now: Time, due_by: Time) -> bool {
        match self.router.instances().get(i).and_then(|x| x.next_timer()) {
            Some(d) if d.at <= due_by => {
                let mut out = std::mem::take(&mut self.actions);
                (self.router).handle_into(now, Target::Instance(i), Input::Timer(d.id), &mut out);
                self.reschedule_touched();
                self.timers.refresh(&self.router, i);
                self.execute(&out);
                out.clear();
                self.actions = out;
                true
            }
            _ => {
                self.timers.refresh(&self.router, i);
                false
            }
        }
    }

    fn flush_reports(&mut self) {
        let reports = std::mem::take(&mut self.sys.reports);
        if let Some(ipc) = self.ipc.as_mut() {
            for r in reports {
                ipc.send(&ToParent::InstanceState(r));
            }
            ipc.flush();
        }
    }

    fn on_net_events(&mut self) {
        let Some(m) = self.monitor.as_mut() else {
            return;
        };
        let events = match m.read_events() {
            Ok(ev) => ev,
            Err(e) => {
                log::warn!("netlink monitor: {e}");
                self.prepared = None;
                self.view = None;
                return;
            }
        };
        if !events.is_empty() {
            self.prepared = None;
        }
        for ev in &events {
            if self.view.as_mut().is_some_and(|v| !v.apply(ev)) {
                self.view = None;
            }
        }
        for ev in events {
            match ev {
                NetEvent::LinkChanged(link) => self.on_link(link.index, link.up && link.running),
                NetEvent::LinkRemoved { index, .. } => self.on_link(index, false),
                NetEvent::AddrRemoved(a) => self.on_addr_removed(a.ifindex, a.addr),
                NetEvent::AddrAdded(_) => {}
                NetEvent::Overrun => match Snapshot::take(&mut self.sys.rtnl) {
                    Ok(snap) => {
                        for l in &snap.links {
                            self.on_link(l.index, l.up && l.running);
                        }
                    }
                    Err(e) => log::warn!("netlink dump after overrun: {e}"),
                },
            }
        }
    }

    fn on_link(&mut self, index: u32, up: bool) {
        if self.link_up.insert(index, up) == Some(up) {
            return;
        }
        let own: Vec<usize> = self
            .plan
            .shells
            .iter()
            .enumerate()
            .filter(|(_, s)| s.ifindex == index)
            .map(|(i, _)| i)
            .collect();
        if !own.is_empty() {
            let name = self
                .plan
                .shells
                .iter()
                .find(|s| s.ifindex == index)
                .map(|s| s.ifname.clone())
                .unwrap_or_default();
            log::info!("Netlink reports {name} {}", if up { "up" } else { "down" });
        }
        for i in own {
            self.handle(Target::Instance(i), Input::Link { up });
        }
        let tracked: Vec<String> = self
            .plan
            .shells
            .iter()
            .flat_map(|s| s.track_interfaces.iter())
            .filter(|(_, idx)| *idx == index)
            .map(|(n, _)| n.clone())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        for name in tracked {
            self.handle(
                Target::All,
                Input::Tracker {
                    kind: TrackerKind::Interface,
                    name,
                    value: TrackerValue::Up(up),
                },
            );
        }
    }

    fn on_addr_removed(&mut self, ifindex: u32, addr: std::net::IpAddr) {
        if self.exec.take_self_removed(ifindex, addr) {
            return;
        }
        let hit: Vec<usize> = self
            .plan
            .shells
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                s.vips
                    .iter()
                    .chain(&s.excluded)
                    .any(|v| v.ifindex == ifindex && v.addr == addr && !v.no_track)
            })
            .map(|(i, _)| i)
            .collect();
        for i in hit {
            self.handle(Target::Instance(i), Input::VipRemoved(addr));
        }
    }

    fn on_signals(&mut self) {
        loop {
            match self.signals.read() {
                Ok(Some(info)) => match info.signal() {
                    Some(Signal::SIGTERM | Signal::SIGINT) => {
                        log::info!("Stopping");
                        self.stopping = true;
                    }
                    Some(Signal::SIGCHLD) => {
                        self.sys.reap();
                    }
                    Some(Signal::SIGHUP) if self.ipc.is_none() => {
                        log::warn!("SIGHUP: reload is done by the supervisor; ignored");
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
    }

    /// Reads and handles whatever the parent sent.
    pub fn on_ipc(&mut self) {
        let Some(ipc) = self.ipc.as_mut() else { return };
        let mut stages = keepalived_sys::stages::Stages::start();
        let bytes_before = ipc.decoder.stats().bytes_in;
        let read = ipc.read();
        stages.lap("IPC read+decode");
        let bytes = ipc.decoder.stats().bytes_in.saturating_sub(bytes_before);
        if bytes > 64 * 1024 {
            log::debug!("{bytes} bytes from the parent: {}", stages.summary());
        }
        let msgs = match read {
            Ok(m) => m,
            Err(()) => {
                log::info!("parent closed the IPC channel: stopping");
                self.stopping = true;
                if let Some(ipc) = self.ipc.take() {
                    let _ = self
                        .poll
                        .registry()
                        .deregister(&mut SourceFd(&ipc.stream.as_raw_fd()));
                }
                return;
            }
        };
        for m in msgs {
            self.on_message(m);
        }
    }

    /// Handles one message from the parent (after the handshake and `Start`).
    pub fn on_message(&mut self, msg: ToChild) {
        match msg {
            ToChild::Hello { .. } | ToChild::Start { .. } => {
                log::warn!("IPC: unexpected Hello/Start ignored");
            }
            ToChild::Resume { last_states } => self.start(Some(&last_states)),
            ToChild::PrepareReload => self.prepare_reload(),
            ToChild::Reload { config } => self.reload_and_answer(*config),
            ToChild::ReloadDelta {
                base_len,
                mut config,
                order,
            } => {
                let sent = std::mem::take(&mut config.vrrp_instances);
                let running = &mut self.config.vrrp_instances;
                match keepalived_ipc::delta::rebuild(running, base_len, &order, sent) {
                    Ok(instances) => {
                        config.vrrp_instances = instances;
                        self.reload_and_answer(*config);
                    }
                    Err(e) => {
                        log::error!("reload: {e}: asking for the whole configuration");
                        self.send(&ToParent::ReloadNeedsFull);
                    }
                }
            }
            ToChild::Dump { id, format } => {
                let text = self.dump_text(format);
                self.send(&ToParent::DumpReply { id, text });
            }
            ToChild::Stats { id, clear } => {
                let text = crate::dump::stats(&self.router);
                if clear {
                    crate::dump::clear_stats(&mut self.router);
                }
                self.send(&ToParent::StatsReply { id, text });
            }
            ToChild::Shutdown => self.stopping = true,
            ToChild::TrackUpdate { script, good } => self.handle(
                Target::All,
                Input::Tracker {
                    kind: TrackerKind::Script,
                    name: script,
                    value: TrackerValue::Up(good),
                },
            ),
            ToChild::TrackerUpdate { kind, name, status } => {
                let kind = match kind {
                    IpcKind::Script => TrackerKind::Script,
                    IpcKind::File => TrackerKind::File,
                    IpcKind::Process => TrackerKind::Process,
                    IpcKind::Bfd => TrackerKind::Bfd,
                };
                let value = match status {
                    TrackerStatus::Good => TrackerValue::Up(true),
                    TrackerStatus::Bad => TrackerValue::Up(false),
                    TrackerStatus::Value(v) => TrackerValue::File(v),
                };
                self.handle(Target::All, Input::Tracker { kind, name, value });
            }
        }
    }

    /// Applies a reload, answers `ReloadDone`, and only then frees what it replaced.
    fn reload_and_answer(&mut self, config: Config) {
        let mut stages = keepalived_sys::stages::Stages::start();
        let warnings = self.reload_timed(&config, &mut stages);
        self.send(&ToParent::ReloadDone { warnings });
        stages.lap("reply");
        // The configuration becomes the running one even when the reload was refused: the
        // parent bases the next `ReloadDelta` on it.
        drop(std::mem::replace(&mut self.config, config));
        self.retired_plan = None;
        log::debug!("reload stages (ms): {}", stages.summary());
        self.shed_at = Some(Instant::now() + SHED_AFTER_BURST);
        // After the reply, so the trim never delays the reload: the old plan is freed,
        // and the reload's code pages leave the resident set again.
        keepalived_sys::memory::release_free_heap();
        let _ = keepalived_sys::memory::release_clean_file_pages();
    }

    /// Sends a message to the parent (if any).
    pub fn send(&mut self, msg: &ToParent) {
        if let Some(ipc) = self.ipc.as_mut() {
            ipc.send(msg);
        }
    }

    /// keepalived's data or JSON dump of the running state.
    fn dump_text(&mut self, format: keepalived_ipc::DumpFormat) -> String {
        let config = &self.config;
        let os = crate::dump::os::gather(config, &self.plan, &mut self.sys.rtnl, &self.sys.sockets);
        let input = crate::dump::DumpInput {
            config,
            plan: &self.plan,
            router: &self.router,
            clock: crate::dump::Clock {
                now: self.now(),
                wall_now: std::time::SystemTime::now(),
            },
            os: &os,
        };
        match format {
            keepalived_ipc::DumpFormat::Data => crate::dump::data(&input),
            keepalived_ipc::DumpFormat::Json => crate::dump::json(&input),
        }
    }

    /// Applies a new configuration; returns the warnings for `ReloadDone`.
    ///
    /// Instances continue by (VRID, family, interface, unicast), not by name: the old
    /// shell of a kept instance (its VIP specs, routes, rules) is found through
    /// [`Router::reload_matches`], so a renamed instance can still remove the addresses it
    /// gave up. Only differences touch the kernel: VIPs through the core's actions,
    /// virtual routes and rules of a kept MASTER here.
    pub fn reload(&mut self, config: &Config) -> Vec<String> {
        self.reload_timed(config, &mut keepalived_sys::stages::Stages::start())
    }

    fn reload_timed(
        &mut self,
        config: &Config,
        stages: &mut keepalived_sys::stages::Stages,
    ) -> Vec<String> {
        log::info!("Reloading");
        let snapshot = match self.reload_snapshot() {
            Ok(s) => s,
            Err(e) => return vec![format!("netlink dump: {e}")],
        };
        stages.lap("netlink dump");
        let mut plan = params::plan(
            config,
            &snapshot,
            PlanOptions {
                scripts_supported: self.opts.scripts_supported,
            },
        );
        stages.lap("plan");
        for w in &plan.warnings {
            log::warn!("{w}");
        }
        self.sys.set_links(&snapshot.links);
        // The core's parameters move into the router; the plan keeps the shells.
        let instances = std::mem::take(&mut plan.instances);
        plan.shells.shrink_to_fit();
        let matches = self.router.reload_matches(&instances);
        let old_shell = |j: usize| -> Option<usize> { matches.get(j).copied().flatten() };
        // While the core's reload actions run, the new shells also list the old addresses
        // they give up (as `excluded`, where the executor finds removals too); `given_up`
        // remembers where to cut them off again afterwards.
        let mut given_up = Vec::new();
        for (j, shell) in plan.shells.iter_mut().enumerate() {
            let Some(old) = old_shell(j).and_then(|i| self.plan.shells.get(i)) else {
                continue;
            };
            let before = shell.excluded.len();
            for spec in old.vips.iter().chain(&old.excluded) {
                let kept = shell.vips.iter().chain(&shell.excluded);
                if !kept.clone().any(|s| s.addr == spec.addr) {
                    shell.excluded.push(spec.clone());
                }
            }
            if shell.excluded.len() > before {
                given_up.push((j, before));
            }
        }
        stages.lap("match+merge");
        // Sockets of new instances open first, so their first adverts can go out.
        for e in self.sys.sockets.sync(self.poll.registry(), &plan) {
            log::error!("{e}");
        }
        stages.lap("sockets");
        let now = self.now();
        self.fed_until = now;
        let groups = plan.groups.clone();
        let old_plan = std::mem::replace(&mut self.plan, plan);
        match self.router.reload_matched(now, instances, groups, &matches) {
            Ok(outcome) => {
                stages.lap("core reload");
                self.timers.refresh_all(&self.router);
                self.exec.resize(self.plan.shells.len());
                for (name, actions) in &outcome.removed {
                    if let Some(shell) = old_plan.shells.iter().find(|s| &s.name == name) {
                        // The removed instance's socket may be gone from the new plan: keep
                        // the old one until its last advert is out.
                        self.exec.run_for_shell(&mut self.sys, shell, actions);
                    }
                }
                self.exec.run(&mut self.sys, &self.plan, &outcome.actions);
                stages.lap("actions");
                for (j, before) in given_up {
                    if let Some(shell) = self.plan.shells.get_mut(j) {
                        shell.excluded.truncate(before);
                    }
                }
                self.alerts.reload(config, self.poll.registry());
                let now = Instant::now();
                let (registry, actions) = (self.poll.registry(), &outcome.actions);
                (self.alerts).observe(registry, now, &self.plan, &self.router, actions);
                self.reload_routes_and_rules(&old_plan, &matches);
                stages.lap("alerts+routes");
                self.sys.set_fifo(self.plan.fifo.clone());
                // The sockets were synced with these shells above (only `excluded` differed):
                // what the reload's actions queued goes out now.
                self.sys.sockets.flush();
                // A new instance on a link that is down goes to FAULT, as at start.
                let downs: Vec<usize> = (0..self.plan.shells.len())
                    .filter(|&j| old_shell(j).is_none())
                    .filter(|&j| {
                        self.plan
                            .shells
                            .get(j)
                            .is_some_and(|s| self.link_up.get(&s.ifindex) == Some(&false))
                    })
                    .collect();
                for j in downs {
                    self.handle(Target::Instance(j), Input::Link { up: false });
                }
                // The parent logs keepalived's "Reload complete" once every child is done.
                let kept = matches.iter().flatten().count();
                log::info!(
                    "VRRP reload done: {} instances ({kept} kept, {} new, {} removed)",
                    self.plan.shells.len(),
                    self.plan.shells.len().saturating_sub(kept),
                    outcome.removed.len()
                );
                self.retired_plan = Some(old_plan);
                self.plan.warnings.clone()
            }
            Err(e) => {
                self.plan = old_plan;
                log::error!("reload refused: {e}");
                vec![e.to_string()]
            }
        }
    }

    /// `PrepareReload`: sends the reload adverts, and takes the links and addresses now, while
    /// the parent parses, so that the `Reload` finds them ready. Without a netlink monitor
    /// nothing would say when the dump went stale, so none is kept.
    fn prepare_reload(&mut self) {
        self.prepared = None;
        let mut stages = keepalived_sys::stages::Stages::start();
        // keepalived's reload advert: every MASTER announces itself before the reload's work
        // (here while the parent parses), and an unchanged one sends nothing more at the
        // `Reload`.
        if self.started {
            self.handle(Target::All, Input::ReloadAdvert);
            self.sys.sockets.flush();
            stages.lap("reload adverts");
        }
        if self.monitor.is_some() {
            // Changes already announced are handled first; the snapshot then matches what
            // follows.
            self.on_net_events();
            match self.view.as_ref() {
                Some(view) => {
                    self.prepared = Some((view.snapshot(), Instant::now()));
                    stages.lap("snapshot from the monitor's view");
                }
                None => {
                    match Snapshot::take(&mut self.sys.rtnl) {
                        Ok(snap) => {
                            self.view = Some(KernelView::from_snapshot(&snap));
                            self.prepared = Some((snap, Instant::now()));
                        }
                        Err(e) => log::debug!("netlink dump for the coming reload: {e}"),
                    }
                    stages.lap("netlink dump");
                }
            }
        }
        log::debug!("reload preparation (ms): {}", stages.summary());
    }

    /// The links and addresses a reload plans with: the snapshot `PrepareReload` took if no
    /// netlink notification has arrived since (pending ones are read now), else the
    /// monitor's view, else a new dump.
    fn reload_snapshot(&mut self) -> Result<Snapshot, String> {
        if self.monitor.is_some() {
            self.on_net_events();
        }
        match self.prepared.take() {
            Some((snap, at)) if at.elapsed() < PREPARED_TTL => Ok(snap),
            _ => match self.view.as_ref() {
                Some(view) => Ok(view.snapshot()),
                None => {
                    let snap = Snapshot::take(&mut self.sys.rtnl)?;
                    if self.monitor.is_some() {
                        self.view = Some(KernelView::from_snapshot(&snap));
                    }
                    Ok(snap)
                }
            },
        }
    }

    /// keepalived's `clear_diff_vroutes` / `clear_diff_vrules` for the kept MASTER
    /// instances: what left the configuration is deleted, what is new is added; what stays
    /// is left alone.
    fn reload_routes_and_rules(&mut self, old_plan: &Plan, matches: &[Option<usize>]) {
        use crate::exec::NetChange;
        if self.exec.dont_release {
            return;
        }
        let mut changes = Vec::new();
        for (j, shell) in self.plan.shells.iter().enumerate() {
            let master = self
                .router
                .instances()
                .get(j)
                .is_some_and(|i| i.state() == keepalived_vrrp::instance::State::Master);
            let Some(old) = matches
                .get(j)
                .copied()
                .flatten()
                .and_then(|i| old_plan.shells.get(i))
            else {
                continue;
            };
            if !master {
                continue;
            }
            let name = shell.name.as_str();
            for r in old.routes.iter().filter(|r| !shell.routes.contains(r)) {
                changes.push((name, NetChange::DelRoute(r)));
            }
            for r in old.rules.iter().filter(|r| !shell.rules.contains(r)) {
                changes.push((name, NetChange::DelRule(r)));
            }
            for r in shell.rules.iter().filter(|r| !old.rules.contains(r)) {
                changes.push((name, NetChange::AddRule(r)));
            }
            for r in shell.routes.iter().filter(|r| !old.routes.contains(r)) {
                changes.push((name, NetChange::AddRoute(r)));
            }
        }
        self.exec.apply_changes(&mut self.sys, &changes);
    }

    /// The next moment the loop has something to do.
    fn next_wakeup(&mut self) -> Instant {
        let mut until = self.next_tick;
        if let Some(p) = self.pending_start {
            until = until.min(p);
        }
        // Instance deadlines later than the other wake-ups are not looked at (nor sorted).
        let horizon = until.saturating_duration_since(self.epoch);
        if let Some((at, _)) = self.timers.first_by(horizon) {
            until = until.min(self.epoch + at);
        }
        if let Some(at) = self.alerts.next_deadline() {
            until = until.min(at);
        }
        if let Some(at) = self.shed_at {
            until = until.min(at);
        }
        until
    }

    /// Arms the timerfd at `due` and returns the poll timeout that backs it up (zero when
    /// `due` has passed; the whole wait when there is no timerfd).
    fn poll_timeout(&mut self, due: Instant) -> Duration {
        let left = due.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return left;
        }
        let Some(timer) = self.timer.as_mut() else {
            return left;
        };
        match timer.arm(due) {
            Ok(()) => left + POLL_BACKSTOP,
            Err(e) => {
                log::warn!("timers fall back to the poll timeout (whole milliseconds): {e}");
                self.timer = None;
                left
            }
        }
    }

    /// Runs until a shutdown is asked; then stops every instance and returns.
    pub fn run(&mut self) {
        // The config decode and start-up temporaries are freed by now.
        keepalived_sys::memory::release_free_heap();
        let mut events = Events::with_capacity(64);
        while !self.stopping {
            self.fire_timers();
            self.sys.sockets.flush();
            self.flush_reports();
            if self.stopping {
                break;
            }
            let due = self.next_wakeup();
            let timeout = self.poll_timeout(due);
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != ErrorKind::Interrupted {
                    log::error!("poll: {e}");
                    break;
                }
            }
            // keepalived's starvation watch: log a late wake-up, raise to SCHED_RR if allowed.
            keepalived_sys::sched::note_lateness(Instant::now().saturating_duration_since(due));
            for ev in events.iter() {
                match ev.token() {
                    IPC => self.on_ipc(),
                    SIGNALS => self.on_signals(),
                    MONITOR => self.on_net_events(),
                    TIMER => {
                        if let Some(t) = self.timer.as_mut() {
                            t.fired();
                        }
                    }
                    token if self.alerts.owns(token) => {
                        (self.alerts).ready(self.poll.registry(), token, Instant::now())
                    }
                    token => {
                        if let Some(key) = self.sys.sockets.key_of(token) {
                            let clock = ArrivalClock::new(
                                self.now(),
                                keepalived_sys::vrrp_socket::realtime_now(),
                                self.fed_until,
                            );
                            let mut touched = std::mem::take(&mut self.touched);
                            let mut out = std::mem::take(&mut self.actions);
                            self.sys.sockets.receive(
                                &key,
                                &mut self.rx,
                                clock,
                                &mut self.plan,
                                &mut self.router,
                                &mut touched,
                                &mut out,
                            );
                            for &i in &touched {
                                self.timers.refresh(&self.router, i);
                            }
                            touched.clear();
                            self.touched = touched;
                            if !out.is_empty() {
                                self.execute(&out);
                                out.clear();
                            }
                            self.actions = out;
                        }
                    }
                }
            }
            let now = Instant::now();
            self.alerts.on_timeout(self.poll.registry(), now);
            if self.pending_start.is_some_and(|p| now >= p) {
                self.start(None);
            }
            if self.shed_at.is_some_and(|at| now >= at) {
                self.shed_at = None;
                keepalived_sys::memory::release_free_heap();
                let _ = keepalived_sys::memory::release_clean_file_pages();
            }
            if now >= self.next_tick {
                self.next_tick = now + TICK;
                if self
                    .prepared
                    .as_ref()
                    .is_some_and(|(_, at)| now >= *at + PREPARED_TTL)
                {
                    self.prepared = None;
                }
                if self.started {
                    self.poll_files(false);
                }
                self.sys.reap();
                self.sys.sockets.flush_reject_summaries(self.now());
            }
        }
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.handle(Target::All, Input::Shutdown);
        self.sys.sockets.flush();
        self.flush_reports();
        let until = Instant::now() + STOP_WAIT;
        // Scripts finish and the "Stopping" mails get their chance within the same limit.
        let mut events = Events::with_capacity(16);
        while (self.sys.reap() > 0 || self.alerts.in_flight() > 0) && Instant::now() < until {
            let _ = self.poll.poll(&mut events, Some(Duration::from_millis(10)));
            for ev in events.iter() {
                if self.alerts.owns(ev.token()) {
                    (self.alerts).ready(self.poll.registry(), ev.token(), Instant::now());
                }
            }
            self.alerts.on_timeout(self.poll.registry(), Instant::now());
        }
        self.sys.kill_scripts();
        for (name, index) in std::mem::take(&mut self.vmacs.links) {
            if let Err(e) = self.sys.rtnl.del_link(index) {
                log::warn!("cannot delete VMAC {name}: {e}");
            }
        }
        if let Err(e) = keepalived_sys::netlink::restore_sysctls(&self.vmacs.sysctls) {
            log::warn!("cannot restore VMAC sysctls: {e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advert_window_is_a_millisecond_at_most() {
        assert_eq!(
            advert_window(Duration::from_secs(1)),
            Duration::from_millis(1)
        );
        assert_eq!(
            advert_window(Duration::from_millis(10)),
            Duration::from_micros(625)
        );
        assert_eq!(advert_window(Duration::ZERO), Duration::ZERO);
    }

    #[test]
    fn due_between_excludes_the_start_and_includes_the_end() {
        let mut q = TimerQueue::default();
        let ms = Duration::from_millis;
        for (at, i) in [(ms(5), 0), (ms(6), 1), (ms(6), 2), (ms(7), 3), (ms(9), 4)] {
            q.queue.set(i, Some(at));
        }
        let mut out = Vec::new();
        q.due_between(ms(5), ms(7), &mut out);
        assert_eq!(out, vec![(ms(6), 1), (ms(6), 2), (ms(7), 3)]);
        out.clear();
        q.due_between(ms(7), ms(7), &mut out);
        assert!(out.is_empty());
    }
}
