//! The messages: [`ToChild`] from the supervisor to a child, [`ToParent`] from a child to the
//! supervisor.
//!
//! Wire stability: bincode encodes an enum variant as its index, so the variants are append-only
//! within one [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION). `Hello` is variant 0 of both enums
//! with a single `u32` field and must stay so for ever: that is what lets two processes of
//! different builds still read each other's `Hello` and report a version mismatch instead of
//! garbage.

use crate::codec::decode_checked;
use crate::delta::InstanceFrom;
use crate::error::FrameError;
use keepalived_config::Config;
use serde::{Deserialize, Serialize};

/// A wall-clock time as microseconds since the Unix epoch.
///
/// Plain numbers on purpose: an `Instant` means nothing in another process, and a time that is
/// sent to a respawned child must survive the process that measured it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct UnixMicros(pub u64);

/// A request from the supervisor to a child (VRRP or checker).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToChild {
    /// The first message on a channel; see [`crate::handshake`].
    Hello {
        /// The sender's [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION).
        version: u32,
    },
    /// Run this configuration (sent once, after `Hello`); the child answers `Ready`.
    Start {
        /// The parsed and validated model; every process sees the same one.
        config: Box<Config>,
    },
    /// Replace the running configuration (SIGHUP); the child answers `ReloadDone`.
    Reload {
        /// The new model, already validated by the parent.
        config: Box<Config>,
    },
    /// Produce a dump (SIGUSR1 data or the JSON signal); the child answers `DumpReply` with the
    /// same `id`.
    Dump {
        /// Chosen by the parent to match the reply.
        id: u64,
        /// Which dump.
        format: DumpFormat,
    },
    /// Produce the statistics (SIGUSR2); the child answers `StatsReply` with the same `id`.
    Stats {
        /// Chosen by the parent to match the reply.
        id: u64,
        /// Zero the counters after reading them (keepalived's `--clear-stats` behaviour).
        clear: bool,
    },
    /// Stop: a MASTER sends its priority-0 advert, removes its VIPs, runs `notify_stop`, and the
    /// child exits.
    Shutdown,
    /// VRRP child only: a `vrrp_script` changed state in the checker (relayed by the parent).
    TrackUpdate {
        /// The `vrrp_script` block name.
        script: String,
        /// The script's state after rise/fall counting.
        good: bool,
    },
    /// VRRP child only: any other tracked object changed state.
    TrackerUpdate {
        /// What kind of object.
        kind: TrackerKind,
        /// Its name in the configuration.
        name: String,
        /// Its new status.
        status: TrackerStatus,
    },
    /// VRRP child only: sent after `Start` to a respawned child with the states its predecessor
    /// last reported, so a MASTER resumes MASTER without dropping its VIPs.
    Resume {
        /// One entry per instance, as last reported with `InstanceState`.
        last_states: Vec<InstanceStatus>,
    },
    /// VRRP child only: a SIGHUP arrived and the parent is reading the new configuration. The
    /// child takes what a reload needs from the kernel (the link and address dump) now, on
    /// the other core, instead of after `Reload` arrives. No answer; a refused reload sends
    /// nothing more.
    PrepareReload,
    /// VRRP child only: `Reload` as a change to the configuration the child runs (see
    /// [`crate::delta`]): the instances a reload leaves unchanged are not sent again. The
    /// child answers `ReloadDone`, or `ReloadNeedsFull` if it does not run the configuration
    /// the parent based this on.
    ReloadDelta {
        /// How many instances the configuration this changes has.
        base_len: u32,
        /// The new model, already validated by the parent; its `vrrp_instances` holds only
        /// the instances marked [`InstanceFrom::Sent`], in order.
        config: Box<Config>,
        /// Where each instance of the new model comes from, in order.
        order: Vec<InstanceFrom>,
    },
}

/// Which dump a [`ToChild::Dump`] asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DumpFormat {
    /// keepalived's text dump (`/tmp/keepalived.data`).
    Data,
    /// keepalived's JSON dump (`/tmp/keepalived.json`).
    Json,
}

