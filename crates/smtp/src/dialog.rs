//! The SMTP client dialog without I/O: server bytes in, client bytes out, one typed outcome.
//!
//! keepalived's sequence: wait for `220`, `HELO <name>`, `MAIL FROM:<from>`, one
//! `RCPT TO:<to>` per recipient, `DATA`, the message, `QUIT`. A reply other than the
//! expected one is logged by the caller and answered with `QUIT`, as keepalived does. Where
//! keepalived insists on exactly `250`/`221`, any `2xx` is taken (a `251 forwarded` is a
//! success too). Multi-line replies (`250-...`) are skipped to their last line.

use std::fmt;

/// Longest reply line kept while waiting for its end (keepalived's buffer is 1024 bytes).
pub const MAX_LINE: usize = 1024;

/// A step of the dialog: which command a reply answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    /// The server's greeting after connect.
    Greeting,
    /// `HELO`.
    Helo,
    /// `MAIL FROM`.
    Mail,
    /// `RCPT TO`.
    Rcpt,
    /// `DATA`.
    Data,
    /// The message itself, ended by `.`.
    Body,
    /// `QUIT`.
    Quit,
}

impl Command {
    /// keepalived's name for the step in its error lines.
    pub fn name(self) -> &'static str {
        match self {
            Command::Greeting => "(E)SMTP",
            Command::Helo => "HELO",
            Command::Mail => "MAIL",
            Command::Rcpt => "RCPT",
            Command::Data => "DATA",
            Command::Body => "BODY",
            Command::Quit => "QUIT",
        }
    }

    fn accepts(self, code: u16) -> bool {
        match self {
            Command::Greeting => code == 220,
            Command::Data => code == 354,
            _ => (200..300).contains(&code),
        }
    }
}

impl fmt::Display for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why a mail was not delivered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    /// The server answered a step with an unexpected code (4xx, 5xx, ...).
    #[error("Error processing {command} cmd. SMTP status code = {code}")]
    Rejected {
        /// The step.
        command: Command,
        /// The reply code.
        code: u16,
    },
    /// The server closed the connection before the mail was accepted.
    #[error("the server closed the connection during {during}")]
    Closed {
        /// The step that was waiting for a reply.
        during: Command,
    },
    /// No reply came in time.
    #[error("timeout waiting for the reply to {during}")]
    TimedOut {
        /// The step that was waiting for a reply.
        during: Command,
    },
    /// A reply line longer than [`MAX_LINE`].
    #[error("reply line longer than {MAX_LINE} bytes during {during}")]
    TooLong {
        /// The step that was waiting for a reply.
        during: Command,
    },
    /// A reply line that does not start with a three-digit code.
    #[error("malformed reply during {during}")]
    Malformed {
        /// The step that was waiting for a reply.
        during: Command,
    },
}

/// What the dialog needs from the caller next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Bytes are waiting in [`Dialog::pending`]: send them.
    Send,
    /// Waiting for the server's reply to this step.
    Await(Command),
    /// Finished: close the connection; [`Dialog::result`] says how it went.
    Done,
}

/// One mail's SMTP dialog.
#[derive(Debug, Clone)]
pub struct Dialog {
    helo: String,
    from: String,
    to: Vec<String>,
    data: Vec<u8>,
    next_rcpt: usize,
    waiting: Option<Command>,
    line: Vec<u8>,
    out: Vec<u8>,
    result: Option<Result<(), Failure>>,
}

/// Removes what could end a command line early (no command injection through the config).
fn one_line(s: &str) -> String {
    s.chars().filter(|c| *c != '\r' && *c != '\n').collect()
}

impl Dialog {
    /// A dialog that sends `data` (the DATA section from [`crate::alert::data_section`],
    /// ending with `.` CRLF) from `from` to each of `to`, greeting with `HELO <helo>`.
    pub fn new(helo: &str, from: &str, to: &[String], data: Vec<u8>) -> Self {
        Dialog {
            helo: one_line(helo),
            from: one_line(from),
            to: to.iter().map(|t| one_line(t)).collect(),
            data,
            next_rcpt: 0,
            waiting: Some(Command::Greeting),
            line: Vec::new(),
            out: Vec::new(),
            result: None,
        }
    }

