//! The relay's plain HTTP endpoints the app uses: `POST /enrol` (a one-time code for a
//! device token), `GET /team/members` (the device's team, for "assigned to"),
//! `GET /pact/teams` (the pact's settings, asked again at every start) and
//! `POST /erase` (a coordinator erases a record), `GET /healthz` (is the relay there at all, to tell "cannot reach the relay" from
//! "the relay refuses this device").

use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{Request, RequestInit, Response};

/// What the relay says about an enrolled device (the wire type is `shared`'s).
pub use paktum_shared::enrol::Enrolment;
use paktum_shared::enrol::{EnrolRequest, PactTeams, Refusal, TeamMembers};
use paktum_shared::erasure::{EraseRequest, ErasureReceipt};

/// Why enrolment did not work, for the setup screen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EnrolError {
    /// No answer from the relay.
    Unreachable,
    /// The relay refused: its code says why (used, expired or unknown code, too many
    /// attempts, …); the sentence is kept for a code this build does not know.
    Refused(Refusal),
}

/// `ws://host:port/sync` -> `http://host:port`.
pub fn http_base(relay_url: &str) -> String {
    let (scheme, rest) = relay_url.split_once("://").unwrap_or(("ws", relay_url));
    let host = rest.split(['/', '?']).next().unwrap_or(rest);
    let scheme = if scheme == "wss" { "https" } else { "http" };
    format!("{scheme}://{host}")
}

/// The sync address with the device token, as the relay expects it.
pub fn sync_url(relay_url: &str, token: Option<&str>) -> String {
    match token.filter(|t| !t.is_empty()) {
        Some(token) => {
            let sep = if relay_url.contains('?') { '&' } else { '?' };
            format!(
                "{relay_url}{sep}token={}",
                js_sys::encode_uri_component(token)
            )
        }
        None => relay_url.to_string(),
    }
}

async fn fetch(url: &str, init: &RequestInit) -> Option<Response> {
    let window = web_sys::window()?;
    let request = Request::new_with_str_and_init(url, init).ok()?;
    let response = JsFuture::from(window.fetch_with_request(&request))
        .await
        .ok()?;
    response.dyn_into::<Response>().ok()
}

async fn text(response: &Response) -> Option<String> {
    JsFuture::from(response.text().ok()?)
        .await
        .ok()?
        .as_string()
}

/// Exchanges an enrolment code for a device token.
pub async fn enrol(relay_url: &str, code: &str, label: &str) -> Result<Enrolment, EnrolError> {
    let init = RequestInit::new();
    init.set_method("POST");
    let request = EnrolRequest {
        code: code.trim().to_string(),
        label: label.to_string(),
    };
    let body = serde_json::to_string(&request).map_err(|_| EnrolError::Unreachable)?;
    init.set_body(&body.into());
    let headers = web_sys::Headers::new().map_err(|_| EnrolError::Unreachable)?;
    let _ = headers.set("content-type", "application/json");
    init.set_headers(&headers);
    let url = format!("{}/enrol", http_base(relay_url));
    let response = fetch(&url, &init).await.ok_or(EnrolError::Unreachable)?;
    let body = text(&response).await.unwrap_or_default();
    // Not JSON at all (a proxy's page, an older relay): refused, reason unknown.
    let unknown = || Refusal {
        error: String::new(),
        code: None,
        retry_after_secs: None,
    };
    if response.ok() {
        serde_json::from_str(&body).map_err(|_| EnrolError::Refused(unknown()))
    } else {
        let refusal = serde_json::from_str::<Refusal>(&body).unwrap_or_else(|_| unknown());
        Err(EnrolError::Refused(refusal))
    }
}

/// The members of this device's team, as the relay's directory lists them; `None`
/// when the relay cannot be reached or refuses (no token in development mode).
pub async fn team_members(relay_url: &str, token: &str) -> Option<TeamMembers> {
    let init = RequestInit::new();
    init.set_method("GET");
    let headers = web_sys::Headers::new().ok()?;
    headers
        .set("authorization", &format!("Bearer {token}"))
        .ok()?;
    init.set_headers(&headers);
    let url = format!("{}/team/members", http_base(relay_url));
    let response = fetch(&url, &init).await?;
    if !response.ok() {
        return None;
    }
    serde_json::from_str(&text(&response).await?).ok()
}

/// `GET /pact/teams?token=…`: the member's role, the pact's teams and the pact's
/// settings now; `None` without an answer.
pub async fn pact_teams(relay_url: &str, token: &str) -> Option<PactTeams> {
    let init = RequestInit::new();
    init.set_method("GET");
    let url = format!(
        "{}/pact/teams?token={}",
        http_base(relay_url),
        js_sys::encode_uri_component(token)
    );
    let response = fetch(&url, &init).await?;
    if !response.ok() {
        return None;
    }
    serde_json::from_str(&text(&response).await?).ok()
}

/// Why an erasure did not happen, for the contact page.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EraseError {
    /// No answer from the relay (offline): nothing was erased.
    Unreachable,
    /// The relay refused; its code says why (`not_permitted`, `not_enrolled`, …).
    Refused(Refusal),
}

/// Asks the relay to erase a record (`POST /erase?token=…`, coordinators and admins
/// only; the relay checks the role and the team). Its answer is the receipt.
pub async fn erase(
    relay_url: &str,
    token: Option<&str>,
    document: &str,
) -> Result<ErasureReceipt, EraseError> {
    let init = RequestInit::new();
    init.set_method("POST");
    let body = serde_json::to_string(&EraseRequest {
        document: document.to_string(),
    })
    .map_err(|_| EraseError::Unreachable)?;
    init.set_body(&body.into());
    let headers = web_sys::Headers::new().map_err(|_| EraseError::Unreachable)?;
    let _ = headers.set("content-type", "application/json");
    init.set_headers(&headers);
    let token = js_sys::encode_uri_component(token.unwrap_or_default());
    let url = format!("{}/erase?token={token}", http_base(relay_url));
    let response = fetch(&url, &init).await.ok_or(EraseError::Unreachable)?;
    let body = text(&response).await.unwrap_or_default();
    let unknown = || Refusal {
        error: String::new(),
        code: None,
        retry_after_secs: None,
    };
    if response.ok() {
        serde_json::from_str(&body).map_err(|_| EraseError::Refused(unknown()))
    } else {
        let refusal = serde_json::from_str::<Refusal>(&body).unwrap_or_else(|_| unknown());
        Err(EraseError::Refused(refusal))
    }
}

/// Whether the relay answers HTTP at all.
pub async fn is_up(relay_url: &str) -> bool {
    let init = RequestInit::new();
    init.set_method("GET");
    fetch(&format!("{}/healthz", http_base(relay_url)), &init)
        .await
        .is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn addresses_for_http_and_tokens() {
        assert_eq!(
            http_base("ws://127.0.0.1:8080/sync"),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            http_base("wss://relay.example/sync?x=1"),
            "https://relay.example"
        );
        assert_eq!(
            sync_url("ws://h/sync", Some("a+b/c")),
            "ws://h/sync?token=a%2Bb%2Fc"
        );
        assert_eq!(sync_url("ws://h/sync", None), "ws://h/sync");
    }

    #[wasm_bindgen_test]
    async fn an_absent_relay_is_not_up() {
        assert!(!is_up("ws://127.0.0.1:9/sync").await);
        assert!(matches!(
            enrol("ws://127.0.0.1:9/sync", "CODE", "test").await,
            Err(EnrolError::Unreachable)
        ));
    }
}
