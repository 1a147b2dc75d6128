//! The app controller: the one piece of app-wide state, provided as context. It opens
//! the device's data in steps at start-up, runs every edit through the device core,
//! the outbox and the relay, redraws the screens after changes and does the idle-time
//! housekeeping. Screens live in `ui`; this holds no views.

use std::cell::RefCell;
use std::rc::Rc;

use futures_channel::oneshot;
use leptos::prelude::*;
use leptos::task::spawn_local;
use leptos_i18n::I18nContext;
use paktum_shared::ModelError;
use paktum_shared::device::{Identity, Loaded, Repo, Step};
use paktum_shared::enrol::PactSettings;
use wasm_bindgen::JsCast;

use crate::i18n::*;
use crate::store::{DATABASE, Store, StoreError};
use crate::sync::{EnrolError, Sync, SyncStatus};
use crate::timing;

mod lock;
mod wipe;

pub use lock::UnlockProblem;

/// Where start-up stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    Loading,
    Setup,
    Ready,
    Failed,
    /// A PIN is set and not entered: the lock screen, nothing of a record in memory.
    Locked,
    /// The pact withdrew this device and the relay had it wiped: everything local is
    /// erased, and the screen says why.
    Withdrawn,
}

/// User Timing names: every edit is measured from the action to its commit in
/// IndexedDB (`performance.getEntriesByName("paktum:edit")`), for DevTools and the
/// browser benchmark (tests/bench/browser.mjs).
const EDIT_START: &str = "paktum:edit-start";
const EDIT_MEASURE: &str = "paktum:edit";
/// The device core's part of an edit (the Automerge change, index row, sync messages).
const EDIT_CORE_MEASURE: &str = "paktum:edit-core";
/// Start-up: from opening the store until the caseload index is on screen, and until
/// every record is loaded (then syncing starts).
const START_MARK: &str = "paktum:start";
const INDEX_MEASURE: &str = "paktum:index-loaded";
const RECORDS_MEASURE: &str = "paktum:records-loaded";
/// Start-up from the index snapshot: until the index document is loaded too.
const INDEX_DOC_MEASURE: &str = "paktum:index-doc-loaded";
/// Quiet time after the last change before compacting and storing the index snapshot.
const TIDY_AFTER_MS: u32 = 2_000;
/// Marked when that housekeeping is on disk (the browser benchmark waits for it, as a
/// worker who keeps the app open a moment would).
const TIDIED_MARK: &str = "paktum:tidied";

/// Resolves after the browser has painted the next frame.
async fn next_frame() {
    let (tx, rx) = oneshot::channel::<()>();
    let tx = RefCell::new(Some(tx));
    let painted = wasm_bindgen::closure::Closure::once(move || {
        if let Some(tx) = tx.borrow_mut().take() {
            let _ = tx.send(());
        }
    });
    let asked = web_sys::window()
        .map(|w| {
            w.request_animation_frame(painted.as_ref().unchecked_ref())
                .is_ok()
        })
        .unwrap_or(false);
    if asked {
        let _ = rx.await;
    }
    // The frame callback runs before painting; a zero timer runs after it.
    gloo_timers::future::TimeoutFuture::new(0).await;
}

/// App-wide state, provided once as context. Documents stay outside the reactive
/// graph: screens read the repo inside closures that track `revision`.
#[derive(Clone, Copy)]
pub struct Field {
    sync: StoredValue<Option<Sync>, LocalStorage>,
    store: StoredValue<Option<Rc<Store>>, LocalStorage>,
    /// Bumped (at most every 100 ms) after anything a screen shows has changed.
    revision: RwSignal<u64>,
    /// The sync status as of `revision`, worked out once for every reader.
    status: Memo<Option<SyncStatus>>,
    phase: RwSignal<Phase>,
    /// Why start-up failed, in words.
    problem: RwSignal<Option<String>>,
    /// Edits made while the lists show from the index snapshot, waiting for the index.
    waiting: StoredValue<Vec<oneshot::Sender<()>>, LocalStorage>,
    /// The team's members by name, as the relay last listed them (kept on the device;
    /// empty in development mode, where the relay has no directory).
    members: RwSignal<Vec<String>>,
    /// The pact's settings, as the relay last named them (kept with the identity).
    pact_settings: RwSignal<PactSettings>,
    /// Records whose fields a search has yet to read (`None`: not asked yet), and
    /// whether that reading runs.
    search_left: RwSignal<Option<usize>>,
    searching: StoredValue<bool>,
    lock: lock::LockState,
    /// Why the relay wiped this device, once it has.
    withdrawal: RwSignal<Option<wipe::Withdrawn>>,
    i18n: I18nContext<Locale>,
}

