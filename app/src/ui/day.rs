//! My day: follow-ups due today or overdue, across contacts and employers, and the
//! records touched most recently.

use leptos::prelude::*;
use leptos_router::components::A;
use paktum_shared::caseload::Entry;
use paktum_shared::record::Kind;

use super::language::{due_view, when};
use super::parts::{PendingMark, status_text, today};
use crate::field::use_field;
use crate::i18n::*;

fn href(entry: &Entry) -> String {
    match entry.summary.kind {
        Kind::Employer => format!("/employers/{}", entry.id),
        _ => format!("/contacts/{}", entry.id),
    }
}

#[component]
pub fn MyDay() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let worker = move || field.read(|r| r.identity().worker.clone());
    let due = move || {
        let today = today();
        field.read(|r| {
            let mut rows: Vec<(Entry, bool)> = r
                .entries()
                .filter_map(|e| {
                    let day = e.summary.next_follow_up?;
                    (Some(day) <= today).then(|| (e.clone(), Some(day) < today))
                })
                .collect();
            rows.sort_by_key(|(e, _)| e.summary.next_follow_up);
            rows.into_iter()
                .map(|(e, overdue)| {
                    let pending = r.is_pending(&e.id);
                    (e, overdue, pending, today)
                })
                .collect::<Vec<_>>()
        })
    };
    let recent = move || {
        field.read(|r| {
            let mut rows: Vec<Entry> = r.entries().cloned().collect();
            rows.sort_by_key(|e| std::cmp::Reverse(e.summary.updated_at));
            rows.truncate(8);
            rows.into_iter()
                .map(|e| (r.is_pending(&e.id), e))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <h1>{move || t!(i18n, day_title, worker = worker())}</h1>
        <crate::pwa::StorageNotices />
        <A href="/contacts/new" attr:class="button primary wide">{t!(i18n, new_contact)}</A>
        <section aria-labelledby="due">
            <h2 id="due">{t!(i18n, day_due)}</h2>
            {move || {
                let rows = due();
                if rows.is_empty() {
                    view! { <p class="empty">{t!(i18n, day_nothing_due)}</p> }.into_any()
                } else {
                    view! {
                        <ul class="rows">
                            {rows
                                .into_iter()
                                .map(|(e, overdue, pending, today)| {
                                    let due = e.summary.next_follow_up.zip(today);
                                    view! {
                                        <li class:overdue=overdue>
                                            <A href=href(&e)>
                                                <span class="name">{e.summary.name.clone()}</span>
                                                <span class="meta">
                                                    {move || due.map(|(on, today)| due_view(i18n, today, on))}
                                                </span>
                                                <PendingMark pending />
                                            </A>
                                        </li>
                                    }
                                })
                                .collect_view()}
                        </ul>
                    }
                    .into_any()
                }
            }}
        </section>
        <section aria-labelledby="recent">
            <h2 id="recent">{t!(i18n, day_recent)}</h2>
            <ul class="rows">
                {move || {
                    recent()
                        .into_iter()
                        .map(|(pending, e)| {
                            let status = e.summary.status.as_deref().map(|s| status_text(i18n, s)).unwrap_or_default();
                            view! {
                                <li>
                                    <A href=href(&e)>
                                        <span class="name">{e.summary.name.clone()}</span>
                                        <span class="meta">{status} " · " {when(i18n, e.summary.updated_at)}</span>
                                        <PendingMark pending />
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()
                }}
            </ul>
        </section>
    }
}
