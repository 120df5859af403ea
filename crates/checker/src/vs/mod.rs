//! The virtual servers in the checker's loop: one non-blocking probe per checker (TCP_CHECK,
//! HTTP_GET, SSL_GET, SMTP_CHECK; UDP_CHECK, DNS_CHECK, PING_CHECK through [`dgram`]) or one
//! process (MISC_CHECK), FILE_CHECK's tracked files through inotify ([`newkinds`]), their timers, the real-server and quorum
//! state from `keepalived_check::virtualserver`, notify/quorum scripts through [`Procs`], the
//! IPVS table through an [`IpvsSink`], and `RealServerState` reports to the parent.
//!
//! The loop owns the `mio::Poll`; tokens from [`TOKEN_BASE`] on are ours (one per checker, the
//! checker's index added). Everything runs in the one thread.
//!
//! Not implemented (logged once, the checker is left as it starts): BFD_CHECK; HTTP `regex`. SSL_GET's
//! certificate handling is in [`tls`].

mod dgram;
mod filewatch;
mod newkinds;
mod ping_range;
mod probe;
pub mod tls;
mod users;

use crate::procs::{ProcExit, ProcId, ProcOwner, ProcSpec, Procs};
use keepalived_check::http::{build_request, evaluate, UrlWalk};
use keepalived_check::ipvs::{
    plan, plan_start, plan_stop, IpvsSink, IpvsTable, LoggingSink, StopMode,
};
use keepalived_check::misc::{classify, MiscExit};
use keepalived_check::realserver::Verdict;
use keepalived_check::script::invocation;
use keepalived_check::tcp::Endpoints;
use keepalived_check::virtualserver::{format_server, protocol_name, VsEvent, VsState};
use keepalived_config::model::lvs::{
    Checker, HttpProtocol, LvsProtocol, Url, VirtualServer, VirtualServerGroup,
};
use keepalived_config::model::Script;
use keepalived_config::Config;
use keepalived_ipc::ToParent;
use probe::{Probe, Step};
use rustls::ClientConfig;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::fmt::Write as _;
use std::io::Read as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// mio tokens from this value on belong to the virtual servers.
pub const TOKEN_BASE: usize = 1 << 20;

/// The owner key of notify and quorum scripts (MISC_CHECK processes use their checker index).
const NOTIFY_OWNER: u64 = u64::MAX;

/// What the loop lends to the virtual servers on each call.
pub struct VsContext<'a> {
    /// The loop's registry, for the probes' sockets.
    pub registry: &'a mio::Registry,
    /// The process runner (MISC_CHECK, notify scripts).
    pub procs: &'a mut Procs,
    /// Reports for the parent.
    pub reports: &'a mut Vec<ToParent>,
}

/// How a checker checks.
#[derive(Debug, Clone)]
enum Kind {
    Tcp,
    Http {
        ssl: bool,
        urls: Vec<Url>,
        vhost: Option<String>,
        protocol: HttpProtocol,
        sni: Option<String>,
        /// `enable_sni` without `sni_name`: a URL's own `virtualhost` comes first (keepalived).
        sni_from_url: bool,
        fast_recovery: bool,
    },
    Misc {
        script: Script,
        timeout: Duration,
        dynamic: bool,
    },
    Smtp {
        helo: String,
    },
    Dns {
        qtype: keepalived_config::model::lvs::DnsType,
        name: String,
    },
    Udp {
        payload: Option<Vec<u8>>,
        rule: keepalived_check::udp::ReplyRule,
    },
    Ping,
    File {
        track: String,
        weight: i32,
        reverse: bool,
    },
    Unsupported(&'static str),
}

/// One checker of one real server.
struct Slot {
    vs: usize,
    rs: usize,
    ck: usize,
    kind: Kind,
    ep: Option<Endpoints>,
    /// keepalived's name of what is checked (`[ip]:tcp:port`).
    name: String,
    /// Bumped whenever the slot's timer is replaced, so older heap entries are ignored.
    gen: u64,
    probe: Option<Probe>,
    /// Which HTTP URL is checked next (one per check, as keepalived).
    walk: UrlWalk,
    misc: Option<ProcId>,
    /// When the probe (or process) started, for the "slower than connect_timeout" rule.
    running_since: Option<Instant>,
    /// What a FILE_CHECK adds to its real server's weight now.
    file_add: i64,
}

/// Every virtual server of the configuration and its checkers.
pub struct VirtualServers {
    vss: Vec<VirtualServer>,
    groups: Vec<VirtualServerGroup>,
    states: Vec<VsState>,
    slots: Vec<Slot>,
    timers: BinaryHeap<Reverse<(Instant, usize, u64)>>,
    misc_procs: HashMap<ProcId, usize>,
    sink: Box<dyn IpvsSink>,
    current: IpvsTable,
    tls: Option<Arc<ClientConfig>>,
    stop_mode: StopMode,
    lvs_flush: bool,
    lvs_flush_on_stop: Option<String>,
    rng: u64,
    unsupported_logged: HashSet<&'static str>,
    /// Real-server and quorum changes for the SMTP alerts, taken by [`Self::take_alerts`].
    alerts: Vec<crate::alert::Event>,
    /// The uid:gid of scripts without their own `user` ([`users::default_ids`]).
    script_default: Option<(u32, u32)>,
    /// FILE_CHECK's tracked files.
    files: filewatch::FileWatch,
    /// The `ping_group_range` start to restore at shutdown.
    ping_saved: Option<u32>,
}

impl VirtualServers {
    /// The virtual servers of `config`, programming IPVS in the kernel when it has IPVS, else
    /// logging the commands ([`crate::ipvs_kernel::open_sink`]); only when there are virtual
    /// servers, so a VRRP-only configuration never touches IPVS.
    pub fn new(config: &Config) -> Self {
        let sink: Box<dyn IpvsSink> = if config.virtual_servers.is_empty() {
            Box::new(LoggingSink::new())
        } else {
            crate::ipvs_kernel::open_sink()
        };
        Self::with_sink(config, sink)
    }

