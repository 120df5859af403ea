//! The virtual-server checks on loopback: TCP listeners and small HTTP/HTTPS servers started
//! here are up, stopped, answer with the wrong status or body, or answer too slowly; the test
//! drives `VirtualServers` with its own mio loop and checks the real-server states, the
//! notify_up/notify_down scripts (they append to a file) and the IPVS commands recorded.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{config, free_port, lines, Harness, ServerThread};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// Procs reaps with waitpid(-1): tests that spawn processes must not run at the same time.
static SERIAL: Mutex<()> = Mutex::new(());

/// A tiny HTTP server answering every connection with `answer()`, after `delay`.
struct HttpServer {
    addr: SocketAddr,
    _thread: ServerThread,
}

type Answer = Arc<Mutex<(Vec<u8>, Duration)>>;

impl HttpServer {
    fn start(answer: Answer, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let stop2 = stop.clone();
        let handle = thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let (body, delay) = answer.lock().unwrap().clone();
                        let tls = tls.clone();
                        thread::spawn(move || serve(s, &body, delay, tls));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            addr,
            _thread: ServerThread::new(stop, handle),
        }
    }
}

fn serve(mut s: TcpStream, answer: &[u8], delay: Duration, tls: Option<Arc<rustls::ServerConfig>>) {
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    match tls {
        None => {
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            thread::sleep(delay);
            let _ = s.write_all(answer);
        }
        Some(cfg) => {
            let conn = rustls::ServerConnection::new(cfg).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, s);
            while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                match tls.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => req.extend_from_slice(&buf[..n]),
                }
            }
            thread::sleep(delay);
            let _ = tls.write_all(answer);
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    }
}

