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

/// The realtime signals keepalived also answers to (`--signum=JSON`, `--signum=STATS_CLEAR`).
///
/// A signalfd set is built from `nix::Signal`, which has no realtime signals, so these two go
/// through signal-hook's self-pipe instead: the handler writes a byte to a socket that the
/// event loop polls. No thread is involved. Without a handler the default action of a realtime
/// signal would terminate the daemon.
pub mod realtime {
    use signal_hook::SigId;
    use std::io::{ErrorKind, Read};
    use std::os::fd::{AsRawFd, RawFd};
    use std::os::unix::net::UnixStream;

    /// keepalived's JSON dump signal: `SIGRTMIN + 2`.
    pub fn json_signal() -> i32 {
        libc::SIGRTMIN() + 2
    }

    /// keepalived's STATS_CLEAR signal: `SIGRTMAX - 1`.
    pub fn stats_clear_signal() -> i32 {
        libc::SIGRTMAX() - 1
    }

    /// One realtime signal wired to a readable socket.
    #[derive(Debug)]
    pub struct SelfPipe {
        read: UnixStream,
        id: SigId,
    }

    impl SelfPipe {
        /// Installs a handler for `signo` that wakes [`SelfPipe::raw_fd`].
        pub fn install(signo: i32) -> std::io::Result<Self> {
            let (read, write) = UnixStream::pair()?;
            read.set_nonblocking(true)?;
            let id = signal_hook::low_level::pipe::register(signo, write)?;
            Ok(Self { read, id })
        }

        /// The descriptor to poll.
        pub fn raw_fd(&self) -> RawFd {
            self.read.as_raw_fd()
        }

        /// Consumes the wake-ups; true if the signal arrived (once or more) since last time.
        pub fn drain(&mut self) -> bool {
            let mut buf = [0u8; 64];
            let mut got = false;
            loop {
                match self.read.read(&mut buf) {
                    Ok(0) => return got,
                    Ok(_) => got = true,
                    Err(e) if e.kind() == ErrorKind::Interrupted => {}
                    Err(_) => return got,
                }
            }
        }

        /// In a forked child: detach the handler (its write end is closed; the signal is then
        /// ignored by this process) and close the read end.
        pub fn uninstall(self) {
            signal_hook::low_level::unregister(self.id);
        }
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn keepalived_numbers_on_glibc() {
            assert_eq!(json_signal(), 36);
            assert_eq!(stats_clear_signal(), 63);
        }
    }
}
