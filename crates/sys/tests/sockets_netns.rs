//! VRRP raw sockets and packet sockets against a real kernel, between two network namespaces
//! joined by a veth pair.
//!
//! Needs root and `ip` (iproute2); ignored by default. Run with:
//! `cargo test -p keepalived-sys --test sockets_netns -- --include-ignored`
//! (tests may run in parallel: each creates its own pair of namespaces).
//!
//! Each test creates `kars-sk-<pid>-<tag>-a` and `-b`, with `veth0` in each (MACs
//! 02:00:00:00:00:01 / :02, 192.0.2.1/24 / .2, fd00::1/64 / ::2, DAD off), and deletes both
//! on drop, also when the test fails. Sockets are opened with the test thread switched into
//! a namespace by `setns(CLONE_NEWNET)` (a per-thread switch; a socket stays in the namespace
//! it was created in), and the thread switches back before the guard is dropped.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs::File;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::{AsFd, BorrowedFd};
use std::process::Command;
use std::time::Duration;

use keepalived_sys::packet::{ETH_P_ARP, ETH_P_IPV6};
use keepalived_sys::{PacketSocket, VrrpSocketV4, VrrpSocketV6};
use keepalived_vrrp::codec::{
    encode_ipv4_advert, encode_message, parse_ipv4, validate, Garp, IpIdCounter, Ipv4Send,
    PseudoHeader, RxPacket, RxParams, UnsolicitedNa, V4Checksum, MCAST_GROUP4, MCAST_GROUP6,
};
use keepalived_vrrp::{Advert, Auth, Version};
use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use nix::sched::{setns, CloneFlags};

const MAC_A: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
const MAC_B: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
const V4_A: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const V4_B: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
const V6_A: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1);
const V6_B: Ipv6Addr = Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2);

fn run(cmd: &str, args: &[&str]) {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Two namespaces joined by a veth pair; deleted on drop.
struct Pair {
    a: String,
    b: String,
    home: File,
}

impl Pair {
    fn new(tag: &str) -> Pair {
        let base = format!("kars-sk-{}-{tag}", std::process::id());
        let (a, b) = (format!("{base}-a"), format!("{base}-b"));
        for ns in [&a, &b] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(std::process::Stdio::null())
                .status();
        }
        let home = File::open("/proc/thread-self/ns/net").unwrap();
        // From here on the guard deletes whatever was created, even if a step fails.
        let pair = Pair { a, b, home };
        for ns in [&pair.a, &pair.b] {
            run("ip", &["netns", "add", ns]);
            for key in [
                "net.ipv6.conf.all.accept_dad=0",
                "net.ipv6.conf.default.accept_dad=0",
            ] {
                run("ip", &["netns", "exec", ns, "sysctl", "-qw", key]);
            }
            run("ip", &["-n", ns, "link", "set", "lo", "up"]);
        }
        run(
            "ip",
            &[
                "-n",
                &pair.a,
                "link",
                "add",
                "veth0",
                "address",
                "02:00:00:00:00:01",
                "type",
                "veth",
                "peer",
                "name",
                "veth0",
                "address",
                "02:00:00:00:00:02",
                "netns",
                &pair.b,
            ],
        );
        for (ns, v4, v6) in [
            (&pair.a, "192.0.2.1/24", "fd00::1/64"),
            (&pair.b, "192.0.2.2/24", "fd00::2/64"),
        ] {
            run("ip", &["-n", ns, "addr", "add", v4, "dev", "veth0"]);
            run(
                "ip",
                &["-n", ns, "addr", "add", v6, "dev", "veth0", "nodad"],
            );
            run("ip", &["-n", ns, "link", "set", "veth0", "up"]);
        }
        // IPv6 is usable only once carrier is up and the link-local address exists (the
        // kernel adds it asynchronously): an advert sent earlier is silently lost.
        for ns in [&pair.a, &pair.b] {
            let ready = (0..300).any(|_| {
                let out = Command::new("ip")
                    .args([
                        "-n", ns, "-6", "addr", "show", "dev", "veth0", "scope", "link",
                    ])
                    .output()
                    .unwrap();
                let text = String::from_utf8_lossy(&out.stdout);
                let ok = text.contains("LOWER_UP")
                    && text.contains("fe80::")
                    && !text.contains("tentative");
                if !ok {
                    std::thread::sleep(Duration::from_millis(10));
                }
                ok
            });
            assert!(
                ready,
                "veth0 in {ns} never got carrier and a link-local address"
            );
        }
        pair
    }

    /// Runs `f` with this thread inside namespace `ns`, passing veth0's ifindex there.
    fn inside<T>(&self, ns: &str, f: impl FnOnce(u32) -> T) -> T {
        let target = File::open(format!("/run/netns/{ns}")).unwrap();
        setns(target.as_fd(), CloneFlags::CLONE_NEWNET).unwrap();
        let ifindex = nix::net::if_::if_nametoindex("veth0");
        let out = ifindex.map(f);
        setns(self.home.as_fd(), CloneFlags::CLONE_NEWNET).unwrap();
        out.unwrap()
    }
}

