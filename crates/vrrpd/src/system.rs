//! The real [`Os`]: rtnetlink for addresses (`keepalived_sys::netlink::Rtnl`), the VRRP
//! sockets of [`Sockets`], packet sockets for GARP/NA, notify scripts, the notify FIFO and
//! the state reports for the parent.
//!
//! Notify scripts are started with `keepalived_sys::process::spawn_script`: exec'd directly
//! (no shell), in their own process group, signal mask and dispositions reset,
//! stdin/stdout/stderr on /dev/null, as the configured user. They are never waited for:
//! children are reaped on SIGCHLD and on every one-second tick.

use crate::exec::{NetChange, Os};
use crate::net::Sockets;
use crate::params::{InterfaceInfo, InterfaceLookup, NotifyCommand, SocketKey, VRoute, VipSpec};
use keepalived_ipc::{InstanceStatus, UnixMicros, VrrpState};
use keepalived_sys::netlink::{Addr, AddrSpec, Change, Link, RouteSpec, Rtnl};
use keepalived_sys::process::{self, Pid};
use keepalived_sys::PacketSocket;
use keepalived_vrrp::instance::State;
use std::collections::HashMap;
use std::collections::HashSet;
use std::fs::File;
use std::io::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::OpenOptionsExt;
use std::time::SystemTime;

/// `IFA_F_SECONDARY`.
pub(crate) const IFA_F_SECONDARY: u32 = 0x01;

/// Whether `addr` is an IPv6 link-local address (fe80::/10).
pub(crate) fn is_link_local_v6(addr: IpAddr) -> bool {
    matches!(addr, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
}

/// Links and addresses as dumped from the kernel: the [`InterfaceLookup`] of the daemon.
///
/// Indexed once when built, so that planning 1,000 instances does not scan every address
/// (their VIPs included) for each of them.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Every link.
    pub links: Vec<Link>,
    /// Every address.
    pub addrs: Vec<Addr>,
    /// What [`InterfaceLookup::interface`] answers, by interface name.
    interfaces: HashMap<String, InterfaceInfo>,
    /// Every (ifindex, address) pair, for [`Snapshot::has_addr`].
    present: HashSet<(u32, IpAddr)>,
}

impl Snapshot {
    /// Dumps links and addresses.
    pub fn take(rtnl: &mut Rtnl) -> Result<Self, String> {
        let links = rtnl.links().map_err(|e| e.to_string())?;
        let addrs = rtnl.addrs().map_err(|e| e.to_string())?;
        Ok(Snapshot::new(links, addrs))
    }

    /// A snapshot of these links and addresses (in the kernel's order: the first address
    /// listed for a link is its primary one).
    pub fn new(links: Vec<Link>, addrs: Vec<Addr>) -> Self {
        #[derive(Default)]
        struct Sources {
            primary_v4: Option<Ipv4Addr>,
            link_local_v6: Option<Ipv6Addr>,
        }
        let mut by_index: HashMap<u32, Sources> = HashMap::new();
        let mut present = HashSet::with_capacity(addrs.len());
        for a in &addrs {
            present.insert((a.ifindex, a.addr));
            let sources = by_index.entry(a.ifindex).or_default();
            match a.addr {
                IpAddr::V4(v4) if a.flags & IFA_F_SECONDARY == 0 => {
                    sources.primary_v4.get_or_insert(v4);
                }
                IpAddr::V6(v6) if is_link_local_v6(a.addr) => {
                    sources.link_local_v6.get_or_insert(v6);
                }
                _ => {}
            }
        }
        let mut interfaces = HashMap::with_capacity(links.len());
        for link in &links {
            let sources = by_index.get(&link.index);
            // Two links of one name cannot coexist in a namespace; keep the first as before.
            interfaces
                .entry(link.name.clone())
                .or_insert_with(|| InterfaceInfo {
                    index: link.index,
                    primary_v4: sources.and_then(|s| s.primary_v4),
                    link_local_v6: sources.and_then(|s| s.link_local_v6),
                    mac: link.mac,
                    up: link.up && link.running,
                });
        }
        Snapshot {
            links,
            addrs,
            interfaces,
            present,
        }
    }

    /// Whether `addr` is configured on `ifindex`.
    pub fn has_addr(&self, ifindex: u32, addr: IpAddr) -> bool {
        self.present.contains(&(ifindex, addr))
    }
}

impl InterfaceLookup for Snapshot {
    fn interface(&self, name: &str) -> Option<InterfaceInfo> {
        self.interfaces.get(name).cloned()
    }
}

