//! VRRP timer arithmetic and generation-stamped timer slots.
//!
//! Time is a [`Time`]: a `Duration` since an epoch the shell chooses (for example the
//! moment the process started). Every computation is done in whole microseconds with
//! keepalived's integer formulas, so the results match it to the microsecond.

use crate::advert::Version;
use std::time::Duration;

/// A point in time: the duration since an arbitrary epoch chosen by the caller.
pub type Time = Duration;

/// Microseconds in one second.
const USEC_PER_SEC: u64 = 1_000_000;

/// Converts a duration to whole microseconds, saturating (no VRRP interval comes close).
fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// Skew_Time for `priority`.
///
/// VRRPv2: `(256 - prio) * 1 s / 256`. VRRPv3: `(256 - prio) * Master_Adver_Interval / 256`,
/// computed as keepalived does from the interval in centiseconds: `(256 - prio) * cs * 625 / 16` µs.
pub fn skew(version: Version, priority: u8, master_adver_int: Duration) -> Duration {
    let weight = 256 - u64::from(priority);
    let us = match version {
        Version::V2 => weight * USEC_PER_SEC / 256,
        Version::V3 => {
            let centisecs = micros(master_adver_int) / 10_000;
            weight * centisecs * 625 / 16
        }
    };
    Duration::from_micros(us)
}

/// The smallest Skew_Time (that of priority 255): keepalived's `VRRP_TIMER_SKEW_MIN`.
pub fn skew_min(version: Version, master_adver_int: Duration) -> Duration {
    skew(version, 255, master_adver_int)
}

/// Master_Down_Interval: `down_timer_adverts * Master_Adver_Interval + Skew_Time`.
pub fn master_down(
    version: Version,
    priority: u8,
    master_adver_int: Duration,
    down_timer_adverts: u32,
) -> Duration {
    master_adver_int.saturating_mul(down_timer_adverts) + skew(version, priority, master_adver_int)
}

/// The timers an instance can have armed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TimerKind {
    /// BACKUP: Master_Down_Timer. MASTER: never armed.
    MasterDown,
    /// MASTER: time to send the next advert.
    Advert,
    /// MASTER: the second gratuitous ARP / NA burst after `garp_master_delay`.
    GarpDelayed,
    /// MASTER: the periodic `garp_master_refresh` burst.
    GarpRefresh,
    /// MASTER: the delayed burst after a lower-priority advert (`garp_lower_prio_delay`).
    GarpLowerPrio,
}

impl TimerKind {
    /// Every kind, in slot order.
    pub const ALL: [TimerKind; 5] = [
        TimerKind::MasterDown,
        TimerKind::Advert,
        TimerKind::GarpDelayed,
        TimerKind::GarpRefresh,
        TimerKind::GarpLowerPrio,
    ];

    fn index(self) -> usize {
        match self {
            TimerKind::MasterDown => 0,
            TimerKind::Advert => 1,
            TimerKind::GarpDelayed => 2,
            TimerKind::GarpRefresh => 3,
            TimerKind::GarpLowerPrio => 4,
        }
    }
}

/// Names one arming of one timer. A fired id whose generation is not the slot's current
/// one belongs to a timer that was re-armed or cancelled since, and is ignored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TimerId {
    /// Which timer.
    pub kind: TimerKind,
    /// Which arming of it.
    pub generation: u64,
}

/// A pending timer: when it fires and which arming it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    /// When it is due.
    pub at: Time,
    /// What to hand back in `Input::Timer` when it is due.
    pub id: TimerId,
}

/// The timer slots of one instance.
#[derive(Debug, Clone, Default)]
pub struct Timers {
    slots: [Option<Time>; 5],
    generation: u64,
    /// Generation of the current arming of each slot.
    armed_gen: [u64; 5],
    /// The earliest slot, recomputed when a slot changes: the shell asks after every input.
    next: Option<Deadline>,
}

impl Timers {
    /// Arms (or re-arms) `kind` at `at`; any earlier arming becomes stale.
    pub fn arm(&mut self, kind: TimerKind, at: Time) {
        self.generation = self.generation.wrapping_add(1);
        let i = kind.index();
        if let (Some(slot), Some(gen)) = (self.slots.get_mut(i), self.armed_gen.get_mut(i)) {
            *slot = Some(at);
            *gen = self.generation;
        }
        self.next = self.earliest();
    }

    /// Cancels `kind`.
    pub fn cancel(&mut self, kind: TimerKind) {
        if let Some(slot) = self.slots.get_mut(kind.index()) {
            *slot = None;
        }
        self.next = self.earliest();
    }

