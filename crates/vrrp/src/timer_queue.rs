//! The instances' next deadlines in one min-heap, for a shell that wakes at the earliest.
//!
//! A shell re-arms an instance's deadline after every advert it sends or hears: with 1,000
//! instances that is 1,000 updates a second, nearly all of them moving a deadline LATER (a
//! backup's Master_Down timer, a master's next advert). So a heap entry is only a lower
//! bound of its instance's deadline: moving a deadline later just records it in the
//! instance's slot, and the entry is corrected (moved down the heap) only when it reaches
//! the top of the heap before the horizon the shell asks about ([`DeadlineQueue::first_by`]).
//! Only a deadline moving EARLIER than its entry pushes a new entry; the old one is then
//! superseded (its generation is no longer the slot's) and dropped when it surfaces. A
//! backup hearing its master every second thus costs one store per advert, and one
//! correction every Master_Down_Interval minus the shell's horizon; when a horizon step
//! surfaces many lagging entries at once, one rebuild corrects them all. The heap is also
//! rebuilt from the slots when superseded entries outnumber the live ones, which bounds its
//! size at twice the instance count (plus a little).

use crate::timer::Time;

/// One heap entry: a lower bound of instance `index`'s deadline, in whole nanoseconds (584
/// years of range, so ordering two entries is two integer comparisons), valid while
/// `generation` is the slot's.
#[derive(Debug, Clone, Copy)]
struct Entry {
    nanos: u64,
    index: u32,
    generation: u32,
}

impl Entry {
    fn key(&self) -> (u64, u32) {
        (self.nanos, self.index)
    }
}

/// `at` in whole nanoseconds, saturating (a deadline 584 years away sorts last).
fn nanos(at: Time) -> u64 {
    u64::try_from(at.as_nanos()).unwrap_or(u64::MAX)
}

/// Per-instance deadline and the generation of its heap entry.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    at: Option<Time>,
    /// `at` in nanoseconds (meaningless when `at` is `None`).
    nanos: u64,
    generation: u32,
    /// The heap holds an entry of this generation, with `nanos` at most this slot's.
    queued: bool,
    /// That entry's deadline.
    queued_nanos: u64,
}

/// Deadlines of instances `0..n`, earliest first; ties go to the lower index.
#[derive(Debug, Default, Clone)]
pub struct DeadlineQueue {
    heap: Vec<Entry>,
    slots: Vec<Slot>,
    /// Slots with an entry in the heap (the others' entries are superseded).
    queued: usize,
}

/// Slack before a rebuild: superseded entries may number this many beyond the live ones.
const REBUILD_SLACK: usize = 64;

impl DeadlineQueue {
    /// An empty queue.
    pub fn new() -> Self {
        Self::default()
    }

    /// Forgets every deadline.
    pub fn clear(&mut self) {
        self.heap.clear();
        self.slots.clear();
        self.queued = 0;
    }

    /// Instance `index`'s deadline as last set.
    pub fn get(&self, index: usize) -> Option<Time> {
        self.slots.get(index).and_then(|s| s.at)
    }

    /// Sets (or with `None` removes) instance `index`'s deadline. A deadline no earlier than
    /// the instance's heap entry costs a store; an earlier one pushes a new entry.
    pub fn set(&mut self, index: usize, at: Option<Time>) {
        let Ok(index32) = u32::try_from(index) else {
            return; // over 4 billion instances: cannot be configured
        };
        if self.slots.len() <= index {
            self.slots.resize(index + 1, Slot::default());
        }
        let Some(slot) = self.slots.get_mut(index) else {
            return;
        };
        slot.at = at;
        let Some(at) = at else {
            // The entry stays as a lower bound: dropped when it surfaces, or reused if a
            // deadline no earlier than it comes first.
            return;
        };
        let at_nanos = nanos(at);
        slot.nanos = at_nanos;
        if slot.queued && slot.queued_nanos <= at_nanos {
            return;
        }
        if !slot.queued {
            self.queued += 1;
        }
        slot.generation = slot.generation.wrapping_add(1);
        slot.queued = true;
        slot.queued_nanos = at_nanos;
        let generation = slot.generation;
        self.heap.push(Entry {
            nanos: at_nanos,
            index: index32,
            generation,
        });
        self.sift_up(self.heap.len() - 1);
        if self.heap.len() > 2 * self.queued + REBUILD_SLACK {
            self.rebuild();
        }
    }

    /// The earliest deadline and its instance.
    pub fn first(&mut self) -> Option<(Time, usize)> {
        self.first_by(Time::MAX)
    }

