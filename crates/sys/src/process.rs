//! Forking, daemonising, spawning scripts and reaping children.
//!
//! Everything here assumes a single-threaded process (the architecture forbids threads): after
//! `fork` only the calling thread exists in the child, so any lock another thread held would
//! stay locked forever.
//!
//! Scripts ([`spawn_script`]) follow keepalived's `system_call_script`: executed directly (no
//! shell unless the caller passes `["/bin/sh", "-c", ...]`), in their own process group so a
//! timeout can kill the whole group ([`kill_group`]), with the signal mask emptied and every
//! signal disposition back to default, stdin/stdout/stderr on `/dev/null`, every inherited fd
//! above 2 marked close-on-exec, `PR_SET_PDEATHSIG` = `SIGTERM` (so a script dies with the
//! process that started it), and `IFS`, `LD_PRELOAD`, `LD_LIBRARY_PATH` removed from the
//! inherited environment before the caller's variables are added.
//!
//! Refinements of the agreed API: [`kill_group`] treats "no such group" as success (it already
//! exited); [`reap`] also returns the children of other callers (it is the process-wide
//! `waitpid(-1)` loop, dispatch by pid is the caller's job); [`set_nonblocking`] is added for
//! the fds of [`socketpair_stream`], which are blocking.

use std::ffi::OsStr;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};

use nix::errno::Errno;
use nix::fcntl::{fcntl, FcntlArg, OFlag};
use nix::sys::signal::{killpg, Signal};
use nix::sys::socket::{socketpair, AddressFamily, SockFlag, SockType};
use nix::sys::wait::{waitpid, WaitPidFlag, WaitStatus};
pub use nix::unistd::Pid;

use crate::error::{OsContext, Result, SysError};

/// Which side of a [`fork`] we are on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forked {
    /// The original process; `child` is the new process.
    Parent {
        /// The new process's pid.
        child: Pid,
    },
    /// The new process.
    Child,
}

/// How a reaped child ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitKind {
    /// It called `exit` with this status.
    Exited(i32),
    /// It was killed by this signal number.
    Signaled(i32),
}

/// Forks the process.
///
/// Only call while single-threaded (always, in keepalived-rs): the child must create its own
/// poll, netlink sockets and signalfd afterwards.
pub fn fork() -> Result<Forked> {
    // SAFETY: keepalived-rs never starts threads, so the child is a complete copy of a
    // single-threaded process and may run arbitrary code after the fork.
    match unsafe { nix::unistd::fork() }.ctx("fork", String::new)? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent { child }),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// Asks the kernel to send `signal` to this process when its parent dies.
pub fn set_pdeathsig(signal: Signal) -> Result<()> {
    nix::sys::prctl::set_pdeathsig(signal).ctx("prctl PR_SET_PDEATHSIG", || signal.to_string())
}

/// Makes this process adopt orphaned descendants (scripts of a dead child), so it reaps them.
pub fn set_child_subreaper() -> Result<()> {
    nix::sys::prctl::set_child_subreaper(true).ctx("prctl PR_SET_CHILD_SUBREAPER", String::new)
}

/// Detaches from the terminal: forks (the original process exits 0 at once), starts a new
/// session, changes to `/` and points stdin/stdout/stderr at `/dev/null`. Returns in the
/// daemon process only.
pub fn daemonize() -> Result<()> {
    match fork()? {
        Forked::Parent { .. } => {
            // SAFETY: _exit ends the process at once without running Rust or libc exit
            // handlers, which belong to the daemon child now.
            unsafe { libc::_exit(0) }
        }
        Forked::Child => {}
    }
    nix::unistd::setsid().ctx("setsid", String::new)?;
    nix::unistd::chdir("/").ctx("chdir", || "/")?;
    let null = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/null")
        .ctx("open", || "/dev/null")?;
    for target in [libc::STDIN_FILENO, libc::STDOUT_FILENO, libc::STDERR_FILENO] {
        dup_onto(null.as_fd(), target).ctx("dup2", || format!("/dev/null onto fd {target}"))?;
    }
    Ok(())
}

