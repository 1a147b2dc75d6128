//! Erasing a record from the contact page (issue 15), for a coordinator's or an
//! admin's device only: a first tap opens a second step where the record's name must
//! be typed, then the relay's `POST /erase` runs. The relay checks the role and the
//! team again; its refusal is worded by its code. On success the page leaves for the
//! caseload (the record is gone from this device at its next sync) with a notice.
//! Also the contact page's notice for consent not recorded in time.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};
use paktum_shared::DocumentId;
use paktum_shared::contact::Contact;
use paktum_shared::device::Role;

use crate::field::use_field;
use crate::i18n::*;
use crate::sync::EraseError;
use crate::ui::language::refusal_text;
use crate::ui::parts::today;

#[component]
pub fn EraseSection(id: DocumentId, contact: Signal<Option<Contact>>) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let identity = move || field.read(|r| Some(r.identity().clone()));
    let allowed = move || identity().is_some_and(|me| me.role != Role::Worker);
    let open = RwSignal::new(false);
    let typed = RwSignal::new(String::new());
    let navigate = use_navigate();
    let erase = Action::new_local(move |_: &()| {
        let me = identity();
        let navigate = navigate.clone();
        async move {
            let Some(me) = me else {
                return Err(EraseError::Unreachable);
            };
            let doc = id.to_string();
            crate::sync::erase(&me.relay_url, me.device_token.as_deref(), &doc).await?;
            navigate(
                "/caseload?erased=1",
                leptos_router::NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
            Ok(())
        }
    });
    let name = move || contact.get().map(|c| c.display_name).unwrap_or_default();
    let matches = move || {
        let n = name();
        !n.is_empty() && typed.get().trim() == n.trim()
    };
    let busy = erase.pending();
    let problem = move || match erase.value().get() {
        Some(Err(EraseError::Unreachable)) => Some(t_string!(i18n, erase_unreachable).to_string()),
        Some(Err(EraseError::Refused(r))) => Some(match r.code {
            Some(code) => refusal_text(i18n, code),
            None => t_string!(i18n, erase_refused).to_string(),
        }),
        _ => None,
    };
    view! {
        <Show when=allowed>
            <section aria-labelledby="erase" class="erase">
                <h2 id="erase">{t!(i18n, erase_title)}</h2>
                <p class="hint">{t!(i18n, erase_hint)}</p>
                <Show
                    when=move || open.get()
                    fallback=move || view! {
                        <button type="button" class="danger" on:click=move |_| open.set(true)>{t!(i18n, erase_start)}</button>
                    }
                >
                    <form class="inline" on:submit=move |ev: leptos::ev::SubmitEvent| {
                        ev.prevent_default();
                        if matches() {
                            erase.dispatch_local(());
                        }
                    }>
                        <label>
                            {move || t!(i18n, erase_type_name, name = name())}
                            <input type="text" autocomplete="off" prop:value=typed
                                on:input=move |ev| typed.set(event_target_value(&ev)) />
                        </label>
                        <button type="submit" class="danger" disabled=move || !matches() || busy.get()>
                            {t!(i18n, erase_confirm)}
                        </button>
                        " "
                        <button type="button" on:click=move |_| { open.set(false); typed.set(String::new()); }>
                            {t!(i18n, erase_cancel)}
                        </button>
                    </form>
                </Show>
                {move || problem().map(|p| view! { <p class="error" role="alert">{p}</p> })}
            </section>
        </Show>
    }
}

/// On the caseload after an erasure from this device: what happened, in words.
#[component]
pub fn ErasedNotice() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    move || {
        query
            .with(|q| q.get("erased").is_some())
            .then(|| view! { <p class="notice" role="status">{t!(i18n, erased_notice)}</p> })
    }
}

/// "No consent recorded, 15 days after the first meeting": shown on the contact page
/// once the grace period is over ([`paktum_shared::contact::ConsentCheck`]).
#[component]
pub fn ConsentFlag(contact: Signal<Option<Contact>>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        let today = today()?;
        let check = contact.get()?.consent_check(today);
        match check {
            paktum_shared::contact::ConsentCheck::Overdue { days } => Some(view! {
                <p class="notice warn consent-flag" role="status">
                    <a href="#consent">{t!(i18n, consent_overdue, days = days)}</a>
                </p>
            }),
            _ => None,
        }
    }
}