impl Drop for Pair {
    fn drop(&mut self) {
        let _ = setns(self.home.as_fd(), CloneFlags::CLONE_NEWNET);
        for ns in [&self.a, &self.b] {
            let _ = Command::new("ip")
                .args(["netns", "del", ns])
                .stderr(std::process::Stdio::null())
                .status();
        }
    }
}

fn readable(fd: BorrowedFd<'_>, ms: u16) -> bool {
    let mut fds = [PollFd::new(fd, PollFlags::POLLIN)];
    poll(&mut fds, PollTimeout::from(ms)).unwrap() > 0
}

fn advert(version: Version, addrs: Vec<IpAddr>) -> Advert {
    Advert {
        version,
        vrid: 51,
        priority: 150,
        interval: Duration::from_secs(1),
        addrs,
        auth: Auth::None,
    }
}

/// Waits up to 2 s for a datagram on a VRRP IPv4 socket.
fn recv_v4(sock: &VrrpSocketV4, buf: &mut [u8]) -> usize {
    for _ in 0..20 {
        if let Some(n) = sock.recv(buf).unwrap() {
            return n;
        }
        readable(sock.as_fd(), 100);
    }
    panic!("no IPv4 VRRP packet received");
}

#[test]
#[ignore = "needs root + netns"]
fn ipv4_multicast_and_unicast_adverts_cross_the_veth_with_ttl_255() {
    let pair = Pair::new("v4");
    let tx = pair.inside(&pair.a, |i| {
        VrrpSocketV4::open(i, None, Some(MCAST_GROUP4)).unwrap()
    });
    let rx = pair.inside(&pair.b, |i| {
        VrrpSocketV4::open(i, None, Some(MCAST_GROUP4)).unwrap()
    });
    let vips = vec![IpAddr::V4(Ipv4Addr::new(192, 0, 2, 100))];
    let ad = advert(Version::V3, vips.clone());
    let params = RxParams::new(Version::V3, 51, Duration::from_secs(1), vips.clone());
    let mut ids = IpIdCounter::new();

    let mut packet = Vec::new();
    let send = Ipv4Send {
        src: V4_A,
        dst: MCAST_GROUP4,
        ttl: 255,
        id: ids.next(),
    };
    encode_ipv4_advert(&ad, &send, V4Checksum::Standard, &mut packet).unwrap();
    tx.send(&packet, MCAST_GROUP4).unwrap();

    let mut buf = vec![0u8; 65535];
    let n = recv_v4(&rx, &mut buf);
    let (header, _) = parse_ipv4(&buf[..n]).unwrap();
    assert_eq!(
        (header.ttl, header.src, header.dst, header.tos),
        (255, V4_A, MCAST_GROUP4, 0xc0)
    );
    assert_eq!(header.id, send.id, "our IP id is kept");
    let got = validate(RxPacket::Ipv4(&buf[..n]), &params).unwrap();
    assert_eq!(got.advert, ad);
    // Multicast loop is off: the sender does not hear itself.
    assert!(!readable(tx.as_fd(), 200));
    assert_eq!(tx.recv(&mut buf).unwrap(), None);

    // Unicast to a socket bound to B's address, plus an IP_FREEBIND bind to an address B
    // does not have (a unicast_src_ip that is not configured yet).
    let urx = pair.inside(&pair.b, |i| {
        VrrpSocketV4::open(i, Some(V4_B), None).unwrap()
    });
    let _free = pair.inside(&pair.b, |i| {
        VrrpSocketV4::open(i, Some(Ipv4Addr::new(192, 0, 2, 250)), None).unwrap()
    });
    let utx = pair.inside(&pair.a, |i| {
        VrrpSocketV4::open(i, Some(V4_A), None).unwrap()
    });
    let mut packet = Vec::new();
    let send = Ipv4Send {
        src: V4_A,
        dst: V4_B,
        ttl: 255,
        id: ids.next(),
    };
    encode_ipv4_advert(&ad, &send, V4Checksum::Standard, &mut packet).unwrap();
    utx.send(&packet, V4_B).unwrap();
    let n = recv_v4(&urx, &mut buf);
    let (header, _) = parse_ipv4(&buf[..n]).unwrap();
    assert_eq!((header.ttl, header.src, header.dst), (255, V4_A, V4_B));
    let mut uparams = params.clone();
    uparams.unicast_peers = vec![keepalived_vrrp::codec::UnicastPeer {
        addr: IpAddr::V4(V4_A),
        min_ttl: 0,
        max_ttl: 255,
    }];
    assert_eq!(
        validate(RxPacket::Ipv4(&buf[..n]), &uparams)
            .unwrap()
            .advert,
        ad
    );
    drop(pair);
}

