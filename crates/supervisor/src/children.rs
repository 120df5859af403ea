//! The children the parent runs, and what to do when one dies (keepalived's
//! `report_child_status()`), as pure functions over plain data.

use crate::backoff::Backoff;
use std::time::Duration;

/// Which child.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChildKind {
    /// The VRRP child (`crates/vrrpd`).
    Vrrp,
    /// The health-checker child (not implemented yet).
    Checker,
}

impl ChildKind {
    /// How keepalived names the child in the parent's log ("VRRP child process(N) died").
    pub fn label(self) -> &'static str {
        match self {
            ChildKind::Vrrp => "VRRP",
            ChildKind::Checker => "Healthcheck",
        }
    }

    /// The child's syslog ident.
    pub fn ident(self) -> &'static str {
        match self {
            ChildKind::Vrrp => "Keepalived_vrrp",
            ChildKind::Checker => "Keepalived_healthcheckers",
        }
    }
}

/// How a child process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChildExit {
    /// It exited with this status.
    Exited(i32),
    /// This signal killed it.
    Signaled(i32),
}

/// keepalived's exit codes that mean "do not try again": the whole daemon stops.
pub fn permanent_error_name(code: i32) -> Option<&'static str> {
    match code {
        1 => Some("FATAL"),
        2 => Some("CONFIG"),
        4 => Some("MISSING_PERMISSION"),
        _ => None,
    }
}

/// What the parent does after a child died.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterDeath {
    /// Start a new child after this delay.
    Respawn(Duration),
    /// Stop the daemon and exit with this code (the child's permanent error).
    Terminate(u8),
    /// `-R`: stop the daemon (as if SIGTERM was received).
    Exit,
}

/// Decides what follows the death of a child that ran for `lived`, and the log lines to write.
pub fn after_death(
    kind: ChildKind,
    pid: i32,
    exit: ChildExit,
    lived: Duration,
    dont_respawn: bool,
    backoff: &mut Backoff,
) -> (AfterDeath, Vec<String>) {
    let mut lines = Vec::new();
    let label = kind.label();
    if let ChildExit::Signaled(sig) = exit {
        let name = signal_name(sig);
        if sig == 9 {
            lines.push(format!(
                "pid {pid} exited due to signal {sig} ({name}) - has rlimit_rttime been exceeded?"
            ));
        } else {
            lines.push(format!("pid {pid} exited due to signal {sig} ({name})"));
        }
    }
    if let ChildExit::Exited(code) = exit {
        if let Some(name) = permanent_error_name(code) {
            lines.push(format!(
                "pid {pid} exited with permanent error {name}. Terminating"
            ));
            return (
                AfterDeath::Terminate(u8::try_from(code).unwrap_or(1)),
                lines,
            );
        }
        if code != 0 {
            lines.push(format!("pid {pid} exited with status {code}"));
        }
    }
    if dont_respawn {
        lines.push(format!("{label} child process({pid}) died: Exiting"));
        return (AfterDeath::Exit, lines);
    }
    lines.push(format!("{label} child process({pid}) died: Respawning"));
    let delay = backoff.on_death(lived);
    lines.push(format!(
        "Restart of {label} process delayed {} seconds to limit respawn rate",
        delay.as_secs()
    ));
    (AfterDeath::Respawn(delay), lines)
}

/// A short signal name for the log.
pub fn signal_name(sig: i32) -> &'static str {
    match sig {
        1 => "Hangup",
        2 => "Interrupt",
        3 => "Quit",
        4 => "Illegal instruction",
        6 => "Aborted",
        7 => "Bus error",
        8 => "Floating point exception",
        9 => "Killed",
        11 => "Segmentation fault",
        13 => "Broken pipe",
        14 => "Alarm clock",
        15 => "Terminated",
        _ => "signal",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICK: Duration = Duration::from_secs(2);

    #[test]
    fn killed_child_is_respawned_with_backoff() {
        let mut b = Backoff::new();
        let (what, lines) = after_death(
            ChildKind::Vrrp,
            42,
            ChildExit::Signaled(9),
            QUICK,
            false,
            &mut b,
        );
        assert_eq!(what, AfterDeath::Respawn(Duration::ZERO));
        assert_eq!(
            lines,
            [
                "pid 42 exited due to signal 9 (Killed) - has rlimit_rttime been exceeded?",
                "VRRP child process(42) died: Respawning",
                "Restart of VRRP process delayed 0 seconds to limit respawn rate",
            ]
        );
        let (what, _) = after_death(
            ChildKind::Vrrp,
            43,
            ChildExit::Exited(0),
            QUICK,
            false,
            &mut b,
        );
        assert_eq!(what, AfterDeath::Respawn(Duration::from_secs(1)));
    }

    #[test]
    fn permanent_errors_terminate() {
        for (code, name) in [(1, "FATAL"), (2, "CONFIG"), (4, "MISSING_PERMISSION")] {
            let mut b = Backoff::new();
            let (what, lines) = after_death(
                ChildKind::Vrrp,
                7,
                ChildExit::Exited(code),
                QUICK,
                false,
                &mut b,
            );
            assert_eq!(what, AfterDeath::Terminate(code as u8));
            assert_eq!(
                lines,
                [format!(
                    "pid 7 exited with permanent error {name}. Terminating"
                )]
            );
        }
        let mut b = Backoff::new();
        let (what, _) = after_death(
            ChildKind::Checker,
            7,
            ChildExit::Exited(3),
            QUICK,
            false,
            &mut b,
        );
        assert!(matches!(what, AfterDeath::Respawn(_)));
    }

    #[test]
    fn dont_respawn_exits() {
        let mut b = Backoff::new();
        let (what, lines) = after_death(
            ChildKind::Vrrp,
            9,
            ChildExit::Signaled(15),
            QUICK,
            true,
            &mut b,
        );
        assert_eq!(what, AfterDeath::Exit);
        assert_eq!(
            lines.last().map(String::as_str),
            Some("VRRP child process(9) died: Exiting")
        );
    }
}
