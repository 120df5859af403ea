//! Signals delivered through a `signalfd`, so each process's event loop reads them like any
//! other fd (no handlers, no threads).
//!
//! [`SignalFd::new`] blocks the given signals in the calling thread's mask (the only thread:
//! no threads are ever started) and opens a non-blocking, close-on-exec signalfd for them.
//! Standard signals coalesce: one `SIGCHLD` may stand for several dead children, so on
//! `SIGCHLD` always call [`crate::process::reap`], which collects them all.
//!
//! After a fork the child inherits both the blocked mask and the parent's signalfd: it should
//! drop the inherited [`SignalFd`], call [`unblock_all`] and then create its own.
//! Refinement of the agreed API: [`SignalInfo::signal`] converts `signo` to a `Signal`.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};

use nix::sys::signal::{pthread_sigmask, SigSet, SigmaskHow, Signal};
use nix::sys::signalfd::{self, SfdFlags};

use crate::error::{OsContext, Result};

/// One signal read from a [`SignalFd`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SignalInfo {
    /// The signal number.
    pub signo: i32,
    /// The sending process (for `SIGCHLD`: the child that changed state).
    pub pid: i32,
    /// For `SIGCHLD`: exit status or signal number; otherwise 0.
    pub status: i32,
}

impl SignalInfo {
    /// `signo` as a [`Signal`], `None` for realtime signals.
    pub fn signal(&self) -> Option<Signal> {
        Signal::try_from(self.signo).ok()
    }
}

/// A non-blocking signalfd owning its set of blocked signals.
#[derive(Debug)]
pub struct SignalFd {
    fd: signalfd::SignalFd,
}

impl SignalFd {
    /// Blocks `signals` in this thread's mask and opens a signalfd for them.
    pub fn new(signals: &[Signal]) -> Result<Self> {
        let mut mask = SigSet::empty();
        for &s in signals {
            mask.add(s);
        }
        let names = || format!("{signals:?}");
        pthread_sigmask(SigmaskHow::SIG_BLOCK, Some(&mask), None)
            .ctx("sigprocmask SIG_BLOCK", names)?;
        let fd =
            signalfd::SignalFd::with_flags(&mask, SfdFlags::SFD_NONBLOCK | SfdFlags::SFD_CLOEXEC)
                .ctx("signalfd", names)?;
        Ok(SignalFd { fd })
    }

    /// Reads one pending signal; `None` when none is pending.
    pub fn read(&mut self) -> Result<Option<SignalInfo>> {
        let info = self.fd.read_signal().ctx("read signalfd", String::new)?;
        Ok(info.map(|i| SignalInfo {
            signo: i32::try_from(i.ssi_signo).unwrap_or(0),
            pid: i32::try_from(i.ssi_pid).unwrap_or(0),
            status: i.ssi_status,
        }))
    }
}

impl AsRawFd for SignalFd {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for SignalFd {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Empties this thread's blocked-signal mask (for a freshly forked child).
pub fn unblock_all() -> Result<()> {
    pthread_sigmask(SigmaskHow::SIG_SETMASK, Some(&SigSet::empty()), None)
        .ctx("sigprocmask SIG_SETMASK", || "empty set")
}

/// Sends `signal` to process `pid` (e.g. the parent forwarding `SIGHUP` to a child).
pub fn send(pid: nix::unistd::Pid, signal: Signal) -> Result<()> {
    nix::sys::signal::kill(pid, signal).ctx("kill", || format!("pid {pid} {signal}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_sent_signal_is_read_with_our_pid() {
        // The test harness runs tests on threads: block only on this thread, and raise the
        // signal at this thread (raise = pthread_kill(self)), so nothing else sees it.
        let mut sfd = SignalFd::new(&[Signal::SIGUSR2]).unwrap();
        assert_eq!(sfd.read().unwrap(), None);
        nix::sys::signal::raise(Signal::SIGUSR2).unwrap();
        let info = sfd.read().unwrap().expect("pending SIGUSR2");
        assert_eq!(info.signal(), Some(Signal::SIGUSR2));
        assert_eq!(info.pid, std::process::id() as i32);
        assert_eq!(sfd.read().unwrap(), None);
    }
}
