//! Trackers (track_script, track_interface, track_file, ...) and how their results turn into
//! an effective priority or a FAULT.
//!
//! keepalived's rules: a weight-0 tracker that is down puts the instance in FAULT (with
//! `reverse`: up). A weight w > 0 adds w while the tracker is up; w < 0 subtracts |w| while it
//! is down; `reverse` negates the adjustment (w > 0: -w while up; w < 0: +|w| while down). A tracked file adds `value * weight`, and with weight 0 any non-zero
//! value is a fault, as is a total below -253. The sum is clamped to 1..=254, and an owner
//! (255) never changes priority.

use serde::{Deserialize, Serialize};

/// What kind of thing is tracked. Names are unique per kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrackerKind {
    /// `track_script` (a `vrrp_script`).
    Script,
    /// `track_interface`.
    Interface,
    /// `track_file`.
    File,
    /// `track_process`.
    Process,
    /// `track_bfd`.
    Bfd,
}

/// The latest result of a tracker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TrackerValue {
    /// Up (script succeeded, interface up, quorum reached) or down.
    Up(bool),
    /// The integer read from a tracked file.
    File(i64),
}

/// One tracker of an instance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tracker {
    /// Kind of tracker.
    pub kind: TrackerKind,
    /// Script, interface, file, process or BFD name.
    pub name: String,
    /// Weight; 0 means "down = FAULT".
    pub weight: i32,
    /// `reverse`: inverts the sense of the result.
    pub reverse: bool,
    /// The value assumed until the first report.
    pub initial: TrackerValue,
}

/// A tracker's effect on the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Effect {
    /// Adds this much to the base priority.
    Weight(i64),
    /// Puts the instance in FAULT.
    Fault,
}

impl Tracker {
    /// What `value` means for an instance tracking it this way.
    pub fn effect(&self, value: TrackerValue) -> Effect {
        let weight = i64::from(self.weight);
        match value {
            TrackerValue::Up(up) => {
                if weight == 0 {
                    // `reverse` makes "up" the failing state.
                    return if up != self.reverse {
                        Effect::Weight(0)
                    } else {
                        Effect::Fault
                    };
                }
                // keepalived applies `weight * multiplier` (multiplier -1 with `reverse`) in
                // the state the sign of the weight selects: up for w > 0, down for w < 0.
                let applies = if weight > 0 { up } else { !up };
                let multiplier = if self.reverse { -1 } else { 1 };
                Effect::Weight(if applies { weight * multiplier } else { 0 })
            }
            TrackerValue::File(v) => {
                if weight == 0 {
                    return if v == 0 {
                        Effect::Weight(0)
                    } else {
                        Effect::Fault
                    };
                }
                let sign = if self.reverse { -1 } else { 1 };
                let total = v.saturating_mul(weight).saturating_mul(sign);
                if total < -253 {
                    Effect::Fault
                } else {
                    Effect::Weight(total)
                }
            }
        }
    }
}

/// The trackers of an instance with their latest values.
#[derive(Debug, Clone, Default)]
pub struct TrackerSet {
    entries: Vec<(Tracker, TrackerValue)>,
}

impl TrackerSet {
    /// Trackers at their initial values.
    pub fn new(trackers: &[Tracker]) -> Self {
        TrackerSet {
            entries: trackers.iter().map(|t| (t.clone(), t.initial)).collect(),
        }
    }

    /// New trackers for a reload, keeping the last value of every tracker that stays.
    pub fn reloaded(&self, trackers: &[Tracker]) -> Self {
        let entries = trackers
            .iter()
            .map(|t| {
                let value = self
                    .entries
                    .iter()
                    .find(|(old, _)| old.kind == t.kind && old.name == t.name)
                    .map_or(t.initial, |(_, v)| *v);
                (t.clone(), value)
            })
            .collect();
        TrackerSet { entries }
    }

    /// Records a new value; returns false when this instance does not track it.
    pub fn update(&mut self, kind: TrackerKind, name: &str, value: TrackerValue) -> bool {
        let mut found = false;
        for (t, v) in &mut self.entries {
            if t.kind == kind && t.name == name {
                *v = value;
                found = true;
            }
        }
        found
    }

