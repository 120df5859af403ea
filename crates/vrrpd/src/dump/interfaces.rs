//! `------< Interfaces >------`: every link of the namespace with the instances tracking it.
//!
//! The kernel's link flags and hardware type are not in the link snapshot: `lo` and an
//! interface without a MAC (or with the all-zero one the loopback reports) are printed as
//! keepalived prints the loopback (no MAC, no broadcast, no multicast), the others as
//! Ethernet.

use super::format::Lines;
use super::DumpInput;
use std::collections::BTreeSet;
use std::net::IpAddr;

/// `IFA_F_SECONDARY`.
const IFA_F_SECONDARY: u32 = 0x01;

fn mac_str(mac: &[u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

/// Appends the interfaces section.
pub fn write(out: &mut Lines, input: &DumpInput<'_>) {
    let os = input.os;
    if os.links.is_empty() {
        return;
    }
    // keepalived does not count its own addresses among the interface's.
    let vips: BTreeSet<IpAddr> = input
        .config
        .vrrp_instances
        .iter()
        .flat_map(|i| {
            i.virtual_ipaddress
                .iter()
                .chain(&i.virtual_ipaddress_excluded)
        })
        .map(|va| va.addr)
        .collect();
    let mut links: Vec<_> = os.links.iter().collect();
    links.sort_by_key(|l| l.index);
    out.line("------< Interfaces >------");
    for link in links {
        let addrs: Vec<_> = os
            .addrs
            .iter()
            .filter(|a| a.ifindex == link.index && !vips.contains(&a.addr))
            .collect();
        let v4: Vec<IpAddr> = addrs
            .iter()
            .filter(|a| a.addr.is_ipv4() && a.flags & IFA_F_SECONDARY == 0)
            .chain(
                addrs
                    .iter()
                    .filter(|a| a.addr.is_ipv4() && a.flags & IFA_F_SECONDARY != 0),
            )
            .map(|a| a.addr)
            .collect();
        let v6: Vec<IpAddr> = addrs
            .iter()
            .filter(|a| matches!(a.addr, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80))
            .map(|a| a.addr)
            .collect();
        let mac = link
            .mac
            .filter(|m| link.name != "lo" && m.iter().any(|&b| b != 0));
        out.line(format!(" Name = {}", link.name));
        out.line(format!("   index = {}", link.index));
        out.line(format!(
            "   IPv4 address = {}",
            v4.first()
                .map_or_else(|| "(none)".to_string(), |a| a.to_string())
        ));
        if v4.len() > 1 {
            out.line("   Additional IPv4 addresses :");
            for a in v4.iter().skip(1) {
                out.line(format!("     {a}"));
            }
        }
        out.line(format!(
            "   IPv6 address = {}",
            v6.first()
                .map_or_else(|| "(none)".to_string(), |a| a.to_string())
        ));
        if v6.len() > 1 {
            out.line("   Additional IPv6 addresses :");
            for a in v6.iter().skip(1) {
                out.line(format!("     {a}"));
            }
        }
        if let Some(mac) = &mac {
            out.line(format!("   MAC = {}", mac_str(mac)));
            out.line("   MAC broadcast = ff:ff:ff:ff:ff:ff");
        }
        out.line(format!(
            "   State = {}UP, {}RUNNING{}",
            if link.up { "" } else { "not " },
            if link.running { "" } else { "not " },
            if mac.is_none() {
                ", no broadcast, loopback, no multicast"
            } else {
                ""
            }
        ));
        out.line(format!(
            "   Seen up = {}",
            i32::from(link.up && link.running)
        ));
        out.line("   Delayed state change running = false");
        out.line("   Up debounce timer = 0us");
        out.line("   Down debounce timer = 0us");
        let vmac_of = input
            .plan
            .shells
            .iter()
            .filter_map(|s| s.vmac.as_ref())
            .find(|v| v.name == link.name);
        if let Some(vmac) = vmac_of {
            let parent_up = os
                .links
                .iter()
                .find(|l| l.index == vmac.parent)
                .map_or((false, false), |l| (l.up, l.running));
            out.line(format!(
                "   VMAC type private, underlying interface = {}, state = {}UP, {}RUNNING",
                vmac.parent_name,
                if parent_up.0 { "" } else { "not " },
                if parent_up.1 { "" } else { "not " },
            ));
            out.line("   I/f created by keepalived");
        }
        out.line(format!("   MTU = {}", link.mtu));
        out.line(if mac.is_some() {
            "   HW Type = ETHERNET"
        } else {
            "   HW Type = LOOPBACK"
        });
        out.line("   NIC netlink status update");
        out.line("   Reset ARP config counter 0");
        out.line("   Original arp_ignore 0");
        out.line("   Original arp_filter 0");
        out.line("   Original promote_secondaries 0");
        out.line("   Reset promote_secondaries counter 0");
        let mut tracking = Vec::new();
        for inst in &input.config.vrrp_instances {
            let own = input
                .plan
                .shells
                .iter()
                .find(|s| s.name == inst.name)
                .map(|s| match &s.vmac {
                    Some(v) => v.name == link.name,
                    None => inst.interface.as_deref() == Some(link.name.as_str()),
                })
                .unwrap_or(false);
            if own {
                tracking.push(format!("     {}, weight 0", inst.name));
            }
            for r in inst.track.interfaces.iter().filter(|r| r.name == link.name) {
                tracking.push(format!(
                    "     {}, weight {}{}",
                    inst.name,
                    r.weight.unwrap_or(0),
                    if r.reverse { " reverse" } else { "" }
                ));
            }
        }
        if !tracking.is_empty() {
            out.line("   Tracking VRRP instances :");
            for t in tracking {
                out.line(t);
            }
        }
    }
}
