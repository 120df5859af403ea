//! Process tuning of a child: nice value, SCHED_RR realtime priority with its RLIMIT_RTTIME
//! watchdog, memory locking, CPU affinity, and the automatic realtime raise keepalived does
//! when its loop is being starved (`max_auto_priority`).
//!
//! The decisions are pure ([`plan`], [`AutoPriority`]); the system calls are thin wrappers that
//! return [`SysError`]. The automatic raise needs per-process state that the child's loop
//! reaches through [`note_lateness`]: the child is single-threaded, so a process-wide cell is the
//! simplest home for it (as in keepalived).

use crate::error::{Result, SysError};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// keepalived's default `*_rlimit_rttime`: a realtime process may run 10 ms without blocking
/// (SIGXCPU at half of it, SIGKILL at all of it).
pub const DEFAULT_RLIMIT_RTTIME_US: u32 = 10_000;

/// keepalived's default `min_auto_priority_delay`: a timer more than 1 s late counts as starved.
pub const DEFAULT_MIN_AUTO_PRIORITY_DELAY: Duration = Duration::from_secs(1);

/// The lowest SCHED_RR priority (Linux: 1); the first automatic raise goes there.
pub const MIN_RT_PRIORITY: u32 = 1;

/// Which child is being tuned (for keepalived's messages).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessLabel {
    /// The VRRP child.
    Vrrp,
    /// The checker child.
    Checker,
    /// The BFD child.
    Bfd,
}

impl ProcessLabel {
    /// The name in messages ("VRRP process has used too much CPU time").
    pub fn title(self) -> &'static str {
        match self {
            ProcessLabel::Vrrp => "VRRP",
            ProcessLabel::Checker => "Checker",
            ProcessLabel::Bfd => "BFD",
        }
    }

    /// The keyword prefix ("vrrp_rlimit_rttime", "unable to set cpu affinity to vrrp process").
    pub fn prefix(self) -> &'static str {
        match self {
            ProcessLabel::Vrrp => "vrrp",
            ProcessLabel::Checker => "checker",
            ProcessLabel::Bfd => "bfd",
        }
    }
}

/// What one child asks for, as keepalived's `global_defs` say it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Which child.
    pub label: ProcessLabel,
    /// `*_priority`: nice value; 0 leaves it alone.
    pub nice: i32,
    /// `*_rt_priority`: SCHED_RR priority; 0 = normal scheduling.
    pub rt_priority: u32,
    /// `*_rlimit_rttime` in microseconds; 0 = no limit set.
    pub rlimit_rttime_us: u32,
    /// `*_no_swap`: lock the process in memory.
    pub no_swap: bool,
    /// `*_cpu_affinity`: CPU numbers; empty = leave the affinity alone.
    pub cpus: Vec<usize>,
    /// `max_auto_priority`: the highest priority the automatic raise may reach; 0 (unset) and
    /// -1 (disabled) mean no automatic raise.
    pub max_auto_priority: i32,
    /// `min_auto_priority_delay`: how late a timer must fire to count as starvation.
    pub min_auto_priority_delay: Duration,
}

impl Settings {
    /// Normal scheduling and nothing else: what a child gets when `global_defs` says nothing.
    pub fn untuned(label: ProcessLabel) -> Self {
        Settings {
            label,
            nice: 0,
            rt_priority: 0,
            rlimit_rttime_us: DEFAULT_RLIMIT_RTTIME_US,
            no_swap: false,
            cpus: Vec::new(),
            max_auto_priority: 0,
            min_auto_priority_delay: DEFAULT_MIN_AUTO_PRIORITY_DELAY,
        }
    }
}

/// One system change, in the order keepalived makes them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// `sched_setscheduler(SCHED_RR | SCHED_RESET_ON_FORK, priority)`, then, when it worked and
    /// `rlimit_us` is set, RLIMIT_RTTIME soft = half, hard = all (SIGXCPU first, as a warning).
    Realtime {
        /// SCHED_RR priority.
        priority: u32,
        /// RLIMIT_RTTIME hard limit in microseconds.
        rlimit_us: Option<u32>,
    },
    /// `setpriority(PRIO_PROCESS, 0, nice)` (only without realtime scheduling).
    Nice(i32),
    /// `mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)`.
    LockMemory,
    /// `sched_setaffinity(0, cpus)`.
    Affinity(Vec<usize>),
}

