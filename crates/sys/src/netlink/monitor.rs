//! [`Monitor`]: the non-blocking socket that hears link and address changes.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use neli::{
    consts::{
        rtnl::Rtm,
        socket::{Msg, NlFamily},
    },
    socket::NlSocket,
    utils::Groups,
};

use super::addr::{parse_addr, Addr};
use super::error::{NetlinkError, Result};
use super::link::{parse_link, Link};
use super::wire;

/// Receive buffer for one datagram (notifications are small; a dump-sized buffer is plenty).
const RECV_BUF: usize = 64 * 1024;

/// A change reported by the kernel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    /// `RTM_NEWLINK`: a link appeared or changed (admin state, carrier, name, MAC, MTU...).
    /// The [`Link`] is its new state; compare with what you knew.
    LinkChanged(Link),
    /// `RTM_DELLINK`: a link disappeared.
    LinkRemoved {
        /// Its index.
        index: u32,
        /// Its name.
        name: String,
    },
    /// `RTM_NEWADDR`: an address was added (or its flags changed, e.g. IPv6 DAD finished).
    AddrAdded(Addr),
    /// `RTM_DELADDR`: an address was removed.
    AddrRemoved(Addr),
    /// The kernel dropped notifications (`ENOBUFS`): state is unknown, re-dump links and
    /// addresses with [`super::Rtnl`].
    Overrun,
}

/// The non-blocking monitor socket, subscribed to `RTNLGRP_LINK`, `RTNLGRP_IPV4_IFADDR` and
/// `RTNLGRP_IPV6_IFADDR`. Register its fd with the shell's poll (readable) and call
/// [`Monitor::read_events`] when it fires (it drains the socket, as edge-triggered mio needs).
pub struct Monitor {
    sock: NlSocket,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Monitor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Monitor")
            .field("fd", &self.sock.as_raw_fd())
            .finish()
    }
}

impl Monitor {
    /// Opens the monitor socket (non-blocking, close-on-exec).
    pub fn new() -> Result<Self> {
        let groups = Groups::new_groups(&[
            libc::RTNLGRP_LINK,
            libc::RTNLGRP_IPV4_IFADDR,
            libc::RTNLGRP_IPV6_IFADDR,
        ]);
        let sock = NlSocket::connect(NlFamily::Route, None, groups)
            .map_err(|e| NetlinkError::socket("open monitor socket", e))?;
        sock.nonblock()
            .map_err(|e| NetlinkError::socket("make monitor socket non-blocking", e))?;
        Ok(Monitor {
            sock,
            buf: vec![0; RECV_BUF],
        })
    }

    /// Sets the socket's receive buffer (`SO_RCVBUF`, capped by `net.core.rmem_max`); a
    /// larger one avoids overruns with many interfaces (keepalived's
    /// `vrrp_netlink_monitor_rcv_bufs`).
    pub fn set_recv_buffer_size(&self, bytes: usize) -> Result<()> {
        self.sock
            .set_recv_buffer_size(bytes)
            .map_err(|e| NetlinkError::socket("set monitor receive buffer", e))
    }

    /// Reads every pending notification until the socket would block. A notification that
    /// cannot be parsed is logged and skipped. `ENOBUFS` yields [`NetEvent::Overrun`] (once
    /// per overrun) and reading goes on.
    pub fn read_events(&mut self) -> Result<Vec<NetEvent>> {
        let mut events = Vec::new();
        loop {
            let n = match self.sock.recv(&mut self.buf, Msg::empty()) {
                Ok((n, _)) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => {
                    events.push(NetEvent::Overrun);
                    continue;
                }
                Err(e) => return Err(NetlinkError::socket("read monitor socket", e)),
            };
            let data = self.buf.get(..n).unwrap_or_default();
            decode_datagram(data, &mut events);
        }
        Ok(events)
    }
}

/// Turns one received datagram into events (pure; unit-tested).
pub(crate) fn decode_datagram(data: &[u8], events: &mut Vec<NetEvent>) {
    const OP: &str = "monitor";
    let msgs = match wire::split(data) {
        Ok(m) => m,
        Err(reason) => {
            log::warn!("netlink monitor: skipping a malformed datagram: {reason}");
            return;
        }
    };
    let newlink: u16 = Rtm::Newlink.into();
    let dellink: u16 = Rtm::Dellink.into();
    let newaddr: u16 = Rtm::Newaddr.into();
    let deladdr: u16 = Rtm::Deladdr.into();
    for msg in msgs {
        let event = match msg.ty {
            t if t == newlink => {
                parse_link(OP, msg.payload).map(|d| Some(NetEvent::LinkChanged(d.link)))
            }
            t if t == dellink => parse_link(OP, msg.payload).map(|d| {
                Some(NetEvent::LinkRemoved {
                    index: d.link.index,
                    name: d.link.name,
                })
            }),
            t if t == newaddr => parse_addr(OP, msg.payload).map(|a| a.map(NetEvent::AddrAdded)),
            t if t == deladdr => parse_addr(OP, msg.payload).map(|a| a.map(NetEvent::AddrRemoved)),
            wire::NLMSG_OVERRUN => Ok(Some(NetEvent::Overrun)),
            _ => Ok(None),
        };
        match event {
            Ok(Some(e)) => events.push(e),
            Ok(None) => {}
            Err(e) => log::warn!("netlink monitor: skipping a notification: {e}"),
        }
    }
}

impl AsRawFd for Monitor {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for Monitor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        // SAFETY: the fd is owned by `self.sock`, open until it is dropped, and the borrow
        // cannot outlive `self`.
        unsafe { BorrowedFd::borrow_raw(self.sock.as_raw_fd()) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netlink::addr::addr_message;
    use crate::netlink::AddrSpec;
    use neli::ToBytes;

    #[test]
    fn address_notifications_become_events() {
        let spec = AddrSpec {
            ifindex: 2,
            addr: "192.0.2.7".parse().unwrap(),
            prefix_len: 32,
            broadcast: None,
            scope: 0,
            label: Some("eth0:v".into()),
            nodad: false,
        };
        let msg = addr_message("t", &spec).unwrap();
        let mut c = std::io::Cursor::new(Vec::new());
        msg.to_bytes(&mut c).unwrap();
        let mut data = wire::encode(Rtm::Newaddr.into(), 0, 0, &c.get_ref().as_slice()).unwrap();
        data.extend(wire::encode(Rtm::Deladdr.into(), 0, 0, &c.get_ref().as_slice()).unwrap());
        data.extend(wire::encode(99, 0, 0, &[0u8; 4].as_slice()).unwrap());
        let mut events = Vec::new();
        decode_datagram(&data, &mut events);
        assert_eq!(events.len(), 2, "{events:?}");
        match (&events[0], &events[1]) {
            (NetEvent::AddrAdded(a), NetEvent::AddrRemoved(b)) => {
                assert_eq!(a, b);
                assert_eq!(a.addr, spec.addr);
                assert_eq!(a.label.as_deref(), Some("eth0:v"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn junk_datagrams_are_skipped() {
        let mut events = Vec::new();
        decode_datagram(&[1, 2, 3], &mut events);
        let bad = wire::encode(Rtm::Newlink.into(), 0, 0, &[1u8, 2].as_slice()).unwrap();
        decode_datagram(&bad, &mut events);
        assert!(events.is_empty());
    }
}
