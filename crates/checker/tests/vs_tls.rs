//! SSL_GET certificates and HTTP URL walking, on loopback: HTTPS servers with certificates
//! from test CAs (made with rcgen), one of them requiring a client certificate; HTTP servers
//! answering a set of paths. The test drives `VirtualServers` with its own mio loop.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::{config, Harness, ServerThread};
use keepalived_config::Config;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// Procs reaps with waitpid(-1), and the log capture is global: one test at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Every log line, for the tests that look for a message.
static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata) -> bool {
        true
    }
    fn log(&self, record: &log::Record) {
        LOGS.lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(record.args().to_string());
    }
    fn flush(&self) {}
}

fn capture_logs() {
    static LOGGER: Capture = Capture;
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(log::LevelFilter::Debug);
    LOGS.lock().unwrap_or_else(|e| e.into_inner()).clear();
}

fn logged(what: &str) -> bool {
    LOGS.lock()
        .unwrap_or_else(|e| e.into_inner())
        .iter()
        .any(|l| l.contains(what))
}

fn scratch(name: &str) -> PathBuf {
    common::scratch("httptls", name)
}

/// A test CA.
struct Ca {
    key: KeyPair,
    cert: rcgen::Certificate,
}

impl Ca {
    fn new(name: &str) -> Self {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(Vec::new()).unwrap();
        p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        p.distinguished_name.push(DnType::CommonName, name);
        p.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let cert = p.self_signed(&key).unwrap();
        Self { key, cert }
    }

    /// A leaf certificate for `name` with `usage`; returns (cert PEM, key PEM).
    fn issue(&self, name: &str, usage: ExtendedKeyUsagePurpose) -> (String, String) {
        let key = KeyPair::generate().unwrap();
        let mut p = CertificateParams::new(vec![name.to_string()]).unwrap();
        p.distinguished_name.push(DnType::CommonName, name);
        p.extended_key_usages = vec![usage];
        let cert = p.signed_by(&key, &self.cert, &self.key).unwrap();
        (cert.pem(), key.serialize_pem())
    }

    fn write(&self, path: &Path) -> String {
        std::fs::write(path, self.cert.pem()).unwrap();
        path.to_str().unwrap().to_string()
    }
}

fn der_chain(pem: &str) -> Vec<CertificateDer<'static>> {
    use rustls::pki_types::pem::PemObject;
    CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .unwrap()
}

fn der_key(pem: &str) -> PrivateKeyDer<'static> {
    use rustls::pki_types::pem::PemObject;
    PrivatePkcs8KeyDer::from_pem_slice(pem.as_bytes())
        .unwrap()
        .into()
}

/// An HTTPS server config with `leaf`; with `client_ca`, a client certificate from that CA
/// is required.
fn server_config(leaf: &(String, String), client_ca: Option<&Ca>) -> Arc<rustls::ServerConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ServerConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap();
    let builder = match client_ca {
        None => builder.with_no_client_auth(),
        Some(ca) => {
            let mut roots = rustls::RootCertStore::empty();
            roots
                .add(CertificateDer::from(ca.cert.der().to_vec()))
                .unwrap();
            let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider,
            )
            .build()
            .unwrap();
            builder.with_client_cert_verifier(v)
        }
    };
    Arc::new(
        builder
            .with_single_cert(der_chain(&leaf.0), der_key(&leaf.1))
            .unwrap(),
    )
}

/// A small HTTP(S) server: each connection gets `answer(path)`.
struct Server {
    addr: SocketAddr,
    _thread: ServerThread,
    /// The paths requested, in order, and when.
    paths: Arc<Mutex<Vec<(String, Instant)>>>,
}

type AnswerFn = Arc<dyn Fn(&str) -> Vec<u8> + Send + Sync>;

