//! One non-blocking probe: a TCP connection (TCP_CHECK, HTTP_GET, SSL_GET, SMTP_CHECK) or a
//! datagram exchange ([`super::dgram`]: UDP_CHECK, DNS_CHECK, PING_CHECK). A TCP probe
//! connects (after binding as asked), then for HTTP sends the request (through rustls for SSL)
//! and reads the answer into the pure [`ResponseReader`], or for SMTP talks the pure
//! [`SmtpDialog`]. [`Probe::drive`] makes every step the socket allows and is called on each
//! readiness event (edge-triggered, so it goes on until `WouldBlock`).

use super::dgram::Dgram;
use keepalived_check::http::{Response, ResponseReader};
use keepalived_check::smtp::{SmtpDialog, SmtpStep};
use keepalived_check::tcp::Endpoints;
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use rustls::ClientConnection;
use socket2::{Domain, Protocol, Socket, Type};
use std::io::{self, ErrorKind, Read, Write};

/// Where a probe stands after [`Probe::drive`].
#[derive(Debug)]
pub enum Step {
    /// Waiting for the socket.
    Pending,
    /// Connected (TCP_CHECK's success).
    Connected,
    /// The check's exchange passed (SMTP, UDP, DNS, PING).
    Succeeded,
    /// The HTTP answer is complete (or the server closed): `None` when no header arrived.
    Answer(Option<Response>),
    /// It failed; keepalived's wording of why.
    Failed(&'static str),
}

/// The HTTP part of a probe.
struct Http {
    tls: Option<Box<ClientConnection>>,
    request: Vec<u8>,
    sent: usize,
    reader: ResponseReader,
}

/// The SMTP part of a probe: the dialog and what it still has to send.
struct Smtp {
    dialog: SmtpDialog,
    out: Vec<u8>,
}

/// What is said on a TCP connection once it is up.
enum Talk {
    Nothing,
    Http(Http),
    Smtp(Smtp),
}

enum Conn {
    Stream {
        stream: TcpStream,
        connected: bool,
        talk: Talk,
    },
    Dgram(Dgram),
}

/// One probe.
pub struct Probe {
    conn: Conn,
    /// Bytes received (to refresh the read timeout on progress).
    pub received: u64,
}

/// Opens a non-blocking socket to `ep.dst` (bound to `ep.src` first) and registers it.
///
/// Like keepalived, the socket lingers 0 s: closing it sends RST, so a check every second to
/// thousands of servers leaves no TIME_WAIT sockets (and no FIN exchange) behind.
pub fn connect(ep: &Endpoints, registry: &Registry, token: Token) -> io::Result<TcpStream> {
    // Non-blocking (and close-on-exec) from the socket call itself: no fcntl round trips.
    let socket = Socket::new(
        Domain::for_address(ep.dst),
        Type::STREAM.nonblocking(),
        Some(Protocol::TCP),
    )?;
    socket.set_linger(Some(std::time::Duration::ZERO))?;
    if let Some(mark) = ep.fwmark {
        socket.set_mark(mark)?;
    }
    if let Some(src) = ep.src {
        if src.port() != 0 {
            socket.set_reuse_address(true)?;
        }
        socket.bind(&src.into())?;
    }
    match socket.connect(&ep.dst.into()) {
        Ok(()) => {}
        Err(e) if e.raw_os_error() == Some(nix::libc::EINPROGRESS) => {}
        Err(e) => return Err(e),
    }
    let mut stream = TcpStream::from_std(std::net::TcpStream::from(socket));
    registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)?;
    Ok(stream)
}

impl Probe {
    fn stream(stream: TcpStream, talk: Talk) -> Self {
        Self {
            conn: Conn::Stream {
                stream,
                connected: false,
                talk,
            },
            received: 0,
        }
    }

    /// A TCP_CHECK probe.
    pub fn tcp(stream: TcpStream) -> Self {
        Self::stream(stream, Talk::Nothing)
    }