    /// The virtual servers of `config`, programming IPVS through `sink`.
    pub fn with_sink(config: &Config, sink: Box<dyn IpvsSink>) -> Self {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ u64::from(std::process::id()).rotate_left(32);
        let lvs_flush_on_stop = config.global.lvs_flush_on_stop.clone();
        let mut me = Self {
            vss: Vec::new(),
            groups: Vec::new(),
            states: Vec::new(),
            slots: Vec::new(),
            timers: BinaryHeap::new(),
            misc_procs: HashMap::new(),
            sink,
            current: IpvsTable::new(),
            tls: None,
            stop_mode: StopMode::from_settings(false, lvs_flush_on_stop.as_deref()),
            lvs_flush: config.global.lvs_flush,
            lvs_flush_on_stop,
            rng: seed | 1,
            unsupported_logged: HashSet::new(),
            alerts: Vec::new(),
            script_default: None,
            files: filewatch::FileWatch::empty(),
            ping_saved: None,
        };
        me.load(config);
        me
    }

    /// `-I` / `--dont-release-ipvs`: leave the IPVS table in place at shutdown.
    pub fn set_dont_release_ipvs(&mut self, keep: bool) {
        self.stop_mode = StopMode::from_settings(keep, self.lvs_flush_on_stop.as_deref());
    }

    fn load(&mut self, config: &Config) {
        self.vss = config.virtual_servers.clone();
        self.groups = config.virtual_server_groups.clone();
        self.states = self.vss.iter().map(VsState::new).collect();
        self.slots.clear();
        self.script_default = users::default_ids(&config.global);
        // Built (and a bad file logged) once per configuration, only when SSL_GET is used.
        let uses_ssl = self
            .vss
            .iter()
            .flat_map(|vs| &vs.real_servers)
            .flat_map(|rs| &rs.checkers)
            .any(|c| matches!(c, Checker::Ssl(_)));
        self.tls = if uses_ssl {
            tls::load(config.ssl.as_ref())
        } else {
            None
        };
        for (vi, vs) in self.vss.iter().enumerate() {
            let proto = protocol_name(vs.protocol.unwrap_or(LvsProtocol::Tcp));
            for (ri, rs) in vs.real_servers.iter().enumerate() {
                for (ci, c) in rs.checkers.iter().enumerate() {
                    let ep = newkinds::endpoints(c, rs, vs);
                    let name = match &ep {
                        Some(e) => format_server(e.dst.ip(), proto, e.dst.port()),
                        None => format_server(rs.ip, proto, rs.effective_port(vs)),
                    };
                    let kind = match c {
                        Checker::Tcp(_) => Kind::Tcp,
                        Checker::Http(h) | Checker::Ssl(h) => Kind::Http {
                            ssl: matches!(c, Checker::Ssl(_)),
                            urls: h.urls.clone(),
                            vhost: h
                                .virtualhost
                                .clone()
                                .or_else(|| rs.virtualhost.clone())
                                .or_else(|| vs.virtualhost.clone()),
                            protocol: h.http_protocol.unwrap_or_default(),
                            sni: if h.enable_sni.unwrap_or(false) {
                                h.sni_name
                                    .clone()
                                    .or_else(|| h.virtualhost.clone())
                                    .or_else(|| rs.virtualhost.clone())
                                    .or_else(|| vs.virtualhost.clone())
                            } else {
                                None
                            },
                            sni_from_url: h.enable_sni.unwrap_or(false) && h.sni_name.is_none(),
                            fast_recovery: h.fast_recovery.unwrap_or(false),
                        },
                        Checker::Misc(m) => match &m.path {
                            Some(script) => Kind::Misc {
                                script: script.clone(),
                                timeout: m
                                    .timeout
                                    .unwrap_or_else(|| c.effective_delay_loop(rs, vs)),
                                dynamic: m.dynamic,
                            },
                            None => Kind::Unsupported("MISC_CHECK without misc_path"),
                        },
                        other => newkinds::kind_of(other, config)
                            .unwrap_or(Kind::Unsupported(other.keyword())),
                    };
                    self.slots.push(Slot {
                        vs: vi,
                        rs: ri,
                        ck: ci,
                        kind,
                        ep,
                        name,
                        gen: 0,
                        probe: None,
                        walk: UrlWalk::new(),
                        misc: None,
                        running_since: None,
                        file_add: 0,
                    });
                }
            }
        }
        self.load_extras(config);
    }

