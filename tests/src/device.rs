//! A simulated field device: a `Replica` plus an editor, connected to the relay by a
//! real WebSocket. Tests drive it the way the app does: edit records, update the
//! caseload index, sync, and wait for an observable condition (never for a time).

use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use automerge::ActorId;
use futures_util::{SinkExt, StreamExt};
use paktum_shared::caseload::{CaseloadDoc, Summary};
use paktum_shared::contact::{Contact, ContactDoc, NewContact};
use paktum_shared::protocol::Message;
use paktum_shared::record::RecordDoc;
use paktum_shared::replica::Replica;
use paktum_shared::{DocumentId, Editor, ModelError};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message as WsMessage;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How long a test waits for a condition before failing with what it waited for.
const WAIT: Duration = Duration::from_secs(30);

/// Bytes and messages a device exchanged (for reconnect-cost assertions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Traffic {
    pub sent_messages: usize,
    pub sent_bytes: usize,
    pub received_messages: usize,
    pub received_bytes: usize,
}

#[derive(Debug)]
pub struct Device {
    pub replica: Replica,
    pub editor: Editor,
    pub team: String,
    pub traffic: Traffic,
    /// How long `wait_for` waits in total (the load generator raises it for big uploads).
    pub wait: Duration,
    /// Whether to re-write index rows for records that arrive by sync, as the app does.
    /// The load generator turns it off to measure the relay, not this client.
    pub reconcile: bool,
    url: String,
    ws: Option<Ws>,
}

impl Device {
    pub fn new(worker: &str, team: &str, url: &str) -> anyhow::Result<Self> {
        let storage_id = format!("store-{}", DocumentId::random());
        let mut replica = Replica::new(format!("peer-{}", DocumentId::random()), Some(storage_id));
        let index = CaseloadDoc::new(team)?;
        replica.follow_index(index.id());
        replica.insert(index.id(), index.doc().clone(), None);
        Ok(Self {
            replica,
            editor: Editor::new(ActorId::random(), worker, 1_795_521_600_000),
            team: team.into(),
            traffic: Traffic::default(),
            wait: WAIT,
            reconcile: true,
            url: url.into(),
            ws: None,
        })
    }

    pub fn index_id(&self) -> DocumentId {
        CaseloadDoc::id_for_team(&self.team)
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
        let join = self.replica.connect();
        self.send(vec![join]).await?;
        self.wait_for("handshake", |r| r.is_connected()).await
    }

    /// Drops the connection, as when a phone loses signal.
    pub fn go_offline(&mut self) {
        self.ws = None;
        self.replica.disconnect();
    }

    /// Points the device at another relay address (e.g. a restarted relay's new port).
    pub fn set_url(&mut self, url: &str) {
        self.url = url.into();
    }

