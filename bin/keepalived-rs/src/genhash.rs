//! `keepalived-rs -T` / `--genhash` (or the binary run as `genhash`): fetches a URL the way
//! HTTP_GET / SSL_GET do and prints the MD5 digest of its body, the value to write as `digest`.
//!
//! keepalived's genhash options: `-s server -p port -u url [-S] [-V vhost] [-m 1.0|1.0C|1.1]
//! [-t timeout] [-v] [-h]`; `-T` must be the first option. A blocking client is enough for this
//! one-shot tool; the request and the digest rules are the checker's own
//! (`keepalived_check::http`), so the printed digest is what the checker will compare.

use keepalived_check::http::{build_request, ResponseReader};
use keepalived_config::model::lvs::HttpProtocol;
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::ExitCode;
use std::time::Duration;

/// Whether the command line asks for genhash mode: the program is called `genhash`, or its
/// first option is `-T` / `--genhash`.
pub fn requested(args: &[String]) -> bool {
    let prog = args
        .first()
        .map(|a| a.rsplit('/').next().unwrap_or(a))
        .unwrap_or_default();
    prog == "genhash" || matches!(args.get(1).map(String::as_str), Some("-T" | "--genhash"))
}

#[derive(Debug)]
struct Options {
    server: IpAddr,
    port: u16,
    url: String,
    ssl: bool,
    vhost: Option<String>,
    sni: bool,
    protocol: HttpProtocol,
    timeout: Duration,
    verbose: bool,
}

const USAGE: &str = "Usage: keepalived-rs -T -s server-address -p port -u url [options]
  -s, --server ADDR          real server address
  -p, --port PORT            real server port
  -u, --url PATH             URL path to fetch
  -S, --use-ssl              use SSL (SSL_GET)
  -I, --use-sni              send the virtual host as SNI (with -S)
  -V, --use-virtualhost HOST Host header (and SNI name)
  -m, --protocol 1.0|1.0C|1.1  HTTP protocol (default 1.0)
  -t, --timeout SECS         connect/read timeout (default 5)
  -v, --verbose              print the header and the body received
  -h, --help                 this help";

fn parse(args: &[String]) -> Result<Options, String> {
    let mut server = None;
    let mut port = None;
    let mut url = None;
    let mut o = Options {
        server: IpAddr::from([127, 0, 0, 1]),
        port: 80,
        url: String::new(),
        ssl: false,
        vhost: None,
        sni: false,
        protocol: HttpProtocol::Http10,
        timeout: Duration::from_secs(5),
        verbose: false,
    };
    let mut it = args.iter().skip(1).peekable();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("option {name} needs a value"))
        };
        match flag {
            "-T" | "--genhash" => {}
            "-s" | "--server" => {
                let v = value(flag)?;
                server = Some(
                    v.parse()
                        .map_err(|_| format!("invalid server address {v}"))?,
                );
            }
            "-p" | "--port" => {
                let v = value(flag)?;
                port = Some(v.parse().map_err(|_| format!("invalid port {v}"))?);
            }
            "-u" | "--url" => url = Some(value(flag)?),
            "-S" | "--use-ssl" => o.ssl = true,
            "-I" | "--use-sni" => o.sni = true,
            "-V" | "--use-virtualhost" => o.vhost = Some(value(flag)?),
            "-m" | "--protocol" => {
                o.protocol = match value(flag)?.as_str() {
                    "1.0" => HttpProtocol::Http10,
                    "1.0C" | "1.0c" => HttpProtocol::Http10Close,
                    "1.1" => HttpProtocol::Http11,
                    other => return Err(format!("invalid HTTP protocol {other}")),
                }
            }
            "-t" | "--timeout" => {
                let v = value(flag)?;
                o.timeout =
                    Duration::from_secs(v.parse().map_err(|_| format!("invalid timeout {v}"))?);
            }
            "-v" | "--verbose" => o.verbose = true,
            "-r" | "--release" => {}
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown option {other}")),
        }
    }
    o.server = server.ok_or("-s server-address is required")?;
    o.port = port.ok_or("-p port is required")?;
    o.url = url.ok_or("-u url is required")?;
    Ok(o)
}

