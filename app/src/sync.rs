//! The sync client, the only module that touches the WebSocket. It connects to the
//! relay, feeds the relay's messages to the device core ([`Repo`]), hands every step
//! to the [`Outbox`] (on disk before anything is sent), reconnects on the browser's
//! `online` event and on a backoff timer, and reports one of four honest states.

mod relay_http;

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use gloo_timers::callback::Timeout;
use paktum_shared::device::{Repo, Step};
use paktum_shared::protocol::Message;
use paktum_shared::replica::{Progress, ReplicaError};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use crate::outbox::Outbox;
use crate::store::{Store, StoreError};
use crate::timing::phase;

pub use relay_http::{EnrolError, Enrolment, EraseError, enrol, erase, pact_teams, team_members};

/// Why syncing failed, for the status line (the screens word it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Failure {
    /// The relay never answered (wrong address, relay down, captive portal …).
    Unreachable { host: String },
    /// The relay answers but would not open a sync connection for this device (not
    /// enrolled, revoked, or too many connections).
    NotAccepted,
    /// An open connection broke.
    Lost,
    /// The relay speaks another protocol version.
    Version,
    /// The relay ended the session with an `error` message: its code (worded by the
    /// screens) and its English sentence (shown only when the code is absent or unknown).
    Refused {
        code: Option<paktum_shared::refusal::Code>,
        message: String,
    },
    /// The relay sent something this app cannot read.
    BadData,
    /// The relay address in the settings is not a WebSocket address.
    BadAddress,
}

/// What the sync status line shows. Never "up to date" while anything is pending.
#[derive(Clone, Debug, PartialEq)]
pub enum SyncStatus {
    Offline {
        pending: usize,
    },
    Syncing {
        done: usize,
        total: usize,
        pending: usize,
    },
    UpToDate {
        since_ms: f64,
    },
    Failed {
        failure: Failure,
        pending: usize,
    },
}

/// The connection's own state, separate from what the replica knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Conn {
    Closed,
    Connecting,
    Open,
}

/// Decides the status from the facts; pure so it can be tested.
pub fn describe(
    online: bool,
    conn: Conn,
    up_to_date: bool,
    progress: Progress,
    pending: usize,
    failure: Option<&Failure>,
    since_ms: Option<f64>,
) -> SyncStatus {
    if !online {
        return SyncStatus::Offline { pending };
    }
    let syncing = SyncStatus::Syncing {
        done: progress.done,
        total: progress.total,
        pending,
    };
    match (conn, failure) {
        (Conn::Open, _) if up_to_date => SyncStatus::UpToDate {
            since_ms: since_ms.unwrap_or(0.0),
        },
        (Conn::Open, _) => syncing,
        // While retrying after a failure, the failure is still the truth.
        (_, Some(failure)) => SyncStatus::Failed {
            failure: failure.clone(),
            pending,
        },
        (_, None) => syncing,
    }
}

/// Waiting time before reconnect attempt `attempt` (0-based): 1 s doubling to 1 min.
pub fn backoff_ms(attempt: u32) -> u32 {
    1000u32.saturating_mul(1 << attempt.min(6)).min(60_000)
}

struct Inner {
    repo: Rc<RefCell<Repo>>,
    relay: String,
    socket: RefCell<Option<WebSocket>>,
    /// The socket's handlers; replaced with each socket.
    handlers: RefCell<Vec<Box<dyn std::any::Any>>>,
    /// Events of older sockets are ignored.
    generation: Cell<u64>,
    conn: Cell<Conn>,
    attempt: Cell<u32>,
    retry: RefCell<Option<Timeout>>,
    failure: RefCell<Option<Failure>>,
    since: Cell<Option<f64>>,
    storage_error: RefCell<Option<StoreError>>,
    /// No connection until released.
    held: Cell<bool>,
    outbox: RefCell<Option<Outbox>>,
    notify: Rc<dyn Fn()>,
}

/// A cheap handle on the sync client.
#[derive(Clone)]
pub struct Sync(Rc<Inner>);

impl std::fmt::Debug for Sync {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sync")
            .field("conn", &self.0.conn.get())
            .finish()
    }
}

/// Where builds before 2026-12-03 saved a device's sync states: under the socket's URL,
/// token and all, which start-up never read (so every record looked unconfirmed after a
/// restart). Start-up reads them as a fallback.
pub fn legacy_states_key(identity: &paktum_shared::device::Identity) -> Option<String> {
    let url = relay_http::sync_url(&identity.relay_url, identity.device_token.as_deref());
    (url != identity.relay_url).then_some(url)
}

