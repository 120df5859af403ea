//! `$NAME=value` definitions and their substitution (`$NAME`, `${NAME}`, `${_RANDOM 1 9}`).
//!
//! The rules are keepalived 2.2's (`check_definition`, `find_definition`, `replace_param`):
//! * a definition line is `$NAME=value` with no blank before `=`; names are `[A-Za-z_][A-Za-z0-9_]*`;
//!   a value ending in `\` starts a multi-line definition;
//! * `$NAME` must be followed by a blank, `,`, `)` or the end of the line; `${NAME}` by anything;
//! * substitution scans left to right and rescans the substituted text at once, so it is
//!   recursive and happens at use time; an undefined name is left as written;
//! * a multi-line definition is only substituted when its use ends the line: its first line
//!   replaces the use, the others follow as lines of their own;
//! * a value starting with `~` (a generator) stops substitution of the rest of the line.
//!
//! keepalived loops forever on a definition that refers to itself; here each logical line has
//! a substitution budget, each line knows the multi-line definitions it was produced by, and a
//! definition that exhausts the budget or is used again inside its own expansion is reported
//! once and no longer substituted.

use super::linebuf::{LineBuf, Within};
use crate::diag::{ConfigClass, Diagnostic};
use crate::source::Loc;
use std::collections::HashMap;
use std::rc::Rc;

/// keepalived's line buffer size: substitution may not make a line longer than this.
pub(crate) const MAX_LINE: usize = 1023;

/// Substitutions allowed while expanding one logical line (a loop is assumed beyond it).
pub(crate) const MAX_SUBSTITUTIONS_PER_LINE: u32 = 4096;

/// At most 100 characters of `s`, for messages quoting long lines.
fn shorten(s: &str) -> String {
    match s.char_indices().nth(100) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_string(),
    }
}

/// Definitions whose value is computed at each use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Builtin {
    /// `${_PWD}`: the directory of the file being read.
    Pwd,
    /// `${_INSTANCE}`: the config id.
    Instance,
    /// `${_RANDOM [MIN [MAX]]}`.
    Random,
}

#[derive(Debug, Clone)]
struct Def {
    value: Rc<[u8]>,
    multiline: bool,
    builtin: Option<Builtin>,
    takes_params: bool,
    /// Found to expand without end: no longer substituted.
    cyclic: bool,
}

/// A multi-line definition whose first line was just substituted: the rest of its lines
/// (from `rest` in `value`) are to be read next, located at the use.
#[derive(Debug, Clone)]
pub(crate) struct MultilineUse {
    pub value: Rc<[u8]>,
    pub rest: usize,
    pub loc: Loc,
    /// The expansions the rest of the lines are produced within: this one and the ones the
    /// use was in.
    pub within: Rc<Within>,
}

/// What one substitution pass did.
#[derive(Debug, Default)]
pub(crate) struct Substituted {
    /// Whether anything was replaced (keepalived's return value: `false` also after it
    /// gave up because the line would become too long).
    pub changed: bool,
    /// Multi-line definitions started, in order.
    pub multiline: Vec<MultilineUse>,
}

/// What the current substitution may read about its surroundings.
pub(crate) struct Context<'a> {
    /// `${_PWD}`.
    pub pwd: &'a str,
    /// `${_INSTANCE}`.
    pub instance: &'a str,
}

/// All definitions in force.
#[derive(Debug)]
pub(crate) struct Defs {
    map: HashMap<Vec<u8>, Def>,
    rng: u64,
    /// Total substitution work left (bytes touched); a hostile config cannot make us spin.
    pub work_left: u64,
    work_reported: bool,
}

/// A `$NAME` / `${NAME params}` use found in a line.
struct Use {
    /// The name (a range of the line).
    name: std::ops::Range<usize>,
    /// One past the end of the use.
    end: usize,
    params: Option<std::ops::Range<usize>>,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// Parses the use starting at the `$` at `at` (syntax only; whether it is defined is checked later).
fn parse_use(text: &[u8], at: usize) -> Option<Use> {
    let mut p = at + 1;
    let braces = text.get(p) == Some(&b'{');
    if braces {
        p += 1;
    }
    if !is_name_start(*text.get(p)?) {
        return None;
    }
    let name_start = p;
    while text.get(p).is_some_and(|b| is_name_char(*b)) {
        p += 1;
    }
    let name = name_start..p;
    if braces {
        let mut params: Option<(usize, usize)> = None;
        while let Some(&b) = text.get(p) {
            if b == b' ' {
                p += 1;
            } else if b.is_ascii_digit() {
                params = Some((params.map_or(p, |(s, _)| s), p));
                p += 1;
            } else {
                break;
            }
        }
        if let Some((_, last)) = params {
            if last + 1 != p {
                return None;
            }
        }
        if text.get(p) != Some(&b'}') {
            return None;
        }
        Some(Use {
            name,
            end: p + 1,
            params: params.map(|(s, e)| s..e + 1),
        })
    } else {
        match text.get(p) {
            None | Some(b' ' | b'\t' | b',' | b')') => Some(Use {
                name,
                end: p,
                params: None,
            }),
            _ => None,
        }
    }
}

/// A `$NAME=value` line, parsed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Definition {
    pub name: Vec<u8>,
    /// The value; for a multi-line definition the first line, ending in `\n` unless empty.
    pub value: Vec<u8>,
    pub multiline: bool,
}

