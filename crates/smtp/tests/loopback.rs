//! The client against small SMTP servers on loopback, driven by a mio loop like the VRRP
//! child's: a good server, one that never answers, one that refuses with 554, a closed port
//! and a full queue.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use keepalived_smtp::alert::{vrrp_instance, AlertState};
use keepalived_smtp::client::{Client, Settings};
use mio::{Events, Poll, Token};
use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

/// How a test server behaves on each connection.
#[derive(Clone, Copy)]
enum Behaviour {
    /// A normal server: everything accepted.
    Good,
    /// Accepts the connection and says nothing.
    Silent,
    /// Greets with 554.
    Refuse,
}

/// Starts a server for `conns` connections; each finished connection sends its transcript
/// (client lines) on the returned channel.
fn server(b: Behaviour, conns: usize) -> (SocketAddr, mpsc::Receiver<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for _ in 0..conns {
            let Ok((stream, _)) = listener.accept() else {
                return;
            };
            let tx = tx.clone();
            thread::spawn(move || {
                let _ = tx.send(session(b, stream));
            });
        }
    });
    (addr, rx)
}

fn session(b: Behaviour, mut stream: TcpStream) -> Vec<String> {
    let mut lines = Vec::new();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    match b {
        Behaviour::Silent => {
            // Reads (and ignores) until the client goes away.
            let mut buf = [0u8; 64];
            while std::io::Read::read(&mut stream, &mut buf).unwrap_or(0) > 0 {}
            return lines;
        }
        Behaviour::Refuse => {
            stream.write_all(b"554 no service here\r\n").unwrap();
        }
        Behaviour::Good => {
            stream.write_all(b"220 sink ESMTP\r\n").unwrap();
        }
    }
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut in_data = false;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return lines;
        }
        let line = line.trim_end_matches(['\r', '\n']).to_string();
        lines.push(line.clone());
        let reply: &[u8] = if in_data {
            if line == "." {
                in_data = false;
                b"250 queued\r\n"
            } else {
                continue;
            }
        } else if line.starts_with("HELO") {
            b"250-sink\r\n250 8BITMIME\r\n"
        } else if line == "DATA" {
            in_data = true;
            b"354 go\r\n"
        } else if line == "QUIT" {
            let _ = stream.write_all(b"221 bye\r\n");
            return lines;
        } else {
            b"250 ok\r\n"
        };
        stream.write_all(reply).unwrap();
    }
}

fn settings(server: SocketAddr, timeout: Duration) -> Settings {
    let mut s = Settings::new(
        server,
        "lb1",
        "ka@example.org",
        vec!["ops@example.org".into(), "oncall@example.org".into()],
    );
    s.connect_timeout = timeout;
    s.dialog_timeout = timeout * 4;
    s
}

/// Runs a loop with the client and a 50 ms "other" timer until `done` or `limit`; returns
/// how often the other timer fired and the longest gap between two of its firings.
fn run(
    poll: &mut Poll,
    client: &mut Client,
    limit: Duration,
    done: impl Fn(&Client) -> bool,
) -> (u32, Duration) {
    let mut events = Events::with_capacity(16);
    let start = Instant::now();
    let tick = Duration::from_millis(50);
    let mut next_tick = start + tick;
    let mut last_tick = start;
    let mut ticks = 0;
    let mut max_gap = Duration::ZERO;
    while !done(client) {
        let now = Instant::now();
        assert!(now - start < limit, "not done in {limit:?}: {client:?}");
        if now >= next_tick {
            ticks += 1;
            max_gap = max_gap.max(now - last_tick);
            last_tick = now;
            next_tick = now + tick;
        }
        if client.next_deadline().is_some_and(|d| d <= now) {
            client.on_timeout(poll.registry(), now);
        }
        let until = client
            .next_deadline()
            .map_or(next_tick, |d| d.min(next_tick));
        poll.poll(&mut events, Some(until.saturating_duration_since(now)))
            .unwrap();
        for ev in events.iter() {
            assert!(client.owns(ev.token()));
            client.ready(poll.registry(), ev.token(), Instant::now());
        }
    }
    (ticks, max_gap)
}

