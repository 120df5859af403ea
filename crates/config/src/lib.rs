//! keepalived.conf for keepalived-rs: preprocessing, parsing into a typed model, and the
//! semantic checks keepalived makes, with compiler-style diagnostics.
//!
//! Pure: apart from reading the configuration files themselves it touches no OS state.
//! Facts about the running system that checks need (interfaces, users) are passed in.

pub mod diag;
pub mod lexer;
pub mod source;

pub use diag::{exit_code, ConfigClass, Diagnostic, Severity};
pub use source::{FileId, Loc, SourceMap};
