//! Inputs that once made the loader slow (`fuzz/slow/` at the repository root, found by the
//! `load` fuzz target): each must now load, and render its diagnostics, in well under a second,
//! with a bounded number of diagnostics. Also: a config that repeats one mistake a million times
//! cannot print a million diagnostics.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::{
    exit_code, load_str, AssumeAll, DiagnosticLimit, LoadOptions, Loaded, Severity,
};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Loads like the `load` fuzz target does, and renders every diagnostic; returns the time taken.
fn load_timed(text: &str) -> (Loaded, Duration) {
    let start = Instant::now();
    let opts = LoadOptions {
        config_id: "vm".to_string(),
    };
    let loaded = load_str("/nonexistent/fuzz.conf", text, &opts, &AssumeAll);
    let rendered: usize = loaded
        .diagnostics
        .iter()
        .map(|d| d.render(&loaded.sources).len())
        .sum();
    assert!(rendered > 0 || loaded.diagnostics.is_empty());
    (loaded, start.elapsed())
}

fn slow_inputs() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/slow");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{} is empty", dir.display());
    files
}

#[test]
fn every_slow_input_loads_in_under_a_second() {
    for file in slow_inputs() {
        let text = String::from_utf8_lossy(&std::fs::read(&file).unwrap()).into_owned();
        let (loaded, took) = load_timed(&text);
        eprintln!(
            "{}: {took:?}, {} diagnostics",
            file.display(),
            loaded.diagnostics.len()
        );
        assert!(
            took < Duration::from_secs(1),
            "{}: {took:?}",
            file.display()
        );
        assert!(
            loaded.diagnostics.len() < 1_000,
            "{}: {} diagnostics",
            file.display(),
            loaded.diagnostics.len()
        );
    }
}

#[test]
fn self_repeating_multiline_definition_is_one_error_at_its_use() {
    // 24 s and 2.7 million diagnostics before: the definition's last line uses it again, so
    // each expansion started the next one until the 2,000,000-line limit.
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fuzz/slow/load-exponential-expansion.conf");
    let text = String::from_utf8_lossy(&std::fs::read(file).unwrap()).into_owned();
    let (loaded, _) = load_timed(&text);
    let endless: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.message.contains("does not end"))
        .collect();
    assert_eq!(endless.len(), 1, "{:#?}", loaded.diagnostics);
    assert_eq!(endless[0].severity, Severity::Error);
    assert!(endless[0].message.contains("'$INST'"));
    // Located at the use that started it: the `~SEQ` line at the end of the file.
    assert_eq!(endless[0].loc.map(|l| l.line), Some(14));
    assert!(!loaded
        .diagnostics
        .iter()
        .any(|d| d.message.contains("expands to more than")));
}

#[test]
fn a_repeated_mistake_is_shown_a_limited_number_of_times() {
    // 5,000 generated instances with the same typo: 100 shown, then one line for the rest.
    let text = "~SEQ(i, 1, 5000) vrrp_instance VI_$i { priorty 100 }\n";
    let (loaded, took) = load_timed(text);
    eprintln!("5,000 repeated typos: {took:?}");
    let per_line = DiagnosticLimit::PER_LINE as usize;
    assert_eq!(loaded.diagnostics.len(), per_line + 1);
    let last = loaded.diagnostics.last().unwrap();
    assert!(
        last.message.starts_with("... and ")
            && last.message.ends_with(" more diagnostics at this line"),
        "{}",
        last.message
    );
    assert_eq!(last.loc.map(|l| l.line), Some(1));
    // The exit code is what all the diagnostics together give.
    assert_eq!(exit_code(&loaded.diagnostics), 5);

    // Mistakes on different lines: shown up to the overall limit.
    let total = DiagnosticLimit::TOTAL;
    let text = "bogus\n".repeat(total + 10);
    let (loaded, took) = load_timed(&text);
    eprintln!("{} bad lines: {took:?}", total + 10);
    assert_eq!(loaded.diagnostics.len(), total + 1);
    assert_eq!(
        loaded.diagnostics.last().unwrap().message,
        "... and 10 more diagnostics"
    );
}
