//! The checker child's channel to the parent: the blocking handshake (`Hello` both ways,
//! then `Start`), then a non-blocking stream read and written from the event loop.

use keepalived_config::Config;
use keepalived_ipc::{check_hello, encode, encode_into, hello, FrameDecoder, ToChild, ToParent};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::net::UnixStream;

/// Why the channel cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum IpcError {
    /// Reading or writing the socket failed.
    #[error("IPC I/O: {0}")]
    Io(#[from] std::io::Error),
    /// A frame could not be encoded or decoded, or the handshake was wrong.
    #[error("IPC: {0}")]
    Protocol(String),
    /// The parent closed the channel (or said `Shutdown` before `Start`).
    #[error("IPC: the parent closed the channel")]
    Closed,
}

/// The connected channel.
#[derive(Debug)]
pub struct Ipc {
    stream: UnixStream,
    decoder: FrameDecoder<ToChild>,
    out: Vec<u8>,
}

fn read_one(
    stream: &mut UnixStream,
    decoder: &mut FrameDecoder<ToChild>,
) -> Result<ToChild, IpcError> {
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        if let Some(m) = decoder
            .pop()
            .map_err(|e| IpcError::Protocol(e.to_string()))?
        {
            return Ok(m);
        }
        let n = match stream.read(&mut buf) {
            Ok(0) => return Err(IpcError::Closed),
            Ok(n) => n,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e.into()),
        };
        decoder
            .push(buf.get(..n).unwrap_or_default())
            .map_err(|e| IpcError::Protocol(e.to_string()))?;
    }
}

impl Ipc {
    /// Says `Hello`, checks the parent's, and waits for `Start`; returns the channel (now
    /// non-blocking) and the configuration to run.
    pub fn handshake(mut stream: UnixStream) -> Result<(Ipc, Config), IpcError> {
        let bytes = encode(&hello::<ToParent>()).map_err(|e| IpcError::Protocol(e.to_string()))?;
        stream.write_all(&bytes)?;
        let mut decoder = FrameDecoder::new();
        let first = read_one(&mut stream, &mut decoder)?;
        check_hello(&first).map_err(|e| IpcError::Protocol(e.to_string()))?;
        let config = loop {
            match read_one(&mut stream, &mut decoder)? {
                ToChild::Start { config } => break *config,
                ToChild::Shutdown => return Err(IpcError::Closed),
                other => log::warn!("IPC: {} before Start ignored", variant(&other)),
            }
        };
        stream.set_nonblocking(true)?;
        Ok((
            Ipc {
                stream,
                decoder,
                out: Vec::new(),
            },
            config,
        ))
    }

    /// The socket, to register with the poll.
    pub fn stream(&self) -> &UnixStream {
        &self.stream
    }

    /// Queues `msg` and writes what the socket takes.
    pub fn send(&mut self, msg: &ToParent) {
        if let Err(e) = encode_into(msg, &mut self.out) {
            log::error!("cannot encode IPC message: {e}");
        }
        self.flush();
    }

    /// Writes queued bytes until the socket would block.
    pub fn flush(&mut self) {
        let mut sent = 0;
        while sent < self.out.len() {
            match self.stream.write(self.out.get(sent..).unwrap_or_default()) {
                Ok(0) => break,
                Ok(n) => sent += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(_) => break,
            }
        }
        self.out.drain(..sent);
    }

    /// Whether bytes wait for the socket to become writable.
    pub fn has_pending_output(&self) -> bool {
        !self.out.is_empty()
    }

    /// Reads what is available and returns the complete messages; `Err(Closed)` once the
    /// parent has closed the channel and nothing is left.
    pub fn read(&mut self) -> Result<Vec<ToChild>, IpcError> {
        let mut buf = [0u8; 16 * 1024];
        let mut closed = false;
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => self
                    .decoder
                    .push(buf.get(..n).unwrap_or_default())
                    .map_err(|e| IpcError::Protocol(e.to_string()))?,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(e.into()),
            }
        }
        let mut msgs = Vec::new();
        loop {
            match self.decoder.pop() {
                Ok(Some(m)) => msgs.push(m),
                Ok(None) => break,
                Err(e) => log::error!("IPC: dropped a frame: {e}"),
            }
        }
        if closed && msgs.is_empty() {
            return Err(IpcError::Closed);
        }
        Ok(msgs)
    }
}

/// A message's variant name, without its payload (a `Start` holds a whole configuration).
fn variant(msg: &ToChild) -> &'static str {
    match msg {
        ToChild::Hello { .. } => "Hello",
        ToChild::Start { .. } => "Start",
        ToChild::Reload { .. } => "Reload",
        ToChild::Dump { .. } => "Dump",
        ToChild::Stats { .. } => "Stats",
        ToChild::Shutdown => "Shutdown",
        ToChild::TrackUpdate { .. } => "TrackUpdate",
        ToChild::TrackerUpdate { .. } => "TrackerUpdate",
        ToChild::Resume { .. } => "Resume",
        ToChild::PrepareReload => "PrepareReload",
        ToChild::ReloadDelta { .. } => "ReloadDelta",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_ipc::FrameDecoder;

    #[test]
    fn handshake_then_messages_both_ways() {
        let (ours, mut parent) = UnixStream::pair().unwrap();
        let mut bytes = encode(&hello::<ToChild>()).unwrap();
        encode_into(
            &ToChild::Stats {
                id: 1,
                clear: false,
            },
            &mut bytes,
        )
        .unwrap();
        encode_into(
            &ToChild::Start {
                config: Box::default(),
            },
            &mut bytes,
        )
        .unwrap();
        encode_into(
            &ToChild::Dump {
                id: 9,
                format: keepalived_ipc::DumpFormat::Data,
            },
            &mut bytes,
        )
        .unwrap();
        parent.write_all(&bytes).unwrap();
        let (mut ipc, _config) = Ipc::handshake(ours).unwrap();
        // What arrived with Start is not lost.
        let msgs = ipc.read().unwrap();
        assert!(
            matches!(msgs.as_slice(), [ToChild::Dump { id: 9, .. }]),
            "{msgs:?}"
        );
        ipc.send(&ToParent::Ready);
        assert!(!ipc.has_pending_output());
        let mut dec = FrameDecoder::<ToParent>::new();
        let mut buf = [0u8; 256];
        let mut got = Vec::new();
        while got.len() < 2 {
            let n = parent.read(&mut buf).unwrap();
            dec.push(&buf[..n]).unwrap();
            while let Some(m) = dec.pop().unwrap() {
                got.push(m);
            }
        }
        assert_eq!(got, vec![hello::<ToParent>(), ToParent::Ready]);
        // shutdown, not just drop: a script forked by a parallel test may hold a copy of the
        // fd until its exec, and a plain close would then not reach us.
        parent.shutdown(std::net::Shutdown::Both).unwrap();
        drop(parent);
        assert!(matches!(ipc.read(), Err(IpcError::Closed)));
    }

    #[test]
    fn wrong_version_is_refused() {
        let (ours, mut parent) = UnixStream::pair().unwrap();
        parent
            .write_all(&encode(&ToChild::Hello { version: 999 }).unwrap())
            .unwrap();
        assert!(matches!(Ipc::handshake(ours), Err(IpcError::Protocol(_))));
    }
}
