//! The thin OS layer of keepalived-rs: everything that makes a system call lives here, so the
//! rest of the workspace stays free of `unsafe`. Each `unsafe` block carries a `// SAFETY:` line.
//!
//! Every type that owns a file descriptor implements `AsRawFd`/`AsFd`, so the shells can
//! register it with their own `mio::Poll` (created after fork, as the architecture requires).
#![allow(unsafe_code)]
#![warn(clippy::undocumented_unsafe_blocks)]

pub mod error;
pub mod ipvs;
pub mod memory;
pub mod netlink;
pub mod packet;
pub mod pidfile;
pub mod process;
pub mod sched;
pub mod signals;
pub mod stages;
pub mod time_fmt;
pub mod timer;
pub mod vrrp_socket;

pub use error::{Result, SysError};
pub use packet::PacketSocket;
pub use pidfile::{PidFile, PidFileError};
pub use process::{ExitKind, Forked, Pid};
pub use signals::{SignalFd, SignalInfo};
pub use timer::DeadlineTimer;
pub use vrrp_socket::{RecvV6, VrrpSocketV4, VrrpSocketV6};
