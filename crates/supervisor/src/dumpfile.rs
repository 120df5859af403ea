//! Writing a dump the child produced to keepalived's file: `$TMPDIR` (else `/tmp`), a root-only
//! file written through a fresh temporary (`O_EXCL|O_NOFOLLOW`) and renamed into place, so a
//! reader never sees half a file and a planted symlink is never followed.

use nix::fcntl::OFlag;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

/// keepalived's dump directory: `$TMPDIR`, else `/tmp`.
pub fn tmp_dir() -> PathBuf {
    std::env::var_os("TMPDIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/tmp"))
}

/// Writes `text` to `tmp_dir()/name` atomically; returns the path written.
pub fn write_dump(name: &str, text: &str) -> std::io::Result<PathBuf> {
    let dir = tmp_dir();
    let path = dir.join(name);
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags((OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC).bits())
        .open(&tmp)?;
    let written = file
        .write_all(text.as_bytes())
        .and_then(|()| file.sync_data());
    if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &path)) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    Ok(path)
}
