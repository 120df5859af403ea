//! A wake-up at an exact instant: a `timerfd` on `CLOCK_MONOTONIC` armed at an absolute
//! deadline with nanosecond resolution, to be polled beside the loop's sockets.
//!
//! Why not the poll timeout: `epoll_wait` takes whole milliseconds (mio rounds up), so a
//! timer due in 2.3 ms fires at 3 ms or later, plus the thread's timer slack (50 µs by
//! default). A VRRP backup's Master_Down timer then fires up to a millisecond after the
//! protocol says. A timerfd armed with `TFD_TIMER_ABSTIME` has neither limit, and
//! [`set_timer_slack`] removes the slack for the calling thread.
//!
//! [`DeadlineTimer::arm`] only calls `timerfd_settime` when the deadline changes, so a loop
//! woken by a socket before its deadline re-arms nothing. After a wake-up from the timer,
//! call [`DeadlineTimer::fired`]: it clears the expiry and forgets the armed deadline.

use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};
use std::time::{Duration, Instant};

use crate::error::{Result, SysError};

/// A non-blocking, close-on-exec timerfd on `CLOCK_MONOTONIC` (the clock behind `Instant`).
#[derive(Debug)]
pub struct DeadlineTimer {
    fd: OwnedFd,
    armed: Option<Instant>,
}

/// `CLOCK_MONOTONIC` now, as a `Duration` since the clock's origin.
fn monotonic_now() -> Result<Duration> {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec for the duration of the call.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    if rc != 0 {
        return Err(SysError::os(
            "clock_gettime",
            "CLOCK_MONOTONIC",
            std::io::Error::last_os_error(),
        ));
    }
    let secs = u64::try_from(ts.tv_sec).unwrap_or(0);
    let nanos = u32::try_from(ts.tv_nsec).unwrap_or(0);
    Ok(Duration::new(secs, nanos))
}

fn timespec(d: Duration) -> libc::timespec {
    libc::timespec {
        tv_sec: libc::time_t::try_from(d.as_secs()).unwrap_or(libc::time_t::MAX),
        tv_nsec: libc::c_long::from(d.subsec_nanos()),
    }
}

impl DeadlineTimer {
    /// Creates the timer, disarmed.
    pub fn new() -> Result<Self> {
        // SAFETY: plain system call with constant arguments; the result is checked below.
        let fd = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if fd < 0 {
            return Err(SysError::os(
                "timerfd_create",
                "CLOCK_MONOTONIC",
                std::io::Error::last_os_error(),
            ));
        }
        // SAFETY: `fd` was just returned by timerfd_create, is valid and owned by no one else.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        Ok(DeadlineTimer { fd, armed: None })
    }

    /// The deadline the timer is armed at, if any.
    pub fn armed(&self) -> Option<Instant> {
        self.armed
    }

    /// Arms the timer to expire at `at` (at once if `at` has passed). Does nothing when it is
    /// already armed at `at`.
    pub fn arm(&mut self, at: Instant) -> Result<()> {
        if self.armed == Some(at) {
            return Ok(());
        }
        // `Instant` is CLOCK_MONOTONIC but does not expose its value: read it first and the
        // clock second, so the computed expiry is never earlier than `at` (at most the
        // tens of nanoseconds between the two reads later).
        let before = Instant::now();
        let mono = monotonic_now()?;
        let expiry = mono + at.saturating_duration_since(before);
        self.settime(expiry)?;
        self.armed = Some(at);
        Ok(())
    }

    /// Disarms the timer.
    pub fn disarm(&mut self) -> Result<()> {
        if self.armed.is_none() {
            return Ok(());
        }
        self.settime(Duration::ZERO)?;
        self.armed = None;
        Ok(())
    }

    /// Clears a pending expiry (after the poll reported the timer readable) and, when there
    /// was one, forgets the armed deadline, so the next [`DeadlineTimer::arm`] sets it again.
    pub fn fired(&mut self) {
        let mut ticks = [0u8; 8];
        match nix::unistd::read(&self.fd, &mut ticks) {
            // Not expired after all (re-armed since the poll looked): still armed as it was.
            Err(nix::errno::Errno::EAGAIN) => {}
            // Expired; or an error, after which re-arming is the safe course.
            _ => self.armed = None,
        }
    }

