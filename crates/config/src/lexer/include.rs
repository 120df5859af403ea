//! `include` / `includer` / `includem` / `includew` / `includeb` / `includea` and
//! `include_check`: which files an include names, and which problems with them count.
//!
//! keepalived expands the file name with `glob(GLOB_MARK | GLOB_BRACE)` and counts, through
//! its own `opendir`/`lstat` hooks, directories and files that the pattern names but that do
//! not exist. This module reproduces that: csh-style `{a,b}` alternatives are expanded first
//! (each one globbed and sorted on its own, in order), then `*`, `?` and `[...]` are matched
//! one path component at a time (a leading `.` must be matched literally).

use std::path::{Path, PathBuf};

/// Error if a matched entry is a directory, unreadable, not a regular non-executable file.
pub(crate) const INCLUDE_R: u8 = 0x01;
/// Error if files named without wildcards are missing.
pub(crate) const INCLUDE_M: u8 = 0x02;
/// Error if a wildcard matches nothing.
pub(crate) const INCLUDE_W: u8 = 0x04;
/// Error if any `{...}` alternative is missing.
pub(crate) const INCLUDE_B: u8 = 0x08;
/// Every check (`includea`, `include_check` without arguments, `-e`).
pub(crate) const INCLUDE_ALL: u8 = INCLUDE_R | INCLUDE_M | INCLUDE_W | INCLUDE_B;

/// At most this many `{...}` alternatives per include (`{a,b}{c,d}...` grows exponentially).
const MAX_ALTERNATIVES: usize = 4096;

/// At most this many paths are followed per wildcard level.
const MAX_MATCHES: usize = 10_000;

/// keepalived's `is_include` + `check_include`: the include type and the file pattern (the
/// rest of the line, blanks skipped), if `text` is an include line.
pub(crate) fn parse_include(text: &[u8]) -> Option<(u8, &[u8])> {
    let rest = text.strip_prefix(b"include")?;
    let first = *rest.first()?;
    let (kind, rest) = if first.is_ascii_whitespace() {
        (0, rest.get(1..)?)
    } else {
        let kind = match first {
            b'r' => INCLUDE_R,
            b'm' => INCLUDE_R | INCLUDE_M,
            b'w' => INCLUDE_R | INCLUDE_M | INCLUDE_W,
            b'b' => INCLUDE_R | INCLUDE_B,
            b'a' => INCLUDE_ALL,
            _ => return None,
        };
        if !rest.get(1)?.is_ascii_whitespace() {
            return None;
        }
        (kind, rest.get(2..)?)
    };
    let skip = rest
        .iter()
        .take_while(|b| **b == b' ' || **b == b'\t')
        .count();
    Some((kind, rest.get(skip..).unwrap_or(&[])))
}

/// Applies an `include_check [+|-]read|match|wildcard_match|brace_match ...` line to `check`;
/// returns keepalived's messages for words it rejects.
pub(crate) fn include_check_set(check: &mut u8, words: &[&str]) -> Vec<String> {
    let mut errors = Vec::new();
    if words.is_empty() {
        *check = INCLUDE_ALL;
        return errors;
    }
    for (i, word) in words.iter().enumerate() {
        let (mode, name) = if let Some(n) = word.strip_prefix('-') {
            (-1, n)
        } else if let Some(n) = word.strip_prefix('+') {
            (1, n)
        } else {
            if i == 0 {
                *check = 0;
            } else {
                errors.push(format!(
                    "Duplicate include_check '{word}' specified - ignoring"
                ));
                continue;
            }
            (0, *word)
        };
        let flag = match name {
            "read" => INCLUDE_R,
            "match" => INCLUDE_M,
            "wildcard_match" => INCLUDE_W,
            "brace_match" => INCLUDE_B,
            _ => {
                errors.push(format!("Unknown include_check type '{name}' - ignoring"));
                0
            }
        };
        if flag != 0 {
            match mode {
                0 => *check = INCLUDE_R | flag,
                1 => *check |= flag,
                _ => *check &= !flag,
            }
        }
    }
    errors
}

/// Whether the pattern has an unescaped `{`.
pub(crate) fn has_brace(pattern: &str) -> bool {
    let b = pattern.as_bytes();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'{' => return true,
            _ => i += 1,
        }
    }
    false
}

/// glibc's `next_brace_sub`: the index of the `,` or `}` ending the alternative at `from`.
fn next_brace_sub(b: &[u8], mut i: usize) -> Option<usize> {
    let mut depth = 0usize;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'}' if depth == 0 => return Some(i),
            b',' if depth == 0 => return Some(i),
            c => {
                if c == b'}' {
                    depth -= 1;
                } else if c == b'{' {
                    depth += 1;
                }
                i += 1;
            }
        }
    }
    None
}

