//! HTTPS in the relay itself: rustls (ring) with the certificate and key read from
//! PEM files, read again when they change (a renewal), so new handshakes get the new
//! certificate while connections already open keep theirs.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use anyhow::{Context, bail};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::{self, ServerConfig};
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

/// A client that opens a connection and never finishes the handshake is dropped
/// after this long.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; further connections wait in the kernel's backlog.
const HANDSHAKES_AT_ONCE: usize = 256;

/// The certificate chain and key the relay presents, from two PEM files.
pub struct CertFiles {
    cert: PathBuf,
    key: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
    /// The files' bytes last looked at (loaded or refused), so a broken file is
    /// reported once, not at every check.
    seen: std::sync::Mutex<(Vec<u8>, Vec<u8>)>,
}

impl std::fmt::Debug for CertFiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertFiles")
            .field("cert", &self.cert)
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl CertFiles {
    /// Reads both files; fails (the relay does not start) if they are missing, not PEM,
    /// or the key does not belong to the certificate.
    pub fn load(cert: &Path, key: &Path) -> anyhow::Result<Arc<Self>> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (cert_pem, key_pem) = read(cert, key)?;
        let loaded = parse(&cert_pem, &key_pem, &provider)
            .with_context(|| format!("{} and {}", cert.display(), key.display()))?;
        Ok(Arc::new(Self {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            provider,
            current: RwLock::new(Arc::new(loaded)),
            seen: std::sync::Mutex::new((cert_pem, key_pem)),
        }))
    }

    /// Reads the files again and switches to them if they changed and are valid.
    /// `Ok(true)`: switched. An error leaves the previous certificate in use (a
    /// renewal caught between writing the certificate and the key is retried at the
    /// next check, when the bytes differ again).
    pub fn reload(&self) -> anyhow::Result<bool> {
        let (cert_pem, key_pem) = read(&self.cert, &self.key)?;
        {
            let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
            if seen.0 == cert_pem && seen.1 == key_pem {
                return Ok(false);
            }
            *seen = (cert_pem.clone(), key_pem.clone());
        }
        let loaded = parse(&cert_pem, &key_pem, &self.provider)?;
        *self.current.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(loaded);
        Ok(true)
    }

    /// The rustls configuration presenting these files' certificate (HTTP/1.1 only:
    /// browsers open WebSockets over HTTP/1.1).
    pub fn acceptor(self: &Arc<Self>) -> anyhow::Result<TlsAcceptor> {
        let mut config = ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .context("TLS protocol versions")?
            .with_no_client_auth()
            .with_cert_resolver(self.clone());
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(TlsAcceptor::from(Arc::new(config)))
    }

    /// Checks the files every `every` until `stop`, switching on a change.
    pub async fn watch(self: Arc<Self>, every: Duration, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(every) => {}
            }
            let files = self.clone();
            match tokio::task::spawn_blocking(move || files.reload()).await {
                Ok(Ok(true)) => {
                    tracing::info!(cert = %self.cert.display(), "TLS certificate reloaded; new connections use it")
                }
                Ok(Ok(false)) => {}
                Ok(Err(e)) => tracing::warn!(
                    error = format!("{e:#}"),
                    "TLS certificate files changed but could not be used; keeping the previous certificate"
                ),
                Err(e) => tracing::warn!(error = %e, "checking the TLS certificate files"),
            }
        }
    }
}

impl ResolvesServerCert for CertFiles {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(
            self.current
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        )
    }
}

fn read(cert: &Path, key: &Path) -> anyhow::Result<(Vec<u8>, Vec<u8>)> {
    let cert_pem = std::fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
    let key_pem = std::fs::read(key).with_context(|| format!("reading {}", key.display()))?;
    Ok((cert_pem, key_pem))
}

fn parse(
    cert_pem: &[u8],
    key_pem: &[u8],
    provider: &CryptoProvider,
) -> anyhow::Result<CertifiedKey> {
    let chain = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .context("the certificate file is not PEM")?;
    if chain.is_empty() {
        bail!("the certificate file holds no certificate");
    }
    let key =
        PrivateKeyDer::from_pem_slice(key_pem).context("the key file holds no private key")?;
    CertifiedKey::from_der(chain, key, provider)
        .context("the private key does not belong to the certificate, or is of an unsupported kind")
}

