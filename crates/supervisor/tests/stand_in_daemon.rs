//! The supervisor as a real process, with the stand-in child instead of the VRRP daemon, so it
//! runs without root or namespaces: respawn after kill -9 with the back-off, a child's permanent
//! error stopping the daemon with its code, SIGTERM; and with two small test children in the
//! VRRP and checker slots: script results relayed, the checker respawned without the VRRP child
//! hearing of it, dumps from both children, sd_notify, the log files, symlinked dump names.
//!
//! `harness = false`: this binary is both the test and, re-executed with `STAND_IN_DAEMON_DIR`
//! set, the daemon under test (the supervisor forks, which a threaded test harness must not).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_config::AssumeAll;
use keepalived_ipc::{check_hello, encode, hello, FrameDecoder, ScriptExit, ToChild, ToParent};
use keepalived_supervisor::logging::LogSettings;
use keepalived_supervisor::pidfiles::PidOverrides;
use keepalived_supervisor::{run, stand_in, ChildEntries, SupervisorOptions};
use std::fs;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::{UnixDatagram, UnixStream};
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
    checker_slot_relays_dumps_and_notifies();
    only_vrrp_still_runs_the_scripts();
    println!("stand_in_daemon: 4 tests passed");
    ExitCode::SUCCESS
}

/// The daemon side: the supervisor on `dir/k.conf` with the stand-in as its VRRP child; the
/// child exits 2 (CONFIG) at once if `dir/exit2` exists.
fn daemon(dir: PathBuf) -> ExitCode {
    let two_children = dir.join("two").exists();
    let only_vrrp = !two_children || dir.join("only_vrrp").exists();
    let opts = SupervisorOptions {
        config_path: dir.join("k.conf"),
        config_id: "test".into(),
        dont_fork: true,
        only_vrrp,
        only_check: false,
        all: !two_children,
        dont_respawn: false,
        pid_overrides: PidOverrides {
            parent: Some(dir.join("p.pid")),
            vrrp: Some(dir.join("v.pid")),
            checker: Some(dir.join("c.pid")),
        },
        log: LogSettings {
            console: true,
            syslog: false,
            detail: true,
            log_file: two_children.then(|| dir.join("ka.log")),
            ..LogSettings::default()
        },
        umask: None,
    };
    if two_children {
        let (vdir, cdir) = (dir.clone(), dir.clone());
        let entries = ChildEntries {
            vrrp: Box::new(move |ipc| test_child(ipc, &vdir, false)),
            checker: Some(Box::new(move |ipc| test_child(ipc, &cdir, true))),
        };
        return run(opts, &AssumeAll, entries);
    }
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
        // (None while the pid file is being rewritten.)
        while read_pid(&d.path("v.pid")).is_none_or(|p| p == child) {
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

/// A test child. The VRRP one records every message it gets in `dir/vrrp.msgs`; the checker
/// reports a failed `chk` script and a real server going down in its first life only (a
/// respawned checker stays quiet, so anything more the VRRP child hears came from the parent).
fn test_child(ipc: OwnedFd, dir: &Path, checker: bool) -> ExitCode {
    let me = if checker { "checker" } else { "vrrp" };
    log::info!("test {me} child running");
    let mut stream = UnixStream::from(ipc);
    let send = |s: &mut UnixStream, m: &ToParent| s.write_all(&encode(m).unwrap()).is_ok();
    if !send(&mut stream, &hello::<ToParent>()) {
        return ExitCode::from(1);
    }
    let mut decoder = FrameDecoder::<ToChild>::new();
    let mut greeted = false;
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return ExitCode::SUCCESS,
            Ok(n) => n,
        };
        decoder.push(&buf[..n]).unwrap();
        while let Ok(Some(msg)) = decoder.pop() {
            if !greeted {
                check_hello(&msg).unwrap();
                greeted = true;
                continue;
            }
            if !checker {
                let line = match &msg {
                    ToChild::TrackUpdate { script, good } => format!("TrackUpdate {script} {good}"),
                    ToChild::Start { .. } => "Start".into(),
                    ToChild::Reload { .. } => "Reload".into(),
                    ToChild::ReloadDelta { .. } => "ReloadDelta".into(),
                    other => format!("{:?}", std::mem::discriminant(other)),
                };
                let mut f = fs::OpenOptions::new()
                    .append(true)
                    .create(true)
                    .open(dir.join("vrrp.msgs"))
                    .unwrap();
                writeln!(f, "{line}").unwrap();
            }
            let replies = match msg {
                ToChild::Start { .. } => {
                    let mut r = vec![ToParent::Ready];
                    let first = dir.join("checker_lived");
                    if checker && !first.exists() {
                        fs::write(&first, "").unwrap();
                        r.push(ToParent::ScriptResult {
                            script: "chk".into(),
                            good: false,
                            exit: ScriptExit::Exited(1),
                        });
                        r.push(ToParent::RealServerState {
                            vs: "[192.0.2.10]:tcp:80".into(),
                            rs: "[192.0.2.11]:tcp:80".into(),
                            up: false,
                        });
                    }
                    r
                }
                ToChild::Reload { .. } => vec![ToParent::ReloadDone {
                    warnings: Vec::new(),
                }],
                // This child keeps no configuration, so it asks for the whole one (which
                // exercises the parent's fallback).
                ToChild::ReloadDelta { .. } => vec![ToParent::ReloadNeedsFull],
                ToChild::Dump { id, .. } => vec![ToParent::DumpReply {
                    id,
                    text: format!("{me} dump\n"),
                }],
                ToChild::Stats { id, .. } => vec![ToParent::StatsReply {
                    id,
                    text: format!("{me} stats\n"),
                }],
                ToChild::Shutdown => return ExitCode::SUCCESS,
                _ => Vec::new(),
            };
            for r in &replies {
                if !send(&mut stream, r) {
                    return ExitCode::from(1);
                }
            }
        }
    }
}

