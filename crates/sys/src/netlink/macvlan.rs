//! VMACs (`use_vmac`): a macvlan in private mode on the instance's interface with the VRRP
//! virtual MAC (`00:00:5e:00:01:VRID` for IPv4, `00:00:5e:00:02:VRID` for IPv6).
//!
//! neli has no names for the macvlan attributes, so they are written with their raw numbers
//! from `<linux/if_link.h>`: [`IFLA_MACVLAN_MODE`] inside `IFLA_INFO_DATA`, value
//! [`MACVLAN_MODE_PRIVATE`].

use neli::{
    consts::rtnl::{Arphrd, Ifla, IflaInfo, RtAddrFamily, Rtm},
    rtnl::IfinfomsgBuilder,
    types::{Buffer, RtBuffer},
};
use nix::errno::Errno;

use super::addr::rtattr;
use super::error::{NetlinkError, Result};
use super::socket::{Rtnl, NLM_F_CREATE, NLM_F_EXCL};

/// `IFLA_MACVLAN_MODE` (`<linux/if_link.h>`), nested in `IFLA_INFO_DATA`.
pub const IFLA_MACVLAN_MODE: u16 = 1;
/// `MACVLAN_MODE_PRIVATE`: no traffic between macvlans of the same parent.
pub const MACVLAN_MODE_PRIVATE: u32 = 1;

/// The VRRP virtual MAC of a VRID: `00:00:5e:00:01:VRID` (IPv4) or `00:00:5e:00:02:VRID`
/// (IPv6), RFC 5798 §7.3.
pub fn vmac_address(vrid: u8, ipv6: bool) -> [u8; 6] {
    [0x00, 0x00, 0x5e, 0x00, if ipv6 { 0x02 } else { 0x01 }, vrid]
}

/// A sysctl changed by [`configure_vmac_sysctls`], with the value to put back on exit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SysctlChange {
    /// The file under `/proc/sys`.
    pub path: String,
    /// Its value before the change.
    pub old: String,
}

/// The IPv4 sysctls keepalived sets for a VMAC and its parent (`NOTE_vrrp_vmac.txt`): on the
/// VMAC `accept_local=1` (take the VIP's own adverts), `arp_ignore=1` and `rp_filter=0`; on the
/// parent `arp_ignore=1` and `arp_filter=1` (only the VMAC answers ARP for the VIPs).
pub fn vmac_sysctls(vmac: &str, parent: &str) -> Vec<(String, &'static str)> {
    let conf = |dev: &str, key: &str| format!("/proc/sys/net/ipv4/conf/{dev}/{key}");
    vec![
        (conf(vmac, "accept_local"), "1"),
        (conf(vmac, "arp_ignore"), "1"),
        (conf(vmac, "rp_filter"), "0"),
        (conf(parent, "arp_ignore"), "1"),
        (conf(parent, "arp_filter"), "1"),
    ]
}

/// Writes [`vmac_sysctls`] and returns what changed (values already right are left out).
/// `net.ipv4.conf.all.rp_filter` is not adjusted (keepalived lowers it and compensates on the
/// other interfaces); with `all.rp_filter` 1 the VMAC's 0 has no effect.
pub fn configure_vmac_sysctls(vmac: &str, parent: &str) -> Result<Vec<SysctlChange>> {
    let mut changed = Vec::new();
    for (path, value) in vmac_sysctls(vmac, parent) {
        let old = std::fs::read_to_string(&path).map_err(|source| NetlinkError::Sysctl {
            path: path.clone(),
            source,
        })?;
        let old = old.trim().to_string();
        if old == value {
            continue;
        }
        std::fs::write(&path, value).map_err(|source| NetlinkError::Sysctl {
            path: path.clone(),
            source,
        })?;
        changed.push(SysctlChange { path, old });
    }
    Ok(changed)
}

/// Puts back what [`configure_vmac_sysctls`] changed (the VMAC's own entries vanish with it;
/// a missing file is not an error). Returns the first failure after trying every entry.
pub fn restore_sysctls(changes: &[SysctlChange]) -> Result<()> {
    let mut first = None;
    for c in changes.iter().rev() {
        match std::fs::write(&c.path, &c.old) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                first.get_or_insert(NetlinkError::Sysctl {
                    path: c.path.clone(),
                    source,
                });
            }
        }
    }
    first.map_or(Ok(()), Err)
}

