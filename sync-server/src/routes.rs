//! HTTP surface: `/sync` (WebSocket, automerge-repo protocol), `/healthz`, and the
//! built app as static files with cache headers that suit a service worker.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::{SinkExt, StreamExt};
use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;
use tower_http::services::{ServeDir, ServeFile};
use tower_http::set_header::SetResponseHeaderLayer;

mod erasure;

use crate::auth::throttle::{BlockStarted, EnrolThrottle, Limited};
use crate::auth::{AuthError, Directory, now_ms};
use crate::error::Error;
use crate::hub::Hub;
use crate::session::{self, Frame, RateLimit};
use paktum_shared::enrol::{EnrolRequest, Enrolment, Member, PactTeams, TeamMembers};

#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub max_message_bytes: usize,
    pub shutdown: CancellationToken,
    pub directory: Arc<Directory>,
    pub audit: crate::audit::AuditLog,
    /// Development mode: no tokens asked.
    pub open: bool,
    pub rate: RateLimit,
    /// Failed enrolments per client address and code prefix.
    pub enrolments: Arc<std::sync::Mutex<EnrolThrottle>>,
    /// Take the client address from the proxy's `X-Forwarded-For`.
    pub trust_forwarded_for: bool,
}

#[derive(serde::Deserialize)]
struct SyncQuery {
    token: Option<String>,
}

pub fn router(state: AppState, dist: &Path) -> Router {
    let api = Router::new()
        .route("/sync", get(sync))
        .route("/healthz", get(healthz))
        .route("/enrol", axum::routing::post(enrol))
        .route("/team/members", get(team_members))
        .route("/pact/teams", get(pact_teams))
        .route("/erase", axum::routing::post(erasure::erase))
        .route("/erasure", get(erasure::receipt))
        .with_state(state);
    let index = dist.join("index.html");
    if index.exists() {
        // The coordinator's page, built into dist/pact/ beside the field app.
        let pact = dist.join("pact").join("index.html");
        let policy = Arc::new(Policy::new(vec![index.clone(), pact.clone()]));
        // `cargo xtask run|test` writes x.br and x.gz beside the wasm, JS and CSS:
        // a browser that accepts them downloads a third of the bytes.
        let shell = ServeFile::new(index);
        let pact_shell = ServeFile::new(&pact);
        // Only app routes get a shell; a missing file (a path with an extension,
        // e.g. an old hashed `.js`) is a 404, never index.html with 200. The pact's
        // routes get the coordinator's page when it is built.
        let app_routes = tower::service_fn(move |req: Request| {
            let shell = if is_pact_page(req.uri().path()) && pact.exists() {
                pact_shell.clone()
            } else {
                shell.clone()
            };
            async move {
                if names_a_file(req.uri().path()) {
                    return Ok::<_, std::convert::Infallible>(
                        StatusCode::NOT_FOUND.into_response(),
                    );
                }
                let res = shell.oneshot(req).await?;
                Ok(res.map(axum::body::Body::new))
            }
        });
        // A directory (`/pact/`) is an app route, not its index.html: one shell path.
        let files = ServeDir::new(dist)
            .append_index_html_on_directories(false)
            .precompressed_br()
            .precompressed_gzip()
            .fallback(app_routes);
        api.fallback_service(files)
            .layer(middleware::from_fn(cache_headers))
            .layer(SetResponseHeaderLayer::if_not_present(
                header::CONTENT_SECURITY_POLICY,
                move |_: &Response| Some(policy.current()),
            ))
    } else {
        api.fallback(get(not_built))
    }
}

/// The CSP for the pages being served (`index.html` and the coordinator's
/// `pact/index.html`), recomputed when a file changes (a redeploy of `dist/` without a
/// restart must not block the new inline scripts).
struct Policy {
    pages: Vec<PathBuf>,
    current: std::sync::Mutex<(Vec<Option<std::time::SystemTime>>, HeaderValue)>,
}

impl Policy {
    fn new(pages: Vec<PathBuf>) -> Self {
        let policy = Self {
            pages,
            current: std::sync::Mutex::new((
                Vec::new(),
                HeaderValue::from_static("default-src 'self'"),
            )),
        };
        policy.current();
        policy
    }

