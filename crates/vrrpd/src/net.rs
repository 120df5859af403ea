//! The VRRP sockets, one per (interface, family, unicast source, multicast group) and shared by
//! the instances on it, and the receive path: read every pending packet, validate it against
//! each instance of the socket (keepalived dispatches by VRID: [`validate_header`] rejects another
//! VRID first), charge rejected packets to the instance's counters, feed accepted adverts to
//! the core.
//!
//! Sending is batched: adverts are queued per socket ([`Sockets::queue`]) and go out with one
//! `sendmmsg` per socket when the loop is about to sleep or before any other action that
//! must follow them ([`Sockets::flush`]), in the order they were queued, so each instance's
//! adverts keep their order. IPv4 sockets are read with `recvmmsg`. Log lines of rejected
//! adverts are rate-limited per instance and class ([`reject_log`]).

pub mod arrival;
pub mod reject_log;

use crate::params::{Family, Plan, SocketKey};
use arrival::ArrivalClock;
use keepalived_sys::vrrp_socket::{BatchFailure, RecvBatch, SendBatch};
use keepalived_sys::{VrrpSocketV4, VrrpSocketV6};
use keepalived_vrrp::codec::{
    validate_header, RxError, RxPacket, RxWarning, UnicastChecksumCompat,
};
use keepalived_vrrp::instance::Input;
use keepalived_vrrp::sync_group::{Routed, Router, Target};
use keepalived_vrrp::timer::Time;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use reject_log::{Class, LogSink, RejectLog};
use std::collections::{BTreeMap, HashMap};
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
    /// The open sockets, sorted by key (flushes go in that order).
    by_key: Vec<(SocketKey, Open)>,
    /// Where the last looked-up key was: consecutive adverts mostly use the same socket.
    last_hit: std::cell::Cell<usize>,
    by_token: BTreeMap<Token, SocketKey>,
    next: usize,
    /// The instances of each (socket, VRID): a packet is validated only against those.
    index: Index,
    /// The instance names, for the log line of a failed send.
    names: ShellNames,
    /// Rate limiter of the rejected adverts' log lines.
    rejects: RejectLog,
    /// Adverts queued on all sockets, so a flush with nothing queued costs nothing.
    queued: usize,
    failures: Vec<BatchFailure>,
}

/// Every instance's name in one buffer (one allocation for any number of instances).
#[derive(Debug, Default)]
struct ShellNames {
    text: String,
    /// Where each instance's name ends in `text`, in plan order.
    ends: Vec<usize>,
}

impl ShellNames {
    fn of(plan: &Plan) -> Self {
        let len = plan.shells.iter().map(|s| s.name.len()).sum();
        let mut names = ShellNames {
            text: String::with_capacity(len),
            ends: Vec::with_capacity(plan.shells.len()),
        };
        for shell in &plan.shells {
            names.text.push_str(&shell.name);
            names.ends.push(names.text.len());
        }
        names
    }

    /// The name of instance `i`.
    fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = match i.checked_sub(1) {
            Some(before) => *self.ends.get(before)?,
            None => 0,
        };
        self.text.get(start..end)
    }
}

/// One open socket and its token.
#[derive(Debug)]
struct Open {
    sock: VrrpSock,
    token: Token,
    /// Adverts waiting for the next `sendmmsg`.
    out: SendBatch,
}

/// The instances of one socket by VRID: (VRID, instance) pairs sorted, so a packet finds
/// its candidates with a binary search, no hashing per packet.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct VridIndex {
    pairs: Vec<(u8, usize)>,
}

impl VridIndex {
    /// The instances listening for `vrid`, in plan order.
    pub fn candidates(&self, vrid: u8) -> impl Iterator<Item = usize> + '_ {
        let start = self.pairs.partition_point(|&(v, _)| v < vrid);
        let tail = self.pairs.get(start..).unwrap_or_default();
        tail.iter()
            .take_while(move |&&(v, _)| v == vrid)
            .map(|&(_, i)| i)
    }
}

/// Instances by socket, then VRID.
pub type Index = HashMap<SocketKey, VridIndex>;

