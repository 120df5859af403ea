//! Batched rtnetlink changes ([`Rtnl::apply`]) against a real kernel, each test in a network
//! namespace of its own.
//!
//! Needs root and `ip` (iproute2). Run with:
//! `cargo test -p keepalived-sys --test netlink_batch_netns -- --ignored`
//!
//! Each test creates `krs-netlink-<pid>-<test>` with a veth pair (`veth-a`/`veth-b`, both up),
//! deletes it on drop (also when the test fails), and re-executes this test binary inside it
//! with `KRS_NETLINK_BATCH_INSIDE` set, so the body runs entirely in the namespace.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::net::{IpAddr, Ipv4Addr};
use std::time::Instant;

use keepalived_sys::netlink::{AddrSpec, Change, RouteSpec, Rtnl, BATCH_SIZE};

const INSIDE: &str = "KRS_NETLINK_BATCH_INSIDE";

mod common;
use common::run;

/// Runs `body` inside a fresh namespace (see the module doc).
fn in_netns(test: &str, body: impl FnOnce()) {
    common::in_netns(INSIDE, "krs-netlink", test, body);
}

fn ifindex(rtnl: &mut Rtnl, name: &str) -> u32 {
    rtnl.link_by_name(name).unwrap().unwrap().index
}

fn host(ifindex: u32, i: u32) -> AddrSpec {
    AddrSpec {
        ifindex,
        addr: IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + i)),
        prefix_len: 32,
        broadcast: None,
        scope: 0,
        label: None,
        nodad: false,
    }
}

fn v4_count(prefix: &str) -> usize {
    run("ip", &["-o", "-4", "addr", "show"])
        .lines()
        .filter(|l| l.contains(&format!("inet {prefix}")))
        .count()
}

#[test]
#[ignore = "needs root + netns"]
fn a_thousand_vips_in_batches() {
    in_netns("a_thousand_vips_in_batches", || {
        let mut rtnl = Rtnl::new().unwrap();
        let idx = ifindex(&mut rtnl, "veth-a");
        let adds: Vec<Change> = (0..1000).map(|i| Change::AddAddr(host(idx, i))).collect();
        let dels: Vec<Change> = (0..1000).map(|i| Change::DelAddr(host(idx, i))).collect();

        let t = Instant::now();
        let added = rtnl.apply(&adds);
        let add_time = t.elapsed();
        assert_eq!(added.len(), 1000);
        assert!(added.iter().all(|r| matches!(r, Ok(true))), "{added:?}");
        assert_eq!(v4_count("10.0."), 1000);
        let again = rtnl.apply(&adds);
        assert!(
            again.iter().all(|r| matches!(r, Ok(false))),
            "already there"
        );

        let t = Instant::now();
        let deleted = rtnl.apply(&dels);
        let del_time = t.elapsed();
        assert!(deleted.iter().all(|r| matches!(r, Ok(true))), "{deleted:?}");
        assert_eq!(v4_count("10.0."), 0);
        let again = rtnl.apply(&dels);
        assert!(again.iter().all(|r| matches!(r, Ok(false))), "already gone");

        // The same one at a time, for comparison.
        let t = Instant::now();
        for i in 0..1000 {
            assert!(rtnl.add_addr(&host(idx, i)).unwrap());
        }
        let single_add = t.elapsed();
        let t = Instant::now();
        for i in 0..1000 {
            assert!(rtnl.del_addr(&host(idx, i)).unwrap());
        }
        let single_del = t.elapsed();
        println!(
            "1000 IPv4 VIPs in batches of {BATCH_SIZE}: add {add_time:?}, delete {del_time:?}; \
             one at a time: add {single_add:?}, delete {single_del:?}"
        );
    });
}

#[test]
#[ignore = "needs root + netns"]
fn each_refusal_is_reported_for_its_own_change() {
    in_netns("each_refusal_is_reported_for_its_own_change", || {
        let mut rtnl = Rtnl::new().unwrap();
        let idx = ifindex(&mut rtnl, "veth-a");
        // 150 changes (three datagrams); every seventh goes to a missing interface, one
        // cannot even be encoded (prefix 33), the last one is already there.
        let mut changes: Vec<Change> = (0..150)
            .map(|i| {
                let on = if i % 7 == 3 { 999_999 } else { idx };
                Change::AddAddr(host(on, i))
            })
            .collect();
        let mut bad = host(idx, 500);
        bad.prefix_len = 33;
        changes[40] = Change::AddAddr(bad);
        changes.push(Change::AddAddr(host(idx, 0)));
        let results = rtnl.apply(&changes);
        assert_eq!(results.len(), 151);
        for (i, r) in results.iter().enumerate() {
            match (i, r) {
                (40, Err(e)) => assert!(e.to_string().contains("prefix length 33"), "{e}"),
                (150, r) => assert!(matches!(r, Ok(false)), "{r:?}"),
                (i, Err(e)) if i % 7 == 3 => {
                    assert_eq!(e.errno(), Some(libc::ENODEV), "{e}");
                    let target = format!("10.0.0.{i}/32 on ifindex 999999");
                    assert!(e.to_string().contains(&target), "{e}");
                }
                (i, r) if i % 7 != 3 => assert!(matches!(r, Ok(true)), "{i}: {r:?}"),
                (i, r) => panic!("{i}: {r:?}"),
            }
        }
        let expected = (0..150).filter(|i| i % 7 != 3 && *i != 40).count();
        assert_eq!(v4_count("10.0."), expected);
    });
}

#[test]
#[ignore = "needs root + netns"]
fn a_batch_keeps_its_order_routes_after_addresses() {
    in_netns("a_batch_keeps_its_order_routes_after_addresses", || {
        let mut rtnl = Rtnl::new().unwrap();
        let idx = ifindex(&mut rtnl, "veth-a");
        let mut vip = host(idx, 0);
        vip.addr = "192.0.2.10".parse().unwrap();
        vip.prefix_len = 24;
        // The gateway is reachable only through the VIP's subnet: the route can only be
        // added after the address, and the address removed after the route.
        let mut route = RouteSpec::new("198.51.100.0".parse().unwrap(), 24);
        route.gateway = Some("192.0.2.1".parse().unwrap());
        let up = [
            Change::AddAddr(vip.clone()),
            Change::AddRoute(route.clone()),
        ];
        let results = rtnl.apply(&up);
        assert!(results.iter().all(|r| matches!(r, Ok(true))), "{results:?}");
        let shown = run("ip", &["route", "show", "198.51.100.0/24"]);
        assert!(shown.contains("via 192.0.2.1 dev veth-a"), "{shown}");
        let down = [Change::DelRoute(route), Change::DelAddr(vip)];
        let results = rtnl.apply(&down);
        assert!(results.iter().all(|r| matches!(r, Ok(true))), "{results:?}");
        assert_eq!(run("ip", &["route", "show", "198.51.100.0/24"]).trim(), "");
    });
}
