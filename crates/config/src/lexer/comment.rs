//! Comment removal, as keepalived's `decomment()` does it.
//!
//! `!` and `#` start a comment anywhere outside `"…"`; outside quotes `\!` and `\#` stand
//! for the characters themselves. A `\` at the very end of the line is kept (it continues a
//! multi-line definition), with the blanks before it removed. Leading and trailing blanks go.
//! keepalived runs this again after every substitution, which is why `${_HASH}` outside quotes
//! comments out the rest of a line.

use super::linebuf::{is_blank, LineBuf};
use crate::diag::Diagnostic;

/// Strips comments and blanks from `line` in place; reports an unterminated `"`.
pub(crate) fn decomment(line: &mut LineBuf, diags: &mut Vec<Diagnostic>) {
    line.trim_start_blanks();
    // Most lines have none of the four bytes the scan below acts on: only blanks to trim.
    // (`fold`, not `any`: a loop without an early exit is one the compiler can vectorise.)
    if !line.text.iter().fold(false, |seen, b| {
        seen | matches!(b, b'"' | b'\\' | b'!' | b'#')
    }) {
        line.trim_end_blanks();
        return;
    }
    let mut quote = false;
    let mut comment_at: Option<usize> = None;
    let mut continuation = None;
    let mut i = 0;
    while i < line.len() {
        let b = line.text[i];
        match b {
            b'"' => {
                if comment_at.is_none() {
                    quote = !quote;
                }
                i += 1;
            }
            b'\\' => {
                if i + 1 < line.len() {
                    let next = line.text[i + 1];
                    if !quote && (next == b'#' || next == b'!') {
                        line.remove(i);
                        i += 1;
                    } else {
                        i += 2;
                    }
                } else {
                    continuation = Some(line.loc_at(i));
                    line.truncate(i);
                    break;
                }
            }
            b'!' | b'#' => {
                if !quote && comment_at.is_none() {
                    comment_at = Some(i);
                }
                i += 1;
            }
            _ => i += 1,
        }
    }
    if quote {
        diags.push(
            Diagnostic::error(
                Some(line.loc_at(0)),
                format!("Unterminated quote '{}'", line.lossy()),
            )
            .with_hint("close the string with a '\"'"),
        );
    }
    if let Some(at) = comment_at {
        line.truncate(at);
    }
    line.trim_end_blanks();
    if let Some(loc) = continuation {
        line.push(b'\\', loc);
    }
}

/// Whether `text` ends with a `\` continuation (as [`decomment`] leaves it).
pub(crate) fn has_continuation(text: &[u8]) -> bool {
    text.last() == Some(&b'\\')
}

/// Trailing blanks before a final `\`, and the `\`, removed; `true` if there was one.
pub(crate) fn strip_continuation(line: &mut LineBuf) -> bool {
    if !has_continuation(&line.text) {
        return false;
    }
    line.truncate(line.len() - 1);
    while line.text.last().is_some_and(|b| is_blank(*b)) {
        line.truncate(line.len() - 1);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn dc(s: &str) -> (String, usize) {
        let mut l = LineBuf::physical(FileId(0), 1, s.as_bytes());
        let mut d = Vec::new();
        decomment(&mut l, &mut d);
        (l.lossy(), d.len())
    }

    #[test]
    fn comments_anywhere_outside_quotes() {
        assert_eq!(dc("  a b # c"), ("a b".into(), 0));
        assert_eq!(dc("a!b"), ("a".into(), 0));
        assert_eq!(dc("! all"), ("".into(), 0));
        assert_eq!(dc("x \"a # b\" # c"), ("x \"a # b\"".into(), 0));
    }

    #[test]
    fn escapes_and_continuation() {
        assert_eq!(dc("a\\#b \\!c"), ("a#b !c".into(), 0));
        // Inside quotes the escape is kept as written.
        assert_eq!(dc("\"a\\#b\""), ("\"a\\#b\"".into(), 0));
        assert_eq!(dc("x y   \\"), ("x y\\".into(), 0));
        assert_eq!(dc("x # c \\"), ("x\\".into(), 0));
        assert_eq!(dc("a\\tb"), ("a\\tb".into(), 0));
    }

    #[test]
    fn unterminated_quote_is_reported() {
        assert_eq!(dc("a \"b # c"), ("a \"b # c".into(), 1));
    }

    #[test]
    fn escaped_hash_keeps_its_column() {
        let mut l = LineBuf::physical(FileId(0), 1, b"ab\\#c");
        decomment(&mut l, &mut Vec::new());
        assert_eq!(l.text, b"ab#c");
        assert_eq!(l.loc_at(3).col, 5);
    }
}
