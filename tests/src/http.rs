//! Minimal HTTP/1.1 over a raw socket, enough to test the relay's HTTP routes
//! without pulling a client library into the tests.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A response: status, lower-cased head, body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
}

async fn request(addr: SocketAddr, raw: String) -> anyhow::Result<Response> {
    let mut s = tokio::net::TcpStream::connect(addr).await?;
    s.write_all(raw.as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let text = String::from_utf8_lossy(&buf).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(Response {
        status,
        head: head.to_lowercase(),
        body: body.to_string(),
    })
}

pub async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<Response> {
    request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
    )
    .await
}

pub async fn post_json(addr: SocketAddr, path: &str, json: &str) -> anyhow::Result<Response> {
    request(
        addr,
        format!(
            "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
            json.len()
        ),
    )
    .await
}
