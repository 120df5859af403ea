//! rtnetlink against a real kernel, each test in a network namespace of its own.
//!
//! Needs root and `ip` (iproute2). Run with:
//! `cargo test -p keepalived-sys --test netlink_netns -- --ignored --test-threads=1`
//! (parallel runs work too; each test uses its own namespace).
//!
//! Each test creates `klrs-nl-<pid>-<test>` with a veth pair (`veth-a`/`veth-b`, both up),
//! deletes it on drop (also when the test fails), and re-executes this test binary inside it
//! (`ip netns exec NS <exe> --exact <test> --ignored`) with `KLRS_NETLINK_INSIDE` set, so the
//! body runs entirely in the namespace.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use keepalived_sys::netlink::{
    configure_vmac_sysctls, restore_sysctls, vmac_address, AddrSpec, Monitor, NetEvent, RouteSpec,
    Rtnl, RuleSpec, FR_ACT_BLACKHOLE, IFA_F_DEPRECATED, IFA_F_NODAD, RTN_BLACKHOLE,
};

const INSIDE: &str = "KLRS_NETLINK_INSIDE";

mod common;
use common::run;

/// Runs `body` inside a fresh namespace (see the module doc).
fn in_netns(test: &str, body: impl FnOnce()) {
    common::in_netns(INSIDE, "klrs-nl", test, body);
}

fn ifindex(rtnl: &mut Rtnl, name: &str) -> u32 {
    rtnl.links()
        .unwrap()
        .into_iter()
        .find(|l| l.name == name)
        .unwrap_or_else(|| panic!("no link {name}"))
        .index
}

fn v4_vip(ifindex: u32) -> AddrSpec {
    AddrSpec {
        ifindex,
        addr: "192.0.2.10".parse().unwrap(),
        prefix_len: 24,
        broadcast: Some("192.0.2.255".parse().unwrap()),
        scope: 0,
        label: Some("veth-a:vip".into()),
        nodad: false,
    }
}

fn v6_vip(ifindex: u32) -> AddrSpec {
    AddrSpec {
        ifindex,
        addr: "fd00::10".parse().unwrap(),
        prefix_len: 64,
        broadcast: None,
        scope: 0,
        label: None,
        nodad: true,
    }
}

#[test]
#[ignore = "needs root + netns"]
fn links_are_listed_with_state_mac_and_mtu() {
    in_netns("links_are_listed_with_state_mac_and_mtu", || {
        let mut rtnl = Rtnl::new().unwrap();
        let links = rtnl.links().unwrap();
        let lo = links.iter().find(|l| l.name == "lo").unwrap();
        assert!(lo.up && lo.running, "{lo:?}");
        assert_eq!(lo.mtu, 65536);
        let a = links.iter().find(|l| l.name == "veth-a").unwrap();
        assert!(a.up, "{a:?}");
        assert_eq!(a.mtu, 1500);
        assert!(a.mac.is_some());
        let by_name = rtnl.link_by_name("veth-a").unwrap().unwrap();
        assert_eq!(&by_name, a);
        assert!(rtnl.link_by_name("nope0").unwrap().is_none());
    });
}

#[test]
#[ignore = "needs root + netns"]
fn vips_are_added_and_deleted_idempotently() {
    in_netns("vips_are_added_and_deleted_idempotently", || {
        let mut rtnl = Rtnl::new().unwrap();
        let idx = ifindex(&mut rtnl, "veth-a");
        let v4 = v4_vip(idx);
        let v6 = v6_vip(idx);

        assert!(rtnl.add_addr(&v4).unwrap(), "first add changes");
        assert!(!rtnl.add_addr(&v4).unwrap(), "second add is a no-op");
        assert!(rtnl.add_addr(&v6).unwrap());
        assert!(!rtnl.add_addr(&v6).unwrap());

        let addrs = rtnl.addrs().unwrap();
        let a4 = addrs.iter().find(|a| a.addr == v4.addr).unwrap();
        assert_eq!((a4.ifindex, a4.prefix_len, a4.scope), (idx, 24, 0));
        assert_eq!(a4.label.as_deref(), Some("veth-a:vip"));
        let a6 = addrs.iter().find(|a| a.addr == v6.addr).unwrap();
        assert_eq!((a6.ifindex, a6.prefix_len), (idx, 64));
        assert_ne!(a6.flags & IFA_F_NODAD, 0, "nodad flag: {a6:?}");

        let shown = run("ip", &["addr", "show", "dev", "veth-a"]);
        assert!(
            shown.contains("inet 192.0.2.10/24 brd 192.0.2.255 scope global veth-a:vip"),
            "{shown}"
        );
        assert!(
            shown.contains("inet6 fd00::10/64 scope global nodad"),
            "{shown}"
        );

        // IPv6 host VIPs go on deprecated (preferred_lft 0), as keepalived adds them.
        let mut host6 = v6_vip(idx);
        host6.addr = "fd00::20".parse().unwrap();
        host6.prefix_len = 128;
        assert!(rtnl.add_addr(&host6).unwrap());
        let a = rtnl
            .addrs()
            .unwrap()
            .into_iter()
            .find(|a| a.addr == host6.addr)
            .unwrap();
        assert_ne!(a.flags & IFA_F_DEPRECATED, 0, "{a:?}");
        let shown = run("ip", &["-6", "addr", "show", "dev", "veth-a"]);
        assert!(
            shown.contains("inet6 fd00::20/128 scope global nodad deprecated"),
            "{shown}"
        );
        assert!(
            shown.contains("valid_lft forever preferred_lft 0sec"),
            "{shown}"
        );
        assert!(rtnl.del_addr(&host6).unwrap());

        assert!(rtnl.del_addr(&v4).unwrap());
        assert!(
            !rtnl.del_addr(&v4).unwrap(),
            "deleting a missing address is a no-op"
        );
        assert!(rtnl.del_addr(&v6).unwrap());
        assert!(!rtnl.del_addr(&v6).unwrap());
        let addrs = rtnl.addrs().unwrap();
        assert!(!addrs.iter().any(|a| a.addr == v4.addr || a.addr == v6.addr));
        let shown = run("ip", &["addr", "show", "dev", "veth-a"]);
        assert!(
            !shown.contains("192.0.2.10") && !shown.contains("fd00::10"),
            "{shown}"
        );
    });
}

