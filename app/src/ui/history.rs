//! The history of one record: who changed what and when, newest first, read from
//! the Automerge change log.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use paktum_shared::record::Kind;

use super::language::{history_line, when};
use super::parts::parse_id;
use crate::field::use_field;
use crate::i18n::*;
use paktum_shared::device::Loadable;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| parse_id(&s))));
    let history = move || {
        id.get()
            .and_then(|id| field.read(|r| Some((id, r.history(&id)))))
    };
    move || {
        match history() {
        Some((id, Loadable::Ready((kind, entries)))) => {
            let back = match kind {
                Kind::Employer => format!("/employers/{id}"),
                _ => format!("/contacts/{id}"),
            };
            view! {
                <h1>{t!(i18n, history_title)}</h1>
                <A href=back>{t!(i18n, history_back)}</A>
                <ol class="timeline history">
                    {entries
                        .into_iter()
                        .rev()
                        .map(|h| {
                            let who = if h.by.is_empty() { t_string!(i18n, history_someone).to_string() } else { h.by };
                            view! {
                                <li>
                                    <span class="meta">{when(i18n, h.at_ms)} " · " {who}</span>
                                    <span class="what">{history_line(i18n, &h.what)}</span>
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            }
            .into_any()
        }
        Some((_, Loadable::Damaged(reason))) => {
            view! { <p class="error" role="alert">{t!(i18n, record_damaged, reason = reason.clone())}</p> }.into_any()
        }
        _ => view! { <p>{t!(i18n, record_not_here)}</p> }.into_any(),
    }
    }
}
