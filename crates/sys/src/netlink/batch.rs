//! Batched changes of addresses, routes and rules: many requests in one datagram, the
//! kernel's refusals matched back to them by sequence number.
//!
//! The requests go without `NLM_F_ACK`, so the kernel answers only the ones it refuses; a
//! `NLMSG_NOOP` asking for an acknowledgement closes the datagram. The kernel handles the
//! messages of a datagram in order and queues its answers in that order, so once the no-op's
//! acknowledgement has arrived every refusal of the batch has too: N changes cost one send and
//! one receive (plus one receive per refusal) instead of N of each. keepalived talks to the
//! kernel one request at a time (`netlink_talk`); the changes and their order are the same.
//!
//! Batches are capped at [`BATCH_SIZE`] changes, so that even a batch the kernel refuses
//! entirely fits the socket's receive buffer (a full buffer drops answers: `ENOBUFS`).

use std::io;

use neli::{consts::rtnl::Rtm, Size, ToBytes};
use nix::errno::Errno;

use super::addr::{add_addr_message, addr_message, AddrSpec};
use super::error::{NetlinkError, Result};
use super::route::{route_message, RouteSpec};
use super::rule::{rule_message, RuleSpec};
use super::socket::{Rtnl, NLM_F_CREATE, NLM_F_EXCL, NLM_F_REQUEST};
use super::wire;

/// The most changes sent in one datagram.
pub const BATCH_SIZE: usize = 64;

/// One change of the kernel's address, route or rule tables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// `ip addr add` (IPv6 /128 addresses go on deprecated, see [`super::added_deprecated`]).
    AddAddr(AddrSpec),
    /// `ip addr del`.
    DelAddr(AddrSpec),
    /// `ip route add`.
    AddRoute(RouteSpec),
    /// `ip route del` (matched whatever protocol installed the route).
    DelRoute(RouteSpec),
    /// `ip rule add`.
    AddRule(RuleSpec),
    /// `ip rule del`.
    DelRule(RuleSpec),
}

impl Change {
    /// The operation's name in error messages.
    pub fn op(&self) -> &'static str {
        match self {
            Change::AddAddr(_) => "add address",
            Change::DelAddr(_) => "delete address",
            Change::AddRoute(_) => "add route",
            Change::DelRoute(_) => "delete route",
            Change::AddRule(_) => "add rule",
            Change::DelRule(_) => "delete rule",
        }
    }

    /// What the change applies to, e.g. `192.0.2.1/24 on ifindex 3`.
    pub fn target(&self) -> String {
        match self {
            Change::AddAddr(s) | Change::DelAddr(s) => s.describe(),
            Change::AddRoute(s) | Change::DelRoute(s) => s.describe(),
            Change::AddRule(s) | Change::DelRule(s) => s.describe(),
        }
    }

    /// The refusal that means "already so": present when added, absent when deleted.
    fn already(&self) -> Errno {
        match self {
            Change::AddAddr(_) | Change::AddRoute(_) | Change::AddRule(_) => Errno::EEXIST,
            Change::DelAddr(_) => Errno::EADDRNOTAVAIL,
            Change::DelRoute(_) => Errno::ESRCH,
            Change::DelRule(_) => Errno::ENOENT,
        }
    }

    /// The whole request message (header and payload), without `NLM_F_ACK`.
    fn encode(&self, seq: u32) -> Result<Vec<u8>> {
        let op = self.op();
        let add = NLM_F_CREATE | NLM_F_EXCL;
        match self {
            Change::AddAddr(s) => self.message(Rtm::Newaddr, add, seq, &add_addr_message(op, s)?),
            Change::DelAddr(s) => self.message(Rtm::Deladdr, 0, seq, &addr_message(op, s)?),
            Change::AddRoute(s) => self.message(Rtm::Newroute, add, seq, &route_message(op, s)?),
            Change::DelRoute(s) => {
                // The kernel matches a deletion on what is given: the protocol of a route
                // someone else (or an older keepalived) installed must not prevent removing it.
                let mut any_protocol = s.clone();
                any_protocol.protocol = 0;
                let payload = route_message(op, &any_protocol)?;
                self.message(Rtm::Delroute, 0, seq, &payload)
            }
            Change::AddRule(s) => self.message(Rtm::Newrule, add, seq, &rule_message(op, s)?),
            Change::DelRule(s) => self.message(Rtm::Delrule, 0, seq, &rule_message(op, s)?),
        }
    }

    fn message<P: Size + ToBytes>(
        &self,
        ty: Rtm,
        flags: u16,
        seq: u32,
        payload: &P,
    ) -> Result<Vec<u8>> {
        wire::encode(ty.into(), NLM_F_REQUEST | flags, seq, payload)
            .map_err(|e| NetlinkError::build(self.op(), self.target(), e))
    }

    /// The result of a change the kernel answered with `refusal` (`None`: no refusal).
    fn outcome(&self, refusal: Option<&Refusal>) -> Result<bool> {
        let Some(r) = refusal else { return Ok(true) };
        let errno = Errno::from_raw(r.code.saturating_neg());
        if errno == self.already() {
            return Ok(false);
        }
        Err(NetlinkError::Kernel {
            op: self.op(),
            target: self.target(),
            errno,
            ext_msg: r.ext_msg.clone(),
        })
    }
}

