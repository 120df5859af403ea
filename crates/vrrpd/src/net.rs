//! The VRRP sockets, one per (interface, family, unicast source, multicast group) and shared by
//! the instances on it, and the receive path: read every pending packet, validate it against
//! each instance of the socket (keepalived dispatches by VRID: [`validate`] rejects another
//! VRID first), charge rejected packets to the instance's counters, feed accepted adverts to
//! the core.

use crate::params::{Family, Plan, SocketKey};
use keepalived_sys::{VrrpSocketV4, VrrpSocketV6};
use keepalived_vrrp::codec::{validate, RxError, RxPacket, RxWarning, UnicastChecksumCompat};
use keepalived_vrrp::instance::Input;
use keepalived_vrrp::sync_group::{Routed, Router, Target};
use keepalived_vrrp::timer::Time;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::net::IpAddr;
use std::os::fd::AsRawFd;

/// First token used for VRRP sockets; lower ones are the loop's own.
pub const FIRST_SOCKET_TOKEN: usize = 16;

/// An open VRRP socket of either family.
#[derive(Debug)]
pub enum VrrpSock {
    /// IPv4 (whole packets, `IP_HDRINCL`).
    V4(VrrpSocketV4),
    /// IPv6 (VRRP messages, ancillary data).
    V6(VrrpSocketV6),
}

impl VrrpSock {
    fn raw_fd(&self) -> std::os::fd::RawFd {
        match self {
            VrrpSock::V4(s) => s.as_raw_fd(),
            VrrpSock::V6(s) => s.as_raw_fd(),
        }
    }
}

/// The open sockets with their poll tokens.
#[derive(Debug, Default)]
pub struct Sockets {
    by_key: BTreeMap<SocketKey, (VrrpSock, Token)>,
    by_token: BTreeMap<Token, SocketKey>,
    next: usize,
    /// The instances of each (socket, VRID): a packet is validated only against those.
    index: Index,
}

/// Instances by (socket, VRID).
pub type Index = HashMap<(SocketKey, u8), Vec<usize>>;

/// Builds the (socket, VRID) index of `plan`.
pub fn index(plan: &Plan) -> Index {
    let mut idx: Index = HashMap::new();
    for (i, (shell, params)) in plan.shells.iter().zip(&plan.instances).enumerate() {
        idx.entry((shell.socket, params.vrid)).or_default().push(i);
    }
    idx
}

/// The VRID of a received packet, read without judging it (validation does that).
fn vrid_of(packet: &RxPacket<'_>) -> Option<u8> {
    match packet {
        RxPacket::Ipv4(bytes) => {
            let ihl = usize::from(bytes.first()? & 0x0f) * 4;
            bytes.get(ihl + 1).copied()
        }
        RxPacket::Ipv6 { payload, .. } => payload.get(1).copied(),
    }
}

fn open(key: &SocketKey) -> Result<VrrpSock, String> {
    match key.family {
        Family::V4 => {
            let src = match key.unicast_src {
                Some(IpAddr::V4(a)) => Some(a),
                _ => None,
            };
            let group = match key.group {
                Some(IpAddr::V4(a)) => Some(a),
                _ => None,
            };
            VrrpSocketV4::open(key.ifindex, src, group)
                .map(VrrpSock::V4)
                .map_err(|e| e.to_string())
        }
        Family::V6 => {
            let src = match key.unicast_src {
                Some(IpAddr::V6(a)) => Some(a),
                _ => None,
            };
            let group = match key.group {
                Some(IpAddr::V6(a)) => Some(a),
                _ => None,
            };
            VrrpSocketV6::open(key.ifindex, src, group)
                .map(VrrpSock::V6)
                .map_err(|e| e.to_string())
        }
    }
}