    /// `timerfd_settime` with an absolute expiry; zero disarms.
    fn settime(&self, expiry: Duration) -> Result<()> {
        let spec = libc::itimerspec {
            it_interval: timespec(Duration::ZERO),
            it_value: timespec(expiry),
        };
        // SAFETY: the fd is a live timerfd; `spec` is a valid itimerspec only read by the
        // kernel; the old value is not requested (null is allowed).
        let rc = unsafe {
            libc::timerfd_settime(
                self.fd.as_raw_fd(),
                libc::TFD_TIMER_ABSTIME,
                &spec,
                std::ptr::null_mut(),
            )
        };
        if rc == 0 {
            Ok(())
        } else {
            Err(SysError::os(
                "timerfd_settime",
                format!("expiry {expiry:?}"),
                std::io::Error::last_os_error(),
            ))
        }
    }
}

impl AsRawFd for DeadlineTimer {
    fn as_raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl AsFd for DeadlineTimer {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Sets the calling thread's timer slack (`PR_SET_TIMERSLACK`): how late the kernel may fire
/// its sleeps and poll timeouts to group wake-ups (50 µs by default). The VRRP child sets
/// 1 µs, as its timers are the protocol's.
pub fn set_timer_slack(slack: Duration) -> Result<()> {
    let ns = libc::c_ulong::try_from(slack.as_nanos())
        .unwrap_or(libc::c_ulong::MAX)
        .max(1);
    nix::sys::prctl::set_timerslack(ns).map_err(|e| {
        SysError::os(
            "prctl PR_SET_TIMERSLACK",
            format!("{} ns", slack.as_nanos()),
            e,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};

    fn wait_readable(t: &DeadlineTimer, limit_ms: u16) -> bool {
        let mut fds = [PollFd::new(t.as_fd(), PollFlags::POLLIN)];
        matches!(poll(&mut fds, PollTimeout::from(limit_ms)), Ok(1))
    }

    // A timer due in 2.3 ms fires close to it, not at the next whole millisecond. Only the
    // median of 20 is asserted, with a bound (1 ms) that load cannot reach often enough to
    // move a median; the figures are printed.
    #[test]
    fn fires_at_a_sub_millisecond_deadline() {
        set_timer_slack(Duration::from_micros(1)).unwrap();
        let mut t = DeadlineTimer::new().unwrap();
        let mut late = Vec::new();
        for _ in 0..20 {
            let at = Instant::now() + Duration::from_micros(2_300);
            t.arm(at).unwrap();
            assert!(wait_readable(&t, 1_000), "the timer never fired");
            let woke = Instant::now();
            t.fired();
            assert!(woke >= at, "fired early: {:?} before", at - woke);
            late.push(woke - at);
        }
        late.sort();
        let median = late[late.len() / 2];
        println!(
            "timerfd lateness for a 2.3 ms deadline: median {median:?}, min {:?}, max {:?}",
            late[0],
            late[late.len() - 1]
        );
        assert!(median < Duration::from_millis(1), "median {median:?}");
    }

    #[test]
    fn rearming_at_the_same_deadline_is_a_no_op_and_disarm_silences() {
        let mut t = DeadlineTimer::new().unwrap();
        let at = Instant::now() + Duration::from_millis(5);
        t.arm(at).unwrap();
        t.arm(at).unwrap();
        assert_eq!(t.armed(), Some(at));
        t.disarm().unwrap();
        assert_eq!(t.armed(), None);
        assert!(!wait_readable(&t, 20), "a disarmed timer fired");
        // A deadline in the past fires at once.
        t.arm(Instant::now() - Duration::from_millis(1)).unwrap();
        assert!(wait_readable(&t, 100));
        t.fired();
        assert_eq!(t.armed(), None);
        assert!(!wait_readable(&t, 0), "the expiry was not cleared");
    }
}
