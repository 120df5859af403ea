//! Encoded requests checked byte by byte against `include/uapi/linux/ip_vs.h`; the expected
//! bytes are written out by hand. Attribute headers are `struct nlattr { __u16 nla_len;
//! __u16 nla_type; }` in host order (these tests assume a little-endian host), payloads
//! padded to 4 bytes; nests carry `NLA_F_NESTED` (0x8000).

use super::*;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

fn v4(a: u8, b: u8, c: u8, d: u8) -> IpAddr {
    IpAddr::V4(Ipv4Addr::new(a, b, c, d))
}

fn tcp_vip() -> ServiceId {
    ServiceId::Addr {
        protocol: 6, // IPPROTO_TCP
        addr: v4(10, 0, 0, 1),
        port: 80,
    }
}

/// The SERVICE nest's identity attributes of `tcp_vip()` (44 bytes).
const TCP_VIP_ID: [u8; 44] = [
    // IPVS_SVC_ATTR_AF = 1: len 6, u16 AF_INET = 2, 2 bytes pad
    6, 0, 1, 0, 2, 0, 0, 0, //
    // IPVS_SVC_ATTR_PROTOCOL = 2: len 6, u16 IPPROTO_TCP = 6, pad
    6, 0, 2, 0, 6, 0, 0, 0, //
    // IPVS_SVC_ATTR_ADDR = 3: len 20, union nf_inet_addr (16 bytes), 10.0.0.1 first
    20, 0, 3, 0, 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
    // IPVS_SVC_ATTR_PORT = 4: len 6, be16 80 = 0x0050, pad
    6, 0, 4, 0, 0, 0x50, 0, 0,
];

#[cfg(target_endian = "little")]
#[test]
fn new_service_lays_out_every_attribute() {
    let req = IpvsRequest::NewService(ServiceSpec {
        id: tcp_vip(),
        scheduler: "rr".into(),
        pe_name: None,
        flags: 0,
        timeout: 0,
        netmask: 0xffff_ffff,
    });
    let mut want = vec![
        // genlmsghdr: cmd IPVS_CMD_NEW_SERVICE = 1, version IPVS_GENL_VERSION = 1, reserved
        1, 1, 0, 0, //
        // IPVS_CMD_ATTR_SERVICE = 1 | NLA_F_NESTED: len 4 + 80 = 84
        84, 0, 0x01, 0x80,
    ];
    want.extend_from_slice(&TCP_VIP_ID);
    want.extend_from_slice(&[
        // IPVS_SVC_ATTR_SCHED_NAME = 6: len 7, "rr\0", 1 byte pad
        7, 0, 6, 0, b'r', b'r', 0, 0, //
        // IPVS_SVC_ATTR_FLAGS = 7: len 12, struct ip_vs_flags { flags 0, mask 0xffffffff }
        12, 0, 7, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, //
        // IPVS_SVC_ATTR_TIMEOUT = 8: len 8, u32 0
        8, 0, 8, 0, 0, 0, 0, 0, //
        // IPVS_SVC_ATTR_NETMASK = 9: len 8, be32 255.255.255.255
        8, 0, 9, 0, 0xff, 0xff, 0xff, 0xff,
    ]);
    assert_eq!(encode(&req).unwrap(), want);
}

#[cfg(target_endian = "little")]
#[test]
fn set_service_persistent_with_netmask_and_engine() {
    let req = IpvsRequest::SetService(ServiceSpec {
        id: ServiceId::Fwmark { af: 2, mark: 7 },
        scheduler: "wlc".into(),
        pe_name: Some("sip".into()),
        flags: 0x1 | 0x8, // IP_VS_SVC_F_PERSISTENT | IP_VS_SVC_F_SCHED1
        timeout: 300,
        netmask: 0xffff_ff00,
    });
    let want = vec![
        // cmd IPVS_CMD_SET_SERVICE = 2, version 1
        2, 1, 0, 0, //
        // SERVICE nest: 4 + 16 + 8 + 8 + 12 + 8 + 8 = 64
        64, 0, 0x01, 0x80, //
        // IPVS_SVC_ATTR_AF = 1: AF_INET
        6, 0, 1, 0, 2, 0, 0, 0, //
        // IPVS_SVC_ATTR_FWMARK = 5: u32 7
        8, 0, 5, 0, 7, 0, 0, 0, //
        // IPVS_SVC_ATTR_SCHED_NAME = 6: "wlc\0"
        8, 0, 6, 0, b'w', b'l', b'c', 0, //
        // IPVS_SVC_ATTR_PE_NAME = 11: "sip\0"
        8, 0, 11, 0, b's', b'i', b'p', 0, //
        // IPVS_SVC_ATTR_FLAGS = 7: flags 0x9, mask all
        12, 0, 7, 0, 9, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, //
        // IPVS_SVC_ATTR_TIMEOUT = 8: 300 = 0x12c
        8, 0, 8, 0, 0x2c, 0x01, 0, 0, //
        // IPVS_SVC_ATTR_NETMASK = 9: be32 255.255.255.0
        8, 0, 9, 0, 0xff, 0xff, 0xff, 0,
    ];
    assert_eq!(encode(&req).unwrap(), want);
}

