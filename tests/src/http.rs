//! Minimal HTTP/1.1 over a raw socket, enough to test the relay's HTTP routes
//! without pulling a client library into the tests.

use std::net::{IpAddr, SocketAddr};

use paktum_shared::enrol::{EnrolRequest, Enrolment, Refusal};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A response: status, lower-cased head, body (as text, and as the bytes sent).
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub head: String,
    pub body: String,
    pub bytes: Vec<u8>,
}

async fn request(addr: SocketAddr, raw: String) -> anyhow::Result<Response> {
    request_from(None, addr, raw).await
}

/// A request from `source` (another loopback address such as 127.0.0.2 is another
/// client to the relay), or from wherever the system picks.
async fn request_from(
    source: Option<IpAddr>,
    addr: SocketAddr,
    raw: String,
) -> anyhow::Result<Response> {
    let mut s = match source {
        None => tokio::net::TcpStream::connect(addr).await?,
        Some(ip) => {
            let socket = if ip.is_ipv4() {
                tokio::net::TcpSocket::new_v4()?
            } else {
                tokio::net::TcpSocket::new_v6()?
            };
            socket.bind(SocketAddr::new(ip, 0))?;
            socket.connect(addr).await?
        }
    };
    s.write_all(raw.as_bytes()).await?;
    let mut buf = Vec::new();
    s.read_to_end(&mut buf).await?;
    let split = buf
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(buf.len());
    let bytes = buf.get(split + 4..).unwrap_or_default().to_vec();
    let head = String::from_utf8_lossy(&buf[..split]).to_string();
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Ok(Response {
        status,
        head: head.to_lowercase(),
        body: String::from_utf8_lossy(&bytes).to_string(),
        bytes,
    })
}

pub async fn get(addr: SocketAddr, path: &str) -> anyhow::Result<Response> {
    get_with(addr, path, "").await
}

/// A GET whose client accepts `encodings` (an `Accept-Encoding` value).
pub async fn get_accepting(
    addr: SocketAddr,
    path: &str,
    encodings: &str,
) -> anyhow::Result<Response> {
    get_with(addr, path, &format!("Accept-Encoding: {encodings}\r\n")).await
}

/// `GET /team/members` with a device token: the status and, on 200, the member list.
pub async fn team_members(
    addr: SocketAddr,
    token: &str,
) -> anyhow::Result<(u16, Option<paktum_shared::enrol::TeamMembers>)> {
    let r = get_with(
        addr,
        "/team/members",
        &format!("Authorization: Bearer {token}\r\n"),
    )
    .await?;
    let members = (r.status == 200)
        .then(|| serde_json::from_str(&r.body))
        .transpose()?;
    Ok((r.status, members))
}

/// A GET with `headers` (each line ending in CRLF) besides Host and Connection.
async fn get_with(addr: SocketAddr, path: &str, headers: &str) -> anyhow::Result<Response> {
    request(
        addr,
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}Connection: close\r\n\r\n"),
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

/// `POST /enrol` with the shared wire types: the relay's answer, or its refusal
/// (status and sentence).
pub async fn enrol(
    addr: SocketAddr,
    code: &str,
    label: &str,
) -> anyhow::Result<Result<Enrolment, (u16, Refusal)>> {
    let body = serde_json::to_string(&EnrolRequest {
        code: code.to_string(),
        label: label.to_string(),
    })?;
    let r = post_json(addr, "/enrol", &body).await?;
    if r.status == 200 {
        Ok(Ok(serde_json::from_str(&r.body)?))
    } else {
        Ok(Err((r.status, serde_json::from_str(&r.body)?)))
    }
}

/// `POST /enrol` from the client address `source`: the raw answer, for tests of
/// status codes and headers such as `Retry-After`.
pub async fn enrol_from(
    source: IpAddr,
    addr: SocketAddr,
    code: &str,
    label: &str,
) -> anyhow::Result<Response> {
    let json = serde_json::to_string(&EnrolRequest {
        code: code.to_string(),
        label: label.to_string(),
    })?;
    request_from(
        Some(source),
        addr,
        format!(
            "POST /enrol HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{json}",
            json.len()
        ),
    )
    .await
}

impl Response {
    /// A header's value (names are matched lower-cased).
    pub fn header(&self, name: &str) -> Option<&str> {
        let prefix = format!("{}:", name.to_lowercase());
        self.head
            .lines()
            .find_map(|line| line.strip_prefix(prefix.as_str()))
            .map(str::trim)
    }
}
