//! The process-wide logger: keepalived's console format (`-l`) and syslog (facility from `-S`,
//! ident `Keepalived` in the parent, `Keepalived_vrrp` in the VRRP child).
//!
//! One `log::Log` is installed for the life of the process; a forked child keeps it and only
//! switches the ident (and pid) with [`set_ident`]. The syslog connection is a plain Unix
//! datagram socket written synchronously: no thread is ever started.

use std::io::Write;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};
use syslog::{Facility, Formatter3164, LoggerBackend};

/// Ident of the parent process in syslog.
pub const PARENT_IDENT: &str = "Keepalived";

/// Where log lines go.
#[derive(Debug, Clone, Copy)]
pub struct LogSettings {
    /// `-l`: also print to stderr, keepalived's console format.
    pub console: bool,
    /// Send to syslog (`-G` turns it off).
    pub syslog: bool,
    /// Syslog facility (`-S`, default daemon).
    pub facility: Facility,
    /// `-D`: debug detail.
    pub detail: bool,
}

impl Default for LogSettings {
    fn default() -> Self {
        Self {
            console: false,
            syslog: true,
            facility: Facility::LOG_DAEMON,
            detail: false,
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

/// Installs the logger (once per process; later calls only change the settings and ident).
pub fn init(settings: LogSettings, ident: &str) {
    let syslog = connect(&settings, ident);
    if let Ok(mut sink) = LOGGER.sink.lock() {
        *sink = Some(Sink { settings, syslog });
    }
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(if settings.detail {
        log::LevelFilter::Debug
    } else {
        log::LevelFilter::Info
    });
}

/// After fork: log as `ident` with this process's pid (reconnects to syslog).
pub fn set_ident(ident: &str) {
    if let Ok(mut guard) = LOGGER.sink.lock() {
        if let Some(sink) = guard.as_mut() {
            sink.syslog = connect(&sink.settings, ident);
        }
    }
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
        if sink.settings.console {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or(0);
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{}: {text}", console_time(now));
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
pub fn console_time(unix_secs: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let days = unix_secs / 86_400;
    let secs = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    let weekday = DAYS.get((days % 7) as usize).copied().unwrap_or("???");
    let month_name = MONTHS
        .get(month.saturating_sub(1) as usize)
        .copied()
        .unwrap_or("???");
    format!(
        "{weekday} {month_name} {day:2} {:02}:{:02}:{:02} {year}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31) in the proleptic Gregorian calendar.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

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
    fn console_time_matches_ctime() {
        assert_eq!(console_time(0), "Thu Jan  1 00:00:00 1970");
        // 2026-11-22 19:13:38 UTC, as keepalived printed it in the lab.
        assert_eq!(console_time(1_795_374_818), "Sun Nov 22 19:13:38 2026");
        assert_eq!(console_time(951_782_400), "Tue Feb 29 00:00:00 2000");
    }
}
