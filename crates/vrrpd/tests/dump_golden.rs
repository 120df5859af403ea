//! The dump files against keepalived 2.2.7's own, for the lab configuration
//! `tests/data/dump-config.conf` (both instances MASTER). The expected files in `tests/data/`
//! are keepalived's output copied from `/work/shared/samples/` (see `tests/data/README.md`).
//! Times, socket descriptors and counters are masked; every other line must be identical:
//! section headers, key names, order, indentation and values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::model::ScriptUser;
use keepalived_config::{load_str, AssumeAll, LoadOptions};
use keepalived_sys::netlink::{Addr, Link};
use keepalived_vrrp::instance::{Input, State};
use keepalived_vrrp::sync_group::{Router, Target};
use keepalived_vrrpd::dump::{self, Clock, DumpInput, OsFacts};
use keepalived_vrrpd::params::{self, InterfaceInfo, Plan, PlanOptions};
use std::net::Ipv4Addr;
use std::time::{Duration, UNIX_EPOCH};

const CONFIG: &str = include_str!("data/dump-config.conf");
const KEEPALIVED_DATA: &str = include_str!("data/keepalived-2.2.7.data");
const KEEPALIVED_JSON: &str = include_str!("data/keepalived-2.2.7.json");
const KEEPALIVED_STATS: &str = include_str!("data/keepalived-2.2.7.stats");

const ETH0_MAC: [u8; 6] = [0x02, 0x00, 0x0a, 0xd5, 0x00, 0x0b];

fn lookup(name: &str) -> Option<InterfaceInfo> {
    (name == "eth0").then(|| InterfaceInfo {
        index: 2,
        primary_v4: Some(Ipv4Addr::new(10, 213, 0, 11)),
        link_local_v6: Some("fe80::aff:fed5:b".parse().unwrap()),
        mac: Some(ETH0_MAC),
        up: true,
    })
}

struct Lab {
    config: keepalived_config::Config,
    plan: Plan,
    router: Router,
    now: Duration,
}

/// The lab node: both instances started and run until MASTER (no peer answers).
fn lab() -> Lab {
    let loaded = load_str(
        "dump-config.conf",
        CONFIG,
        &LoadOptions::default(),
        &AssumeAll,
    );
    let plan = params::plan(&loaded.config, &lookup, PlanOptions::default());
    let mut router = Router::new(plan.instances.clone(), plan.groups.clone()).unwrap();
    let mut now = Duration::from_secs(1);
    for i in 0..router.instances().len() {
        router.handle(now, Target::Instance(i), Input::Start);
    }
    for _ in 0..100 {
        if router
            .instances()
            .iter()
            .all(|i| i.state() == State::Master)
        {
            break;
        }
        let (i, d) = router.next_timer().unwrap();
        now = now.max(d.at);
        router.handle(now, Target::Instance(i), Input::Timer(d.id));
    }
    assert!(router
        .instances()
        .iter()
        .all(|i| i.state() == State::Master));
    Lab {
        config: loaded.config,
        plan,
        router,
        now,
    }
}

fn addr(ifindex: u32, a: &str, prefix_len: u8) -> Addr {
    Addr {
        ifindex,
        addr: a.parse().unwrap(),
        prefix_len,
        label: None,
        scope: 0,
        flags: 0,
    }
}

/// The lab's system as keepalived saw it: lo and eth0, the VIPs installed.
fn os(plan: &Plan) -> OsFacts {
    let mut socket_fds = Vec::new();
    for s in &plan.shells {
        if !socket_fds.iter().any(|(k, _)| k == &s.socket) {
            socket_fds.push((s.socket, 13 + 2 * socket_fds.len() as i32));
        }
    }
    OsFacts {
        hostname: "n1".into(),
        user_name: "root".into(),
        umask: 0o177,
        default_script_ids: Some((0, 0)),
        users: vec![(
            ScriptUser {
                user: "root".into(),
                group: None,
            },
            (0, 0),
        )],
        links: vec![
            Link {
                index: 1,
                name: "lo".into(),
                up: true,
                running: true,
                mac: None,
                mtu: 65536,
            },
            Link {
                index: 2,
                name: "eth0".into(),
                up: true,
                running: true,
                mac: Some(ETH0_MAC),
                mtu: 1500,
            },
        ],
        addrs: vec![
            addr(1, "127.0.0.1", 8),
            addr(1, "::1", 128),
            addr(2, "10.213.0.11", 24),
            addr(2, "10.213.0.100", 24),
            addr(2, "fe80::aff:fed5:b", 64),
        ],
        socket_fds,
    }
}

