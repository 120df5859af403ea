//! When a received advert arrived, on the loop's clock.
//!
//! The protocol's timers run from an advert's arrival (RFC 5798 6.4.2: the Master_Down_Timer
//! restarts when an ADVERTISEMENT is received). Timing a packet when the loop gets round to
//! reading it adds the read's scheduling delay to every failover: a backup that is busy for
//! 2 ms when the master's last advert comes in would take over 2 ms late. The kernel stamps
//! each datagram as it arrives (`SO_TIMESTAMPNS`); this turns that stamp into the loop's
//! monotonic [`Time`].

use keepalived_vrrp::timer::Time;
use std::time::Duration;

/// The largest age a stamp may give a packet. The stamps are on the realtime clock, which can
/// be stepped; a step forward between the arrival and the read would make a packet look older
/// than it is, and its timers expire early. This bounds that harm to well under the shortest
/// Master_Down_Interval (3 x 10 ms), while covering the read delays a loaded machine shows.
pub const MAX_AGE: Duration = Duration::from_millis(20);

/// The clocks read once per receive, and the earliest time a packet may be given.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArrivalClock {
    now: Time,
    real_now: Duration,
    floor: Time,
}

impl ArrivalClock {
    /// `now` on the loop's clock and `real_now` on the realtime clock, read together;
    /// `floor` is the latest time the core was given otherwise (a timer that fired, say): a
    /// packet read after that is never placed before it, so the core sees events in the order
    /// it handled them.
    pub fn new(now: Time, real_now: Duration, floor: Time) -> Self {
        ArrivalClock {
            now,
            real_now,
            floor: floor.min(now),
        }
    }

    /// The arrival time of a packet stamped `stamp` (`None`: not stamped, so now).
    pub fn arrival(&self, stamp: Option<Duration>) -> Time {
        let age = stamp
            .and_then(|s| self.real_now.checked_sub(s))
            .unwrap_or_default()
            .min(MAX_AGE);
        self.now.saturating_sub(age).max(self.floor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: Duration = Duration::from_millis(1);

    #[test]
    fn a_stamp_places_the_packet_back_by_its_age() {
        let c = ArrivalClock::new(1000 * MS, 5000 * MS, 900 * MS);
        assert_eq!(c.arrival(Some(4997 * MS)), 997 * MS);
        assert_eq!(c.arrival(Some(5000 * MS)), 1000 * MS);
    }

    #[test]
    fn no_stamp_or_a_stamp_from_the_future_is_now() {
        let c = ArrivalClock::new(1000 * MS, 5000 * MS, Duration::ZERO);
        assert_eq!(c.arrival(None), 1000 * MS);
        // The realtime clock stepped back since the arrival.
        assert_eq!(c.arrival(Some(6000 * MS)), 1000 * MS);
    }

    #[test]
    fn the_age_is_bounded_and_never_crosses_the_floor() {
        let c = ArrivalClock::new(1000 * MS, 5000 * MS, Duration::ZERO);
        assert_eq!(c.arrival(Some(4000 * MS)), 1000 * MS - MAX_AGE);
        let c = ArrivalClock::new(1000 * MS, 5000 * MS, 999 * MS);
        assert_eq!(c.arrival(Some(4990 * MS)), 999 * MS);
        // A floor past now (not expected) is held to now.
        let c = ArrivalClock::new(1000 * MS, 5000 * MS, 2000 * MS);
        assert_eq!(c.arrival(Some(4990 * MS)), 1000 * MS);
        // Early in the loop's life the age cannot go below its epoch.
        let c = ArrivalClock::new(2 * MS, 5000 * MS, Duration::ZERO);
        assert_eq!(c.arrival(Some(4990 * MS)), Duration::ZERO);
    }
}
