//! The pure (sans-IO) core of keepalived-rs's health checker: everything that decides, with the
//! time passed in and actions returned; the checker child (`keepalived-checker`) does the I/O.

pub mod script;
pub mod ipvs;
pub mod http;
pub mod quorum;
pub mod realserver;
pub mod virtualserver;
pub mod misc;
pub mod tcp;
