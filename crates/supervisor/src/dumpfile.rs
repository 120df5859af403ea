//! Writing a dump a child produced to keepalived's file.
//!
//! Where: `$TMPDIR` (else `/tmp`) with keepalived's names, unless global_defs `state_dump_file`,
//! `stats_dump_file` or `json_dump_file` names a file (or a directory, when it ends in `/`).
//!
//! How: the directory is opened with `O_NOFOLLOW` (a directory that is a symlink, e.g. `/tmp`
//! replaced by one, is refused), the name is checked with `lstat` (a symlink or anything but a
//! regular file planted there is refused), the text goes to a fresh temporary in that same
//! directory (`O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600) which is then renamed over the name
//! relative to the directory descriptor, so a reader never sees half a file and nothing is ever
//! written through a link. A failed write (disk full) removes the temporary.
//!
//! Only the last component of the directory is checked: `/var/run -> /run` style links higher up
//! are normal on many systems.

use nix::errno::Errno;
use nix::fcntl::{openat, renameat, AtFlags, OFlag};
use nix::sys::stat::{fstatat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::path::{Path, PathBuf};

/// keepalived's dump directory: `$TMPDIR`, else `/tmp`.
pub fn tmp_dir() -> PathBuf {
    std::env::var_os("TMPDIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

/// Which file a dump goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DumpKind {
    /// SIGUSR1, the VRRP child's part: `keepalived.data`.
    VrrpData,
    /// SIGUSR1, the checker child's part: `keepalived_check.data`.
    CheckData,
    /// SIGUSR2 / STATS_CLEAR: `keepalived.stats`.
    Stats,
    /// The JSON signal: `keepalived.json`.
    Json,
}

impl DumpKind {
    /// keepalived's default file name.
    pub fn default_name(self) -> &'static str {
        match self {
            DumpKind::VrrpData => "keepalived.data",
            DumpKind::CheckData => "keepalived_check.data",
            DumpKind::Stats => "keepalived.stats",
            DumpKind::Json => "keepalived.json",
        }
    }

    /// The global_defs keyword that moves this file.
    pub fn keyword(self) -> &'static str {
        match self {
            DumpKind::VrrpData | DumpKind::CheckData => "state_dump_file",
            DumpKind::Stats => "stats_dump_file",
            DumpKind::Json => "json_dump_file",
        }
    }
}

/// The path of a dump: `configured` is the value of [`DumpKind::keyword`] if set (the last one
/// wins), `tmp` the dump directory ([`tmp_dir`]).
///
/// A configured directory (`/var/lib/ka/`) gets keepalived's default name; a configured file
/// is used as it is for the VRRP part, and the checker's part of the data dump inserts `_check`
/// before its extension (`ka.data` -> `ka_check.data`). A relative name is taken in `tmp`.
pub fn dump_path(kind: DumpKind, configured: Option<&str>, tmp: &Path) -> PathBuf {
    let Some(conf) = configured.filter(|c| !c.is_empty()) else {
        return tmp.join(kind.default_name());
    };
    let base = tmp.join(conf);
    if conf.ends_with('/') {
        return base.join(kind.default_name());
    }
    if kind == DumpKind::CheckData {
        return insert_before_extension(&base, "_check");
    }
    base
}

/// `/a/b.log` + `_vrrp` -> `/a/b_vrrp.log`; `/a/b` -> `/a/b_vrrp` (keepalived's
/// `make_file_name`: the extension is what follows the last dot of the file name).
pub fn insert_before_extension(path: &Path, suffix: &str) -> PathBuf {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        return PathBuf::from(p);
    };
    let new_name = match name.rfind('.').filter(|&i| i > 0) {
        Some(i) => format!(
            "{}{suffix}{}",
            name.get(..i).unwrap_or(name),
            name.get(i..).unwrap_or("")
        ),
        None => format!("{name}{suffix}"),
    };
    path.with_file_name(new_name)
}

