//! Rate-limited log lines for rejected adverts and for warnings on accepted ones.
//!
//! keepalived 2.3.3 (RFC 9568's advice, `log_rate_limited_error`) logs each error class of an
//! instance once, until the flags are cleared: on a state change, or when an advert from a new
//! master is accepted. Here the first rejection of a class is logged in full as before; the
//! ones after it are only counted, and a summary line with the count follows at most every
//! [`SUMMARY_EVERY`] (on the next rejection of that class or on the loop's tick, whichever
//! comes first). A state change or a new master clears the classes of the instance, after a
//! last summary of what was still counted; so does another name at the same index (a reload
//! renumbers the instances). The instance's statistics counters are not touched here: every
//! packet is still counted where it was.
//!
//! Nothing is formatted for a suppressed packet: a flood of broken adverts costs a lookup
//! and an increment per packet, not a log line.

use keepalived_vrrp::codec::{RxError, RxWarning};
use keepalived_vrrp::instance::State;
use keepalived_vrrp::timer::Time;
use std::collections::HashMap;
use std::fmt::Display;
use std::mem::Discriminant;
use std::net::IpAddr;
use std::time::Duration;

/// The shortest time between two summaries of one (instance, class).
pub const SUMMARY_EVERY: Duration = Duration::from_secs(60);

/// One kind of log line: a rejection or a warning, by variant (not by field values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Class {
    /// A rejected packet.
    Rejected(Discriminant<RxError>),
    /// A warning on an accepted advert.
    Warning(Discriminant<RxWarning>),
}

impl Class {
    /// The class of a rejection.
    pub fn of_error(e: &RxError) -> Self {
        Class::Rejected(std::mem::discriminant(e))
    }

    /// The class of a warning.
    pub fn of_warning(w: &RxWarning) -> Self {
        Class::Warning(std::mem::discriminant(w))
    }
}

/// What was counted since the last line of one class.
#[derive(Debug)]
struct Counted {
    class: Class,
    /// The line logged in full, repeated in the summaries so they can be read alone.
    first: String,
    /// Lines not written since the last one.
    suppressed: u64,
    /// When the last line (full or summary) was written.
    last_line: Time,
}

/// One instance's classes and what they were logged under.
#[derive(Debug)]
struct InstanceLog {
    name: String,
    /// The (state, master) the classes were logged under; a change clears them.
    seen: (State, Option<IpAddr>),
    classes: Vec<Counted>,
}

/// The rate limiter of every instance, by instance index.
#[derive(Debug, Default)]
pub struct RejectLog {
    instances: HashMap<usize, InstanceLog>,
}

/// Where lines go: the `log` crate in the daemon, a vector in tests.
pub trait Sink {
    /// Writes one line at info level.
    fn line(&mut self, text: std::fmt::Arguments<'_>);
}

/// The daemon's sink: `log::info!`.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogSink;

impl Sink for LogSink {
    fn line(&mut self, text: std::fmt::Arguments<'_>) {
        log::info!("{text}");
    }
}

fn summary(sink: &mut dyn Sink, name: &str, c: &Counted, now: Time) {
    let secs = now.saturating_sub(c.last_line).as_secs();
    sink.line(format_args!(
        "({name}) {} more like this in the last {secs} s, not logged: {}",
        c.suppressed, c.first
    ));
}

impl RejectLog {
    /// Notes one line of `class` for instance `index` (`name`), which is in `state` with
    /// `master` as the master it knows. Writes `what` in full when the class is new for the
    /// instance, otherwise counts it and writes a summary when one is due.
    #[allow(clippy::too_many_arguments)]
    pub fn note(
        &mut self,
        sink: &mut dyn Sink,
        now: Time,
        index: usize,
        name: &str,
        seen: (State, Option<IpAddr>),
        class: Class,
        what: &dyn Display,
    ) {
        let inst = self.instances.entry(index).or_insert_with(|| InstanceLog {
            name: name.to_string(),
            seen,
            classes: Vec::new(),
        });
        if inst.seen != seen || inst.name != name {
            for c in inst.classes.iter().filter(|c| c.suppressed > 0) {
                summary(sink, &inst.name, c, now);
            }
            inst.classes.clear();
            inst.seen = seen;
            if inst.name != name {
                inst.name = name.to_string();
            }
        }
        match inst.classes.iter_mut().find(|c| c.class == class) {
            Some(c) => {
                c.suppressed = c.suppressed.saturating_add(1);
                if now.saturating_sub(c.last_line) >= SUMMARY_EVERY {
                    summary(sink, &inst.name, c, now);
                    c.suppressed = 0;
                    c.last_line = now;
                }
            }
            None => {
                let first = format!("({name}) {what}");
                sink.line(format_args!("{first}"));
                inst.classes.push(Counted {
                    class,
                    first,
                    suppressed: 0,
                    last_line: now,
                });
            }
        }
    }

    /// Writes the summaries that are due (the loop's tick), so a flood that stopped is
    /// still reported.
    pub fn flush_due(&mut self, sink: &mut dyn Sink, now: Time) {
        for inst in self.instances.values_mut() {
            for c in inst.classes.iter_mut() {
                if c.suppressed > 0 && now.saturating_sub(c.last_line) >= SUMMARY_EVERY {
                    summary(sink, &inst.name, c, now);
                    c.suppressed = 0;
                    c.last_line = now;
                }
            }
        }
    }