/// csh-style brace expansion as glibc's `GLOB_BRACE` does it; an ill-formed brace is literal.
pub(crate) fn brace_expand(pattern: &str, out: &mut Vec<String>) {
    if out.len() >= MAX_ALTERNATIVES {
        return;
    }
    let b = pattern.as_bytes();
    let mut open = None;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'\\' => i += 2,
            b'{' => {
                open = Some(i);
                break;
            }
            _ => i += 1,
        }
    }
    let Some(open) = open else {
        out.push(pattern.to_string());
        return;
    };
    let mut seps = Vec::new();
    let mut at = open + 1;
    loop {
        match next_brace_sub(b, at) {
            Some(j) => {
                seps.push(j);
                if b[j] == b'}' {
                    break;
                }
                at = j + 1;
            }
            None => {
                out.push(pattern.to_string());
                return;
            }
        }
    }
    let close = seps.last().copied().unwrap_or(open);
    let (Some(prefix), Some(rest)) = (pattern.get(..open), pattern.get(close + 1..)) else {
        out.push(pattern.to_string());
        return;
    };
    let mut start = open + 1;
    for sep in seps {
        if let Some(alt) = pattern.get(start..sep) {
            brace_expand(&format!("{prefix}{alt}{rest}"), out);
        }
        start = sep + 1;
    }
}

/// What globbing one include pattern found.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct GlobResult {
    /// Matches as glob returns them (relative patterns give relative paths; directories end in `/`).
    pub paths: Vec<String>,
    /// Files named literally that do not exist.
    pub missing_files: usize,
    /// Directories that could not be opened.
    pub missing_dirs: usize,
    /// Whether a wildcard was matched against a directory.
    pub had_wildcards: bool,
    /// Whether the pattern had too many `{...}` alternatives to expand them all.
    pub too_many: bool,
}

fn has_magic(component: &str) -> bool {
    let b = component.as_bytes();
    b.iter().any(|c| *c == b'*' || *c == b'?')
        || b.iter()
            .position(|c| *c == b'[')
            .is_some_and(|o| b[o + 1..].contains(&b']'))
}