const TWO_CHILD_CONF: &str = "vrrp_script chk {\n  script /bin/true\n}\nvrrp_instance VI_1 {\n  interface lo\n  virtual_router_id 51\n  priority 100\n  track_script {\n    chk\n  }\n  virtual_ipaddress {\n    192.0.2.1\n  }\n}\n";

/// Starts the two-child daemon with `$TMPDIR` and `$NOTIFY_SOCKET` in its directory.
fn start_two(tag: &str, only_vrrp: bool) -> (Daemon, UnixDatagram) {
    let dir = std::env::temp_dir().join(format!("ka-stand-in-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("k.conf"), TWO_CHILD_CONF).unwrap();
    fs::write(dir.join("two"), "").unwrap();
    if only_vrrp {
        fs::write(dir.join("only_vrrp"), "").unwrap();
    }
    let sock_path = dir.join("notify.sock");
    let notify = UnixDatagram::bind(&sock_path).unwrap();
    notify
        .set_read_timeout(Some(Duration::from_secs(5)))
        .unwrap();
    let child = Command::new(std::env::current_exe().unwrap())
        .env(ENV, &dir)
        .env("TMPDIR", &dir)
        .env("NOTIFY_SOCKET", &sock_path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(dir.join("log")).unwrap())
        .spawn()
        .unwrap();
    (
        Daemon {
            dir,
            child: Some(child),
        },
        notify,
    )
}

fn recv_notify(sock: &UnixDatagram) -> String {
    let mut buf = [0u8; 1024];
    let n = sock.recv(&mut buf).expect("an sd_notify datagram");
    String::from_utf8_lossy(&buf[..n]).into_owned()
}

fn count(path: &Path, line: &str) -> usize {
    fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| *l == line)
        .count()
}

fn wait_until(what: &str, d: &Daemon, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("timed out waiting for {what}:\n{}", d.log());
}

fn checker_slot_relays_dumps_and_notifies() {
    let (mut d, notify) = start_two("checker", false);
    d.wait_log("Startup complete", Duration::from_secs(5));
    let parent = read_pid(&d.path("p.pid")).unwrap();
    let ready = recv_notify(&notify);
    assert_eq!(
        ready,
        format!("READY=1\nMAINPID={parent}\nSTATUS=Startup complete\n")
    );
    let checker = read_pid(&d.path("c.pid")).expect("checkers pid file");
    let vrrp = read_pid(&d.path("v.pid")).expect("vrrp pid file");
    assert!(checker != parent && vrrp != parent && checker != vrrp);

    // The checker's script result reaches the VRRP child; the real server is logged.
    let msgs = d.path("vrrp.msgs");
    wait_until("TrackUpdate relayed", &d, || {
        count(&msgs, "TrackUpdate chk false") == 1
    });
    d.wait_log(
        "[192.0.2.10]:tcp:80: real server [192.0.2.11]:tcp:80 down",
        Duration::from_secs(2),
    );
    d.wait_log("relaying VRRP_Script(chk) BAD", Duration::from_secs(2));

    // The checker respawns: the VRRP child hears nothing.
    signal(checker, "KILL");
    d.wait_log(
        &format!("Healthcheck child process({checker}) died: Respawning"),
        Duration::from_secs(5),
    );
    wait_until("checker respawned", &d, || {
        read_pid(&d.path("c.pid")).is_some_and(|p| p != checker)
    });
    let new_checker = read_pid(&d.path("c.pid")).unwrap();
    d.wait_log(
        &format!("Starting Healthcheck child process, pid={new_checker}"),
        Duration::from_secs(2),
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(count(&msgs, "TrackUpdate chk false"), 1);
    assert_eq!(count(&msgs, "Start"), 1);

    // The VRRP child respawns: it is told the script state its predecessor knew.
    signal(vrrp, "KILL");
    wait_until("VRRP child respawned with the script state", &d, || {
        count(&msgs, "Start") == 2 && count(&msgs, "TrackUpdate chk false") == 2
    });

    // SIGUSR1: each child's part in keepalived's file, in $TMPDIR.
    signal(parent, "USR1");
    wait_until("both data dumps", &d, || {
        fs::read_to_string(d.path("keepalived.data"))
            .ok()
            .as_deref()
            == Some("vrrp dump\n")
            && fs::read_to_string(d.path("keepalived_check.data"))
                .ok()
                .as_deref()
                == Some("checker dump\n")
    });
    // SIGUSR2: the VRRP child's statistics only.
    signal(parent, "USR2");
    wait_until("stats", &d, || {
        fs::read_to_string(d.path("keepalived.stats"))
            .ok()
            .as_deref()
            == Some("vrrp stats\n")
    });

    // A symlink planted at the dump's name is never written through.
    fs::remove_file(d.path("keepalived.data")).unwrap();
    fs::write(d.path("victim"), "precious").unwrap();
    std::os::unix::fs::symlink(d.path("victim"), d.path("keepalived.data")).unwrap();
    signal(parent, "USR1");
    d.wait_log("is a symbolic link", Duration::from_secs(5));
    assert_eq!(fs::read_to_string(d.path("victim")).unwrap(), "precious");
    assert!(fs::symlink_metadata(d.path("keepalived.data"))
        .unwrap()
        .file_type()
        .is_symlink());
    assert!(d.child.as_mut().unwrap().try_wait().unwrap().is_none());

    // SIGHUP: RELOADING=1, then READY=1 when both children answered.
    signal(parent, "HUP");
    let reloading = recv_notify(&notify);
    assert!(
        reloading.starts_with("RELOADING=1\nMONOTONIC_USEC="),
        "{reloading}"
    );
    assert_eq!(
        recv_notify(&notify),
        format!("READY=1\nMAINPID={parent}\nSTATUS=Reload complete\n")
    );
    // The VRRP child was sent the change first and, asking for it, the whole configuration.
    let msgs = fs::read_to_string(d.path("vrrp.msgs")).unwrap();
    assert!(msgs.contains("ReloadDelta\nReload\n"), "{msgs}");
    assert!(
        d.log().contains("sending the whole configuration"),
        "{}",
        d.log()
    );

    signal(parent, "TERM");
    assert_eq!(recv_notify(&notify), "STOPPING=1\nSTATUS=Stopping\n");
    assert_eq!(d.wait_exit(Duration::from_secs(5)), Some(0));
    assert!(!d.path("p.pid").exists() && !d.path("v.pid").exists() && !d.path("c.pid").exists());
    let log = d.log();
    assert!(log.contains("CPU usage (self/children) user: "), "{log}");
    assert!(log.contains("Stopped keepalived-rs v"), "{log}");
    assert!(
        log.contains("Stopped - used "),
        "a child's -D stop line: {log}"
    );

    // -g: the parent's lines in the file, each child's in its own (keepalived's names).
    let parent_log = fs::read_to_string(d.path("ka.log")).unwrap();
    assert!(parent_log.contains(": Startup complete\n"), "{parent_log}");
    assert!(parent_log.contains("Stopped keepalived-rs"), "{parent_log}");
    let vrrp_log = fs::read_to_string(d.path("ka_vrrp.log")).unwrap();
    assert_eq!(
        vrrp_log.matches("test vrrp child running").count(),
        2,
        "{vrrp_log}"
    );
    let check_log = fs::read_to_string(d.path("ka_healthcheckers.log")).unwrap();
    assert_eq!(
        check_log.matches("test checker child running").count(),
        2,
        "{check_log}"
    );
    assert!(!parent_log.contains("test vrrp child"), "{parent_log}");
    println!("checker_slot_relays_dumps_and_notifies ... ok");
}

/// `-P` with a tracked `vrrp_script`: the checker still runs, for the script (keepalived runs
/// scripts in its VRRP process, so `-P` keeps them).
fn only_vrrp_still_runs_the_scripts() {
    let (mut d, notify) = start_two("only-vrrp", true);
    d.wait_log("Startup complete", Duration::from_secs(5));
    assert!(recv_notify(&notify).starts_with("READY=1\n"));
    assert!(d.path("v.pid").exists());
    assert!(d.path("c.pid").exists(), "-P with a script: checker");
    signal(read_pid(&d.path("p.pid")).unwrap(), "TERM");
    assert_eq!(d.wait_exit(Duration::from_secs(5)), Some(0));
    println!("only_vrrp_still_runs_the_scripts ... ok");
}
