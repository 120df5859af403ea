//! The running system as the configuration checks see it: interfaces, users, files, names.

use keepalived_config::host::{FileMeta, Host};
use std::os::unix::fs::MetadataExt;
use std::path::Path;

/// Facts read from this machine, in the current network namespace.
pub struct SystemHost;

impl Host for SystemHost {
    fn interface_exists(&self, name: &str) -> bool {
        nix::net::if_::if_nametoindex(name).is_ok()
    }

    fn user_exists(&self, name: &str) -> bool {
        matches!(nix::unistd::User::from_name(name), Ok(Some(_)))
    }

    fn group_exists(&self, name: &str) -> bool {
        matches!(nix::unistd::Group::from_name(name), Ok(Some(_)))
    }

    fn file_meta(&self, path: &Path) -> Option<FileMeta> {
        let m = std::fs::metadata(path).ok()?;
        Some(FileMeta {
            uid: m.uid(),
            gid: m.gid(),
            mode: m.mode(),
            is_dir: m.is_dir(),
            executable: m.is_file() && m.mode() & 0o111 != 0,
        })
    }

    fn user_uid(&self, name: &str) -> Option<u32> {
        match nix::unistd::User::from_name(name) {
            Ok(Some(user)) => Some(user.uid.as_raw()),
            _ => name.parse().ok(),
        }
    }

    fn netns_exists(&self, name: &str) -> bool {
        Path::new("/run/netns").join(name).exists()
    }

    /// Literal addresses and names in /etc/hosts only: a config check must not send DNS queries.
    fn resolves(&self, host: &str) -> bool {
        if host.parse::<std::net::IpAddr>().is_ok() {
            return true;
        }
        std::fs::read_to_string("/etc/hosts").is_ok_and(|hosts| hosts_file_names(&hosts, host))
    }
}

/// Whether `/etc/hosts` text names `host`.
fn hosts_file_names(hosts: &str, host: &str) -> bool {
    hosts.lines().any(|line| {
        let line = line.split('#').next().unwrap_or("");
        line.split_whitespace()
            .skip(1)
            .any(|name| name.eq_ignore_ascii_case(host))
    })
}

/// keepalived's default config id: the host name up to the first dot.
pub fn default_config_id() -> String {
    nix::unistd::gethostname()
        .ok()
        .and_then(|h| h.into_string().ok())
        .map(|h| h.split('.').next().unwrap_or("").to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_file_lookup() {
        let hosts = "127.0.0.1 localhost\n# 10.0.0.1 commented\n10.0.0.2 smtp.example smtp\n";
        assert!(hosts_file_names(hosts, "localhost"));
        assert!(hosts_file_names(hosts, "SMTP"));
        assert!(!hosts_file_names(hosts, "commented"));
        assert!(!hosts_file_names(hosts, "127.0.0.1"));
    }

    #[test]
    fn loopback_exists() {
        assert!(SystemHost.interface_exists("lo"));
        assert!(!SystemHost.interface_exists("no-such-if0"));
        assert!(SystemHost.user_exists("root"));
    }
}
