//! Addresses: the table dump, adding and deleting VIPs.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use neli::{
    consts::rtnl::{Ifa, IfaF, RtAddrFamily, RtScope, Rtm},
    rtnl::{Ifaddrmsg, IfaddrmsgBuilder, Rtattr, RtattrBuilder},
    types::{Buffer, RtBuffer},
    FromBytesWithInput, Size, ToBytes,
};

use super::batch::Change;
use super::error::{NetlinkError, Result};
use super::socket::Rtnl;
use super::wire::{self, RawMsg};

/// `IFA_F_NODAD`: skip duplicate address detection (IPv6).
pub const IFA_F_NODAD: u32 = 0x02;
/// `IFA_F_TENTATIVE`: IPv6 DAD still running.
pub const IFA_F_TENTATIVE: u32 = 0x40;
/// `IFA_F_DADFAILED`: IPv6 DAD found a duplicate.
pub const IFA_F_DADFAILED: u32 = 0x08;
/// `IFA_F_DEPRECATED`: preferred lifetime over (never chosen as a source address).
pub const IFA_F_DEPRECATED: u32 = 0x20;
/// `IFA_F_SECONDARY`: not the primary address of its subnet (IPv4).
pub const IFA_F_SECONDARY: u32 = 0x01;

/// An address as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Addr {
    /// Interface index.
    pub ifindex: u32,
    /// The local address (`IFA_LOCAL`, or `IFA_ADDRESS` when there is no local one, as for
    /// most IPv6 addresses).
    pub addr: IpAddr,
    /// Prefix length.
    pub prefix_len: u8,
    /// IPv4 label (`IFA_LABEL`), e.g. `eth0:1`.
    pub label: Option<String>,
    /// Scope (`RT_SCOPE_*`: 0 global, 200 site, 253 link, 254 host).
    pub scope: u8,
    /// `IFA_F_*` flags (from `IFA_FLAGS` when present, else the header's 8 bits).
    pub flags: u32,
}

/// An address to add or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrSpec {
    /// Interface index.
    pub ifindex: u32,
    /// The address.
    pub addr: IpAddr,
    /// Prefix length (32 / 128 for a host address).
    pub prefix_len: u8,
    /// IPv4 broadcast (`brd`); ignored for IPv6.
    pub broadcast: Option<Ipv4Addr>,
    /// Scope (`RT_SCOPE_*`).
    pub scope: u8,
    /// IPv4 label; ignored for IPv6 (the kernel has no IPv6 labels).
    pub label: Option<String>,
    /// `-nodad`/`nodad`: set `IFA_F_NODAD` (IPv6).
    pub nodad: bool,
}

impl AddrSpec {
    pub(crate) fn describe(&self) -> String {
        format!(
            "{}/{} on ifindex {}",
            self.addr, self.prefix_len, self.ifindex
        )
    }
}

fn ip_bytes(addr: &IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn ip_from(family: u8, bytes: &[u8]) -> Option<IpAddr> {
    match family as i32 {
        libc::AF_INET => <[u8; 4]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V4(Ipv4Addr::from(b))),
        libc::AF_INET6 => <[u8; 16]>::try_from(bytes)
            .ok()
            .map(|b| IpAddr::V6(Ipv6Addr::from(b))),
        _ => None,
    }
}

pub(crate) fn rtattr<T, P>(
    op: &'static str,
    target: &str,
    ty: T,
    payload: P,
) -> Result<Rtattr<T, Buffer>>
where
    T: neli::consts::rtnl::RtaType,
    P: Size + ToBytes,
{
    RtattrBuilder::default()
        .rta_type(ty)
        .rta_payload(payload)
        .build()
        .map_err(|e| NetlinkError::build(op, target, e))
}

/// `INFINITY_LIFE_TIME`: a lifetime that never ends.
const INFINITY_LIFE_TIME: u32 = u32::MAX;

/// Whether keepalived would add this address deprecated (`preferred_lft 0`): its default for
/// IPv6 /128 VIPs, so that they are never chosen as the source of outgoing traffic.
pub fn added_deprecated(spec: &AddrSpec) -> bool {
    spec.addr.is_ipv6() && spec.prefix_len == 128
}

/// Builds the `RTM_DELADDR` payload for a spec (also what identifies an address).
pub(crate) fn addr_message(op: &'static str, spec: &AddrSpec) -> Result<Ifaddrmsg> {
    build_addr_message(op, spec, false)
}

/// Builds the `RTM_NEWADDR` payload for a spec: as [`addr_message`], plus
/// `IFA_CACHEINFO` with preferred lifetime 0 when [`added_deprecated`].
pub(crate) fn add_addr_message(op: &'static str, spec: &AddrSpec) -> Result<Ifaddrmsg> {
    build_addr_message(op, spec, true)
}

