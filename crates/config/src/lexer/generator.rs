//! `~SEQ(var, [start,] [step,] end)`, `~SEQx(...)` and `~LST(var, v1, v2, ...)` /
//! `~LST({a,b}, {1,2}, ...)`: a line starting with one of these repeats the rest of the line
//! once per value, with `$var` (or each variable of the list) defined to that value.
//!
//! Parsing follows keepalived 2.2's `add_seq` / `add_lst`, including its leniencies (numbers
//! are read like `strtol(…, 0)`: `0x` hex and leading-`0` octal; a missing number reads as 0;
//! missing `~LST` values are empty).

use super::linebuf::LineBuf;

/// A generator waiting to produce its next line.
#[derive(Debug, Clone)]
pub(crate) struct Generator {
    kind: Kind,
    /// The text repeated for each value (what follows the closing `)`).
    pub text: LineBuf,
}

#[derive(Debug, Clone)]
enum Kind {
    Seq {
        var: Vec<u8>,
        next: i64,
        last: i64,
        step: i64,
        hex: bool,
    },
    Lst {
        vars: Vec<Vec<u8>>,
        sets: Vec<Vec<Vec<u8>>>,
        next: usize,
    },
}

/// Why a generator line was rejected: keepalived's message (without the generic
/// "Invalid ~SEQ specification" it adds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct GenError(pub Option<String>);

fn skip_blanks(t: &[u8], mut p: usize) -> usize {
    while t.get(p).is_some_and(|b| *b == b' ' || *b == b'\t') {
        p += 1;
    }
    p
}

/// C's `strtol(s, &end, 0)`: returns the value and the index after it (`p` if no number).
fn strtol0(t: &[u8], p: usize) -> (i64, usize) {
    let mut q = p;
    while t.get(q).is_some_and(|b| b.is_ascii_whitespace()) {
        q += 1;
    }
    let neg = match t.get(q) {
        Some(b'-') => {
            q += 1;
            true
        }
        Some(b'+') => {
            q += 1;
            false
        }
        _ => false,
    };
    let (radix, mut d) = if t.get(q) == Some(&b'0')
        && matches!(t.get(q + 1), Some(b'x' | b'X'))
        && t.get(q + 2).is_some_and(u8::is_ascii_hexdigit)
    {
        (16, q + 2)
    } else if t.get(q) == Some(&b'0') {
        (8, q)
    } else {
        (10, q)
    };
    let start = d;
    let mut val: i64 = 0;
    while let Some(v) = t.get(d).and_then(|b| (*b as char).to_digit(radix)) {
        val = val
            .saturating_mul(i64::from(radix))
            .saturating_add(i64::from(v));
        d += 1;
    }
    if d == start {
        return (0, p);
    }
    (if neg { val.saturating_neg() } else { val }, d)
}

/// Parses the parameters of a `~SEQ`, given `params` = the text after `(var,` up to and
/// including the `)` (definitions already substituted). Returns `(start, step, end)`.
pub(crate) fn seq_numbers(
    params: &[u8],
    whole: &str,
    hex: bool,
) -> Result<(i64, i64, i64), GenError> {
    let invalid = || GenError(Some(format!("Invalid ~SEQ definition '{whole}'")));
    let (one, p) = strtol0(params, 0);
    let p = skip_blanks(params, p);
    let (start, step, end) = if params.get(p) == Some(&b')') {
        let end = one;
        (
            if end < 0 { -1 } else { 1 },
            if end < 1 { -1 } else { 1 },
            end,
        )
    } else {
        if params.get(p) != Some(&b',') {
            return Err(invalid());
        }
        let (two, p) = strtol0(params, p + 1);
        let p = skip_blanks(params, p);
        if params.get(p) == Some(&b')') {
            (one, if one <= two { 1 } else { -1 }, two)
        } else {
            if params.get(p) != Some(&b',') {
                return Err(invalid());
            }
            let (three, p) = strtol0(params, p + 1);
            let p = skip_blanks(params, p);
            if params.get(p) != Some(&b')') {
                return Err(invalid());
            }
            let (start, step, end) = (one, two, three);
            if step == 0 || (start < end && step < 0) || (start > end && step > 0) {
                return Err(GenError(Some(format!("Invalid ~SEQ values '{whole}'"))));
            }
            (start, step, end)
        }
    };
    if hex && (start < 0 || end < 0) {
        return Err(GenError(Some(format!(
            "~SEQx is only valid for positive numbers '{whole}'"
        ))));
    }
    Ok((start, step, end))
}

