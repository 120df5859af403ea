//! Receive-path benchmark: decode + validate 1,000,000 adverts and print the cost per advert.
//!
//! `cargo run --release -p keepalived-vrrp --example rx_bench`
//! Plain `std::time::Instant`; no statistics framework. The state machine's `handle` can be
//! added to the same loop to measure the whole receive path.

use keepalived_vrrp::codec::{
    encode_ipv4_advert, encode_message, validate, Ipv4Send, PseudoHeader, RxPacket, RxParams,
    RxStats, V4Checksum, MCAST_GROUP4, MCAST_GROUP6,
};
use keepalived_vrrp::{Advert, Auth, Version};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::{Duration, Instant};

const ADVERTS: usize = 1_000_000;

struct Case {
    name: &'static str,
    bytes: Vec<u8>,
    params: RxParams,
    ipv6: Option<(Ipv6Addr, Ipv6Addr)>,
}

fn ipv4_case(name: &'static str, advert: Advert) -> Result<Case, Box<dyn std::error::Error>> {
    let send = Ipv4Send {
        src: Ipv4Addr::new(10, 0, 0, 1),
        dst: MCAST_GROUP4,
        ttl: 255,
        id: 1,
    };
    let mut bytes = Vec::new();
    encode_ipv4_advert(&advert, &send, V4Checksum::Standard, &mut bytes)?;
    let mut params = RxParams::new(
        advert.version,
        advert.vrid,
        advert.interval,
        advert.addrs.clone(),
    );
    params.auth = advert.auth.clone();
    Ok(Case {
        name,
        bytes,
        params,
        ipv6: None,
    })
}

fn cases() -> Result<Vec<Case>, Box<dyn std::error::Error>> {
    let vip = |i: u8| IpAddr::V4(Ipv4Addr::new(10, 0, 1, i));
    let mut cases = vec![
        ipv4_case(
            "v2 IPv4, 1 VIP, no auth",
            Advert {
                version: Version::V2,
                vrid: 51,
                priority: 100,
                interval: Duration::from_secs(1),
                addrs: vec![vip(1)],
                auth: Auth::None,
            },
        )?,
        ipv4_case(
            "v2 IPv4, 1 VIP, PASS",
            Advert {
                version: Version::V2,
                vrid: 53,
                priority: 100,
                interval: Duration::from_secs(1),
                addrs: vec![vip(1)],
                auth: Auth::Pass(*b"secret12"),
            },
        )?,
        ipv4_case(
            "v3 IPv4, 2 VIPs",
            Advert {
                version: Version::V3,
                vrid: 52,
                priority: 100,
                interval: Duration::from_secs(1),
                addrs: vec![vip(2), vip(3)],
                auth: Auth::None,
            },
        )?,
        ipv4_case(
            "v3 IPv4, 20 VIPs",
            Advert {
                version: Version::V3,
                vrid: 54,
                priority: 100,
                interval: Duration::from_secs(1),
                addrs: (1..=20).map(vip).collect(),
                auth: Auth::None,
            },
        )?,
    ];
    let src: Ipv6Addr = "fe80::1".parse()?;
    let vip6: IpAddr = "fe80::100".parse()?;
    let advert = Advert {
        version: Version::V3,
        vrid: 56,
        priority: 100,
        interval: Duration::from_secs(1),
        addrs: vec![vip6],
        auth: Auth::None,
    };
    let mut bytes = Vec::new();
    encode_message(
        &advert,
        PseudoHeader::V6 {
            src,
            dst: MCAST_GROUP6,
        },
        &mut bytes,
    )?;
    cases.push(Case {
        name: "v3 IPv6, 1 VIP",
        bytes,
        params: RxParams::new(Version::V3, 56, Duration::from_secs(1), vec![vip6]),
        ipv6: Some((src, MCAST_GROUP6)),
    });
    Ok(cases)
}

/// Nanoseconds this thread has spent on a CPU (Linux `schedstat`), to see through a busy machine.
fn cpu_ns() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    text.split_whitespace().next()?.parse().ok()
}

fn run(case: &Case) -> (Duration, Option<u64>, RxStats) {
    let mut stats = RxStats::default();
    let cpu_start = cpu_ns();
    let start = Instant::now();
    for _ in 0..ADVERTS {
        let bytes = black_box(case.bytes.as_slice());
        let packet = match case.ipv6 {
            None => RxPacket::Ipv4(bytes),
            Some((src, dst)) => RxPacket::Ipv6 {
                payload: bytes,
                src,
                dst,
                hop_limit: Some(255),
            },
        };
        let outcome = validate(packet, black_box(&case.params));
        stats.record(&outcome);
        black_box(outcome.ok());
    }
    let elapsed = start.elapsed();
    let cpu = cpu_start.and_then(|a| cpu_ns().map(|b| b.saturating_sub(a)));
    (elapsed, cpu, stats)
}

/// Runs per case; the fastest is reported, since the machine may be shared.
const RUNS: usize = 5;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for case in cases()? {
        let mut best = Duration::MAX;
        let mut best_cpu = u64::MAX;
        for _ in 0..RUNS {
            let (elapsed, cpu, stats) = run(&case);
            if stats.advert_rcvd != ADVERTS as u64 {
                return Err(format!("{}: only {} accepted", case.name, stats.advert_rcvd).into());
            }
            best = best.min(elapsed);
            best_cpu = best_cpu.min(cpu.unwrap_or(u64::MAX));
        }
        let ns = best.as_nanos() as f64 / ADVERTS as f64;
        let cpu = if best_cpu == u64::MAX {
            String::new()
        } else {
            format!(", {:.1} ns on CPU", best_cpu as f64 / ADVERTS as f64)
        };
        println!(
            "{:<26} {ADVERTS} adverts decoded + validated in {best:>8.2?}: {ns:>6.1} ns/advert{cpu} (best of {RUNS})",
            case.name
        );
    }
    Ok(())
}
