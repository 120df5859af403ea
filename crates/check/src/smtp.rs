//! SMTP_CHECK's conversation (`check_smtp.c`), without I/O: read the `220` greeting, send
//! `HELO <helo_name>`, expect `250`, send `QUIT` and wait for its reply (any code: the server
//! answered, the check passed).
//!
//! Replies may span several lines (`250-first`, `250 last`); a reply is complete at its last
//! line, and its code is that line's. keepalived itself looks only at the first line it reads;
//! waiting for the whole reply gives the same verdict for single-line servers and does not
//! mistake the tail of a multi-line banner for the HELO answer.

/// The longest reply line kept; a longer line is cut (only its first characters matter).
const MAX_LINE: usize = 512;
/// The most reply bytes accepted for one step; a server that talks more is failed.
const MAX_REPLY: usize = 64 * 1024;

/// keepalived's default HELO name.
pub const DEFAULT_HELO: &str = "smtpchecker.keepalived.org";

/// What the shell does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpStep {
    /// Keep reading.
    Wait,
    /// Send these bytes, then keep reading.
    Send(Vec<u8>),
    /// The check passed.
    Done,
    /// The check failed; keepalived's wording of why (followed by "server <name>").
    Fail(&'static str),
}

/// Where the conversation stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stage {
    Banner,
    Helo,
    Quit,
    Finished,
}

/// One SMTP_CHECK conversation.
#[derive(Debug, Clone)]
pub struct SmtpDialog {
    helo: String,
    stage: Stage,
    line: Vec<u8>,
    /// Bytes of the current reply so far.
    reply_bytes: usize,
}

impl SmtpDialog {
    /// A conversation that will introduce itself as `helo`.
    pub fn new(helo: &str) -> Self {
        Self {
            // A CR or LF inside the name would end the command early.
            helo: helo.chars().filter(|c| *c != '\r' && *c != '\n').collect(),
            stage: Stage::Banner,
            line: Vec::new(),
            reply_bytes: 0,
        }
    }

    /// Feeds bytes read from the server; returns what to do (the bytes after a completed
    /// step are processed as part of the next one).
    pub fn feed(&mut self, data: &[u8]) -> SmtpStep {
        let mut out: Vec<u8> = Vec::new();
        for &b in data {
            if self.stage == Stage::Finished {
                break;
            }
            self.reply_bytes += 1;
            if self.reply_bytes > MAX_REPLY {
                self.stage = Stage::Finished;
                return SmtpStep::Fail("Buffer overflow reading from");
            }
            if b != b'\n' {
                if self.line.len() < MAX_LINE {
                    self.line.push(b);
                }
                continue;
            }
            let line = std::mem::take(&mut self.line);
            if is_continuation(&line) {
                continue;
            }
            self.reply_bytes = 0;
            let code = status(&line);
            match self.stage {
                Stage::Banner => {
                    if code != Some(220) {
                        self.stage = Stage::Finished;
                        return SmtpStep::Fail("Bad greeting banner from");
                    }
                    out.extend_from_slice(format!("HELO {}\r\n", self.helo).as_bytes());
                    self.stage = Stage::Helo;
                }
                Stage::Helo => {
                    if code != Some(250) {
                        self.stage = Stage::Finished;
                        return SmtpStep::Fail("Bad HELO response from");
                    }
                    out.extend_from_slice(b"QUIT\r\n");
                    self.stage = Stage::Quit;
                }
                Stage::Quit => {
                    self.stage = Stage::Finished;
                    return SmtpStep::Done;
                }
                Stage::Finished => {}
            }
        }
        if out.is_empty() {
            SmtpStep::Wait
        } else {
            SmtpStep::Send(out)
        }
    }

    /// The server closed the connection: a failure unless the conversation already ended.
    pub fn eof(&mut self) -> SmtpStep {
        if self.stage == Stage::Finished {
            return SmtpStep::Done;
        }
        self.stage = Stage::Finished;
        SmtpStep::Fail("Read failure from")
    }
}

/// The three-digit code at the start of a line.
fn status(line: &[u8]) -> Option<u16> {
    let digits = line.get(..3)?;
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

/// `NNN-text`: more lines of the same reply follow.
fn is_continuation(line: &[u8]) -> bool {
    status(line).is_some() && line.get(3) == Some(&b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn run(transcript: &[&[u8]]) -> (Vec<Vec<u8>>, SmtpStep) {
        let mut d = SmtpDialog::new(DEFAULT_HELO);
        let mut sent = Vec::new();
        let mut last = SmtpStep::Wait;
        for chunk in transcript {
            last = d.feed(chunk);
            if let SmtpStep::Send(b) = &last {
                sent.push(b.clone());
            }
            if matches!(last, SmtpStep::Done | SmtpStep::Fail(_)) {
                break;
            }
        }
        (sent, last)
    }

    #[test]
    fn postfix_dialog() {
        let (sent, last) = run(&[
            b"220 mail.example.org ESMTP Postfix (Debian/GNU)\r\n",
            b"250 mail.example.org\r\n",
            b"221 2.0.0 Bye\r\n",
        ]);
        assert_eq!(
            sent,
            vec![
                b"HELO smtpchecker.keepalived.org\r\n".to_vec(),
                b"QUIT\r\n".to_vec()
            ]
        );
        assert_eq!(last, SmtpStep::Done);
    }

    #[test]
    fn multi_line_banner_and_split_reads() {
        let (sent, last) = run(&[
            b"220-mx.example.net ESMTP\r\n220-",
            b"No UCE\r",
            b"\n220 ready\r\n",
            b"250-mx.example.net\r\n250-PIPELINING\r\n250 8BITMIME\r\n",
            b"221 bye\r\n",
        ]);
        assert_eq!(sent.len(), 2);
        assert_eq!(last, SmtpStep::Done);
    }

    #[test]
    fn refusals() {
        assert_eq!(
            run(&[b"554 5.7.1 no service here\r\n"]).1,
            SmtpStep::Fail("Bad greeting banner from")
        );
        assert_eq!(
            run(&[b"220 ok\r\n", b"501 syntax\r\n"]).1,
            SmtpStep::Fail("Bad HELO response from")
        );
        assert_eq!(
            run(&[b"garbage\r\n"]).1,
            SmtpStep::Fail("Bad greeting banner from")
        );
        let mut d = SmtpDialog::new("x");
        assert_eq!(d.feed(b"220 partial"), SmtpStep::Wait);
        assert_eq!(d.eof(), SmtpStep::Fail("Read failure from"));
    }

    #[test]
    fn helo_name_cannot_inject_commands() {
        let mut d = SmtpDialog::new("evil\r\nQUIT");
        assert_eq!(
            d.feed(b"220 hi\n"),
            SmtpStep::Send(b"HELO evilQUIT\r\n".to_vec())
        );
    }

    #[test]
    fn endless_reply_fails() {
        let mut d = SmtpDialog::new("x");
        let junk = vec![b'a'; MAX_REPLY + 1];
        assert_eq!(
            d.feed(&junk),
            SmtpStep::Fail("Buffer overflow reading from")
        );
    }

    proptest! {
        #[test]
        fn any_bytes_never_panic(chunks in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..200), 0..20)) {
            let mut d = SmtpDialog::new(DEFAULT_HELO);
            for c in &chunks {
                let _ = d.feed(c);
            }
            let _ = d.eof();
        }
    }
}