    /// What to do next.
    pub fn step(&self) -> Step {
        if !self.out.is_empty() {
            Step::Send
        } else if let Some(c) = self.waiting {
            Step::Await(c)
        } else {
            Step::Done
        }
    }

    /// Bytes to send to the server.
    pub fn pending(&self) -> &[u8] {
        &self.out
    }

    /// `n` bytes of [`Dialog::pending`] were sent.
    pub fn advance(&mut self, n: usize) {
        let n = n.min(self.out.len());
        self.out.drain(..n);
    }

    /// How it ended: `None` while running or when it ended without ever sending the mail
    /// body (never: every end sets a result), `Some(Ok)` when the server took the mail.
    pub fn result(&self) -> Option<&Result<(), Failure>> {
        self.result.as_ref()
    }

    /// True once the dialog is over (the connection can be closed).
    pub fn is_done(&self) -> bool {
        self.waiting.is_none()
    }

    /// The step now waiting for a reply.
    pub fn waiting_for(&self) -> Option<Command> {
        self.waiting
    }

    /// Feeds bytes received from the server. Returns the failures met (for logging), at most
    /// one per call in practice.
    pub fn receive(&mut self, mut bytes: &[u8]) -> Option<Failure> {
        let mut failed = None;
        while let Some(during) = self.waiting {
            if bytes.is_empty() {
                break;
            }
            let (chunk, rest, complete) = match bytes.iter().position(|b| *b == b'\n') {
                Some(i) => (
                    bytes.get(..i).unwrap_or(&[]),
                    bytes.get(i + 1..).unwrap_or(&[]),
                    true,
                ),
                None => (bytes, &[][..], false),
            };
            bytes = rest;
            if self.line.len() + chunk.len() > MAX_LINE {
                self.line.clear();
                failed = self.fail(Failure::TooLong { during }).or(failed);
                if !complete {
                    // The rest of an over-long line is dropped.
                    break;
                }
                continue;
            }
            self.line.extend_from_slice(chunk);
            if !complete {
                break;
            }
            let line = std::mem::take(&mut self.line);
            let line = line.strip_suffix(b"\r").unwrap_or(&line);
            if line.get(3) == Some(&b'-') {
                continue;
            }
            match parse_code(line) {
                Some(code) => failed = self.on_reply(during, code).or(failed),
                None => failed = self.fail(Failure::Malformed { during }).or(failed),
            }
        }
        failed
    }

    /// The server closed the connection (read returned 0 or an error).
    pub fn on_eof(&mut self) -> Option<Failure> {
        let during = self.waiting.take()?;
        self.out.clear();
        if during == Command::Quit {
            return None;
        }
        let f = Failure::Closed { during };
        self.result.get_or_insert(Err(f.clone()));
        Some(f)
    }

    /// No reply came in time: like keepalived, say `QUIT` (unless that is what timed out).
    pub fn on_timeout(&mut self) -> Option<Failure> {
        let during = self.waiting?;
        if during == Command::Quit {
            self.waiting = None;
            self.out.clear();
            return None;
        }
        self.fail(Failure::TimedOut { during })
    }

    /// Ends the dialog without a word (the caller gave up on the connection).
    pub fn abandon(&mut self, why: Failure) {
        self.waiting = None;
        self.out.clear();
        self.result.get_or_insert(Err(why));
    }

    fn fail(&mut self, f: Failure) -> Option<Failure> {
        match self.waiting {
            Some(Command::Quit) | None => {
                self.waiting = None;
                None
            }
            Some(_) => {
                self.result.get_or_insert(Err(f.clone()));
                self.send_cmd(Command::Quit, "QUIT\r\n".to_string());
                Some(f)
            }
        }
    }

