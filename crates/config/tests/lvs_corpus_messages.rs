//! LVS corpus comparison (ignored by default).
//! Compares the LVS-side messages keepalived 2.2.7 printed for the corpus configs with ours.
//! Run with `cargo test -p keepalived-config --test lvs_corpus_messages -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::{load, FileMeta, Host, LoadOptions};
use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The corpus machine as far as the LVS checks care: only root exists, files are read from
/// the real file system.
struct CorpusHost;

impl Host for CorpusHost {
    fn interface_exists(&self, _name: &str) -> bool {
        true
    }
    fn user_exists(&self, name: &str) -> bool {
        name == "root" || name == "0"
    }
    fn group_exists(&self, name: &str) -> bool {
        name == "root" || name == "0"
    }
    fn file_meta(&self, path: &Path) -> Option<FileMeta> {
        let m = std::fs::metadata(path).ok()?;
        Some(FileMeta {
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode() & 0o7777,
            is_dir: m.is_dir(),
            executable: m.mode() & 0o111 != 0,
        })
    }
    fn resolves(&self, _host: &str) -> bool {
        true
    }
}

fn corpus() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    p.exists().then_some(p)
}

const LVS_PATTERNS: &[&str] = &[
    "virtual server",
    "Virtual server",
    "real server",
    "sorry server",
    "quorum",
    "misc script",
    "misc checker",
    "MISC_CHECK",
    "HTTP",
    "SSL",
    "FILE_CHECK",
    "BFD_CHECK",
    "DNS_CHECK",
    "UDP_CHECK",
    "SMTP",
    "track_file",
    "check scripts",
    "digest",
    "status code",
    "nb_get_retry",
    "persistence",
    "lvs_sched",
    "routing method",
    "tunnel",
    "connect_",
    "bindto",
    "delay_loop",
    "delay before",
    "warmup",
    "retry",
    "VS ",
    "fwmark",
    "Hysteresis",
    "protocol",
];

fn is_lvs(msg: &str) -> bool {
    LVS_PATTERNS.iter().any(|p| msg.contains(p))
}

fn strip_line(s: &str) -> String {
    let s = s.trim();
    if s.starts_with('(') {
        if let Some(i) = s.find(") ") {
            if s[..i].contains("Line ") {
                return s[i + 2..].to_string();
            }
        }
    }
    s.to_string()
}

#[test]
#[ignore]
fn lvs_messages_match_keepalived() {
    let Some(root) = corpus() else { return };
    let root = root.canonicalize().unwrap();
    let verdicts = std::fs::read_to_string(root.join("verdicts.tsv")).unwrap();
    let mut missing: BTreeMap<String, usize> = BTreeMap::new();
    let mut extra: BTreeMap<String, usize> = BTreeMap::new();
    let mut files = 0;
    let mut exit_ok = 0;
    let only = std::env::var("LVS_ONLY").ok();
    for line in verdicts.lines().skip(1) {
        let path = line.split('\t').next().unwrap();
        if let Some(o) = &only {
            if !path.contains(o.as_str()) {
                continue;
            }
        }
        let cfg = root.join(path);
        let text = std::fs::read_to_string(&cfg).unwrap_or_default();
        if !text.contains("virtual_server") && !text.contains("SSL") {
            continue;
        }
        files += 1;
        let diag = std::fs::read_to_string(root.join("diagnostics").join(format!("{path}.txt")))
            .unwrap_or_default();
        let mut theirs: Vec<String> = diag.lines().map(strip_line).filter(|m| is_lvs(m)).collect();
        let loaded = load(&cfg, &LoadOptions::default(), &CorpusHost);
        let want: i32 = line.split('\t').nth(1).unwrap().parse().unwrap();
        let got = keepalived_config::exit_code(&loaded.diagnostics);
        if want == got {
            exit_ok += 1;
        } else if std::env::var("LVS_EXIT").is_ok() {
            println!("{path}: exit want {want} got {got}");
        }
        let corpus_str = root.to_string_lossy().to_string();
        let mut ours: Vec<String> = loaded
            .diagnostics
            .iter()
            .map(|d| d.message.replace(&corpus_str, "<corpus>"))
            .filter(|m| is_lvs(m))
            .collect();
        theirs.sort();
        ours.sort();
        // Multiset difference.
        let mut t = theirs.clone();
        let mut o = Vec::new();
        for m in ours {
            if let Some(i) = t.iter().position(|x| *x == m) {
                t.remove(i);
            } else {
                o.push(m);
            }
        }
        // keepalived repeats parse messages once per parser run; compare distinct lines.
        t.dedup();
        o.dedup();
        for m in t {
            if std::env::var("LVS_VERBOSE").is_ok() {
                println!("{path}: MISSING {m}");
            }
            *missing
                .entry(m.chars().filter(|c| !c.is_ascii_digit()).collect())
                .or_default() += 1;
        }
        for m in o {
            if std::env::var("LVS_VERBOSE").is_ok() {
                println!("{path}: EXTRA {m}");
            }
            *extra
                .entry(m.chars().filter(|c| !c.is_ascii_digit()).collect())
                .or_default() += 1;
        }
    }
    println!("{files} LVS configs, {exit_ok} with keepalived's exit code");
    let mut v: Vec<_> = missing.into_iter().collect();
    v.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (m, n) in v.iter().take(60) {
        println!("missing {n:4} {m}");
    }
    let mut v: Vec<_> = extra.into_iter().collect();
    v.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
    for (m, n) in v.iter().take(60) {
        println!("extra   {n:4} {m}");
    }
}
