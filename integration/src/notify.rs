//! Notify scripts that record how the daemon called them.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::{LabError, Result};

/// The scripts written into every node directory: `<name>.sh` appends one line per call to
/// `notify.log`: `<unix time with ns> <pid> <name> <args...>`.
pub(crate) const SCRIPTS: [&str; 5] = [
    "notify_master",
    "notify_backup",
    "notify_fault",
    "notify_stop",
    "notify",
];

/// One call of a notify script.
#[derive(Debug, Clone, PartialEq)]
pub struct NotifyLine {
    /// Wall-clock time the script ran (seconds since the epoch).
    pub time: f64,
    /// Pid of the script (fork order of one transition's scripts).
    pub pid: u32,
    /// Which script: `notify_master`, ..., or `notify` for the generic one.
    pub script: String,
    /// The arguments it got.
    pub args: Vec<String>,
}

pub(crate) fn write_notify_scripts(dir: &Path) -> Result<()> {
    let log = dir.join("notify.log");
    for name in SCRIPTS {
        let path = dir.join(format!("{name}.sh"));
        let body = format!(
            "#!/bin/sh\necho \"$(date +%s.%N) $$ {name} $*\" >> '{}'\n",
            log.display()
        );
        std::fs::write(&path, body).map_err(|source| LabError::File {
            path: path.clone(),
            source,
        })?;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755))
            .map_err(|source| LabError::File { path, source })?;
    }
    Ok(())
}

pub(crate) fn read_notify_log(dir: &Path) -> Result<Vec<NotifyLine>> {
    let path = dir.join("notify.log");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(source) => return Err(LabError::File { path, source }),
    };
    let mut lines: Vec<NotifyLine> = text.lines().filter_map(parse_line).collect();
    sort_in_fork_order(&mut lines, pid_max());
    Ok(lines)
}

/// Sorts by pid, i.e. in the order the daemon forked the scripts: the time each script
/// printed is no order at all on a loaded machine (a script forked first can run its `date`
/// after one forked later). Pids wrap at `pid_max` (32768 here, and a test run forks
/// thousands), so they are counted from a little before the earliest-printed line's pid.
fn sort_in_fork_order(lines: &mut [NotifyLine], pid_max: u32) {
    let Some(first) = lines.iter().min_by(|a, b| a.time.total_cmp(&b.time)) else {
        return;
    };
    let pid_max = pid_max.max(first.pid + 1);
    let base = (first.pid + pid_max - FORK_RACE_MARGIN.min(pid_max - 1)) % pid_max;
    lines.sort_by_key(|l| (l.pid % pid_max + pid_max - base) % pid_max);
}

/// How many forks a script's printed time may lag behind later ones.
const FORK_RACE_MARGIN: u32 = 1000;

fn pid_max() -> u32 {
    std::fs::read_to_string("/proc/sys/kernel/pid_max")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(32768)
}

fn parse_line(line: &str) -> Option<NotifyLine> {
    let mut words = line.split_whitespace();
    let time = words.next()?.parse().ok()?;
    let pid = words.next()?.parse().ok()?;
    let script = words.next()?.to_string();
    Some(NotifyLine {
        time,
        pid,
        script,
        args: words.map(str::to_string).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(time: f64, pid: u32) -> NotifyLine {
        NotifyLine {
            time,
            pid,
            script: "notify".into(),
            args: Vec::new(),
        }
    }

    #[test]
    fn fork_order_wins_over_printed_time_and_survives_pid_wrap() {
        let mut lines = vec![
            line(5.0, 32760),
            line(6.2, 3),
            line(6.1, 32767),
            line(6.0, 32765),
        ];
        sort_in_fork_order(&mut lines, 32768);
        let pids: Vec<u32> = lines.iter().map(|l| l.pid).collect();
        assert_eq!(pids, [32760, 32765, 32767, 3]);
    }

    #[test]
    fn parses_a_generic_line() {
        let l = parse_line("1795369739.184196082 28995 notify INSTANCE VI_1 MASTER 150").unwrap();
        assert_eq!(l.script, "notify");
        assert_eq!(l.pid, 28995);
        assert_eq!(l.args, ["INSTANCE", "VI_1", "MASTER", "150"]);
    }
}
