//! The datagram probes: UDP_CHECK and DNS_CHECK on a connected UDP socket, PING_CHECK on an
//! unprivileged ICMP/ICMPv6 datagram socket (`SOCK_DGRAM`, `IPPROTO_ICMP`), which the kernel
//! only lets groups in `net.ipv4.ping_group_range` open.
//!
//! A connected UDP socket reports an ICMP port unreachable as `ECONNREFUSED` on the next
//! receive (epoll flags it as an error, which the loop passes on as readable), so no
//! `IP_RECVERR` queue is needed to tell "closed port" from "silent".

use super::probe::Step;
use keepalived_check::dns::{check_reply, DnsReply};
use keepalived_check::icmp;
use keepalived_check::tcp::Endpoints;
use keepalived_check::udp::ReplyRule;
use mio::net::UdpSocket;
use mio::{Interest, Registry, Token};
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, ErrorKind};
use std::net::SocketAddr;

/// What the datagram probe checks.
#[derive(Debug)]
pub enum DgramKind {
    /// UDP_CHECK with its reply rule.
    Udp(ReplyRule),
    /// DNS_CHECK waiting for the answer to this id.
    Dns(u16),
    /// PING_CHECK (IPv6 when true).
    Ping(bool),
}

/// One datagram exchange.
pub struct Dgram {
    sock: UdpSocket,
    kind: DgramKind,
    packet: Vec<u8>,
    sent: bool,
}

/// Opens a non-blocking datagram socket for `ep` (ICMP when `ping`), bound and connected,
/// and registers it.
pub fn open(
    ep: &Endpoints,
    ping: bool,
    registry: &Registry,
    token: Token,
) -> io::Result<UdpSocket> {
    let domain = Domain::for_address(ep.dst);
    let protocol = match (ping, ep.dst) {
        (false, _) => Protocol::UDP,
        (true, SocketAddr::V4(_)) => Protocol::ICMPV4,
        (true, SocketAddr::V6(_)) => Protocol::ICMPV6,
    };
    let socket = Socket::new(domain, Type::DGRAM, Some(protocol))?;
    socket.set_nonblocking(true)?;
    if let Some(mark) = ep.fwmark {
        socket.set_mark(mark)?;
    }
    if let Some(src) = ep.src {
        let src = if ping {
            SocketAddr::new(src.ip(), 0)
        } else {
            src
        };
        if src.port() != 0 {
            socket.set_reuse_address(true)?;
        }
        socket.bind(&src.into())?;
    }
    let dst = if ping {
        SocketAddr::new(ep.dst.ip(), 0)
    } else {
        ep.dst
    };
    socket.connect(&dst.into())?;
    let mut sock = UdpSocket::from_std(std::net::UdpSocket::from(socket));
    registry.register(&mut sock, token, Interest::READABLE | Interest::WRITABLE)?;
    Ok(sock)
}

impl Dgram {
    /// A probe that sends `packet` on `sock` and judges the answer as `kind` says.
    pub fn new(sock: UdpSocket, kind: DgramKind, packet: Vec<u8>) -> Self {
        Self {
            sock,
            kind,
            packet,
            sent: false,
        }
    }

    /// Unregisters the socket.
    pub fn close(mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.sock);
    }

    /// Sends the request (once) and reads what came back.
    pub fn drive(&mut self) -> Step {
        if !self.sent {
            match self.sock.send(&self.packet) {
                Ok(_) => self.sent = true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Pending,
                Err(e) => {
                    log::debug!("datagram send: {e}");
                    return Step::Failed(self.send_failure());
                }
            }
        }
        let size = match &self.kind {
            DgramKind::Udp(rule) => rule.recv_len(),
            DgramKind::Dns(_) => 4096,
            DgramKind::Ping(_) => icmp::HEADER_LEN + icmp::PAYLOAD_LEN,
        };
        let mut buf = vec![0u8; size];
        loop {
            let n = match self.sock.recv(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Pending,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => {
                    log::debug!("datagram receive: {e}");
                    return Step::Failed(self.recv_failure());
                }
            };
            // No progress is counted: a datagram check has one deadline, which stray
            // datagrams (another id) must not push back.
            let data = buf.get(..n).unwrap_or_default();
            match &self.kind {
                DgramKind::Udp(rule) => {
                    return if rule.accepts(data) {
                        Step::Succeeded
                    } else {
                        Step::Failed("UDP check reply data mismatch to")
                    };
                }
                DgramKind::Dns(id) => match check_reply(*id, data) {
                    DnsReply::Ignore => continue,
                    DnsReply::Ok => return Step::Succeeded,
                    DnsReply::Error(rcode) => {
                        log::debug!("DNS_CHECK answer rcode {rcode}");
                        return Step::Failed("DNS_CHECK read error occurred (rcode != 0) from");
                    }
                },
                DgramKind::Ping(v6) => {
                    return match icmp::check_reply(*v6, data) {
                        Ok(()) => Step::Succeeded,
                        Err(e) => {
                            log::debug!("ICMP reply: {e:?}");
                            Step::Failed("ICMP connection failed to")
                        }
                    };
                }
            }
        }
    }

    /// The result when the timeout comes first: silence passes a UDP_CHECK without
    /// `require_reply`.
    pub fn timeout_result(&self) -> Result<(), &'static str> {
        match &self.kind {
            DgramKind::Udp(rule) if rule.silence_passes() => Ok(()),
            DgramKind::Udp(_) => Err("UDP check reply timeout from"),
            DgramKind::Dns(_) => Err("DNS_CHECK read timeout from"),
            DgramKind::Ping(_) => Err("ICMP connection timeout to"),
        }
    }

    fn send_failure(&self) -> &'static str {
        match self.kind {
            DgramKind::Udp(_) => "UDP connection failed to",
            DgramKind::Dns(_) => "DNS_CHECK failed to write socket to",
            DgramKind::Ping(_) => "send ICMP packet fail to",
        }
    }

    fn recv_failure(&self) -> &'static str {
        match self.kind {
            DgramKind::Udp(_) => "UDP connection failed to",
            DgramKind::Dns(_) => "DNS_CHECK failed to read socket from",
            DgramKind::Ping(_) => "recv ICMP packet error from",
        }
    }
}
