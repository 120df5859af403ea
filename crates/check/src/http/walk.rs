//! How HTTP_GET / SSL_GET walk their `url {}` blocks, as keepalived 2.2 does (`check_http.c`
//! `epilog`, `timeout_epilog`):
//!
//! - **one URL per check**: a URL that answers well moves to the next URL, and the next one
//!   is fetched `delay_loop` later (not at once); only when the last URL has answered well
//!   in the same pass is the checker a success ("Remote Web server … succeed on service");
//! - a URL that fails is **retried** (same URL) after `delay_before_retry`, up to `retry`
//!   times; the failure after that marks the checker down and remembers the URL as the
//!   failed one; the walk stays on it, every `max(delay_before_retry, delay_loop)`;
//! - when the failed URL answers well again, the walk starts over from the first URL after
//!   `delay_loop`, and the checker comes back up only after a whole good pass;
//! - a URL failing while the checker is down with no failed URL remembered (after such a
//!   restart) is tried again after `delay_before_retry`, without starting over: keepalived's
//!   `REGISTER_CHECKER_FAILED` path, kept as it is;
//! - during the first pass (nothing recorded yet) a good URL leaves no retries for the next
//!   ones: their first failure is final;
//! - `fast_recovery`: before the first result, or while down with no URL known to fail, the
//!   next URL is fetched at once.

use crate::realserver::{CheckerState, Verdict};
use std::time::Duration;

/// Where a checker is in its list of URLs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct UrlWalk {
    current: usize,
    failed: Option<usize>,
}

impl UrlWalk {
    /// At the first URL, none failed.
    pub fn new() -> Self {
        Self::default()
    }

    /// The index of the URL to fetch next.
    pub fn current(&self) -> usize {
        self.current
    }

    /// The URL that made the checker fail, while it has not answered well again.
    pub fn failed(&self) -> Option<usize> {
        self.failed
    }