/// Waits up to 2 s for a VRRP message on an IPv6 socket.
fn recv_v6(sock: &VrrpSocketV6, buf: &mut [u8]) -> keepalived_sys::RecvV6 {
    for _ in 0..20 {
        if let Some(r) = sock.recv(buf).unwrap() {
            return r;
        }
        readable(sock.as_fd(), 100);
    }
    panic!("no IPv6 VRRP packet received on ifindex {}", sock.ifindex());
}

#[test]
#[ignore = "needs root + netns"]
fn ipv6_multicast_advert_arrives_with_hop_limit_255_and_kernel_checksum() {
    let pair = Pair::new("v6");
    let tx = pair.inside(&pair.a, |i| {
        VrrpSocketV6::open(i, None, Some(MCAST_GROUP6)).unwrap()
    });
    let wire = pair.inside(&pair.b, |i| {
        PacketSocket::open_listener(i, ETH_P_IPV6).unwrap()
    });
    let (rx, rx_index) = pair.inside(&pair.b, |i| {
        (VrrpSocketV6::open(i, None, Some(MCAST_GROUP6)).unwrap(), i)
    });
    let vips = vec![IpAddr::V6("fd00::100".parse().unwrap())];
    let ad = advert(Version::V3, vips.clone());
    let params = RxParams::new(Version::V3, 51, Duration::from_secs(1), vips.clone());

    // The checksum is left to the kernel (IPV6_CHECKSUM), so encode without a pseudo-header.
    let mut msg = Vec::new();
    encode_message(&ad, PseudoHeader::None, &mut msg).unwrap();
    tx.send(&msg, MCAST_GROUP6).unwrap();

    let mut buf = vec![0u8; 65535];
    eprintln!("multicast");
    let r = recv_v6(&rx, &mut buf);
    assert_eq!(r.len, msg.len());
    assert!(
        r.src.is_unicast_link_local(),
        "kernel picks the link-local source: {}",
        r.src
    );
    assert_eq!(
        (r.dst, r.hop_limit, r.ifindex),
        (MCAST_GROUP6, Some(255), rx_index)
    );
    let packet = RxPacket::Ipv6 {
        payload: &buf[..r.len],
        src: r.src,
        dst: r.dst,
        hop_limit: r.hop_limit,
    };
    let got = validate(packet, &params).unwrap();
    assert_eq!(got.advert, ad);
    assert!(!readable(tx.as_fd(), 200), "multicast loop is off");
    // On the wire: traffic class 0xc0, next header 112, hop limit 255, as keepalived sends.
    let (tclass, next, hops) = recv_frame(&wire, |f| {
        (f.len() > 54 && f[20] == 112).then(|| (((f[14] & 0x0f) << 4) | (f[15] >> 4), f[20], f[21]))
    });
    assert_eq!((tclass, next, hops), (0xc0, 112, 255));

    // Unicast between the global addresses, both sides bound.
    let urx = pair.inside(&pair.b, |i| {
        VrrpSocketV6::open(i, Some(V6_B), None).unwrap()
    });
    let utx = pair.inside(&pair.a, |i| {
        VrrpSocketV6::open(i, Some(V6_A), None).unwrap()
    });
    utx.send(&msg, V6_B).unwrap();
    let r = recv_v6(&urx, &mut buf);
    assert_eq!((r.src, r.dst, r.hop_limit), (V6_A, V6_B, Some(255)));
    let mut uparams = params.clone();
    uparams.unicast_peers = vec![keepalived_vrrp::codec::UnicastPeer {
        addr: IpAddr::V6(V6_A),
        min_ttl: 0,
        max_ttl: 255,
    }];
    let packet = RxPacket::Ipv6 {
        payload: &buf[..r.len],
        src: r.src,
        dst: r.dst,
        hop_limit: r.hop_limit,
    };
    assert_eq!(validate(packet, &uparams).unwrap().advert, ad);
    drop(pair);
}

