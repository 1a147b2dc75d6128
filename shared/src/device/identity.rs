//! Who a device is: the worker, the team, the relay it syncs with and its Automerge
//! actor. Set up once on first start and kept in the device's store. Pure: the clock
//! is an argument wherever a change is stamped.

use automerge::ActorId;
use serde::{Deserialize, Serialize};

use crate::Editor;

/// The device identity, saved as one entry in the store (field names are its stored
/// form: renaming one loses every device's identity).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
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
    /// The credential the relay issued at enrolment (none in development mode).
    #[serde(default)]
    pub device_token: Option<String>,
    /// What the member may do (from the enrolment; a device stored before roles is a
    /// worker's).
    #[serde(default)]
    pub role: Role,
    /// Every team of the member's pact, as the relay named them at enrolment; a
    /// coordinator's device follows them all (read-only but for its own team).
    #[serde(default)]
    pub pact_teams: Vec<String>,
    /// The pact's settings as the relay last named them (a device stored before them,
    /// or enrolled by an older relay: the defaults).
    #[serde(default)]
    pub pact_settings: crate::enrol::PactSettings,
    /// A worker of a team set to "own caseload only": the device follows the worker's
    /// own index instead of the team's (the relay refuses that one to such a worker).
    #[serde(default)]
    pub own_caseload_only: bool,
}

/// A member's role, as the relay's directory names it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    #[default]
    Worker,
    Coordinator,
    Admin,
}

impl Role {
    /// The relay's name for a role, as its directory stores it.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Worker => "worker",
            Role::Coordinator => "coordinator",
            Role::Admin => "admin",
        }
    }

    /// The relay's name for a role (`worker`, `coordinator`, `admin`); `None` for others.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "worker" => Some(Role::Worker),
            "coordinator" => Some(Role::Coordinator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    /// Whether the relay lets this role read every team of the pact.
    pub fn reads_the_pact(self) -> bool {
        self != Role::Worker
    }
}

impl Identity {
    /// A fresh identity with a new actor and storage id.
    pub fn new(worker: &str, team: &str, relay_url: &str) -> Self {
        Self {
            worker: worker.trim().to_string(),
            team: team.trim().to_string(),
            relay_url: relay_url.trim().to_string(),
            actor: ActorId::random().to_hex_string(),
            storage_id: random_hex(16),
            device_token: None,
            role: Role::Worker,
            pact_teams: Vec::new(),
            pact_settings: crate::enrol::PactSettings::default(),
            own_caseload_only: false,
        }
    }

    /// The same identity with the role and the pact's teams the relay named at
    /// enrolment (an unknown role reads as a worker's: the narrowest).
    pub fn with_pact(mut self, role: &str, pact_teams: Vec<String>) -> Self {
        self.role = Role::parse(role).unwrap_or_default();
        self.pact_teams = pact_teams;
        self
    }

    /// The same identity with the pact's settings the relay named (none from an
    /// older relay: the defaults); out-of-range values are kept as the defaults.
    pub fn with_settings(mut self, settings: Option<crate::enrol::PactSettings>) -> Self {
        self.pact_settings = settings.unwrap_or_default().sane();
        self
    }

    /// The same identity with the team's "own caseload only" setting the relay named.
    pub fn with_own_caseload(mut self, own_caseload_only: bool) -> Self {
        self.own_caseload_only = own_caseload_only;
        self
    }

    /// Whether this device keeps only its worker's own records: a worker of a team set
    /// to "own caseload only" (coordinators and admins see the whole team).
    pub fn own_only(&self) -> bool {
        self.own_caseload_only && self.role == Role::Worker
    }

    /// The index this device lists its records in: its team's, or, with
    /// [`Identity::own_only`], its worker's own.
    pub fn index_id(&self) -> crate::DocumentId {
        use crate::caseload::CaseloadDoc;
        if self.own_only() {
            CaseloadDoc::worker_id_for(&self.team, &self.worker)
        } else {
            CaseloadDoc::id_for_team(&self.team)
        }
    }

    /// That index's deterministic first change.
    pub fn new_index(&self) -> Result<crate::caseload::CaseloadDoc, crate::ModelError> {
        use crate::caseload::CaseloadDoc;
        if self.own_only() {
            CaseloadDoc::new_for_worker(&self.team, &self.worker)
        } else {
            CaseloadDoc::new(&self.team)
        }
    }

    /// Whether this device's index lists a record of this owner (`None`: not a record
    /// of any team): its team's, and with [`Identity::own_only`] assigned to its worker.
    pub fn lists(&self, owner: Option<&crate::record::Owner>) -> bool {
        owner.is_some_and(|o| {
            o.team == self.team
                && (!self.own_only() || o.assigned_worker.as_deref() == Some(self.worker.as_str()))
        })
    }

    /// The teams whose indices this device follows: its own first, then (for a role
    /// that reads the pact) the pact's other teams, each once, in the relay's order.
    pub fn followed_teams(&self) -> Vec<String> {
        let mut teams = vec![self.team.clone()];
        if self.role.reads_the_pact() {
            for team in &self.pact_teams {
                if !teams.contains(team) {
                    teams.push(team.clone());
                }
            }
        }
        teams
    }

    /// Whether this device may change a record of `team`: the relay's share policy
    /// lets every role write its own team only (a coordinator reads the others).
    pub fn may_edit_team(&self, team: &str) -> bool {
        team == self.team
    }

    pub fn actor_id(&self) -> ActorId {
        // A damaged actor falls back to a fresh one: changes stay attributable by
        // worker name, and a new actor never collides with another device's.
        ActorId::try_from(self.actor.as_str()).unwrap_or_else(|_| ActorId::random())
    }

