//! Hostile scripts (issue 7, "Hostile and broken input"), ours: ~500 vrrp_scripts at interval 1
//! in one daemon, among them scripts that hang forever (timeout 1), fork children that outlive
//! them, print megabytes, plus notify scripts that hang or fork. Needs root, netns and
//! `KRS_DAEMON=1` (run by `make integration`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use keepalived_integration::{
    fd_count, ours_enabled, processes_in_ns, render, wait_until, Cluster, DaemonPids, Instance,
    Node, NodeKind,
};

const QUICK: usize = 470;
const EACH_HOSTILE: usize = 10;
const WANTED_RUNS: u64 = 10_000;

fn script(dir: &Path, name: &str, body: &str) {
    let path = dir.join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn cmdline(pid: i32) -> String {
    std::fs::read(format!("/proc/{pid}/cmdline"))
        .map(|b| {
            String::from_utf8_lossy(&b)
                .replace('\0', " ")
                .trim()
                .to_string()
        })
        .unwrap_or_default()
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

/// Open descriptors of each daemon process.
fn fds(node: &Node) -> BTreeMap<i32, usize> {
    DaemonPids::of(node)
        .all()
        .into_iter()
        .filter_map(|p| fd_count(p).map(|n| (p, n)))
        .collect()
}

/// Zombies in the namespace now.
fn zombies(node: &Node) -> BTreeSet<i32> {
    processes_in_ns(node.ns())
        .unwrap()
        .into_iter()
        .filter(|p| p.state == 'Z')
        .map(|p| p.pid)
        .collect()
}

// keepalived runs notify scripts without a timeout (`notify_exec` passes no callback: a hung
// notify script keeps running, later notifies start new processes) and kills a tracked
// script's process group at its timeout; orphans of scripts are reaped by the parent (child
// subreaper). The test expects the same: hung notify scripts still alive at the end (not
// zombies), no `sleep 1001` of a timed-out script outliving its group for long, no zombie
// lasting, the descriptor count of every daemon process flat.
#[test]
#[ignore = "needs root, netns and our daemon: run by make integration (KRS_DAEMON=1)"]
fn ten_thousand_hostile_script_runs_leak_nothing() {
    if !ours_enabled() {
        println!(
            "SKIPPED: daemon not built: hostile_scripts (need KRS_DAEMON=1 and KEEPALIVED_RS_BIN)"
        );
        return;
    }
    let t_test = Instant::now();
    let mut c = Cluster::new("hs", &[NodeKind::Ours]).unwrap();
    let dir = c.nodes[0].dir().to_path_buf();
    let runs = dir.join("runs");
    let nruns = dir.join("nruns");
    let r = runs.display();
    let nr = nruns.display();
    script(&dir, "quick.sh", &format!("printf q >> {r}\nexit 0"));
    // Hangs, with a child in its group: the timeout must kill both.
    script(
        &dir,
        "hang.sh",
        &format!("printf h >> {r}\nsleep 1001 &\nexec sleep 1001"),
    );
    // Leaves an orphan that lives 3 s more: the subreaper must reap it.
    script(
        &dir,
        "fork.sh",
        &format!("printf f >> {r}\n(sleep 3 &)\nexit 0"),
    );
    // 4 MB on stdout.
    script(
        &dir,
        "big.sh",
        &format!("printf b >> {r}\nhead -c 4000000 /dev/zero\nexit 0"),
    );
    // Fails 5 s, succeeds 5 s: weight 0, so the instance goes FAULT and MASTER and back.
    script(
        &dir,
        "flap.sh",
        &format!("printf l >> {r}\n[ $(( $(date +%s) / 5 % 2 )) -eq 0 ]"),
    );
    script(
        &dir,
        "nhang.sh",
        &format!("printf N >> {nr}\nexec sleep 1002"),
    );
    script(
        &dir,
        "nfork.sh",
        &format!("printf F >> {nr}\n(sleep 1003 &)\nexit 0"),
    );

    let mut conf = String::from(
        "global_defs {\n    router_id @NAME@\n    enable_script_security\n    script_user root\n}\n",
    );
    let mut names = Vec::new();
    let mut add = |conf: &mut String, name: String, file: &str, extra: &str| {
        let _ = writeln!(
            conf,
            "vrrp_script {name} {{\n    script \"@DIR@/{file}\"\n    interval 1\n{extra}}}"
        );
        names.push(name);
    };
    for i in 0..QUICK {
        add(&mut conf, format!("q{i}"), "quick.sh", "    weight 1\n");
    }
    for i in 0..EACH_HOSTILE {
        add(
            &mut conf,
            format!("h{i}"),
            "hang.sh",
            "    timeout 1\n    weight 1\n",
        );
        add(&mut conf, format!("f{i}"), "fork.sh", "    weight 1\n");
        add(&mut conf, format!("b{i}"), "big.sh", "    weight 1\n");
    }
    add(
        &mut conf,
        "flap".into(),
        "flap.sh",
        "    timeout 3\n    weight 0\n    rise 1\n    fall 1\n",
    );
    let mut inst = Instance::new("VI_1", 51, 100, &["192.0.2.100/32"]);
    inst.state = "MASTER".into();
    let mut text = render(&[inst], &[], &[]);
    text = text.replacen("global_defs {\n    router_id @NAME@\n}\n", &conf, 1);
    let mut track = String::from("vrrp_instance VI_1 {\n    track_script {\n");
    for n in &names {
        let _ = writeln!(track, "        {n}");
    }
    track.push_str("    }\n    notify_master @DIR@/nhang.sh\n    notify @DIR@/nfork.sh\n");
    text = text.replacen("vrrp_instance VI_1 {\n", &track, 1);
    c.nodes[0].write_config(&text).unwrap();
    c.start_all().unwrap();
    let n1 = &c.nodes[0];
    wait_until("the checker", Duration::from_secs(10), || {
        DaemonPids::of(n1).checker.is_some() && size(&runs) > 0
    })
    .unwrap_or_else(|e| panic!("{e}\n{}", n1.log()));
    let started = Instant::now();
    // Warm-up: every script has run once or twice; then the early samples.
    std::thread::sleep(Duration::from_secs(3));
    let pids = DaemonPids::of(n1);
    let mut early: BTreeMap<i32, usize> = BTreeMap::new();
    for _ in 0..5 {
        for (p, n) in fds(n1) {
            let e = early.entry(p).or_default();
            *e = (*e).max(n);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let mut hang_max = 0;
    let mut zombie_seen = 0usize;
    let limit = Duration::from_secs(60);
    while size(&runs) < WANTED_RUNS && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(500));
        let procs = processes_in_ns(n1.ns()).unwrap();
        let hang = procs
            .iter()
            .filter(|p| cmdline(p.pid) == "sleep 1001")
            .count();
        hang_max = hang_max.max(hang);
        zombie_seen = zombie_seen.max(procs.iter().filter(|p| p.state == 'Z').count());
    }
    let ran_for = started.elapsed();
    let total = size(&runs);
    let mut late: BTreeMap<i32, usize> = BTreeMap::new();
    for _ in 0..5 {
        for (p, n) in fds(n1) {
            let l = late.entry(p).or_insert(usize::MAX);
            *l = (*l).min(n);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    let text = std::fs::read_to_string(&runs).unwrap_or_default();
    let count = |ch: char| text.chars().filter(|c| *c == ch).count();
    let ntext = std::fs::read_to_string(&nruns).unwrap_or_default();
    let ncount = |ch: char| ntext.chars().filter(|c| *c == ch).count();
    // A zombie is fine for a moment (exit and reap race); one that stays is a leak.
    let z1 = zombies(n1);
    std::thread::sleep(Duration::from_millis(1500));
    let z2 = zombies(n1);
    let lasting: Vec<i32> = z1.intersection(&z2).copied().collect();
    let procs = processes_in_ns(n1.ns()).unwrap();
    let alive_with = |needle: &str| {
        procs
            .iter()
            .filter(|p| p.state != 'Z' && cmdline(p.pid) == needle)
            .count()
    };
    let (nhang_alive, nfork_alive) = (alive_with("sleep 1002"), alive_with("sleep 1003"));
    let masters = n1.log().matches("Entering MASTER STATE").count();
    let faults = n1.log().matches("Entering FAULT STATE").count();
    println!(
        "{total} script runs in {:.1} s (quick {}, hang {}, fork {}, big {}, flap {}); \
         notify runs: hang {} (still alive {nhang_alive}), fork {} (orphans alive {nfork_alive}); \
         transitions: {masters} MASTER, {faults} FAULT; timed-out groups' sleeps alive at \
         most {hang_max}; zombies seen at most {zombie_seen}, lasting {lasting:?}; fds early \
         {early:?} late {late:?}",
        ran_for.as_secs_f64(),
        count('q'),
        count('h'),
        count('f'),
        count('b'),
        count('l'),
        ncount('N'),
        ncount('F'),
    );
    // 10,000 runs take ~20 s on a quiet 2-core machine; under heavy load (load average 20+
    // from parallel builds) the same 60 s gave 6,800. The leak checks below are meaningful
    // with thousands of runs; a short run is reported, and fails only below half the target.
    if total < WANTED_RUNS {
        println!("SHORT: only {total} of {WANTED_RUNS} script runs in {ran_for:?} (machine load?)");
    }
    assert!(total >= WANTED_RUNS / 2, "only {total} runs in {ran_for:?}");
    assert!(lasting.is_empty(), "zombies stay: {lasting:?}");
    assert_eq!(DaemonPids::of(n1), pids, "a daemon process was replaced");
    // A leak over 10,000 runs is thousands of fds; a socket opened once on a state change
    // (the flap script moves the instance through FAULT) is one or two. Allow that much.
    for (p, e) in &early {
        let l = late.get(p).copied().unwrap_or(usize::MAX);
        assert!(l <= *e + 2, "fd count of {p} grew: {e} -> {l}");
    }
    // Each of the 10 hang scripts holds at most two sleeps at a time (one run at once);
    // killed groups are gone, so the count never builds up across runs.
    assert!(
        hang_max <= 2 * EACH_HOSTILE + 4,
        "timed-out groups survive: {hang_max}"
    );
    assert!(
        count('h') >= 3 * EACH_HOSTILE,
        "hang scripts ran {} times",
        count('h')
    );
    // keepalived: no timeout for notify scripts; the hung ones are still running.
    assert!(
        ncount('N') >= 1 && nhang_alive >= 1,
        "no hung notify script alive"
    );
    assert!(c.nodes[0].is_running());
    println!(
        "hostile scripts test took {:.1} s",
        t_test.elapsed().as_secs_f64()
    );
}
