//! SMTP_CHECK, DNS_CHECK, UDP_CHECK, PING_CHECK and FILE_CHECK on loopback: tiny SMTP servers
//! (good, refusing, silent), DNS responders (good, rcode 2, wrong id), UDP echo servers and a
//! closed port, pings in a network namespace of the test's own, and a tracked file whose value
//! changes. The test drives `VirtualServers` with its own mio loop and checks the real-server
//! states and the IPVS commands recorded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{config, Harness, ServerThread, Style};
use keepalived_config::Config;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, UdpSocket};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// These checks start no process: the loop reaps none.
fn harness(config: &Config) -> Harness {
    Harness::with_style(config, Style::SOCKETS)
}

/// A virtual server on 10.9.9.1:port with the given real servers (already formatted).
fn vs_config(proto: &str, real_servers: &str) -> Config {
    config(&format!(
        "virtual_server 10.9.9.1 53 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol {proto}\n{real_servers}}}\n"
    ))
}

#[derive(Clone, Copy, PartialEq)]
enum SmtpMode {
    Good,
    Refuse,
    Silent,
}

/// A tiny SMTP server; returns its port, the lines it received, and its guard.
fn smtp_server(mode: SmtpMode) -> (u16, Arc<Mutex<Vec<String>>>, ServerThread) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (seen2, stop2) = (seen.clone(), stop.clone());
    let handle = thread::spawn(move || {
        let mut held = Vec::new();
        while !stop2.load(Ordering::Relaxed) {
            let Ok((mut s, _)) = listener.accept() else {
                thread::sleep(Duration::from_millis(5));
                continue;
            };
            s.set_nonblocking(false).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
            match mode {
                SmtpMode::Silent => held.push(s),
                SmtpMode::Refuse => {
                    let _ = s.write_all(b"554 5.7.1 no service for you\r\n");
                }
                SmtpMode::Good => {
                    let _ = s.write_all(b"220-mail.test ESMTP\r\n");
                    let _ = s.write_all(b"220 ready\r\n");
                    let mut r = BufReader::new(s.try_clone().unwrap());
                    let mut line = String::new();
                    while r.read_line(&mut line).unwrap_or(0) > 0 {
                        seen2.lock().unwrap().push(line.trim_end().to_string());
                        let reply: &[u8] = if line.starts_with("HELO") {
                            b"250 mail.test\r\n"
                        } else {
                            b"221 bye\r\n"
                        };
                        let _ = s.write_all(reply);
                        if line.starts_with("QUIT") {
                            break;
                        }
                        line.clear();
                    }
                }
            }
        }
    });
    (port, seen, ServerThread::new(stop, handle))
}

#[test]
fn smtp_check_good_refused_and_silent() {
    let (good, seen, _a) = smtp_server(SmtpMode::Good);
    let (refuse, _, _b) = smtp_server(SmtpMode::Refuse);
    let (silent, _, _c) = smtp_server(SmtpMode::Silent);
    let rs = |port: u16, extra: &str| {
        format!(" real_server 127.0.0.1 {port} {{\n  SMTP_CHECK {{\n   connect_timeout 1\n   retry 0\n   warmup 0\n{extra}  }}\n }}\n")
    };
    let cfg = vs_config(
        "TCP",
        &format!(
            "{}{}{}",
            rs(good, "   helo_name probe.test\n   alpha\n"),
            rs(refuse, ""),
            rs(silent, "")
        ),
    );
    let mut h = harness(&cfg);
    h.ipvs.take();
    h.run_until(
        Duration::from_secs(4),
        "good up, refusing and silent down",
        |h| h.alive(0) && !h.alive(1) && !h.alive(2),
    );
    assert!(h.alive(0));
    assert_eq!(h.downs().len(), 2, "{:?}", h.downs());
    let seen = seen.lock().unwrap().clone();
    // One conversation per round (the good server may have had a second round by now).
    assert!(!seen.is_empty(), "no conversation");
    for round in seen.chunks(2) {
        assert_eq!(round, ["HELO probe.test", "QUIT"], "{seen:?}");
    }
    let cmds = h.ipvs.take();
    assert!(cmds.contains(&format!("-d -t 10.9.9.1:53 -r 127.0.0.1:{refuse}")));
    assert!(cmds.contains(&format!("-d -t 10.9.9.1:53 -r 127.0.0.1:{silent}")));
}

#[derive(Clone, Copy)]
enum DnsMode {
    Good,
    Rcode2,
    WrongId,
}

