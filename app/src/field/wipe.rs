//! A device the pact withdrew (`admin revoke --wipe`): once the relay says
//! `paktum-wiped` — after the device handed in every change it had not confirmed —
//! everything local goes: records, sync states, the identity and its token, the lock
//! with the wrapped data key, the snapshot and the member list (`Store::erase`, then
//! `Store::scrub` so LevelDB drops the values). A mark in localStorage (the reason's
//! code, nothing personal) keeps the screen that says why across a reload, until the
//! worker sets the device up again.

use leptos::prelude::*;
use leptos::task::spawn_local;
use paktum_shared::refusal::Code;

use super::{Field, Phase};
use crate::timing;

/// localStorage: the code of the relay's reason, while the withdrawal screen shows.
const WITHDRAWN_KEY: &str = "paktum-withdrawn";
/// Marked when the wipe is on disk (the e2e test waits for it).
const WIPED_MARK: &str = "paktum:wiped";

/// Why the device was withdrawn, as the screen words it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Withdrawn {
    pub code: Option<Code>,
    /// The relay's sentence, for a code this build does not know.
    pub message: String,
}

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

impl Field {
    /// Acts once the relay has wiped this device: stops syncing and erases the store.
    /// True from then on (the caller redraws nothing else).
    pub(super) fn wipe_if_withdrawn(&self) -> bool {
        if self.withdrawal.get_untracked().is_some() {
            return true;
        }
        let Some(sync) = self.sync.get_value() else {
            return false;
        };
        let Some(relay) = sync.withdrawn() else {
            return false;
        };
        let reason = Withdrawn {
            code: relay.code,
            message: relay.message,
        };
        self.withdrawal.set(Some(reason.clone()));
        let this = *self;
        spawn_local(async move {
            let _ = sync.stop().await;
            this.sync.set_value(None);
            if let Some(store) = this.store.get_value() {
                // A failure leaves data behind: the screen says so (the wipe is asked
                // again at the next start, since the device can no longer connect).
                match store.erase().await {
                    Ok(()) => {
                        let _ = store.scrub().await;
                    }
                    Err(e) => this
                        .problem
                        .set(Some(super::store_error_text(this.i18n, &e))),
                }
            }
            super::lock::forget_pact_lock();
            if let Some(s) = storage() {
                let code = reason.code.map_or("", Code::as_str);
                let _ = s.set_item(WITHDRAWN_KEY, code);
            }
            this.phase.set(Phase::Withdrawn);
            timing::mark(WIPED_MARK);
        });
        true
    }

    /// At start-up with nothing stored: whether the last thing this device did was
    /// being wiped (then the screen says why again).
    pub(super) fn withdrawn_before(&self) -> bool {
        let Some(code) = storage().and_then(|s| s.get_item(WITHDRAWN_KEY).ok().flatten()) else {
            return false;
        };
        self.withdrawal.set(Some(Withdrawn {
            code: Code::parse(&code),
            message: String::new(),
        }));
        true
    }

    /// Why the relay wiped this device.
    pub fn withdrawal(&self) -> Option<Withdrawn> {
        self.withdrawal.get()
    }

    /// Leaves the withdrawal screen for setup (a new enrolment code is needed).
    pub fn set_up_again(&self) {
        if let Some(s) = storage() {
            let _ = s.remove_item(WITHDRAWN_KEY);
        }
        self.withdrawal.set(None);
        self.phase.set(Phase::Setup);
    }
}
