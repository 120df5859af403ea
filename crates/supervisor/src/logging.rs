//! The process-wide logger: keepalived's console format (`-l`), syslog (facility from `-S`,
//! ident `Keepalived` in the parent, `Keepalived_vrrp` / `Keepalived_healthcheckers` in the
//! children) and the log file (`-g FILE`, `--flush-log-file`).
//!
//! One `log::Log` is installed for the life of the process; a forked child keeps it and only
//! switches the ident (and pid) with [`set_ident`], which also opens the child's own log file:
//! as keepalived, the child's name is inserted before the extension
//! (`/var/log/ka.log` -> `/var/log/ka_vrrp.log`, `ka_healthcheckers.log`). The syslog connection
//! is a plain Unix datagram socket written synchronously: no thread is ever started.
//!
//! On the console, when `$JOURNAL_STREAM` says stderr is the journal (systemd), lines carry a
//! `<N>` syslog-priority prefix (sd-daemon style) instead of a time stamp, so the journal keeps
//! the levels and adds its own time.

use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use syslog::{Facility, Formatter3164, LoggerBackend};

/// Ident of the parent process in syslog.
pub const PARENT_IDENT: &str = "Keepalived";

/// Where log lines go.
#[derive(Debug, Clone)]
pub struct LogSettings {
    /// `-l`: also print to stderr, keepalived's console format.
    pub console: bool,
    /// Send to syslog (`-G` turns it off).
    pub syslog: bool,
    /// Syslog facility (`-S`, default daemon).
    pub facility: Facility,
    /// `-D`: debug detail.
    pub detail: bool,
    /// `-g FILE`: also append lines to this file (children: their own name inserted).
    pub log_file: Option<PathBuf>,
    /// `--flush-log-file`: accepted; lines are written unbuffered (one `write(2)` each), so
    /// they always reach the file at once.
    pub flush_log_file: bool,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            console: false,
            syslog: true,
            facility: Facility::LOG_DAEMON,
            detail: false,
            log_file: None,
            flush_log_file: false,
        }
    }
}

/// Parses `-S`: `0`-`7` (local0-7), `local0`-`local7`, `user` or `daemon`.
pub fn parse_facility(text: &str) -> Option<Facility> {
    let local = |n: u32| match n {
        0 => Some(Facility::LOG_LOCAL0),
        1 => Some(Facility::LOG_LOCAL1),
        2 => Some(Facility::LOG_LOCAL2),
        3 => Some(Facility::LOG_LOCAL3),
        4 => Some(Facility::LOG_LOCAL4),
        5 => Some(Facility::LOG_LOCAL5),
        6 => Some(Facility::LOG_LOCAL6),
        7 => Some(Facility::LOG_LOCAL7),
        _ => None,
    };
    let lower = text.to_ascii_lowercase();
    match lower.as_str() {
        "user" => Some(Facility::LOG_USER),
        "daemon" => Some(Facility::LOG_DAEMON),
        _ => {
            let digits = lower.strip_prefix("local").unwrap_or(&lower);
            if digits.len() == 1 {
                digits.parse().ok().and_then(local)
            } else {
                None
            }
        }
    }
}

type SyslogWriter = syslog::Logger<LoggerBackend, Formatter3164>;

struct Sink {
    settings: LogSettings,
    syslog: Option<SyslogWriter>,
    file: Option<File>,
    /// stderr is the journal: `<N>` prefixes instead of time stamps.
    journal: bool,
}

struct KaLogger {
    sink: Mutex<Option<Sink>>,
}

static LOGGER: KaLogger = KaLogger {
    sink: Mutex::new(None),
};

fn connect(settings: &LogSettings, ident: &str) -> Option<SyslogWriter> {
    if !settings.syslog {
        return None;
    }
    let formatter = Formatter3164 {
        facility: settings.facility,
        hostname: None,
        process: ident.to_string(),
        pid: std::process::id(),
    };
    syslog::unix(formatter).ok()
}

/// The log file of the process named `ident`: the parent's is the `-g` path itself, a
/// child's has its name inserted before the extension (keepalived's `make_file_name`).
pub fn log_file_for(path: &Path, ident: &str) -> PathBuf {
    match ident.strip_prefix(PARENT_IDENT).filter(|s| !s.is_empty()) {
        Some(suffix) => crate::dumpfile::insert_before_extension(path, suffix),
        None => path.to_path_buf(),
    }
}

fn open_log_file(settings: &LogSettings, ident: &str) -> Option<File> {
    let path = log_file_for(settings.log_file.as_deref()?, ident);
    match std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .mode(0o640)
        .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
        .open(&path)
    {
        Ok(f) => Some(f),
        Err(e) => {
            // The logger is not usable yet for this: say it where it can be seen.
            eprintln!("cannot open log file {}: {e}", path.display());
            None
        }
    }
}

/// Whether stderr is the systemd journal: `$JOURNAL_STREAM` is `DEV:INODE` of our stderr.
pub fn stderr_is_journal() -> bool {
    let Some(value) = std::env::var_os("JOURNAL_STREAM") else {
        return false;
    };
    let Some((dev, ino)) = value.to_str().and_then(|v| v.split_once(':')) else {
        return false;
    };
    let (Ok(dev), Ok(ino)) = (dev.parse::<u64>(), ino.parse::<u64>()) else {
        return false;
    };
    match nix::sys::stat::fstat(std::io::stderr()) {
        Ok(st) => st.st_dev == dev && st.st_ino == ino,
        Err(_) => false,
    }
}

