//! What each signal asks of the parent (keepalived's `--signum` functions).

use nix::sys::signal::Signal;

/// A request carried by a signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignalAction {
    /// SIGTERM / SIGINT: stop the daemon.
    Stop,
    /// SIGHUP: re-read the configuration.
    Reload,
    /// SIGUSR1: write the data dump.
    DumpData,
    /// SIGUSR2: write the statistics.
    Stats,
    /// SIGCHLD: reap children.
    ChildExited,
    /// Anything else: ignored.
    Ignore,
}

/// The action for signal number `signo`.
pub fn action_for(signo: i32) -> SignalAction {
    match Signal::try_from(signo) {
        Ok(Signal::SIGTERM | Signal::SIGINT) => SignalAction::Stop,
        Ok(Signal::SIGHUP) => SignalAction::Reload,
        Ok(Signal::SIGUSR1) => SignalAction::DumpData,
        Ok(Signal::SIGUSR2) => SignalAction::Stats,
        Ok(Signal::SIGCHLD) => SignalAction::ChildExited,
        _ => SignalAction::Ignore,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keepalived_signal_numbers() {
        assert_eq!(action_for(15), SignalAction::Stop);
        assert_eq!(action_for(2), SignalAction::Stop);
        assert_eq!(action_for(1), SignalAction::Reload);
        assert_eq!(action_for(10), SignalAction::DumpData);
        assert_eq!(action_for(12), SignalAction::Stats);
        assert_eq!(action_for(17), SignalAction::ChildExited);
        assert_eq!(action_for(36), SignalAction::Ignore);
        assert_eq!(action_for(-1), SignalAction::Ignore);
    }
}
