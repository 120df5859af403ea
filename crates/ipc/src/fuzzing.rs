//! Entry points shared by the cargo-fuzz targets (`crates/ipc/fuzz`) and the corpus replay
//! test (`tests/fuzz_corpus.rs`), so the two always exercise the same code. Not an API.
//!
//! A failed check is a panic on purpose: that is how libFuzzer learns about it.

use crate::{decode_payload, encode, FrameDecoder, Message, ToChild, ToParent, HEADER_LEN};
use std::fmt::Debug;

/// Feeds `bytes` in chunks of a size chosen by `selector` into a decoder for `M`.
// Panicking is how a failed check reaches libFuzzer.
#[allow(clippy::panic)]
fn check<M: Message + PartialEq + Debug>(selector: u8, bytes: &[u8]) {
    // Chunk sizes 1..=64 chosen by the selector; 0 means one chunk.
    let size = match selector & 63 {
        0 => bytes.len().max(1),
        n => usize::from(n),
    };
    let mut decoder = FrameDecoder::<M>::new();
    'feed: for chunk in bytes.chunks(size) {
        if decoder.push(chunk).is_err() {
            break;
        }
        loop {
            match decoder.pop() {
                Ok(Some(msg)) => {
                    let again = match encode(&msg) {
                        Ok(frame) => frame,
                        Err(e) => panic!("a decoded message does not re-encode: {e}"),
                    };
                    let back: M = match decode_payload(again.get(HEADER_LEN..).unwrap_or_default())
                    {
                        Ok(m) => m,
                        Err(e) => panic!("a re-encoded message does not decode: {e}"),
                    };
                    assert_eq!(back, msg, "decode(encode(m)) != m");
                }
                Ok(None) => break,
                Err(e) if e.is_fatal() => break 'feed,
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
        assert!(
            decoder.buffered() <= bytes.len(),
            "the decoder holds more than it was given"
        );
    }
    let _ = decoder.finish();
    let stats = decoder.stats();
    assert!(
        stats.bytes_in <= bytes.len() as u64,
        "the decoder counted more bytes than it was given"
    );
    let _ = decode_payload::<M>(bytes);
}

/// Arbitrary bytes, cut into chunks (size from the first byte), into both decoders (parent
/// side and child side) and into `decode_payload`. Checks that nothing panics, that a decoded
/// message re-encodes to a frame decoding to the same message, and that a decoder never holds
/// more bytes than it was given.
pub fn frame_decoder(data: &[u8]) {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    check::<ToChild>(selector, bytes);
    check::<ToParent>(selector, bytes);
}
