//! [`Ipvs`]: a blocking generic-netlink socket bound to the IPVS family.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use neli::{
    consts::socket::{Msg, NlFamily},
    socket::NlSocket,
    utils::Groups,
};
use nix::errno::Errno;

use super::{encode, IpvsRequest, IpvsSysError, IPVS_GENL_NAME};
use crate::netlink::wire;

/// `GENL_ID_CTRL`: the nlctrl family's fixed id.
const GENL_ID_CTRL: u16 = 0x10;
/// `NLM_F_REQUEST`.
const NLM_F_REQUEST: u16 = 0x01;
/// `NLM_F_ACK`.
const NLM_F_ACK: u16 = 0x04;
/// Answers are small (acks, one family description).
const RECV_BUF: usize = 32 * 1024;
/// How long a request waits for the kernel's answer.
const ANSWER_TIMEOUT_SECS: i64 = 5;

/// A generic-netlink socket talking to the kernel's IPVS family.
///
/// Blocking, with a 5 s answer timeout; open it in the process that uses it (after fork).
pub struct Ipvs {
    sock: NlSocket,
    family: u16,
    seq: u32,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Ipvs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ipvs")
            .field("fd", &self.sock.as_raw_fd())
            .field("family", &self.family)
            .finish()
    }
}

/// What one acknowledged request brought back.
struct Answer {
    /// `Err` with the kernel's errno and text, or `Ok` with the payloads of the non-ack
    /// messages of type `want` that came before the acknowledgement.
    result: Result<Vec<Vec<u8>>, (Errno, Option<String>)>,
}

impl Ipvs {
    /// Opens a generic-netlink socket and resolves the `"IPVS"` family.
    ///
    /// A kernel without IPVS gives [`IpvsSysError::NotAvailable`]; so does a kernel without
    /// generic netlink at all.
    pub fn open() -> Result<Self, IpvsSysError> {
        let sock = NlSocket::connect(NlFamily::Generic, None, Groups::empty()).map_err(|e| {
            if e.raw_os_error() == Some(libc::EPROTONOSUPPORT) {
                IpvsSysError::NotAvailable {
                    reason: format!("no generic netlink: {e}"),
                }
            } else {
                IpvsSysError::Socket {
                    op: "open generic netlink socket",
                    source: e,
                }
            }
        })?;
        sock.block().map_err(|e| IpvsSysError::Socket {
            op: "make generic netlink socket blocking",
            source: e,
        })?;
        let _ = sock.enable_ext_ack(true);
        let mut ipvs = Ipvs {
            sock,
            family: 0,
            seq: seed_seq(),
            buf: vec![0; RECV_BUF],
        };
        nix::sys::socket::setsockopt(
            &ipvs,
            nix::sys::socket::sockopt::ReceiveTimeout,
            &nix::sys::time::TimeVal::new(ANSWER_TIMEOUT_SECS, 0),
        )
        .map_err(|e| IpvsSysError::Socket {
            op: "set generic netlink receive timeout",
            source: e.into(),
        })?;
        let op = "resolve family";
        let answer = ipvs.exchange(op, GENL_ID_CTRL, &encode::get_family(IPVS_GENL_NAME))?;
        match answer.result {
            Ok(payloads) => {
                ipvs.family = payloads
                    .iter()
                    .find_map(|p| encode::family_id(p))
                    .ok_or_else(|| IpvsSysError::Malformed {
                        op,
                        reason: "no family id in the nlctrl answer".into(),
                    })?;
                Ok(ipvs)
            }
            Err((Errno::ENOENT, msg)) => Err(IpvsSysError::NotAvailable {
                reason: format!(
                    "the kernel has no \"{IPVS_GENL_NAME}\" generic netlink family ({}{})",
                    Errno::ENOENT.desc(),
                    msg.map(|m| format!(": {m}")).unwrap_or_default()
                ),
            }),
            Err((errno, ext_msg)) => Err(IpvsSysError::Kernel { op, errno, ext_msg }),
        }
    }

    /// The resolved family id.
    pub fn family(&self) -> u16 {
        self.family
    }

    /// Carries out `req` and waits for the kernel's acknowledgement.
    pub fn send(&mut self, req: &IpvsRequest) -> Result<(), IpvsSysError> {
        let op = req.op();
        let body = encode::encode(req).map_err(|source| IpvsSysError::Encode { op, source })?;
        let family = self.family;
        match self.exchange(op, family, &body)?.result {
            Ok(_) => Ok(()),
            Err((errno, ext_msg)) => Err(IpvsSysError::Kernel { op, errno, ext_msg }),
        }
    }

    /// Sends `body` to family `ty` with `NLM_F_ACK` and reads until the acknowledgement.
    fn exchange(&mut self, op: &'static str, ty: u16, body: &[u8]) -> Result<Answer, IpvsSysError> {
        self.seq = self.seq.wrapping_add(1);
        let seq = self.seq;
        let bytes = wire::encode(ty, NLM_F_REQUEST | NLM_F_ACK, seq, &body).map_err(|e| {
            IpvsSysError::Malformed {
                op,
                reason: format!("cannot frame request: {e}"),
            }
        })?;
        self.sock
            .send(&bytes, Msg::empty())
            .map_err(|source| IpvsSysError::Socket { op, source })?;
        let mut payloads = Vec::new();
        loop {
            let n = loop {
                match self.sock.recv(&mut self.buf, Msg::empty()) {
                    Ok((n, _)) => break n,
                    Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                    Err(source) => return Err(IpvsSysError::Socket { op, source }),
                }
            };
            let data = self.buf.get(..n).unwrap_or_default();
            let msgs =
                wire::split(data).map_err(|reason| IpvsSysError::Malformed { op, reason })?;
            for msg in msgs.iter().filter(|m| m.seq == seq) {
                if msg.ty == wire::NLMSG_ERROR {
                    let err = wire::parse_error(msg)
                        .map_err(|reason| IpvsSysError::Malformed { op, reason })?;
                    let result = if err.code == 0 {
                        Ok(payloads)
                    } else {
                        Err((Errno::from_raw(err.code.saturating_neg()), err.ext_msg))
                    };
                    return Ok(Answer { result });
                }
                if msg.ty == ty {
                    payloads.push(msg.payload.to_vec());
                }
            }
        }
    }
}

/// A starting sequence number that differs between processes.
fn seed_seq() -> u32 {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    now ^ std::process::id().rotate_left(16)
}

impl AsRawFd for Ipvs {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for Ipvs {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd is owned by `self.sock`, open until it is dropped, and the borrow
        // cannot outlive `self`.
        unsafe { BorrowedFd::borrow_raw(self.sock.as_raw_fd()) }
    }
}
