//! One health checker's up/down state with keepalived's retry rules, and a real server's
//! state from its checkers.
//!
//! keepalived's rules (`check_tcp.c`, `check_http.c` epilogs, `ipwrapper.c`):
//! - a checker starts up, or down with `alpha`; it has not "run" yet;
//! - a success marks it up (logged when it was down or has not run yet) and waits `delay_loop`;
//! - a failure while up (or before the first run) is retried `retry` times, `delay_before_retry`
//!   apart; the failure after the last retry marks it down and waits `delay_loop`;
//! - a failure while already down just waits `delay_loop` again;
//! - the first check comes after a random part of `warmup` (0 disables it);
//! - a real server is alive only when every one of its checkers is up.

use keepalived_config::model::lvs::{Checker, RealServer, VirtualServer};
use std::time::Duration;

/// The timing and retry settings of one checker, resolved through the inheritance chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CheckerParams {
    /// Extra attempts before declaring failure.
    pub retry: u32,
    /// Interval between checks.
    pub delay_loop: Duration,
    /// Pause before a retry.
    pub delay_before_retry: Duration,
    /// Upper bound of the random first delay.
    pub warmup: Duration,
    /// Start down.
    pub alpha: bool,
    /// Time allowed to connect (and for each step of a conversation).
    pub connect_timeout: Duration,
}

impl CheckerParams {
    /// Resolves a configured checker's settings.
    pub fn resolve(checker: &Checker, rs: &RealServer, vs: &VirtualServer) -> Self {
        Self {
            retry: checker.effective_retry(rs, vs),
            delay_loop: checker.effective_delay_loop(rs, vs),
            delay_before_retry: checker.effective_delay_before_retry(rs, vs),
            warmup: checker.effective_warmup(rs, vs),
            alpha: checker.effective_alpha(rs, vs),
            connect_timeout: checker.effective_connect_timeout(rs, vs),
        }
    }
}

/// What a check result changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// When to check again.
    pub next_in: Duration,
    /// `Some(up)` when the checker's state is (re)asserted: `Some(true)` after a success that
    /// keepalived logs, `Some(false)` when it is declared down. The real server's state is
    /// recomputed from it.
    pub set: Option<bool>,
    /// The retry number about to run (1-based) when a failure is retried.
    pub retrying: Option<u32>,
    /// Retries spent before this failure was declared (for "failed after N retries").
    pub failed_after: Option<u32>,
}

/// One checker's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckerState {
    /// Its settings.
    pub params: CheckerParams,
    /// Up now.
    pub up: bool,
    /// At least one result has been recorded.
    pub has_run: bool,
    /// Failures counted towards `retry`.
    pub retry_it: u32,
}

impl CheckerState {
    /// A checker before its first run.
    pub fn new(params: CheckerParams) -> Self {
        Self {
            params,
            up: !params.alpha,
            has_run: false,
            retry_it: 0,
        }
    }

    /// The delay before the first check: `warmup` scaled by `random` in `[0, 1)` parts of
    /// `u32::MAX` (the shell passes a random number; tests pass a fixed one).
    pub fn first_delay(&self, random: u32) -> Duration {
        let w = self.params.warmup;
        if w.is_zero() {
            return Duration::ZERO;
        }
        let nanos = w.as_nanos().saturating_mul(u128::from(random)) / (u128::from(u32::MAX) + 1);
        Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX))
    }

    /// Records one attempt's result.
    pub fn record(&mut self, success: bool) -> Verdict {
        let p = self.params;
        let first = !self.has_run;
        self.has_run = true;
        if success {
            self.retry_it = 0;
            let set = (!self.up || first).then_some(true);
            self.up = true;
            return Verdict {
                next_in: p.delay_loop,
                set,
                retrying: None,
                failed_after: None,
            };
        }
        if self.up || first {
            self.retry_it += 1;
            if self.retry_it <= p.retry {
                return Verdict {
                    next_in: p.delay_before_retry,
                    set: None,
                    retrying: Some(self.retry_it),
                    failed_after: None,
                };
            }
            let spent = self.retry_it - 1;
            self.retry_it = 0;
            self.up = false;
            return Verdict {
                next_in: p.delay_loop,
                set: Some(false),
                retrying: None,
                failed_after: (!first && p.retry > 0).then_some(spent),
            };
        }
        Verdict {
            next_in: p.delay_loop,
            set: None,
            retrying: None,
            failed_after: None,
        }
    }
}