/// The pieces of a `~SEQ(` line before its numbers are read.
pub(crate) struct SeqHead {
    pub hex: bool,
    pub var: Vec<u8>,
    /// Index in the line of the parameter text after the variable.
    pub params_start: usize,
    /// Index of the closing `)`.
    pub close: usize,
}

/// keepalived's limit on the text of the `~SEQ` numbers (three longs and separators).
pub(crate) const SEQ_PARAMS_MAX: usize = 3 * 20 + 3;

/// Splits `~SEQ(var, ...)`: variable and where the numbers are.
pub(crate) fn seq_head(t: &[u8]) -> Result<SeqHead, GenError> {
    let whole = String::from_utf8_lossy(t);
    let invalid = || GenError(Some(format!("Invalid ~SEQ definition '{whole}'")));
    let mut p = 4;
    let hex = t.get(p) == Some(&b'x');
    if hex {
        p += 1;
    }
    p = skip_blanks(t, p);
    if t.get(p) != Some(&b'(') {
        return Err(GenError(None));
    }
    p = skip_blanks(t, p + 1);
    let var_start = p;
    while t
        .get(p)
        .is_some_and(|b| !matches!(b, b' ' | b'\t' | b',' | b')'))
    {
        p += 1;
    }
    let var = t.get(var_start..p).unwrap_or(&[]).to_vec();
    p = skip_blanks(t, p);
    if p >= t.len() || t.get(p) == Some(&b')') || var.is_empty() {
        return Err(invalid());
    }
    // keepalived skips one character here whatever it is (normally the ',').
    p = skip_blanks(t, p + 1);
    let Some(close) = t
        .get(p..)
        .and_then(|r| r.iter().position(|b| *b == b')'))
        .map(|o| p + o)
    else {
        return Err(invalid());
    };
    if close + 1 - p > SEQ_PARAMS_MAX {
        return Err(GenError(Some(format!(
            "~SEQ parameter strings too long '{whole}'"
        ))));
    }
    Ok(SeqHead {
        hex,
        var,
        params_start: p,
        close,
    })
}

/// Builds a `~SEQ` generator from its parts; `text` is the line after the `)`.
pub(crate) fn seq(
    var: Vec<u8>,
    (start, step, end): (i64, i64, i64),
    hex: bool,
    text: LineBuf,
) -> Generator {
    Generator {
        kind: Kind::Seq {
            var,
            next: start,
            last: end,
            step,
            hex,
        },
        text,
    }
}

