//! The generic-netlink payload of IPVS requests, byte by byte as `include/uapi/linux/ip_vs.h`
//! lays it out: a `genlmsghdr`, then `IPVS_CMD_ATTR_SERVICE` / `IPVS_CMD_ATTR_DEST` nests.
//! Pure; the netlink header in front is added by the socket.

use std::net::IpAddr;

use super::{DestId, DestSpec, IpvsRequest, ServiceId, ServiceSpec};

/// `IPVS_GENL_VERSION`.
pub const IPVS_GENL_VERSION: u8 = 1;

/// `IPVS_CMD_NEW_SERVICE`.
pub const IPVS_CMD_NEW_SERVICE: u8 = 1;
/// `IPVS_CMD_SET_SERVICE`.
pub const IPVS_CMD_SET_SERVICE: u8 = 2;
/// `IPVS_CMD_DEL_SERVICE`.
pub const IPVS_CMD_DEL_SERVICE: u8 = 3;
/// `IPVS_CMD_NEW_DEST`.
pub const IPVS_CMD_NEW_DEST: u8 = 5;
/// `IPVS_CMD_SET_DEST`.
pub const IPVS_CMD_SET_DEST: u8 = 6;
/// `IPVS_CMD_DEL_DEST`.
pub const IPVS_CMD_DEL_DEST: u8 = 7;
/// `IPVS_CMD_FLUSH`.
pub const IPVS_CMD_FLUSH: u8 = 17;

/// `IPVS_CMD_ATTR_SERVICE` (nested).
pub const IPVS_CMD_ATTR_SERVICE: u16 = 1;
/// `IPVS_CMD_ATTR_DEST` (nested).
pub const IPVS_CMD_ATTR_DEST: u16 = 2;

/// `IPVS_SVC_ATTR_AF` (u16).
pub const IPVS_SVC_ATTR_AF: u16 = 1;
/// `IPVS_SVC_ATTR_PROTOCOL` (u16).
pub const IPVS_SVC_ATTR_PROTOCOL: u16 = 2;
/// `IPVS_SVC_ATTR_ADDR` (`union nf_inet_addr`, 16 bytes).
pub const IPVS_SVC_ATTR_ADDR: u16 = 3;
/// `IPVS_SVC_ATTR_PORT` (be16).
pub const IPVS_SVC_ATTR_PORT: u16 = 4;
/// `IPVS_SVC_ATTR_FWMARK` (u32).
pub const IPVS_SVC_ATTR_FWMARK: u16 = 5;
/// `IPVS_SVC_ATTR_SCHED_NAME` (NUL-terminated string).
pub const IPVS_SVC_ATTR_SCHED_NAME: u16 = 6;
/// `IPVS_SVC_ATTR_FLAGS` (`struct ip_vs_flags`).
pub const IPVS_SVC_ATTR_FLAGS: u16 = 7;
/// `IPVS_SVC_ATTR_TIMEOUT` (u32).
pub const IPVS_SVC_ATTR_TIMEOUT: u16 = 8;
/// `IPVS_SVC_ATTR_NETMASK` (be32 for IPv4, prefix length for IPv6).
pub const IPVS_SVC_ATTR_NETMASK: u16 = 9;
/// `IPVS_SVC_ATTR_PE_NAME` (NUL-terminated string).
pub const IPVS_SVC_ATTR_PE_NAME: u16 = 11;

/// `IPVS_DEST_ATTR_ADDR` (`union nf_inet_addr`, 16 bytes).
pub const IPVS_DEST_ATTR_ADDR: u16 = 1;
/// `IPVS_DEST_ATTR_PORT` (be16).
pub const IPVS_DEST_ATTR_PORT: u16 = 2;
/// `IPVS_DEST_ATTR_FWD_METHOD` (u32).
pub const IPVS_DEST_ATTR_FWD_METHOD: u16 = 3;
/// `IPVS_DEST_ATTR_WEIGHT` (u32).
pub const IPVS_DEST_ATTR_WEIGHT: u16 = 4;
/// `IPVS_DEST_ATTR_U_THRESH` (u32).
pub const IPVS_DEST_ATTR_U_THRESH: u16 = 5;
/// `IPVS_DEST_ATTR_L_THRESH` (u32).
pub const IPVS_DEST_ATTR_L_THRESH: u16 = 6;
/// `IPVS_DEST_ATTR_ADDR_FAMILY` (u16).
pub const IPVS_DEST_ATTR_ADDR_FAMILY: u16 = 11;
/// `IPVS_DEST_ATTR_TUN_TYPE` (u8).
pub const IPVS_DEST_ATTR_TUN_TYPE: u16 = 13;
/// `IPVS_DEST_ATTR_TUN_PORT` (be16).
pub const IPVS_DEST_ATTR_TUN_PORT: u16 = 14;
/// `IPVS_DEST_ATTR_TUN_FLAGS` (u16).
pub const IPVS_DEST_ATTR_TUN_FLAGS: u16 = 15;

