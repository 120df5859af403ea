//! HTTP_GET / SSL_GET: the request keepalived sends and the streaming evaluation of the answer.
//!
//! keepalived's rules (`check_http.c`, `lib/html.c`), kept here because operators compute their
//! `digest` with keepalived's `genhash` and expect the same value from us:
//! - the request is `GET <path> HTTP/1.<0|1>`, `User-Agent: KeepAliveClient`, `Connection: close`
//!   for `1.0C` and `1.1`, and `Host: <virtualhost>` or `Host: <ip>:<port>` (`[ip]` for IPv6);
//! - the status code is the 3 digits after the first space of the first line;
//! - the MD5 digest covers the raw bytes after the header, capped at `Content-Length` when the
//!   server sent one; chunk framing is NOT decoded (keepalived hashes it as received);
//! - a `Content-Length` that disagrees with the bytes received is logged, not a failure.
//!
//! keepalived reads until the server closes. We also stop early once the body is complete
//! (`Content-Length` bytes, or the last chunk of a chunked body) so that a server that keeps the
//! connection open does not turn into a timeout.

use keepalived_config::model::lvs::{HttpProtocol, Url};
use md5::{Digest, Md5};
use std::fmt::Write as _;
use std::net::SocketAddr;
use thiserror::Error;

pub mod walk;
pub use walk::UrlWalk;

/// The largest header we accept before calling the answer broken.
pub const MAX_HEADER_LEN: usize = 64 * 1024;

/// The bytes of the GET request for `path`. `vhost` wins over the address for `Host`.
pub fn build_request(
    path: &str,
    vhost: Option<&str>,
    addr: SocketAddr,
    protocol: HttpProtocol,
) -> Vec<u8> {
    let minor = u8::from(protocol == HttpProtocol::Http11);
    let close = match protocol {
        HttpProtocol::Http10 => "",
        HttpProtocol::Http10Close | HttpProtocol::Http11 => "Connection: close\r\n",
    };
    let host = match (vhost, addr) {
        (Some(v), _) => v.to_string(),
        (None, SocketAddr::V4(a)) => format!("{}:{}", a.ip(), a.port()),
        (None, SocketAddr::V6(a)) => format!("[{}]:{}", a.ip(), a.port()),
    };
    format!(
        "GET {path} HTTP/1.{minor}\r\nUser-Agent: KeepAliveClient\r\n{close}Host: {host}\r\n\r\n"
    )
    .into_bytes()
}

/// Why an answer could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum HttpError {
    /// The header grew past [`MAX_HEADER_LEN`] without ending.
    #[error("HTTP header longer than {MAX_HEADER_LEN} bytes")]
    HeaderTooLong,
}

/// Where the reader is in a chunked body (only to know when it ends).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Chunk {
    /// Reading hex digits of a size line; the value so far.
    Size(u64),
    /// After the size (extensions), waiting for LF.
    SizeLineEnd(u64),
    /// Inside chunk data; bytes left.
    Data(u64),
    /// After chunk data: CR.
    DataCr,
    /// After chunk data: LF.
    DataLf,
    /// After the last (0) chunk: trailer lines; whether the current line is empty so far.
    Trailer(bool),
    /// The body is complete.
    Done,
}

impl Chunk {
    fn step(self, b: u8) -> Chunk {
        match self {
            Chunk::Size(n) => match (b as char).to_digit(16) {
                Some(d) => Chunk::Size(n.saturating_mul(16).saturating_add(u64::from(d))),
                None if b == b'\n' => Self::after_size(n),
                None => Chunk::SizeLineEnd(n),
            },
            Chunk::SizeLineEnd(n) if b == b'\n' => Self::after_size(n),
            Chunk::SizeLineEnd(n) => Chunk::SizeLineEnd(n),
            Chunk::Data(0) => Chunk::DataCr.step(b),
            Chunk::Data(n) => Chunk::Data(n - 1),
            Chunk::DataCr if b == b'\r' => Chunk::DataLf,
            Chunk::DataCr | Chunk::DataLf if b == b'\n' => Chunk::Size(0),
            // Tolerate a missing CR/LF: treat the byte as the next size line.
            Chunk::DataCr | Chunk::DataLf => Chunk::Size(0).step(b),
            Chunk::Trailer(empty) => match b {
                b'\n' if empty => Chunk::Done,
                b'\n' => Chunk::Trailer(true),
                b'\r' => Chunk::Trailer(empty),
                _ => Chunk::Trailer(false),
            },
            Chunk::Done => Chunk::Done,
        }
    }

