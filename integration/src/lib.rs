//! Network-namespace lab for end-to-end VRRP scenarios.
//!
//! A [`Lab`] is one bridge namespace plus one namespace per [`Node`], each node wired to the
//! bridge by a veth pair. Nodes run either Debian's keepalived or keepalived-rs
//! ([`NodeKind`]), so every scenario can run keepalived/keepalived, ours/ours and mixed.
//! Everything lives inside the lab's own namespaces and documentation address ranges
//! (192.0.2.0/24, fd00::/64); nothing is routed out. Drop guards remove namespaces, nft tables
//! and processes, also when a test panics.

mod capture;
mod cluster;
mod cmd;
mod config;
mod error;
mod kinds;
mod lab;
mod monitor;
mod nft;
mod node;
mod notify;
mod procinfo;
mod wait;

pub use capture::{Advert, Capture};
pub use cluster::Cluster;
pub use config::{render, Instance, SyncGroup, TrackFile};
pub use error::LabError;
pub use kinds::{describe, kind_sets, ours_enabled, NodeKind};
pub use lab::Lab;
pub use monitor::{AddrEvent, AddrMonitor};
pub use nft::{NftGuard, Partition};
pub use node::{holders, Node};
pub use notify::NotifyLine;
pub use procinfo::{
    fd_count, parse_stats, proc_info, processes_in_ns, read_pid_file, read_stats, rss_kib,
    ticks_per_second, DaemonPids, InstanceStats, ProcInfo,
};
pub use wait::{master_down, wait_until};

/// Result type of the harness.
pub type Result<T> = std::result::Result<T, LabError>;