#[cfg(target_endian = "little")]
#[test]
fn ipv6_service_netmask_is_the_prefix_length() {
    let req = IpvsRequest::NewService(ServiceSpec {
        id: ServiceId::Addr {
            protocol: 17, // IPPROTO_UDP
            addr: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
            port: 53,
        },
        scheduler: "sh".into(),
        pe_name: None,
        flags: 0x1,
        timeout: 60,
        netmask: 64,
    });
    let bytes = encode(&req).unwrap();
    // AF attribute: AF_INET6 = 10.
    assert_eq!(&bytes[8..16], &[6, 0, 1, 0, 10, 0, 0, 0]);
    // ADDR attribute: the 16 address bytes.
    assert_eq!(
        &bytes[24..44],
        &[20, 0, 3, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]
    );
    // PORT: be16 53.
    assert_eq!(&bytes[44..52], &[6, 0, 4, 0, 0, 53, 0, 0]);
    // NETMASK, last: the prefix length as a plain u32.
    assert_eq!(&bytes[bytes.len() - 8..], &[8, 0, 9, 0, 64, 0, 0, 0]);
}

#[cfg(target_endian = "little")]
#[test]
fn del_service_carries_only_the_identity() {
    let mut want = vec![
        // cmd IPVS_CMD_DEL_SERVICE = 3
        3, 1, 0, 0, //
        // SERVICE nest: 4 + 44
        48, 0, 0x01, 0x80,
    ];
    want.extend_from_slice(&TCP_VIP_ID);
    assert_eq!(encode(&IpvsRequest::DelService(tcp_vip())).unwrap(), want);
    let fw6 = IpvsRequest::DelService(ServiceId::Fwmark { af: 10, mark: 7 });
    assert_eq!(
        encode(&fw6).unwrap(),
        vec![
            3, 1, 0, 0, //
            20, 0, 0x01, 0x80, //
            6, 0, 1, 0, 10, 0, 0, 0, // AF_INET6
            8, 0, 5, 0, 7, 0, 0, 0, // IPVS_SVC_ATTR_FWMARK = 5
        ]
    );
}

#[cfg(target_endian = "little")]
#[test]
fn new_dest_has_service_nest_then_dest_nest() {
    let req = IpvsRequest::NewDest(
        tcp_vip(),
        DestSpec {
            addr: v4(10, 0, 0, 2),
            port: 8080,
            fwd_method: 0, // IP_VS_CONN_F_MASQ
            weight: 1,
            u_thresh: 100,
            l_thresh: 10,
            tunnel: None,
        },
    );
    let mut want = vec![
        // cmd IPVS_CMD_NEW_DEST = 5
        5, 1, 0, 0, //
        48, 0, 0x01, 0x80,
    ];
    want.extend_from_slice(&TCP_VIP_ID);
    want.extend_from_slice(&[
        // IPVS_CMD_ATTR_DEST = 2 | NLA_F_NESTED: 4 + 20 + 8 + 8 + 4 * 8 = 72
        72, 0, 0x02, 0x80, //
        // IPVS_DEST_ATTR_ADDR = 1: 10.0.0.2 in 16 bytes
        20, 0, 1, 0, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
        // IPVS_DEST_ATTR_PORT = 2: be16 8080 = 0x1f90
        6, 0, 2, 0, 0x1f, 0x90, 0, 0, //
        // IPVS_DEST_ATTR_ADDR_FAMILY = 11: AF_INET
        6, 0, 11, 0, 2, 0, 0, 0, //
        // IPVS_DEST_ATTR_FWD_METHOD = 3: IP_VS_CONN_F_MASQ = 0
        8, 0, 3, 0, 0, 0, 0, 0, //
        // IPVS_DEST_ATTR_WEIGHT = 4: 1
        8, 0, 4, 0, 1, 0, 0, 0, //
        // IPVS_DEST_ATTR_U_THRESH = 5: 100
        8, 0, 5, 0, 100, 0, 0, 0, //
        // IPVS_DEST_ATTR_L_THRESH = 6: 10
        8, 0, 6, 0, 10, 0, 0, 0,
    ]);
    assert_eq!(encode(&req).unwrap(), want);
}

