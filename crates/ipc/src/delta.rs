//! A reload sent to the VRRP child as a change to the configuration it runs
//! ([`ToChild::ReloadDelta`](crate::ToChild::ReloadDelta)).
//!
//! Decoding the instances is most of what a reload costs the VRRP child, and a reload usually
//! changes few of them. The parent keeps the wire encoding of each running instance
//! ([`InstanceBytes`]); at a reload it encodes the new ones the same way, and an instance whose
//! bytes are those of a running one is sent as that one's index ([`InstanceFrom::Base`]). The
//! child keeps its decoded instances and takes the unchanged ones from them.
//!
//! Equal bytes is the right test: the child's instance was decoded from the same bytes, so it
//! is exactly what decoding the new one would give (fields that are not sent cannot differ).

use crate::codec::wire_config;
use crate::error::EncodeError;
use keepalived_config::model::VrrpInstance;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Where one instance of a reloaded configuration comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum InstanceFrom {
    /// The instance at this index of the configuration the child runs, unchanged.
    Base(u32),
    /// The next of the instances the message carries.
    Sent,
}

/// The wire encoding of each instance of a configuration, back to back.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InstanceBytes {
    bytes: Vec<u8>,
    /// Where each instance's encoding ends in `bytes`.
    ends: Vec<usize>,
}

impl InstanceBytes {
    /// Encodes each of `instances` as a frame would carry it.
    pub fn encode(instances: &[VrrpInstance]) -> Result<Self, EncodeError> {
        let mut out = InstanceBytes {
            bytes: Vec::new(),
            ends: Vec::with_capacity(instances.len()),
        };
        for instance in instances {
            bincode::serde::encode_into_std_write(instance, &mut out.bytes, wire_config())?;
            out.ends.push(out.bytes.len());
        }
        out.bytes.shrink_to_fit();
        Ok(out)
    }

    /// How many instances.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The encoding of instance `i`.
    fn get(&self, i: usize) -> Option<&[u8]> {
        let start = match i.checked_sub(1) {
            Some(before) => *self.ends.get(before)?,
            None => 0,
        };
        self.bytes.get(start..*self.ends.get(i)?)
    }

    /// Where each of these instances comes from when `base` is what the child runs: the
    /// index of a running instance with the same encoding (each used once), else sent.
    pub fn changes_from(&self, base: &InstanceBytes) -> Vec<InstanceFrom> {
        // The first unused running instance with these bytes, and after each the next one
        // with the same bytes (built backwards, so equal instances are taken in order).
        let mut first: HashMap<&[u8], usize> = HashMap::with_capacity(base.len());
        let mut next_equal = vec![None; base.len()];
        for i in (0..base.len()).rev() {
            if let (Some(bytes), Some(slot)) = (base.get(i), next_equal.get_mut(i)) {
                *slot = first.insert(bytes, i);
            }
        }
        (0..self.len())
            .map(|j| {
                // Sent whole unless a running instance has the same bytes.
                let Some(bytes) = self.get(j) else {
                    return InstanceFrom::Sent;
                };
                let Some(i) = first.get(bytes).copied() else {
                    return InstanceFrom::Sent;
                };
                match next_equal.get(i).copied().flatten() {
                    Some(next) => first.insert(bytes, next),
                    None => first.remove(bytes),
                };
                u32::try_from(i).map_or(InstanceFrom::Sent, InstanceFrom::Base)
            })
            .collect()
    }
}

/// Takes the instances marked [`InstanceFrom::Sent`] out of `all` (leaving defaults in their
/// places), in order: what the message carries. [`put_back`] undoes it.
pub fn take_sent(all: &mut [VrrpInstance], order: &[InstanceFrom]) -> Vec<VrrpInstance> {
    all.iter_mut()
        .zip(order)
        .filter(|(_, from)| **from == InstanceFrom::Sent)
        .map(|(instance, _)| std::mem::take(instance))
        .collect()
}

/// Puts the instances [`take_sent`] took back into their places.
pub fn put_back(all: &mut [VrrpInstance], order: &[InstanceFrom], sent: Vec<VrrpInstance>) {
    let places = all
        .iter_mut()
        .zip(order)
        .filter(|(_, from)| **from == InstanceFrom::Sent);
    for ((place, _), instance) in places.zip(sent) {
        *place = instance;
    }
}

/// Why a child cannot apply a [`ToChild::ReloadDelta`](crate::ToChild::ReloadDelta): it does
/// not hold the configuration the parent based it on (the parent then sends the whole one).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeltaError {
    /// The base has another number of instances.
    #[error("the reload changes a configuration of {expected} instances; this one has {held}")]
    BaseLength {
        /// What the parent based the reload on.
        expected: u32,
        /// What the child holds.
        held: usize,
    },
    /// An index past the base's end, or one used twice.
    #[error("the reload takes running instance {index} twice or from beyond the end")]
    BadIndex {
        /// The offending index.
        index: u32,
    },
    /// The order does not name as many sent instances as the message carries.
    #[error("the reload lists {listed} new instances but carries {sent}")]
    SentCount {
        /// [`InstanceFrom::Sent`] entries.
        listed: usize,
        /// Instances in the message.
        sent: usize,
    },
}

