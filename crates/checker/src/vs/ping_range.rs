//! `net.ipv4.ping_group_range`: PING_CHECK's unprivileged ICMP sockets open only for a group
//! in that range (the kernel default `1 0` allows none, root included). Like keepalived
//! (`check_ping.c:set_ping_group_range`) the checker lowers the range's start to 0 while
//! PING_CHECKs run and puts the old start back when it stops. The setting belongs to the
//! network namespace the checker runs in.

use std::path::Path;

/// The sysctl file.
pub const PATH: &str = "/proc/sys/net/ipv4/ping_group_range";

/// Reads `MIN<ws>MAX`.
pub fn parse(text: &str) -> Option<(u32, u32)> {
    let mut it = text.split_whitespace();
    let min = it.next()?.parse().ok()?;
    let max = it.next()?.parse().ok()?;
    it.next().is_none().then_some((min, max))
}

/// Lowers the start of the range in `path` to 0; returns the start to restore (`None` when
/// nothing was changed).
pub fn widen(path: &Path) -> Option<u32> {
    let text = std::fs::read_to_string(path).ok()?;
    let (min, max) = parse(&text)?;
    if min == 0 {
        return None;
    }
    if min > 1 && max > 1 {
        log::info!(
            "Warning: {} being expanded from {min} {max} to 0 {max}",
            path.display()
        );
    }
    match std::fs::write(path, format!("0\t{max}\n")) {
        Ok(()) => Some(min),
        Err(e) => {
            log::error!(
                "PING_CHECK: cannot widen {} to include group 0 ({e}); ICMP sockets may not open",
                path.display()
            );
            None
        }
    }
}

/// Puts the start `min` back (keeping the current end).
pub fn restore(path: &Path, min: u32) {
    let Some((_, max)) = std::fs::read_to_string(path)
        .ok()
        .as_deref()
        .and_then(parse)
    else {
        return;
    };
    if let Err(e) = std::fs::write(path, format!("{min}\t{max}\n")) {
        log::info!("Write {} failed - {e}", path.display());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_forms() {
        assert_eq!(parse("1\t0\n"), Some((1, 0)));
        assert_eq!(parse("0 2147483647"), Some((0, 2_147_483_647)));
        assert_eq!(parse("1"), None);
        assert_eq!(parse("a b"), None);
        assert_eq!(parse("1 2 3"), None);
    }

    #[test]
    fn widen_and_restore_a_file() {
        let p = std::env::temp_dir().join(format!("krs-newchecks-pgr-{}", std::process::id()));
        std::fs::write(&p, "1\t0\n").unwrap();
        assert_eq!(widen(&p), Some(1));
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "0\t0\n");
        assert_eq!(widen(&p), None, "already includes 0");
        restore(&p, 1);
        assert_eq!(std::fs::read_to_string(&p).unwrap(), "1\t0\n");
        let _ = std::fs::remove_file(&p);
    }
}
