//! The table-driven block walker and the value parsers every block uses.
//!
//! Parsing happens in two steps:
//! 1. [`build_tree`] turns the lexer's [`Line`]s into a tree of [`Node`]s: a line ending in
//!    `{` (or followed by a lone `{` line) owns the lines up to its matching `}`. Brace
//!    mismatches are reported like keepalived does ("There are N missing '}'s or extra
//!    '{'s", "Extra '}' found").
//! 2. [`walk`] goes through the nodes of one block with that block's keyword table: each
//!    keyword maps to a tiny handler that fills one field of the block's model value.
//!    Unknown keywords get "unknown keyword 'X'" (keepalived: "Unknown keyword"; class `General`)
//!    with a did-you-mean hint from the table; a block under an unknown
//!    keyword is skipped whole.
//!
//! # Adding a block
//! ```ignore
//! use crate::parse::framework::{block, kw, walk, Ctx, Keyword, Node};
//!
//! // 1. the table: keyword -> handler, `kw` for value keywords, `block` for `{ }` ones.
//! const REAL_SERVER: &[Keyword<RealServer>] = &[
//!     kw("weight", |c, rs, n| rs.weight = c.int_arg(n, 0, -2147483648, 2147483647).unwrap_or(1)),
//!     kw("inhibit_on_failure", |c, rs, n| rs.inhibit = c.flag(n)),
//!     block("TCP_CHECK", |c, rs, n| {
//!         let mut chk = TcpCheck::default();
//!         walk(c, &mut chk, n.children(), TCP_CHECK);
//!         rs.checkers.push(Checker::Tcp(chk));
//!     }),
//! ];
//!
//! // 2. the entry point, called for the keyword line that opens the block:
//! pub fn real_server(c: &mut Ctx, vs: &mut VirtualServer, n: &Node) {
//!     let mut rs = RealServer::default();
//!     // header arguments: n.line.args()
//!     walk(c, &mut rs, n.children(), REAL_SERVER);
//!     vs.real_servers.push(rs);
//! }
//! ```
//! Handlers are plain `fn` pointers (non-capturing closures coerce to them). Value parsers
//! on [`Ctx`] report keepalived's messages and return `None` on a bad value, so a handler
//! usually is one line: `if let Some(v) = c.u32_arg(n, 0, 1, 255) { x.field = v }`.
//! Handlers must never panic: use the `*_arg` helpers, which report a missing parameter.

use crate::diag::{ConfigClass, Diagnostic, DiagnosticLimit};
use crate::lexer::{Line, Token};
use crate::source::Loc;
use std::net::IpAddr;
use std::time::Duration;

/// One keyword line and, if it opened one, its block.
#[derive(Debug, Clone)]
pub struct Node<'a> {
    /// The keyword line (a trailing `{` is still among its tokens; use [`Line::args`]).
    pub line: Line<'a>,
    /// The lines of the block this line opened, if any (allocated to size: a large
    /// configuration has a block per few lines).
    pub block: Option<Box<[Node<'a>]>>,
}

impl<'a> Node<'a> {
    /// The keyword.
    pub fn keyword(&self) -> &'a str {
        self.line.keyword()
    }

    /// Where the keyword is.
    pub fn loc(&self) -> Loc {
        self.line.loc()
    }

    /// The arguments after the keyword (without a trailing `{`).
    pub fn args(&self) -> &'a [Token<'a>] {
        self.line.args()
    }

    /// Argument `i` (0 = first word after the keyword), if present.
    pub fn arg(&self, i: usize) -> Option<&'a Token<'a>> {
        self.args().get(i)
    }

    /// The block's nodes (empty when the line opened no block).
    pub fn children(&self) -> &[Node<'a>] {
        self.block.as_deref().unwrap_or(&[])
    }

    /// The line's text after the keyword, quotes kept (for script-type values).
    pub fn rest_raw(&self) -> &'a str {
        let raw = self.line.raw.trim_start();
        let kw = self.keyword();
        // The raw text starts with the keyword unless it was quoted.
        let rest = raw.strip_prefix(kw).unwrap_or_else(|| {
            // Quoted keyword: skip the first whitespace-separated run.
            raw.split_once(char::is_whitespace).map_or("", |(_, r)| r)
        });
        let rest = rest.trim();
        if self.line.opens_block() {
            rest.strip_suffix('{').map_or(rest, str::trim_end)
        } else {
            rest
        }
    }
}

/// What a keyword expects after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// Only arguments; a `{` block after it is unexpected.
    Value,
    /// A `{ }` block is required.
    Block,
    /// Arguments, optionally followed by a block (e.g. `virtual_ipaddress` lines with or
    /// without a block are both accepted).
    Either,
}

