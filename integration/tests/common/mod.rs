//! What the checker scenarios share: processes started in a namespace (killed with their group
//! on drop), the keepalived-rs checker daemon (`-C`), notify scripts that append `$0 $1` to a
//! log, and waits on that log and on the daemon's.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keepalived_integration::{wait_until, NodeKind};
use nix::sys::signal::{killpg, Signal};
use nix::unistd::Pid;

/// A process started in a namespace, in its own process group; SIGKILLed (group) on drop.
pub struct Proc {
    child: Option<Child>,
}

impl Proc {
    /// Runs `argv` in namespace `ns` with `TMPDIR=tmpdir`, stdout and stderr appended to `log`.
    pub fn spawn(ns: &str, argv: &[String], tmpdir: &Path, log: &Path) -> Proc {
        let out = fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log)
            .unwrap();
        let err = out.try_clone().unwrap();
        let child = Command::new("ip")
            .args(["netns", "exec", ns])
            .args(argv)
            .env("TMPDIR", tmpdir)
            .stdin(Stdio::null())
            .stdout(out)
            .stderr(err)
            .process_group(0)
            .spawn()
            .unwrap();
        Proc { child: Some(child) }
    }

    /// keepalived-rs running only its checker (`-C`) on `conf`, in the foreground with console
    /// logs to `log`; pid files and TMPDIR in `dir`.
    pub fn checker_daemon(ns: &str, conf: &Path, dir: &Path, log: &Path) -> Proc {
        let p = |f: &str| dir.join(f).display().to_string();
        Proc::spawn(
            ns,
            &[
                NodeKind::Ours.binary().display().to_string(),
                "-n".into(),
                "-l".into(),
                "-D".into(),
                "-C".into(),
                "-f".into(),
                conf.display().to_string(),
                "-p".into(),
                p("keepalived.pid"),
                "-r".into(),
                p("vrrp.pid"),
                "-c".into(),
                p("checkers.pid"),
            ],
            dir,
            log,
        )
    }

    /// The main process's pid (0 once it is gone).
    pub fn pid(&self) -> Pid {
        Pid::from_raw(self.child.as_ref().map_or(0, |c| c.id() as i32))
    }

    /// SIGKILLs the group and reaps the main process.
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = killpg(Pid::from_raw(c.id() as i32), Signal::SIGKILL);
            let _ = c.wait();
        }
    }

    /// Waits up to `timeout` for the main process to exit; its exit code (None: still running
    /// or killed by a signal).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let start = Instant::now();
        loop {
            let c = self.child.as_mut()?;
            if let Ok(Some(status)) = c.try_wait() {
                self.child = None;
                return status.code();
            }
            if start.elapsed() >= timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Writes an executable file.
pub fn write_exec(path: &Path, text: &str) {
    fs::write(path, text).unwrap();
    fs::set_permissions(path, fs::Permissions::from_mode(0o755)).unwrap();
}

/// A notify script that appends `$0 $1` to `notify_log`.
pub fn write_notify_script(path: &Path, notify_log: &Path) {
    write_exec(
        path,
        &format!("#!/bin/sh\necho \"$0 $1\" >> {}\n", notify_log.display()),
    );
}

/// The notify scripts' log and the daemon's.
pub struct Files {
    pub notify_log: PathBuf,
    pub daemon_log: PathBuf,
}

impl Files {
    /// Lines of the notify log, each `<script path> up|down` reduced to `<script stem> up|down`
    /// (`/tmp/x/tcp.sh up` -> `tcp up`).
    pub fn notify_lines(&self) -> Vec<String> {
        fs::read_to_string(&self.notify_log)
            .unwrap_or_default()
            .lines()
            .map(|l| {
                let (script, what) = l.split_once(' ').unwrap_or((l, ""));
                let name = Path::new(script)
                    .file_stem()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                format!("{name} {what}")
            })
            .collect()
    }

    /// How often the notify line `want` occurs.
    pub fn count(&self, want: &str) -> usize {
        self.notify_lines().iter().filter(|l| *l == want).count()
    }

    /// The daemon's log so far.
    pub fn log(&self) -> String {
        fs::read_to_string(&self.daemon_log).unwrap_or_default()
    }

    /// How often `what` occurs in the daemon's log.
    pub fn count_log(&self, what: &str) -> usize {
        self.log().matches(what).count()
    }

    /// Waits until every `(what, n)`: the notify line `what` seen at least `n` times; how long
    /// that took. Panics with both logs after `timeout`.
    pub fn wait_notifies(&self, wants: &[(String, usize)], timeout: Duration) -> Duration {
        let r = wait_until(&format!("notify lines {wants:?}"), timeout, || {
            wants.iter().all(|(w, n)| self.count(w) >= *n)
        });
        match r {
            Ok(d) => d,
            Err(e) => {
                let missing: Vec<_> = wants.iter().filter(|(w, n)| self.count(w) < *n).collect();
                panic!(
                    "{e}\nmissing: {missing:?}\nnotify log: {:?}\ndaemon log:\n{}",
                    self.notify_lines(),
                    self.log()
                )
            }
        }
    }

    /// [`Files::wait_notifies`] for one line.
    pub fn wait_notify(&self, want: &str, n: usize, timeout: Duration) -> Duration {
        self.wait_notifies(&[(want.to_string(), n)], timeout)
    }

    /// Waits until each log line `what` occurs at least `n` times. Panics with the daemon's
    /// log after `timeout`.
    pub fn wait_logs(&self, wants: &[(String, usize)], timeout: Duration) {
        if let Err(e) = wait_until("log lines", timeout, || {
            wants.iter().all(|(w, n)| self.count_log(w) >= *n)
        }) {
            let missing: Vec<_> = wants
                .iter()
                .filter(|(w, n)| self.count_log(w) < *n)
                .collect();
            panic!("{e}\nmissing: {missing:?}\ndaemon log:\n{}", self.log());
        }
    }

    /// [`Files::wait_logs`] for one line, once.
    pub fn wait_log(&self, what: &str, timeout: Duration) {
        self.wait_logs(&[(what.to_string(), 1)], timeout);
    }
}
