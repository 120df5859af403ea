//! keepalived-rs's `--config-test` verdict against keepalived 2.2.7's, on the 956 real configs in
//! `../shared/corpus` (read in place: they are GPL and are not copied into this repository).
//!
//! The verdicts were made in a network namespace with 20 interfaces, host name `vm`, users
//! root/nobody and group nogroup, no DNS (see the corpus README). `CorpusHost` reproduces that
//! environment, so this test needs neither root nor keepalived; `integration/corpus-live.sh` runs
//! both binaries side by side for real.
//!
//! Every run writes the full list of disagreements to `corpus-mismatches.txt` in the target
//! directory (or the temp dir), grouped by (keepalived's code, ours).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::host::{FileMeta, Host};
use keepalived_config::{exit_code, load, LoadOptions, Severity};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Accept/reject agreement we have reached and must not fall below (raise it as it improves).
const MIN_ACCEPT_REJECT_AGREEMENT: f64 = 0.999;
/// Exact exit-code agreement we have reached and must not fall below.
const MIN_EXACT_AGREEMENT: f64 = 0.995;

/// Interfaces of the namespace the verdicts were made in (besides `lo`).
const INTERFACES: &[&str] = &[
    "lo",
    "eth0",
    "eth1",
    "eth2",
    "eth3",
    "eth4",
    "eth5",
    "eth6",
    "eth7",
    "eth8",
    "eth9",
    "eth10",
    "enp2s0",
    "wlp3s0",
    "bond0",
    "ens192",
    "ens256",
    "bond0.2",
    "cluster",
    "wlan0",
    "management",
];

/// Configs keepalived 2.2.7 never validated: `net_namespace` names a namespace that did not
/// exist, so `-t` silently exited 0 before checking anything (corpus README). Their verdict says
/// nothing about the config, so they are left out.
const UNVALIDATED_NET_NAMESPACE: &[&str] = &[
    "1027.conf",
    "2003l.conf",
    "634.conf",
    "638.conf",
    "649.conf",
    "650a.conf",
    "error-fwmark-ipv6-rs-ipv4.conf",
    "2003h.conf",
    "442.conf",
    "442a.conf",
    "1375a.conf",
    "1554a.conf",
    "101.conf",
    "1492a.conf",
    "894.conf",
    "erik.tempelaar.conf",
    "n1.conf",
    "1569-two-unicast.conf",
    "1569c.conf",
    "1569d.conf",
    "751.conf",
    "950-test.conf",
    "n.conf",
    "notify-1857.conf",
    "notify.conf",
    "notify1.conf",
    "notify12.conf",
    "notify1v6.conf",
    "notify2.conf",
    "notify866.conf",
    "notify_priority_change.conf",
    "notify_t.conf",
    "z.conf",
];

/// The environment of the corpus verdicts.
struct CorpusHost;

impl Host for CorpusHost {
    fn interface_exists(&self, name: &str) -> bool {
        INTERFACES.contains(&name)
    }
    fn user_exists(&self, name: &str) -> bool {
        matches!(name, "root" | "nobody")
    }
    fn group_exists(&self, name: &str) -> bool {
        matches!(name, "root" | "nogroup")
    }
    fn file_meta(&self, path: &Path) -> Option<FileMeta> {
        let m = std::fs::metadata(path).ok()?;
        Some(FileMeta {
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode(),
            is_dir: m.is_dir(),
            executable: m.is_file() && m.mode() & 0o111 != 0,
        })
    }
    fn resolves(&self, host: &str) -> bool {
        host.parse::<std::net::IpAddr>().is_ok() || host == "localhost"
    }
    fn user_uid(&self, name: &str) -> Option<u32> {
        match name {
            "root" => Some(0),
            "nobody" => Some(65534),
            _ => None,
        }
    }
    fn netns_exists(&self, _name: &str) -> bool {
        false
    }
}

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
}

struct Row {
    path: String,
    code: i32,
    first: String,
}

fn verdicts(dir: &Path) -> Vec<Row> {
    let text = std::fs::read_to_string(dir.join("verdicts.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            let path = f.next()?.to_string();
            let code = f.next()?.parse().ok()?;
            let _lines = f.next();
            let first = f.next().unwrap_or("").to_string();
            Some(Row { path, code, first })
        })
        .collect()
}

