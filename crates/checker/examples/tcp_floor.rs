//! The kernel's floor for the TCP_CHECK benchmark: the same N non-blocking connects per second
//! to the same 100 loopback listeners as `tcp_bench`, with nothing but epoll around them (no
//! checker state, no timers beyond the pacing, no IPVS, no logging), to show how much of
//! `tcp_bench`'s figure is the kernel's minimum for N real TCP handshakes a second.
//!
//! `cargo run --release -p keepalived-checker --example tcp_floor -- [N] [SECONDS] [fin]`
//!
//! Per connection: `socket(SOCK_NONBLOCK|SOCK_CLOEXEC)`, `setsockopt(SO_LINGER 0)` (closes with
//! RST like keepalived's checker; pass `fin` to close with FIN instead), `connect`, one
//! `epoll_ctl(ADD, edge-triggered)`, the writable event, `close` (which leaves the epoll set by
//! itself). The accepting threads' CPU is not counted: the figure is the loop thread's own.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use mio::net::TcpStream;
use mio::{Events, Interest, Poll, Token};
use socket2::{Domain, Protocol, Socket, Type};
use std::net::{SocketAddr, TcpListener};
use std::time::{Duration, Instant};

/// (user, system) CPU time of this thread.
fn thread_times() -> (Duration, Duration) {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    let after = stat.rsplit(')').next().unwrap();
    let f: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 (1-based); after ")" they are at 11 and 12.
    let hz = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK)
        .ok()
        .flatten()
        .unwrap_or(100) as u64;
    let t = |i: usize| Duration::from_millis(f[i].parse::<u64>().unwrap() * 1000 / hz);
    (t(11), t(12))
}

fn open(dst: SocketAddr, rst: bool) -> std::io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(dst),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    if rst {
        socket.set_linger(Some(Duration::ZERO))?;
    }
    match socket.connect(&dst.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(nix::libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    Ok(TcpStream::from_std(std::net::TcpStream::from(socket)))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let rst = args.get(3).map(String::as_str) != Some("fin");
    let listeners: Vec<TcpListener> = (0..100)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let dsts: Vec<SocketAddr> = listeners.iter().map(|l| l.local_addr().unwrap()).collect();
    for l in listeners {
        std::thread::spawn(move || {
            for s in l.incoming() {
                drop(s);
            }
        });
    }
    let mut poll = Poll::new().unwrap();
    let mut events = Events::with_capacity(1024);
    // One slot per check, as the checker has: a check whose previous connection is still open
    // when its next turn comes is skipped (never happens against local listeners).
    let mut slots: Vec<Option<TcpStream>> = (0..n).map(|_| None).collect();
    let start = Instant::now();
    let warm = start + Duration::from_secs(2);
    let end = warm + Duration::from_secs(secs);
    let mut started = 0u64;
    let (mut cpu0, mut done0, mut failed0) = (None, 0u64, 0u64);
    let (mut done, mut failed) = (0u64, 0u64);
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if cpu0.is_none() && now >= warm {
            cpu0 = Some(thread_times());
            done0 = done;
            failed0 = failed;
        }
        // Paced like delay_loop 1 s spread over the second: connect i is due at i/n s.
        let due = (now - start).as_nanos() as u64 * n as u64 / 1_000_000_000;
        while started < due {
            let i = (started % n as u64) as usize;
            started += 1;
            if slots[i].is_some() {
                continue;
            }
            match open(dsts[i % dsts.len()], rst) {
                Ok(mut s) => {
                    poll.registry()
                        .register(&mut s, Token(i), Interest::WRITABLE)
                        .unwrap();
                    slots[i] = Some(s);
                }
                Err(_) => failed += 1,
            }
        }
        let next_due = start + Duration::from_nanos((started + 1) * 1_000_000_000 / n as u64);
        poll.poll(
            &mut events,
            Some(next_due.min(end).saturating_duration_since(Instant::now())),
        )
        .unwrap();
        for ev in events.iter() {
            let Some(slot) = slots.get_mut(ev.token().0) else {
                continue;
            };
            if slot.is_none() {
                continue;
            }
            if ev.is_error() || ev.is_write_closed() {
                failed += 1;
            } else if ev.is_writable() {
                done += 1;
            } else {
                continue;
            }
            // Dropping closes the fd, which also takes it out of the epoll set.
            *slot = None;
        }
    }
    let (u0, s0) = cpu0.unwrap_or_default();
    let (u1, s1) = thread_times();
    let (user, sys) = (u1 - u0, s1 - s0);
    let cpu = user + sys;
    println!(
        "floor: {n} connects/s ({}), {secs} s measured: loop CPU {:.3} s = {:.1} % of one core (user {:.2} s, system {:.2} s); {} connected, {} failed",
        if rst { "RST close" } else { "FIN close" },
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / secs as f64,
        user.as_secs_f64(),
        sys.as_secs_f64(),
        done - done0,
        failed - failed0,
    );
}