impl Server {
    fn start(answer: AnswerFn, tls: Option<Arc<rustls::ServerConfig>>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let paths = Arc::new(Mutex::new(Vec::new()));
        let (stop2, paths2) = (stop.clone(), paths.clone());
        let handle = thread::spawn(move || {
            while !stop2.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((s, _)) => {
                        let (tls, answer, paths) = (tls.clone(), answer.clone(), paths2.clone());
                        thread::spawn(move || serve(s, answer, tls, paths));
                    }
                    Err(_) => thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Self {
            addr,
            _thread: ServerThread::new(stop, handle),
            paths,
        }
    }

    fn paths(&self) -> Vec<String> {
        self.paths
            .lock()
            .unwrap()
            .iter()
            .map(|(p, _)| p.clone())
            .collect()
    }

    fn times(&self) -> Vec<Instant> {
        self.paths.lock().unwrap().iter().map(|(_, t)| *t).collect()
    }
}

fn read_request(s: &mut impl Read) -> Option<String> {
    let mut req = Vec::new();
    let mut buf = [0u8; 1024];
    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => return None,
            Ok(n) => req.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&req);
    text.split_whitespace().nth(1).map(str::to_string)
}

fn serve(
    mut s: TcpStream,
    answer: AnswerFn,
    tls: Option<Arc<rustls::ServerConfig>>,
    paths: Arc<Mutex<Vec<(String, Instant)>>>,
) {
    s.set_nonblocking(false).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    match tls {
        None => {
            let Some(path) = read_request(&mut s) else {
                return;
            };
            paths.lock().unwrap().push((path.clone(), Instant::now()));
            let _ = s.write_all(&answer(&path));
        }
        Some(cfg) => {
            let conn = rustls::ServerConnection::new(cfg).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, s);
            let Some(path) = read_request(&mut tls) else {
                return;
            };
            // HTTPS paths are recorded with the SNI the client sent.
            let sni = tls.conn.server_name().unwrap_or("-").to_string();
            paths
                .lock()
                .unwrap()
                .push((format!("{path}@{sni}"), Instant::now()));
            let _ = tls.write_all(&answer(&path));
            tls.conn.send_close_notify();
            let _ = tls.flush();
        }
    }
}

fn ok_answer() -> AnswerFn {
    Arc::new(|_| b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec())
}

fn ssl_config(port: u16, ssl_block: &str, alpha: bool) -> Config {
    config(&format!(
        r#"
{ssl_block}
virtual_server 10.9.9.3 443 {{
    delay_loop 1
    protocol TCP
    {alpha}
    real_server 127.0.0.1 {port} {{
        SSL_GET {{
            url {{
                path /
            }}
            connect_timeout 2
            retry 0
            warmup 0
        }}
    }}
}}
"#,
        alpha = if alpha { "alpha" } else { "" }
    ))
}

