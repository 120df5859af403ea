//! The error of every rtnetlink operation: what was attempted, on what, and what the kernel said.

use std::io;

/// Result alias of the netlink module.
pub type Result<T> = std::result::Result<T, NetlinkError>;

/// A failed rtnetlink operation.
#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    /// A socket call (socket, bind, send, recv, setsockopt) failed.
    #[error("netlink {op}: {source}")]
    Socket {
        /// The operation, e.g. `"open route socket"`.
        op: &'static str,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The kernel refused a request with an errno.
    #[error("netlink {op} {target}: {errno}{}", ext_msg.as_ref().map(|m| format!(" ({m})")).unwrap_or_default())]
    Kernel {
        /// The operation, e.g. `"add address"`.
        op: &'static str,
        /// What it was applied to, e.g. `"192.0.2.1/24 on ifindex 3"`.
        target: String,
        /// The errno from the kernel's `NLMSG_ERROR` answer.
        errno: nix::errno::Errno,
        /// The kernel's extended-ack message, when it sent one.
        ext_msg: Option<String>,
    },
    /// A request could not be encoded (e.g. a name longer than the kernel takes).
    #[error("netlink {op} {target}: cannot build request: {reason}")]
    Build {
        /// The operation.
        op: &'static str,
        /// What it was applied to.
        target: String,
        /// Why.
        reason: String,
    },
    /// The kernel's answer could not be understood.
    #[error("netlink {op}: malformed answer: {reason}")]
    Malformed {
        /// The operation.
        op: &'static str,
        /// What was wrong.
        reason: String,
    },
    /// A change sent in a batch whose outcome is not known: the batch could not be sent, or
    /// the answers were lost before the batch's closing acknowledgement (e.g. `ENOBUFS`).
    #[error("netlink {op} {target}: {stage}: {source}")]
    Unconfirmed {
        /// The operation.
        op: &'static str,
        /// What it was applied to.
        target: String,
        /// `"not sent"` or `"answer lost"`.
        stage: &'static str,
        /// The socket error.
        #[source]
        source: io::Error,
    },
    /// A sysctl under `/proc/sys` could not be read or written.
    #[error("sysctl {path}: {source}")]
    Sysctl {
        /// The file, e.g. `/proc/sys/net/ipv4/conf/vrrp.51/arp_ignore`.
        path: String,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// A request succeeded but the expected result was not found afterwards (e.g. a new link
    /// that is not in the link table).
    #[error("netlink {op} {target}: not found afterwards")]
    Missing {
        /// The operation.
        op: &'static str,
        /// What was looked for.
        target: String,
    },
}

impl NetlinkError {
    /// The errno behind this error, if the kernel or a socket call reported one.
    pub fn errno(&self) -> Option<i32> {
        match self {
            NetlinkError::Socket { source, .. }
            | NetlinkError::Sysctl { source, .. }
            | NetlinkError::Unconfirmed { source, .. } => source.raw_os_error(),
            NetlinkError::Kernel { errno, .. } => Some(*errno as i32),
            _ => None,
        }
    }

    pub(crate) fn socket(op: &'static str, source: io::Error) -> Self {
        NetlinkError::Socket { op, source }
    }

    pub(crate) fn malformed(op: &'static str, reason: impl Into<String>) -> Self {
        NetlinkError::Malformed {
            op,
            reason: reason.into(),
        }
    }

    pub(crate) fn build(
        op: &'static str,
        target: impl Into<String>,
        reason: impl ToString,
    ) -> Self {
        NetlinkError::Build {
            op,
            target: target.into(),
            reason: reason.to_string(),
        }
    }
}

impl From<NetlinkError> for crate::error::SysError {
    /// Keeps the operation, the target and the errno; the kernel's extended-ack text goes
    /// into the context.
    fn from(e: NetlinkError) -> Self {
        match e {
            NetlinkError::Socket { op, source } => {
                crate::error::SysError::os(op, "netlink", source)
            }
            NetlinkError::Kernel {
                op,
                target,
                errno,
                ext_msg,
            } => {
                let context = match ext_msg {
                    Some(m) => format!("{target}: {m}"),
                    None => target,
                };
                crate::error::SysError::os(op, context, io::Error::from(errno))
            }
            NetlinkError::Build { op, target, reason } => crate::error::SysError::os(
                op,
                target,
                io::Error::new(io::ErrorKind::InvalidInput, reason),
            ),
            NetlinkError::Malformed { op, reason } => crate::error::SysError::os(
                op,
                "netlink answer",
                io::Error::new(io::ErrorKind::InvalidData, reason),
            ),
            NetlinkError::Sysctl { path, source } => {
                crate::error::SysError::os("sysctl", path, source)
            }
            NetlinkError::Unconfirmed {
                op,
                target,
                stage,
                source,
            } => crate::error::SysError::os(op, format!("{target} ({stage})"), source),
            NetlinkError::Missing { op, target } => crate::error::SysError::os(
                op,
                target,
                io::Error::new(io::ErrorKind::NotFound, "not found afterwards"),
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_error_names_operation_target_errno_and_message() {
        let e = NetlinkError::Kernel {
            op: "add address",
            target: "192.0.2.1/24 on ifindex 3".into(),
            errno: nix::errno::Errno::EPERM,
            ext_msg: Some("no permission".into()),
        };
        let text = e.to_string();
        assert!(
            text.contains("add address 192.0.2.1/24 on ifindex 3"),
            "{text}"
        );
        assert!(text.contains("EPERM"), "{text}");
        assert!(text.contains("(no permission)"), "{text}");
        assert_eq!(e.errno(), Some(libc::EPERM));
        let sys: crate::error::SysError = e.into();
        assert_eq!(sys.errno(), Some(libc::EPERM));
        assert!(sys.to_string().contains("no permission"), "{sys}");
    }
}