fn clock(now: Duration) -> Clock {
    Clock {
        now,
        wall_now: UNIX_EPOCH + Duration::from_secs(1_795_369_830) + now,
    }
}

/// Lines whose values are times, descriptors or counters: digits replaced by `#`.
fn mask(line: &str) -> String {
    const VOLATILE: [&str; 4] = ["Last transition = ", "Read timeout = ", "fd_in ", "fd_out"];
    if VOLATILE.iter().any(|v| line.contains(v)) {
        line.chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect::<String>()
            // Masked runs of different lengths (descriptors 13 vs 9) compare equal.
            .split('#')
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("#")
    } else {
        line.to_string()
    }
}

fn data_text(lab: &Lab) -> String {
    let os = os(&lab.plan);
    dump::data(&DumpInput {
        config: &lab.config,
        plan: &lab.plan,
        router: &lab.router,
        clock: clock(lab.now),
        os: &os,
    })
}

#[test]
fn data_matches_keepalived_line_by_line() {
    let lab = lab();
    let ours = data_text(&lab);
    if std::env::var_os("DUMP_PRINT").is_some() {
        eprintln!("{ours}\n{}", json_text(&lab));
    }
    let ours: Vec<String> = ours.lines().map(mask).collect();
    let theirs: Vec<String> = KEEPALIVED_DATA.lines().map(mask).collect();
    for (i, (a, b)) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(a, b, "line {}: ours {a:?}, keepalived {b:?}", i + 1);
    }
    assert_eq!(ours.len(), theirs.len(), "{}", ours.join("\n"));
}

#[test]
fn data_has_every_section_in_order() {
    let lab = lab();
    let ours = data_text(&lab);
    let headers = |t: &str| -> Vec<String> {
        t.lines()
            .filter(|l| l.starts_with("------<"))
            .map(str::to_string)
            .collect()
    };
    assert_eq!(headers(&ours), headers(KEEPALIVED_DATA));
    assert!(ours.ends_with('\n'));
}

#[test]
fn times_are_the_wall_clock_of_the_transition() {
    let lab = lab();
    let ours = data_text(&lab);
    let last = ours
        .lines()
        .find(|l| l.starts_with("   Last transition = "))
        .unwrap();
    let t = lab.router.instances()[0].last_transition();
    let wall = clock(lab.now).wall(t);
    let secs = wall.duration_since(UNIX_EPOCH).unwrap().as_secs();
    assert!(last.contains(&format!("= {secs}.")), "{last}");
    assert!(last.ends_with(" 2026)"), "{last}");
}

fn json_text(lab: &Lab) -> String {
    let os = os(&lab.plan);
    dump::json(&DumpInput {
        config: &lab.config,
        plan: &lab.plan,
        router: &lab.router,
        clock: clock(lab.now),
        os: &os,
    })
}

