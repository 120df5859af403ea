//! The short way for a line that needs no preprocessing.
//!
//! Nearly every line of a large configuration is a keyword and a few plain words, perhaps
//! ending with `{`, or a lone `}`. Such a line comes out of [`super::engine`] exactly as it
//! went in: comment removal, conditionals, definitions, generators, includes and brace
//! splitting all leave it alone. Those stages cost over a thousand instructions per line;
//! this path reads the line once to classify it and once to split its words.
//!
//! A line is plain when, after its leading blanks, it
//! * has only printable ASCII and blanks (no control byte, no byte >= 0x80, whose columns
//!   would count characters rather than bytes);
//! * has none of `"`, `\`, `!`, `#`, `$` (quotes, escapes, comments, definitions);
//! * does not start with `@` or `~` (conditionals, generators), nor with `include`
//!   (includes and `include_check`);
//! * has no `}` except as the whole line, and no `{` except as its last non-blank byte.
//!
//! Anything else goes the long way. `lexer::tests::props::fast_and_slow_agree` and
//! `lexer::tests::corpus_lexes_the_same_both_ways` hold the two to the same output.

use super::linebuf::is_blank;
use super::Lexed;
use crate::source::{FileId, Loc};

/// What a plain line holds, as offsets into the physical line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plain {
    /// The first non-blank byte.
    start: usize,
    /// Just past the last word (before a trailing `{` and the blanks before it).
    end: usize,
    /// Where a trailing `{` is.
    open: Option<usize>,
}

/// Bytes that make a line need the preprocessor (or are not printable ASCII).
const fn special_table() -> [bool; 256] {
    let mut t = [true; 256];
    let mut b = 0x20;
    while b < 0x7f {
        t[b] = false;
        b += 1;
    }
    t[b'\t' as usize] = false;
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t[b'!' as usize] = true;
    t[b'#' as usize] = true;
    t[b'$' as usize] = true;
    t[b'{' as usize] = true;
    t[b'}' as usize] = true;
    t
}

static SPECIAL: [bool; 256] = special_table();

/// Classifies a physical line (without its newline): `None` if it needs the preprocessor.
/// A line of blanks only is plain and empty (`start == end`, no brace).
pub(crate) fn classify(raw: &[u8]) -> Option<Plain> {
    let start = raw.iter().take_while(|b| is_blank(**b)).count();
    let mut end = raw.len();
    while end > start && raw.get(end - 1).is_some_and(|b| is_blank(*b)) {
        end -= 1;
    }
    let trimmed = raw.get(start..end).unwrap_or(&[]);
    match trimmed {
        [] => {
            return Some(Plain {
                start,
                end: start,
                open: None,
            })
        }
        [b'}'] => {
            return Some(Plain {
                start,
                end,
                open: None,
            })
        }
        [b'@' | b'~', ..] => return None,
        _ if trimmed.starts_with(b"include") => return None,
        _ => {}
    }
    let (words, open) = match trimmed.split_last() {
        Some((b'{', words)) => (words, Some(end - 1)),
        _ => (trimmed, None),
    };
    // `fold`, not `any`: a loop without an early exit is one the compiler can vectorise.
    if words
        .iter()
        .fold(false, |seen, b| seen | SPECIAL[usize::from(*b)])
    {
        return None;
    }
    let mut words_end = start + words.len();
    while words_end > start && raw.get(words_end - 1).is_some_and(|b| is_blank(*b)) {
        words_end -= 1;
    }
    Some(Plain {
        start,
        end: words_end,
        open,
    })
}

impl Plain {
    /// Whether the line has no words (blanks only): it is skipped, as comment-only lines are.
    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end && self.open.is_none()
    }

    /// Bytes of the line after comment and blank removal (what the preprocessor's limits
    /// count).
    pub(crate) fn len(&self) -> usize {
        match self.open {
            Some(brace) => brace + 1 - self.start,
            None => self.end - self.start,
        }
    }

    /// Appends the line to `out`, as the long way would: the text up to a trailing `{` with
    /// its words, then the `{` as a word of its own. `raw` is the physical line `self`
    /// classified, line `line` of `file`.
    pub(crate) fn emit(&self, raw: &str, file: FileId, line: u32, out: &mut Lexed) {
        let col = |i: usize| u32::try_from(i + 1).unwrap_or(u32::MAX);
        // Classified as ASCII: the offsets are character boundaries.
        let text = raw.get(self.start..self.end).unwrap_or("");
        let (raw_start, raw_end) = if text.is_empty() {
            out.push_text("{")
        } else {
            out.push_text(text)
        };
        out.begin_line(raw_start, raw_end);
        if !text.is_empty() {
            let bytes = text.as_bytes();
            let mut i = 0;
            while i < bytes.len() {
                while bytes.get(i).is_some_and(|b| is_blank(*b)) {
                    i += 1;
                }
                let s = i;
                while bytes.get(i).is_some_and(|b| !is_blank(*b)) {
                    i += 1;
                }
                if i > s {
                    let loc = Loc::new(file, line, col(self.start + s));
                    out.push_word(raw_start + s, raw_start + i, loc, false);
                }
            }
        }
        if let Some(brace) = self.open {
            let (s, e) = if text.is_empty() {
                (raw_start, raw_end)
            } else {
                out.push_text("{")
            };
            out.push_word(s, e, Loc::new(file, line, col(brace)), false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(s: &str) -> Option<(String, bool)> {
        classify(s.as_bytes()).map(|p| {
            (
                s.get(p.start..p.end).unwrap_or("").to_string(),
                p.open.is_some(),
            )
        })
    }

    #[test]
    fn plain_lines() {
        assert_eq!(
            shape("  priority 100  "),
            Some(("priority 100".into(), false))
        );
        assert_eq!(
            shape("\tvrrp_instance VI_1 {"),
            Some(("vrrp_instance VI_1".into(), true))
        );
        assert_eq!(shape("a{"), Some(("a".into(), true)));
        assert_eq!(shape(" { "), Some(("".into(), true)));
        assert_eq!(shape("  }"), Some(("}".into(), false)));
        assert_eq!(shape("   "), Some(("".into(), false)));
        assert!(classify(b"   ").is_some_and(|p| p.is_empty()));
    }

    #[test]
    fn lines_for_the_preprocessor() {
        for s in [
            "a # c",
            "a ! c",
            "notify \"/x y\"",
            "a \\# b",
            "a $X",
            "@host a",
            "~SEQ(i, 3) a",
            "include /x",
            "include_check read",
            "a } b",
            "a { b",
            "{ a",
            "} }",
            "a\u{e9}",
            "a\x0bb",
            "a\rb",
            "a\0b",
        ] {
            assert_eq!(shape(s), None, "{s:?}");
        }
    }
}