/// The operating system as the executor sees it.
#[derive(Debug)]
pub struct System {
    /// The request socket for address changes and dumps.
    pub rtnl: Rtnl,
    /// The VRRP sockets.
    pub sockets: Sockets,
    packet: HashMap<u32, PacketSocket>,
    macs: HashMap<u32, [u8; 6]>,
    children: HashSet<Pid>,
    fifo_path: Option<String>,
    fifo: Option<File>,
    /// State changes not yet sent to the parent.
    pub reports: Vec<InstanceStatus>,
}

impl System {
    /// Opens the request socket.
    pub fn new() -> Result<Self, String> {
        Ok(System {
            rtnl: Rtnl::new().map_err(|e| e.to_string())?,
            sockets: Sockets::default(),
            packet: HashMap::new(),
            macs: HashMap::new(),
            children: HashSet::new(),
            fifo_path: None,
            fifo: None,
            reports: Vec::new(),
        })
    }

    /// Remembers the interfaces' MACs (GARP source addresses).
    pub fn set_links(&mut self, links: &[Link]) {
        self.macs = links
            .iter()
            .filter_map(|l| l.mac.map(|m| (l.index, m)))
            .collect();
    }

    /// Uses `path` as the notify FIFO (created if missing, as keepalived does).
    pub fn set_fifo(&mut self, path: Option<String>) {
        if self.fifo_path == path {
            return;
        }
        self.fifo = None;
        self.fifo_path = path.clone();
        let Some(path) = path else { return };
        if !std::path::Path::new(&path).exists() {
            if let Err(e) = nix::unistd::mkfifo(
                path.as_str(),
                nix::sys::stat::Mode::S_IRUSR | nix::sys::stat::Mode::S_IWUSR,
            ) {
                log::warn!("cannot create notify FIFO {path}: {e}");
            }
        }
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .custom_flags(libc_flags())
            .open(&path)
        {
            Ok(f) => self.fifo = Some(f),
            Err(e) => log::warn!("cannot open notify FIFO {path}: {e}"),
        }
    }

    /// Reaps finished scripts; returns how many are still running.
    pub fn reap(&mut self) -> usize {
        for (pid, how) in process::reap() {
            if self.children.remove(&pid) {
                log::debug!("script {pid} ended: {how:?}");
            }
        }
        self.children.len()
    }

    /// Kills the process groups of the scripts still running (shutdown, after `notify_stop`
    /// had its second, as keepalived allows it).
    pub fn kill_scripts(&mut self) {
        for pid in &self.children {
            let _ = process::kill_group(*pid, nix::sys::signal::Signal::SIGKILL);
        }
        self.reap();
    }
}

fn libc_flags() -> i32 {
    (nix::fcntl::OFlag::O_NONBLOCK | nix::fcntl::OFlag::O_NOFOLLOW).bits()
}

/// The rtnetlink form of a VIP.
pub fn to_spec(s: &VipSpec) -> AddrSpec {
    AddrSpec {
        ifindex: s.ifindex,
        addr: s.addr,
        prefix_len: s.prefix_len,
        broadcast: s.broadcast,
        scope: s.scope,
        label: s.label.clone(),
        nodad: s.nodad,
    }
}

fn to_route(r: &VRoute) -> RouteSpec {
    let mut spec = RouteSpec::new(r.dst, r.prefix_len);
    spec.gateway = r.gateway;
    spec.dev = r.dev;
    spec.table = r.table;
    spec.metric = r.metric;
    spec.scope = r.scope;
    spec.src = r.src;
    spec.route_type = r.route_type;
    spec
}

fn ipc_state(s: State) -> VrrpState {
    match s {
        State::Init => VrrpState::Init,
        State::Backup => VrrpState::Backup,
        State::Master => VrrpState::Master,
        State::Fault => VrrpState::Fault,
        State::Stop => VrrpState::Stop,
    }
}

fn resolve_user(user: &keepalived_config::model::ScriptUser) -> Result<(u32, u32), String> {
    use nix::unistd::{Group, User};
    let u = match user.user.parse::<u32>() {
        Ok(uid) => User::from_uid(uid.into()),
        Err(_) => User::from_name(&user.user),
    }
    .map_err(|e| e.to_string())?
    .ok_or_else(|| format!("unknown user {}", user.user))?;
    let gid = match &user.group {
        Some(g) => match g.parse::<u32>() {
            Ok(gid) => gid,
            Err(_) => Group::from_name(g)
                .map_err(|e| e.to_string())?
                .ok_or_else(|| format!("unknown group {g}"))?
                .gid
                .as_raw(),
        },
        None => u.gid.as_raw(),
    };
    Ok((u.uid.as_raw(), gid))
}

impl Os for System {
    /// Queued: the loop sends the adverts of a wake-up with one `sendmmsg` per socket.
    /// Every other action below sends them first, so nothing overtakes an advert.
    fn send_advert(&mut self, key: &SocketKey, packet: &[u8], dst: IpAddr) -> Result<(), String> {
        self.sockets.queue(key, packet, dst)
    }