    fn random(&mut self) -> u32 {
        // xorshift64*: the warm-up spread needs no more.
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        (self.rng.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 32) as u32
    }

    /// Programs the services and schedules every checker's first run (after its warm-up).
    pub fn start(&mut self, ctx: &mut VsContext, now: Instant) {
        if self.vss.is_empty() {
            return;
        }
        log::info!(
            "Starting {} virtual server(s) with {} checker(s)",
            self.vss.len(),
            self.slots.len()
        );
        let wanted = self.wanted_all();
        let cmds = plan_start(&wanted, self.lvs_flush);
        self.apply(&cmds);
        for (vi, st) in self.states.iter().enumerate() {
            if !st.quorum.up {
                if let Some(s) = self.vss.get(vi).and_then(|v| v.sorry_server.as_ref()) {
                    log::info!(
                        "Adding sorry server {} to VS {}",
                        format_server(s.ip, "tcp", s.port),
                        st.name
                    );
                }
            }
        }
        self.files
            .register(ctx.registry, mio::Token(newkinds::FILE_TOKEN));
        self.widen_ping_range();
        for i in 0..self.slots.len() {
            let delay = self.first_delay(i);
            self.schedule(i, now + delay);
        }
    }

    fn first_delay(&mut self, i: usize) -> Duration {
        let r = self.random();
        let Some(slot) = self.slots.get(i) else {
            return Duration::ZERO;
        };
        self.states
            .get(slot.vs)
            .and_then(|s| s.rs.get(slot.rs))
            .and_then(|r| r.checkers.get(slot.ck))
            .map(|c| c.first_delay(r))
            .unwrap_or_default()
    }

    fn schedule(&mut self, i: usize, at: Instant) {
        if let Some(slot) = self.slots.get_mut(i) {
            slot.gen = slot.gen.wrapping_add(1);
            self.timers.push(Reverse((at, i, slot.gen)));
        }
    }

    /// The earliest timer.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.timers.peek().map(|Reverse((at, _, _))| *at)
    }

    /// Runs what is due: checks to start, probes past their timeout.
    pub fn fire_timers(&mut self, ctx: &mut VsContext, now: Instant) {
        while let Some(Reverse((at, i, gen))) = self.timers.peek().copied() {
            if at > now {
                break;
            }
            self.timers.pop();
            let Some(slot) = self.slots.get(i) else {
                continue;
            };
            if slot.gen != gen {
                continue;
            }
            if let Some(p) = &slot.probe {
                match p.timeout_result() {
                    Ok(()) => self.finish(ctx, i, Ok(None), now),
                    Err(why) => self.finish(ctx, i, Err(why), now),
                }
            } else if slot.misc.is_some() {
                // Procs kills it at misc_timeout; its exit comes through process_exited.
            } else {
                self.begin(ctx, i, now);
            }
        }
    }

    fn params_timeout(&self, i: usize) -> Duration {
        self.slots
            .get(i)
            .and_then(|s| {
                self.states
                    .get(s.vs)?
                    .rs
                    .get(s.rs)?
                    .checkers
                    .get(s.ck)
                    .map(|c| c.params.connect_timeout)
            })
            .unwrap_or(Duration::from_secs(5))
    }