fn http_answer(status: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.0 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn md5_hex(body: &str) -> String {
    let mut r = keepalived_check::http::ResponseReader::new();
    r.feed(format!("HTTP/1.0 200 OK\r\n\r\n{body}").as_bytes())
        .unwrap();
    r.finish().unwrap().digest_hex()
}

fn tls_server_config() -> Arc<rustls::ServerConfig> {
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let der = rustls::pki_types::CertificateDer::from(cert.cert.der().to_vec());
    let key = rustls::pki_types::PrivateKeyDer::Pkcs8(rustls::pki_types::PrivatePkcs8KeyDer::from(
        cert.key_pair.serialize_der(),
    ));
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .unwrap();
    Arc::new(cfg)
}

#[test]
fn tcp_check_up_down_up_with_notifies_and_ipvs() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = common::scratch("rschecks", "tcp");
    let notes = dir.join("notify");
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let dead = free_port();
    let cfg = config(&format!(
        r#"
virtual_server 10.9.9.1 80 {{
    delay_loop 1
    lb_algo rr
    lb_kind NAT
    protocol TCP
    real_server 127.0.0.1 {port} {{
        weight 2
        notify_up "/bin/sh -c 'echo up-a >> {n}'"
        notify_down "/bin/sh -c 'echo down-a >> {n}'"
        TCP_CHECK {{
            connect_timeout 1
            retry 1
            delay_before_retry 1
            warmup 0
        }}
    }}
    real_server 127.0.0.1 {dead} {{
        notify_down "/bin/sh -c 'echo down-b >> {n}'"
        TCP_CHECK {{
            connect_timeout 1
            retry 0
            warmup 0
        }}
    }}
}}
"#,
        n = notes.display()
    ));
    let mut h = Harness::new(&cfg);
    let start = h.ipvs.take();
    assert_eq!(start.len(), 3, "{start:?}");
    assert!(start[0].starts_with("-A -t 10.9.9.1:80 -s rr"), "{start:?}");
    // The closed port goes down at the first check (retry 0); the listener stays up.
    h.run_until(Duration::from_secs(5), "b down", |h| !h.alive(1));
    assert!(h.alive(0));
    assert_eq!(
        h.ipvs.take(),
        vec![format!("-d -t 10.9.9.1:80 -r 127.0.0.1:{dead}")]
    );
    // Stop the listener: after one retry, a goes down.
    drop(listener);
    h.run_until(Duration::from_secs(6), "a down", |h| !h.alive(0));
    assert_eq!(
        h.ipvs.take(),
        vec![format!("-d -t 10.9.9.1:80 -r 127.0.0.1:{port}")]
    );
    // Back up.
    let _listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
    h.run_until(Duration::from_secs(4), "a up", |h| h.alive(0));
    let back = h.ipvs.take();
    assert_eq!(back.len(), 1, "{back:?}");
    assert!(
        back[0].starts_with(&format!("-a -t 10.9.9.1:80 -r 127.0.0.1:{port} -m -w 2")),
        "{back:?}"
    );
    h.run(Duration::from_millis(300));
    assert_eq!(
        h.states(),
        vec![
            (format!("[127.0.0.1]:tcp:{dead}"), false),
            (format!("[127.0.0.1]:tcp:{port}"), false),
            (format!("[127.0.0.1]:tcp:{port}"), true),
        ]
    );
    let mut got = lines(&notes);
    got.sort();
    assert_eq!(got, vec!["down-a", "down-b", "up-a"]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn http_get_status_digest_and_slowness() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let answer: Answer = Arc::new(Mutex::new((http_answer("200 OK", "hello"), Duration::ZERO)));
    let server = HttpServer::start(answer.clone(), None);
    let cfg = config(&format!(
        r#"
virtual_server 10.9.9.2 80 {{
    delay_loop 1
    protocol TCP
    real_server 127.0.0.1 {port} {{
        HTTP_GET {{
            url {{
                path /health
                digest {digest}
                status_code 200
            }}
            connect_timeout 1
            retry 0
            delay_before_retry 1
            warmup 0
        }}
    }}
}}
"#,
        port = server.addr.port(),
        digest = md5_hex("hello")
    ));
    let mut h = Harness::new(&cfg);
    h.run(Duration::from_millis(500));
    assert!(h.alive(0), "{}", h.vs.dump());
    assert!(h.states().is_empty());
    // Wrong digest.
    *answer.lock().unwrap() = (http_answer("200 OK", "bye"), Duration::ZERO);
    h.run_until(Duration::from_secs(4), "digest failure", |h| !h.alive(0));
    // Right body again.
    *answer.lock().unwrap() = (http_answer("200 OK", "hello"), Duration::ZERO);
    h.run_until(Duration::from_secs(4), "up again", |h| h.alive(0));
    // Wrong status.
    *answer.lock().unwrap() = (http_answer("503 Unavailable", "hello"), Duration::ZERO);
    h.run_until(Duration::from_secs(4), "status failure", |h| !h.alive(0));
    *answer.lock().unwrap() = (http_answer("200 OK", "hello"), Duration::ZERO);
    h.run_until(Duration::from_secs(4), "up again", |h| h.alive(0));
    // Slower than connect_timeout (1 s).
    *answer.lock().unwrap() = (http_answer("200 OK", "hello"), Duration::from_millis(2500));
    h.run_until(Duration::from_secs(6), "slow failure", |h| !h.alive(0));
    let ups: Vec<bool> = h.states().into_iter().map(|(_, up)| up).collect();
    assert_eq!(ups, vec![false, true, false, true, false]);
}

#[test]
fn ssl_get_with_self_signed_certificate() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let answer: Answer = Arc::new(Mutex::new((
        http_answer("200 OK", "secure"),
        Duration::ZERO,
    )));
    let server = HttpServer::start(answer.clone(), Some(tls_server_config()));
    let cfg = config(&format!(
        r#"
virtual_server 10.9.9.3 443 {{
    delay_loop 1
    protocol TCP
    alpha
    real_server 127.0.0.1 {port} {{
        SSL_GET {{
            url {{
                path /
                digest {digest}
            }}
            enable_sni
            virtualhost localhost
            connect_timeout 2
            retry 0
            warmup 0
        }}
    }}
}}
"#,
        port = server.addr.port(),
        digest = md5_hex("secure")
    ));
    let mut h = Harness::new(&cfg);
    assert!(!h.alive(0), "alpha starts down");
    h.run_until(Duration::from_secs(5), "SSL up", |h| h.alive(0));
    *answer.lock().unwrap() = (http_answer("404 Not Found", "x"), Duration::ZERO);
    h.run_until(Duration::from_secs(5), "SSL 404 down", |h| !h.alive(0));
}

#[test]
fn misc_check_exit_codes_and_dynamic_weight() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let dir = common::scratch("rschecks", "misc");
    let code = dir.join("check.sh");
    std::fs::write(&code, "exit 0\n").unwrap();
    let cfg = config(&format!(
        r#"
virtual_server 10.9.9.4 80 {{
    delay_loop 1
    protocol TCP
    real_server 127.0.0.1 8080 {{
        weight 3
        MISC_CHECK {{
            misc_path "/bin/sh {c}"
            misc_timeout 1
            misc_dynamic
            warmup 0
        }}
    }}
}}
"#,
        c = code.display()
    ));
    let mut h = Harness::new(&cfg);
    h.ipvs.take();
    h.run(Duration::from_millis(500));
    assert!(h.alive(0));
    std::fs::write(&code, "exit 1\n").unwrap();
    h.run_until(Duration::from_secs(4), "misc down", |h| !h.alive(0));
    std::fs::write(&code, "exit 7\n").unwrap();
    h.run_until(Duration::from_secs(4), "misc up with weight 5", |h| {
        h.alive(0)
    });
    let cmds = h.ipvs.take();
    assert!(
        cmds.iter()
            .any(|c| c.starts_with("-a") && c.contains("-w 5")),
        "{cmds:?}"
    );
    // A hanging script is killed at misc_timeout and counts as a failure.
    std::fs::write(&code, "sleep 30\n").unwrap();
    h.run_until(Duration::from_secs(6), "misc timeout", |h| !h.alive(0));
    let _ = std::fs::remove_dir_all(&dir);
}