/// A UDP DNS responder answering every query as `mode` says.
fn dns_server(mode: DnsMode) -> (u16, ServerThread) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let port = sock.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let handle = thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !stop2.load(Ordering::Relaxed) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let mut reply = buf[..n].to_vec();
            if reply.len() < 12 {
                continue;
            }
            reply[2] |= 0x80; // QR
            reply[3] = 0x80;
            match mode {
                DnsMode::Good => {}
                DnsMode::Rcode2 => reply[3] |= 2,
                DnsMode::WrongId => reply[0] ^= 0xff,
            }
            let _ = sock.send_to(&reply, from);
        }
    });
    (port, ServerThread::new(stop, handle))
}

#[test]
fn dns_check_good_rcode_and_wrong_id() {
    let (good, _a) = dns_server(DnsMode::Good);
    let (rcode, _b) = dns_server(DnsMode::Rcode2);
    let (wrong, _c) = dns_server(DnsMode::WrongId);
    // alpha: each starts down, so the good one is up only after a good answer.
    let rs = |port: u16| {
        format!(" real_server 127.0.0.1 {port} {{\n  DNS_CHECK {{\n   connect_timeout 1\n   retry 0\n   warmup 0\n   alpha\n   type A\n   name example.org\n  }}\n }}\n")
    };
    let cfg = vs_config("UDP", &format!("{}{}{}", rs(good), rs(rcode), rs(wrong)));
    let mut h = harness(&cfg);
    h.run_until(Duration::from_secs(3), "good up", |h| h.alive(0));
    // The wrong id is ignored until the timeout; rcode 2 fails at once. Neither comes up.
    h.run(Duration::from_millis(2300));
    assert!(h.alive(0));
    assert!(!h.alive(1) && !h.alive(2), "{}", h.vs.dump());
}

/// A UDP server answering every datagram with `answer` (`None`: echo it back; empty: silent).
fn udp_server(answer: Option<Vec<u8>>) -> (u16, ServerThread) {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    let port = sock.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let stop2 = stop.clone();
    let handle = thread::spawn(move || {
        let mut buf = [0u8; 512];
        while !stop2.load(Ordering::Relaxed) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            match &answer {
                None => {
                    let _ = sock.send_to(&buf[..n], from);
                }
                Some(a) if a.is_empty() => {}
                Some(a) => {
                    let _ = sock.send_to(a, from);
                }
            }
        }
    });
    (port, ServerThread::new(stop, handle))
}

fn closed_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[test]
fn udp_check_echo_closed_silent_and_mismatch() {
    let (echo, _a) = udp_server(None);
    let (silent, _b) = udp_server(Some(Vec::new()));
    let (other, _c) = udp_server(Some(vec![0xde, 0xad]));
    let closed = closed_udp_port();
    let rs = |port: u16, extra: &str| {
        format!(" real_server 127.0.0.1 {port} {{\n  UDP_CHECK {{\n   connect_timeout 1\n   retry 0\n   warmup 0\n{extra}  }}\n }}\n")
    };
    let cfg = vs_config(
        "UDP",
        &format!(
            "{}{}{}{}",
            // 0: echo with a matching pattern (X nibbles).
            rs(
                echo,
                "   payload 0102 0304\n   require_reply 01X2 xx\n   alpha\n"
            ),
            // 1: closed port: ICMP port unreachable.
            rs(closed, ""),
            // 2: silent without require_reply: up.
            rs(silent, "   payload ff\n"),
            // 3: answers something else than required.
            rs(other, "   payload 01\n   require_reply 01\n"),
        ),
    );
    let mut h = harness(&cfg);
    h.run_until(Duration::from_secs(4), "closed and mismatch down", |h| {
        !h.alive(1) && !h.alive(3)
    });
    // Two more rounds: the echo and the silent server stay up (silence passes after 1 s).
    h.run(Duration::from_millis(2300));
    assert!(h.alive(0), "{}", h.vs.dump());
    assert!(h.alive(2), "{}", h.vs.dump());
    assert_eq!(h.downs().len(), 2, "{:?}", h.downs());
}

/// Writes `value` to `path` as a new file moved into place (inotify sees IN_MOVED_TO).
fn write_value(path: &std::path::Path, value: &str) {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, value).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

