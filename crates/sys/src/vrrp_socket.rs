//! Raw VRRP sockets (IP protocol 112), one per interface and family, created in the VRRP child.
//!
//! * [`VrrpSocketV4`] uses `IP_HDRINCL`: the caller hands over the whole IPv4 packet (header
//!   built by `keepalived_vrrp::codec`, TOS 0xc0, TTL 255, our own `id`) and receives whole
//!   IPv4 packets, header included, so TTL and addresses can be checked by the pure core.
//! * [`VrrpSocketV6`] sends only the VRRP message: the kernel adds the IPv6 header (hop limit
//!   255, traffic class 0xc0 as keepalived) and computes the checksum over the pseudo-header (`IPV6_CHECKSUM` offset 6), and
//!   verifies it on receive (bad checksums are dropped by the kernel). The hop limit, the
//!   destination and the arrival interface come from ancillary data.
//!
//! Both sockets are non-blocking, close-on-exec, bound to their interface (`SO_BINDTOIFINDEX`,
//! the by-index form of `SO_BINDTODEVICE`) and have `IP[V6]_MULTICAST_ALL` off, so they see
//! only groups joined on this socket. One socket serves both directions (keepalived uses a
//! send and a receive socket per "sockpool"; the observable traffic is the same).
//!
//! Refinements of the agreed API (docs/sysapi): `open` with `ifindex == 0` is refused as
//! [`SysError::Invalid`]; `send` on a full socket buffer returns a [`SysError::Os`] whose
//! [`SysError::kind`] is `WouldBlock` (the caller counts it and drops the advert, as
//! keepalived does); `recv` retries `EINTR` itself, so with edge-triggered `mio` the caller
//! reads until `Ok(None)`. Receive buffers should be at least the interface MTU (65535 is
//! always enough); a longer datagram is truncated to the buffer.

use std::io::IoSliceMut;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddrV4, SocketAddrV6};
use std::num::NonZeroU32;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::socket::{self as nixsock, sockopt, ControlMessageOwned, MsgFlags, SockaddrIn6};
use socket2::{Domain, InterfaceIndexOrAddress, Protocol, SockAddr, Socket, Type};

use crate::error::{OsContext, Result, SysError};

/// IANA protocol number of VRRP.
pub const IPPROTO_VRRP: i32 = 112;

/// Offset of the checksum inside the VRRP header, for `IPV6_CHECKSUM`.
const VRRP_CHECKSUM_OFFSET: libc::c_int = 6;

/// IPv6 traffic class of adverts, as keepalived sends them (the IPv4 TOS 0xc0 equivalent,
/// precedence "internetwork control").
const VRRP_TRAFFIC_CLASS: u32 = 0xc0;

/// The TTL / hop limit VRRP requires on every advert (RFC 5798 §5.1.1.3).
const VRRP_TTL: u32 = 255;

fn if_context(ifindex: u32) -> impl Fn() -> String {
    move || format!("ifindex {ifindex}")
}

fn nonzero_ifindex(what: &'static str, ifindex: u32) -> Result<NonZeroU32> {
    NonZeroU32::new(ifindex).ok_or(SysError::Invalid {
        what,
        context: "ifindex 0".into(),
        reason: "a VRRP socket needs a real interface index",
    })
}