/// keepalived's `check_definition`: is `text` (a whole decommented line) a definition?
pub(crate) fn parse_definition(text: &[u8]) -> Option<Definition> {
    if text.first() != Some(&b'$') || !is_name_start(*text.get(1)?) {
        return None;
    }
    let mut p = 2;
    while let Some(&b) = text.get(p) {
        if b == b'=' {
            break;
        }
        if !is_name_char(b) {
            return None;
        }
        p += 1;
    }
    if text.get(p) != Some(&b'=') {
        return None;
    }
    let name = text.get(1..p)?.to_vec();
    let mut v = p + 1;
    while text.get(v).is_some_and(|b| *b == b' ' || *b == b'\t') {
        v += 1;
    }
    let mut value = text.get(v..).unwrap_or(&[]).to_vec();
    let multiline = value.last() == Some(&b'\\');
    if multiline {
        value.pop();
        while value.last().is_some_and(|b| *b == b' ' || *b == b'\t') {
            value.pop();
        }
        if !value.is_empty() {
            value.push(b'\n');
        }
    }
    Some(Definition {
        name,
        value,
        multiline,
    })
}

impl Defs {
    /// The predefined definitions, with the random generator seeded.
    pub fn new(seed: u64) -> Self {
        let mut defs = Self {
            map: HashMap::new(),
            rng: seed | 1,
            work_left: 1 << 30,
            work_reported: false,
        };
        for (name, builtin, params) in [
            ("_PWD", Builtin::Pwd, false),
            ("_INSTANCE", Builtin::Instance, false),
            ("_RANDOM", Builtin::Random, true),
        ] {
            defs.map.insert(
                name.as_bytes().to_vec(),
                Def {
                    value: Rc::from(&b""[..]),
                    multiline: false,
                    builtin: Some(builtin),
                    takes_params: params,
                    cyclic: false,
                },
            );
        }
        defs.set(b"_HASH", b"#");
        defs.set(b"_BANG", b"!");
        defs
    }

    /// Sets a one-line definition (`~SEQ`/`~LST` variables, tests).
    pub fn set(&mut self, name: &[u8], value: &[u8]) {
        self.define(name, value.to_vec(), false);
    }

    /// Records a definition, replacing an earlier one (a predefined one included).
    pub fn define(&mut self, name: &[u8], value: Vec<u8>, multiline: bool) {
        let def = Def {
            multiline: multiline && !value.is_empty(),
            value: Rc::from(value),
            builtin: None,
            takes_params: false,
            cyclic: false,
        };
        if let Some(old) = self.map.get_mut(name) {
            *old = def;
        } else {
            self.map.insert(name.to_vec(), def);
        }
    }

    fn next_random(&mut self) -> u64 {
        // xorshift64*: enough for `${_RANDOM}` and deterministic under a fixed seed.
        let mut x = self.rng;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.rng = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 33
    }

    fn random_value(
        &mut self,
        params: Option<&[u8]>,
        loc: Loc,
        diags: &mut Vec<Diagnostic>,
    ) -> Vec<u8> {
        let mut min: u64 = 0;
        let mut max: u64 = 32767;
        if let Some(p) = params {
            let text = String::from_utf8_lossy(p);
            let mut words = text.split(' ').filter(|w| !w.is_empty());
            if let Some(w) = words.next() {
                min = w.parse().unwrap_or(u64::MAX);
            }
            if let Some(w) = words.next() {
                max = w.parse().unwrap_or(u64::MAX);
            }
            if words.next().is_some() {
                diags.push(
                    Diagnostic::warning(
                        Some(loc),
                        format!("Too many parameters or extra text for ${{_RANDOM {text}}}"),
                    )
                    .with_class(ConfigClass::Ok),
                );
            }
        }
        let range = max.wrapping_sub(min).wrapping_add(1);
        let r = self.next_random();
        let val = if range == 0 { r } else { r % range };
        // keepalived prints the (unsigned) result as a signed long.
        (val.wrapping_add(min) as i64).to_string().into_bytes()
    }