/// Every key path with the JSON type of its value, in document order.
fn shape(v: &serde_json::Value, path: &str, out: &mut Vec<String>) {
    use serde_json::Value;
    let kind = match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    };
    out.push(format!("{path}: {kind}"));
    match v {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                shape(item, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                shape(item, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}

#[test]
fn json_has_keepalived_keys_nesting_and_types() {
    let lab = lab();
    let ours: serde_json::Value = serde_json::from_str(&json_text(&lab)).unwrap();
    let theirs: serde_json::Value = serde_json::from_str(KEEPALIVED_JSON).unwrap();
    let (mut a, mut b) = (Vec::new(), Vec::new());
    shape(&ours, "", &mut a);
    shape(&theirs, "", &mut b);
    assert_eq!(a, b);
}

/// The text itself: key order, `\/` escapes, `%g` and `%f` numbers. Only the transition
/// times and the counters differ.
#[test]
fn json_text_matches_keepalived_but_times_and_counters() {
    let lab = lab();
    let ours = json_text(&lab);
    let normalise = |t: &str| -> String {
        let mut out = String::new();
        let mut rest = t.trim_end();
        while let Some(pos) = rest.find("\"last_transition\":") {
            let (head, tail) = rest.split_at(pos + "\"last_transition\":".len());
            out.push_str(head);
            out.push('T');
            rest = tail.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
        }
        out.push_str(rest);
        match out.find("\"stats\"") {
            // Counters: keep the keys only.
            Some(_) => out
                .split(",\"stats\":")
                .enumerate()
                .map(|(i, part)| {
                    if i == 0 {
                        part.to_string()
                    } else {
                        part.chars()
                            .map(|c| if c.is_ascii_digit() { '#' } else { c })
                            .collect()
                    }
                })
                .collect::<Vec<_>>()
                .join(",\"stats\":"),
            None => out,
        }
    };
    let ours = normalise(&ours);
    // Masked counters may differ in width.
    let squeeze = |s: String| s.replace("##", "#").replace("##", "#");
    assert_eq!(squeeze(ours), squeeze(normalise(KEEPALIVED_JSON)));
}

#[test]
fn stats_layout_matches_keepalived() {
    let lab = lab();
    let ours = dump::stats(&lab.router);
    let digits = |t: &str| -> String {
        t.chars()
            .map(|c| if c.is_ascii_digit() { '#' } else { c })
            .collect::<String>()
            .replace("##", "#")
    };
    assert_eq!(digits(&ours), digits(KEEPALIVED_STATS));
    assert!(ours.contains("  Became master: 1\n"), "{ours}");
}

#[test]
fn stats_clear_writes_then_zeroes() {
    let mut lab = lab();
    let before = dump::stats(&lab.router);
    assert!(before.contains("Became master: 1"));
    assert!(lab
        .router
        .instances()
        .iter()
        .all(|i| i.stats().advert_sent > 0));
    dump::clear_stats(&mut lab.router);
    let after = dump::stats(&lab.router);
    for line in after.lines().filter(|l| l.contains(": ")) {
        let value = line.rsplit(": ").next().unwrap();
        assert!(value == "0" || line.starts_with("VRRP Instance:"), "{line}");
    }
    // Counting resumes from zero: the next advert counts one.
    let (i, d) = lab.router.next_timer().unwrap();
    let now = lab.now.max(d.at);
    lab.router
        .handle(now, Target::Instance(i), Input::Timer(d.id));
    let sent: u64 = lab
        .router
        .instances()
        .iter()
        .map(|x| x.stats().advert_sent)
        .sum();
    assert!(sent <= 1, "{sent}");
}

#[test]
fn no_instances_no_topology() {
    let loaded = load_str(
        "t.conf",
        "global_defs {\n router_id x\n}\n",
        &LoadOptions::default(),
        &AssumeAll,
    );
    let plan = params::plan(&loaded.config, &lookup, PlanOptions::default());
    let router = Router::new(Vec::new(), Vec::new()).unwrap();
    let os = OsFacts::default();
    let input = DumpInput {
        config: &loaded.config,
        plan: &plan,
        router: &router,
        clock: clock(Duration::ZERO),
        os: &os,
    };
    let text = dump::data(&input);
    assert!(text.starts_with("------< Global definitions >------\n"));
    assert!(text.contains(" Router ID = x\n"));
    assert!(!text.contains("VRRP Topology"));
    assert_eq!(dump::json(&input), "[]");
}