impl Sockets {
    /// Opens the sockets `plan` needs and closes the ones it no longer uses. Returns one
    /// message per socket that could not be opened.
    pub fn sync(&mut self, registry: &Registry, plan: &Plan) -> Vec<String> {
        self.index = index(plan);
        let wanted: BTreeSet<SocketKey> = plan.shells.iter().map(|s| s.socket).collect();
        let stale: Vec<SocketKey> = self
            .by_key
            .keys()
            .filter(|k| !wanted.contains(k))
            .copied()
            .collect();
        for key in stale {
            if let Some((sock, token)) = self.by_key.remove(&key) {
                let fd = sock.raw_fd();
                let _ = registry.deregister(&mut SourceFd(&fd));
                self.by_token.remove(&token);
            }
        }
        let mut errors = Vec::new();
        for key in wanted {
            if self.by_key.contains_key(&key) {
                continue;
            }
            match open(&key) {
                Ok(sock) => {
                    let token = Token(FIRST_SOCKET_TOKEN + self.next);
                    self.next += 1;
                    let fd = sock.raw_fd();
                    if let Err(e) = registry.register(&mut SourceFd(&fd), token, Interest::READABLE)
                    {
                        errors.push(format!("cannot poll VRRP socket {key:?}: {e}"));
                        continue;
                    }
                    self.by_token.insert(token, key);
                    self.by_key.insert(key, (sock, token));
                }
                Err(e) => errors.push(e),
            }
        }
        errors
    }

    /// The descriptor of the socket `key`, if it is open (for the dump files).
    pub fn raw_fd(&self, key: &SocketKey) -> Option<std::os::fd::RawFd> {
        self.by_key.get(key).map(|(sock, _)| sock.raw_fd())
    }

    /// The socket behind a poll token.
    pub fn key_of(&self, token: Token) -> Option<SocketKey> {
        self.by_token.get(&token).copied()
    }

    /// Sends an advert on the socket `key`.
    pub fn send(&self, key: &SocketKey, packet: &[u8], dst: IpAddr) -> Result<(), String> {
        let Some((sock, _)) = self.by_key.get(key) else {
            return Err(format!("no socket open for {key:?}"));
        };
        let sent = match (sock, dst) {
            (VrrpSock::V4(s), IpAddr::V4(d)) => s.send(packet, d),
            (VrrpSock::V6(s), IpAddr::V6(d)) => s.send(packet, d),
            _ => return Err(format!("address family mismatch sending to {dst}")),
        };
        sent.map_err(|e| e.to_string())
    }

    /// Reads every pending packet of socket `key` and feeds the accepted adverts to `router`;
    /// returns the resulting actions, and adds the instances whose timers may have changed
    /// to `touched`.
    pub fn receive(
        &self,
        key: &SocketKey,
        buf: &mut [u8],
        now: Time,
        plan: &mut Plan,
        router: &mut Router,
        touched: &mut Vec<usize>,
    ) -> Vec<Routed> {
        let mut out = Vec::new();
        let Some((sock, _)) = self.by_key.get(key) else {
            return out;
        };
        loop {
            match sock {
                VrrpSock::V4(s) => match s.recv(buf) {
                    Ok(Some(n)) => {
                        let packet = RxPacket::Ipv4(buf.get(..n).unwrap_or(&[]));
                        dispatch(key, packet, now, plan, router, &self.index, &mut out);
                        touched.extend_from_slice(router.touched());
                    }
                    Ok(None) => break,
                    Err(e) => {
                        log::warn!("VRRP receive error: {e}");
                        break;
                    }
                },
                VrrpSock::V6(s) => match s.recv(buf) {
                    Ok(Some(r)) => {
                        let packet = RxPacket::Ipv6 {
                            payload: buf.get(..r.len).unwrap_or(&[]),
                            src: r.src,
                            dst: r.dst,
                            hop_limit: r.hop_limit,
                        };
                        dispatch(key, packet, now, plan, router, &self.index, &mut out);
                        touched.extend_from_slice(router.touched());
                    }
                    Ok(None) => break,
                    Err(e) => {
                        log::warn!("VRRP receive error: {e}");
                        break;
                    }
                },
            }
        }
        out
    }
}

