//! Sync groups (`vrrp_sync_group`) and the [`Router`] that owns a process's instances and
//! groups and routes inputs to them.
//!
//! keepalived's rules, kept here so that instances stay independent of each other:
//! * a member may become MASTER only when every member wants MASTER (the group prefers
//!   BACKUP to thrashing); until then its down timer is re-armed at Master_Down_Interval;
//! * a member becoming MASTER takes the others with it; a member dropping from MASTER to
//!   BACKUP takes the others with it;
//! * a member in FAULT (of its own) puts every member in FAULT until no member has a fault;
//! * group notifies (`GROUP <name> <STATE> 0`) follow the member notifies.
//!
//! All members move within one call, so a router's members are never split.

use crate::advert::AdvertHeader;
use crate::instance::{
    fifo_line, generic_notify_args, Action, Input, Instance, InstanceParams, NotifyParams,
    NotifyScript, State,
};
use crate::timer::{Deadline, Time};
use rustc_hash::{FxHashMap, FxHashSet};
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use thiserror::Error;

/// A `vrrp_sync_group` as configured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncGroupParams {
    /// Group name.
    pub name: String,
    /// Names of the member instances (`group { ... }`).
    pub members: Vec<String>,
    /// Configured group notify scripts.
    pub notify: NotifyParams,
}

/// Why a set of instances and groups cannot form a router.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RouterError {
    /// A group names an instance that does not exist.
    #[error("sync group {group}: unknown instance {instance}")]
    UnknownMember {
        /// The group.
        group: String,
        /// The missing instance.
        instance: String,
    },
    /// An instance is listed in two groups.
    #[error("instance {instance} is in sync groups {first} and {second}")]
    TwoGroups {
        /// The instance.
        instance: String,
        /// The group that claimed it first.
        first: String,
        /// The other group.
        second: String,
    },
}

/// Which part of the router an action comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Source {
    /// An instance, by index into [`Router::instances`].
    Instance(usize),
    /// A sync group, by index into [`Router::groups`].
    Group(usize),
}

/// An action with its origin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routed {
    /// Who asks for it.
    pub source: Source,
    /// What to do.
    pub action: Action,
}

/// Where an input goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// One instance, by index.
    Instance(usize),
    /// Every instance it concerns: adverts go to the instances of their VRID and family,
    /// trackers to the instances tracking them, the rest to all.
    All,
}

/// A sync group's derived state.
#[derive(Debug, Clone)]
pub struct SyncGroup {
    params: SyncGroupParams,
    members: Vec<usize>,
    state: State,
}

impl SyncGroup {
    /// The group's name.
    pub fn name(&self) -> &str {
        &self.params.name
    }

    /// Indices of the member instances.
    pub fn members(&self) -> &[usize] {
        &self.members
    }

    /// The group state last reported (FAULT if any member is, MASTER if all are, else BACKUP).
    pub fn state(&self) -> State {
        self.state
    }
}

/// What a reload did besides the routed actions of the kept and new instances.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadOutcome {
    /// Actions of the instances that stay or are new, in order.
    pub actions: Vec<Routed>,
    /// Instances no longer in the configuration, with what their shutdown asks
    /// (priority 0 and VIP removal for a MASTER, STOP notifies).
    pub removed: Vec<(String, Vec<Action>)>,
}

/// What identifies an instance across a reload: VRID, family, interface, unicast or not.
type ReloadKey<'a> = (u8, bool, &'a str, bool);

fn reload_key(p: &InstanceParams) -> ReloadKey<'_> {
    (
        p.vrid,
        p.primary_addr.is_ipv4(),
        p.interface.as_str(),
        p.unicast,
    )
}

/// All the instances and sync groups of one VRRP process.
#[derive(Debug, Clone)]
pub struct Router {
    instances: Vec<Instance>,
    groups: Vec<SyncGroup>,
    group_of: Vec<Option<usize>>,
    scratch: Vec<Action>,
    /// Instances the last `handle` call dispatched to (their timers may have changed).
    touched: Vec<usize>,
}

