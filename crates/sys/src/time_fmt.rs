//! C's `ctime` layout (`Sun Nov 22 19:13:38 2026`) of a Unix time, in UTC: the console log
//! lines and the dump files print times this way. UTC because the children have no time zone
//! database after start-up (keepalived uses the local zone).

/// `ctime` without the newline: `Www Mmm dd hh:mm:ss yyyy`, in UTC.
pub fn ctime(unix_secs: u64) -> String {
    let c = Calendar::of(unix_secs);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02} {}",
        c.weekday, c.month, c.day, c.hour, c.minute, c.second, c.year
    )
}

/// `ctime` with the microseconds after the seconds: `Www Mmm dd hh:mm:ss.uuuuuu yyyy`, in UTC.
pub fn ctime_us(unix_secs: u64, usecs: u32) -> String {
    let c = Calendar::of(unix_secs);
    format!(
        "{} {} {:2} {:02}:{:02}:{:02}.{usecs:06} {}",
        c.weekday, c.month, c.day, c.hour, c.minute, c.second, c.year
    )
}

/// The calendar fields of a Unix time in UTC.
struct Calendar {
    weekday: &'static str,
    month: &'static str,
    day: u64,
    hour: u64,
    minute: u64,
    second: u64,
    year: u64,
}

impl Calendar {
    fn of(unix_secs: u64) -> Self {
        // 1970-01-01 was a Thursday.
        const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let days = unix_secs / 86_400;
        let secs = unix_secs % 86_400;
        let (year, month, day) = civil_from_days(days);
        Calendar {
            weekday: DAYS.get((days % 7) as usize).copied().unwrap_or("???"),
            month: MONTHS
                .get(month.saturating_sub(1) as usize)
                .copied()
                .unwrap_or("???"),
            day,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
            year,
        }
    }
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31) in the proleptic Gregorian calendar
/// (Howard Hinnant's algorithm, restricted to dates after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn matches_ctime() {
        assert_eq!(ctime(0), "Thu Jan  1 00:00:00 1970");
        assert_eq!(ctime(1_795_374_818), "Sun Nov 22 19:13:38 2026");
        assert_eq!(ctime(951_782_400), "Tue Feb 29 00:00:00 2000");
        assert_eq!(ctime(951_868_799), "Tue Feb 29 23:59:59 2000");
        assert_eq!(ctime(4_107_542_400), "Mon Mar  1 00:00:00 2100");
    }

    #[test]
    fn microseconds_after_the_seconds() {
        assert_eq!(ctime_us(0, 0), "Thu Jan  1 00:00:00.000000 1970");
        assert_eq!(ctime_us(951_782_400, 5), "Tue Feb 29 00:00:00.000005 2000");
        assert_eq!(
            ctime_us(1_795_374_818, 999_999),
            "Sun Nov 22 19:13:38.999999 2026"
        );
    }

    #[test]
    fn far_future_does_not_panic() {
        assert!(ctime(u64::MAX).ends_with(char::is_numeric));
        assert!(ctime_us(u64::MAX, u32::MAX).contains(':'));
    }

    proptest! {
        #[test]
        fn one_day_later_is_the_next_weekday(secs in 0u64..253_402_214_400) {
            let a = ctime(secs);
            let b = ctime(secs + 86_400);
            prop_assert_eq!(a.len(), 24);
            let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
            let ia = days.iter().position(|d| a.starts_with(d));
            let ib = days.iter().position(|d| b.starts_with(d));
            prop_assert_eq!(ia.map(|i| (i + 1) % 7), ib);
            prop_assert_eq!(&a[10..19], &b[10..19]);
        }
    }
}