fn format_mac(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Builds the `RTM_NEWLINK` payload creating the macvlan.
pub(crate) fn macvlan_message(
    op: &'static str,
    parent: u32,
    name: &str,
    mac: [u8; 6],
) -> Result<neli::rtnl::Ifinfomsg> {
    let target = format!("{name} (mac {}) on ifindex {parent}", format_mac(&mac));
    if name.is_empty() || name.len() > 15 || name.contains(['\0', '/', ' ']) {
        return Err(NetlinkError::build(
            op,
            target,
            format!("invalid interface name {name:?}"),
        ));
    }
    let mut data = RtBuffer::<u16, Buffer>::new();
    data.push(rtattr(
        op,
        &target,
        IFLA_MACVLAN_MODE,
        MACVLAN_MODE_PRIVATE,
    )?);
    let mut info = RtBuffer::<IflaInfo, Buffer>::new();
    info.push(rtattr(op, &target, IflaInfo::Kind, "macvlan")?);
    info.push(rtattr(op, &target, IflaInfo::Data, data)?);
    let mut attrs = RtBuffer::<Ifla, Buffer>::new();
    attrs.push(rtattr(op, &target, Ifla::Ifname, name)?);
    attrs.push(rtattr(op, &target, Ifla::Link, parent)?);
    attrs.push(rtattr(op, &target, Ifla::Address, mac.as_slice())?);
    attrs.push(rtattr(op, &target, Ifla::Linkinfo, info)?);
    IfinfomsgBuilder::default()
        .ifi_family(RtAddrFamily::Unspecified)
        .ifi_type(Arphrd::from(0))
        .rtattrs(attrs)
        .build()
        .map_err(|e| NetlinkError::build(op, target, e))
}

impl Rtnl {
    /// Creates the macvlan `name` on `parent` with `mac`, in private mode, and sets it up;
    /// returns its ifindex. A macvlan of that name already on `parent` (left by a previous
    /// run) is reused, as keepalived does; any other existing link of that name is an error.
    pub fn add_macvlan(&mut self, parent: u32, name: &str, mac: [u8; 6]) -> Result<u32> {
        const OP: &str = "add macvlan";
        let req = macvlan_message(OP, parent, name, mac)?;
        let target = || format!("{name} (mac {}) on ifindex {parent}", format_mac(&mac));
        let created = match self.request(
            OP,
            &target,
            Rtm::Newlink.into(),
            NLM_F_CREATE | NLM_F_EXCL,
            &req,
        )? {
            Ok(()) => true,
            Err((Errno::EEXIST, _)) => false,
            Err((errno, ext_msg)) => {
                return Err(NetlinkError::Kernel {
                    op: OP,
                    target: target(),
                    errno,
                    ext_msg,
                })
            }
        };
        let detail = self
            .link_details()?
            .into_iter()
            .find(|d| d.link.name == name)
            .ok_or_else(|| NetlinkError::Missing {
                op: OP,
                target: target(),
            })?;
        if !created {
            let reusable =
                detail.kind.as_deref() == Some("macvlan") && detail.parent == Some(parent);
            if !reusable {
                return Err(NetlinkError::Kernel {
                    op: OP,
                    target: target(),
                    errno: Errno::EEXIST,
                    ext_msg: Some(format!(
                        "an interface of that name exists (kind {}, parent {:?})",
                        detail.kind.as_deref().unwrap_or("none"),
                        detail.parent
                    )),
                });
            }
            log::info!("{name}: reusing the existing macvlan on ifindex {parent}");
        }
        self.set_link_up(detail.link.index, true)?;
        Ok(detail.link.index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use neli::rtnl::Ifinfomsg;
    use neli::{FromBytesWithInput, ToBytes};
    use std::io::Cursor;

    #[test]
    fn macvlan_message_carries_name_parent_mac_kind_and_private_mode() {
        let mac = [0, 0, 0x5e, 0, 1, 51];
        let msg = macvlan_message("t", 7, "vrrp.51", mac).unwrap();
        let mut c = Cursor::new(Vec::new());
        msg.to_bytes(&mut c).unwrap();
        let bytes = c.into_inner();
        let parsed =
            Ifinfomsg::from_bytes_with_input(&mut Cursor::new(&bytes), bytes.len()).unwrap();
        let h = parsed.rtattrs().get_attr_handle();
        let name = h.get_attribute(Ifla::Ifname).unwrap();
        assert_eq!(name.rta_payload().as_ref(), b"vrrp.51\0");
        assert_eq!(h.get_attr_payload_as::<u32>(Ifla::Link).unwrap(), 7);
        assert_eq!(
            h.get_attribute(Ifla::Address)
                .unwrap()
                .rta_payload()
                .as_ref(),
            &mac
        );
        let info = h.get_nested_attributes::<IflaInfo>(Ifla::Linkinfo).unwrap();
        assert_eq!(
            info.get_attribute(IflaInfo::Kind)
                .unwrap()
                .rta_payload()
                .as_ref(),
            b"macvlan\0"
        );
        let data = info.get_nested_attributes::<u16>(IflaInfo::Data).unwrap();
        assert_eq!(
            data.get_attr_payload_as::<u32>(IFLA_MACVLAN_MODE).unwrap(),
            MACVLAN_MODE_PRIVATE
        );
    }

    #[test]
    fn vmac_addresses_follow_rfc5798() {
        assert_eq!(vmac_address(51, false), [0, 0, 0x5e, 0, 1, 51]);
        assert_eq!(vmac_address(255, true), [0, 0, 0x5e, 0, 2, 255]);
    }

    #[test]
    fn vmac_sysctl_list() {
        let list = vmac_sysctls("vrrp.51", "eth0");
        assert!(list.contains(&("/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore".into(), "1")));
        assert!(list.contains(&("/proc/sys/net/ipv4/conf/eth0/arp_filter".into(), "1")));
        assert_eq!(list.len(), 5);
    }

    #[test]
    fn rejects_bad_names() {
        assert!(macvlan_message("t", 7, "", [0; 6]).is_err());
        assert!(macvlan_message("t", 7, "a-name-longer-than-15", [0; 6]).is_err());
    }
}
