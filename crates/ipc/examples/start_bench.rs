//! Benchmark (not a test): encode and decode `Start { config }` for a generated configuration
//! with 1,000 vrrp_instances (and 100 virtual_servers), as the supervisor sends it to each
//! child at start and on every reload.
//!
//! `cargo run --release -p keepalived-ipc --example start_bench [-- INSTANCES]`
//! prints the frame size and the best and median times of several runs.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use keepalived_config::{load_str, AssumeAll, LoadOptions, Severity};
use keepalived_ipc::{encode_into, FrameDecoder, ToChild};
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// Instances are spread over interfaces: VRIDs are unique per interface and family.
fn generate(instances: usize, virtual_servers: usize) -> String {
    let mut c = String::with_capacity(instances * 500 + virtual_servers * 500);
    c.push_str(
        "global_defs {\n    router_id bench\n    enable_script_security\n    script_user root\n}\n",
    );
    c.push_str("vrrp_script chk {\n    script \"/bin/true\"\n    interval 1\n    weight -10\n}\n");
    for i in 0..instances {
        let (ifn, vrid) = (i / 250, i % 250 + 1);
        let (a, b) = (i / 250, i % 250);
        writeln!(
            c,
            "vrrp_instance VI_{i} {{\n    state BACKUP\n    interface bench{ifn}\n    \
             virtual_router_id {vrid}\n    priority {}\n    advert_int 1\n    \
             authentication {{\n        auth_type PASS\n        auth_pass p{i}\n    }}\n    \
             virtual_ipaddress {{\n        10.{a}.{b}.1/32\n        10.{a}.{b}.2/24 dev bench{ifn} label bench{ifn}:v\n    }}\n    \
             track_script {{\n        chk\n    }}\n    \
             notify_master \"/usr/local/bin/notify.sh master VI_{i}\"\n}}",
            100 + i % 50
        )
        .unwrap();
    }
    for v in 0..virtual_servers {
        writeln!(
            c,
            "virtual_server 172.16.0.{v} 80 {{\n    delay_loop 6\n    lb_algo rr\n    lb_kind DR\n    \
             protocol TCP\n    real_server 172.17.0.{v} 80 {{\n        weight 1\n        \
             TCP_CHECK {{\n            connect_timeout 3\n        }}\n    }}\n    \
             real_server 172.18.0.{v} 80 {{\n        HTTP_GET {{\n            url {{\n                \
             path /health\n                status_code 200\n            }}\n        }}\n    }}\n}}"
        )
        .unwrap();
    }
    c
}

fn main() {
    let instances: usize = std::env::args()
        .nth(1)
        .map(|a| a.parse().expect("INSTANCES"))
        .unwrap_or(1_000);
    let virtual_servers = 100.min(instances);
    let text = generate(instances, virtual_servers);
    let loaded = load_str("bench.conf", &text, &LoadOptions::default(), &AssumeAll);
    let errors = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    assert_eq!(loaded.config.vrrp_instances.len(), instances);
    let msg = ToChild::Start {
        config: Box::new(loaded.config),
    };

    let (mut enc, mut dec, mut total) = (Vec::new(), Vec::new(), Vec::new());
    let mut buf = Vec::new();
    for _ in 0..15 {
        buf.clear();
        let t0 = Instant::now();
        encode_into(&msg, &mut buf).unwrap();
        let t1 = Instant::now();
        let mut decoder = FrameDecoder::<ToChild>::new();
        // As a shell would read it: 64 KiB socket reads.
        let mut got = None;
        for chunk in buf.chunks(64 * 1024) {
            decoder.push(chunk).unwrap();
            if let Some(m) = decoder.pop().unwrap() {
                got = Some(m);
            }
        }
        let t2 = Instant::now();
        assert!(got.as_ref() == Some(&msg));
        enc.push(t1 - t0);
        dec.push(t2 - t1);
        total.push(t2 - t0);
    }
    let us = |v: &mut Vec<Duration>| {
        v.sort();
        (v[0].as_micros(), v[v.len() / 2].as_micros())
    };
    let ((eb, em), (db, dm), (tb, tm)) = (us(&mut enc), us(&mut dec), us(&mut total));
    println!(
        "Start{{config}} with {instances} vrrp_instances + {virtual_servers} virtual_servers \
         ({:.1} KB of config text, {errors} config errors): frame {} bytes ({:.1} KB)",
        text.len() as f64 / 1e3,
        buf.len(),
        buf.len() as f64 / 1e3
    );
    println!(
        "encode best {eb} us, median {em} us; decode best {db} us, median {dm} us; \
         encode+decode best {tb} us, median {tm} us"
    );
}