/// `setsockopt` for a plain value the safe wrappers lack.
pub(crate) fn setsockopt_value<T>(
    fd: BorrowedFd<'_>,
    level: libc::c_int,
    name: libc::c_int,
    value: &T,
) -> std::io::Result<()> {
    let len = libc::socklen_t::try_from(std::mem::size_of::<T>())
        .map_err(|_| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
    // SAFETY: `fd` is a live socket borrowed for the call; `value` points to `len` readable
    // bytes of a plain C value that the kernel only reads.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            name,
            (value as *const T).cast::<libc::c_void>(),
            len,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// Receives one datagram into `buf`, mapping would-block to `None` and retrying `EINTR`.
fn recv_plain(fd: RawFd, buf: &mut [u8], ifindex: u32) -> Result<Option<usize>> {
    loop {
        match nixsock::recv(fd, buf, MsgFlags::empty()) {
            Ok(n) => return Ok(Some(n)),
            Err(Errno::EINTR) => continue,
            Err(Errno::EAGAIN) => return Ok(None),
            Err(e) => return Err(SysError::os("recv VRRP", format!("ifindex {ifindex}"), e)),
        }
    }
}

fn send_all(
    sock: &Socket,
    what: &'static str,
    data: &[u8],
    dst: &SockAddr,
    ctx: impl Fn() -> String,
) -> Result<()> {
    loop {
        match sock.send_to(data, dst) {
            Ok(n) if n == data.len() => return Ok(()),
            Ok(_) => {
                return Err(SysError::Invalid {
                    what,
                    context: ctx(),
                    reason: "datagram sent short",
                })
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(SysError::os(what, ctx(), e)),
        }
    }
}

/// Datagrams queued for one `sendmmsg`: their bytes back to back, each one's end and
/// destination. Kept by the caller and cleared after each send, so a steady stream of adverts
/// allocates nothing (the `sendmmsg` vectors are kept too).
#[derive(Default)]
pub struct SendBatch {
    data: Vec<u8>,
    items: Vec<(usize, IpAddr)>,
    scratch: SendScratch,
}

/// The vectors one `sendmmsg` needs, refilled for each send (the pointers in `iovs` and
/// `hdrs` are only meaningful during it) and kept for their memory.
#[derive(Default)]
struct SendScratch {
    addrs: Vec<SockAddr>,
    /// The batch index of each header (datagrams of the wrong family are left out).
    picked: Vec<usize>,
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

impl SendScratch {
    fn clear(&mut self) {
        self.addrs.clear();
        self.picked.clear();
        self.iovs.clear();
        self.hdrs.clear();
    }
}

impl std::fmt::Debug for SendBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SendBatch")
            .field("bytes", &self.data.len())
            .field("items", &self.items)
            .finish()
    }
}

impl Clone for SendBatch {
    fn clone(&self) -> Self {
        SendBatch {
            data: self.data.clone(),
            items: self.items.clone(),
            scratch: SendScratch::default(),
        }
    }
}

/// Datagram `i` of a batch's `data` and `items`, and its destination.
fn batch_item<'a>(
    data: &'a [u8],
    items: &[(usize, IpAddr)],
    i: usize,
) -> Option<(&'a [u8], IpAddr)> {
    let &(end, dst) = items.get(i)?;
    let start = match i.checked_sub(1) {
        Some(prev) => items.get(prev).map_or(0, |p| p.0),
        None => 0,
    };
    Some((data.get(start..end)?, dst))
}

impl SendBatch {
    /// An empty batch.
    pub fn new() -> Self {
        Self::default()
    }

    /// Queues one datagram for `dst`.
    pub fn push(&mut self, packet: &[u8], dst: IpAddr) {
        self.data.extend_from_slice(packet);
        self.items.push((self.data.len(), dst));
    }

    /// How many datagrams are queued.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Forgets every datagram (keeps the memory).
    pub fn clear(&mut self) {
        self.data.clear();
        self.items.clear();
    }

    /// Datagram `i` and its destination.
    pub fn get(&self, i: usize) -> Option<(&[u8], IpAddr)> {
        batch_item(&self.data, &self.items, i)
    }
}

/// A datagram of a [`SendBatch`] that was not sent, and why.
#[derive(Debug)]
pub struct BatchFailure {
    /// Its index in the batch.
    pub index: usize,
    /// Why it was not sent.
    pub error: SysError,
}

/// The kernel takes at most `UIO_MAXIOV` messages per `sendmmsg`.
const MAX_MMSG: usize = 1024;

/// One `sendmmsg`/`recvmmsg` slot: one buffer, an optional address, no control data.
fn one_iov_msg(
    name: *mut libc::c_void,
    namelen: libc::socklen_t,
    iov: &mut libc::iovec,
) -> libc::mmsghdr {
    libc::mmsghdr {
        msg_hdr: libc::msghdr {
            msg_name: name,
            msg_namelen: namelen,
            msg_iov: iov as *mut libc::iovec,
            msg_iovlen: 1,
            msg_control: std::ptr::null_mut(),
            msg_controllen: 0,
            msg_flags: 0,
        },
        msg_len: 0,
    }
}

/// Control buffer per received datagram, in `u64`s: room for `SCM_TIMESTAMPNS` (a 16-byte
/// header and a 16-byte `timespec`) with margin.
const CTRL_WORDS: usize = 8;

/// The `SCM_TIMESTAMPNS` stamp in the control data the kernel filled in for `hdr`, as time
/// since the Unix epoch; `None` if there is none or the control data was truncated.
fn arrival_stamp(hdr: &libc::msghdr) -> Option<Duration> {
    if hdr.msg_flags & libc::MSG_CTRUNC != 0 || hdr.msg_control.is_null() {
        return None;
    }
    // SAFETY: `hdr` was just filled in by recvmmsg: `msg_control` points to a live, aligned
    // buffer of which the kernel wrote `msg_controllen` bytes of well-formed cmsgs, and the
    // CMSG_* macros stay inside that length.
    let mut c = unsafe { libc::CMSG_FIRSTHDR(hdr) };
    while !c.is_null() {
        // SAFETY: `c` is non-null and was returned by CMSG_FIRSTHDR/NXTHDR for `hdr`, so it
        // points to a whole cmsghdr inside the control buffer.
        let (level, kind, len) = unsafe { ((*c).cmsg_level, (*c).cmsg_type, (*c).cmsg_len) };
        // SAFETY: as above; CMSG_LEN is a pure size computation.
        let want = unsafe { libc::CMSG_LEN(std::mem::size_of::<libc::timespec>() as u32) };
        if level == libc::SOL_SOCKET && kind == libc::SCM_TIMESTAMPNS && len >= want as usize {
            // SAFETY: the cmsg's length covers a whole timespec after its header; the data
            // may be unaligned for timespec, hence read_unaligned.
            let ts =
                unsafe { std::ptr::read_unaligned(libc::CMSG_DATA(c).cast::<libc::timespec>()) };
            return stamp_of(ts.tv_sec, ts.tv_nsec);
        }
        // SAFETY: `c` is a cmsg of `hdr` (see above); NXTHDR returns null past the end.
        c = unsafe { libc::CMSG_NXTHDR(hdr, c) };
    }
    None
}

/// A kernel `timespec` stamp as time since the Unix epoch; `None` if it is before the epoch
/// or malformed.
fn stamp_of(secs: libc::time_t, nanos: libc::c_long) -> Option<Duration> {
    let secs = u64::try_from(secs).ok()?;
    let nanos = u32::try_from(nanos).ok().filter(|n| *n < 1_000_000_000)?;
    Some(Duration::new(secs, nanos))
}

/// The realtime clock as time since the Unix epoch: the clock of the kernel's arrival stamps.
pub fn realtime_now() -> Duration {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
}

/// Asks the kernel to stamp each datagram's arrival (`SO_TIMESTAMPNS`). A refusal is not an
/// error: it only costs the stamps, and the caller then times a packet when it reads it.
fn request_arrival_stamps(sock: &Socket) {
    let _ = nixsock::setsockopt(sock, sockopt::ReceiveTimestampns, &true);
}

/// Sends every datagram of `batch` with as few `sendmmsg` calls as possible, in order. A
/// datagram the kernel refuses is retried alone to learn its errno, recorded in `failures`
/// and skipped; the rest still go. `addr` maps a destination to the socket's address family
/// (`None`: wrong family). Returns how many datagrams were sent.
fn send_batch_on(
    fd: RawFd,
    what: &'static str,
    batch: &mut SendBatch,
    addr: impl Fn(IpAddr) -> Option<SockAddr>,
    ctx: impl Fn(IpAddr) -> String,
    failures: &mut Vec<BatchFailure>,
) -> usize {
    let SendBatch {
        data,
        items,
        scratch,
    } = batch;
    let (data, items) = (&*data, &*items);
    scratch.clear();
    // Destinations and payloads resolved first: the headers below point into these vectors,
    // which are not touched again until the sends are done.
    for i in 0..items.len() {
        let Some((_, dst)) = batch_item(data, items, i) else {
            continue;
        };
        match addr(dst) {
            Some(a) => {
                scratch.addrs.push(a);
                scratch.picked.push(i);
            }
            None => failures.push(BatchFailure {
                index: i,
                error: SysError::Invalid {
                    what,
                    context: ctx(dst),
                    reason: "destination of the other address family",
                },
            }),
        }
    }
    scratch.iovs.extend(scratch.picked.iter().map(|&i| {
        let packet = batch_item(data, items, i).map_or(&[][..], |(p, _)| p);
        libc::iovec {
            // The kernel only reads a sent buffer; the pointer is `*mut` by the C type only.
            iov_base: packet.as_ptr().cast_mut().cast::<libc::c_void>(),
            iov_len: packet.len(),
        }
    }));
    let SendScratch {
        addrs,
        picked,
        iovs,
        hdrs,
    } = scratch;
    hdrs.extend(
        iovs.iter_mut().zip(addrs.iter()).map(|(iov, a)| {
            one_iov_msg(a.as_ptr().cast_mut().cast::<libc::c_void>(), a.len(), iov)
        }),
    );
    let mut sent = 0;
    let mut next = 0;
    while next < hdrs.len() {
        let Some(rest) = hdrs.get_mut(next..) else {
            break;
        };
        let count = rest.len().min(MAX_MMSG);
        // SAFETY: `rest` holds at least `count` initialised mmsghdr; each points to one iovec
        // in `iovs` and one address in `addrs`, both alive and unmoved for this call, whose
        // buffers the kernel only reads (it writes `msg_len` only).
        let rc = unsafe {
            libc::sendmmsg(
                fd,
                rest.as_mut_ptr(),
                libc::c_uint::try_from(count).unwrap_or(1),
                0,
            )
        };
        // Header `n` is datagram `picked[n]` of the batch (wrong-family ones were left out);
        // a failure names that index and its destination.
        let named = |n: usize| {
            let index = picked.get(n).copied().unwrap_or(n);
            let context = batch_item(data, items, index)
                .map(|(_, d)| ctx(d))
                .unwrap_or_default();
            (index, context)
        };
        match usize::try_from(rc) {
            Err(_) => {
                let err = std::io::Error::last_os_error();
                if err.kind() == std::io::ErrorKind::Interrupted {
                    continue;
                }
                let (index, context) = named(next);
                failures.push(BatchFailure {
                    index,
                    error: SysError::os(what, context, err),
                });
                next += 1;
            }
            Ok(0) => {
                let (index, context) = named(next);
                failures.push(BatchFailure {
                    index,
                    error: SysError::Invalid {
                        what,
                        context,
                        reason: "sendmmsg sent nothing",
                    },
                });
                next += 1;
            }
            Ok(n) => {
                for k in next..next + n {
                    let short = hdrs
                        .get(k)
                        .zip(iovs.get(k))
                        .is_some_and(|(h, v)| h.msg_len as usize != v.iov_len);
                    if short {
                        let (index, context) = named(k);
                        failures.push(BatchFailure {
                            index,
                            error: SysError::Invalid {
                                what,
                                context,
                                reason: "datagram sent short",
                            },
                        });
                    } else {
                        sent += 1;
                    }
                }
                next += n;
            }
        }
    }
    // No pointer into the batch outlives the call.
    scratch.clear();
    sent
}

/// Datagrams received by one `recvmmsg`: fixed-size slots in one buffer and each one's
/// length. Kept by the caller, so receiving allocates nothing.
pub struct RecvBatch {
    buf: Vec<u8>,
    slot: usize,
    lens: Vec<usize>,
    /// Each datagram's kernel arrival stamp (`SO_TIMESTAMPNS`), if the kernel gave one.
    stamps: Vec<Option<Duration>>,
    /// One control buffer per `recvmmsg` slot, in `u64`s so each is aligned for a `cmsghdr`.
    ctrl: Vec<u64>,
    /// The `recvmmsg` vectors, refilled for each call (they point into `buf` only during
    /// it); kept for their memory.
    iovs: Vec<libc::iovec>,
    hdrs: Vec<libc::mmsghdr>,
}

impl std::fmt::Debug for RecvBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvBatch")
            .field("slots", &self.capacity())
            .field("slot", &self.slot)
            .field("lens", &self.lens)
            .field("stamps", &self.stamps)
            .finish()
    }
}

