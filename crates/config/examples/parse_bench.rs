//! Benchmark (not a test): parse + validate a generated config with 10,000 vrrp_instances and
//! 1,000 virtual_servers.
//!
//! `cargo run --release -p keepalived-config --example parse_bench [-- --write FILE]
//! [--instances N] [--runs N]` prints the best and median of several runs (7 by default); with
//! `--write FILE` it also writes the generated config, so `integration/bench/config-parse.sh`
//! can time `keepalived -t` on the same file. `--instances N` generates N vrrp_instances and
//! N/10 virtual_servers (default 10,000); `--runs 1` suits callgrind.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keepalived_config::host::AssumeAll;
use keepalived_config::{load_str, LoadOptions, Severity};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Interfaces the instances are spread over: VRIDs are unique per interface and family.
const INTERFACES: usize = 40;

fn generate(instances: usize, virtual_servers: usize) -> String {
    let mut c = String::with_capacity(instances * 400 + virtual_servers * 400);
    c.push_str("global_defs {\n    router_id bench\n    enable_script_security\n    script_user root\n}\n\n");
    c.push_str(
        "vrrp_script chk {\n    script \"/bin/true\"\n    interval 1\n    weight -10\n}\n\n",
    );
    for i in 0..instances {
        let vrid = i % 250 + 1;
        let ifn = (i / 250) % INTERFACES;
        let (a, b) = (i / 250, i % 250);
        writeln!(
            c,
            "vrrp_instance VI_{i} {{\n    state BACKUP\n    interface bench{ifn}\n    \
             virtual_router_id {vrid}\n    priority {}\n    advert_int 1\n    \
             virtual_ipaddress {{\n        10.{a}.{b}.1/32\n        10.{a}.{b}.2/32\n    }}\n    \
             track_script {{\n        chk\n    }}\n}}",
            100 + i % 50
        )
        .unwrap();
    }
    for v in 0..virtual_servers {
        let (a, b) = (v / 250, v % 250);
        writeln!(
            c,
            "virtual_server 172.16.{a}.{b} 80 {{\n    delay_loop 6\n    lb_algo rr\n    lb_kind DR\n    \
             protocol TCP\n    real_server 172.17.{a}.{b} 80 {{\n        weight 1\n        \
             TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n    \
             real_server 172.18.{a}.{b} 80 {{\n        weight 1\n        HTTP_GET {{\n            \
             url {{\n                path /health\n                status_code 200\n            }}\n            \
             connect_timeout 3\n        }}\n    }}\n}}"
        )
        .unwrap();
    }
    c
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .map(|pos| args.get(pos + 1).expect("a value after the option"))
    };
    let number =
        |name: &str, default: usize| arg(name).map_or(default, |v| v.parse().expect("a number"));
    let instances = number("--instances", 10_000);
    let runs = number("--runs", 7).max(1);
    let virtual_servers = instances / 10;
    let text = generate(instances, virtual_servers);
    if let Some(path) = arg("--write") {
        std::fs::write(path, &text).expect("write config");
    }
    let opts = LoadOptions::default();
    let mut times: Vec<Duration> = Vec::new();
    let mut errors = 0;
    for _ in 0..runs {
        let t = Instant::now();
        let loaded = load_str("bench.conf", &text, &opts, &AssumeAll);
        times.push(t.elapsed());
        errors = loaded
            .diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        std::hint::black_box(loaded);
    }
    times.sort();
    println!(
        "parse+validate {instances} vrrp_instances + {virtual_servers} virtual_servers \
         ({} lines, {:.1} MB): best {:.1} ms, median {:.1} ms, {errors} errors",
        text.lines().count(),
        text.len() as f64 / 1e6,
        times[0].as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3
    );
}
