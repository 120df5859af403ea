//! Entry points shared by the cargo-fuzz targets (`crates/check/fuzz`) and the corpus replay
//! test (`tests/fuzz_corpus.rs`), so the two always exercise the same code. Not an API.
//!
//! A failed check is a panic on purpose: that is how libFuzzer learns about it.

use crate::http::{evaluate, ResponseReader, UrlFailure};
use keepalived_config::model::lvs::{StatusCodeRange, Url};

/// What the checker makes of an answer: a read error, or the URL verdict plus what it was
/// based on (status and digest).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    /// `feed` failed (the checker logs "Read error with").
    ReadError,
    /// The answer as judged by [`evaluate`].
    Judged {
        verdict: Result<(), UrlFailure>,
        status: Option<u16>,
        digest: Option<[u8; 16]>,
    },
}

/// Feeds `pieces` the way the checker's probe does (stop at the first error or once the
/// reader says the body is complete; the end of `pieces` is the server closing) and judges.
fn read_as_checker<'a>(pieces: impl IntoIterator<Item = &'a [u8]>, url: &Url) -> Outcome {
    let mut reader = ResponseReader::new();
    for piece in pieces {
        match reader.feed(piece) {
            Ok(true) => break,
            Ok(false) => {}
            Err(_) => return Outcome::ReadError,
        }
    }
    let response = reader.finish();
    Outcome::Judged {
        verdict: evaluate(response.as_ref(), url),
        status: response.as_ref().map(|r| r.status),
        digest: response.as_ref().map(|r| r.digest),
    }
}

/// Cuts `bytes` at `cuts` (offsets taken modulo `len + 1`, any order, repeats allowed: empty
/// reads are legal too).
fn split<'a>(bytes: &'a [u8], cuts: &[usize]) -> Vec<&'a [u8]> {
    let mut at: Vec<usize> = cuts.iter().map(|c| c % (bytes.len() + 1)).collect();
    at.sort_unstable();
    let mut pieces = Vec::with_capacity(at.len() + 1);
    let mut last = 0;
    for c in at.into_iter().chain([bytes.len()]) {
        pieces.push(bytes.get(last..c).unwrap_or_default());
        last = c;
    }
    pieces
}

/// The `status_code` list chosen by the selector: the default, one exact code, or two ranges.
fn status_codes(selector: u8, status: u16) -> Vec<StatusCodeRange> {
    match selector & 3 {
        1 => vec![StatusCodeRange {
            low: status,
            high: status,
        }],
        2 => vec![
            StatusCodeRange {
                low: 100,
                high: 199,
            },
            StatusCodeRange {
                low: 400,
                high: 599,
            },
        ],
        _ => Vec::new(),
    }
}

/// HTTP_GET's answer reader and judgement on arbitrary bytes.
///
/// Input layout: byte 0 = number of cuts (low 3 bits) and the URL spec (bits 3-6: status list
/// and digest choice); then 2 bytes (little-endian) per cut; the rest is what the server sent.
/// Checks that nothing panics and that how the answer is split into reads never changes the
/// outcome (read error or not, verdict, status, digest).
pub fn http_response(data: &[u8]) {
    let Some((&head, rest)) = data.split_first() else {
        return;
    };
    let ncuts = usize::from(head & 7);
    let (cut_bytes, answer) = rest.split_at(rest.len().min(ncuts * 2));
    let cuts: Vec<usize> = cut_bytes
        .chunks_exact(2)
        .map(|c| match c {
            &[lo, hi] => usize::from(u16::from_le_bytes([lo, hi])),
            _ => 0,
        })
        .collect();

    // The reference reading: the whole answer in one read.
    let whole_url = Url::default();
    let whole = read_as_checker([answer], &whole_url);
    let (status, digest) = match &whole {
        Outcome::Judged { status, digest, .. } => (status.unwrap_or(0), *digest),
        Outcome::ReadError => (0, None),
    };
    let spec = head >> 3;
    let url = Url {
        status_codes: status_codes(spec, status),
        digest: match (spec >> 2) & 3 {
            // The digest the whole answer has: a split that changes it fails the check.
            1 => digest,
            2 => Some([0; 16]),
            _ => None,
        },
        ..Url::default()
    };

    let one_read = read_as_checker([answer], &url);
    let pieces = split(answer, &cuts);
    let many_reads = read_as_checker(pieces.iter().copied(), &url);
    assert_eq!(
        one_read, many_reads,
        "the outcome depends on how the answer is split: cuts {cuts:?}"
    );
    // Byte by byte, the most extreme split (bounded so one input stays fast).
    if answer.len() <= 4096 {
        let bytewise = read_as_checker(answer.chunks(1), &url);
        assert_eq!(
            one_read, bytewise,
            "the outcome differs when read byte by byte"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_covers_the_input_in_order() {
        let b = b"abcdef";
        assert_eq!(split(b, &[]), vec![&b"abcdef"[..]]);
        let p = split(b, &[4, 2, 2, 100]);
        assert_eq!(p.concat(), b.to_vec());
        assert_eq!(p.len(), 5);
    }

    #[test]
    fn well_formed_answers_pass() {
        http_response(b"\x02\x05\x00\x20\x00HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc");
        http_response(b"\x0d\x07\x00HTTP/1.0 404 x\r\n\r\nbody");
        http_response(b"");
    }
}