impl Clone for RecvBatch {
    fn clone(&self) -> Self {
        RecvBatch {
            buf: self.buf.clone(),
            slot: self.slot,
            lens: self.lens.clone(),
            stamps: self.stamps.clone(),
            ctrl: self.ctrl.clone(),
            iovs: Vec::with_capacity(self.iovs.capacity()),
            hdrs: Vec::with_capacity(self.hdrs.capacity()),
        }
    }
}

impl RecvBatch {
    /// `slots` slots of `slot_len` bytes each; a longer datagram is truncated to its slot.
    pub fn new(slots: usize, slot_len: usize) -> Self {
        let slots = slots.max(1);
        let slot = slot_len.max(1);
        let calls = slots.min(MAX_MMSG);
        RecvBatch {
            buf: vec![0; slots * slot],
            slot,
            lens: Vec::with_capacity(slots),
            stamps: Vec::with_capacity(slots),
            ctrl: vec![0; calls * CTRL_WORDS],
            iovs: Vec::with_capacity(calls),
            hdrs: Vec::with_capacity(calls),
        }
    }

    /// How many datagrams the last receive returned.
    pub fn len(&self) -> usize {
        self.lens.len()
    }

    /// True when the last receive returned nothing.
    pub fn is_empty(&self) -> bool {
        self.lens.is_empty()
    }