    /// Cancels every timer.
    pub fn cancel_all(&mut self) {
        self.slots = [None; 5];
        self.next = None;
    }

    /// When `kind` is due, if armed.
    pub fn due(&self, kind: TimerKind) -> Option<Time> {
        self.slots.get(kind.index()).copied().flatten()
    }

    /// True when `id` is the current arming of its slot and is due at `now`.
    pub fn is_live(&self, id: TimerId, now: Time) -> bool {
        let i = id.kind.index();
        let armed = self.armed_gen.get(i).copied();
        match self.slots.get(i).copied().flatten() {
            Some(at) => armed == Some(id.generation) && at <= now,
            None => false,
        }
    }

    /// The earliest pending timer.
    pub fn next(&self) -> Option<Deadline> {
        self.next
    }

    /// The earliest slot; ties go to the earlier kind (slot order).
    fn earliest(&self) -> Option<Deadline> {
        let mut best: Option<Deadline> = None;
        for ((kind, at), generation) in TimerKind::ALL.iter().zip(self.slots).zip(self.armed_gen) {
            let Some(at) = at else { continue };
            if best.is_none_or(|b| at < b.at) {
                best = Some(Deadline {
                    at,
                    id: TimerId {
                        kind: *kind,
                        generation,
                    },
                });
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SEC: Duration = Duration::from_secs(1);

    #[test]
    fn v3_prio_100_adv_1s() {
        assert_eq!(skew(Version::V3, 100, SEC), Duration::from_micros(609_375));
        assert_eq!(
            master_down(Version::V3, 100, SEC, 3),
            Duration::from_micros(3_609_375)
        );
    }

    #[test]
    fn v3_prio_150_adv_4s() {
        let adv = Duration::from_secs(4);
        assert_eq!(
            skew(Version::V3, 150, adv),
            Duration::from_micros(1_656_250)
        );
        assert_eq!(
            master_down(Version::V3, 150, adv, 3),
            Duration::from_micros(13_656_250)
        );
    }

    #[test]
    fn v2_skew_is_independent_of_interval() {
        assert_eq!(skew(Version::V2, 100, SEC), Duration::from_micros(609_375));
        assert_eq!(
            skew(Version::V2, 150, Duration::from_secs(5)),
            Duration::from_micros(414_062)
        );
        assert_eq!(
            master_down(Version::V2, 150, SEC, 3),
            Duration::from_micros(3_414_062)
        );
        assert_eq!(skew(Version::V2, 255, SEC), Duration::from_micros(3_906));
        assert_eq!(skew_min(Version::V2, SEC), Duration::from_micros(3_906));
        assert_eq!(skew_min(Version::V3, SEC), Duration::from_micros(3_906));
    }

    #[test]
    fn v3_sub_second_intervals() {
        // 0.1 s, prio 100: 156 * 10 * 625 / 16 = 60,937 µs; lab failover 360.9 ms.
        let adv = Duration::from_millis(100);
        assert_eq!(skew(Version::V3, 100, adv), Duration::from_micros(60_937));
        assert_eq!(
            master_down(Version::V3, 100, adv, 3),
            Duration::from_micros(360_937)
        );
        // 0.02 s, prio 100: 156 * 2 * 625 / 16 = 12,187 µs; lab 72.1 ms.
        let adv = Duration::from_millis(20);
        assert_eq!(
            master_down(Version::V3, 100, adv, 3),
            Duration::from_micros(72_187)
        );
    }

    #[test]
    fn stale_generation_is_ignored() {
        let mut t = Timers::default();
        t.arm(TimerKind::MasterDown, SEC);
        let first = t.next().unwrap();
        t.arm(TimerKind::MasterDown, 2 * SEC);
        assert!(!t.is_live(first.id, 3 * SEC));
        let second = t.next().unwrap();
        assert!(!t.is_live(second.id, SEC));
        assert!(t.is_live(second.id, 2 * SEC));
        t.cancel(TimerKind::MasterDown);
        assert!(!t.is_live(second.id, 3 * SEC));
        assert_eq!(t.next(), None);
    }

    #[test]
    fn next_is_earliest() {
        let mut t = Timers::default();
        t.arm(TimerKind::GarpRefresh, 5 * SEC);
        t.arm(TimerKind::Advert, 2 * SEC);
        assert_eq!(t.next().unwrap().id.kind, TimerKind::Advert);
        t.cancel_all();
        assert_eq!(t.next(), None);
    }
}