/// A real server's state: its checkers and its weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RsState {
    /// Checker states, in configuration order.
    pub checkers: Vec<CheckerState>,
    /// The configured weight.
    pub configured_weight: u32,
    /// The weight in force (a `misc_dynamic` check can change it).
    pub weight: u32,
    /// In the pool (all checkers up).
    pub alive: bool,
    /// `inhibit_on_failure`: weight 0 instead of removal.
    pub inhibit: bool,
}

impl RsState {
    /// The initial state: alive when every checker starts up (no `alpha`).
    pub fn new(checkers: Vec<CheckerState>, weight: u32, inhibit: bool) -> Self {
        let alive = checkers.iter().all(|c| c.up);
        Self {
            checkers,
            configured_weight: weight,
            weight,
            alive,
            inhibit,
        }
    }

    /// Whether every checker is up.
    pub fn all_up(&self) -> bool {
        self.checkers.iter().all(|c| c.up)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn params(retry: u32, alpha: bool) -> CheckerParams {
        CheckerParams {
            retry,
            delay_loop: Duration::from_secs(10),
            delay_before_retry: Duration::from_secs(2),
            warmup: Duration::from_secs(10),
            alpha,
            connect_timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn retries_before_declaring_down() {
        let mut c = CheckerState::new(params(2, false));
        assert!(c.up);
        assert_eq!(c.record(true).set, Some(true));
        let v = c.record(false);
        assert_eq!((v.set, v.retrying), (None, Some(1)));
        assert_eq!(v.next_in, Duration::from_secs(2));
        assert_eq!(c.record(false).retrying, Some(2));
        let v = c.record(false);
        assert_eq!(v.set, Some(false));
        assert_eq!(v.failed_after, Some(2));
        assert_eq!(v.next_in, Duration::from_secs(10));
        // Already down: no retries, no new transition.
        let v = c.record(false);
        assert_eq!((v.set, v.retrying), (None, None));
        let v = c.record(true);
        assert_eq!(v.set, Some(true));
        assert!(c.up);
    }

    #[test]
    fn a_success_resets_the_retry_count() {
        let mut c = CheckerState::new(params(1, false));
        c.record(true);
        assert_eq!(c.record(false).retrying, Some(1));
        assert_eq!(c.record(true).set, None);
        assert_eq!(c.record(false).retrying, Some(1));
    }

    #[test]
    fn alpha_starts_down_and_first_failure_is_plain() {
        let mut c = CheckerState::new(params(0, true));
        assert!(!c.up);
        let v = c.record(false);
        assert_eq!(v.set, Some(false));
        assert_eq!(v.failed_after, None);
        let mut c = CheckerState::new(params(0, true));
        assert_eq!(c.record(true).set, Some(true));
    }

    #[test]
    fn warmup_bounds() {
        let c = CheckerState::new(params(0, false));
        assert_eq!(c.first_delay(0), Duration::ZERO);
        assert!(c.first_delay(u32::MAX) < Duration::from_secs(10));
        let mut p = params(0, false);
        p.warmup = Duration::ZERO;
        assert_eq!(CheckerState::new(p).first_delay(u32::MAX), Duration::ZERO);
    }

    #[test]
    fn rs_alive_only_with_all_checkers_up() {
        let rs = RsState::new(
            vec![
                CheckerState::new(params(0, false)),
                CheckerState::new(params(0, true)),
            ],
            3,
            false,
        );
        assert!(!rs.alive);
        assert!(!rs.all_up());
        let rs = RsState::new(vec![], 1, false);
        assert!(rs.alive);
    }

    proptest! {
        /// A checker is declared down only after retry+1 consecutive failures while up, and
        /// its `up` flag always matches the last declared transition.
        #[test]
        fn down_needs_retry_plus_one_failures(retry in 0u32..4, results in proptest::collection::vec(any::<bool>(), 0..60)) {
            let mut c = CheckerState::new(params(retry, false));
            let mut streak = 0u32;
            let mut was_up = true;
            for ok in results {
                let v = c.record(ok);
                if ok { streak = 0 } else { streak += 1 }
                if v.set == Some(false) {
                    prop_assert!(was_up);
                    prop_assert_eq!(streak, retry + 1);
                }
                if let Some(up) = v.set { was_up = up; }
                prop_assert_eq!(c.up, was_up);
                prop_assert!(c.retry_it <= retry);
            }
        }
    }
}
