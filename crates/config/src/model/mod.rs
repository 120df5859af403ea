//! The typed configuration model: what a keepalived.conf says, with keepalived's defaults.
//!
//! Every type is plain data (serde `Serialize + Deserialize`) so the parent can send the
//! model to its children. The VRRP side lives in the submodules here; the LVS side in
//! [`lvs`].

pub mod lvs;

use serde::{Deserialize, Serialize};

/// A script command as written in the config, plus its argv as keepalived splits it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Script {
    /// The command text after the keyword, as written (quotes kept).
    pub command: String,
    /// The command split with keepalived's quoting and escape rules; `argv[0]` is the program.
    pub argv: Vec<String>,
}

/// A whole keepalived configuration.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Config {
    /// `virtual_server_group` blocks.
    pub virtual_server_groups: Vec<lvs::VirtualServerGroup>,
    /// `virtual_server` blocks.
    pub virtual_servers: Vec<lvs::VirtualServer>,
    /// The top-level `SSL` block.
    pub ssl: Option<lvs::SslConfig>,
}