/// The syslog priority number of a level (sd-daemon's `<N>` prefix).
pub fn priority(level: log::Level) -> u8 {
    match level {
        log::Level::Error => 3,
        log::Level::Warn => 4,
        log::Level::Info => 6,
        log::Level::Debug | log::Level::Trace => 7,
    }
}

/// One console line: `<N>text` for the journal, else keepalived's `time: text`.
pub fn console_line(journal: bool, level: log::Level, unix_secs: u64, text: &str) -> String {
    if journal {
        format!("<{}>{text}", priority(level))
    } else {
        format!("{}: {text}", console_time(unix_secs))
    }
}

/// Installs the logger (once per process; later calls only change the settings and ident).
pub fn init(settings: LogSettings, ident: &str) {
    let syslog = connect(&settings, ident);
    let file = open_log_file(&settings, ident);
    let journal = settings.console && stderr_is_journal();
    let detail = settings.detail;
    if let Ok(mut sink) = LOGGER.sink.lock() {
        *sink = Some(Sink {
            settings,
            syslog,
            file,
            journal,
        });
    }
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(if detail {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    });
}

/// After fork: log as `ident` with this process's pid (reconnects to syslog, opens the
/// process's own log file).
pub fn set_ident(ident: &str) {
    if let Ok(mut guard) = LOGGER.sink.lock() {
        if let Some(sink) = guard.as_mut() {
            sink.syslog = connect(&sink.settings, ident);
            sink.file = open_log_file(&sink.settings, ident);
        }
    }
}

/// The log file's descriptor, if any (kept by a forked child only through [`set_ident`]).
pub fn log_file_fd() -> Option<std::os::fd::RawFd> {
    use std::os::fd::AsRawFd;
    let guard = LOGGER.sink.lock().ok()?;
    guard.as_ref()?.file.as_ref().map(File::as_raw_fd)
}

impl log::Log for KaLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let Ok(mut guard) = self.sink.lock() else {
            return;
        };
        let Some(sink) = guard.as_mut() else {
            return;
        };
        let text = record.args().to_string();
        let now = || {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0)
        };
        if sink.settings.console {
            let line = console_line(sink.journal, record.level(), now(), &text);
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        }
        if let Some(file) = sink.file.as_mut() {
            let line = console_line(false, record.level(), now(), &text);
            // One write per line: appends of concurrent processes never interleave.
            let _ = file.write_all(format!("{line}\n").as_bytes());
            if sink.settings.flush_log_file {
                let _ = file.flush();
            }
        }
        if let Some(writer) = sink.syslog.as_mut() {
            let _ = match record.level() {
                log::Level::Error => writer.err(&text),
                log::Level::Warn => writer.warning(&text),
                log::Level::Info => writer.info(&text),
                log::Level::Debug | log::Level::Trace => writer.debug(&text),
            };
        }
    }

    fn flush(&self) {
        let _ = std::io::stderr().flush();
    }
}

/// keepalived's console time stamp (`Sun Nov 22 19:13:38 2026`), in UTC.
pub use keepalived_sys::time_fmt::ctime as console_time;

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_facility(text: &str) -> Option<i32> {
        super::parse_facility(text).map(|f| f as i32)
    }

    #[test]
    fn facilities() {
        assert_eq!(parse_facility("daemon"), Some(Facility::LOG_DAEMON as i32));
        assert_eq!(parse_facility("user"), Some(Facility::LOG_USER as i32));
        assert_eq!(parse_facility("0"), Some(Facility::LOG_LOCAL0 as i32));
        assert_eq!(parse_facility("7"), Some(Facility::LOG_LOCAL7 as i32));
        assert_eq!(parse_facility("local3"), Some(Facility::LOG_LOCAL3 as i32));
        assert_eq!(parse_facility("LOCAL5"), Some(Facility::LOG_LOCAL5 as i32));
        assert_eq!(parse_facility("8"), None);
        assert_eq!(parse_facility("local12"), None);
        assert_eq!(parse_facility("kern"), None);
    }

    #[test]
    fn journal_lines_carry_priorities() {
        assert_eq!(console_line(true, log::Level::Error, 0, "boom"), "<3>boom");
        assert_eq!(console_line(true, log::Level::Warn, 0, "w"), "<4>w");
        assert_eq!(console_line(true, log::Level::Info, 0, "i"), "<6>i");
        assert_eq!(console_line(true, log::Level::Debug, 0, "d"), "<7>d");
        assert_eq!(
            console_line(false, log::Level::Info, 0, "i"),
            "Thu Jan  1 00:00:00 1970: i"
        );
    }

    #[test]
    fn journal_stream_must_match_stderr() {
        // Not set, or not our stderr's device and inode: plain console lines.
        if std::env::var_os("JOURNAL_STREAM").is_none() {
            assert!(!stderr_is_journal());
        }
    }

    #[test]
    fn children_get_their_own_log_file() {
        let p = Path::new("/var/log/keepalived.log");
        assert_eq!(log_file_for(p, PARENT_IDENT), p);
        assert_eq!(
            log_file_for(p, "Keepalived_vrrp"),
            Path::new("/var/log/keepalived_vrrp.log")
        );
        assert_eq!(
            log_file_for(p, "Keepalived_healthcheckers"),
            Path::new("/var/log/keepalived_healthcheckers.log")
        );
    }

    #[test]
    fn console_time_matches_ctime() {
        assert_eq!(console_time(0), "Thu Jan  1 00:00:00 1970");
        // 2026-11-22 19:13:38 UTC, as keepalived printed it in the lab.
        assert_eq!(console_time(1_795_374_818), "Sun Nov 22 19:13:38 2026");
        assert_eq!(console_time(951_782_400), "Tue Feb 29 00:00:00 2000");
    }
}