/// Parses a whole `~LST(...) rest` line.
pub(crate) fn lst(line: &LineBuf) -> Result<Generator, GenError> {
    let t = &line.text;
    let whole = String::from_utf8_lossy(t);
    let fail = || GenError(None);
    let mut p = skip_blanks(t, 4);
    if t.get(p) != Some(&b'(') {
        return Err(fail());
    }
    p = skip_blanks(t, p + 1);
    let mut end_char = b',';
    if t.get(p) == Some(&b'{') {
        end_char = b'}';
        p = skip_blanks(t, p + 1);
    }
    let mut vars = Vec::new();
    loop {
        let s = p;
        while t
            .get(p)
            .is_some_and(|b| !matches!(b, b' ' | b'\t' | b',' | b'}'))
        {
            p += 1;
        }
        vars.push(t.get(s..p).unwrap_or(&[]).to_vec());
        p = skip_blanks(t, p);
        match t.get(p) {
            Some(&c) if c == end_char => break,
            Some(b',') => p = skip_blanks(t, p + 1),
            _ => return Err(fail()),
        }
    }
    if t.get(p) == Some(&b'}') {
        p = skip_blanks(t, p + 1);
    }
    if t.get(p) != Some(&b',') {
        return Err(fail());
    }
    p = skip_blanks(t, p + 1);
    let mut sets = Vec::new();
    loop {
        let mut end_char = b',';
        if t.get(p) == Some(&b'{') {
            end_char = b'}';
            p = skip_blanks(t, p + 1);
        }
        let mut values = Vec::new();
        loop {
            let s = p;
            while t
                .get(p)
                .is_some_and(|b| !matches!(b, b' ' | b'\t' | b',' | b'}' | b')'))
            {
                p += 1;
            }
            values.push(t.get(s..p).unwrap_or(&[]).to_vec());
            p = skip_blanks(t, p);
            match t.get(p) {
                Some(&c) if c == end_char || (c == b')' && end_char == b',') => break,
                Some(b',') => p = skip_blanks(t, p + 1),
                _ => return Err(fail()),
            }
            // A ',' after as many values as variables: one too many.
            if values.len() >= vars.len() {
                return Err(GenError(Some(format!(
                    "~LST specification has too many values '{whole}'"
                ))));
            }
        }
        values.resize(vars.len(), Vec::new());
        sets.push(values);
        if t.get(p) == Some(&b'}') && end_char == b'}' {
            p = skip_blanks(t, p + 1);
        }
        match t.get(p) {
            Some(b')') => break,
            Some(b',') => p = skip_blanks(t, p + 1),
            _ => return Err(fail()),
        }
    }
    p = skip_blanks(t, p + 1);
    let mut text = line.clone();
    text.drain_front(p);
    Ok(Generator {
        kind: Kind::Lst {
            vars,
            sets,
            next: 0,
        },
        text,
    })
}

/// `(name, value)` pairs to define.
pub(crate) type Assignments = Vec<(Vec<u8>, Vec<u8>)>;

