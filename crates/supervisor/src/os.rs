//! The few OS calls the parent makes, in one place, all through `keepalived-sys` (the only
//! crate allowed `unsafe`): pid-file locks, the signalfd, reaping, fork, socketpairs,
//! daemonising, subreaper and parent-death signal.

use crate::children::ChildExit;
use keepalived_sys::process::{self, ExitKind, Pid};
use keepalived_sys::{PidFile, SignalFd, SysError};
use nix::sys::signal::Signal;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::path::{Path, PathBuf};

pub use keepalived_sys::SignalInfo;

/// Why a pid file could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    /// Another process holds the lock.
    #[error("{path}: daemon is already running (pid {pid:?})")]
    AlreadyRunning {
        /// The pid file.
        path: PathBuf,
        /// The pid written in it, if readable.
        pid: Option<i32>,
    },
    /// Opening, locking or writing failed.
    #[error("{0}")]
    Sys(#[from] SysError),
}

/// A pid file, created with `O_NOFOLLOW`, mode 0644, and write-locked with an open-file-
/// description lock for as long as its descriptor is open (also across fork and daemonise).
#[derive(Debug)]
pub struct PidLock(PidFile);

impl PidLock {
    /// Creates (or opens) and locks `path`, then writes `pid` into it.
    pub fn create(path: &Path, pid: i32) -> Result<Self, PidFileError> {
        let file = PidFile::create(path).map_err(|e| match e {
            keepalived_sys::PidFileError::AlreadyRunning { pid } => PidFileError::AlreadyRunning {
                path: path.to_path_buf(),
                pid,
            },
            keepalived_sys::PidFileError::Sys(e) => PidFileError::Sys(e),
        })?;
        let mut me = Self(file);
        me.write_pid(pid)?;
        Ok(me)
    }

    /// Replaces the pid in the file.
    pub fn write_pid(&mut self, pid: i32) -> Result<(), SysError> {
        self.0.write_pid(pid)
    }

    /// The file's path.
    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// The locked descriptor (a forked child closes it).
    pub fn raw_fd(&self) -> RawFd {
        self.0.as_raw_fd()
    }

    /// Unlinks the file, then releases the lock.
    pub fn remove(self) {
        if let Err(e) = self.0.remove() {
            log::debug!("{e}");
        }
    }
}

/// The signals the parent takes through its signalfd.
pub const PARENT_SIGNALS: [Signal; 6] = [
    Signal::SIGTERM,
    Signal::SIGINT,
    Signal::SIGHUP,
    Signal::SIGUSR1,
    Signal::SIGUSR2,
    Signal::SIGCHLD,
];

/// Blocks `signals` and returns a non-blocking signalfd for them.
pub fn signal_fd(signals: &[Signal]) -> Result<SignalFd, SysError> {
    SignalFd::new(signals)
}

/// Unblocks every signal (a forked child starts from a clean mask; its loop blocks what it
/// handles itself).
pub fn unblock_all_signals() -> Result<(), SysError> {
    keepalived_sys::signals::unblock_all()
}

/// Reaps every child that has ended, without blocking.
pub fn reap() -> Vec<(i32, ChildExit)> {
    process::reap()
        .into_iter()
        .map(|(pid, how)| {
            let how = match how {
                ExitKind::Exited(c) => ChildExit::Exited(c),
                ExitKind::Signaled(s) => ChildExit::Signaled(s),
            };
            (pid.as_raw(), how)
        })
        .collect()
}

/// A connected pair of Unix stream sockets, close-on-exec.
pub fn socketpair_stream() -> Result<(OwnedFd, OwnedFd), SysError> {
    process::socketpair_stream()
}

/// Which side of a fork we are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// The parent, with the child's pid.
    Parent(i32),
    /// The child.
    Child,
}

/// fork(2). Only called while the process is single-threaded (the parent never starts one).
pub fn fork() -> Result<Forked, SysError> {
    match process::fork()? {
        process::Forked::Parent { child } => Ok(Forked::Parent(child.as_raw())),
        process::Forked::Child => Ok(Forked::Child),
    }
}

/// Detaches from the terminal: fork, setsid, chdir /, stdio to /dev/null.
pub fn daemonize() -> Result<(), SysError> {
    process::daemonize()
}

/// Makes orphaned grandchildren (scripts) ours to reap.
pub fn set_child_subreaper() -> Result<(), SysError> {
    process::set_child_subreaper()
}

/// In a child: get SIGTERM when the parent dies.
pub fn set_pdeathsig() -> Result<(), SysError> {
    process::set_pdeathsig(Signal::SIGTERM)
}

/// Closes a descriptor inherited across fork that this process must not keep.
pub fn close_inherited(fd: RawFd) {
    let _ = nix::unistd::close(fd);
}

/// Sends `sig` to `pid`.
pub fn kill(pid: i32, sig: Signal) -> Result<(), SysError> {
    keepalived_sys::signals::send(Pid::from_raw(pid), sig)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_lock_refuses_second_holder() {
        let dir = std::env::temp_dir().join(format!("ka-sup-pid-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("p.pid");
        let first = PidLock::create(&path, 1234).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "1234\n");
        match PidLock::create(&path, 99) {
            Err(PidFileError::AlreadyRunning { pid, .. }) => assert_eq!(pid, Some(1234)),
            other => panic!("expected AlreadyRunning, got {other:?}"),
        }
        first.remove();
        assert!(!path.exists());
        let again = PidLock::create(&path, 5).unwrap();
        again.remove();
        let _ = std::fs::remove_dir_all(&dir);
    }
}
