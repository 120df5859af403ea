//! One non-blocking connection of a TCP_CHECK, HTTP_GET or SSL_GET: connect (after binding
//! as asked), then for HTTP send the request (through rustls for SSL) and read the answer into
//! the pure [`ResponseReader`]. [`Probe::drive`] makes every step the socket allows and is
//! called on each readiness event (edge-triggered, so it goes on until `WouldBlock`).

use keepalived_check::http::{Response, ResponseReader};
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

/// One connection.
pub struct Probe {
    stream: TcpStream,
    connected: bool,
    http: Option<Http>,
    /// Bytes received (to refresh the read timeout on progress).
    pub received: u64,
}

/// Opens a non-blocking socket to `ep.dst` (bound to `ep.src` first) and registers it.
pub fn connect(ep: &Endpoints, registry: &Registry, token: Token) -> io::Result<TcpStream> {
    let socket = Socket::new(
        Domain::for_address(ep.dst),
        Type::STREAM,
        Some(Protocol::TCP),
    )?;
    socket.set_nonblocking(true)?;
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
    /// A TCP_CHECK probe.
    pub fn tcp(stream: TcpStream) -> Self {
        Self {
            stream,
            connected: false,
            http: None,
            received: 0,
        }
    }

    /// An HTTP_GET (`tls` None) or SSL_GET probe sending `request`.
    pub fn http(stream: TcpStream, request: Vec<u8>, tls: Option<ClientConnection>) -> Self {
        Self {
            stream,
            connected: false,
            http: Some(Http {
                tls: tls.map(Box::new),
                request,
                sent: 0,
                reader: ResponseReader::new(),
            }),
            received: 0,
        }
    }

    /// Unregisters the socket; it closes when the probe is dropped.
    pub fn close(mut self, registry: &Registry) {
        let _ = registry.deregister(&mut self.stream);
    }

    /// Makes all the progress the socket allows.
    pub fn drive(&mut self) -> Step {
        if !self.connected {
            match self.stream.take_error() {
                Ok(Some(_)) | Err(_) => return Step::Failed("Error connecting"),
                Ok(None) => {}
            }
            match self.stream.peer_addr() {
                Ok(_) => self.connected = true,
                Err(e) if e.kind() == ErrorKind::NotConnected => return Step::Pending,
                Err(_) => return Step::Failed("Error connecting"),
            }
        }
        let received = &mut self.received;
        let Some(http) = self.http.as_mut() else {
            return Step::Connected;
        };
        let result = match http.tls.as_mut() {
            None => drive_plain(&mut self.stream, http, received),
            Some(_) => drive_tls(&mut self.stream, http, received),
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