/// Why a dump file was not written.
#[derive(Debug, thiserror::Error)]
pub enum DumpError {
    /// The path has no file name.
    #[error("{0}: not a file name")]
    NoFileName(PathBuf),
    /// The directory is a symlink, or not a directory, or cannot be opened.
    #[error("cannot use directory {dir} for dumps (a symlink is never followed): {source}")]
    Directory {
        /// The directory.
        dir: PathBuf,
        /// From open(2) with `O_DIRECTORY|O_NOFOLLOW`.
        source: Errno,
    },
    /// A symlink sits at the dump's name.
    #[error("refusing to write {0}: it is a symbolic link")]
    TargetIsSymlink(PathBuf),
    /// Something other than a regular file sits at the dump's name.
    #[error("refusing to write {0}: it is not a regular file")]
    TargetNotRegular(PathBuf),
    /// The name could not be checked.
    #[error("cannot check {path}: {source}")]
    Stat {
        /// The dump's path.
        path: PathBuf,
        /// From lstat.
        source: Errno,
    },
    /// The temporary could not be created.
    #[error("cannot create {path}: {source}")]
    Create {
        /// The temporary's path.
        path: PathBuf,
        /// From open(2).
        source: Errno,
    },
    /// Writing failed (disk full, quota); the temporary was removed.
    #[error("cannot write {path}: {source} (nothing written, the previous file is kept)")]
    Write {
        /// The dump's path.
        path: PathBuf,
        /// From write(2) or fsync(2).
        source: std::io::Error,
    },
    /// Renaming the temporary into place failed; the temporary was removed.
    #[error("cannot rename into {path}: {source}")]
    Rename {
        /// The dump's path.
        path: PathBuf,
        /// From rename(2).
        source: Errno,
    },
}