    /// The earliest deadline and its instance if it is due by `horizon`. Corrects only the
    /// entries that surface before `horizon`: a shell that will wake at `horizon` anyway
    /// asks with it, and the entries beyond stay lower bounds for later.
    pub fn first_by(&mut self, horizon: Time) -> Option<(Time, usize)> {
        let horizon = nanos(horizon);
        // A shell's horizon mostly moves in steps (its one-second tick), and then many
        // entries surface together: past this many corrections in one call, one rebuild
        // (O(n)) is cheaper than the rest of them (O(log n) each).
        let mut corrections_left = (self.heap.len() / 16).max(16);
        loop {
            let top = *self.heap.first()?;
            if top.nanos > horizon {
                return None;
            }
            let Some(slot) = self.slots.get_mut(top.index as usize) else {
                self.pop_top();
                continue;
            };
            if slot.generation != top.generation {
                self.pop_top(); // superseded
                continue;
            }
            match slot.at {
                Some(at) if slot.nanos == top.nanos => return Some((at, top.index as usize)),
                Some(_) if corrections_left == 0 => {
                    self.rebuild();
                    corrections_left = usize::MAX;
                }
                Some(_) => {
                    // Moved later since it was pushed: the entry follows it down the heap.
                    corrections_left -= 1;
                    let later = slot.nanos;
                    slot.queued_nanos = later;
                    if let Some(e) = self.heap.first_mut() {
                        e.nanos = later;
                    }
                    self.sift_down(0);
                }
                None => {
                    slot.queued = false;
                    self.queued = self.queued.saturating_sub(1);
                    self.pop_top();
                }
            }
        }
    }

    /// Appends the deadlines due in `(after, until]`, in deadline order (then index).
    /// Visits only the part of the heap whose entries are due by `until`.
    pub fn due_between(&self, after: Time, until: Time, out: &mut Vec<(Time, usize)>) {
        if until <= after {
            return;
        }
        let start = out.len();
        let (after_ns, until_ns) = (nanos(after), nanos(until));
        let mut stack = [0usize; 64];
        let mut depth = 0usize;
        if !self.heap.is_empty() {
            depth = 1;
        }
        while depth > 0 {
            depth -= 1;
            let Some(&i) = stack.get(depth) else { break };
            let Some(e) = self.heap.get(i) else { continue };
            if e.nanos > until_ns {
                continue; // the whole subtree is later (entries are lower bounds)
            }
            if let Some(slot) = self.slots.get(e.index as usize) {
                if slot.generation == e.generation && slot.queued {
                    if let Some(at) = slot.at {
                        if slot.nanos > after_ns && slot.nanos <= until_ns {
                            out.push((at, e.index as usize));
                        }
                    }
                }
            }
            for child in [2 * i + 1, 2 * i + 2] {
                if child < self.heap.len() {
                    if let Some(s) = stack.get_mut(depth) {
                        *s = child;
                        depth += 1;
                    } else {
                        // Deeper than 64 levels cannot happen below 2^64 entries.
                        break;
                    }
                }
            }
        }
        if let Some(found) = out.get_mut(start..) {
            found.sort_unstable();
        }
    }

    /// How many entries the heap holds, superseded ones included (for tests and dumps).
    pub fn heap_len(&self) -> usize {
        self.heap.len()
    }

    fn pop_top(&mut self) {
        let Some(last) = self.heap.pop() else { return };
        if let Some(top) = self.heap.first_mut() {
            *top = last;
            self.sift_down(0);
        }
    }

