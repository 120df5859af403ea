//! Timing VIP moves by the kernel's own address events (`ip -ts monitor address`), not polling.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::{LabError, Node, Result};

/// One address added to or deleted from an interface of the monitored namespace.
#[derive(Debug, Clone, PartialEq)]
pub struct AddrEvent {
    /// When `ip` received the netlink event.
    pub time: SystemTime,
    /// True for a deletion.
    pub deleted: bool,
    /// Interface name.
    pub ifname: String,
    /// The address, without prefix length.
    pub addr: String,
}

type Shared = Arc<(Mutex<Vec<AddrEvent>>, Condvar)>;

/// Runs `ip -n NS -ts monitor address` for the lifetime of the value and collects its events.
#[derive(Debug)]
pub struct AddrMonitor {
    child: Child,
    events: Shared,
}

impl AddrMonitor {
    /// Starts monitoring the namespace of `node`.
    pub fn new(node: &Node) -> Result<AddrMonitor> {
        let mut child = Command::new("ip")
            .args(["-n", node.ns(), "-ts", "monitor", "address"])
            // `-ts` prints local time: pin it to UTC so it converts back to a SystemTime.
            .env("TZ", "UTC")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .map_err(|source| LabError::Spawn {
                cmd: format!("ip -n {} -ts monitor address", node.ns()),
                source,
            })?;
        let events: Shared = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
        if let Some(out) = child.stdout.take() {
            let shared = Arc::clone(&events);
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    if let Some(ev) = parse_event(&line) {
                        let (lock, cv) = &*shared;
                        if let Ok(mut v) = lock.lock() {
                            v.push(ev);
                        }
                        cv.notify_all();
                    }
                }
            });
        }
        // `ip monitor` subscribes right after it starts; give it that moment.
        std::thread::sleep(Duration::from_millis(150));
        Ok(AddrMonitor { child, events })
    }

    /// All events seen so far.
    pub fn events(&self) -> Vec<AddrEvent> {
        self.events.0.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Waits for `addr` to be added (deleted when `deleted`) at or after `since`; returns the
    /// event's timestamp.
    pub fn wait_for(
        &self,
        addr: &str,
        deleted: bool,
        since: SystemTime,
        timeout: Duration,
    ) -> Result<SystemTime> {
        let (lock, cv) = &*self.events;
        let start = std::time::Instant::now();
        let mut guard = lock.lock().map_err(|_| LabError::Timeout {
            what: "monitor lock".into(),
            waited_ms: 0,
        })?;
        loop {
            if let Some(ev) = guard
                .iter()
                .find(|e| e.addr == addr && e.deleted == deleted && e.time >= since)
            {
                return Ok(ev.time);
            }
            let left = timeout.saturating_sub(start.elapsed());
            if left.is_zero() {
                return Err(LabError::Timeout {
                    what: format!(
                        "address {addr} to be {}",
                        if deleted { "deleted" } else { "added" }
                    ),
                    waited_ms: start.elapsed().as_millis(),
                });
            }
            guard = match cv.wait_timeout(guard, left) {
                Ok((g, _)) => g,
                Err(_) => {
                    return Err(LabError::Timeout {
                        what: "monitor lock".into(),
                        waited_ms: start.elapsed().as_millis(),
                    })
                }
            };
        }
    }

    /// Waits for `addr` to appear at or after `since`; returns how long after `since` it did.
    pub fn added_after(
        &self,
        addr: &str,
        since: SystemTime,
        timeout: Duration,
    ) -> Result<Duration> {
        let at = self.wait_for(addr, false, since, timeout)?;
        Ok(at.duration_since(since).unwrap_or_default())
    }

    /// How many times `addr` was added so far.
    pub fn times_added(&self, addr: &str) -> usize {
        self.events()
            .iter()
            .filter(|e| e.addr == addr && !e.deleted)
            .count()
    }
}

impl Drop for AddrMonitor {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Parses `[2026-11-22T19:09:58.660069] [Deleted ]2: eth0    inet 192.0.2.100/32 ...`.
fn parse_event(line: &str) -> Option<AddrEvent> {
    let rest = line.strip_prefix('[')?;
    let (stamp, rest) = rest.split_once(']')?;
    let time = parse_stamp(stamp)?;
    let rest = rest.trim_start();
    let (deleted, rest) = match rest.strip_prefix("Deleted ") {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let mut words = rest.split_whitespace();
    let _index = words.next()?.strip_suffix(':')?;
    let ifname = words.next()?.to_string();
    let family = words.next()?;
    if family != "inet" && family != "inet6" {
        return None;
    }
    let addr = words.next()?.split('/').next()?.to_string();
    Some(AddrEvent {
        time,
        deleted,
        ifname,
        addr,
    })
}

/// `2026-11-22T19:09:58.660069` (UTC) to a SystemTime.
fn parse_stamp(s: &str) -> Option<SystemTime> {
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|x| x.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let (hms, frac) = time.split_once('.').unwrap_or((time, "0"));
    let mut t = hms.split(':').map(|x| x.parse::<i64>().ok());
    let (h, min, sec) = (t.next()??, t.next()??, t.next()??);
    let micros: u64 = format!("{frac:0<6}").get(..6)?.parse().ok()?;
    let secs = days_from_civil(y, m, day) * 86_400 + h * 3600 + min * 60 + sec;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros))
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_add_and_delete() {
        let a = parse_event(
            "[2026-11-22T19:09:58.660069] 2: eth0    inet 192.0.2.100/32 scope global eth0",
        )
        .unwrap();
        assert!(!a.deleted);
        assert_eq!(a.addr, "192.0.2.100");
        assert_eq!(a.ifname, "eth0");
        let secs = a.time.duration_since(UNIX_EPOCH).unwrap();
        assert_eq!(secs.as_secs(), 1_795_374_598);
        assert_eq!(secs.subsec_micros(), 660_069);
        let d = parse_event(
            "[2026-11-22T19:09:58.975607] Deleted 2: eth0    inet6 fd00::100/64 scope global",
        )
        .unwrap();
        assert!(d.deleted);
        assert_eq!(d.addr, "fd00::100");
        assert!(parse_event("       valid_lft forever preferred_lft forever").is_none());
    }
}