    fn apply(&mut self, changes: &[NetChange<'_>]) -> Vec<Result<bool, String>> {
        self.sockets.flush();
        let changes: Vec<Change> = changes
            .iter()
            .map(|c| match *c {
                NetChange::AddAddr(s) => Change::AddAddr(to_spec(s)),
                NetChange::DelAddr(s) => Change::DelAddr(to_spec(s)),
                NetChange::AddRoute(r) => Change::AddRoute(to_route(r)),
                NetChange::DelRoute(r) => Change::DelRoute(to_route(r)),
                NetChange::AddRule(r) => Change::AddRule(r.clone()),
                NetChange::DelRule(r) => Change::DelRule(r.clone()),
            })
            .collect();
        self.rtnl
            .apply(&changes)
            .into_iter()
            .map(|r| r.map_err(|e| e.to_string()))
            .collect()
    }

    fn send_frame(&mut self, ifindex: u32, frame: &[u8]) -> Result<(), String> {
        self.sockets.flush();
        let sock = match self.packet.entry(ifindex) {
            std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(PacketSocket::open(ifindex).map_err(|e| e.to_string())?)
            }
        };
        sock.send(frame).map_err(|e| e.to_string())
    }

    fn mac(&mut self, ifindex: u32) -> Option<[u8; 6]> {
        self.macs.get(&ifindex).copied()
    }

    fn run_script(&mut self, cmd: &NotifyCommand, extra_args: &[String]) -> Result<(), String> {
        self.sockets.flush();
        let mut argv = cmd.argv.clone();
        argv.extend_from_slice(extra_args);
        let (uid, gid) = match &cmd.user {
            Some(user) => {
                let (u, g) = resolve_user(user)?;
                (Some(u), Some(g))
            }
            None => (None, None),
        };
        let pid = process::spawn_script(&argv, &[], uid, gid).map_err(|e| e.to_string())?;
        self.children.insert(pid);
        Ok(())
    }

    fn fifo_write(&mut self, line: &str) {
        self.sockets.flush();
        if let Some(f) = self.fifo.as_mut() {
            // keepalived ignores EAGAIN: a slow reader loses lines.
            let _ = f.write(line.as_bytes());
        }
    }

    fn report_state(&mut self, name: &str, state: State, priority: u8) {
        let since = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_micros()).unwrap_or(u64::MAX));
        self.reports.push(InstanceStatus {
            name: name.to_string(),
            state: ipc_state(state),
            priority,
            since: UnixMicros(since),
        });
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn link(index: u32, name: &str) -> Link {
        Link {
            index,
            name: name.into(),
            up: true,
            running: index != 3,
            mac: Some([2, 0, 0, 0, 0, index as u8]),
            mtu: 1500,
        }
    }

    /// An address as a dump lists it (a /24, no label).
    pub(crate) fn addr(ifindex: u32, a: &str, flags: u32) -> Addr {
        Addr {
            ifindex,
            addr: a.parse().unwrap(),
            prefix_len: 24,
            label: None,
            scope: 0,
            flags,
        }
    }

    #[test]
    fn interfaces_take_the_first_primary_and_link_local_address() {
        let snap = Snapshot::new(
            vec![link(2, "eth0"), link(3, "eth1"), link(4, "eth2")],
            vec![
                addr(2, "fd00::1", 0),
                addr(2, "192.0.2.9", IFA_F_SECONDARY),
                addr(2, "192.0.2.1", 0),
                addr(2, "fe80::1", 0),
                addr(2, "192.0.2.2", 0),
                addr(2, "fe80::2", 0),
                addr(3, "198.51.100.1", 0),
            ],
        );
        let eth0 = snap.interface("eth0").unwrap();
        assert_eq!(eth0.index, 2);
        assert_eq!(eth0.primary_v4, Some("192.0.2.1".parse().unwrap()));
        assert_eq!(eth0.link_local_v6, Some("fe80::1".parse().unwrap()));
        assert_eq!(eth0.mac, Some([2, 0, 0, 0, 0, 2]));
        assert!(eth0.up);
        let eth1 = snap.interface("eth1").unwrap();
        assert_eq!(eth1.primary_v4, Some("198.51.100.1".parse().unwrap()));
        assert!(!eth1.up, "no carrier");
        let eth2 = snap.interface("eth2").unwrap();
        assert_eq!((eth2.primary_v4, eth2.link_local_v6), (None, None));
        assert!(snap.interface("eth9").is_none());
        assert!(snap.has_addr(2, "192.0.2.9".parse().unwrap()));
        assert!(!snap.has_addr(3, "192.0.2.9".parse().unwrap()));
        assert!(Snapshot::default().interface("eth0").is_none());
    }
}
