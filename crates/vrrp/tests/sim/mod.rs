//! A deterministic simulator: N routers on one simulated LAN with a virtual clock.
//!
//! Every router is a `keepalived_vrrp::sync_group::Router`. The event queue is ordered by
//! (time, sequence number), so a run is a pure function of its inputs and the seed of the
//! xorshift generator that decides loss and delay. No wall clock, no threads.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_vrrp::instance::{Action, Input, InstanceParams, State};
use keepalived_vrrp::sync_group::{Routed, Router, Source, SyncGroupParams, Target};
use keepalived_vrrp::timer::{Time, TimerId};
use keepalived_vrrp::{AdvertHeader, Version};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Seconds as a `Time`/`Duration`.
pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

/// Milliseconds as a `Time`/`Duration`.
pub fn ms(m: u64) -> Duration {
    Duration::from_millis(m)
}

/// The primary address of node `n`: 10.0.0.(n+1).
pub fn node_addr(n: usize) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 0, 0, u8::try_from(n + 1).unwrap()))
}

/// The VIP of VRID `vrid`: 10.9.0.vrid.
pub fn vip(vrid: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(10, 9, 0, vrid))
}

/// Instance params with the usual lab defaults for node `n`.
pub fn instance(name: &str, vrid: u8, n: usize, priority: u8) -> InstanceParams {
    let mut p = InstanceParams::new(name, vrid, node_addr(n));
    p.priority = priority;
    p.vips = vec![vip(vrid)];
    p
}

/// A tiny xorshift64* generator: deterministic, seedable, good enough for loss and jitter.
#[derive(Debug, Clone)]
pub struct XorShift(u64);

impl XorShift {
    /// A generator from `seed` (0 is remapped).
    pub fn new(seed: u64) -> Self {
        XorShift(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            lo
        } else {
            lo + self.next_u64() % (hi - lo + 1)
        }
    }

    /// True with probability `permille / 1000`.
    pub fn chance(&mut self, permille: u32) -> bool {
        self.next_u64() % 1000 < u64::from(permille)
    }
}

/// What a router is built from (kept to restart it).
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Its instances.
    pub instances: Vec<InstanceParams>,
    /// Its sync groups.
    pub groups: Vec<SyncGroupParams>,
}

impl NodeSpec {
    /// A node with one instance and no group.
    pub fn single(params: InstanceParams) -> Self {
        NodeSpec {
            instances: vec![params],
            groups: Vec::new(),
        }
    }
}

/// One simulated router.
#[derive(Debug)]
pub struct Node {
    /// The state machines.
    pub router: Router,
    /// What it was built from.
    pub spec: NodeSpec,
    /// False after a crash or stop.
    pub alive: bool,
    /// Bumped at each crash/restart so events of an earlier life are dropped.
    pub epoch: u64,
    /// Virtual addresses currently on its interface.
    pub vips: BTreeSet<IpAddr>,
}

/// Something scheduled.
#[derive(Debug, Clone)]
pub enum Op {
    /// Kill -9: the router stops at once, its VIPs stay on its interface.
    Crash(usize),
    /// Start a crashed or stopped router afresh (it removes residual VIPs first).
    Restart(usize),
    /// SIGTERM: priority-0 adverts, VIPs removed, STOP.
    Stop(usize),
    /// Hand an input to a router.
    Inject(usize, Target, Input),
    /// Set the loss rate in permille.
    Loss(u32),
    /// Cut (or restore) the path between two nodes, both directions.
    Cut(usize, usize, bool),
    /// Restore every path and set loss to zero.
    Heal,
}

#[derive(Debug, Clone)]
enum Event {
    Timer {
        node: usize,
        epoch: u64,
        inst: usize,
        id: TimerId,
    },
    Deliver {
        node: usize,
        epoch: u64,
        advert: AdvertHeader,
        source: IpAddr,
    },
    Op(Op),
}

/// A state change seen in the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    /// When.
    pub at: Time,
    /// Which node.
    pub node: usize,
    /// Which instance of it.
    pub inst: usize,
    /// From.
    pub from: State,
    /// To.
    pub to: State,
}

/// A sent advert seen in the simulation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sent {
    /// When.
    pub at: Time,
    /// Which node.
    pub node: usize,
    /// Which VRID.
    pub vrid: u8,
    /// With which priority.
    pub priority: u8,
}