    /// One `stat` per page and response; the files are read again only when a time
    /// changed.
    fn current(&self) -> HeaderValue {
        let modified: Vec<_> = self
            .pages
            .iter()
            .map(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok())
            .collect();
        let mut current = self
            .current
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if current.0 != modified {
            let html: String = self
                .pages
                .iter()
                .map(|p| std::fs::read_to_string(p).unwrap_or_default())
                .collect();
            if let Ok(value) = HeaderValue::from_str(&content_security_policy(&html)) {
                *current = (modified, value);
            }
        }
        current.1.clone()
    }
}

async fn not_built() -> impl IntoResponse {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        Html(
            "<!doctype html><title>Paktum</title><p>The app has not been built yet. Run <code>cargo xtask run</code>.</p>",
        ),
    )
}

async fn healthz(State(state): State<AppState>) -> Response {
    let storage = state.hub.storage().clone();
    match tokio::task::spawn_blocking(move || storage.document_count()).await {
        Ok(Ok(docs)) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "application/json")],
            format!(
                r#"{{"status":"ok","documents":{docs},"connections":{},"loads":{},"documents_tracked":{},"sync_states":{}}}"#,
                state.hub.connections(),
                state.hub.loads(),
                state.hub.documents_in_memory(),
                state.hub.sync_states()
            ),
        )
            .into_response(),
        _ => {
            tracing::error!("health check: storage not readable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"status":"storage unavailable"}"#,
            )
                .into_response()
        }
    }
}

/// Who is at `/sync`.
enum Admission {
    Device(crate::auth::Identity),
    Withdrawn(Box<crate::auth::WipeOrder>),
    Refused(AuthError),
}

/// The device token comes as `?token=…` (a stock automerge-repo client can put it in
/// the URL it is given). It is checked before the upgrade: a stranger never gets a
/// WebSocket, let alone a document.
async fn sync(
    State(state): State<AppState>,
    Query(query): Query<SyncQuery>,
    ws: WebSocketUpgrade,
) -> Response {
    let identity = if state.open {
        None
    } else {
        let token = query.token.unwrap_or_default();
        let directory = state.directory.clone();
        let checked = tokio::task::spawn_blocking(move || match directory.authenticate(&token) {
            Ok(identity) => Admission::Device(identity),
            // A device withdrawn with a wipe gets one kind of session still: the wipe.
            Err(AuthError::Revoked) => match directory.wipe_order(&token) {
                Ok(Some(order)) => Admission::Withdrawn(Box::new(order)),
                _ => Admission::Refused(AuthError::Revoked),
            },
            Err(e) => Admission::Refused(e),
        })
        .await;
        match checked {
            Ok(Admission::Device(identity)) => Some(identity),
            Ok(Admission::Withdrawn(order)) => {
                return ws
                    .max_message_size(state.max_message_bytes)
                    .max_frame_size(state.max_message_bytes)
                    .on_upgrade(move |socket| serve_withdrawn(state, *order, socket));
            }
            Ok(Admission::Refused(e)) => {
                state
                    .audit
                    .record("connection_refused", None, &e.to_string());
                return Error::from(e).into_response();
            }
            Err(e) => return Error::Internal(format!("authentication task: {e}")).into_response(),
        }
    };
    ws.max_message_size(state.max_message_bytes)
        .max_frame_size(state.max_message_bytes)
        .on_upgrade(move |socket| serve_socket(state, identity, socket))
}

/// The members of the asking device's own team (never another team's), for the
/// app's "assigned to" choice. The token comes as `Authorization: Bearer …` (or
/// `?token=`, like `/sync`); none, unknown or revoked: 401.
async fn team_members(
    State(state): State<AppState>,
    Query(query): Query<SyncQuery>,
    headers: HeaderMap,
) -> Result<axum::Json<TeamMembers>, Error> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
        .or(query.token)
        .unwrap_or_default();
    let directory = state.directory.clone();
    let (team, members) = tokio::task::spawn_blocking(move || {
        let identity = directory.authenticate(&token)?;
        let members = directory.members(&identity.team)?;
        Ok::<_, AuthError>((identity.team, members))
    })
    .await
    .map_err(|e| Error::Internal(format!("member list task: {e}")))??;
    Ok(axum::Json(TeamMembers {
        team,
        members: members
            .into_iter()
            .map(|(name, role)| Member { name, role })
            .collect(),
    }))
}