/// A handler: fills the block's model value `T` from one keyword node.
pub type Handler<T> = fn(&mut Ctx, &mut T, &Node<'_>);

/// One entry of a block's keyword table.
pub struct Keyword<T> {
    /// The keyword as written in the config.
    pub name: &'static str,
    /// Whether it takes a block.
    pub body: Body,
    /// What to do with it.
    pub handler: Handler<T>,
}

impl<T> std::fmt::Debug for Keyword<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keyword")
            .field("name", &self.name)
            .field("body", &self.body)
            .finish()
    }
}

/// A keyword that takes only arguments.
pub const fn kw<T>(name: &'static str, handler: Handler<T>) -> Keyword<T> {
    Keyword {
        name,
        body: Body::Value,
        handler,
    }
}

/// A keyword that opens a `{ }` block.
pub const fn block<T>(name: &'static str, handler: Handler<T>) -> Keyword<T> {
    Keyword {
        name,
        body: Body::Block,
        handler,
    }
}

/// A keyword that may or may not open a block.
pub const fn either<T>(name: &'static str, handler: Handler<T>) -> Keyword<T> {
    Keyword {
        name,
        body: Body::Either,
        handler,
    }
}

/// Parsing state shared by all handlers: the diagnostics found so far, and the names of
/// the blocks defined so far (for duplicate checks in constant time).
#[derive(Debug, Default)]
pub struct Ctx {
    /// Everything reported so far, in order (within [`Ctx::limit`]).
    pub diags: Vec<Diagnostic>,
    /// How many diagnostics are kept; the rest are only counted.
    pub limit: DiagnosticLimit,
    /// Names defined so far, per kind of block (see [`Ctx::define`]).
    names: rustc_hash::FxHashMap<&'static str, rustc_hash::FxHashSet<String>>,
}

/// Builds the block tree from logical lines, reporting brace mismatches.
pub fn build_tree<'a>(lines: Vec<Line<'a>>, ctx: &mut Ctx) -> Vec<Node<'a>> {
    let mut tree = Tree::default();
    for line in lines {
        if line.is_close() {
            if !tree.close() {
                ctx.push(
                    Diagnostic::warning(Some(line.loc()), "Extra '}' found")
                        .with_hint("remove it, or add the '{' it should match"),
                );
            }
            continue;
        }
        if line.is_open() {
            let siblings = tree.current();
            match siblings.pop() {
                // A lone `{` opens the block of the line before it.
                Some(prev) if prev.block.is_none() && !prev.line.is_open() => tree.open(prev),
                other => {
                    if let Some(prev) = other {
                        siblings.push(prev);
                    }
                    // Nothing to attach it to: keep it as an anonymous block, which the
                    // walker reports as unexpected.
                    tree.open(Node { line, block: None });
                }
            }
            continue;
        }
        let node = Node { line, block: None };
        if node.line.opens_block() {
            tree.open(node);
        } else {
            tree.current().push(node);
        }
    }
    let missing = tree.open.len();
    if missing > 0 {
        let loc = tree.open.last().map(|(n, _)| n.loc());
        ctx.push(
            Diagnostic::warning(
                loc,
                format!("There are {missing} missing '}}'s or extra '{{'s"),
            )
            .with_hint("this block (or one it is in) is never closed"),
        );
    }
    while tree.close() {}
    tree.top
}

/// The tree being built: the top level, the blocks still open (each with the children
/// collected so far), and emptied child lists to collect the next blocks' children in.
#[derive(Default)]
struct Tree<'a> {
    top: Vec<Node<'a>>,
    open: Vec<(Node<'a>, Vec<Node<'a>>)>,
    spare: Vec<Vec<Node<'a>>>,
}

impl<'a> Tree<'a> {
    /// Opens the block of `opener`.
    fn open(&mut self, opener: Node<'a>) {
        let children = self.spare.pop().unwrap_or_default();
        self.open.push((opener, children));
    }

    /// Closes the innermost open block; `false` if none is open.
    fn close(&mut self) -> bool {
        let Some((mut opener, mut children)) = self.open.pop() else {
            return false;
        };
        // Moved into an allocation of the exact size; the list is kept for the next block.
        opener.block = Some(children.drain(..).collect());
        self.spare.push(children);
        self.current().push(opener);
        true
    }

    /// The children of the innermost open block, or the top level.
    fn current(&mut self) -> &mut Vec<Node<'a>> {
        match self.open.last_mut() {
            Some((_, children)) => children,
            None => &mut self.top,
        }
    }
}

