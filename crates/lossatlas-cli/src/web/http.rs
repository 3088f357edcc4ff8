//! Just enough HTTP/1.1 for `lossatlas serve`: one GET request per connection, its head parsed
//! by `httparse` (hyper's parser) with a size limit, answered with a `Connection: close` response.
//! How connections are accepted, timed and shared between clients is `server`'s business.

use std::io::{self, Read, Write};

/// The longest request head (request line and headers) accepted, in bytes.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// The most header lines accepted (a browser sends about fifteen).
pub const MAX_HEADERS: usize = 64;

/// A parsed request line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// `GET`, `HEAD`, ...
    pub method: String,
    /// The path, without the query.
    pub path: String,
    /// The raw query string after `?` (empty when there is none).
    pub query: String,
}

/// Why a request could not be read: the status to answer with and a message, or a connection
/// that closed or failed (nothing to answer).
#[derive(Debug)]
pub enum ReadError {
    /// Answer with this status and message.
    Status(u16, String),
    /// The peer went away; just close.
    Gone,
}

/// Reads one request head from `reader`, refusing one longer than [`MAX_HEAD_BYTES`]. A read that
/// times out ([`io::ErrorKind::TimedOut`] or `WouldBlock`, as a socket with a deadline reports it)
/// is answered with 408. Reads go straight into one buffer, so a client that sends a byte at a
/// time costs a read each but nothing more.
pub fn read_request(reader: &mut impl Read) -> Result<Request, ReadError> {
    let mut head: Vec<u8> = Vec::with_capacity(1024);
    let mut chunk = [0u8; 4096];
    loop {
        let room = (MAX_HEAD_BYTES + 1 - head.len()).min(chunk.len());
        let n = match reader.read(&mut chunk[..room]) {
            Ok(0) => return Err(ReadError::Gone),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) if matches!(e.kind(), io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock) => {
                return Err(ReadError::Status(408, "the request head did not arrive in time".into()))
            }
            Err(_) => return Err(ReadError::Gone),
        };
        // Only a blank line can end a head: look for one around the new bytes before parsing.
        let from = head.len().saturating_sub(3);
        head.extend_from_slice(&chunk[..n]);
        let ended =
            head[from..].windows(2).any(|w| w == b"\n\n") || head[from..].windows(3).any(|w| w == b"\n\r\n");
        if ended {
            if let Some(request) = parse_head(&head)? {
                return Ok(request);
            }
        }
        if head.len() > MAX_HEAD_BYTES {
            return Err(ReadError::Status(
                431,
                format!("the request head is longer than {MAX_HEAD_BYTES} bytes"),
            ));
        }
    }
}

/// Parses a complete head (`None` while it is still partial).
pub fn parse_head(head: &[u8]) -> Result<Option<Request>, ReadError> {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut headers);
    let bad = |status: u16, message: String| Err(ReadError::Status(status, message));
    match parsed.parse(head) {
        Ok(httparse::Status::Partial) => return Ok(None),
        Ok(httparse::Status::Complete(_)) => {}
        Err(httparse::Error::TooManyHeaders) => {
            return bad(431, format!("the request has more than {MAX_HEADERS} header lines"))
        }
        Err(httparse::Error::Version) => {
            return bad(505, "unsupported protocol version; use HTTP/1.1".into());
        }
        Err(error) => return bad(400, format!("malformed request head ({error})")),
    }
    let (Some(method), Some(target)) = (parsed.method, parsed.path) else {
        return bad(400, "malformed request line".into());
    };
    if !target.starts_with('/') {
        return bad(400, format!("the request target `{}` must start with /", shorten(target)));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Some(Request { method: method.to_string(), path: path.to_string(), query: query.to_string() }))
}

/// `text` cut to 100 characters, for messages that echo what a client sent.
pub fn shorten(text: &str) -> String {
    match text.char_indices().nth(100) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text.to_string(),
    }
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The `Content-Type`.
    pub content_type: &'static str,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// A 200 response.
    pub fn ok(content_type: &'static str, body: impl Into<Vec<u8>>) -> Response {
        Response { status: 200, content_type, body: body.into() }
    }

    /// A JSON error `{"error": message}` with `status`.
    pub fn error(status: u16, message: &str) -> Response {
        let body = serde_json::json!({ "error": message }).to_string();
        Response { status, content_type: "application/json", body: body.into_bytes() }
    }

    /// The response's bytes (only its head for a HEAD request).
    pub fn to_bytes(&self, head_only: bool) -> Vec<u8> {
        let head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
             X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        let mut bytes = head.into_bytes();
        if !head_only {
            bytes.extend_from_slice(&self.body);
        }
        bytes
    }

    /// Writes the response (only its head for a HEAD request).
    pub fn write_to(&self, writer: &mut impl Write, head_only: bool) -> io::Result<()> {
        writer.write_all(&self.to_bytes(head_only))?;
        writer.flush()
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(text: &[u8]) -> Result<Request, ReadError> {
        read_request(&mut &text[..])
    }

    fn status(text: &[u8]) -> u16 {
        match read(text) {
            Err(ReadError::Status(code, _)) => code,
            other => panic!("expected a status, got {other:?}"),
        }
    }

    /// Hands out its bytes one at a time, as a slow client does.
    struct Trickle<'a>(&'a [u8]);

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            match self.0.split_first() {
                Some((&byte, rest)) if !buf.is_empty() => {
                    buf[0] = byte;
                    self.0 = rest;
                    Ok(1)
                }
                _ => Err(io::Error::from(io::ErrorKind::WouldBlock)),
            }
        }
    }

    #[test]
    fn a_request_line_splits_into_method_path_and_query() {
        let r = read(b"GET /api/paths?u=1&v=2 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(r, Request { method: "GET".into(), path: "/api/paths".into(), query: "u=1&v=2".into() });
        assert_eq!(read(b"GET / HTTP/1.0\n\n").unwrap().query, "");
    }

    #[test]
    fn a_head_sent_a_byte_at_a_time_is_read_whole_and_a_stalled_one_times_out() {
        let r = read_request(&mut Trickle(b"GET /a?b HTTP/1.1\r\nHost: x\r\n\r\nbody")).unwrap();
        assert_eq!((r.path.as_str(), r.query.as_str()), ("/a", "b"));
        assert!(matches!(
            read_request(&mut Trickle(b"GET / HTTP/1.1\r\nHo")),
            Err(ReadError::Status(408, _))
        ));
    }

    #[test]
    fn malformed_heads_get_a_status() {
        assert_eq!(status(b"GET\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1 extra\r\n\r\n"), 400);
        assert_eq!(status(b"GET http://x/ HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / SPDY/3\r\n\r\n"), 505);
        assert_eq!(status(b"GET /\xff HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GARBAGE\r\n\r\n"), 400);
        let mut long = b"GET / HTTP/1.1\r\n".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES + 10));
        assert_eq!(status(&long), 431);
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for k in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{k}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(status(&many), 431);
        assert!(matches!(read(b"GET / HTTP/1.1\r\nHost"), Err(ReadError::Gone)));
    }
}