    /// For every document, the heads the relay has confirmed holding: what the relay
    /// acknowledged and so must never lose.
    pub fn acknowledged(&self) -> Vec<(DocumentId, Vec<automerge::ChangeHash>)> {
        self.replica
            .doc_ids()
            .map(|id| (*id, self.replica.confirmed_heads(id)))
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
        while !done(&self.replica) {
            let ws = self
                .ws
                .as_mut()
                .ok_or_else(|| anyhow!("offline while waiting for {what}"))?;
            let Ok(frame) = tokio::time::timeout_at(deadline, ws.next()).await else {
                // Described only now: describing is O(documents), too slow per message.
                bail!("timed out waiting for {what}: {}", self.replica.describe());
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
            let msg = Message::decode(&bytes).context("relay sent a malformed message")?;
            let replies = self.replica.receive(msg)?;
            self.send(replies).await?;
            if self.reconcile {
                self.reconcile_index().await?;
            }
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

    /// After records arrive by sync, make the index summary agree with them (as the app does).
    async fn reconcile_index(&mut self) -> anyhow::Result<()> {
        let index_id = self.index_id();
        let mut rows = Vec::new();
        for id in self.replica.take_changed() {
            if id == index_id {
                continue;
            }
            let Some(doc) = self.replica.doc(&id) else {
                continue;
            };
            if let Ok(record) = RecordDoc::from_automerge(id, doc.clone())
                && let Ok(summary) = Summary::of(&record)
            {
                rows.push((id, summary, None));
            }
        }
        if !rows.is_empty() {
            let out = self.update_index(&rows)?;
            self.send(out).await?;
        }
        Ok(())
    }

    /// Lists records in the local index; returns the messages that announce it.
    fn update_index(
        &mut self,
        rows: &[(DocumentId, Summary, Option<Vec<automerge::ChangeHash>>)],
    ) -> anyhow::Result<Vec<Message>> {
        let index_id = self.index_id();
        let doc = self
            .replica
            .take(&index_id)
            .ok_or_else(|| anyhow!("no index"))?;
        let mut index = CaseloadDoc::from_automerge(doc)?;
        let result = index.upsert(&self.editor, rows);
        let out = self.replica.put_back(index_id, index.doc().clone());
        result?;
        Ok(out)
    }

    /// Creates a contact and lists it in the team's index.
    pub async fn create_contact(&mut self, new: NewContact) -> anyhow::Result<DocumentId> {
        self.tick();
        let contact = ContactDoc::create(&self.editor, new)?;
        let id = contact.record().id();
        self.commit(id, contact.into_record()).await?;
        Ok(id)
    }

    /// Applies an edit to a contact, as one user action.
    pub async fn edit_contact<T>(
        &mut self,
        id: DocumentId,
        edit: impl FnOnce(&mut ContactDoc, &Editor) -> Result<T, ModelError>,
    ) -> anyhow::Result<T> {
        self.tick();
        let doc = self
            .replica
            .take(&id)
            .ok_or_else(|| anyhow!("no such contact"))?;
        let mut contact =
            match RecordDoc::from_automerge(id, doc.clone()).and_then(ContactDoc::from_record) {
                Ok(c) => c,
                Err(e) => {
                    self.replica.put_back(id, doc);
                    return Err(e.into());
                }
            };
        let result = edit(&mut contact, &self.editor);
        self.commit(id, contact.into_record()).await?;
        Ok(result?)
    }

    /// Saves a record and its index row locally first (as the app does), then sends:
    /// losing the connection mid-send never leaves a record off the local index.
    async fn commit(&mut self, id: DocumentId, record: RecordDoc) -> anyhow::Result<()> {
        let summary = Summary::of(&record)?;
        let heads = record.heads();
        let mut out = self.replica.put_back(id, record.into_doc());
        out.extend(self.update_index(&[(id, summary, Some(heads))])?);
        self.send(out).await
    }

    /// Uploads many new records at once, as an import does: the replica keeps a window
    /// of them in flight, and the index gets all their rows in one change.
    pub async fn upload(&mut self, records: Vec<RecordDoc>) -> anyhow::Result<()> {
        let mut rows = Vec::with_capacity(records.len());
        for record in records {
            let id = record.id();
            rows.push((id, Summary::of(&record)?, Some(record.heads())));
            let out = self.replica.put_back(id, record.into_doc());
            self.send(out).await?;
        }
        self.tick();
        let out = self.update_index(&rows)?;
        self.send(out).await?;
        self.settle().await?;
        let index = self.index_id();
        self.wait_for("the relay to confirm the index", |r| !r.is_pending(&index))
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

    /// Gives back a locally edited document without touching the index, and sends the
    /// edit (for round-trip measurements).
    pub async fn put_back(
        &mut self,
        id: DocumentId,
        doc: automerge::Automerge,
    ) -> anyhow::Result<()> {
        let out = self.replica.put_back(id, doc);
        self.send(out).await
    }

    /// Fetches a document this device does not list (e.g. made by another app).
    pub async fn fetch(&mut self, id: DocumentId) -> anyhow::Result<()> {
        let out = self.replica.want(id);
        self.send(out).await?;
        self.wait_for("the requested document", |r| r.is_settled(&id))
            .await?;
        if self.replica.is_unavailable(&id) {
            bail!("the relay does not have {id}");
        }
        Ok(())
    }

    pub fn contact(&self, id: &DocumentId) -> anyhow::Result<Contact> {
        let doc = self
            .replica
            .doc(id)
            .ok_or_else(|| anyhow!("contact {id} not on this device"))?;
        Ok(ContactDoc::from_record(RecordDoc::from_automerge(*id, doc.clone())?)?.read()?)
    }

    pub fn index(&self) -> anyhow::Result<CaseloadDoc> {
        let doc = self
            .replica
            .doc(&self.index_id())
            .ok_or_else(|| anyhow!("no index"))?;
        Ok(CaseloadDoc::from_automerge(doc.clone())?)
    }

    /// Each action happens a moment after the previous one.
    fn tick(&mut self) {
        self.editor.now_ms += 1000;
    }
}