/// The kinds of tracked object whose state the VRRP child learns from elsewhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrackerKind {
    /// A `vrrp_script` (the same as [`ToChild::TrackUpdate`]).
    Script,
    /// A `track_file` / `vrrp_track_file`.
    File,
    /// A `vrrp_track_process`.
    Process,
    /// A `bfd_instance`.
    Bfd,
}

/// The status of a tracked object.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum TrackerStatus {
    /// Up / succeeded.
    Good,
    /// Down / failed.
    Bad,
    /// A value that scales the tracker's weight (a `track_file`'s number).
    Value(i64),
}

/// A VRRP instance's state as the VRRP child reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum VrrpState {
    /// Created, not started yet.
    Init,
    /// Listening for the master.
    Backup,
    /// Holding the virtual addresses and advertising.
    Master,
    /// Held down by a fault.
    Fault,
    /// Shut down.
    Stop,
}

/// One VRRP instance's reported state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InstanceStatus {
    /// The `vrrp_instance` name.
    pub name: String,
    /// Its state.
    pub state: VrrpState,
    /// Its effective priority (after tracker weights).
    pub priority: u8,
    /// When it entered `state`.
    pub since: UnixMicros,
}

/// Severity of a [`ToParent::Log`] line (the `log` crate's levels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LogLevel {
    /// Error.
    Error,
    /// Warning.
    Warn,
    /// Informational.
    Info,
    /// Debug.
    Debug,
    /// Trace.
    Trace,
}

/// How a script process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ScriptExit {
    /// It exited with this status.
    Exited(i32),
    /// A signal killed it.
    Signaled(i32),
    /// It ran past its `timeout` and was killed.
    TimedOut,
    /// It could not be started.
    SpawnFailed,
}

/// A report from a child (VRRP or checker) to the supervisor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum ToParent {
    /// The first message on a channel; see [`crate::handshake`].
    Hello {
        /// The sender's [`PROTOCOL_VERSION`](crate::PROTOCOL_VERSION).
        version: u32,
    },
    /// `Start` was applied; the child is running.
    Ready,
    /// `Reload` was applied.
    ReloadDone {
        /// Problems met while applying it (one line each, keepalived's wording).
        warnings: Vec<String>,
    },
    /// VRRP child: an instance changed state or effective priority.
    InstanceState(InstanceStatus),
    /// The answer to `Dump`.
    DumpReply {
        /// The request's `id`.
        id: u64,
        /// The file content to write.
        text: String,
    },
    /// The answer to `Stats`.
    StatsReply {
        /// The request's `id`.
        id: u64,
        /// The file content to write.
        text: String,
    },
    /// A log line for the parent to emit (console logging, `-l`).
    Log {
        /// Its severity.
        level: LogLevel,
        /// The text.
        text: String,
    },
    /// Checker child: a `vrrp_script` changed state (after rise/fall); relayed to VRRP as
    /// `TrackUpdate`.
    ScriptResult {
        /// The `vrrp_script` block name.
        script: String,
        /// Its state after rise/fall counting.
        good: bool,
        /// How the run that decided it ended.
        exit: ScriptExit,
    },
    /// Checker child: a real server went up or down.
    RealServerState {
        /// The virtual server, as keepalived prints it (`[10.0.0.1]:tcp:80`, `FWM 5`, group name).
        vs: String,
        /// The real server, as keepalived prints it (`[192.168.0.2]:tcp:80`).
        rs: String,
        /// Whether it is now in the pool.
        up: bool,
    },
    /// VRRP child: a `ReloadDelta` did not fit the configuration it runs (logged there); the
    /// parent sends the whole new configuration as `Reload`, which the child answers.
    ReloadNeedsFull,
}

/// What both message enums share: a `Hello` to open a channel with, and their decoder.
pub trait Message: Serialize + serde::de::DeserializeOwned {
    /// `Hello` carrying `version`.
    fn hello(version: u32) -> Self;
    /// The version if this is a `Hello`.
    fn hello_version(&self) -> Option<u32>;
    /// Decodes one frame's payload; use [`decode_payload`](crate::decode_payload) or
    /// [`FrameDecoder`](crate::FrameDecoder).
    ///
    /// A method rather than a generic function so that the deserializer, instantiated for
    /// several byte limits and holding the whole configuration model, is compiled once in this
    /// crate instead of in every crate that reads messages.
    fn decode_frame(payload: &[u8]) -> Result<Self, FrameError>;
}