fn dup_onto(fd: BorrowedFd<'_>, target: libc::c_int) -> std::io::Result<()> {
    // SAFETY: `fd` is open for the call; dup2 onto a standard stream only replaces what that
    // stream number refers to, which no Rust owner tracks as an OwnedFd.
    let rc = unsafe { libc::dup2(fd.as_raw_fd(), target) };
    if rc < 0 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

/// A connected pair of Unix stream sockets, close-on-exec and blocking (see
/// [`set_nonblocking`]), for the parent ↔ child channels.
pub fn socketpair_stream() -> Result<(OwnedFd, OwnedFd)> {
    socketpair(
        AddressFamily::Unix,
        SockType::Stream,
        None,
        SockFlag::SOCK_CLOEXEC,
    )
    .ctx("socketpair", || "AF_UNIX SOCK_STREAM")
}

/// Switches `O_NONBLOCK` on or off for any fd.
pub fn set_nonblocking(fd: BorrowedFd<'_>, nonblocking: bool) -> Result<()> {
    let ctx = || format!("fd {}", fd.as_raw_fd());
    let flags = fcntl(fd, FcntlArg::F_GETFL).ctx("fcntl F_GETFL", ctx)?;
    let mut flags = OFlag::from_bits_retain(flags);
    flags.set(OFlag::O_NONBLOCK, nonblocking);
    fcntl(fd, FcntlArg::F_SETFL(flags)).ctx("fcntl F_SETFL", ctx)?;
    Ok(())
}

/// Environment variables keepalived removes before running a script.
const UNSAFE_ENV: [&str; 3] = ["IFS", "LD_PRELOAD", "LD_LIBRARY_PATH"];

/// Runs in the forked child just before `execve`: only async-signal-safe calls, no allocation.
/// `parent` is the spawning process, to catch its death before the death signal was armed.
fn reset_child_state(parent: Pid) -> std::io::Result<()> {
    // Ignored dispositions survive exec; caught ones reset anyway. Default them all.
    for signo in 1..=libc::SIGRTMAX() {
        if signo == libc::SIGKILL || signo == libc::SIGSTOP {
            continue;
        }
        // SAFETY: signal(2) with SIG_DFL is async-signal-safe and installs no Rust code.
        unsafe { libc::signal(signo, libc::SIG_DFL) };
    }
    let empty = nix::sys::signal::SigSet::empty();
    nix::sys::signal::sigprocmask(
        nix::sys::signal::SigmaskHow::SIG_SETMASK,
        Some(&empty),
        None,
    )?;
    // Inherited sockets (VRRP, netlink, IPC) must not leak into scripts. ENOSYS on kernels
    // before 5.11 leaves the (already CLOEXEC) fds this crate opens as they are.
    // SAFETY: close_range only changes fd flags; it takes no pointers.
    unsafe {
        libc::syscall(
            libc::SYS_close_range,
            3u32,
            u32::MAX,
            libc::CLOSE_RANGE_CLOEXEC,
        );
    }
    crate::sched::restore_for_exec();
    nix::sys::prctl::set_pdeathsig(Signal::SIGTERM)?;
    if nix::unistd::getppid() != parent {
        // The parent died before the death signal was armed: do not run orphaned.
        return Err(std::io::Error::from_raw_os_error(libc::ESRCH));
    }
    Ok(())
}

/// Starts a script and returns its pid (which is also its process group id).
///
/// `argv[0]` is the program (a path; a bare name is searched in `PATH` by `execvp`). `env`
/// is added to the inherited environment. `uid`/`gid` switch user (supplementary groups are
/// dropped when started as root). The caller reaps it through [`reap`].
pub fn spawn_script(
    argv: &[String],
    env: &[(String, String)],
    uid: Option<u32>,
    gid: Option<u32>,
) -> Result<Pid> {
    let Some((program, args)) = argv.split_first() else {
        return Err(SysError::Invalid {
            what: "spawn script",
            context: String::new(),
            reason: "empty command line",
        });
    };
    let mut cmd = Command::new(OsStr::from_bytes(program.as_bytes()));
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .process_group(0);
    for name in UNSAFE_ENV {
        cmd.env_remove(name);
    }
    cmd.envs(env.iter().map(|(k, v)| (k, v)));
    if let Some(gid) = gid {
        cmd.gid(gid);
    }
    if let Some(uid) = uid {
        cmd.uid(uid);
    }
    // SAFETY: the hook runs between fork and exec in a single-threaded child and makes only
    // async-signal-safe calls (signal, sigprocmask, close_range, prctl, getppid), allocating
    // nothing.
    unsafe {
        let parent = nix::unistd::getpid();
        cmd.pre_exec(move || reset_child_state(parent));
    }
    let child = cmd.spawn().ctx("spawn script", || argv.join(" "))?;
    let pid = i32::try_from(child.id()).map_err(|_| SysError::Invalid {
        what: "spawn script",
        context: argv.join(" "),
        reason: "pid out of range",
    })?;
    // Dropping `child` neither waits nor kills: reaping goes through `reap`.
    Ok(Pid::from_raw(pid))
}

/// Sends `signal` to every process of group `pgid`; a group that no longer exists is fine.
pub fn kill_group(pgid: Pid, signal: Signal) -> Result<()> {
    match killpg(pgid, signal) {
        Ok(()) | Err(Errno::ESRCH) => Ok(()),
        Err(e) => Err(SysError::os("killpg", format!("group {pgid} {signal}"), e)),
    }
}

/// Collects every child that has ended, without blocking (`waitpid(-1, WNOHANG)` until none).
pub fn reap() -> Vec<(Pid, ExitKind)> {
    let mut out = Vec::new();
    loop {
        match waitpid(None, Some(WaitPidFlag::WNOHANG)) {
            Ok(WaitStatus::Exited(pid, code)) => out.push((pid, ExitKind::Exited(code))),
            Ok(WaitStatus::Signaled(pid, sig, _core)) => {
                out.push((pid, ExitKind::Signaled(sig as i32)))
            }
            Ok(WaitStatus::StillAlive) | Err(Errno::ECHILD) => break,
            Err(Errno::EINTR) => continue,
            // Stop/continue reports are not requested; anything else ends this round.
            Ok(_) => continue,
            Err(e) => {
                log::warn!("waitpid: {e}");
                break;
            }
        }
    }
    out
}

/// Waits (blocking) for one specific child; for tests and shutdown paths.
pub fn wait_for(pid: Pid) -> Result<ExitKind> {
    loop {
        match waitpid(pid, None) {
            Ok(WaitStatus::Exited(_, code)) => return Ok(ExitKind::Exited(code)),
            Ok(WaitStatus::Signaled(_, sig, _)) => return Ok(ExitKind::Signaled(sig as i32)),
            Ok(_) | Err(Errno::EINTR) => continue,
            Err(e) => return Err(SysError::os("waitpid", format!("pid {pid}"), e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// `reap` waits for any child, so tests that spawn must not overlap.
    fn serial() -> std::sync::MutexGuard<'static, ()> {
        static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
        LOCK.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn sh(script: &str) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn exit_codes_are_reported() {
        let _guard = serial();
        let pid = spawn_script(&sh("exit 3"), &[], None, None).unwrap();
        assert_eq!(wait_for(pid).unwrap(), ExitKind::Exited(3));
        let pid = spawn_script(&["/bin/true".to_string()], &[], None, None).unwrap();
        assert_eq!(wait_for(pid).unwrap(), ExitKind::Exited(0));
    }

    #[test]
    fn missing_program_is_an_error() {
        let _guard = serial();
        let err =
            spawn_script(&["/nonexistent/kars-script".to_string()], &[], None, None).unwrap_err();
        assert_eq!(err.errno(), Some(libc::ENOENT));
        assert!(spawn_script(&[], &[], None, None).is_err());
    }

    fn temp_dir(tag: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("kars-spawn-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Parses a hex signal mask line such as `SigIgn:\t0000000000000001` from /proc status.
    fn proc_mask(text: &str, field: &str) -> u64 {
        let line = text.lines().find(|l| l.starts_with(field)).unwrap();
        u64::from_str_radix(line.rsplit('\t').next().unwrap().trim(), 16).unwrap()
    }

    #[test]
    fn script_has_own_group_clean_env_and_reset_signals() {
        let _guard = serial();
        let dir = temp_dir("env");
        let out = dir.join("out");
        let script = format!(
            "echo pgid=$(ps -o pgid= -p $$ | tr -d ' ') pid=$$ > {o}; \
             env | grep -E '^(KARS_VAR|IFS|LD_PRELOAD|LD_LIBRARY_PATH)=' >> {o}; \
             exec grep -E '^(SigIgn|SigBlk)' /proc/self/status >> {o}",
            o = out.display()
        );
        let env = [("KARS_VAR".to_string(), "yes".to_string())];
        // Ignore SIGUSR1 here (temporarily, this is the test process) to see the reset.
        // SAFETY: installing SIG_IGN runs no code; restored right after the spawn.
        let old = unsafe {
            nix::sys::signal::signal(Signal::SIGUSR1, nix::sys::signal::SigHandler::SigIgn)
        }
        .unwrap();
        let pid = spawn_script(&sh(&script), &env, None, None);
        // SAFETY: restores the previous disposition.
        unsafe { nix::sys::signal::signal(Signal::SIGUSR1, old) }.unwrap();
        let pid = pid.unwrap();
        assert_eq!(wait_for(pid).unwrap(), ExitKind::Exited(0));
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains(&format!("pgid={pid} pid={pid}")), "{text}");
        assert_eq!(proc_mask(&text, "SigBlk"), 0, "{text}");
        // Read by the exec'd grep itself (the shell blocks signals while it waits for a
        // child). Standard signals only: glibc reserves 32 and 33 for itself.
        assert_eq!(proc_mask(&text, "SigIgn") & 0x7fff_ffff, 0, "{text}");
        let env_lines: Vec<&str> = text
            .lines()
            .filter(|l| l.contains('=') && !l.starts_with("pgid") && !l.starts_with("Sig"))
            .collect();
        assert_eq!(env_lines, ["KARS_VAR=yes"], "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn kill_group_kills_the_whole_group() {
        let _guard = serial();
        let dir = temp_dir("kill");
        let grandchild = dir.join("grandchild");
        // The shell starts a grandchild in the same group; killing the group ends both.
        let script = format!("sleep 30 & echo $! > {}; wait", grandchild.display());
        let pid = spawn_script(&sh(&script), &[], None, None).unwrap();
        let mut sleeper = None;
        for _ in 0..200 {
            if let Some(p) = std::fs::read_to_string(&grandchild)
                .ok()
                .and_then(|t| t.trim().parse::<i32>().ok())
            {
                sleeper = Some(p);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let sleeper = sleeper.unwrap();
        kill_group(pid, Signal::SIGKILL).unwrap();
        assert_eq!(wait_for(pid).unwrap(), ExitKind::Signaled(libc::SIGKILL));
        // The grandchild is dead too: gone, or a zombie waiting for its new parent.
        let mut dead = false;
        for _ in 0..200 {
            let state = std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
                .ok()
                .and_then(|s| {
                    s.rsplit(')')
                        .next()
                        .and_then(|r| r.split_whitespace().next())
                        .map(str::to_string)
                });
            if matches!(state.as_deref(), None | Some("Z") | Some("X")) {
                dead = true;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert!(dead, "grandchild {sleeper} survived the group kill");
        kill_group(Pid::from_raw(i32::MAX - 1), Signal::SIGTERM).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn reap_collects_exited_children() {
        let _guard = serial();
        let pid = spawn_script(&sh("exit 7"), &[], None, None).unwrap();
        let mut got = None;
        for _ in 0..100 {
            // Other tests' children may be reaped here too; look only for ours.
            if let Some(&(_, kind)) = reap().iter().find(|(p, _)| *p == pid) {
                got = Some(kind);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        assert_eq!(got, Some(ExitKind::Exited(7)));
    }

    #[test]
    fn daemonize_detaches_into_a_new_session_in_root() {
        let _guard = serial();
        let dir = temp_dir("daemon");
        let report = dir.join("report");
        let report_c = std::ffi::CString::new(report.to_str().unwrap()).unwrap();
        // Fork first, so `daemonize`'s exiting parent is this throwaway child, not the harness.
        match fork().unwrap() {
            Forked::Child => {
                let code = match daemonize() {
                    Ok(()) => {
                        let sid = nix::unistd::getsid(None).map(|p| p.as_raw()).unwrap_or(-1);
                        let me = nix::unistd::getpid().as_raw();
                        let cwd = std::env::current_dir()
                            .map(|p| p.display().to_string())
                            .unwrap_or_default();
                        let stdout = std::fs::read_link("/proc/self/fd/1")
                            .map(|p| p.display().to_string())
                            .unwrap_or_default();
                        let text = format!("{} {} {cwd} {stdout}\n", sid == me, me);
                        let tmp = format!("{}.tmp", report_c.to_str().unwrap());
                        let ok = std::fs::write(&tmp, text).is_ok()
                            && std::fs::rename(&tmp, report_c.to_str().unwrap()).is_ok();
                        i32::from(!ok)
                    }
                    Err(_) => 1,
                };
                // SAFETY: leave the forked copy of the test harness without running its exit code.
                unsafe { libc::_exit(code) }
            }
            Forked::Parent { child } => {
                assert_eq!(
                    wait_for(child).unwrap(),
                    ExitKind::Exited(0),
                    "daemonize's parent exits 0"
                );
            }
        }
        let mut text = String::new();
        for _ in 0..200 {
            if let Ok(t) = std::fs::read_to_string(&report) {
                text = t;
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let fields: Vec<&str> = text.split_whitespace().collect();
        assert_eq!(fields.len(), 4, "{text:?}");
        assert_eq!(fields[0], "true", "session leader: {text}");
        assert_eq!((fields[2], fields[3]), ("/", "/dev/null"), "{text}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn socketpair_carries_bytes_and_is_cloexec() {
        let (a, b) = socketpair_stream().unwrap();
        let flags = fcntl(&a, FcntlArg::F_GETFD).unwrap();
        assert!(
            nix::fcntl::FdFlag::from_bits_retain(flags).contains(nix::fcntl::FdFlag::FD_CLOEXEC)
        );
        let mut a = std::os::unix::net::UnixStream::from(a);
        let mut b = std::os::unix::net::UnixStream::from(b);
        a.write_all(b"hello").unwrap();
        let mut buf = [0u8; 5];
        b.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"hello");
        set_nonblocking(b.as_fd(), true).unwrap();
        assert_eq!(
            b.read(&mut buf).unwrap_err().kind(),
            std::io::ErrorKind::WouldBlock
        );
    }
}