/// Walks the nodes of one block with its keyword table, calling each keyword's handler.
pub fn walk<T>(ctx: &mut Ctx, target: &mut T, nodes: &[Node<'_>], table: &[Keyword<T>]) {
    for node in nodes {
        let name = node.keyword();
        if node.line.is_open() {
            // An anonymous `{ }`: keepalived ignores the brace and reads the contents at
            // the current level.
            ctx.push(Diagnostic::warning(
                Some(node.loc()),
                "Unexpected '{' - ignoring",
            ));
            walk(ctx, target, node.children(), table);
            continue;
        }
        let Some(entry) = table.iter().find(|k| k.name == name) else {
            ctx.unknown_keyword(node, table.iter().map(|k| k.name));
            continue;
        };
        match (entry.body, &node.block) {
            (Body::Value, Some(children)) => {
                (entry.handler)(ctx, target, node);
                let brace = node.line.tokens.last().map_or(node.loc(), |t| t.loc);
                ctx.push(
                    Diagnostic::warning(Some(brace), "Unexpected '{' - ignoring")
                        .with_hint(format!("'{name}' does not take a block")),
                );
                walk(ctx, target, children, table);
            }
            (Body::Block, None) => {
                ctx.push(
                    Diagnostic::warning(
                        Some(node.loc()),
                        "Missing '{' at beginning of configuration block",
                    )
                    .with_len(name.chars().count())
                    .with_hint(format!(
                        "'{name}' opens a block: add '{{' at the end of the line"
                    )),
                );
                (entry.handler)(ctx, target, node);
            }
            _ => (entry.handler)(ctx, target, node),
        }
    }
}

/// A handler for keywords whose block (or value) is read by a data-block reader elsewhere or
/// deliberately ignored: does nothing.
pub fn ignore<T>(_: &mut Ctx, _: &mut T, _: &Node) {}

/// The closest candidate to `word` by edit distance, if it is close enough to be a typo.
pub fn did_you_mean<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let len = word.chars().count();
    let limit = (len / 3).clamp(1, 3);
    // The distance is at least the difference in length: skipping those candidates keeps a
    // huge unknown word (a runaway macro expansion) from costing length x candidates.
    candidates
        .filter(|c| c.chars().count().abs_diff(len) <= limit)
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Levenshtein distance over characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        if let Some(first) = cur.first_mut() {
            *first = i + 1;
        }
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            let del = prev.get(j + 1).copied().unwrap_or(usize::MAX) + 1;
            let ins = cur.get(j).copied().unwrap_or(usize::MAX) + 1;
            let sub = prev.get(j).copied().unwrap_or(usize::MAX) + cost;
            if let Some(slot) = cur.get_mut(j + 1) {
                *slot = del.min(ins).min(sub);
            }
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev.last().copied().unwrap_or(0)
}

impl Ctx {
    /// A fresh context.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that a block of `kind` named `name` is defined; `false` if one already was
    /// (the caller reports the duplicate with its own wording).
    pub fn define(&mut self, kind: &'static str, name: &str) -> bool {
        self.names.entry(kind).or_default().insert(name.to_string())
    }