#[test]
fn ssl_get_verifies_the_chain_against_the_configured_ca() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    capture_logs();
    let dir = scratch("ca");
    let ours = Ca::new("our CA");
    let theirs = Ca::new("another CA");
    let ca = ours.write(&dir.join("ca.pem"));
    let block = format!("SSL {{\n ca {ca}\n}}");
    // The certificate names a service, not 127.0.0.1: keepalived checks no host name.
    let good = Server::start(
        ok_answer(),
        Some(server_config(
            &ours.issue("www.example", ExtendedKeyUsagePurpose::ServerAuth),
            None,
        )),
    );
    let mut h = Harness::new(&ssl_config(good.addr.port(), &block, true));
    h.run_until(Duration::from_secs(5), "up with our CA", |h| h.alive(0));

    let bad = Server::start(
        ok_answer(),
        Some(server_config(
            &theirs.issue("www.example", ExtendedKeyUsagePurpose::ServerAuth),
            None,
        )),
    );
    let mut h = Harness::new(&ssl_config(bad.addr.port(), &block, false));
    assert!(h.alive(0), "starts up without alpha");
    h.run_until(Duration::from_secs(5), "down with another CA", |h| {
        !h.alive(0)
    });
    assert!(
        logged("TLS error: invalid peer certificate"),
        "{:?}",
        LOGS.lock().unwrap()
    );
    assert!(
        bad.paths().is_empty(),
        "no request after a refused handshake"
    );

    // Without an SSL block nothing is verified (keepalived's default).
    let mut h = Harness::new(&ssl_config(bad.addr.port(), "", true));
    h.run_until(Duration::from_secs(5), "up unverified", |h| h.alive(0));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ssl_get_presents_the_client_certificate() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    capture_logs();
    let dir = scratch("client");
    let ca = Ca::new("client CA");
    let server = Server::start(
        ok_answer(),
        Some(server_config(
            &ca.issue("www.example", ExtendedKeyUsagePurpose::ServerAuth),
            Some(&ca),
        )),
    );
    let (cert, key) = ca.issue("checker", ExtendedKeyUsagePurpose::ClientAuth);
    let (cert_path, key_path) = (dir.join("client.pem"), dir.join("client.key"));
    std::fs::write(&cert_path, cert).unwrap();
    std::fs::write(&key_path, key).unwrap();

    let mut h = Harness::new(&ssl_config(server.addr.port(), "", false));
    h.run_until(Duration::from_secs(5), "down without a client cert", |h| {
        !h.alive(0)
    });

    let block = format!(
        "SSL {{\n certificate {}\n key {}\n}}",
        cert_path.display(),
        key_path.display()
    );
    let mut h = Harness::new(&ssl_config(server.addr.port(), &block, true));
    h.run_until(Duration::from_secs(5), "up with the client cert", |h| {
        h.alive(0)
    });
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ssl_get_with_unreadable_files_fails_with_one_error() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    capture_logs();
    let ca = Ca::new("any");
    let server = Server::start(
        ok_answer(),
        Some(server_config(
            &ca.issue("www.example", ExtendedKeyUsagePurpose::ServerAuth),
            None,
        )),
    );
    let block = "SSL {\n ca /nonexistent/krs-ca.pem\n}";
    let mut h = Harness::new(&ssl_config(server.addr.port(), block, false));
    h.run_until(Duration::from_secs(5), "down", |h| !h.alive(0));
    h.run(Duration::from_millis(1200));
    let errors = LOGS
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("/nonexistent/krs-ca.pem"))
        .count();
    assert_eq!(errors, 1, "{:?}", LOGS.lock().unwrap());
    assert_eq!(h.ups(), vec![false]);
}

#[test]
fn http_get_walks_one_url_per_delay_loop_and_holds_the_failed_one() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    capture_logs();
    let b_fails = Arc::new(AtomicBool::new(true));
    let flag = b_fails.clone();
    let server = Server::start(
        Arc::new(move |path: &str| {
            if path == "/b" && flag.load(Ordering::Relaxed) {
                b"HTTP/1.0 500 Oops\r\nContent-Length: 0\r\n\r\n".to_vec()
            } else {
                b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok".to_vec()
            }
        }),
        None,
    );
    let cfg = config(&format!(
        r#"
virtual_server 10.9.9.4 80 {{
    delay_loop 1
    protocol TCP
    real_server 127.0.0.1 {port} {{
        HTTP_GET {{
            url {{
                path /a
            }}
            url {{
                path /b
            }}
            url {{
                path /c
            }}
            connect_timeout 2
            retry 0
            delay_before_retry 1
            warmup 0
        }}
    }}
}}
"#,
        port = server.addr.port()
    ));
    let mut h = Harness::new(&cfg);
    assert!(h.alive(0), "starts up without alpha");
    h.run_until(Duration::from_secs(5), "down on /b", |h| !h.alive(0));
    // Held on the failed URL, once per delay_loop.
    h.run(Duration::from_millis(2300));
    let held = server.paths();
    assert_eq!(held.first().map(String::as_str), Some("/a"));
    assert!(held.len() >= 4, "{held:?}");
    assert!(held[1..].iter().all(|p| p == "/b"), "{held:?}");
    let times = server.times();
    for w in times.windows(2) {
        let gap = w[1] - w[0];
        assert!(gap >= Duration::from_millis(900), "URLs too close: {gap:?}");
    }
    // /b answers again: a fresh pass /a /b /c, and only its end brings the server back.
    b_fails.store(false, Ordering::Relaxed);
    let before = held.len();
    h.run_until(Duration::from_secs(8), "up after a whole pass", |h| {
        h.alive(0)
    });
    let after: Vec<String> = server.paths()[before..].to_vec();
    assert_eq!(after, vec!["/b", "/a", "/b", "/c"]);
    assert_eq!(h.ups(), vec![false, true]);
    assert!(logged("succeed on service"));
}