#[test]
#[ignore = "needs root + netns"]
fn kernel_refusals_carry_context() {
    in_netns("kernel_refusals_carry_context", || {
        let mut rtnl = Rtnl::new().unwrap();
        let err = rtnl.add_addr(&v4_vip(999_999)).unwrap_err();
        assert_eq!(err.errno(), Some(libc::ENODEV), "{err}");
        assert!(
            err.to_string().contains("192.0.2.10/24 on ifindex 999999"),
            "{err}"
        );
    });
}

/// Monitor events received so far, and how far the test has matched them.
struct Watcher {
    mon: Monitor,
    seen: Vec<NetEvent>,
    cursor: usize,
}

impl Watcher {
    /// Finds the next event (after the previous match) for which `want` holds, reading more
    /// as needed; fails after 5 s.
    fn wait(&mut self, what: &str, want: impl Fn(&NetEvent) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            if let Some(pos) = self.seen.iter().skip(self.cursor).position(&want) {
                self.cursor += pos + 1;
                return;
            }
            assert!(
                Instant::now() < deadline,
                "no {what} event; saw {:?}",
                self.seen
            );
            self.seen.extend(self.mon.read_events().unwrap());
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

#[test]
#[ignore = "needs root + netns"]
fn monitor_sees_address_and_link_changes() {
    in_netns("monitor_sees_address_and_link_changes", || {
        let mut mon = Monitor::new().unwrap();
        mon.set_recv_buffer_size(1 << 20).unwrap();
        assert!(mon.read_events().unwrap().is_empty(), "nothing pending yet");
        let mut rtnl = Rtnl::new().unwrap();
        let idx = ifindex(&mut rtnl, "veth-a");
        let v4 = v4_vip(idx);
        let v6 = v6_vip(idx);
        let mut w = Watcher {
            mon,
            seen: Vec::new(),
            cursor: 0,
        };

        rtnl.add_addr(&v4).unwrap();
        rtnl.add_addr(&v6).unwrap();
        w.wait("AddrAdded v4",
            |e| matches!(e, NetEvent::AddrAdded(a) if a.addr == v4.addr && a.label.as_deref() == Some("veth-a:vip")),
        );
        w.wait(
            "AddrAdded v6",
            |e| matches!(e, NetEvent::AddrAdded(a) if a.addr == v6.addr),
        );

        // Someone else removes the VIP.
        run("ip", &["addr", "del", "192.0.2.10/24", "dev", "veth-a"]);
        w.wait(
            "AddrRemoved v4",
            |e| matches!(e, NetEvent::AddrRemoved(a) if a.addr == v4.addr && a.ifindex == idx),
        );
        rtnl.del_addr(&v6).unwrap();
        w.wait(
            "AddrRemoved v6",
            |e| matches!(e, NetEvent::AddrRemoved(a) if a.addr == v6.addr),
        );

        run("ip", &["link", "set", "dev", "veth-a", "down"]);
        w.wait(
            "link down",
            |e| matches!(e, NetEvent::LinkChanged(l) if l.index == idx && !l.up && !l.running),
        );
        run("ip", &["link", "set", "dev", "veth-a", "up"]);
        w.wait(
            "link up",
            |e| matches!(e, NetEvent::LinkChanged(l) if l.name == "veth-a" && l.up),
        );
        w.wait(
            "carrier back",
            |e| matches!(e, NetEvent::LinkChanged(l) if l.name == "veth-a" && l.up && l.running),
        );

        run("ip", &["link", "del", "veth-b"]);
        w.wait(
            "link removed",
            |e| matches!(e, NetEvent::LinkRemoved { name, .. } if name == "veth-b"),
        );
    });
}

#[test]
#[ignore = "needs root + netns"]
fn macvlan_vmac_is_created_reused_and_deleted() {
    in_netns("macvlan_vmac_is_created_reused_and_deleted", || {
        let mut rtnl = Rtnl::new().unwrap();
        let parent = ifindex(&mut rtnl, "veth-a");
        let mac = vmac_address(51, false);
        let idx = rtnl.add_macvlan(parent, "vrrp.51", mac).unwrap();
        let link = rtnl
            .links()
            .unwrap()
            .into_iter()
            .find(|l| l.index == idx)
            .unwrap();
        assert_eq!(link.name, "vrrp.51");
        assert_eq!(link.mac, Some(mac));
        assert!(link.up, "{link:?}");

        let shown = run("ip", &["-d", "link", "show", "dev", "vrrp.51"]);
        assert!(shown.contains("vrrp.51@veth-a"), "{shown}");
        assert!(shown.contains("link/ether 00:00:5e:00:01:33"), "{shown}");
        assert!(shown.contains("macvlan mode private"), "{shown}");

        let read =
            |p: &str| std::fs::read_to_string(format!("/proc/sys/net/ipv4/conf/{p}")).unwrap();
        let parent_arp_ignore = read("veth-a/arp_ignore");
        let changes = configure_vmac_sysctls("vrrp.51", "veth-a").unwrap();
        assert!(!changes.is_empty());
        assert_eq!(read("vrrp.51/arp_ignore").trim(), "1");
        assert_eq!(read("vrrp.51/accept_local").trim(), "1");
        assert_eq!(read("vrrp.51/rp_filter").trim(), "0");
        assert_eq!(read("veth-a/arp_ignore").trim(), "1");
        assert_eq!(read("veth-a/arp_filter").trim(), "1");
        assert!(
            configure_vmac_sysctls("vrrp.51", "veth-a")
                .unwrap()
                .is_empty(),
            "already set"
        );
        restore_sysctls(&changes).unwrap();
        assert_eq!(read("veth-a/arp_ignore"), parent_arp_ignore);
        let changes = configure_vmac_sysctls("vrrp.51", "veth-a").unwrap();

        assert_eq!(
            rtnl.add_macvlan(parent, "vrrp.51", mac).unwrap(),
            idx,
            "reused"
        );
        assert!(
            rtnl.add_macvlan(parent, "veth-b", mac).is_err(),
            "not a macvlan"
        );

        assert!(rtnl.del_link(idx).unwrap());
        assert!(!rtnl.del_link(idx).unwrap());
        assert!(rtnl.link_by_name("vrrp.51").unwrap().is_none());
        restore_sysctls(&changes).unwrap();
    });
}

#[test]
#[ignore = "needs root + netns"]
fn routes_are_added_and_deleted_idempotently() {
    in_netns("routes_are_added_and_deleted_idempotently", || {
        let mut rtnl = Rtnl::new().unwrap();
        let idx = ifindex(&mut rtnl, "veth-a");
        rtnl.add_addr(&v4_vip(idx)).unwrap();

        let mut via = RouteSpec::new("198.51.100.0".parse().unwrap(), 24);
        via.gateway = Some("192.0.2.1".parse().unwrap());
        via.dev = Some(idx);
        via.metric = Some(50);
        via.src = Some("192.0.2.10".parse().unwrap());
        assert!(rtnl.add_route(&via).unwrap());
        assert!(!rtnl.add_route(&via).unwrap());
        let shown = run("ip", &["route", "show"]);
        assert!(
            shown.contains("198.51.100.0/24 via 192.0.2.1 dev veth-a proto keepalived src 192.0.2.10 metric 50"),
            "{shown}"
        );

        let mut hole = RouteSpec::new("203.0.113.0".parse().unwrap(), 24);
        hole.route_type = RTN_BLACKHOLE;
        hole.table = 1000;
        assert!(rtnl.add_route(&hole).unwrap());
        let shown = run("ip", &["route", "show", "table", "1000"]);
        assert!(
            shown.contains("blackhole 203.0.113.0/24 proto keepalived"),
            "{shown}"
        );

        let mut v6 = RouteSpec::new("2001:db8::".parse().unwrap(), 32);
        v6.dev = Some(idx);
        assert!(rtnl.add_route(&v6).unwrap());
        let shown = run("ip", &["-6", "route", "show"]);
        assert!(
            shown.contains("2001:db8::/32 dev veth-a proto keepalived"),
            "{shown}"
        );

        for r in [&via, &hole, &v6] {
            assert!(rtnl.del_route(r).unwrap(), "{r:?}");
            assert!(!rtnl.del_route(r).unwrap(), "{r:?}");
        }
        let shown = run("ip", &["route", "show", "table", "all"]);
        assert!(
            !shown.contains("198.51.100.0") && !shown.contains("203.0.113.0"),
            "{shown}"
        );
    });
}

#[test]
#[ignore = "needs root + netns"]
fn a_thousand_vips_and_a_multi_datagram_dump() {
    in_netns("a_thousand_vips_and_a_multi_datagram_dump", || {
        let mut rtnl = Rtnl::new().unwrap();
        let idx = ifindex(&mut rtnl, "veth-a");
        let specs: Vec<AddrSpec> = (0..1000u32)
            .map(|i| AddrSpec {
                ifindex: idx,
                addr: std::net::Ipv4Addr::from(0x0a00_0000 + i).into(),
                prefix_len: 32,
                broadcast: None,
                scope: 0,
                label: None,
                nodad: false,
            })
            .collect();
        let t = Instant::now();
        for s in &specs {
            assert!(rtnl.add_addr(s).unwrap());
        }
        let added = t.elapsed();
        let t = Instant::now();
        let addrs = rtnl.addrs().unwrap();
        let dumped = t.elapsed();
        assert!(specs.iter().all(|s| addrs.iter().any(|a| a.addr == s.addr)));
        let t = Instant::now();
        for s in &specs {
            assert!(rtnl.del_addr(s).unwrap());
        }
        let deleted = t.elapsed();
        println!(
            "1000 IPv4 VIPs: add {added:?}, dump of {} addresses {dumped:?}, delete {deleted:?}",
            addrs.len()
        );
    });
}

#[test]
#[ignore = "needs root + netns"]
fn monitor_reports_overrun_when_the_kernel_drops_notifications() {
    in_netns(
        "monitor_reports_overrun_when_the_kernel_drops_notifications",
        || {
            let mut mon = Monitor::new().unwrap();
            mon.set_recv_buffer_size(1).unwrap(); // the kernel rounds up to its minimum
            let mut rtnl = Rtnl::new().unwrap();
            let idx = ifindex(&mut rtnl, "veth-a");
            for i in 0..200u32 {
                rtnl.add_addr(&AddrSpec {
                    ifindex: idx,
                    addr: std::net::Ipv4Addr::from(0x0a00_0000 + i).into(),
                    prefix_len: 32,
                    broadcast: None,
                    scope: 0,
                    label: None,
                    nodad: false,
                })
                .unwrap();
            }
            let events = mon.read_events().unwrap();
            assert!(events.contains(&NetEvent::Overrun), "{events:?}");
            assert!(mon.read_events().unwrap().is_empty(), "drained");
        },
    );
}

#[test]
#[ignore = "needs root + netns"]
fn rules_are_added_and_deleted_idempotently() {
    in_netns("rules_are_added_and_deleted_idempotently", || {
        let mut rtnl = Rtnl::new().unwrap();
        let mut from = RuleSpec::new(false);
        from.from = Some(("192.0.2.0".parse().unwrap(), 24));
        from.priority = Some(100);
        from.table = 1000;
        let mut mark = RuleSpec::new(false);
        mark.fwmark = Some((0x10, Some(0xff)));
        mark.iif = Some("veth-a".into());
        mark.priority = Some(101);
        mark.action = FR_ACT_BLACKHOLE;
        let mut v6 = RuleSpec::new(true);
        v6.to = Some(("2001:db8::".parse().unwrap(), 32));
        v6.priority = Some(102);
        v6.table = 100;
        for r in [&from, &mark, &v6] {
            assert!(rtnl.add_rule(r).unwrap(), "{r:?}");
            assert!(!rtnl.add_rule(r).unwrap(), "{r:?}");
        }
        let shown = run("ip", &["rule", "show"]);
        assert!(
            shown.contains("100:\tfrom 192.0.2.0/24 lookup 1000 proto keepalived"),
            "{shown}"
        );
        assert!(
            shown.contains("101:\tfrom all fwmark 0x10/0xff iif veth-a blackhole proto keepalived"),
            "{shown}"
        );
        let shown6 = run("ip", &["-6", "rule", "show"]);
        assert!(
            shown6.contains("102:\tfrom all to 2001:db8::/32 lookup 100 proto keepalived"),
            "{shown6}"
        );
        for r in [&from, &mark, &v6] {
            assert!(rtnl.del_rule(r).unwrap(), "{r:?}");
            assert!(!rtnl.del_rule(r).unwrap(), "{r:?}");
        }
        let shown = run("ip", &["rule", "show"]);
        assert!(!shown.contains("keepalived"), "{shown}");
    });
}
