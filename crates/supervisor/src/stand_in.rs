//! A minimal child that speaks the IPC protocol and does nothing else: it answers `Start` with
//! `Ready`, `Reload` with `ReloadDone`, dumps with a placeholder, and exits 0 on `Shutdown`.
//! For tests of the supervisor, and for a subsystem whose real child does not exist yet.

use keepalived_ipc::{check_hello, encode, hello, FrameDecoder, ToChild, ToParent};
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::ExitCode;

/// Runs the stand-in on `ipc` until `Shutdown` or the parent closes the channel.
pub fn run_child(ipc: OwnedFd) -> ExitCode {
    let mut stream = UnixStream::from(ipc);
    let mut decoder = FrameDecoder::<ToChild>::new();
    let mut greeted = false;
    if send(&mut stream, &hello::<ToParent>()).is_err() {
        return ExitCode::from(1);
    }
    let mut buf = [0u8; 64 * 1024];
    loop {
        let n = match stream.read(&mut buf) {
            Ok(0) | Err(_) => return ExitCode::SUCCESS,
            Ok(n) => n,
        };
        if decoder.push(buf.get(..n).unwrap_or_default()).is_err() {
            return ExitCode::from(1);
        }
        while let Ok(Some(msg)) = decoder.pop() {
            if !greeted {
                if check_hello(&msg).is_err() {
                    return ExitCode::from(1);
                }
                greeted = true;
                continue;
            }
            let reply = match msg {
                ToChild::Start { .. } => Some(ToParent::Ready),
                ToChild::Reload { .. } | ToChild::ReloadDelta { .. } => {
                    Some(ToParent::ReloadDone {
                        warnings: Vec::new(),
                    })
                }
                ToChild::Dump { id, .. } => Some(ToParent::DumpReply {
                    id,
                    text: "stand-in child: no data\n".into(),
                }),
                ToChild::Stats { id, .. } => Some(ToParent::StatsReply {
                    id,
                    text: "stand-in child: no statistics\n".into(),
                }),
                ToChild::Shutdown => return ExitCode::SUCCESS,
                _ => None,
            };
            if let Some(reply) = reply {
                if send(&mut stream, &reply).is_err() {
                    return ExitCode::from(1);
                }
            }
        }
    }
}

fn send(stream: &mut UnixStream, msg: &ToParent) -> std::io::Result<()> {
    let bytes = encode(msg).map_err(std::io::Error::other)?;
    stream.write_all(&bytes)
}
