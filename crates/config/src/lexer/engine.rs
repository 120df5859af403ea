//! The preprocessor proper: keepalived 2.2's `read_line()` as a state machine.
//!
//! Each logical line is taken, in this order of priority, from
//! 1. the text left after a brace on the previous line;
//! 2. the innermost `~SEQ`/`~LST` generator, unless it was started before the multi-line
//!    definition now being expanded;
//! 3. the multi-line definition being expanded;
//! 4. the file on top of the include stack (at its end, the next file its glob matched, then
//!    the including file).
//!
//! Then: `@id` / `@^id` conditionals, `$NAME=value` definitions, generators, substitution
//! (repeated while the result starts with `@` or still has a `$`, each time followed by comment
//! removal again), and last the include check (so `@id include x` and `include ${_PWD}/x`
//! work, as they do in keepalived 2.2.7).

use super::comment::{decomment, strip_continuation};
use super::define::{parse_definition, Context, Defs, MultilineUse, MAX_SUBSTITUTIONS_PER_LINE};
use super::generator::{self, Generator};
use super::include::{
    glob_include, has_brace, include_check_set, parse_include, INCLUDE_ALL, INCLUDE_B, INCLUDE_M,
    INCLUDE_R, INCLUDE_W,
};
use super::linebuf::{LineBuf, Within};
use super::tokenize::{split_braces, to_line};
use super::{Lexed, PreprocessOptions};
use crate::diag::{ConfigClass, Diagnostic, DiagnosticLimit};
use crate::source::{FileId, Loc, SourceMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// keepalived reads lines with `fgets()` into a 1024-byte buffer: longer lines are refused.
const MAX_PHYSICAL_LINE: usize = 1022;

/// Nested includes, generators or multi-line expansions deeper than this are refused.
const MAX_NESTING: usize = 1000;

/// Includes nested deeper than this are refused (keepalived has no limit but runs out of files).
const MAX_INCLUDE_DEPTH: usize = 64;

/// A file being read.
struct OpenFile {
    /// The file; its text is read from the [`SourceMap`] (one copy of it, not two).
    id: FileId,
    pos: usize,
    line_no: u32,
    /// Absolute directory: keepalived's current directory while reading this file.
    dir_abs: PathBuf,
    /// The same directory as the operator named it (for paths in diagnostics).
    dir_display: PathBuf,
    /// `${_PWD}`.
    pwd: Rc<str>,
    canonical: Option<PathBuf>,
}

/// One `include` (or the main file): what its pattern matched and which file is open.
struct GlobFrame {
    matches: Vec<String>,
    next: usize,
    include_type: u8,
    saved_include_check: u8,
    /// Where matches are relative to.
    base_abs: PathBuf,
    base_display: PathBuf,
    include_loc: Option<Loc>,
    file: Option<OpenFile>,
}

/// The rest of a multi-line definition being expanded.
struct Cursor {
    value: Rc<[u8]>,
    pos: usize,
    loc: Loc,
    /// This expansion and the ones it happened in.
    within: Rc<Within>,
}

/// Preprocessor state for one configuration.
pub(crate) struct Engine<'a> {
    opts: &'a PreprocessOptions,
    sources: &'a mut SourceMap,
    diags: &'a mut Vec<Diagnostic>,
    /// Decides which of the diagnostics pushed to `diags` are kept.
    limit: &'a mut DiagnosticLimit,
    /// How many of `diags` the limit has seen.
    limited: usize,
    frames: Vec<GlobFrame>,
    residue: Option<LineBuf>,
    gens: Vec<Generator>,
    multiline: Option<Cursor>,
    multiline_stack: Vec<(Cursor, usize)>,
    multiline_gen_depth: usize,
    defs: Defs,
    include_check: u8,
    lines_left: u64,
    bytes_left: u64,
    exhausted: bool,
    /// The buffer of the last line done with, for the next physical line.
    spare: Vec<u8>,
    /// Whether plain lines take the short way ([`super::plain`]).
    plain_lines: bool,
}