impl Router {
    /// Builds the instances and groups (not started: send [`Input::Start`] to [`Target::All`]).
    pub fn new(
        instances: Vec<InstanceParams>,
        groups: Vec<SyncGroupParams>,
    ) -> Result<Self, RouterError> {
        let mut instances: Vec<Instance> = instances.into_iter().map(Instance::new).collect();
        let mut group_of: Vec<Option<usize>> = vec![None; instances.len()];
        let mut built = Vec::with_capacity(groups.len());
        // The first instance of each name (members are named; a scan per member would be
        // quadratic with one group per pair of instances).
        let mut by_name: FxHashMap<String, usize> = FxHashMap::default();
        if !groups.is_empty() {
            for (i, inst) in instances.iter().enumerate() {
                by_name.entry(inst.name().to_string()).or_insert(i);
            }
        }
        for (g, params) in groups.into_iter().enumerate() {
            let mut members = Vec::new();
            for name in &params.members {
                let idx = by_name.get(name.as_str()).copied().ok_or_else(|| {
                    RouterError::UnknownMember {
                        group: params.name.clone(),
                        instance: name.clone(),
                    }
                })?;
                if let Some(Some(first)) = group_of.get(idx) {
                    let first: &SyncGroup =
                        built
                            .get(*first)
                            .ok_or_else(|| RouterError::UnknownMember {
                                group: params.name.clone(),
                                instance: name.clone(),
                            })?;
                    return Err(RouterError::TwoGroups {
                        instance: name.clone(),
                        first: first.params.name.clone(),
                        second: params.name.clone(),
                    });
                }
                if let Some(slot) = group_of.get_mut(idx) {
                    *slot = Some(g);
                }
                if let Some(inst) = instances.get_mut(idx) {
                    inst.set_sync(true, true);
                }
                members.push(idx);
            }
            built.push(SyncGroup {
                params,
                members,
                state: State::Init,
            });
        }
        Ok(Router {
            instances,
            groups: built,
            group_of,
            scratch: Vec::new(),
            touched: Vec::new(),
        })
    }

    /// For each of `instances` (a new configuration), the index of the running instance it
    /// continues, matched by (VRID, family, interface, unicast) like keepalived's
    /// `vrrp_exist()`: the name is not part of the key, so a renamed instance keeps its
    /// state. Each running instance continues at most one new one (the first).
    pub fn reload_matches(&self, instances: &[InstanceParams]) -> Vec<Option<usize>> {
        // Fx, not SipHash: the keys come from the operator's configuration, not from the network,
        // and a reload hashes thousands of them.
        let mut by_key: FxHashMap<ReloadKey, usize> = FxHashMap::default();
        by_key.reserve(self.instances.len());
        for (i, inst) in self.instances.iter().enumerate() {
            by_key.entry(reload_key(inst.params())).or_insert(i);
        }
        instances
            .iter()
            .map(|p| by_key.remove(&reload_key(p)))
            .collect()
    }

    /// SIGHUP: replaces the configuration. Instances are matched by
    /// [`Router::reload_matches`]; a matched instance keeps its state and counters and gets
    /// the new parameters (a MASTER sends one advert with them first, then changes only the
    /// VIPs that differ), a new one starts, a vanished one is removed (a MASTER sends
    /// priority 0 and removes its VIPs). An address that some MASTER still holds after the
    /// reload is never removed, so a VIP moving between instances stays up. Group states
    /// carry over without group notifies.
    pub fn reload(
        &mut self,
        now: Time,
        instances: Vec<InstanceParams>,
        groups: Vec<SyncGroupParams>,
    ) -> Result<ReloadOutcome, RouterError> {
        let matches = self.reload_matches(&instances);
        self.reload_matched(now, instances, groups, &matches)
    }