impl Field {
    /// A controller with nothing open yet; [`Field::open`] starts it.
    pub fn new(i18n: I18nContext<Locale>) -> Self {
        let sync = StoredValue::new_local(None::<Sync>);
        let revision = RwSignal::new(0);
        let status = Memo::new(move |_| {
            revision.track();
            sync.with_value(|s| s.as_ref().map(Sync::status))
        });
        Self {
            sync,
            store: StoredValue::new_local(None),
            revision,
            status,
            phase: RwSignal::new(Phase::Loading),
            problem: RwSignal::new(None),
            waiting: StoredValue::new_local(Vec::new()),
            members: RwSignal::new(Vec::new()),
            pact_settings: RwSignal::new(PactSettings::default()),
            search_left: RwSignal::new(None),
            searching: StoredValue::new(false),
            lock: lock::LockState::new(),
            withdrawal: RwSignal::new(None),
            i18n,
        }
    }

    /// Opens the store: the device's data when it is set up, else the setup screen.
    pub fn open(self) {
        spawn_local(async move {
            let store = match Store::open(DATABASE).await {
                Ok(store) => Rc::new(store),
                Err(e) => return self.fail(&e),
            };
            self.store.set_value(Some(store.clone()));
            self.lock.opened(
                store.has_pin(),
                store.failures(),
                store.failed_at(),
                store.is_wiped(),
            );
            self.watch_activity();
            if store.is_locked() {
                return self.phase.set(Phase::Locked);
            }
            match store.identity().await {
                Ok(Some(identity)) => self.begin(store, identity).await,
                Ok(None) if self.withdrawn_before() => self.phase.set(Phase::Withdrawn),
                Ok(None) => self.phase.set(Phase::Setup),
                Err(e) => self.fail(&e),
            }
        });
    }

    pub fn phase(&self) -> Phase {
        self.phase.get()
    }

    /// Why start-up failed, in words.
    pub fn problem(&self) -> Option<String> {
        self.problem.get()
    }

    /// Reads the device core and re-runs when it changes.
    pub fn read<T: Default>(&self, f: impl FnOnce(&Repo) -> T) -> T {
        self.revision.track();
        self.sync
            .with_value(|s| s.as_ref().map(|s| f(&s.repo().borrow())))
            .unwrap_or_default()
    }

    pub fn status(&self) -> Option<SyncStatus> {
        self.status.get()
    }

    pub fn storage_error(&self) -> Option<String> {
        self.revision.track();
        let err = self
            .sync
            .with_value(|s| s.as_ref().and_then(Sync::storage_error));
        err.map(|e| store_error_text(self.i18n, &e))
    }

    pub fn sync_now(&self) {
        self.sync.with_value(|s| {
            if let Some(s) = s {
                s.sync_now();
            }
        });
    }

    /// Applies a change to the repo, then waits until it is on disk. The error is
    /// worded when shown (`ui::problem_view`).
    pub async fn edit<T>(
        &self,
        op: impl FnOnce(&mut Repo, i64) -> Result<(T, Step), ModelError>,
    ) -> Result<T, Problem> {
        let Some(sync) = self.sync.get_value() else {
            return Err(Problem::Store(StoreError::Unavailable));
        };
        timing::mark(EDIT_START);
        // Shown from the index snapshot, the index document itself still loading: an
        // edit writes index rows, so it waits (a second at most).
        while !sync.repo().borrow().is_index_open() {
            let (tx, rx) = oneshot::channel();
            self.waiting.update_value(|w| w.push(tx));
            if rx.await.is_err() {
                return Err(Problem::Store(StoreError::Read));
            }
        }
        let (out, step) = {
            let mut repo = sync.repo().borrow_mut();
            op(&mut repo, js_sys::Date::now() as i64).map_err(Problem::Model)?
        };
        timing::measure(EDIT_CORE_MEASURE, EDIT_START);
        // Write first, redraw after: re-reading a record with many notes takes longer
        // than the write, and a change is only safe once it is on disk.
        let on_disk = sync.commit(step).await;
        if on_disk.is_ok() {
            timing::measure(EDIT_MEASURE, EDIT_START);
        }
        self.revision.update(|r| *r += 1);
        on_disk.map_err(Problem::Store)?;
        self.list_unsynced();
        Ok(out)
    }

