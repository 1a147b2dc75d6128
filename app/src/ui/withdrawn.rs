//! The screen of a device the pact withdrew: its data is erased, and why (the relay's
//! reason, worded by its code), and the way to set it up again with a new code.

use leptos::prelude::*;

use crate::field::use_field;
use crate::i18n::*;

#[component]
pub fn WithdrawnScreen() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let reason = move || {
        field.withdrawal().map(|w| match w.code {
            Some(code) => super::language::refusal_text(i18n, code),
            None if !w.message.is_empty() => w.message,
            None => super::language::refusal_text(i18n, paktum_shared::refusal::Code::Withdrawn),
        })
    };
    view! {
        <main class="page withdrawn">
            <h1>{t!(i18n, withdrawn_title)}</h1>
            <p class="notice warn" role="alert" id="withdrawn-reason">{reason}</p>
            {move || field.problem().map(|p| view! { <p class="error" role="alert">{p}</p> })}
            <p>{t!(i18n, withdrawn_next)}</p>
            <button type="button" class="primary" on:click=move |_| field.set_up_again()>
                {t!(i18n, withdrawn_set_up_again)}
            </button>
        </main>
    }
}
