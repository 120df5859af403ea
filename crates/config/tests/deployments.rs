//! Typical keepalived deployments (`tests/configs/good/*.conf`, written for this test suite):
//! each loads without an error-class diagnostic, with exit code 0, and gives the model the
//! config is about.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::{exit_code, load, FileMeta, Host, LoadOptions, Loaded, Severity};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A host with interfaces eth0, eth1, bond0 and lo, users root and nobody, and the real
/// file system for script checks.
struct TestHost;

impl Host for TestHost {
    fn interface_exists(&self, name: &str) -> bool {
        matches!(name, "eth0" | "eth1" | "bond0" | "lo")
    }
    fn user_exists(&self, name: &str) -> bool {
        self.user_uid(name).is_some()
    }
    fn group_exists(&self, name: &str) -> bool {
        matches!(name, "root" | "0" | "nogroup" | "65534")
    }
    fn file_meta(&self, path: &Path) -> Option<FileMeta> {
        let m = std::fs::metadata(path).ok()?;
        let mode = m.permissions().mode() & 0o7777;
        Some(FileMeta {
            uid: m.uid(),
            gid: m.gid(),
            mode,
            is_dir: m.is_dir(),
            executable: m.is_file() && mode & 0o111 != 0,
        })
    }
    fn resolves(&self, host: &str) -> bool {
        host.parse::<std::net::IpAddr>().is_ok() || host == "localhost"
    }
    fn user_uid(&self, name: &str) -> Option<u32> {
        match name {
            "root" | "0" => Some(0),
            "nobody" | "65534" => Some(65534),
            _ => None,
        }
    }
}

fn path_of(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/configs/good")
        .join(name)
}

fn render_all(l: &Loaded) -> String {
    l.diagnostics
        .iter()
        .map(|d| d.render(&l.sources))
        .collect::<Vec<_>>()
        .join("")
}

/// Loads a good config with config id `id`; fails (naming the file) on an error or a
/// non-zero exit code.
fn load_good_as(name: &str, id: &str) -> Loaded {
    let opts = LoadOptions {
        config_id: id.to_string(),
    };
    let l = load(&path_of(name), &opts, &TestHost);
    let errors = l
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    assert!(
        errors == 0 && exit_code(&l.diagnostics) == 0,
        "{name}: expected a clean load, got exit code {} and:\n{}",
        exit_code(&l.diagnostics),
        render_all(&l)
    );
    l
}

fn load_good(name: &str) -> Loaded {
    load_good_as(name, "testhost")
}

#[test]
fn every_good_config_loads_clean() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/configs/good");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            n.ends_with(".conf").then_some(n)
        })
        .collect();
    names.sort();
    assert!(names.len() >= 40, "only {} good configs", names.len());
    let mut failures = Vec::new();
    for n in &names {
        let id = if n == "conditional_id.conf" { "lb1" } else { "testhost" };
        let l = load(&path_of(n), &LoadOptions { config_id: id.into() }, &TestHost);
        let code = exit_code(&l.diagnostics);
        let errors = l.diagnostics.iter().any(|d| d.severity == Severity::Error);
        if code != 0 || errors {
            failures.push(format!("== {n}: exit {code}\n{}", render_all(&l)));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
