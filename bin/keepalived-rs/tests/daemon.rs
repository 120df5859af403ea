//! The daemon end to end: `keepalived-rs -n -l` as a real process.
//!
//! The namespace test needs root: `cargo test -p keepalived-rs --test daemon -- --include-ignored`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_keepalived-rs");

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kars-daemon-{tag}-{}", std::process::id()));
    let _ = fs::remove_dir_all(&dir);
    fs::create_dir_all(&dir).unwrap();
    dir
}

fn run_to_end(args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(BIN).args(args).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn missing_config_file_exits_6() {
    let dir = temp_dir("missing");
    let conf = dir.join("nope.conf");
    let (code, err) = run_to_end(&["-n", "-l", "-G", "-f", conf.to_str().unwrap()]);
    assert_eq!(code, Some(6), "{err}");
    assert!(err.contains("Config files missing"), "{err}");
    let _ = fs::remove_dir_all(&dir);
}

#[test]
fn config_that_cannot_run_exits_2_without_pid_files() {
    let dir = temp_dir("badif");
    let conf = dir.join("k.conf");
    fs::write(
        &conf,
        "vrrp_instance VI_1 {\n  interface no-such-if0\n  virtual_router_id 51\n  priority 100\n  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n",
    )
    .unwrap();
    let pid = dir.join("p.pid");
    let vrrp = dir.join("v.pid");
    let (code, err) = run_to_end(&[
        "-n",
        "-l",
        "-G",
        "-f",
        conf.to_str().unwrap(),
        "-p",
        pid.to_str().unwrap(),
        "-r",
        vrrp.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("no-such-if0"), "{err}");
    assert!(!pid.exists() && !vrrp.exists());
    let _ = fs::remove_dir_all(&dir);
}

/// A network namespace with a veth pair, deleted (with the daemon) on drop.
struct Netns {
    name: String,
    daemon: Option<Child>,
}

impl Netns {
    fn new(tag: &str) -> Self {
        let name = format!("kars-{tag}-{}", std::process::id());
        let _ = Command::new("ip").args(["netns", "del", &name]).status();
        let me = Netns { name, daemon: None };
        for cmd in [
            "netns add NS",
            "-n NS link set lo up",
            "-n NS link add v0 type veth peer name v1",
            "-n NS addr add 192.0.2.1/24 dev v0",
            "-n NS link set v0 up",
            "-n NS link set v1 up",
        ] {
            let args: Vec<String> = cmd
                .split_whitespace()
                .map(|a| {
                    if a == "NS" {
                        me.name.clone()
                    } else {
                        a.to_string()
                    }
                })
                .collect();
            let ok = Command::new("ip").args(&args).status().unwrap().success();
            assert!(ok, "ip {cmd} failed");
        }
        me
    }

    fn addrs(&self) -> String {
        let out = Command::new("ip")
            .args(["-n", &self.name, "-br", "addr", "show", "dev", "v0"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        if let Some(mut d) = self.daemon.take() {
            let _ = d.kill();
            let _ = d.wait();
        }
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

fn wait_for(what: &str, timeout: Duration, mut ok: impl FnMut() -> bool) {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("timed out waiting for {what}");
}

fn read_pid(path: &Path) -> Option<i32> {
    fs::read_to_string(path).ok()?.trim().parse().ok()
}

fn kill(pid: i32, sig: &str) {
    assert!(Command::new("kill")
        .args([&format!("-{sig}"), &pid.to_string()])
        .status()
        .unwrap()
        .success());
}

#[test]
#[ignore = "needs root: run by make integration"]
fn daemon_lifecycle_in_a_namespace() {
    let mut ns = Netns::new("life");
    let dir = temp_dir("ns");
    let conf = dir.join("k.conf");
    fs::write(
        &conf,
        "vrrp_instance VI_1 {\n  interface v0\n  virtual_router_id 51\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    192.0.2.100/24\n  }\n}\n",
    )
    .unwrap();
    let (pid_p, pid_r, pid_c) = (dir.join("p.pid"), dir.join("v.pid"), dir.join("c.pid"));
    let log_path = dir.join("daemon.log");
    let args = |log: &Path| {
        let mut c = Command::new("ip");
        c.args(["netns", "exec", &ns.name, BIN, "-n", "-l", "-D", "-G", "-f"])
            .arg(&conf)
            .arg("-p")
            .arg(&pid_p)
            .arg("-r")
            .arg(&pid_r)
            .arg("-c")
            .arg(&pid_c)
            .env("TMPDIR", &dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(fs::File::create(log).unwrap());
        c
    };
    let log = || fs::read_to_string(&log_path).unwrap_or_default();
    ns.daemon = Some(args(&log_path).spawn().unwrap());
    let parent_pid = ns.daemon.as_ref().unwrap().id() as i32;

    wait_for("Startup complete", Duration::from_secs(10), || {
        log().contains("Startup complete")
    });
    assert_eq!(read_pid(&pid_p), Some(parent_pid), "{}", log());
    let first_child = read_pid(&pid_r).expect("vrrp pid file");
    assert_ne!(first_child, parent_pid);
    assert!(!pid_c.exists(), "no checker: no checkers pid file");
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&pid_p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o644);
        let status = fs::read_to_string(format!("/proc/{parent_pid}/status")).unwrap();
        assert!(
            status.contains("Umask:\t0177"),
            "keepalived's default umask"
        );
    }
    wait_for("MASTER with the VIP", Duration::from_secs(10), || {
        ns.addrs().contains("192.0.2.100/24")
    });

    // A second daemon on the same pid files refuses, as keepalived: exit 0.
    let second_log = dir.join("second.log");
    let status = args(&second_log).status().unwrap();
    assert_eq!(status.code(), Some(0));
    let second = fs::read_to_string(&second_log).unwrap();
    assert!(second.contains("daemon is already running"), "{second}");
    assert_eq!(read_pid(&pid_p), Some(parent_pid));

    // kill -9 the VRRP child: respawned, new pid in the pid file.
    kill(first_child, "KILL");
    wait_for("respawned VRRP child", Duration::from_secs(10), || {
        read_pid(&pid_r).is_some_and(|p| p != first_child)
    });
    let text = log();
    assert!(
        text.contains(&format!(
            "VRRP child process({first_child}) died: Respawning"
        )),
        "{text}"
    );
    let second_child = read_pid(&pid_r).unwrap();
    wait_for("second child started", Duration::from_secs(5), || {
        log().contains(&format!("Starting VRRP child process, pid={second_child}"))
    });
    // Told its predecessor's states (Resume), the new child resumes MASTER at once.
    wait_for("resumed MASTER", Duration::from_secs(2), || {
        let text = log();
        let after = text
            .split(&format!("pid={second_child}"))
            .nth(1)
            .unwrap_or_default()
            .to_string();
        after.contains("Entering MASTER STATE")
    });
    assert!(ns.addrs().contains("192.0.2.100/24"));

    // SIGUSR1: the child's dump lands in $TMPDIR/keepalived.data.
    kill(parent_pid, "USR1");
    wait_for("keepalived.data", Duration::from_secs(5), || {
        dir.join("keepalived.data").exists()
    });

    // SIGUSR2: the statistics land in $TMPDIR/keepalived.stats.
    kill(parent_pid, "USR2");
    wait_for("keepalived.stats", Duration::from_secs(5), || {
        dir.join("keepalived.stats").exists()
    });

    // The realtime signals of `--signum=JSON` (36) and `--signum=STATS_CLEAR` (63).
    kill(parent_pid, "36");
    wait_for("keepalived.json", Duration::from_secs(5), || {
        dir.join("keepalived.json").exists()
    });
    fs::remove_file(dir.join("keepalived.stats")).unwrap();
    kill(parent_pid, "63");
    wait_for("keepalived.stats again", Duration::from_secs(5), || {
        dir.join("keepalived.stats").exists()
    });
    assert!(ns.daemon.as_mut().unwrap().try_wait().unwrap().is_none());

    // SIGHUP with a valid config: reloaded.
    kill(parent_pid, "HUP");
    wait_for("Reload complete", Duration::from_secs(5), || {
        log().contains("Reload complete")
    });

    // SIGHUP with a config that cannot run: logged, the running one kept.
    let good = fs::read_to_string(&conf).unwrap();
    fs::write(&conf, good.replace("interface v0", "interface no-such-if0")).unwrap();
    kill(parent_pid, "HUP");
    wait_for("refused reload", Duration::from_secs(5), || {
        log().contains("keeping the running configuration")
    });
    assert!(log().contains("no-such-if0"), "{}", log());
    assert!(ns.daemon.as_mut().unwrap().try_wait().unwrap().is_none());
    assert!(ns.addrs().contains("192.0.2.100/24"));

    // Two SIGHUPs back to back: the second is queued behind the first (or coalesced with it
    // by the kernel, as standard signals are); every reload started completes.
    fs::write(&conf, &good).unwrap();
    let before = log().matches("Reload complete").count();
    kill(parent_pid, "HUP");
    kill(parent_pid, "HUP");
    wait_for(
        "reload after the refused one",
        Duration::from_secs(5),
        || {
            log().matches("Reloading ...").count() >= 3
                && log().matches("Reload complete").count() > before
        },
    );
    std::thread::sleep(Duration::from_millis(500));
    let text = log();
    let started = text.matches("Reloading ...").count() - 2;
    let queued = text.contains("queued");
    assert!(started == 1 && !queued || started == 2, "{text}");
    assert!(ns.addrs().contains("192.0.2.100/24"));

    // SIGTERM: clean exit 0, pid files removed, VIP released.
    kill(parent_pid, "TERM");
    let mut daemon = ns.daemon.take().unwrap();
    let end = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = daemon.try_wait().unwrap() {
            break s;
        }
        assert!(Instant::now() < end, "daemon did not stop: {}", log());
        std::thread::sleep(Duration::from_millis(100));
    };
    assert_eq!(status.code(), Some(0), "{}", log());
    assert!(!pid_p.exists() && !pid_r.exists(), "pid files left behind");
    assert!(!ns.addrs().contains("192.0.2.100"), "VIP left behind");
    let _ = fs::remove_dir_all(&dir);
}

const SIMPLE_CONF: &str = "child_wait_time 2\nvrrp_instance VI_1 {\n  interface v0\n  virtual_router_id 52\n  priority 150\n  advert_int 1\n  virtual_ipaddress {\n    192.0.2.101/24\n  }\n}\n";

/// Starts `keepalived-rs -n -l` in `ns` with pid files and log under `dir`.
fn start_daemon(ns: &mut Netns, dir: &Path, extra: &[&str]) -> (i32, PathBuf, PathBuf, PathBuf) {
    let conf = dir.join("k.conf");
    fs::write(&conf, SIMPLE_CONF).unwrap();
    let (pid_p, pid_r, log_path) = (dir.join("p.pid"), dir.join("v.pid"), dir.join("d.log"));
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name, BIN, "-n", "-l", "-G", "-f"])
        .arg(&conf)
        .args(extra)
        .arg("-p")
        .arg(&pid_p)
        .arg("-r")
        .arg(&pid_r)
        .arg("-c")
        .arg(dir.join("c.pid"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    ns.daemon = Some(child);
    wait_for("Startup complete", Duration::from_secs(10), || {
        fs::read_to_string(&log_path)
            .unwrap_or_default()
            .contains("Startup complete")
    });
    (pid, pid_p, pid_r, log_path)
}

fn wait_exit(ns: &mut Netns, timeout: Duration) -> Option<i32> {
    let mut daemon = ns.daemon.take().unwrap();
    let end = Instant::now() + timeout;
    loop {
        if let Some(s) = daemon.try_wait().unwrap() {
            return s.code();
        }
        if Instant::now() >= end {
            ns.daemon = Some(daemon);
            panic!("daemon did not exit in {timeout:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
#[ignore = "needs root: run by make integration"]
fn stuck_child_is_killed_after_child_wait_time() {
    let mut ns = Netns::new("stuck");
    let dir = temp_dir("stuck");
    let (parent, pid_p, pid_r, log_path) = start_daemon(&mut ns, &dir, &[]);
    let child = read_pid(&pid_r).unwrap();
    kill(child, "STOP");
    let t0 = Instant::now();
    kill(parent, "TERM");
    assert_eq!(wait_exit(&mut ns, Duration::from_secs(8)), Some(0));
    let took = t0.elapsed();
    assert!(
        took >= Duration::from_millis(1900),
        "stopped after {took:?}"
    );
    let log = fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("failed to die - forcing termination"), "{log}");
    assert!(!pid_p.exists() && !pid_r.exists());
    let _ = fs::remove_dir_all(&dir);
}

#[test]
#[ignore = "needs root: run by make integration"]
fn dont_respawn_exits_when_the_child_dies() {
    let mut ns = Netns::new("norespawn");
    let dir = temp_dir("norespawn");
    let (_, pid_p, pid_r, log_path) = start_daemon(&mut ns, &dir, &["-R"]);
    let child = read_pid(&pid_r).unwrap();
    kill(child, "KILL");
    assert_eq!(wait_exit(&mut ns, Duration::from_secs(5)), Some(0));
    let log = fs::read_to_string(&log_path).unwrap();
    assert!(
        log.contains(&format!("VRRP child process({child}) died: Exiting")),
        "{log}"
    );
    assert!(!pid_p.exists() && !pid_r.exists());
    let _ = fs::remove_dir_all(&dir);
}

fn has_vip(ns: &Netns, vip: &str) -> bool {
    ns.addrs().contains(vip)
}

/// SIGTERM with one MASTER instance: the VIP goes, then the daemon exits 0 at once. Prints the
/// two delays (signal -> VIP gone, VIP gone -> exit); also checks `-g` (the parent's lines in
/// the file, the VRRP child's in `_vrrp`).
#[test]
#[ignore = "needs root: run by make integration"]
fn sigterm_releases_the_vip_and_exits_quickly() {
    let mut ns = Netns::new("term");
    let dir = temp_dir("term");
    let log_file = dir.join("ka.log");
    let (parent, pid_p, pid_r, log_path) = start_daemon(
        &mut ns,
        &dir,
        &["-D", "--flush-log-file", "-g", log_file.to_str().unwrap()],
    );
    wait_for("MASTER with the VIP", Duration::from_secs(10), || {
        has_vip(&ns, "192.0.2.101/24")
    });
    let t0 = Instant::now();
    kill(parent, "TERM");
    let mut vip_gone = None;
    let mut daemon = ns.daemon.take().unwrap();
    let exited = loop {
        if vip_gone.is_none() && !has_vip(&ns, "192.0.2.101") {
            vip_gone = Some(t0.elapsed());
        }
        if let Some(status) = daemon.try_wait().unwrap() {
            break (t0.elapsed(), status);
        }
        assert!(t0.elapsed() < Duration::from_secs(10), "no exit");
        std::thread::sleep(Duration::from_millis(2));
    };
    let (exit_after, status) = exited;
    let vip_gone = vip_gone.unwrap_or(exit_after);
    eprintln!(
        "SIGTERM -> VIP removed: {:.1} ms; VIP removed -> exit: {:.1} ms (exit {:.1} ms after the signal)",
        vip_gone.as_secs_f64() * 1e3,
        (exit_after.saturating_sub(vip_gone)).as_secs_f64() * 1e3,
        exit_after.as_secs_f64() * 1e3
    );
    assert_eq!(status.code(), Some(0));
    assert!(!has_vip(&ns, "192.0.2.101"), "VIP left behind");
    assert!(
        exit_after.saturating_sub(vip_gone) < Duration::from_millis(500),
        "slow exit after the VIP went: {exit_after:?} vs {vip_gone:?}"
    );
    assert!(!pid_p.exists() && !pid_r.exists());
    let log = fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("Stopping"), "{log}");
    assert!(log.contains("Stopped keepalived-rs"), "{log}");
    assert!(log.contains("CPU usage (self/children)"), "-D: {log}");
    let parent_file = fs::read_to_string(&log_file).unwrap();
    assert!(parent_file.contains("Startup complete"), "{parent_file}");
    assert!(
        parent_file.contains("Stopped keepalived-rs"),
        "{parent_file}"
    );
    let vrrp_file = fs::read_to_string(dir.join("ka_vrrp.log")).unwrap();
    assert!(vrrp_file.contains("Entering MASTER STATE"), "{vrrp_file}");
    let _ = fs::remove_dir_all(&dir);
}

/// `-V`: the VIP stays after a clean stop.
#[test]
#[ignore = "needs root: run by make integration"]
fn dont_release_vrrp_keeps_the_vip() {
    let mut ns = Netns::new("keepvip");
    let dir = temp_dir("keepvip");
    let (parent, pid_p, _, log_path) = start_daemon(&mut ns, &dir, &["-V"]);
    wait_for("MASTER with the VIP", Duration::from_secs(10), || {
        has_vip(&ns, "192.0.2.101/24")
    });
    kill(parent, "TERM");
    assert_eq!(wait_exit(&mut ns, Duration::from_secs(5)), Some(0));
    assert!(
        has_vip(&ns, "192.0.2.101/24"),
        "{}",
        fs::read_to_string(&log_path).unwrap_or_default()
    );
    assert!(!pid_p.exists());
    let _ = fs::remove_dir_all(&dir);
}

/// A full disk under `$TMPDIR` (a 64 KiB tmpfs in a private mount namespace, filled up): the
/// dump fails with a clear error, no temporary is left, the daemon keeps running; once space
/// is back the next dump is written.
#[test]
#[ignore = "needs root: run by make integration"]
fn dump_on_a_full_disk_is_logged_and_cleaned_up() {
    let mut ns = Netns::new("enospc");
    let dir = temp_dir("enospc");
    let small = dir.join("small");
    fs::create_dir_all(&small).unwrap();
    let conf = dir.join("k.conf");
    fs::write(&conf, SIMPLE_CONF).unwrap();
    let log_path = dir.join("d.log");
    let child = Command::new("ip")
        .args(["netns", "exec", &ns.name, "unshare", "-m", "--propagation", "private"])
        .args(["sh", "-c"])
        .arg("mount -t tmpfs -o size=64k tmpfs \"$0\" && (dd if=/dev/zero of=\"$0/fill\" bs=4k 2>/dev/null; true) && exec \"$@\"")
        .arg(&small)
        .args([BIN, "-n", "-l", "-G", "-f"])
        .arg(&conf)
        .arg("-p")
        .arg(dir.join("p.pid"))
        .arg("-r")
        .arg(dir.join("v.pid"))
        .arg("-c")
        .arg(dir.join("c.pid"))
        .env("TMPDIR", &small)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log_path).unwrap())
        .spawn()
        .unwrap();
    let parent = child.id() as i32;
    ns.daemon = Some(child);
    let log = || fs::read_to_string(&log_path).unwrap_or_default();
    wait_for("Startup complete", Duration::from_secs(10), || {
        log().contains("Startup complete")
    });
    let in_ns = |args: &[&str]| {
        let out = Command::new("nsenter")
            .args(["-t", &parent.to_string(), "-m", "--"])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let small_s = small.to_str().unwrap();
    kill(parent, "USR1");
    wait_for("the dump error", Duration::from_secs(5), || {
        log().contains("dump not written")
    });
    let text = log();
    assert!(text.contains("No space left on device"), "{text}");
    let listing = in_ns(&["ls", "-a", small_s]);
    assert!(!listing.contains(".tmp"), "temporary left: {listing}");
    assert!(!listing.contains("keepalived.data"), "{listing}");
    assert!(ns.daemon.as_mut().unwrap().try_wait().unwrap().is_none());
    in_ns(&["rm", "-f", &format!("{small_s}/fill")]);
    kill(parent, "USR1");
    wait_for(
        "the dump once space is back",
        Duration::from_secs(5),
        || in_ns(&["ls", small_s]).contains("keepalived.data"),
    );
    kill(parent, "TERM");
    assert_eq!(wait_exit(&mut ns, Duration::from_secs(5)), Some(0));
    let _ = fs::remove_dir_all(&dir);
}
