//! From one preprocessed line to [`Line`]s: braces split off, then words.
//!
//! keepalived cuts a line at its first `{` or `}` outside `"…"` and reads the rest again as a
//! new line (`line_residue`), so every brace ends up on a line of its own. Here a `{` that
//! follows text stays at the end of that text's line (the parser contract in `mod.rs`); a `}`
//! is always a line of its own.
//!
//! Words are split on `" \t\f\n\r\v"`; a word that *starts* with `"` runs to the next `"` and
//! loses its quotes (keepalived's `alloc_strvec_r`), so `a"b c"` is the two words `a` and `b c`.

use super::linebuf::{is_white, LineBuf};
use super::Lexed;
use crate::diag::Diagnostic;

/// A line cut at its first brace: what to emit now and what to read next.
pub(crate) struct Split {
    /// The text of the line to emit (without a trailing `{`).
    pub line: LineBuf,
    /// Whether the line ends with an (unquoted) `{`, and where that `{` was.
    pub open: Option<crate::source::Loc>,
    /// Text after the brace, to be read as a new line.
    pub residue: Option<LineBuf>,
}

/// Finds the first brace outside quotes, the way keepalived's `read_line` does.
fn first_brace(t: &[u8]) -> Option<usize> {
    match t.first() {
        Some(b'{' | b'}') => return Some(0),
        None => return None,
        _ => {}
    }
    let mut i = 0;
    loop {
        let at = i + t
            .get(i..)?
            .iter()
            .position(|b| matches!(b, b'{' | b'}' | b'"'))?;
        if t.get(at) != Some(&b'"') {
            return Some(at);
        }
        let close = t.get(at + 1..)?.iter().position(|b| *b == b'"')?;
        i = at + close + 2;
    }
}

/// Cuts `line` at its first brace (see the module doc).
pub(crate) fn split_braces(mut line: LineBuf) -> Split {
    let mut open = None;
    let mut residue = None;
    if let Some(p) = first_brace(&line.text) {
        let brace = line.text[p];
        let brace_loc = line.loc_at(p);
        if p == 0 {
            let mut rest = line.split_off(1);
            rest.trim_start_blanks();
            rest.trim_end_blanks();
            if !rest.is_empty() {
                residue = Some(rest);
            }
        } else if brace == b'{' {
            let mut rest = line.split_off(p + 1);
            line.truncate(p);
            open = Some(brace_loc);
            rest.trim_start_blanks();
            rest.trim_end_blanks();
            if !rest.is_empty() {
                residue = Some(rest);
            }
        } else {
            let mut rest = line.split_off(p);
            rest.trim_end_blanks();
            residue = Some(rest);
        }
    }
    line.trim_end_blanks();
    Split {
        line,
        open,
        residue,
    }
}

