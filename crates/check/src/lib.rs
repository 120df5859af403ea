//! The pure (sans-IO) core of keepalived-rs's health checker: everything that decides, with the
//! time passed in and actions returned; the checker child (`keepalived-checker`) does the I/O.

pub mod dns;
pub mod filecheck;
#[doc(hidden)]
pub mod fuzzing;
pub mod http;
pub mod icmp;
pub mod ipvs;
pub mod misc;
pub mod quorum;
pub mod realserver;
pub mod script;
pub mod smtp;
pub mod tcp;
pub mod udp;
pub mod virtualserver;