    /// An HTTP_GET (`tls` None) or SSL_GET probe sending `request`.
    pub fn http(stream: TcpStream, request: Vec<u8>, tls: Option<ClientConnection>) -> Self {
        Self::stream(
            stream,
            Talk::Http(Http {
                tls: tls.map(Box::new),
                request,
                sent: 0,
                reader: ResponseReader::new(),
            }),
        )
    }

    /// An SMTP_CHECK probe introducing itself as `helo`.
    pub fn smtp(stream: TcpStream, helo: &str) -> Self {
        Self::stream(
            stream,
            Talk::Smtp(Smtp {
                dialog: SmtpDialog::new(helo),
                out: Vec::new(),
            }),
        )
    }

    /// A datagram probe (UDP_CHECK, DNS_CHECK, PING_CHECK).
    pub fn dgram(d: Dgram) -> Self {
        Self {
            conn: Conn::Dgram(d),
            received: 0,
        }
    }

    /// Closes the probe's socket.
    pub fn close(self, registry: &Registry) {
        match self.conn {
            // Closing the only descriptor of a TCP socket takes it out of the epoll set, so no
            // EPOLL_CTL_DEL. Should a forked child still hold a copy until its exec, a late
            // event can reach the slot's next probe: `drive` asks that socket its own state.
            Conn::Stream { stream, .. } => drop(stream),
            Conn::Dgram(d) => d.close(registry),
        }
    }

    /// What the check concludes when its timeout comes before an answer: `Ok` passes
    /// (a silent UDP_CHECK without `require_reply`), `Err` gives keepalived's wording.
    pub fn timeout_result(&self) -> Result<(), &'static str> {
        match &self.conn {
            Conn::Dgram(d) => d.timeout_result(),
            Conn::Stream {
                connected, talk, ..
            } => match talk {
                Talk::Smtp(_) if *connected => Err("Read timeout from"),
                _ if !*connected || self.received == 0 => Err("Timeout connecting"),
                _ => Err("Timeout HTTP read"),
            },
        }
    }

    /// Makes all the progress the socket allows.
    pub fn drive(&mut self) -> Step {
        let received = &mut self.received;
        let (stream, connected, talk) = match &mut self.conn {
            Conn::Dgram(d) => return d.drive(),
            Conn::Stream {
                stream,
                connected,
                talk,
            } => (stream, connected, talk),
        };
        if !*connected {
            // A peer address means connected: one syscall on the usual path. Without one the
            // connect either failed (SO_ERROR says why) or is still in progress.
            match stream.peer_addr() {
                Ok(_) => *connected = true,
                Err(e) if e.kind() == ErrorKind::NotConnected => {
                    return match stream.take_error() {
                        Ok(None) => Step::Pending,
                        Ok(Some(_)) | Err(_) => Step::Failed("Error connecting"),
                    };
                }
                Err(_) => return Step::Failed("Error connecting"),
            }
        }
        let http = match talk {
            Talk::Nothing => return Step::Connected,
            Talk::Smtp(smtp) => return drive_smtp(stream, smtp, received),
            Talk::Http(http) => http,
        };
        let result = match http.tls.as_mut() {
            None => drive_plain(stream, http, received),
            Some(_) => drive_tls(stream, http, received),
        };
        match result {
            Ok(false) => Step::Pending,
            Ok(true) => {
                let reader = std::mem::take(&mut http.reader);
                Step::Answer(reader.finish())
            }
            Err(why) => Step::Failed(why),
        }
    }
}