impl Sync {
    /// Starts the outbox but holds the connection until [`Sync::release`]: edits persist
    /// meanwhile (start-up shows the caseload before every record is loaded, and syncing
    /// must wait for them). `notify` runs after anything a screen might show has changed.
    pub fn start_held(repo: Rc<RefCell<Repo>>, store: Rc<Store>, notify: Rc<dyn Fn()>) -> Self {
        let (relay, states_key) = {
            let repo = repo.borrow();
            let identity = repo.identity();
            (
                relay_http::sync_url(&identity.relay_url, identity.device_token.as_deref()),
                identity.relay_url.clone(),
            )
        };
        let sync = Sync(Rc::new(Inner {
            repo,
            relay: relay.clone(),
            socket: RefCell::new(None),
            handlers: RefCell::new(Vec::new()),
            generation: Cell::new(0),
            conn: Cell::new(Conn::Closed),
            attempt: Cell::new(0),
            retry: RefCell::new(None),
            failure: RefCell::new(None),
            since: Cell::new(None),
            storage_error: RefCell::new(None),
            held: Cell::new(true),
            outbox: RefCell::new(None),
            notify,
        }));
        let this = sync.clone();
        // Sync states are kept per relay address, as start-up reads them: not under the
        // socket's URL, which carries the device token.
        let outbox = Outbox::start(store, states_key, move |result, sends| {
            *this.0.storage_error.borrow_mut() = result.as_ref().err().cloned();
            for (generation, messages) in sends {
                if generation == this.0.generation.get() {
                    this.send(&messages);
                }
            }
            this.changed();
        });
        *sync.0.outbox.borrow_mut() = Some(outbox);
        sync.watch_network();
        sync
    }

    /// Starts the outbox and the first connection.
    pub fn start(repo: Rc<RefCell<Repo>>, store: Rc<Store>, notify: Rc<dyn Fn()>) -> Self {
        let sync = Self::start_held(repo, store, notify);
        sync.release();
        sync
    }

    /// Lets a held client connect (and reconnect from then on).
    pub fn release(&self) {
        self.0.held.set(false);
        self.connect();
    }

    pub fn repo(&self) -> &Rc<RefCell<Repo>> {
        &self.0.repo
    }

    /// Persists a local edit's step, then sends it; the future resolves once it is on
    /// disk. The step is queued at once, before the caller awaits: redrawing the
    /// screens must not delay the write.
    pub fn commit(&self, step: Step) -> impl Future<Output = Result<(), StoreError>> + use<> {
        let written = self.written(step);
        self.changed();
        written
    }

    /// Persists a step no screen shows (housekeeping); resolves once it is on disk.
    pub fn written(&self, step: Step) -> impl Future<Output = Result<(), StoreError>> + use<> {
        // Queued now, not when the caller first polls.
        let written = self
            .0
            .outbox
            .borrow()
            .as_ref()
            .map(|outbox| outbox.write(step, self.0.generation.get()));
        async move {
            match written {
                Some(written) => written.await,
                None => Err(StoreError::Write),
            }
        }
    }

    /// Something a screen shows changed without a step (a search read records): a
    /// redraw, and the idle housekeeping after it (the snapshot keeps what was read).
    pub fn notify(&self) {
        (self.0.notify)();
    }

    /// Start-up housekeeping and other writes nobody waits for.
    pub fn persist(&self, step: Step) {
        if let Some(outbox) = self.0.outbox.borrow().as_ref() {
            outbox.queue(step, self.0.generation.get(), None);
        }
    }

    pub fn status(&self) -> SyncStatus {
        let repo = self.0.repo.borrow();
        describe(
            is_online(),
            self.0.conn.get(),
            repo.is_up_to_date(),
            repo.progress(),
            repo.pending_count(),
            self.0.failure.borrow().as_ref(),
            self.0.since.get(),
        )
    }

    pub fn storage_error(&self) -> Option<StoreError> {
        *self.0.storage_error.borrow()
    }

    /// "Sync now": a fresh connection right away, whatever the backoff said.
    pub fn sync_now(&self) {
        self.0.attempt.set(0);
        self.drop_socket();
        self.connect();
    }

