//! Instance states and the reasons an instance can be held in FAULT.

use serde::{Deserialize, Serialize};
use std::fmt;

/// The state of a VRRP instance (keepalived's INIT, BACKUP, MASTER, FAULT, STOP).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum State {
    /// Created, not started yet.
    Init,
    /// Listening for the master.
    Backup,
    /// Holding the virtual addresses and advertising.
    Master,
    /// Held down by a fault (interface down, failed weight-0 tracker, sync group fault).
    Fault,
    /// Shut down.
    Stop,
}

impl State {
    /// The word keepalived uses in notify arguments, FIFO lines and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            State::Init => "INIT",
            State::Backup => "BACKUP",
            State::Master => "MASTER",
            State::Fault => "FAULT",
            State::Stop => "STOP",
        }
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why an instance is in FAULT; several can hold at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FaultFlags {
    /// The instance's own interface has no carrier or is down.
    pub interface_down: bool,
    /// A weight-0 tracker (or a file total below -253) is failing.
    pub tracker: bool,
    /// Another member of the instance's sync group is in FAULT.
    pub sync_group: bool,
}

impl FaultFlags {
    /// True when no fault holds.
    pub fn is_clear(&self) -> bool {
        !(self.interface_down || self.tracker || self.sync_group)
    }

    /// True when a fault of the instance's own (not inherited from its group) holds.
    pub fn own(&self) -> bool {
        self.interface_down || self.tracker
    }
}
