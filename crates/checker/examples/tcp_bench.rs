//! Benchmark: N TCP_CHECKs (default 10,000) with `delay_loop 1` against local listeners, run
//! by `VirtualServers` in one mio loop; prints the loop's CPU time per second of wall time.
//!
//! `cargo run --release -p keepalived-checker --example tcp_bench -- [N] [SECONDS]`
//!
//! Each check connects (`connect_ip`/`connect_port`) to one of 100 loopback listeners: connections complete
//! in the kernel and are accepted and dropped by a helper thread, whose CPU is not counted (the
//! figure is the checker's own thread, from /proc/thread-self/stat).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_checker::procs::Procs;
use keepalived_checker::vs::{VirtualServers, VsContext};
use keepalived_config::{load_str, AssumeAll, LoadOptions};
use std::fmt::Write as _;
use std::net::TcpListener;
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

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|a| a.parse().ok()).unwrap_or(10_000);
    let secs: u64 = args.get(2).and_then(|a| a.parse().ok()).unwrap_or(10);
    let listeners: Vec<TcpListener> = (0..100)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect();
    for l in listeners {
        l.set_nonblocking(false).unwrap();
        std::thread::spawn(move || {
            for s in l.incoming() {
                drop(s);
            }
        });
    }
    let per_vs = 100;
    let mut text = String::new();
    for v in 0..n.div_ceil(per_vs) {
        let _ = writeln!(
            text,
            "virtual_server 10.{}.{}.1 80 {{\n delay_loop 1\n protocol TCP",
            v / 256,
            v % 256
        );
        for r in 0..per_vs.min(n - v * per_vs) {
            let port = ports[(v * per_vs + r) % ports.len()];
            let _ = writeln!(
                text,
                " real_server 10.200.{}.{} 80 {{\n  TCP_CHECK {{\n   connect_ip 127.0.0.1\n   connect_port {port}\n   connect_timeout 1\n  }}\n }}",
                r / 250,
                1 + r % 250
            );
        }
        text.push_str("}\n");
    }
    let config = load_str("bench.conf", &text, &LoadOptions::default(), &AssumeAll).config;
    let mut poll = mio::Poll::new().unwrap();
    let mut procs = Procs::new();
    let mut reports = Vec::new();
    let mut vs = VirtualServers::with_sink(
        &config,
        Box::new(keepalived_check::ipvs::LoggingSink::new()),
    );
    let start = Instant::now();
    {
        let mut ctx = VsContext {
            registry: poll.registry(),
            procs: &mut procs,
            reports: &mut reports,
        };
        vs.start(&mut ctx, start);
    }
    let mut events = mio::Events::with_capacity(1024);
    // The first second is warm-up (checks spread over it); measure the rest.
    let warm = start + Duration::from_secs(2);
    let end = warm + Duration::from_secs(secs);
    let mut cpu0 = None;
    let mut events_seen = 0u64;
    loop {
        let now = Instant::now();
        if now >= end {
            break;
        }
        if cpu0.is_none() && now >= warm {
            cpu0 = Some(thread_times());
            events_seen = 0;
        }
        {
            let mut ctx = VsContext {
                registry: poll.registry(),
                procs: &mut procs,
                reports: &mut reports,
            };
            vs.fire_timers(&mut ctx, now);
        }
        let until = vs.next_deadline().unwrap_or(end).min(end);
        poll.poll(
            &mut events,
            Some(until.saturating_duration_since(Instant::now())),
        )
        .unwrap();
        let now = Instant::now();
        let mut ctx = VsContext {
            registry: poll.registry(),
            procs: &mut procs,
            reports: &mut reports,
        };
        for ev in events.iter() {
            events_seen += 1;
            vs.ready(
                &mut ctx,
                ev.token(),
                ev.is_readable(),
                ev.is_writable(),
                now,
            );
        }
    }
    let (u0, s0) = cpu0.unwrap_or_default();
    let (u1, s1) = thread_times();
    let (user, sys) = (u1 - u0, s1 - s0);
    let cpu = user + sys;
    let dump = vs.dump();
    let alive = dump.matches(": alive,").count();
    println!(
        "ours: {n} TCP_CHECKs, delay_loop 1 s, {secs} s measured: loop CPU {:.3} s = {:.1} % of one core (user {:.2} s, system {:.2} s); {events_seen} events; {alive}/{n} real servers alive; {} state reports",
        cpu.as_secs_f64(),
        100.0 * cpu.as_secs_f64() / secs as f64,
        user.as_secs_f64(),
        sys.as_secs_f64(),
        reports.len(),
    );
}