#[test]
fn file_check_switch_and_weights() {
    let dir = std::env::temp_dir().join(format!("krs-newchecks-file-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("state");
    std::fs::write(&file, "0\n").unwrap();
    let cfg = config(&format!(
        r#"
track_file tf {{
    file {f}
    weight 0
}}
virtual_server 10.9.9.1 80 {{
    delay_loop 1
    lb_algo wrr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 81 {{
        FILE_CHECK {{
            track_file tf
        }}
    }}
    real_server 127.0.0.1 82 {{
        weight 3
        FILE_CHECK {{
            track_file tf
            weight 2
        }}
    }}
}}
"#,
        f = file.display()
    ));
    let mut h = harness(&cfg);
    let start = h.ipvs.take();
    assert!(h.alive(0) && h.alive(1), "{start:?}");
    assert!(
        start
            .iter()
            .any(|c| c.contains("127.0.0.1:82") && c.contains("-w 3")),
        "{start:?}"
    );
    // 1: the weight-0 checker fails, the other adds 2.
    std::fs::write(&file, "1\n").unwrap();
    h.run_until(Duration::from_secs(3), "switch off", |h| !h.alive(0));
    assert!(h.alive(1));
    let cmds = h.ipvs.take();
    assert!(
        cmds.contains(&"-d -t 10.9.9.1:80 -r 127.0.0.1:81".to_string()),
        "{cmds:?}"
    );
    assert!(
        cmds.iter()
            .any(|c| c.starts_with("-e") && c.contains("127.0.0.1:82") && c.contains("-w 5")),
        "{cmds:?}"
    );
    // Hex, moved into place: 0x10 × 2 = 32 more.
    write_value(&file, "0x10");
    h.run_until(Duration::from_secs(3), "weight 35", |h| {
        h.vs.dump().contains("weight 35")
    });
    // Far below zero: a failure.
    write_value(&file, "-2147483648");
    h.run_until(Duration::from_secs(3), "weighted fault", |h| !h.alive(1));
    // Deleted: reads 0; both back, weight 3.
    std::fs::remove_file(&file).unwrap();
    h.run_until(Duration::from_secs(3), "both back", |h| {
        h.alive(0) && h.alive(1)
    });
    assert!(h.vs.dump().contains("weight 3,"), "{}", h.vs.dump());
    h.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Whether this process may open a ping socket already (its group is in the range).
fn ping_allowed() -> bool {
    socket2::Socket::new(
        socket2::Domain::IPV4,
        socket2::Type::DGRAM,
        Some(socket2::Protocol::ICMPV4),
    )
    .is_ok()
}

fn ping_config() -> Config {
    vs_config(
        "TCP",
        " real_server 127.0.0.1 80 {\n  PING_CHECK {\n   connect_timeout 1\n   retry 0\n   warmup 0\n   alpha\n  }\n }\n real_server 192.0.2.1 80 {\n  PING_CHECK {\n   connect_timeout 1\n   retry 0\n   warmup 0\n  }\n }\n",
    )
}

/// Pings 127.0.0.1 (answers) and 192.0.2.1 (no route in a bare namespace).
fn ping_round() {
    let mut h = harness(&ping_config());
    // alpha on the first: it is up only once a reply came.
    h.run_until(
        Duration::from_secs(4),
        "loopback answers, unroutable down",
        |h| h.alive(0) && !h.alive(1),
    );
    h.shutdown();
}

/// Without root the test can only ping where the range already allows it.
#[test]
fn ping_check_where_allowed() {
    if !ping_allowed() {
        eprintln!("skipped: ping sockets are not allowed here (see the ignored namespace test)");
        return;
    }
    let range = std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap();
    ping_round();
    assert_eq!(
        std::fs::read_to_string("/proc/sys/net/ipv4/ping_group_range").unwrap(),
        range
    );
}

/// In a network namespace of this thread's own (so `ping_group_range`, which the checker
/// widens and restores, is the namespace's): loopback up, default range `1 0`.
#[test]
#[ignore = "needs root: unshares a network namespace for this thread"]
fn ping_check_in_own_namespace_widens_and_restores_range() {
    nix::sched::unshare(nix::sched::CloneFlags::CLONE_NEWNET).unwrap();
    let st = std::process::Command::new("ip")
        .args(["link", "set", "lo", "up"])
        .status()
        .unwrap();
    assert!(st.success());
    let path = "/proc/sys/net/ipv4/ping_group_range";
    let before = std::fs::read_to_string(path).unwrap();
    assert_eq!(before.split_whitespace().next(), Some("1"), "{before}");
    ping_round();
    assert_eq!(std::fs::read_to_string(path).unwrap(), before);
}

#[test]
fn ipv6_udp_check_closed_port() {
    // ::1 may be missing in some sandboxes: then there is nothing to check.
    let Ok(probe) = UdpSocket::bind("[::1]:0") else {
        eprintln!("skipped: no ::1");
        return;
    };
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let addr: SocketAddr = format!("[::1]:{port}").parse().unwrap();
    let cfg = config(&format!(
        "virtual_server ::1 53 {{\n delay_loop 1\n lb_algo rr\n lb_kind NAT\n protocol UDP\n real_server {} {} {{\n  UDP_CHECK {{\n   connect_timeout 1\n   retry 0\n   warmup 0\n  }}\n }}\n}}\n",
        addr.ip(),
        addr.port()
    ));
    let mut h = harness(&cfg);
    h.run_until(Duration::from_secs(3), "closed v6 port down", |h| {
        !h.alive(0)
    });
}