    /// Sets the device up (first start) and starts working. With a PIN, the store is
    /// encrypted before the first value is written.
    pub async fn set_up(&self, device: Identity, pin: Option<String>) -> Result<(), Problem> {
        let Some(store) = self.store.get_value() else {
            return Err(Problem::Store(StoreError::Unavailable));
        };
        if let Some(pin) = pin {
            self.set_pin(&pin).await?;
        }
        store.save_identity(&device).await.map_err(Problem::Store)?;
        self.begin(store, device).await;
        Ok(())
    }

    /// Reads, off the keystroke path, the fields a search looks in (full name, phone,
    /// municipality) of every record not read yet: 40 ms slices with a turn for the
    /// browser between them, the lists redrawn every half second meanwhile so matches
    /// appear as they are found. Returns at once; [`Field::search_left`] says how far.
    pub fn prepare_search(&self) {
        if self.searching.get_value() {
            return;
        }
        let Some(sync) = self.sync.get_value() else {
            return;
        };
        self.searching.set_value(true);
        let (this, revision) = (*self, self.revision);
        spawn_local(async move {
            let mut shown = crate::timing::now();
            let mut unshown = 0;
            let mut read_any = false;
            loop {
                let started = crate::timing::now();
                let mut left = 0;
                while crate::timing::now() - started < 40.0 {
                    let (read, still) = sync.repo().borrow().read_for_search(8);
                    unshown += read;
                    read_any |= read > 0;
                    left = still;
                    if left == 0 {
                        break;
                    }
                }
                if this.search_left.get_untracked() != Some(left) {
                    this.search_left.set(Some(left));
                }
                // Redraw only for what was read: a redraw asks again, and must find
                // nothing to do then.
                if unshown > 0 && (left == 0 || crate::timing::now() - shown > 500.0) {
                    shown = crate::timing::now();
                    unshown = 0;
                    revision.update(|r| *r += 1);
                }
                if left == 0 {
                    // Kept in the snapshot at the next quiet moment: a reload need not
                    // read them again.
                    if read_any {
                        sync.notify();
                    }
                    break;
                }
                gloo_timers::future::TimeoutFuture::new(0).await;
            }
            this.searching.set_value(false);
        });
    }

    /// How many records a search has yet to read the fields of (0 when all are read).
    pub fn search_left(&self) -> usize {
        self.search_left.get().unwrap_or(0)
    }

    /// The team's members by name (sorted as the relay sends them).
    pub fn members(&self) -> Vec<String> {
        self.members.get()
    }

    /// Asks the relay for the team's members (enrolled devices only) and keeps the
    /// list on the device; without an answer the kept list stays.
    pub fn refresh_members(&self) {
        let (Some(store), Some(identity)) = (self.store.get_value(), self.identity()) else {
            return;
        };
        let Some(token) = identity.device_token.filter(|t| !t.is_empty()) else {
            return;
        };
        let members = self.members;
        spawn_local(async move {
            if let Some(list) = crate::sync::team_members(&identity.relay_url, &token).await {
                // Not kept means asking again next start; the list on screen is new.
                let _ = store.save_members(&list).await;
                members.set(list.members.into_iter().map(|m| m.name).collect());
            }
        });
    }

    /// The pact's settings in force on this device (the defaults until the relay named
    /// any).
    pub fn pact_settings(&self) -> PactSettings {
        self.pact_settings.get()
    }

    /// Asks the relay for the pact's settings (they may have changed since enrolment)
    /// and keeps them with the identity; without an answer the kept ones stay.
    fn refresh_pact(&self, store: Rc<Store>, mut identity: Identity) {
        let Some(token) = identity.device_token.clone().filter(|t| !t.is_empty()) else {
            return;
        };
        let kept = self.pact_settings;
        spawn_local(async move {
            let Some(teams) = crate::sync::pact_teams(&identity.relay_url, &token).await else {
                return;
            };
            let settings = teams.settings.unwrap_or_default().sane();
            let own = teams.own_caseload_only;
            if settings == identity.pact_settings && own == identity.own_caseload_only {
                return;
            }
            identity.pact_settings = settings;
            // The index this device follows changes with it at the next start.
            identity.own_caseload_only = own;
            // Not kept means asking again next start; the settings apply now.
            let _ = store.save_identity(&identity).await;
            lock::follow(&settings);
            kept.set(settings);
        });
    }

    fn identity(&self) -> Option<Identity> {
        self.sync
            .with_value(|s| s.as_ref().map(|s| s.repo().borrow().identity().clone()))
    }

