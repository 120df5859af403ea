//! Arbitrary bytes through the preprocessor and tokenizer: must never panic or hang.
#![no_main]

use keepalived_config::lexer::{lex_str, Limits, PreprocessOptions};
use keepalived_config::SourceMap;
use libfuzzer_sys::fuzz_target;
use std::path::Path;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data).into_owned();
    let opts = PreprocessOptions {
        config_id: "vm".to_string(),
        random_seed: Some(1),
        // Small bounds keep each run fast; the logic is the same as with the defaults.
        limits: Limits {
            max_lines: 20_000,
            max_bytes: 1 << 20,
        },
        ..Default::default()
    };
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let lines = lex_str(
        Path::new("/nonexistent/fuzz.conf"),
        text,
        &opts,
        &mut sources,
        &mut diags,
    );
    for line in &lines {
        assert!(!line.tokens.is_empty());
        for (i, t) in line.tokens.iter().enumerate() {
            assert!(!t.is_close() || line.tokens.len() == 1);
            assert!(!t.is_open() || i + 1 == line.tokens.len());
        }
    }
    for d in &diags {
        let _ = d.render(&sources);
    }
});
