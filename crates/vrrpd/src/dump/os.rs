//! Gathers the [`OsFacts`] a dump prints: links and addresses (a netlink dump), socket
//! descriptors, script users, host name and umask. The only part of the dump that reads the
//! system; called on demand (a signal), never on the hot path.

use super::OsFacts;
use crate::net::Sockets;
use crate::params::Plan;
use crate::system::Snapshot;
use keepalived_config::model::{Script, ScriptUser};
use keepalived_config::Config;
use keepalived_sys::netlink::Rtnl;
use nix::unistd::{Gid, Group, Uid, User};

/// keepalived's default script user when `script_user` is not set.
const DEFAULT_SCRIPT_USER: &str = "keepalived_script";

/// Collects the facts for `config`; a failed netlink dump leaves the interfaces out.
pub fn gather(config: &Config, plan: &Plan, rtnl: &mut Rtnl, sockets: &Sockets) -> OsFacts {
    let snapshot = Snapshot::take(rtnl).unwrap_or_else(|e| {
        log::warn!("dump: netlink dump failed, interfaces left out: {e}");
        Snapshot::default()
    });
    let mut socket_fds = Vec::new();
    for shell in &plan.shells {
        if let Some(fd) = sockets.raw_fd(&shell.socket) {
            if !socket_fds.iter().any(|(k, _)| k == &shell.socket) {
                socket_fds.push((shell.socket, fd));
            }
        }
    }
    let users: Vec<(ScriptUser, (u32, u32))> = script_users(config)
        .into_iter()
        .filter_map(|u| resolve(&u).map(|ids| (u, ids)))
        .collect();
    let default_script_ids = match &config.global.script_user {
        Some(u) => resolve(u),
        None => lookup_user(DEFAULT_SCRIPT_USER)
            .map(|u| (u.uid.as_raw(), u.gid.as_raw()))
            .or(Some((0, 0))),
    };
    OsFacts {
        hostname: nix::unistd::gethostname()
            .map(|h| h.to_string_lossy().into_owned())
            .unwrap_or_default(),
        user_name: User::from_uid(Uid::current())
            .ok()
            .flatten()
            .map_or_else(|| "root".to_string(), |u| u.name),
        umask: read_umask().unwrap_or(0o177),
        default_script_ids,
        users,
        links: snapshot.links,
        addrs: snapshot.addrs,
        socket_fds,
    }
}

/// The umask from `/proc/self/status` (reading it with umask(2) would change it).
fn read_umask() -> Option<u32> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("Umask:"))?;
    u32::from_str_radix(line.trim_start_matches("Umask:").trim(), 8).ok()
}

fn lookup_user(name: &str) -> Option<User> {
    match name.parse::<u32>() {
        Ok(uid) => User::from_uid(Uid::from_raw(uid)).ok().flatten(),
        Err(_) => User::from_name(name).ok().flatten(),
    }
}

/// uid:gid of `USER [GROUP]`; a numeric user that is not in the passwd database keeps its
/// number (group: the same number unless given).
fn resolve(u: &ScriptUser) -> Option<(u32, u32)> {
    let (uid, primary_gid) = match lookup_user(&u.user) {
        Some(user) => (user.uid.as_raw(), user.gid.as_raw()),
        None => {
            let n = u.user.parse::<u32>().ok()?;
            (n, n)
        }
    };
    let gid = match &u.group {
        None => primary_gid,
        Some(g) => match g.parse::<u32>() {
            Ok(n) => n,
            Err(_) => Group::from_name(g)
                .ok()
                .flatten()
                .map(|grp| grp.gid)
                .unwrap_or(Gid::from_raw(primary_gid))
                .as_raw(),
        },
    };
    Some((uid, gid))
}

/// Every script user the configuration names.
fn script_users(config: &Config) -> Vec<ScriptUser> {
    let mut out: Vec<ScriptUser> = Vec::new();
    let mut add = |u: Option<&ScriptUser>| {
        if let Some(u) = u {
            if !out.contains(u) {
                out.push(u.clone());
            }
        }
    };
    let g = &config.global;
    add(g.script_user.as_ref());
    let script_user = |s: &Option<Script>| s.as_ref().and_then(|s| s.user.clone());
    for fifo in [&g.notify_fifo, &g.vrrp_notify_fifo, &g.lvs_notify_fifo] {
        add(fifo.user.as_ref());
        add(script_user(&fifo.script).as_ref());
    }
    add(script_user(&g.startup_script).as_ref());
    add(script_user(&g.shutdown_script).as_ref());
    for s in &config.vrrp_scripts {
        add(s.user.as_ref());
    }
    for i in &config.vrrp_instances {
        for (_, s) in i.notify.scripts() {
            add(s.user.as_ref());
        }
    }
    for grp in &config.sync_groups {
        for (_, s) in grp.notify.scripts() {
            add(s.user.as_ref());
        }
    }
    out
}