    /// The entries of a value block (`virtual_ipaddress { ... }`, `track_script { ... }`):
    /// its lines. Words between the keyword and the `{` are reported like keepalived does.
    pub fn value_block<'n, 'a>(&mut self, node: &'n Node<'a>) -> &'n [Node<'a>] {
        if let Some(extra) = node.arg(0) {
            self.push(
                Diagnostic::warning(
                    Some(extra.loc),
                    format!(
                        "Block {} has extra parameters {} ...",
                        node.keyword(),
                        extra.text
                    ),
                )
                .with_len(extra.text.chars().count()),
            );
        }
        node.children()
    }

    /// Records a diagnostic (unless [`Ctx::limit`] leaves it out).
    pub fn push(&mut self, d: Diagnostic) {
        if self.limit.admit(&d) {
            self.diags.push(d);
        }
    }

    /// A `General` warning at `loc` (keepalived counts its warnings as config errors).
    pub fn warn(&mut self, loc: Loc, message: impl Into<String>) {
        self.push(Diagnostic::warning(Some(loc), message));
    }

    /// A warning that does not change the exit code (class `Ok`).
    pub fn note_warn(&mut self, loc: Loc, message: impl Into<String>) {
        self.push(Diagnostic::warning(Some(loc), message).with_class(ConfigClass::Ok));
    }

    /// A `General` error at `loc`.
    pub fn error(&mut self, loc: Loc, message: impl Into<String>) {
        self.push(Diagnostic::error(Some(loc), message));
    }

    /// Reports an unknown keyword with a did-you-mean hint from `known`.
    pub fn unknown_keyword<'a>(&mut self, node: &Node, known: impl Iterator<Item = &'a str>) {
        let name = node.keyword();
        let mut d = Diagnostic::warning(Some(node.loc()), format!("unknown keyword '{name}'"))
            .with_len(name.chars().count());
        // Counted either way; the hint is only worth finding for one that is shown.
        if !self.limit.admit(&d) {
            return;
        }
        if let Some(best) = did_you_mean(name, known) {
            d = d.with_hint(format!("did you mean '{best}'?"));
        } else if let Some(home) = super::keyword_home(name) {
            d = d.with_hint(format!("'{name}' belongs in {home}"));
        } else if node.block.is_some() {
            d = d.with_hint("its whole block is skipped");
        }
        self.diags.push(d);
    }

    /// Accepts a keyword keepalived knows but keepalived-rs does not implement: a warning
    /// that does not change the exit code, never a silent ignore.
    pub fn not_implemented(&mut self, node: &Node) {
        let name = node.keyword();
        self.push(
            Diagnostic::warning(
                Some(node.loc()),
                format!("keyword {name} is accepted but not implemented by keepalived-rs"),
            )
            .with_class(ConfigClass::Ok)
            .with_len(name.chars().count()),
        );
    }

    /// Argument `i` of `node`, reporting a missing parameter when absent.
    pub fn arg<'a>(&mut self, node: &Node<'a>, i: usize) -> Option<&'a Token<'a>> {
        let tok = node.arg(i);
        if tok.is_none() {
            let name = node.keyword();
            self.push(
                Diagnostic::error(
                    Some(node.loc()),
                    format!(
                        "Configuration line starting `{name}` is missing a parameter after keyword `{name}` at word position {}",
                        i + 2
                    ),
                )
                .with_len(name.chars().count()),
            );
        }
        tok
    }

    /// Argument `i` as a string, reporting a missing parameter.
    pub fn str_arg(&mut self, node: &Node<'_>, i: usize) -> Option<String> {
        self.arg(node, i).map(|t| t.text.to_string())
    }

    /// Parses `tok` as a decimal integer in `[min, max]` with keepalived's messages.
    pub fn int(&mut self, tok: &Token, min: i64, max: i64) -> Option<i64> {
        if min >= 0 && tok.text.trim_start().starts_with('-') {
            self.push(
                Diagnostic::warning(Some(tok.loc), format!("negative number '{}'", tok.text))
                    .with_len(tok.text.chars().count()),
            );
            return None;
        }
        match parse_int_text(tok.text) {
            None => {
                self.push(
                    Diagnostic::warning(Some(tok.loc), format!("invalid number '{}'", tok.text))
                        .with_len(tok.text.chars().count()),
                );
                None
            }
            Some(v) if v < i128::from(min) || v > i128::from(max) => {
                self.push(
                    Diagnostic::warning(
                        Some(tok.loc),
                        format!("number '{}' outside range [{min}, {max}]", tok.text),
                    )
                    .with_len(tok.text.chars().count()),
                );
                None
            }
            Some(v) => i64::try_from(v).ok(),
        }
    }

    /// Argument `i` as an integer in `[min, max]` (missing, invalid and out-of-range reported).
    pub fn int_arg(&mut self, node: &Node, i: usize, min: i64, max: i64) -> Option<i64> {
        let tok = self.arg(node, i)?;
        self.int(tok, min, max)
    }

    /// Argument `i` as a `u32` in `[min, max]`.
    pub fn u32_arg(&mut self, node: &Node, i: usize, min: u32, max: u32) -> Option<u32> {
        self.int_arg(node, i, min.into(), max.into())
            .and_then(|v| u32::try_from(v).ok())
    }

    /// Argument `i` as a `u16` in `[min, max]`.
    pub fn u16_arg(&mut self, node: &Node, i: usize, min: u16, max: u16) -> Option<u16> {
        self.int_arg(node, i, min.into(), max.into())
            .and_then(|v| u16::try_from(v).ok())
    }

    /// Argument `i` as a `u8` in `[min, max]`.
    pub fn u8_arg(&mut self, node: &Node, i: usize, min: u8, max: u8) -> Option<u8> {
        self.int_arg(node, i, min.into(), max.into())
            .and_then(|v| u8::try_from(v).ok())
    }

    /// Argument `i` as an `i32` in `[min, max]`.
    pub fn i32_arg(&mut self, node: &Node, i: usize, min: i32, max: i32) -> Option<i32> {
        self.int_arg(node, i, min.into(), max.into())
            .and_then(|v| i32::try_from(v).ok())
    }

    /// Parses a boolean word: `on|off|true|false|yes|no` (case-insensitive).
    pub fn boolean(&mut self, tok: &Token) -> Option<bool> {
        let v = parse_bool_text(tok.text);
        if v.is_none() {
            self.push(
                Diagnostic::warning(
                    Some(tok.loc),
                    format!("Invalid boolean value '{}'", tok.text),
                )
                .with_len(tok.text.chars().count())
                .with_hint("use on/off, true/false or yes/no"),
            );
        }
        v
    }

    /// A flag keyword with an optional boolean argument: no argument means `true`.
    /// An invalid argument is reported and leaves the flag set.
    pub fn flag(&mut self, node: &Node) -> bool {
        match node.arg(0) {
            None => true,
            Some(tok) => self.boolean(tok).unwrap_or(true),
        }
    }

    /// Parses a timer: decimal seconds with microsecond resolution, in `[min, max]`.
    pub fn timer(&mut self, tok: &Token, min: Duration, max: Duration) -> Option<Duration> {
        if tok.text.starts_with('-') {
            self.push(
                Diagnostic::warning(Some(tok.loc), format!("negative number '{}'", tok.text))
                    .with_len(tok.text.chars().count()),
            );
            return None;
        }
        let text = match tok.text.split_once('.') {
            Some((w, f)) if f.len() > 6 && f.bytes().all(|b| b.is_ascii_digit()) => {
                self.push(
                    Diagnostic::warning(
                        Some(tok.loc),
                        format!("number '{}' has too many decimal places", tok.text),
                    )
                    .with_len(tok.text.chars().count()),
                );
                let round_up = f.as_bytes().get(6).is_some_and(|d| *d >= b'5');
                let base = parse_timer_text(&format!("{w}.{}", &f[..6]));
                base.map(|d| {
                    if round_up {
                        d + Duration::from_micros(1)
                    } else {
                        d
                    }
                })
                .map(|d| format!("{}.{:06}", d.as_secs(), d.subsec_micros()))
                .unwrap_or_else(|| tok.text.to_string())
            }
            _ => tok.text.to_string(),
        };
        match parse_timer_text(&text) {
            None => {
                self.push(
                    Diagnostic::warning(Some(tok.loc), format!("invalid number '{}'", tok.text))
                        .with_len(tok.text.chars().count()),
                );
                None
            }
            Some(d) if d < min || d > max => {
                self.push(
                    Diagnostic::warning(
                        Some(tok.loc),
                        format!(
                            "number '{}' outside range [{}, {}]",
                            tok.text,
                            fmt_secs(min),
                            fmt_secs(max)
                        ),
                    )
                    .with_len(tok.text.chars().count()),
                );
                None
            }
            Some(d) => Some(d),
        }
    }

    /// Argument `i` as a timer in `[min, max]`.
    pub fn timer_arg(
        &mut self,
        node: &Node,
        i: usize,
        min: Duration,
        max: Duration,
    ) -> Option<Duration> {
        let tok = self.arg(node, i)?;
        self.timer(tok, min, max)
    }

    /// Parses an IPv4 or IPv6 address (no prefix).
    pub fn ip(&mut self, tok: &Token) -> Option<IpAddr> {
        let v = parse_ip_text(tok.text);
        if v.is_none() {
            self.push(
                Diagnostic::warning(Some(tok.loc), format!("Invalid IP address '{}'", tok.text))
                    .with_len(tok.text.chars().count()),
            );
        }
        v
    }

    /// Argument `i` as an IP address.
    pub fn ip_arg(&mut self, node: &Node, i: usize) -> Option<IpAddr> {
        let tok = self.arg(node, i)?;
        self.ip(tok)
    }

    /// Parses `IP[/len]`; the prefix length is checked against the family.
    pub fn prefix(&mut self, tok: &Token) -> Option<(IpAddr, Option<u8>)> {
        let v = parse_prefix_text(tok.text);
        if v.is_none() {
            self.push(
                Diagnostic::warning(
                    Some(tok.loc),
                    format!("Invalid IP address/prefix '{}'", tok.text),
                )
                .with_len(tok.text.chars().count()),
            );
        }
        v
    }

    /// Parses an interface name (at most 15 bytes, no `/`, no whitespace, not `.`/`..`).
    pub fn ifname(&mut self, tok: &Token) -> Option<String> {
        if valid_ifname(tok.text) {
            Some(tok.text.to_string())
        } else {
            self.push(
                Diagnostic::warning(
                    Some(tok.loc),
                    format!("Invalid interface name '{}'", tok.text),
                )
                .with_len(tok.text.chars().count())
                .with_hint("interface names are 1 to 15 characters without '/' or spaces"),
            );
            None
        }
    }

    /// Argument `i` as an interface name.
    pub fn ifname_arg(&mut self, node: &Node, i: usize) -> Option<String> {
        let tok = self.arg(node, i)?;
        self.ifname(tok)
    }

    /// The script of a script-type keyword (`notify_master "/bin/x a" [USER [GROUP]]`,
    /// `script "..."`), split like keepalived: the rest of the line is split with the
    /// quoting and escape rules, its first word is the command line (split again for argv),
    /// and the next two words are the user and group.
    pub fn script_arg(&mut self, node: &Node) -> Option<crate::model::Script> {
        let rest = node.rest_raw();
        let words = split_script(rest);
        let Some(cmd) = words.first() else {
            self.arg(node, 0);
            return None;
        };
        let argv = split_script(cmd);
        if argv.is_empty() {
            self.push(Diagnostic::warning(
                Some(node.loc()),
                format!("Unable to parse script '{cmd}' - ignoring"),
            ));
            return None;
        }
        let user = words.get(1).map(|u| crate::model::ScriptUser {
            user: u.clone(),
            group: words.get(2).cloned(),
        });
        Some(crate::model::Script {
            command: cmd.clone(),
            argv,
            user,
            loc: Some(node.loc()),
        })
    }
}

