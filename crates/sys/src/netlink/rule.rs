//! Policy-routing rules (`virtual_rules`, `static_rules`; `ip rule add|del`).

use std::net::IpAddr;

use neli::{
    consts::rtnl::{FrAct, Frattr, Frf, RtAddrFamily, RtTable},
    rtnl::{Fibmsg, FibmsgBuilder},
    types::{Buffer, RtBuffer},
};

use super::addr::rtattr;
use super::batch::Change;
use super::error::{NetlinkError, Result};
use super::route::{RTPROT_KEEPALIVED, RT_TABLE_MAIN};
use super::socket::Rtnl;

/// `FR_ACT_TO_TBL`: look up a table (`ip rule ... table N`).
pub const FR_ACT_TO_TBL: u8 = 1;
/// `FR_ACT_GOTO`: jump to another rule (`goto PREF`).
pub const FR_ACT_GOTO: u8 = 2;
/// `FR_ACT_NOP`.
pub const FR_ACT_NOP: u8 = 3;
/// `FR_ACT_BLACKHOLE`.
pub const FR_ACT_BLACKHOLE: u8 = 6;
/// `FR_ACT_UNREACHABLE`.
pub const FR_ACT_UNREACHABLE: u8 = 7;
/// `FR_ACT_PROHIBIT`.
pub const FR_ACT_PROHIBIT: u8 = 8;

/// A rule to add or delete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSpec {
    /// IPv6 rule (`ip -6 rule`) rather than IPv4.
    pub ipv6: bool,
    /// `from PREFIX/LEN`.
    pub from: Option<(IpAddr, u8)>,
    /// `to PREFIX/LEN`.
    pub to: Option<(IpAddr, u8)>,
    /// `not`: invert the selector.
    pub invert: bool,
    /// `tos`/`dsfield`.
    pub tos: u8,
    /// `fwmark MARK[/MASK]`.
    pub fwmark: Option<(u32, Option<u32>)>,
    /// `iif NAME`.
    pub iif: Option<String>,
    /// `oif NAME`.
    pub oif: Option<String>,
    /// `preference`/`priority`.
    pub priority: Option<u32>,
    /// `table` (used with [`FR_ACT_TO_TBL`]).
    pub table: u32,
    /// `goto` target preference (with [`FR_ACT_GOTO`]).
    pub goto: Option<u32>,
    /// Action (`FR_ACT_*`).
    pub action: u8,
    /// `protocol` (`RTPROT_*`).
    pub protocol: u8,
}

impl RuleSpec {
    /// A rule of this family that looks up the main table, protocol keepalived; set the
    /// selectors and the fields that differ.
    pub fn new(ipv6: bool) -> Self {
        RuleSpec {
            ipv6,
            from: None,
            to: None,
            invert: false,
            tos: 0,
            fwmark: None,
            iif: None,
            oif: None,
            priority: None,
            table: RT_TABLE_MAIN,
            goto: None,
            action: FR_ACT_TO_TBL,
            protocol: RTPROT_KEEPALIVED,
        }
    }

    pub(crate) fn describe(&self) -> String {
        let mut s = String::from(if self.ipv6 { "rule6" } else { "rule" });
        if let Some(p) = self.priority {
            s.push_str(&format!(" pref {p}"));
        }
        if let Some((a, l)) = self.from {
            s.push_str(&format!(" from {a}/{l}"));
        }
        if let Some((a, l)) = self.to {
            s.push_str(&format!(" to {a}/{l}"));
        }
        if let Some((m, _)) = self.fwmark {
            s.push_str(&format!(" fwmark {m:#x}"));
        }
        s.push_str(&format!(" table {}", self.table));
        s
    }
}

