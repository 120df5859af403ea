//! From configuration files to logical lines of tokens: keepalived 2.2's preprocessor and
//! tokenizer (`lib/parser.c`: `read_line`, `decomment`, `alloc_strvec_r`).
//!
//! Contract with the parser (do not change without changing `parse`):
//! * every [`Line`] has at least one token;
//! * an unquoted `{` only ever appears as the **last** token of a line, or as a line of its own;
//! * an unquoted `}` only ever appears as a line of its own;
//! * comments, conditionals, definitions, includes and generators are already resolved;
//! * every token knows its file, line and column in the original text (text produced by a
//!   substitution is located at the `$NAME` use, lines of a multi-line definition at its use,
//!   lines produced by `~SEQ`/`~LST` at the generator line);
//! * [`Line::raw`] is the line's text after preprocessing, quotes kept, without the trailing
//!   `{` (for script-type keywords, which re-split it with shell-like rules);
//! * brace *matching* is the parser's job: the lexer never reports "Extra '}' found" or
//!   "missing '}'"; `include_check` lines are applied here and passed on like any other.
//!
//! What is handled, as keepalived.conf(5) and keepalived 2.2.7 do it (see the submodules):
//! * `comment`: `!`/`#` comments anywhere outside `"…"`, `\!`/`\#` escapes, CR/LF, blanks;
//! * `tokenize`: `{`/`}` anywhere on a line (the text after a brace is read as a new line),
//!   quoted words;
//! * `include`: `include GLOB` with `{a,b}` alternatives, paths relative to the including
//!   file, `includer/m/w/b/a` and `include_check`; loops are detected and reported;
//! * conditional lines `@id …` / `@^id …` ([`PreprocessOptions::config_id`]);
//! * `define`: `$NAME=value` (also multi-line, ending lines with `\`), `$NAME`, `${NAME}`,
//!   `${_PWD}`, `${_INSTANCE}`, `${_RANDOM [MIN [MAX]]}`, `${_HASH}`, `${_BANG}`;
//! * `generator`: `~SEQ(var, [start,] [step,] end)`, `~SEQx(…)`, `~LST(…)`, nested.
//!
//! Order of processing for each line (keepalived 2.2.7's, checked against the binary):
//! comments are removed when a line is read; then conditionals, definitions, generators and
//! substitution (repeated while needed, with comment removal after each substitution, which is
//! why `${_HASH}` outside quotes starts a comment); then `include`; then braces are split off.
//! So `@id include x` and `include ${_PWD}/x` do include files.
//!
//! Where this differs from keepalived 2.2.7 (on purpose):
//! * a definition that expands to itself (`$IF=$IF`, or a multi-line definition one of whose
//!   lines uses it again, directly or through others) is an error at its use and is no longer
//!   substituted (keepalived hangs, or repeats the lines until it runs out of memory); an
//!   include that loops is skipped with an error (keepalived recurses until it runs out of file
//!   descriptors); includes nest at most 64 deep;
//! * the total expansion is bounded ([`Limits`]), and so is the size of a file read;
//! * a physical line over 1022 characters, or with a NUL, is ignored with a warning (as later
//!   keepalived versions do; 2.2.7 silently cuts such a line into 1023-byte pieces);
//! * lines are numbered from 1 even when the last line has no newline (keepalived reports the
//!   number of the line before);
//! * `include_check` is applied wherever the line appears (keepalived only inside
//!   `global_defs`, where the parser reports it otherwise);
//! * relative paths are resolved against the including file's directory without `chdir()`;
//!   `${_PWD}` is that directory, canonicalised as `getcwd()` would show it;
//! * glob patterns: `*`, `?`, `[...]` and `{a,b}` as glibc, but `\` escapes only in literal
//!   path components; the main file name itself is not globbed.

mod comment;
mod define;
mod engine;
mod generator;
mod include;
mod linebuf;
mod plain;
mod tokenize;

use crate::diag::{Diagnostic, DiagnosticLimit};
use crate::source::{FileId, Loc, SourceMap};
use std::path::Path;

/// One word of a configuration line, borrowed from the text of a [`Lexed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token<'a> {
    /// The word, with surrounding quotes removed.
    pub text: &'a str,
    /// Where the word starts in the original file.
    pub loc: Loc,
    /// Whether the word was quoted (a quoted `"{"` is not a brace).
    pub quoted: bool,
}

