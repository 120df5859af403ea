//! One virtual server's health state: its real servers, quorum and sorry server, the events
//! they cause (notifies, quorum scripts, log lines) and the IPVS table they want.
//!
//! keepalived's rules (`ipwrapper.c:perform_svr_state`, `update_quorum_state`):
//! - a real server enters the pool when all its checkers are up and leaves it when one fails;
//!   with `inhibit_on_failure` it stays in IPVS with weight 0 instead of being removed;
//! - the live weight (sum of the weights of the real servers in the pool) drives the quorum;
//! - while quorum is lost and a `sorry_server` is set, the sorry server replaces the real
//!   servers in IPVS; when quorum comes back the real servers return and the sorry server
//!   goes (weight 0 with `sorry_server_inhibit`).
//!
//! The IPVS side is declarative: [`VsState::wanted`] writes what the table should hold now and
//! the shell sends `ipvs::plan(wanted, current)`.

use crate::ipvs::{
    Dest, Family, FwdMethod, IpvsTable, Protocol, Service, ServiceKey, TunnelKind, SVC_F_ONEPACKET,
    SVC_F_SCHED1, SVC_F_SCHED2, SVC_F_SCHED3, TUN_FLAG_CSUM, TUN_FLAG_NOCSUM, TUN_FLAG_REMCSUM,
};
use crate::quorum::{Quorum, QuorumChange};
use crate::realserver::{CheckerParams, CheckerState, RsState};
use keepalived_config::model::lvs::{
    ForwardingMethod, IpFamily, LvsProtocol, PersistenceGranularity, RealServer, TunnelChecksum,
    TunnelType, VirtualServer, VirtualServerGroup, VirtualServerKey, VsgMember,
};
use std::net::IpAddr;

/// The most addresses one `virtual_server_group` range is expanded to.
pub const MAX_RANGE_ADDRESSES: u32 = 256;

/// Something that happened to a virtual server, for the shell to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VsEvent {
    /// The real server entered the pool ("Adding service … to VS …"; `notify_up`).
    RsUp(usize),
    /// The real server left the pool ("Removing service … from VS …"; `notify_down`).
    RsDown(usize),
    /// Quorum gained (`quorum_up`), with the live weight.
    QuorumGained(u64),
    /// Quorum lost (`quorum_down`), with the live weight.
    QuorumLost(u64),
    /// The sorry server was put in the pool.
    SorryAdded,
    /// The sorry server was taken out of the pool.
    SorryRemoved,
}

/// keepalived's `ip:proto:port` spelling of a server (`[10.0.0.2]:tcp:80`).
pub fn format_server(ip: IpAddr, protocol: &str, port: u16) -> String {
    format!("[{ip}]:{protocol}:{port}")
}

/// The lower-case protocol name keepalived prints.
pub fn protocol_name(p: LvsProtocol) -> &'static str {
    match p {
        LvsProtocol::Tcp => "tcp",
        LvsProtocol::Udp => "udp",
        LvsProtocol::Sctp => "sctp",
    }
}

/// The state of one virtual server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VsState {
    /// keepalived's name of the virtual server (`[10.0.0.1]:tcp:80`, `FWM 5`, `[group]`).
    pub name: String,
    /// Real servers, in configuration order.
    pub rs: Vec<RsState>,
    /// keepalived's name of each real server.
    pub rs_names: Vec<String>,
    /// Quorum.
    pub quorum: Quorum,
    /// Whether the sorry server is in the pool (`None`: no sorry server).
    pub sorry_alive: Option<bool>,
}

