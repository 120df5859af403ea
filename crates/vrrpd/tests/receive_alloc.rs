//! The steady state of 1,000 instances allocates nothing: a BACKUP hearing its master's adverts
//! (validation, dispatch, the state machine, the deadline queue) and a MASTER's advert timers
//! (the state machine and the deadline queue), counted by a global allocator after a warm-up.
//! The event loop's part (socket reads, the executor encoding and queueing adverts) is the
//! shell's and is measured in the lab (integration/bench/floor/receive-floor.sh).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// A counting global allocator cannot be written without `unsafe`: it only forwards to the system
// allocator, in this test binary alone.
#![allow(unsafe_code)]

use keepalived_config::{load_str, AssumeAll, LoadOptions};
use keepalived_vrrp::codec::{encode_ipv4_advert, Ipv4Send, RxPacket, V4Checksum};
use keepalived_vrrp::instance::{Action, Input, State};
use keepalived_vrrp::sync_group::{Routed, Router, Target};
use keepalived_vrrp::timer::Time;
use keepalived_vrrp::timer_queue::DeadlineQueue;
use keepalived_vrrp::{Advert, Auth, Version};
use keepalived_vrrpd::net::reject_log::RejectLog;
use keepalived_vrrpd::net::{dispatch, index};
use keepalived_vrrpd::params::{plan, InterfaceInfo, Plan, PlanOptions};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Counts the allocations of the thread that switched counting on (tests run in parallel).
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

fn note() {
    // `try_with`: the thread-locals may be gone while a thread shuts down.
    if COUNTING.try_with(Cell::get).unwrap_or(false) {
        let _ = ALLOCS.try_with(|a| a.set(a.get() + 1));
    }
}

// SAFETY: forwards every call to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: the caller's contract is passed on unchanged.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note();
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations(f: impl FnOnce()) -> u64 {
    ALLOCS.with(|a| a.set(0));
    COUNTING.with(|c| c.set(true));
    f();
    COUNTING.with(|c| c.set(false));
    ALLOCS.with(Cell::get)
}

const N: usize = 1000;
const PER_IF: usize = 250;

/// scale.sh's configuration: instance i on eth(i / 250), VRID i % 250 + 1.
fn lab_plan(state: &str, priority: u8) -> Plan {
    let mut text = String::from("global_defs { router_id bench }\n");
    for i in 0..N {
        let (link, vrid) = (i / PER_IF, i % PER_IF + 1);
        text.push_str(&format!(
            "vrrp_instance I{i} {{\n state {state}\n interface eth{link}\n virtual_router_id {vrid}\n priority {priority}\n advert_int 1\n virtual_ipaddress {{\n  10.{}.{vrid}.1/32\n }}\n}}\n",
            100 + link
        ));
    }
    let loaded = load_str("bench.conf", &text, &LoadOptions::default(), &AssumeAll);
    let lookup = |name: &str| {
        let link: u8 = name.strip_prefix("eth")?.parse().ok()?;
        Some(InterfaceInfo {
            index: 2 + u32::from(link),
            primary_v4: Some(Ipv4Addr::new(172, 16, link, 12)),
            up: true,
            ..InterfaceInfo::default()
        })
    };
    plan(&loaded.config, &lookup, PlanOptions::default())
}

/// The master's adverts as they arrive: whole IPv4 packets, in instance order.
fn master_adverts() -> Vec<Vec<u8>> {
    (0..N)
        .map(|i| {
            let (link, vrid) = (i / PER_IF, i % PER_IF + 1);
            let advert = Advert {
                version: Version::V2,
                vrid: u8::try_from(vrid).unwrap(),
                priority: 150,
                interval: Duration::from_secs(1),
                addrs: vec![IpAddr::V4(Ipv4Addr::new(
                    10,
                    100 + u8::try_from(link).unwrap(),
                    u8::try_from(vrid).unwrap(),
                    1,
                ))],
                auth: Auth::None,
            };
            let send = Ipv4Send {
                src: Ipv4Addr::new(172, 16, u8::try_from(link).unwrap(), 11),
                dst: Ipv4Addr::new(224, 0, 0, 18),
                ttl: 255,
                id: 1,
            };
            let mut packet = Vec::new();
            encode_ipv4_advert(&advert, &send, V4Checksum::Standard, &mut packet).unwrap();
            packet
        })
        .collect()
}

#[test]
fn the_counter_counts() {
    let n = allocations(|| {
        std::hint::black_box(Vec::<u8>::with_capacity(8));
    });
    assert_eq!(n, 1);
}