fn absolute_dir(dir: &Path) -> PathBuf {
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    std::fs::canonicalize(dir)
        .or_else(|_| std::path::absolute(dir))
        .unwrap_or_else(|_| dir.to_path_buf())
}

impl<'a> Engine<'a> {
    pub fn new(
        opts: &'a PreprocessOptions,
        sources: &'a mut SourceMap,
        diags: &'a mut Vec<Diagnostic>,
        limit: &'a mut DiagnosticLimit,
    ) -> Self {
        let seed = opts.random_seed.unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos() as u64)
                .unwrap_or(1)
        });
        let limited = diags.len();
        Self {
            opts,
            sources,
            diags,
            limit,
            limited,
            frames: Vec::new(),
            residue: None,
            gens: Vec::new(),
            multiline: None,
            multiline_stack: Vec::new(),
            multiline_gen_depth: 0,
            defs: Defs::new(seed),
            include_check: if opts.include_check_all {
                INCLUDE_ALL
            } else {
                0
            },
            lines_left: opts.limits.max_lines,
            bytes_left: opts.limits.max_bytes,
            exhausted: false,
            spare: Vec::new(),
            plain_lines: super::plain_lines_allowed(),
        }
    }

    /// Starts with the main file, whose text has been read already.
    pub fn start(&mut self, path: &Path, text: String) {
        let id = self.sources.add(path, text);
        let dir_display = path.parent().map(Path::to_path_buf).unwrap_or_default();
        let dir_abs = absolute_dir(&dir_display);
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let file = OpenFile {
            id,
            pos: 0,
            line_no: 0,
            pwd: Rc::from(dir_abs.display().to_string()),
            canonical: std::fs::canonicalize(path).ok(),
            dir_abs: dir_abs.clone(),
            dir_display: dir_display.clone(),
        };
        self.frames.push(GlobFrame {
            matches: vec![name],
            next: 1,
            include_type: INCLUDE_R | INCLUDE_M | INCLUDE_W,
            saved_include_check: self.include_check,
            base_abs: dir_abs,
            base_display: dir_display,
            include_loc: None,
            file: Some(file),
        });
    }

    /// Length of the main file's text (the lexer's output is sized for it).
    fn main_text_len(&self) -> usize {
        self.frames
            .first()
            .and_then(|f| f.file.as_ref())
            .and_then(|f| self.sources.get(f.id))
            .map_or(0, |f| f.text.len())
    }

    /// Reads everything into lines.
    pub fn run(&mut self) -> Lexed {
        let mut out = Lexed::with_capacity_for(self.main_text_len());
        loop {
            if self.plain_lines && self.read_plain(&mut out) {
                continue;
            }
            let Some(buf) = self.next_line() else {
                break;
            };
            let split = split_braces(buf);
            if to_line(&split, &mut out, self.diags) {
                self.watch_include_check(&out);
            }
            self.residue = split.residue;
            self.spare = split.line.into_text();
        }
        self.apply_limit();
        out
    }

    /// Passes the diagnostics pushed since the last call through the limit (once per line
    /// read, so a runaway expansion never holds more than a line's worth of them).
    fn apply_limit(&mut self) {
        if self.diags.len() > self.limited {
            let new = self.diags.split_off(self.limited);
            let limit = &mut *self.limit;
            self.diags
                .extend(new.into_iter().filter(|d| limit.admit(d)));
        }
        self.limited = self.diags.len();
    }

    /// `include_check` changes how later includes are checked; keepalived applies it when its
    /// parser reaches the line (in `global_defs`), which is this same point of the stream.
    /// `lexed` ends with the line just read.
    fn watch_include_check(&mut self, lexed: &Lexed) {
        let mut words = lexed.last_line_words();
        let Some((first, loc, quoted)) = words.next() else {
            return;
        };
        if quoted || first != "include_check" {
            return;
        }
        let mut args: Vec<(&str, bool)> = words.map(|(w, _, quoted)| (w, quoted)).collect();
        if args.last().is_some_and(|(w, quoted)| !quoted && *w == "{") {
            args.pop();
        }
        let args: Vec<&str> = args.into_iter().map(|(w, _)| w).collect();
        for msg in include_check_set(&mut self.include_check, &args) {
            self.diags.push(Diagnostic::error(Some(loc), msg).with_hint(
                "include_check takes read, match, wildcard_match and brace_match, each optionally prefixed by + or -",
            ));
        }
    }

    fn charge(&mut self, buf: &LineBuf) -> bool {
        self.apply_limit();
        self.lines_left = self.lines_left.saturating_sub(1);
        self.bytes_left = self.bytes_left.saturating_sub(buf.len() as u64 + 1);
        if self.lines_left == 0 || self.bytes_left == 0 {
            self.stop(
                buf.loc_at(0),
                format!(
                    "the configuration expands to more than {} lines or {} bytes; the rest is ignored",
                    self.opts.limits.max_lines, self.opts.limits.max_bytes
                ),
            );
            return false;
        }
        true
    }

    fn stop(&mut self, loc: Loc, msg: String) {
        if !self.exhausted {
            self.exhausted = true;
            self.diags.push(
                Diagnostic::error(Some(loc), msg)
                    .with_hint("check ~SEQ/~LST ranges and definitions that expand to themselves"),
            );
        }
    }

    /// keepalived's `read_line`: the next logical line, before its braces are split off.
    fn next_line(&mut self) -> Option<LineBuf> {
        let mut defining: Option<(Vec<u8>, Vec<u8>)> = None;
        let result = loop {
            if self.exhausted {
                break None;
            }
            let mut buf = if let Some(r) = self.residue.take() {
                r
            } else if !self.gens.is_empty() && self.gens.len() > self.multiline_gen_depth {
                self.next_generated()
            } else if self.multiline.is_some() {
                self.next_multiline()
            } else {
                match self.read_physical(&mut defining) {
                    Some(b) => b,
                    None => break None,
                }
            };
            if !self.charge(&buf) {
                break None;
            }

            if let Some((name, value)) = defining.as_mut() {
                let cont = strip_continuation(&mut buf);
                if cont {
                    if !buf.is_empty() {
                        value.extend_from_slice(&buf.text);
                        value.push(b'\n');
                    }
                } else {
                    value.extend_from_slice(&buf.text);
                    let (name, value) = (std::mem::take(name), std::mem::take(value));
                    self.defs.define(&name, value, true);
                    defining = None;
                }
                continue;
            }
            if buf.is_empty() {
                continue;
            }

            let mut budget = MAX_SUBSTITUTIONS_PER_LINE;
            loop {
                let mut recheck = false;
                if buf.first() == Some(b'@') && !self.conditional(&mut buf) {
                    buf.clear();
                    break;
                }
                if buf.first() == Some(b'$') {
                    if let Some(def) = parse_definition(&buf.text) {
                        if def.multiline {
                            defining = Some((def.name, def.value));
                        } else {
                            self.defs.define(&def.name, def.value, false);
                        }
                        buf.clear();
                        break;
                    }
                }
                if buf.starts_with(b"~SEQ") || buf.starts_with(b"~LST") {
                    self.add_generator(&buf);
                    buf.clear();
                    break;
                }
                if buf.first() == Some(b'~') {
                    break;
                }
                if buf.contains(b'$') {
                    let pwd = self.current_pwd();
                    let ctx = Context {
                        pwd: &pwd,
                        instance: &self.opts.config_id,
                    };
                    let r = self
                        .defs
                        .substitute(&mut buf, &ctx, &mut budget, self.diags);
                    for m in r.multiline {
                        self.start_multiline(m);
                    }
                    if !r.changed {
                        break;
                    }
                    decomment(&mut buf, self.diags);
                    recheck = buf.first() == Some(b'@') || buf.contains(b'$');
                }
                if !recheck {
                    break;
                }
            }
            if buf.is_empty() {
                continue;
            }
            if let Some((kind, pattern)) = parse_include(&buf.text) {
                let pattern = String::from_utf8_lossy(pattern).into_owned();
                self.open_glob(&pattern, kind, buf.loc_at(0));
                continue;
            }
            break Some(buf);
        };
        if let Some((name, value)) = defining {
            self.defs.define(&name, value, true);
        }
        result
    }

    /// `@id rest` / `@^id rest`: `false` if the line is dropped, else `buf` loses the prefix.
    fn conditional(&mut self, buf: &mut LineBuf) -> bool {
        let rev = buf.text.get(1) == Some(&b'^');
        let ofs = if rev { 2 } else { 1 };
        let Some(ws) = buf
            .text
            .get(ofs..)
            .and_then(|t| t.iter().position(|b| *b == b' ' || *b == b'\t'))
            .map(|o| o + ofs)
        else {
            return false;
        };
        let id = buf.text.get(ofs..ws).unwrap_or(&[]);
        let matches = id == self.opts.config_id.as_bytes();
        if matches == rev {
            return false;
        }
        let mut start = ws;
        while buf
            .text
            .get(start)
            .is_some_and(|b| *b == b' ' || *b == b'\t')
        {
            start += 1;
        }
        buf.drain_front(start);
        true
    }

    fn current_pwd(&self) -> Rc<str> {
        self.frames
            .iter()
            .rev()
            .find_map(|f| f.file.as_ref())
            .map(|f| f.pwd.clone())
            .unwrap_or_else(|| Rc::from(""))
    }

    fn add_generator(&mut self, buf: &LineBuf) {
        let whole = buf.lossy();
        let loc = buf.loc_at(0);
        let is_seq = buf.text.get(1) == Some(&b'S');
        let result = if is_seq {
            generator::seq_head(&buf.text).and_then(|head| {
                let mut params = buf.clone();
                params.truncate(head.close + 1);
                params.drain_front(head.params_start);
                let pwd = self.current_pwd();
                let ctx = Context {
                    pwd: &pwd,
                    instance: &self.opts.config_id,
                };
                let mut budget = MAX_SUBSTITUTIONS_PER_LINE;
                let r = self
                    .defs
                    .substitute(&mut params, &ctx, &mut budget, self.diags);
                if !r.multiline.is_empty() {
                    return Err(generator::GenError(Some(format!(
                        "~SEQ parameter is multiline definition '{whole}'"
                    ))));
                }
                let nums = generator::seq_numbers(&params.text, &whole, head.hex)?;
                let mut text = buf.clone();
                let mut p = head.close + 1;
                while text.text.get(p).is_some_and(|b| *b == b' ' || *b == b'\t') {
                    p += 1;
                }
                text.drain_front(p);
                Ok(generator::seq(head.var, nums, head.hex, text))
            })
        } else {
            generator::lst(buf)
        };
        match result {
            Ok(g) => {
                if self.gens.len() >= MAX_NESTING {
                    self.stop(
                        loc,
                        format!("~SEQ/~LST nested more than {MAX_NESTING} deep"),
                    );
                } else {
                    self.gens.push(g);
                }
            }
            Err(e) => {
                if let Some(msg) = e.0 {
                    self.diags
                        .push(Diagnostic::error(Some(loc), msg).with_len(whole.chars().count()));
                }
                let what = if is_seq { "~SEQ" } else { "~LST" };
                self.diags.push(
                    Diagnostic::error(Some(loc), format!("Invalid {what} specification '{whole}'"))
                        .with_len(whole.chars().count())
                        .with_hint(if is_seq {
                            "expected ~SEQ(var, [start,] [step,] end) or ~SEQx(...)"
                        } else {
                            "expected ~LST(var, v1, v2, ...) or ~LST({a,b}, {1,2}, ...)"
                        }),
                );
            }
        }
    }

    fn next_generated(&mut self) -> LineBuf {
        let Some(g) = self.gens.last_mut() else {
            return LineBuf::default();
        };
        let (values, done) = g.next_values();
        let text = g.text.clone();
        if done {
            self.gens.pop();
        }
        for (name, value) in values {
            self.defs.set(&name, &value);
        }
        text
    }

    fn start_multiline(&mut self, m: MultilineUse) {
        if let Some(cur) = self.multiline.take() {
            if self.multiline_stack.len() >= MAX_NESTING {
                self.stop(
                    m.loc,
                    format!("multi-line definitions nested more than {MAX_NESTING} deep"),
                );
                return;
            }
            self.multiline_stack.push((cur, self.multiline_gen_depth));
        }
        self.multiline = Some(Cursor {
            value: m.value,
            pos: m.rest,
            loc: m.loc,
            within: m.within,
        });
        self.multiline_gen_depth = self.gens.len();
    }

    fn next_multiline(&mut self) -> LineBuf {
        let Some(cur) = self.multiline.as_mut() else {
            return LineBuf::default();
        };
        let rest = cur.value.get(cur.pos..).unwrap_or(&[]);
        match rest.iter().position(|b| *b == b'\n') {
            Some(nl) => {
                let line = LineBuf::uniform(&rest[..nl], cur.loc, Some(cur.within.clone()));
                cur.pos += nl + 1;
                line
            }
            None => {
                let line = LineBuf::uniform(rest, cur.loc, Some(cur.within.clone()));
                match self.multiline_stack.pop() {
                    Some((c, depth)) => {
                        self.multiline = Some(c);
                        self.multiline_gen_depth = depth;
                    }
                    None => {
                        self.multiline = None;
                        self.multiline_gen_depth = 0;
                    }
                }
                line
            }
        }
    }

    /// Appends the next line of the current file to `out` if it is plain ([`super::plain`])
    /// and nothing else is pending (text after a brace, a generator, a multi-line
    /// definition); `false` leaves everything to [`Self::next_line`]. Blank lines are
    /// skipped on the way.
    fn read_plain(&mut self, out: &mut Lexed) -> bool {
        if self.residue.is_some()
            || !self.gens.is_empty()
            || self.multiline.is_some()
            || self.exhausted
        {
            return false;
        }
        loop {
            let Some(file) = self.frames.last_mut().and_then(|f| f.file.as_mut()) else {
                return false;
            };
            let text = self.sources.get(file.id).map_or("", |f| f.text.as_str());
            let rest = text.get(file.pos..).unwrap_or("");
            let (line, advance) = match rest.bytes().position(|b| b == b'\n') {
                Some(nl) => (rest.get(..nl).unwrap_or(""), nl + 1),
                None => (rest, rest.len()),
            };
            let raw = line.trim_end_matches('\r');
            if rest.is_empty() || raw.len() > MAX_PHYSICAL_LINE {
                return false;
            }
            let Some(plain) = super::plain::classify(raw.as_bytes()) else {
                return false;
            };
            if !plain.is_empty() {
                // The limits are the long way's to report.
                let len = plain.len() as u64 + 1;
                if self.lines_left <= 1 || self.bytes_left <= len {
                    return false;
                }
                self.lines_left -= 1;
                self.bytes_left -= len;
            }
            let line_no = file.line_no.saturating_add(1);
            file.pos += advance;
            file.line_no = line_no;
            if !plain.is_empty() {
                plain.emit(raw, file.id, line_no, out);
                self.apply_limit();
                return true;
            }
        }
    }

    /// The next non-empty decommented line from the files.
    fn read_physical(&mut self, defining: &mut Option<(Vec<u8>, Vec<u8>)>) -> Option<LineBuf> {
        loop {
            let frame = self.frames.last_mut()?;
            let Some(file) = frame.file.as_mut() else {
                self.next_file();
                continue;
            };
            let text = self.sources.get(file.id).map_or("", |f| f.text.as_str());
            let rest = text.get(file.pos..).unwrap_or("");
            if rest.is_empty() {
                self.next_file();
                continue;
            }
            // Lines are short: a plain loop beats `memchr`'s set-up (and `str::find`'s).
            let (raw, advance) = match rest.bytes().position(|b| b == b'\n') {
                Some(nl) => (&rest[..nl], nl + 1),
                None => (rest, rest.len()),
            };
            file.pos += advance;
            file.line_no = file.line_no.saturating_add(1);
            let (id, line_no) = (file.id, file.line_no);
            let raw = raw.trim_end_matches(['\r', '\n']).as_bytes();
            if raw.is_empty() {
                if let Some((name, value)) = defining.take() {
                    self.defs.define(&name, value, true);
                }
                continue;
            }
            let loc = Loc::new(id, line_no, 1);
            if raw.len() > MAX_PHYSICAL_LINE {
                self.diags.push(
                    Diagnostic::warning(Some(loc), "line too long - ignoring").with_hint(format!(
                        "keepalived reads at most {MAX_PHYSICAL_LINE} characters per line"
                    )),
                );
                continue;
            }
            if raw.iter().fold(false, |seen, b| seen | (*b == 0)) {
                self.diags.push(Diagnostic::warning(
                    Some(loc),
                    "configuration appears to have embedded NULs - ignoring line",
                ));
                continue;
            }
            let spare = std::mem::take(&mut self.spare);
            // The leading blanks that decomment() would strip are not copied at all.
            let blanks = raw
                .iter()
                .take_while(|b| **b == b' ' || **b == b'\t')
                .count();
            let mut buf = LineBuf::physical_from(spare, id, line_no, raw, blanks);
            decomment(&mut buf, self.diags);
            if !buf.is_empty() {
                return Some(buf);
            }
            self.spare = buf.into_text();
        }
    }

    /// The current file ended: on to the next match of its glob, or back to the includer.
    fn next_file(&mut self) {
        if let Some(frame) = self.frames.last_mut() {
            frame.file = None;
            self.include_check = frame.saved_include_check;
        }
        if !self.open_next_match() {
            self.frames.pop();
        }
    }

    fn file_error(&mut self, kind: u8, check: u8, loc: Option<Loc>, msg: String) {
        let d = if (self.include_check | kind) & check != 0 {
            Diagnostic::error(loc, msg).with_class(ConfigClass::FileNotFound)
        } else {
            Diagnostic::warning(loc, msg).with_class(ConfigClass::Ok)
        };
        self.diags.push(d);
    }

    fn open_glob(&mut self, pattern: &str, kind: u8, loc: Loc) {
        let (base_abs, base_display) = match self.frames.iter().rev().find_map(|f| f.file.as_ref())
        {
            Some(f) => (f.dir_abs.clone(), f.dir_display.clone()),
            None => (absolute_dir(Path::new(".")), PathBuf::new()),
        };
        let res = glob_include(pattern, &base_abs);
        if res.too_many {
            self.diags.push(Diagnostic::error(
                Some(loc),
                format!(
                    "'{pattern}' has too many {{...}} alternatives or matches; only the first ones are read"
                ),
            ));
        }
        let missing = res.missing_files + res.missing_dirs > 0;
        if res.paths.is_empty() {
            if missing {
                let check = if has_brace(pattern) {
                    INCLUDE_B
                } else {
                    INCLUDE_M
                };
                self.file_error(
                    kind,
                    check,
                    Some(loc),
                    format!("Config files missing '{pattern}'."),
                );
            } else if res.had_wildcards && (self.include_check | kind) & INCLUDE_W != 0 {
                self.file_error(
                    kind,
                    INCLUDE_W,
                    Some(loc),
                    format!("No config files matched '{pattern}'."),
                );
            }
            return;
        }
        if missing {
            self.file_error(
                kind,
                INCLUDE_B,
                Some(loc),
                format!("Some config files missing: \"{pattern}\"."),
            );
            if (self.include_check | kind) & INCLUDE_B != 0 {
                return;
            }
        }
        self.frames.push(GlobFrame {
            matches: res.paths,
            next: 0,
            include_type: kind,
            saved_include_check: self.include_check,
            base_abs,
            base_display,
            include_loc: Some(loc),
            file: None,
        });
        if !self.open_next_match() {
            self.frames.pop();
        }
    }

    /// Opens the next usable match of the top frame; `false` when there is none.
    fn open_next_match(&mut self) -> bool {
        loop {
            let Some(frame) = self.frames.last_mut() else {
                return false;
            };
            let Some(name) = frame.matches.get(frame.next).cloned() else {
                return false;
            };
            frame.next += 1;
            let (kind, loc) = (frame.include_type, frame.include_loc);
            let abs = frame.base_abs.join(&name);
            let display = frame.base_display.join(&name);
            let inherited = (frame.base_abs.clone(), frame.base_display.clone());
            if name.ends_with('/') {
                self.file_error(
                    kind,
                    INCLUDE_R,
                    loc,
                    format!("Configuration file '{name}' is a directory - skipping"),
                );
                continue;
            }
            let regular = std::fs::metadata(&abs).is_ok_and(|m| {
                use std::os::unix::fs::PermissionsExt;
                m.is_file() && m.permissions().mode() & 0o111 == 0
            });
            if !regular {
                self.file_error(
                    kind,
                    INCLUDE_R,
                    loc,
                    format!("Configuration file '{name}' is not a regular non-executable file - skipping"),
                );
                continue;
            }
            let canonical = std::fs::canonicalize(&abs).ok();
            let looping = canonical.is_some()
                && self
                    .frames
                    .iter()
                    .filter_map(|f| f.file.as_ref())
                    .any(|f| f.canonical == canonical);
            if looping {
                self.diags.push(
                    Diagnostic::error(loc, format!("include loop: '{}' is already being read", display.display()))
                        .with_hint("keepalived would include it again and again until it runs out of file descriptors; it is skipped"),
                );
                continue;
            }
            if self.frames.len() > MAX_INCLUDE_DEPTH {
                self.diags.push(Diagnostic::error(
                    loc,
                    format!(
                        "includes nested more than {MAX_INCLUDE_DEPTH} deep: '{}' is skipped",
                        display.display()
                    ),
                ));
                continue;
            }
            let text = match super::read_limited(&abs, self.opts.limits.max_bytes) {
                Ok(bytes) => String::from_utf8_lossy(&bytes).into_owned(),
                Err(e) => {
                    self.file_error(
                        kind,
                        INCLUDE_R,
                        loc,
                        format!("Configuration file '{name}' open problem ({e}) - skipping"),
                    );
                    continue;
                }
            };
            let (dir_abs, dir_display) = if name.contains('/') {
                let parent = abs.parent().map(Path::to_path_buf).unwrap_or_default();
                (
                    absolute_dir(&parent),
                    display.parent().map(Path::to_path_buf).unwrap_or_default(),
                )
            } else {
                inherited
            };
            let id = self.sources.add(display, text);
            let file = OpenFile {
                id,
                pos: 0,
                line_no: 0,
                pwd: Rc::from(dir_abs.display().to_string()),
                dir_abs,
                dir_display,
                canonical,
            };
            if let Some(frame) = self.frames.last_mut() {
                frame.file = Some(file);
            }
            return true;
        }
    }
}
