//! Diagnostics: what is wrong with a configuration, where, and how serious it is.
//!
//! Every diagnostic carries the class keepalived would give it, so `--config-test` can exit
//! with keepalived's code (0, 4, 5 or 6) while printing compiler-style messages.

use crate::source::{FileId, Loc, SourceMap};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

/// How serious a diagnostic is for the operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Severity {
    /// Informational; never changes the exit code.
    Note,
    /// Something was ignored, defaulted or is unsupported; the config still runs.
    Warning,
    /// The config is wrong; keepalived would report a config error.
    Error,
}

/// keepalived's `config_err_t` classes, in keepalived's numeric order.
///
/// keepalived keeps the numerically highest class seen, so [`ConfigClass::exit_code`] of the
/// maximum over all diagnostics is the `--config-test` exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum ConfigClass {
    /// Does not affect the exit code (notes, and warnings keepalived does not count).
    Ok,
    /// A file that must exist does not (exit 4).
    FileNotFound,
    /// An interface named in the config does not exist (exit 4).
    BadInterface,
    /// The config cannot run at all (exit 4).
    Fatal,
    /// Any other config error: unknown keyword, bad value, brace mismatch (exit 5).
    General,
    /// Scripts configured without `enable_script_security`, or unsafe scripts (exit 6).
    Security,
}

impl ConfigClass {
    /// keepalived's `--config-test` exit code for this class.
    pub fn exit_code(self) -> i32 {
        match self {
            ConfigClass::Ok => 0,
            ConfigClass::FileNotFound | ConfigClass::BadInterface | ConfigClass::Fatal => 4,
            ConfigClass::General => 5,
            ConfigClass::Security => 6,
        }
    }
}

/// One finding about the configuration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// How serious it is for the operator.
    pub severity: Severity,
    /// keepalived's error class, which decides the exit code.
    pub class: ConfigClass,
    /// Where it is; `None` for whole-config findings.
    pub loc: Option<Loc>,
    /// Width of the offending text in characters, for the caret line (at least 1).
    pub len: u32,
    /// What is wrong, in one line.
    pub message: String,
    /// What to do about it, if we know.
    pub hint: Option<String>,
}

impl Diagnostic {
    /// An error of keepalived class `General` (exit 5) at `loc`.
    pub fn error(loc: Option<Loc>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            class: ConfigClass::General,
            loc,
            len: 1,
            message: message.into(),
            hint: None,
        }
    }

    /// A warning at `loc`. keepalived counts most of its warnings as config errors, so the
    /// class defaults to `General`; use [`Diagnostic::with_class`] for one it does not count.
    pub fn warning(loc: Option<Loc>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(loc, message)
        }
    }

    /// A note at `loc`; never changes the exit code.
    pub fn note(loc: Option<Loc>, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Note,
            class: ConfigClass::Ok,
            ..Self::error(loc, message)
        }
    }

    /// Sets keepalived's class.
    pub fn with_class(mut self, class: ConfigClass) -> Self {
        self.class = class;
        self
    }

    /// Sets the hint.
    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    /// Sets the width of the caret underline.
    pub fn with_len(mut self, len: usize) -> Self {
        self.len = u32::try_from(len.max(1)).unwrap_or(1);
        self
    }

    /// Renders like a compiler: `file:line:col: error: message`, the source line, a caret
    /// under the offending text, and the hint.
    pub fn render(&self, sources: &SourceMap) -> String {
        let level = match self.severity {
            Severity::Note => "note",
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        let mut out = String::new();
        match self.loc {
            Some(loc) => {
                let _ = writeln!(
                    out,
                    "{}:{}:{}: {level}: {}",
                    sources.path(loc.file).display(),
                    loc.line,
                    loc.col,
                    self.message
                );
                if let Some(text) = sources.line_text(loc.file, loc.line) {
                    let gutter = loc.line.to_string().len();
                    let _ = writeln!(out, "{:gutter$} |", "");
                    let _ = writeln!(out, "{} | {}", loc.line, text.replace('\t', " "));
                    let pad = (loc.col as usize).saturating_sub(1);
                    let _ = writeln!(
                        out,
                        "{:gutter$} | {:pad$}{}",
                        "",
                        "",
                        "^".repeat(self.len.max(1) as usize)
                    );
                }
            }
            None => {
                let _ = writeln!(out, "{level}: {}", self.message);
            }
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "  = hint: {hint}");
        }
        out
    }
}