    fn begin(&mut self, ctx: &mut VsContext, i: usize, now: Instant) {
        let Some(slot) = self.slots.get(i) else {
            return;
        };
        match slot.kind.clone() {
            // keepalived: an HTTP_GET without url is up without checking.
            Kind::Http { urls, .. } if urls.is_empty() => self.record(ctx, i, true, None, now),
            Kind::Tcp | Kind::Http { .. } | Kind::Smtp { .. } => {
                self.open(ctx, i, now);
            }
            Kind::Dns { .. } | Kind::Udp { .. } | Kind::Ping => {
                self.open_dgram(ctx, i, now);
            }
            // Its state follows the file (inotify), not a timer.
            Kind::File { .. } => {}
            Kind::Misc {
                script,
                timeout,
                dynamic: _,
            } => {
                let argv = invocation(&script.argv, read_header(&script.argv)).argv();
                let (uid, gid) = match users::ids(&script, self.script_default) {
                    Ok(ids) => ids,
                    Err(e) => {
                        log::error!("MISC_CHECK {}: {e} - not run", script.command);
                        self.record(ctx, i, false, None, now);
                        return;
                    }
                };
                let spec = ProcSpec {
                    argv,
                    uid,
                    gid,
                    timeout: Some(timeout),
                    env: Vec::new(),
                };
                match ctx.procs.spawn_at(spec, ProcOwner::Vs(i as u64), now) {
                    Ok(id) => {
                        self.misc_procs.insert(id, i);
                        if let Some(s) = self.slots.get_mut(i) {
                            s.misc = Some(id);
                            s.running_since = Some(now);
                        }
                    }
                    Err(e) => {
                        log::error!("MISC_CHECK: {e}");
                        self.record(ctx, i, false, None, now);
                    }
                }
            }
            Kind::Unsupported(what) => {
                if self.unsupported_logged.insert(what) {
                    log::warn!(
                        "{what} is not implemented yet: its real servers keep their initial state"
                    );
                }
                let next = self.delay_loop(i);
                self.schedule(i, now + next);
            }
        }
    }

    fn delay_loop(&self, i: usize) -> Duration {
        self.slots
            .get(i)
            .and_then(|s| {
                self.states
                    .get(s.vs)?
                    .rs
                    .get(s.rs)?
                    .checkers
                    .get(s.ck)
                    .map(|c| c.params.delay_loop)
            })
            .unwrap_or(Duration::from_secs(60))
    }

    /// Opens the connection of slot `i` (for its current URL).
    fn open(&mut self, ctx: &mut VsContext, i: usize, now: Instant) {
        let timeout = self.params_timeout(i);
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        let Some(ep) = slot.ep else {
            return;
        };
        let token = mio::Token(TOKEN_BASE + i);
        let stream = match probe::connect(&ep, ctx.registry, token) {
            Ok(s) => s,
            Err(e) => {
                log::debug!("connect to {}: {e}", slot.name);
                self.finish(ctx, i, Err("Error connecting"), now);
                return;
            }
        };
        let probe = match &slot.kind {
            Kind::Http {
                ssl,
                urls,
                vhost,
                protocol,
                sni,
                sni_from_url,
                ..
            } => {
                let Some(url) = urls.get(slot.walk.current()) else {
                    return;
                };
                let sni = match (*sni_from_url, url.virtualhost.as_deref()) {
                    (true, Some(v)) => Some(v),
                    _ => sni.as_deref(),
                };
                let host = url.virtualhost.as_deref().or(vhost.as_deref());
                let request = build_request(&url.path, host, ep.dst, *protocol);
                let conn = if *ssl {
                    let Some(cfg) = self.tls.clone() else {
                        self.finish(
                            ctx,
                            i,
                            Err("SSL handshake/communication error connecting to"),
                            now,
                        );
                        return;
                    };
                    match rustls::ClientConnection::new(cfg, tls::server_name(sni, ep.dst.ip())) {
                        Ok(c) => Some(c),
                        Err(_) => {
                            self.finish(
                                ctx,
                                i,
                                Err("SSL handshake/communication error connecting to"),
                                now,
                            );
                            return;
                        }
                    }
                } else {
                    None
                };
                Probe::http(stream, request, conn)
            }
            Kind::Smtp { helo } => Probe::smtp(stream, helo),
            _ => Probe::tcp(stream),
        };
        slot.probe = Some(probe);
        slot.running_since = Some(now);
        self.schedule(i, now + timeout);
    }

