//! A non-blocking SMTP client that lives inside someone else's mio loop.
//!
//! One TCP connection per mail (as keepalived does), several at once, each on a token of a
//! range the caller reserves. The caller forwards readiness events ([`Client::ready`]), calls
//! [`Client::on_timeout`] when [`Client::next_deadline`] has passed, and never waits for a
//! mail: a dead or slow server costs a log line and the mail, never the loop's time.
//! Mails beyond the connection slots wait in a bounded queue; past that they are dropped
//! and counted.

use crate::alert::{data_section, date_now, Alert};
use crate::dialog::{Dialog, Failure, Step};
use mio::net::TcpStream;
use mio::{Interest, Registry, Token};
use std::collections::VecDeque;
use std::io::{ErrorKind, Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant, SystemTime};

/// Mails waiting for a free connection slot, by default.
pub const DEFAULT_QUEUE: usize = 64;

/// Where and how mails are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The SMTP server (`smtp_server`, resolved).
    pub server: SocketAddr,
    /// `HELO` name (`smtp_helo_name`, default the local host name).
    pub helo: String,
    /// Envelope and `From:` sender (`notification_email_from`).
    pub from: String,
    /// Recipients (`notification_email`).
    pub to: Vec<String>,
    /// Limit for the connect and for each reply (`smtp_connect_timeout`, default 30 s).
    pub connect_timeout: Duration,
    /// Limit for a whole dialog, connect included.
    pub dialog_timeout: Duration,
    /// Mails that may wait for a connection slot.
    pub max_queued: usize,
}

impl Settings {
    /// Settings with keepalived's timeout for each step and an overall limit of four of them.
    pub fn new(server: SocketAddr, helo: &str, from: &str, to: Vec<String>) -> Self {
        let connect_timeout = Duration::from_secs(30);
        Settings {
            server,
            helo: helo.to_string(),
            from: from.to_string(),
            to,
            connect_timeout,
            dialog_timeout: connect_timeout * 4,
            max_queued: DEFAULT_QUEUE,
        }
    }
}

/// Counters of what happened to the mails.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Mails the server accepted.
    pub sent: u64,
    /// Mails lost to a connect error, a timeout or a rejection.
    pub failed: u64,
    /// Mails dropped because the queue was full.
    pub dropped: u64,
}

struct Conn {
    stream: TcpStream,
    dialog: Dialog,
    connected: bool,
    /// The connect, or the reply now awaited, must come before this.
    step_deadline: Instant,
    /// The whole dialog must be over by this.
    deadline: Instant,
    subject: String,
}

struct Queued {
    data: Vec<u8>,
    subject: String,
}

/// The client: connection slots on `tokens.len()` tokens from `first`, and a queue.
pub struct Client {
    settings: Settings,
    server_name: String,
    first: usize,
    slots: Vec<Option<Conn>>,
    queue: VecDeque<Queued>,
    stats: Stats,
    buf: Vec<u8>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.server_name)
            .field("in_flight", &self.in_flight())
            .field("queued", &self.queue.len())
            .field("stats", &self.stats)
            .finish()
    }
}

/// keepalived's `[ip]:port` form of the server in its log lines.
fn server_name(addr: SocketAddr) -> String {
    format!("[{}]:{}", addr.ip(), addr.port())
}

impl Client {
    /// A client using tokens `first .. first + slots` (at least one slot).
    pub fn new(settings: Settings, first: Token, slots: usize) -> Self {
        let server_name = server_name(settings.server);
        Client {
            settings,
            server_name,
            first: first.0,
            slots: (0..slots.max(1)).map(|_| None).collect(),
            queue: VecDeque::new(),
            stats: Stats::default(),
            buf: vec![0; 2048],
        }
    }

    /// The settings in use.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// True when `token` is one of this client's.
    pub fn owns(&self, token: Token) -> bool {
        token.0 >= self.first && token.0 - self.first < self.slots.len()
    }

    /// Connections now open.
    pub fn in_flight(&self) -> usize {
        self.slots.iter().filter(|s| s.is_some()).count()
    }

