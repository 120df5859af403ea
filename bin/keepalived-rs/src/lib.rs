//! The keepalived-rs command line as a library target, so that tools other than the daemon
//! (the man-page renderer, `examples/manpage.rs`) describe exactly the flags the binary parses.

pub mod cli;