/// Formats seconds the way keepalived prints decimal range limits: up to 6 decimals.
fn fmt_secs(d: Duration) -> String {
    let us = d.as_micros();
    let whole = us / 1_000_000;
    let frac = us % 1_000_000;
    format!("{whole}.{frac:06}")
}

/// Decimal integer with optional sign and leading blanks (like `strtol` base 10).
/// `None` if not a number.
pub fn parse_int_text(s: &str) -> Option<i128> {
    let s = s.trim_start();
    let (neg, digits) = match s.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    if digits.is_empty() || digits.len() > 30 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let v = digits.parse::<i128>().ok()?;
    Some(if neg { -v } else { v })
}

/// `on|off|true|false|yes|no`, case-insensitive.
pub fn parse_bool_text(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Some(true),
        "off" | "false" | "no" => Some(false),
        _ => None,
    }
}

/// Decimal seconds with up to 6 decimals (more are rejected), no sign, no exponent.
pub fn parse_timer_text(s: &str) -> Option<Duration> {
    let (whole, frac) = match s.split_once('.') {
        Some((w, f)) => (w, f),
        None => (s, ""),
    };
    if whole.is_empty() && frac.is_empty() {
        return None;
    }
    if !whole.bytes().all(|b| b.is_ascii_digit()) || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if frac.len() > 6 || whole.len() > 12 {
        return None;
    }
    let secs: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let mut micros: u32 = if frac.is_empty() {
        0
    } else {
        frac.parse().ok()?
    };
    for _ in frac.len()..6 {
        micros *= 10;
    }
    Some(Duration::from_secs(secs) + Duration::from_micros(micros.into()))
}