    /// Mails waiting for a slot.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// What happened so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Sends `alert` (dated now) to every recipient: starts a connection at once when a
    /// slot is free, else queues it, else drops it.
    pub fn send(&mut self, registry: &Registry, now: Instant, alert: &Alert) {
        let data = data_section(
            &date_now(SystemTime::now()),
            &self.settings.from,
            &self.settings.to,
            alert,
        );
        if self.queue.len() >= self.settings.max_queued {
            self.stats.dropped += 1;
            log::warn!(
                "SMTP alert queue full ({} waiting): dropped \"{}\"",
                self.queue.len(),
                alert.subject
            );
            return;
        }
        self.queue.push_back(Queued {
            data,
            subject: alert.subject.clone(),
        });
        self.start_queued(registry, now);
    }

    /// The next moment [`Client::on_timeout`] has something to do.
    pub fn next_deadline(&self) -> Option<Instant> {
        self.slots
            .iter()
            .flatten()
            .map(|c| c.step_deadline.min(c.deadline))
            .min()
    }

    /// A readiness event for one of this client's tokens.
    pub fn ready(&mut self, registry: &Registry, token: Token, now: Instant) {
        if !self.owns(token) {
            return;
        }
        let i = token.0 - self.first;
        self.drive(registry, i, now);
        self.start_queued(registry, now);
    }

    /// Handles every deadline that has passed by `now`.
    pub fn on_timeout(&mut self, registry: &Registry, now: Instant) {
        for i in 0..self.slots.len() {
            let Some(Some(conn)) = self.slots.get_mut(i) else {
                continue;
            };
            if now >= conn.deadline {
                log::info!(
                    "SMTP dialog with {} not over after {}s: alert \"{}\" dropped.",
                    self.server_name,
                    self.settings.dialog_timeout.as_secs(),
                    conn.subject
                );
                conn.dialog.abandon(Failure::TimedOut {
                    during: conn
                        .dialog
                        .waiting_for()
                        .unwrap_or(crate::dialog::Command::Quit),
                });
                self.close(registry, i);
            } else if now >= conn.step_deadline {
                if !conn.connected {
                    log::info!(
                        "Timeout opening connection to remote SMTP server {}.",
                        self.server_name
                    );
                    conn.dialog.abandon(Failure::TimedOut {
                        during: crate::dialog::Command::Greeting,
                    });
                    self.close(registry, i);
                } else {
                    if let Some(f) = conn.dialog.on_timeout() {
                        self.log_failure(&f);
                    }
                    if let Some(Some(conn)) = self.slots.get_mut(i) {
                        conn.step_deadline = now + self.settings.connect_timeout;
                    }
                    self.drive(registry, i, now);
                }
            }
        }
        self.start_queued(registry, now);
    }

    /// Closes every connection and forgets the queue (shutdown).
    pub fn close_all(&mut self, registry: &Registry) {
        for i in 0..self.slots.len() {
            if let Some(Some(conn)) = self.slots.get_mut(i) {
                if conn.dialog.result().is_none() {
                    conn.dialog.abandon(Failure::Closed {
                        during: crate::dialog::Command::Quit,
                    });
                }
            }
            self.close(registry, i);
        }
        self.stats.dropped += self.queue.len() as u64;
        self.queue.clear();
    }

    fn start_queued(&mut self, registry: &Registry, now: Instant) {
        while !self.queue.is_empty() {
            let Some(i) = self.slots.iter().position(Option::is_none) else {
                return;
            };
            let Some(q) = self.queue.pop_front() else {
                return;
            };
            let mut stream = match TcpStream::connect(self.settings.server) {
                Ok(s) => s,
                Err(e) => {
                    log::info!("SMTP connection ERROR to {}: {e}.", self.server_name);
                    self.stats.failed += 1;
                    continue;
                }
            };
            let token = Token(self.first + i);
            if let Err(e) =
                registry.register(&mut stream, token, Interest::READABLE | Interest::WRITABLE)
            {
                log::error!("SMTP: cannot poll the connection: {e}");
                self.stats.failed += 1;
                continue;
            }
            let dialog = Dialog::new(
                &self.settings.helo,
                &self.settings.from,
                &self.settings.to,
                q.data,
            );
            if let Some(slot) = self.slots.get_mut(i) {
                *slot = Some(Conn {
                    stream,
                    dialog,
                    connected: false,
                    step_deadline: now + self.settings.connect_timeout,
                    deadline: now + self.settings.dialog_timeout,
                    subject: q.subject,
                });
            }
        }
    }

