//! The relay serving HTTPS and WSS itself, under a name that is not loopback
//! (`pact.example`, a test CA's leaf), and a renewed certificate: the next connection
//! gets the new one while a WebSocket opened before keeps syncing.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use automerge::sync::SyncDoc;
use futures_util::{SinkExt, StreamExt};
use paktum_shared::id::DocumentId;
use paktum_shared::protocol::{Message, PROTOCOL_VERSION};
use paktum_sync_server::{Config, SqliteStorage, run};
use paktum_tests::certs::TestCa;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;
use tokio_rustls::rustls::pki_types::{CertificateDer, ServerName};
use tokio_rustls::rustls::{self, ClientConfig, RootCertStore};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message as Frame;

const NAME: &str = "pact.example";

fn client_config(ca: &TestCa) -> Arc<ClientConfig> {
    let mut roots = RootCertStore::empty();
    roots.add(ca.der().clone()).expect("trusting the test CA");
    Arc::new(
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS versions")
            .with_root_certificates(roots)
            .with_no_client_auth(),
    )
}

/// A TLS connection to the relay as `pact.example` (validated against the test CA);
/// also the leaf certificate it presented.
async fn connect(
    addr: SocketAddr,
    config: &Arc<ClientConfig>,
) -> (TlsStream<TcpStream>, CertificateDer<'static>) {
    let tcp = TcpStream::connect(addr).await.expect("connecting");
    let tls = TlsConnector::from(config.clone())
        .connect(ServerName::try_from(NAME).expect("name"), tcp)
        .await
        .expect("TLS handshake with the relay, validated against the test CA");
    let presented = tls
        .get_ref()
        .1
        .peer_certificates()
        .and_then(|chain| chain.first())
        .expect("the relay presents a certificate")
        .clone()
        .into_owned();
    (tls, presented)
}

async fn https_get(mut tls: TlsStream<TcpStream>, path: &str) -> String {
    let request = format!("GET {path} HTTP/1.1\r\nHost: {NAME}\r\nConnection: close\r\n\r\n");
    tls.write_all(request.as_bytes()).await.expect("sending");
    let mut response = Vec::new();
    // The relay closes after answering (Connection: close); a TLS close_notify is
    // not required of it.
    let _ = tls.read_to_end(&mut response).await;
    String::from_utf8_lossy(&response).into_owned()
}

type Socket = WebSocketStream<TlsStream<TcpStream>>;

async fn send(ws: &mut Socket, msg: Message) {
    ws.send(Frame::Binary(msg.encode().into()))
        .await
        .expect("sending over wss");
}

async fn receive(ws: &mut Socket) -> Message {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next())
            .await
            .expect("an answer within 10 s")
            .expect("the socket stays open")
            .expect("a frame");
        if let Frame::Binary(bytes) = frame {
            return Message::decode(&bytes).expect("a protocol message");
        }
    }
}

/// Asks for a document the relay does not have; it must say so on this socket.
async fn request_unknown(ws: &mut Socket) {
    let mut doc = automerge::AutoCommit::new();
    let data = doc
        .sync()
        .generate_sync_message(&mut automerge::sync::State::new())
        .expect("a first sync message")
        .encode();
    let document_id = DocumentId::random();
    send(
        ws,
        Message::Request {
            sender_id: "tls-test".into(),
            target_id: "relay".into(),
            document_id,
            data,
        },
    )
    .await;
    match receive(ws).await {
        Message::DocUnavailable {
            document_id: id, ..
        } => assert_eq!(id, document_id),
        other => panic!("expected doc-unavailable, got {}", other.type_name()),
    }
}

#[tokio::test]
async fn https_and_wss_with_a_renewed_certificate_picked_up_while_an_open_socket_keeps_working() {
    let data = tempfile::tempdir().expect("data directory");
    let certs = tempfile::tempdir().expect("certificate directory");
    let ca = TestCa::new().expect("test CA");
    let first = ca.leaf(&[NAME]).expect("leaf");
    first
        .install(certs.path())
        .expect("installing the certificate");

    let mut config = Config::for_tests(data.path().to_path_buf());
    config.insecure_open = true;
    config.tls_cert = Some(certs.path().join("cert.pem"));
    config.tls_key = Some(certs.path().join("key.pem"));
    config.tls_reload_seconds = 1;
    let storage = Arc::new(SqliteStorage::open(data.path()).expect("store"));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("binding");
    let addr = listener.local_addr().expect("address");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let relay = tokio::spawn(async move {
        run(listener, &config, storage, async move {
            let _ = stopped.await;
        })
        .await
    });

    let client = client_config(&ca);
    let (tls, presented) = connect(addr, &client).await;
    assert_eq!(presented, first.der);
    let health = https_get(tls, "/healthz").await;
    assert!(
        health.starts_with("HTTP/1.1 200"),
        "GET /healthz over https: {health}"
    );

    // A plain-HTTP request on the TLS port gets no answer in clear.
    let mut plain = TcpStream::connect(addr).await.expect("connecting");
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .expect("sending");
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), plain.read_to_end(&mut answer)).await;
    assert!(!String::from_utf8_lossy(&answer).contains("200"));

    let (tls, _) = connect(addr, &client).await;
    let (mut old_socket, _) = tokio_tungstenite::client_async(format!("wss://{NAME}/sync"), tls)
        .await
        .expect("WebSocket over TLS");
    send(
        &mut old_socket,
        Message::Join {
            sender_id: "tls-test".into(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
            metadata: None,
        },
    )
    .await;
    assert!(matches!(
        receive(&mut old_socket).await,
        Message::Peer { .. }
    ));
    request_unknown(&mut old_socket).await;

    // Renewal: a new key and leaf from the same CA replace the files.
    let second = ca.leaf(&[NAME]).expect("leaf");
    assert_ne!(second.der, first.der);
    second
        .install(certs.path())
        .expect("installing the renewed certificate");
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let fresh = loop {
        let (tls, presented) = connect(addr, &client).await;
        if presented == second.der {
            break tls;
        }
        assert_eq!(presented, first.der, "an unknown certificate");
        assert!(
            tokio::time::Instant::now() < deadline,
            "the renewed certificate was not picked up within 15 s"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let health = https_get(fresh, "/healthz").await;
    assert!(
        health.starts_with("HTTP/1.1 200"),
        "after renewal: {health}"
    );

    // The socket opened under the old certificate still syncs.
    request_unknown(&mut old_socket).await;
    let (tls, _) = connect(addr, &client).await;
    let (mut new_socket, _) = tokio_tungstenite::client_async(format!("wss://{NAME}/sync"), tls)
        .await
        .expect("WebSocket over TLS with the renewed certificate");
    send(
        &mut new_socket,
        Message::Join {
            sender_id: "tls-test-2".into(),
            supported_protocol_versions: vec![PROTOCOL_VERSION.into()],
            metadata: None,
        },
    )
    .await;
    assert!(matches!(
        receive(&mut new_socket).await,
        Message::Peer { .. }
    ));

    let _ = old_socket.close(None).await;
    let _ = new_socket.close(None).await;
    let _ = stop.send(());
    relay
        .await
        .expect("relay task")
        .expect("relay stopped cleanly");
}
