//! systemd's readiness protocol (`sd_notify(3)`), without libsystemd: datagrams of
//! `KEY=value` lines to the socket named by `$NOTIFY_SOCKET` (a path, or `@name` for the
//! abstract namespace). Without the variable every call is a no-op.
//!
//! The parent sends `READY=1` (with `MAINPID=`) once every started child said `Ready`,
//! `RELOADING=1` with `MONOTONIC_USEC=` at SIGHUP and `READY=1` again when the reload is done or
//! refused, `STOPPING=1` at SIGTERM, and `STATUS=` lines with each. A failed send is logged at
//! debug level and otherwise ignored: systemd is a spectator, never a reason to stop.

use std::io;
use std::os::fd::{AsRawFd, RawFd};
use std::os::linux::net::SocketAddrExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};

/// The environment variable systemd sets for `Type=notify` services.
pub const NOTIFY_SOCKET: &str = "NOTIFY_SOCKET";

/// Where notifications go.
#[derive(Debug)]
pub struct Notifier {
    target: Option<(UnixDatagram, SocketAddr)>,
}

impl Notifier {
    /// A notifier that does nothing.
    pub fn disabled() -> Self {
        Self { target: None }
    }

    /// From `$NOTIFY_SOCKET`; disabled when it is unset, empty or unusable (logged).
    pub fn from_env() -> Self {
        match std::env::var_os(NOTIFY_SOCKET) {
            Some(v) if !v.is_empty() => match Self::connect(&v.to_string_lossy()) {
                Ok(n) => n,
                Err(e) => {
                    log::warn!("cannot use {NOTIFY_SOCKET}={}: {e}", v.to_string_lossy());
                    Self::disabled()
                }
            },
            _ => Self::disabled(),
        }
    }

    /// Notifies `socket`: a filesystem path, or `@name` for an abstract socket.
    pub fn connect(socket: &str) -> io::Result<Self> {
        let addr = match socket.strip_prefix('@') {
            Some(name) => SocketAddr::from_abstract_name(name.as_bytes())?,
            None if socket.starts_with('/') => SocketAddr::from_pathname(socket)?,
            None => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    "neither an absolute path nor @abstract",
                ))
            }
        };
        let sock = UnixDatagram::unbound()?;
        sock.set_nonblocking(true)?;
        Ok(Self {
            target: Some((sock, addr)),
        })
    }

    /// Whether notifications are sent at all.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// The socket's descriptor (a forked child closes it).
    pub fn raw_fd(&self) -> Option<RawFd> {
        self.target.as_ref().map(|(s, _)| s.as_raw_fd())
    }

    /// Sends one datagram of `KEY=value` lines.
    pub fn send(&self, lines: &[String]) {
        let Some((sock, addr)) = &self.target else {
            return;
        };
        let mut text = lines.join("\n");
        text.push('\n');
        if let Err(e) = sock.send_to_addr(text.as_bytes(), addr) {
            log::debug!("sd_notify failed: {e}");
        }
    }

    /// `READY=1`, `MAINPID=`, `STATUS=`.
    pub fn ready(&self, main_pid: u32, status: &str) {
        self.send(&[
            "READY=1".into(),
            format!("MAINPID={main_pid}"),
            format!("STATUS={status}"),
        ]);
    }

    /// `RELOADING=1` with the monotonic time systemd wants since v253, and `STATUS=`.
    pub fn reloading(&self) {
        let mut lines = vec!["RELOADING=1".to_string()];
        if let Some(usec) = monotonic_usec() {
            lines.push(format!("MONOTONIC_USEC={usec}"));
        }
        lines.push("STATUS=Reloading".into());
        self.send(&lines);
    }

    /// `STOPPING=1`, `STATUS=`.
    pub fn stopping(&self) {
        self.send(&["STOPPING=1".into(), "STATUS=Stopping".into()]);
    }

    /// `STATUS=` alone.
    pub fn status(&self, status: &str) {
        self.send(&[format!("STATUS={status}")]);
    }
}

/// `CLOCK_MONOTONIC` in microseconds.
pub fn monotonic_usec() -> Option<u64> {
    let ts = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC).ok()?;
    let secs = u64::try_from(ts.tv_sec()).ok()?;
    let nanos = u64::try_from(ts.tv_nsec()).ok()?;
    Some(secs.saturating_mul(1_000_000).saturating_add(nanos / 1_000))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn recv(sock: &UnixDatagram) -> String {
        let mut buf = [0u8; 512];
        let n = sock.recv(&mut buf).unwrap();
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn path_socket_gets_each_message() {
        let dir = std::env::temp_dir().join(format!("ka-notify-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("notify.sock");
        let server = UnixDatagram::bind(&path).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let n = Notifier::connect(path.to_str().unwrap()).unwrap();
        assert!(n.enabled());
        n.ready(42, "Startup complete");
        assert_eq!(
            recv(&server),
            "READY=1\nMAINPID=42\nSTATUS=Startup complete\n"
        );
        n.reloading();
        let text = recv(&server);
        assert!(text.starts_with("RELOADING=1\nMONOTONIC_USEC="), "{text}");
        let usec: u64 = text
            .lines()
            .nth(1)
            .and_then(|l| l.strip_prefix("MONOTONIC_USEC="))
            .unwrap()
            .parse()
            .unwrap();
        assert!(usec > 0);
        assert!(text.ends_with("STATUS=Reloading\n"));
        n.stopping();
        assert_eq!(recv(&server), "STOPPING=1\nSTATUS=Stopping\n");
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn abstract_socket() {
        let name = format!("ka-notify-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let server = UnixDatagram::bind_addr(&addr).unwrap();
        server
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let n = Notifier::connect(&format!("@{name}")).unwrap();
        n.status("hello");
        assert_eq!(recv(&server), "STATUS=hello\n");
    }

    #[test]
    fn disabled_and_bad_values_are_no_ops() {
        let n = Notifier::disabled();
        assert!(!n.enabled());
        n.ready(1, "x");
        assert!(Notifier::connect("relative/path").is_err());
        // Nobody listening: the send fails quietly.
        let n = Notifier::connect("/nonexistent-dir-ka/notify").unwrap();
        n.stopping();
    }
}
