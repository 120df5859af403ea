//! `vrrp_script`: how a run's end is judged, rise/fall counting, when each script runs, and
//! how its command line is executed. Pure: time comes in as an argument.
//!
//! keepalived's rules (`vrrp_scheduler.c`, `vrrp_track.c`, `notify.c`):
//! * exit status 0 is success; any other status, a signal, a timeout or a failed start is
//!   failure;
//! * the counter `result` runs from 0 to `rise + fall - 1` and the script is good while
//!   `result >= rise`. It starts at `rise - 1` (one success makes it good) or, with
//!   `init_fail`, at 0 in the failed state (`rise` successes needed);
//! * from good, `fall` consecutive failures make it bad; from bad, `rise` consecutive
//!   successes make it good;
//! * the first result after start is always reported, even when it confirms the assumed
//!   state: the tracking instances learn that the script really ran;
//! * a script is started every `interval` from its previous start; one still running when
//!   its next turn comes is skipped for that turn ("already running");
//! * a script that is an executable (ELF) or starts with `#!` is exec'd directly; any other
//!   file is run through `/bin/sh -c` with the command line re-quoted.

use std::time::{Duration, Instant};

/// How one run of a script ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScriptOutcome {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it (not our timeout).
    Signaled(i32),
    /// It ran past its timeout and was killed.
    TimedOut,
    /// It could not be started.
    SpawnFailed,
}

impl ScriptOutcome {
    /// keepalived's rule for tracked scripts: only exit status 0 is success.
    pub fn is_success(self) -> bool {
        self == ScriptOutcome::Exited(0)
    }
}

/// The rise/fall counter of one script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiseFall {
    rise: u32,
    fall: u32,
    result: u32,
    /// No result seen yet: the next one is reported whatever it is.
    initial: bool,
    /// Started in the failed state.
    init_fail: bool,
}

impl RiseFall {
    /// A counter for `rise`/`fall` (0 is taken as 1, keepalived's minimum), starting good
    /// (but unconfirmed) or, with `init_fail`, failed.
    pub fn new(rise: u32, fall: u32, init_fail: bool) -> Self {
        let rise = rise.max(1);
        let fall = fall.max(1);
        RiseFall {
            rise,
            fall,
            result: if init_fail { 0 } else { rise - 1 },
            initial: true,
            init_fail,
        }
    }

    /// The state assumed before any result: good unless `init_fail`.
    pub fn assumed_good(init_fail: bool) -> bool {
        !init_fail
    }

    /// Whether the script counts as good now. Before the first result this is the assumed
    /// state (good unless `init_fail`).
    pub fn is_good(&self) -> bool {
        if self.initial {
            !self.init_fail
        } else {
            self.result >= self.rise
        }
    }

    /// The highest counter value.
    fn top(&self) -> u32 {
        self.rise.saturating_add(self.fall).saturating_sub(1)
    }

    /// Counts one run; returns the state to report (`Some(good)`) when it changed, or when
    /// this was the first result.
    pub fn record(&mut self, success: bool) -> Option<bool> {
        let first = std::mem::replace(&mut self.initial, false);
        if success {
            if self.result.saturating_add(1) < self.rise {
                self.result += 1;
                first.then_some(false)
            } else {
                let was_good = self.result >= self.rise;
                self.result = self.top();
                (first || !was_good).then_some(true)
            }
        } else if self.result > self.rise {
            self.result -= 1;
            None
        } else {
            let was_good = self.result >= self.rise;
            self.result = 0;
            (first || was_good).then_some(false)
        }
    }
}

/// One script's schedule.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Slot {
    interval: Duration,
    next: Option<Instant>,
    running: bool,
}

/// When each script runs: every `interval` from its previous start, skipped while it still
/// runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schedule {
    slots: Vec<Slot>,
}

/// What [`Schedule::due`] found at one script's turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Turn {
    /// Start script `index` now.
    Run(usize),
    /// Script `index` is still running from its previous turn: skipped.
    StillRunning(usize),
}

