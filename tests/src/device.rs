//! A field device for tests and the load generator: the app's own device core
//! (`paktum_shared::device::Repo`) connected to the relay by a real WebSocket. Edits,
//! index rows and sync are the shipped code; this file only moves messages, keeps a
//! test clock and waits for observable conditions (never for a time). What the core
//! asks to write to disk is dropped: these devices have no disk.

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use automerge::ReadDoc;
use futures_util::{SinkExt, StreamExt};
use paktum_shared::caseload::CaseloadDoc;
use paktum_shared::contact::{Contact, ContactDoc, NewContact};
use paktum_shared::device::{Identity, Loadable, Loaded, Repo, Step, StoredDoc};
use paktum_shared::enrol::Enrolment;
use paktum_shared::protocol::Message;
use paktum_shared::record::RecordDoc;
use paktum_shared::replica::{Replica, Withdrawal};
use paktum_shared::{DocumentId, Editor, ModelError};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for a condition before failing with what it waited for.
const WAIT: Duration = Duration::from_secs(30);

/// The test clock starts on a fixed day (2026-11-24, 12:00 UTC), so runs repeat.
const CLOCK_START_MS: i64 = 1_795_521_600_000;

/// Bytes and messages a device exchanged (for reconnect-cost assertions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub sent_messages: usize,
    pub sent_bytes: usize,
    pub received_messages: usize,
    pub received_bytes: usize,
    /// Time the device core spent starting the session and taking in the relay's
    /// messages; the rest of a sync's time is the network and the relay.
    pub core_time: Duration,
}

#[derive(Debug)]
pub struct Device {
    /// The device core, as the app runs it.
    pub repo: Repo,
    pub team: String,
    pub traffic: Traffic,
    /// How long `wait_for` waits in total (the load generator raises it for big uploads).
    pub wait: Duration,
    /// Documents the core asked to delete from disk (erased), in order.
    pub deleted: Vec<DocumentId>,
    /// Every byte received from the relay while `Some` (a test sets it before
    /// connecting, to search what a device was sent).
    pub heard: Option<Vec<u8>>,
    /// The test clock, milliseconds since the epoch; each action moves it on a second.
    now_ms: i64,
    url: String,
    ws: Option<Ws>,
}

impl Device {
    pub fn new(worker: &str, team: &str, url: &str) -> anyhow::Result<Self> {
        Self::with_identity(Identity::new(worker, team, url))
    }

    /// A device set up from the relay's enrolment answer, as the app's setup screen
    /// does: its role and the teams it may read decide which indices it follows.
    pub fn enrolled(enrolment: &Enrolment, url: &str) -> anyhow::Result<Self> {
        let identity = Identity::new(&enrolment.worker, &enrolment.team, url)
            .with_pact(&enrolment.role, enrolment.teams.clone())
            .with_settings(enrolment.settings)
            .with_own_caseload(enrolment.own_caseload_only);
        Self::with_identity(identity)
    }

    fn with_identity(identity: Identity) -> anyhow::Result<Self> {
        let (team, url) = (identity.team.clone(), identity.relay_url.clone());
        // A new device: the core starts the team's index (the deterministic genesis).
        let (repo, _genesis) = Repo::new(identity, Loaded::default(), vec![]);
        if !repo.is_index_open() {
            bail!("the device core did not open the team's index");
        }
        Ok(Self {
            repo,
            team,
            traffic: Traffic::default(),
            wait: WAIT,
            deleted: Vec::new(),
            heard: None,
            now_ms: CLOCK_START_MS,
            url,
            ws: None,
        })
    }

