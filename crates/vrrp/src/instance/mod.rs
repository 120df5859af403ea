//! The state machine of one `vrrp_instance`, with keepalived's semantics (RFC 5798 §6.4 plus
//! keepalived's defaults and extensions).
//!
//! Pure: [`Instance::handle`] takes the time and an [`Input`] and returns [`Action`]s;
//! [`Instance::next_timer`] says when to call it again with [`Input::Timer`].
//!
//! Choices where keepalived offers several behaviours:
//! * A VIP deleted by somebody else while MASTER: like keepalived (`set_vrrp_backup`), the
//!   instance steps down to BACKUP with a priority-0 advert, removes its addresses and sets its
//!   down timer to Skew_Time, so it becomes master again (re-adding every address and sending
//!   GARPs) after the skew, unless a better router answered meanwhile. Re-adding silently
//!   would hide the event from notify scripts, which keepalived users rely on.
//! * Start-up follows keepalived 2.2's `vrrp_init_state`: an owner configured `state MASTER`
//!   (or an instance resumed as MASTER after a respawn) starts with a 1 µs down timer and no
//!   BACKUP (init) report; a non-owner `state MASTER` reports BACKUP (init) and waits
//!   `advert_int + Skew_Time(priority 255)`; everything else waits Master_Down_Interval.

mod actions;
mod params;
mod state;
mod stats;
mod trackers;

pub use actions::{fifo_line, generic_notify_args, Action, Input, LogLevel, NotifyScript};
pub use params::{GarpParams, InitialState, InstanceParams, NotifyParams};
pub use state::{FaultFlags, State};
pub use stats::Stats;
pub use trackers::{Effect, Tracker, TrackerKind, TrackerSet, TrackerValue};

use crate::advert::{Advert, AdvertHeader, Version};
use crate::timer::{self, Deadline, Time, TimerId, TimerKind, Timers};
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

/// One VRRP instance.
#[derive(Debug, Clone)]
pub struct Instance {
    params: InstanceParams,
    state: State,
    /// BACKUP whose down timer expired while its sync group held it back.
    want_master: bool,
    faults: FaultFlags,
    trackers: TrackerSet,
    effective_priority: u8,
    /// The master's advert interval (learned from VRRPv3 adverts; ours for VRRPv2).
    master_adver_int: Duration,
    /// Start of the running full Master_Down countdown, to rescale it when our priority
    /// changes; `None` when the running countdown is a bare skew or none runs.
    down_from: Option<Time>,
    /// End of the `preempt_delay` window, once a lower-priority advert started it.
    preempt_until: Option<Time>,
    master_addr: Option<IpAddr>,
    master_priority: u8,
    timers: Timers,
    stats: Stats,
    in_sync_group: bool,
    /// The advert last sent, shared with the action that sends it: a MASTER sending the same
    /// advert every interval allocates nothing.
    last_advert: Option<Arc<Advert>>,
    /// Set when a MASTER heard a lower priority; the sync group repeats its members' GARPs.
    heard_lower: bool,
    /// Set by the sync group before each call: may this member become MASTER now?
    sync_permit: bool,
    last_transition: Time,
}

impl Instance {
    /// A new instance in INIT; send it [`Input::Start`] to begin.
    pub fn new(params: InstanceParams) -> Self {
        let trackers = TrackerSet::new(&params.trackers);
        let effective_priority = trackers.effective_priority(params.priority);
        let faults = FaultFlags {
            tracker: trackers.faulted(),
            ..FaultFlags::default()
        };
        Instance {
            master_adver_int: params.advert_interval,
            params,
            state: State::Init,
            want_master: false,
            faults,
            trackers,
            effective_priority,
            down_from: None,
            preempt_until: None,
            master_addr: None,
            master_priority: 0,
            timers: Timers::default(),
            stats: Stats::default(),
            in_sync_group: false,
            last_advert: None,
            heard_lower: false,
            sync_permit: true,
            last_transition: Time::ZERO,
        }
    }

    /// The instance's name.
    pub fn name(&self) -> &str {
        &self.params.name
    }

    /// Its parameters.
    pub fn params(&self) -> &InstanceParams {
        &self.params
    }

    /// Its parameters, the instance dropped (a reload hands a new instance's parameters to
    /// the running one it continues).
    pub fn into_params(self) -> InstanceParams {
        self.params
    }

