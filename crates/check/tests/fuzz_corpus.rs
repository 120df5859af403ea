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
fn replay_http_response() {
    replay("http_response", keepalived_check::fuzzing::http_response);
}

/// The answer's first blank line ends the header whatever its form: one read used to prefer a
/// later `\r\n\r\n` over an earlier `\n\n`, so the digest depended on how the answer was split.
#[test]
fn regression_header_ends_at_first_blank_line() {
    keepalived_check::fuzzing::http_response(b"\x00HTTP/1.0 200 OK\nX: 1\n\nabc\r\n\r\ndef");
}

/// Bytes after a chunked body's last chunk: hashed when they arrived in the same read as the
/// last chunk, not when the reader had already said "complete", so the digest depended on the
/// split.
#[test]
fn regression_nothing_hashed_after_the_last_chunk() {
    keepalived_check::fuzzing::http_response(
        b"\x00HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nXYZ",
    );
}

/// A header longer than the limit is refused whether it arrives in one read or in many (one
/// big read used to accept it).
#[test]
fn regression_header_limit_does_not_depend_on_read_size() {
    use keepalived_check::http::{HttpError, ResponseReader, MAX_HEADER_LEN};
    let mut answer = b"HTTP/1.0 200 OK\r\nX: ".to_vec();
    answer.resize(MAX_HEADER_LEN + 100, b'a');
    answer.extend_from_slice(b"\r\n\r\nbody");
    let mut one = ResponseReader::new();
    assert_eq!(one.feed(&answer), Err(HttpError::HeaderTooLong));
    let mut many = ResponseReader::new();
    let result = answer
        .chunks(1000)
        .map(|piece| many.feed(piece))
        .find(|r| r != &Ok(false));
    assert_eq!(result, Some(Err(HttpError::HeaderTooLong)));
}