/// The simulated LAN.
pub struct Sim {
    /// Current virtual time.
    pub now: Time,
    /// The routers.
    pub nodes: Vec<Node>,
    queue: BTreeMap<(Time, u64), Event>,
    seq: u64,
    queued_timers: HashSet<(usize, u64, usize, TimerId)>,
    rng: XorShift,
    /// Loss rate in permille.
    pub loss_permille: u32,
    /// One-way delay bounds.
    pub delay: (Duration, Duration),
    cut: BTreeSet<(usize, usize)>,
    /// Every state change, in order.
    pub transitions: Vec<Transition>,
    /// Every advert sent, in order.
    pub sent: Vec<Sent>,
    /// Every action, in order: (time, node, source, action).
    pub trace: Vec<(Time, usize, Source, Action)>,
    /// Record the full trace (costly for long property runs).
    pub record_trace: bool,
}

impl Sim {
    /// Routers built from `specs`, not started; a 0.1-0.3 ms LAN delay and no loss.
    pub fn new(specs: Vec<NodeSpec>, seed: u64) -> Self {
        let nodes = specs
            .into_iter()
            .map(|spec| Node {
                router: Router::new(spec.instances.clone(), spec.groups.clone()).unwrap(),
                spec,
                alive: false,
                epoch: 0,
                vips: BTreeSet::new(),
            })
            .collect();
        Sim {
            now: Time::ZERO,
            nodes,
            queue: BTreeMap::new(),
            seq: 0,
            queued_timers: HashSet::new(),
            rng: XorShift::new(seed),
            loss_permille: 0,
            delay: (Duration::from_micros(100), Duration::from_micros(300)),
            cut: BTreeSet::new(),
            transitions: Vec::new(),
            sent: Vec::new(),
            trace: Vec::new(),
            record_trace: true,
        }
    }

    /// Starts every router now.
    pub fn start_all(&mut self) {
        for n in 0..self.nodes.len() {
            self.start(n);
        }
    }

    /// Starts router `n` now.
    pub fn start(&mut self, n: usize) {
        self.apply(Op::Restart(n));
    }

    /// Schedules `op` at `at` (not before now).
    pub fn schedule(&mut self, at: Time, op: Op) {
        let at = at.max(self.now);
        self.push(at, Event::Op(op));
    }

    /// Runs `op` now.
    pub fn apply(&mut self, op: Op) {
        match op {
            Op::Crash(n) => {
                let node = &mut self.nodes[n];
                node.alive = false;
                node.epoch += 1;
            }
            Op::Restart(n) => {
                let node = &mut self.nodes[n];
                node.router =
                    Router::new(node.spec.instances.clone(), node.spec.groups.clone()).unwrap();
                node.alive = true;
                node.epoch += 1;
                node.vips.clear();
                self.call(n, Target::All, Input::Start);
            }
            Op::Stop(n) => {
                if self.nodes[n].alive {
                    self.call(n, Target::All, Input::Shutdown);
                    let node = &mut self.nodes[n];
                    node.alive = false;
                    node.epoch += 1;
                }
            }
            Op::Inject(n, target, input) => {
                if self.nodes[n].alive {
                    self.call(n, target, input);
                }
            }
            Op::Loss(p) => self.loss_permille = p,
            Op::Cut(a, b, on) => {
                let key = (a.min(b), a.max(b));
                if on {
                    self.cut.insert(key);
                } else {
                    self.cut.remove(&key);
                }
            }
            Op::Heal => {
                self.cut.clear();
                self.loss_permille = 0;
            }
        }
    }

    /// Processes every event due up to and including `until`, then sets the clock to it.
    pub fn run_until(&mut self, until: Time) {
        while let Some(entry) = self.queue.first_entry() {
            let (at, _) = *entry.key();
            if at > until {
                break;
            }
            let event = entry.remove();
            self.now = at;
            self.fire(event);
        }
        self.now = self.now.max(until);
    }

    /// Runs for `d` more.
    pub fn run_for(&mut self, d: Duration) {
        self.run_until(self.now + d);
    }

    fn push(&mut self, at: Time, event: Event) {
        self.seq += 1;
        self.queue.insert((at, self.seq), event);
    }

    fn fire(&mut self, event: Event) {
        match event {
            Event::Timer {
                node,
                epoch,
                inst,
                id,
            } => {
                self.queued_timers.remove(&(node, epoch, inst, id));
                if self.nodes[node].alive && self.nodes[node].epoch == epoch {
                    self.call(node, Target::Instance(inst), Input::Timer(id));
                }
            }
            Event::Deliver {
                node,
                epoch,
                advert,
                source,
            } => {
                if self.nodes[node].alive && self.nodes[node].epoch == epoch {
                    self.call(node, Target::All, Input::Advert { advert, source });
                }
            }
            Event::Op(op) => self.apply(op),
        }
    }