    /// A socket of ours is ready.
    pub fn ready(
        &mut self,
        ctx: &mut VsContext,
        token: mio::Token,
        readable: bool,
        writable: bool,
        now: Instant,
    ) {
        let _ = (readable, writable);
        if token.0 == newkinds::FILE_TOKEN {
            self.files_changed(ctx, now);
            return;
        }
        let Some(i) = token.0.checked_sub(TOKEN_BASE) else {
            return;
        };
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        let Some(p) = slot.probe.as_mut() else {
            return;
        };
        let before = p.received;
        let step = p.drive();
        let progressed = p.received > before;
        match step {
            Step::Pending => {
                if progressed {
                    // keepalived's timeout is per read: data moves the deadline.
                    let t = self.params_timeout(i);
                    self.schedule(i, now + t);
                }
            }
            Step::Connected | Step::Succeeded => self.finish(ctx, i, Ok(None), now),
            Step::Answer(resp) => self.finish(ctx, i, Ok(resp.map(Box::new)), now),
            Step::Failed(why) => self.finish(ctx, i, Err(why), now),
        }
    }

    /// A probe ended: `Ok(None)` connected (TCP), `Ok(Some)` an HTTP answer, `Err` a failure.
    fn finish(
        &mut self,
        ctx: &mut VsContext,
        i: usize,
        result: Result<Option<Box<keepalived_check::http::Response>>, &'static str>,
        now: Instant,
    ) {
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        if let Some(p) = slot.probe.take() {
            p.close(ctx.registry);
        }
        slot.running_since = None;
        let success = match (&slot.kind, result) {
            (Kind::Http { urls, .. }, Ok(resp)) => {
                let Some(url) = urls.get(slot.walk.current()) else {
                    return;
                };
                match evaluate(resp.as_deref(), url) {
                    Ok(()) => {
                        if let Some((cl, got)) = resp.as_deref().and_then(|r| r.length_mismatch()) {
                            log::debug!(
                                "http_check for {} url {}: content_length ({cl}) does not match received bytes ({got})",
                                slot.name,
                                url.path
                            );
                        }
                        true
                    }
                    Err(why) => {
                        log::debug!("{why} server {} url({}).", slot.name, url.path);
                        false
                    }
                }
            }
            (_, Ok(_)) => true,
            (_, Err(why)) => {
                log::debug!("{why} server {}.", slot.name);
                false
            }
        };
        self.record(ctx, i, success, None, now);
    }

    /// Records a result in the checker's state and acts on what changed.
    fn record(
        &mut self,
        ctx: &mut VsContext,
        i: usize,
        success: bool,
        weight: Option<u32>,
        now: Instant,
    ) {
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        let (vi, ri, ci) = (slot.vs, slot.rs, slot.ck);
        let Some(state) = self.states.get_mut(vi) else {
            return;
        };
        let Some(ck) = state.rs.get_mut(ri).and_then(|r| r.checkers.get_mut(ci)) else {
            return;
        };
        let verdict = match &slot.kind {
            Kind::Http {
                urls,
                fast_recovery,
                ..
            } if !urls.is_empty() => slot.walk.record(success, urls.len(), *fast_recovery, ck),
            _ => ck.record(success),
        };
        log_verdict(slot, &verdict, ck.params.retry);
        let kind = alert_kind(&slot.kind);
        let mut events = Vec::new();
        if let Some(w) = weight {
            events.extend(state.set_weight(ri, w));
        }
        if verdict.set.is_some() {
            events.extend(state.rs_update(ri));
        }
        let next = verdict.next_in;
        if !events.is_empty() || weight.is_some() {
            self.queue_alerts(vi, kind, &events);
            self.handle_events(ctx, vi, &events, now);
            self.sync_vs(vi);
        }
        self.schedule(i, now + next);
    }

    /// Queues the SMTP alert events of `events` (whether to mail is decided later).
    fn queue_alerts(&mut self, vi: usize, kind: crate::alert::CheckKind, events: &[VsEvent]) {
        use crate::alert::{checker_body, Event};
        let Some(st) = self.states.get(vi) else {
            return;
        };
        for ev in events {
            let alert = match *ev {
                VsEvent::RsUp(ri) | VsEvent::RsDown(ri) => {
                    let up = matches!(ev, VsEvent::RsUp(_));
                    Event::RealServer {
                        vs: vi,
                        rs: ri,
                        vs_name: st.name.clone(),
                        rs_name: st.rs_names.get(ri).cloned().unwrap_or_default(),
                        up,
                        body: checker_body(kind, up),
                    }
                }
                VsEvent::QuorumGained(_) | VsEvent::QuorumLost(_) => Event::Quorum {
                    vs: vi,
                    vs_name: st.name.clone(),
                    up: matches!(ev, VsEvent::QuorumGained(_)),
                },
                VsEvent::SorryAdded | VsEvent::SorryRemoved => continue,
            };
            self.alerts.push(alert);
        }
    }