#[test]
fn delivers_to_a_good_server_with_several_in_flight() {
    let (addr, rx) = server(Behaviour::Good, 3);
    let mut poll = Poll::new().unwrap();
    let mut client = Client::new(settings(addr, Duration::from_secs(5)), Token(100), 2);
    let now = Instant::now();
    for name in ["VI_1", "VI_2", "VI_3"] {
        client.send(
            poll.registry(),
            now,
            &vrrp_instance(Some("lb1"), name, AlertState::Master),
        );
    }
    assert_eq!(client.in_flight(), 2);
    assert_eq!(client.queued(), 1);
    run(&mut poll, &mut client, Duration::from_secs(10), |c| {
        c.stats().sent == 3
    });
    assert_eq!(client.stats().failed, 0);
    assert_eq!(client.in_flight(), 0);
    let mut subjects = Vec::new();
    for _ in 0..3 {
        let t = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert_eq!(t.first().map(String::as_str), Some("HELO lb1"));
        assert_eq!(
            t.get(1).map(String::as_str),
            Some("MAIL FROM:<ka@example.org>")
        );
        assert_eq!(
            t.get(2).map(String::as_str),
            Some("RCPT TO:<ops@example.org>")
        );
        assert_eq!(
            t.get(3).map(String::as_str),
            Some("RCPT TO:<oncall@example.org>")
        );
        assert_eq!(t.get(4).map(String::as_str), Some("DATA"));
        assert!(t.iter().any(|l| l.starts_with("Date: ")));
        assert!(t.iter().any(|l| l == "From: ka@example.org"));
        assert!(t.iter().any(|l| l == "X-Mailer: Keepalived"));
        assert!(t
            .iter()
            .any(|l| l == "To: ops@example.org, oncall@example.org"));
        assert!(t
            .iter()
            .any(|l| l == "=> VRRP Instance is now owning VRRP VIPs <="));
        assert_eq!(t.last().map(String::as_str), Some("QUIT"));
        subjects.extend(t.into_iter().filter(|l| l.starts_with("Subject: ")));
    }
    subjects.sort();
    assert_eq!(
        subjects,
        [
            "Subject: [lb1] VRRP Instance VI_1 - Entering MASTER state",
            "Subject: [lb1] VRRP Instance VI_2 - Entering MASTER state",
            "Subject: [lb1] VRRP Instance VI_3 - Entering MASTER state",
        ]
    );
}

#[test]
fn a_silent_server_times_out_without_blocking_the_loop() {
    let (addr, _rx) = server(Behaviour::Silent, 1);
    let mut poll = Poll::new().unwrap();
    let timeout = Duration::from_millis(400);
    let mut client = Client::new(settings(addr, timeout), Token(7), 4);
    let start = Instant::now();
    client.send(
        poll.registry(),
        start,
        &vrrp_instance(Some("lb1"), "VI_1", AlertState::Backup),
    );
    let (ticks, max_gap) = run(&mut poll, &mut client, Duration::from_secs(10), |c| {
        c.stats().failed == 1
    });
    let took = start.elapsed();
    // One reply timeout for the greeting, one more for the QUIT reply.
    assert!(took >= timeout * 2, "gave up after {took:?}");
    assert!(took < timeout * 4, "took {took:?}");
    assert!(ticks >= 10, "the other timer fired only {ticks} times");
    assert!(
        max_gap < Duration::from_millis(200),
        "loop blocked {max_gap:?}"
    );
    assert_eq!(client.in_flight(), 0);
    assert_eq!(client.stats().sent, 0);
}

#[test]
fn a_554_server_is_logged_and_the_mail_dropped() {
    let (addr, rx) = server(Behaviour::Refuse, 1);
    let mut poll = Poll::new().unwrap();
    let mut client = Client::new(settings(addr, Duration::from_secs(5)), Token(1), 1);
    client.send(
        poll.registry(),
        Instant::now(),
        &vrrp_instance(None, "VI_1", AlertState::Fault),
    );
    run(&mut poll, &mut client, Duration::from_secs(10), |c| {
        c.stats().failed == 1
    });
    assert_eq!(client.stats().sent, 0);
    let t = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(t, ["QUIT"]);
}

#[test]
fn a_closed_port_fails_fast() {
    // Bind then drop: nothing listens there any more.
    let addr = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut poll = Poll::new().unwrap();
    let mut client = Client::new(settings(addr, Duration::from_secs(5)), Token(1), 1);
    let start = Instant::now();
    client.send(
        poll.registry(),
        start,
        &vrrp_instance(None, "VI_1", AlertState::Master),
    );
    run(&mut poll, &mut client, Duration::from_secs(3), |c| {
        c.stats().failed == 1
    });
    assert!(start.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_full_queue_drops_and_counts() {
    let (addr, _rx) = server(Behaviour::Silent, 1);
    let poll = Poll::new().unwrap();
    let mut s = settings(addr, Duration::from_secs(5));
    s.max_queued = 2;
    let mut client = Client::new(s, Token(1), 1);
    let now = Instant::now();
    for _ in 0..5 {
        client.send(
            poll.registry(),
            now,
            &vrrp_instance(None, "VI_1", AlertState::Master),
        );
    }
    assert_eq!(client.in_flight(), 1);
    assert_eq!(client.queued(), 2);
    assert_eq!(client.stats().dropped, 2);
    client.close_all(poll.registry());
    assert_eq!(client.in_flight(), 0);
    assert_eq!(client.stats().dropped, 4);
    assert_eq!(client.stats().failed, 1);
}