    /// How many datagrams one receive can return.
    pub fn capacity(&self) -> usize {
        self.buf.len() / self.slot
    }

    /// Datagram `i` of the last receive.
    pub fn get(&self, i: usize) -> Option<&[u8]> {
        let len = *self.lens.get(i)?;
        let start = i.checked_mul(self.slot)?;
        self.buf.get(start..start + len.min(self.slot))
    }

    /// When datagram `i` of the last receive arrived (`CLOCK_REALTIME` since the Unix epoch, as
    /// the kernel stamps it); `None` if the kernel gave no stamp.
    pub fn stamp(&self, i: usize) -> Option<Duration> {
        self.stamps.get(i).copied().flatten()
    }

    /// The whole buffer as one slot, for a receive that needs a single large buffer.
    pub fn whole_mut(&mut self) -> &mut [u8] {
        self.lens.clear();
        self.stamps.clear();
        &mut self.buf
    }
}

/// A raw IPv4 VRRP socket with `IP_HDRINCL` on one interface.
#[derive(Debug)]
pub struct VrrpSocketV4 {
    sock: Socket,
    ifindex: u32,
}

impl VrrpSocketV4 {
    /// Opens the socket on interface `ifindex`.
    ///
    /// `join_group` (normally 224.0.0.18) is joined on that interface for multicast
    /// instances; `bind_src` binds the socket to a (possibly not yet configured, thanks to
    /// `IP_FREEBIND`) local address, so a unicast instance only receives adverts sent to it.
    pub fn open(
        ifindex: u32,
        bind_src: Option<Ipv4Addr>,
        join_group: Option<Ipv4Addr>,
    ) -> Result<Self> {
        let index = nonzero_ifindex("open VRRP IPv4 socket", ifindex)?;
        let ctx = if_context(ifindex);
        let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(IPPROTO_VRRP)))
            .ctx("socket(AF_INET, SOCK_RAW, 112)", &ctx)?;
        sock.set_nonblocking(true).ctx("set O_NONBLOCK", &ctx)?;
        sock.set_header_included_v4(true)
            .ctx("setsockopt IP_HDRINCL", &ctx)?;
        sock.bind_device_by_index_v4(Some(index))
            .ctx("setsockopt SO_BINDTOIFINDEX", &ctx)?;
        let mreqn = libc::ip_mreqn {
            imr_multiaddr: libc::in_addr { s_addr: 0 },
            imr_address: libc::in_addr { s_addr: 0 },
            imr_ifindex: index.get() as libc::c_int,
        };
        setsockopt_value(
            sock.as_fd(),
            libc::IPPROTO_IP,
            libc::IP_MULTICAST_IF,
            &mreqn,
        )
        .ctx("setsockopt IP_MULTICAST_IF", &ctx)?;
        sock.set_multicast_loop_v4(false)
            .ctx("setsockopt IP_MULTICAST_LOOP", &ctx)?;
        sock.set_multicast_ttl_v4(VRRP_TTL)
            .ctx("setsockopt IP_MULTICAST_TTL", &ctx)?;
        sock.set_multicast_all_v4(false)
            .ctx("setsockopt IP_MULTICAST_ALL", &ctx)?;
        if let Some(group) = join_group {
            sock.join_multicast_v4_n(&group, &InterfaceIndexOrAddress::Index(index.get()))
                .ctx("setsockopt IP_ADD_MEMBERSHIP", || {
                    format!("ifindex {ifindex} group {group}")
                })?;
        }
        if let Some(src) = bind_src {
            sock.set_freebind_v4(true)
                .ctx("setsockopt IP_FREEBIND", &ctx)?;
            sock.bind(&SocketAddrV4::new(src, 0).into())
                .ctx("bind", || format!("ifindex {ifindex} address {src}"))?;
        }
        request_arrival_stamps(&sock);
        Ok(VrrpSocketV4 { sock, ifindex })
    }

    /// The interface this socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sends one whole IPv4 packet (our header included) to `dst`.
    pub fn send(&self, packet: &[u8], dst: Ipv4Addr) -> Result<()> {
        let addr: SockAddr = SocketAddrV4::new(dst, 0).into();
        let ifindex = self.ifindex;
        send_all(&self.sock, "send VRRP IPv4", packet, &addr, || {
            format!("ifindex {ifindex} to {dst}")
        })
    }

    /// Receives one IPv4 packet, IP header included; `None` when nothing is queued.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<usize>> {
        recv_plain(self.sock.as_raw_fd(), buf, self.ifindex)
    }

    /// Sends every packet of `batch` (whole IPv4 packets, our header included) with
    /// `sendmmsg`, in order; the ones refused are added to `failures` (by index) and the
    /// others still go. Returns how many were sent.
    pub fn send_batch(&self, batch: &mut SendBatch, failures: &mut Vec<BatchFailure>) -> usize {
        let ifindex = self.ifindex;
        send_batch_on(
            self.sock.as_raw_fd(),
            "send VRRP IPv4",
            batch,
            |dst| match dst {
                IpAddr::V4(d) => Some(SocketAddrV4::new(d, 0).into()),
                IpAddr::V6(_) => None,
            },
            |dst| format!("ifindex {ifindex} to {dst}"),
            failures,
        )
    }

    /// Receives up to `batch.capacity()` queued packets with one `recvmmsg` (IP headers
    /// included); returns how many. Fewer than the capacity means the queue was drained when
    /// the kernel looked, so an edge-triggered poll will report the next arrival.
    pub fn recv_batch(&self, batch: &mut RecvBatch) -> Result<usize> {
        batch.lens.clear();
        batch.stamps.clear();
        let slot = batch.slot;
        // Refilled in place: the vectors keep their capacity, so a receive allocates nothing.
        let (iovs, hdrs) = (&mut batch.iovs, &mut batch.hdrs);
        iovs.clear();
        hdrs.clear();
        iovs.extend(
            batch
                .buf
                .chunks_exact_mut(slot)
                .take(MAX_MMSG)
                .map(|chunk| libc::iovec {
                    iov_base: chunk.as_mut_ptr().cast::<libc::c_void>(),
                    iov_len: chunk.len(),
                }),
        );
        hdrs.extend(
            iovs.iter_mut()
                .zip(batch.ctrl.chunks_exact_mut(CTRL_WORDS))
                .map(|(iov, ctrl)| {
                    let mut h = one_iov_msg(std::ptr::null_mut(), 0, iov);
                    h.msg_hdr.msg_control = ctrl.as_mut_ptr().cast::<libc::c_void>();
                    h.msg_hdr.msg_controllen = std::mem::size_of_val(ctrl);
                    h
                }),
        );
        let count = libc::c_uint::try_from(hdrs.len()).unwrap_or(1);
        let received = loop {
            // SAFETY: `hdrs` holds `count` initialised mmsghdr, each pointing to one iovec of
            // `iovs` that covers a distinct, writable slot of `batch.buf`, and to a distinct,
            // writable, `cmsghdr`-aligned control chunk of `batch.ctrl` of the length given;
            // all stay alive and unmoved during the call. No timeout (null), no address.
            let rc = unsafe {
                libc::recvmmsg(
                    self.sock.as_raw_fd(),
                    hdrs.as_mut_ptr(),
                    count,
                    libc::MSG_DONTWAIT,
                    std::ptr::null_mut(),
                )
            };
            match usize::try_from(rc) {
                Ok(n) => {
                    batch
                        .lens
                        .extend(hdrs.iter().take(n).map(|h| h.msg_len as usize));
                    batch
                        .stamps
                        .extend(hdrs.iter().take(n).map(|h| arrival_stamp(&h.msg_hdr)));
                    break Ok(n);
                }
                Err(_) => {
                    let err = std::io::Error::last_os_error();
                    match err.kind() {
                        std::io::ErrorKind::Interrupted => continue,
                        std::io::ErrorKind::WouldBlock => break Ok(0),
                        _ => {
                            break Err(SysError::os(
                                "recvmmsg VRRP IPv4",
                                format!("ifindex {}", self.ifindex),
                                err,
                            ))
                        }
                    }
                }
            }
        };
        // No pointer into the buffer outlives the call.
        hdrs.clear();
        iovs.clear();
        received
    }
}

