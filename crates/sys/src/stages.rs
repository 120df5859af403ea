//! Wall and CPU time of each stage of a long operation (a reload), for one debug log line:
//! on a loaded machine the wall time says little, the CPU time of the stages says where the
//! work goes.

use std::fmt::Write;
use std::time::{Duration, Instant};

/// The CPU time this thread has used (user + system); zero if the kernel will not say.
fn thread_cpu() -> Duration {
    use nix::sys::resource::{getrusage, UsageWho};
    getrusage(UsageWho::RUSAGE_THREAD).map_or(Duration::ZERO, |u| {
        let tv = |t: nix::sys::time::TimeVal| {
            let secs = u64::try_from(t.tv_sec()).unwrap_or(0);
            let micros = u64::try_from(t.tv_usec()).unwrap_or(0);
            Duration::from_secs(secs) + Duration::from_micros(micros)
        };
        tv(u.user_time()) + tv(u.system_time())
    })
}

/// A stopwatch with named laps.
#[derive(Debug)]
pub struct Stages {
    wall: Instant,
    cpu: Duration,
    laps: Vec<(&'static str, Duration, Duration)>,
}

impl Stages {
    /// Starts timing now.
    pub fn start() -> Self {
        Stages {
            wall: Instant::now(),
            cpu: thread_cpu(),
            laps: Vec::new(),
        }
    }

    /// Ends the stage called `name` (it began at the previous lap or at the start).
    pub fn lap(&mut self, name: &'static str) {
        let (wall, cpu) = (Instant::now(), thread_cpu());
        self.laps.push((
            name,
            wall.saturating_duration_since(self.wall),
            cpu.saturating_sub(self.cpu),
        ));
        self.wall = wall;
        self.cpu = cpu;
    }

    /// `name wall/cpu ms, ...` and the totals.
    pub fn summary(&self) -> String {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        let mut out = String::new();
        let (mut wall, mut cpu) = (Duration::ZERO, Duration::ZERO);
        for (name, w, c) in &self.laps {
            let _ = write!(out, "{name} {:.2}/{:.2}, ", ms(*w), ms(*c));
            wall += *w;
            cpu += *c;
        }
        let _ = write!(out, "total {:.2}/{:.2} ms (wall/cpu)", ms(wall), ms(cpu));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn laps_add_up_to_the_total() {
        let mut s = Stages::start();
        s.lap("a");
        s.lap("b");
        let text = s.summary();
        assert!(text.starts_with("a "), "{text}");
        assert!(text.contains(", b "), "{text}");
        assert!(text.ends_with("ms (wall/cpu)"), "{text}");
    }
}