impl VsState {
    /// The state at start: checkers up unless `alpha`, quorum from the initial live weight,
    /// the sorry server in the pool if quorum is missing.
    pub fn new(vs: &VirtualServer) -> Self {
        let proto = protocol_name(vs.effective_protocol());
        let name = match &vs.key {
            VirtualServerKey::Address { ip, port } => format_server(*ip, proto, *port),
            other => other.to_string(),
        };
        let rs: Vec<RsState> = vs
            .real_servers
            .iter()
            .map(|r| {
                let checkers = r
                    .checkers
                    .iter()
                    .map(|c| CheckerState::new(CheckerParams::resolve(c, r, vs)))
                    .collect();
                RsState::new(
                    checkers,
                    r.effective_weight(vs),
                    r.inhibit_on_failure.unwrap_or(vs.inhibit_on_failure),
                )
            })
            .collect();
        let rs_names = vs
            .real_servers
            .iter()
            .map(|r| format_server(r.ip, proto, r.effective_port(vs)))
            .collect();
        let mut state = Self {
            name,
            rs,
            rs_names,
            quorum: Quorum::new(vs.effective_quorum(), vs.hysteresis.unwrap_or(0), u64::MAX),
            sorry_alive: vs.sorry_server.as_ref().map(|_| false),
        };
        state.quorum = Quorum::new(
            vs.effective_quorum(),
            vs.hysteresis.unwrap_or(0),
            state.live_weight(),
        );
        if !state.quorum.up && state.sorry_alive.is_some() {
            state.sorry_alive = Some(true);
        }
        state
    }

    /// The summed weight of the real servers in the pool.
    pub fn live_weight(&self) -> u64 {
        self.rs
            .iter()
            .filter(|r| r.alive)
            .map(|r| u64::from(r.weight))
            .sum()
    }

    /// Re-evaluates real server `rs` after one of its checkers changed state.
    pub fn rs_update(&mut self, rs: usize) -> Vec<VsEvent> {
        let mut events = Vec::new();
        let Some(r) = self.rs.get_mut(rs) else {
            return events;
        };
        let alive = r.all_up();
        if alive == r.alive {
            return events;
        }
        r.alive = alive;
        events.push(if alive {
            VsEvent::RsUp(rs)
        } else {
            VsEvent::RsDown(rs)
        });
        self.quorum_update(&mut events);
        events
    }

    /// Sets a real server's weight (a `misc_dynamic` result); quorum follows.
    pub fn set_weight(&mut self, rs: usize, weight: u32) -> Vec<VsEvent> {
        let mut events = Vec::new();
        if let Some(r) = self.rs.get_mut(rs) {
            if r.weight != weight {
                r.weight = weight;
                self.quorum_update(&mut events);
            }
        }
        events
    }

    fn quorum_update(&mut self, events: &mut Vec<VsEvent>) {
        let weight = self.live_weight();
        match self.quorum.update(weight) {
            Some(QuorumChange::Gained) => {
                events.push(VsEvent::QuorumGained(weight));
                if self.sorry_alive == Some(true) {
                    self.sorry_alive = Some(false);
                    events.push(VsEvent::SorryRemoved);
                }
            }
            Some(QuorumChange::Lost) => {
                events.push(VsEvent::QuorumLost(weight));
                if self.sorry_alive == Some(false) {
                    self.sorry_alive = Some(true);
                    events.push(VsEvent::SorryAdded);
                }
            }
            None => {}
        }
    }

