//! Replays the committed fuzz corpus (`fuzz/corpus/<target>/` at the repository root) through
//! the same entry points the cargo-fuzz targets call, so CI exercises it on stable Rust; also
//! keeps every input that once crashed a target as a named regression test.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};

/// Runs every file of the target's corpus; fails when the directory is missing or empty.
fn replay(target: &str, run: fn(&[u8])) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/corpus")
        .join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("fuzz corpus {}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "fuzz corpus {} is empty", dir.display());
    for file in &files {
        let data = std::fs::read(file).unwrap();
        if std::panic::catch_unwind(|| run(&data)).is_err() {
            panic!("corpus input {} fails", file.display());
        }
    }
}

#[test]
fn replay_frame_decoder() {
    replay("frame_decoder", keepalived_ipc::fuzzing::frame_decoder);
}
