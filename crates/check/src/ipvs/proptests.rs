//! `plan(wanted, current)` applied to `current` yields `wanted`, with no refused command and
//! nothing sent twice; planning a table against itself sends nothing.

use super::*;
use proptest::prelude::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn arb_addr() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        (1u8..4).prop_map(|n| IpAddr::V4(Ipv4Addr::new(10, 0, 0, n))),
        (1u16..3).prop_map(|n| IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, n))),
    ]
}

fn arb_key() -> impl Strategy<Value = ServiceKey> {
    prop_oneof![
        (1u32..3).prop_map(|mark| ServiceKey::Fwmark {
            family: Family::V4,
            mark
        }),
        (
            prop_oneof![Just(Protocol::Tcp), Just(Protocol::Udp)],
            arb_addr(),
            prop_oneof![Just(80u16), Just(443)]
        )
            .prop_map(|(protocol, addr, port)| ServiceKey::Addr {
                protocol,
                addr,
                port
            }),
    ]
}

fn arb_service() -> impl Strategy<Value = Service> {
    (
        arb_key(),
        prop_oneof![Just("rr"), Just("wlc")],
        prop_oneof![Just(0u32), Just(300)],
    )
        .prop_map(|(key, sched, timeout)| {
            let svc = Service::new(key, sched);
            if timeout > 0 {
                svc.with_persistence(timeout)
            } else {
                svc
            }
        })
}

fn arb_dest() -> impl Strategy<Value = Dest> {
    (
        arb_addr(),
        prop_oneof![Just(80u16), Just(8080)],
        0u32..3,
        prop_oneof![Just(FwdMethod::Masq), Just(FwdMethod::Route)],
        prop_oneof![Just(0u32), Just(100)],
    )
        .prop_map(|(addr, port, weight, fwd, u)| {
            let mut d = Dest::new(addr, port, weight, fwd);
            d.u_thresh = u;
            d
        })
}

fn arb_table() -> impl Strategy<Value = IpvsTable> {
    prop::collection::vec(
        (arb_service(), prop::collection::vec(arb_dest(), 0..5)),
        0..5,
    )
    .prop_map(|services| {
        let mut t = IpvsTable::new();
        for (svc, dests) in services {
            let key = svc.key;
            t.insert_service(svc);
            for d in dests {
                t.insert_dest(&key, d);
            }
        }
        t
    })
}

proptest! {
    #[test]
    fn plan_reaches_wanted(wanted in arb_table(), current in arb_table()) {
        let cmds = plan(&wanted, &current);
        let mut t = current.clone();
        for c in &cmds {
            prop_assert!(t.apply(c).is_ok(), "refused {c} in {cmds:?}");
        }
        prop_assert_eq!(&t, &wanted);
        // Minimal: every command touches a different object.
        let mut seen = std::collections::HashSet::new();
        for c in &cmds {
            prop_assert!(seen.insert(c.clone()), "sent twice: {}", c);
        }
        prop_assert!(plan(&wanted, &wanted).is_empty());
    }

    #[test]
    fn stop_empties_the_table(current in arb_table()) {
        for mode in [StopMode::Remove, StopMode::RemoveServices, StopMode::Flush] {
            let mut t = current.clone();
            for c in plan_stop(&current, mode) {
                prop_assert!(t.apply(&c).is_ok());
            }
            prop_assert!(t.is_empty());
        }
    }
}