fn build_addr_message(op: &'static str, spec: &AddrSpec, for_add: bool) -> Result<Ifaddrmsg> {
    let target = spec.describe();
    let bytes = ip_bytes(&spec.addr);
    let mut attrs = RtBuffer::<Ifa, Buffer>::new();
    attrs.push(rtattr(op, &target, Ifa::Local, bytes.as_slice())?);
    attrs.push(rtattr(op, &target, Ifa::Address, bytes.as_slice())?);
    let family = match spec.addr {
        IpAddr::V4(_) => {
            if let Some(brd) = spec.broadcast {
                attrs.push(rtattr(
                    op,
                    &target,
                    Ifa::Broadcast,
                    brd.octets().as_slice(),
                )?);
            }
            if let Some(label) = &spec.label {
                // IFNAMSIZ is 16 including the NUL.
                if label.len() > 15 || label.contains('\0') {
                    return Err(NetlinkError::build(
                        op,
                        target,
                        format!("label {label:?} longer than 15 bytes"),
                    ));
                }
                attrs.push(rtattr(op, &target, Ifa::Label, label.as_str())?);
            }
            RtAddrFamily::Inet
        }
        IpAddr::V6(_) => RtAddrFamily::Inet6,
    };
    if for_add && added_deprecated(spec) {
        // struct ifa_cacheinfo { ifa_prefered, ifa_valid, cstamp, tstamp }: the kernel reads
        // only the two lifetimes.
        let mut cacheinfo = Vec::with_capacity(16);
        for v in [0u32, INFINITY_LIFE_TIME, 0, 0] {
            cacheinfo.extend_from_slice(&v.to_ne_bytes());
        }
        attrs.push(rtattr(op, &target, Ifa::Cacheinfo, cacheinfo.as_slice())?);
    }
    let flags = if spec.nodad { IFA_F_NODAD } else { 0 };
    if flags != 0 {
        attrs.push(rtattr(op, &target, Ifa::Flags, flags)?);
    }
    let max_prefix = if spec.addr.is_ipv4() { 32 } else { 128 };
    if spec.prefix_len > max_prefix {
        return Err(NetlinkError::build(
            op,
            target,
            format!("prefix length {} > {max_prefix}", spec.prefix_len),
        ));
    }
    IfaddrmsgBuilder::default()
        .ifa_family(family)
        .ifa_prefixlen(spec.prefix_len)
        .ifa_flags(IfaF::from_bits_retain(flags as u8))
        .ifa_scope(RtScope::from(spec.scope))
        .ifa_index(spec.ifindex)
        .rtattrs(attrs)
        .build()
        .map_err(|e| NetlinkError::build(op, target, e))
}

/// Parses an `RTM_NEWADDR`/`RTM_DELADDR` payload. `None` for families other than IPv4/IPv6.
pub(crate) fn parse_addr(op: &'static str, payload: &[u8]) -> Result<Option<Addr>> {
    let msg = Ifaddrmsg::from_bytes_with_input(&mut Cursor::new(payload), payload.len())
        .map_err(|e| NetlinkError::malformed(op, format!("address message: {e}")))?;
    let family: u8 = (*msg.ifa_family()).into();
    let mut local = None;
    let mut address = None;
    let mut label = None;
    let mut flags = u32::from(msg.ifa_flags().bits());
    for attr in msg.rtattrs().iter() {
        let bytes = attr.rta_payload().as_ref();
        match *attr.rta_type() {
            Ifa::Local => local = ip_from(family, bytes),
            Ifa::Address => address = ip_from(family, bytes),
            Ifa::Label => label = Some(wire::attr_string(bytes)),
            Ifa::Flags => flags = wire::attr_u32(bytes).unwrap_or(flags),
            _ => {}
        }
    }
    let Some(addr) = local.or(address) else {
        return Ok(None);
    };
    Ok(Some(Addr {
        ifindex: *msg.ifa_index(),
        addr,
        prefix_len: *msg.ifa_prefixlen(),
        label,
        scope: (*msg.ifa_scope()).into(),
        flags,
    }))
}