impl Token<'_> {
    /// Whether this token is a block-opening brace.
    pub fn is_open(&self) -> bool {
        !self.quoted && self.text == "{"
    }

    /// Whether this token is a block-closing brace.
    pub fn is_close(&self) -> bool {
        !self.quoted && self.text == "}"
    }
}

/// One logical configuration line: a keyword and its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The words; never empty.
    pub tokens: &'a [Token<'a>],
    /// The text of the line from the keyword to the end, after comment removal and
    /// substitution, quotes kept: script keywords re-split it with shell-like rules.
    pub raw: &'a str,
}

impl<'a> Line<'a> {
    /// The first word.
    pub fn keyword(&self) -> &'a str {
        self.tokens.first().map(|t| t.text).unwrap_or("")
    }

    /// Where the line starts.
    pub fn loc(&self) -> Loc {
        self.tokens
            .first()
            .map(|t| t.loc)
            .unwrap_or(Loc::new(FileId(0), 0, 0))
    }

    /// The arguments after the keyword, without a trailing `{`.
    pub fn args(&self) -> &'a [Token<'a>] {
        let tokens = self.tokens;
        let end = if self.opens_block() {
            tokens.len() - 1
        } else {
            tokens.len()
        };
        tokens.get(1..end).unwrap_or(&[])
    }

    /// Whether the line ends with `{` (or is just `{`).
    pub fn opens_block(&self) -> bool {
        self.tokens.last().is_some_and(Token::is_open)
    }

    /// Whether the line is a lone `{`.
    pub fn is_open(&self) -> bool {
        matches!(self.tokens, [t] if t.is_open())
    }

    /// Whether the line is a lone `}`.
    pub fn is_close(&self) -> bool {
        matches!(self.tokens, [t] if t.is_close())
    }
}

/// What the lexer read: the text of every logical line in one buffer, and every word as a
/// span of it. Reading a large configuration allocates nothing per line or per word; the
/// parser borrows [`Line`]s and [`Token`]s from here:
///
/// ```
/// # use keepalived_config::{lexer::{lex_str, PreprocessOptions}, SourceMap};
/// # use std::path::Path;
/// let lexed = lex_str(Path::new("k.conf"), "a b {\n}\n".into(),
///     &PreprocessOptions::default(), &mut SourceMap::new(), &mut Vec::new());
/// let tokens = lexed.tokens();
/// let lines = lexed.lines(&tokens);
/// assert_eq!(lines[0].args()[0].text, "b");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lexed {
    /// The text of all lines and words, one after the other.
    text: String,
    words: Vec<Word>,
    lines: Vec<LineSpan>,
}

/// A word: a span of the text of a [`Lexed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Word {
    start: usize,
    end: usize,
    loc: Loc,
    quoted: bool,
}

/// A line: its raw text and its words, as spans of the text and the words of a [`Lexed`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct LineSpan {
    raw_start: usize,
    raw_end: usize,
    words_start: usize,
    words_end: usize,
}

