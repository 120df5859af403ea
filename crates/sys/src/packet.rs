//! `AF_PACKET` sockets for gratuitous ARP and unsolicited neighbour advertisements.
//!
//! The caller builds the whole Ethernet frame (`keepalived_vrrp::codec::garp`), so one socket
//! type serves both ARP and NA, and the source MAC in the frame may be a VMAC. The sending
//! socket is opened with protocol 0, which the kernel never delivers to, so it never queues
//! received frames. [`PacketSocket::open_listener`] (a refinement of the agreed API) opens a
//! receiving socket for one EtherType, used by tests and diagnostics.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use nix::errno::Errno;
use nix::sys::socket::{self as nixsock, MsgFlags};
use socket2::{Domain, Protocol, Socket, Type};

use crate::error::{OsContext, Result, SysError};

/// EtherType of ARP, for [`PacketSocket::open_listener`].
pub const ETH_P_ARP: u16 = 0x0806;
/// EtherType of IPv6, for [`PacketSocket::open_listener`].
pub const ETH_P_IPV6: u16 = 0x86dd;
/// Every EtherType, for [`PacketSocket::open_listener`].
pub const ETH_P_ALL: u16 = 0x0003;

/// A non-blocking `AF_PACKET`/`SOCK_RAW` socket bound to one interface.
#[derive(Debug)]
pub struct PacketSocket {
    sock: Socket,
    ifindex: u32,
}

impl PacketSocket {
    /// Opens a send-only packet socket on interface `ifindex`.
    pub fn open(ifindex: u32) -> Result<Self> {
        Self::open_proto(ifindex, 0)
    }

    /// Opens a packet socket on `ifindex` that also receives frames of `ethertype`
    /// (host byte order, e.g. [`ETH_P_ARP`]).
    pub fn open_listener(ifindex: u32, ethertype: u16) -> Result<Self> {
        Self::open_proto(ifindex, ethertype)
    }

    fn open_proto(ifindex: u32, ethertype: u16) -> Result<Self> {
        let ctx = || format!("ifindex {ifindex}");
        if ifindex == 0 {
            return Err(SysError::Invalid {
                what: "open packet socket",
                context: ctx(),
                reason: "a packet socket needs a real interface index",
            });
        }
        let protocol = ethertype.to_be();
        let sock = Socket::new(
            Domain::PACKET,
            Type::RAW,
            Some(Protocol::from(i32::from(protocol))),
        )
        .ctx("socket(AF_PACKET, SOCK_RAW)", ctx)?;
        sock.set_nonblocking(true).ctx("set O_NONBLOCK", ctx)?;
        bind_ll(&sock, ifindex, protocol).ctx("bind AF_PACKET", ctx)?;
        Ok(PacketSocket { sock, ifindex })
    }

    /// The interface this socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sends one whole Ethernet frame (destination MAC first) out of the interface.
    pub fn send(&self, frame: &[u8]) -> Result<()> {
        loop {
            match self.sock.send(frame) {
                Ok(n) if n == frame.len() => return Ok(()),
                Ok(_) => {
                    return Err(SysError::Invalid {
                        what: "send frame",
                        context: format!("ifindex {}", self.ifindex),
                        reason: "frame sent short",
                    })
                }
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    return Err(SysError::os(
                        "send frame",
                        format!("ifindex {}", self.ifindex),
                        e,
                    ))
                }
            }
        }
    }

    /// Receives one whole frame (listener sockets only); `None` when nothing is queued.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        loop {
            match nixsock::recv(self.sock.as_raw_fd(), buf, MsgFlags::empty()) {
                Ok(n) => return Ok(Some(n)),
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Ok(None),
                Err(e) => {
                    return Err(SysError::os(
                        "recv frame",
                        format!("ifindex {}", self.ifindex),
                        e,
                    ))
                }
            }
        }
    }
}

/// Binds a packet socket to one interface (and protocol, network byte order).
fn bind_ll(sock: &Socket, ifindex: u32, protocol_be: u16) -> std::io::Result<()> {
    let ifindex = libc::c_int::try_from(ifindex)
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    let addr = libc::sockaddr_ll {
        sll_family: libc::AF_PACKET as libc::c_ushort,
        sll_protocol: protocol_be,
        sll_ifindex: ifindex,
        sll_hatype: 0,
        sll_pkttype: 0,
        sll_halen: 0,
        sll_addr: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t;
    // SAFETY: the socket fd is live for the call; `addr` is a fully initialised sockaddr_ll of
    // exactly `len` bytes, only read by the kernel.
    let rc = unsafe {
        libc::bind(
            sock.as_raw_fd(),
            (&addr as *const libc::sockaddr_ll).cast::<libc::sockaddr>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

impl AsRawFd for PacketSocket {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for PacketSocket {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifindex_zero_is_refused() {
        assert!(matches!(
            PacketSocket::open(0),
            Err(SysError::Invalid { .. })
        ));
    }

    #[test]
    fn loopback_frame_round_trip_when_root() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let lo = nix::net::if_::if_nametoindex("lo").unwrap();
        let rx = PacketSocket::open_listener(lo, 0x88b5).unwrap();
        let tx = PacketSocket::open(lo).unwrap();
        let mut frame = vec![0u8; 60];
        frame[12] = 0x88; // local experimental EtherType 0x88b5
        frame[13] = 0xb5;
        frame[14..18].copy_from_slice(b"kars");
        tx.send(&frame).unwrap();
        let mut buf = [0u8; 2048];
        let mut seen = false;
        // lo delivers both the outgoing and incoming copy; any one carrying our tag will do.
        for _ in 0..50 {
            while let Some(n) = rx.recv(&mut buf).unwrap() {
                seen |= n == 60 && &buf[14..18] == b"kars";
            }
            if seen {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(seen);
    }
}