/// Builds the (socket, VRID) index of `plan`.
pub fn index(plan: &Plan) -> Index {
    let mut idx: Index = HashMap::new();
    // Instances on one socket mostly follow each other in a configuration: one map lookup
    // per run of them, not per instance.
    let mut run: Option<(SocketKey, Vec<(u8, usize)>)> = None;
    for (i, shell) in plan.shells.iter().enumerate() {
        match &mut run {
            Some((key, pairs)) if *key == shell.socket => pairs.push((shell.rx.vrid, i)),
            _ => {
                if let Some((key, pairs)) = run.take() {
                    idx.entry(key).or_default().pairs.extend(pairs);
                }
                run = Some((shell.socket, vec![(shell.rx.vrid, i)]));
            }
        }
    }
    if let Some((key, pairs)) = run {
        idx.entry(key).or_default().pairs.extend(pairs);
    }
    for vrids in idx.values_mut() {
        vrids.pairs.sort_unstable();
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

/// The VRID of an advert we built: a whole IPv4 packet, or an IPv6 VRRP message.
fn advert_vrid(family: Family, packet: &[u8]) -> Option<u8> {
    match family {
        Family::V4 => {
            let ihl = usize::from(packet.first()? & 0x0f) * 4;
            packet.get(ihl + 1).copied()
        }
        Family::V6 => packet.get(1).copied(),
    }
}

impl Sockets {
    /// Opens the sockets `plan` needs and closes the ones it no longer uses. Returns one
    /// message per socket that could not be opened. Queued adverts go out first (a removed
    /// instance's last advert may be queued on a socket about to close).
    pub fn sync(&mut self, registry: &Registry, plan: &Plan) -> Vec<String> {
        self.flush();
        self.index = index(plan);
        self.names = ShellNames::of(plan);
        // A handful of sockets for any number of instances: the index already has them.
        let mut wanted: Vec<SocketKey> = self.index.keys().copied().collect();
        wanted.sort_unstable();
        let mut kept = Vec::with_capacity(wanted.len());
        for (key, open) in std::mem::take(&mut self.by_key) {
            if wanted.binary_search(&key).is_ok() {
                kept.push((key, open));
            } else {
                let fd = open.sock.raw_fd();
                let _ = registry.deregister(&mut SourceFd(&fd));
                self.by_token.remove(&open.token);
            }
        }
        self.by_key = kept;
        let mut errors = Vec::new();
        for key in wanted {
            if self.find(&key).is_some() {
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
                    let out = SendBatch::new();
                    let at = self.by_key.partition_point(|(k, _)| *k < key);
                    self.by_key.insert(at, (key, Open { sock, token, out }));
                }
                Err(e) => errors.push(e),
            }
        }
        errors
    }

    /// Index of the socket `key` in `by_key`.
    fn find(&self, key: &SocketKey) -> Option<usize> {
        let last = self.last_hit.get();
        if self.by_key.get(last).is_some_and(|(k, _)| k == key) {
            return Some(last);
        }
        let at = self.by_key.binary_search_by(|(k, _)| k.cmp(key)).ok()?;
        self.last_hit.set(at);
        Some(at)
    }

    /// The open socket `key`.
    fn get(&self, key: &SocketKey) -> Option<&Open> {
        self.find(key)
            .and_then(|i| self.by_key.get(i))
            .map(|(_, open)| open)
    }

    /// The descriptor of the socket `key`, if it is open (for the dump files).
    pub fn raw_fd(&self, key: &SocketKey) -> Option<std::os::fd::RawFd> {
        self.get(key).map(|open| open.sock.raw_fd())
    }

    /// The socket behind a poll token.
    pub fn key_of(&self, token: Token) -> Option<SocketKey> {
        self.by_token.get(&token).copied()
    }

    /// Queues an advert for the socket `key`; it is sent by the next [`Sockets::flush`].
    /// Refused at once when no such socket is open or `dst` is of the other family.
    pub fn queue(&mut self, key: &SocketKey, packet: &[u8], dst: IpAddr) -> Result<(), String> {
        let Some((_, open)) = self.find(key).and_then(|i| self.by_key.get_mut(i)) else {
            return Err(format!("no socket open for {key:?}"));
        };
        match (&open.sock, dst) {
            (VrrpSock::V4(_), IpAddr::V4(_)) | (VrrpSock::V6(_), IpAddr::V6(_)) => {
                open.out.push(packet, dst);
                self.queued += 1;
                Ok(())
            }
            _ => Err(format!("address family mismatch sending to {dst}")),
        }
    }

    /// How many adverts are waiting for [`Sockets::flush`].
    pub fn queued(&self) -> usize {
        self.queued
    }

    /// Sends the queued adverts, one `sendmmsg` per socket (more only past the kernel's
    /// 1,024 messages per call or after a refused advert). A refused advert is logged with
    /// its instance, as a single send failure was, and the others still go.
    pub fn flush(&mut self) {
        if self.queued == 0 {
            return;
        }
        self.queued = 0;
        let failures = &mut self.failures;
        for (key, open) in self.by_key.iter_mut() {
            if open.out.is_empty() {
                continue;
            }
            failures.clear();
            match &open.sock {
                VrrpSock::V4(s) => s.send_batch(&mut open.out, failures),
                VrrpSock::V6(s) => s.send_batch(&mut open.out, failures),
            };
            for f in failures.iter() {
                let Some((packet, dst)) = open.out.get(f.index) else {
                    continue;
                };
                let vrid = advert_vrid(key.family, packet);
                let names = vrid.and_then(|v| {
                    let shells = self.index.get(key)?.candidates(v);
                    let names: Vec<&str> = shells.filter_map(|i| self.names.get(i)).collect();
                    (!names.is_empty()).then(|| names.join(", "))
                });
                match names {
                    Some(name) => log::warn!("({name}) cannot send advert to {dst}: {}", f.error),
                    None => log::warn!(
                        "(VRID {}) cannot send advert to {dst}: {}",
                        vrid.unwrap_or(0),
                        f.error
                    ),
                }
            }
            open.out.clear();
        }
    }

    /// Writes the summaries of suppressed reject log lines that are due (the loop's tick).
    pub fn flush_reject_summaries(&mut self, now: Time) {
        self.rejects.flush_due(&mut LogSink, now);
    }

    /// Reads every pending packet of socket `key` and feeds the accepted adverts to `router`;
    /// appends the resulting actions to `out`, and the instances whose timers may have
    /// changed to `touched`.
    #[allow(clippy::too_many_arguments)]
    pub fn receive(
        &mut self,
        key: &SocketKey,
        rx: &mut RecvBatch,
        clock: ArrivalClock,
        plan: &mut Plan,
        router: &mut Router,
        touched: &mut Vec<usize>,
        out: &mut Vec<Routed>,
    ) {
        let Some((_, open)) = self.find(key).and_then(|i| self.by_key.get(i)) else {
            return;
        };
        let empty = VridIndex::default();
        let mut ctx = Dispatch {
            now: clock.arrival(None),
            plan,
            router,
            vrids: self.index.get(key).unwrap_or(&empty),
            rejects: &mut self.rejects,
            out,
        };
        match &open.sock {
            VrrpSock::V4(s) => loop {
                match s.recv_batch(rx) {
                    Ok(n) => {
                        for i in 0..n {
                            let packet = RxPacket::Ipv4(rx.get(i).unwrap_or(&[]));
                            ctx.now = clock.arrival(rx.stamp(i));
                            ctx.packet(packet);
                            touched.extend_from_slice(ctx.router.touched());
                        }
                        // Fewer than asked: the queue was empty when the kernel looked, and
                        // the edge-triggered poll reports what arrives after.
                        if n < rx.capacity() {
                            break;
                        }
                    }
                    Err(e) => {
                        log::warn!("VRRP receive error: {e}");
                        break;
                    }
                }
            },
            VrrpSock::V6(s) => loop {
                let buf = rx.whole_mut();
                match s.recv(buf) {
                    Ok(Some(r)) => {
                        let packet = RxPacket::Ipv6 {
                            payload: buf.get(..r.len).unwrap_or(&[]),
                            src: r.src,
                            dst: r.dst,
                            hop_limit: r.hop_limit,
                        };
                        ctx.now = clock.arrival(r.stamp);
                        ctx.packet(packet);
                        touched.extend_from_slice(ctx.router.touched());
                    }
                    Ok(None) => break,
                    Err(e) => {
                        log::warn!("VRRP receive error: {e}");
                        break;
                    }
                }
            },
        }
    }
}

/// What one received packet is dispatched with.
struct Dispatch<'a> {
    /// The packet's arrival time.
    now: Time,
    plan: &'a mut Plan,
    router: &'a mut Router,
    vrids: &'a VridIndex,
    rejects: &'a mut RejectLog,
    out: &'a mut Vec<Routed>,
}