    /// The SMTP alert events queued since the last call.
    pub fn take_alerts(&mut self) -> Vec<crate::alert::Event> {
        std::mem::take(&mut self.alerts)
    }

    fn handle_events(&mut self, ctx: &mut VsContext, vi: usize, events: &[VsEvent], now: Instant) {
        let (Some(vs), Some(st)) = (self.vss.get(vi), self.states.get(vi)) else {
            return;
        };
        for ev in events {
            match *ev {
                VsEvent::RsUp(ri) | VsEvent::RsDown(ri) => {
                    let up = matches!(ev, VsEvent::RsUp(_));
                    let Some(rs) = vs.real_servers.get(ri) else {
                        continue;
                    };
                    let rs_name = st.rs_names.get(ri).cloned().unwrap_or_default();
                    let inhibit = st.rs.get(ri).is_some_and(|r| r.inhibit);
                    let verb = match (up, inhibit) {
                        (true, false) => "Adding service",
                        (true, true) => "Enabling service",
                        (false, false) => "Removing service",
                        (false, true) => "Disabling service",
                    };
                    let prep = if up { "to" } else { "from" };
                    log::info!("{verb} {rs_name} {prep} VS {}", st.name);
                    let script = if up { &rs.notify_up } else { &rs.notify_down };
                    if let Some(s) = script {
                        log::info!(
                            "Executing [{}] for service {rs_name} in VS {}",
                            s.command,
                            st.name
                        );
                        spawn_notify(ctx.procs, s, self.script_default, now);
                    }
                    ctx.reports.push(ToParent::RealServerState {
                        vs: st.name.clone(),
                        rs: rs_name,
                        up,
                    });
                }
                VsEvent::QuorumGained(w) => {
                    log::info!(
                        "Gained quorum {}+{}={} <= {w} for VS {}",
                        st.quorum.quorum,
                        st.quorum.hysteresis,
                        st.quorum.up_threshold(),
                        st.name
                    );
                    if let Some(s) = &vs.quorum_up {
                        log::info!("Executing [{}] for VS {}", s.command, st.name);
                        spawn_notify(ctx.procs, s, self.script_default, now);
                    }
                }
                VsEvent::QuorumLost(w) => {
                    log::info!(
                        "Lost quorum {}-{}={} > {w} for VS {}",
                        st.quorum.quorum,
                        st.quorum.hysteresis,
                        st.quorum.down_threshold(),
                        st.name
                    );
                    if let Some(s) = &vs.quorum_down {
                        log::info!("Executing [{}] for VS {}", s.command, st.name);
                        spawn_notify(ctx.procs, s, self.script_default, now);
                    }
                }
                VsEvent::SorryAdded | VsEvent::SorryRemoved => {
                    if let Some(s) = &vs.sorry_server {
                        let name = format_server(s.ip, "tcp", s.port);
                        if matches!(ev, VsEvent::SorryAdded) {
                            log::info!("Adding sorry server {name} to VS {}", st.name);
                        } else {
                            log::info!("Removing sorry server {name} from VS {}", st.name);
                        }
                    }
                }
            }
        }
    }

    fn wanted_all(&self) -> IpvsTable {
        let mut wanted = IpvsTable::new();
        for (vs, st) in self.vss.iter().zip(&self.states) {
            st.wanted(vs, &self.groups, &mut wanted);
        }
        wanted
    }

    /// Brings the services of virtual server `vi` to what its state wants.
    fn sync_vs(&mut self, vi: usize) {
        let (Some(vs), Some(st)) = (self.vss.get(vi), self.states.get(vi)) else {
            return;
        };
        let mut wanted = IpvsTable::new();
        st.wanted(vs, &self.groups, &mut wanted);
        let mut have = IpvsTable::new();
        for entry in wanted.services() {
            if let Some(cur) = self.current.get(&entry.service.key) {
                have.insert_service(cur.service.clone()).dests = cur.dests.clone();
            }
        }
        let cmds = plan(&wanted, &have);
        self.apply(&cmds);
    }

    fn apply(&mut self, cmds: &[keepalived_check::ipvs::IpvsCommand]) {
        for cmd in cmds {
            match self.sink.apply(cmd) {
                Ok(()) => {
                    let _ = self.current.apply(cmd);
                }
                Err(e) => log::error!("{e}"),
            }
        }
    }