/// A kernel refusal: a negative errno and the extended-ack text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Refusal {
    code: i32,
    ext_msg: Option<String>,
}

/// The answers to one sent batch as they arrive: `count` changes numbered `first..` (wrapping),
/// then the closing no-op numbered `first + count`.
#[derive(Debug)]
pub(crate) struct Answers {
    first: u32,
    refusals: Vec<Option<Refusal>>,
    closed: bool,
}

impl Answers {
    pub(crate) fn new(first: u32, count: usize) -> Self {
        Answers {
            first,
            refusals: vec![None; count],
            closed: false,
        }
    }

    /// Takes in one received datagram. Answers to other requests (an earlier batch that timed
    /// out, a dump) are ignored; a malformed datagram is an error naming what was wrong.
    pub(crate) fn take(&mut self, datagram: &[u8]) -> std::result::Result<(), String> {
        for msg in wire::split(datagram)? {
            if msg.ty != wire::NLMSG_ERROR {
                continue;
            }
            let offset = msg.seq.wrapping_sub(self.first) as usize;
            if offset == self.refusals.len() {
                self.closed = true;
            } else if let Some(slot) = self.refusals.get_mut(offset) {
                let err = wire::parse_error(&msg)?;
                // Success is silent without NLM_F_ACK; a zero code would only confirm it.
                if err.code != 0 {
                    *slot = Some(Refusal {
                        code: err.code,
                        ext_msg: err.ext_msg,
                    });
                }
            }
        }
        Ok(())
    }

    /// Whether the closing acknowledgement arrived (so every refusal has).
    pub(crate) fn closed(&self) -> bool {
        self.closed
    }

    /// The refusal of the `k`-th sent change, if any.
    pub(crate) fn refusal(&self, k: usize) -> Option<&Refusal> {
        self.refusals.get(k).and_then(Option::as_ref)
    }
}

/// Sets the sequence number of an encoded message.
fn set_seq(message: &mut [u8], seq: u32) {
    if let Some(field) = message.get_mut(8..12) {
        field.copy_from_slice(&seq.to_ne_bytes());
    }
}

/// An `io::Error` standing for `e` (which is not `Clone`), once per change it concerns.
fn copy_io(e: &io::Error) -> io::Error {
    e.raw_os_error().map_or_else(
        || io::Error::new(e.kind(), e.to_string()),
        io::Error::from_raw_os_error,
    )
}

impl Rtnl {
    /// Makes `changes` in order, [`BATCH_SIZE`] per datagram; one result per change:
    /// `Ok(true)` made, `Ok(false)` already so (an address or route present when added,
    /// absent when deleted), or the error of that change alone. A change that cannot be
    /// encoded fails without stopping the others.
    pub fn apply(&mut self, changes: &[Change]) -> Vec<Result<bool>> {
        let mut out = Vec::with_capacity(changes.len());
        for chunk in changes.chunks(BATCH_SIZE) {
            self.apply_chunk(chunk, &mut out);
        }
        out
    }

    /// [`Rtnl::apply`] for one change.
    pub fn apply_one(&mut self, change: Change) -> Result<bool> {
        let op = change.op();
        self.apply(std::slice::from_ref(&change))
            .pop()
            .unwrap_or_else(|| Err(NetlinkError::malformed(op, "no result")))
    }

