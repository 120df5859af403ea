//! What goes into an instance (inputs) and what comes out (actions for the shell).

use super::params::InstanceParams;
use super::state::State;
use super::trackers::{TrackerKind, TrackerValue};
use crate::advert::{Advert, AdvertHeader};
use crate::timer::TimerId;
use std::net::IpAddr;
use std::sync::Arc;

/// An event for an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Leave INIT: enter BACKUP (or FAULT), or MASTER at once for `state MASTER`.
    Start,
    /// Leave INIT after a respawn of the VRRP process: an instance that was MASTER
    /// before becomes MASTER again at once (keepalived's `reload_master`), keeping its VIPs.
    Resume {
        /// The state last reported before the respawn was MASTER.
        was_master: bool,
    },
    /// A validated advert for this instance's VRID, from `source`.
    Advert {
        /// The advert's fixed fields ([`Advert::header`]; the addresses were checked by
        /// receive validation and play no part in the state machine).
        advert: AdvertHeader,
        /// The sender's address (the tie-breaker between equal priorities).
        source: IpAddr,
    },
    /// A timer returned by `next_timer` is due.
    Timer(TimerId),
    /// A tracker reported a new result.
    Tracker {
        /// Kind of tracker.
        kind: TrackerKind,
        /// Its name.
        name: String,
        /// The new result.
        value: TrackerValue,
    },
    /// The instance's own interface went up or down.
    Link {
        /// True for up.
        up: bool,
    },
    /// Somebody else deleted one of our virtual addresses.
    VipRemoved(IpAddr),
    /// SIGHUP arrived, the new configuration is being read: a MASTER sends one advert now
    /// (keepalived's `send_reload_advert_thread`), so backups hear from it during the reload.
    ReloadAdvert,
    /// SIGHUP: new parameters for this (matched) instance; the state is kept.
    Reload(Box<InstanceParams>),
    /// SIGTERM: leave gracefully.
    Shutdown,
}

/// A notify script slot (the shell looks up the configured command line).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NotifyScript {
    /// `notify_master`.
    Master,
    /// `notify_backup`.
    Backup,
    /// `notify_fault`.
    Fault,
    /// `notify_stop`.
    Stop,
    /// `notify_master_rx_lower_pri`.
    MasterRxLowerPri,
    /// Generic `notify`, which gets four extra arguments.
    Generic,
}

/// Log severity of a [`Action::Log`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LogLevel {
    /// LOG_INFO.
    Info,
    /// LOG_WARNING.
    Warning,
}

/// Something for the shell to do, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Send this advert to the multicast group or every unicast peer (shared with the
    /// instance, which sends the same advert again and again).
    SendAdvert(Arc<Advert>),
    /// Add these virtual addresses (and, with `routes_and_rules`, the virtual routes and rules).
    AddVips {
        /// Advertised virtual addresses.
        vips: Vec<IpAddr>,
        /// `virtual_ipaddress_excluded` addresses.
        excluded: Vec<IpAddr>,
        /// Also install `virtual_routes` / `virtual_rules`.
        routes_and_rules: bool,
    },
    /// Remove these virtual addresses (and routes and rules).
    RemoveVips {
        /// Advertised virtual addresses.
        vips: Vec<IpAddr>,
        /// `virtual_ipaddress_excluded` addresses.
        excluded: Vec<IpAddr>,
        /// Also remove `virtual_routes` / `virtual_rules`.
        routes_and_rules: bool,
    },
    /// Send `repeat` gratuitous ARPs (IPv4) or unsolicited NAs (IPv6) for each address.
    SendGarp {
        /// The addresses to announce.
        addrs: Vec<IpAddr>,
        /// Packets per address.
        repeat: u32,
    },
    /// Run a notify script with these extra arguments (empty except for the generic one).
    RunNotify {
        /// Which configured script.
        script: NotifyScript,
        /// Arguments appended to the configured command line.
        args: Vec<String>,
    },
    /// Write this line (newline included) to the VRRP notify FIFO.
    FifoWrite(String),
    /// Log this text.
    Log {
        /// Severity.
        level: LogLevel,
        /// Message text, keepalived's wording.
        text: String,
    },
    /// The state changed (for the parent's `InstanceState` report).
    StateChanged {
        /// Previous state.
        from: State,
        /// New state.
        to: State,
        /// Effective priority now.
        priority: u8,
    },
}

/// The generic `notify` arguments keepalived appends: `INSTANCE|GROUP <name> <STATE> <priority>`.
pub fn generic_notify_args(kind: &str, name: &str, state: State, priority: u8) -> Vec<String> {
    vec![
        kind.to_string(),
        name.to_string(),
        state.as_str().to_string(),
        priority.to_string(),
    ]
}

/// A VRRP FIFO line: `INSTANCE "VI_1" MASTER 100\n`.
pub fn fifo_line(kind: &str, name: &str, state: &str, priority: u8) -> String {
    format!("{kind} \"{name}\" {state} {priority}\n")
}
