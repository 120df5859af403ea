//! Arbitrary bytes, cut into arbitrary chunks, into both decoders (parent side and child side)
//! and into `decode_payload`. Any panic is a bug; so is a decoded message that does not
//! re-encode to a frame decoding to the same message, or a decoder holding more bytes than it
//! was given.
//!
//! `cargo +nightly fuzz run frame_decoder` from `crates/ipc`; seeds:
//! `KEEPALIVED_IPC_SEEDS=crates/ipc/fuzz/corpus/frame_decoder cargo test -p keepalived-ipc
//! --test roundtrip write_fuzz_seeds -- --ignored`.
#![no_main]

use keepalived_ipc::{
    decode_payload, encode, FrameDecoder, Message, ToChild, ToParent, HEADER_LEN,
};
use libfuzzer_sys::fuzz_target;
use std::fmt::Debug;

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
                    let again = encode(&msg).expect("a decoded message re-encodes");
                    let back: M = decode_payload(&again[HEADER_LEN..]).expect("and decodes");
                    assert_eq!(back, msg);
                }
                Ok(None) => break,
                Err(e) if e.is_fatal() => break 'feed,
                Err(e) => {
                    let _ = e.to_string();
                }
            }
        }
        assert!(decoder.buffered() <= bytes.len());
    }
    let _ = decoder.finish();
    let stats = decoder.stats();
    assert!(stats.bytes_in <= bytes.len() as u64);
    let _ = decode_payload::<M>(bytes);
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, bytes)) = data.split_first() else {
        return;
    };
    check::<ToChild>(selector, bytes);
    check::<ToParent>(selector, bytes);
});