    /// Who makes a change at `now_ms` (milliseconds since the epoch).
    pub fn editor(&self, actor: &ActorId, now_ms: i64) -> Editor {
        Editor::new(actor.clone(), self.worker.clone(), now_ms)
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

/// A team name typed at setup as the relay's development mode keys caseloads by it:
/// case, accents and repeated spaces ignored ("Team-x", "team-x" and "TEAM-X " are one
/// team), since people type a team's name the way they say it. Enrolled devices get
/// the name from the relay instead.
pub fn normalise_team(typed: &str) -> String {
    crate::language::fold(typed)
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
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
    let mut buf = vec![0u8; bytes];
    // Without an entropy source, a document id's fallback randomness still separates
    // devices well enough for a storage id (it only names the store to the relay).
    if getrandom::fill(&mut buf).is_err() {
        buf = crate::DocumentId::random().to_string().into_bytes();
        buf.truncate(bytes);
    }
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_role_reads_back_from_its_name_in_the_directory_and_in_json() {
        for role in [Role::Worker, Role::Coordinator, Role::Admin] {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            let json = serde_json::to_string(&role).expect("a role serialises");
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert_eq!(Role::parse("Worker"), None);
    }

    #[test]
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

    #[test]
    fn team_names_typed_differently_are_one_team() {
        assert_eq!(normalise_team("Team-x"), normalise_team("team-x"));
        assert_eq!(normalise_team(" TEAM-X "), "team-x");
        assert_eq!(normalise_team("Kőszeg  Dél"), "koszeg del");
        assert_ne!(normalise_team("team-x"), normalise_team("team-y"));
    }

    #[test]
    fn an_identity_keeps_its_actor_through_the_store() {
        let identity = Identity::new(" Anna ", "kempen", "ws://127.0.0.1:8080/sync");
        assert_eq!(identity.worker, "Anna", "trimmed");
        let json = serde_json::to_string(&identity).expect("serialises");
        let back: Identity = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, identity);
        // The actor written into changes is the stored one, not a fresh random one.
        assert_eq!(back.actor_id().to_hex_string(), identity.actor);
        let other = Identity::new("Anna", "kempen", "ws://127.0.0.1:8080/sync");
        assert_ne!(other.actor, identity.actor, "a new device is a new actor");
        assert_ne!(other.storage_id, identity.storage_id);
    }

    #[test]
    fn an_identity_stored_before_tokens_still_reads() {
        let old = r#"{"worker":"Anna","team":"kempen","relay_url":"ws://x/sync",
            "actor":"0a0b","storage_id":"ff"}"#;
        let identity: Identity = serde_json::from_str(old).expect("reads");
        assert_eq!(identity.device_token, None);
        assert_eq!(identity.actor_id().to_hex_string(), "0a0b");
        assert_eq!(identity.role, Role::Worker, "stored before roles: a worker");
        assert_eq!(identity.followed_teams(), ["kempen"]);
    }

    #[test]
    fn an_own_caseload_worker_lists_only_its_own_records_in_its_own_index() {
        use crate::caseload::CaseloadDoc;
        use crate::record::Owner;
        let owner = |team: &str, w: &str| Owner {
            team: team.into(),
            assigned_worker: Some(w.into()),
        };
        let anna = Identity::new("Anna", "kempen", "ws://x/sync")
            .with_pact("worker", vec!["kempen".into()])
            .with_own_caseload(true);
        assert_eq!(
            anna.index_id(),
            CaseloadDoc::worker_id_for("kempen", "Anna")
        );
        let genesis = anna.new_index().expect("index");
        assert_eq!(
            CaseloadDoc::worker_index_of(&anna.index_id(), genesis.doc()),
            Some(("kempen".into(), "Anna".into()))
        );
        assert!(anna.lists(Some(&owner("kempen", "Anna"))));
        assert!(!anna.lists(Some(&owner("kempen", "Bram"))));
        assert!(!anna.lists(Some(&owner("herentals", "Anna"))));
        assert!(!anna.lists(None));
        // A coordinator of such a team follows the team's index.
        let kim = Identity::new("Kim", "kempen", "ws://x/sync")
            .with_pact("coordinator", vec!["kempen".into()])
            .with_own_caseload(true);
        assert_eq!(kim.index_id(), CaseloadDoc::id_for_team("kempen"));
        assert!(kim.lists(Some(&owner("kempen", "Bram"))));
        let old = r#"{"worker":"Anna","team":"kempen","relay_url":"ws://x/sync",
            "actor":"0a0b","storage_id":"ff"}"#;
        let stored: Identity = serde_json::from_str(old).expect("reads");
        assert!(
            !stored.own_caseload_only,
            "stored before the setting: the team's index"
        );
    }

    #[test]
    fn a_coordinator_follows_every_team_of_the_pact_a_worker_only_its_own() {
        let pact = vec!["herentals".to_string(), "kempen".to_string()];
        let coordinator =
            Identity::new("Kim", "kempen", "ws://x/sync").with_pact("coordinator", pact.clone());
        assert_eq!(coordinator.followed_teams(), ["kempen", "herentals"]);
        assert!(coordinator.may_edit_team("kempen"));
        assert!(!coordinator.may_edit_team("herentals"));
        let json = serde_json::to_string(&coordinator).expect("serialises");
        assert!(json.contains("\"role\":\"coordinator\""), "{json}");
        let back: Identity = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, coordinator);
        let worker = Identity::new("Anna", "kempen", "ws://x/sync").with_pact("worker", pact);
        assert_eq!(worker.followed_teams(), ["kempen"]);
        let odd = Identity::new("Anna", "kempen", "ws://x/sync").with_pact("boss", vec![]);
        assert_eq!(odd.role, Role::Worker, "an unknown role is the narrowest");
    }
}
