//! Errors of the lab harness.

use std::path::PathBuf;

/// Something in the lab could not be set up, queried or torn down.
#[derive(Debug, thiserror::Error)]
pub enum LabError {
    /// A command could not be started at all.
    #[error("cannot run `{cmd}`: {source}")]
    Spawn {
        /// The command line.
        cmd: String,
        /// Why it failed.
        source: std::io::Error,
    },
    /// A command ran and failed.
    #[error("`{cmd}` failed ({status}): {stderr}")]
    Failed {
        /// The command line.
        cmd: String,
        /// Its exit status.
        status: String,
        /// What it printed on stderr.
        stderr: String,
    },
    /// A file in the lab directory could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// Why it failed.
        source: std::io::Error,
    },
    /// The output of a tool did not have the expected shape.
    #[error("cannot parse output of `{cmd}`: {why}")]
    Parse {
        /// The command line.
        cmd: String,
        /// What was wrong.
        why: String,
    },
    /// A condition did not become true in time.
    #[error("timed out after {waited_ms} ms waiting for {what}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        waited_ms: u128,
    },
    /// A signal could not be delivered.
    #[error("cannot send {signal} to {target}: {source}")]
    Signal {
        /// The signal name.
        signal: String,
        /// Process or group.
        target: String,
        /// Why.
        source: nix::Error,
    },
    /// A scenario step failed; `details` holds the node states and log tails.
    #[error("{details}")]
    Scenario {
        /// What failed, then per node its addresses and the end of its daemon log.
        details: String,
    },
    /// An operation needs a running daemon.
    #[error("node {0} has no running daemon")]
    NotRunning(String),
}
