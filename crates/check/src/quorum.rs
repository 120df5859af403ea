//! A virtual server's quorum with hysteresis (`ipwrapper.c:update_quorum_state`).
//!
//! Quorum is gained when the summed weight of the live real servers reaches
//! `quorum + hysteresis`, and lost when it falls below `quorum - hysteresis` or to 0. Between the
//! two thresholds the previous state holds. A weight of 0 never gains quorum (with `quorum 0`
//! keepalived would flip on every update).

/// What an update did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuorumChange {
    /// The weight reached `quorum + hysteresis`.
    Gained,
    /// The weight fell below `quorum - hysteresis` (or to 0).
    Lost,
}

/// The quorum state of one virtual server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quorum {
    /// `quorum` (default 1).
    pub quorum: u32,
    /// `hysteresis` (default 0).
    pub hysteresis: u32,
    /// Whether quorum is held.
    pub up: bool,
}

impl Quorum {
    /// The state at start for a live weight of `weight`: up when it reaches `quorum`
    /// (keepalived starts with quorum and re-evaluates it once the servers are known).
    pub fn new(quorum: u32, hysteresis: u32, weight: u64) -> Self {
        let mut q = Self {
            quorum,
            hysteresis,
            up: true,
        };
        q.update(weight);
        q
    }

    /// `quorum + hysteresis`: the weight needed to gain quorum.
    pub fn up_threshold(&self) -> u64 {
        u64::from(self.quorum) + u64::from(self.hysteresis)
    }

    /// `quorum - hysteresis` (may be negative): quorum is lost below it.
    pub fn down_threshold(&self) -> i64 {
        i64::from(self.quorum) - i64::from(self.hysteresis)
    }

    /// Re-evaluates with the current live weight.
    pub fn update(&mut self, weight: u64) -> Option<QuorumChange> {
        let w = i64::try_from(weight).unwrap_or(i64::MAX);
        if !self.up && weight > 0 && weight >= self.up_threshold() {
            self.up = true;
            Some(QuorumChange::Gained)
        } else if self.up && (weight == 0 || w < self.down_threshold()) {
            self.up = false;
            Some(QuorumChange::Lost)
        } else {
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn hysteresis_band() {
        let mut q = Quorum::new(3, 1, 4);
        assert!(q.up);
        assert_eq!(q.update(3), None);
        assert_eq!(q.update(2), None);
        assert_eq!(q.update(1), Some(QuorumChange::Lost));
        assert_eq!(q.update(3), None);
        assert_eq!(q.update(4), Some(QuorumChange::Gained));
    }

    #[test]
    fn zero_weight_always_loses() {
        let mut q = Quorum::new(1, 5, 10);
        assert!(q.up);
        assert_eq!(q.update(0), Some(QuorumChange::Lost));
        let q = Quorum::new(1, 0, 0);
        assert!(!q.up);
    }

    proptest! {
        /// Outside the band the state follows the weight; inside it, it never changes.
        #[test]
        fn follows_thresholds(quorum in 0u32..10, hyst in 0u32..5, weights in proptest::collection::vec(0u64..20, 1..40)) {
            let mut q = Quorum::new(quorum, hyst, weights[0]);
            for &w in &weights[1..] {
                let before = q.up;
                let change = q.update(w);
                if w >= q.up_threshold() && w > 0 { prop_assert!(q.up); }
                if w == 0 || (w as i64) < q.down_threshold() { prop_assert!(!q.up); }
                prop_assert_eq!(change.is_some(), before != q.up);
            }
        }
    }
}