impl Dispatch<'_> {
    fn packet(&mut self, packet: RxPacket<'_>) {
        dispatch(
            packet,
            self.now,
            self.plan,
            self.router,
            self.vrids,
            self.rejects,
            self.out,
        );
    }
}

/// Validates `packet` for the instances of its VRID on socket `key` and feeds the accepted
/// advert. A packet for no instance of ours is dropped silently (keepalived logs it at debug).
/// Rejections and warnings are logged through `rejects` (rate-limited per instance and class).
#[allow(clippy::too_many_arguments)]
pub fn dispatch(
    packet: RxPacket<'_>,
    now: Time,
    plan: &mut Plan,
    router: &mut Router,
    vrids: &VridIndex,
    rejects: &mut RejectLog,
    out: &mut Vec<Routed>,
) {
    let Some(vrid) = vrid_of(&packet) else {
        return;
    };
    for i in vrids.candidates(vrid) {
        let Some(shell) = plan.shells.get_mut(i) else {
            continue;
        };
        let seen = router
            .instances()
            .get(i)
            .map(|inst| (inst.state(), inst.master_addr()));
        shell.rx.last_master = seen.and_then(|s| s.1);
        let seen = seen.unwrap_or((keepalived_vrrp::instance::State::Init, None));
        match validate_header(packet, &shell.rx) {
            Ok(v) => {
                for w in &v.warnings {
                    if matches!(w, RxWarning::OldUnicastChecksum { .. })
                        && shell.rx.unicast_checksum_compat == UnicastChecksumCompat::Auto
                    {
                        shell.rx.unicast_checksum_compat = UnicastChecksumCompat::Old;
                    }
                    let class = Class::of_warning(w);
                    rejects.note(&mut LogSink, now, i, &shell.name, seen, class, w);
                }
                let input = Input::Advert {
                    advert: v.advert,
                    source: v.src,
                };
                router.handle_into(now, Target::Instance(i), input, out);
            }
            Err(RxError::UnknownVrid { .. }) => {}
            Err(e) => {
                let class = Class::of_error(&e);
                rejects.note(&mut LogSink, now, i, &shell.name, seen, class, &e);
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

    // Instances on two interfaces, interleaved: the index groups them by socket and VRID in
    // plan order, and each name is found again by its instance number.
    #[test]
    fn index_and_names_of_interleaved_instances() {
        let mut text = String::new();
        for (i, (ifname, vrid)) in [("a", 1), ("b", 1), ("a", 2), ("a", 1), ("b", 3)]
            .iter()
            .enumerate()
        {
            text.push_str(&format!(
                "vrrp_instance N{i} {{\n interface {ifname}\n virtual_router_id {vrid}\n virtual_ipaddress {{\n 192.0.2.{}\n }}\n}}\n",
                i + 1
            ));
        }
        let loaded = load_str("t.conf", &text, &LoadOptions::default(), &AssumeAll);
        let lookup = |name: &str| {
            Some(InterfaceInfo {
                index: if name == "a" { 2 } else { 3 },
                primary_v4: Some(Ipv4Addr::new(192, 0, 2, 1)),
                ..InterfaceInfo::default()
            })
        };
        let p = plan(&loaded.config, &lookup, PlanOptions::default());
        let idx = index(&p);
        assert_eq!(idx.len(), 2);
        let on_a = &idx[&p.shells[0].socket];
        assert_eq!(on_a.candidates(1).collect::<Vec<_>>(), vec![0, 3]);
        assert_eq!(on_a.candidates(2).collect::<Vec<_>>(), vec![2]);
        let on_b = &idx[&p.shells[1].socket];
        assert_eq!(on_b.candidates(3).collect::<Vec<_>>(), vec![4]);
        assert_eq!(on_b.candidates(2).count(), 0);
        let names = ShellNames::of(&p);
        let all: Vec<_> = (0..6).map(|i| names.get(i)).collect();
        assert_eq!(
            all,
            vec![
                Some("N0"),
                Some("N1"),
                Some("N2"),
                Some("N3"),
                Some("N4"),
                None
            ]
        );
    }

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
        let mut rejects = RejectLog::default();
        dispatch(
            RxPacket::Ipv4(&pkt),
            Duration::from_millis(10),
            &mut p,
            &mut router,
            &idx[&key],
            &mut rejects,
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
            RxPacket::Ipv4(&bad),
            Duration::from_millis(20),
            &mut p,
            &mut router,
            &idx[&key],
            &mut rejects,
            &mut out,
        );
        assert_eq!(router.instances()[0].stats().ip_ttl_err, 1);
    }

    // A packet read late is timed by its kernel arrival stamp: the backup's Master_Down_Timer
    // runs from when the master's advert arrived, not from when the loop read it.
    #[test]
    fn a_received_advert_is_timed_by_its_arrival_when_root() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let text = "vrrp_instance A {\n state BACKUP\n interface eth0\n virtual_router_id 77\n priority 100\n advert_int 1\n unicast_src_ip 127.0.0.1\n unicast_peer {\n 127.0.0.2\n }\n virtual_ipaddress {\n 192.0.2.100\n }\n}\n";
        let loaded = load_str("t.conf", text, &LoadOptions::default(), &AssumeAll);
        // keepalived refuses `lo` by name; the sockets only need its index.
        let lo = nix::net::if_::if_nametoindex("lo").unwrap();
        let lookup = |_: &str| {
            Some(InterfaceInfo {
                index: lo,
                primary_v4: Some(Ipv4Addr::LOCALHOST),
                up: true,
                ..InterfaceInfo::default()
            })
        };
        let mut p = plan(&loaded.config, &lookup, PlanOptions::default());
        assert_eq!(p.shells.len(), 1, "{:?}", p.warnings);
        let mut router = Router::new(p.instances.clone(), p.groups.clone()).unwrap();
        let _ = router.handle(Duration::ZERO, Target::All, Input::Start);
        let poll = mio::Poll::new().unwrap();
        let mut sockets = Sockets::default();
        assert!(sockets.sync(poll.registry(), &p).is_empty());
        let key = p.shells[0].socket;
        let mut rx = RecvBatch::new(4, 2048);
        let (mut touched, mut out) = (Vec::new(), Vec::new());
        let advert = Advert {
            version: Version::V2,
            vrid: 77,
            priority: 200,
            interval: Duration::from_secs(1),
            addrs: vec!["192.0.2.100".parse().unwrap()],
            auth: Auth::None,
        };
        let send = Ipv4Send {
            src: Ipv4Addr::new(127, 0, 0, 2),
            dst: Ipv4Addr::LOCALHOST,
            ttl: 255,
            id: 1,
        };
        let mut pkt = Vec::new();
        encode_ipv4_advert(&advert, &send, V4Checksum::Standard, &mut pkt).unwrap();
        let tx = VrrpSocketV4::open(lo, None, None).unwrap();
        // The kernel turns arrival stamping on for the whole host from a deferred work item
        // when the first socket asks; until then a packet is stamped when it is read.
        std::thread::sleep(Duration::from_millis(50));
        tx.send(&pkt, Ipv4Addr::LOCALHOST).unwrap();
        // The loop reads it 12 ms after it arrived.
        std::thread::sleep(Duration::from_millis(12));
        let now = Duration::from_secs(10);
        let clock = ArrivalClock::new(
            now,
            keepalived_sys::vrrp_socket::realtime_now(),
            Duration::ZERO,
        );
        sockets.receive(
            &key,
            &mut rx,
            clock,
            &mut p,
            &mut router,
            &mut touched,
            &mut out,
        );
        let inst = &router.instances()[0];
        assert_eq!(inst.stats().advert_rcvd, 1);
        assert_eq!(inst.state(), State::Backup);
        // Master_Down_Interval for priority 100 at 1 s: 3 s + (256 - 100) / 256 s.
        let master_down = Duration::from_secs(3) + Duration::from_secs(156) / 256;
        let due = inst.next_deadline().expect("the master-down timer");
        assert!(
            due + Duration::from_millis(10) <= now + master_down,
            "{due:?}"
        );
        assert!(due + arrival::MAX_AGE >= now + master_down, "{due:?}");
    }
}
