//! Arbitrary bytes, split into reads at points chosen by the input's first bytes, through
//! HTTP_GET's streaming `ResponseReader` and judged against a status/digest spec: no panic, and
//! the split must not change the outcome. The logic lives in `keepalived_check::fuzzing` so the
//! corpus replay test (`crates/check/tests/fuzz_corpus.rs`) runs exactly the same checks.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    keepalived_check::fuzzing::http_response(data);
});