/// keepalived's verdict as accept (false) / reject (true), or `None` when it says nothing.
fn keepalived_rejects(row: &Row) -> Option<bool> {
    let name = Path::new(&row.path).file_name()?.to_str()?;
    if UNVALIDATED_NET_NAMESPACE.contains(&name) && row.path.contains("devel-tools/") {
        return None;
    }
    match row.code {
        0 => Some(false),
        // 2: missing parameter aborts the parse; 4/5/6: config errors; 124: hangs on a
        // self-referential definition; 134: crashes on an invalid virtual_server.
        2 | 4 | 5 | 6 | 124 | 134 => Some(true),
        // 143: keepalived kills itself while checking a script's owner (corpus README).
        _ => None,
    }
}

fn our_verdict(path: PathBuf) -> Option<(i32, String)> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let loaded = load(
            &path,
            &LoadOptions {
                config_id: "vm".into(),
            },
            &CorpusHost,
        );
        let first = loaded
            .diagnostics
            .iter()
            .find(|d| d.class.exit_code() != 0)
            .or_else(|| {
                loaded
                    .diagnostics
                    .iter()
                    .find(|d| d.severity >= Severity::Warning)
            })
            .map(|d| {
                let loc = d.loc.map(|l| format!("{}: ", l.line)).unwrap_or_default();
                format!("{loc}{}", d.message)
            })
            .unwrap_or_default();
        let _ = tx.send((exit_code(&loaded.diagnostics), first));
    });
    rx.recv_timeout(Duration::from_secs(10)).ok()
}

#[test]
fn corpus_verdicts_match_keepalived() {
    let dir = corpus_dir();
    if !dir.join("verdicts.tsv").exists() {
        eprintln!("corpus not found at {}: skipped", dir.display());
        return;
    }
    let started = Instant::now();
    let rows = verdicts(&dir);
    let mut compared = 0usize;
    let mut same_side = 0usize;
    let mut exact = 0usize;
    let mut hung = Vec::new();
    let mut mismatches: BTreeMap<(i32, i32), Vec<String>> = BTreeMap::new();
    for row in &rows {
        let Some(ka_rejects) = keepalived_rejects(row) else {
            continue;
        };
        compared += 1;
        let Some((ours, our_first)) = our_verdict(dir.join(&row.path)) else {
            hung.push(row.path.clone());
            continue;
        };
        if (ours != 0) == ka_rejects {
            same_side += 1;
        }
        if ours == row.code {
            exact += 1;
        } else {
            mismatches
                .entry((row.code, ours))
                .or_default()
                .push(format!(
                    "{}\n    keepalived: {}\n    ours:       {}",
                    row.path, row.first, our_first
                ));
        }
    }
    let side_rate = same_side as f64 / compared.max(1) as f64;
    let exact_rate = exact as f64 / compared.max(1) as f64;
    let mut report = format!(
        "corpus: {compared} configs compared in {:.1?}; accept/reject agree {same_side} ({:.1}%), \
         exact exit code agree {exact} ({:.1}%), hung {}\n",
        started.elapsed(),
        side_rate * 100.0,
        exact_rate * 100.0,
        hung.len()
    );
    for ((ka, ours), list) in &mismatches {
        report.push_str(&format!(
            "\n== keepalived {ka}, ours {ours}: {} configs\n",
            list.len()
        ));
        for item in list {
            report.push_str(item);
            report.push('\n');
        }
    }
    let out = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"))
        .join("corpus-mismatches.txt");
    let _ = std::fs::write(&out, &report);
    eprintln!("{}", report.lines().next().unwrap_or(""));
    for ((ka, ours), list) in &mismatches {
        eprintln!("  keepalived {ka} / ours {ours}: {}", list.len());
    }
    eprintln!("full list: {}", out.display());
    assert!(hung.is_empty(), "our loader hung on: {hung:?}");
    assert!(
        side_rate >= MIN_ACCEPT_REJECT_AGREEMENT,
        "accept/reject agreement fell to {:.1}%",
        side_rate * 100.0
    );
    assert!(
        exact_rate >= MIN_EXACT_AGREEMENT,
        "exact agreement fell to {:.1}%",
        exact_rate * 100.0
    );
}
