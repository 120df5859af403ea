//! Pid files guarded by an open-file-description lock, as keepalived does.
//!
//! [`PidFile::create`] opens the file with `O_NOFOLLOW` (a symlink planted at the path is
//! refused), mode 0644, takes an `F_OFD_SETLK` write lock and writes our pid. The lock belongs
//! to the open file description, so it survives `fork` and is held as long as any process keeps
//! the fd: the parent creates every pid file before forking, and each child then records its
//! own pid with [`PidFile::write_pid`].
//!
//! Refinement of the agreed API: [`PidFileError::AlreadyRunning`] carries `Option<i32>` (the
//! holder's file may be empty or garbled); [`PidFile::read_running`] reports a running daemon
//! without taking the lock.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg};

use crate::error::{OsContext, SysError};

/// Why a pid file could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum PidFileError {
    /// Another process holds the lock: the daemon is already running.
    #[error("daemon is already running (pid {})", pid.map_or_else(|| "unknown".to_string(), |p| p.to_string()))]
    AlreadyRunning {
        /// The pid recorded in the file, if it could be read.
        pid: Option<i32>,
    },
    /// Opening, locking or writing failed.
    #[error(transparent)]
    Sys(#[from] SysError),
}

/// A locked pid file; dropping it closes the fd (releasing our share of the lock) but leaves
/// the file, [`PidFile::remove`] deletes it.
#[derive(Debug)]
pub struct PidFile {
    file: File,
    path: PathBuf,
}

fn write_lock() -> libc::flock {
    libc::flock {
        l_type: libc::F_WRLCK as libc::c_short,
        l_whence: libc::SEEK_SET as libc::c_short,
        l_start: 0,
        l_len: 0,
        l_pid: 0, // must be 0 for OFD locks
    }
}

fn parse_pid(text: &str) -> Option<i32> {
    text.trim().parse().ok().filter(|&p: &i32| p > 0)
}

impl PidFile {
    /// Creates (or reuses) and locks the pid file at `path` and writes our pid into it.
    pub fn create(path: impl AsRef<Path>) -> Result<PidFile, PidFileError> {
        let path = path.as_ref().to_path_buf();
        let ctx = || path.display().to_string();
        let mut file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW)
            .open(&path)
            .ctx("open pid file", ctx)?;
        match fcntl(&file, FcntlArg::F_OFD_SETLK(&write_lock())) {
            Ok(_) => {}
            Err(Errno::EAGAIN | Errno::EACCES) => {
                let mut text = String::new();
                let pid = file
                    .read_to_string(&mut text)
                    .ok()
                    .and_then(|_| parse_pid(&text));
                return Err(PidFileError::AlreadyRunning { pid });
            }
            Err(e) => return Err(SysError::os("lock pid file", ctx(), e).into()),
        }
        let mut pidfile = PidFile { file, path };
        pidfile.write_pid(std::process::id() as i32)?;
        Ok(pidfile)
    }

    /// Returns the pid of the process holding the lock on `path`, if any holds it, without
    /// taking the lock (for "is keepalived running?" checks).
    pub fn read_running(path: impl AsRef<Path>) -> Result<Option<Option<i32>>, SysError> {
        let path = path.as_ref();
        let ctx = || path.display().to_string();
        let mut file = match OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW)
            .open(path)
        {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(SysError::os("open pid file", ctx(), e)),
        };
        let mut probe = write_lock();
        fcntl(&file, FcntlArg::F_OFD_GETLK(&mut probe)).ctx("query pid file lock", ctx)?;
        if probe.l_type == libc::F_UNLCK as libc::c_short {
            return Ok(None);
        }
        let mut text = String::new();
        Ok(Some(
            file.read_to_string(&mut text)
                .ok()
                .and_then(|_| parse_pid(&text)),
        ))
    }

    /// Replaces the recorded pid (a child recording itself in the file its parent created).
    pub fn write_pid(&mut self, pid: i32) -> Result<(), SysError> {
        let ctx = || self.path.display().to_string();
        self.file.set_len(0).ctx("truncate pid file", ctx)?;
        self.file
            .seek(SeekFrom::Start(0))
            .ctx("seek pid file", ctx)?;
        self.file
            .write_all(format!("{pid}\n").as_bytes())
            .ctx("write pid file", ctx)?;
        Ok(())
    }

    /// The path of the pid file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Deletes the pid file and releases our share of the lock.
    pub fn remove(self) -> Result<(), SysError> {
        let r = std::fs::remove_file(&self.path)
            .ctx("remove pid file", || self.path.display().to_string());
        drop(self.file);
        r
    }
}

impl AsRawFd for PidFile {
    fn as_raw_fd(&self) -> RawFd {
        self.file.as_raw_fd()
    }
}

impl AsFd for PidFile {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_dir(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("kars-pidfile-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn second_create_reports_the_running_pid() {
        let dir = temp_dir("lock");
        let path = dir.join("keepalived.pid");
        let first = PidFile::create(&path).unwrap();
        let me = std::process::id() as i32;
        assert_eq!(std::fs::read_to_string(&path).unwrap(), format!("{me}\n"));
        // OFD locks conflict between open file descriptions even within one process.
        match PidFile::create(&path) {
            Err(PidFileError::AlreadyRunning { pid }) => assert_eq!(pid, Some(me)),
            other => panic!("expected AlreadyRunning, got {other:?}"),
        }
        assert_eq!(PidFile::read_running(&path).unwrap(), Some(Some(me)));
        first.remove().unwrap();
        assert!(!path.exists());
        assert_eq!(PidFile::read_running(&path).unwrap(), None);
        let again = PidFile::create(&path).unwrap();
        drop(again);
        // A stale file without a lock holder is taken over.
        let mut taken = PidFile::create(&path).unwrap();
        taken.write_pid(42).unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "42\n");
        taken.remove().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn symlink_is_refused() {
        let dir = temp_dir("symlink");
        let target = dir.join("target");
        std::fs::write(&target, "x").unwrap();
        let link = dir.join("keepalived.pid");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = PidFile::create(&link).unwrap_err();
        assert!(
            matches!(&err, PidFileError::Sys(e) if e.errno() == Some(libc::ELOOP)),
            "{err}"
        );
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "x");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn mode_is_0644() {
        use std::os::unix::fs::PermissionsExt;
        let dir = temp_dir("mode");
        let path = dir.join("vrrp.pid");
        let old = nix::sys::stat::umask(nix::sys::stat::Mode::from_bits_truncate(0o022));
        let p = PidFile::create(&path).unwrap();
        nix::sys::stat::umask(old);
        assert_eq!(
            std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o644
        );
        p.remove().unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
