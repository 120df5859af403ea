//! IPVS over generic netlink: the family `"IPVS"` (version 1) of `include/uapi/linux/ip_vs.h`.
//!
//! [`Ipvs::open`] resolves the family through nlctrl (`CTRL_CMD_GETFAMILY`); a kernel without
//! IPVS answers `ENOENT`, reported as [`IpvsSysError::NotAvailable`] so the caller can go on
//! without it. [`Ipvs::send`] carries out one [`IpvsRequest`] and waits for the kernel's
//! acknowledgement (5 s at most). Requests are encoded by hand ([`encode`]) so tests can check
//! every byte; the socket is neli's plain [`neli::socket::NlSocket`] (no router thread), and the
//! netlink framing of answers is read with the rtnetlink module's `wire` functions.
//!
//! The types here carry the kernel's numbers (AF, IPPROTO, `IP_VS_CONN_F_*`, flags) so this
//! layer knows nothing of the checker's model.

mod encode;
mod error;
mod socket;

pub use encode::{encode, family_id, get_family, EncodeError, IPVS_GENL_VERSION};
pub use error::IpvsSysError;
pub use socket::Ipvs;

/// The generic-netlink family name (`IPVS_GENL_NAME`).
pub const IPVS_GENL_NAME: &str = "IPVS";

use std::net::IpAddr;

/// What identifies a service to the kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceId {
    /// A firewall-mark service.
    Fwmark {
        /// `AF_INET` or `AF_INET6`.
        af: u16,
        /// The mark.
        mark: u32,
    },
    /// An address service.
    Addr {
        /// `IPPROTO_*`.
        protocol: u16,
        /// Virtual address (its family is the service's).
        addr: IpAddr,
        /// Virtual port.
        port: u16,
    },
}

impl ServiceId {
    /// The service's `AF_*`.
    pub fn af(&self) -> u16 {
        match self {
            ServiceId::Fwmark { af, .. } => *af,
            ServiceId::Addr {
                addr: IpAddr::V4(_),
                ..
            } => libc::AF_INET as u16,
            ServiceId::Addr {
                addr: IpAddr::V6(_),
                ..
            } => libc::AF_INET6 as u16,
        }
    }
}

/// A full service, as `IPVS_CMD_NEW_SERVICE` / `SET_SERVICE` need it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpec {
    /// Identity.
    pub id: ServiceId,
    /// Scheduler name, at most 15 bytes.
    pub scheduler: String,
    /// Persistence engine name, at most 15 bytes.
    pub pe_name: Option<String>,
    /// `IP_VS_SVC_F_*` flags.
    pub flags: u32,
    /// Persistence timeout, seconds.
    pub timeout: u32,
    /// IPv4: the netmask as a number (`0xffff_ff00` for /24); IPv6: the prefix length.
    pub netmask: u32,
}

/// Tunnel options of a tunnelled destination.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelSpec {
    /// `IP_VS_CONN_F_TUNNEL_TYPE_*` (IPIP 0, GUE 1, GRE 2).
    pub kind: u8,
    /// GUE port.
    pub port: u16,
    /// `IP_VS_TUNNEL_ENCAP_FLAG_*`.
    pub flags: u16,
}

/// What identifies a destination inside its service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestId {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
}

/// A full destination, as `IPVS_CMD_NEW_DEST` / `SET_DEST` need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DestSpec {
    /// Address (its family may differ from the service's).
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
    /// `IP_VS_CONN_F_*` forwarding method: MASQ 0, TUNNEL 2, DROUTE 3.
    pub fwd_method: u32,
    /// Weight.
    pub weight: u32,
    /// Upper connection threshold.
    pub u_thresh: u32,
    /// Lower connection threshold.
    pub l_thresh: u32,
    /// Tunnel attributes (sent only when set: kernels before 5.3 do not know them).
    pub tunnel: Option<TunnelSpec>,
}

/// One IPVS request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IpvsRequest {
    /// `IPVS_CMD_NEW_SERVICE`.
    NewService(ServiceSpec),
    /// `IPVS_CMD_SET_SERVICE`.
    SetService(ServiceSpec),
    /// `IPVS_CMD_DEL_SERVICE`.
    DelService(ServiceId),
    /// `IPVS_CMD_NEW_DEST`.
    NewDest(ServiceId, DestSpec),
    /// `IPVS_CMD_SET_DEST`.
    SetDest(ServiceId, DestSpec),
    /// `IPVS_CMD_DEL_DEST`.
    DelDest(ServiceId, DestId),
    /// `IPVS_CMD_FLUSH`.
    Flush,
}

impl IpvsRequest {
    /// The `IPVS_CMD_*` number.
    pub fn cmd(&self) -> u8 {
        match self {
            IpvsRequest::NewService(_) => encode::IPVS_CMD_NEW_SERVICE,
            IpvsRequest::SetService(_) => encode::IPVS_CMD_SET_SERVICE,
            IpvsRequest::DelService(_) => encode::IPVS_CMD_DEL_SERVICE,
            IpvsRequest::NewDest(..) => encode::IPVS_CMD_NEW_DEST,
            IpvsRequest::SetDest(..) => encode::IPVS_CMD_SET_DEST,
            IpvsRequest::DelDest(..) => encode::IPVS_CMD_DEL_DEST,
            IpvsRequest::Flush => encode::IPVS_CMD_FLUSH,
        }
    }

    /// A short name for errors and logs.
    pub fn op(&self) -> &'static str {
        match self {
            IpvsRequest::NewService(_) => "add service",
            IpvsRequest::SetService(_) => "edit service",
            IpvsRequest::DelService(_) => "delete service",
            IpvsRequest::NewDest(..) => "add destination",
            IpvsRequest::SetDest(..) => "edit destination",
            IpvsRequest::DelDest(..) => "delete destination",
            IpvsRequest::Flush => "flush",
        }
    }
}

#[cfg(test)]
mod tests;
