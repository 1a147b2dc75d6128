//! HTTP surface: `/sync` (WebSocket, automerge-repo protocol), `/healthz`, and the
//! built app as static files with cache headers that suit a service worker.

use std::path::Path;
use std::sync::Arc;

use axum::Router;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use futures_util::{SinkExt, StreamExt};
use tokio_util::sync::CancellationToken;
use tower_http::services::{ServeDir, ServeFile};

use crate::hub::Hub;
use crate::session::{self, Frame};

#[derive(Clone)]
pub struct AppState {
    pub hub: Arc<Hub>,
    pub max_message_bytes: usize,
    pub shutdown: CancellationToken,
}

pub fn router(state: AppState, dist: &Path) -> Router {
    let api = Router::new()
        .route("/sync", get(sync))
        .route("/healthz", get(healthz))
        .with_state(state);
    let index = dist.join("index.html");
    if index.exists() {
        let files = ServeDir::new(dist).fallback(ServeFile::new(index));
        api.fallback_service(files)
            .layer(middleware::from_fn(cache_headers))
    } else {
        api.fallback(get(not_built))
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
                r#"{{"status":"ok","documents":{docs},"connections":{}}}"#,
                state.hub.connections()
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

async fn sync(State(state): State<AppState>, ws: WebSocketUpgrade) -> Response {
    ws.max_message_size(state.max_message_bytes)
        .max_frame_size(state.max_message_bytes)
        .on_upgrade(move |socket| serve_socket(state, socket))
}

async fn serve_socket(state: AppState, socket: WebSocket) {
    let (sink, stream) = socket.split();
    let incoming = stream.map(|frame| {
        frame.map(|m| match m {
            WsMessage::Binary(b) => Frame::Binary(b.to_vec()),
            WsMessage::Text(_) => Frame::Text,
            WsMessage::Close(_) => Frame::Close,
            WsMessage::Ping(_) | WsMessage::Pong(_) => Frame::Control,
        })
    });
    let outgoing =
        sink.with(
            |bytes: Vec<u8>| async move { Ok::<_, axum::Error>(WsMessage::Binary(bytes.into())) },
        );
    let reason = session::run(
        state.hub.clone(),
        incoming,
        Box::pin(outgoing),
        state.shutdown.clone(),
    )
    .await;
    tracing::info!(reason = %reason, "sync connection ended");
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
    res
}

/// Trunk names hashed files `name-<16 hex digits>.ext` (e.g. `paktum-app-1a2b…_bg.wasm`).
fn is_hashed_asset(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or("");
    name.split(['-', '_', '.'])
        .any(|part| part.len() == 16 && part.bytes().all(|b| b.is_ascii_hexdigit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashed_asset_names() {
        assert!(is_hashed_asset("/paktum-app-5f3c9a0b1d2e4f60_bg.wasm"));
        assert!(is_hashed_asset("/paktum-app-5f3c9a0b1d2e4f60.js"));
        assert!(!is_hashed_asset("/index.html"));
        assert!(!is_hashed_asset("/sw.js"));
        assert!(!is_hashed_asset("/manifest.webmanifest"));
    }
}
