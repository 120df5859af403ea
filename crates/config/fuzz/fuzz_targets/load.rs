//! cargo-fuzz target `load`. The checks live in `keepalived_config::fuzzing::load`,
//! so the corpus replay test (`crates/config/tests/fuzz_corpus.rs`) runs exactly the same
//! code on stable Rust.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keepalived_config::fuzzing::load(data);
});
