//! Arbitrary bytes through the whole loader (lexer, parser, validation): must never panic.
#![no_main]

use keepalived_config::{load_str, AssumeAll, LoadOptions};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let opts = LoadOptions {
        config_id: "vm".to_string(),
        ..Default::default()
    };
    let loaded = load_str("/nonexistent/fuzz.conf", &text, &opts, &AssumeAll);
    for d in &loaded.diagnostics {
        let _ = d.render(&loaded.sources);
    }
});
