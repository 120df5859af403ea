//! UDP_CHECK's reply rule (`check_udp.c`), without I/O.
//!
//! keepalived sends `payload` (random bytes when unset) on a connected UDP socket. Without
//! `require_reply` the check passes unless an ICMP unreachable comes back within
//! `connect_timeout` (a reply also passes). With it, a reply must come; when `require_reply`
//! gives a hex pattern, the reply must be `min_reply_length..=max_reply_length` bytes long and
//! match the pattern on the bytes both have, `X`/`x` nibbles matching anything. As in
//! keepalived, the lengths are only checked when there is a pattern.

use thiserror::Error;

/// keepalived's default `max_reply_length`.
pub const DEFAULT_MAX_REPLY: u16 = 255;
/// The size of the random payload sent when none is configured.
pub const RANDOM_PAYLOAD_LEN: usize = 32;

/// A `require_reply` pattern that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PatternError {
    /// A character that is neither a hex digit, `X`/`x` nor white space.
    #[error("invalid character {0:?} in UDP_CHECK reply pattern")]
    BadChar(char),
    /// An odd number of nibbles.
    #[error("UDP_CHECK reply pattern has an odd number of hex digits")]
    OddLength,
    /// No nibble at all.
    #[error("UDP_CHECK reply pattern is empty")]
    Empty,
}

/// A reply pattern: bytes, and per byte the bits that must match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPattern {
    data: Vec<u8>,
    mask: Vec<u8>,
}

impl ReplyPattern {
    /// Reads a hex pattern such as `01 02xX ff` (white space between digits is ignored).
    pub fn parse(text: &str) -> Result<Self, PatternError> {
        let mut nibbles: Vec<(u8, u8)> = Vec::new();
        for c in text.chars() {
            if c.is_whitespace() {
                continue;
            }
            let n = match c {
                'x' | 'X' => (0, 0),
                _ => match c.to_digit(16) {
                    Some(d) => (d as u8, 0xf),
                    None => return Err(PatternError::BadChar(c)),
                },
            };
            nibbles.push(n);
        }
        if nibbles.is_empty() {
            return Err(PatternError::Empty);
        }
        if nibbles.len() % 2 != 0 {
            return Err(PatternError::OddLength);
        }
        let (data, mask) = nibbles
            .chunks(2)
            .map(|p| match p {
                [(hi, hm), (lo, lm)] => ((hi << 4) | lo, (hm << 4) | lm),
                _ => (0, 0),
            })
            .unzip();
        Ok(Self { data, mask })
    }

    /// Whether `reply` matches on the bytes both have.
    pub fn matches(&self, reply: &[u8]) -> bool {
        reply
            .iter()
            .zip(self.data.iter().zip(&self.mask))
            .all(|(r, (d, m))| (r ^ d) & m == 0)
    }
}

/// The reply settings of one UDP_CHECK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyRule {
    /// A reply is needed (`require_reply`).
    pub required: bool,
    /// The pattern, if `require_reply` gave one.
    pub pattern: Option<ReplyPattern>,
    /// `min_reply_length`.
    pub min_len: u16,
    /// `max_reply_length`.
    pub max_len: u16,
}

impl ReplyRule {
    /// Whether a received reply passes.
    pub fn accepts(&self, reply: &[u8]) -> bool {
        let Some(p) = &self.pattern else {
            return true;
        };
        let len = reply.len();
        len >= usize::from(self.min_len) && len <= usize::from(self.max_len) && p.matches(reply)
    }

    /// Whether silence until the timeout passes.
    pub fn silence_passes(&self) -> bool {
        !self.required
    }

    /// The receive buffer size: one byte more than the longest acceptable reply, so an
    /// over-long reply is seen as over-long.
    pub fn recv_len(&self) -> usize {
        usize::from(self.max_len) + 1
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rule(pattern: Option<&str>, min: u16, max: u16) -> ReplyRule {
        ReplyRule {
            required: true,
            pattern: pattern.map(|p| ReplyPattern::parse(p).unwrap()),
            min_len: min,
            max_len: max,
        }
    }

    #[test]
    fn patterns() {
        let p = ReplyPattern::parse("01 0203").unwrap();
        assert!(p.matches(&[1, 2, 3]));
        assert!(p.matches(&[1, 2, 3, 4]));
        assert!(p.matches(&[1, 2]));
        assert!(!p.matches(&[1, 2, 4]));
        let w = ReplyPattern::parse("aXxb").unwrap();
        assert!(w.matches(&[0xa5, 0x7b]));
        assert!(w.matches(&[0xa0, 0xfb]));
        assert!(!w.matches(&[0xb5, 0x7b]));
        assert!(!w.matches(&[0xa5, 0x7c]));
        assert_eq!(ReplyPattern::parse("abc"), Err(PatternError::OddLength));
        assert_eq!(ReplyPattern::parse("zz"), Err(PatternError::BadChar('z')));
        assert_eq!(ReplyPattern::parse(" "), Err(PatternError::Empty));
    }

    #[test]
    fn lengths_apply_with_a_pattern() {
        let r = rule(Some("ff"), 2, 4);
        assert!(!r.accepts(&[0xff]));
        assert!(r.accepts(&[0xff, 0]));
        assert!(r.accepts(&[0xff, 0, 0, 0]));
        assert!(!r.accepts(&[0xff, 0, 0, 0, 0]));
        assert!(!r.accepts(&[0xfe, 0]));
        assert_eq!(r.recv_len(), 5);
        // Without a pattern any reply passes (keepalived).
        assert!(rule(None, 10, 11).accepts(&[]));
        let silent = ReplyRule {
            required: false,
            pattern: None,
            min_len: 0,
            max_len: DEFAULT_MAX_REPLY,
        };
        assert!(silent.silence_passes());
        assert!(!r.silence_passes());
    }

    proptest! {
        #[test]
        fn any_reply_never_panics(pat in "[0-9a-fA-FxX ]{0,40}", reply in proptest::collection::vec(any::<u8>(), 0..300), min in 0u16..300, max in 0u16..300) {
            let pattern = ReplyPattern::parse(&pat).ok();
            let r = ReplyRule { required: true, pattern, min_len: min, max_len: max };
            let _ = r.accepts(&reply);
        }

        #[test]
        fn all_wildcards_match_anything(n in 1usize..20, reply in proptest::collection::vec(any::<u8>(), 0..40)) {
            let p = ReplyPattern::parse(&"xX".repeat(n)).unwrap();
            prop_assert!(p.matches(&reply));
        }
    }
}
