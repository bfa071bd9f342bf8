//! Just enough HTTP/1.1 for the proxy: message heads, `Content-Length` and chunked bodies, and
//! keep-alive. Every message is read whole before it is passed on, so the proxy can count, record
//! and rewrite it; bodies here are small JSON documents.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const MAX_HEAD: usize = 64 * 1024;

/// A request or status line and its headers, in order and as received.
#[derive(Debug, Clone)]
pub(crate) struct Head {
    pub(crate) start: String,
    pub(crate) headers: Vec<(String, String)>,
}

impl Head {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    fn version(&self, is_request: bool) -> &str {
        let mut parts = self.start.split(' ');
        if is_request {
            parts.nth(2).unwrap_or("")
        } else {
            parts.next().unwrap_or("")
        }
    }

    /// Whether the sender of this message keeps the connection open after it.
    pub(crate) fn keep_alive(&self, is_request: bool) -> bool {
        if self.has_token("connection", "close") {
            return false;
        }
        self.version(is_request) != "HTTP/1.0" || self.has_token("connection", "keep-alive")
    }

    pub(crate) fn method(&self) -> &str {
        self.start.split(' ').next().unwrap_or("")
    }

    pub(crate) fn path(&self) -> &str {
        self.start.split(' ').nth(1).unwrap_or("")
    }

    pub(crate) fn status(&self) -> u16 {
        self.start
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0)
    }

    fn content_length(&self) -> io::Result<Option<usize>> {
        self.header("content-length")
            .map(|v| {
                v.trim()
                    .parse()
                    .map_err(|_| invalid(format!("bad Content-Length: {v}")))
            })
            .transpose()
    }

    fn chunked(&self) -> bool {
        self.has_token("transfer-encoding", "chunked")
    }

    /// The head as bytes, without the framing headers (`Content-Length`, `Transfer-Encoding`,
    /// `Connection`, `Keep-Alive`), which the caller adds for the body it actually sends.
    pub(crate) fn to_bytes(&self, content_length: usize, close: bool) -> Vec<u8> {
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(self.start.as_bytes());
        out.extend_from_slice(b"\r\n");
        for (k, v) in &self.headers {
            let framing = [
                "content-length",
                "transfer-encoding",
                "connection",
                "keep-alive",
            ]
            .iter()
            .any(|f| k.eq_ignore_ascii_case(f));
            if !framing {
                out.extend_from_slice(format!("{k}: {v}\r\n").as_bytes());
            }
        }
        out.extend_from_slice(format!("Content-Length: {content_length}\r\n").as_bytes());
        if close {
            out.extend_from_slice(b"Connection: close\r\n");
        }
        out.extend_from_slice(b"\r\n");
        out
    }
}

pub(crate) fn invalid(msg: impl Into<String>) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, msg.into())
}

/// One side of a connection with its read buffer.
pub(crate) struct Wire {
    pub(crate) stream: TcpStream,
    buf: Vec<u8>,
}

impl Wire {
    pub(crate) fn new(stream: TcpStream) -> Self {
        // Small JSON messages: never let Nagle hold one back.
        let _ = stream.set_nodelay(true);
        Self {
            stream,
            buf: Vec::new(),
        }
    }

    async fn fill(&mut self) -> io::Result<usize> {
        self.buf.reserve(16 * 1024);
        self.stream.read_buf(&mut self.buf).await
    }

