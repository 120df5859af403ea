//! The files FILE_CHECK follows (`track_file` blocks), watched as keepalived does
//! (`track_file.c`): inotify on each file's directory for `IN_CLOSE_WRITE`, `IN_MOVE` and
//! `IN_DELETE`, so a file that does not exist yet, or is replaced by a rename, is still seen.
//! A written or moved-in file is read again; a deleted or moved-away one reads 0.

use keepalived_check::filecheck::{parse_value, READ_LIMIT};
use keepalived_config::model::TrackFile;
use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};
use nix::sys::inotify::{AddWatchFlags, InitFlags, Inotify, WatchDescriptor};
use std::ffi::OsString;
use std::io::Read as _;
use std::os::fd::{AsFd, AsRawFd};
use std::path::{Path, PathBuf};

/// One followed file.
#[derive(Debug)]
pub struct WatchedFile {
    /// The `track_file` block name.
    pub name: String,
    /// The file.
    pub path: PathBuf,
    /// The last value read.
    pub value: i64,
    wd: Option<WatchDescriptor>,
}

/// Every followed file and the inotify instance watching their directories.
pub struct FileWatch {
    /// The files, in the order FILE_CHECKs refer to them.
    pub files: Vec<WatchedFile>,
    inotify: Option<Inotify>,
}

/// Reads a tracked file's value: 0 when it is missing or empty, `None` when its number is out
/// of range (ignored, keepalived's "Invalid number").
pub fn read_value(path: &Path) -> Option<i64> {
    let Ok(mut f) = std::fs::File::open(path) else {
        return Some(0);
    };
    let mut buf = [0u8; READ_LIMIT];
    let n = f.read(&mut buf).unwrap_or(0);
    parse_value(buf.get(..n).unwrap_or_default())
}

impl FileWatch {
    /// Nothing watched.
    pub fn empty() -> Self {
        Self {
            files: Vec::new(),
            inotify: None,
        }
    }

    /// Follows the `track_file` blocks `wanted` names (each once), reading their values now.
    pub fn new<'a>(blocks: &[TrackFile], wanted: impl IntoIterator<Item = &'a str>) -> Self {
        let mut me = Self::empty();
        for name in wanted {
            if me.index(name).is_some() {
                continue;
            }
            let Some(block) = blocks.iter().find(|b| b.name == name) else {
                continue;
            };
            let Some(file) = &block.file else {
                continue;
            };
            let path = PathBuf::from(file);
            let value = read_value(&path).unwrap_or_else(|| {
                log::info!("Invalid number read from {} - ignoring", path.display());
                0
            });
            me.files.push(WatchedFile {
                name: name.to_string(),
                path,
                value,
                wd: None,
            });
        }
        if me.files.is_empty() {
            return me;
        }
        match Inotify::init(InitFlags::IN_NONBLOCK | InitFlags::IN_CLOEXEC) {
            Ok(ino) => {
                for f in &mut me.files {
                    let dir = match f.path.parent() {
                        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                        _ => PathBuf::from("."),
                    };
                    let flags = AddWatchFlags::IN_CLOSE_WRITE
                        | AddWatchFlags::IN_DELETE
                        | AddWatchFlags::IN_MOVE;
                    match ino.add_watch(&dir, flags) {
                        Ok(wd) => f.wd = Some(wd),
                        Err(e) => log::error!(
                            "Track file directory for {} ({}) cannot be watched: {e}",
                            f.name,
                            dir.display()
                        ),
                    }
                }
                me.inotify = Some(ino);
            }
            Err(e) => log::error!("Unable to monitor track files: {e}"),
        }
        me
    }

    /// The position of the file of block `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.files.iter().position(|f| f.name == name)
    }

    /// Registers the inotify descriptor with the loop.
    pub fn register(&self, registry: &Registry, token: Token) {
        if let Some(ino) = &self.inotify {
            let fd = ino.as_fd().as_raw_fd();
            if let Err(e) = registry.register(&mut SourceFd(&fd), token, Interest::READABLE) {
                log::error!("Unable to monitor track files: {e}");
            }
        }
    }

    /// Unregisters the inotify descriptor (it closes when `self` is dropped).
    pub fn deregister(&self, registry: &Registry) {
        if let Some(ino) = &self.inotify {
            let fd = ino.as_fd().as_raw_fd();
            let _ = registry.deregister(&mut SourceFd(&fd));
        }
    }

    /// Reads the pending inotify events; returns the files whose value changed, with their
    /// previous value.
    pub fn changes(&mut self) -> Vec<(usize, i64)> {
        let mut changed = Vec::new();
        let Some(ino) = &self.inotify else {
            return changed;
        };
        loop {
            let events = match ino.read_events() {
                Ok(ev) if !ev.is_empty() => ev,
                _ => break,
            };
            for ev in events {
                if ev.mask.contains(AddWatchFlags::IN_ISDIR) {
                    continue;
                }
                let gone = ev
                    .mask
                    .intersects(AddWatchFlags::IN_DELETE | AddWatchFlags::IN_MOVED_FROM);
                for (i, f) in self.files.iter_mut().enumerate() {
                    if f.wd != Some(ev.wd) || ev.name.as_ref() != file_part(&f.path).as_ref() {
                        continue;
                    }
                    let value = if gone { Some(0) } else { read_value(&f.path) };
                    let Some(value) = value else {
                        log::info!("Invalid number read from {} - ignoring", f.path.display());
                        continue;
                    };
                    if value != f.value {
                        changed.push((i, f.value));
                        f.value = value;
                    }
                }
            }
        }
        changed
    }
}

fn file_part(path: &Path) -> Option<OsString> {
    path.file_name().map(|n| n.to_os_string())
}
