//! The error of every IPVS operation.

use std::io;

/// A failed IPVS operation.
#[derive(Debug, thiserror::Error)]
pub enum IpvsSysError {
    /// The kernel has no `"IPVS"` generic-netlink family (no `ip_vs` module).
    #[error("IPVS not available: {reason}")]
    NotAvailable {
        /// What the kernel said.
        reason: String,
    },
    /// A socket call failed.
    #[error("IPVS {op}: {source}")]
    Socket {
        /// The operation.
        op: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The kernel refused a request.
    #[error("IPVS {op}: {errno}{}", ext_msg.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Kernel {
        /// The operation.
        op: &'static str,
        /// The errno of the kernel's answer.
        errno: nix::errno::Errno,
        /// The kernel's extended-ack text.
        ext_msg: Option<String>,
    },
    /// The request could not be encoded.
    #[error("IPVS {op}: {source}")]
    Encode {
        /// The operation.
        op: &'static str,
        /// Why.
        #[source]
        source: super::EncodeError,
    },
    /// The kernel's answer could not be understood.
    #[error("IPVS {op}: malformed answer: {reason}")]
    Malformed {
        /// The operation.
        op: &'static str,
        /// What was wrong.
        reason: String,
    },
}

impl IpvsSysError {
    /// The errno behind this error, if any.
    pub fn errno(&self) -> Option<i32> {
        match self {
            IpvsSysError::Socket { source, .. } => source.raw_os_error(),
            IpvsSysError::Kernel { errno, .. } => Some(*errno as i32),
            _ => None,
        }
    }
}