#[test]
fn a_backup_hearing_1000_adverts_a_second_allocates_nothing() {
    let mut p = lab_plan("BACKUP", 100);
    let mut router = Router::new(p.instances.clone(), p.groups.clone()).unwrap();
    let mut queue = DeadlineQueue::new();
    let _ = router.handle(Duration::ZERO, Target::All, Input::Start);
    for i in 0..N {
        queue.set(i, router.instances()[i].next_deadline());
    }
    let idx = index(&p);
    let packets = master_adverts();
    let mut rejects = RejectLog::default();
    let mut out = Vec::new();
    let mut touched = Vec::new();
    let mut second = |p: &mut Plan,
                      router: &mut Router,
                      queue: &mut DeadlineQueue,
                      out: &mut Vec<_>,
                      touched: &mut Vec<usize>,
                      start: Time| {
        for (i, packet) in packets.iter().enumerate() {
            let now = start + Duration::from_micros(900 * i as u64);
            let key = p.shells[i].socket;
            dispatch(
                RxPacket::Ipv4(packet),
                now,
                p,
                router,
                &idx[&key],
                &mut rejects,
                out,
            );
            touched.extend_from_slice(router.touched());
            for &t in touched.iter() {
                queue.set(t, router.instances()[t].next_deadline());
            }
            touched.clear();
            assert!(out.is_empty(), "a backup hearing its master does nothing");
            // The loop asks for its next wake-up after each batch, up to its tick.
            if i % 8 == 7 {
                assert_eq!(queue.first_by(now + Duration::from_secs(1)), None);
            }
        }
    };
    // Warm-up: buffers reach their steady size.
    for s in 0..3u64 {
        second(
            &mut p,
            &mut router,
            &mut queue,
            &mut out,
            &mut touched,
            Duration::from_secs(s),
        );
    }
    let counted = allocations(|| {
        for s in 3..8u64 {
            second(
                &mut p,
                &mut router,
                &mut queue,
                &mut out,
                &mut touched,
                Duration::from_secs(s),
            );
        }
    });
    assert_eq!(counted, 0, "allocations for 5,000 adverts received");
    assert!(router
        .instances()
        .iter()
        .all(|i| i.state() == State::Backup));
    assert!(router
        .instances()
        .iter()
        .all(|i| i.stats().advert_rcvd == 8));
}

#[test]
fn a_master_sending_1000_adverts_a_second_allocates_nothing() {
    let p = lab_plan("MASTER", 150);
    let mut router = Router::new(p.instances.clone(), p.groups.clone()).unwrap();
    let mut queue = DeadlineQueue::new();
    let mut out = Vec::new();
    let sent = Cell::new(0u64);
    router.handle_into(Duration::ZERO, Target::All, Input::Start, &mut out);
    out.clear();
    for i in 0..N {
        queue.set(i, router.instances()[i].next_deadline());
    }
    // The loop's timer pass: every instance due by `now` fires, in deadline order.
    let run = |router: &mut Router, queue: &mut DeadlineQueue, out: &mut Vec<_>, until: Time| {
        while let Some((at, i)) = queue.first_by(until) {
            let id = router.instances()[i].next_timer().unwrap().id;
            router.handle_into(at, Target::Instance(i), Input::Timer(id), out);
            for &t in router.touched() {
                queue.set(t, router.instances()[t].next_deadline());
            }
            let adverts = out
                .iter()
                .filter(|r: &&Routed| matches!(r.action, Action::SendAdvert(_)))
                .count();
            sent.set(sent.get() + adverts as u64);
            out.clear();
        }
    };
    // Warm-up: the instances become MASTER (addresses, GARPs, notifies), send a few adverts and
    // their second GARP burst (garp_master_delay, 5 s).
    for ms in (0..8_000).step_by(10) {
        run(&mut router, &mut queue, &mut out, Duration::from_millis(ms));
    }
    assert!(router
        .instances()
        .iter()
        .all(|i| i.state() == State::Master));
    let before = sent.get();
    let counted = allocations(|| {
        for ms in (8_000..13_000).step_by(10) {
            run(&mut router, &mut queue, &mut out, Duration::from_millis(ms));
        }
    });
    let sent = sent.get() - before;
    assert_eq!(counted, 0, "allocations for {sent} adverts sent");
    assert!(sent >= 4 * N as u64, "{sent} adverts sent");
}
