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
use std::collections::HashMap;
use std::net::IpAddr;

/// Links and addresses: a dump with the monitor's events since applied.
///
/// Thousands of VIPs come and go through here (each one an event), so an address is found
/// through an index and a removed one leaves a hole, squeezed out when holes are the majority.
#[derive(Debug, Clone, Default)]
pub struct KernelView {
    links: Vec<Link>,
    /// In the order a dump would list them (see [`KernelView::apply`]); `None`: removed.
    addrs: Vec<Option<Addr>>,
    /// Where each address is in `addrs`.
    at: HashMap<(u32, IpAddr), usize>,
    /// Per link: how many secondary IPv4 addresses and IPv6 link-local addresses it has.
    secondaries_v4: HashMap<u32, usize>,
    link_locals_v6: HashMap<u32, usize>,
}

impl KernelView {
    /// The view of a fresh dump.
    pub fn from_snapshot(snapshot: &Snapshot) -> Self {
        let mut view = KernelView {
            links: snapshot.links.clone(),
            ..KernelView::default()
        };
        for addr in &snapshot.addrs {
            view.insert(addr.clone());
        }
        view
    }

    /// The snapshot a dump would give now.
    pub fn snapshot(&self) -> Snapshot {
        let addrs = self.addrs.iter().flatten().cloned().collect();
        Snapshot::new(self.links.clone(), addrs)
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
                let gone: Vec<Addr> = self
                    .addrs
                    .iter()
                    .flatten()
                    .filter(|a| a.ifindex == *index)
                    .cloned()
                    .collect();
                for addr in &gone {
                    self.take(addr);
                }
                true
            }
            NetEvent::AddrAdded(addr) => self.add(addr),
            NetEvent::AddrRemoved(addr) => self.remove(addr),
            NetEvent::Overrun => false,
        }
    }

    fn add(&mut self, addr: &Addr) -> bool {
        if let Some(&i) = self.at.get(&(addr.ifindex, addr.addr)) {
            let Some(known) = self.addrs.get_mut(i).and_then(Option::as_mut) else {
                return false;
            };
            // A promotion: where the kernel now lists the address is its choice.
            if known.flags & IFA_F_SECONDARY != addr.flags & IFA_F_SECONDARY {
                return false;
            }
            // A flag change in place (IPv6 DAD done, a new lifetime).
            *known = addr.clone();
            return true;
        }
        // The kernel lists IPv6 addresses by scope: which of two link-locals comes first is
        // its choice. IPv4 primaries keep the order they were added in, as here.
        if is_link_local_v6(addr.addr) && self.link_locals_v6.get(&addr.ifindex) > Some(&0) {
            return false;
        }
        self.insert(addr.clone());
        true
    }

    fn remove(&mut self, addr: &Addr) -> bool {
        let Some(removed) = self.take(addr) else {
            return true;
        };
        // A primary leaving its secondaries behind: the kernel promotes one (or removes them
        // all, announcing each), and where the promoted one then sits is its business.
        let primary_v4 = removed.addr.is_ipv4() && removed.flags & IFA_F_SECONDARY == 0;
        !(primary_v4 && self.secondaries_v4.get(&removed.ifindex) > Some(&0))
    }

    fn counters(&mut self, addr: &Addr) -> Option<&mut usize> {
        if addr.addr.is_ipv4() && addr.flags & IFA_F_SECONDARY != 0 {
            Some(self.secondaries_v4.entry(addr.ifindex).or_default())
        } else if is_link_local_v6(addr.addr) {
            Some(self.link_locals_v6.entry(addr.ifindex).or_default())
        } else {
            None
        }
    }

    /// Appends `addr` (not present).
    fn insert(&mut self, addr: Addr) {
        if let Some(n) = self.counters(&addr) {
            *n += 1;
        }
        self.at.insert((addr.ifindex, addr.addr), self.addrs.len());
        self.addrs.push(Some(addr));
    }

    /// Takes `addr` out, leaving a hole; `None` if it is not there.
    fn take(&mut self, addr: &Addr) -> Option<Addr> {
        let i = self.at.remove(&(addr.ifindex, addr.addr))?;
        let removed = self.addrs.get_mut(i).and_then(Option::take)?;
        if let Some(n) = self.counters(&removed) {
            *n = n.saturating_sub(1);
        }
        if self.at.len() * 2 < self.addrs.len() {
            self.squeeze();
        }
        Some(removed)
    }

    fn squeeze(&mut self) {
        self.addrs.retain(Option::is_some);
        self.at.clear();
        for (i, a) in self.addrs.iter().flatten().enumerate() {
            self.at.insert((a.ifindex, a.addr), i);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::InterfaceLookup;
    use crate::system::tests::addr;
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
        assert_eq!(v.snapshot().addrs, view().snapshot().addrs);
        assert_eq!(v.snapshot().links, view().snapshot().links);
        let eth0 = v.snapshot().interface("eth0").unwrap();
        assert_eq!(eth0.primary_v4, Some(Ipv4Addr::new(192, 168, 0, 1)));
        assert_eq!(eth0.link_local_v6, Some("fe80::1".parse().unwrap()));
    }

    #[test]
    fn thousands_of_vips_keep_their_order_through_holes() {
        let mut v = view();
        let vip = |i: u32| addr(2, &format!("10.{}.{}.1", i / 250, i % 250), 0);
        for i in 0..1000 {
            assert!(v.apply(&NetEvent::AddrAdded(vip(i))));
        }
        for i in (0..1000).filter(|i| i % 10 != 3) {
            assert!(v.apply(&NetEvent::AddrRemoved(vip(i))));
        }
        // A flag change stays in place.
        let mut changed = vip(503);
        changed.flags = 0x80;
        assert!(v.apply(&NetEvent::AddrAdded(changed.clone())));
        let mut want = view().snapshot().addrs;
        want.extend((0..1000).filter(|i| i % 10 == 3).map(vip));
        if let Some(a) = want.iter_mut().find(|a| a.addr == changed.addr) {
            *a = changed;
        }
        assert_eq!(v.snapshot().addrs, want);
        assert!(v.addrs.len() < 2 * want.len(), "holes are squeezed out");
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