impl AsRawFd for VrrpSocketV4 {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for VrrpSocketV4 {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

/// One VRRP message received on a [`VrrpSocketV6`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecvV6 {
    /// Length of the VRRP message in the buffer (no IPv6 header).
    pub len: usize,
    /// The sender's address.
    pub src: Ipv6Addr,
    /// The destination address (`IPV6_PKTINFO`); unspecified if the kernel gave none.
    pub dst: Ipv6Addr,
    /// The hop limit it arrived with (`IPV6_HOPLIMIT`); must be 255 for a valid advert.
    pub hop_limit: Option<u8>,
    /// The arrival interface (`IPV6_PKTINFO`), or the socket's interface if the kernel gave none.
    pub ifindex: u32,
    /// When it arrived (`SO_TIMESTAMPNS`, realtime since the Unix epoch), if stamped.
    pub stamp: Option<Duration>,
}

/// A raw IPv6 VRRP socket on one interface; the kernel builds the IPv6 header and checksum.
#[derive(Debug)]
pub struct VrrpSocketV6 {
    sock: Socket,
    ifindex: u32,
}

impl VrrpSocketV6 {
    /// Opens the socket on interface `ifindex`, joining `join_group` (normally ff02::12) on it.
    ///
    /// Without `bind_src` the kernel picks the source (the interface's link-local address for
    /// ff02::12); with it, the socket is bound to that address (`IPV6_FREEBIND`, scope set to
    /// `ifindex` for a link-local address).
    pub fn open(
        ifindex: u32,
        bind_src: Option<Ipv6Addr>,
        join_group: Option<Ipv6Addr>,
    ) -> Result<Self> {
        let index = nonzero_ifindex("open VRRP IPv6 socket", ifindex)?;
        let ctx = if_context(ifindex);
        let sock = Socket::new(Domain::IPV6, Type::RAW, Some(Protocol::from(IPPROTO_VRRP)))
            .ctx("socket(AF_INET6, SOCK_RAW, 112)", &ctx)?;
        sock.set_nonblocking(true).ctx("set O_NONBLOCK", &ctx)?;
        sock.bind_device_by_index_v6(Some(index))
            .ctx("setsockopt SO_BINDTOIFINDEX", &ctx)?;
        setsockopt_value(
            sock.as_fd(),
            libc::IPPROTO_IPV6,
            libc::IPV6_CHECKSUM,
            &VRRP_CHECKSUM_OFFSET,
        )
        .ctx("setsockopt IPV6_CHECKSUM", &ctx)?;
        sock.set_tclass_v6(VRRP_TRAFFIC_CLASS)
            .ctx("setsockopt IPV6_TCLASS", &ctx)?;
        sock.set_unicast_hops_v6(VRRP_TTL)
            .ctx("setsockopt IPV6_UNICAST_HOPS", &ctx)?;
        sock.set_multicast_hops_v6(VRRP_TTL)
            .ctx("setsockopt IPV6_MULTICAST_HOPS", &ctx)?;
        sock.set_multicast_if_v6(index.get())
            .ctx("setsockopt IPV6_MULTICAST_IF", &ctx)?;
        sock.set_multicast_loop_v6(false)
            .ctx("setsockopt IPV6_MULTICAST_LOOP", &ctx)?;
        match sock.set_multicast_all_v6(false) {
            // Kernels before 4.20 lack IPV6_MULTICAST_ALL; binding to the device still filters.
            Err(e) if e.raw_os_error() == Some(libc::ENOPROTOOPT) => {}
            other => other.ctx("setsockopt IPV6_MULTICAST_ALL", &ctx)?,
        }
        sock.set_recv_hoplimit_v6(true)
            .ctx("setsockopt IPV6_RECVHOPLIMIT", &ctx)?;
        nixsock::setsockopt(&sock, sockopt::Ipv6RecvPacketInfo, &true)
            .ctx("setsockopt IPV6_RECVPKTINFO", &ctx)?;
        if let Some(group) = join_group {
            sock.join_multicast_v6(&group, index.get())
                .ctx("setsockopt IPV6_ADD_MEMBERSHIP", || {
                    format!("ifindex {ifindex} group {group}")
                })?;
        }
        if let Some(src) = bind_src {
            sock.set_freebind_v6(true)
                .ctx("setsockopt IPV6_FREEBIND", &ctx)?;
            let scope = if src.is_unicast_link_local() {
                index.get()
            } else {
                0
            };
            sock.bind(&SocketAddrV6::new(src, 0, 0, scope).into())
                .ctx("bind", || format!("ifindex {ifindex} address {src}"))?;
        }
        request_arrival_stamps(&sock);
        Ok(VrrpSocketV6 { sock, ifindex })
    }

