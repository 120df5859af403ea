//! Links: the table dump, one link by name, up/down, deletion.

use std::io::Cursor;

use neli::{
    consts::rtnl::{Arphrd, Iff, Ifla, IflaInfo, RtAddrFamily, Rtm},
    rtnl::{Ifinfomsg, IfinfomsgBuilder},
    FromBytesWithInput,
};
use nix::errno::Errno;

use super::error::{NetlinkError, Result};
use super::socket::Rtnl;
use super::wire::{self, RawMsg};

/// A network interface as the kernel reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Link {
    /// Interface index.
    pub index: u32,
    /// Interface name.
    pub name: String,
    /// `IFF_UP`: administratively up.
    pub up: bool,
    /// `IFF_RUNNING`: operationally up (carrier).
    pub running: bool,
    /// Hardware address, when it is an Ethernet-style 6-byte one.
    pub mac: Option<[u8; 6]>,
    /// MTU.
    pub mtu: u32,
}

/// What the module needs beyond [`Link`] (for VMAC reuse).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkDetail {
    pub link: Link,
    /// `IFLA_INFO_KIND` (e.g. `"macvlan"`).
    pub kind: Option<String>,
    /// `IFLA_LINK`: the parent of a macvlan/vlan.
    pub parent: Option<u32>,
}

/// Parses an `RTM_NEWLINK`/`RTM_DELLINK` payload.
pub(crate) fn parse_link(op: &'static str, payload: &[u8]) -> Result<LinkDetail> {
    let msg = Ifinfomsg::from_bytes_with_input(&mut Cursor::new(payload), payload.len())
        .map_err(|e| NetlinkError::malformed(op, format!("link message: {e}")))?;
    let index = u32::try_from(*msg.ifi_index())
        .map_err(|_| NetlinkError::malformed(op, format!("link index {}", msg.ifi_index())))?;
    let flags = msg.ifi_flags().bits();
    let mut link = Link {
        index,
        name: String::new(),
        up: flags & Iff::UP.bits() != 0,
        running: flags & Iff::RUNNING.bits() != 0,
        mac: None,
        mtu: 0,
    };
    let mut kind = None;
    let mut parent = None;
    for attr in msg.rtattrs().iter() {
        let bytes = attr.rta_payload().as_ref();
        match *attr.rta_type() {
            Ifla::Ifname => link.name = wire::attr_string(bytes),
            Ifla::Address => link.mac = <[u8; 6]>::try_from(bytes).ok(),
            Ifla::Mtu => link.mtu = wire::attr_u32(bytes).unwrap_or_default(),
            Ifla::Link => parent = wire::attr_u32(bytes),
            Ifla::Linkinfo => {
                if let Ok(info) = attr.get_attr_handle::<IflaInfo>() {
                    if let Some(k) = info.get_attribute(IflaInfo::Kind) {
                        kind = Some(wire::attr_string(k.rta_payload().as_ref()));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(LinkDetail { link, kind, parent })
}

fn link_request(index: u32) -> Result<Ifinfomsg> {
    let index = libc::c_int::try_from(index)
        .map_err(|e| NetlinkError::build("link request", format!("ifindex {index}"), e))?;
    IfinfomsgBuilder::default()
        .ifi_family(RtAddrFamily::Unspecified)
        .ifi_type(Arphrd::from(0))
        .ifi_index(index)
        .build()
        .map_err(|e| NetlinkError::build("link request", format!("ifindex {index}"), e))
}

impl Rtnl {
    /// Every link of this network namespace.
    pub fn links(&mut self) -> Result<Vec<Link>> {
        Ok(self.link_details()?.into_iter().map(|d| d.link).collect())
    }

    pub(crate) fn link_details(&mut self) -> Result<Vec<LinkDetail>> {
        const OP: &str = "dump links";
        let req = link_request(0)?;
        let mut out = Vec::new();
        self.dump(
            OP,
            Rtm::Getlink.into(),
            Rtm::Newlink.into(),
            &req,
            &mut |m: &RawMsg<'_>| {
                out.push(parse_link(OP, m.payload)?);
                Ok(())
            },
        )?;
        Ok(out)
    }

    /// The link with this name, if any.
    pub fn link_by_name(&mut self, name: &str) -> Result<Option<Link>> {
        Ok(self
            .link_details()?
            .into_iter()
            .find(|d| d.link.name == name)
            .map(|d| d.link))
    }

    /// Sets a link administratively up or down (`ip link set dev X up|down`).
    pub fn set_link_up(&mut self, index: u32, up: bool) -> Result<()> {
        let target = || format!("ifindex {index}");
        let base = IfinfomsgBuilder::default()
            .ifi_family(RtAddrFamily::Unspecified)
            .ifi_type(Arphrd::from(0))
            .ifi_index(
                libc::c_int::try_from(index)
                    .map_err(|e| NetlinkError::build("set link up/down", target(), e))?,
            );
        let req = if up { base.up() } else { base.down() }
            .build()
            .map_err(|e| NetlinkError::build("set link up/down", target(), e))?;
        self.request_ok(
            if up { "set link up" } else { "set link down" },
            &target,
            Rtm::Newlink.into(),
            0,
            &req,
        )
    }

    /// Deletes a link (a VMAC). Returns `false` if it did not exist.
    pub fn del_link(&mut self, index: u32) -> Result<bool> {
        const OP: &str = "delete link";
        let target = || format!("ifindex {index}");
        let req = link_request(index)?;
        match self.request(OP, &target, Rtm::Dellink.into(), 0, &req)? {
            Ok(()) => Ok(true),
            Err((Errno::ENODEV, _)) => Ok(false),
            Err((errno, ext_msg)) => Err(NetlinkError::Kernel {
                op: OP,
                target: target(),
                errno,
                ext_msg,
            }),
        }
    }
}
