//! One IPC channel to a child: the parent's end of the socketpair, non-blocking, with the
//! frame decoder for what the child says and a queue for what it has not yet taken.

use keepalived_ipc::{check_hello, encode_into, hello, FrameDecoder, ToChild, ToParent};
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::os::unix::net::UnixStream;

/// The largest empty write queue kept for the next messages (bytes).
const KEPT_QUEUE_CAPACITY: usize = 64 * 1024;

/// What reading the channel produced.
#[derive(Debug, Default)]
pub struct Received {
    /// Messages, in order (after the handshake).
    pub messages: Vec<ToParent>,
    /// The child closed its end (or the stream broke).
    pub closed: bool,
}

/// The parent's end of a child's channel.
#[derive(Debug)]
pub struct Channel {
    stream: UnixStream,
    decoder: FrameDecoder<ToParent>,
    out: Vec<u8>,
    greeted: bool,
}

impl Channel {
    /// Wraps the parent's end and queues our `Hello`.
    pub fn new(fd: OwnedFd) -> std::io::Result<Self> {
        let stream = UnixStream::from(fd);
        stream.set_nonblocking(true)?;
        let mut me = Self {
            stream,
            decoder: FrameDecoder::new(),
            out: Vec::new(),
            greeted: false,
        };
        me.send(&hello::<ToChild>());
        Ok(me)
    }

    /// The descriptor, to register with the poll.
    pub fn raw_fd(&self) -> RawFd {
        self.stream.as_raw_fd()
    }

    /// Queues `msg` and writes as much as the socket takes now.
    pub fn send(&mut self, msg: &ToChild) {
        if let Err(e) = encode_into(msg, &mut self.out) {
            log::error!("IPC: cannot encode a message for the child: {e}");
            return;
        }
        if let Err(e) = self.flush() {
            log::debug!("IPC: write to child failed: {e}");
        }
    }

    /// Queues a frame encoded earlier (see [`keepalived_ipc::encode`]) and writes as much as
    /// the socket takes now.
    pub fn send_frame(&mut self, frame: &[u8]) {
        self.out.extend_from_slice(frame);
        if let Err(e) = self.flush() {
            log::debug!("IPC: write to child failed: {e}");
        }
    }

    /// Whether bytes are still waiting to be written.
    pub fn pending(&self) -> bool {
        !self.out.is_empty()
    }

    /// Writes queued bytes until the socket would block.
    pub fn flush(&mut self) -> std::io::Result<()> {
        while !self.out.is_empty() {
            match self.stream.write(&self.out) {
                Ok(0) => return Err(ErrorKind::WriteZero.into()),
                Ok(n) => {
                    self.out.drain(..n);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    self.out.clear();
                    self.release_big_buffer();
                    return Err(e);
                }
            }
        }
        self.release_big_buffer();
        Ok(())
    }

    /// A `Start` or `Reload` of thousands of instances grows the queue to megabytes; the
    /// messages of the steady state are small, so the memory is not kept for them.
    fn release_big_buffer(&mut self) {
        if self.out.is_empty() && self.out.capacity() > KEPT_QUEUE_CAPACITY {
            self.out = Vec::new();
        }
    }

    /// Reads everything available and decodes it.
    pub fn receive(&mut self) -> Received {
        let mut got = Received::default();
        let mut buf = [0u8; 16 * 1024];
        loop {
            match self.stream.read(&mut buf) {
                Ok(0) => {
                    got.closed = true;
                    break;
                }
                Ok(n) => {
                    let chunk = buf.get(..n).unwrap_or_default();
                    if let Err(e) = self.decoder.push(chunk) {
                        log::error!("IPC: stream from child broken: {e}");
                        got.closed = true;
                        break;
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => {
                    log::debug!("IPC: read from child failed: {e}");
                    got.closed = true;
                    break;
                }
            }
        }
        loop {
            match self.decoder.pop() {
                Ok(Some(msg)) => {
                    if self.greeted {
                        got.messages.push(msg);
                    } else if let Err(e) = check_hello(&msg) {
                        log::error!("IPC: child handshake failed: {e}");
                        got.closed = true;
                        break;
                    } else {
                        self.greeted = true;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    log::warn!("IPC: dropped a frame from the child: {e}");
                    if self.decoder.is_broken() {
                        got.closed = true;
                        break;
                    }
                }
            }
        }
        got
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_ipc::{encode, ToParent};

    #[test]
    fn handshake_then_messages() {
        let (a, b) = UnixStream::pair().unwrap();
        let mut ch = Channel::new(OwnedFd::from(a)).unwrap();
        let mut child = b;
        child.set_nonblocking(true).unwrap();
        // The child sees our Hello.
        let mut dec = FrameDecoder::<ToChild>::new();
        let mut buf = [0u8; 256];
        let n = child.read(&mut buf).unwrap();
        dec.push(&buf[..n]).unwrap();
        assert_eq!(dec.pop().unwrap(), Some(hello::<ToChild>()));
        // It answers Hello then Ready.
        child
            .write_all(&encode(&hello::<ToParent>()).unwrap())
            .unwrap();
        child.write_all(&encode(&ToParent::Ready).unwrap()).unwrap();
        let got = ch.receive();
        assert_eq!(got.messages, vec![ToParent::Ready]);
        assert!(!got.closed);
        drop(child);
        assert!(ch.receive().closed);
    }

    #[test]
    fn wrong_first_message_closes() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let mut ch = Channel::new(OwnedFd::from(a)).unwrap();
        b.write_all(&encode(&ToParent::Ready).unwrap()).unwrap();
        let got = ch.receive();
        assert!(got.closed);
        assert!(got.messages.is_empty());
    }
}
