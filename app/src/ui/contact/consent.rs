//! The contact's consent (issue 15): when it was given, by whom, and who may receive
//! the record — the team only, or also the pact's partner organisations. The relay
//! lets the record leave the team only with the second; the worker chooses it here.

use std::rc::Rc;

use leptos::prelude::*;
use paktum_shared::Editor;
use paktum_shared::contact::{Consent, ConsentScope, Contact, ContactDoc};

use super::{ContactOp, ContactSave};
use crate::i18n::*;
use crate::ui::language::day_text;
use crate::ui::parts::{SaveButton, today};

/// The scope's words.
pub(super) fn scope_words(i18n: leptos_i18n::I18nContext<Locale>, consent: &Consent) -> String {
    match consent.reach() {
        ConsentScope::Team => t_string!(i18n, consent_scope_team).to_string(),
        ConsentScope::Pact => t_string!(i18n, consent_scope_pact).to_string(),
    }
}

/// A stored scope in the form's words, for the "changed by both" box; a free-text
/// scope written before scopes were typed is shown as written.
pub(super) fn scope_text(locale: Locale, stored: &str) -> String {
    if stored == ConsentScope::Team.as_str() {
        td_string!(locale, consent_scope_team).to_string()
    } else if stored == ConsentScope::Pact.as_str() {
        td_string!(locale, consent_scope_pact).to_string()
    } else {
        stored.to_string()
    }
}

/// A free-text scope written before scopes were typed (read as the team only).
fn old_scope(consent: &Consent) -> Option<String> {
    consent
        .scope
        .clone()
        .filter(|text| text != ConsentScope::parse(text).as_str())
}

#[component]
pub(super) fn ConsentSection(contact: Signal<Option<Contact>>, save: ContactSave) -> impl IntoView {
    let run = move |op: ContactOp| {
        save.dispatch_local(op);
    };
    let busy = save.pending();
    let i18n = use_i18n();
    // The team only unless the worker chooses otherwise: sharing is never the default.
    let scope = RwSignal::new(ConsentScope::Team);
    let active = move || contact.get().is_some_and(|c| c.consent.is_active());
    let give = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(day) = today() else { return };
        let scope = scope.get();
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.give_consent(ed, day, scope)
        }));
    };
    let withdraw = move |_| {
        let Some(day) = today() else { return };
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.withdraw_consent(ed, day)
        }));
    };
    let option = move |value: ConsentScope| {
        view! {
            <label class="check">
                <input type="radio" name="consent-scope" value=value.as_str()
                    prop:checked=move || scope.get() == value
                    on:change=move |_| scope.set(value) />
                {move || match value {
                    ConsentScope::Team => t!(i18n, consent_scope_team).into_any(),
                    ConsentScope::Pact => t!(i18n, consent_scope_pact).into_any(),
                }}
            </label>
        }
    };
    view! {
        <section aria-labelledby="consent">
            <h2 id="consent">{t!(i18n, consent_title)}</h2>
            <p>
                {move || {
                    contact.get().map(|c| {
                        let consent = c.consent;
                        match (consent.given_on, consent.withdrawn_on) {
                            (Some(on), None) => {
                                let scope = scope_words(i18n, &consent);
                                let by = consent.given_by.clone().map(|by| {
                                    view! { " " {t!(i18n, consent_given_by, by = by)} }
                                });
                                let old = old_scope(&consent).map(|text| {
                                    view! { " " {t!(i18n, consent_scope_old, text = text)} }
                                });
                                view! {
                                    {t!(i18n, consent_given, day = day_text(i18n, on), scope = scope)}
                                    {by}
                                    {old}
                                }.into_any()
                            }
                            (_, Some(off)) => t!(i18n, consent_withdrawn, day = day_text(i18n, off)).into_any(),
                            (None, None) => t!(i18n, consent_none).into_any(),
                        }
                    })
                }}
            </p>
            <Show
                when=active
                fallback=move || view! {
                    <form on:submit=give>
                        <fieldset class="consent-scope">
                            <legend>{t!(i18n, consent_scope)}</legend>
                            {option(ConsentScope::Team)}
                            {option(ConsentScope::Pact)}
                            <p class="hint">{t!(i18n, consent_scope_hint)}</p>
                        </fieldset>
                        <SaveButton busy class="">{t!(i18n, consent_give)}</SaveButton>
                    </form>
                }
            >
                <button type="button" on:click=withdraw disabled=move || busy.get()>{t!(i18n, consent_withdraw)}</button>
            </Show>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::scope_text;
    use crate::i18n::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    #[wasm_bindgen_test]
    fn a_scope_changed_by_both_reads_as_the_form_says_not_the_stored_word() {
        assert_eq!(scope_text(Locale::en, "team"), "Stored by our team only");
        assert_eq!(
            scope_text(Locale::nl, "pact"),
            "Gedeeld met de partnerorganisaties van het pact"
        );
        for locale in [Locale::en, Locale::hu, Locale::nl, Locale::fr, Locale::de] {
            for stored in ["team", "pact"] {
                let shown = scope_text(locale, stored);
                assert!(
                    !shown.is_empty() && shown != stored,
                    "{locale:?}: {stored} -> {shown}"
                );
            }
        }
        assert_eq!(scope_text(Locale::fr, "referrals only"), "referrals only");
    }
}
