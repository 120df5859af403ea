//! The supervisor as a real process, with the stand-in child instead of the VRRP daemon, so it
//! runs without root or namespaces: respawn after kill -9 with the back-off, a child's permanent
//! error stopping the daemon with its code, SIGTERM.
//!
//! `harness = false`: this binary is both the test and, re-executed with `STAND_IN_DAEMON_DIR`
//! set, the daemon under test (the supervisor forks, which a threaded test harness must not).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::AssumeAll;
use keepalived_supervisor::logging::LogSettings;
use keepalived_supervisor::pidfiles::PidOverrides;
use keepalived_supervisor::{run, stand_in, ChildEntries, SupervisorOptions};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

const ENV: &str = "STAND_IN_DAEMON_DIR";

fn main() -> ExitCode {
    if let Some(dir) = std::env::var_os(ENV) {
        return daemon(PathBuf::from(dir));
    }
    respawn_and_stop();
    permanent_error_stops_the_daemon();
    println!("stand_in_daemon: 2 tests passed");
    ExitCode::SUCCESS
}

/// The daemon side: the supervisor on `dir/k.conf` with the stand-in as its VRRP child; the
/// child exits 2 (CONFIG) at once if `dir/exit2` exists.
fn daemon(dir: PathBuf) -> ExitCode {
    let opts = SupervisorOptions {
        config_path: dir.join("k.conf"),
        config_id: "test".into(),
        dont_fork: true,
        only_vrrp: true,
        only_check: false,
        all: true,
        dont_respawn: false,
        pid_overrides: PidOverrides {
            parent: Some(dir.join("p.pid")),
            vrrp: Some(dir.join("v.pid")),
            checker: Some(dir.join("c.pid")),
        },
        log: LogSettings {
            console: true,
            syslog: false,
            ..LogSettings::default()
        },
        umask: None,
    };
    let flag = dir.join("exit2");
    let entries = ChildEntries {
        vrrp: Box::new(move |ipc| {
            if flag.exists() {
                return ExitCode::from(2);
            }
            stand_in::run_child(ipc)
        }),
        checker: None,
    };
    run(opts, &AssumeAll, entries)
}

struct Daemon {
    dir: PathBuf,
    child: Option<Child>,
}

impl Daemon {
    fn start(tag: &str, exit2: bool) -> Self {
        let dir = std::env::temp_dir().join(format!("ka-stand-in-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("k.conf"), "global_defs {\n  router_id test\n}\n").unwrap();
        if exit2 {
            fs::write(dir.join("exit2"), "").unwrap();
        }
        let child = Command::new(std::env::current_exe().unwrap())
            .env(ENV, &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(dir.join("log")).unwrap())
            .spawn()
            .unwrap();
        Daemon {
            dir,
            child: Some(child),
        }
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.join("log")).unwrap_or_default()
    }

    fn wait_log(&self, text: &str, timeout: Duration) {
        let end = Instant::now() + timeout;
        while Instant::now() < end {
            if self.log().contains(text) {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!("no '{text}' in the log:\n{}", self.log());
    }

    fn wait_exit(&mut self, timeout: Duration) -> Option<i32> {
        let end = Instant::now() + timeout;
        let child = self.child.as_mut().unwrap();
        loop {
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
                return status.code();
            }
            assert!(
                Instant::now() < end,
                "daemon still running:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn signal(pid: i32, sig: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success();
    assert!(ok);
}

fn respawn_and_stop() {
    let mut d = Daemon::start("respawn", false);
    d.wait_log("Startup complete", Duration::from_secs(5));
    let parent = read_pid(&d.path("p.pid")).unwrap();
    for (round, delay) in [(0, 0), (1, 1)] {
        let child = read_pid(&d.path("v.pid")).unwrap();
        signal(child, "KILL");
        d.wait_log(
            &format!("VRRP child process({child}) died: Respawning"),
            Duration::from_secs(5),
        );
        d.wait_log(
            &format!("Restart of VRRP process delayed {delay} seconds"),
            Duration::from_secs(1),
        );
        let end = Instant::now() + Duration::from_secs(5);
        while read_pid(&d.path("v.pid")) == Some(child) {
            assert!(Instant::now() < end, "round {round}: not respawned");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    signal(parent, "TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(!d.path("p.pid").exists() && !d.path("v.pid").exists());
    println!("respawn_and_stop ... ok");
}

fn permanent_error_stops_the_daemon() {
    let mut d = Daemon::start("exit2", true);
    assert_eq!(d.wait_exit(Duration::from_secs(5)), Some(2));
    let log = d.log();
    assert!(
        log.contains("exited with permanent error CONFIG. Terminating"),
        "{log}"
    );
    assert!(!d.path("p.pid").exists() && !d.path("v.pid").exists());
    println!("permanent_error_stops_the_daemon ... ok");
}