/// Exchanges a one-time enrolment code for a device token. Failed codes are counted
/// per client address and code prefix (`auth::throttle`); past the free ones the
/// answer is 429 with `Retry-After`, whatever the code.
async fn enrol(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    axum::Json(req): axum::Json<EnrolRequest>,
) -> Result<axum::Json<Enrolment>, Error> {
    let address = client_address(peer.ip(), &headers, state.trust_forwarded_for);
    // Relays on one database count failures together: theirs first.
    if state.directory.shares_enrol_counts() {
        let (directory, keys) = (
            state.directory.clone(),
            EnrolThrottle::keys(address, &req.code),
        );
        let counted = tokio::task::spawn_blocking(move || directory.enrol_counts(&keys))
            .await
            .map_err(|e| Error::Internal(format!("enrolment counts task: {e}")))??;
        lock(&state.enrolments).learn(address, &req.code, &counted, clock(now_ms()));
    }
    let attempt = lock(&state.enrolments)
        .begin(address, &req.code, clock(now_ms()))
        .map_err(|(retry_after_secs, by)| Error::RateLimited {
            by: limited_by(by),
            retry_after_secs,
        })?;
    let directory = state.directory.clone();
    let throttle = state.enrolments.clone();
    let audit = state.audit.clone();
    // The attempt ends in the blocking task, which runs to the end even when the
    // client hangs up: every begun attempt is counted.
    let (token, id, settings) = tokio::task::spawn_blocking(move || {
        let now = now_ms();
        let result = directory.enrol(&req.code, &req.label, now);
        let failed = matches!(
            result,
            Err(AuthError::UnknownCode | AuthError::UsedCode | AuthError::ExpiredCode)
        );
        let (blocks, counted, forget) = {
            let mut throttle = lock(&throttle);
            let blocks = throttle.end(attempt, failed, clock(now));
            let counted = failed.then(|| throttle.counted(address, &req.code));
            (blocks, counted, throttle.forget_after_ms())
        };
        for block in blocks {
            audit.record("enrol_rate_limited", None, &block_detail(block, address));
        }
        if let Some(counted) = counted
            && let Err(e) = directory.enrol_failed(&counted, clock(now), forget)
        {
            tracing::warn!(error = %e, "could not share a failed enrolment with the other relays");
        }
        let (token, id) = result?;
        let settings = directory.pact_settings(&id.pact)?;
        Ok::<_, AuthError>((token, id, settings))
    })
    .await
    .map_err(|e| Error::Internal(format!("enrolment task: {e}")))??;
    tracing::info!(device = id.device_id, "device enrolled");
    let teams = id.readable_teams();
    Ok(axum::Json(Enrolment {
        token,
        device_id: id.device_id,
        worker: id.worker,
        role: id.role.as_str().to_string(),
        teams,
        team: id.team,
        pact: id.pact,
        settings: Some(settings),
        own_caseload_only: id.own_caseload_only,
    }))
}

/// What the device's member may do and read now, for a device that follows its
/// pact (a coordinator's). The token is checked as for `/sync`.
async fn pact_teams(
    State(state): State<AppState>,
    Query(query): Query<SyncQuery>,
) -> Result<axum::Json<PactTeams>, Error> {
    let token = query.token.unwrap_or_default();
    let directory = state.directory.clone();
    let (id, settings) = tokio::task::spawn_blocking(move || {
        let id = directory.authenticate(&token)?;
        let settings = directory.pact_settings(&id.pact)?;
        Ok::<_, AuthError>((id, settings))
    })
    .await
    .map_err(|e| Error::Internal(format!("authentication task: {e}")))??;
    Ok(axum::Json(PactTeams {
        role: id.role.as_str().to_string(),
        teams: id.readable_teams(),
        team: id.team,
        settings: Some(settings),
        own_caseload_only: id.own_caseload_only,
    }))
}

fn lock(throttle: &std::sync::Mutex<EnrolThrottle>) -> std::sync::MutexGuard<'_, EnrolThrottle> {
    throttle
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn clock(now_ms: i64) -> u64 {
    u64::try_from(now_ms).unwrap_or(0)
}