    /// One substitution pass over `line` (keepalived's `replace_param`).
    ///
    /// `budget` counts substitutions for the whole logical line across passes.
    pub fn substitute(
        &mut self,
        line: &mut LineBuf,
        ctx: &Context<'_>,
        budget: &mut u32,
        diags: &mut Vec<Diagnostic>,
    ) -> Substituted {
        let mut out = Substituted::default();
        let mut pos = 0;
        while let Some(off) = line
            .text
            .get(pos..)
            .and_then(|t| t.iter().position(|b| *b == b'$'))
        {
            let at = pos + off;
            if at + 1 >= line.len() {
                break;
            }
            let Some(u) = parse_use(&line.text, at) else {
                pos = at + 1;
                continue;
            };
            let at_end = u.end == line.len();
            let name = line.text.get(u.name.clone()).unwrap_or(&[]);
            let usable = self.map.get(name).is_some_and(|d| {
                !d.cyclic && (at_end || !d.multiline) && (u.params.is_none() || d.takes_params)
            });
            if !usable {
                pos = at + 1;
                continue;
            }
            let name = name.to_vec();
            let loc = line.loc_at(at);
            // A multi-line definition used again by a line its own expansion produced repeats
            // the same lines for ever (keepalived 2.2 never stops). Within one line the budget
            // and the line length end it, as in keepalived.
            let reentered = self.map.get(&name).is_some_and(|d| {
                d.multiline && d.builtin.is_none() && Within::contains(&line.within, &d.value)
            });
            if *budget == 0 || reentered {
                if let Some(d) = self.map.get_mut(&name) {
                    d.cyclic = true;
                }
                diags.push(
                    Diagnostic::error(
                        Some(loc),
                        format!(
                            "the expansion of '${}' does not end: the definition refers to itself, directly or through other definitions",
                            String::from_utf8_lossy(&name)
                        ),
                    )
                    .with_len(u.end - at)
                    .with_hint("keepalived 2.2 hangs on such a definition; it is no longer substituted here"),
                );
                return out;
            }
            *budget -= 1;
            let Some(def) = self.map.get(&name).cloned() else {
                pos = at + 1;
                continue;
            };
            let value: Rc<[u8]> = match def.builtin {
                Some(Builtin::Pwd) => Rc::from(ctx.pwd.as_bytes()),
                Some(Builtin::Instance) => Rc::from(ctx.instance.as_bytes()),
                Some(Builtin::Random) => {
                    let params = u
                        .params
                        .clone()
                        .and_then(|r| line.text.get(r))
                        .map(<[u8]>::to_vec);
                    Rc::from(self.random_value(params.as_deref(), loc, diags))
                }
                None => def.value.clone(),
            };
            let first_len = if def.multiline {
                value
                    .iter()
                    .position(|b| *b == b'\n')
                    .unwrap_or(value.len())
            } else {
                value.len()
            };
            let new_len = line.len() - (u.end - at) + first_len;
            if new_len > MAX_LINE {
                diags.push(
                    Diagnostic::warning(
                        Some(loc),
                        format!(
                            "Parameter substitution on line '{}' would exceed maximum line length",
                            shorten(&line.lossy())
                        ),
                    )
                    .with_class(ConfigClass::Ok)
                    .with_hint(format!("keepalived lines are limited to {MAX_LINE} bytes; the rest of the line is left as written")),
                );
                out.changed = false;
                return out;
            }
            let cost = (line.len() + value.len()) as u64 + 1;
            if self.work_left < cost {
                if !self.work_reported {
                    self.work_reported = true;
                    diags.push(Diagnostic::error(
                        Some(loc),
                        "parameter substitution work limit reached; further definitions are not substituted",
                    ));
                }
                return out;
            }
            self.work_left -= cost;
            line.splice(at, u.end, value.get(..first_len).unwrap_or(&[]), loc);
            out.changed = true;
            if def.multiline {
                out.multiline.push(MultilineUse {
                    value: value.clone(),
                    rest: (first_len + 1).min(value.len()),
                    loc,
                    within: Rc::new(Within {
                        value: value.clone(),
                        outer: line.within.clone(),
                    }),
                });
            }
            let starts_generator = value
                .iter()
                .find(|b| **b != b' ' && **b != b'\t')
                .is_some_and(|b| *b == b'~');
            if starts_generator {
                break;
            }
            pos = at;
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn ctx() -> Context<'static> {
        Context {
            pwd: "/etc/k",
            instance: "vm",
        }
    }

    fn subst(defs: &mut Defs, s: &str) -> (String, Vec<Diagnostic>) {
        let mut l = LineBuf::physical(FileId(0), 1, s.as_bytes());
        let mut d = Vec::new();
        let mut budget = MAX_SUBSTITUTIONS_PER_LINE;
        let mut changed = true;
        while changed && l.contains(b'$') {
            changed = defs.substitute(&mut l, &ctx(), &mut budget, &mut d).changed;
        }
        (l.lossy(), d)
    }

    #[test]
    fn definitions_parse() {
        let d = parse_definition(b"$A=1 2").unwrap();
        assert_eq!(
            (d.name.as_slice(), d.value.as_slice(), d.multiline),
            (&b"A"[..], &b"1 2"[..], false)
        );
        assert_eq!(parse_definition(b"$A=").unwrap().value, b"");
        assert!(parse_definition(b"$A =1").is_none());
        assert!(parse_definition(b"$1A=1").is_none());
        assert!(parse_definition(b"$A").is_none());
        let m = parse_definition(b"$M= first  \\").unwrap();
        assert_eq!((m.value.as_slice(), m.multiline), (&b"first\n"[..], true));
        let e = parse_definition(b"$M=\\").unwrap();
        assert_eq!((e.value.as_slice(), e.multiline), (&b""[..], true));
    }

    #[test]
    fn recursive_at_use_time() {
        let mut defs = Defs::new(1);
        defs.set(b"ADDRESS_BASE", b"10.2.${ADDRESS_BASE_SUB}");
        defs.set(b"ADDRESS_BASE_SUB", b"0");
        assert_eq!(
            subst(&mut defs, "${ADDRESS_BASE}.100/32").0,
            "10.2.0.100/32"
        );
        defs.set(b"ADDRESS_BASE_SUB", b"10");
        assert_eq!(
            subst(&mut defs, "${ADDRESS_BASE}.100/32").0,
            "10.2.10.100/32"
        );
    }

    #[test]
    fn use_needs_a_terminator_or_braces() {
        let mut defs = Defs::new(1);
        defs.set(b"X", b"v");
        assert_eq!(
            subst(&mut defs, "$X $X,$X) $Xy ${X}y $X").0,
            "v v,v) $Xy vy v"
        );
        assert_eq!(subst(&mut defs, "${UNDEF} $UNDEF $").0, "${UNDEF} $UNDEF $");
    }

    #[test]
    fn predefined() {
        let mut defs = Defs::new(7);
        assert_eq!(subst(&mut defs, "${_PWD}/x ${_INSTANCE}").0, "/etc/k/x vm");
        assert_eq!(subst(&mut defs, "a${_HASH}b${_BANG}").0, "a#b!");
        for _ in 0..50 {
            let v: u32 = subst(&mut defs, "${_RANDOM 5 9}").0.parse().unwrap();
            assert!((5..=9).contains(&v));
        }
        let v: u32 = subst(&mut defs, "${_RANDOM}").0.parse().unwrap();
        assert!(v <= 32767);
        // Parameters only for definitions that take them.
        defs.set(b"X", b"v");
        assert_eq!(subst(&mut defs, "${X 1}").0, "${X 1}");
        assert_eq!(subst(&mut defs, "${_RANDOM 1 }").0, "${_RANDOM 1 }");
    }

    #[test]
    fn self_reference_is_reported_not_looped() {
        let mut defs = Defs::new(1);
        defs.set(b"IF", b"$IF");
        let (text, d) = subst(&mut defs, "interface $IF");
        assert_eq!(text, "interface $IF");
        assert_eq!(d.len(), 1);
        assert!(d[0].message.contains("'$IF'"), "{}", d[0].message);
        assert_eq!(d[0].loc.unwrap().col, 11);
        // Reported once; later uses stay as written.
        let (text, d) = subst(&mut defs, "x ${IF}");
        assert_eq!((text.as_str(), d.len()), ("x ${IF}", 0));
    }

    #[test]
    fn growth_stops_at_the_line_limit() {
        let mut defs = Defs::new(1);
        defs.set(b"A", b"${A}${A}");
        let (text, d) = subst(&mut defs, "${A}");
        assert!(text.len() <= MAX_LINE);
        assert!(d.iter().any(|d| d.message.contains("maximum line length")));
    }

    #[test]
    fn multiline_only_at_end() {
        let mut defs = Defs::new(1);
        defs.define(b"M", b"l1\nl2".to_vec(), true);
        let mut l = LineBuf::physical(FileId(0), 1, b"x $M y");
        let mut b = 100;
        let r = defs.substitute(&mut l, &ctx(), &mut b, &mut Vec::new());
        assert!(!r.changed);
        let mut l = LineBuf::physical(FileId(0), 1, b"x $M");
        let r = defs.substitute(&mut l, &ctx(), &mut b, &mut Vec::new());
        assert_eq!(l.text, b"x l1");
        assert_eq!(r.multiline.len(), 1);
        assert_eq!(&r.multiline[0].value[r.multiline[0].rest..], b"l2");
    }
}
