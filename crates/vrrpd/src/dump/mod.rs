//! keepalived's dump files from the VRRP child, formatted as keepalived 2.2.7 writes them:
//! * [`data`]: `/tmp/keepalived.data` (SIGUSR1): global definitions, statics, topology,
//!   socket pool, sync groups, scripts, track files, interfaces;
//! * [`stats`]: `/tmp/keepalived.stats` (SIGUSR2, and STATS_CLEAR before zeroing);
//! * [`json`]: `/tmp/keepalived.json` (SIGRTMIN+2, `json_version 1`).
//!
//! PURE: everything comes in through [`DumpInput`]: the configuration, the plan, the core's
//! router, the clock and the [`OsFacts`] the shell gathered ([`os::gather`]), so the output
//! is testable without a network. Settings keepalived-rs does not model print keepalived's
//! defaults, so the lines, their order and indentation are those of a stock keepalived.

pub mod format;
mod global;
mod interfaces;
mod json;
pub mod os;
mod topology;
mod trackers;

use crate::params::{InstanceShell, Plan, SocketKey};
use keepalived_config::model::{ScriptUser, VrrpInstance};
use keepalived_config::Config;
use keepalived_sys::netlink::{Addr, Link};
use keepalived_vrrp::instance::Instance;
use keepalived_vrrp::sync_group::Router;
use keepalived_vrrp::timer::Time;
use std::time::SystemTime;

pub use json::state_number;
pub use topology::state_str;

/// Maps the core's monotonic [`Time`] onto the wall clock.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// The core's time now.
    pub now: Time,
    /// The wall clock at the same moment.
    pub wall_now: SystemTime,
}

impl Clock {
    /// The wall-clock time of core time `t`.
    pub fn wall(&self, t: Time) -> SystemTime {
        if t <= self.now {
            self.wall_now
                .checked_sub(self.now - t)
                .unwrap_or(SystemTime::UNIX_EPOCH)
        } else {
            self.wall_now
                .checked_add(t - self.now)
                .unwrap_or(self.wall_now)
        }
    }
}

/// What the dump needs to know about the running system.
#[derive(Debug, Clone, Default)]
pub struct OsFacts {
    /// The host name (keepalived's default router id).
    pub hostname: String,
    /// The name of the user the daemon runs as (default `notification_email_from`).
    pub user_name: String,
    /// The process umask.
    pub umask: u32,
    /// The default script user's uid:gid (`script_user`, else `keepalived_script`, else root).
    pub default_script_ids: Option<(u32, u32)>,
    /// Every configured script user with its uid:gid.
    pub users: Vec<(ScriptUser, (u32, u32))>,
    /// The links of the namespace.
    pub links: Vec<Link>,
    /// The addresses of the namespace.
    pub addrs: Vec<Addr>,
    /// The descriptor of each open VRRP socket.
    pub socket_fds: Vec<(SocketKey, i32)>,
}

impl OsFacts {
    /// The uid:gid of `user`, if it was resolved.
    pub fn resolve(&self, user: &ScriptUser) -> Option<(u32, u32)> {
        self.users
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, ids)| *ids)
    }

    /// The uid:gid a script of `user` runs as: the user's, else the default script user's,
    /// else root's.
    pub fn ids_of(&self, user: Option<&ScriptUser>) -> (u32, u32) {
        user.and_then(|u| self.resolve(u))
            .or(self.default_script_ids)
            .unwrap_or((0, 0))
    }

    /// The descriptor of the socket `key`.
    pub fn fd_of(&self, key: &SocketKey) -> Option<i32> {
        self.socket_fds
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, fd)| *fd)
    }

    /// Whether link `name` is up.
    pub fn link_up(&self, name: &str) -> bool {
        self.links
            .iter()
            .any(|l| l.name == name && l.up && l.running)
    }
}

/// Everything a dump is made from.
#[derive(Debug, Clone, Copy)]
pub struct DumpInput<'a> {
    /// The running configuration.
    pub config: &'a Config,
    /// The plan derived from it.
    pub plan: &'a Plan,
    /// The core's instances and groups.
    pub router: &'a Router,
    /// Now, on both clocks.
    pub clock: Clock,
    /// Facts about the system.
    pub os: &'a OsFacts,
}

/// One instance with what the dump needs next to the core's state.
#[derive(Debug, Clone, Copy)]
pub struct InstanceView<'a> {
    /// The core's instance.
    pub inst: &'a Instance,
    /// Its configuration block.
    pub cfg: Option<&'a VrrpInstance>,
    /// The shell's view of it.
    pub shell: Option<&'a InstanceShell>,
    /// Its sync group's name.
    pub group: Option<&'a str>,
}

impl<'a> DumpInput<'a> {
    /// The instances in the core's order, joined with their configuration and shell.
    pub fn instances(&self) -> Vec<InstanceView<'a>> {
        let router = self.router;
        let config = self.config;
        let plan = self.plan;
        router
            .instances()
            .iter()
            .enumerate()
            .map(|(i, inst)| InstanceView {
                inst,
                cfg: config.vrrp_instances.iter().find(|c| c.name == inst.name()),
                shell: plan.shells.iter().find(|s| s.name == inst.name()),
                group: router
                    .groups()
                    .iter()
                    .find(|g| g.members().contains(&i))
                    .map(|g| g.name()),
            })
            .collect()
    }
}

/// `/tmp/keepalived.data`.
pub fn data(input: &DumpInput<'_>) -> String {
    let mut out = format::Lines::default();
    global::write(&mut out, input);
    trackers::write_statics(&mut out, input);
    topology::write(&mut out, input);
    topology::write_sockpool(&mut out, input);
    trackers::write_sync_groups(&mut out, input);
    trackers::write_scripts(&mut out, input);
    trackers::write_track_files(&mut out, input);
    interfaces::write(&mut out, input);
    out.into_text()
}

/// `/tmp/keepalived.stats`: one block per instance.
pub fn stats(router: &Router) -> String {
    let mut text = String::new();
    for inst in router.instances() {
        inst.stats().render(inst.name(), &mut text);
    }
    text
}

/// `/tmp/keepalived.json` (`json_version 1`).
pub fn json(input: &DumpInput<'_>) -> String {
    json::render(input)
}

/// STATS_CLEAR: zeroes every instance's counters (after the file was written).
pub fn clear_stats(router: &mut Router) {
    for inst in router.instances_mut() {
        *inst.stats_mut() = Default::default();
    }
}
