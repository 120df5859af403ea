//! cargo-fuzz target `decode`. The checks live in `keepalived_vrrp::fuzzing::decode`,
//! so the corpus replay test (`crates/vrrp/tests/fuzz_corpus.rs`) runs exactly the same
//! code on stable Rust.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keepalived_vrrp::fuzzing::decode(data);
});
