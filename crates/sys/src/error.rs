//! The one error type of this crate: which operation failed, on what (interface, address,
//! path) and the OS error behind it.

use std::io;

/// Result alias used throughout `keepalived-sys`.
pub type Result<T> = std::result::Result<T, SysError>;

/// A failed system operation, with enough context to log it usefully.
#[derive(Debug, thiserror::Error)]
pub enum SysError {
    /// A system call failed.
    #[error("{what} ({context}): {source}")]
    Os {
        /// The operation, e.g. `"setsockopt IP_HDRINCL"`.
        what: &'static str,
        /// What it was applied to, e.g. `"ifindex 3"` or a path.
        context: String,
        /// The OS error (its `raw_os_error()` is the errno).
        #[source]
        source: io::Error,
    },
    /// The caller passed something the OS call cannot take (checked before the call).
    #[error("{what} ({context}): {reason}")]
    Invalid {
        /// The operation that refused the input.
        what: &'static str,
        /// What it was applied to.
        context: String,
        /// Why it was refused.
        reason: &'static str,
    },
}

impl SysError {
    /// Builds an [`SysError::Os`] from anything convertible to an `io::Error` (including
    /// `nix::errno::Errno`).
    pub fn os(
        what: &'static str,
        context: impl Into<String>,
        source: impl Into<io::Error>,
    ) -> Self {
        SysError::Os {
            what,
            context: context.into(),
            source: source.into(),
        }
    }

    /// The errno behind this error, if it came from the OS.
    pub fn errno(&self) -> Option<i32> {
        match self {
            SysError::Os { source, .. } => source.raw_os_error(),
            SysError::Invalid { .. } => None,
        }
    }

    /// The io error kind (e.g. `WouldBlock`), `InvalidInput` for [`SysError::Invalid`].
    pub fn kind(&self) -> io::ErrorKind {
        match self {
            SysError::Os { source, .. } => source.kind(),
            SysError::Invalid { .. } => io::ErrorKind::InvalidInput,
        }
    }
}

/// Attaches context to an OS-level result (`io::Result` or `nix::Result`).
pub(crate) trait OsContext<T> {
    /// Maps the error to [`SysError::Os`]; `context` is only evaluated on failure.
    fn ctx<C: Into<String>>(self, what: &'static str, context: impl FnOnce() -> C) -> Result<T>;
}

impl<T, E: Into<io::Error>> OsContext<T> for std::result::Result<T, E> {
    fn ctx<C: Into<String>>(self, what: &'static str, context: impl FnOnce() -> C) -> Result<T> {
        self.map_err(|e| SysError::os(what, context(), e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errno_and_message_carry_context() {
        let r: nix::Result<()> = Err(nix::errno::Errno::EPERM);
        let e = r.ctx("setsockopt IP_HDRINCL", || "ifindex 3").unwrap_err();
        assert_eq!(e.errno(), Some(libc::EPERM));
        let text = e.to_string();
        assert!(
            text.contains("IP_HDRINCL") && text.contains("ifindex 3"),
            "{text}"
        );
    }
}