    /// Every tracker with its latest value (for the dump files).
    pub fn values(&self) -> impl Iterator<Item = (&Tracker, TrackerValue)> + '_ {
        self.entries.iter().map(|(t, v)| (t, *v))
    }

    /// True when some tracker puts the instance in FAULT.
    pub fn faulted(&self) -> bool {
        self.entries
            .iter()
            .any(|(t, v)| t.effect(*v) == Effect::Fault)
    }

    /// The effective priority for `base`.
    pub fn effective_priority(&self, base: u8) -> u8 {
        if base == 255 {
            return 255;
        }
        let sum: i64 = self
            .entries
            .iter()
            .map(|(t, v)| match t.effect(*v) {
                Effect::Weight(w) => w,
                Effect::Fault => 0,
            })
            .sum();
        let total = i64::from(base).saturating_add(sum).clamp(1, 254);
        u8::try_from(total).unwrap_or(254)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tracker(kind: TrackerKind, weight: i32, reverse: bool) -> Tracker {
        Tracker {
            kind,
            name: "t".into(),
            weight,
            reverse,
            initial: TrackerValue::Up(true),
        }
    }

    #[test]
    fn weights() {
        let t = tracker(TrackerKind::Script, -60, false);
        assert_eq!(t.effect(TrackerValue::Up(true)), Effect::Weight(0));
        assert_eq!(t.effect(TrackerValue::Up(false)), Effect::Weight(-60));
        let t = tracker(TrackerKind::Script, 20, false);
        assert_eq!(t.effect(TrackerValue::Up(true)), Effect::Weight(20));
        assert_eq!(t.effect(TrackerValue::Up(false)), Effect::Weight(0));
        let t = tracker(TrackerKind::Script, 20, true);
        assert_eq!(t.effect(TrackerValue::Up(true)), Effect::Weight(-20));
        assert_eq!(t.effect(TrackerValue::Up(false)), Effect::Weight(0));
        let t = tracker(TrackerKind::Script, -20, true);
        assert_eq!(t.effect(TrackerValue::Up(false)), Effect::Weight(20));
        assert_eq!(t.effect(TrackerValue::Up(true)), Effect::Weight(0));
        let t = tracker(TrackerKind::Interface, 0, false);
        assert_eq!(t.effect(TrackerValue::Up(false)), Effect::Fault);
        let t = tracker(TrackerKind::Interface, 0, true);
        assert_eq!(t.effect(TrackerValue::Up(true)), Effect::Fault);
    }

    #[test]
    fn files() {
        let t = tracker(TrackerKind::File, 0, false);
        assert_eq!(t.effect(TrackerValue::File(0)), Effect::Weight(0));
        assert_eq!(t.effect(TrackerValue::File(3)), Effect::Fault);
        let t = tracker(TrackerKind::File, 10, false);
        assert_eq!(t.effect(TrackerValue::File(-3)), Effect::Weight(-30));
        assert_eq!(t.effect(TrackerValue::File(-26)), Effect::Fault);
        let t = tracker(TrackerKind::File, 10, true);
        assert_eq!(t.effect(TrackerValue::File(3)), Effect::Weight(-30));
    }

    #[test]
    fn clamping_and_owner() {
        let mut set = TrackerSet::new(&[
            tracker(TrackerKind::Script, -200, false),
            tracker(TrackerKind::Interface, 200, false),
        ]);
        assert_eq!(set.effective_priority(100), 254);
        assert_eq!(set.effective_priority(255), 255);
        set.update(TrackerKind::Script, "t", TrackerValue::Up(false));
        set.update(TrackerKind::Interface, "t", TrackerValue::Up(false));
        assert_eq!(set.effective_priority(100), 1);
        assert_eq!(set.effective_priority(255), 255);
        assert!(!set.faulted());
    }

    #[test]
    fn reload_keeps_values() {
        let mut set = TrackerSet::new(&[tracker(TrackerKind::Script, -60, false)]);
        set.update(TrackerKind::Script, "t", TrackerValue::Up(false));
        let set = set.reloaded(&[tracker(TrackerKind::Script, -50, false)]);
        assert_eq!(set.effective_priority(150), 100);
    }
}