fn ip_bytes(addr: &IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

/// Builds the `RTM_NEWRULE`/`RTM_DELRULE` payload.
pub(crate) fn rule_message(op: &'static str, spec: &RuleSpec) -> Result<Fibmsg> {
    let target = spec.describe();
    let max = if spec.ipv6 { 128 } else { 32 };
    let mut attrs = RtBuffer::<Frattr, Buffer>::new();
    let mut lens = [0u8; 2];
    for (i, (sel, ty)) in [(spec.from, Frattr::Src), (spec.to, Frattr::Dst)]
        .into_iter()
        .enumerate()
    {
        if let Some((addr, len)) = sel {
            if addr.is_ipv6() != spec.ipv6 || len > max {
                return Err(NetlinkError::build(
                    op,
                    target,
                    format!("{addr}/{len} does not fit this rule's family"),
                ));
            }
            attrs.push(rtattr(op, &target, ty, ip_bytes(&addr).as_slice())?);
            if let Some(l) = lens.get_mut(i) {
                *l = len;
            }
        }
    }
    for (name, ty) in [(&spec.iif, Frattr::Iifname), (&spec.oif, Frattr::Oifname)] {
        if let Some(name) = name {
            if name.is_empty() || name.len() > 15 || name.contains('\0') {
                return Err(NetlinkError::build(
                    op,
                    target,
                    format!("invalid interface name {name:?}"),
                ));
            }
            attrs.push(rtattr(op, &target, ty, name.as_str())?);
        }
    }
    if let Some((mark, mask)) = spec.fwmark {
        attrs.push(rtattr(op, &target, Frattr::Fwmark, mark)?);
        if let Some(mask) = mask {
            attrs.push(rtattr(op, &target, Frattr::Fwmask, mask)?);
        }
    }
    if let Some(p) = spec.priority {
        attrs.push(rtattr(op, &target, Frattr::Priority, p)?);
    }
    if let Some(g) = spec.goto {
        attrs.push(rtattr(op, &target, Frattr::Goto, g)?);
    }
    if spec.action == FR_ACT_TO_TBL {
        attrs.push(rtattr(op, &target, Frattr::Table, spec.table)?);
    }
    if spec.protocol != 0 {
        attrs.push(rtattr(op, &target, Frattr::Protocol, spec.protocol)?);
    }
    let table_byte = if spec.action == FR_ACT_TO_TBL {
        u8::try_from(spec.table).unwrap_or(0)
    } else {
        0
    };
    let [src_len, dst_len] = lens;
    FibmsgBuilder::default()
        .fib_family(if spec.ipv6 {
            RtAddrFamily::Inet6
        } else {
            RtAddrFamily::Inet
        })
        .fib_dst_len(dst_len)
        .fib_src_len(src_len)
        .fib_tos(spec.tos)
        .fib_table(RtTable::from(table_byte))
        .fib_action(FrAct::from(spec.action))
        .fib_flags(if spec.invert {
            Frf::INVERT
        } else {
            Frf::empty()
        })
        .rtattrs(attrs)
        .build()
        .map_err(|e| NetlinkError::build(op, target, e))
}

impl Rtnl {
    /// Adds a rule. Returns `false` if an identical one was already there (`EEXIST`).
    pub fn add_rule(&mut self, spec: &RuleSpec) -> Result<bool> {
        self.apply_one(Change::AddRule(spec.clone()))
    }

    /// Deletes a rule. Returns `false` if it was not there (`ENOENT`).
    pub fn del_rule(&mut self, spec: &RuleSpec) -> Result<bool> {
        self.apply_one(Change::DelRule(spec.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neli::ToBytes;
    use std::io::Cursor;

    #[test]
    fn rule_message_layout() {
        let mut spec = RuleSpec::new(false);
        spec.from = Some(("192.0.2.0".parse().unwrap(), 24));
        spec.table = 1000;
        spec.priority = Some(100);
        spec.invert = true;
        let msg = rule_message("t", &spec).unwrap();
        let mut c = Cursor::new(Vec::new());
        msg.to_bytes(&mut c).unwrap();
        let b = c.into_inner();
        assert_eq!(b[0], libc::AF_INET as u8);
        assert_eq!((b[1], b[2]), (0, 24), "dst_len, src_len");
        assert_eq!(b[4], 0, "table 1000 does not fit the header byte");
        assert_eq!(b[7], FR_ACT_TO_TBL);
        assert_eq!(
            u32::from_ne_bytes([b[8], b[9], b[10], b[11]]),
            2,
            "FIB_RULE_INVERT"
        );
        let table = msg
            .rtattrs()
            .iter()
            .find(|a| *a.rta_type() == Frattr::Table)
            .unwrap();
        assert_eq!(table.rta_payload().as_ref(), &1000u32.to_ne_bytes());
    }

    #[test]
    fn rejects_family_mismatch() {
        let mut spec = RuleSpec::new(true);
        spec.to = Some(("192.0.2.0".parse().unwrap(), 24));
        assert!(rule_message("t", &spec).is_err());
    }
}