    /// A process of ours ended (MISC_CHECK result, or a notify script).
    pub fn process_exited(
        &mut self,
        ctx: &mut VsContext,
        id: ProcId,
        exit: ProcExit,
        now: Instant,
    ) {
        let Some(i) = self.misc_procs.remove(&id) else {
            return;
        };
        let Some(slot) = self.slots.get_mut(i) else {
            return;
        };
        if slot.misc != Some(id) {
            return;
        }
        slot.misc = None;
        slot.running_since = None;
        let Kind::Misc { dynamic, .. } = slot.kind else {
            return;
        };
        let exit = match exit {
            ProcExit::Exited(s) => MiscExit::Exited(s),
            ProcExit::Signaled(s) => MiscExit::Signaled(s),
            ProcExit::TimedOut => MiscExit::TimedOut,
        };
        if exit == MiscExit::TimedOut {
            log::info!("Misc check for {} timed out", slot.name);
        }
        let r = classify(exit, dynamic);
        self.record(ctx, i, r.up, r.weight, now);
    }

    /// Replaces the configuration: real servers that stay keep their state, removed services
    /// leave IPVS, new ones are added, and every checker is scheduled again.
    pub fn reload(&mut self, ctx: &mut VsContext, config: &Config, now: Instant) {
        for slot in &mut self.slots {
            if let Some(p) = slot.probe.take() {
                p.close(ctx.registry);
            }
        }
        let old: HashMap<(String, String), keepalived_check::realserver::RsState> = self
            .states
            .iter()
            .flat_map(|st| {
                st.rs_names
                    .iter()
                    .zip(&st.rs)
                    .map(|(n, r)| ((st.name.clone(), n.clone()), r.clone()))
            })
            .collect();
        self.misc_procs.clear();
        self.lvs_flush_on_stop = config.global.lvs_flush_on_stop.clone();
        let keep = self.stop_mode == StopMode::Keep;
        self.files.deregister(ctx.registry);
        self.load(config);
        self.set_dont_release_ipvs(keep);
        for st in &mut self.states {
            for (name, rs) in st.rs_names.iter().zip(st.rs.iter_mut()) {
                if let Some(prev) = old.get(&(st.name.clone(), name.clone())) {
                    if prev.checkers.len() == rs.checkers.len() {
                        for (new, old) in rs.checkers.iter_mut().zip(&prev.checkers) {
                            new.up = old.up;
                            new.has_run = old.has_run;
                        }
                        rs.alive = prev.alive;
                        rs.weight = prev.weight;
                    }
                }
            }
            let w = st.live_weight();
            st.quorum =
                keepalived_check::quorum::Quorum::new(st.quorum.quorum, st.quorum.hysteresis, w);
            if let Some(s) = st.sorry_alive.as_mut() {
                *s = !st.quorum.up;
            }
        }
        self.files
            .register(ctx.registry, mio::Token(newkinds::FILE_TOKEN));
        self.widen_ping_range();
        let wanted = self.wanted_all();
        let cmds = plan(&wanted, &self.current);
        self.apply(&cmds);
        self.timers.clear();
        for i in 0..self.slots.len() {
            let delay = self.first_delay(i);
            self.schedule(i, now + delay);
        }
    }

    /// Stops every probe; with `omega` runs the down notifies of the servers in the pool;
    /// removes what we programmed in IPVS unless told to keep it.
    pub fn shutdown(&mut self, ctx: &mut VsContext) {
        for slot in &mut self.slots {
            if let Some(p) = slot.probe.take() {
                p.close(ctx.registry);
            }
        }
        self.files.deregister(ctx.registry);
        self.restore_ping_range();
        self.timers.clear();
        let now = Instant::now();
        for (vs, st) in self.vss.iter().zip(&self.states) {
            if !vs.omega {
                continue;
            }
            for ri in st.alive_servers() {
                if let Some(s) = vs.real_servers.get(ri).and_then(|r| r.notify_down.as_ref()) {
                    spawn_notify(ctx.procs, s, self.script_default, now);
                }
            }
            if st.quorum.up {
                if let Some(s) = &vs.quorum_down {
                    spawn_notify(ctx.procs, s, self.script_default, now);
                }
            }
        }
        let cmds = plan_stop(&self.current, self.stop_mode);
        self.apply(&cmds);
    }

    /// The IPVS table as programmed so far.
    pub fn ipvs_table(&self) -> &IpvsTable {
        &self.current
    }

    /// Whether real server `rs` of virtual server `vs` (configuration indexes) is in the pool.
    pub fn rs_alive(&self, vs: usize, rs: usize) -> Option<bool> {
        self.states.get(vs)?.rs.get(rs).map(|r| r.alive)
    }