    /// Writes every pending summary and forgets everything (the instance indices change
    /// with a reload).
    pub fn reset(&mut self, sink: &mut dyn Sink, now: Time) {
        for inst in self.instances.values() {
            for c in inst.classes.iter().filter(|c| c.suppressed > 0) {
                summary(sink, &inst.name, c, now);
            }
        }
        self.instances.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Lines(Vec<String>);

    impl Sink for Lines {
        fn line(&mut self, text: std::fmt::Arguments<'_>) {
            self.0.push(text.to_string());
        }
    }

    fn ttl(from: &str) -> RxError {
        RxError::Ttl {
            from: from.parse().unwrap(),
            ttl: 64,
        }
    }

    fn secs(s: u64) -> Time {
        Duration::from_secs(s)
    }

    const BACKUP: (State, Option<IpAddr>) = (State::Backup, None);

    fn note(
        log: &mut RejectLog,
        out: &mut Lines,
        t: Time,
        seen: (State, Option<IpAddr>),
        e: &RxError,
    ) {
        log.note(out, t, 0, "VI_1", seen, Class::of_error(e), e);
    }

    #[test]
    fn first_of_a_class_is_logged_then_counted_then_summarised() {
        let (mut log, mut out) = (RejectLog::default(), Lines::default());
        let e = ttl("192.0.2.13");
        for k in 0..10_000u64 {
            note(&mut log, &mut out, Duration::from_millis(k), BACKUP, &e);
        }
        assert_eq!(
            out.0,
            vec!["(VI_1) invalid TTL/HL from 192.0.2.13. Received 64 and expect 255"]
        );
        // Another class is logged in full at once.
        let other = RxError::AuthTypeMismatch {
            from: "192.0.2.13".parse().unwrap(),
            received: 1,
            expected: 0,
        };
        note(&mut log, &mut out, secs(10), BACKUP, &other);
        assert_eq!(out.0.len(), 2);
        // The next TTL error after a minute brings the summary.
        note(&mut log, &mut out, secs(61), BACKUP, &e);
        assert_eq!(out.0.len(), 3);
        assert!(
            out.0[2].starts_with(
                "(VI_1) 10000 more like this in the last 61 s, not logged: (VI_1) invalid TTL/HL"
            ),
            "{}",
            out.0[2]
        );
        note(&mut log, &mut out, secs(62), BACKUP, &e);
        assert_eq!(out.0.len(), 3);
        // The tick writes what is due even when the flood stopped.
        log.flush_due(&mut out, secs(100));
        assert_eq!(out.0.len(), 3);
        log.flush_due(&mut out, secs(121));
        assert_eq!(out.0.len(), 4);
        assert!(out.0[3].starts_with("(VI_1) 1 more like this in the last 60 s"));
        log.flush_due(&mut out, secs(200));
        assert_eq!(out.0.len(), 4, "nothing counted, nothing to say");
    }

    #[test]
    fn a_state_change_or_new_master_clears_the_classes() {
        let (mut log, mut out) = (RejectLog::default(), Lines::default());
        let e = ttl("192.0.2.13");
        note(&mut log, &mut out, secs(1), BACKUP, &e);
        note(&mut log, &mut out, secs(2), BACKUP, &e);
        let master = (State::Master, None);
        note(&mut log, &mut out, secs(3), master, &e);
        assert_eq!(out.0.len(), 3, "{:?}", out.0);
        assert!(out.0[1].starts_with("(VI_1) 1 more like this"));
        assert!(out.0[2].starts_with("(VI_1) invalid TTL/HL"));
        let new_master = (State::Backup, Some("192.0.2.2".parse().unwrap()));
        note(&mut log, &mut out, secs(4), new_master, &e);
        assert_eq!(out.0.len(), 4, "no summary when nothing was counted");
        // Instances are independent.
        log.note(
            &mut out,
            secs(5),
            1,
            "VI_2",
            BACKUP,
            Class::of_error(&e),
            &e,
        );
        assert_eq!(out.0.len(), 5);
        assert!(out.0[4].starts_with("(VI_2) "));
        note(&mut log, &mut out, secs(6), new_master, &e);
        log.reset(&mut out, secs(7));
        assert_eq!(out.0.len(), 6);
        note(&mut log, &mut out, secs(8), new_master, &e);
        assert_eq!(out.0.len(), 7, "a reset logs the next one in full");
    }

    #[test]
    fn warnings_have_their_own_classes() {
        let (mut log, mut out) = (RejectLog::default(), Lines::default());
        let w = RxWarning::VipCount {
            from: "192.0.2.2".parse().unwrap(),
            expected: 1,
            received: 2,
        };
        for t in 0..5 {
            log.note(
                &mut out,
                secs(t),
                0,
                "VI_1",
                BACKUP,
                Class::of_warning(&w),
                &w,
            );
        }
        assert_eq!(out.0, vec!["(VI_1) expected 1 VIPs but received 2"]);
    }
}