impl Schedule {
    /// One slot per interval (index = script index); nothing is due before [`Self::start`].
    pub fn new(intervals: impl IntoIterator<Item = Duration>) -> Self {
        Schedule {
            slots: intervals
                .into_iter()
                .map(|interval| Slot {
                    interval: interval.max(Duration::from_millis(1)),
                    next: None,
                    running: false,
                })
                .collect(),
        }
    }

    /// Makes every script due at `now` (keepalived runs them at once at start).
    pub fn start(&mut self, now: Instant) {
        for s in &mut self.slots {
            s.next = Some(now);
        }
    }

    /// The number of scripts.
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are no scripts.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The earliest next turn.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.slots.iter().filter_map(|s| s.next).min()
    }

    /// Every turn that has come by `now`; each is rescheduled one interval later (from its
    /// due time, or from `now` if the loop fell more than an interval behind). A `Run` marks
    /// the script running until [`Self::finished`].
    pub fn due(&mut self, now: Instant) -> Vec<Turn> {
        let mut out = Vec::new();
        for (i, s) in self.slots.iter_mut().enumerate() {
            let Some(at) = s.next else { continue };
            if at > now {
                continue;
            }
            let mut next = at + s.interval;
            if next <= now {
                next = now + s.interval;
            }
            s.next = Some(next);
            if s.running {
                out.push(Turn::StillRunning(i));
            } else {
                s.running = true;
                out.push(Turn::Run(i));
            }
        }
        out
    }

    /// Script `index` ended (or could not start).
    pub fn finished(&mut self, index: usize) {
        if let Some(s) = self.slots.get_mut(index) {
            s.running = false;
        }
    }

    /// Script `index`'s next turn and whether it is running (to carry it over a reload).
    pub fn slot(&self, index: usize) -> Option<(Option<Instant>, bool)> {
        self.slots.get(index).map(|s| (s.next, s.running))
    }

    /// Sets script `index`'s next turn and running flag (from [`Self::slot`]).
    pub fn set_slot(&mut self, index: usize, next: Option<Instant>, running: bool) {
        if let Some(s) = self.slots.get_mut(index) {
            s.next = next;
            s.running = running;
        }
    }

    /// Whether script `index` is running.
    pub fn is_running(&self, index: usize) -> bool {
        self.slots.get(index).is_some_and(|s| s.running)
    }
}

/// How to execute a script's command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invocation {
    /// `execve` the program with these arguments.
    Direct(Vec<String>),
    /// `/bin/sh -c` this line (the file is not directly executable).
    Shell(String),
}

impl Invocation {
    /// The argv to start: the arguments, or `/bin/sh -c LINE`.
    pub fn argv(&self) -> Vec<String> {
        match self {
            Invocation::Direct(a) => a.clone(),
            Invocation::Shell(line) => vec!["/bin/sh".into(), "-c".into(), line.clone()],
        }
    }
}

/// Chooses between exec and shell as keepalived does: `header` is the beginning of the
/// program file (`None` when it cannot be read, e.g. a bare name found in `$PATH` later, or
/// a file only the script user may read): an ELF image or a `#!` script is exec'd; any other
/// readable file is given to the shell.
pub fn invocation(argv: &[String], header: Option<&[u8]>) -> Invocation {
    match header {
        Some(h) if !(h.starts_with(b"\x7fELF") || h.starts_with(b"#!")) => {
            Invocation::Shell(shell_line(argv))
        }
        _ => Invocation::Direct(argv.to_vec()),
    }
}

