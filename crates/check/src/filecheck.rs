//! FILE_CHECK (`check_file.c`, `track_file.c`), without I/O: the number in a tracked file
//! and what it does to a real server.
//!
//! keepalived reads the first 127 bytes of the file as C's `strtol(text, NULL, 0)` does
//! (leading blanks, a sign, `0x` hex, `0` octal, else decimal; no digits is 0); a number
//! outside the 32-bit range is logged and ignored. A missing or deleted file reads 0.
//!
//! With weight 0 the file is a plain up/down switch: a non-zero value is a failure (with
//! `reverse`, zero is). Otherwise `value × weight` (negated with `reverse`) is added to the
//! real server's weight, and a result at or below `-IPVS_WEIGHT_LIMIT` is a failure.

use keepalived_config::model::lvs::IPVS_WEIGHT_LIMIT;

/// How many bytes of the file count.
pub const READ_LIMIT: usize = 127;

/// What a tracked file's value does to one FILE_CHECK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileStatus {
    /// The checker is down.
    Fault,
    /// The checker is up and adds this much to the real server's weight.
    Weight(i64),
}

/// Reads the value as `strtol(text, NULL, 0)`; `None` when it does not fit in 32 bits
/// (keepalived logs "Invalid number … - ignoring" and keeps the previous value).
pub fn parse_value(text: &[u8]) -> Option<i64> {
    let text = text.get(..READ_LIMIT).unwrap_or(text);
    let mut i = text
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
        .unwrap_or(text.len());
    let mut negative = false;
    if let Some(&s) = text.get(i) {
        if s == b'-' || s == b'+' {
            negative = s == b'-';
            i += 1;
        }
    }
    let rest = text.get(i..).unwrap_or_default();
    let (radix, digits) = match rest {
        [b'0', b'x' | b'X', d, ..] if d.is_ascii_hexdigit() => (16, rest.get(2..)),
        [b'0', ..] => (8, Some(rest)),
        _ => (10, Some(rest)),
    };
    let digits = digits.unwrap_or_default();
    let mut value: i64 = 0;
    for &b in digits {
        let Some(d) = char::from(b).to_digit(radix) else {
            break;
        };
        value = value
            .checked_mul(i64::from(radix))?
            .checked_add(i64::from(d))?;
        if value > i64::from(u32::MAX) {
            return None;
        }
    }
    let value = if negative { -value } else { value };
    (i64::from(i32::MIN)..=i64::from(i32::MAX))
        .contains(&value)
        .then_some(value)
}

/// The status of a FILE_CHECK with `weight` (and `reverse`) when the file holds `value`.
pub fn status(value: i64, weight: i32, reverse: bool) -> FileStatus {
    if weight == 0 {
        return if (value != 0) != reverse {
            FileStatus::Fault
        } else {
            FileStatus::Weight(0)
        };
    }
    let signed = if reverse {
        -i64::from(weight)
    } else {
        i64::from(weight)
    };
    let s = value.saturating_mul(signed);
    if s <= -i64::from(IPVS_WEIGHT_LIMIT) {
        FileStatus::Fault
    } else {
        FileStatus::Weight(s.min(i64::from(IPVS_WEIGHT_LIMIT)))
    }
}

/// The IPVS weight of a real server with configured weight `base` and FILE_CHECK
/// contributions `adds`, kept within `0..=IPVS_WEIGHT_LIMIT`.
pub fn effective_weight(base: u32, adds: impl IntoIterator<Item = i64>) -> u32 {
    let total = adds
        .into_iter()
        .fold(i64::from(base), |acc, a| acc.saturating_add(a));
    u32::try_from(total.clamp(0, i64::from(IPVS_WEIGHT_LIMIT))).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn strtol_like_parsing() {
        assert_eq!(parse_value(b"12\n"), Some(12));
        assert_eq!(parse_value(b"  -3 foo"), Some(-3));
        assert_eq!(parse_value(b"+7"), Some(7));
        assert_eq!(parse_value(b""), Some(0));
        assert_eq!(parse_value(b"abc"), Some(0));
        assert_eq!(parse_value(b"0x1f"), Some(31));
        assert_eq!(parse_value(b"0X1F\n"), Some(31));
        assert_eq!(parse_value(b"010"), Some(8));
        assert_eq!(parse_value(b"09"), Some(0));
        assert_eq!(parse_value(b"0x"), Some(0));
        assert_eq!(parse_value(b"-0x10"), Some(-16));
        assert_eq!(parse_value(b"2147483647"), Some(2_147_483_647));
        assert_eq!(parse_value(b"-2147483648"), Some(-2_147_483_648));
        assert_eq!(parse_value(b"2147483648"), None);
        assert_eq!(parse_value(b"99999999999999999999999"), None);
        // Only the first 127 bytes count.
        let mut long = vec![b' '; 126];
        long.extend_from_slice(b"45");
        assert_eq!(parse_value(&long), Some(4));
    }

    #[test]
    fn weight_zero_is_a_switch() {
        assert_eq!(status(0, 0, false), FileStatus::Weight(0));
        assert_eq!(status(1, 0, false), FileStatus::Fault);
        assert_eq!(status(-1, 0, false), FileStatus::Fault);
        assert_eq!(status(0, 0, true), FileStatus::Fault);
        assert_eq!(status(5, 0, true), FileStatus::Weight(0));
    }

    #[test]
    fn weights_multiply() {
        assert_eq!(status(3, 2, false), FileStatus::Weight(6));
        assert_eq!(status(3, 2, true), FileStatus::Weight(-6));
        assert_eq!(status(-4, 5, false), FileStatus::Weight(-20));
        assert_eq!(
            status(i64::from(i32::MIN), 1, false),
            FileStatus::Fault,
            "far below zero is a failure"
        );
        assert_eq!(status(i64::from(i32::MAX), 2, true), FileStatus::Fault);
        assert_eq!(effective_weight(5, [6, -3]), 8);
        assert_eq!(effective_weight(1, [-20]), 0);
        assert_eq!(effective_weight(u32::MAX, []), IPVS_WEIGHT_LIMIT);
    }

    proptest! {
        #[test]
        fn any_bytes_parse_without_panic(b in proptest::collection::vec(any::<u8>(), 0..300)) {
            if let Some(v) = parse_value(&b) {
                prop_assert!(i32::try_from(v).is_ok());
            }
        }

        #[test]
        fn decimal_roundtrip(v in any::<i32>()) {
            prop_assert_eq!(parse_value(format!("{v}\n").as_bytes()), Some(i64::from(v)));
        }

        #[test]
        fn status_never_panics(v in any::<i64>(), w in any::<i32>(), r in any::<bool>()) {
            if let FileStatus::Weight(s) = status(v, w, r) {
                prop_assert!(s > -i64::from(IPVS_WEIGHT_LIMIT));
            }
        }
    }
}