/// The steps a child takes right after it starts. keepalived sets the nice value only when it
/// does not use realtime scheduling, and limits realtime CPU time only when it does.
pub fn plan(s: &Settings) -> Vec<Step> {
    let mut steps = Vec::new();
    if s.rt_priority > 0 {
        steps.push(Step::Realtime {
            priority: s.rt_priority,
            rlimit_us: (s.rlimit_rttime_us > 0).then_some(s.rlimit_rttime_us),
        });
    } else if s.nice != 0 {
        steps.push(Step::Nice(s.nice));
    }
    if s.no_swap {
        steps.push(Step::LockMemory);
    }
    if !s.cpus.is_empty() {
        steps.push(Step::Affinity(s.cpus.clone()));
    }
    steps
}

/// RLIMIT_RTTIME for a hard limit of `hard_us`: the soft limit is half (at least 1 µs), so the
/// process gets SIGXCPU before the SIGKILL.
pub fn rttime_limits(hard_us: u32) -> (u64, u64) {
    let hard = u64::from(hard_us.max(2));
    (hard / 2, hard)
}

/// The automatic realtime raise (`max_auto_priority`): each time a timer fires later than
/// `min_delay`, go one SCHED_RR priority up, starting at [`MIN_RT_PRIORITY`], never above `max`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AutoPriority {
    /// Highest priority the raise may reach; 0 = no raise.
    pub max: u32,
    /// Current SCHED_RR priority; 0 = normal scheduling.
    pub current: u32,
    /// Lateness that counts as starvation; zero disables the check.
    pub min_delay: Duration,
    /// RLIMIT_RTTIME to set on the first raise (µs; 0 = none).
    pub default_rlimit_us: u32,
    /// Whether RLIMIT_RTTIME is already in force.
    pub rlimit_set: bool,
    /// Which child (for messages).
    pub label: ProcessLabel,
}

/// What to do about one late wake-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lateness {
    /// On time (or within `min_delay`).
    Fine,
    /// Late, but no raise is possible (not configured, or already at the maximum).
    Late,
    /// Late: switch to SCHED_RR at this priority (setting RLIMIT_RTTIME if `rlimit_us`).
    Raise {
        /// New SCHED_RR priority.
        priority: u32,
        /// RLIMIT_RTTIME hard limit to set, when none is in force yet.
        rlimit_us: Option<u32>,
    },
}

impl AutoPriority {
    /// The state right after a child applied `s`: `rt_applied` tells whether its realtime
    /// step worked, `rlimit_applied` whether its RLIMIT_RTTIME did.
    pub fn after_start(s: &Settings, rt_applied: bool, rlimit_applied: bool) -> Self {
        AutoPriority {
            max: u32::try_from(s.max_auto_priority).unwrap_or(0),
            current: if rt_applied { s.rt_priority } else { 0 },
            min_delay: s.min_auto_priority_delay,
            default_rlimit_us: if s.rt_priority > 0 {
                0
            } else {
                s.rlimit_rttime_us
            },
            rlimit_set: rlimit_applied,
            label: s.label,
        }
    }

    /// Decides what a wake-up `late` after its deadline calls for (pure).
    pub fn judge(&self, late: Duration) -> Lateness {
        if self.min_delay.is_zero() || late <= self.min_delay {
            return Lateness::Fine;
        }
        if self.max == 0 || (self.current > 0 && self.current >= self.max) {
            return Lateness::Late;
        }
        let priority = if self.current == 0 {
            MIN_RT_PRIORITY
        } else {
            self.current + 1
        };
        let rlimit_us =
            (!self.rlimit_set && self.default_rlimit_us > 0).then_some(self.default_rlimit_us);
        Lateness::Raise {
            priority,
            rlimit_us,
        }
    }
}

