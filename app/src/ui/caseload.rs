//! The caseload: every young person of the team, sorted as the worker's language
//! sorts names, with search (case and accents ignored) and filters that live in the
//! URL.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use paktum_shared::caseload::Entry;
use paktum_shared::device::workers;
use paktum_shared::language::{Lang, fold, matches, sort_key};
use paktum_shared::record::Kind;

use super::language::{day_text, due_view, lang};
use super::parts::{PendingMark, StatusOptions, status_text, today};
use crate::field::use_field;
use crate::i18n::*;

/// Rows rendered at once; a search narrows a big caseload faster than scrolling.
const SHOWN: usize = 200;

/// Index rows in the order `lang`'s readers expect names in.
pub(super) fn in_order(lang: Lang, rows: &[Entry]) -> Vec<Entry> {
    let mut keyed: Vec<_> = rows
        .iter()
        .map(|e| (sort_key(lang, &e.summary.name), e))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, e)| e.clone()).collect()
}

#[component]
pub fn Caseload() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let query = use_query_map();
    let navigate = use_navigate();
    let param = move |key: &'static str| query.with(|q| q.get(key).unwrap_or_default());
    // The search text is often a person's name: it stays out of the URL, or the
    // browser's history, session and favicon stores keep it where no erasure reaches
    // (issue 15). The filters by status and worker live in the URL.
    let (search, set_search) = signal(String::new());
    let set_param = move |key: &'static str, value: String| {
        let mut pairs: Vec<(String, String)> = ["status", "worker"]
            .into_iter()
            .map(|k| {
                (
                    k.to_string(),
                    if k == key { value.clone() } else { param(k) },
                )
            })
            .filter(|(_, v)| !v.is_empty())
            .collect();
        pairs.sort();
        let qs: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", js_sys::encode_uri_component(&v)))
            .collect();
        let url = if qs.is_empty() {
            "/caseload".to_string()
        } else {
            format!("/caseload?{}", qs.join("&"))
        };
        navigate(
            &url,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let set_status = set_param.clone();
    let set_worker = set_param;
    // A memo: a sync that changes nothing in these rows does not rebuild the list.
    // It holds the shown rows and the count of all matches: with 10,000 contacts,
    // copying every row on each sync tick cost more than the sync itself.
    // The rows in the worker's language's order, sorted again only when the index rows
    // or the language change (sort keys for 10,000 names are not free).
    let ordered = StoredValue::new_local(None::<(Arc<[Entry]>, Lang, Arc<[Entry]>)>);
    let rows = Memo::new(move |_| {
        let (q, status, worker) = (fold(&search.get()), param("status"), param("worker"));
        let lang = lang(i18n);
        field.read(|r| {
            let index = r.sorted_rows(Kind::Contact);
            let cached = ordered.with_value(|o| {
                o.as_ref()
                    .filter(|(from, l, _)| Arc::ptr_eq(from, &index) && *l == lang)
                    .map(|(_, _, rows)| rows.clone())
            });
            let sorted = cached.unwrap_or_else(|| {
                let rows: Arc<[Entry]> = in_order(lang, &index).into();
                ordered.set_value(Some((index, lang, rows.clone())));
                rows
            });
            let mut matching = sorted
                .iter()
                .filter(|e| matches(&q, &e.summary.name))
                .filter(|e| {
                    status.is_empty() || e.summary.status.as_deref() == Some(status.as_str())
                })
                .filter(|e| worker.is_empty() || e.summary.worker == worker);
            let shown: Vec<(bool, Entry)> = matching
                .by_ref()
                .take(SHOWN)
                .map(|e| (r.is_pending(&e.id), e.clone()))
                .collect();
            let total = shown.len() + matching.count();
            (shown, total)
        })
    });
    let all_workers = move || {
        let lang = lang(i18n);
        let mut all = field.read(workers);
        all.sort_by_cached_key(|w| sort_key(lang, w));
        all
    };
    let damaged = move || field.read(|r| r.damaged().len());
    view! {
        <h1>{t!(i18n, caseload_title)}</h1>
        <div class="filters">
            <label class="search">
                <span class="visually-hidden">{t!(i18n, caseload_search)}</span>
                <input type="search" autocomplete="off" placeholder=move || t_string!(i18n, caseload_search).to_string()
                    prop:value=move || search.get() on:input=move |ev| set_search.set(event_target_value(&ev)) />
            </label>
            <label>
                <span class="visually-hidden">{t!(i18n, caseload_filter_status)}</span>
                <select prop:value=move || param("status") on:change=move |ev| set_status("status", event_target_value(&ev))>
                    <option value="">{t!(i18n, caseload_all_statuses)}</option>
                    <StatusOptions />
                </select>
            </label>
            <label>
                <span class="visually-hidden">{t!(i18n, caseload_filter_worker)}</span>
                <select prop:value=move || param("worker") on:change=move |ev| set_worker("worker", event_target_value(&ev))>
                    <option value="">{t!(i18n, caseload_all_workers)}</option>
                    {move || {
                        all_workers()
                            .into_iter()
                            .map(|w| view! { <option value=w.clone()>{w.clone()}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
        </div>
        {move || (damaged() > 0).then(|| view! { <p class="error" role="alert">{t!(i18n, damaged_some, count = damaged())}</p> })}
        <ul class="rows" aria-label=move || t_string!(i18n, caseload_title).to_string()>
            {move || {
                let (rows, _) = rows.get();
                if rows.is_empty() {
                    return view! { <li class="empty">{t!(i18n, caseload_empty)}</li> }.into_any();
                }
                rows.into_iter()
                    .map(|(pending, e)| {
                        let status = e.summary.status.as_deref().map(|s| status_text(i18n, s)).unwrap_or_default();
                        let follow = e.summary.next_follow_up.map(|d| {
                            let due = today().map(|t| view! { " · " {due_view(i18n, t, d)} });
                            view! { {t!(i18n, caseload_follow_up, day = day_text(i18n, d))} {due} }
                        });
                        view! {
                            <li>
                                <A href=format!("/contacts/{}", e.id)>
                                    <span class="name">{e.summary.name.clone()}</span>
                                    <span class="meta">{status} " · " {e.summary.worker.clone()}</span>
                                    {follow.map(|f| view! { <span class="meta">{f}</span> })}
                                    <PendingMark pending />
                                </A>
                            </li>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </ul>
        {move || {
            let total = rows.with(|(_, total)| *total);
            (total > SHOWN).then(|| view! { <p class="hint">{t!(i18n, caseload_more, shown = SHOWN, total = total)}</p> })
        }}
    }
}
