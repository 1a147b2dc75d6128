//! The device lock in the controller: locking after inactivity or a long time in the
//! background, unlocking with the PIN (wrong PINs wait longer each time, and too many
//! erase what the relay already has), setting the first PIN, and the drafts a lock
//! must not lose (kept encrypted while locked).

use std::collections::HashMap;

use leptos::prelude::*;
use leptos::task::spawn_local;
use paktum_shared::device::LockPolicy;
use paktum_shared::enrol::PactSettings;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;

use super::{Field, Phase, Problem};
use crate::i18n::*;
use crate::store::{StoreError, UnlockError};

/// Test hook in localStorage: locks after this many milliseconds instead. Only a
/// shorter time than the policy's is taken, so it can never weaken the lock.
const LOCK_AFTER_KEY: &str = "paktum-lock-after-ms";

/// How often the inactivity is checked.
const CHECK_EVERY_MS: u32 = 1_000;

const UNLOCK_START: &str = "paktum:unlock-start";
/// Marked when the values a first PIN encrypted are scrubbed from the browser's files
/// (the grep test in tests/e2e/lock.mjs waits for it).
const SCRUBBED_MARK: &str = "paktum:pin-scrubbed";
/// From the PIN submitted to the data key in memory (PBKDF2 dominates).
const UNLOCK_MEASURE: &str = "paktum:unlock";

/// The lock's state in the controller.
#[derive(Clone, Copy)]
pub struct LockState {
    last_active: StoredValue<f64>,
    hidden_since: StoredValue<Option<f64>>,
    pub(super) has_pin: RwSignal<bool>,
    /// Wrong PINs in a row, and until when the next try waits (ms since the epoch).
    failures: RwSignal<u32>,
    wait_until: RwSignal<f64>,
    wiped: RwSignal<bool>,
    /// Half-typed text by form, in memory while unlocked; sealed while locked.
    drafts: StoredValue<HashMap<String, String>, LocalStorage>,
    sealed_drafts: StoredValue<Option<Vec<u8>>, LocalStorage>,
    /// The records listed unsynced on disk the last time.
    listed: StoredValue<Vec<paktum_shared::DocumentId>, LocalStorage>,
}

/// The pact's lock settings, kept in localStorage: the lock screen needs them before
/// the store (and the identity in it) is unlocked. Two numbers, nothing personal; a
/// value out of its range reads as the default.
const PACT_LOCK_KEY: &str = "paktum-pact-lock";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window().and_then(|w| w.local_storage().ok().flatten())
}

/// Keeps the pact's lock settings for the next checks and the next start.
pub(super) fn follow(settings: &PactSettings) {
    let lock_only = PactSettings {
        lock_minutes: settings.lock_minutes,
        lock_failures: settings.lock_failures,
        ..PactSettings::default()
    };
    if let (Some(storage), Ok(json)) = (local_storage(), serde_json::to_string(&lock_only)) {
        // Not kept: the defaults until the next start asks the relay again.
        let _ = storage.set_item(PACT_LOCK_KEY, &json);
    }
}

/// Forgets the pact's lock settings: the device left the pact (wiped or reset).
pub(super) fn forget_pact_lock() {
    if let Some(storage) = local_storage() {
        let _ = storage.remove_item(PACT_LOCK_KEY);
    }
}

/// The pact's policy, with the test hook applied (read at every check, so a test can
/// set it when it wants the lock).
fn policy() -> LockPolicy {
    let settings: PactSettings = local_storage()
        .and_then(|s| s.get_item(PACT_LOCK_KEY).ok().flatten())
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default();
    let mut policy = LockPolicy::of(&settings);
    if let Some(ms) = local_storage()
        .and_then(|s| s.get_item(LOCK_AFTER_KEY).ok().flatten())
        .and_then(|v| v.parse::<f64>().ok())
        .filter(|ms| *ms > 0.0 && *ms < policy.inactivity_ms)
    {
        policy.inactivity_ms = ms;
    }
    policy
}

impl LockState {
    pub(super) fn new() -> Self {
        Self {
            last_active: StoredValue::new(js_sys::Date::now()),
            hidden_since: StoredValue::new(None),
            has_pin: RwSignal::new(false),
            failures: RwSignal::new(0),
            wait_until: RwSignal::new(0.0),
            wiped: RwSignal::new(false),
            drafts: StoredValue::new_local(HashMap::new()),
            sealed_drafts: StoredValue::new_local(None),
            listed: StoredValue::new_local(Vec::new()),
        }
    }

    /// What the store says at start-up.
    pub(super) fn opened(&self, has_pin: bool, failures: u32, failed_at: f64, wiped: bool) {
        self.has_pin.set(has_pin);
        self.failures.set(failures);
        self.wiped.set(wiped);
        if failures > 0 {
            // The wait counts from the last wrong PIN, kept on disk: a reload does
            // not restart it.
            self.wait_until
                .set(policy().next_try_at(failures, failed_at, js_sys::Date::now()));
        }
    }
}

