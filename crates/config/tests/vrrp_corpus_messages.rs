//! VRRP-side corpus comparison (ignored by default): for each corpus config, which messages
//! keepalived 2.2.7 printed that we do not produce (digits normalised), most frequent first.
//! Run with `cargo test -p keepalived-config --test vrrp_corpus_messages -- --ignored --nocapture`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::{load, FileMeta, Host, LoadOptions};
use std::collections::{BTreeMap, BTreeSet};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The environment of the corpus verdicts (see the corpus README).
struct CorpusHost;

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
            mode: m.mode() & 0o7777,
            is_dir: m.is_dir(),
            executable: m.is_file() && m.mode() & 0o111 != 0,
        })
    }
    fn resolves(&self, host: &str) -> bool {
        host.parse::<std::net::IpAddr>().is_ok() || host == "localhost"
    }
    fn netns_exists(&self, _name: &str) -> bool {
        false
    }
}

fn normalise(s: &str) -> String {
    let s = match s.find(") ") {
        Some(i) if s.starts_with('(') && s[..i].contains("Line ") => &s[i + 2..],
        _ => s,
    };
    s.chars()
        .map(|c| if c.is_ascii_digit() { 'N' } else { c })
        .collect::<String>()
        .trim()
        .to_string()
}

#[test]
#[ignore]
fn vrrp_messages_we_miss() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    let Ok(verdicts) = std::fs::read_to_string(dir.join("verdicts.tsv")) else {
        return;
    };
    let mut missing: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut extra: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for line in verdicts.lines().skip(1) {
        let path = line.split('\t').next().unwrap();
        if path.ends_with("1173.conf") || path.ends_with("1719.conf") || path.ends_with("1996.conf")
        {
            continue;
        }
        let diag = dir.join("diagnostics").join(format!("{path}.txt"));
        let theirs: BTreeSet<String> = std::fs::read_to_string(&diag)
            .unwrap_or_default()
            .lines()
            .map(normalise)
            .collect();
        let loaded = load(
            &dir.join(path),
            &LoadOptions {
                config_id: "vm".into(),
            },
            &CorpusHost,
        );
        let ours: BTreeSet<String> = loaded
            .diagnostics
            .iter()
            .filter(|d| d.class.exit_code() != 0)
            .map(|d| normalise(&d.message))
            .collect();
        for m in theirs.difference(&ours) {
            missing
                .entry(m.clone())
                .or_default()
                .insert(path.to_string());
        }
        for m in ours.difference(&theirs) {
            extra.entry(m.clone()).or_default().insert(path.to_string());
        }
    }
    let mut out = String::new();
    for (title, map) in [
        ("MISSING (keepalived only)", &missing),
        ("EXTRA (ours only)", &extra),
    ] {
        out.push_str(&format!("== {title}\n"));
        let mut v: Vec<_> = map.iter().collect();
        v.sort_by_key(|(_, s)| std::cmp::Reverse(s.len()));
        for (m, files) in v {
            out.push_str(&format!(
                "{:4} {m}    [{}]\n",
                files.len(),
                files.iter().next().unwrap()
            ));
        }
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let file = target.join("vrrp-corpus-messages.txt");
    std::fs::write(&file, out).unwrap();
    eprintln!("written to {}", file.display());
}
