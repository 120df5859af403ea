//! Routes (`virtual_routes`, `static_routes`): add and delete.

use std::net::IpAddr;

use neli::{
    consts::rtnl::{RtAddrFamily, RtScope, RtTable, Rta, Rtn, Rtprot},
    rtnl::{Rtmsg, RtmsgBuilder},
    types::{Buffer, RtBuffer},
};

use super::addr::rtattr;
use super::batch::Change;
use super::error::{NetlinkError, Result};
use super::socket::Rtnl;

/// `RTN_UNICAST`: an ordinary route.
pub const RTN_UNICAST: u8 = 1;
/// `RTN_BLACKHOLE`: silently drop.
pub const RTN_BLACKHOLE: u8 = 6;
/// `RTN_UNREACHABLE`: drop with host unreachable.
pub const RTN_UNREACHABLE: u8 = 7;
/// `RTN_PROHIBIT`: drop with administratively prohibited.
pub const RTN_PROHIBIT: u8 = 8;
/// `RTPROT_KEEPALIVED` (`<linux/rtnetlink.h>`): routes installed by keepalived.
pub const RTPROT_KEEPALIVED: u8 = 18;
/// `RT_TABLE_MAIN`.
pub const RT_TABLE_MAIN: u32 = 254;

/// A route to add or delete (`ip route add|del`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteSpec {
    /// Destination network (its family is the route's family).
    pub dst: IpAddr,
    /// Destination prefix length (0 for `default`).
    pub prefix_len: u8,
    /// `via`.
    pub gateway: Option<IpAddr>,
    /// `dev` (ifindex).
    pub dev: Option<u32>,
    /// `table` (254 = main).
    pub table: u32,
    /// `metric`/`priority`.
    pub metric: Option<u32>,
    /// `scope` (`RT_SCOPE_*`).
    pub scope: u8,
    /// `src` (preferred source).
    pub src: Option<IpAddr>,
    /// Route type (`RTN_*`): unicast, blackhole, unreachable, prohibit...
    pub route_type: u8,
    /// `proto` (`RTPROT_*`).
    pub protocol: u8,
}

impl RouteSpec {
    /// A unicast route to `dst/prefix_len` in the main table, scope global, protocol
    /// keepalived; set the other fields as needed.
    pub fn new(dst: IpAddr, prefix_len: u8) -> Self {
        RouteSpec {
            dst,
            prefix_len,
            gateway: None,
            dev: None,
            table: RT_TABLE_MAIN,
            metric: None,
            scope: 0,
            src: None,
            route_type: RTN_UNICAST,
            protocol: RTPROT_KEEPALIVED,
        }
    }

    pub(crate) fn describe(&self) -> String {
        let mut s = format!("{}/{}", self.dst, self.prefix_len);
        if let Some(gw) = self.gateway {
            s.push_str(&format!(" via {gw}"));
        }
        if let Some(dev) = self.dev {
            s.push_str(&format!(" dev ifindex {dev}"));
        }
        if self.table != RT_TABLE_MAIN {
            s.push_str(&format!(" table {}", self.table));
        }
        s
    }
}

fn ip_bytes(addr: &IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// Builds the `RTM_NEWROUTE`/`RTM_DELROUTE` payload.
pub(crate) fn route_message(op: &'static str, spec: &RouteSpec) -> Result<Rtmsg> {
    let target = spec.describe();
    let (family, max) = match spec.dst {
        IpAddr::V4(_) => (RtAddrFamily::Inet, 32),
        IpAddr::V6(_) => (RtAddrFamily::Inet6, 128),
    };
    if spec.prefix_len > max {
        return Err(NetlinkError::build(
            op,
            target,
            format!("prefix length {} > {max}", spec.prefix_len),
        ));
    }
    for other in [spec.gateway, spec.src].into_iter().flatten() {
        if other.is_ipv4() != spec.dst.is_ipv4() {
            return Err(NetlinkError::build(
                op,
                target,
                format!("{other} is not of the destination's family"),
            ));
        }
    }
    let mut attrs = RtBuffer::<Rta, Buffer>::new();
    if spec.prefix_len > 0 {
        attrs.push(rtattr(
            op,
            &target,
            Rta::Dst,
            ip_bytes(&spec.dst).as_slice(),
        )?);
    }
    if let Some(gw) = &spec.gateway {
        attrs.push(rtattr(op, &target, Rta::Gateway, ip_bytes(gw).as_slice())?);
    }
    if let Some(dev) = spec.dev {
        attrs.push(rtattr(op, &target, Rta::Oif, dev)?);
    }
    if let Some(metric) = spec.metric {
        attrs.push(rtattr(op, &target, Rta::Priority, metric)?);
    }
    if let Some(src) = &spec.src {
        attrs.push(rtattr(op, &target, Rta::Prefsrc, ip_bytes(src).as_slice())?);
    }
    // Tables above 255 do not fit the header's byte: RT_TABLE_UNSPEC there, RTA_TABLE always.
    let table_byte = u8::try_from(spec.table).unwrap_or(0);
    attrs.push(rtattr(op, &target, Rta::Table, spec.table)?);
    RtmsgBuilder::default()
        .rtm_family(family)
        .rtm_dst_len(spec.prefix_len)
        .rtm_src_len(0)
        .rtm_tos(0)
        .rtm_table(RtTable::from(table_byte))
        .rtm_protocol(Rtprot::from(spec.protocol))
        .rtm_scope(RtScope::from(spec.scope))
        .rtm_type(Rtn::from(spec.route_type))
        .rtattrs(attrs)
        .build()
        .map_err(|e| NetlinkError::build(op, target, e))
}

impl Rtnl {
    /// Adds a route. Returns `false` if an identical one was already there (`EEXIST`).
    pub fn add_route(&mut self, spec: &RouteSpec) -> Result<bool> {
        self.apply_one(Change::AddRoute(spec.clone()))
    }

    /// Deletes a route, whatever protocol installed it. Returns `false` if it was not there
    /// (`ESRCH`).
    pub fn del_route(&mut self, spec: &RouteSpec) -> Result<bool> {
        self.apply_one(Change::DelRoute(spec.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neli::ToBytes;
    use std::io::Cursor;

    #[test]
    fn ipv4_route_message_layout() {
        let mut spec = RouteSpec::new("198.51.100.0".parse().unwrap(), 24);
        spec.gateway = Some("192.0.2.1".parse().unwrap());
        spec.dev = Some(4);
        spec.metric = Some(100);
        spec.table = 1000;
        let msg = route_message("t", &spec).unwrap();
        let mut c = Cursor::new(Vec::new());
        msg.to_bytes(&mut c).unwrap();
        let b = c.into_inner();
        assert_eq!(b[0], libc::AF_INET as u8);
        assert_eq!(b[1], 24);
        assert_eq!(b[4], 0, "table 1000 does not fit the header byte");
        assert_eq!(b[5], RTPROT_KEEPALIVED);
        assert_eq!(b[7], RTN_UNICAST);
        let table = msg
            .rtattrs()
            .iter()
            .find(|a| *a.rta_type() == Rta::Table)
            .unwrap();
        assert_eq!(table.rta_payload().as_ref(), &1000u32.to_ne_bytes());
    }

    #[test]
    fn rejects_mixed_families() {
        let mut spec = RouteSpec::new("fd00::".parse().unwrap(), 64);
        spec.gateway = Some("192.0.2.1".parse().unwrap());
        assert!(route_message("t", &spec).is_err());
    }
}