/// `NLA_F_NESTED`: marks an attribute whose payload is attributes.
pub const NLA_F_NESTED: u16 = 0x8000;

/// `IP_VS_SCHEDNAME_MAXLEN` / `IP_VS_PENAME_MAXLEN`, NUL included.
pub const NAME_MAXLEN: usize = 16;

/// Why a request cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncodeError {
    /// A scheduler or persistence-engine name longer than the kernel takes.
    #[error("{what} name {name:?} is longer than {max} bytes", max = NAME_MAXLEN - 1)]
    NameTooLong {
        /// `"scheduler"` or `"persistence engine"`.
        what: &'static str,
        /// The name.
        name: String,
    },
}

/// Builds attributes into a buffer, nesting by back-patching the nest's length.
#[derive(Default)]
struct Attrs {
    buf: Vec<u8>,
}

impl Attrs {
    fn put(&mut self, ty: u16, payload: &[u8]) {
        // Attribute payloads here are at most a few dozen bytes: the length fits a u16.
        let len = (4 + payload.len()) as u16;
        self.buf.extend_from_slice(&len.to_ne_bytes());
        self.buf.extend_from_slice(&ty.to_ne_bytes());
        self.buf.extend_from_slice(payload);
        self.pad();
    }

    fn pad(&mut self) {
        while self.buf.len() % 4 != 0 {
            self.buf.push(0);
        }
    }

    fn u16(&mut self, ty: u16, v: u16) {
        self.put(ty, &v.to_ne_bytes());
    }

    fn be16(&mut self, ty: u16, v: u16) {
        self.put(ty, &v.to_be_bytes());
    }

    fn u32(&mut self, ty: u16, v: u32) {
        self.put(ty, &v.to_ne_bytes());
    }

    fn addr(&mut self, ty: u16, addr: &IpAddr) {
        self.put(ty, &inet_addr(addr));
    }

    fn string(&mut self, ty: u16, s: &str) {
        let mut bytes = s.as_bytes().to_vec();
        bytes.push(0);
        self.put(ty, &bytes);
    }

    fn nest(&mut self, ty: u16, fill: impl FnOnce(&mut Attrs)) {
        let mut inner = Attrs::default();
        fill(&mut inner);
        self.put(ty | NLA_F_NESTED, &inner.buf);
    }
}

/// `union nf_inet_addr`: 16 bytes, an IPv4 address in the first 4, network order.
fn inet_addr(addr: &IpAddr) -> [u8; 16] {
    let mut out = [0u8; 16];
    match addr {
        IpAddr::V4(a) => {
            for (o, b) in out.iter_mut().zip(a.octets()) {
                *o = b;
            }
        }
        IpAddr::V6(a) => out = a.octets(),
    }
    out
}

fn af_of(addr: &IpAddr) -> u16 {
    match addr {
        IpAddr::V4(_) => libc::AF_INET as u16,
        IpAddr::V6(_) => libc::AF_INET6 as u16,
    }
}

fn check_name(what: &'static str, name: &str) -> Result<(), EncodeError> {
    if name.len() >= NAME_MAXLEN || name.contains('\0') {
        return Err(EncodeError::NameTooLong {
            what,
            name: name.to_owned(),
        });
    }
    Ok(())
}

/// The service's identity: `AF`, then `FWMARK` or `PROTOCOL` + `ADDR` + `PORT`.
fn service_id(a: &mut Attrs, id: &ServiceId) {
    match id {
        ServiceId::Fwmark { af, mark } => {
            a.u16(IPVS_SVC_ATTR_AF, *af);
            a.u32(IPVS_SVC_ATTR_FWMARK, *mark);
        }
        ServiceId::Addr {
            protocol,
            addr,
            port,
        } => {
            a.u16(IPVS_SVC_ATTR_AF, af_of(addr));
            a.u16(IPVS_SVC_ATTR_PROTOCOL, *protocol);
            a.addr(IPVS_SVC_ATTR_ADDR, addr);
            a.be16(IPVS_SVC_ATTR_PORT, *port);
        }
    }
}

/// The full service: identity, then every field NEW/SET require.
fn service_full(a: &mut Attrs, svc: &ServiceSpec) {
    service_id(a, &svc.id);
    a.string(IPVS_SVC_ATTR_SCHED_NAME, &svc.scheduler);
    if let Some(pe) = &svc.pe_name {
        a.string(IPVS_SVC_ATTR_PE_NAME, pe);
    }
    // struct ip_vs_flags { __u32 flags; __u32 mask; }: every bit is ours to set.
    let mut flags = svc.flags.to_ne_bytes().to_vec();
    flags.extend_from_slice(&u32::MAX.to_ne_bytes());
    a.put(IPVS_SVC_ATTR_FLAGS, &flags);
    a.u32(IPVS_SVC_ATTR_TIMEOUT, svc.timeout);
    // The kernel reads the netmask with nla_get_be32 and keeps the raw bytes: an IPv4 mask
    // goes in network order, an IPv6 prefix length as a plain number (as ipvsadm sends both).
    if svc.id.af() == libc::AF_INET as u16 {
        a.put(IPVS_SVC_ATTR_NETMASK, &svc.netmask.to_be_bytes());
    } else {
        a.u32(IPVS_SVC_ATTR_NETMASK, svc.netmask);
    }
}

