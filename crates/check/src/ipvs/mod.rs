//! The IPVS table as the checker wants it, and the commands that bring the kernel there.
//!
//! Everything here is pure: [`IpvsTable`] models services and their destinations,
//! [`plan`] computes the minimal ordered [`IpvsCommand`]s from one table to another, and an
//! [`IpvsSink`] carries each command out. The kernel sink lives in `keepalived-checker`
//! (`ipvs_kernel`); here are the [`Recorder`] (tests, and a simulated table) and the
//! [`LoggingSink`] used when the kernel has no IPVS.
//!
//! Numbers (protocols, flags, forwarding methods) are the kernel's (`include/uapi/linux/ip_vs.h`)
//! so the netlink encoder copies them without translation.

mod display;
mod plan;
mod sink;
mod table;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod scenarios;

pub use plan::{plan, plan_start, plan_stop, StopMode};
pub use sink::{IpvsSink, LoggingSink, Recorder};
pub use table::{IpvsTable, ServiceEntry};

use std::net::IpAddr;

/// `IP_VS_SVC_F_PERSISTENT`: persistent service.
pub const SVC_F_PERSISTENT: u32 = 0x0001;
/// `IP_VS_SVC_F_HASHED`: set by the kernel, never by us.
pub const SVC_F_HASHED: u32 = 0x0002;
/// `IP_VS_SVC_F_ONEPACKET`: one-packet scheduling (`ops`).
pub const SVC_F_ONEPACKET: u32 = 0x0004;
/// `IP_VS_SVC_F_SCHED1` (`flag-1`, `sh-fallback`, `mh-fallback`).
pub const SVC_F_SCHED1: u32 = 0x0008;
/// `IP_VS_SVC_F_SCHED2` (`flag-2`, `sh-port`, `mh-port`).
pub const SVC_F_SCHED2: u32 = 0x0010;
/// `IP_VS_SVC_F_SCHED3` (`flag-3`).
pub const SVC_F_SCHED3: u32 = 0x0020;

/// `IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM`.
pub const TUN_FLAG_NOCSUM: u16 = 0;
/// `IP_VS_TUNNEL_ENCAP_FLAG_CSUM`.
pub const TUN_FLAG_CSUM: u16 = 1;
/// `IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM`.
pub const TUN_FLAG_REMCSUM: u16 = 2;

/// Address family of a service (the kernel's `IPVS_SVC_ATTR_AF`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Family {
    /// `AF_INET`.
    V4,
    /// `AF_INET6`.
    V6,
}

impl Family {
    /// The family of an address.
    pub fn of(addr: &IpAddr) -> Self {
        match addr {
            IpAddr::V4(_) => Family::V4,
            IpAddr::V6(_) => Family::V6,
        }
    }

    /// The `AF_*` number (2 or 10).
    pub fn af(self) -> u16 {
        match self {
            Family::V4 => 2,
            Family::V6 => 10,
        }
    }
}

/// Transport protocol of an address-keyed service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Protocol {
    /// `IPPROTO_TCP` (6).
    Tcp,
    /// `IPPROTO_UDP` (17).
    Udp,
    /// `IPPROTO_SCTP` (132).
    Sctp,
}

impl Protocol {
    /// The `IPPROTO_*` number.
    pub fn number(self) -> u16 {
        match self {
            Protocol::Tcp => 6,
            Protocol::Udp => 17,
            Protocol::Sctp => 132,
        }
    }
}

/// What identifies a virtual service to the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ServiceKey {
    /// `virtual_server fwmark N` (the kernel forces the protocol to TCP).
    Fwmark {
        /// Address family of the service.
        family: Family,
        /// The firewall mark.
        mark: u32,
    },
    /// `virtual_server IP PORT` with its protocol.
    Addr {
        /// Transport protocol.
        protocol: Protocol,
        /// Virtual address.
        addr: IpAddr,
        /// Virtual port (0: all ports, persistent services).
        port: u16,
    },
}

impl ServiceKey {
    /// The service's address family.
    pub fn family(&self) -> Family {
        match self {
            ServiceKey::Fwmark { family, .. } => *family,
            ServiceKey::Addr { addr, .. } => Family::of(addr),
        }
    }
}

/// A virtual service: everything `IPVS_CMD_NEW_SERVICE` / `SET_SERVICE` carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Service {
    /// Identity.
    pub key: ServiceKey,
    /// Scheduler name (`lb_algo`), e.g. `"wlc"`; at most 15 bytes.
    pub scheduler: String,
    /// `IP_VS_SVC_F_*` flags (persistent, one-packet, scheduler flags).
    pub flags: u32,
    /// Persistence timeout in seconds (0 when not persistent).
    pub timeout: u32,
    /// Persistence granularity: an IPv4 netmask as a host-order u32 (`0xffff_ffff` by default)
    /// or an IPv6 prefix length (128 by default).
    pub netmask: u32,
    /// Persistence engine (`persistence_engine`, e.g. `"sip"`).
    pub pe_name: Option<String>,
}