/// An IPv4 or IPv6 address (an IPv6 `%scope` suffix is not accepted here).
pub fn parse_ip_text(s: &str) -> Option<IpAddr> {
    s.parse().ok()
}

/// `IP[/len]`, the length checked against the family (32 or 128).
pub fn parse_prefix_text(s: &str) -> Option<(IpAddr, Option<u8>)> {
    match s.split_once('/') {
        None => parse_ip_text(s).map(|ip| (ip, None)),
        Some((addr, len)) => {
            let ip = parse_ip_text(addr)?;
            if len.is_empty() || !len.bytes().all(|b| b.is_ascii_digit()) || len.len() > 3 {
                return None;
            }
            let len: u8 = len.parse().ok()?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            (len <= max).then_some((ip, Some(len)))
        }
    }
}

/// Linux's `dev_valid_name()`: 1..=15 bytes, not `.` or `..`, no `/`, `:` or whitespace.
pub fn valid_ifname(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 16
        && s != "."
        && s != ".."
        && !s.chars().any(|c| c == '/' || c == ':' || c.is_whitespace())
}

/// Splits a script command line with keepalived's rules for script-type values: words
/// separated by blanks; `"…"` and `'…'` quote (the quotes are removed); outside single
/// quotes a backslash escapes: `\a \b \E \f \n \r \t \v \nnn \xXX \cC`, and `\C` gives C.
pub fn split_script(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            (q, '\\') if q != Some('\'') => {
                in_word = true;
                let Some(e) = chars.next() else {
                    cur.push('\\');
                    break;
                };
                match e {
                    'a' => cur.push('\x07'),
                    'b' => cur.push('\x08'),
                    'E' | 'e' => cur.push('\x1b'),
                    'f' => cur.push('\x0c'),
                    'n' => cur.push('\n'),
                    'r' => cur.push('\r'),
                    't' => cur.push('\t'),
                    'v' => cur.push('\x0b'),
                    'x' => {
                        let mut v = 0u32;
                        let mut n = 0;
                        while n < 2 {
                            match chars.peek().and_then(|c| c.to_digit(16)) {
                                Some(d) => {
                                    v = v * 16 + d;
                                    chars.next();
                                    n += 1;
                                }
                                None => break,
                            }
                        }
                        if n == 0 {
                            cur.push('x');
                        } else if let Some(ch) = char::from_u32(v) {
                            cur.push(ch);
                        }
                    }
                    'c' => match chars.next() {
                        Some(ctl) => {
                            if let Some(ch) = char::from_u32(u32::from(ctl) & 0x1f) {
                                cur.push(ch);
                            }
                        }
                        None => cur.push('c'),
                    },
                    '0'..='7' => {
                        let mut v = e.to_digit(8).unwrap_or(0);
                        let mut n = 1;
                        while n < 3 {
                            match chars.peek().and_then(|c| c.to_digit(8)) {
                                Some(d) => {
                                    v = v * 8 + d;
                                    chars.next();
                                    n += 1;
                                }
                                None => break,
                            }
                        }
                        if let Some(ch) = char::from_u32(v & 0xff) {
                            cur.push(ch);
                        }
                    }
                    other => cur.push(other),
                }
            }
            (_, c) => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        out.push(cur);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::{lex_str, PreprocessOptions};
    use crate::source::SourceMap;
    use std::path::Path;

    fn tree(text: &str) -> (Vec<Node<'static>>, Ctx) {
        let mut sm = SourceMap::new();
        let mut d = Vec::new();
        let lexed: &'static crate::lexer::Lexed = Box::leak(Box::new(lex_str(
            Path::new("t.conf"),
            text.to_string(),
            &PreprocessOptions::default(),
            &mut sm,
            &mut d,
        )));
        let tokens: &'static [Token<'static>] = Box::leak(lexed.tokens().into_boxed_slice());
        let mut ctx = Ctx::new();
        let t = build_tree(lexed.lines(tokens), &mut ctx);
        (t, ctx)
    }

    #[derive(Default, Debug)]
    struct Demo {
        prio: Option<u8>,
        flag: bool,
        inner: Vec<String>,
    }

    const INNER: &[Keyword<Demo>] = &[kw("x", |_, d, n| d.inner.push(n.keyword().into()))];
    const DEMO: &[Keyword<Demo>] = &[
        kw("priority", |c, d, n| d.prio = c.u8_arg(n, 0, 1, 255)),
        kw("nopreempt", |c, d, n| d.flag = c.flag(n)),
        block("sub", |c, d, n| walk(c, d, n.children(), INNER)),
    ];

    fn run(text: &str) -> (Demo, Ctx) {
        let (t, mut ctx) = tree(text);
        let mut d = Demo::default();
        for n in &t {
            walk(&mut ctx, &mut d, n.children(), DEMO);
        }
        (d, ctx)
    }

    #[test]
    fn nests_blocks_with_brace_on_next_line() {
        let (t, ctx) = tree("a {\n b\n c\n {\n  d\n }\n}\ne\n");
        assert!(ctx.diags.is_empty());
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].children().len(), 2);
        assert_eq!(t[0].children()[1].children()[0].keyword(), "d");
    }

    #[test]
    fn reports_brace_mismatch() {
        let (_, ctx) = tree("a {\n b {\n}\n");
        assert_eq!(ctx.diags.len(), 1);
        assert_eq!(
            ctx.diags[0].message,
            "There are 1 missing '}'s or extra '{'s"
        );
        let (_, ctx) = tree("a {\n}\n}\n");
        assert_eq!(ctx.diags[0].message, "Extra '}' found");
    }

    #[test]
    fn walks_with_ranges_and_hints() {
        let (d, ctx) = run("i {\n priority 300\n nopreempt\n priorty 5\n sub {\n x\n }\n}\n");
        assert_eq!(d.prio, None);
        assert!(d.flag);
        assert_eq!(d.inner, vec!["x"]);
        let msgs: Vec<_> = ctx.diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "number '300' outside range [1, 255]",
                "unknown keyword 'priorty'"
            ]
        );
        assert_eq!(
            ctx.diags[1].hint.as_deref(),
            Some("did you mean 'priority'?")
        );
        assert_eq!(ctx.diags[1].loc.map(|l| (l.line, l.col)), Some((4, 2)));
    }

    #[test]
    fn unexpected_and_missing_braces() {
        let (d, ctx) = run("i {\n nopreempt {\n priority 7\n }\n sub\n}\n");
        assert_eq!(d.prio, Some(7));
        let msgs: Vec<_> = ctx.diags.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(
            msgs,
            vec![
                "Unexpected '{' - ignoring",
                "Missing '{' at beginning of configuration block"
            ]
        );
    }

    #[test]
    fn misplaced_keyword_gets_a_home_hint() {
        let (_, ctx) = run("i {\n vrrp_strict\n}\n");
        assert_eq!(
            ctx.diags[0].hint.as_deref(),
            Some("'vrrp_strict' belongs in global_defs")
        );
    }

    #[test]
    fn unknown_block_is_skipped_whole() {
        let (d, ctx) = run("i {\n bogus {\n priority 7\n }\n}\n");
        assert_eq!(d.prio, None);
        assert_eq!(ctx.diags.len(), 1);
    }

    #[test]
    fn value_parsers() {
        assert_eq!(
            parse_timer_text("1.5"),
            Some(Duration::from_micros(1_500_000))
        );
        assert_eq!(parse_timer_text(".000001"), Some(Duration::from_micros(1)));
        assert_eq!(parse_timer_text("1.0000001"), None);
        assert_eq!(parse_timer_text("-1"), None);
        assert_eq!(parse_int_text("27asdf"), None);
        assert_eq!(parse_int_text("0x1f"), None);
        assert_eq!(parse_int_text("-5"), Some(-5));
        assert_eq!(parse_bool_text("Yes"), Some(true));
        assert_eq!(
            parse_prefix_text("10.0.0.1/24"),
            Some((
                "10.0.0.1".parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
                Some(24)
            ))
        );
        assert_eq!(parse_prefix_text("10.0.0.1/33"), None);
        assert!(valid_ifname("bond0.2"));
        assert!(!valid_ifname("a-very-long-interface"));
        assert_eq!(fmt_secs(Duration::from_micros(1)), "0.000001");
        assert_eq!(fmt_secs(Duration::from_secs(255)), "255.000000");
        assert_eq!(
            fmt_secs(Duration::from_micros(4_294_967_295)),
            "4294.967295"
        );
    }

    #[test]
    fn script_splitting() {
        assert_eq!(
            split_script(r#"/bin/notify "a b" 'c\d' e\ f \x41\101"#),
            vec!["/bin/notify", "a b", "c\\d", "e f", "AA"]
        );
    }

    #[test]
    fn edit_distance_works() {
        assert_eq!(edit_distance("priorty", "priority"), 1);
        assert_eq!(
            did_you_mean("advert_in", ["advert_int", "state"].into_iter()),
            Some("advert_int")
        );
        assert_eq!(did_you_mean("zzz", ["advert_int"].into_iter()), None);
    }

    proptest::proptest! {
        #[test]
        fn tree_never_panics(text in "[a-z{} \n\"]{0,200}") {
            let _ = tree(&text);
        }

        #[test]
        fn split_never_panics(text in "\\PC{0,100}") {
            let _ = split_script(&text);
        }

        #[test]
        fn timers_round_trip(us in 0u64..4_294_967_295) {
            let text = format!("{}.{:06}", us / 1_000_000, us % 1_000_000);
            proptest::prop_assert_eq!(parse_timer_text(&text), Some(Duration::from_micros(us)));
        }

        #[test]
        fn ints_round_trip(v in proptest::num::i64::ANY) {
            proptest::prop_assert_eq!(parse_int_text(&v.to_string()), Some(i128::from(v)));
        }

        #[test]
        fn prefixes_are_checked(a in proptest::num::u32::ANY, len in 0u8..=40) {
            let ip = std::net::Ipv4Addr::from(a);
            let parsed = parse_prefix_text(&format!("{ip}/{len}"));
            if len <= 32 {
                proptest::prop_assert_eq!(parsed, Some((IpAddr::V4(ip), Some(len))));
            } else {
                proptest::prop_assert_eq!(parsed, None);
            }
        }
    }
}
