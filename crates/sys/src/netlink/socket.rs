//! [`Rtnl`]: the blocking request/acknowledge rtnetlink socket.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use neli::{
    consts::socket::{Msg, NlFamily},
    socket::NlSocket,
    utils::Groups,
    Size, ToBytes,
};
use nix::errno::Errno;

use super::error::{NetlinkError, Result};
use super::wire::{self, RawMsg};

pub(crate) use super::wire::{NLM_F_ACK, NLM_F_REQUEST};
/// `NLM_F_DUMP` (`NLM_F_ROOT | NLM_F_MATCH`).
pub(crate) const NLM_F_DUMP: u16 = 0x300;
/// `NLM_F_EXCL`.
pub(crate) const NLM_F_EXCL: u16 = 0x200;
/// `NLM_F_CREATE`.
pub(crate) const NLM_F_CREATE: u16 = 0x400;

/// Receive buffer: larger than the biggest datagram the kernel sends for a dump (32 KiB skbs,
/// or one page if larger) so nothing is truncated.
const RECV_BUF: usize = 64 * 1024;

/// How long a request waits for the kernel's answer before failing with `EAGAIN`.
const ANSWER_TIMEOUT_SECS: i64 = 5;

/// The blocking rtnetlink request socket: dumps (links, addresses) and changes (addresses,
/// routes, links), each answered before the call returns.
///
/// Create it in the process that uses it (after fork). Blocking: do not register it with a poll.
pub struct Rtnl {
    sock: NlSocket,
    seq: u32,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Rtnl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Rtnl")
            .field("fd", &self.sock.as_raw_fd())
            .field("seq", &self.seq)
            .finish()
    }
}

impl Rtnl {
    /// Opens and binds a `NETLINK_ROUTE` socket with extended acks enabled (so kernel
    /// refusals come with a reason).
    pub fn new() -> Result<Self> {
        let sock = NlSocket::connect(NlFamily::Route, None, Groups::empty())
            .map_err(|e| NetlinkError::socket("open route socket", e))?;
        sock.block()
            .map_err(|e| NetlinkError::socket("make route socket blocking", e))?;
        // Best effort: old kernels lack extended acks; errors then come without a text.
        let _ = sock.enable_ext_ack(true);
        let rtnl = Rtnl {
            sock,
            seq: seed_seq(),
            buf: vec![0; RECV_BUF],
        };
        nix::sys::socket::setsockopt(
            &rtnl,
            nix::sys::socket::sockopt::ReceiveTimeout,
            &nix::sys::time::TimeVal::new(ANSWER_TIMEOUT_SECS, 0),
        )
        .map_err(|e| NetlinkError::socket("set route socket receive timeout", e.into()))?;
        Ok(rtnl)
    }

    fn next_seq(&mut self) -> u32 {
        self.seq = self.seq.wrapping_add(1);
        self.seq
    }

    fn send<P: Size + ToBytes>(
        &mut self,
        op: &'static str,
        target: &dyn Fn() -> String,
        ty: u16,
        flags: u16,
        payload: &P,
    ) -> Result<u32> {
        let seq = self.next_seq();
        let bytes = wire::encode(ty, NLM_F_REQUEST | flags, seq, payload)
            .map_err(|e| NetlinkError::build(op, target(), e))?;
        self.sock
            .send(&bytes, Msg::empty())
            .map_err(|e| NetlinkError::socket(op, e))?;
        Ok(seq)
    }

    fn recv(&mut self, op: &'static str) -> Result<usize> {
        self.recv_raw().map_err(|e| NetlinkError::socket(op, e))
    }