    fn after_size(n: u64) -> Chunk {
        if n == 0 {
            Chunk::Trailer(true)
        } else {
            Chunk::Data(n)
        }
    }
}

/// What the reader has learnt once the answer is complete (or the connection closed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// The status code (0 when the first line has none).
    pub status: u16,
    /// The MD5 of the body as keepalived computes it.
    pub digest: [u8; 16],
    /// `Content-Length`, if sent.
    pub content_length: Option<u64>,
    /// Body bytes received.
    pub body_len: u64,
}

impl Response {
    /// The digest as 32 lower-case hex digits, as `genhash` prints it.
    pub fn digest_hex(&self) -> String {
        hex(&self.digest)
    }

    /// keepalived's log note when `Content-Length` disagrees with what arrived.
    pub fn length_mismatch(&self) -> Option<(u64, u64)> {
        self.content_length
            .filter(|&cl| cl != self.body_len)
            .map(|cl| (cl, self.body_len))
    }
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// Reads an HTTP answer fed in pieces as they arrive.
#[derive(Debug, Clone)]
pub struct ResponseReader {
    head: Vec<u8>,
    in_body: bool,
    status: u16,
    content_length: Option<u64>,
    chunk: Option<Chunk>,
    body_len: u64,
    md5: Md5,
}

impl Default for ResponseReader {
    fn default() -> Self {
        Self::new()
    }
}

impl ResponseReader {
    /// A reader that has seen nothing.
    pub fn new() -> Self {
        Self {
            head: Vec::new(),
            in_body: false,
            status: 0,
            content_length: None,
            chunk: None,
            body_len: 0,
            md5: Md5::new(),
        }
    }

    /// Whether the header has been read.
    pub fn has_header(&self) -> bool {
        self.in_body
    }

    /// Feeds received bytes. Returns `Ok(true)` once the body is known to be complete.
    pub fn feed(&mut self, data: &[u8]) -> Result<bool, HttpError> {
        if self.in_body {
            self.body(data);
            return Ok(self.complete());
        }
        // Search for the end of the header from a little before the new bytes.
        let from = self.head.len().saturating_sub(3);
        self.head.extend_from_slice(data);
        let Some(end) = find_header_end(&self.head, from) else {
            if self.head.len() > MAX_HEADER_LEN {
                return Err(HttpError::HeaderTooLong);
            }
            return Ok(false);
        };
        // Also when the whole over-long header came in one read: the verdict must not depend
        // on how the answer was split.
        if end > MAX_HEADER_LEN {
            return Err(HttpError::HeaderTooLong);
        }
        let head = std::mem::take(&mut self.head);
        let (header, rest) = head.split_at(end);
        self.parse_header(header);
        self.in_body = true;
        self.body(rest);
        Ok(self.complete())
    }

    fn parse_header(&mut self, header: &[u8]) {
        let mut headers = [httparse::EMPTY_HEADER; 100];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(header) {
            Ok(httparse::Status::Complete(_)) => {
                self.status = resp.code.unwrap_or(0);
                for h in resp.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        self.content_length = std::str::from_utf8(h.value)
                            .ok()
                            .and_then(|v| v.trim().parse().ok());
                    } else if h.name.eq_ignore_ascii_case("transfer-encoding")
                        && std::str::from_utf8(h.value)
                            .map(|v| v.to_ascii_lowercase().contains("chunked"))
                            .unwrap_or(false)
                    {
                        self.chunk = Some(Chunk::Size(0));
                    }
                }
            }
            // Not strictly HTTP: fall back to keepalived's loose reading of the first line.
            _ => {
                self.status = loose_status(header);
                self.content_length = loose_content_length(header);
            }
        }
        if self.chunk.is_some() {
            self.content_length = None;
        }
    }

    fn body(&mut self, data: &[u8]) {
        let mut take = match self.content_length {
            Some(cl) => {
                let left = cl.saturating_sub(self.body_len);
                usize::try_from(left).map_or(data.len(), |l| l.min(data.len()))
            }
            None => data.len(),
        };
        if let Some(mut c) = self.chunk {
            // Nothing after the last chunk is hashed: the checker stops reading there, so
            // hashing what happened to share its read would make the digest depend on the split.
            let mut used = data.len();
            for (i, &b) in data.iter().enumerate() {
                if c == Chunk::Done {
                    used = i;
                    break;
                }
                c = c.step(b);
            }
            self.chunk = Some(c);
            take = take.min(used);
        }
        if let Some(hashed) = data.get(..take) {
            self.md5.update(hashed);
        }
        // Bytes past Content-Length are counted (keepalived logs the mismatch) but not hashed.
        self.body_len = self.body_len.saturating_add(data.len() as u64);
    }

    fn complete(&self) -> bool {
        match (self.chunk, self.content_length) {
            (Some(c), _) => c == Chunk::Done,
            (None, Some(cl)) => self.body_len >= cl,
            (None, None) => false,
        }
    }

    /// The result once the connection closed or [`feed`](Self::feed) said complete; `None`
    /// when no complete header arrived (keepalived: "no data received").
    pub fn finish(self) -> Option<Response> {
        if !self.in_body {
            return None;
        }
        Some(Response {
            status: self.status,
            digest: self.md5.finalize().into(),
            content_length: self.content_length,
            body_len: self.body_len,
        })
    }
}