    /// Points this device at another relay: the identity keeps everything but the
    /// address, the records stay, and the app starts again (syncing with the new relay
    /// from its first message: sync states are kept per relay, so every record is
    /// offered to it).
    pub async fn change_relay(&self, typed: &str) -> Result<(), Problem> {
        let Some(url) = paktum_shared::device::normalise_relay_url(typed) else {
            return Err(Problem::Form(|i| {
                t_string!(i, failure_bad_address).to_string()
            }));
        };
        let (Some(store), Some(sync), Some(mut identity)) = (
            self.store.get_value(),
            self.sync.get_value(),
            self.identity(),
        ) else {
            return Err(Problem::Store(StoreError::Unavailable));
        };
        if identity.relay_url == url {
            return Ok(());
        }
        sync.stop().await.map_err(Problem::Store)?;
        self.sync.set_value(None);
        identity.relay_url = url;
        store
            .save_identity(&identity)
            .await
            .map_err(Problem::Store)?;
        reload();
        Ok(())
    }

    /// "Sign out / reset this device": refused while any change is not yet on the
    /// relay; otherwise stops syncing, erases everything the device holds (records,
    /// sync states, identity and token) and starts again at setup.
    pub async fn reset(&self) -> Result<(), Problem> {
        let (Some(store), Some(sync)) = (self.store.get_value(), self.sync.get_value()) else {
            return Err(Problem::Store(StoreError::Unavailable));
        };
        if sync.repo().borrow().pending_count() > 0 {
            return Err(Problem::Form(|i| {
                t_string!(i, settings_reset_refused).to_string()
            }));
        }
        sync.stop().await.map_err(Problem::Store)?;
        self.sync.set_value(None);
        store.erase().await.map_err(Problem::Store)?;
        lock::forget_pact_lock();
        reload();
        Ok(())
    }

    /// Opens the device's data in steps: the caseload lists first (from the index
    /// snapshot when it is current, else from the index document), then the index
    /// document, then every record, while the screens already work (a record not yet
    /// loaded reads as "not on this device yet"). Syncing starts after that: the
    /// replica plans from what it holds.
    async fn begin(&self, store: Rc<Store>, device: Identity) {
        timing::mark(START_MARK);
        let settings = device.pact_settings.sane();
        self.pact_settings.set(settings);
        lock::follow(&settings);
        let pact_device = device.clone();
        let index_id = device.index_id();
        let relay_url = device.relay_url.clone();
        let legacy = crate::sync::legacy_states_key(&device);
        let legacy = legacy.as_deref();
        // An unreadable snapshot is no snapshot: the index document has the rows too.
        let snapshot = store.snapshot(&index_id).await.ok().flatten();
        let (repo, start) = match snapshot.and_then(|s| Repo::from_snapshot(device.clone(), &s)) {
            Some(repo) => (repo, None),
            None => match self.load_index(&store, &index_id, &relay_url, legacy).await {
                Ok((loaded, states)) => {
                    let (repo, start) = Repo::new(device, loaded, states);
                    (repo, Some(start))
                }
                Err(e) => return self.fail(&e),
            },
        };
        if let Ok(Some(known)) = store.members().await {
            self.members
                .set(known.members.into_iter().map(|m| m.name).collect());
        }
        self.refresh_members();
        self.refresh_pact(store.clone(), pact_device);
        let sync = Sync::start_held(Rc::new(RefCell::new(repo)), store.clone(), self.notifier());
        if let Some(start) = start {
            sync.persist(start);
        }
        self.sync.set_value(Some(sync.clone()));
        self.revision.update(|r| *r += 1);
        self.phase.set(Phase::Ready);
        timing::measure(INDEX_MEASURE, START_MARK);

        if !sync.repo().borrow().is_index_open() {
            // Let the lists paint before the index document takes the main thread.
            next_frame().await;
            let (loaded, states) =
                match self.load_index(&store, &index_id, &relay_url, legacy).await {
                    Ok(loaded) => loaded,
                    Err(e) => return self.fail(&e),
                };
            let start = sync.repo().borrow_mut().open_index(loaded, states);
            sync.persist(start);
            self.revision.update(|r| *r += 1);
            timing::measure(INDEX_DOC_MEASURE, START_MARK);
        }
        self.waiting.update_value(|w| {
            for tx in w.drain(..) {
                let _ = tx.send(());
            }
        });

        let rest = match store.load_except(&index_id).await {
            Ok(rest) => rest,
            Err(e) => return self.fail(&e),
        };
        let states = match saved_states(&store, &relay_url, legacy).await {
            Ok(states) => states,
            Err(e) => return self.fail(&e),
        };
        let housekeeping = sync.repo().borrow_mut().add_loaded(rest, states);
        sync.persist(housekeeping);
        self.revision.update(|r| *r += 1);
        timing::measure(RECORDS_MEASURE, START_MARK);
        sync.release();
    }

