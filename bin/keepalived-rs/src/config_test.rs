//! `--config-test` (and `--dump-conf-json`): check the configuration like `keepalived -t`.

use crate::cli::Cli;
use crate::system_host::{default_config_id, SystemHost};
use keepalived_config::{exit_code, load, LoadOptions};
use std::io::Write;
use std::process::ExitCode;

/// Loads and checks the configuration, prints every diagnostic (to stderr, or to the `-t=FILE`
/// file), prints the model when asked, and exits with keepalived's `-t` code.
///
/// The process ends here, once the output is flushed: tearing down the model of a large
/// configuration (hundreds of thousands of allocations) would only delay the exit code.
pub fn run(cli: &Cli) -> ExitCode {
    let code = check(cli);
    let _ = std::io::stdout().lock().flush();
    let _ = std::io::stderr().lock().flush();
    std::process::exit(i32::from(code));
}

fn check(cli: &Cli) -> u8 {
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
        return 0;
    }
    u8::try_from(code).unwrap_or(5)
}