    /// The real servers whose `notify_down` runs at shutdown with `omega`: those in the pool.
    pub fn alive_servers(&self) -> impl Iterator<Item = usize> + '_ {
        self.rs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.alive)
            .map(|(i, _)| i)
    }

    /// Writes the services of `vs` and the destinations they should have now into `table`.
    pub fn wanted(&self, vs: &VirtualServer, groups: &[VirtualServerGroup], table: &mut IpvsTable) {
        let sorry_in = self.sorry_alive == Some(true);
        let mut dests = Vec::new();
        for (cfg, st) in vs.real_servers.iter().zip(&self.rs) {
            let weight = if st.alive && !sorry_in {
                Some(st.weight)
            } else if st.inhibit {
                Some(0)
            } else {
                None
            };
            if let Some(w) = weight {
                dests.push(rs_dest(cfg, vs, w));
            }
        }
        if let Some(s) = &vs.sorry_server {
            let weight = if sorry_in {
                Some(1)
            } else if s.inhibit {
                Some(0)
            } else {
                None
            };
            if let Some(w) = weight {
                let method = s.method.unwrap_or_else(|| vs.effective_method());
                let port = match (vs.key.clone(), method) {
                    (VirtualServerKey::Address { port, .. }, _) if s.port == 0 => port,
                    (VirtualServerKey::Address { port, .. }, m) if m != ForwardingMethod::Nat => {
                        port
                    }
                    _ => s.port,
                };
                dests.push(Dest::new(s.ip, port, w, fwd_method(method)));
            }
        }
        for key in service_keys(vs, groups) {
            let entry = table.insert_service(service(vs, key));
            for d in &dests {
                entry.dests.insert(d.key(), *d);
            }
        }
    }
}

fn rs_dest(rs: &RealServer, vs: &VirtualServer, weight: u32) -> Dest {
    let mut d = Dest::new(
        rs.ip,
        rs.effective_port(vs),
        weight,
        fwd_method(rs.effective_method(vs)),
    );
    d.u_thresh = rs.uthreshold.unwrap_or(0);
    d.l_thresh = rs.lthreshold.unwrap_or(0);
    d
}

/// The IPVS forwarding method of a configured `lb_kind`.
pub fn fwd_method(m: ForwardingMethod) -> FwdMethod {
    match m {
        ForwardingMethod::Nat => FwdMethod::Masq,
        ForwardingMethod::Dr => FwdMethod::Route,
        ForwardingMethod::Tun(t) => FwdMethod::Tunnel {
            kind: match t.kind {
                TunnelType::Ipip => TunnelKind::Ipip,
                TunnelType::Gue { port } => TunnelKind::Gue { port },
                TunnelType::Gre => TunnelKind::Gre,
            },
            csum: match t.checksum {
                TunnelChecksum::NoCsum => TUN_FLAG_NOCSUM,
                TunnelChecksum::Csum => TUN_FLAG_CSUM,
                TunnelChecksum::RemCsum => TUN_FLAG_REMCSUM,
            },
        },
    }
}

fn ipvs_protocol(p: LvsProtocol) -> Protocol {
    match p {
        LvsProtocol::Tcp => Protocol::Tcp,
        LvsProtocol::Udp => Protocol::Udp,
        LvsProtocol::Sctp => Protocol::Sctp,
    }
}

fn family(f: Option<IpFamily>) -> Family {
    match f {
        Some(IpFamily::Inet6) => Family::V6,
        _ => Family::V4,
    }
}

/// The IPVS services a virtual server stands for: one, or one per group entry.
pub fn service_keys(vs: &VirtualServer, groups: &[VirtualServerGroup]) -> Vec<ServiceKey> {
    let protocol = ipvs_protocol(vs.effective_protocol());
    match &vs.key {
        VirtualServerKey::Address { ip, port } => vec![ServiceKey::Addr {
            protocol,
            addr: *ip,
            port: *port,
        }],
        VirtualServerKey::Fwmark(mark) => vec![ServiceKey::Fwmark {
            family: family(vs.family()),
            mark: *mark,
        }],
        VirtualServerKey::Group(name) => {
            let mut keys = Vec::new();
            for g in groups.iter().filter(|g| &g.name == name) {
                for m in &g.members {
                    match m {
                        VsgMember::Address { ip, port } => keys.push(ServiceKey::Addr {
                            protocol,
                            addr: *ip,
                            port: port.unwrap_or(0),
                        }),
                        VsgMember::Range { first, last, port } => {
                            keys.extend(expand_range(*first, *last).into_iter().map(|addr| {
                                ServiceKey::Addr {
                                    protocol,
                                    addr,
                                    port: port.unwrap_or(0),
                                }
                            }))
                        }
                        VsgMember::Fwmark { mark, family: f } => keys.push(ServiceKey::Fwmark {
                            family: family(f.or(vs.ip_family)),
                            mark: *mark,
                        }),
                    }
                }
            }
            keys
        }
    }
}