    fn send_cmd(&mut self, next: Command, line: String) {
        self.out.extend_from_slice(line.as_bytes());
        self.waiting = Some(next);
    }

    fn on_reply(&mut self, during: Command, code: u16) -> Option<Failure> {
        if !during.accepts(code) {
            if during == Command::Quit {
                self.waiting = None;
                return None;
            }
            return self.fail(Failure::Rejected {
                command: during,
                code,
            });
        }
        match during {
            Command::Greeting => {
                let l = format!("HELO {}\r\n", self.helo);
                self.send_cmd(Command::Helo, l);
            }
            Command::Helo => {
                let l = format!("MAIL FROM:<{}>\r\n", self.from);
                self.send_cmd(Command::Mail, l);
            }
            Command::Mail | Command::Rcpt => match self.to.get(self.next_rcpt) {
                Some(to) => {
                    let l = format!("RCPT TO:<{to}>\r\n");
                    self.next_rcpt += 1;
                    self.send_cmd(Command::Rcpt, l);
                }
                None => self.send_cmd(Command::Data, "DATA\r\n".to_string()),
            },
            Command::Data => {
                let data = std::mem::take(&mut self.data);
                self.out.extend_from_slice(&data);
                self.waiting = Some(Command::Body);
            }
            Command::Body => {
                self.result = Some(Ok(()));
                self.send_cmd(Command::Quit, "QUIT\r\n".to_string());
            }
            Command::Quit => self.waiting = None,
        }
        None
    }
}

