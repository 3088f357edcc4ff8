//! Just enough HTTP/1.1 for `lossatlas serve`: one GET request per connection, read with a size
//! limit, answered with a `Connection: close` response.

use std::io::{self, BufRead, Read, Write};

/// The longest request head (request line and headers) accepted, in bytes.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

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
/// that closed or timed out (nothing to answer).
#[derive(Debug)]
pub enum ReadError {
    /// Answer with this status and message.
    Status(u16, String),
    /// The peer went away or was too slow; just close.
    Gone,
}

/// Reads one request head from `reader`, refusing one longer than [`MAX_HEAD_BYTES`].
pub fn read_request(reader: &mut impl BufRead) -> Result<Request, ReadError> {
    let mut head: Vec<u8> = Vec::new();
    loop {
        let mut line = Vec::new();
        let limit = (MAX_HEAD_BYTES + 1 - head.len()) as u64;
        let n = Read::take(&mut *reader, limit).read_until(b'\n', &mut line).map_err(|_| ReadError::Gone)?;
        if n == 0 {
            return Err(ReadError::Gone);
        }
        head.extend_from_slice(&line);
        if head.len() > MAX_HEAD_BYTES {
            return Err(ReadError::Status(
                431,
                format!("the request head is longer than {MAX_HEAD_BYTES} bytes"),
            ));
        }
        if !line.ends_with(b"\n") {
            return Err(ReadError::Gone);
        }
        if line == b"\r\n" || line == b"\n" {
            break;
        }
    }
    let text = std::str::from_utf8(&head)
        .map_err(|_| ReadError::Status(400, "the request head is not UTF-8 text".into()))?;
    let request_line = text.lines().next().unwrap_or("");
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Status(400, format!("malformed request line `{}`", request_line.trim())));
    };
    if !version.starts_with("HTTP/1.") {
        return Err(ReadError::Status(505, format!("unsupported protocol `{version}`; use HTTP/1.1")));
    }
    if !target.starts_with('/') {
        return Err(ReadError::Status(400, format!("the request target `{target}` must start with /")));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    Ok(Request { method: method.to_string(), path: path.to_string(), query: query.to_string() })
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

    /// Writes the response (only its head for a HEAD request).
    pub fn write_to(&self, writer: &mut impl Write, head_only: bool) -> io::Result<()> {
        let head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\n\
             X-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            self.body.len()
        );
        writer.write_all(head.as_bytes())?;
        if !head_only {
            writer.write_all(&self.body)?;
        }
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
        read_request(&mut io::BufReader::new(text))
    }

    fn status(text: &[u8]) -> u16 {
        match read(text) {
            Err(ReadError::Status(code, _)) => code,
            other => panic!("expected a status, got {other:?}"),
        }
    }

    #[test]
    fn a_request_line_splits_into_method_path_and_query() {
        let r = read(b"GET /api/paths?u=1&v=2 HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
        assert_eq!(r, Request { method: "GET".into(), path: "/api/paths".into(), query: "u=1&v=2".into() });
        assert_eq!(read(b"GET / HTTP/1.0\n\n").unwrap().query, "");
    }

    #[test]
    fn malformed_heads_get_a_status() {
        assert_eq!(status(b"GET\r\n\r\n"), 400);
        assert_eq!(status(b"GET / HTTP/1.1 extra\r\n\r\n"), 400);
        assert_eq!(status(b"GET http://x/ HTTP/1.1\r\n\r\n"), 400);
        assert_eq!(status(b"GET / SPDY/3\r\n\r\n"), 505);
        assert_eq!(status(b"GET /\xff HTTP/1.1\r\n\r\n"), 400);
        let mut long = b"GET / HTTP/1.1\r\n".to_vec();
        long.extend(std::iter::repeat_n(b'a', MAX_HEAD_BYTES + 10));
        assert_eq!(status(&long), 431);
        assert!(matches!(read(b"GET / HTTP/1.1\r\nHost"), Err(ReadError::Gone)));
    }
}