    /// Its current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// Base priority plus tracker weights, clamped to 1..=254 (255 for an owner).
    pub fn effective_priority(&self) -> u8 {
        self.effective_priority
    }

    /// The reasons it is in FAULT, if any.
    pub fn faults(&self) -> FaultFlags {
        self.faults
    }

    /// The counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// The counters, for the shell to charge receive errors found by validation
    /// ([`Stats::count_rx_error`]) or to clear them (SIGRTMAX-1).
    pub fn stats_mut(&mut self) -> &mut Stats {
        &mut self.stats
    }

    /// Every tracker with its latest value (for the dump files).
    pub fn tracker_values(&self) -> impl Iterator<Item = (&Tracker, TrackerValue)> + '_ {
        self.trackers.values()
    }

    /// The interval the current master advertises (Master_Adver_Interval).
    pub fn master_adver_int(&self) -> Duration {
        self.master_adver_int
    }

    /// The address of the master last heard, while BACKUP.
    pub fn master_addr(&self) -> Option<IpAddr> {
        self.master_addr
    }

    /// The priority of the master last heard.
    pub fn master_priority(&self) -> u8 {
        self.master_priority
    }

    /// When the state last changed.
    pub fn last_transition(&self) -> Time {
        self.last_transition
    }

    /// True when MASTER, or BACKUP with an expired down timer (keepalived's `wantstate`).
    pub fn wants_master(&self) -> bool {
        self.state == State::Master || (self.state == State::Backup && self.want_master)
    }

    /// The earliest armed timer: call [`Instance::handle`] with `Input::Timer(id)` at `at`.
    pub fn next_timer(&self) -> Option<Deadline> {
        self.timers.next()
    }

    /// When [`Instance::next_timer`] is due.
    pub fn next_deadline(&self) -> Option<Time> {
        self.timers.next().map(|d| d.at)
    }

    /// Handles one input and returns the actions, in the order the shell must carry them out.
    pub fn handle(&mut self, now: Time, input: Input) -> Vec<Action> {
        let mut out = Vec::new();
        self.handle_into(now, input, &mut out);
        out
    }

    /// Like [`Instance::handle`], appending to `out` (no allocation when nothing happens).
    pub fn handle_into(&mut self, now: Time, input: Input, out: &mut Vec<Action>) {
        match input {
            Input::Start => self.start(now, false, out),
            Input::Resume { was_master } => self.start(now, was_master, out),
            Input::Advert { advert, source } => self.on_advert(now, &advert, source, out),
            Input::Timer(id) => self.on_timer(now, id, out),
            Input::Tracker { kind, name, value } => self.on_tracker(now, kind, &name, value, out),
            Input::Link { up } => {
                self.faults.interface_down = !up;
                self.apply_faults(now, out);
            }
            Input::VipRemoved(addr) => self.on_vip_removed(now, addr, out),
            Input::ReloadAdvert => {
                if self.state == State::Master {
                    self.send_advert(self.effective_priority, out);
                }
            }
            Input::Reload(params) => self.reload(now, *params, out),
            Input::Shutdown => self.shutdown(now, out),
        }
    }

    // ----- sync group hooks (crate::sync_group drives these) -----

    pub(crate) fn set_sync(&mut self, in_group: bool, permit: bool) {
        self.in_sync_group = in_group;
        self.sync_permit = permit;
    }

    /// The group moved to MASTER: a BACKUP member follows at once.
    pub(crate) fn force_master(&mut self, now: Time, out: &mut Vec<Action>) {
        if self.state == State::Backup {
            self.enter_master(now, out);
        }
    }

    /// The group moved to BACKUP: a MASTER member follows, and no member keeps wanting MASTER.
    pub(crate) fn force_backup(&mut self, now: Time, out: &mut Vec<Action>) {
        self.want_master = false;
        if self.state == State::Master {
            self.enter_backup(now, false, out);
        }
    }

    /// Returns (and clears) whether this MASTER heard a lower priority in the last call.
    pub(crate) fn take_heard_lower(&mut self) -> bool {
        std::mem::take(&mut self.heard_lower)
    }

    /// keepalived: after a lower-priority advert a MASTER repeats its GARPs
    /// (`garp_lower_prio_repeat`), again after `garp_lower_prio_delay`; a sync group does
    /// the same for its other MASTER members.
    pub(crate) fn lower_prio_garp(&mut self, now: Time, out: &mut Vec<Action>) {
        let garp = &self.params.garp;
        if self.state != State::Master || garp.lower_prio_repeat == 0 {
            return;
        }
        let repeat = garp.lower_prio_repeat;
        let delay = garp.lower_prio_delay;
        self.push_garp(repeat, out);
        if !delay.is_zero() {
            self.timers.arm(TimerKind::GarpLowerPrio, now + delay);
        }
    }

    /// Another member is (or no longer is) in FAULT.
    pub(crate) fn set_group_fault(&mut self, now: Time, fault: bool, out: &mut Vec<Action>) {
        if self.faults.sync_group != fault {
            self.faults.sync_group = fault;
            self.apply_faults(now, out);
        }
    }

    // ----- inputs -----

    fn start(&mut self, now: Time, was_master: bool, out: &mut Vec<Action>) {
        if self.state != State::Init {
            return;
        }
        self.last_transition = now;
        if !self.faults.is_clear() {
            self.set_state(now, State::Fault, out);
            self.log(
                format!("({}) Entering FAULT STATE (init)", self.params.name),
                out,
            );
            self.notify(State::Fault, out);
        } else if was_master
            || (self.params.is_owner() && self.params.initial_state == InitialState::Master)
        {
            // keepalived: "the simplest way to become master is to time out from BACKUP
            // very quickly" - BACKUP without a report, and a 1 µs down timer.
            self.state = State::Backup;
            self.down_from = None;
            self.timers
                .arm(TimerKind::MasterDown, now + Duration::from_micros(1));
        } else {
            self.set_state(now, State::Backup, out);
            self.log(
                format!("({}) Entering BACKUP STATE (init)", self.params.name),
                out,
            );
            self.notify(State::Backup, out);
            if self.params.initial_state == InitialState::Master {
                // A non-owner wanting MASTER waits one advert interval plus the minimum skew.
                self.down_from = None;
                let wait = self.params.advert_interval
                    + timer::skew_min(self.params.version, self.master_adver_int);
                self.timers.arm(TimerKind::MasterDown, now + wait);
            } else {
                self.arm_full_down(now);
            }
        }
    }

    fn on_advert(
        &mut self,
        now: Time,
        advert: &AdvertHeader,
        source: IpAddr,
        out: &mut Vec<Action>,
    ) {
        if !matches!(self.state, State::Backup | State::Master) {
            return; // INIT, FAULT and STOP ignore packets
        }
        if self.params.owner_ignore_adverts && self.params.is_owner() {
            return;
        }
        self.stats.advert_rcvd += 1;
        if advert.priority == 0 {
            self.stats.pri_zero_rcvd += 1;
        }
        match self.state {
            State::Backup => self.backup_rx(now, advert, source, out),
            State::Master => self.master_rx(now, advert, source, out),
            _ => {}
        }
    }

    fn backup_rx(
        &mut self,
        now: Time,
        advert: &AdvertHeader,
        source: IpAddr,
        out: &mut Vec<Action>,
    ) {
        let prio = advert.priority;
        if prio == 0 {
            // RFC 5798 6.4.2: Master_Down_Timer = Skew_Time.
            self.log(
                format!(
                    "({}) Backup received priority 0 advertisement",
                    self.params.name
                ),
                out,
            );
            self.down_from = None;
            self.timers.arm(TimerKind::MasterDown, now + self.skew());
            return;
        }
        let ours = self.effective_priority;
        let accept = self.params.nopreempt || prio >= ours || self.preempt_delay_running(now);
        if !accept {
            self.log(
                format!(
                    "({}) received lower priority ({prio}) advert from {source} - discarding",
                    self.params.name
                ),
                out,
            );
            return;
        }
        if prio >= ours {
            self.preempt_until = None; // keepalived: "stop preempt delay"
        }
        self.learn_interval(advert);
        self.master_addr = Some(source);
        self.master_priority = prio;
        self.want_master = false;
        self.arm_full_down(now);
    }

    /// keepalived starts the `preempt_delay` window at the first lower-priority advert and
    /// accepts lower-priority adverts while it runs.
    fn preempt_delay_running(&mut self, now: Time) -> bool {
        if self.params.preempt_delay.is_zero() {
            return false;
        }
        let until = *self
            .preempt_until
            .get_or_insert(now + self.params.preempt_delay);
        now < until
    }

    fn master_rx(
        &mut self,
        now: Time,
        advert: &AdvertHeader,
        source: IpAddr,
        out: &mut Vec<Action>,
    ) {
        let prio = advert.priority;
        let ours = self.effective_priority;
        if prio == 0 {
            // Another master stepped down: answer at once so backups do not take over.
            self.log(
                format!(
                    "({}) Master received priority 0 or lower priority advert",
                    self.params.name
                ),
                out,
            );
            self.send_advert(ours, out);
            self.timers
                .arm(TimerKind::Advert, now + self.params.advert_interval);
            return;
        }
        if prio == ours && source == self.params.primary_addr {
            self.log(
                format!(
                    "({}) WARNING - equal priority advert received from remote host with our IP address.",
                    self.params.name
                ),
                out,
            );
            return;
        }
        if prio == 255 && self.params.is_owner() {
            self.log(
                format!(
                    "({}) CONFIGURATION ERROR: local instance and {source} are both configured as address owner, please fix",
                    self.params.name
                ),
                out,
            );
        }
        let higher = prio > ours || (prio == ours && source > self.params.primary_addr);
        if higher {
            let text = if prio > ours {
                format!(
                    "({}) Master received advert from {source} with higher priority {prio}, ours {ours}",
                    self.params.name
                )
            } else {
                format!(
                    "({}) Master received advert from {source} with same priority {prio} but higher IP address than ours",
                    self.params.name
                )
            };
            self.log(text, out);
            if self.params.higher_prio_send_advert {
                self.send_advert(ours, out);
            }
            self.learn_interval(advert);
            self.master_addr = Some(source);
            self.master_priority = prio;
            self.enter_backup(now, false, out);
            return;
        }
        let election = if self.params.lower_prio_no_advert {
            ""
        } else {
            ", forcing new election"
        };
        self.log(
            format!(
                "({}) Received advert from {source} with lower priority {prio}, ours {ours}{election}",
                self.params.name
            ),
            out,
        );
        if !self.params.lower_prio_no_advert {
            self.send_advert(ours, out);
        }
        self.lower_prio_garp(now, out);
        self.heard_lower = true;
        if self.params.notify.master_rx_lower_pri {
            out.push(Action::RunNotify {
                script: NotifyScript::MasterRxLowerPri,
                args: Vec::new(),
            });
        }
        if self.params.notify.fifo {
            out.push(Action::FifoWrite(fifo_line(
                "INSTANCE",
                &self.params.name,
                "MASTER_RX_LOWER_PRI",
                ours,
            )));
        }
    }

    fn on_timer(&mut self, now: Time, id: TimerId, out: &mut Vec<Action>) {
        if !self.timers.is_live(id, now) {
            return; // re-armed or cancelled since: stale
        }
        self.timers.cancel(id.kind);
        match (id.kind, self.state) {
            (TimerKind::MasterDown, State::Backup) => {
                if self.in_sync_group && !self.sync_permit {
                    // The group prefers BACKUP until every member wants MASTER
                    // (vrrp_sync_can_goto_master re-arms a full Master_Down_Interval).
                    self.want_master = true;
                    self.arm_full_down(now);
                    return;
                }
                self.enter_master(now, out);
            }
            (TimerKind::Advert, State::Master) => {
                self.send_advert(self.effective_priority, out);
                self.timers
                    .arm(TimerKind::Advert, now + self.params.advert_interval);
            }
            (TimerKind::GarpDelayed, State::Master) => {
                self.push_garp(self.params.garp.master_repeat, out);
            }
            (TimerKind::GarpRefresh, State::Master) => {
                self.push_garp(self.params.garp.refresh_repeat, out);
                self.timers.arm(
                    TimerKind::GarpRefresh,
                    now + self.params.garp.master_refresh,
                );
            }
            (TimerKind::GarpLowerPrio, State::Master) => {
                self.push_garp(self.params.garp.lower_prio_repeat, out);
            }
            _ => {}
        }
    }

    fn on_tracker(
        &mut self,
        now: Time,
        kind: TrackerKind,
        name: &str,
        value: TrackerValue,
        out: &mut Vec<Action>,
    ) {
        if !self.trackers.update(kind, name, value) {
            return;
        }
        self.faults.tracker = self.trackers.faulted();
        self.update_priority(now, out);
        self.apply_faults(now, out);
    }

    fn on_vip_removed(&mut self, now: Time, addr: IpAddr, out: &mut Vec<Action>) {
        let ours = self.params.vips.contains(&addr) || self.params.excluded_vips.contains(&addr);
        if self.state != State::Master || !ours {
            return;
        }
        self.log(
            format!(
                "({}) virtual address {addr} removed externally - going to BACKUP",
                self.params.name
            ),
            out,
        );
        self.enter_backup(now, true, out);
        self.down_from = None;
        self.timers.arm(TimerKind::MasterDown, now + self.skew());
    }

    fn reload(&mut self, now: Time, params: InstanceParams, out: &mut Vec<Action>) {
        let same_params = params == self.params;
        let (priority_before, interval_before) = (self.effective_priority, self.master_adver_int);
        let old = std::mem::replace(&mut self.params, params);
        self.trackers = self.trackers.reloaded(&self.params.trackers);
        self.faults.tracker = self.trackers.faulted();
        if self.params.version == Version::V2 || self.state != State::Backup {
            self.master_adver_int = self.params.advert_interval;
        }
        self.update_priority(now, out);
        // An unchanged MASTER's advert would repeat the last one (and the one sent when the
        // SIGHUP arrived, `Input::ReloadAdvert`): its advert timer keeps its phase, so a
        // reload of thousands of unchanged instances does not burst thousands of adverts.
        let unchanged = same_params
            && self.effective_priority == priority_before
            && self.master_adver_int == interval_before;
        if self.state == State::Master && !unchanged {
            // One advert first, carrying the new address list; then only the differences.
            self.send_advert(self.effective_priority, out);
            let removed = difference(&old.vips, &self.params.vips);
            let removed_ex = difference(&old.excluded_vips, &self.params.excluded_vips);
            if !removed.is_empty() || !removed_ex.is_empty() {
                out.push(Action::RemoveVips {
                    vips: removed,
                    excluded: removed_ex,
                    routes_and_rules: false,
                });
            }
            let added = difference(&self.params.vips, &old.vips);
            let added_ex = difference(&self.params.excluded_vips, &old.excluded_vips);
            if !added.is_empty() || !added_ex.is_empty() {
                out.push(Action::AddVips {
                    vips: added,
                    excluded: added_ex,
                    routes_and_rules: false,
                });
                // keepalived re-announces every address of a changed instance.
                self.push_garp(self.params.garp.master_repeat, out);
            }
            self.timers
                .arm(TimerKind::Advert, now + self.params.advert_interval);
        }
        self.apply_faults(now, out);
    }

    /// The instance is gone from the configuration (reload). keepalived: a MASTER sends
    /// priority 0 and removes its addresses, routes and rules; the notify reports FAULT
    /// (DELETED with `notify_deleted`, which is not modelled here) unless it already was.
    pub(crate) fn remove(&mut self, now: Time, out: &mut Vec<Action>) {
        if self.state == State::Stop {
            return;
        }
        let was_fault = self.state == State::Fault;
        if self.state == State::Master {
            self.leave_master(true, out);
        }
        self.timers.cancel_all();
        self.want_master = false;
        self.set_state(now, State::Stop, out);
        self.log(
            format!("({}) removed from the configuration", self.params.name),
            out,
        );
        if !was_fault {
            self.notify(State::Fault, out);
        }
    }

    fn shutdown(&mut self, now: Time, out: &mut Vec<Action>) {
        if self.state == State::Stop {
            return;
        }
        if self.state == State::Master {
            self.leave_master(true, out);
        }
        self.timers.cancel_all();
        self.want_master = false;
        self.set_state(now, State::Stop, out);
        self.log(format!("({}) Entering STOP STATE", self.params.name), out);
        self.notify(State::Stop, out);
    }

    // ----- transitions -----

    fn enter_master(&mut self, now: Time, out: &mut Vec<Action>) {
        if self.state == State::Master {
            return;
        }
        self.timers.cancel(TimerKind::MasterDown);
        self.want_master = false;
        self.preempt_until = None;
        self.master_addr = None;
        self.set_state(now, State::Master, out);
        // keepalived: the advert goes out first, then the addresses, GARPs and notifies.
        self.send_advert(self.effective_priority, out);
        self.log(format!("({}) Entering MASTER STATE", self.params.name), out);
        out.push(Action::AddVips {
            vips: self.params.vips.clone(),
            excluded: self.params.excluded_vips.clone(),
            routes_and_rules: self.params.has_routes_or_rules,
        });
        let garp = self.params.garp.clone();
        if garp.master_repeat > 0 {
            self.push_garp(garp.master_repeat, out);
            if !garp.master_delay.is_zero() {
                self.timers
                    .arm(TimerKind::GarpDelayed, now + garp.master_delay);
            }
        }
        if !garp.master_refresh.is_zero() {
            self.timers
                .arm(TimerKind::GarpRefresh, now + garp.master_refresh);
        }
        self.timers
            .arm(TimerKind::Advert, now + self.params.advert_interval);
        self.stats.became_master += 1;
        self.notify(State::Master, out);
    }

    /// To BACKUP; from MASTER, `prio0` sends a priority-0 advert first.
    fn enter_backup(&mut self, now: Time, prio0: bool, out: &mut Vec<Action>) {
        if self.state == State::Master {
            self.leave_master(prio0, out);
        }
        self.want_master = false;
        self.set_state(now, State::Backup, out);
        self.log(format!("({}) Entering BACKUP STATE", self.params.name), out);
        self.notify(State::Backup, out);
        self.arm_full_down(now);
    }

    fn enter_fault(&mut self, now: Time, out: &mut Vec<Action>) {
        if self.state == State::Master {
            self.leave_master(true, out);
        }
        self.timers.cancel_all();
        self.want_master = false;
        self.down_from = None;
        self.set_state(now, State::Fault, out);
        self.log(format!("({}) Entering FAULT STATE", self.params.name), out);
        self.notify(State::Fault, out);
    }

    fn leave_master(&mut self, prio0: bool, out: &mut Vec<Action>) {
        if prio0 {
            self.send_advert(0, out);
        }
        out.push(Action::RemoveVips {
            vips: self.params.vips.clone(),
            excluded: self.params.excluded_vips.clone(),
            routes_and_rules: self.params.has_routes_or_rules,
        });
        for kind in [
            TimerKind::Advert,
            TimerKind::GarpDelayed,
            TimerKind::GarpRefresh,
            TimerKind::GarpLowerPrio,
        ] {
            self.timers.cancel(kind);
        }
        self.stats.release_master += 1;
    }

    /// Moves in or out of FAULT after a change of the fault flags.
    fn apply_faults(&mut self, now: Time, out: &mut Vec<Action>) {
        match (self.faults.is_clear(), self.state) {
            (false, State::Backup | State::Master) => self.enter_fault(now, out),
            (true, State::Fault) => {
                // keepalived vrrp_state_leave_fault: forget the old master's interval.
                self.master_adver_int = self.params.advert_interval;
                self.preempt_until = None;
                if self.params.unicast {
                    // keepalived #1283: refresh the peers' neighbour cache for our source.
                    out.push(Action::SendGarp {
                        addrs: vec![self.params.primary_addr],
                        repeat: 1,
                    });
                }
                if self.params.is_owner() && self.params.initial_state == InitialState::Master {
                    self.enter_master(now, out);
                } else {
                    self.enter_backup(now, false, out);
                }
            }
            _ => {}
        }
    }

    fn update_priority(&mut self, now: Time, out: &mut Vec<Action>) {
        let new = self.trackers.effective_priority(self.params.priority);
        if new == self.effective_priority {
            return;
        }
        self.log(
            format!(
                "({}) Changing effective priority from {} to {new}",
                self.params.name, self.effective_priority
            ),
            out,
        );
        self.effective_priority = new;
        if self.params.notify.priority_changes && self.params.notify.fifo {
            let event = match self.state {
                State::Master => Some("MASTER_PRIORITY"),
                State::Backup => Some("BACKUP_PRIORITY"),
                _ => None,
            };
            if let Some(event) = event {
                out.push(Action::FifoWrite(fifo_line(
                    "INSTANCE",
                    &self.params.name,
                    event,
                    new,
                )));
            }
        }
        // A running Master_Down countdown is rescaled to the new skew.
        if self.state == State::Backup {
            if let Some(from) = self.down_from {
                let at = from + self.master_down_interval();
                self.timers.arm(TimerKind::MasterDown, at.max(now));
            }
        }
    }

    // ----- helpers -----

    fn set_state(&mut self, now: Time, to: State, out: &mut Vec<Action>) {
        let from = self.state;
        self.state = to;
        self.last_transition = now;
        out.push(Action::StateChanged {
            from,
            to,
            priority: self.effective_priority,
        });
    }

    fn skew(&self) -> Duration {
        timer::skew(
            self.params.version,
            self.effective_priority,
            self.master_adver_int,
        )
    }

    fn master_down_interval(&self) -> Duration {
        timer::master_down(
            self.params.version,
            self.effective_priority,
            self.master_adver_int,
            self.params.down_timer_adverts,
        )
    }

    fn arm_full_down(&mut self, now: Time) {
        self.down_from = Some(now);
        self.timers
            .arm(TimerKind::MasterDown, now + self.master_down_interval());
    }

    fn learn_interval(&mut self, advert: &AdvertHeader) {
        if advert.version == Version::V3 && !advert.interval.is_zero() {
            self.master_adver_int = advert.interval;
        }
    }

    fn send_advert(&mut self, priority: u8, out: &mut Vec<Action>) {
        self.stats.advert_sent += 1;
        if priority == 0 {
            self.stats.pri_zero_sent += 1;
        }
        let p = &self.params;
        let current = self.last_advert.as_ref().filter(|a| {
            a.priority == priority
                && a.version == p.version
                && a.vrid == p.vrid
                && a.interval == p.advert_interval
                && a.auth == p.auth
                && a.addrs == p.vips
        });
        let advert = match current {
            Some(a) => Arc::clone(a),
            None => {
                let a = Arc::new(Advert {
                    version: p.version,
                    vrid: p.vrid,
                    priority,
                    interval: p.advert_interval,
                    addrs: p.vips.clone(),
                    auth: p.auth.clone(),
                });
                self.last_advert = Some(Arc::clone(&a));
                a
            }
        };
        out.push(Action::SendAdvert(advert));
    }

    fn push_garp(&self, repeat: u32, out: &mut Vec<Action>) {
        if repeat == 0 {
            return;
        }
        let mut addrs = self.params.vips.clone();
        addrs.extend_from_slice(&self.params.excluded_vips);
        if !addrs.is_empty() {
            out.push(Action::SendGarp { addrs, repeat });
        }
    }

    /// keepalived's order: the state's own script, then the generic one, then the FIFO.
    fn notify(&self, state: State, out: &mut Vec<Action>) {
        let n = &self.params.notify;
        let specific = match state {
            State::Master => n.master.then_some(NotifyScript::Master),
            State::Backup => n.backup.then_some(NotifyScript::Backup),
            State::Fault => n.fault.then_some(NotifyScript::Fault),
            State::Stop => n.stop.then_some(NotifyScript::Stop),
            State::Init => None,
        };
        if let Some(script) = specific {
            out.push(Action::RunNotify {
                script,
                args: Vec::new(),
            });
        }
        if n.generic {
            // keepalived's send_instance_notifies passes the effective priority. The lab saw
            // 150 in FAULT too: FAULT never changes the effective priority.
            out.push(Action::RunNotify {
                script: NotifyScript::Generic,
                args: generic_notify_args(
                    "INSTANCE",
                    &self.params.name,
                    state,
                    self.effective_priority,
                ),
            });
        }
        if n.fifo {
            out.push(Action::FifoWrite(fifo_line(
                "INSTANCE",
                &self.params.name,
                state.as_str(),
                self.effective_priority,
            )));
        }
    }

    fn log(&self, text: String, out: &mut Vec<Action>) {
        out.push(Action::Log {
            level: LogLevel::Info,
            text,
        });
    }
}

/// The elements of `a` that are not in `b`.
fn difference(a: &[IpAddr], b: &[IpAddr]) -> Vec<IpAddr> {
    a.iter().filter(|x| !b.contains(x)).copied().collect()
}
