//! Who this device is: the worker, the team, the relay it syncs with and its
//! Automerge actor. Set up once on first start and kept in the store.

use automerge::ActorId;
use serde::{Deserialize, Serialize};

use paktum_shared::Editor;

/// The device identity, saved as one entry in the store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Device {
    /// The worker's display name, written into every change for the history.
    pub worker: String,
    /// The team whose caseload this device syncs.
    pub team: String,
    /// `ws://` or `wss://` address of the relay's sync endpoint.
    pub relay_url: String,
    /// This device's Automerge actor, hex encoded.
    pub actor: String,
    /// Names this device's store to the relay, so it keeps our sync state between sessions.
    pub storage_id: String,
    /// The credential the access-control issue will issue; unused until then.
    #[serde(default)]
    pub device_token: Option<String>,
}

impl Device {
    /// A fresh identity with a new actor and storage id.
    pub fn new(worker: &str, team: &str, relay_url: &str) -> Self {
        Self {
            worker: worker.trim().to_string(),
            team: team.trim().to_string(),
            relay_url: relay_url.trim().to_string(),
            actor: ActorId::random().to_hex_string(),
            storage_id: random_hex(16),
            device_token: None,
        }
    }

    pub fn actor_id(&self) -> ActorId {
        // A damaged actor falls back to a fresh one: changes stay attributable by
        // worker name, and a new actor never collides with another device's.
        ActorId::try_from(self.actor.as_str()).unwrap_or_else(|_| ActorId::random())
    }

    /// Who makes a change now.
    pub fn editor(&self, actor: &ActorId) -> Editor {
        Editor::new(
            actor.clone(),
            self.worker.clone(),
            js_sys::Date::now() as i64,
        )
    }

    /// A peer id for one session (automerge-repo peers are per connection; the
    /// storage id is what stays).
    pub fn session_peer_id(&self) -> String {
        format!(
            "paktum-{}-{}",
            &self.storage_id[..8.min(self.storage_id.len())],
            random_hex(4)
        )
    }
}

/// The relay address for an app served by the relay itself: same host, `/sync`.
pub fn default_relay_url() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return "ws://127.0.0.1:8080/sync".into();
    };
    let host = location.host().unwrap_or_else(|_| "127.0.0.1:8080".into());
    let scheme = match location.protocol().as_deref() {
        Ok("https:") => "wss",
        _ => "ws",
    };
    format!("{scheme}://{host}/sync")
}

/// Accepts `http(s)://host[:port][/path]` or `ws(s)://…`; a bare host gets `/sync`.
pub fn normalise_relay_url(input: &str) -> Option<String> {
    let input = input.trim().trim_end_matches('/');
    let (scheme, rest) = input.split_once("://").unwrap_or(("ws", input));
    let scheme = match scheme {
        "ws" | "http" => "ws",
        "wss" | "https" => "wss",
        _ => return None,
    };
    if rest.is_empty() || rest.contains(char::is_whitespace) {
        return None;
    }
    let rest = if rest.contains('/') {
        rest.to_string()
    } else {
        format!("{rest}/sync")
    };
    Some(format!("{scheme}://{rest}"))
}

fn random_hex(bytes: usize) -> String {
    (0..bytes)
        .map(|_| format!("{:02x}", (js_sys::Math::random() * 256.0) as u8))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn relay_addresses_are_normalised() {
        assert_eq!(
            normalise_relay_url("127.0.0.1:8080").as_deref(),
            Some("ws://127.0.0.1:8080/sync")
        );
        assert_eq!(
            normalise_relay_url("https://relay.example/sync/").as_deref(),
            Some("wss://relay.example/sync")
        );
        assert_eq!(normalise_relay_url("ftp://x"), None);
        assert_eq!(normalise_relay_url("  "), None);
    }

    #[wasm_bindgen_test]
    fn an_identity_keeps_its_actor() {
        let device = Device::new("Anna", "kempen", "ws://127.0.0.1:8080/sync");
        assert_eq!(device.actor_id(), device.actor_id());
        let json = serde_json::to_string(&device).expect("serialises");
        let back: Device = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, device);
    }
}