/// The end of the header: the first blank line, `\r\n\r\n` or `\n\n`, whichever comes first
/// (preferring a later `\r\n\r\n` would make the result depend on how the answer was split).
fn find_header_end(buf: &[u8], from: usize) -> Option<usize> {
    let tail = buf.get(from..)?;
    let crlf = tail
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map(|p| p + 4);
    let lf = tail.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    [crlf, lf].into_iter().flatten().min().map(|end| from + end)
}

/// keepalived's `extract_status_code`: the 3 digits after the first space of the first line.
fn loose_status(header: &[u8]) -> u16 {
    let line = header.split(|&b| b == b'\n').next().unwrap_or_default();
    let Some(sp) = line.iter().position(|&b| b == b' ') else {
        return 0;
    };
    let digits: Vec<u8> = line
        .iter()
        .skip(sp)
        .skip_while(|&&b| b == b' ')
        .take(3)
        .copied()
        .collect();
    if digits.len() == 3 && digits.iter().all(u8::is_ascii_digit) {
        std::str::from_utf8(&digits)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    } else {
        0
    }
}

fn loose_content_length(header: &[u8]) -> Option<u64> {
    let text = String::from_utf8_lossy(header);
    text.lines().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.trim()
            .eq_ignore_ascii_case("content-length")
            .then(|| value.trim().parse().ok())
            .flatten()
    })
}

/// Why a URL's answer counts as a failure, with keepalived's log wording.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum UrlFailure {
    /// The connection closed before a complete header.
    #[error("Read, no data received from")]
    NoData,
    /// The status is not in the `status_code` list.
    #[error("HTTP status code error to")]
    Status,
    /// The body's MD5 differs from `digest`.
    #[error("MD5 digest error to")]
    Digest,
}

