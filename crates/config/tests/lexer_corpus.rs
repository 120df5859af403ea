//! The lexer against the real-world corpus (`../shared/corpus`, next to the repository):
//! every config lexes without panicking, quickly, and without a lexer error where keepalived
//! 2.2.7 accepted the config; include problems are reported where keepalived reported them.
//!
//! The corpus is GPL and lives outside the repository; without it this test only prints a note.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::lexer::{read_config, PreprocessOptions};
use keepalived_config::{Severity, SourceMap};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus");
    dir.join("verdicts.tsv")
        .is_file()
        .then(|| std::fs::canonicalize(&dir).unwrap_or(dir))
}

struct Verdict {
    path: String,
    exit_code: i32,
}

fn verdicts(dir: &Path) -> Vec<Verdict> {
    let text = std::fs::read_to_string(dir.join("verdicts.tsv")).unwrap();
    text.lines()
        .skip(1)
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some(Verdict {
                path: f.next()?.to_string(),
                exit_code: f.next()?.parse().ok()?,
            })
        })
        .collect()
}

/// `(Line 12) Unknown keyword 'x'` or `(f.conf: Line 12) Unknown keyword 'x'`:
/// ((file, line), word).
fn unknown_keyword(msg: &str) -> Option<((Option<String>, u32), String)> {
    let rest = msg.strip_prefix('(')?;
    let (place, tail) = rest.split_once(") Unknown keyword '")?;
    let word = tail.strip_suffix('\'')?.to_string();
    let (file, line) = match place.split_once(": Line ") {
        Some((f, n)) => (Some(f.to_string()), n),
        None => (None, place.strip_prefix("Line ")?),
    };
    Some(((file, line.parse().ok()?), word))
}

/// Configs keepalived accepted (exit 0) where our lexer reports an error, with the reason.
/// Empty: keep it that way, or document each entry.
const ACCEPTED_BUT_LEXER_ERROR: &[(&str, &str)] = &[];

/// keepalived 2.2.7 hangs on these (a definition that refers to itself): we must report it.
const SELF_REFERENCE: &[&str] = &[
    "configs/devel-tools/1719.conf",
    "configs/devel-tools/1996.conf",
];

#[test]
fn every_corpus_config_lexes() {
    let Some(dir) = corpus_dir() else {
        eprintln!("note: ../shared/corpus not found; lexer corpus test skipped");
        return;
    };
    let opts = PreprocessOptions {
        // The host the verdicts were produced on was called "vm" (no -i).
        config_id: "vm".to_string(),
        random_seed: Some(1),
        ..Default::default()
    };
    let mut failures = Vec::new();
    let mut slowest = (Duration::ZERO, String::new());
    let total = Instant::now();
    let mut lines_total = 0usize;
    let mut keyword_checks = 0usize;
    let mut keyword_misses = Vec::new();
    let all = verdicts(&dir);
    assert!(all.len() > 900, "verdicts.tsv looks truncated");
    for v in &all {
        let path = dir.join(&v.path);
        let start = Instant::now();
        let mut sources = SourceMap::new();
        let mut diags = Vec::new();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            read_config(&path, &opts, &mut sources, &mut diags)
        }));
        let took = start.elapsed();
        if took > slowest.0 {
            slowest = (took, v.path.clone());
        }
        let Ok(lexed) = result else {
            failures.push(format!("{}: panicked", v.path));
            continue;
        };
        let tokens = lexed.tokens();
        let lines = lexed.lines(&tokens);
        lines_total += lines.len();
        // 1173.conf generates 273,300 lines: ~0.5 s optimised, much more in a loaded debug build.
        let limit = Duration::from_secs(if cfg!(debug_assertions) { 120 } else { 10 });
        if took > limit {
            failures.push(format!("{}: took {took:?}", v.path));
        }
        let errors: Vec<String> = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| d.render(&sources))
            .collect();
        if SELF_REFERENCE.contains(&v.path.as_str()) {
            if !errors.iter().any(|e| e.contains("refers to itself")) {
                failures.push(format!("{}: self-reference not reported", v.path));
            }
            continue;
        }
        let excused = ACCEPTED_BUT_LEXER_ERROR.iter().any(|(p, _)| *p == v.path);
        if v.exit_code == 0 && !errors.is_empty() && !excused {
            failures.push(format!(
                "{}: keepalived accepted it, lexer says:\n{}",
                v.path,
                errors.join("")
            ));
        }

        let diag_file = dir.join("diagnostics").join(format!("{}.txt", v.path));
        let expected = std::fs::read_to_string(&diag_file).unwrap_or_default();
        let corpus_prefix = format!("{}/", dir.display());
        // keepalived reports unknown keywords as "(Line N) Unknown keyword 'X'": each one must
        // be the first word of one of our lines at that line (of that file).
        for want in expected.lines() {
            let Some((place, word)) = unknown_keyword(want) else {
                continue;
            };
            let ok = lines.iter().any(|l| {
                let loc = l.loc();
                let file_ok = match &place.0 {
                    Some(f) => {
                        let f = f.replace("<corpus>/", &corpus_prefix);
                        sources.path(loc.file).ends_with(f.trim_start_matches('/'))
                            || sources.path(loc.file) == Path::new(&f)
                    }
                    None => true,
                };
                file_ok && loc.line == place.1 && l.keyword() == word
            });
            keyword_checks += 1;
            if !ok {
                keyword_misses.push(format!("{}: {want}", v.path));
            }
        }

        // Include problems keepalived reported must be reported here too.
        for want in expected
            .lines()
            .filter(|l| l.contains("Config files missing"))
        {
            let msg = want.split_once(") ").map_or(want, |(_, m)| m);
            let found = diags
                .iter()
                .any(|d| d.message.replace(&corpus_prefix, "<corpus>/") == msg);
            if !found {
                failures.push(format!(
                    "{}: keepalived reported \"{msg}\", the lexer did not",
                    v.path
                ));
            }
        }
    }
    eprintln!(
        "lexed {} corpus configs into {lines_total} lines in {:?}; slowest {} ({:?})",
        all.len(),
        total.elapsed(),
        slowest.1,
        slowest.0
    );
    eprintln!(
        "keepalived's 'Unknown keyword' reports: {keyword_checks} checked, {} not matched",
        keyword_misses.len()
    );
    failures.extend(
        keyword_misses
            .into_iter()
            .map(|m| format!("unknown keyword not the first word of our line: {m}")),
    );
    assert!(
        failures.is_empty(),
        "{} problems:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// `LEX_FILE=path cargo test --release --test lexer_corpus -- --ignored lex_one`: times one file.
#[test]
#[ignore]
fn lex_one() {
    let Ok(path) = std::env::var("LEX_FILE") else {
        return;
    };
    let opts = PreprocessOptions {
        config_id: "vm".to_string(),
        ..Default::default()
    };
    let mut sources = SourceMap::new();
    let mut diags = Vec::new();
    let start = Instant::now();
    let lexed = read_config(Path::new(&path), &opts, &mut sources, &mut diags);
    let tokens = lexed.tokens();
    let lines = lexed.lines(&tokens);
    if std::env::var_os("LEX_DUMP").is_some() {
        for l in &lines {
            let words: Vec<&str> = l.tokens.iter().map(|t| t.text).collect();
            eprintln!("{}:{}: {}", l.loc().line, l.loc().col, words.join(" | "));
        }
        for d in &diags {
            eprint!("{}", d.render(&sources));
        }
    }
    eprintln!(
        "{path}: {} lines, {} diagnostics, {:?}",
        lines.len(),
        diags.len(),
        start.elapsed()
    );
}