/// The three-digit code at the start of a reply line.
fn parse_code(line: &[u8]) -> Option<u16> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if line.get(3).is_some_and(|b| *b != b' ') {
        return None;
    }
    Some(
        digits
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0')),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dialog() -> Dialog {
        Dialog::new(
            "host1",
            "ka@example.org",
            &["a@example.org".into(), "b@example.org".into()],
            b"Subject: x\r\n\r\nbody\r\n.\r\n".to_vec(),
        )
    }

    fn take(d: &mut Dialog) -> String {
        let s = String::from_utf8(d.pending().to_vec()).unwrap();
        let n = d.pending().len();
        d.advance(n);
        s
    }

    #[test]
    fn full_dialog() {
        let mut d = dialog();
        assert_eq!(d.step(), Step::Await(Command::Greeting));
        assert_eq!(d.receive(b"220 mx ESMTP ready\r\n"), None);
        assert_eq!(d.step(), Step::Send);
        assert_eq!(take(&mut d), "HELO host1\r\n");
        d.receive(b"250-mx\r\n250-PIPELINING\r\n250 8BITMIME\r\n");
        assert_eq!(take(&mut d), "MAIL FROM:<ka@example.org>\r\n");
        d.receive(b"250 ok\r\n");
        assert_eq!(take(&mut d), "RCPT TO:<a@example.org>\r\n");
        d.receive(b"250 ok\r\n");
        assert_eq!(take(&mut d), "RCPT TO:<b@example.org>\r\n");
        d.receive(b"251 forwarded\r\n");
        assert_eq!(take(&mut d), "DATA\r\n");
        d.receive(b"354 go ahead\r\n");
        assert_eq!(take(&mut d), "Subject: x\r\n\r\nbody\r\n.\r\n");
        assert_eq!(d.result(), None);
        d.receive(b"250 queued\r\n");
        assert_eq!(d.result(), Some(&Ok(())));
        assert_eq!(take(&mut d), "QUIT\r\n");
        assert_eq!(d.step(), Step::Await(Command::Quit));
        d.receive(b"221 bye\r\n");
        assert_eq!(d.step(), Step::Done);
        assert!(d.is_done());
    }

    #[test]
    fn byte_by_byte_and_bare_lf() {
        let mut d = dialog();
        for b in b"220 hi\n" {
            d.receive(&[*b]);
        }
        assert_eq!(take(&mut d), "HELO host1\r\n");
    }

    #[test]
    fn rejection_sends_quit() {
        let mut d = dialog();
        let f = d.receive(b"554 no service\r\n");
        assert_eq!(
            f,
            Some(Failure::Rejected {
                command: Command::Greeting,
                code: 554
            })
        );
        assert_eq!(take(&mut d), "QUIT\r\n");
        d.receive(b"221 bye\r\n");
        assert!(d.is_done());
        assert!(matches!(
            d.result(),
            Some(Err(Failure::Rejected { code: 554, .. }))
        ));
    }

    #[test]
    fn rcpt_rejected() {
        let mut d = dialog();
        d.receive(b"220 x\r\n250 x\r\n");
        take(&mut d);
        d.receive(b"250 x\r\n");
        take(&mut d);
        assert_eq!(
            d.receive(b"450 mailbox busy\r\n"),
            Some(Failure::Rejected {
                command: Command::Rcpt,
                code: 450
            })
        );
        assert_eq!(take(&mut d), "QUIT\r\n");
    }

    #[test]
    fn eof_and_timeout() {
        let mut d = dialog();
        d.receive(b"220 x\r\n");
        assert_eq!(
            d.on_eof(),
            Some(Failure::Closed {
                during: Command::Helo
            })
        );
        assert!(d.is_done());
        assert!(d.pending().is_empty());

        let mut d = dialog();
        assert_eq!(
            d.on_timeout(),
            Some(Failure::TimedOut {
                during: Command::Greeting
            })
        );
        assert_eq!(take(&mut d), "QUIT\r\n");
        assert_eq!(d.on_timeout(), None);
        assert!(d.is_done());
        assert!(matches!(d.result(), Some(Err(Failure::TimedOut { .. }))));
    }

    #[test]
    fn delivered_even_if_quit_fails() {
        let mut d = Dialog::new("h", "f", &["t".into()], b".\r\n".to_vec());
        d.receive(b"220 x\r\n250 x\r\n250 x\r\n250 x\r\n354 x\r\n250 x\r\n");
        assert_eq!(d.result(), Some(&Ok(())));
        assert_eq!(d.on_eof(), None);
        assert_eq!(d.result(), Some(&Ok(())));
    }

    #[test]
    fn malformed_and_too_long() {
        let mut d = dialog();
        assert_eq!(
            d.receive(b"hello\r\n"),
            Some(Failure::Malformed {
                during: Command::Greeting
            })
        );
        let mut d = dialog();
        let long = vec![b'2'; MAX_LINE + 1];
        assert_eq!(
            d.receive(&long),
            Some(Failure::TooLong {
                during: Command::Greeting
            })
        );
        assert_eq!(take(&mut d), "QUIT\r\n");
    }

    #[test]
    fn injection_is_cut() {
        let mut d = Dialog::new("h\r\nRSET", "f", &["t".into()], Vec::new());
        d.receive(b"220 x\r\n");
        assert_eq!(take(&mut d), "HELO hRSET\r\n");
    }

    proptest! {
        #[test]
        fn any_server_stream_never_panics(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..20), eof in any::<bool>()) {
            let mut d = dialog();
            for c in &chunks {
                let _ = d.receive(c);
                let n = d.pending().len();
                d.advance(n);
            }
            if eof {
                let _ = d.on_eof();
                prop_assert!(d.is_done());
            } else {
                let _ = d.on_timeout();
                let _ = d.on_timeout();
                prop_assert!(d.is_done());
            }
            prop_assert!(d.result().is_some());
        }

        #[test]
        fn replies_in_any_split_deliver(split in 0usize..64) {
            let script = b"220 x\r\n250-a\r\n250 b\r\n250 x\r\n250 x\r\n250 x\r\n354 x\r\n250 x\r\n221 x\r\n";
            let (a, b) = script.split_at(split.min(script.len()));
            let mut d = dialog();
            d.receive(a);
            d.receive(b);
            prop_assert_eq!(d.result(), Some(&Ok(())));
            prop_assert!(d.is_done());
        }
    }
}