/// Why an unlock did not happen, for the lock screen.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum UnlockProblem {
    WrongPin,
    /// Wait until this time (ms since the epoch) before the next try.
    Wait(f64),
    Store(StoreError),
}

impl Field {
    /// Watches for activity, inactivity and the app going to the background.
    pub(super) fn watch_activity(self) {
        let Some(window) = web_sys::window() else {
            return;
        };
        let lock = self.lock;
        let touched = Closure::<dyn FnMut()>::new(move || {
            lock.last_active.set_value(js_sys::Date::now());
        });
        for event in ["pointerdown", "keydown", "input", "wheel", "touchstart"] {
            let _ = window.add_event_listener_with_callback_and_bool(
                event,
                touched.as_ref().unchecked_ref(),
                true,
            );
        }
        touched.forget();
        let visibility = Closure::<dyn FnMut()>::new(move || {
            let hidden = web_sys::window()
                .and_then(|w| w.document())
                .is_some_and(|d| d.visibility_state() == web_sys::VisibilityState::Hidden);
            if hidden {
                lock.hidden_since.set_value(Some(js_sys::Date::now()));
                // A phone put away may be killed in the background: the list of
                // unsynced records on disk must be current.
                self.list_unsynced();
            } else if let Some(since) = lock.hidden_since.get_value() {
                lock.hidden_since.set_value(None);
                if policy().is_due(since, js_sys::Date::now()) {
                    self.lock_now();
                }
            }
        });
        if let Some(document) = window.document() {
            let _ = document.add_event_listener_with_callback(
                "visibilitychange",
                visibility.as_ref().unchecked_ref(),
            );
        }
        visibility.forget();
        // Timers are slowed in the background; the check on return above covers that.
        let check = gloo_timers::callback::Interval::new(CHECK_EVERY_MS, move || {
            if self.phase.get_untracked() == Phase::Ready
                && lock.has_pin.get_untracked()
                && policy().is_due(lock.last_active.get_value(), js_sys::Date::now())
            {
                self.lock_now();
            }
        });
        check.forget();
    }

    pub fn has_pin(&self) -> bool {
        self.lock.has_pin.get()
    }

    /// Wrong PINs in a row, until when the next try waits, and whether the device
    /// erased what the relay had.
    pub fn unlock_state(&self) -> (u32, f64, bool) {
        (
            self.lock.failures.get(),
            self.lock.wait_until.get(),
            self.lock.wiped.get(),
        )
    }

    /// Locks now: the screens go (no record text stays in the page), drafts are
    /// sealed, syncing stops, the records and the key leave memory.
    pub fn lock_now(&self) {
        let Some(store) = self.store.get_value() else {
            return;
        };
        if !store.has_pin() || store.is_locked() || self.phase.get_untracked() != Phase::Ready {
            return;
        }
        self.phase.set(Phase::Locked);
        let this = *self;
        spawn_local(async move {
            this.list_unsynced_now().await;
            let drafts = this.lock.drafts.with_value(|d| serde_json::to_vec(d).ok());
            this.lock.drafts.update_value(HashMap::clear);
            if let (Some(drafts), Some(cipher)) = (drafts, store.cipher()) {
                this.lock
                    .sealed_drafts
                    .set_value(cipher.seal(&drafts).await.ok());
            }
            if let Some(sync) = this.sync.get_value() {
                // Whatever waited for the disk is written first (with the key).
                let _ = sync.stop().await;
            }
            this.sync.set_value(None);
            this.members.set(Vec::new());
            store.lock();
            this.revision.update(|r| *r += 1);
        });
    }

    /// Unlocks with `pin` and starts again from the store (the same page comes back,
    /// with its drafts).
    pub async fn unlock(&self, pin: &str) -> Result<(), UnlockProblem> {
        let Some(store) = self.store.get_value() else {
            return Err(UnlockProblem::Store(StoreError::Unavailable));
        };
        let wait_until = self.lock.wait_until.get_untracked();
        if js_sys::Date::now() < wait_until {
            return Err(UnlockProblem::Wait(wait_until));
        }
        crate::timing::mark(UNLOCK_START);
        match store.unlock(pin).await {
            Ok(()) => {}
            Err(UnlockError::Store(e)) => return Err(UnlockProblem::Store(e)),
            Err(UnlockError::WrongPin { failures }) => {
                let policy = policy();
                self.lock.failures.set(failures);
                if policy.is_exhausted(failures) && !store.is_wiped() {
                    store.erase_synced().await.map_err(UnlockProblem::Store)?;
                    self.lock.wiped.set(true);
                    // The erased values leave LevelDB's files only with a compaction.
                    let _ = store.scrub().await;
                }
                let until = policy.next_try_at(failures, store.failed_at(), js_sys::Date::now());
                self.lock.wait_until.set(until);
                return Err(if policy.wait_ms(failures) > 0.0 {
                    UnlockProblem::Wait(until)
                } else {
                    UnlockProblem::WrongPin
                });
            }
        }
        crate::timing::measure(UNLOCK_MEASURE, UNLOCK_START);
        self.lock.failures.set(0);
        self.lock.wiped.set(false);
        self.lock.wait_until.set(0.0);
        if let (Some(sealed), Some(cipher)) = (self.lock.sealed_drafts.get_value(), store.cipher())
            && let Ok(plain) = cipher.open(&sealed).await
            && let Ok(drafts) = serde_json::from_slice::<HashMap<String, String>>(&plain)
        {
            self.lock.drafts.set_value(drafts);
        }
        self.lock.sealed_drafts.set_value(None);
        self.lock.last_active.set_value(js_sys::Date::now());
        self.phase.set(Phase::Loading);
        match store.identity().await {
            Ok(Some(identity)) => self.begin(store, identity).await,
            Ok(None) => self.phase.set(Phase::Setup),
            Err(e) => self.fail(&e),
        }
        Ok(())
    }

