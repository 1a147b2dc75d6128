//! `POST /erase?token=…` (a coordinator erases a record of their team) and
//! `GET /erasure?token=…&document=…` (its receipt). The token is a device token, as
//! for `/sync`; the hub checks the role and the team.

use axum::Json;
use axum::extract::{Query, State};
use paktum_shared::DocumentId;
use paktum_shared::erasure::{EraseRequest, ErasureReceipt};

use super::AppState;
use crate::auth::{Identity, Role};
use crate::error::Error;

#[derive(serde::Deserialize)]
pub(super) struct Asked {
    token: Option<String>,
    document: Option<String>,
}

async fn identity(state: &AppState, token: Option<String>) -> Result<Identity, Error> {
    let directory = state.directory.clone();
    let token = token.unwrap_or_default();
    tokio::task::spawn_blocking(move || directory.authenticate(&token))
        .await
        .map_err(|e| Error::Internal(format!("authentication task: {e}")))?
        .map_err(Error::from)
}

fn document(id: &str) -> Result<DocumentId, Error> {
    id.trim()
        .parse()
        .map_err(|_| Error::NoErasure("not a document id"))
}

pub(super) async fn erase(
    State(state): State<AppState>,
    Query(asked): Query<Asked>,
    Json(req): Json<EraseRequest>,
) -> Result<Json<ErasureReceipt>, Error> {
    let who = identity(&state, asked.token).await?;
    let doc = document(&req.document)?;
    let receipt = state.hub.erase_as(&who, doc).await?;
    tracing::info!(device = who.device_id, doc = %doc, "record erased on request");
    Ok(Json((&receipt).into()))
}

pub(super) async fn receipt(
    State(state): State<AppState>,
    Query(asked): Query<Asked>,
) -> Result<Json<ErasureReceipt>, Error> {
    let who = identity(&state, asked.token).await?;
    if !matches!(who.role, Role::Coordinator | Role::Admin) {
        return Err(Error::NoErasure(
            "only coordinators and admins see receipts",
        ));
    }
    let doc = document(asked.document.as_deref().unwrap_or_default())?;
    let directory = state.directory.clone();
    let receipt = tokio::task::spawn_blocking(move || directory.erasure_receipt(&doc))
        .await
        .map_err(|e| Error::Internal(e.to_string()))?
        .map_err(Error::Directory)?
        .filter(|r| who.pact_teams.contains(&r.team))
        .ok_or(Error::NoErasure("not erased"))?;
    Ok(Json((&receipt).into()))
}