impl Generator {
    /// The definitions for the next repetition, and whether this was the last one.
    pub fn next_values(&mut self) -> (Assignments, bool) {
        match &mut self.kind {
            Kind::Seq {
                var,
                next,
                last,
                step,
                hex,
            } => {
                let val = if *hex {
                    format!("{:x}", *next as u64)
                } else {
                    next.to_string()
                };
                let done = match next.checked_add(*step) {
                    Some(n) => {
                        *next = n;
                        (*step > 0 && n > *last) || (*step < 0 && n < *last)
                    }
                    None => true,
                };
                (vec![(var.clone(), val.into_bytes())], done)
            }
            Kind::Lst { vars, sets, next } => {
                let set = sets.get(*next).cloned().unwrap_or_default();
                *next += 1;
                let done = *next >= sets.len();
                (vars.iter().cloned().zip(set).collect(), done)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::source::FileId;

    fn run(g: &mut Generator) -> Vec<Vec<(String, String)>> {
        let mut out = Vec::new();
        loop {
            let (vals, done) = g.next_values();
            out.push(
                vals.into_iter()
                    .map(|(a, b)| (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap()))
                    .collect(),
            );
            if done {
                return out;
            }
        }
    }

    fn seq_of(s: &str) -> Result<Vec<String>, GenError> {
        let t = s.as_bytes();
        let h = seq_head(t)?;
        let nums = seq_numbers(&t[h.params_start..=h.close], s, h.hex)?;
        let mut g = seq(h.var, nums, h.hex, LineBuf::default());
        Ok(run(&mut g).into_iter().map(|v| v[0].1.clone()).collect())
    }

    #[test]
    fn seq_forms() {
        assert_eq!(seq_of("~SEQ(A, 0, 3) x").unwrap(), ["0", "1", "2", "3"]);
        assert_eq!(seq_of("~SEQ(A,3)").unwrap(), ["1", "2", "3"]);
        assert_eq!(seq_of("~SEQ(A,-2)").unwrap(), ["-1", "-2"]);
        assert_eq!(seq_of("~SEQ(A,0)").unwrap(), ["1", "0"]);
        assert_eq!(seq_of("~SEQ(A,5,3)").unwrap(), ["5", "4", "3"]);
        assert_eq!(seq_of("~SEQ(A,1,2,6)").unwrap(), ["1", "3", "5"]);
        assert_eq!(
            seq_of("~SEQx(A, 144, 16, 192)").unwrap(),
            ["90", "a0", "b0", "c0"]
        );
        assert_eq!(seq_of("~SEQx(A, 0x12, -1, 0x0c)").unwrap().len(), 7);
        assert_eq!(seq_of("~SEQ(A, 010)").unwrap().len(), 8);
    }

    #[test]
    fn seq_errors() {
        assert!(seq_of("~SEQ(A, 1, 0, 3)")
            .unwrap_err()
            .0
            .unwrap()
            .starts_with("Invalid ~SEQ values"));
        assert!(seq_of("~SEQ(A, 3, 1, 1)").is_err());
        assert!(seq_of("~SEQ(A)").is_err());
        assert!(seq_of("~SEQ(A, 1").is_err());
        assert!(seq_of("~SEQ A").unwrap_err().0.is_none());
        assert!(seq_of("~SEQx(A, -1, 3)")
            .unwrap_err()
            .0
            .unwrap()
            .contains("positive"));
        assert!(seq_of("~SEQ(A, 1, 2; 3)").is_err());
        let long = format!("~SEQ(A, {})", "1".repeat(80));
        assert!(seq_of(&long).unwrap_err().0.unwrap().contains("too long"));
    }

    #[test]
    fn seq_at_the_edge_of_i64_ends() {
        let v = seq_of("~SEQ(A, 9223372036854775806, 9223372036854775807)").unwrap();
        assert_eq!(v.len(), 2);
    }

    type Sets = Vec<Vec<(String, String)>>;

    fn lst_of(s: &str) -> Result<(Sets, String), GenError> {
        let l = LineBuf::physical(FileId(0), 1, s.as_bytes());
        let mut g = lst(&l)?;
        let text = g.text.lossy();
        Ok((run(&mut g), text))
    }

    #[test]
    fn lst_forms() {
        let (v, text) = lst_of("~LST(IP, 1, 2, 3) x${IP}").unwrap();
        assert_eq!(text, "x${IP}");
        assert_eq!(
            v.iter().map(|s| s[0].1.as_str()).collect::<Vec<_>>(),
            ["1", "2", "3"]
        );
        let (v, _) = lst_of("~LST({IP, IP1}, {10,1},{20,4},{5}) y").unwrap();
        assert_eq!(v.len(), 3);
        assert_eq!(
            v[1],
            [("IP".into(), "20".into()), ("IP1".into(), "4".into())]
        );
        assert_eq!(v[2][1].1, "");
        let (v, _) = lst_of("~LST({INST,PREF},{,10.1.7.}, {6,fd00::}) $BFD").unwrap();
        assert_eq!(
            v[0],
            [
                ("INST".into(), "".into()),
                ("PREF".into(), "10.1.7.".into())
            ]
        );
    }

    #[test]
    fn lst_errors() {
        assert!(lst_of("~LST({A,B},{1,2,3}) x")
            .unwrap_err()
            .0
            .unwrap()
            .contains("too many"));
        assert!(lst_of("~LST(A 1) x").is_err());
        assert!(lst_of("~LST(A, 1").is_err());
        assert!(lst_of("~LST A").is_err());
    }
}