impl Lexed {
    /// Number of lines.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether no line was read.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Every word of every line, in order (pass them to [`Lexed::lines`]).
    pub fn tokens(&self) -> Vec<Token<'_>> {
        self.words
            .iter()
            .map(|w| Token {
                text: self.text.get(w.start..w.end).unwrap_or(""),
                loc: w.loc,
                quoted: w.quoted,
            })
            .collect()
    }

    /// The lines, their words taken from `tokens` (what [`Lexed::tokens`] returned).
    pub fn lines<'a>(&'a self, tokens: &'a [Token<'a>]) -> Vec<Line<'a>> {
        self.lines
            .iter()
            .map(|l| Line {
                tokens: tokens.get(l.words_start..l.words_end).unwrap_or(&[]),
                raw: self.text.get(l.raw_start..l.raw_end).unwrap_or(""),
            })
            .collect()
    }

    /// Room for the lines of `len` bytes of configuration text, estimated from typical
    /// configurations (one word per 10 bytes, one line per 17): growing these lists one by one
    /// would copy a large configuration's words a dozen times.
    fn with_capacity_for(len: usize) -> Self {
        Self {
            text: String::with_capacity(len),
            words: Vec::with_capacity(len / 8),
            lines: Vec::with_capacity(len / 14),
        }
    }

    /// Takes the lexer's output apart for the parser: the text, and the word and line lists
    /// that [`Spans::tokens`] and [`LineSpans::lines`] turn into [`Token`]s and [`Line`]s
    /// borrowing that text. Unlike [`Lexed::tokens`] and [`Lexed::lines`], which copy, those
    /// reuse the lists' memory in place (a [`Word`] and a [`Token`], a [`LineSpan`] and a
    /// [`Line`] have the same size), so a large configuration's words are held once, not twice.
    pub(crate) fn into_parts(self) -> (String, Spans) {
        (
            self.text,
            Spans {
                words: self.words,
                lines: self.lines,
            },
        )
    }

    /// Length of the text so far (to undo a line with [`Lexed::drop_line`]).
    fn text_len(&self) -> usize {
        self.text.len()
    }

    /// Appends text; returns its span.
    fn push_text(&mut self, text: &str) -> (usize, usize) {
        let start = self.text.len();
        self.text.push_str(text);
        (start, self.text.len())
    }

    /// Starts a line whose raw text is `raw_start..raw_end`; words follow with [`Lexed::push_word`].
    fn begin_line(&mut self, raw_start: usize, raw_end: usize) {
        let at = self.words.len();
        self.lines.push(LineSpan {
            raw_start,
            raw_end,
            words_start: at,
            words_end: at,
        });
    }

    /// Adds a word (a span of the text) to the line begun last.
    fn push_word(&mut self, start: usize, end: usize, loc: Loc, quoted: bool) {
        self.words.push(Word {
            start,
            end,
            loc,
            quoted,
        });
        if let Some(line) = self.lines.last_mut() {
            line.words_end = self.words.len();
        }
    }

    /// Drops the line begun last (it had no words), with the text added since `text_len`.
    fn drop_line(&mut self, text_len: usize) {
        self.lines.pop();
        self.text.truncate(text_len);
    }

    /// The words of the line begun last, with their text.
    fn last_line_words(&self) -> impl Iterator<Item = (&str, Loc, bool)> + '_ {
        let span = self
            .lines
            .last()
            .map_or(0..0, |l| l.words_start..l.words_end);
        self.words
            .get(span)
            .unwrap_or(&[])
            .iter()
            .map(|w| (self.text.get(w.start..w.end).unwrap_or(""), w.loc, w.quoted))
    }
}

/// The word and line lists of a [`Lexed`] whose text was taken out ([`Lexed::into_parts`]).
#[derive(Debug)]
pub(crate) struct Spans {
    words: Vec<Word>,
    lines: Vec<LineSpan>,
}

impl Spans {
    /// Every word as a [`Token`] of `text` (the text [`Lexed::into_parts`] returned with
    /// these lists), in the memory of the word list; the lines follow with
    /// [`LineSpans::lines`].
    pub(crate) fn tokens(self, text: &str) -> (Vec<Token<'_>>, LineSpans) {
        // `into_iter().map().collect()` from a Vec into a Vec of a type of the same size
        // and alignment writes in place instead of allocating a second list.
        let tokens = self
            .words
            .into_iter()
            .map(|w| Token {
                text: text.get(w.start..w.end).unwrap_or(""),
                loc: w.loc,
                quoted: w.quoted,
            })
            .collect();
        (tokens, LineSpans(self.lines))
    }
}

/// The line list of a [`Lexed`], waiting for its [`Token`]s ([`Spans::tokens`]).
#[derive(Debug)]
pub(crate) struct LineSpans(Vec<LineSpan>);

impl LineSpans {
    /// Every line, its words taken from `tokens` and its raw text from `text`, in the memory
    /// of the line list.
    pub(crate) fn lines<'a>(self, text: &'a str, tokens: &'a [Token<'a>]) -> Vec<Line<'a>> {
        self.0
            .into_iter()
            .map(|l| Line {
                tokens: tokens.get(l.words_start..l.words_end).unwrap_or(&[]),
                raw: text.get(l.raw_start..l.raw_end).unwrap_or(""),
            })
            .collect()
    }
}

/// Settings that change how files are preprocessed.
#[derive(Debug, Clone, Default)]
pub struct PreprocessOptions {
    /// The config id for `@id` / `@^id` lines and `${_INSTANCE}` (`-i`, default: host name up
    /// to the first dot).
    pub config_id: String,
    /// `-e`: every include is checked as `includea` (missing files are errors).
    pub include_check_all: bool,
    /// Seed for `${_RANDOM}`; the time when `None` (keepalived seeds with the time too).
    pub random_seed: Option<u64>,
    /// Bounds on how much a configuration may expand to.
    pub limits: Limits,
}

