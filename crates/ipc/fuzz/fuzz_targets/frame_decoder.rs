//! cargo-fuzz target `frame_decoder`. The checks live in `keepalived_ipc::fuzzing::frame_decoder`,
//! so the corpus replay test (`crates/ipc/tests/fuzz_corpus.rs`) runs exactly the same
//! code on stable Rust.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keepalived_ipc::fuzzing::frame_decoder(data);
});