fn limited_by(by: Limited) -> &'static str {
    match by {
        Limited::Address => "address",
        Limited::Prefix => "code prefix",
    }
}

/// What the audit log keeps of a block: the address, or only that a code prefix
/// (never its characters) was blocked.
fn block_detail(block: BlockStarted, address: IpAddr) -> String {
    let secs = block.for_ms.div_ceil(1000);
    match block.by {
        Limited::Address => format!("address {address} blocked for {secs} s"),
        Limited::Prefix => format!(
            "a code prefix ({} characters) blocked for {secs} s",
            crate::auth::throttle::PREFIX_LEN
        ),
    }
}

/// The client's address: the peer's, or behind a trusted proxy the last
/// `X-Forwarded-For` entry (the one that proxy appended; earlier ones are the
/// client's to forge).
fn client_address(peer: IpAddr, headers: &HeaderMap, trust_forwarded_for: bool) -> IpAddr {
    if !trust_forwarded_for {
        return peer;
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .last()
        .and_then(|last| last.trim().parse().ok())
        .unwrap_or(peer)
}

async fn serve_socket(state: AppState, identity: Option<crate::auth::Identity>, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let incoming = stream.map(|frame| frame.map(frame_of));
    let outgoing =
        sink.with(
            |bytes: Vec<u8>| async move { Ok::<_, axum::Error>(WsMessage::Binary(bytes.into())) },
        );
    let device = identity.as_ref().map(|i| i.device_id);
    let reason = session::run(
        state.hub.clone(),
        identity,
        state.rate,
        incoming,
        Box::pin(outgoing),
        state.shutdown.clone(),
    )
    .await;
    tracing::info!(reason = %reason, device, "sync connection ended");
}

async fn serve_withdrawn(state: AppState, order: crate::auth::WipeOrder, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let incoming = stream.map(|frame| frame.map(frame_of));
    let outgoing =
        sink.with(
            |bytes: Vec<u8>| async move { Ok::<_, axum::Error>(WsMessage::Binary(bytes.into())) },
        );
    let device = order.identity.device_id;
    let reason = session::withdraw(
        state.hub.clone(),
        order,
        incoming,
        Box::pin(outgoing),
        state.shutdown.clone(),
    )
    .await;
    tracing::info!(reason = %reason, device, "withdrawn device's connection ended");
}

fn frame_of(m: WsMessage) -> Frame {
    match m {
        WsMessage::Binary(b) => Frame::Binary(b.to_vec()),
        WsMessage::Text(_) => Frame::Text,
        WsMessage::Close(_) => Frame::Close,
        WsMessage::Ping(_) | WsMessage::Pong(_) => Frame::Control,
    }
}

/// Hashed assets never change: cache them for a year. Everything else (index.html,
/// the service worker, the manifest) must be revalidated so updates reach devices.
async fn cache_headers(req: Request, next: Next) -> Response {
    let hashed = is_hashed_asset(req.uri().path());
    let mut res = next.run(req).await;
    let value = if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(value));
    res.headers_mut().insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Hashed assets may go out brotli- or gzip-encoded (precompressed copies): a
    // shared cache must not hand one encoding to a browser that asked for another.
    if hashed {
        res.headers_mut()
            .insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    }
    res
}

/// The policy the app runs under. Scripts only from this origin, plus the inline
/// scripts of the built `index.html` by their SHA-256 (Trunk's loader and the
/// service-worker registration), plus WebAssembly compilation. No other inline or
/// injected script runs. `connect-src` allows WSS and HTTPS to other hosts, because
/// a device may be pointed at its pact's relay elsewhere; plain HTTP and WS only to
/// loopback (development), never across a network where tokens would travel in clear.
pub fn content_security_policy(index_html: &str) -> String {
    let hashes: String = inline_scripts(index_html)
        .map(|body| {
            format!(
                " 'sha256-{}'",
                BASE64.encode(Sha256::digest(body.as_bytes()))
            )
        })
        .collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; \
         style-src 'self'; img-src 'self' data:; font-src 'self'; \
         connect-src 'self' https: wss: http://127.0.0.1:* ws://127.0.0.1:* \
         http://localhost:* ws://localhost:*; manifest-src 'self'; worker-src 'self'; \
         object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The bodies of `<script>` elements without `src`, exactly as the browser hashes them.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let open_end = rest.find('>')?;
        let attributes = &rest[..open_end];
        let body = &rest[open_end + 1..];
        let body = &body[..body.find("</script>")?];
        (!attributes.contains("src=")).then_some(body)
    })
}