    /// Sets the first PIN: everything on the device is encrypted from now on. The
    /// plain values are then scrubbed from the browser's files (in the background).
    pub async fn set_pin(&self, pin: &str) -> Result<(), Problem> {
        if !paktum_shared::device::is_acceptable_pin(pin) {
            return Err(Problem::Form(|i| t_string!(i, lock_pin_short).to_string()));
        }
        let Some(store) = self.store.get_value() else {
            return Err(Problem::Store(StoreError::Unavailable));
        };
        // Nothing may be written in the clear meanwhile: the outbox is flushed and
        // the connection held while everything is encrypted.
        let sync = self.sync.get_value();
        if let Some(sync) = &sync {
            sync.stop().await.map_err(Problem::Store)?;
        }
        let set = store.set_pin(pin).await;
        if let Some(sync) = &sync {
            sync.release();
        }
        let encrypted = set.map_err(Problem::Store)?;
        self.lock.has_pin.set(true);
        self.lock.last_active.set_value(js_sys::Date::now());
        self.list_unsynced();
        if encrypted > 0 {
            spawn_local(async move {
                if store.scrub().await.is_ok() {
                    crate::timing::mark(SCRUBBED_MARK);
                }
            });
        }
        Ok(())
    }

    /// Changes the PIN (the current one first, the new one twice): the data key is
    /// wrapped again, nothing is encrypted again. A wrong current PIN counts and
    /// waits as one at the lock screen.
    pub async fn change_pin(&self, current: &str, new: &str, again: &str) -> Result<(), Problem> {
        if !paktum_shared::device::is_acceptable_pin(new) {
            return Err(Problem::Form(|i| t_string!(i, lock_pin_short).to_string()));
        }
        if new != again {
            return Err(Problem::Form(|i| {
                t_string!(i, lock_pin_mismatch).to_string()
            }));
        }
        let Some(store) = self.store.get_value() else {
            return Err(Problem::Store(StoreError::Unavailable));
        };
        if js_sys::Date::now() < self.lock.wait_until.get_untracked() {
            return Err(Problem::Form(|i| t_string!(i, lock_pin_wait).to_string()));
        }
        match store.change_pin(current, new).await {
            Ok(()) => {
                self.lock.failures.set(0);
                self.lock.wait_until.set(0.0);
                Ok(())
            }
            Err(UnlockError::Store(e)) => Err(Problem::Store(e)),
            Err(UnlockError::WrongPin { failures }) => {
                self.lock.failures.set(failures);
                self.lock
                    .wait_until
                    .set(js_sys::Date::now() + policy().wait_ms(failures));
                Err(Problem::Form(|i| {
                    t_string!(i, lock_pin_current_wrong).to_string()
                }))
            }
        }
    }

    /// Half-typed text kept for `key` (a form), if any.
    pub fn draft(&self, key: &str) -> Option<String> {
        self.lock.drafts.with_value(|d| d.get(key).cloned())
    }

    /// Keeps half-typed text for `key` (empty forgets it).
    pub fn keep_draft(&self, key: &str, text: String) {
        self.lock.drafts.update_value(|d| {
            if text.is_empty() {
                d.remove(key);
            } else {
                d.insert(key.to_string(), text);
            }
        });
    }

    /// Writes the list of unsynced records (ids only, in the clear) when it changed.
    pub(super) fn list_unsynced(&self) {
        let this = *self;
        spawn_local(async move { this.list_unsynced_now().await });
    }

    async fn list_unsynced_now(&self) {
        let (Some(store), Some(sync)) = (self.store.get_value(), self.sync.get_value()) else {
            return;
        };
        if !store.has_pin() || store.is_locked() {
            return;
        }
        let mut ids = sync.repo().borrow().pending_ids();
        ids.sort();
        if self.lock.listed.with_value(|l| *l == ids) {
            return;
        }
        if store.save_unsynced(&ids).await.is_ok() {
            self.lock.listed.set_value(ids);
        }
    }
}