    /// Records the result of the current URL (of `count`) in `ck`, moves the walk, and says
    /// when to check next. `set` is only `Some` when the checker's state is (re)asserted: an
    /// intermediate URL changes nothing.
    pub fn record(
        &mut self,
        ok: bool,
        count: usize,
        fast_recovery: bool,
        ck: &mut CheckerState,
    ) -> Verdict {
        let p = ck.params;
        let mut verdict = if ok {
            ck.retry_it = 0;
            let last = self.current + 1 >= count;
            if last && self.failed.is_none() {
                self.current = 0;
                ck.record(true)
            } else {
                if self.failed.take().is_some() {
                    self.current = 0;
                } else {
                    self.current += 1;
                }
                if !ck.has_run {
                    ck.retry_it = p.retry;
                }
                Verdict {
                    next_in: p.delay_loop,
                    set: None,
                    retrying: None,
                    failed_after: None,
                }
            }
        } else {
            let v = ck.record(false);
            if v.set == Some(false) {
                self.failed = Some(self.current);
            }
            let next_in = if v.retrying.is_some() {
                p.delay_before_retry
            } else if self.failed.is_some() {
                p.delay_before_retry.max(p.delay_loop)
            } else {
                p.delay_before_retry
            };
            Verdict { next_in, ..v }
        };
        if fast_recovery && (!ck.has_run || (!ck.up && self.failed.is_none())) {
            verdict.next_in = Duration::ZERO;
        }
        verdict
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::realserver::CheckerParams;

    fn checker(retry: u32, alpha: bool) -> CheckerState {
        CheckerState::new(CheckerParams {
            retry,
            delay_loop: Duration::from_secs(10),
            delay_before_retry: Duration::from_secs(3),
            warmup: Duration::ZERO,
            alpha,
            connect_timeout: Duration::from_secs(5),
        })
    }

    const DL: Duration = Duration::from_secs(10);
    const DBR: Duration = Duration::from_secs(3);

    /// Feeds results for 3 URLs where `bad(url)` fails; returns (url fetched, set, next_in).
    fn walk(
        ck: &mut CheckerState,
        w: &mut UrlWalk,
        steps: usize,
        bad: impl Fn(usize, usize) -> bool,
    ) -> Vec<(usize, Option<bool>, Duration)> {
        (0..steps)
            .map(|step| {
                let url = w.current();
                let v = w.record(!bad(step, url), 3, false, ck);
                (url, v.set, v.next_in)
            })
            .collect()
    }

    #[test]
    fn one_url_per_delay_loop_and_up_after_the_last() {
        let mut ck = checker(1, true);
        let mut w = UrlWalk::new();
        let got = walk(&mut ck, &mut w, 4, |_, _| false);
        assert_eq!(
            got,
            vec![
                (0, None, DL),
                (1, None, DL),
                (2, Some(true), DL),
                (0, None, DL),
            ]
        );
        assert!(ck.up);
    }

    #[test]
    fn a_failing_url_is_retried_then_held_and_the_walk_restarts_after_it_recovers() {
        let mut ck = checker(1, false);
        let mut w = UrlWalk::new();
        // First a good pass, then URL 1 fails until step 7.
        let got = walk(&mut ck, &mut w, 11, |step, url| {
            url == 1 && (3..7).contains(&step)
        });
        assert_eq!(
            got,
            vec![
                (0, None, DL),
                (1, None, DL),
                (2, Some(true), DL),
                (0, None, DL),
                (1, None, DBR),       // retry 1/1
                (1, Some(false), DL), // down, URL 1 is the failed one
                (1, None, DL),        // still failing: held on URL 1
                (1, None, DL),        // answers again: start over, still down
                (0, None, DL),
                (1, None, DL),
                (2, Some(true), DL), // a whole good pass: up
            ]
        );
        assert_eq!(w.failed(), None);
    }

    #[test]
    fn first_pass_failures_after_a_good_url_are_final() {
        let mut ck = checker(2, false);
        let mut w = UrlWalk::new();
        let got = walk(&mut ck, &mut w, 2, |_, url| url == 1);
        assert_eq!(got, vec![(0, None, DL), (1, Some(false), DL)]);
        assert!(!ck.up);
    }

    #[test]
    fn fast_recovery_skips_the_wait_until_the_first_result_and_while_down_unexplained() {
        let mut ck = checker(0, true);
        let mut w = UrlWalk::new();
        let v = w.record(true, 2, true, &mut ck);
        assert_eq!(v.next_in, Duration::ZERO);
        let v = w.record(true, 2, true, &mut ck);
        assert_eq!((v.set, v.next_in), (Some(true), DL));
        let v = w.record(false, 2, true, &mut ck);
        assert_eq!(
            (v.set, v.next_in),
            (Some(false), DL),
            "a known failed URL waits"
        );
    }

    proptest::proptest! {
        /// Whatever the answers, the walk stays inside the list, and the checker is declared
        /// up only by a good answer of the last URL, once every URL has answered well since
        /// it was last declared down.
        #[test]
        fn up_only_after_every_url_answered_well(
            count in 1usize..5,
            retry in 0u32..3,
            fast in proptest::bool::ANY,
            results in proptest::collection::vec(proptest::bool::ANY, 0..80),
        ) {
            let mut ck = checker(retry, true);
            let mut w = UrlWalk::new();
            let mut good = std::collections::BTreeSet::new();
            for ok in results {
                let url = w.current();
                proptest::prop_assert!(url < count);
                let v = w.record(ok, count, fast, &mut ck);
                if ok {
                    good.insert(url);
                }
                match v.set {
                    Some(true) => {
                        proptest::prop_assert!(ok && url == count - 1);
                        proptest::prop_assert_eq!(good.len(), count);
                        good.clear();
                    }
                    Some(false) => good.clear(),
                    None => {}
                }
                if v.set == Some(false) {
                    proptest::prop_assert!(!ck.up);
                }
            }
        }
    }

    #[test]
    fn delay_before_retry_longer_than_delay_loop_holds_a_failed_url_longer() {
        let mut ck = CheckerState::new(CheckerParams {
            retry: 0,
            delay_loop: Duration::from_secs(1),
            delay_before_retry: Duration::from_secs(5),
            warmup: Duration::ZERO,
            alpha: false,
            connect_timeout: Duration::from_secs(5),
        });
        let mut w = UrlWalk::new();
        let v = w.record(false, 1, false, &mut ck);
        assert_eq!((v.set, v.next_in), (Some(false), Duration::from_secs(5)));
    }
}