impl Service {
    /// A non-persistent service with `scheduler` and the default netmask for its family.
    pub fn new(key: ServiceKey, scheduler: impl Into<String>) -> Self {
        let netmask = match key.family() {
            Family::V4 => 0xffff_ffff,
            Family::V6 => 128,
        };
        Service {
            key,
            scheduler: scheduler.into(),
            flags: 0,
            timeout: 0,
            netmask,
            pe_name: None,
        }
    }

    /// Makes the service persistent for `timeout` seconds (sets `IP_VS_SVC_F_PERSISTENT`).
    pub fn with_persistence(mut self, timeout: u32) -> Self {
        self.timeout = timeout;
        self.flags |= SVC_F_PERSISTENT;
        self
    }
}

/// Tunnel encapsulation of a `TUN` destination (`IPVS_DEST_ATTR_TUN_*`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TunnelKind {
    /// `IP_VS_CONN_F_TUNNEL_TYPE_IPIP` (0).
    #[default]
    Ipip,
    /// `IP_VS_CONN_F_TUNNEL_TYPE_GUE` (1) to a UDP port.
    Gue {
        /// Destination UDP port.
        port: u16,
    },
    /// `IP_VS_CONN_F_TUNNEL_TYPE_GRE` (2).
    Gre,
}

impl TunnelKind {
    /// The `IPVS_DEST_ATTR_TUN_TYPE` number.
    pub fn number(self) -> u8 {
        match self {
            TunnelKind::Ipip => 0,
            TunnelKind::Gue { .. } => 1,
            TunnelKind::Gre => 2,
        }
    }
}

/// How IPVS forwards to a destination (`lb_kind`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum FwdMethod {
    /// `IP_VS_CONN_F_MASQ` (0): NAT.
    #[default]
    Masq,
    /// `IP_VS_CONN_F_TUNNEL` (2): IP tunnelling.
    Tunnel {
        /// Encapsulation.
        kind: TunnelKind,
        /// `TUN_FLAG_*` checksum option.
        csum: u16,
    },
    /// `IP_VS_CONN_F_DROUTE` (3): direct routing.
    Route,
}

impl FwdMethod {
    /// The `IP_VS_CONN_F_*` forwarding number for `IPVS_DEST_ATTR_FWD_METHOD`.
    pub fn number(self) -> u32 {
        match self {
            FwdMethod::Masq => 0,
            FwdMethod::Tunnel { .. } => 2,
            FwdMethod::Route => 3,
        }
    }
}

/// What identifies a destination inside its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DestKey {
    /// Real server address.
    pub addr: IpAddr,
    /// Real server port.
    pub port: u16,
}

/// A real server (or sorry server) as IPVS knows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Dest {
    /// Real server address (its family may differ from the service's with tunnelling).
    pub addr: IpAddr,
    /// Real server port.
    pub port: u16,
    /// Weight; 0 keeps the destination but sends it no new connections (inhibit).
    pub weight: u32,
    /// Forwarding method.
    pub fwd: FwdMethod,
    /// Upper connection threshold (0: none).
    pub u_thresh: u32,
    /// Lower connection threshold (0: none).
    pub l_thresh: u32,
}

impl Dest {
    /// A destination with `weight` and `fwd`, no thresholds.
    pub fn new(addr: IpAddr, port: u16, weight: u32, fwd: FwdMethod) -> Self {
        Dest {
            addr,
            port,
            weight,
            fwd,
            u_thresh: 0,
            l_thresh: 0,
        }
    }

    /// Its identity inside the service.
    pub fn key(&self) -> DestKey {
        DestKey {
            addr: self.addr,
            port: self.port,
        }
    }
}

/// One change to the IPVS table, as the kernel takes it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum IpvsCommand {
    /// `IPVS_CMD_NEW_SERVICE`.
    AddService(Service),
    /// `IPVS_CMD_SET_SERVICE`: scheduler, flags, persistence changed.
    EditService(Service),
    /// `IPVS_CMD_DEL_SERVICE` (the kernel drops its destinations with it).
    DelService(ServiceKey),
    /// `IPVS_CMD_NEW_DEST`.
    AddDest(ServiceKey, Dest),
    /// `IPVS_CMD_SET_DEST`: weight, method or thresholds changed.
    EditDest(ServiceKey, Dest),
    /// `IPVS_CMD_DEL_DEST`.
    DelDest(ServiceKey, DestKey),
    /// `IPVS_CMD_FLUSH`: every service in the namespace, ours or not.
    Flush,
}

/// Why a command was not carried out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IpvsError {
    /// The service or destination is already there (`EEXIST`).
    #[error("IPVS {command}: already exists")]
    Exists {
        /// The command, in `ipvsadm` spelling.
        command: String,
    },
    /// The service or destination is not there (`ESRCH` / `ENOENT`).
    #[error("IPVS {command}: no such service or destination")]
    NotFound {
        /// The command, in `ipvsadm` spelling.
        command: String,
    },
    /// The kernel refused the command for another reason, or the socket failed.
    #[error("IPVS {command}: {reason}")]
    Failed {
        /// The command, in `ipvsadm` spelling.
        command: String,
        /// The kernel's or the socket's error.
        reason: String,
        /// The errno, when there is one.
        errno: Option<i32>,
    },
}