#[cfg(target_endian = "little")]
#[test]
fn set_dest_tunnel_attributes() {
    let req = IpvsRequest::SetDest(
        tcp_vip(),
        DestSpec {
            addr: v4(10, 0, 0, 3),
            port: 80,
            fwd_method: 2, // IP_VS_CONN_F_TUNNEL
            weight: 0,
            u_thresh: 0,
            l_thresh: 0,
            tunnel: Some(TunnelSpec {
                kind: 1,    // IP_VS_CONN_F_TUNNEL_TYPE_GUE
                port: 6080, // 0x17c0
                flags: 1,   // IP_VS_TUNNEL_ENCAP_FLAG_CSUM
            }),
        },
    );
    let bytes = encode(&req).unwrap();
    assert_eq!(bytes[0], 6); // IPVS_CMD_SET_DEST
    assert_eq!(
        &bytes[bytes.len() - 24..],
        &[
            // IPVS_DEST_ATTR_TUN_TYPE = 13: u8 1, 3 bytes pad
            5, 0, 13, 0, 1, 0, 0, 0, //
            // IPVS_DEST_ATTR_TUN_PORT = 14: be16 6080
            6, 0, 14, 0, 0x17, 0xc0, 0, 0, //
            // IPVS_DEST_ATTR_TUN_FLAGS = 15: u16 1
            6, 0, 15, 0, 1, 0, 0, 0,
        ]
    );
    // FWD_METHOD = 2 and WEIGHT = 0 inside the dest nest.
    let fwd = [8u8, 0, 3, 0, 2, 0, 0, 0];
    assert!(bytes.windows(8).any(|w| w == fwd));
}

#[cfg(target_endian = "little")]
#[test]
fn del_dest_and_flush() {
    let req = IpvsRequest::DelDest(
        tcp_vip(),
        DestId {
            addr: v4(10, 0, 0, 2),
            port: 80,
        },
    );
    let mut want = vec![7, 1, 0, 0, 48, 0, 0x01, 0x80]; // IPVS_CMD_DEL_DEST = 7
    want.extend_from_slice(&TCP_VIP_ID);
    want.extend_from_slice(&[
        // DEST nest: 4 + 20 + 8 + 8
        40, 0, 0x02, 0x80, //
        20, 0, 1, 0, 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, //
        6, 0, 2, 0, 0, 80, 0, 0, //
        6, 0, 11, 0, 2, 0, 0, 0,
    ]);
    assert_eq!(encode(&req).unwrap(), want);
    // IPVS_CMD_FLUSH = 17: the header alone.
    assert_eq!(encode(&IpvsRequest::Flush).unwrap(), vec![17, 1, 0, 0]);
}

#[test]
fn long_scheduler_name_is_refused() {
    let req = IpvsRequest::NewService(ServiceSpec {
        id: tcp_vip(),
        scheduler: "a-scheduler-name-too-long".into(),
        pe_name: None,
        flags: 0,
        timeout: 0,
        netmask: 0xffff_ffff,
    });
    assert!(matches!(
        encode(&req),
        Err(EncodeError::NameTooLong {
            what: "scheduler",
            ..
        })
    ));
}

#[cfg(target_endian = "little")]
#[test]
fn nlctrl_get_family_and_answer() {
    assert_eq!(
        get_family("IPVS"),
        vec![
            // CTRL_CMD_GETFAMILY = 3, version 1
            3, 1, 0, 0, //
            // CTRL_ATTR_FAMILY_NAME = 2: "IPVS\0", 3 bytes pad
            9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0,
        ]
    );
    let answer = [
        1, 2, 0, 0, // CTRL_CMD_NEWFAMILY
        9, 0, 2, 0, b'I', b'P', b'V', b'S', 0, 0, 0, 0, // name
        6, 0, 1, 0, 0x1d, 0, 0, 0, // CTRL_ATTR_FAMILY_ID = 1: 29
    ];
    assert_eq!(family_id(&answer), Some(29));
    assert_eq!(family_id(&answer[..16]), None);
    assert_eq!(family_id(&[1, 2, 0, 0, 0, 0, 1, 0]), None);
    for n in 0..answer.len() {
        let _ = family_id(&answer[..n]);
    }
}

/// On this kernel (no `ip_vs`), resolving the family must answer NotAvailable, quickly.
#[test]
fn open_without_kernel_support_is_not_available() {
    let started = std::time::Instant::now();
    let result = Ipvs::open();
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let has_ipvs = std::path::Path::new("/proc/net/ip_vs").exists();
    match result {
        Err(IpvsSysError::NotAvailable { reason }) => {
            assert!(!has_ipvs, "IPVS is loaded but: {reason}");
            assert!(reason.contains("IPVS"), "{reason}");
        }
        Ok(ipvs) => assert!(has_ipvs || ipvs.family() != 0),
        Err(e) => panic!("unexpected error: {e}"),
    }
}