    /// Stops syncing for good ("reset this device", a new relay address): closes the
    /// connection and never reconnects; resolves once every queued write is on disk.
    pub async fn stop(&self) -> Result<(), StoreError> {
        self.0.held.set(true);
        self.drop_socket();
        self.written(Step::default()).await
    }

    fn changed(&self) {
        let up = self.0.conn.get() == Conn::Open && self.0.repo.borrow().is_up_to_date();
        match (up, self.0.since.get()) {
            (true, None) => self.0.since.set(Some(js_sys::Date::now())),
            (false, Some(_)) => self.0.since.set(None),
            _ => {}
        }
        (self.0.notify)();
    }

    fn connect(&self) {
        if self.0.conn.get() != Conn::Closed || self.0.held.get() {
            return;
        }
        self.0.retry.borrow_mut().take();
        if !is_online() {
            self.changed();
            return;
        }
        let socket = match WebSocket::new(&self.0.relay) {
            Ok(socket) => socket,
            Err(_) => {
                *self.0.failure.borrow_mut() = Some(Failure::BadAddress);
                self.changed();
                return;
            }
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        let generation = self.0.generation.get() + 1;
        self.0.generation.set(generation);
        self.0.conn.set(Conn::Connecting);
        let opened = Rc::new(Cell::new(false));

        let this = self.clone();
        let was_opened = opened.clone();
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if this.0.generation.get() != generation {
                return;
            }
            was_opened.set(true);
            this.0.conn.set(Conn::Open);
            let join = this.0.repo.borrow_mut().connect();
            this.send(&[join]);
            this.changed();
        });
        let this = self.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
            if this.0.generation.get() != generation {
                return;
            }
            let Ok(buffer) = ev.data().dyn_into::<js_sys::ArrayBuffer>() else {
                return;
            };
            let bytes = js_sys::Uint8Array::new(&buffer).to_vec();
            this.on_frame(&bytes);
        });
        let this = self.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |_ev: CloseEvent| {
            if this.0.generation.get() != generation {
                return;
            }
            this.0.socket.borrow_mut().take();
            this.0.conn.set(Conn::Closed);
            this.0.repo.borrow_mut().disconnect();
            if is_online() {
                if this.0.failure.borrow().is_none() {
                    let failure = if opened.get() {
                        Failure::Lost
                    } else {
                        this.probe(generation);
                        Failure::Unreachable {
                            host: host_of(&this.0.relay),
                        }
                    };
                    *this.0.failure.borrow_mut() = Some(failure);
                }
                this.schedule_retry();
            }
            this.changed();
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.0.handlers.borrow_mut() =
            vec![Box::new(on_open), Box::new(on_message), Box::new(on_close)];
        *self.0.socket.borrow_mut() = Some(socket);
        self.changed();
    }

    /// A socket that never opened: a relay that answers HTTP refused this device
    /// (browsers hide the HTTP status of a refused WebSocket upgrade).
    fn probe(&self, generation: u64) {
        let this = self.clone();
        wasm_bindgen_futures::spawn_local(async move {
            let up = relay_http::is_up(&this.0.relay).await;
            let unreachable = matches!(*this.0.failure.borrow(), Some(Failure::Unreachable { .. }));
            if up
                && unreachable
                && this.0.generation.get() == generation
                && this.0.conn.get() == Conn::Closed
            {
                *this.0.failure.borrow_mut() = Some(Failure::NotAccepted);
                this.changed();
            }
        });
    }

    fn on_frame(&self, bytes: &[u8]) {
        let result = match phase::time(phase::DECODE, || Message::decode(bytes)) {
            Ok(msg) => {
                let is_peer = matches!(msg, Message::Peer { .. });
                let step = phase::time(phase::CORE, || {
                    self.0
                        .repo
                        .borrow_mut()
                        .receive(msg, js_sys::Date::now() as i64)
                });
                if is_peer && step.is_ok() {
                    self.0.attempt.set(0);
                    self.0.failure.borrow_mut().take();
                }
                step.map_err(|e| match e {
                    ReplicaError::Version(_) => Failure::Version,
                    ReplicaError::Remote { message, code } => Failure::Refused { code, message },
                    ReplicaError::NotConnected | ReplicaError::BadSync(..) => Failure::BadData,
                })
            }
            Err(_) => Err(Failure::BadData),
        };
        match result {
            Ok(step) => {
                phase::time(phase::QUEUE, || self.persist(step));
                if self.withdrawn().is_some() {
                    // The relay wiped this device: it never connects again; the
                    // controller erases the store (`field/wipe.rs`).
                    self.0.held.set(true);
                    self.drop_socket();
                }
                phase::time(phase::NOTIFY, || self.changed());
            }
            Err(failure) => {
                *self.0.failure.borrow_mut() = Some(failure);
                // Closing leads to on_close, which schedules the retry.
                if let Some(socket) = self.0.socket.borrow().as_ref() {
                    let _ = socket.close();
                }
            }
        }
    }

    fn send(&self, messages: &[Message]) {
        if messages.is_empty() {
            return;
        }
        let socket = self.0.socket.borrow();
        let Some(socket) = socket
            .as_ref()
            .filter(|s| s.ready_state() == WebSocket::OPEN)
        else {
            return;
        };
        for msg in messages {
            // A failed send means the socket is closing; on_close takes it from there.
            if socket.send_with_u8_array(&msg.encode()).is_err() {
                return;
            }
        }
    }

    /// Set once the relay withdrew and wiped this device (after it handed in what
    /// the relay had not confirmed).
    pub fn withdrawn(&self) -> Option<paktum_shared::replica::Withdrawal> {
        // Asked on every redraw notice, which may come while an edit holds the core.
        self.0
            .repo
            .try_borrow()
            .ok()?
            .replica()
            .withdrawn()
            .cloned()
    }

    /// Closes the current socket without reporting a failure.
    fn drop_socket(&self) {
        self.0.generation.set(self.0.generation.get() + 1);
        if let Some(socket) = self.0.socket.borrow_mut().take() {
            // Detach first: the handlers are dropped below and the socket may still fire.
            socket.set_onopen(None);
            socket.set_onmessage(None);
            socket.set_onclose(None);
            let _ = socket.close();
        }
        self.0.handlers.borrow_mut().clear();
        if self.0.conn.get() != Conn::Closed {
            self.0.conn.set(Conn::Closed);
            self.0.repo.borrow_mut().disconnect();
        }
        self.0.failure.borrow_mut().take();
        self.0.retry.borrow_mut().take();
    }

    fn schedule_retry(&self) {
        let attempt = self.0.attempt.get();
        self.0.attempt.set(attempt + 1);
        let this = self.clone();
        let timer = Timeout::new(backoff_ms(attempt), move || this.connect());
        *self.0.retry.borrow_mut() = Some(timer);
    }

    fn watch_network(&self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let this = self.clone();
        let online = Closure::<dyn FnMut()>::new(move || {
            this.0.attempt.set(0);
            this.connect();
        });
        let this = self.clone();
        // The browser says the network is gone: stop pretending the socket works.
        let offline = Closure::<dyn FnMut()>::new(move || {
            this.drop_socket();
            this.changed();
        });
        let _ = window.add_event_listener_with_callback("online", online.as_ref().unchecked_ref());
        let _ =
            window.add_event_listener_with_callback("offline", offline.as_ref().unchecked_ref());
        // Page-long listeners: they live as long as the app.
        online.forget();
        offline.forget();
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

pub fn is_online() -> bool {
    web_sys::window()
        .map(|w| w.navigator().on_line())
        .unwrap_or(true)
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map(|(_, r)| r).unwrap_or(url);
    rest.split(['/', '?']).next().unwrap_or(rest).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    const NONE: Progress = Progress { done: 0, total: 0 };

    #[wasm_bindgen_test]
    fn offline_wins_over_everything() {
        let status = describe(false, Conn::Open, true, NONE, 0, None, Some(1.0));
        assert_eq!(status, SyncStatus::Offline { pending: 0 });
    }

    #[wasm_bindgen_test]
    fn never_up_to_date_while_something_is_pending() {
        let progress = Progress {
            done: 1240,
            total: 5000,
        };
        assert_eq!(
            describe(true, Conn::Open, false, progress, 3, None, None),
            SyncStatus::Syncing {
                done: 1240,
                total: 5000,
                pending: 3
            }
        );
        assert_eq!(
            describe(true, Conn::Open, true, NONE, 0, None, Some(5.0)),
            SyncStatus::UpToDate { since_ms: 5.0 }
        );
    }

    #[wasm_bindgen_test]
    fn a_closed_connection_with_a_reason_is_a_failure() {
        let failure = Failure::Unreachable {
            host: "relay:8080".into(),
        };
        assert_eq!(
            describe(true, Conn::Closed, false, NONE, 2, Some(&failure), None),
            SyncStatus::Failed {
                failure,
                pending: 2
            }
        );
        assert!(matches!(
            describe(true, Conn::Connecting, false, NONE, 0, None, None),
            SyncStatus::Syncing { .. }
        ));
    }

    #[wasm_bindgen_test]
    fn backoff_doubles_up_to_a_minute() {
        assert_eq!(backoff_ms(0), 1000);
        assert_eq!(backoff_ms(1), 2000);
        assert_eq!(backoff_ms(5), 32_000);
        assert_eq!(backoff_ms(6), 60_000);
        assert_eq!(backoff_ms(40), 60_000);
        assert_eq!(host_of("ws://127.0.0.1:8080/sync"), "127.0.0.1:8080");
    }

    /// Start-up reads sync states by the relay's address; they were once written under
    /// the socket's URL (with the token), so an enrolled device lost them every time.
    #[wasm_bindgen_test]
    async fn sync_states_are_kept_under_the_relay_address_not_the_token_url() {
        use paktum_shared::device::{Batch, Identity, Loaded};
        let name = "test-sync-states-key";
        let _ = Store::delete(name).await;
        let store = Rc::new(Store::open(name).await.expect("opens"));
        let mut device = Identity::new("Anna", "kempen", "ws://127.0.0.1:9/sync");
        device.device_token = Some("a-device-token".into());
        let relay_url = device.relay_url.clone();
        let (repo, _) = Repo::new(device.clone(), Loaded::default(), vec![]);
        let sync = Sync::start(Rc::new(RefCell::new(repo)), store.clone(), Rc::new(|| {}));
        let id = paktum_shared::DocumentId::random();
        let step = Step {
            batch: Batch {
                states: vec![(id, vec![0x42, 0])],
                ..Batch::default()
            },
            ..Step::default()
        };
        sync.commit(step).await.expect("on disk");
        let states = store.sync_states(&relay_url).await.expect("reads");
        assert_eq!(states, vec![(id, vec![0x42, 0])]);
        // What an older build left under the token's URL is still read at start-up.
        let legacy = legacy_states_key(&device).expect("a token gives another key");
        assert!(legacy.contains("token="));
        assert_eq!(
            legacy_states_key(&Identity::new("Anna", "kempen", &relay_url)),
            None
        );
    }

    #[wasm_bindgen_test]
    async fn an_unreachable_relay_is_reported_and_edits_still_persist() {
        use futures_util::StreamExt;
        use paktum_shared::device::{Identity, Loaded};
        let name = "test-sync-unreachable";
        let _ = Store::delete(name).await;
        let store = Rc::new(Store::open(name).await.expect("opens"));
        // Port 9 (discard) is closed on the test machine: the connection is refused.
        let device = Identity::new("Anna", "kempen", "ws://127.0.0.1:9/sync");
        let (repo, start) = Repo::new(device, Loaded::default(), vec![]);
        let repo = Rc::new(RefCell::new(repo));
        let (tx, mut rx) = futures_channel::mpsc::unbounded::<()>();
        let sync = Sync::start(
            repo.clone(),
            store.clone(),
            Rc::new(move || {
                let _ = tx.unbounded_send(());
            }),
        );
        sync.persist(start);
        let new = paktum_shared::contact::NewContact {
            team: "kempen".into(),
            display_name: "Lotte".into(),
            first_contact_on: "2026-11-20".parse().expect("day"),
            channel: paktum_shared::contact::Channel::Street,
            place: None,
            assigned_worker: None,
        };
        let (id, step) = repo.borrow_mut().create_contact(new, 0).expect("created");
        sync.commit(step).await.expect("on disk");
        while !matches!(sync.status(), SyncStatus::Failed { .. }) {
            rx.next().await.expect("notified");
        }
        let SyncStatus::Failed { failure, pending } = sync.status() else {
            unreachable!()
        };
        assert_eq!(
            failure,
            Failure::Unreachable {
                host: "127.0.0.1:9".into()
            }
        );
        assert_eq!(pending, 1, "the contact waits for the relay");
        let loaded = store.load().await.expect("loads");
        assert!(loaded.docs.iter().any(|d| d.id == id));
    }
}