/// Judges one URL's answer: status in the list (default 200-299), then the digest if set.
/// `regex` is not evaluated (no PCRE2 here).
pub fn evaluate(response: Option<&Response>, url: &Url) -> Result<(), UrlFailure> {
    let resp = response.ok_or(UrlFailure::NoData)?;
    if !url
        .effective_status_codes()
        .iter()
        .any(|r| r.contains(resp.status))
    {
        return Err(UrlFailure::Status);
    }
    match url.digest {
        Some(d) if d != resp.digest => Err(UrlFailure::Digest),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keepalived_config::model::lvs::StatusCodeRange;
    use proptest::prelude::*;

    fn md5(b: &[u8]) -> [u8; 16] {
        Md5::digest(b).into()
    }

    fn read_all(pieces: &[&[u8]]) -> Option<Response> {
        let mut r = ResponseReader::new();
        for p in pieces {
            if r.feed(p).unwrap() {
                break;
            }
        }
        r.finish()
    }

    #[test]
    fn request_matches_keepalived() {
        let a: SocketAddr = "10.0.0.2:8080".parse().unwrap();
        assert_eq!(
            build_request("/health", None, a, HttpProtocol::Http10),
            b"GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.2:8080\r\n\r\n"
        );
        let a6: SocketAddr = "[fd00::2]:80".parse().unwrap();
        assert_eq!(
            build_request("/", Some("www.example.com"), a6, HttpProtocol::Http11),
            b"GET / HTTP/1.1\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: www.example.com\r\n\r\n"
        );
        assert_eq!(
            build_request("/", None, a6, HttpProtocol::Http10Close),
            b"GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nConnection: close\r\nHost: [fd00::2]:80\r\n\r\n"
        );
    }

    #[test]
    fn close_delimited_body() {
        let r = read_all(&[b"HTTP/1.0 200 OK\r\nServer: x\r\n\r\nhello ", b"world"]).unwrap();
        assert_eq!(r.status, 200);
        assert_eq!(r.digest, md5(b"hello world"));
        assert_eq!(r.body_len, 11);
        assert_eq!(r.length_mismatch(), None);
    }

    #[test]
    fn content_length_completes_early_and_caps_the_digest() {
        let mut rd = ResponseReader::new();
        assert!(!rd
            .feed(b"HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\n\r\nab")
            .unwrap());
        assert!(rd.feed(b"cdeEXTRA").unwrap());
        let r = rd.finish().unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.digest, md5(b"abcde"));
        assert_eq!(r.length_mismatch(), Some((5, 10)));
    }

    #[test]
    fn chunked_body_is_hashed_raw_and_ends_at_last_chunk() {
        let raw = b"5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n";
        let mut rd = ResponseReader::new();
        assert!(!rd
            .feed(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
            .unwrap());
        let mut done = false;
        for b in raw.iter() {
            done = rd.feed(std::slice::from_ref(b)).unwrap();
        }
        assert!(done);
        let r = rd.finish().unwrap();
        assert_eq!(r.digest, md5(raw));
    }

    #[test]
    fn no_header_is_no_data() {
        assert_eq!(read_all(&[b"HTTP/1.0 200 OK\r\n"]), None);
        assert_eq!(evaluate(None, &Url::default()), Err(UrlFailure::NoData));
    }

    #[test]
    fn loose_status_line() {
        let r = read_all(&[b"HTTP/1.0  302 Found\n\nx"]).unwrap();
        assert_eq!(r.status, 302);
        assert_eq!(loose_status(b"garbage"), 0);
    }

    #[test]
    fn header_limit() {
        let mut rd = ResponseReader::new();
        let big = vec![b'a'; MAX_HEADER_LEN + 10];
        assert_eq!(rd.feed(&big), Err(HttpError::HeaderTooLong));
    }

    #[test]
    fn evaluation() {
        let resp = Response {
            status: 200,
            digest: md5(b"x"),
            content_length: None,
            body_len: 1,
        };
        let mut url = Url::default();
        assert_eq!(evaluate(Some(&resp), &url), Ok(()));
        url.status_codes = vec![StatusCodeRange {
            low: 301,
            high: 302,
        }];
        assert_eq!(evaluate(Some(&resp), &url), Err(UrlFailure::Status));
        url.status_codes = vec![
            StatusCodeRange {
                low: 200,
                high: 200,
            },
            StatusCodeRange {
                low: 404,
                high: 404,
            },
        ];
        url.digest = Some(md5(b"y"));
        assert_eq!(evaluate(Some(&resp), &url), Err(UrlFailure::Digest));
        url.digest = Some(md5(b"x"));
        assert_eq!(evaluate(Some(&resp), &url), Ok(()));
        assert_eq!(resp.digest_hex().len(), 32);
    }

    proptest! {
        /// However the answer is split into reads, the result is the same.
        #[test]
        fn split_points_do_not_matter(body in proptest::collection::vec(any::<u8>(), 0..300),
                                      cuts in proptest::collection::vec(0usize..400, 0..6),
                                      with_len in any::<bool>()) {
            let mut msg = b"HTTP/1.1 201 Created\r\nX: y\r\n".to_vec();
            if with_len {
                msg.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
            }
            msg.extend_from_slice(b"\r\n");
            msg.extend_from_slice(&body);
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(msg.len())).collect();
            cuts.sort_unstable();
            let mut rd = ResponseReader::new();
            let mut last = 0;
            for c in cuts.into_iter().chain([msg.len()]) {
                rd.feed(&msg[last..c]).unwrap();
                last = c;
            }
            let r = rd.finish().unwrap();
            prop_assert_eq!(r.status, 201);
            prop_assert_eq!(r.digest, md5(&body));
            prop_assert_eq!(r.body_len, body.len() as u64);
        }

        /// Arbitrary bytes never panic the reader.
        #[test]
        fn garbage_never_panics(data in proptest::collection::vec(any::<u8>(), 0..2000)) {
            let mut rd = ResponseReader::new();
            let _ = rd.feed(&data);
            let _ = rd.finish();
        }
    }
}
