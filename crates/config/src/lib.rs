//! keepalived.conf for keepalived-rs: preprocessing, parsing into a typed model, and the
//! semantic checks keepalived makes, with compiler-style diagnostics.
//!
//! Pure: apart from reading the configuration files themselves it touches no OS state.
//! Facts about the running system that checks need (interfaces, users) are passed in
//! through [`Host`].
//!
//! ```
//! use keepalived_config::{load_str, AssumeAll, LoadOptions};
//! let loaded = load_str("k.conf", "vrrp_instance VI_1 {\n}\n", &LoadOptions::default(), &AssumeAll);
//! let _exit = keepalived_config::exit_code(&loaded.diagnostics);
//! ```

pub mod diag;
#[doc(hidden)]
pub mod fuzzing;
pub mod host;
pub mod lexer;
pub mod model;
pub mod parse;
pub mod source;
pub mod validate;

pub use diag::{cannot_run, exit_code, ConfigClass, Diagnostic, DiagnosticLimit, Severity};
pub use host::{AssumeAll, FileMeta, Host};
pub use model::Config;
pub use source::{FileId, Loc, SourceMap};

use std::path::Path;

/// Settings for loading a configuration.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// The config id (`-i`) for `@id` / `@^id` lines; keepalived's default is the host name
    /// up to the first `.`, which the caller supplies.
    pub config_id: String,
}

/// The result of loading a configuration: the model, everything found wrong with it, and
/// the files read (to render the diagnostics).
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The configuration, with keepalived's defaults and corrections applied.
    pub config: Config,
    /// Every problem found, in order; [`exit_code`] gives keepalived's `-t` exit code. Repeats
    /// beyond [`DiagnosticLimit`] are summed up at the end.
    pub diagnostics: Vec<Diagnostic>,
    /// The files read.
    pub sources: SourceMap,
}

/// Reads, parses and validates the configuration at `path` (and everything it includes).
pub fn load(path: &Path, opts: &LoadOptions, host: &dyn Host) -> Loaded {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let mut limit = DiagnosticLimit::new();
    let lexed = lexer::read_config_limited(
        path,
        &preprocess_options(opts),
        &mut sources,
        &mut diagnostics,
        &mut limit,
    );
    finish(lexed, sources, diagnostics, limit, host, Path::new("."))
}

/// Parses and validates configuration text named `name` (for tests and fuzzing).
pub fn load_str(name: &str, text: &str, opts: &LoadOptions, host: &dyn Host) -> Loaded {
    let mut sources = SourceMap::new();
    let mut diagnostics = Vec::new();
    let mut limit = DiagnosticLimit::new();
    let lexed = lexer::lex_str_limited(
        Path::new(name),
        text.to_string(),
        &preprocess_options(opts),
        &mut sources,
        &mut diagnostics,
        &mut limit,
    );
    finish(lexed, sources, diagnostics, limit, host, Path::new("."))
}

// The lexer may grow options of its own: keep its defaults for them.
#[allow(clippy::needless_update)]
fn preprocess_options(opts: &LoadOptions) -> lexer::PreprocessOptions {
    lexer::PreprocessOptions {
        config_id: opts.config_id.clone(),
        ..Default::default()
    }
}

fn finish(
    lexed: lexer::Lexed,
    sources: SourceMap,
    mut diagnostics: Vec<Diagnostic>,
    limit: DiagnosticLimit,
    host: &dyn Host,
    base: &Path,
) -> Loaded {
    let mut ctx = parse::framework::Ctx::new();
    ctx.limit = limit;
    let mut config = {
        let (text, spans) = lexed.into_parts();
        let (tokens, spans) = spans.tokens(&text);
        parse::parse(spans.lines(&text, &tokens), &mut ctx)
        // The lexer's text and words go here, before validation builds its maps.
    };
    diagnostics.append(&mut ctx.diags);
    let mut limit = ctx.limit;
    let checked = diagnostics.len();
    validate::validate_in(&mut config, host, base, &mut diagnostics);
    if diagnostics.len() > checked {
        let found = diagnostics.split_off(checked);
        diagnostics.extend(found.into_iter().filter(|d| limit.admit(d)));
    }
    diagnostics.extend(limit.summaries());
    Loaded {
        config,
        diagnostics,
        sources,
    }
}