    /// Another device of the same team that already holds what `other` holds, with
    /// its sync states (as if it had synced earlier): its core starts from them the
    /// way the app starts from its store. It follows the same indices (the same role,
    /// pact and "own caseload only" setting), with an actor of its own.
    pub fn twin_of(worker: &str, other: &Device) -> anyhow::Result<Self> {
        let of = other.repo.identity();
        let identity = Identity::new(worker, &other.team, &other.url)
            .with_pact(of.role.as_str(), of.pact_teams.clone())
            .with_own_caseload(of.own_caseload_only);
        let replica = other.replica();
        let mut loaded = Loaded::default();
        let mut states = Vec::new();
        for id in replica.doc_ids() {
            let doc = replica.doc(id).context("a held document")?;
            loaded.docs.push(StoredDoc {
                id: *id,
                doc: doc.clone(),
                chunks: 1,
                next_seq: 1,
                partly_damaged: false,
            });
            states.extend(replica.sync_state(id).map(|s| (*id, s)));
        }
        let (repo, _) = Repo::new(identity, loaded, states);
        Ok(Self {
            repo,
            team: other.team.clone(),
            traffic: Traffic::default(),
            wait: other.wait,
            deleted: Vec::new(),
            heard: None,
            now_ms: other.now_ms,
            url: other.url.clone(),
            ws: None,
        })
    }

    pub fn index_id(&self) -> DocumentId {
        self.repo.index_id()
    }

    /// The sync replica inside the core, for reading.
    pub fn replica(&self) -> &Replica {
        self.repo.replica()
    }

    /// Opens the WebSocket and completes the handshake and first sync.
    pub async fn connect(&mut self) -> anyhow::Result<()> {
        self.open().await?;
        self.sync().await
    }

    /// Opens the WebSocket and completes the handshake only.
    pub async fn open(&mut self) -> anyhow::Result<()> {
        // No Nagle: like browsers, send each small sync message at once.
        let (ws, _) = tokio_tungstenite::connect_async_with_config(&self.url, None, true)
            .await
            .context("connecting to the relay")?;
        self.ws = Some(ws);
        let started = std::time::Instant::now();
        let join = self.repo.connect();
        self.traffic.core_time += started.elapsed();
        self.send(vec![join]).await?;
        self.wait_for("handshake", |r| r.is_connected()).await
    }

    /// Drops the connection, as when a phone loses signal.
    pub fn go_offline(&mut self) {
        self.ws = None;
        self.repo.disconnect();
    }

    /// Reconnects a device the pact withdrew with a wipe: the core hands in what the
    /// relay has not confirmed and takes the relay's `paktum-wiped`; then, as the app
    /// erases its store, the device forgets everything (a fresh core). Returns the
    /// relay's last word.
    pub async fn reach_relay_withdrawn(&mut self) -> anyhow::Result<Withdrawal> {
        self.open().await?;
        self.wait_for("the relay's wipe", |r| r.withdrawn().is_some())
            .await?;
        let withdrawal = self
            .replica()
            .withdrawn()
            .cloned()
            .context("the relay's wipe")?;
        self.go_offline();
        let (repo, _) = Repo::new(self.repo.identity().clone(), Loaded::default(), vec![]);
        self.repo = repo;
        Ok(withdrawal)
    }

    /// Points the device at another relay address (e.g. a restarted relay's new port).
    pub fn set_url(&mut self, url: &str) {
        self.url = url.into();
    }

    /// For every document, the heads the relay has confirmed holding: what the relay
    /// acknowledged and so must never lose.
    pub fn acknowledged(&self) -> Vec<(DocumentId, Vec<automerge::ChangeHash>)> {
        let replica = self.replica();
        replica
            .doc_ids()
            .map(|id| (*id, replica.confirmed_heads(id)))
            .filter(|(_, heads)| !heads.is_empty())
            .collect()
    }

    pub fn is_online(&self) -> bool {
        self.ws.is_some()
    }

    /// Pumps messages until everything is in sync with the relay.
    pub async fn sync(&mut self) -> anyhow::Result<()> {
        self.wait_for("up to date", Replica::is_up_to_date).await
    }