/// Keeps a broken configuration from producing millions of diagnostics: a `~SEQ` over a typo,
/// or a file of a million bad lines, would otherwise print them all.
///
/// At most [`DiagnosticLimit::PER_LINE`] diagnostics are kept per configuration line (lines a
/// generator or a definition produced are located at the line that produced them), and at most
/// [`DiagnosticLimit::TOTAL`] in all. Each group of diagnostics left out becomes one
/// "... and N more" diagnostic, one per class so that the exit code and [`cannot_run`] stay
/// what they would have been.
#[derive(Debug, Default)]
pub struct DiagnosticLimit {
    per_line: HashMap<(FileId, u32), u32>,
    kept: usize,
    left_out: BTreeMap<(Option<(FileId, u32)>, ConfigClass), LeftOut>,
}

/// Diagnostics of one class left out at one line (or anywhere, past the total).
#[derive(Debug)]
struct LeftOut {
    count: u64,
    severity: Severity,
    loc: Option<Loc>,
}

impl DiagnosticLimit {
    /// Diagnostics kept per configuration line.
    pub const PER_LINE: u32 = 100;
    /// Diagnostics kept in all.
    pub const TOTAL: usize = 20_000;

    /// A limit with nothing counted yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `d` is within the limits (then it is counted); if not, it is counted as left out.
    pub fn admit(&mut self, d: &Diagnostic) -> bool {
        let line = d.loc.map(|l| (l.file, l.line));
        let key = if self.kept >= Self::TOTAL {
            None
        } else if let Some(line) = line {
            let seen = self.per_line.entry(line).or_insert(0);
            if *seen < Self::PER_LINE {
                *seen += 1;
                self.kept += 1;
                return true;
            }
            Some(line)
        } else {
            self.kept += 1;
            return true;
        };
        let left = self.left_out.entry((key, d.class)).or_insert(LeftOut {
            count: 0,
            severity: d.severity,
            loc: key.and(d.loc),
        });
        left.count += 1;
        left.severity = left.severity.max(d.severity);
        false
    }

    /// One diagnostic per group left out, saying how many there were.
    pub fn summaries(&self) -> Vec<Diagnostic> {
        self.left_out
            .iter()
            .map(|((line, class), left)| {
                let noun = if left.count == 1 {
                    "diagnostic"
                } else {
                    "diagnostics"
                };
                let (message, hint) = match line {
                    Some(_) => (
                        format!("... and {} more {noun} at this line", left.count),
                        format!(
                            "only the first {} at one line are shown; a ~SEQ/~LST or a definition probably repeats the same mistake",
                            Self::PER_LINE
                        ),
                    ),
                    None => (
                        format!("... and {} more {noun}", left.count),
                        format!("only the first {} are shown", Self::TOTAL),
                    ),
                };
                Diagnostic {
                    severity: left.severity,
                    class: *class,
                    loc: left.loc,
                    len: 1,
                    message,
                    hint: Some(hint),
                }
            })
            .collect()
    }
}

/// The `--config-test` exit code for a set of diagnostics (keepalived keeps the highest class).
pub fn exit_code(diags: &[Diagnostic]) -> i32 {
    diags
        .iter()
        .map(|d| d.class)
        .max()
        .unwrap_or(ConfigClass::Ok)
        .exit_code()
}