/// The instances of the reloaded configuration: the unchanged ones taken from `base` (which
/// the child runs, `base_len` long when the parent based the reload on it), the others from
/// `sent`. Checks everything before taking anything: on error `base` is as it was.
pub fn rebuild(
    base: &mut [VrrpInstance],
    base_len: u32,
    order: &[InstanceFrom],
    sent: Vec<VrrpInstance>,
) -> Result<Vec<VrrpInstance>, DeltaError> {
    if usize::try_from(base_len).ok() != Some(base.len()) {
        return Err(DeltaError::BaseLength {
            expected: base_len,
            held: base.len(),
        });
    }
    let mut used = vec![false; base.len()];
    let mut listed = 0;
    for from in order {
        match *from {
            InstanceFrom::Sent => listed += 1,
            InstanceFrom::Base(index) => {
                let slot = usize::try_from(index).ok().and_then(|i| used.get_mut(i));
                match slot {
                    Some(u) if !*u => *u = true,
                    _ => return Err(DeltaError::BadIndex { index }),
                }
            }
        }
    }
    if listed != sent.len() {
        return Err(DeltaError::SentCount {
            listed,
            sent: sent.len(),
        });
    }
    let mut sent = sent.into_iter();
    let rebuilt = order
        .iter()
        .map(|from| match *from {
            InstanceFrom::Sent => sent.next().unwrap_or_default(),
            InstanceFrom::Base(index) => usize::try_from(index)
                .ok()
                .and_then(|i| base.get_mut(i))
                .map(std::mem::take)
                .unwrap_or_default(),
        })
        .collect();
    Ok(rebuilt)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn instance(name: &str, vrid: u8) -> VrrpInstance {
        VrrpInstance {
            name: name.to_string(),
            virtual_router_id: Some(vrid),
            ..VrrpInstance::default()
        }
    }

    fn changes(old: &[VrrpInstance], new: &[VrrpInstance]) -> Vec<InstanceFrom> {
        let base = InstanceBytes::encode(old).unwrap();
        InstanceBytes::encode(new).unwrap().changes_from(&base)
    }

    /// What the child ends up with: the parent's split, the message, the child's rebuild.
    fn through_a_delta(old: &[VrrpInstance], new: &[VrrpInstance]) -> Vec<VrrpInstance> {
        let order = changes(old, new);
        let mut all = new.to_vec();
        let sent = take_sent(&mut all, &order);
        let mut base = old.to_vec();
        let rebuilt = rebuild(&mut base, old.len() as u32, &order, sent.clone()).unwrap();
        put_back(&mut all, &order, sent);
        assert_eq!(all, new, "the parent gets its instances back");
        rebuilt
    }

    #[test]
    fn unchanged_moved_changed_added_and_removed() {
        let old = [instance("a", 1), instance("b", 2), instance("c", 3)];
        let new = [
            instance("c", 3),
            instance("a", 1),
            instance("b", 9),
            instance("d", 4),
        ];
        assert_eq!(
            changes(&old, &new),
            [
                InstanceFrom::Base(2),
                InstanceFrom::Base(0),
                InstanceFrom::Sent,
                InstanceFrom::Sent
            ]
        );
        assert_eq!(through_a_delta(&old, &new), new);
    }

    #[test]
    fn equal_instances_each_take_their_own_running_one() {
        let old = [instance("a", 1), instance("a", 1)];
        let new = [instance("a", 1), instance("a", 1), instance("a", 1)];
        assert_eq!(
            changes(&old, &new),
            [
                InstanceFrom::Base(0),
                InstanceFrom::Base(1),
                InstanceFrom::Sent
            ]
        );
    }

    #[test]
    fn a_delta_on_another_base_is_refused_and_leaves_it_alone() {
        let held = vec![instance("a", 1), instance("b", 2)];
        let mut base = held.clone();
        assert_eq!(
            rebuild(&mut base, 3, &[], vec![]),
            Err(DeltaError::BaseLength {
                expected: 3,
                held: 2
            })
        );
        let twice = [InstanceFrom::Base(1), InstanceFrom::Base(1)];
        assert_eq!(
            rebuild(&mut base, 2, &twice, vec![]),
            Err(DeltaError::BadIndex { index: 1 })
        );
        assert_eq!(
            rebuild(&mut base, 2, &[InstanceFrom::Base(2)], vec![]),
            Err(DeltaError::BadIndex { index: 2 })
        );
        assert_eq!(
            rebuild(&mut base, 2, &[InstanceFrom::Sent], vec![]),
            Err(DeltaError::SentCount { listed: 1, sent: 0 })
        );
        assert_eq!(base, held);
    }

    proptest! {
        /// Whatever the two lists, the child rebuilds exactly the new one and is sent only
        /// instances that no running one equals.
        #[test]
        fn the_child_rebuilds_the_new_list(
            old in prop::collection::vec((0u8..4, 0u8..3), 0..12),
            new in prop::collection::vec((0u8..4, 0u8..3), 0..12),
        ) {
            let make = |v: &[(u8, u8)]| -> Vec<VrrpInstance> {
                v.iter().map(|&(n, vrid)| instance(&format!("i{n}"), vrid)).collect()
            };
            let (old, new) = (make(&old), make(&new));
            prop_assert_eq!(&through_a_delta(&old, &new), &new);
            let order = changes(&old, &new);
            for (instance, from) in new.iter().zip(&order) {
                if *from == InstanceFrom::Sent {
                    let copies_new = new.iter().filter(|i| *i == instance).count();
                    let copies_old = old.iter().filter(|i| *i == instance).count();
                    prop_assert!(copies_new > copies_old);
                }
            }
        }
    }
}
