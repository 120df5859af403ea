//! Receive-path benchmark including the state machine: decode + validate + `Instance::handle`
//! for 1,000,000 adverts, and `handle` alone, printing ns per advert.
//!
//! `cargo run --release -p keepalived-vrrp --example bench_handle`
//! The instance is a BACKUP hearing its master (the steady-state case of every backup).

use keepalived_vrrp::codec::{
    encode_ipv4_advert, validate, Ipv4Send, RxPacket, RxParams, V4Checksum, MCAST_GROUP4,
};
use keepalived_vrrp::instance::{Input, Instance, InstanceParams, State};
use keepalived_vrrp::{Advert, Auth, Version};
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr};
use std::time::{Duration, Instant};

const ADVERTS: u32 = 1_000_000;

fn backup(version: Version, vips: &[IpAddr]) -> Result<Instance, String> {
    let mut params = InstanceParams::new("VI_1", 51, IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)));
    params.version = version;
    params.vips = vips.to_vec();
    let mut inst = Instance::new(params);
    inst.handle(Duration::ZERO, Input::Start);
    if inst.state() != State::Backup {
        return Err("instance did not start in BACKUP".into());
    }
    Ok(inst)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    for (name, version, nvips) in [
        ("v2 IPv4, 1 VIP", Version::V2, 1u8),
        ("v3 IPv4, 20 VIPs", Version::V3, 20),
    ] {
        let vips: Vec<IpAddr> = (1..=nvips)
            .map(|i| IpAddr::V4(Ipv4Addr::new(10, 0, 1, i)))
            .collect();
        let advert = Advert {
            version,
            vrid: 51,
            priority: 150,
            interval: Duration::from_secs(1),
            addrs: vips.clone(),
            auth: Auth::None,
        };
        let send = Ipv4Send {
            src: Ipv4Addr::new(10, 0, 0, 1),
            dst: MCAST_GROUP4,
            ttl: 255,
            id: 1,
        };
        let mut bytes = Vec::new();
        encode_ipv4_advert(&advert, &send, V4Checksum::Standard, &mut bytes)?;
        let rx = RxParams::new(version, 51, advert.interval, vips.clone());

        // decode + validate + handle
        let mut inst = backup(version, &vips)?;
        let mut out = Vec::new();
        let mut now = Duration::ZERO;
        let start = Instant::now();
        for _ in 0..ADVERTS {
            now += Duration::from_millis(1);
            let v = validate(RxPacket::Ipv4(black_box(&bytes)), black_box(&rx))?;
            inst.handle_into(
                now,
                Input::Advert {
                    advert: v.advert.header(),
                    source: v.src,
                },
                &mut out,
            );
            out.clear();
        }
        let full = start.elapsed();
        if inst.state() != State::Backup || inst.stats().advert_rcvd != u64::from(ADVERTS) {
            return Err("unexpected state machine outcome".into());
        }

        // handle alone (the advert is cloned outside the timed region's cost model: the
        // clone is what validate would have produced)
        let mut inst = backup(version, &vips)?;
        let source = IpAddr::V4(send.src);
        let inputs: Vec<Input> = (0..1000)
            .map(|_| Input::Advert {
                advert: advert.header(),
                source,
            })
            .collect();
        let mut now = Duration::ZERO;
        let mut handle_only = Duration::ZERO;
        for _ in 0..ADVERTS / 1000 {
            let batch = inputs.clone();
            let start = Instant::now();
            for input in batch {
                now += Duration::from_millis(1);
                inst.handle_into(now, black_box(input), &mut out);
                out.clear();
            }
            handle_only += start.elapsed();
        }
        let per = |d: Duration| d.as_nanos() as f64 / f64::from(ADVERTS);
        println!(
            "{name:<18} decode+validate+handle {:>6.1} ns/advert, handle alone {:>6.1} ns/advert",
            per(full),
            per(handle_only)
        );
    }
    Ok(())
}
