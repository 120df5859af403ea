//! The kernel's links and addresses as the netlink monitor reports them, kept between dumps.
//!
//! A reload plans with the links and addresses of the moment. Dumping them costs about 2 ms
//! at 1,000 instances (their VIPs are addresses too), on the reload's critical path; the
//! monitor reports every change anyway. So the last dump is kept and every event applied to
//! it, and a reload builds its [`Snapshot`] from that. Where applying an event could leave an
//! order the kernel would not list (a primary IPv4 address removed while secondaries remain,
//! which the kernel may promote; a second IPv6 link-local address), or when events were lost,
//! the view is dropped and the next reload dumps again.

use crate::system::{is_link_local_v6, Snapshot, IFA_F_SECONDARY};
use keepalived_sys::netlink::{Addr, Link, NetEvent};

/// Links and addresses: a dump with the monitor's events since applied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelView {
    links: Vec<Link>,
    /// In the order a dump would list them (see [`KernelView::apply`]).
    addrs: Vec<Addr>,
}

impl KernelView {
    /// The view of a fresh dump.
    pub fn from_snapshot(snapshot: &Snapshot) -> Self {
        KernelView {
            links: snapshot.links.clone(),
            addrs: snapshot.addrs.clone(),
        }
    }

    /// The snapshot a dump would give now.
    pub fn snapshot(&self) -> Snapshot {
        Snapshot::new(self.links.clone(), self.addrs.clone())
    }

    /// Applies one monitor event; false when the view can no longer stand for a dump.
    pub fn apply(&mut self, event: &NetEvent) -> bool {
        match event {
            NetEvent::LinkChanged(link) => {
                match self.links.iter_mut().find(|l| l.index == link.index) {
                    Some(known) => *known = link.clone(),
                    None => self.links.push(link.clone()),
                }
                true
            }
            NetEvent::LinkRemoved { index, .. } => {
                self.links.retain(|l| l.index != *index);
                self.addrs.retain(|a| a.ifindex != *index);
                true
            }
            NetEvent::AddrAdded(addr) => self.add(addr),
            NetEvent::AddrRemoved(addr) => self.remove(addr),
            NetEvent::Overrun => false,
        }
    }

    fn add(&mut self, addr: &Addr) -> bool {
        if let Some(known) = self
            .addrs
            .iter_mut()
            .find(|a| a.ifindex == addr.ifindex && a.addr == addr.addr)
        {
            // A flag change (IPv6 DAD done, a promotion): the position may differ from a dump's.
            let promoted = known.flags & IFA_F_SECONDARY != addr.flags & IFA_F_SECONDARY;
            *known = addr.clone();
            return !promoted;
        }
        // The kernel lists IPv6 addresses by scope: which of two link-locals comes first is
        // its choice. IPv4 primaries keep the order they were added in, as here.
        if is_link_local_v6(addr.addr)
            && self
                .addrs
                .iter()
                .any(|a| a.ifindex == addr.ifindex && is_link_local_v6(a.addr))
        {
            return false;
        }
        self.addrs.push(addr.clone());
        true
    }

    fn remove(&mut self, addr: &Addr) -> bool {
        let Some(at) = self
            .addrs
            .iter()
            .position(|a| a.ifindex == addr.ifindex && a.addr == addr.addr)
        else {
            return true;
        };
        let removed = self.addrs.remove(at);
        // A primary leaving its secondaries behind: the kernel promotes one (or removes them
        // all, announcing each), and where the promoted one then sits is its business.
        let primary_v4 = removed.addr.is_ipv4() && removed.flags & IFA_F_SECONDARY == 0;
        !(primary_v4
            && self.addrs.iter().any(|a| {
                a.ifindex == removed.ifindex && a.addr.is_ipv4() && a.flags & IFA_F_SECONDARY != 0
            }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::InterfaceLookup;
    use std::net::Ipv4Addr;

    fn link(index: u32, name: &str, up: bool) -> Link {
        Link {
            index,
            name: name.into(),
            up,
            running: up,
            mac: Some([2, 0, 0, 0, 0, index as u8]),
            mtu: 1500,
        }
    }

    fn addr(ifindex: u32, a: &str, flags: u32) -> Addr {
        Addr {
            ifindex,
            addr: a.parse().unwrap(),
            prefix_len: 24,
            label: None,
            scope: 0,
            flags,
        }
    }

    fn view() -> KernelView {
        KernelView::from_snapshot(&Snapshot::new(
            vec![link(1, "lo", true), link(2, "eth0", true)],
            vec![addr(2, "192.168.0.1", 0), addr(2, "fe80::1", 0)],
        ))
    }

    #[test]
    fn vips_coming_and_going_keep_the_view_a_dump() {
        let mut v = view();
        let vip = addr(2, "10.0.0.1", 0);
        assert!(v.apply(&NetEvent::AddrAdded(vip.clone())));
        assert!(v.snapshot().has_addr(2, vip.addr));
        assert!(v.apply(&NetEvent::AddrRemoved(vip.clone())));
        assert!(!v.snapshot().has_addr(2, vip.addr));
        // Gone already (an event from before the dump): nothing to do.
        assert!(v.apply(&NetEvent::AddrRemoved(vip)));
        assert_eq!(v, view());
        let eth0 = v.snapshot().interface("eth0").unwrap();
        assert_eq!(eth0.primary_v4, Some(Ipv4Addr::new(192, 168, 0, 1)));
        assert_eq!(eth0.link_local_v6, Some("fe80::1".parse().unwrap()));
    }

    #[test]
    fn links_change_are_renamed_and_go_with_their_addresses() {
        let mut v = view();
        assert!(v.apply(&NetEvent::LinkChanged(link(2, "eth0", false))));
        assert!(!v.snapshot().interface("eth0").unwrap().up);
        assert!(v.apply(&NetEvent::LinkChanged(link(2, "wan", true))));
        assert!(v.snapshot().interface("eth0").is_none());
        assert_eq!(v.snapshot().interface("wan").unwrap().index, 2);
        assert!(v.apply(&NetEvent::LinkChanged(link(3, "eth1", true))));
        assert_eq!(v.snapshot().interface("eth1").unwrap().index, 3);
        assert!(v.apply(&NetEvent::LinkRemoved {
            index: 2,
            name: "wan".into()
        }));
        let s = v.snapshot();
        assert!(s.interface("wan").is_none());
        assert!(!s.has_addr(2, "192.168.0.1".parse().unwrap()));
    }

    #[test]
    fn orders_only_the_kernel_knows_and_lost_events_drop_the_view() {
        let mut v = view();
        assert!(v.apply(&NetEvent::AddrAdded(addr(
            2,
            "192.168.0.9",
            IFA_F_SECONDARY
        ))));
        // The primary goes while a secondary stays: the kernel may promote it.
        assert!(!v
            .clone()
            .apply(&NetEvent::AddrRemoved(addr(2, "192.168.0.1", 0))));
        // A promotion announced as a flag change.
        assert!(!v
            .clone()
            .apply(&NetEvent::AddrAdded(addr(2, "192.168.0.9", 0))));
        assert!(!v.clone().apply(&NetEvent::AddrAdded(addr(2, "fe80::2", 0))));
        assert!(!v.apply(&NetEvent::Overrun));
    }
}