    async fn load_index(
        &self,
        store: &Store,
        index_id: &paktum_shared::DocumentId,
        relay_url: &str,
        legacy: Option<&str>,
    ) -> Result<(Loaded, Vec<(paktum_shared::DocumentId, Vec<u8>)>), StoreError> {
        let loaded = store.load_doc(index_id).await?;
        let mut states = store.sync_state(relay_url, index_id).await?;
        if let (true, Some(legacy)) = (states.is_empty(), legacy) {
            states = store.sync_state(legacy, index_id).await?;
        }
        Ok((loaded, states))
    }

    /// Redraws after changes, coalescing bursts (a first sync delivers thousands of
    /// messages) into one redraw per 100 ms; and once things have been quiet for
    /// [`TIDY_AFTER_MS`], does the housekeeping kept off the edit path (compactions,
    /// the index snapshot).
    fn notifier(&self) -> Rc<dyn Fn()> {
        let this = *self;
        let revision = self.revision;
        let sync = self.sync;
        let pending = Rc::new(RefCell::new(None::<gloo_timers::callback::Timeout>));
        let idle = Rc::new(RefCell::new(None::<gloo_timers::callback::Timeout>));
        Rc::new(move || {
            if this.wipe_if_withdrawn() || pending.borrow().is_some() {
                return;
            }
            let done = pending.clone();
            let idle = idle.clone();
            *pending.borrow_mut() = Some(gloo_timers::callback::Timeout::new(100, move || {
                done.borrow_mut().take();
                revision.update(|r| *r += 1);
                // Re-armed by every redraw: housekeeping waits for a quiet moment.
                *idle.borrow_mut() = Some(gloo_timers::callback::Timeout::new(
                    TIDY_AFTER_MS,
                    move || {
                        if let Some(sync) = sync.get_value() {
                            let step = sync.repo().borrow_mut().tidy();
                            spawn_local(async move {
                                if let Some(step) = step {
                                    // A failed write shows in the sync status.
                                    let _ = sync.written(step).await;
                                }
                                this.list_unsynced();
                                timing::phase::publish();
                                timing::mark(TIDIED_MARK);
                            });
                        }
                    },
                ));
            }));
        })
    }

    fn fail(&self, e: &StoreError) {
        self.problem.set(Some(store_error_text(self.i18n, e)));
        self.phase.set(Phase::Failed);
    }

    pub fn i18n(&self) -> I18nContext<Locale> {
        self.i18n
    }
}

/// Starts the app again from the store (after a reset or a new relay address).
fn reload() {
    if let Some(window) = web_sys::window() {
        let _ = window.location().set_href("/");
    }
}

pub fn use_field() -> Field {
    expect_context::<Field>()
}

/// Words chosen when they are shown, so they follow a switch of language.
pub type Words = fn(I18nContext<Locale>) -> String;

/// Why something the worker did failed. Kept as what happened and worded when shown
/// (`ui::problem_view`), so a message on screen follows a switch of language.
#[derive(Clone, Debug)]
pub enum Problem {
    Store(StoreError),
    Model(ModelError),
    Enrol(EnrolError),
    /// A form's own check ("Please give the date of the visit.").
    Form(Words),
}

pub fn store_error_text(i18n: I18nContext<Locale>, e: &StoreError) -> String {
    match e {
        StoreError::Unavailable => t_string!(i18n, error_store_unavailable).to_string(),
        StoreError::Read => t_string!(i18n, error_store_read).to_string(),
        StoreError::Write => t_string!(i18n, error_store_write).to_string(),
        StoreError::Locked => t_string!(i18n, error_store_locked).to_string(),
    }
}

/// The sync states saved with the relay at `relay_url`, and for documents without one,
/// those an older build saved under its `legacy` key ([`crate::sync::legacy_states_key`]).
async fn saved_states(
    store: &Store,
    relay_url: &str,
    legacy: Option<&str>,
) -> Result<Vec<(paktum_shared::DocumentId, Vec<u8>)>, StoreError> {
    let mut states = store.sync_states(relay_url).await?;
    if let Some(legacy) = legacy {
        let have: std::collections::HashSet<_> = states.iter().map(|(id, _)| *id).collect();
        let older = store.sync_states(legacy).await?;
        states.extend(older.into_iter().filter(|(id, _)| !have.contains(id)));
    }
    Ok(states)
}
