//! From configuration files to logical lines of tokens.
//!
//! Contract with the parser (do not change without changing `parse`):
//! * every [`Line`] has at least one token;
//! * an unquoted `{` only ever appears as the **last** token of a line, or as a line of its own;
//! * an unquoted `}` only ever appears as a line of its own;
//! * comments, conditionals, definitions, includes and generators are already resolved;
//! * every token knows its file, line and column in the original text.

use crate::diag::Diagnostic;
use crate::source::{FileId, Loc, SourceMap};
use std::path::Path;

/// One word of a configuration line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    /// The word, with surrounding quotes removed.
    pub text: String,
    /// Where the word starts in the original file.
    pub loc: Loc,
    /// Whether the word was quoted (a quoted `"{"` is not a brace).
    pub quoted: bool,
}

impl Token {
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The words; never empty.
    pub tokens: Vec<Token>,
    /// The text of the line from the keyword to the end, after comment removal and
    /// substitution, quotes kept: script keywords re-split it with shell-like rules.
    pub raw: String,
}

impl Line {
    /// The first word.
    pub fn keyword(&self) -> &str {
        self.tokens.first().map(|t| t.text.as_str()).unwrap_or("")
    }

    /// Where the line starts.
    pub fn loc(&self) -> Loc {
        self.tokens
            .first()
            .map(|t| t.loc)
            .unwrap_or(Loc::new(FileId(0), 0, 0))
    }

    /// The arguments after the keyword, without a trailing `{`.
    pub fn args(&self) -> &[Token] {
        let end = if self.opens_block() {
            self.tokens.len() - 1
        } else {
            self.tokens.len()
        };
        self.tokens.get(1..end).unwrap_or(&[])
    }

    /// Whether the line ends with `{` (or is just `{`).
    pub fn opens_block(&self) -> bool {
        self.tokens.last().is_some_and(Token::is_open)
    }

    /// Whether the line is a lone `{`.
    pub fn is_open(&self) -> bool {
        self.tokens.len() == 1 && self.tokens[0].is_open()
    }

    /// Whether the line is a lone `}`.
    pub fn is_close(&self) -> bool {
        self.tokens.len() == 1 && self.tokens[0].is_close()
    }
}

/// Settings that change how files are preprocessed.
#[derive(Debug, Clone, Default)]
pub struct PreprocessOptions {
    /// The config id for `@id` / `@^id` lines (`-i`, default: host name up to the first dot).
    pub config_id: String,
}

/// Reads `path` (and everything it includes) into logical lines.
///
/// Problems (unreadable files, include loops, bad definitions) are pushed to `diags`;
/// this never fails as a whole so that every problem in a config can be reported at once.
pub fn read_config(
    path: &Path,
    opts: &PreprocessOptions,
    sources: &mut SourceMap,
    diags: &mut Vec<Diagnostic>,
) -> Vec<Line> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8_lossy(&bytes).into_owned();
            lex_str(path, text, opts, sources, diags)
        }
        Err(e) => {
            diags.push(
                Diagnostic::error(None, format!("cannot read {}: {e}", path.display()))
                    .with_class(crate::diag::ConfigClass::FileNotFound),
            );
            Vec::new()
        }
    }
}

/// Lexes configuration text that has already been read, named `path` in diagnostics.
pub fn lex_str(
    path: &Path,
    text: String,
    _opts: &PreprocessOptions,
    sources: &mut SourceMap,
    _diags: &mut Vec<Diagnostic>,
) -> Vec<Line> {
    let file = sources.add(path, text.clone());
    let mut out = Vec::new();
    for (idx, raw_line) in text.split('\n').enumerate() {
        let line_no = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        let tokens = split_tokens(file, line_no, raw_line);
        push_split_at_braces(tokens, &mut out);
    }
    out
}

/// Splits one physical line into tokens, dropping `!`/`#` comments outside quotes.
fn split_tokens(file: FileId, line_no: u32, text: &str) -> Vec<Token> {
    let mut tokens = Vec::new();
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
            continue;
        }
        if c == '!' || c == '#' {
            break;
        }
        let col = u32::try_from(i + 1).unwrap_or(u32::MAX);
        let loc = Loc::new(file, line_no, col);
        if c == '"' {
            let start = i + 1;
            let mut j = start;
            while j < chars.len() && chars[j] != '"' {
                j += 1;
            }
            tokens.push(Token {
                text: chars[start..j].iter().collect(),
                loc,
                quoted: true,
            });
            i = j + 1;
            continue;
        }
        if c == '{' || c == '}' {
            tokens.push(Token {
                text: c.to_string(),
                loc,
                quoted: false,
            });
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len()
            && !chars[i].is_whitespace()
            && !matches!(chars[i], '{' | '}' | '!' | '#' | '"')
        {
            i += 1;
        }
        tokens.push(Token {
            text: chars[start..i].iter().collect(),
            loc,
            quoted: false,
        });
    }
    tokens
}

/// Cuts a token list into lines that follow the brace contract of this module.
fn push_split_at_braces(tokens: Vec<Token>, out: &mut Vec<Line>) {
    let mut current: Vec<Token> = Vec::new();
    for tok in tokens {
        if tok.is_open() {
            current.push(tok);
            flush(&mut current, out);
        } else if tok.is_close() {
            flush(&mut current, out);
            current.push(tok);
            flush(&mut current, out);
        } else {
            current.push(tok);
        }
    }
    flush(&mut current, out);
}

fn flush(current: &mut Vec<Token>, out: &mut Vec<Line>) {
    if current.is_empty() {
        return;
    }
    let tokens = std::mem::take(current);
    let raw = tokens
        .iter()
        .map(|t| {
            if t.quoted {
                format!("\"{}\"", t.text)
            } else {
                t.text.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(" ");
    out.push(Line { tokens, raw });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex(text: &str) -> Vec<Line> {
        let mut sm = SourceMap::new();
        let mut d = Vec::new();
        lex_str(
            Path::new("t.conf"),
            text.to_string(),
            &PreprocessOptions::default(),
            &mut sm,
            &mut d,
        )
    }

    fn words(lines: &[Line]) -> Vec<Vec<&str>> {
        lines
            .iter()
            .map(|l| l.tokens.iter().map(|t| t.text.as_str()).collect())
            .collect()
    }

    #[test]
    fn braces_follow_the_contract() {
        let lines = lex("vrrp_instance VI_1 { state MASTER\n virtual_ipaddress { 10.0.0.1 } }\n");
        assert_eq!(
            words(&lines),
            vec![
                vec!["vrrp_instance", "VI_1", "{"],
                vec!["state", "MASTER"],
                vec!["virtual_ipaddress", "{"],
                vec!["10.0.0.1"],
                vec!["}"],
                vec!["}"],
            ]
        );
        assert_eq!(lines[1].loc().col, 22);
    }

    #[test]
    fn comments_and_quotes() {
        let lines = lex("script \"/bin/x -a # not a comment\" # comment\n! whole line\n");
        assert_eq!(words(&lines), vec![vec!["script", "/bin/x -a # not a comment"]]);
        assert!(lines[0].tokens[1].quoted);
    }
}
