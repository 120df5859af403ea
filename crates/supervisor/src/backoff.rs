//! How long to wait before respawning a child that died: keepalived's `calc_restart_delay()`.
//!
//! A child that ran for more than [`STABLE_RUN`] is restarted at once and its back-off starts
//! over; otherwise each quick death waits longer: 0, 1, 2, 4, 8, 16, 32 s, then 60 s for ever.

use std::time::Duration;

/// A child that lived longer than this is considered healthy again.
pub const STABLE_RUN: Duration = Duration::from_secs(60);

/// The longest wait between two respawns.
pub const MAX_DELAY: Duration = Duration::from_secs(60);

/// The delay before the respawn that follows `quick_deaths` earlier quick deaths in a row
/// (0 for the first death).
pub fn delay_after(quick_deaths: u32) -> Duration {
    match quick_deaths {
        0 => Duration::ZERO,
        n if n <= 6 => Duration::from_secs(1 << (n - 1)),
        _ => MAX_DELAY,
    }
}

/// The respawn back-off of one child.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Backoff {
    /// Quick deaths in a row so far.
    quick_deaths: u32,
}

impl Backoff {
    /// A fresh back-off: the next death is respawned at once.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records a death of a child that ran for `lived` and returns how long to wait before
    /// starting the next one.
    pub fn on_death(&mut self, lived: Duration) -> Duration {
        if lived > STABLE_RUN {
            self.quick_deaths = 0;
        }
        let delay = delay_after(self.quick_deaths);
        self.quick_deaths = self.quick_deaths.saturating_add(1);
        delay
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const QUICK: Duration = Duration::from_secs(1);

    #[test]
    fn keepalived_sequence() {
        let mut b = Backoff::new();
        let secs: Vec<u64> = (0..10).map(|_| b.on_death(QUICK).as_secs()).collect();
        assert_eq!(secs, [0, 1, 2, 4, 8, 16, 32, 60, 60, 60]);
    }

    #[test]
    fn long_run_resets() {
        let mut b = Backoff::new();
        for _ in 0..5 {
            b.on_death(QUICK);
        }
        assert_eq!(b.on_death(Duration::from_secs(61)), Duration::ZERO);
        assert_eq!(b.on_death(QUICK), Duration::from_secs(1));
    }

    #[test]
    fn exactly_sixty_seconds_is_not_long_enough() {
        let mut b = Backoff::new();
        b.on_death(QUICK);
        assert_eq!(b.on_death(STABLE_RUN), Duration::from_secs(1));
    }

    #[test]
    fn never_overflows() {
        assert_eq!(delay_after(u32::MAX), MAX_DELAY);
        let mut b = Backoff {
            quick_deaths: u32::MAX,
        };
        assert_eq!(b.on_death(QUICK), MAX_DELAY);
        assert_eq!(b.on_death(QUICK), MAX_DELAY);
    }
}