    /// [`Router::reload`] with the matches the caller already took from
    /// [`Router::reload_matches`] for these `instances` (a shell needs them too, and they
    /// hash every instance's key).
    pub fn reload_matched(
        &mut self,
        now: Time,
        instances: Vec<InstanceParams>,
        groups: Vec<SyncGroupParams>,
        matches: &[Option<usize>],
    ) -> Result<ReloadOutcome, RouterError> {
        let mut next = Router::new(instances, groups)?;
        let mut old: Vec<Option<Instance>> = std::mem::take(&mut self.instances)
            .into_iter()
            .map(Some)
            .collect();
        let mut outcome = ReloadOutcome::default();
        let mut fresh = Vec::new();
        for (j, slot) in next.instances.iter_mut().enumerate() {
            let kept = matches
                .get(j)
                .copied()
                .flatten()
                .and_then(|i| old.get_mut(i))
                .and_then(Option::take);
            match kept {
                Some(mut inst) => {
                    let in_group = next.group_of.get(j).copied().flatten().is_some();
                    inst.set_sync(in_group, true);
                    // The running instance takes the place of the one built for it, and
                    // that one's parameters.
                    let params = std::mem::replace(slot, inst).into_params();
                    let actions = slot.handle(now, Input::Reload(Box::new(params)));
                    outcome
                        .actions
                        .extend(actions.into_iter().map(|action| Routed {
                            source: Source::Instance(j),
                            action,
                        }));
                }
                None => fresh.push(j),
            }
        }
        for mut inst in old.into_iter().flatten() {
            let mut actions = Vec::new();
            inst.remove(now, &mut actions);
            outcome.removed.push((inst.name().to_string(), actions));
        }
        for g in 0..next.groups.len() {
            let derived = next.derived_state(g);
            if let Some(grp) = next.groups.get_mut(g) {
                grp.state = derived;
            }
        }
        for j in fresh {
            next.dispatch(now, j, Input::Start, &mut outcome.actions);
        }
        *self = next;
        self.keep_held_addresses(&mut outcome);
        Ok(outcome)
    }

    /// Drops from the reload's removals every address a MASTER holds after the reload.
    fn keep_held_addresses(&self, outcome: &mut ReloadOutcome) {
        let held: FxHashSet<IpAddr> = self
            .instances
            .iter()
            .filter(|i| i.state() == State::Master)
            .flat_map(|i| i.params().vips.iter().chain(&i.params().excluded_vips))
            .copied()
            .collect();
        if held.is_empty() {
            return;
        }
        let keep = |action: &mut Action| {
            if let Action::RemoveVips { vips, excluded, .. } = action {
                vips.retain(|a| !held.contains(a));
                excluded.retain(|a| !held.contains(a));
            }
        };
        for r in &mut outcome.actions {
            keep(&mut r.action);
        }
        for (_, actions) in &mut outcome.removed {
            actions.iter_mut().for_each(keep);
        }
        let empty = |a: &Action| {
            matches!(a, Action::RemoveVips { vips, excluded, routes_and_rules: false }
                if vips.is_empty() && excluded.is_empty())
        };
        outcome.actions.retain(|r| !empty(&r.action));
        for (_, actions) in &mut outcome.removed {
            actions.retain(|a| !empty(a));
        }
    }

    /// The instances.
    pub fn instances(&self) -> &[Instance] {
        &self.instances
    }

    /// The instances, mutable (for the shell to charge receive-error counters).
    pub fn instances_mut(&mut self) -> &mut [Instance] {
        &mut self.instances
    }

    /// The sync groups.
    pub fn groups(&self) -> &[SyncGroup] {
        &self.groups
    }

    /// Index of the instance named `name`.
    pub fn find(&self, name: &str) -> Option<usize> {
        self.instances.iter().position(|i| i.name() == name)
    }

    /// The earliest timer of any instance, with that instance's index.
    pub fn next_timer(&self) -> Option<(usize, Deadline)> {
        self.instances
            .iter()
            .enumerate()
            .filter_map(|(i, inst)| inst.next_timer().map(|d| (i, d)))
            .min_by_key(|(i, d)| (d.at, *i))
    }