/// Joins `argv` into one shell line. Words that hold whitespace, quotes or backslashes were
/// quoted in the configuration, so they are quoted again (single quotes); other words,
/// operators such as `||` or `>` included, are passed as written.
pub fn shell_line(argv: &[String]) -> String {
    let mut out = String::new();
    for (i, w) in argv.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let needs_quotes =
            w.is_empty() || w.chars().any(|c| c.is_whitespace() || "'\"\\".contains(c));
        if needs_quotes {
            out.push('\'');
            out.push_str(&w.replace('\'', "'\\''"));
            out.push('\'');
        } else {
            out.push_str(w);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn exit_zero_only_is_success() {
        assert!(ScriptOutcome::Exited(0).is_success());
        for o in [
            ScriptOutcome::Exited(1),
            ScriptOutcome::Exited(2),
            ScriptOutcome::Exited(255),
            ScriptOutcome::Signaled(9),
            ScriptOutcome::TimedOut,
            ScriptOutcome::SpawnFailed,
        ] {
            assert!(!o.is_success(), "{o:?}");
        }
    }

    #[test]
    fn first_result_is_always_reported() {
        let mut rf = RiseFall::new(3, 2, false);
        assert!(rf.is_good());
        assert_eq!(rf.record(true), Some(true));
        let mut rf = RiseFall::new(3, 2, false);
        assert_eq!(rf.record(false), Some(false));
        assert!(!rf.is_good());
        let mut rf = RiseFall::new(3, 2, true);
        assert!(!rf.is_good());
        assert_eq!(rf.record(false), Some(false));
    }

    #[test]
    fn init_fail_needs_rise_successes() {
        let mut rf = RiseFall::new(3, 2, true);
        assert_eq!(
            rf.record(true),
            Some(false),
            "first result reported: still bad"
        );
        assert_eq!(rf.record(true), None);
        assert_eq!(rf.record(true), Some(true));
        assert!(rf.is_good());
    }

    #[test]
    fn fall_failures_make_it_bad_and_rise_successes_good() {
        let mut rf = RiseFall::new(2, 3, false);
        assert_eq!(rf.record(true), Some(true));
        assert_eq!(rf.record(false), None);
        assert_eq!(rf.record(false), None);
        assert_eq!(rf.record(true), None, "a success resets the fall count");
        assert_eq!(rf.record(false), None);
        assert_eq!(rf.record(false), None);
        assert_eq!(rf.record(false), Some(false));
        assert_eq!(rf.record(false), None);
        assert_eq!(rf.record(true), None);
        assert_eq!(rf.record(false), None, "a failure resets the rise count");
        assert_eq!(rf.record(true), None);
        assert_eq!(rf.record(true), Some(true));
    }

    #[test]
    fn rise_and_fall_one_follow_every_result() {
        let mut rf = RiseFall::new(1, 1, true);
        assert!(!rf.is_good());
        assert_eq!(rf.record(true), Some(true));
        assert_eq!(rf.record(false), Some(false));
        assert_eq!(rf.record(false), None);
        assert_eq!(rf.record(true), Some(true));
        let rf = RiseFall::new(0, 0, false);
        assert!(rf.is_good());
    }

    #[test]
    fn schedule_runs_every_interval_and_skips_a_running_script() {
        let t0 = Instant::now();
        let s1 = Duration::from_secs(1);
        let mut s = Schedule::new([s1, Duration::from_secs(5)]);
        assert_eq!(s.next_deadline(), None);
        assert!(s.due(t0).is_empty());
        s.start(t0);
        assert_eq!(s.due(t0), vec![Turn::Run(0), Turn::Run(1)]);
        assert_eq!(s.next_deadline(), Some(t0 + s1));
        assert_eq!(s.due(t0 + s1), vec![Turn::StillRunning(0)]);
        s.finished(0);
        assert!(!s.is_running(0));
        assert!(s.is_running(1));
        assert_eq!(s.due(t0 + 2 * s1), vec![Turn::Run(0)]);
        // Fell behind by more than an interval: the next turn is one interval from now.
        s.finished(0);
        let late = t0 + Duration::from_millis(4500);
        assert_eq!(s.due(late), vec![Turn::Run(0)]);
        assert_eq!(s.next_deadline(), Some(t0 + Duration::from_secs(5)));
        assert_eq!(
            s.due(t0 + Duration::from_secs(5)),
            vec![Turn::StillRunning(1)]
        );
        assert_eq!(s.next_deadline(), Some(late + s1));
    }

    #[test]
    fn exec_or_shell_by_file_header() {
        let argv: Vec<String> = ["/usr/local/bin/chk", "a b", "||", "it's"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        assert_eq!(
            invocation(&argv, Some(b"#!/bin/sh\n")),
            Invocation::Direct(argv.clone())
        );
        assert_eq!(
            invocation(&argv, Some(b"\x7fELF\x02")),
            Invocation::Direct(argv.clone())
        );
        assert_eq!(invocation(&argv, None), Invocation::Direct(argv.clone()));
        let shell = invocation(&argv, Some(b"exit 0\n"));
        assert_eq!(
            shell,
            Invocation::Shell("/usr/local/bin/chk 'a b' || 'it'\\''s'".into())
        );
        assert_eq!(
            shell.argv(),
            vec![
                "/bin/sh".to_string(),
                "-c".into(),
                "/usr/local/bin/chk 'a b' || 'it'\\''s'".into()
            ]
        );
        assert_eq!(shell_line(&["x".into(), String::new()]), "x ''");
    }

    /// The model: keepalived's counter, written out directly.
    fn model(rise: u32, fall: u32, init_fail: bool, runs: &[bool]) -> Vec<Option<bool>> {
        let (rise, fall) = (rise.max(1), fall.max(1));
        let mut result = if init_fail { 0 } else { rise - 1 };
        let mut first = true;
        let mut out = Vec::new();
        for &ok in runs {
            let good_before = if first { !init_fail } else { result >= rise };
            if ok {
                result = if result + 1 < rise {
                    result + 1
                } else {
                    rise + fall - 1
                };
            } else if result > rise {
                result -= 1;
            } else {
                result = 0;
            }
            let good = result >= rise;
            out.push((first || good != good_before).then_some(good));
            first = false;
        }
        out
    }

    proptest! {
        #[test]
        fn counter_matches_the_model(
            rise in 0u32..6, fall in 0u32..6, init_fail: bool,
            runs in proptest::collection::vec(any::<bool>(), 0..60),
        ) {
            let mut rf = RiseFall::new(rise, fall, init_fail);
            prop_assert_eq!(rf.is_good(), !init_fail);
            let got: Vec<_> = runs.iter().map(|&ok| rf.record(ok)).collect();
            prop_assert_eq!(got, model(rise, fall, init_fail, &runs));
        }

        #[test]
        fn reports_alternate_after_the_first(
            rise in 1u32..5, fall in 1u32..5, init_fail: bool,
            runs in proptest::collection::vec(any::<bool>(), 1..80),
        ) {
            let mut rf = RiseFall::new(rise, fall, init_fail);
            let reports: Vec<bool> = runs.iter().filter_map(|&ok| rf.record(ok)).collect();
            for w in reports.windows(2).skip(1) {
                prop_assert_ne!(w[0], w[1]);
            }
            // `rise` successes in a row always end good, `fall` failures always end bad.
            let mut rf2 = rf;
            for _ in 0..rise { rf2.record(true); }
            prop_assert!(rf2.is_good());
            for _ in 0..fall { rf.record(false); }
            prop_assert!(!rf.is_good());
        }

        #[test]
        fn schedule_never_runs_a_script_twice_at_once(
            ms in proptest::collection::vec(1u64..3000, 1..5),
            steps in proptest::collection::vec((0u64..2500, any::<bool>()), 1..60),
        ) {
            let t0 = Instant::now();
            let mut s = Schedule::new(ms.iter().map(|&m| Duration::from_millis(m)));
            s.start(t0);
            let mut now = t0;
            let mut running = vec![false; ms.len()];
            for (dt, finish) in steps {
                now += Duration::from_millis(dt);
                if finish {
                    for (i, r) in running.iter_mut().enumerate() {
                        s.finished(i);
                        *r = false;
                    }
                }
                for turn in s.due(now) {
                    match turn {
                        Turn::Run(i) => {
                            prop_assert!(!running[i]);
                            running[i] = true;
                        }
                        Turn::StillRunning(i) => prop_assert!(running[i]),
                    }
                }
                prop_assert!(s.next_deadline().is_some_and(|d| d > now));
            }
        }

        #[test]
        fn shell_line_keeps_quoted_words_whole(words in proptest::collection::vec("[ -~]{0,8}", 1..5)) {
            let line = shell_line(&words);
            // Every word that needed quotes appears quoted; the line is never empty.
            prop_assert!(!line.is_empty() || words.iter().all(String::is_empty));
        }
    }
}