    /// One entry per slot with a deadline, at that deadline.
    fn rebuild(&mut self) {
        self.heap.clear();
        self.queued = 0;
        for (index, slot) in self.slots.iter_mut().enumerate() {
            slot.queued = false;
            if let (Some(_), Ok(index)) = (slot.at, u32::try_from(index)) {
                slot.generation = slot.generation.wrapping_add(1);
                slot.queued = true;
                slot.queued_nanos = slot.nanos;
                self.queued += 1;
                self.heap.push(Entry {
                    nanos: slot.nanos,
                    index,
                    generation: slot.generation,
                });
            }
        }
        for i in (0..self.heap.len() / 2).rev() {
            self.sift_down(i);
        }
        self.heap.shrink_to(2 * self.queued + REBUILD_SLACK);
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            match (self.heap.get(i), self.heap.get(parent)) {
                (Some(c), Some(p)) if c.key() < p.key() => self.heap.swap(i, parent),
                _ => break,
            }
            i = parent;
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let len = self.heap.len();
        loop {
            let left = 2 * i + 1;
            let Some(mut least_key) = self.heap.get(i).map(Entry::key) else {
                break;
            };
            let mut least = i;
            for child in [left, left + 1] {
                if child >= len {
                    break;
                }
                if let Some(c) = self.heap.get(child) {
                    if c.key() < least_key {
                        least = child;
                        least_key = c.key();
                    }
                }
            }
            if least == i {
                break;
            }
            self.heap.swap(i, least);
            i = least;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeSet;
    use std::time::Duration;

    fn ms(n: u64) -> Time {
        Duration::from_millis(n)
    }

    #[test]
    fn earliest_first_ties_by_index() {
        let mut q = DeadlineQueue::new();
        q.set(3, Some(ms(5)));
        q.set(1, Some(ms(5)));
        q.set(2, Some(ms(9)));
        assert_eq!(q.first(), Some((ms(5), 1)));
        q.set(1, None);
        assert_eq!(q.first(), Some((ms(5), 3)));
        q.set(3, Some(ms(20)));
        assert_eq!(q.first(), Some((ms(9), 2)));
        let mut out = Vec::new();
        q.due_between(ms(9), ms(20), &mut out);
        assert_eq!(out, vec![(ms(20), 3)]);
    }

    #[test]
    fn superseded_entries_stay_bounded() {
        let mut q = DeadlineQueue::new();
        for round in 0..100u64 {
            for i in 0..1000 {
                // Alternately earlier and later: every other set supersedes an entry.
                let at = if round % 2 == 0 { 3600 } else { 100 };
                q.set(i, Some(ms(round * 1000 + at + i as u64)));
            }
        }
        assert!(q.heap_len() <= 2 * 1000 + REBUILD_SLACK);
        assert_eq!(q.first(), Some((ms(99 * 1000 + 100), 0)));
    }

    /// The model: what the shell kept before, an ordered set plus each instance's deadline.
    #[derive(Default)]
    struct Model {
        set: BTreeSet<(Time, usize)>,
        at: Vec<Option<Time>>,
    }

    impl Model {
        fn set(&mut self, i: usize, at: Option<Time>) {
            if self.at.len() <= i {
                self.at.resize(i + 1, None);
            }
            if let Some(old) = self.at[i] {
                self.set.remove(&(old, i));
            }
            self.at[i] = at;
            if let Some(at) = at {
                self.set.insert((at, i));
            }
        }
    }

    proptest! {
        #[test]
        fn behaves_like_an_ordered_set(
            ops in proptest::collection::vec((0usize..40, proptest::option::of(0u64..200), 0u64..200, 0u64..50), 1..400)
        ) {
            let mut q = DeadlineQueue::new();
            let mut m = Model::default();
            for (i, at, after, span) in ops {
                q.set(i, at.map(ms));
                m.set(i, at.map(ms));
                prop_assert_eq!(q.first(), m.set.first().copied());
                prop_assert_eq!(q.get(i), m.at[i]);
                let (after, until) = (ms(after), ms(after + span));
                let mut got = Vec::new();
                q.due_between(after, until, &mut got);
                let want: Vec<(Time, usize)> = m
                    .set
                    .iter()
                    .filter(|(t, _)| *t > after && *t <= until)
                    .copied()
                    .collect();
                prop_assert_eq!(got, want);
            }
        }

        /// Deadlines mostly moving later and the earliest asked only now and then, up to a
        /// horizon: the entries lag behind their slots, as in a backup hearing its master.
        #[test]
        fn lagging_entries_answer_like_an_ordered_set(
            ops in proptest::collection::vec(
                (0usize..30, proptest::option::weighted(0.9, 0u64..100), proptest::option::of(0u64..400), 0u64..400, 0u64..50),
                1..600,
            )
        ) {
            let mut q = DeadlineQueue::new();
            let mut m = Model::default();
            for (i, step, horizon, after, span) in ops {
                // A deadline that moves later by `step` from its current one (or from 0).
                let base = m.at.get(i).copied().flatten().unwrap_or_default();
                let at = step.map(|s| base + ms(s));
                q.set(i, at);
                m.set(i, at);
                let (after, until) = (ms(after), ms(after + span));
                let mut got = Vec::new();
                q.due_between(after, until, &mut got);
                let want: Vec<(Time, usize)> = m
                    .set
                    .iter()
                    .filter(|(t, _)| *t > after && *t <= until)
                    .copied()
                    .collect();
                prop_assert_eq!(got, want);
                if let Some(h) = horizon {
                    let want = m.set.first().copied().filter(|(t, _)| *t <= ms(h));
                    prop_assert_eq!(q.first_by(ms(h)), want);
                }
                prop_assert!(q.heap_len() <= 2 * 30 + REBUILD_SLACK + 1);
            }
            prop_assert_eq!(q.first(), m.set.first().copied());
        }
    }

    #[test]
    fn a_later_deadline_costs_no_heap_entry() {
        let mut q = DeadlineQueue::new();
        for i in 0..100 {
            q.set(i, Some(ms(3600 + i as u64)));
        }
        for round in 1..50u64 {
            for i in 0..100 {
                q.set(i, Some(ms(round * 1000 + 3600 + i as u64)));
            }
            assert_eq!(q.heap_len(), 100);
        }
        assert_eq!(q.first_by(ms(49_000)), None);
        assert_eq!(q.first(), Some((ms(49 * 1000 + 3600), 0)));
        // An earlier deadline pushes a second entry; the first is dropped when it surfaces.
        q.set(7, Some(ms(10)));
        assert_eq!(q.heap_len(), 101);
        assert_eq!(q.first(), Some((ms(10), 7)));
        q.set(7, None);
        assert_eq!(q.first(), Some((ms(49 * 1000 + 3600), 0)));
    }
}