impl Rtnl {
    /// Every IPv4 and IPv6 address of this network namespace.
    pub fn addrs(&mut self) -> Result<Vec<Addr>> {
        const OP: &str = "dump addresses";
        let req = IfaddrmsgBuilder::default()
            .ifa_family(RtAddrFamily::Unspecified)
            .ifa_prefixlen(0)
            .ifa_scope(RtScope::Universe)
            .ifa_index(0)
            .build()
            .map_err(|e| NetlinkError::build(OP, "", e))?;
        let mut out = Vec::new();
        self.dump(
            OP,
            Rtm::Getaddr.into(),
            Rtm::Newaddr.into(),
            &req,
            &mut |m: &RawMsg<'_>| {
                out.extend(parse_addr(OP, m.payload)?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// Adds an address (`ip addr add`). Returns `false` if it was already there (`EEXIST`).
    /// IPv6 /128 addresses are added with `preferred_lft 0` (deprecated), keepalived's
    /// default ([`added_deprecated`]). Many at once: [`Rtnl::apply`].
    pub fn add_addr(&mut self, spec: &AddrSpec) -> Result<bool> {
        self.apply_one(Change::AddAddr(spec.clone()))
    }

    /// Deletes an address (`ip addr del`). Returns `false` if it was not there
    /// (`EADDRNOTAVAIL`).
    pub fn del_addr(&mut self, spec: &AddrSpec) -> Result<bool> {
        self.apply_one(Change::DelAddr(spec.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(msg: &Ifaddrmsg) -> Vec<u8> {
        let mut c = Cursor::new(Vec::new());
        msg.to_bytes(&mut c).unwrap();
        c.into_inner()
    }

    fn spec(addr: &str, prefix_len: u8) -> AddrSpec {
        AddrSpec {
            ifindex: 3,
            addr: addr.parse().unwrap(),
            prefix_len,
            broadcast: None,
            scope: 0,
            label: None,
            nodad: false,
        }
    }

    #[test]
    fn ipv4_with_label_and_broadcast_round_trips() {
        let mut s = spec("192.0.2.10", 24);
        s.broadcast = Some("192.0.2.255".parse().unwrap());
        s.label = Some("veth0:vip".into());
        let bytes = encode(&addr_message("t", &s).unwrap());
        assert_eq!(bytes[0], libc::AF_INET as u8);
        assert_eq!(bytes[1], 24);
        let parsed = parse_addr("t", &bytes).unwrap().unwrap();
        assert_eq!(parsed.addr, s.addr);
        assert_eq!(parsed.prefix_len, 24);
        assert_eq!(parsed.ifindex, 3);
        assert_eq!(parsed.label.as_deref(), Some("veth0:vip"));
        let msg = Ifaddrmsg::from_bytes_with_input(&mut Cursor::new(&bytes), bytes.len()).unwrap();
        let brd = msg
            .rtattrs()
            .iter()
            .find(|a| *a.rta_type() == Ifa::Broadcast)
            .unwrap();
        assert_eq!(brd.rta_payload().as_ref(), &[192, 0, 2, 255]);
    }

    #[test]
    fn ipv6_nodad_sets_both_flag_fields_and_drops_label() {
        let mut s = spec("fd00::10", 64);
        s.nodad = true;
        s.label = Some("ignored".into());
        s.broadcast = Some("192.0.2.255".parse().unwrap());
        let bytes = encode(&addr_message("t", &s).unwrap());
        assert_eq!(bytes[0], libc::AF_INET6 as u8);
        assert_eq!(u32::from(bytes[2]) & IFA_F_NODAD, IFA_F_NODAD);
        let parsed = parse_addr("t", &bytes).unwrap().unwrap();
        assert_eq!(parsed.addr, s.addr);
        assert_eq!(parsed.flags & IFA_F_NODAD, IFA_F_NODAD);
        assert_eq!(parsed.label, None);
    }

    #[test]
    fn ipv6_host_vips_are_added_deprecated_only() {
        let has_cacheinfo = |msg: &Ifaddrmsg| {
            msg.rtattrs()
                .iter()
                .find(|a| *a.rta_type() == Ifa::Cacheinfo)
                .map(|a| a.rta_payload().as_ref().to_vec())
        };
        let host = spec("fd00::1", 128);
        let info = has_cacheinfo(&add_addr_message("t", &host).unwrap()).unwrap();
        assert_eq!(&info[..8], &[0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff]);
        assert_eq!(has_cacheinfo(&addr_message("t", &host).unwrap()), None);
        assert_eq!(
            has_cacheinfo(&add_addr_message("t", &spec("fd00::1", 64)).unwrap()),
            None
        );
        assert_eq!(
            has_cacheinfo(&add_addr_message("t", &spec("192.0.2.1", 32)).unwrap()),
            None
        );
    }

    #[test]
    fn rejects_long_labels_and_prefixes() {
        let mut s = spec("192.0.2.10", 33);
        assert!(addr_message("t", &s).is_err());
        s.prefix_len = 32;
        s.label = Some("a-label-that-is-too-long".into());
        assert!(addr_message("t", &s).is_err());
    }

    #[test]
    fn parse_never_panics_on_junk() {
        for n in 0..48u8 {
            let junk: Vec<u8> = (0..n).map(|i| i.wrapping_mul(91).wrapping_add(n)).collect();
            let _ = parse_addr("t", &junk);
        }
    }
}
