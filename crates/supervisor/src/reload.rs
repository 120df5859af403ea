//! Reload bookkeeping: which children still have to answer `ReloadDone`, and the one reload
//! keepalived queues behind a running one (`config_notify.c:queue_reload`).

use keepalived_config::Config;
use std::collections::BTreeSet;

/// Settings keepalived refuses to change at a reload ("Cannot change X at a reload - please
/// restart"); the first one that differs, if any.
pub fn unchangeable_setting(old: &Config, new: &Config) -> Option<&'static str> {
    if old.net_namespace != new.net_namespace {
        Some("net_namespace")
    } else if old.net_namespace_ipvs != new.net_namespace_ipvs {
        Some("net_namespace_ipvs")
    } else if old.instance != new.instance {
        Some("instance")
    } else if old.global.nftables != new.global.nftables {
        Some("nftables")
    } else {
        None
    }
}

/// What a SIGHUP leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReloadRequest {
    /// No reload is running: start one now.
    StartNow,
    /// A reload is running: this one runs when it completes (several collapse into one).
    Queued,
}

/// The state of reloads in progress.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReloadQueue {
    /// Children (slot indexes) that were sent `Reload` and have not answered.
    waiting: BTreeSet<usize>,
    queued: bool,
}

impl ReloadQueue {
    /// A reload was requested.
    pub fn request(&mut self) -> ReloadRequest {
        if self.waiting.is_empty() {
            ReloadRequest::StartNow
        } else {
            self.queued = true;
            ReloadRequest::Queued
        }
    }

    /// `Reload` was sent to `children`; true when there is nobody to wait for (the reload is
    /// complete at once).
    pub fn started(&mut self, children: impl IntoIterator<Item = usize>) -> bool {
        self.waiting.extend(children);
        self.waiting.is_empty()
    }

    /// Child `idx` answered `ReloadDone` or died. `Some(run_queued)` when that completed the
    /// reload: `run_queued` says whether a queued reload must start now.
    pub fn child_done(&mut self, idx: usize) -> Option<bool> {
        if !self.waiting.remove(&idx) || !self.waiting.is_empty() {
            return None;
        }
        Some(std::mem::take(&mut self.queued))
    }

    /// Whether a reload is waiting for children.
    pub fn running(&self) -> bool {
        !self.waiting.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespace_and_instance_cannot_change() {
        let old = Config::default();
        assert_eq!(unchangeable_setting(&old, &old.clone()), None);
        let mut new = old.clone();
        new.net_namespace = Some("blue".into());
        assert_eq!(unchangeable_setting(&old, &new), Some("net_namespace"));
        let mut new = old.clone();
        new.instance = Some("two".into());
        assert_eq!(unchangeable_setting(&old, &new), Some("instance"));
        let mut new = old.clone();
        new.child_wait_time = std::time::Duration::from_secs(9);
        assert_eq!(unchangeable_setting(&old, &new), None);
    }

    #[test]
    fn single_reload_completes_when_every_child_answers() {
        let mut q = ReloadQueue::default();
        assert_eq!(q.request(), ReloadRequest::StartNow);
        assert!(!q.started([0, 1]));
        assert!(q.running());
        assert_eq!(q.child_done(0), None);
        assert_eq!(q.child_done(1), Some(false));
        assert!(!q.running());
    }

    #[test]
    fn reloads_during_a_reload_are_queued_once() {
        let mut q = ReloadQueue::default();
        assert_eq!(q.request(), ReloadRequest::StartNow);
        q.started([0]);
        assert_eq!(q.request(), ReloadRequest::Queued);
        assert_eq!(q.request(), ReloadRequest::Queued);
        assert_eq!(q.child_done(0), Some(true));
        // The queued one starts and completes; nothing more is queued.
        assert_eq!(q.request(), ReloadRequest::StartNow);
        q.started([0]);
        assert_eq!(q.child_done(0), Some(false));
    }

    #[test]
    fn no_children_completes_at_once_and_strangers_are_ignored() {
        let mut q = ReloadQueue::default();
        assert!(q.started([]));
        assert_eq!(q.child_done(3), None);
        q.started([1]);
        assert_eq!(q.child_done(2), None);
        assert!(q.running());
    }
}