/// The process's automatic-raise state (set by [`install_auto_priority`]).
static AUTO: Mutex<Option<AutoPriority>> = Mutex::new(None);
/// SIGXCPU arrived (RLIMIT_RTTIME soft limit reached); logged by [`note_lateness`].
static SIGXCPU_SEEN: AtomicBool = AtomicBool::new(false);
/// The nice value before tuning, restored in scripts' children ([`restore_for_exec`]).
static ORIG_NICE: AtomicI32 = AtomicI32::new(0);
static NICE_CHANGED: AtomicBool = AtomicBool::new(false);
/// RLIMIT_RTTIME before tuning (soft, hard), restored in scripts' children.
static ORIG_RTTIME_CUR: AtomicU64 = AtomicU64::new(0);
static ORIG_RTTIME_MAX: AtomicU64 = AtomicU64::new(0);
static RTTIME_CHANGED: AtomicBool = AtomicBool::new(false);

/// Makes `auto` this process's automatic-raise state.
pub fn install_auto_priority(auto: AutoPriority) {
    if let Ok(mut slot) = AUTO.lock() {
        *slot = Some(auto);
    }
}

/// Called by a child's loop after each wait with how late it woke up past its earliest
/// deadline (zero when on time). Logs keepalived's "A thread timer expired" and raises the
/// realtime priority when `max_auto_priority` allows; also logs a pending SIGXCPU.
pub fn note_lateness(late: Duration) {
    if SIGXCPU_SEEN.swap(false, Ordering::Relaxed) {
        let label = AUTO
            .lock()
            .ok()
            .and_then(|a| a.as_ref().map(|a| a.label))
            .unwrap_or(ProcessLabel::Vrrp);
        log::info!(
            "{} process has used too much CPU time, {}_rlimit_rttime may need to be increased",
            label.title(),
            label.prefix()
        );
    }
    if late.is_zero() {
        return;
    }
    let Ok(mut slot) = AUTO.lock() else { return };
    let Some(auto) = slot.as_mut() else { return };
    let verdict = auto.judge(late);
    if verdict == Lateness::Fine {
        return;
    }
    log::info!(
        "A thread timer expired {}.{:06} seconds ago",
        late.as_secs(),
        late.subsec_micros()
    );
    if let Lateness::Raise {
        priority,
        rlimit_us,
    } = verdict
    {
        match set_realtime(priority) {
            Ok(()) => {
                auto.current = priority;
                if let Some(us) = rlimit_us {
                    install_sigxcpu_flag();
                    match set_rttime_limit(us) {
                        Ok(()) => auto.rlimit_set = true,
                        Err(e) => {
                            log::warn!("child process cannot set realtime rlimit ({e})")
                        }
                    }
                }
                log::info!("Set realtime priority {priority}");
            }
            Err(e) => log::warn!("child process: cannot raise priority ({e})"),
        }
    }
}

/// The current nice value.
pub fn nice_value() -> Result<i32> {
    nix::errno::Errno::clear();
    // SAFETY: getpriority takes no pointers; -1 is ambiguous, hence the errno check.
    let v = unsafe { libc::getpriority(libc::PRIO_PROCESS, 0) };
    if v == -1 {
        let errno = nix::errno::Errno::last();
        if errno != nix::errno::Errno::UnknownErrno {
            return Err(SysError::os("getpriority", "self", errno));
        }
    }
    Ok(v)
}

/// `setpriority(PRIO_PROCESS, self, nice)`; remembers the value before the first change.
pub fn set_nice(nice: i32) -> Result<()> {
    if !NICE_CHANGED.load(Ordering::Relaxed) {
        ORIG_NICE.store(nice_value()?, Ordering::Relaxed);
    }
    // SAFETY: setpriority takes no pointers.
    let rc = unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, nice) };
    if rc == -1 {
        return Err(SysError::os(
            "setpriority",
            nice.to_string(),
            std::io::Error::last_os_error(),
        ));
    }
    NICE_CHANGED.store(true, Ordering::Relaxed);
    Ok(())
}