fn unescape(component: &str) -> String {
    let mut out = String::with_capacity(component.len());
    let mut chars = component.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

fn fs_path(base: &Path, rel: &str) -> PathBuf {
    if rel.is_empty() {
        base.to_path_buf()
    } else {
        base.join(rel)
    }
}

/// Globs `pattern` with `base` as the current directory.
pub(crate) fn glob_include(pattern: &str, base: &Path) -> GlobResult {
    let mut res = GlobResult::default();
    let mut alts = Vec::new();
    brace_expand(pattern, &mut alts);
    res.too_many = alts.len() >= MAX_ALTERNATIVES;
    for alt in alts {
        let mut found = Vec::new();
        glob_one(&alt, base, &mut found, &mut res);
        found.sort();
        res.paths.extend(found);
    }
    res
}

fn mark_dir(base: &Path, rel: String) -> String {
    if !rel.ends_with('/') && fs_path(base, &rel).is_dir() {
        rel + "/"
    } else {
        rel
    }
}

fn glob_one(pattern: &str, base: &Path, found: &mut Vec<String>, res: &mut GlobResult) {
    if pattern.is_empty() {
        return;
    }
    let absolute = pattern.starts_with('/');
    let comps: Vec<&str> = pattern.split('/').filter(|c| !c.is_empty()).collect();
    if !comps.iter().any(|c| has_magic(c)) {
        let rel = unescape(pattern);
        if std::fs::symlink_metadata(fs_path(base, &rel)).is_ok() {
            found.push(mark_dir(base, rel));
        } else {
            res.missing_files += 1;
        }
        return;
    }
    let mut prefixes = vec![if absolute {
        "/".to_string()
    } else {
        String::new()
    }];
    let last = comps.len().saturating_sub(1);
    for (k, comp) in comps.iter().enumerate() {
        let is_last = k == last;
        let mut next = Vec::new();
        if has_magic(comp) {
            let pat = glob::Pattern::new(comp).ok();
            let opts = glob::MatchOptions {
                case_sensitive: true,
                require_literal_separator: true,
                require_literal_leading_dot: true,
            };
            for prefix in &prefixes {
                res.had_wildcards = true;
                let dir = fs_path(base, if prefix.is_empty() { "." } else { prefix });
                let Ok(rd) = std::fs::read_dir(&dir) else {
                    res.missing_dirs += 1;
                    continue;
                };
                let mut names: Vec<String> = rd
                    .filter_map(Result::ok)
                    .filter_map(|e| e.file_name().into_string().ok())
                    .filter(|n| match &pat {
                        Some(p) => p.matches_with(n, opts),
                        None => n == comp,
                    })
                    .collect();
                names.sort();
                for n in names {
                    let cand = format!("{prefix}{n}");
                    if is_last {
                        next.push(cand);
                    } else if fs_path(base, &cand).is_dir() {
                        next.push(cand + "/");
                    }
                }
            }
        } else {
            let lit = unescape(comp);
            for prefix in &prefixes {
                let cand = format!("{prefix}{lit}");
                let before_magic = comps
                    .get(..k)
                    .is_some_and(|c| !c.iter().any(|c| has_magic(c)));
                if before_magic {
                    // glibc opens this directory when it matches the next component.
                    next.push(cand + "/");
                } else if std::fs::symlink_metadata(fs_path(base, &cand)).is_ok() {
                    next.push(if is_last { cand } else { cand + "/" });
                } else {
                    res.missing_files += 1;
                }
            }
        }
        if next.len() > MAX_MATCHES {
            // `/*/*/*/*` would walk the whole file system.
            next.truncate(MAX_MATCHES);
            res.too_many = true;
        }
        prefixes = next;
    }
    found.extend(prefixes.into_iter().map(|p| mark_dir(base, p)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn include_lines() {
        assert_eq!(
            parse_include(b"include  a b.conf"),
            Some((0, &b"a b.conf"[..]))
        );
        assert_eq!(parse_include(b"includer x"), Some((INCLUDE_R, &b"x"[..])));
        assert_eq!(parse_include(b"includea x").unwrap().0, INCLUDE_ALL);
        assert_eq!(
            parse_include(b"includew x").unwrap().0,
            INCLUDE_R | INCLUDE_M | INCLUDE_W
        );
        assert_eq!(
            parse_include(b"includeb x").unwrap().0,
            INCLUDE_R | INCLUDE_B
        );
        assert_eq!(
            parse_include(b"includem x").unwrap().0,
            INCLUDE_R | INCLUDE_M
        );
        assert_eq!(parse_include(b"include"), None);
        assert_eq!(parse_include(b"includex y"), None);
        assert_eq!(parse_include(b"include_check read"), None);
        assert_eq!(parse_include(b"includes"), None);
    }

    #[test]
    fn include_check_words() {
        let mut c = 0;
        assert!(include_check_set(&mut c, &[]).is_empty());
        assert_eq!(c, INCLUDE_ALL);
        include_check_set(&mut c, &["match"]);
        assert_eq!(c, INCLUDE_R | INCLUDE_M);
        include_check_set(&mut c, &["+brace_match", "-read"]);
        assert_eq!(c, INCLUDE_M | INCLUDE_B);
        let e = include_check_set(&mut c, &["read", "match", "bogus"]);
        assert_eq!(e.len(), 2, "{e:?}");
        let e = include_check_set(&mut c, &["+bogus"]);
        assert_eq!(e, ["Unknown include_check type 'bogus' - ignoring"]);
    }

    #[test]
    fn braces_expand_like_glibc() {
        let mut v = Vec::new();
        brace_expand("{foo/{,cat,dog},bar}", &mut v);
        assert_eq!(v, ["foo/", "foo/cat", "foo/dog", "bar"]);
        v.clear();
        brace_expand("/t/{a,b}/{c,d}.conf", &mut v);
        assert_eq!(
            v,
            ["/t/a/c.conf", "/t/a/d.conf", "/t/b/c.conf", "/t/b/d.conf"]
        );
        v.clear();
        brace_expand("a{b", &mut v);
        assert_eq!(v, ["a{b"]);
        v.clear();
        brace_expand("a{b}c", &mut v);
        assert_eq!(v, ["abc"]);
        assert!(has_brace("x{y"));
        assert!(!has_brace("x\\{y"));
    }

    #[test]
    fn brace_bombs_are_capped() {
        let mut v = Vec::new();
        brace_expand(&"{a,b}".repeat(30), &mut v);
        assert!(v.len() <= MAX_ALTERNATIVES);
    }

    #[test]
    fn globbing_counts_missing_parts() {
        let dir = std::env::temp_dir().join(format!("kx-include-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("d")).unwrap();
        std::fs::write(dir.join("d/b.conf"), "").unwrap();
        std::fs::write(dir.join("d/a.conf"), "").unwrap();
        std::fs::write(dir.join("d/.h.conf"), "").unwrap();
        std::fs::write(dir.join("one.conf"), "").unwrap();

        let r = glob_include("d/*.conf", &dir);
        assert_eq!(r.paths, ["d/a.conf", "d/b.conf"]);
        assert_eq!(
            (r.missing_files, r.missing_dirs, r.had_wildcards),
            (0, 0, true)
        );

        let r = glob_include("nodir/*.conf", &dir);
        assert!(r.paths.is_empty());
        assert_eq!(r.missing_dirs, 1);

        let r = glob_include("d/*.cnf", &dir);
        assert!(r.paths.is_empty());
        assert_eq!(
            (r.missing_files, r.missing_dirs, r.had_wildcards),
            (0, 0, true)
        );

        let r = glob_include("{one,two}.conf", &dir);
        assert_eq!(r.paths, ["one.conf"]);
        assert_eq!(r.missing_files, 1);

        let r = glob_include("*/b.conf", &dir);
        assert_eq!(r.paths, ["d/b.conf"]);

        let r = glob_include("d", &dir);
        assert_eq!(r.paths, ["d/"]);

        let abs = format!("{}/d/a.conf", dir.display());
        assert_eq!(
            glob_include(&abs, Path::new("/nonexistent")).paths,
            std::slice::from_ref(&abs)
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