    /// Receives one datagram into the socket's buffer (see [`Rtnl::received`]); retries
    /// when interrupted by a signal.
    pub(crate) fn recv_raw(&mut self) -> std::io::Result<usize> {
        loop {
            match self.sock.recv(&mut self.buf, Msg::empty()) {
                Ok((n, _)) => return Ok(n),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The first `n` bytes of the receive buffer (what [`Rtnl::recv_raw`] returned).
    pub(crate) fn received(&self, n: usize) -> &[u8] {
        self.buf.get(..n).unwrap_or_default()
    }

    /// Sends a datagram holding one or more whole netlink messages.
    pub(crate) fn send_raw(&mut self, datagram: &[u8]) -> std::io::Result<()> {
        loop {
            match self.sock.send(datagram, Msg::empty()) {
                Ok(_) => return Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Takes `count` consecutive sequence numbers and returns the first.
    pub(crate) fn take_seqs(&mut self, count: u32) -> u32 {
        let first = self.seq.wrapping_add(1);
        self.seq = self.seq.wrapping_add(count);
        first
    }

    /// Sends a change request with `NLM_F_ACK` and waits for its answer. `Ok(Err(errno))` is
    /// a refusal by the kernel, which the callers map (e.g. `EEXIST` is "already there").
    pub(crate) fn request<P: Size + ToBytes>(
        &mut self,
        op: &'static str,
        target: &dyn Fn() -> String,
        ty: u16,
        flags: u16,
        payload: &P,
    ) -> Result<std::result::Result<(), (Errno, Option<String>)>> {
        let seq = self.send(op, target, ty, flags | NLM_F_ACK, payload)?;
        loop {
            let n = self.recv(op)?;
            let data = self.buf.get(..n).unwrap_or_default();
            let msgs = wire::split(data).map_err(|r| NetlinkError::malformed(op, r))?;
            for msg in msgs.iter().filter(|m| m.seq == seq) {
                if msg.ty == wire::NLMSG_ERROR {
                    let err = wire::parse_error(msg).map_err(|r| NetlinkError::malformed(op, r))?;
                    return Ok(if err.code == 0 {
                        Ok(())
                    } else {
                        Err((Errno::from_raw(err.code.saturating_neg()), err.ext_msg))
                    });
                }
            }
        }
    }

    /// Like [`Rtnl::request`], mapping every refusal to an error.
    pub(crate) fn request_ok<P: Size + ToBytes>(
        &mut self,
        op: &'static str,
        target: &dyn Fn() -> String,
        ty: u16,
        flags: u16,
        payload: &P,
    ) -> Result<()> {
        self.request(op, target, ty, flags, payload)?
            .map_err(|(errno, ext_msg)| NetlinkError::Kernel {
                op,
                target: target(),
                errno,
                ext_msg,
            })
    }

    /// Sends a dump request and hands every answer message of type `want` to `each`, until
    /// `NLMSG_DONE`. An interrupted dump (`NLM_F_DUMP_INTR`, the table changed meanwhile) is
    /// restarted, up to a few times.
    pub(crate) fn dump<P: Size + ToBytes>(
        &mut self,
        op: &'static str,
        ty: u16,
        want: u16,
        payload: &P,
        each: &mut dyn FnMut(&RawMsg<'_>) -> Result<()>,
    ) -> Result<()> {
        const ATTEMPTS: usize = 3;
        for attempt in 1..=ATTEMPTS {
            let mut collected: Vec<Vec<u8>> = Vec::new();
            let mut interrupted = false;
            let seq = self.send(op, &String::new, ty, NLM_F_DUMP, payload)?;
            'recv: loop {
                let n = self.recv(op)?;
                let data = self.buf.get(..n).unwrap_or_default();
                let msgs = wire::split(data).map_err(|r| NetlinkError::malformed(op, r))?;
                for msg in msgs.iter().filter(|m| m.seq == seq) {
                    interrupted |= msg.flags & wire::NLM_F_DUMP_INTR != 0;
                    match msg.ty {
                        wire::NLMSG_DONE => break 'recv,
                        wire::NLMSG_ERROR => {
                            let err = wire::parse_error(msg)
                                .map_err(|r| NetlinkError::malformed(op, r))?;
                            if err.code == 0 {
                                break 'recv;
                            }
                            return Err(NetlinkError::Kernel {
                                op,
                                target: String::new(),
                                errno: Errno::from_raw(err.code.saturating_neg()),
                                ext_msg: err.ext_msg,
                            });
                        }
                        t if t == want => collected.push(msg.payload.to_vec()),
                        _ => {}
                    }
                }
            }
            if interrupted && attempt < ATTEMPTS {
                log::debug!("netlink {op}: dump interrupted by a change, restarting");
                continue;
            }
            for payload in &collected {
                each(&RawMsg {
                    ty: want,
                    flags: wire::NLM_F_MULTI,
                    seq,
                    payload,
                })?;
            }
            return Ok(());
        }
        Ok(())
    }
}

/// A starting sequence number that differs between processes, so answers to a previous
/// owner of a recycled port id are never taken for ours.
fn seed_seq() -> u32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    now ^ std::process::id().rotate_left(16)
}

impl AsRawFd for Rtnl {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for Rtnl {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd is owned by `self.sock`, open until it is dropped, and the borrow
        // cannot outlive `self`.
        unsafe { BorrowedFd::borrow_raw(self.sock.as_raw_fd()) }
    }
}
