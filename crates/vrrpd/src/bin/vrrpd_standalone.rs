//! `vrrpd_standalone -f FILE [--dont-release-vrrp]`: loads a keepalived configuration, prints
//! its diagnostics, and runs the VRRP side without a supervisor, logging to stderr.
//! SIGTERM or SIGINT stops it gracefully (priority-0 adverts, VIPs removed, `notify_stop`).

use keepalived_config::{load, LoadOptions, Severity};
use keepalived_vrrpd::{run_standalone, VrrpdOptions};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::SystemTime;

/// A tiny stderr logger: `HH:MM:SS.mmm LEVEL text`.
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, m: &log::Metadata<'_>) -> bool {
        m.level() <= log::max_level()
    }
    fn log(&self, r: &log::Record<'_>) {
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .unwrap_or_default();
        let s = t.as_secs() % 86_400;
        let _ = writeln!(
            std::io::stderr(),
            "{:02}:{:02}:{:02}.{:03} {} {}",
            s / 3600,
            s / 60 % 60,
            s % 60,
            t.subsec_millis(),
            r.level(),
            r.args()
        );
    }
    fn flush(&self) {}
}

static LOGGER: StderrLogger = StderrLogger;

fn main() -> ExitCode {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Info);
    let mut file: Option<PathBuf> = None;
    let mut opts = VrrpdOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "-f" | "--use-file" => file = args.next().map(PathBuf::from),
            "--dont-release-vrrp" => opts.dont_release_vrrp = true,
            "-d" | "--debug" => log::set_max_level(log::LevelFilter::Debug),
            _ => {
                eprintln!("usage: vrrpd_standalone -f FILE [--dont-release-vrrp] [-d]");
                return ExitCode::from(2);
            }
        }
    }
    let Some(file) = file else {
        eprintln!("usage: vrrpd_standalone -f FILE [--dont-release-vrrp] [-d]");
        return ExitCode::from(2);
    };
    let loaded = load(
        &file,
        &LoadOptions::default(),
        &keepalived_config::AssumeAll,
    );
    let mut fatal = false;
    for d in &loaded.diagnostics {
        eprint!("{}", d.render(&loaded.sources));
        fatal |= d.severity == Severity::Error;
    }
    if fatal && loaded.config.vrrp_instances.is_empty() {
        eprintln!("no usable vrrp_instance");
        return ExitCode::from(1);
    }
    run_standalone(loaded.config, opts)
}