    /// The interface this socket is bound to.
    pub fn ifindex(&self) -> u32 {
        self.ifindex
    }

    /// Sends one VRRP message (checksum field left for the kernel to fill) to `dst`.
    pub fn send(&self, payload: &[u8], dst: Ipv6Addr) -> Result<()> {
        // The scope id only matters (and is only used) for link-local and multicast targets.
        let addr: SockAddr = SocketAddrV6::new(dst, 0, 0, self.ifindex).into();
        let ifindex = self.ifindex;
        send_all(&self.sock, "send VRRP IPv6", payload, &addr, || {
            format!("ifindex {ifindex} to {dst}")
        })
    }

    /// Sends every message of `batch` (checksum fields left for the kernel) with `sendmmsg`,
    /// in order; the ones refused are added to `failures` (by index) and the others still
    /// go. Returns how many were sent.
    pub fn send_batch(&self, batch: &mut SendBatch, failures: &mut Vec<BatchFailure>) -> usize {
        let ifindex = self.ifindex;
        send_batch_on(
            self.sock.as_raw_fd(),
            "send VRRP IPv6",
            batch,
            |dst| match dst {
                IpAddr::V6(d) => Some(SocketAddrV6::new(d, 0, 0, ifindex).into()),
                IpAddr::V4(_) => None,
            },
            |dst| format!("ifindex {ifindex} to {dst}"),
            failures,
        )
    }