/// SMTP: write what the dialog asked for, read replies into it, until it ends.
fn drive_smtp(stream: &mut TcpStream, smtp: &mut Smtp, received: &mut u64) -> Step {
    let mut buf = [0u8; 4096];
    loop {
        while !smtp.out.is_empty() {
            match stream.write(&smtp.out) {
                Ok(0) => return Step::Failed("Write failure to"),
                Ok(n) => {
                    smtp.out.drain(..n.min(smtp.out.len()));
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Pending,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Step::Failed("Write failure to"),
            }
        }
        let step = match stream.read(&mut buf) {
            Ok(0) => smtp.dialog.eof(),
            Ok(n) => {
                *received += n as u64;
                smtp.dialog.feed(buf.get(..n).unwrap_or_default())
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Step::Pending,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(_) => return Step::Failed("Read failure from"),
        };
        match step {
            SmtpStep::Wait => {}
            SmtpStep::Send(bytes) => smtp.out.extend_from_slice(&bytes),
            SmtpStep::Done => return Step::Succeeded,
            SmtpStep::Fail(why) => return Step::Failed(why),
        }
    }
}

/// Plain HTTP: write what is left of the request, then read. `Ok(true)` when the answer ended.
fn drive_plain(
    stream: &mut TcpStream,
    http: &mut Http,
    received: &mut u64,
) -> Result<bool, &'static str> {
    while http.sent < http.request.len() {
        let rest = http.request.get(http.sent..).unwrap_or_default();
        match stream.write(rest) {
            Ok(0) => return Err("Cannot send get request to"),
            Ok(n) => http.sent += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err("Cannot send get request to"),
        }
    }
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(n) => {
                *received += n as u64;
                let chunk = buf.get(..n).unwrap_or_default();
                match http.reader.feed(chunk) {
                    Ok(true) => return Ok(true),
                    Ok(false) => {}
                    Err(_) => return Err("Read error with"),
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => return Err("Read error with"),
        }
    }
}

/// SSL: move TLS records both ways until the socket would block; the request was queued in
/// rustls's writer at creation (sent once the handshake allows).
fn drive_tls(
    stream: &mut TcpStream,
    http: &mut Http,
    received: &mut u64,
) -> Result<bool, &'static str> {
    const TLS_ERR: &str = "SSL handshake/communication error connecting to";
    let Some(tls) = http.tls.as_mut() else {
        return Err(TLS_ERR);
    };
    if http.sent == 0 {
        tls.writer()
            .write_all(&http.request)
            .map_err(|_| "Cannot send get request to")?;
        http.sent = http.request.len();
    }
    let mut buf = [0u8; 16 * 1024];
    loop {
        let mut progress = false;
        while tls.wants_write() {
            match tls.write_tls(stream) {
                Ok(0) => return Err(TLS_ERR),
                Ok(_) => progress = true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return Err(TLS_ERR),
            }
        }
        let mut eof = false;
        if tls.wants_read() {
            match tls.read_tls(stream) {
                Ok(0) => eof = true,
                Ok(_) => progress = true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == ErrorKind::Interrupted => progress = true,
                Err(_) => return Err(TLS_ERR),
            }
            if let Err(e) = tls.process_new_packets() {
                // The reason (a refused certificate, an alert from the server) is what the
                // operator needs; keepalived prints OpenSSL's error queue the same way.
                let peer = stream
                    .peer_addr()
                    .map(|a| a.to_string())
                    .unwrap_or_default();
                log::warn!("SSL_GET {peer}: TLS error: {e}");
                return Err(TLS_ERR);
            }
        }
        loop {
            match tls.reader().read(&mut buf) {
                Ok(0) => return Ok(true),
                Ok(n) => {
                    progress = true;
                    *received += n as u64;
                    match http.reader.feed(buf.get(..n).unwrap_or_default()) {
                        Ok(true) => return Ok(true),
                        Ok(false) => {}
                        Err(_) => return Err("Read error with"),
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                // The peer closed without close_notify: many servers do; the body ends here.
                Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(true),
                Err(_) => return Err("Read error with"),
            }
        }
        if eof {
            return if tls.is_handshaking() {
                Err(TLS_ERR)
            } else {
                Ok(true)
            };
        }
        if !progress {
            return Ok(false);
        }
    }
}
