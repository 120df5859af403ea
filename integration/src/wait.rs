//! Polling and protocol timing helpers.

use std::time::{Duration, Instant};

use crate::{LabError, Result};

/// Polls `cond` every 10 ms until it holds; returns how long that took.
pub fn wait_until(
    what: &str,
    timeout: Duration,
    mut cond: impl FnMut() -> bool,
) -> Result<Duration> {
    let start = Instant::now();
    loop {
        if cond() {
            return Ok(start.elapsed());
        }
        if start.elapsed() >= timeout {
            return Err(LabError::Timeout {
                what: what.to_string(),
                waited_ms: start.elapsed().as_millis(),
            });
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// RFC 5798 Master_Down_Interval of a backup: 3 adverts plus the skew time.
pub fn master_down(advert_int: Duration, priority: u8) -> Duration {
    let skew = advert_int.mul_f64(f64::from(256 - u16::from(priority)) / 256.0);
    advert_int * 3 + skew
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn master_down_matches_the_lab_figures() {
        let md = master_down(Duration::from_secs(1), 100);
        assert_eq!(md.as_micros(), 3_609_375);
        let fast = master_down(Duration::from_millis(100), 100);
        assert_eq!(fast.as_micros(), 360_937);
    }

    #[test]
    fn wait_until_times_out() {
        let r = wait_until("never", Duration::from_millis(30), || false);
        assert!(matches!(r, Err(LabError::Timeout { .. })));
    }
}