/// Writes `text` to `path` atomically, never through a symlink; see the module docs.
pub fn write_dump(path: &Path, text: &str) -> Result<(), DumpError> {
    let name = path
        .file_name()
        .ok_or_else(|| DumpError::NoFileName(path.to_path_buf()))?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let dir_fd: OwnedFd = nix::fcntl::open(
        dir,
        OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_RDONLY | OFlag::O_CLOEXEC,
        Mode::empty(),
    )
    .map_err(|source| DumpError::Directory {
        dir: dir.to_path_buf(),
        source,
    })?;
    match fstatat(dir_fd.as_fd(), name, AtFlags::AT_SYMLINK_NOFOLLOW) {
        Ok(st) => {
            let kind = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT;
            if kind == SFlag::S_IFLNK {
                return Err(DumpError::TargetIsSymlink(path.to_path_buf()));
            }
            if kind != SFlag::S_IFREG {
                return Err(DumpError::TargetNotRegular(path.to_path_buf()));
            }
        }
        Err(Errno::ENOENT) => {}
        Err(source) => {
            return Err(DumpError::Stat {
                path: path.to_path_buf(),
                source,
            })
        }
    }
    let tmp_name = format!(".{}.{}.tmp", name.to_string_lossy(), std::process::id());
    let _ = unlinkat(
        dir_fd.as_fd(),
        tmp_name.as_str(),
        UnlinkatFlags::NoRemoveDir,
    );
    let file_fd = openat(
        dir_fd.as_fd(),
        tmp_name.as_str(),
        OFlag::O_WRONLY | OFlag::O_CREAT | OFlag::O_EXCL | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC,
        Mode::from_bits_truncate(0o600),
    )
    .map_err(|source| DumpError::Create {
        path: dir.join(&tmp_name),
        source,
    })?;
    let mut file = std::fs::File::from(file_fd);
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_data());
    drop(file);
    if let Err(source) = written {
        let _ = unlinkat(
            dir_fd.as_fd(),
            tmp_name.as_str(),
            UnlinkatFlags::NoRemoveDir,
        );
        return Err(DumpError::Write {
            path: path.to_path_buf(),
            source,
        });
    }
    if let Err(source) = renameat(dir_fd.as_fd(), tmp_name.as_str(), dir_fd.as_fd(), name) {
        let _ = unlinkat(
            dir_fd.as_fd(),
            tmp_name.as_str(),
            UnlinkatFlags::NoRemoveDir,
        );
        return Err(DumpError::Rename {
            path: path.to_path_buf(),
            source,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ka-dump-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn leftovers(dir: &Path) -> Vec<String> {
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect()
    }

    #[test]
    fn default_and_configured_names() {
        let tmp = Path::new("/tmp/x");
        assert_eq!(
            dump_path(DumpKind::VrrpData, None, tmp),
            Path::new("/tmp/x/keepalived.data")
        );
        assert_eq!(
            dump_path(DumpKind::CheckData, None, tmp),
            Path::new("/tmp/x/keepalived_check.data")
        );
        assert_eq!(
            dump_path(DumpKind::Stats, None, tmp),
            Path::new("/tmp/x/keepalived.stats")
        );
        assert_eq!(
            dump_path(DumpKind::Json, Some("/var/lib/ka/"), tmp),
            Path::new("/var/lib/ka/keepalived.json")
        );
        assert_eq!(
            dump_path(DumpKind::VrrpData, Some("/srv/ka.data"), tmp),
            Path::new("/srv/ka.data")
        );
        assert_eq!(
            dump_path(DumpKind::CheckData, Some("/srv/ka.data"), tmp),
            Path::new("/srv/ka_check.data")
        );
        assert_eq!(
            dump_path(DumpKind::Stats, Some("st"), tmp),
            Path::new("/tmp/x/st")
        );
    }

    #[test]
    fn suffix_goes_before_the_extension() {
        let f = |p: &str| insert_before_extension(Path::new(p), "_vrrp");
        assert_eq!(f("/var/log/ka.log"), Path::new("/var/log/ka_vrrp.log"));
        assert_eq!(f("/var/log/ka"), Path::new("/var/log/ka_vrrp"));
        assert_eq!(f("/var/log.d/ka"), Path::new("/var/log.d/ka_vrrp"));
        assert_eq!(f("/x/.hidden"), Path::new("/x/.hidden_vrrp"));
        assert_eq!(f("a.b.c"), Path::new("a.b_vrrp.c"));
    }

    #[test]
    fn writes_atomically_with_mode_0600() {
        let dir = scratch("ok");
        let path = dir.join("keepalived.data");
        write_dump(&path, "one\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_dump(&path, "two\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two\n");
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "a fresh file replaced the old one");
        assert!(leftovers(&dir).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn symlink_at_the_name_is_refused_and_its_target_untouched() {
        let dir = scratch("link");
        let victim = dir.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        let path = dir.join("keepalived.data");
        std::os::unix::fs::symlink(&victim, &path).unwrap();
        let err = write_dump(&path, "dump").unwrap_err();
        assert!(matches!(err, DumpError::TargetIsSymlink(_)), "{err}");
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
        assert!(std::fs::symlink_metadata(&path)
            .unwrap()
            .file_type()
            .is_symlink());
        assert!(leftovers(&dir).is_empty());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn symlinked_directory_is_refused() {
        let dir = scratch("dirlink");
        let real = dir.join("real");
        std::fs::create_dir(&real).unwrap();
        let link = dir.join("tmp");
        std::os::unix::fs::symlink(&real, &link).unwrap();
        let err = write_dump(&link.join("keepalived.data"), "dump").unwrap_err();
        assert!(
            matches!(
                err,
                DumpError::Directory {
                    source: Errno::ELOOP | Errno::ENOTDIR,
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn directory_at_the_name_is_refused() {
        let dir = scratch("isdir");
        let path = dir.join("keepalived.json");
        std::fs::create_dir(&path).unwrap();
        let err = write_dump(&path, "{}").unwrap_err();
        assert!(matches!(err, DumpError::TargetNotRegular(_)), "{err}");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn missing_directory_is_an_error() {
        let dir = scratch("missing");
        let err = write_dump(&dir.join("nope/keepalived.data"), "x").unwrap_err();
        assert!(
            matches!(
                err,
                DumpError::Directory {
                    source: Errno::ENOENT,
                    ..
                }
            ),
            "{err}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