/// Whether a path names a file (its last segment has an extension) rather than an
/// app route.
fn names_a_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    name.rsplit_once('.')
        .is_some_and(|(stem, ext)| !stem.is_empty() && !ext.is_empty())
}

/// The coordinator's page: `/pact` and every path under it but the relay's own
/// `/pact/teams`.
fn is_pact_page(path: &str) -> bool {
    path == "/pact" || (path.starts_with("/pact/") && path != "/pact/teams")
}

/// Trunk names hashed files `name-<hash>.ext` (e.g. `paktum-app-1a2b…_bg.wasm`), the
/// hash a u64 in hex without leading zeros: 16 digits, sometimes fewer (15 in one
/// of sixteen builds).
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    name.split(['-', '_', '.'])
        .any(|part| (12..=16).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_allows_exactly_the_inline_scripts_of_index_html() {
        let html = "<html><head><script type=\"module\">import init from '/a.js';init();</script>\
                    <script src=\"/x.js\"></script><script>\n  navigator.serviceWorker;\n</script></head></html>";
        let csp = content_security_policy(html);
        let hash = |s: &str| format!("'sha256-{}'", BASE64.encode(Sha256::digest(s.as_bytes())));
        assert!(
            csp.contains(&hash("import init from '/a.js';init();")),
            "{csp}"
        );
        assert!(
            csp.contains(&hash("\n  navigator.serviceWorker;\n")),
            "{csp}"
        );
        assert_eq!(
            csp.matches("'sha256-").count(),
            2,
            "external scripts need no hash"
        );
        assert!(csp.contains("'wasm-unsafe-eval'"));
        assert!(!csp.contains("'unsafe-inline'") && !csp.contains("'unsafe-eval'"));
        assert!(csp.contains("object-src 'none'") && csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn files_and_app_routes() {
        assert!(names_a_file("/paktum-app-5f3c9a0b1d2e4f60.js"));
        assert!(names_a_file("/assets/a.css"));
        assert!(!names_a_file("/"));
        assert!(!names_a_file("/caseload/some-route"));
        assert!(!names_a_file("/.well-known/"));
        assert!(is_pact_page("/pact") && is_pact_page("/pact/") && is_pact_page("/pact/table"));
        assert!(!is_pact_page("/pact/teams") && !is_pact_page("/pacts") && !is_pact_page("/"));
    }

    #[test]
    fn the_client_address_comes_from_the_proxy_only_when_trusted() {
        let peer: IpAddr = "10.0.0.1".parse().expect("ip");
        let mut headers = HeaderMap::new();
        headers.append(
            "x-forwarded-for",
            HeaderValue::from_static("1.1.1.1, 2.2.2.2"),
        );
        headers.append("x-forwarded-for", HeaderValue::from_static("198.51.100.7"));
        assert_eq!(client_address(peer, &headers, false), peer);
        assert_eq!(
            client_address(peer, &headers, true),
            "198.51.100.7".parse::<IpAddr>().expect("ip")
        );
        assert_eq!(client_address(peer, &HeaderMap::new(), true), peer);
        headers.append("x-forwarded-for", HeaderValue::from_static("garbage"));
        assert_eq!(client_address(peer, &headers, true), peer);
    }

    #[test]
    fn hashed_asset_names() {
        assert!(is_hashed_asset("/paktum-app-5f3c9a0b1d2e4f60_bg.wasm"));
        assert!(is_hashed_asset("/paktum-app-5f3c9a0b1d2e4f60.js"));
        // A hash with a leading zero is written one digit shorter.
        assert!(is_hashed_asset("/pact/paktum-pact-b80d150d07bcdbf_bg.wasm"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/sw.js"));
        assert!(!is_hashed_asset("/manifest.webmanifest"));
    }
}