/// Validates `packet` for the instances of its VRID on socket `key` and feeds the accepted
/// advert. A packet for no instance of ours is dropped silently (keepalived logs it at debug).
pub fn dispatch(
    key: &SocketKey,
    packet: RxPacket<'_>,
    now: Time,
    plan: &mut Plan,
    router: &mut Router,
    index: &Index,
    out: &mut Vec<Routed>,
) {
    let Some(candidates) = vrid_of(&packet).and_then(|v| index.get(&(*key, v))) else {
        return;
    };
    for &i in candidates {
        let Some(shell) = plan.shells.get_mut(i) else {
            continue;
        };
        shell.rx.last_master = router
            .instances()
            .get(i)
            .and_then(|inst| inst.master_addr());
        match validate(packet, &shell.rx) {
            Ok(v) => {
                for w in &v.warnings {
                    if matches!(w, RxWarning::OldUnicastChecksum { .. })
                        && shell.rx.unicast_checksum_compat == UnicastChecksumCompat::Auto
                    {
                        shell.rx.unicast_checksum_compat = UnicastChecksumCompat::Old;
                    }
                    log::info!("({}) {w}", shell.name);
                }
                let input = Input::Advert {
                    advert: v.advert,
                    source: v.src,
                };
                router.handle_into(now, Target::Instance(i), input, out);
            }
            Err(RxError::UnknownVrid { .. }) => {}
            Err(e) => {
                log::info!("({}) {e}", shell.name);
                if let Some(inst) = router.instances_mut().get_mut(i) {
                    inst.stats_mut().count_rx_error(&e);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::{plan, InterfaceInfo, PlanOptions};
    use keepalived_config::{load_str, AssumeAll, LoadOptions};
    use keepalived_vrrp::codec::{encode_ipv4_advert, Ipv4Send, V4Checksum};
    use keepalived_vrrp::instance::State;
    use keepalived_vrrp::{Advert, Auth, Version};
    use std::net::Ipv4Addr;
    use std::time::Duration;

    #[test]
    fn adverts_reach_their_instance_and_errors_are_counted() {
        let text = "vrrp_instance A {\n interface eth0\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n 192.0.2.100\n }\n}\nvrrp_instance B {\n interface eth0\n virtual_router_id 2\n virtual_ipaddress {\n 192.0.2.200\n }\n}\n";
        let loaded = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
        let lookup = |_: &str| {
            Some(InterfaceInfo {
                index: 2,
                primary_v4: Some(Ipv4Addr::new(192, 0, 2, 1)),
                ..InterfaceInfo::default()
            })
        };
        let mut p = plan(&loaded.config, &lookup, PlanOptions::default());
        let mut router = Router::new(p.instances.clone(), p.groups.clone()).unwrap();
        let _ = router.handle(Duration::ZERO, Target::All, Input::Start);
        let key = p.shells[0].socket;
        assert_eq!(key, p.shells[1].socket);
        let advert = Advert {
            version: Version::V2,
            vrid: 1,
            priority: 200,
            interval: Duration::from_secs(1),
            addrs: vec!["192.0.2.100".parse().unwrap()],
            auth: Auth::None,
        };
        let send = Ipv4Send {
            src: Ipv4Addr::new(192, 0, 2, 9),
            dst: Ipv4Addr::new(224, 0, 0, 18),
            ttl: 255,
            id: 1,
        };
        let mut pkt = Vec::new();
        encode_ipv4_advert(&advert, &send, V4Checksum::Standard, &mut pkt).unwrap();
        let mut out = Vec::new();
        let idx = index(&p);
        dispatch(
            &key,
            RxPacket::Ipv4(&pkt),
            Duration::from_millis(10),
            &mut p,
            &mut router,
            &idx,
            &mut out,
        );
        assert_eq!(router.instances()[0].stats().advert_rcvd, 1);
        assert_eq!(router.instances()[1].stats().advert_rcvd, 0);
        assert_eq!(router.instances()[0].master_priority(), 200);
        assert_eq!(router.instances()[0].state(), State::Backup);
        // A TTL other than 255 is rejected and counted.
        let mut bad = Vec::new();
        let send = Ipv4Send { ttl: 64, ..send };
        encode_ipv4_advert(&advert, &send, V4Checksum::Standard, &mut bad).unwrap();
        dispatch(
            &key,
            RxPacket::Ipv4(&bad),
            Duration::from_millis(20),
            &mut p,
            &mut router,
            &idx,
            &mut out,
        );
        assert_eq!(router.instances()[0].stats().ip_ttl_err, 1);
    }
}
