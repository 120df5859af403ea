//! keepalived's per-child process tuning (`*_priority`, `*_rt_priority`, `*_rlimit_rttime`,
//! `*_no_swap`, `*_cpu_affinity`, `max_auto_priority`, `min_auto_priority_delay`), applied in a
//! freshly forked child before its loop starts. Every failure is logged with keepalived's
//! message and the child carries on untuned: tuning is never fatal.

use crate::children::ChildKind;
use keepalived_config::model::global::ProcessTuning;
use keepalived_config::model::GlobalDefs;
use keepalived_sys::sched::{self, AutoPriority, ProcessLabel, Settings, Step};
use log::{info, warn};

/// What `global_defs` asks of the child `kind`.
pub fn settings_for(kind: ChildKind, g: &GlobalDefs) -> Settings {
    let (label, t): (ProcessLabel, &ProcessTuning) = match kind {
        ChildKind::Vrrp => (ProcessLabel::Vrrp, &g.vrrp_process),
        ChildKind::Checker => (ProcessLabel::Checker, &g.checker_process),
    };
    Settings {
        label,
        nice: t.priority.unwrap_or(0),
        rt_priority: t.rt_priority.unwrap_or(0),
        rlimit_rttime_us: t.rlimit_rttime.unwrap_or(sched::DEFAULT_RLIMIT_RTTIME_US),
        no_swap: t.no_swap,
        cpus: t
            .cpu_affinity
            .iter()
            .filter_map(|&c| usize::try_from(c).ok())
            .collect(),
        max_auto_priority: g.max_auto_priority.unwrap_or(0),
        min_auto_priority_delay: g
            .min_auto_priority_delay
            .unwrap_or(sched::DEFAULT_MIN_AUTO_PRIORITY_DELAY),
    }
}

/// The parent's start-up notice when `max_auto_priority` is not set (keepalived logs it too).
pub fn startup_notice(g: &GlobalDefs) {
    if g.max_auto_priority.unwrap_or(0) == 0 {
        info!(
            "NOTICE: setting config option max_auto_priority should result in better keepalived performance"
        );
    }
}

/// Applies `s` to the calling process, logging what fails, and leaves the automatic-raise
/// state for the child's loop ([`sched::note_lateness`]).
pub fn apply(s: &Settings) {
    let mut rt_applied = false;
    let mut rlimit_applied = false;
    for step in sched::plan(s) {
        match step {
            Step::Realtime {
                priority,
                rlimit_us,
            } => match sched::set_realtime(priority) {
                Err(e) => warn!("child process: cannot raise priority ({e})"),
                Ok(()) => {
                    rt_applied = true;
                    if let Some(us) = rlimit_us {
                        sched::install_sigxcpu_flag();
                        match sched::set_rttime_limit(us) {
                            Ok(()) => rlimit_applied = true,
                            Err(e) => warn!("child process cannot set realtime rlimit ({e})"),
                        }
                    }
                }
            },
            Step::Nice(nice) => {
                if let Err(e) = sched::set_nice(nice) {
                    info!("Unable to set process priority to {nice} - {e}");
                }
            }
            Step::LockMemory => {
                if let Err(e) = sched::lock_memory() {
                    info!("Unable to lock process in memory - {e}");
                }
            }
            Step::Affinity(cpus) => apply_affinity(s.label, &cpus),
        }
    }
    sched::install_auto_priority(AutoPriority::after_start(s, rt_applied, rlimit_applied));
}