/// Accepts TCP connections and hands over those whose TLS handshake completed. Each
/// handshake runs in its own task, so a slow client does not hold up the others.
pub struct TlsListener {
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
    local: SocketAddr,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> std::io::Result<Self> {
        let local = tcp.local_addr()?;
        let (tx, ready) = mpsc::channel(64);
        tokio::spawn(accept(tcp, acceptor, tx));
        Ok(Self { ready, local })
    }
}

async fn accept(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    let handshakes = Arc::new(Semaphore::new(HANDSHAKES_AT_ONCE));
    loop {
        let Ok(permit) = handshakes.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = tokio::select! {
            // The server stopped: let go of the port.
            () = ready.closed() => return,
            accepted = tcp.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // As axum does: per-connection errors are the client's; others
                    // (out of file descriptors) pass with time.
                    if !matches!(
                        e.kind(),
                        std::io::ErrorKind::ConnectionRefused
                            | std::io::ErrorKind::ConnectionAborted
                            | std::io::ErrorKind::ConnectionReset
                    ) {
                        tracing::error!(error = %e, "accepting a connection");
                        tokio::time::sleep(Duration::from_secs(1)).await;
                    }
                    continue;
                }
            },
        };
        // Sync messages are small and answered at once (see `run`).
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        let acceptor = acceptor.clone();
        let ready = ready.clone();
        tokio::spawn(async move {
            let _permit = permit;
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, peer)).await;
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                Err(_) => tracing::debug!("TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(ready) => ready,
            // The accepting task ended (it only does once we are gone); never again.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        Ok(self.local)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaf() -> (String, String) {
        let key = rcgen::KeyPair::generate().expect("key");
        let cert = rcgen::CertificateParams::new(vec!["pact.example".to_string()])
            .expect("parameters")
            .self_signed(&key)
            .expect("certificate");
        (cert.pem(), key.serialize_pem())
    }

    fn presented(files: &CertFiles) -> Vec<u8> {
        files.current.read().expect("lock").cert[0].to_vec()
    }

    fn der(pem: &str) -> Vec<u8> {
        CertificateDer::from_pem_slice(pem.as_bytes())
            .expect("PEM")
            .to_vec()
    }

    #[test]
    fn a_broken_renewal_keeps_the_previous_certificate_and_a_good_one_replaces_it() {
        let dir = tempfile::tempdir().expect("dir");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let (first, first_key) = leaf();
        std::fs::write(&cert, &first).expect("write");
        std::fs::write(&key, &first_key).expect("write");
        let files = CertFiles::load(&cert, &key).expect("load");
        assert_eq!(presented(&files), der(&first));
        assert!(!files.reload().expect("unchanged"));

        // The new certificate written, its key not yet: refused, the old one stays.
        let (second, second_key) = leaf();
        std::fs::write(&cert, &second).expect("write");
        assert!(files.reload().is_err());
        assert_eq!(presented(&files), der(&first));
        // Refused bytes are not retried until they change.
        assert!(!files.reload().expect("same bytes"));

        std::fs::write(&key, &second_key).expect("write");
        assert!(files.reload().expect("renewed"));
        assert_eq!(presented(&files), der(&second));

        std::fs::write(&key, "not a key").expect("write");
        assert!(files.reload().is_err());
        assert_eq!(presented(&files), der(&second));
    }

    #[test]
    fn the_relay_does_not_start_with_a_key_of_another_certificate() {
        let dir = tempfile::tempdir().expect("dir");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let (first, _) = leaf();
        let (_, other_key) = leaf();
        std::fs::write(&cert, &first).expect("write");
        std::fs::write(&key, &other_key).expect("write");
        let error = CertFiles::load(&cert, &key).expect_err("mismatched key");
        assert!(
            format!("{error:#}").contains("does not belong"),
            "{error:#}"
        );
        std::fs::remove_file(&key).expect("remove");
        assert!(CertFiles::load(&cert, &key).is_err());
    }
}