    /// Pumps messages until `done` holds; fails after a generous timeout.
    pub async fn wait_for(
        &mut self,
        what: &str,
        done: impl Fn(&Replica) -> bool,
    ) -> anyhow::Result<()> {
        let deadline = tokio::time::Instant::now() + self.wait;
        while !done(self.repo.replica()) {
            let ws = self
                .ws
                .as_mut()
                .ok_or_else(|| anyhow!("offline while waiting for {what}"))?;
            let Ok(frame) = tokio::time::timeout_at(deadline, ws.next()).await else {
                // Described only now: describing is O(documents), too slow per message.
                bail!(
                    "timed out waiting for {what}: {}",
                    self.repo.replica().describe()
                );
            };
            let bytes = match frame {
                Some(Ok(WsMessage::Binary(b))) => b.to_vec(),
                Some(Ok(WsMessage::Close(_))) | None => {
                    bail!("relay closed the connection while waiting for {what}")
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => bail!("connection error while waiting for {what}: {e}"),
            };
            self.traffic.received_messages += 1;
            self.traffic.received_bytes += bytes.len();
            if let Some(heard) = &mut self.heard {
                heard.extend_from_slice(&bytes);
            }
            let msg = Message::decode(&bytes).context("relay sent a malformed message")?;
            let now = self.now_ms;
            let started = std::time::Instant::now();
            let step = self.repo.receive(msg, now)?;
            self.traffic.core_time += started.elapsed();
            self.take(step).await?;
        }
        Ok(())
    }

    async fn send(&mut self, msgs: Vec<Message>) -> anyhow::Result<()> {
        let Some(ws) = self.ws.as_mut() else {
            return Ok(());
        };
        for msg in msgs {
            let bytes = msg.encode();
            self.traffic.sent_messages += 1;
            self.traffic.sent_bytes += bytes.len();
            ws.send(WsMessage::Binary(bytes.into()))
                .await
                .context("sending to the relay")?;
        }
        Ok(())
    }

    /// Sends what a step of the core produced (its disk writes are dropped; the
    /// deletions it asks for are noted in [`Device::deleted`]).
    async fn take(&mut self, step: Step) -> anyhow::Result<()> {
        self.deleted.extend(step.batch.erase.iter().copied());
        self.send(step.send).await
    }

    /// Creates a contact and lists it in the team's index, as the app does.
    pub async fn create_contact(&mut self, new: NewContact) -> anyhow::Result<DocumentId> {
        let now = self.tick();
        let (id, step) = self.repo.create_contact(new, now)?;
        self.take(step).await?;
        Ok(id)
    }

    /// Applies an edit to a contact, as one user action; nothing changes when the
    /// edit is refused.
    pub async fn edit_contact<T>(
        &mut self,
        id: DocumentId,
        edit: impl FnOnce(&mut ContactDoc, &Editor) -> Result<T, ModelError>,
    ) -> anyhow::Result<T> {
        let now = self.tick();
        let (out, step) = self.repo.edit_contact(id, now, edit)?;
        self.take(step).await?;
        Ok(out)
    }

    /// Merges contact `from` into `into` through the core, as the app does (the
    /// erasure of `from` is the caller's next step, `POST /erase`).
    pub async fn merge_contacts(
        &mut self,
        into: DocumentId,
        from: DocumentId,
    ) -> anyhow::Result<paktum_shared::contact::merge::Merge> {
        let now = self.tick();
        let (merge, step) = self.repo.merge_contacts(into, from, now)?;
        self.take(step).await?;
        Ok(merge)
    }

    /// A change to a contact made past the core's refusal (another team's record), as
    /// a modified client could send it: for testing that the relay refuses it too.
    pub async fn forge_contact_edit<T>(
        &mut self,
        id: DocumentId,
        edit: impl FnOnce(&mut ContactDoc, &Editor) -> Result<T, ModelError>,
    ) -> anyhow::Result<T> {
        let doc = self
            .repo
            .replica()
            .doc(&id)
            .context("record not here")?
            .clone();
        let mut contact = ContactDoc::from_record(RecordDoc::from_automerge(id, doc)?)?;
        let editor = self.editor();
        let out = edit(&mut contact, &editor)?;
        let now = self.tick();
        let step = self.repo.forge(contact.into_record(), now)?;
        self.take(step).await?;
        Ok(out)
    }

    /// Takes in records made elsewhere (a synthetic caseload), each written and listed
    /// in the index in a change of its own, as if entered one by one; sends them when
    /// connected, else they wait for the next connection like offline work.
    pub async fn adopt(&mut self, records: Vec<RecordDoc>) -> anyhow::Result<()> {
        for record in records {
            let now = self.tick();
            let step = self.repo.adopt(record, now)?;
            self.take(step).await?;
        }
        Ok(())
    }

    /// Uploads many new records, then waits until the relay has confirmed them all.
    pub async fn upload(&mut self, records: Vec<RecordDoc>) -> anyhow::Result<()> {
        let ids: Vec<DocumentId> = records.iter().map(RecordDoc::id).collect();
        self.adopt(records).await?;
        self.settle().await?;
        let index = self.index_id();
        self.wait_for("the relay to confirm the records and the index", |r| {
            !r.is_pending(&index) && ids.iter().all(|id| !r.is_pending(id))
        })
        .await
    }

    /// Pumps messages until every document this session set out to sync is done.
    /// Unlike [`Device::sync`] it is O(1) per message, for datasets of 10,000 records.
    pub async fn settle(&mut self) -> anyhow::Result<()> {
        self.wait_for("every planned document", |r| {
            let p = r.progress();
            r.is_connected() && p.done >= p.total
        })
        .await
    }

    /// Fetches a document this device does not list (e.g. made by another app).
    pub async fn fetch(&mut self, id: DocumentId) -> anyhow::Result<()> {
        let out = self.repo.want(id);
        self.send(out).await?;
        self.wait_for("the requested document", |r| r.is_settled(&id))
            .await?;
        if self.replica().is_unavailable(&id) {
            bail!("the relay does not have {id}");
        }
        Ok(())
    }

    /// Fetches each document of `expected` from the relay and lists every expected
    /// change it lacks, as "document: change" (empty when nothing is lost). Fails when
    /// the relay does not have a document at all.
    pub async fn missing<'a, H>(
        &mut self,
        expected: impl IntoIterator<Item = (&'a DocumentId, &'a H)>,
    ) -> anyhow::Result<Vec<String>>
    where
        H: 'a,
        &'a H: IntoIterator<Item = &'a automerge::ChangeHash>,
    {
        let mut lost = Vec::new();
        for (id, heads) in expected {
            self.fetch(*id)
                .await
                .with_context(|| format!("{id} was acknowledged, but the relay lacks it"))?;
            let doc = self.replica().doc(id).context("fetched document")?;
            lost.extend(
                heads
                    .into_iter()
                    .filter(|h| doc.get_change_by_hash(h).is_none())
                    .map(|h| format!("{id}: {h}")),
            );
        }
        Ok(lost)
    }

    pub fn contact(&self, id: &DocumentId) -> anyhow::Result<Contact> {
        match self.repo.contact(id) {
            Loadable::Ready(contact) => Ok(contact),
            Loadable::NotHere => bail!("contact {id} not on this device"),
            Loadable::Damaged(reason) => bail!("contact {id} unreadable: {reason}"),
        }
    }

    pub fn index(&self) -> anyhow::Result<CaseloadDoc> {
        let doc = self.repo.index().ok_or_else(|| anyhow!("no index"))?;
        Ok(CaseloadDoc::from_automerge(doc.clone())?)
    }

    /// The worker's editor at the next moment of the test clock (for building records
    /// outside the core, e.g. a synthetic caseload).
    pub fn editor(&mut self) -> Editor {
        let now = self.tick();
        self.repo.editor(now)
    }

    /// Each action happens a moment after the previous one.
    fn tick(&mut self) -> i64 {
        self.now_ms += 1000;
        self.now_ms
    }
}
