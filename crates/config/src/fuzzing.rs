//! Entry points shared by the cargo-fuzz targets (`crates/config/fuzz`) and the corpus replay
//! test (`tests/fuzz_corpus.rs`), so the two always exercise the same code. Not an API.
//!
//! A failed check is a panic on purpose: that is how libFuzzer learns about it.

use crate::lexer::{lex_str, Limits, PreprocessOptions};
use crate::{load_str, AssumeAll, LoadOptions, SourceMap};
use std::path::Path;

/// Arbitrary bytes through the preprocessor and tokenizer (small expansion limits keep each
/// run fast; the logic is the same as with the defaults). Checks the brace contract of every
/// line (`{` only last, `}` only alone) and renders every diagnostic.
pub fn lex(data: &[u8]) {
    let text = String::from_utf8_lossy(data).into_owned();
    let opts = PreprocessOptions {
        config_id: "vm".to_string(),
        random_seed: Some(1),
        limits: Limits {
            max_lines: 20_000,
            max_bytes: 1 << 20,
        },
        ..Default::default()
    };
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let lexed = lex_str(
        Path::new("/nonexistent/fuzz.conf"),
        text,
        &opts,
        &mut sources,
        &mut diags,
    );
    let tokens = lexed.tokens();
    for line in &lexed.lines(&tokens) {
        assert!(
            !line.tokens.is_empty(),
            "an empty line came out of the lexer"
        );
        for (i, t) in line.tokens.iter().enumerate() {
            assert!(
                !t.is_close() || line.tokens.len() == 1,
                "`}}` not alone on its line"
            );
            assert!(
                !t.is_open() || i + 1 == line.tokens.len(),
                "`{{` not last on its line"
            );
        }
    }
    for d in &diags {
        let _ = d.render(&sources);
    }
}

/// Arbitrary bytes through the whole loader (lexer, parser, validation); renders every
/// diagnostic. Must never panic.
pub fn load(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let opts = LoadOptions {
        config_id: "vm".to_string(),
    };
    let loaded = load_str("/nonexistent/fuzz.conf", &text, &opts, &AssumeAll);
    for d in &loaded.diagnostics {
        let _ = d.render(&loaded.sources);
    }
}
