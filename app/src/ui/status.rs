//! The sync status line: one of four states in words, and "Sync now".

use leptos::prelude::*;

use paktum_shared::language::{Plural, plural};

use super::language::{number, refusal_text, when};
use crate::field::use_field;
use crate::i18n::*;
use crate::sync::{Failure, SyncStatus};

/// "4 changes in 1 record": what waits for the relay, as a worker counts it (every
/// save is a change; a record is a contact or an employer).
fn waiting(i18n: leptos_i18n::I18nContext<Locale>) -> AnyView {
    let (changes, records) = use_field().read(|r| r.pending_changes());
    let lang = super::language::lang(i18n);
    let changes_view = match plural(lang, changes as u64) {
        Plural::One => t!(i18n, pending_changes.one, count = number(i18n, changes)).into_any(),
        Plural::Other => t!(i18n, pending_changes.other, count = number(i18n, changes)).into_any(),
    };
    let records_view = match plural(lang, records as u64) {
        Plural::One => t!(i18n, pending_records.one, count = number(i18n, records)).into_any(),
        Plural::Other => t!(i18n, pending_records.other, count = number(i18n, records)).into_any(),
    };
    view! { {changes_view} " " {records_view} }.into_any()
}

#[component]
pub fn StatusLine() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let status = move || field.status().unwrap_or(SyncStatus::Offline { pending: 0 });
    let state = move || match status() {
        SyncStatus::Offline { .. } => "offline",
        SyncStatus::Syncing { .. } => "syncing",
        SyncStatus::UpToDate { .. } => "up-to-date",
        SyncStatus::Failed { .. } => "failed",
    };
    let text = move || match status() {
        SyncStatus::Offline { pending: 0 } => t!(i18n, sync_offline_saved).into_any(),
        SyncStatus::Offline { .. } => {
            t!(i18n, sync_offline_pending, waiting = move || waiting(i18n)).into_any()
        }
        SyncStatus::Syncing { done, total, .. } if total > 1 => t!(
            i18n,
            sync_progress,
            done = number(i18n, done),
            total = number(i18n, total)
        )
        .into_any(),
        SyncStatus::Syncing { .. } => t!(i18n, sync_syncing).into_any(),
        SyncStatus::UpToDate { since_ms } => {
            t!(i18n, sync_up_to_date, since = when(i18n, since_ms as i64)).into_any()
        }
        SyncStatus::Failed { failure, pending } => {
            let reason = match failure {
                Failure::Unreachable { host } => {
                    t!(i18n, failure_unreachable, host = host).into_any()
                }
                Failure::Lost => t!(i18n, failure_lost).into_any(),
                Failure::NotAccepted => t!(i18n, failure_not_accepted).into_any(),
                Failure::Version => t!(i18n, failure_version).into_any(),
                Failure::Refused {
                    code: Some(code), ..
                } => refusal_text(i18n, code).into_any(),
                // A code this build does not know: the relay's words in our sentence.
                Failure::Refused {
                    code: None,
                    message,
                } => t!(i18n, failure_refused, message = message).into_any(),
                Failure::BadData => t!(i18n, failure_bad_data).into_any(),
                Failure::BadAddress => t!(i18n, failure_bad_address).into_any(),
            };
            let waiting = (pending > 0).then(
                || view! { " " {t!(i18n, sync_failed_pending, waiting = move || waiting(i18n))} },
            );
            view! { {reason} {waiting} }.into_any()
        }
    };
    view! {
        <div class="sync" data-sync-state=state>
            <span class="dot" aria-hidden="true"></span>
            <p role="status" aria-live="polite">{text}</p>
            <div class="sync-actions">
                <button type="button" class="small" on:click=move |_| field.sync_now()>
                    {t!(i18n, sync_now)}
                </button>
                <super::language::LanguagePicker />
            </div>
        </div>
    }
}
