//! Sends forged VRRPv2 adverts (IPv4 multicast 224.0.0.18, raw IP with our own header) from
//! inside a lab namespace, for the hostile-input scenarios.
//!
//! `advert_flood IFNAME SRC VRID VIP MODE RATE SECS [PASSWORD]`
//!
//! * `MODE` `mixed`: a rotation of broken adverts (TTL 64, bad checksum, PASS auth where none
//!   is configured, invalid auth type 7, version 3, truncated header, truncated address list),
//!   each otherwise a priority-254 advert for VRID/VIP, so any one wrongly accepted would make
//!   a MASTER step down.
//! * `MODE` `valid:PRIO`: well-formed adverts with priority PRIO (PASS auth with PASSWORD if
//!   given, else none).
//!
//! Sends RATE packets per second for SECS seconds (paced in 1 ms slices), then prints
//! `sent N in MS ms (errors E)`.
#![allow(clippy::print_stdout)]

use std::net::{Ipv4Addr, SocketAddrV4};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use socket2::{Domain, Protocol, SockAddr, Socket, Type};

const GROUP: Ipv4Addr = Ipv4Addr::new(224, 0, 0, 18);

/// One kind of advert the flood sends.
#[derive(Debug, Clone, Copy)]
enum Kind {
    Valid,
    BadTtl,
    BadChecksum,
    PassWhereNone,
    InvalidAuthType,
    WrongVersion,
    TruncatedHeader,
    TruncatedAddresses,
}

const MIXED: [Kind; 7] = [
    Kind::BadTtl,
    Kind::BadChecksum,
    Kind::PassWhereNone,
    Kind::InvalidAuthType,
    Kind::WrongVersion,
    Kind::TruncatedHeader,
    Kind::TruncatedAddresses,
];

fn internet_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    for chunk in data.chunks(2) {
        let word = match chunk {
            [a, b] => u16::from_be_bytes([*a, *b]),
            [a] => u16::from_be_bytes([*a, 0]),
            _ => 0,
        };
        sum = sum.wrapping_add(u32::from(word));
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// The whole IPv4 packet (the kernel fills in the IP checksum, id and total length).
fn packet(
    kind: Kind,
    src: Ipv4Addr,
    vrid: u8,
    prio: u8,
    vip: Ipv4Addr,
    pass: Option<&str>,
) -> Vec<u8> {
    let (version, auth_type) = match kind {
        Kind::WrongVersion => (3u8, 0u8),
        Kind::PassWhereNone => (2, 1),
        Kind::InvalidAuthType => (2, 7),
        _ => (2, u8::from(pass.is_some())),
    };
    let mut vrrp = vec![version << 4 | 1, vrid, prio, 1, auth_type, 1, 0, 0];
    vrrp.extend_from_slice(&vip.octets());
    let mut auth = [0u8; 8];
    let secret = match kind {
        Kind::PassWhereNone => Some("forged"),
        _ => pass,
    };
    if let Some(p) = secret {
        for (d, s) in auth.iter_mut().zip(p.bytes()) {
            *d = s;
        }
    }
    vrrp.extend_from_slice(&auth);
    let ck = internet_checksum(&vrrp);
    let ck = match kind {
        Kind::BadChecksum => ck ^ 0x5a5a,
        _ => ck,
    };
    vrrp[6..8].copy_from_slice(&ck.to_be_bytes());
    match kind {
        Kind::TruncatedHeader => vrrp.truncate(5),
        Kind::TruncatedAddresses => vrrp.truncate(10),
        _ => {}
    }
    let ttl = match kind {
        Kind::BadTtl => 64,
        _ => 255,
    };
    let total = u16::try_from(20 + vrrp.len()).unwrap_or(u16::MAX);
    let mut ip = vec![0x45, 0xc0];
    ip.extend_from_slice(&total.to_be_bytes());
    ip.extend_from_slice(&[0, 0, 0, 0, ttl, 112, 0, 0]);
    ip.extend_from_slice(&src.octets());
    ip.extend_from_slice(&GROUP.octets());
    ip.extend_from_slice(&vrrp);
    ip
}

struct Args {
    ifname: String,
    src: Ipv4Addr,
    vrid: u8,
    vip: Ipv4Addr,
    valid_prio: Option<u8>,
    rate: u64,
    secs: f64,
    pass: Option<String>,
}

fn parse() -> Result<Args, String> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 7 {
        return Err(
            "usage: advert_flood IFNAME SRC VRID VIP mixed|valid:PRIO RATE SECS [PASSWORD]".into(),
        );
    }
    let bad = |what: &str, v: &str| format!("bad {what}: {v}");
    let get = |i: usize| a.get(i).cloned().unwrap_or_default();
    let valid_prio = match get(4).as_str() {
        "mixed" => None,
        m => Some(
            m.strip_prefix("valid:")
                .and_then(|p| p.parse().ok())
                .ok_or_else(|| bad("mode", m))?,
        ),
    };
    Ok(Args {
        ifname: get(0),
        src: get(1).parse().map_err(|_| bad("source", &get(1)))?,
        vrid: get(2).parse().map_err(|_| bad("vrid", &get(2)))?,
        vip: get(3).parse().map_err(|_| bad("vip", &get(3)))?,
        valid_prio,
        rate: get(5).parse().map_err(|_| bad("rate", &get(5)))?,
        secs: get(6).parse().map_err(|_| bad("secs", &get(6)))?,
        pass: a.get(7).cloned(),
    })
}

fn run(args: &Args) -> Result<(u64, u64, Duration), String> {
    let sock = Socket::new(Domain::IPV4, Type::RAW, Some(Protocol::from(libc_raw())))
        .map_err(|e| format!("raw socket: {e}"))?;
    sock.bind_device(Some(args.ifname.as_bytes()))
        .map_err(|e| format!("bind to {}: {e}", args.ifname))?;
    sock.set_multicast_if_v4(&args.src)
        .map_err(|e| format!("multicast interface: {e}"))?;
    let dst = SockAddr::from(SocketAddrV4::new(GROUP, 0));
    let packets: Vec<Vec<u8>> = match args.valid_prio {
        Some(p) => vec![packet(
            Kind::Valid,
            args.src,
            args.vrid,
            p,
            args.vip,
            args.pass.as_deref(),
        )],
        None => MIXED
            .iter()
            .map(|k| packet(*k, args.src, args.vrid, 254, args.vip, None))
            .collect(),
    };
    let total = (args.rate as f64 * args.secs) as u64;
    let start = Instant::now();
    let (mut sent, mut errors) = (0u64, 0u64);
    let slice = Duration::from_millis(1);
    while sent < total {
        // Catch up to where the schedule says we should be, then sleep a slice.
        let due = ((start.elapsed().as_secs_f64() * args.rate as f64) as u64 + 1).min(total);
        while sent < due {
            let p = &packets[(sent as usize) % packets.len()];
            if sock.send_to(p, &dst).is_err() {
                errors += 1;
            }
            sent += 1;
        }
        std::thread::sleep(slice);
    }
    Ok((sent, errors, start.elapsed()))
}

/// IPPROTO_RAW: a raw socket that sends whole IP packets (IP_HDRINCL implied).
const fn libc_raw() -> i32 {
    255
}

fn main() -> ExitCode {
    let args = match parse() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::from(2);
        }
    };
    match run(&args) {
        Ok((sent, errors, took)) => {
            println!("sent {sent} in {} ms (errors {errors})", took.as_millis());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}
