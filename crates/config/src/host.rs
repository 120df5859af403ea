//! Facts about the running system that keepalived's configuration checks consult.
//!
//! keepalived looks at the live system while validating (does this interface exist, is this
//! script file owned by root, can this user be resolved). This crate stays pure: the caller
//! passes those facts in through [`Host`]. The CLI implements it against the real system;
//! tests use [`AssumeAll`] or a hand-made fake.

use serde::{Deserialize, Serialize};
use std::path::Path;

/// Ownership and permissions of a file, as `stat(2)` reports them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileMeta {
    /// Owner user id.
    pub uid: u32,
    /// Owner group id.
    pub gid: u32,
    /// Permission bits (`st_mode & 0o7777`).
    pub mode: u32,
    /// Whether it is a directory.
    pub is_dir: bool,
    /// Whether it is executable by someone (any `x` bit set on a regular file).
    pub executable: bool,
}

/// The facts about the running system that configuration checks need.
pub trait Host {
    /// Whether a network interface with this name exists.
    fn interface_exists(&self, name: &str) -> bool;
    /// Whether a user with this name (or numeric uid) exists.
    fn user_exists(&self, name: &str) -> bool;
    /// Whether a group with this name (or numeric gid) exists.
    fn group_exists(&self, name: &str) -> bool;
    /// `stat(2)` of a path (following symlinks), or `None` if it does not exist.
    fn file_meta(&self, path: &Path) -> Option<FileMeta>;
    /// Whether a host name resolves to an address.
    fn resolves(&self, host: &str) -> bool;
    /// The uid of a user name, when it exists (default: root is 0, nothing else known).
    fn user_uid(&self, name: &str) -> Option<u32> {
        (name == "root").then_some(0)
    }
    /// Whether a network namespace with this name exists (`/run/netns/NAME`).
    fn netns_exists(&self, _name: &str) -> bool {
        true
    }
}

/// A host on which everything exists: every interface, user, group and host name, and
/// every file is a root-owned executable (mode 0755). For pure tests.
#[derive(Debug, Clone, Copy, Default)]
pub struct AssumeAll;

impl Host for AssumeAll {
    fn interface_exists(&self, _name: &str) -> bool {
        true
    }
    fn user_exists(&self, _name: &str) -> bool {
        true
    }
    fn group_exists(&self, _name: &str) -> bool {
        true
    }
    fn file_meta(&self, _path: &Path) -> Option<FileMeta> {
        Some(FileMeta {
            uid: 0,
            gid: 0,
            mode: 0o755,
            is_dir: false,
            executable: true,
        })
    }
    fn resolves(&self, _host: &str) -> bool {
        true
    }
    fn user_uid(&self, name: &str) -> Option<u32> {
        Some(if name == "root" { 0 } else { 1000 })
    }
}