    fn log_failure(&self, f: &Failure) {
        let s = &self.server_name;
        match f {
            Failure::Rejected { command, code } => log::info!(
                "Error processing {command} cmd on SMTP server {s}. SMTP status code = {code}"
            ),
            Failure::Closed { .. } => {
                log::info!("Remote SMTP server {s} has closed the connection.")
            }
            Failure::TimedOut { .. } => {
                log::info!("Timeout reading data to remote SMTP server {s}.")
            }
            Failure::TooLong { .. } => log::info!(
                "Received buffer from remote SMTP server {s} overflow our get read buffer length."
            ),
            Failure::Malformed { during } => {
                log::info!("Malformed reply from remote SMTP server {s} to {during}.")
            }
        }
    }

    /// Moves connection `i` as far as it goes without blocking; closes it when it is over.
    fn drive(&mut self, registry: &Registry, i: usize, now: Instant) {
        let mut failures = Vec::new();
        let mut close = false;
        {
            let Some(Some(conn)) = self.slots.get_mut(i) else {
                return;
            };
            if !conn.connected {
                let err = match conn.stream.take_error() {
                    Ok(Some(e)) | Err(e) => Some(e),
                    Ok(None) => None,
                };
                match (err, conn.stream.peer_addr()) {
                    (None, Ok(_)) => {
                        conn.connected = true;
                        conn.step_deadline = now + self.settings.connect_timeout;
                        log::debug!("Remote SMTP server {} connected.", self.server_name);
                    }
                    (None, Err(e))
                        if e.kind() == ErrorKind::NotConnected
                            || e.kind() == ErrorKind::WouldBlock =>
                    {
                        return;
                    }
                    (Some(e), _) | (None, Err(e)) => {
                        log::info!("SMTP connection ERROR to {}: {e}.", self.server_name);
                        conn.dialog.abandon(Failure::Closed {
                            during: crate::dialog::Command::Greeting,
                        });
                        close = true;
                    }
                }
            }
            while !close {
                let mut progress = false;
                while !conn.dialog.pending().is_empty() {
                    match conn.stream.write(conn.dialog.pending()) {
                        Ok(0) => break,
                        Ok(n) => conn.dialog.advance(n),
                        Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => {
                            log::info!(
                                "Cannot send data to remote SMTP server {}: {e}.",
                                self.server_name
                            );
                            conn.dialog.abandon(Failure::Closed {
                                during: conn
                                    .dialog
                                    .waiting_for()
                                    .unwrap_or(crate::dialog::Command::Quit),
                            });
                            break;
                        }
                    }
                }
                if conn.dialog.step() == Step::Done {
                    close = true;
                    break;
                }
                let before = conn.dialog.waiting_for();
                match conn.stream.read(&mut self.buf) {
                    Ok(0) => {
                        failures.extend(conn.dialog.on_eof());
                        progress = true;
                    }
                    Ok(n) => {
                        failures.extend(conn.dialog.receive(self.buf.get(..n).unwrap_or(&[])));
                        progress = true;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => progress = true,
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => {
                        log::info!(
                            "Error reading data from remote SMTP server {}: {e}.",
                            self.server_name
                        );
                        failures.extend(conn.dialog.on_eof());
                        progress = true;
                    }
                }
                if conn.dialog.waiting_for() != before {
                    conn.step_deadline = now + self.settings.connect_timeout;
                }
                if !progress {
                    break;
                }
            }
        }
        for f in &failures {
            self.log_failure(f);
        }
        if close {
            self.close(registry, i);
        }
    }

    /// Closes connection `i` and counts how it ended.
    fn close(&mut self, registry: &Registry, i: usize) {
        let Some(mut conn) = self.slots.get_mut(i).and_then(Option::take) else {
            return;
        };
        let _ = registry.deregister(&mut conn.stream);
        match conn.dialog.result() {
            Some(Ok(())) => {
                self.stats.sent += 1;
                log::debug!("SMTP alert successfully sent.");
            }
            _ => self.stats.failed += 1,
        }
    }
}