/// Bounds on preprocessing, so that a hostile `~SEQ` or definition cannot exhaust memory.
///
/// keepalived's own limits are its 1024-byte line buffer; these bound the whole expansion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Logical lines read or generated, in total.
    pub max_lines: u64,
    /// Bytes of logical lines read or generated, in total.
    pub max_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        // keepalived's man page example of 65,024 generated vrrp_instances is ~1M lines
        // (~30 MB); twice that still keeps the token vectors within a few hundred MB.
        Self {
            max_lines: 2_000_000,
            max_bytes: 64 << 20,
        }
    }
}

/// Reads `path` (and everything it includes) into logical lines.
///
/// Problems (unreadable files, include loops, bad definitions) are pushed to `diags`;
/// this never fails as a whole so that every problem in a config can be reported at once.
/// Repeated problems are limited as [`DiagnosticLimit`] says.
pub fn read_config(
    path: &Path,
    opts: &PreprocessOptions,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Lexed {
    summarised(diags, |diags, limit| {
        read_config_limited(path, opts, sources, diags, limit)
    })
}

/// Runs a lexer with a new [`DiagnosticLimit`], then adds its summaries to `diags`.
fn summarised(
    diags: &mut Vec<Diagnostic>,
    lex: impl FnOnce(&mut Vec<Diagnostic>, &mut DiagnosticLimit) -> Lexed,
) -> Lexed {
    let mut limit = DiagnosticLimit::new();
    let lexed = lex(diags, &mut limit);
    diags.extend(limit.summaries());
    lexed
}

/// [`read_config`], counting diagnostics in `limit` (which the parser goes on with); the
/// caller adds the summaries of what was left out.
pub(crate) fn read_config_limited(
    path: &Path,
    opts: &PreprocessOptions,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
    limit: &mut DiagnosticLimit,
) -> Lexed {
    match read_limited(path, opts.limits.max_bytes) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes)
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            lex_str_limited(path, text, opts, sources, diags, limit)
        }
        Err(e) => {
            let d = Diagnostic::error(
                None,
                format!("Unable to read configuration file {}: {e}", path.display()),
            )
            .with_class(crate::diag::ConfigClass::FileNotFound);
            if limit.admit(&d) {
                diags.push(d);
            }
            Lexed::default()
        }
    }
}

/// Reads a whole file, refusing one larger than `max` bytes (`/proc/kcore` is a "regular file").
pub(crate) fn read_limited(path: &Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let file = std::fs::File::open(path)?;
    // Sized once from the file's length (bounded by `max`) instead of doubling while reading:
    // a large configuration is then read into one buffer without copies.
    let size = file.metadata().map_or(0, |m| m.len()).min(max);
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0).saturating_add(1));
    file.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > max {
        return Err(std::io::Error::other(format!("larger than {max} bytes")));
    }
    Ok(bytes)
}

/// Lexes configuration text that has already been read, named `path` in diagnostics.
///
/// Relative includes and `${_PWD}` are resolved against the directory of `path`.
pub fn lex_str(
    path: &Path,
    text: String,
    opts: &PreprocessOptions,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Lexed {
    summarised(diags, |diags, limit| {
        lex_str_limited(path, text, opts, sources, diags, limit)
    })
}

/// [`lex_str`], counting diagnostics in `limit` (see [`read_config_limited`]).
pub(crate) fn lex_str_limited(
    path: &Path,
    text: String,
    opts: &PreprocessOptions,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
    limit: &mut DiagnosticLimit,
) -> Lexed {
    let mut engine = engine::Engine::new(opts, sources, diags, limit);
    engine.start(path, text);
    engine.run()
}

#[cfg(test)]
thread_local! {
    /// Set by tests to send every line the long way, to compare with the short way.
    static LONG_WAY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Whether plain lines take the short way ([`plain`]); always, except in tests that compare.
fn plain_lines_allowed() -> bool {
    #[cfg(test)]
    return !LONG_WAY.with(std::cell::Cell::get);
    #[cfg(not(test))]
    true
}

#[cfg(test)]
mod tests;
