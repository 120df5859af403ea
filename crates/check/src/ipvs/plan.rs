//! From one table to another with the fewest commands, in an order the kernel accepts and
//! that never leaves a service with nothing to forward to when it need not.

use super::{IpvsCommand, IpvsTable, ServiceEntry};

/// The commands that turn `current` into `wanted`.
///
/// - A new service: `AddService`, then `AddDest` for each destination.
/// - A kept service: `EditService` if its settings changed; then, among its destinations,
///   new ones are added first, changed ones (weight, method, thresholds) edited, and gone ones
///   deleted last, so a service that swaps its real servers for the sorry server (or back) is
///   never left empty in between (keepalived also adds the sorry server before removing the
///   real servers, and the real servers before removing the sorry server).
/// - A service no longer wanted (after every add and edit): `DelDest` for each destination,
///   then `DelService`, as keepalived's `clear_service_vs` does.
///
/// Nothing is sent for what is already as wanted.
pub fn plan(wanted: &IpvsTable, current: &IpvsTable) -> Vec<IpvsCommand> {
    let mut cmds = Vec::new();
    for entry in wanted.services() {
        let key = entry.service.key;
        match current.get(&key) {
            None => {
                cmds.push(IpvsCommand::AddService(entry.service.clone()));
                cmds.extend(entry.dests.values().map(|d| IpvsCommand::AddDest(key, *d)));
            }
            Some(have) => {
                if have.service != entry.service {
                    cmds.push(IpvsCommand::EditService(entry.service.clone()));
                }
                for (dkey, dest) in &entry.dests {
                    if !have.dests.contains_key(dkey) {
                        cmds.push(IpvsCommand::AddDest(key, *dest));
                    }
                }
                for (dkey, dest) in &entry.dests {
                    if have.dests.get(dkey).is_some_and(|h| h != dest) {
                        cmds.push(IpvsCommand::EditDest(key, *dest));
                    }
                }
                for dkey in have.dests.keys() {
                    if !entry.dests.contains_key(dkey) {
                        cmds.push(IpvsCommand::DelDest(key, *dkey));
                    }
                }
            }
        }
    }
    for have in current.services() {
        if wanted.get(&have.service.key).is_none() {
            remove_service(&mut cmds, have);
        }
    }
    cmds
}

/// `DelDest` for each destination, then `DelService`.
fn remove_service(cmds: &mut Vec<IpvsCommand>, entry: &ServiceEntry) {
    let key = entry.service.key;
    cmds.extend(entry.dests.keys().map(|d| IpvsCommand::DelDest(key, *d)));
    cmds.push(IpvsCommand::DelService(key));
}

/// The commands at start: `Flush` first with `lvs_flush`, then everything in `wanted`.
pub fn plan_start(wanted: &IpvsTable, lvs_flush: bool) -> Vec<IpvsCommand> {
    let mut cmds = Vec::new();
    if lvs_flush {
        cmds.push(IpvsCommand::Flush);
    }
    cmds.extend(plan(wanted, &IpvsTable::new()));
    cmds
}

/// What happens to the IPVS table when the checker stops.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopMode {
    /// `-I` / `--dont-release-ipvs`: leave everything in place.
    Keep,
    /// keepalived's default: remove each destination, then each service we added.
    Remove,
    /// `lvs_flush_on_stop VS`: remove each of our services (the kernel drops their
    /// destinations with them).
    RemoveServices,
    /// `lvs_flush_on_stop` / `lvs_flush_on_stop ALL`: flush the whole table, ours or not.
    Flush,
}

impl StopMode {
    /// The mode from `-I` and the `lvs_flush_on_stop` argument (`"VS"` or `"ALL"`, as the config
    /// model stores it; `-I` wins, as in keepalived).
    pub fn from_settings(dont_release_ipvs: bool, lvs_flush_on_stop: Option<&str>) -> Self {
        match (dont_release_ipvs, lvs_flush_on_stop) {
            (true, _) => StopMode::Keep,
            (false, None) => StopMode::Remove,
            (false, Some("VS")) => StopMode::RemoveServices,
            (false, Some(_)) => StopMode::Flush,
        }
    }
}

/// The commands at stop for the table we programmed.
pub fn plan_stop(current: &IpvsTable, mode: StopMode) -> Vec<IpvsCommand> {
    let mut cmds = Vec::new();
    match mode {
        StopMode::Keep => {}
        StopMode::Remove => {
            for entry in current.services() {
                remove_service(&mut cmds, entry);
            }
        }
        StopMode::RemoveServices => cmds.extend(
            current
                .services()
                .map(|e| IpvsCommand::DelService(e.service.key)),
        ),
        StopMode::Flush => cmds.push(IpvsCommand::Flush),
    }
    cmds
}