fn dest_id(a: &mut Attrs, id: &DestId) {
    a.addr(IPVS_DEST_ATTR_ADDR, &id.addr);
    a.be16(IPVS_DEST_ATTR_PORT, id.port);
    a.u16(IPVS_DEST_ATTR_ADDR_FAMILY, af_of(&id.addr));
}

fn dest_full(a: &mut Attrs, d: &DestSpec) {
    dest_id(
        a,
        &DestId {
            addr: d.addr,
            port: d.port,
        },
    );
    a.u32(IPVS_DEST_ATTR_FWD_METHOD, d.fwd_method);
    a.u32(IPVS_DEST_ATTR_WEIGHT, d.weight);
    a.u32(IPVS_DEST_ATTR_U_THRESH, d.u_thresh);
    a.u32(IPVS_DEST_ATTR_L_THRESH, d.l_thresh);
    if let Some(tun) = &d.tunnel {
        a.put(IPVS_DEST_ATTR_TUN_TYPE, &[tun.kind]);
        a.be16(IPVS_DEST_ATTR_TUN_PORT, tun.port);
        a.u16(IPVS_DEST_ATTR_TUN_FLAGS, tun.flags);
    }
}

/// The generic-netlink payload of `req`: `genlmsghdr` (command, version 1) and its attributes.
pub fn encode(req: &IpvsRequest) -> Result<Vec<u8>, EncodeError> {
    if let IpvsRequest::NewService(s) | IpvsRequest::SetService(s) = req {
        check_name("scheduler", &s.scheduler)?;
        if let Some(pe) = &s.pe_name {
            check_name("persistence engine", pe)?;
        }
    }
    let mut a = Attrs::default();
    match req {
        IpvsRequest::NewService(s) | IpvsRequest::SetService(s) => {
            a.nest(IPVS_CMD_ATTR_SERVICE, |n| service_full(n, s))
        }
        IpvsRequest::DelService(id) => a.nest(IPVS_CMD_ATTR_SERVICE, |n| service_id(n, id)),
        IpvsRequest::NewDest(id, d) | IpvsRequest::SetDest(id, d) => {
            a.nest(IPVS_CMD_ATTR_SERVICE, |n| service_id(n, id));
            a.nest(IPVS_CMD_ATTR_DEST, |n| dest_full(n, d));
        }
        IpvsRequest::DelDest(id, d) => {
            a.nest(IPVS_CMD_ATTR_SERVICE, |n| service_id(n, id));
            a.nest(IPVS_CMD_ATTR_DEST, |n| dest_id(n, d));
        }
        IpvsRequest::Flush => {}
    }
    let mut out = vec![req.cmd(), IPVS_GENL_VERSION, 0, 0];
    out.extend_from_slice(&a.buf);
    Ok(out)
}

/// `CTRL_CMD_GETFAMILY` for `name`: the nlctrl payload resolving a family's id.
pub fn get_family(name: &str) -> Vec<u8> {
    /// `CTRL_CMD_GETFAMILY`.
    const CTRL_CMD_GETFAMILY: u8 = 3;
    /// `CTRL_ATTR_FAMILY_NAME`.
    const CTRL_ATTR_FAMILY_NAME: u16 = 2;
    let mut a = Attrs::default();
    a.string(CTRL_ATTR_FAMILY_NAME, name);
    let mut out = vec![CTRL_CMD_GETFAMILY, 1, 0, 0];
    out.extend_from_slice(&a.buf);
    out
}

/// The family id in a `CTRL_CMD_NEWFAMILY` answer (its payload after the netlink header).
pub fn family_id(payload: &[u8]) -> Option<u16> {
    /// `CTRL_ATTR_FAMILY_ID`.
    const CTRL_ATTR_FAMILY_ID: u16 = 1;
    let mut at = 4usize; // genlmsghdr
    loop {
        let len = u16::from_ne_bytes(payload.get(at..at + 2)?.try_into().ok()?) as usize;
        let ty = u16::from_ne_bytes(payload.get(at + 2..at + 4)?.try_into().ok()?);
        if len < 4 {
            return None;
        }
        if ty & 0x3fff == CTRL_ATTR_FAMILY_ID {
            let v = payload.get(at + 4..at + 6)?;
            return Some(u16::from_ne_bytes(v.try_into().ok()?));
        }
        at = at.checked_add((len + 3) & !3)?;
    }
}
