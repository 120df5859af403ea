//! SMTP alerts of the checker on loopback: a TCP listener is the real server, a small SMTP
//! sink thread receives the mails; the test drives `VirtualServers` and `Alerts` with its
//! own mio loop (as the checker's loop does) and expects the real server's DOWN mail (and
//! the quorum lost) after the listener stops, and the UP mails after it returns.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_check::ipvs::{IpvsCommand, IpvsError, IpvsSink};
use keepalived_checker::alert::Alerts;
use keepalived_checker::procs::Procs;
use keepalived_checker::vs::{VirtualServers, VsContext, TOKEN_BASE};
use keepalived_config::{load_str, AssumeAll, Config, LoadOptions};
use keepalived_ipc::ToParent;
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

struct NoIpvs;

impl IpvsSink for NoIpvs {
    fn apply(&mut self, _: &IpvsCommand) -> Result<(), IpvsError> {
        Ok(())
    }
}

/// An SMTP sink: every mail's `Subject:` and body line go out on the channel.
fn smtp_sink() -> (SocketAddr, mpsc::Receiver<(String, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let tx = tx.clone();
            thread::spawn(move || session(stream, &tx));
        }
    });
    (addr, rx)
}

fn session(mut stream: TcpStream, tx: &mpsc::Sender<(String, String)>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream.write_all(b"220 sink ESMTP\r\n").unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let (mut in_data, mut in_body) = (false, false);
    let (mut subject, mut body) = (String::new(), String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        let reply: &[u8] = if in_data {
            if line == "." {
                in_data = false;
                let _ = tx.send((std::mem::take(&mut subject), std::mem::take(&mut body)));
                b"250 queued\r\n"
            } else {
                if let Some(s) = line.strip_prefix("Subject: ") {
                    subject = s.to_string();
                } else if line.is_empty() {
                    in_body = true;
                } else if in_body && body.is_empty() {
                    body = line;
                }
                continue;
            }
        } else if line == "DATA" {
            in_data = true;
            in_body = false;
            b"354 go\r\n"
        } else if line == "QUIT" {
            let _ = stream.write_all(b"221 bye\r\n");
            return;
        } else {
            b"250 ok\r\n"
        };
        stream.write_all(reply).unwrap();
    }
}

struct Harness {
    poll: mio::Poll,
    procs: Procs,
    reports: Vec<ToParent>,
    vs: VirtualServers,
    alerts: Alerts,
}

impl Harness {
    fn new(config: &Config) -> Self {
        let mut h = Self {
            poll: mio::Poll::new().unwrap(),
            procs: Procs::new(),
            reports: Vec::new(),
            vs: VirtualServers::with_sink(config, Box::new(NoIpvs)),
            alerts: Alerts::new(config),
        };
        let mut ctx = VsContext {
            registry: h.poll.registry(),
            procs: &mut h.procs,
            reports: &mut h.reports,
        };
        h.vs.start(&mut ctx, Instant::now());
        h
    }

    /// One turn of the loop, as the checker's loop takes it.
    fn turn(&mut self, events: &mut mio::Events) {
        let now = Instant::now();
        {
            let mut ctx = VsContext {
                registry: self.poll.registry(),
                procs: &mut self.procs,
                reports: &mut self.reports,
            };
            self.vs.fire_timers(&mut ctx, now);
        }
        let queued = self.vs.take_alerts();
        self.alerts.send(self.poll.registry(), now, &queued);
        self.alerts.on_timeout(self.poll.registry(), now);
        let mut until = now + Duration::from_millis(20);
        for d in [self.vs.next_deadline(), self.alerts.next_deadline()]
            .into_iter()
            .flatten()
        {
            until = until.min(d);
        }
        self.poll
            .poll(
                events,
                Some(until.saturating_duration_since(Instant::now())),
            )
            .unwrap();
        let now = Instant::now();
        let mut ctx = VsContext {
            registry: self.poll.registry(),
            procs: &mut self.procs,
            reports: &mut self.reports,
        };
        for ev in events.iter() {
            let token = ev.token();
            if self.alerts.owns(token) {
                self.alerts.ready(ctx.registry, token, now);
            } else {
                assert!(token.0 >= TOKEN_BASE);
                let r = ev.is_readable() || ev.is_read_closed() || ev.is_error();
                let w = ev.is_writable() || ev.is_write_closed();
                self.vs.ready(&mut ctx, token, r, w, now);
            }
        }
    }

