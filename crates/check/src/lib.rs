//! The pure (sans-IO) core of keepalived-rs's health checker: everything that decides, with the
//! time passed in and actions returned; the checker child (`keepalived-checker`) does the I/O.

pub mod http;
pub mod ipvs;
pub mod misc;
pub mod quorum;
pub mod realserver;
pub mod script;
pub mod tcp;
pub mod virtualserver;
