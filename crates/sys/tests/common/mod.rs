//! Shared by the root tests that need a network namespace each: the namespace with a veth
//! pair, `ip` runs, and re-executing the test binary inside the namespace.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, dead_code)]

use std::process::{Command, Stdio};

/// `<prefix>-<pid>-<test>` with a veth pair (`veth-a`/`veth-b`, both up); deleted on drop,
/// also when the test fails.
pub struct Netns {
    pub name: String,
}

impl Netns {
    pub fn new(prefix: &str, test: &str) -> Self {
        let short: String = test
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(12)
            .collect();
        let name = format!("{prefix}-{}-{short}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        ns.ip(&["link", "set", "lo", "up"]);
        ns.ip(&[
            "link", "add", "veth-a", "type", "veth", "peer", "name", "veth-b",
        ]);
        ns.ip(&["link", "set", "veth-a", "up"]);
        ns.ip(&["link", "set", "veth-b", "up"]);
        ns
    }

    pub fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", self.name.as_str()];
        all.extend_from_slice(args);
        run("ip", &all);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Runs a command, fails the test if it fails, returns its stdout.
pub fn run(cmd: &str, args: &[&str]) -> String {
    let out = Command::new(cmd).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cmd} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs `body` inside a fresh namespace: outside it (no `inside_env` set) the namespace is
/// made and this test binary re-executed there with `--exact test` and `inside_env` set.
pub fn in_netns(inside_env: &str, prefix: &str, test: &str, body: impl FnOnce()) {
    if std::env::var_os(inside_env).is_some() {
        body();
        return;
    }
    let ns = Netns::new(prefix, test);
    let exe = std::env::current_exe().unwrap();
    let status = Command::new("ip")
        .args(["netns", "exec", &ns.name])
        .arg(exe)
        .args([
            "--exact",
            test,
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(inside_env, "1")
        .status()
        .unwrap();
    assert!(
        status.success(),
        "{test} failed inside namespace {}",
        ns.name
    );
}