    /// Runs the loop until `n` mails arrived (or panics after `max`).
    fn mails(
        &mut self,
        rx: &mpsc::Receiver<(String, String)>,
        n: usize,
        max: Duration,
    ) -> Vec<(String, String)> {
        let end = Instant::now() + max;
        let mut events = mio::Events::with_capacity(64);
        let mut got = Vec::new();
        while got.len() < n {
            assert!(Instant::now() < end, "only {got:?} in {max:?}");
            self.turn(&mut events);
            got.extend(rx.try_iter());
        }
        got.sort();
        got
    }
}

fn config(smtp: SocketAddr, rs_port: u16, extra_global: &str) -> Config {
    let text = format!(
        r#"
global_defs {{
    router_id lb-test
    notification_email {{
        ops@example.org
    }}
    notification_email_from ka@example.org
    smtp_server {ip} {sport}
    smtp_connect_timeout 5
    {extra_global}
}}
virtual_server 10.9.9.1 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {rs_port} {{
        TCP_CHECK {{
            connect_timeout 1
            retry 0
            warmup 0
        }}
    }}
}}
"#,
        ip = smtp.ip(),
        sport = smtp.port(),
    );
    load_str("alerts.conf", &text, &LoadOptions::default(), &AssumeAll).config
}

#[test]
fn down_then_up_mails_for_the_real_server_and_the_quorum() {
    let (smtp, rx) = smtp_sink();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let mut h = Harness::new(&config(smtp, port, "smtp_alert"));
    assert!(h.alerts.enabled());
    let rs = format!("[127.0.0.1]:tcp:{port}");
    let vs = "[10.9.9.1]:tcp:80";
    // Up from the start: nothing to say.
    let mut events = mio::Events::with_capacity(64);
    let settle = Instant::now() + Duration::from_millis(1300);
    while Instant::now() < settle {
        h.turn(&mut events);
    }
    assert_eq!(rx.try_iter().count(), 0);

    drop(listener);
    let got = h.mails(&rx, 2, Duration::from_secs(6));
    assert_eq!(
        got,
        vec![
            (
                format!("[lb-test] Realserver {rs} of virtual server {vs} - DOWN"),
                "=> TCP CHECK failed on service <=".to_string()
            ),
            (
                format!("[lb-test] Virtualserver {vs} - DOWN"),
                "=> Lost quorum <=".to_string()
            ),
        ]
    );

    let _listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    let got = h.mails(&rx, 2, Duration::from_secs(6));
    assert_eq!(
        got,
        vec![
            (
                format!("[lb-test] Realserver {rs} of virtual server {vs} - UP"),
                "=> TCP CHECK succeed on service <=".to_string()
            ),
            (
                format!("[lb-test] Virtualserver {vs} - UP"),
                "=> Gained quorum <=".to_string()
            ),
        ]
    );
    // The client ends its dialogs (QUIT) and frees its slots.
    let end = Instant::now() + Duration::from_secs(2);
    while h.alerts.in_flight() > 0 && Instant::now() < end {
        h.turn(&mut events);
    }
    assert_eq!(h.alerts.in_flight(), 0);
}

#[test]
fn no_mail_without_smtp_alert() {
    let (smtp, rx) = smtp_sink();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    // The real server is down at the first check; smtp_alert is not set anywhere.
    let mut h = Harness::new(&config(smtp, port, ""));
    let mut events = mio::Events::with_capacity(64);
    let end = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < end {
        h.turn(&mut events);
    }
    assert_eq!(h.vs.rs_alive(0, 0), Some(false));
    assert_eq!(rx.try_iter().count(), 0);
    assert_eq!(h.alerts.in_flight(), 0);
}
