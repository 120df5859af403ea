//! The dump module over every real-world configuration of the corpus (`../shared/corpus`, read
//! in place: the configurations are GPL and are not copied here; skipped when absent): no
//! panic, the data dump has keepalived's section headers, the JSON is valid with one object
//! per instance, and the stats have one block per instance.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::{load, AssumeAll, LoadOptions};
use keepalived_vrrp::instance::Input;
use keepalived_vrrp::sync_group::{Router, Target};
use keepalived_vrrpd::dump::{self, Clock, DumpInput, OsFacts};
use keepalived_vrrpd::params::{self, InterfaceInfo, PlanOptions};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every interface exists, with an address derived from its name.
fn lookup(name: &str) -> Option<InterfaceInfo> {
    let n = name
        .bytes()
        .fold(7u32, |h, b| h.wrapping_mul(31).wrapping_add(u32::from(b)));
    Some(InterfaceInfo {
        index: 2 + n % 1000,
        primary_v4: Some(Ipv4Addr::new(10, (n >> 8) as u8, (n >> 16) as u8, 1)),
        link_local_v6: Some("fe80::1".parse().unwrap()),
        mac: Some([2, 0, 0, 0, 0, n as u8]),
        up: true,
    })
}

#[test]
fn every_corpus_config_dumps() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/configs");
    let mut all = Vec::new();
    files(&dir, &mut all);
    if all.is_empty() {
        eprintln!("note: ../shared/corpus not found; dump corpus test skipped");
        return;
    }
    all.sort();
    let (mut dumped, mut instances) = (0usize, 0usize);
    for path in &all {
        let loaded = load(path, &LoadOptions::default(), &AssumeAll);
        let plan = params::plan(&loaded.config, &lookup, PlanOptions::default());
        let Ok(mut router) = Router::new(plan.instances.clone(), plan.groups.clone()) else {
            continue;
        };
        let now = Duration::from_secs(10);
        for i in 0..router.instances().len() {
            router.handle(now, Target::Instance(i), Input::Start);
        }
        let os = OsFacts::default();
        let input = DumpInput {
            config: &loaded.config,
            plan: &plan,
            router: &router,
            clock: Clock {
                now,
                wall_now: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
            },
            os: &os,
        };
        let n = router.instances().len();
        let data = dump::data(&input);
        assert!(
            data.starts_with("------< Global definitions >------\n"),
            "{}",
            path.display()
        );
        assert_eq!(
            data.contains("------< VRRP Topology >------\n"),
            n > 0,
            "{}",
            path.display()
        );
        assert_eq!(
            data.matches("\n VRRP Instance = ").count(),
            n,
            "{}",
            path.display()
        );
        let json: serde_json::Value = serde_json::from_str(&dump::json(&input))
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(json.as_array().map(Vec::len), Some(n), "{}", path.display());
        assert_eq!(
            dump::stats(&router).matches("VRRP Instance: ").count(),
            n,
            "{}",
            path.display()
        );
        dumped += 1;
        instances += n;
    }
    eprintln!(
        "dumped {dumped} of {} corpus configs ({instances} instances)",
        all.len()
    );
    assert!(dumped > 100, "only {dumped} configs dumped");
}
