//! Where the pid files live (keepalived's names and overrides) and the set the parent holds.

use std::path::{Path, PathBuf};

/// The pid-file paths of the parent and each child.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PidPaths {
    /// The parent's (`-p`, default `/run/keepalived.pid`).
    pub parent: PathBuf,
    /// The VRRP child's (`-r`, default `/run/vrrp.pid`).
    pub vrrp: PathBuf,
    /// The checker child's (`-c`, default `/run/checkers.pid`).
    pub checker: PathBuf,
}

/// Command-line overrides (`-p`, `-r`, `-c`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PidOverrides {
    /// `-p FILE`.
    pub parent: Option<PathBuf>,
    /// `-r FILE`.
    pub vrrp: Option<PathBuf>,
    /// `-c FILE`.
    pub checker: Option<PathBuf>,
}

/// The run-state directory keepalived uses.
pub const RUN_DIR: &str = "/run";

/// keepalived's pid-file names: `/run/<name>.pid`, or `/run/keepalived/<name>[_<instance>].pid`
/// when `use_pid_dir`, `instance` or `net_namespace` is configured; `-p`/`-r`/`-c` win.
pub fn pid_paths(
    overrides: &PidOverrides,
    use_pid_dir: bool,
    instance: Option<&str>,
    net_namespace: Option<&str>,
) -> PidPaths {
    let in_dir = use_pid_dir || instance.is_some() || net_namespace.is_some();
    let default = |name: &str| -> PathBuf {
        if in_dir {
            let file = match instance {
                Some(i) => format!("{name}_{i}.pid"),
                None => format!("{name}.pid"),
            };
            Path::new(RUN_DIR).join("keepalived").join(file)
        } else {
            Path::new(RUN_DIR).join(format!("{name}.pid"))
        }
    };
    PidPaths {
        parent: overrides
            .parent
            .clone()
            .unwrap_or_else(|| default("keepalived")),
        vrrp: overrides.vrrp.clone().unwrap_or_else(|| default("vrrp")),
        checker: overrides
            .checker
            .clone()
            .unwrap_or_else(|| default("checkers")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults() {
        let p = pid_paths(&PidOverrides::default(), false, None, None);
        assert_eq!(p.parent, Path::new("/run/keepalived.pid"));
        assert_eq!(p.vrrp, Path::new("/run/vrrp.pid"));
        assert_eq!(p.checker, Path::new("/run/checkers.pid"));
    }

    #[test]
    fn pid_dir_and_instance() {
        let p = pid_paths(&PidOverrides::default(), true, None, None);
        assert_eq!(p.vrrp, Path::new("/run/keepalived/vrrp.pid"));
        let p = pid_paths(&PidOverrides::default(), false, Some("one"), None);
        assert_eq!(p.parent, Path::new("/run/keepalived/keepalived_one.pid"));
        assert_eq!(p.checker, Path::new("/run/keepalived/checkers_one.pid"));
        let p = pid_paths(&PidOverrides::default(), false, None, Some("blue"));
        assert_eq!(p.vrrp, Path::new("/run/keepalived/vrrp.pid"));
    }

    #[test]
    fn overrides_win() {
        let o = PidOverrides {
            parent: Some("/tmp/p".into()),
            vrrp: Some("/tmp/v".into()),
            checker: None,
        };
        let p = pid_paths(&o, true, Some("x"), None);
        assert_eq!(p.parent, Path::new("/tmp/p"));
        assert_eq!(p.vrrp, Path::new("/tmp/v"));
        assert_eq!(p.checker, Path::new("/run/keepalived/checkers_x.pid"));
    }
}