    fn apply_chunk(&mut self, chunk: &[Change], out: &mut Vec<Result<bool>>) {
        let mut results: Vec<Option<Result<bool>>> = chunk.iter().map(|_| None).collect();
        // Encoded first, so a change that cannot be built takes no sequence number.
        let mut sent: Vec<(usize, Vec<u8>)> = Vec::with_capacity(chunk.len());
        for (i, change) in chunk.iter().enumerate() {
            match change.encode(0) {
                Ok(bytes) => sent.push((i, bytes)),
                Err(e) => {
                    if let Some(slot) = results.get_mut(i) {
                        *slot = Some(Err(e));
                    }
                }
            }
        }
        if !sent.is_empty() {
            let count = u32::try_from(sent.len()).unwrap_or(u32::MAX);
            let first = self.take_seqs(count.saturating_add(1));
            let mut datagram = Vec::with_capacity(sent.iter().map(|(_, b)| b.len()).sum());
            let seqs = (0u32..).map(|k| first.wrapping_add(k));
            for (seq, (_, bytes)) in seqs.zip(sent.iter_mut()) {
                set_seq(bytes, seq);
                datagram.extend_from_slice(bytes);
            }
            datagram.extend_from_slice(&wire::noop_ack(first.wrapping_add(count)));
            let mut answers = Answers::new(first, sent.len());
            let failure = match self.send_raw(&datagram) {
                Err(e) => Some(("not sent", e)),
                Ok(()) => loop {
                    match self.recv_raw() {
                        Err(e) => break Some(("answer lost", e)),
                        Ok(n) => {
                            if let Err(reason) = answers.take(self.received(n)) {
                                log::warn!("netlink batch: malformed answer ignored: {reason}");
                            }
                            if answers.closed() {
                                break None;
                            }
                        }
                    }
                },
            };
            for (k, (i, _)) in sent.iter().enumerate() {
                let (Some(change), Some(slot)) = (chunk.get(*i), results.get_mut(*i)) else {
                    continue;
                };
                *slot = Some(match (answers.refusal(k), &failure) {
                    (None, Some((stage, e))) => Err(NetlinkError::Unconfirmed {
                        op: change.op(),
                        target: change.target(),
                        stage,
                        source: copy_io(e),
                    }),
                    (refusal, _) => change.outcome(refusal),
                });
            }
        }
        out.extend(results.into_iter().zip(chunk).map(|(r, change)| {
            r.unwrap_or_else(|| Err(NetlinkError::malformed(change.op(), "no result")))
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::IpAddr;

    fn header(len: u32, ty: u16, flags: u16, seq: u32) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&len.to_ne_bytes());
        v.extend_from_slice(&ty.to_ne_bytes());
        v.extend_from_slice(&flags.to_ne_bytes());
        v.extend_from_slice(&seq.to_ne_bytes());
        v.extend_from_slice(&0u32.to_ne_bytes());
        v
    }

    /// An `NLMSG_ERROR` answer with `code` for request `seq` (the echoed request capped).
    pub(crate) fn answer(seq: u32, code: i32) -> Vec<u8> {
        let mut v = header(36, wire::NLMSG_ERROR, 0x100, seq);
        v.extend_from_slice(&code.to_ne_bytes());
        v.extend_from_slice(&header(16, 20, 0, seq));
        v
    }

    fn addr(a: &str) -> AddrSpec {
        AddrSpec {
            ifindex: 3,
            addr: a.parse::<IpAddr>().unwrap(),
            prefix_len: 32,
            broadcast: None,
            scope: 0,
            label: None,
            nodad: false,
        }
    }

    #[test]
    fn refusals_land_on_their_own_change_and_the_noop_closes() {
        let mut a = Answers::new(u32::MAX - 1, 3);
        // An answer to someone else's request, then the refusal of the second change
        // (sequence number wrapped to 0), then the closing acknowledgement.
        a.take(&answer(77, -1)).unwrap();
        a.take(&answer(u32::MAX, -libc::ENODEV)).unwrap();
        assert!(!a.closed());
        let mut both = answer(0, -libc::EEXIST);
        both.extend(answer(1, 0));
        a.take(&both).unwrap();
        assert!(a.closed());
        assert_eq!(a.refusal(0), None);
        assert_eq!(a.refusal(1).map(|r| r.code), Some(-libc::ENODEV));
        assert_eq!(a.refusal(2).map(|r| r.code), Some(-libc::EEXIST));
        assert_eq!(a.refusal(3), None);
    }

    #[test]
    fn outcomes_map_already_so_to_false_and_keep_the_rest_as_errors() {
        let add = Change::AddAddr(addr("192.0.2.1"));
        let del = Change::DelAddr(addr("192.0.2.1"));
        let refusal = |errno: Errno| Refusal {
            code: -(errno as i32),
            ext_msg: Some("why".into()),
        };
        assert!(add.outcome(None).unwrap());
        assert!(!add.outcome(Some(&refusal(Errno::EEXIST))).unwrap());
        assert!(!del.outcome(Some(&refusal(Errno::EADDRNOTAVAIL))).unwrap());
        let e = del.outcome(Some(&refusal(Errno::ENODEV))).unwrap_err();
        assert_eq!(e.errno(), Some(libc::ENODEV));
        let text = e.to_string();
        assert!(
            text.contains("delete address 192.0.2.1/32 on ifindex 3"),
            "{text}"
        );
        assert!(text.contains("(why)"), "{text}");
        let route = RouteSpec::new("198.51.100.0".parse().unwrap(), 24);
        assert!(!Change::DelRoute(route.clone())
            .outcome(Some(&refusal(Errno::ESRCH)))
            .unwrap());
        assert!(Change::AddRoute(route)
            .outcome(Some(&refusal(Errno::ESRCH)))
            .is_err());
        assert!(!Change::DelRule(RuleSpec::new(false))
            .outcome(Some(&refusal(Errno::ENOENT)))
            .unwrap());
    }

    #[test]
    fn requests_go_without_ack_and_deletions_match_any_protocol() {
        let bytes = Change::AddAddr(addr("192.0.2.1")).encode(9).unwrap();
        let msgs = wire::split(&bytes).unwrap();
        assert_eq!(msgs[0].ty, u16::from(Rtm::Newaddr));
        assert_eq!(msgs[0].flags, NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL);
        assert_eq!(msgs[0].seq, 9);
        let mut route = RouteSpec::new("198.51.100.0".parse().unwrap(), 24);
        route.protocol = 18;
        let bytes = Change::DelRoute(route).encode(1).unwrap();
        let msgs = wire::split(&bytes).unwrap();
        assert_eq!(msgs[0].flags, NLM_F_REQUEST);
        assert_eq!(msgs[0].payload[5], 0, "rtm_protocol of a deletion");
        let mut message = bytes.clone();
        set_seq(&mut message, 0x0102_0304);
        assert_eq!(wire::split(&message).unwrap()[0].seq, 0x0102_0304);
    }

    #[test]
    fn malformed_answers_are_errors_not_panics() {
        let mut a = Answers::new(5, 2);
        assert!(a.take(&[1, 2, 3]).is_err());
        let mut short = header(20, wire::NLMSG_ERROR, 0, 5);
        short.extend_from_slice(&[0xff; 4]);
        a.take(&short).unwrap();
        assert_eq!(a.refusal(0).map(|r| r.code), Some(-1));
        assert!(!a.closed());
    }

    proptest::proptest! {
        /// Whatever the starting sequence number (wrapping included), which changes are
        /// refused, how the answers are grouped into datagrams and what foreign answers are
        /// mixed in, each refusal lands on its own change and nothing else does.
        #[test]
        fn answers_match_their_changes(
            first in proptest::prelude::any::<u32>(),
            codes in proptest::collection::vec(proptest::option::of(1i32..200), 1..80),
            foreign in proptest::collection::vec(proptest::prelude::any::<u32>(), 0..10),
            per_datagram in 1usize..8,
        ) {
            let count = codes.len();
            let ours = |seq: u32| (seq.wrapping_sub(first) as usize) <= count;
            let mut messages: Vec<Vec<u8>> = Vec::new();
            let mut foreign = foreign.into_iter().filter(|s| !ours(*s));
            for (seq, code) in (0u32..).map(|k| first.wrapping_add(k)).zip(&codes) {
                if let Some(c) = code {
                    messages.push(answer(seq, -c));
                }
                if let Some(f) = foreign.next() {
                    messages.push(answer(f, -5));
                }
            }
            messages.push(answer(first.wrapping_add(count as u32), 0));
            let mut a = Answers::new(first, count);
            for group in messages.chunks(per_datagram) {
                proptest::prop_assert!(!a.closed());
                a.take(&group.concat()).unwrap();
            }
            proptest::prop_assert!(a.closed());
            for (k, code) in codes.iter().enumerate() {
                proptest::prop_assert_eq!(a.refusal(k).map(|r| -r.code), *code);
            }
        }
    }
}
