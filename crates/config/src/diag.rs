//! Diagnostics: what is wrong with a configuration, where, and how serious it is.
//!
//! Every diagnostic carries the class keepalived would give it, so `--config-test` can exit
//! with keepalived's code (0, 4, 5 or 6) while printing compiler-style messages.

use crate::source::{Loc, SourceMap};
use serde::{Deserialize, Serialize};
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