/// keepalived refuses CPU numbers beyond the CPUs online when it reads the config (and then
/// uses no affinity at all); the parent parsed the config, so the child checks here.
fn apply_affinity(label: ProcessLabel, cpus: &[usize]) {
    let online = sched::cpus_online();
    if let Some(bad) = cpus.iter().find(|&&c| c >= online) {
        warn!(
            "Invalid cpu_id:{bad} specified for {} process - not setting its affinity",
            label.prefix()
        );
        return;
    }
    if let Err(e) = sched::set_affinity(cpus) {
        warn!(
            "unable to set cpu affinity to {} process ({e})",
            label.prefix()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn untuned_config_maps_to_untuned_settings() {
        let g = GlobalDefs::default();
        assert_eq!(
            settings_for(ChildKind::Vrrp, &g),
            Settings::untuned(ProcessLabel::Vrrp)
        );
        assert!(sched::plan(&settings_for(ChildKind::Checker, &g)).is_empty());
    }

    #[test]
    fn each_child_gets_its_own_keywords() {
        let mut g = GlobalDefs::default();
        g.vrrp_process.rt_priority = Some(20);
        g.vrrp_process.cpu_affinity = vec![1];
        g.checker_process.priority = Some(-2);
        g.checker_process.no_swap = true;
        g.checker_process.rlimit_rttime = Some(0);
        g.max_auto_priority = Some(40);
        g.min_auto_priority_delay = Some(Duration::from_millis(5));
        let v = settings_for(ChildKind::Vrrp, &g);
        assert_eq!(
            sched::plan(&v),
            vec![
                Step::Realtime {
                    priority: 20,
                    rlimit_us: Some(10_000)
                },
                Step::Affinity(vec![1])
            ]
        );
        assert_eq!(v.max_auto_priority, 40);
        assert_eq!(v.min_auto_priority_delay, Duration::from_millis(5));
        let c = settings_for(ChildKind::Checker, &g);
        assert_eq!(sched::plan(&c), vec![Step::Nice(-2), Step::LockMemory]);
        assert_eq!(c.rlimit_rttime_us, 0);
    }

    fn proc_field(file: &str, name: &str) -> String {
        let text = std::fs::read_to_string(file).unwrap();
        text.lines()
            .find_map(|l| l.strip_prefix(name))
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    }

    /// policy and nice from /proc/self/stat (fields 41 and 19, after the command name).
    fn policy_and_nice() -> (i64, i64) {
        let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
        let after = stat.rsplit_once(')').unwrap().1;
        let f: Vec<&str> = after.split_whitespace().collect();
        // after ')' the first field is the state (field 3).
        (f[41 - 3].parse().unwrap(), f[19 - 3].parse().unwrap())
    }

    /// Forks a child that applies a tuning and reports (through its exit status) whether
    /// /proc shows it: SCHED_RR (policy 2), RLIMIT_RTTIME 5000/10000, VmLck > 0, CPU 0 only;
    /// then a second child with nice 5 instead of realtime.
    #[test]
    #[ignore = "needs root (SCHED_RR, mlockall); run with --ignored"]
    fn forked_child_is_tuned() {
        let check_rt = || -> i32 {
            let s = Settings {
                rt_priority: 10,
                no_swap: true,
                cpus: vec![0],
                ..Settings::untuned(ProcessLabel::Vrrp)
            };
            apply(&s);
            let (policy, _) = policy_and_nice();
            let vmlck = proc_field("/proc/self/status", "VmLck:");
            let cpus = proc_field("/proc/self/status", "Cpus_allowed_list:");
            let limits = std::fs::read_to_string("/proc/self/limits").unwrap();
            let rttime = limits
                .lines()
                .find(|l| l.starts_with("Max realtime timeout"))
                .unwrap_or_default()
                .split_whitespace()
                .skip(3)
                .take(2)
                .collect::<Vec<_>>()
                .join(" ");
            let locked = vmlck
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let mut code = 0;
            if policy != 2 {
                code |= 1;
            }
            if locked == 0 {
                code |= 2;
            }
            if cpus != "0" {
                code |= 4;
            }
            if rttime != "5000 10000" {
                code |= 8;
            }
            code
        };
        let check_nice = || -> i32 {
            apply(&Settings {
                nice: 5,
                ..Settings::untuned(ProcessLabel::Checker)
            });
            let (policy, nice) = policy_and_nice();
            i32::from(policy != 0) | (i32::from(nice != 5) << 1)
        };
        for (what, check) in [
            ("realtime", &check_rt as &dyn Fn() -> i32),
            ("nice", &check_nice),
        ] {
            match crate::os::fork().unwrap() {
                crate::os::Forked::Child => {
                    let code = check();
                    // SAFETY-free exit without running the test harness's destructors.
                    std::process::exit(code);
                }
                crate::os::Forked::Parent(pid) => {
                    let status =
                        nix::sys::wait::waitpid(nix::unistd::Pid::from_raw(pid), None).unwrap();
                    assert_eq!(
                        status,
                        nix::sys::wait::WaitStatus::Exited(nix::unistd::Pid::from_raw(pid), 0),
                        "{what}: bit mask of failed checks in the exit code"
                    );
                }
            }
        }
    }
}