    /// Receives one VRRP message with its addresses and hop limit; `None` when nothing is queued.
    pub fn recv(&self, buf: &mut [u8]) -> Result<Option<RecvV6>> {
        let mut cmsg = nix::cmsg_space!(libc::in6_pktinfo, libc::c_int, libc::timespec);
        let fd = self.sock.as_raw_fd();
        loop {
            let mut iov = [IoSliceMut::new(&mut *buf)];
            let msg = match nixsock::recvmsg::<SockaddrIn6>(
                fd,
                &mut iov,
                Some(&mut cmsg),
                MsgFlags::empty(),
            ) {
                Ok(msg) => msg,
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return Ok(None),
                Err(e) => {
                    return Err(SysError::os(
                        "recvmsg VRRP IPv6",
                        format!("ifindex {}", self.ifindex),
                        e,
                    ))
                }
            };
            let mut out = RecvV6 {
                len: msg.bytes,
                src: msg.address.map_or(Ipv6Addr::UNSPECIFIED, |a| a.ip()),
                dst: Ipv6Addr::UNSPECIFIED,
                hop_limit: None,
                ifindex: self.ifindex,
                stamp: None,
            };
            // A truncated control buffer only loses the ancillary fields, which stay unset.
            if let Ok(cmsgs) = msg.cmsgs() {
                for c in cmsgs {
                    match c {
                        ControlMessageOwned::Ipv6PacketInfo(info) => {
                            out.dst = Ipv6Addr::from(info.ipi6_addr.s6_addr);
                            out.ifindex = info.ipi6_ifindex;
                        }
                        ControlMessageOwned::Ipv6HopLimit(h) => {
                            out.hop_limit = u8::try_from(h).ok()
                        }
                        ControlMessageOwned::ScmTimestampns(ts) => {
                            out.stamp = stamp_of(ts.tv_sec(), ts.tv_nsec());
                        }
                        _ => {}
                    }
                }
            }
            return Ok(Some(out));
        }
    }
}

impl AsRawFd for VrrpSocketV6 {
    fn as_raw_fd(&self) -> RawFd {
        self.sock.as_raw_fd()
    }
}

impl AsFd for VrrpSocketV6 {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.sock.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ifindex_zero_is_refused() {
        let e = VrrpSocketV4::open(0, None, None).unwrap_err();
        assert!(matches!(e, SysError::Invalid { .. }));
        let e = VrrpSocketV6::open(0, None, None).unwrap_err();
        assert!(matches!(e, SysError::Invalid { .. }));
    }

    #[test]
    fn send_batch_keeps_datagrams_and_their_order() {
        let mut b = SendBatch::new();
        assert!(b.is_empty());
        b.push(b"one", IpAddr::V4(Ipv4Addr::LOCALHOST));
        b.push(b"", IpAddr::V4(Ipv4Addr::LOCALHOST));
        b.push(b"three", IpAddr::V6(Ipv6Addr::LOCALHOST));
        assert_eq!(b.len(), 3);
        assert_eq!(
            b.get(0),
            Some((&b"one"[..], IpAddr::V4(Ipv4Addr::LOCALHOST)))
        );
        assert_eq!(b.get(1).map(|x| x.0.len()), Some(0));
        assert_eq!(b.get(2).map(|x| x.0), Some(&b"three"[..]));
        assert_eq!(b.get(3), None);
        b.clear();
        assert!(b.is_empty() && b.get(0).is_none());
    }