/// Splits into words and appends the line to `out`; `false` (and nothing appended) if there
/// are no words.
///
/// The line's text is appended once; its words are spans of it (a quoted word is the span
/// inside its quotes). A line that is not valid UTF-8 is appended lossily, and then each word
/// too, since the lossy text no longer lines up with the bytes.
pub(crate) fn to_line(split: &Split, out: &mut Lexed, diags: &mut Vec<Diagnostic>) -> bool {
    let t = &split.line.text;
    let text = std::str::from_utf8(t).ok();
    let mark = out.text_len();
    let lone_open = split.line.is_empty() && split.open.is_some();
    let (raw_start, raw_end) = if lone_open {
        out.push_text("{")
    } else {
        match text {
            Some(text) => out.push_text(text),
            None => out.push_text(&String::from_utf8_lossy(t)),
        }
    };
    out.begin_line(raw_start, raw_end);
    let word = |out: &mut Lexed, start: usize, end: usize, loc, quoted| {
        let (s, e) = match text {
            Some(_) => (raw_start + start, raw_start + end),
            None => out.push_text(&String::from_utf8_lossy(t.get(start..end).unwrap_or(&[]))),
        };
        out.push_word(s, e, loc, quoted);
    };
    let mut words = 0;
    let mut i = 0;
    loop {
        while t.get(i).is_some_and(|b| is_white(*b)) {
            i += 1;
        }
        if i >= t.len() {
            break;
        }
        let loc = split.line.loc_at(i);
        if t[i] == b'"' {
            let Some(len) = t
                .get(i + 1..)
                .and_then(|r| r.iter().position(|b| *b == b'"'))
            else {
                diags.push(
                    Diagnostic::error(
                        Some(loc),
                        format!("Unmatched quote: '{}'", split.line.lossy()),
                    )
                    .with_hint("the rest of the line is ignored"),
                );
                break;
            };
            word(out, i + 1, i + 1 + len, loc, true);
            i += len + 2;
        } else {
            let s = i;
            while t.get(i).is_some_and(|b| !is_white(*b) && *b != b'"') {
                i += 1;
            }
            word(out, s, i, loc, false);
        }
        words += 1;
    }
    if let Some(loc) = split.open {
        let (s, e) = if lone_open {
            (raw_start, raw_end)
        } else {
            out.push_text("{")
        };
        out.push_word(s, e, loc, false);
        words += 1;
    }
    if words == 0 {
        out.drop_line(mark);
        return false;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn parts(s: &str) -> (String, bool, Option<String>) {
        let sp = split_braces(LineBuf::physical(FileId(0), 1, s.as_bytes()));
        (
            sp.line.lossy(),
            sp.open.is_some(),
            sp.residue.map(|r| r.lossy()),
        )
    }

    #[test]
    fn splits_at_the_first_unquoted_brace() {
        assert_eq!(parts("a b {"), ("a b".into(), true, None));
        assert_eq!(parts("a {  c }"), ("a".into(), true, Some("c }".into())));
        assert_eq!(parts("{ c"), ("{".into(), false, Some("c".into())));
        assert_eq!(parts("}"), ("}".into(), false, None));
        assert_eq!(parts("a } b"), ("a".into(), false, Some("} b".into())));
        assert_eq!(parts("a \"{\" b"), ("a \"{\" b".into(), false, None));
        assert_eq!(parts("a \"x\" {"), ("a \"x\"".into(), true, None));
        // An unterminated quote hides the rest of the line from the brace search.
        assert_eq!(parts("a \"x {"), ("a \"x {".into(), false, None));
    }

    fn toks(s: &str) -> (Vec<(String, bool)>, usize) {
        let sp = split_braces(LineBuf::physical(FileId(0), 1, s.as_bytes()));
        let mut d = Vec::new();
        let mut out = Lexed::default();
        to_line(&sp, &mut out, &mut d);
        let tokens = out.tokens();
        let lines = out.lines(&tokens);
        (
            lines
                .first()
                .map(|l| {
                    l.tokens
                        .iter()
                        .map(|t| (t.text.to_string(), t.quoted))
                        .collect()
                })
                .unwrap_or_default(),
            d.len(),
        )
    }

    #[test]
    fn invalid_utf8_words_are_lossy() {
        let sp = split_braces(LineBuf::physical(FileId(0), 1, b"a\xff b \"c\xfe\" {"));
        let mut out = Lexed::default();
        assert!(to_line(&sp, &mut out, &mut Vec::new()));
        let tokens = out.tokens();
        let lines = out.lines(&tokens);
        let words: Vec<&str> = lines[0].tokens.iter().map(|t| t.text).collect();
        assert_eq!(words, ["a\u{fffd}", "b", "c\u{fffd}", "{"]);
        assert_eq!(lines[0].raw, "a\u{fffd} b \"c\u{fffd}\"");
        // A line without words leaves nothing behind.
        let sp = split_braces(LineBuf::physical(FileId(0), 1, b"  "));
        assert!(!to_line(&sp, &mut out, &mut Vec::new()));
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn words_and_quotes() {
        let (t, _) = toks("a\t b\x0cc");
        assert_eq!(
            t.iter().map(|x| x.0.as_str()).collect::<Vec<_>>(),
            ["a", "b", "c"]
        );
        let (t, _) = toks("a\"b c\"d");
        assert_eq!(
            t,
            [
                ("a".into(), false),
                ("b c".into(), true),
                ("d".into(), false)
            ]
        );
        let (t, _) = toks("x \"\"");
        assert_eq!(t[1], ("".into(), true));
        let (t, d) = toks("x \"abc");
        assert_eq!((t.len(), d), (1, 1));
        let (t, _) = toks("k \"{\"");
        assert_eq!(t[1], ("{".into(), true));
    }
}
