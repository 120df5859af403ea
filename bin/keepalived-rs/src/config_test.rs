//! `--config-test` (and `--dump-conf-json`): check the configuration like `keepalived -t`.

use crate::cli::Cli;
use crate::system_host::{default_config_id, SystemHost};
use keepalived_config::{exit_code, load, LoadOptions, Loaded};
use std::io::Write;
use std::process::ExitCode;

/// Loads and checks the configuration, prints every diagnostic (to stderr, or to the `-t=FILE`
/// file), prints the model when asked, and exits with keepalived's `-t` code.
///
/// The process ends here, once the output is flushed: tearing down the model of a large
/// configuration (hundreds of thousands of allocations) would only delay the exit code.
pub fn run(cli: &Cli) -> ExitCode {
    reserve_huge_heap(&cli.use_file);
    // The model lives until the exit below, which does not tear it down.
    let (code, _loaded) = check(cli);
    let _ = std::io::stdout().lock().flush();
    let _ = std::io::stderr().lock().flush();
    std::process::exit(i32::from(code));
}

/// A main configuration file from this size on is checked on a heap of huge pages.
const HUGE_HEAP_FROM: u64 = 512 << 10;
/// Heap reserved per byte of such a file: the lexer's words and lines, the block tree and the
/// model take about 16 (10,000 instances: 2.8 MB of text, 45 MB of heap).
const HEAP_PER_CONFIG_BYTE: u64 = 24;

/// A large configuration makes hundreds of thousands of allocations, tens of megabytes that
/// this process touches once and never frees: faulting them in 4 kB at a time cost more than
/// half of the parse (10,000 instances: ~13,000 faults). This process exits right after the
/// check, so it may keep a heap of huge pages; a small configuration does not need one.
fn reserve_huge_heap(main_file: &std::path::Path) {
    let size = std::fs::metadata(main_file).map_or(0, |m| m.len());
    if size >= HUGE_HEAP_FROM {
        let bytes = size.saturating_mul(HEAP_PER_CONFIG_BYTE).min(1 << 30);
        keepalived_sys::memory::heap_in_huge_pages(usize::try_from(bytes).unwrap_or(1 << 30));
    }
}

fn check(cli: &Cli) -> (u8, Loaded) {
    let opts = LoadOptions {
        config_id: cli.config_id.clone().unwrap_or_else(default_config_id),
    };
    let loaded = load(&cli.use_file, &opts, &SystemHost);

    let mut report = String::new();
    for d in &loaded.diagnostics {
        report.push_str(&d.render(&loaded.sources));
    }
    let code = exit_code(&loaded.diagnostics);
    match cli.config_test.as_deref() {
        Some(file) if !file.is_empty() => {
            if let Err(e) = std::fs::write(file, &report) {
                eprintln!("keepalived-rs: cannot write {file}: {e}");
                eprint!("{report}");
            }
        }
        _ => eprint!("{report}"),
    }

    if cli.dump_conf_json {
        match serde_json::to_string_pretty(&loaded.config) {
            Ok(json) => {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{json}");
            }
            Err(e) => eprintln!("keepalived-rs: cannot serialise the model: {e}"),
        }
    } else if cli.dump_conf {
        println!("{:#?}", loaded.config);
    }

    if cli.config_test.is_none() {
        return (0, loaded);
    }
    (u8::try_from(code).unwrap_or(5), loaded)
}