/// Runs genhash with the whole command line (`args[0]` is the program).
pub fn run(args: &[String]) -> ExitCode {
    let opts = match parse(args) {
        Ok(o) => o,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("{e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(1);
        }
    };
    match fetch(&opts) {
        Ok(Some(hex)) => {
            println!("{hex}");
            ExitCode::SUCCESS
        }
        Ok(None) => {
            eprintln!("no data received from remote webserver");
            ExitCode::from(1)
        }
        Err(e) => {
            eprintln!("{e}");
            ExitCode::from(1)
        }
    }
}

fn fetch(o: &Options) -> Result<Option<String>, String> {
    let addr = SocketAddr::new(o.server, o.port);
    let mut tcp = TcpStream::connect_timeout(&addr, o.timeout)
        .map_err(|e| format!("Connection to {addr} failed: {e}"))?;
    tcp.set_read_timeout(Some(o.timeout))
        .and_then(|()| tcp.set_write_timeout(Some(o.timeout)))
        .map_err(|e| e.to_string())?;
    let request = build_request(&o.url, o.vhost.as_deref(), addr, o.protocol);
    let mut reader = ResponseReader::new();
    let mut raw = Vec::new();
    let mut feed = |data: &[u8]| -> Result<bool, String> {
        if o.verbose {
            raw.extend_from_slice(data);
        }
        reader.feed(data).map_err(|e| e.to_string())
    };
    if o.ssl {
        let config = keepalived_checker::vs::tls::client_config(None).map_err(|e| e.to_string())?;
        let sni = if o.sni { o.vhost.as_deref() } else { None };
        let conn = rustls::ClientConnection::new(
            config,
            keepalived_checker::vs::tls::server_name(sni, o.server),
        )
        .map_err(|e| e.to_string())?;
        let mut tls = rustls::StreamOwned::new(conn, tcp);
        tls.write_all(&request)
            .map_err(|e| format!("SSL error: {e}"))?;
        read_all(&mut tls, &mut feed)?;
    } else {
        tcp.write_all(&request)
            .map_err(|e| format!("Cannot send get request: {e}"))?;
        read_all(&mut tcp, &mut feed)?;
    }
    if o.verbose {
        eprintln!("{}", String::from_utf8_lossy(&raw));
    }
    Ok(reader.finish().map(|r| r.digest_hex()))
}

fn read_all(
    stream: &mut impl Read,
    feed: &mut impl FnMut(&[u8]) -> Result<bool, String>,
) -> Result<(), String> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return Ok(()),
            Ok(n) => {
                if feed(buf.get(..n).unwrap_or_default())? {
                    return Ok(());
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            // A TLS peer that closes without close_notify: the body ends there.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return Err("Connection timed out".into())
            }
            Err(e) => return Err(format!("Read error: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn mode_detection() {
        assert!(requested(&args("keepalived-rs -T -s 1.2.3.4")));
        assert!(requested(&args("/usr/bin/genhash -s 1.2.3.4")));
        assert!(!requested(&args("keepalived-rs -n -T")));
    }

    #[test]
    fn options() {
        let o = parse(&args(
            "k -T -s 10.0.0.1 -p 8443 -u /x -S -V www -m 1.1 -t 2",
        ))
        .unwrap();
        assert_eq!(o.server, IpAddr::from([10, 0, 0, 1]));
        assert_eq!((o.port, o.url.as_str(), o.ssl), (8443, "/x", true));
        assert_eq!(o.vhost.as_deref(), Some("www"));
        assert_eq!(o.protocol, HttpProtocol::Http11);
        assert_eq!(o.timeout, Duration::from_secs(2));
        assert!(parse(&args("k -T -s 10.0.0.1 -u /")).is_err());
        assert!(parse(&args("k -T -s nope -p 1 -u /")).is_err());
    }

    #[test]
    fn digest_of_a_local_server() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 512];
            let _ = s.read(&mut buf);
            s.write_all(b"HTTP/1.0 200 OK\r\n\r\nhello").unwrap();
        });
        let o = parse(&args(&format!("k -T -s 127.0.0.1 -p {port} -u /"))).unwrap();
        // md5("hello")
        assert_eq!(
            fetch(&o).unwrap().as_deref(),
            Some("5d41402abc4b2a76b9719d911017c592")
        );
        t.join().unwrap();
    }
}