/// Whether a daemon must refuse to start with these diagnostics, as keepalived stops: a fatal
/// error, a missing interface or a missing file that must exist.
///
/// This is not `exit_code(..) >= 4`: keepalived's `-t` lets a general error (exit 5) or a script
/// security finding (exit 6) outrank a fatal one, but the daemon runs such configs, skipping
/// only the parts in error.
pub fn cannot_run(diags: &[Diagnostic]) -> bool {
    diags.iter().any(|d| {
        matches!(
            d.class,
            ConfigClass::FileNotFound | ConfigClass::BadInterface | ConfigClass::Fatal
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_with_caret_and_hint() {
        let mut sm = SourceMap::new();
        let f = sm.add(
            "k.conf",
            "vrrp_instance VI_1 {\n    priorty 100\n}\n".into(),
        );
        let d = Diagnostic::warning(Some(Loc::new(f, 2, 5)), "unknown keyword 'priorty'")
            .with_len(7)
            .with_hint("did you mean 'priority'?");
        let text = d.render(&sm);
        assert_eq!(
            text,
            "k.conf:2:5: warning: unknown keyword 'priorty'\n  |\n2 |     priorty 100\n  |     ^^^^^^^\n  = hint: did you mean 'priority'?\n"
        );
    }

    #[test]
    fn runs_with_general_and_security_findings() {
        let runs = [
            Diagnostic::error(None, "unknown keyword"),
            Diagnostic::error(None, "SECURITY VIOLATION").with_class(ConfigClass::Security),
        ];
        assert!(!cannot_run(&runs));
        assert_eq!(exit_code(&runs), 6);
        let stops = [
            Diagnostic::warning(None, "a"),
            Diagnostic::error(None, "no such interface").with_class(ConfigClass::BadInterface),
        ];
        assert!(cannot_run(&stops));
        assert_eq!(exit_code(&stops), 5);
    }

    #[test]
    fn repeats_are_limited_per_line_and_in_all() {
        let at = |line| Some(Loc::new(FileId(0), line, 1));
        let mut limit = DiagnosticLimit::new();
        let mut kept = 0;
        for i in 0..250 {
            let d = if i == 200 {
                Diagnostic::error(at(7), "no such interface").with_class(ConfigClass::BadInterface)
            } else {
                Diagnostic::warning(at(7), "unknown keyword 'x'")
            };
            kept += usize::from(limit.admit(&d));
        }
        assert_eq!(kept, DiagnosticLimit::PER_LINE as usize);
        assert!(limit.admit(&Diagnostic::warning(at(8), "other line")));
        assert!(limit.admit(&Diagnostic::note(None, "no line")));
        let summaries = limit.summaries();
        let texts: Vec<_> = summaries
            .iter()
            .map(|d| (d.message.as_str(), d.class, d.loc.map(|l| l.line)))
            .collect();
        assert_eq!(
            texts,
            [
                (
                    "... and 1 more diagnostic at this line",
                    ConfigClass::BadInterface,
                    Some(7)
                ),
                (
                    "... and 149 more diagnostics at this line",
                    ConfigClass::General,
                    Some(7)
                ),
            ]
        );
        // What the kept and the left-out diagnostics decide stays decided.
        assert!(cannot_run(&summaries));

        let mut limit = DiagnosticLimit::new();
        let kept = (0..DiagnosticLimit::TOTAL as u32 + 5)
            .filter(|i| limit.admit(&Diagnostic::warning(at(*i + 1), "x")))
            .count();
        assert_eq!(kept, DiagnosticLimit::TOTAL);
        let summaries = limit.summaries();
        assert_eq!(summaries.len(), 1);
        assert_eq!(summaries[0].message, "... and 5 more diagnostics");
        assert_eq!(summaries[0].loc, None);
    }

    #[test]
    fn highest_class_wins() {
        let d = [
            Diagnostic::error(None, "a").with_class(ConfigClass::BadInterface),
            Diagnostic::warning(None, "b"),
            Diagnostic::note(None, "c"),
        ];
        assert_eq!(exit_code(&d), 5);
        assert_eq!(exit_code(&[]), 0);
    }
}