    /// A text dump of the virtual servers (for the data dump).
    pub fn dump(&self) -> String {
        let mut out = String::new();
        for st in &self.states {
            let _ = writeln!(
                out,
                " VS {}: quorum {} (weight {}), sorry server {}",
                st.name,
                if st.quorum.up { "up" } else { "down" },
                st.live_weight(),
                match st.sorry_alive {
                    None => "none",
                    Some(true) => "in use",
                    Some(false) => "idle",
                }
            );
            for (name, rs) in st.rs_names.iter().zip(&st.rs) {
                let _ = writeln!(
                    out,
                    "   RS {name}: {}, weight {}, checkers {}",
                    if rs.alive { "alive" } else { "down" },
                    rs.weight,
                    rs.checkers
                        .iter()
                        .map(|c| if c.up { "up" } else { "down" })
                        .collect::<Vec<_>>()
                        .join(",")
                );
            }
        }
        out
    }
}

fn checker_type(kind: &Kind) -> &'static str {
    match kind {
        Kind::Tcp => "TCP_CHECK",
        Kind::Http { ssl: false, .. } => "HTTP_CHECK",
        Kind::Http { ssl: true, .. } => "SSL_CHECK",
        Kind::Misc { .. } => "MISC_CHECK",
        Kind::Smtp { .. } => "SMTP_CHECK",
        Kind::Dns { .. } => "DNS_CHECK",
        Kind::Udp { .. } => "UDP_CHECK",
        Kind::Ping => "ICMP CHECK",
        Kind::File { .. } => "FILE_CHECK",
        Kind::Unsupported(k) => k,
    }
}

/// The checker kind as the alert bodies name it.
fn alert_kind(kind: &Kind) -> crate::alert::CheckKind {
    match kind {
        Kind::Tcp => crate::alert::CheckKind::Tcp,
        Kind::Http { .. } => crate::alert::CheckKind::Http,
        Kind::Misc { .. } => crate::alert::CheckKind::Misc,
        _ => crate::alert::CheckKind::Other,
    }
}

/// keepalived's log lines for a checker's transitions.
fn log_verdict(slot: &Slot, v: &Verdict, retry: u32) {
    match v.set {
        Some(true) => match &slot.kind {
            Kind::Tcp => log::info!("TCP connection to {} success.", slot.name),
            Kind::Http { .. } => log::info!("Remote Web server {} succeed on service.", slot.name),
            Kind::Misc { script, .. } => {
                log::info!(
                    "Misc check for {} by [{}] succeeded.",
                    slot.name,
                    script.command
                )
            }
            Kind::Smtp { .. } => log::info!("Remote SMTP server {} succeed on service.", slot.name),
            Kind::Udp { .. } => log::info!("UDP connection to {} success.", slot.name),
            Kind::Ping => log::info!("ICMP connection to {} success.", slot.name),
            // keepalived logs no line for a DNS_CHECK success; FILE_CHECK logs its own.
            Kind::Dns { .. } | Kind::File { .. } | Kind::Unsupported(_) => {}
        },
        Some(false) => {
            let t = checker_type(&slot.kind);
            match v.failed_after {
                Some(n) => log::info!("{t} on service {} failed after {n} retries.", slot.name),
                None => log::info!("{t} on service {} failed.", slot.name),
            }
        }
        None => {
            if let Some(n) = v.retrying {
                log::debug!(
                    "{} on service {} failed, retry {n}/{retry}.",
                    checker_type(&slot.kind),
                    slot.name
                );
            }
        }
    }
}

/// The first bytes of a script's program, to choose exec or shell as keepalived does.
fn read_header(argv: &[String]) -> Option<&'static [u8]> {
    let path = argv.first()?;
    let mut f = std::fs::File::open(path).ok()?;
    let mut buf = [0u8; 4];
    let n = f.read(&mut buf).ok()?;
    let head = buf.get(..n)?;
    Some(if head.starts_with(b"\x7fELF") {
        b"\x7fELF"
    } else if head.starts_with(b"#!") {
        b"#!"
    } else {
        b"text"
    })
}

fn spawn_notify(procs: &mut Procs, script: &Script, default: Option<(u32, u32)>, now: Instant) {
    let argv = invocation(&script.argv, read_header(&script.argv)).argv();
    let (uid, gid) = match users::ids(script, default) {
        Ok(ids) => ids,
        Err(e) => {
            log::error!("{}: {e} - not run", script.command);
            return;
        }
    };
    let spec = ProcSpec {
        argv,
        uid,
        gid,
        timeout: None,
        env: Vec::new(),
    };
    if let Err(e) = procs.spawn_at(spec, ProcOwner::Vs(NOTIFY_OWNER), now) {
        log::error!("{e}");
    }
}
