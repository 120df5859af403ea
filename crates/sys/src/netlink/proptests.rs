//! Property tests: the parsers never panic on arbitrary bytes, and what the builders encode
//! parses back to the same values.

use std::io::Cursor;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use neli::ToBytes;
use proptest::prelude::*;

use super::addr::{add_addr_message, addr_message, parse_addr};
use super::link::parse_link;
use super::monitor::decode_datagram;
use super::wire;
use super::AddrSpec;

fn to_bytes<P: ToBytes>(p: &P) -> Vec<u8> {
    let mut c = Cursor::new(Vec::new());
    p.to_bytes(&mut c).unwrap();
    c.into_inner()
}

fn any_ip() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u32>().prop_map(|a| IpAddr::V4(Ipv4Addr::from(a))),
        any::<u128>().prop_map(|a| IpAddr::V6(Ipv6Addr::from(a))),
    ]
}

fn any_spec() -> impl Strategy<Value = AddrSpec> {
    (
        any_ip(),
        any::<u8>(),
        1u32..100_000,
        proptest::option::of(any::<u32>()),
        any::<u8>(),
        proptest::option::of("[a-z0-9:.]{1,15}"),
        any::<bool>(),
    )
        .prop_map(|(addr, len, ifindex, brd, scope, label, nodad)| AddrSpec {
            ifindex,
            addr,
            prefix_len: len % if addr.is_ipv4() { 33 } else { 129 },
            broadcast: brd.map(Ipv4Addr::from),
            scope,
            label,
            nodad,
        })
}

proptest! {
    #[test]
    fn split_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = wire::split(&bytes);
    }

    #[test]
    fn parsers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
        let _ = parse_addr("p", &bytes);
        let _ = parse_link("p", &bytes);
        let mut events = Vec::new();
        decode_datagram(&bytes, &mut events);
        if let Ok(msgs) = wire::split(&bytes) {
            for m in msgs {
                let _ = wire::parse_error(&m);
            }
        }
    }

    #[test]
    fn encoded_messages_split_back(
        payloads in proptest::collection::vec(
            (any::<u16>(), any::<u16>(), any::<u32>(), proptest::collection::vec(any::<u8>(), 0..64)),
            0..8,
        )
    ) {
        let mut datagram = Vec::new();
        for (ty, flags, seq, body) in &payloads {
            datagram.extend(wire::encode(*ty, *flags, *seq, &body.as_slice()).unwrap());
        }
        let msgs = wire::split(&datagram).unwrap();
        prop_assert_eq!(msgs.len(), payloads.len());
        for (m, (ty, flags, seq, body)) in msgs.iter().zip(&payloads) {
            prop_assert_eq!((m.ty, m.flags, m.seq), (*ty, *flags, *seq));
            prop_assert_eq!(&m.payload[..body.len()], body.as_slice());
            prop_assert!(m.payload[body.len()..].iter().all(|&b| b == 0));
        }
    }

    #[test]
    fn address_specs_round_trip(spec in any_spec()) {
        for msg in [addr_message("p", &spec).unwrap(), add_addr_message("p", &spec).unwrap()] {
            let parsed = parse_addr("p", &to_bytes(&msg)).unwrap().unwrap();
            prop_assert_eq!(parsed.ifindex, spec.ifindex);
            prop_assert_eq!(parsed.addr, spec.addr);
            prop_assert_eq!(parsed.prefix_len, spec.prefix_len);
            prop_assert_eq!(parsed.scope, spec.scope);
            let label = if spec.addr.is_ipv4() { spec.label.clone() } else { None };
            prop_assert_eq!(parsed.label, label);
            prop_assert_eq!(parsed.flags & super::IFA_F_NODAD != 0, spec.nodad);
        }
    }
}