    /// When [`Router::next_timer`] is due.
    pub fn next_deadline(&self) -> Option<Time> {
        self.next_timer().map(|(_, d)| d.at)
    }

    /// Handles one input and returns the actions in order.
    pub fn handle(&mut self, now: Time, target: Target, input: Input) -> Vec<Routed> {
        let mut out = Vec::new();
        self.handle_into(now, target, input, &mut out);
        out
    }

    /// Like [`Router::handle`], appending to `out`.
    pub fn handle_into(&mut self, now: Time, target: Target, input: Input, out: &mut Vec<Routed>) {
        self.touched.clear();
        match target {
            Target::Instance(idx) => self.dispatch(now, idx, input, out),
            Target::All => {
                for idx in 0..self.instances.len() {
                    let concerned = match (&input, self.instances.get(idx)) {
                        (Input::Advert { advert, source }, Some(inst)) => {
                            concerns(inst, advert, *source)
                        }
                        (_, Some(_)) => true,
                        (_, None) => false,
                    };
                    if concerned {
                        self.dispatch(now, idx, input.clone(), out);
                    }
                }
            }
        }
    }

    /// The instances the last [`Router::handle`] call reached (directly or through their sync
    /// group): only their timers can have changed, so a shell keeping a timer heap refreshes
    /// just these from [`Instance::next_timer`].
    pub fn touched(&self) -> &[usize] {
        &self.touched
    }

    fn dispatch(&mut self, now: Time, idx: usize, input: Input, out: &mut Vec<Routed>) {
        let group = self.group_of.get(idx).copied().flatten();
        self.touched.push(idx);
        if let Some(grp) = group.and_then(|g| self.groups.get(g)) {
            self.touched
                .extend(grp.members.iter().filter(|&&m| m != idx));
        }
        let before = group.map(|g| self.member_states(g)).unwrap_or_default();
        if let Some(g) = group {
            let permit = self.others_want_master(g, idx);
            if let Some(inst) = self.instances.get_mut(idx) {
                inst.set_sync(true, permit);
            }
        }
        let mut scratch = std::mem::take(&mut self.scratch);
        if let Some(inst) = self.instances.get_mut(idx) {
            inst.handle_into(now, input, &mut scratch);
        }
        out.extend(scratch.drain(..).map(|action| Routed {
            source: Source::Instance(idx),
            action,
        }));
        let heard_lower = self
            .instances
            .get_mut(idx)
            .is_some_and(Instance::take_heard_lower);
        if let (true, Some(g)) = (heard_lower, group) {
            let members = self
                .groups
                .get(g)
                .map(|grp| grp.members.clone())
                .unwrap_or_default();
            for m in members.into_iter().filter(|&m| m != idx) {
                if let Some(inst) = self.instances.get_mut(m) {
                    inst.lower_prio_garp(now, &mut scratch);
                }
                out.extend(scratch.drain(..).map(|action| Routed {
                    source: Source::Instance(m),
                    action,
                }));
            }
        }
        self.scratch = scratch;
        if let Some(g) = group {
            self.reconcile(now, g, &before, out);
        }
    }

    fn member_states(&self, g: usize) -> Vec<(usize, State)> {
        self.groups
            .get(g)
            .map(|grp| {
                grp.members
                    .iter()
                    .filter_map(|&m| self.instances.get(m).map(|i| (m, i.state())))
                    .collect()
            })
            .unwrap_or_default()
    }

    fn others_want_master(&self, g: usize, idx: usize) -> bool {
        self.groups.get(g).is_none_or(|grp| {
            grp.state == State::Master
                || grp
                    .members
                    .iter()
                    .filter(|&&m| m != idx)
                    .all(|&m| self.instances.get(m).is_some_and(Instance::wants_master))
        })
    }