    /// Reads a message head; `None` when the peer closed the connection between messages.
    pub(crate) async fn read_head(&mut self) -> io::Result<Option<Head>> {
        loop {
            // Tolerate blank lines between messages (RFC 9112 §2.2).
            while self.buf.starts_with(b"\r\n") {
                self.buf.drain(..2);
            }
            if let Some(end) = find(&self.buf, b"\r\n\r\n") {
                let raw: Vec<u8> = self.buf.drain(..end + 4).collect();
                return parse_head(&raw[..end]).map(Some);
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("message head too large"));
            }
            if self.fill().await? == 0 {
                return if self.buf.is_empty() {
                    Ok(None)
                } else {
                    Err(io::ErrorKind::UnexpectedEof.into())
                };
            }
        }
    }

    async fn read_exact_buf(&mut self, n: usize) -> io::Result<Vec<u8>> {
        while self.buf.len() < n {
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
        Ok(self.buf.drain(..n).collect())
    }

    async fn read_line(&mut self) -> io::Result<String> {
        loop {
            if let Some(end) = find(&self.buf, b"\r\n") {
                let line: Vec<u8> = self.buf.drain(..end + 2).collect();
                return String::from_utf8(line[..end].to_vec()).map_err(|e| invalid(e.to_string()));
            }
            if self.buf.len() > MAX_HEAD {
                return Err(invalid("line too long"));
            }
            if self.fill().await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
        }
    }

    async fn read_chunked(&mut self) -> io::Result<Vec<u8>> {
        let mut body = Vec::new();
        loop {
            let line = self.read_line().await?;
            let size = line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(size, 16)
                .map_err(|_| invalid(format!("bad chunk size: {line}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !self.read_line().await?.is_empty() {}
                return Ok(body);
            }
            body.extend(self.read_exact_buf(size).await?);
            if !self.read_line().await?.is_empty() {
                return Err(invalid("chunk not followed by CRLF"));
            }
        }
    }

    async fn read_to_eof(&mut self) -> io::Result<Vec<u8>> {
        while self.fill().await? != 0 {}
        Ok(std::mem::take(&mut self.buf))
    }

    /// Reads a request body: chunked, `Content-Length`, or none.
    pub(crate) async fn read_request_body(&mut self, head: &Head) -> io::Result<Vec<u8>> {
        if head.chunked() {
            self.read_chunked().await
        } else {
            let n = head.content_length()?.unwrap_or(0);
            self.read_exact_buf(n).await
        }
    }

    /// Reads a response body; the flag is true when the body ran to the end of the connection,
    /// which cannot be reused then.
    pub(crate) async fn read_response_body(
        &mut self,
        head: &Head,
        request_method: &str,
    ) -> io::Result<(Vec<u8>, bool)> {
        let status = head.status();
        if request_method.eq_ignore_ascii_case("HEAD")
            || (100..200).contains(&status)
            || status == 204
            || status == 304
        {
            return Ok((Vec::new(), false));
        }
        if head.chunked() {
            return Ok((self.read_chunked().await?, false));
        }
        match head.content_length()? {
            Some(n) => Ok((self.read_exact_buf(n).await?, false)),
            None => Ok((self.read_to_eof().await?, true)),
        }
    }

    pub(crate) async fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.stream.write_all(bytes).await?;
        self.stream.flush().await
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn parse_head(raw: &[u8]) -> io::Result<Head> {
    let text = std::str::from_utf8(raw).map_err(|e| invalid(e.to_string()))?;
    let mut lines = text.split("\r\n");
    let start = lines.next().unwrap_or("").to_owned();
    if start.split(' ').count() < 2 {
        return Err(invalid(format!("bad start line: {start:?}")));
    }
    let mut headers = Vec::new();
    for line in lines {
        let (k, v) = line
            .split_once(':')
            .ok_or_else(|| invalid(format!("bad header line: {line:?}")))?;
        headers.push((k.trim().to_owned(), v.trim().to_owned()));
    }
    Ok(Head { start, headers })
}

/// A reason phrase for the status codes a fault is likely to use.
pub(crate) fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_request_head() {
        let head = parse_head(
            b"POST / HTTP/1.1\r\nHost: x\r\nX-Amz-Target: secretsmanager.GetSecretValue\r\nContent-Length: 2",
        )
        .unwrap();
        assert_eq!(head.method(), "POST");
        assert_eq!(head.path(), "/");
        assert_eq!(
            head.header("x-amz-target"),
            Some("secretsmanager.GetSecretValue")
        );
        assert_eq!(head.content_length().unwrap(), Some(2));
        assert!(head.keep_alive(true));
    }

    #[test]
    fn connection_close_and_http10() {
        let close = parse_head(b"HTTP/1.1 200 OK\r\nConnection: Close").unwrap();
        assert!(!close.keep_alive(false));
        assert_eq!(close.status(), 200);
        let old = parse_head(b"GET / HTTP/1.0\r\nHost: x").unwrap();
        assert!(!old.keep_alive(true));
        let old_ka = parse_head(b"GET / HTTP/1.0\r\nConnection: keep-alive").unwrap();
        assert!(old_ka.keep_alive(true));
    }

    #[test]
    fn serializing_replaces_the_framing_headers() {
        let head = parse_head(
            b"HTTP/1.1 200 OK\r\nContent-Type: a\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive",
        )
        .unwrap();
        let text = String::from_utf8(head.to_bytes(5, true)).unwrap();
        assert_eq!(
            text,
            "HTTP/1.1 200 OK\r\nContent-Type: a\r\nContent-Length: 5\r\nConnection: close\r\n\r\n"
        );
    }

    #[tokio::test]
    async fn reads_chunked_and_keep_alive_messages() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let writer = tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.unwrap();
            s.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;x=y\r\nde\r\n0\r\n\r\n\
                  HTTP/1.1 404 Not Found\r\nContent-Length: 4\r\n\r\nnope\
                  HTTP/1.0 200 OK\r\n\r\nuntil eof",
            )
            .await
            .unwrap();
        });
        let (stream, _) = listener.accept().await.unwrap();
        let mut wire = Wire::new(stream);
        writer.await.unwrap();
        let head = wire.read_head().await.unwrap().unwrap();
        assert_eq!(
            wire.read_response_body(&head, "POST").await.unwrap(),
            (b"abcde".to_vec(), false)
        );
        let head = wire.read_head().await.unwrap().unwrap();
        assert_eq!(head.status(), 404);
        assert_eq!(
            wire.read_response_body(&head, "POST").await.unwrap(),
            (b"nope".to_vec(), false)
        );
        let head = wire.read_head().await.unwrap().unwrap();
        assert_eq!(
            wire.read_response_body(&head, "POST").await.unwrap(),
            (b"until eof".to_vec(), true)
        );
        assert!(wire.read_head().await.unwrap().is_none());
    }
}