/// MISC_CHECK's script writes the uid it runs as; returns that uid once it has run.
fn misc_uid(global: &str, user: &str) -> Option<String> {
    let dir = scratch(&format!("misc-{}", user.len() + global.len()));
    std::fs::set_permissions(&dir, std::os::unix::fs::PermissionsExt::from_mode(0o777)).unwrap();
    let out = dir.join("uid");
    let script = dir.join("who.sh");
    std::fs::write(&script, format!("#!/bin/sh\nid -u > {}\n", out.display())).unwrap();
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let cfg = config(&format!(
        r#"
global_defs {{
{global}
}}
virtual_server 10.9.9.5 80 {{
    delay_loop 1
    protocol TCP
    real_server 127.0.0.1 80 {{
        MISC_CHECK {{
            misc_path "{script}"
            {user}
            warmup 0
        }}
    }}
}}
"#,
        script = script.display()
    ));
    let mut h = Harness::new(&cfg);
    let end = Instant::now() + Duration::from_secs(5);
    while Instant::now() < end && !out.exists() {
        h.run(Duration::from_millis(50));
    }
    h.run(Duration::from_millis(100));
    let uid = std::fs::read_to_string(&out)
        .ok()
        .map(|s| s.trim().to_string());
    let _ = std::fs::remove_dir_all(&dir);
    uid
}

#[test]
fn misc_check_runs_as_its_user_or_script_user() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !nix::unistd::geteuid().is_root() {
        eprintln!("skipped: changing users needs root");
        return;
    }
    let Some(nobody) = nix::unistd::User::from_name("nobody").ok().flatten() else {
        eprintln!("skipped: no user nobody");
        return;
    };
    let nobody = nobody.uid.as_raw().to_string();
    assert_eq!(
        misc_uid("", "user nobody").as_deref(),
        Some(nobody.as_str())
    );
    assert_eq!(
        misc_uid(" script_user nobody", "").as_deref(),
        Some(nobody.as_str())
    );
    assert_eq!(
        misc_uid(" script_user nobody", "user root").as_deref(),
        Some("0")
    );
}

#[test]
fn ssl_get_sends_the_url_virtualhost_as_sni() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let ca = Ca::new("sni");
    let server = Server::start(
        ok_answer(),
        Some(server_config(
            &ca.issue("www.example", ExtendedKeyUsagePurpose::ServerAuth),
            None,
        )),
    );
    let cfg = config(&format!(
        r#"
virtual_server 10.9.9.6 443 {{
    delay_loop 1
    protocol TCP
    real_server 127.0.0.1 {port} {{
        SSL_GET {{
            url {{
                path /1
                virtualhost u1.example
            }}
            url {{
                path /2
            }}
            enable_sni
            virtualhost check.example
            retry 0
            warmup 0
        }}
    }}
}}
"#,
        port = server.addr.port()
    ));
    let mut h = Harness::new(&cfg);
    let end = Instant::now() + Duration::from_secs(5);
    while server.paths().len() < 2 && Instant::now() < end {
        h.run(Duration::from_millis(50));
    }
    assert_eq!(
        server.paths()[..2].to_vec(),
        vec!["/1@u1.example", "/2@check.example"]
    );
}