/// SCHED_RR at `priority` for this process, reset to normal scheduling in its forks (scripts).
pub fn set_realtime(priority: u32) -> Result<()> {
    let param = libc::sched_param {
        sched_priority: i32::try_from(priority).unwrap_or(i32::MAX),
    };
    // SAFETY: `param` is a valid sched_param that outlives the call; pid 0 = this process.
    let rc =
        unsafe { libc::sched_setscheduler(0, libc::SCHED_RR | libc::SCHED_RESET_ON_FORK, &param) };
    if rc == -1 {
        return Err(SysError::os(
            "sched_setscheduler SCHED_RR",
            priority.to_string(),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// RLIMIT_RTTIME: soft = half of `hard_us`, hard = `hard_us` (see [`rttime_limits`]).
pub fn set_rttime_limit(hard_us: u32) -> Result<()> {
    let (cur, max) = rttime_limits(hard_us);
    if !RTTIME_CHANGED.load(Ordering::Relaxed) {
        let mut old = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: `old` is a valid rlimit the kernel writes into.
        if unsafe { libc::getrlimit(libc::RLIMIT_RTTIME, &mut old) } == 0 {
            ORIG_RTTIME_CUR.store(old.rlim_cur, Ordering::Relaxed);
            ORIG_RTTIME_MAX.store(old.rlim_max, Ordering::Relaxed);
        }
    }
    let lim = libc::rlimit {
        rlim_cur: cur,
        rlim_max: max,
    };
    // SAFETY: `lim` is a valid rlimit that outlives the call.
    if unsafe { libc::setrlimit(libc::RLIMIT_RTTIME, &lim) } == -1 {
        return Err(SysError::os(
            "setrlimit RLIMIT_RTTIME",
            hard_us.to_string(),
            std::io::Error::last_os_error(),
        ));
    }
    RTTIME_CHANGED.store(true, Ordering::Relaxed);
    Ok(())
}

/// `mlockall(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT)`, without MCL_ONFAULT on kernels before
/// 4.4 (EINVAL).
pub fn lock_memory() -> Result<()> {
    let flags = libc::MCL_CURRENT | libc::MCL_FUTURE;
    // SAFETY: mlockall takes no pointers.
    let mut rc = unsafe { libc::mlockall(flags | libc::MCL_ONFAULT) };
    if rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EINVAL) {
        // SAFETY: as above.
        rc = unsafe { libc::mlockall(flags) };
    }
    if rc == -1 {
        return Err(SysError::os(
            "mlockall",
            "self",
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// `sched_setaffinity(0, cpus)`.
pub fn set_affinity(cpus: &[usize]) -> Result<()> {
    let mut set = nix::sched::CpuSet::new();
    for &cpu in cpus {
        set.set(cpu)
            .map_err(|e| SysError::os("cpu set", cpu.to_string(), e))?;
    }
    nix::sched::sched_setaffinity(nix::unistd::Pid::from_raw(0), &set).map_err(|e| {
        let list: Vec<String> = cpus.iter().map(ToString::to_string).collect();
        SysError::os("sched_setaffinity", list.join(" "), e)
    })
}

/// Number of CPUs online (for checking `*_cpu_affinity` as keepalived does).
pub fn cpus_online() -> usize {
    // SAFETY: sysconf takes no pointers.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    usize::try_from(n).unwrap_or(1).max(1)
}

extern "C" fn on_sigxcpu(_: libc::c_int) {
    SIGXCPU_SEEN.store(true, Ordering::Relaxed);
}

/// Catches SIGXCPU (the RLIMIT_RTTIME soft limit) so it is logged instead of killing the
/// process; the default action would dump core at half the configured limit.
pub fn install_sigxcpu_flag() {
    let action = nix::sys::signal::SigAction::new(
        nix::sys::signal::SigHandler::Handler(on_sigxcpu),
        nix::sys::signal::SaFlags::SA_RESTART,
        nix::sys::signal::SigSet::empty(),
    );
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    if let Err(e) = unsafe { nix::sys::signal::sigaction(nix::sys::signal::SIGXCPU, &action) } {
        log::warn!("cannot catch SIGXCPU: {e}");
    }
}

/// In a script's child between fork and exec: undo what tuning changed that survives fork
/// (the nice value, RLIMIT_RTTIME), as keepalived does before running a script. Realtime
/// scheduling is already reset by SCHED_RESET_ON_FORK and memory locks are not inherited.
/// Only async-signal-safe calls; failures (e.g. after a switch to an unprivileged user) leave
/// the inherited values.
pub fn restore_for_exec() {
    if NICE_CHANGED.load(Ordering::Relaxed) {
        // SAFETY: setpriority takes no pointers.
        unsafe { libc::setpriority(libc::PRIO_PROCESS, 0, ORIG_NICE.load(Ordering::Relaxed)) };
    }
    if RTTIME_CHANGED.load(Ordering::Relaxed) {
        let lim = libc::rlimit {
            rlim_cur: ORIG_RTTIME_CUR.load(Ordering::Relaxed),
            rlim_max: ORIG_RTTIME_MAX.load(Ordering::Relaxed),
        };
        // SAFETY: `lim` is a valid rlimit that outlives the call.
        unsafe { libc::setrlimit(libc::RLIMIT_RTTIME, &lim) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vrrp() -> Settings {
        Settings::untuned(ProcessLabel::Vrrp)
    }

    #[test]
    fn untuned_does_nothing() {
        assert!(plan(&vrrp()).is_empty());
    }

    #[test]
    fn realtime_takes_the_default_rttime_limit_and_skips_nice() {
        let s = Settings {
            rt_priority: 20,
            nice: -5,
            ..vrrp()
        };
        assert_eq!(
            plan(&s),
            vec![Step::Realtime {
                priority: 20,
                rlimit_us: Some(10_000)
            }]
        );
        assert_eq!(rttime_limits(10_000), (5_000, 10_000));
        assert_eq!(rttime_limits(1), (1, 2));
    }

    #[test]
    fn nice_swap_and_affinity_in_keepalived_order() {
        let s = Settings {
            nice: -2,
            no_swap: true,
            cpus: vec![0, 1],
            ..vrrp()
        };
        assert_eq!(
            plan(&s),
            vec![Step::Nice(-2), Step::LockMemory, Step::Affinity(vec![0, 1])]
        );
    }

    #[test]
    fn zero_rlimit_means_no_limit() {
        let s = Settings {
            rt_priority: 5,
            rlimit_rttime_us: 0,
            ..vrrp()
        };
        assert_eq!(
            plan(&s),
            vec![Step::Realtime {
                priority: 5,
                rlimit_us: None
            }]
        );
    }

    #[test]
    fn auto_priority_off_unless_max_set() {
        let auto = AutoPriority::after_start(&vrrp(), false, false);
        assert_eq!(auto.judge(Duration::from_secs(2)), Lateness::Late);
        assert_eq!(auto.judge(Duration::from_millis(999)), Lateness::Fine);
        let disabled = Settings {
            max_auto_priority: -1,
            ..vrrp()
        };
        let auto = AutoPriority::after_start(&disabled, false, false);
        assert_eq!(auto.judge(Duration::from_secs(2)), Lateness::Late);
    }

    #[test]
    fn auto_priority_climbs_from_one_to_max_with_rlimit_once() {
        let s = Settings {
            max_auto_priority: 3,
            min_auto_priority_delay: Duration::from_millis(10),
            ..vrrp()
        };
        let mut auto = AutoPriority::after_start(&s, false, false);
        let late = Duration::from_millis(11);
        assert_eq!(
            auto.judge(late),
            Lateness::Raise {
                priority: 1,
                rlimit_us: Some(10_000)
            }
        );
        auto.current = 1;
        auto.rlimit_set = true;
        assert_eq!(
            auto.judge(late),
            Lateness::Raise {
                priority: 2,
                rlimit_us: None
            }
        );
        auto.current = 3;
        assert_eq!(auto.judge(late), Lateness::Late);
        assert_eq!(auto.judge(Duration::from_millis(10)), Lateness::Fine);
    }

    #[test]
    fn configured_realtime_above_max_is_not_raised() {
        let s = Settings {
            rt_priority: 50,
            max_auto_priority: 20,
            ..vrrp()
        };
        let auto = AutoPriority::after_start(&s, true, true);
        assert_eq!(auto.current, 50);
        assert_eq!(auto.judge(Duration::from_secs(5)), Lateness::Late);
        // A configured priority whose rlimit did not apply is not retried by the raise.
        let auto = AutoPriority::after_start(
            &Settings {
                rt_priority: 5,
                max_auto_priority: 20,
                ..vrrp()
            },
            true,
            false,
        );
        assert_eq!(
            auto.judge(Duration::from_secs(5)),
            Lateness::Raise {
                priority: 6,
                rlimit_us: None
            }
        );
    }
}
