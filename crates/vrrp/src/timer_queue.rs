//! The instances' next deadlines in one min-heap, for a shell that wakes at the earliest.
//!
//! A shell re-arms an instance's deadline after every advert it sends or hears: with 1,000
//! instances that is 1,000 updates a second. An ordered set pays a removal and an insertion
//! per update; this heap pays one push (a later deadline rarely climbs far) and drops the
//! superseded entry lazily, when it surfaces at the top. Entries carry the instance's
//! generation, so a superseded one is recognised without searching for it. The heap is
//! rebuilt from the live deadlines when superseded entries outnumber them, which bounds
//! its size at twice the instance count (plus a little) and keeps the cost amortised O(1).

use crate::timer::Time;

/// One heap entry: instance `index`'s deadline, valid while `generation` is current. The
/// deadline is kept as whole nanoseconds (584 years of range), so ordering two entries is two
/// integer comparisons.
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

/// Per-instance deadline and the generation of its live heap entry.
#[derive(Debug, Clone, Copy, Default)]
struct Slot {
    at: Option<Time>,
    generation: u32,
}

/// Deadlines of instances `0..n`, earliest first; ties go to the lower index.
#[derive(Debug, Default, Clone)]
pub struct DeadlineQueue {
    heap: Vec<Entry>,
    slots: Vec<Slot>,
    live: usize,
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
        self.live = 0;
    }

    /// Instance `index`'s deadline as last set.
    pub fn get(&self, index: usize) -> Option<Time> {
        self.slots.get(index).and_then(|s| s.at)
    }

    /// Sets (or with `None` removes) instance `index`'s deadline. Setting the same deadline
    /// again costs nothing.
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
        if slot.at == at {
            return;
        }
        match (slot.at, at) {
            (None, Some(_)) => self.live += 1,
            (Some(_), None) => self.live = self.live.saturating_sub(1),
            _ => {}
        }
        slot.at = at;
        slot.generation = slot.generation.wrapping_add(1);
        let generation = slot.generation;
        if let Some(at) = at {
            self.heap.push(Entry {
                nanos: nanos(at),
                index: index32,
                generation,
            });
            self.sift_up(self.heap.len() - 1);
        }
        if self.heap.len() > 2 * self.live + REBUILD_SLACK {
            self.rebuild();
        } else {
            self.drop_stale_top();
        }
    }

    /// The earliest deadline and its instance.
    pub fn first(&self) -> Option<(Time, usize)> {
        // The top is kept live by every mutation.
        let e = self.heap.first()?;
        Some((self.get(e.index as usize)?, e.index as usize))
    }

    /// Appends the live entries due in `(after, until]`, in deadline order (then index).
    /// Visits only the part of the heap due by `until`.
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
                continue; // the whole subtree is later
            }
            if e.nanos > after_ns && self.is_live(e) {
                if let Some(at) = self.get(e.index as usize) {
                    out.push((at, e.index as usize));
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

    fn is_live(&self, e: &Entry) -> bool {
        self.slots
            .get(e.index as usize)
            .is_some_and(|s| s.generation == e.generation && s.at.is_some())
    }

    fn drop_stale_top(&mut self) {
        while let Some(top) = self.heap.first() {
            if self.is_live(top) {
                break;
            }
            self.pop_top();
        }
    }

    fn pop_top(&mut self) {
        let Some(last) = self.heap.pop() else { return };
        if let Some(top) = self.heap.first_mut() {
            *top = last;
            self.sift_down(0);
        }
    }

    fn rebuild(&mut self) {
        self.heap.clear();
        for (index, slot) in self.slots.iter().enumerate() {
            if let (Some(at), Ok(index)) = (slot.at, u32::try_from(index)) {
                self.heap.push(Entry {
                    nanos: nanos(at),
                    index,
                    generation: slot.generation,
                });
            }
        }
        for i in (0..self.heap.len() / 2).rev() {
            self.sift_down(i);
        }
        self.heap.shrink_to(2 * self.live + REBUILD_SLACK);
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
        loop {
            let mut least = i;
            for child in [2 * i + 1, 2 * i + 2] {
                if let (Some(c), Some(l)) = (self.heap.get(child), self.heap.get(least)) {
                    if c.key() < l.key() {
                        least = child;
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
                q.set(i, Some(ms(round * 1000 + 3600 + i as u64)));
            }
        }
        assert!(q.heap_len() <= 2 * 1000 + REBUILD_SLACK);
        assert_eq!(q.first(), Some((ms(99 * 1000 + 3600), 0)));
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
    }
}