fn expand_range(first: IpAddr, last: IpAddr) -> Vec<IpAddr> {
    match (first, last) {
        (IpAddr::V4(a), IpAddr::V4(b)) => {
            let (a, b) = (u32::from(a), u32::from(b));
            (a..=b.min(a.saturating_add(MAX_RANGE_ADDRESSES - 1)))
                .map(|n| IpAddr::V4(n.into()))
                .collect()
        }
        (IpAddr::V6(a), IpAddr::V6(b)) => {
            let (a, b) = (u128::from(a), u128::from(b));
            (a..=b.min(a.saturating_add(u128::from(MAX_RANGE_ADDRESSES) - 1)))
                .map(|n| IpAddr::V6(n.into()))
                .collect()
        }
        _ => vec![first],
    }
}

fn service(vs: &VirtualServer, key: ServiceKey) -> Service {
    let mut s = Service::new(key, vs.scheduler.unwrap_or_default().name());
    if let Some(t) = vs.persistence_timeout {
        s = s.with_persistence(t);
    }
    if vs.flags.one_packet {
        s.flags |= SVC_F_ONEPACKET;
    }
    if vs.flags.flag_1 {
        s.flags |= SVC_F_SCHED1;
    }
    if vs.flags.flag_2 {
        s.flags |= SVC_F_SCHED2;
    }
    if vs.flags.flag_3 {
        s.flags |= SVC_F_SCHED3;
    }
    match vs.persistence_granularity {
        Some(PersistenceGranularity::V4Mask(m)) => s.netmask = u32::from(m),
        Some(PersistenceGranularity::V6Prefix(p)) => s.netmask = u32::from(p),
        None => {}
    }
    s.pe_name.clone_from(&vs.persistence_engine);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ipvs::{plan, IpvsSink, Recorder};
    use keepalived_config::model::lvs::{Checker, SorryServer, TcpCheck};
    use proptest::prelude::*;

    fn vs(n: usize, alpha: bool) -> VirtualServer {
        let mut v = VirtualServer {
            key: VirtualServerKey::Address {
                ip: "10.0.0.1".parse().unwrap(),
                port: 80,
            },
            protocol: Some(LvsProtocol::Tcp),
            scheduler: Some(keepalived_config::model::lvs::Scheduler::Rr),
            alpha,
            ..VirtualServer::default()
        };
        for i in 0..n {
            let mut r = RealServer::new(format!("10.0.0.{}", 10 + i).parse().unwrap(), 8080);
            r.checkers.push(Checker::Tcp(TcpCheck::default()));
            v.real_servers.push(r);
        }
        v
    }

    fn set(st: &mut VsState, rs: usize, up: bool) -> Vec<VsEvent> {
        st.rs[rs].checkers[0].up = up;
        st.rs_update(rs)
    }

    fn sync(st: &VsState, v: &VirtualServer, rec: &mut Recorder) -> Vec<String> {
        let mut wanted = IpvsTable::new();
        st.wanted(v, &[], &mut wanted);
        let cmds = plan(&wanted, rec.table());
        assert!(rec.apply_all(&cmds).is_empty());
        cmds.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn names() {
        let v = vs(1, false);
        let st = VsState::new(&v);
        assert_eq!(st.name, "[10.0.0.1]:tcp:80");
        assert_eq!(st.rs_names[0], "[10.0.0.10]:tcp:8080");
    }

    #[test]
    fn quorum_and_sorry_server_sequence() {
        let mut v = vs(2, false);
        v.quorum = Some(2);
        v.sorry_server = Some(SorryServer {
            ip: "10.0.0.99".parse().unwrap(),
            port: 0,
            inhibit: false,
            method: None,
            loc: None,
        });
        let mut st = VsState::new(&v);
        assert!(st.quorum.up);
        let mut rec = Recorder::new();
        let start = sync(&st, &v, &mut rec);
        assert_eq!(start.len(), 3, "{start:?}");
        assert_eq!(
            set(&mut st, 0, false),
            vec![
                VsEvent::RsDown(0),
                VsEvent::QuorumLost(1),
                VsEvent::SorryAdded
            ]
        );
        let cmds = sync(&st, &v, &mut rec);
        assert_eq!(cmds.len(), 3, "{cmds:?}");
        assert!(
            cmds[0].starts_with("-a"),
            "sorry server added first: {cmds:?}"
        );
        assert!(cmds[0].contains("10.0.0.99:80"), "{cmds:?}");
        assert_eq!(
            set(&mut st, 0, true),
            vec![
                VsEvent::RsUp(0),
                VsEvent::QuorumGained(2),
                VsEvent::SorryRemoved
            ]
        );
        let cmds = sync(&st, &v, &mut rec);
        assert_eq!(cmds.len(), 3, "{cmds:?}");
        assert!(cmds[2].starts_with("-d") && cmds[2].contains("10.0.0.99"));
    }

    #[test]
    fn inhibit_keeps_weight_zero() {
        let mut v = vs(1, false);
        v.inhibit_on_failure = true;
        let mut st = VsState::new(&v);
        let mut rec = Recorder::new();
        sync(&st, &v, &mut rec);
        set(&mut st, 0, false);
        let cmds = sync(&st, &v, &mut rec);
        assert_eq!(cmds.len(), 1);
        assert!(
            cmds[0].starts_with("-e") && cmds[0].contains("-w 0"),
            "{cmds:?}"
        );
    }

    #[test]
    fn alpha_starts_empty_and_without_quorum() {
        let v = vs(2, true);
        let st = VsState::new(&v);
        assert!(!st.quorum.up);
        assert_eq!(st.live_weight(), 0);
        let mut rec = Recorder::new();
        assert_eq!(sync(&st, &v, &mut rec).len(), 1);
    }

    #[test]
    fn group_expansion() {
        let mut v = vs(1, false);
        v.key = VirtualServerKey::Group("g".into());
        let g = VirtualServerGroup {
            name: "g".into(),
            members: vec![
                VsgMember::Range {
                    first: "10.1.0.1".parse().unwrap(),
                    last: "10.1.0.3".parse().unwrap(),
                    port: Some(80),
                },
                VsgMember::Fwmark {
                    mark: 7,
                    family: None,
                },
            ],
            loc: None,
        };
        assert_eq!(service_keys(&v, &[g]).len(), 4);
    }

    proptest! {
        /// Whatever the flapping, the table built by applying plans equals the wanted table,
        /// the live weight matches the alive servers, and quorum follows its thresholds.
        #[test]
        fn flapping_keeps_table_consistent(flips in proptest::collection::vec((0usize..4, any::<bool>()), 0..40),
                                           inhibit in any::<bool>(), quorum in 1u32..5) {
            let mut v = vs(4, false);
            v.inhibit_on_failure = inhibit;
            v.quorum = Some(quorum);
            v.sorry_server = Some(SorryServer { ip: "10.0.0.99".parse().unwrap(), port: 80, inhibit: false, method: None, loc: None });
            let mut st = VsState::new(&v);
            let mut rec = Recorder::new();
            sync(&st, &v, &mut rec);
            for (rs, up) in flips {
                set(&mut st, rs, up);
                sync(&st, &v, &mut rec);
                let mut wanted = IpvsTable::new();
                st.wanted(&v, &[], &mut wanted);
                prop_assert_eq!(&wanted, rec.table());
                let alive = st.rs.iter().filter(|r| r.alive).count() as u64;
                prop_assert_eq!(st.live_weight(), alive);
                prop_assert_eq!(st.sorry_alive, Some(!st.quorum.up));
            }
        }
    }
}