    #[test]
    fn recv_batch_slots() {
        let mut r = RecvBatch::new(4, 16);
        assert_eq!(r.capacity(), 4);
        assert!(r.is_empty() && r.get(0).is_none());
        assert_eq!(r.whole_mut().len(), 64);
    }

    /// A whole IPv4 VRRP packet from 127.0.0.1 to 127.0.0.1 with `id` as its IP id.
    fn loopback_packet(id: u16) -> Vec<u8> {
        use keepalived_vrrp::codec::{encode_ipv4_advert, Ipv4Send, V4Checksum};
        use keepalived_vrrp::{Advert, Auth, Version};
        let advert = Advert {
            version: Version::V2,
            vrid: 7,
            priority: 100,
            interval: std::time::Duration::from_secs(1),
            addrs: vec!["192.0.2.1".parse().unwrap()],
            auth: Auth::None,
        };
        let send = Ipv4Send {
            src: Ipv4Addr::LOCALHOST,
            dst: Ipv4Addr::LOCALHOST,
            ttl: 255,
            id,
        };
        let mut out = Vec::new();
        encode_ipv4_advert(&advert, &send, V4Checksum::Standard, &mut out).unwrap();
        out
    }

    // sendmmsg then recvmmsg over loopback: every packet arrives, in order; a destination of
    // the wrong family is reported by index and does not stop the others.
    #[test]
    fn batch_round_trip_on_loopback_when_root() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let lo = nix::net::if_::if_nametoindex("lo").unwrap();
        let tx = VrrpSocketV4::open(lo, None, None).unwrap();
        let rx = VrrpSocketV4::open(lo, None, None).unwrap();
        let mut rb = RecvBatch::new(8, 2048);
        while rx.recv_batch(&mut rb).unwrap() > 0 {}
        let mut batch = SendBatch::new();
        let local = IpAddr::V4(Ipv4Addr::LOCALHOST);
        batch.push(&loopback_packet(0x4b01), local);
        batch.push(&loopback_packet(0x4b02), IpAddr::V6(Ipv6Addr::LOCALHOST));
        for id in 0x4b03..0x4b0c {
            batch.push(&loopback_packet(id), local);
        }
        let mut failures = Vec::new();
        let sent = tx.send_batch(&mut batch, &mut failures);
        assert_eq!(sent, 10);
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].index, 1);
        let mut ids = Vec::new();
        let sent_at = realtime_now();
        for _ in 0..100 {
            let n = rx.recv_batch(&mut rb).unwrap();
            for i in 0..n {
                let p = rb.get(i).unwrap();
                if p.len() > 5 && p[9] == 112 && p[4] == 0x4b {
                    ids.push(p[5]);
                    // Stamped by the kernel on arrival: after the send began, before now.
                    let stamp = rb.stamp(i).expect("arrival stamp");
                    assert!(stamp + Duration::from_millis(50) >= sent_at, "{stamp:?}");
                    assert!(stamp <= realtime_now());
                }
            }
            if ids.len() >= 10 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        assert_eq!(ids, vec![1, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    }

    // An IPv6 message to ::1 comes back with its hop limit and the kernel's arrival stamp.
    #[test]
    fn v6_receive_is_stamped_when_root() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let lo = nix::net::if_::if_nametoindex("lo").unwrap();
        let Ok(tx) = VrrpSocketV6::open(lo, None, None) else {
            return; // IPv6 disabled here
        };
        let rx = VrrpSocketV6::open(lo, None, None).unwrap();
        // A VRRPv3 header (version 3, type 1, VRID 9) with no addresses; the kernel fills in
        // the checksum.
        let msg = [0x31, 9, 100, 0, 0, 100, 0, 0];
        let before = realtime_now();
        if tx.send(&msg, Ipv6Addr::LOCALHOST).is_err() {
            return; // no ::1 on lo
        }
        let mut buf = [0u8; 256];
        let mut got = None;
        for _ in 0..100 {
            if let Some(r) = rx.recv(&mut buf).unwrap() {
                if r.len == msg.len() && buf.get(1) == Some(&9) {
                    got = Some(r);
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        let r = got.expect("the message came back");
        assert_eq!(r.hop_limit, Some(255));
        let stamp = r.stamp.expect("arrival stamp");
        assert!(stamp + Duration::from_millis(50) >= before && stamp <= realtime_now());
    }

    #[test]
    fn opens_on_loopback_when_root() {
        if !nix::unistd::geteuid().is_root() {
            return;
        }
        let lo = nix::net::if_::if_nametoindex("lo").unwrap();
        let s4 = VrrpSocketV4::open(lo, Some(Ipv4Addr::new(127, 0, 0, 1)), None).unwrap();
        let mut buf = [0u8; 2048];
        assert_eq!(s4.recv(&mut buf).unwrap(), None);
        // ::1 may be absent (ipv6 disabled); only check the socket when IPv6 exists.
        if let Ok(s6) = VrrpSocketV6::open(lo, None, None) {
            assert_eq!(s6.recv(&mut buf).unwrap(), None);
        }
    }
}
