//! Which daemon a node runs, and which combinations a scenario runs with.

use std::path::PathBuf;

/// The daemon a node runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// keepalived-rs (`KEEPALIVED_RS_BIN`, default `target/release/keepalived-rs`).
    Ours,
    /// Debian's keepalived 2.2 (`KEEPALIVED_BIN`, default `/usr/sbin/keepalived`).
    Keepalived,
}

impl NodeKind {
    /// Path of the daemon binary.
    pub fn binary(self) -> PathBuf {
        match self {
            NodeKind::Keepalived => std::env::var_os("KEEPALIVED_BIN")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("/usr/sbin/keepalived")),
            NodeKind::Ours => ours_binary(),
        }
    }

    /// Short label for messages.
    pub fn label(self) -> &'static str {
        match self {
            NodeKind::Ours => "ours",
            NodeKind::Keepalived => "keepalived",
        }
    }
}

fn ours_binary() -> PathBuf {
    if let Some(p) = std::env::var_os("KEEPALIVED_RS_BIN") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    std::fs::canonicalize(&root)
        .unwrap_or(root)
        .join("target/release/keepalived-rs")
}

/// True when scenarios involving keepalived-rs should run: `KRS_DAEMON=1` and the binary exists.
pub fn ours_enabled() -> bool {
    std::env::var("KRS_DAEMON").is_ok_and(|v| v == "1") && ours_binary().is_file()
}

/// The node-kind combinations for a scenario of `n` nodes: when [`ours_enabled`], ours everywhere
/// plus the two mixes where the first node (the intended master) is ours or keepalived; keepalived
/// everywhere (the check of the scenario's own expectations) when ours is not built or
/// `KRS_REFERENCE=1` asks for it (CI time: every pairing costs a few minutes). Prints a SKIPPED
/// line for the variants left out.
pub fn kind_sets(scenario: &str, n: usize) -> Vec<Vec<NodeKind>> {
    use NodeKind::{Keepalived as K, Ours as O};
    let reference = !ours_enabled() || std::env::var("KRS_REFERENCE").is_ok_and(|v| v == "1");
    let mut sets = Vec::new();
    if reference {
        sets.push(vec![K; n]);
    } else {
        println!(
            "SKIPPED: {scenario}: keepalived/keepalived reference run (KRS_REFERENCE=1 adds it)"
        );
    }
    if ours_enabled() {
        sets.push(vec![O; n]);
        let mut ours_first = vec![K; n];
        let mut ours_second = vec![K; n];
        if let Some(k) = ours_first.first_mut() {
            *k = O;
        }
        if let Some(k) = ours_second.get_mut(1) {
            *k = O;
        }
        sets.push(ours_first);
        sets.push(ours_second);
    } else {
        println!(
            "SKIPPED: daemon not built: {scenario}: ours/ours and mixed variants \
             (need KRS_DAEMON=1 and {})",
            ours_binary().display()
        );
    }
    sets
}

/// Human-readable name of a combination, e.g. `keepalived/ours`.
pub fn describe(kinds: &[NodeKind]) -> String {
    kinds
        .iter()
        .map(|k| k.label())
        .collect::<Vec<_>>()
        .join("/")
}