    /// Applies the group rules after a member changed, then reports a group state change.
    fn reconcile(&mut self, now: Time, g: usize, before: &[(usize, State)], out: &mut Vec<Routed>) {
        let members = self
            .groups
            .get(g)
            .map(|grp| grp.members.clone())
            .unwrap_or_default();
        let mut scratch = std::mem::take(&mut self.scratch);
        // Faults first: any member's own fault holds the whole group.
        let group_fault = members
            .iter()
            .any(|&m| self.instances.get(m).is_some_and(|i| i.faults().own()));
        for &m in &members {
            if let Some(inst) = self.instances.get_mut(m) {
                inst.set_group_fault(now, group_fault, &mut scratch);
            }
            out.extend(scratch.drain(..).map(|action| Routed {
                source: Source::Instance(m),
                action,
            }));
        }
        let was = |m: usize| before.iter().find(|(i, _)| *i == m).map(|(_, s)| *s);
        let now_state = |r: &Router, m: usize| r.instances.get(m).map(Instance::state);
        let dropped = members
            .iter()
            .any(|&m| was(m) == Some(State::Master) && now_state(self, m) == Some(State::Backup));
        let rose = members
            .iter()
            .any(|&m| was(m) != Some(State::Master) && now_state(self, m) == Some(State::Master));
        for &m in &members {
            if let Some(inst) = self.instances.get_mut(m) {
                if dropped {
                    inst.force_backup(now, &mut scratch);
                } else if rose {
                    inst.force_master(now, &mut scratch);
                }
            }
            out.extend(scratch.drain(..).map(|action| Routed {
                source: Source::Instance(m),
                action,
            }));
        }
        self.scratch = scratch;
        self.report_group(g, out);
    }

    fn derived_state(&self, g: usize) -> State {
        let states: Vec<State> = self
            .groups
            .get(g)
            .map(|grp| {
                grp.members
                    .iter()
                    .filter_map(|&m| self.instances.get(m).map(Instance::state))
                    .collect()
            })
            .unwrap_or_default();
        if states.contains(&State::Init) {
            State::Init
        } else if states.iter().all(|s| *s == State::Stop) {
            State::Stop
        } else if states.contains(&State::Fault) {
            State::Fault
        } else if states.iter().all(|s| *s == State::Master) {
            State::Master
        } else {
            State::Backup
        }
    }

    fn report_group(&mut self, g: usize, out: &mut Vec<Routed>) {
        let derived = self.derived_state(g);
        let Some(grp) = self.groups.get_mut(g) else {
            return;
        };
        if derived == grp.state || derived == State::Init {
            return;
        }
        grp.state = derived;
        let name = grp.params.name.clone();
        let n = &grp.params.notify;
        let mut push = |action| {
            out.push(Routed {
                source: Source::Group(g),
                action,
            })
        };
        push(Action::Log {
            level: crate::instance::LogLevel::Info,
            text: format!("VRRP_Group({name}) Syncing instances to {derived} state"),
        });
        let specific = match derived {
            State::Master => n.master.then_some(NotifyScript::Master),
            State::Backup => n.backup.then_some(NotifyScript::Backup),
            State::Fault => n.fault.then_some(NotifyScript::Fault),
            State::Stop => n.stop.then_some(NotifyScript::Stop),
            State::Init => None,
        };
        if let Some(script) = specific {
            push(Action::RunNotify {
                script,
                args: Vec::new(),
            });
        }
        if n.generic {
            push(Action::RunNotify {
                script: NotifyScript::Generic,
                args: generic_notify_args("GROUP", &name, derived, 0),
            });
        }
        if n.fifo {
            push(Action::FifoWrite(fifo_line(
                "GROUP",
                &name,
                derived.as_str(),
                0,
            )));
        }
    }
}

/// True when an advert from `source` belongs to `inst` (same VRID, version and family).
fn concerns(inst: &Instance, advert: &AdvertHeader, source: IpAddr) -> bool {
    let p = inst.params();
    p.vrid == advert.vrid
        && p.version == advert.version
        && p.primary_addr.is_ipv4() == source.is_ipv4()
}