/// Reads frames for up to 2 s until `pick` accepts one.
fn recv_frame<T>(sock: &PacketSocket, mut pick: impl FnMut(&[u8]) -> Option<T>) -> T {
    let mut buf = vec![0u8; 65535];
    for _ in 0..20 {
        while let Some(n) = sock.recv(&mut buf).unwrap() {
            if let Some(t) = pick(&buf[..n]) {
                return t;
            }
        }
        readable(sock.as_fd(), 100);
    }
    panic!("expected frame not received");
}

#[test]
#[ignore = "needs root + netns"]
fn garp_and_unsolicited_na_frames_reach_the_peer() {
    let pair = Pair::new("garp");
    let tx = pair.inside(&pair.a, |i| PacketSocket::open(i).unwrap());
    let arp_rx = pair.inside(&pair.b, |i| {
        PacketSocket::open_listener(i, ETH_P_ARP).unwrap()
    });
    let v6_rx = pair.inside(&pair.b, |i| {
        PacketSocket::open_listener(i, ETH_P_IPV6).unwrap()
    });

    let garp = Garp {
        src_mac: MAC_A,
        vip: Ipv4Addr::new(192, 0, 2, 100),
    };
    tx.send(&garp.to_frame()).unwrap();
    let got = recv_frame(&arp_rx, Garp::parse);
    assert_eq!(got, garp);

    let na = UnsolicitedNa {
        src_mac: MAC_A,
        vip: "fd00::100".parse().unwrap(),
        router: false,
    };
    tx.send(&na.to_frame()).unwrap();
    // Other IPv6 traffic (MLD reports, router solicitations) may arrive first: skip it.
    let got = recv_frame(&v6_rx, |f| {
        UnsolicitedNa::parse(f).filter(|n| n.vip == na.vip)
    });
    assert_eq!(got, na);
    assert_ne!(MAC_A, MAC_B);
    drop(pair);
}