impl Message for ToChild {
    fn hello(version: u32) -> Self {
        Self::Hello { version }
    }
    fn hello_version(&self) -> Option<u32> {
        match self {
            Self::Hello { version } => Some(*version),
            _ => None,
        }
    }
    fn decode_frame(payload: &[u8]) -> Result<Self, FrameError> {
        decode_checked(payload)
    }
}

impl Message for ToParent {
    fn hello(version: u32) -> Self {
        Self::Hello { version }
    }
    fn hello_version(&self) -> Option<u32> {
        match self {
            Self::Hello { version } => Some(*version),
            _ => None,
        }
    }
    fn decode_frame(payload: &[u8]) -> Result<Self, FrameError> {
        decode_checked(payload)
    }
}

/// Turns a `Reload` frame (as [`crate::encode`] wrote it) into the `Start` frame of the same
/// configuration, in place: the two differ only in the variant index, the payload's first
/// byte. The parent encodes a new configuration once, sends it as `Reload`, then keeps it as
/// the `Start` for children it starts later. Returns false (and leaves `frame` alone) if it is
/// not a `Reload` frame.
pub fn retag_reload_as_start(frame: &mut [u8]) -> bool {
    retag(frame, false)
}

/// The reverse of [`retag_reload_as_start`]: the kept `Start` frame becomes a `Reload` again,
/// for a child that could not apply a `ReloadDelta`.
pub fn retag_start_as_reload(frame: &mut [u8]) -> bool {
    retag(frame, true)
}

fn retag(frame: &mut [u8], to_reload: bool) -> bool {
    let tag_of = |msg: &ToChild| {
        crate::encode(msg)
            .ok()
            .and_then(|f| f.get(crate::HEADER_LEN..).map(<[u8]>::to_vec))
    };
    let empty = || Box::new(Config::default());
    let (Some(start), Some(reload)) = (
        tag_of(&ToChild::Start { config: empty() }),
        tag_of(&ToChild::Reload { config: empty() }),
    ) else {
        return false;
    };
    // Both tags must be one byte, with the same bytes after them.
    match (start.split_first(), reload.split_first()) {
        (Some((&s, s_rest)), Some((&r, r_rest))) if s_rest == r_rest => {
            let (from, to) = if to_reload { (s, r) } else { (r, s) };
            match frame.get_mut(crate::HEADER_LEN) {
                Some(tag) if *tag == from => {
                    *tag = to;
                    true
                }
                _ => false,
            }
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_with(router_id: &str) -> Box<Config> {
        let mut c = Config::default();
        c.global.router_id = Some(router_id.to_string());
        Box::new(c)
    }

    #[test]
    fn a_retagged_reload_frame_is_the_start_frame() {
        let config = config_with("lb-1");
        let mut frame = crate::encode(&ToChild::Reload {
            config: config.clone(),
        })
        .unwrap();
        let reload_frame = frame.clone();
        assert!(retag_reload_as_start(&mut frame));
        assert_eq!(frame, crate::encode(&ToChild::Start { config }).unwrap());
        let mut back = frame.clone();
        assert!(retag_start_as_reload(&mut back));
        assert_eq!(back, reload_frame);
        assert!(!retag_start_as_reload(&mut back), "already a Reload");
        let decoded: ToChild = crate::decode_payload(&frame[crate::HEADER_LEN..]).unwrap();
        assert!(
            matches!(decoded, ToChild::Start { config } if config.global.router_id.as_deref() == Some("lb-1"))
        );
    }

    #[test]
    fn other_frames_are_left_alone() {
        for msg in [
            ToChild::Start {
                config: config_with("x"),
            },
            ToChild::Shutdown,
        ] {
            let mut frame = crate::encode(&msg).unwrap();
            let before = frame.clone();
            assert!(!retag_reload_as_start(&mut frame));
            assert_eq!(frame, before);
        }
        assert!(!retag_reload_as_start(&mut []));
    }
}