    /// Hands `input` to router `n` and carries out what it asks.
    pub fn call(&mut self, n: usize, target: Target, input: Input) {
        let out = self.nodes[n].router.handle(self.now, target, input);
        for Routed { source, action } in out {
            self.carry_out(n, source, &action);
            if self.record_trace {
                self.trace.push((self.now, n, source, action));
            }
        }
        self.schedule_timers(n);
    }

    fn schedule_timers(&mut self, n: usize) {
        let epoch = self.nodes[n].epoch;
        let mut due = Vec::new();
        let router = &self.nodes[n].router;
        // Only the instances the last call reached can have new timers (Router::touched).
        for &i in router.touched() {
            if let Some(d) = router.instances()[i].next_timer() {
                if !self.queued_timers.contains(&(n, epoch, i, d.id)) {
                    due.push((i, d));
                }
            }
        }
        for (inst, d) in due {
            self.queued_timers.insert((n, epoch, inst, d.id));
            self.push(
                d.at,
                Event::Timer {
                    node: n,
                    epoch,
                    inst,
                    id: d.id,
                },
            );
        }
    }

    fn carry_out(&mut self, n: usize, source: Source, action: &Action) {
        match action {
            Action::SendAdvert(advert) => {
                self.sent.push(Sent {
                    at: self.now,
                    node: n,
                    vrid: advert.vrid,
                    priority: advert.priority,
                });
                let from = match source {
                    Source::Instance(i) => {
                        self.nodes[n].router.instances()[i].params().primary_addr
                    }
                    Source::Group(_) => node_addr(n),
                };
                for m in 0..self.nodes.len() {
                    if m == n || !self.nodes[m].alive || self.cut.contains(&(n.min(m), n.max(m))) {
                        continue;
                    }
                    if self.rng.chance(self.loss_permille) {
                        continue;
                    }
                    let lo = self.delay.0.as_micros() as u64;
                    let hi = self.delay.1.as_micros() as u64;
                    let at = self.now + Duration::from_micros(self.rng.range(lo, hi));
                    let epoch = self.nodes[m].epoch;
                    self.push(
                        at,
                        Event::Deliver {
                            node: m,
                            epoch,
                            advert: advert.header(),
                            source: from,
                        },
                    );
                }
            }
            Action::AddVips { vips, excluded, .. } => {
                let node = &mut self.nodes[n];
                node.vips.extend(vips.iter().chain(excluded).copied());
            }
            Action::RemoveVips { vips, excluded, .. } => {
                let node = &mut self.nodes[n];
                for a in vips.iter().chain(excluded) {
                    node.vips.remove(a);
                }
            }
            Action::StateChanged { from, to, .. } => {
                if let Source::Instance(inst) = source {
                    self.transitions.push(Transition {
                        at: self.now,
                        node: n,
                        inst,
                        from: *from,
                        to: *to,
                    });
                }
            }
            _ => {}
        }
    }

    // ----- queries -----

    /// State of instance `inst` of node `n` (STOP when the node is down).
    pub fn state(&self, n: usize, inst: usize) -> State {
        let node = &self.nodes[n];
        if !node.alive {
            return State::Stop;
        }
        node.router.instances()[inst].state()
    }

    /// Live nodes whose instance for `vrid` is MASTER.
    pub fn masters(&self, vrid: u8) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&n| {
                let node = &self.nodes[n];
                node.alive
                    && node
                        .router
                        .instances()
                        .iter()
                        .any(|i| i.params().vrid == vrid && i.state() == State::Master)
            })
            .collect()
    }

    /// The first time after `t` that node `n` entered `to` (any instance).
    pub fn first_entry_after(&self, n: usize, to: State, t: Time) -> Option<Time> {
        self.transitions
            .iter()
            .find(|tr| tr.node == n && tr.to == to && tr.at >= t)
            .map(|tr| tr.at)
    }

    /// The trace entries of node `n`, from `t` on.
    pub fn actions_of(&self, n: usize, t: Time) -> Vec<&Action> {
        self.trace
            .iter()
            .filter(|(at, node, _, _)| *node == n && *at >= t)
            .map(|(_, _, _, a)| a)
            .collect()
    }

    /// The effective priority of node `n`'s instance `inst`.
    pub fn priority(&self, n: usize, inst: usize) -> u8 {
        self.nodes[n].router.instances()[inst].effective_priority()
    }
}

/// A one-instance-per-node LAN: node i gets `priorities[i]` for VRID 1.
pub fn lan(priorities: &[u8], version: Version, seed: u64) -> Sim {
    let specs = priorities
        .iter()
        .enumerate()
        .map(|(n, &p)| {
            let mut params = instance("VI_1", 1, n, p);
            params.version = version;
            NodeSpec::single(params)
        })
        .collect();
    Sim::new(specs, seed)
}
