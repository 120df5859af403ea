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

/// A [`Host`] that asks the one it wraps about each interface name only once.
///
/// keepalived's checks look an interface up for every instance that names it; on a real
/// system each lookup is a socket and an ioctl, so a config of 10,000 instances on 40
/// interfaces would cost 30,000 system calls for 40 answers. One validation pass sees a
/// fixed system, so the answers are kept for the pass.
///
/// Users and groups are kept too: each lookup goes through NSS (files, systemd's userdb
/// directories, perhaps LDAP), and the default script user is asked about more than once.
pub struct CachedHost<'a> {
    inner: &'a dyn Host,
    interfaces: Answers<bool>,
    users: Answers<bool>,
    uids: Answers<Option<u32>>,
    groups: Answers<bool>,
}

/// Answers kept by name.
type Answers<T> = std::cell::RefCell<std::collections::BTreeMap<String, T>>;

/// The kept answer for `name`, asking `ask` the first time.
fn cached<T: Copy>(answers: &Answers<T>, name: &str, ask: impl FnOnce() -> T) -> T {
    if let Some(known) = answers.borrow().get(name) {
        return *known;
    }
    let answer = ask();
    answers.borrow_mut().insert(name.to_string(), answer);
    answer
}

impl<'a> CachedHost<'a> {
    /// Wraps `inner`; nothing is cached yet.
    pub fn new(inner: &'a dyn Host) -> Self {
        Self {
            inner,
            interfaces: Answers::default(),
            users: Answers::default(),
            uids: Answers::default(),
            groups: Answers::default(),
        }
    }
}

impl Host for CachedHost<'_> {
    fn interface_exists(&self, name: &str) -> bool {
        cached(&self.interfaces, name, || self.inner.interface_exists(name))
    }
    fn user_exists(&self, name: &str) -> bool {
        cached(&self.users, name, || self.inner.user_exists(name))
    }
    fn group_exists(&self, name: &str) -> bool {
        cached(&self.groups, name, || self.inner.group_exists(name))
    }
    fn file_meta(&self, path: &Path) -> Option<FileMeta> {
        self.inner.file_meta(path)
    }
    fn resolves(&self, host: &str) -> bool {
        self.inner.resolves(host)
    }
    fn user_uid(&self, name: &str) -> Option<u32> {
        cached(&self.uids, name, || self.inner.user_uid(name))
    }
    fn netns_exists(&self, name: &str) -> bool {
        self.inner.netns_exists(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// Counts interface lookups, and user lookups by name.
    #[derive(Default)]
    struct Counting(Cell<u32>, std::cell::RefCell<Vec<String>>);

    impl Host for Counting {
        fn interface_exists(&self, name: &str) -> bool {
            self.0.set(self.0.get() + 1);
            name == "eth0"
        }
        fn user_exists(&self, name: &str) -> bool {
            self.1.borrow_mut().push(name.to_string());
            false
        }
        fn group_exists(&self, _: &str) -> bool {
            true
        }
        fn file_meta(&self, _: &Path) -> Option<FileMeta> {
            None
        }
        fn resolves(&self, _: &str) -> bool {
            true
        }
    }

    #[test]
    fn each_interface_is_looked_up_once() {
        let inner = Counting::default();
        let cached = CachedHost::new(&inner);
        for _ in 0..3 {
            assert!(cached.interface_exists("eth0"));
            assert!(!cached.interface_exists("eth9"));
        }
        assert_eq!(inner.0.get(), 2);
    }

    #[test]
    fn each_user_is_looked_up_once() {
        let inner = Counting::default();
        let cached = CachedHost::new(&inner);
        for _ in 0..3 {
            assert!(!cached.user_exists("keepalived_script"));
        }
        assert_eq!(*inner.1.borrow(), ["keepalived_script"]);
    }

    /// The default script user is looked up only for a script without a user of its own:
    /// a reload of a configuration without scripts asks NSS nothing.
    #[test]
    fn default_script_user_only_when_a_script_needs_it() {
        let lookups = |text: &str| {
            let host = Counting::default();
            let _ = crate::load_str("k.conf", text, &crate::LoadOptions::default(), &host);
            host.1.take()
        };
        let instance = "vrrp_instance V {\n interface eth0\n virtual_router_id 1\n priority 100\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n";
        assert!(lookups(instance).is_empty());
        let script = "vrrp_script S {\n script /bin/true\n}\n";
        assert_eq!(
            lookups(&format!("{script}{instance}")),
            ["keepalived_script"]
        );
    }
}
