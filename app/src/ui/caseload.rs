//! The caseload: every young person of the team, in the worker's language's name order
//! (or by status, or by last change), with search (display name, full name, phone,
//! municipality; case and accents ignored), filters by status, worker and "not yet on
//! the relay", and the count per status. Filters live in the URL. Only the rows in
//! view (and a few either side) are rendered: rows have a fixed height, so the list is
//! as tall as all of them and scrolling reaches the 10,000th.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_navigate, use_query_map};
use paktum_shared::caseload::Entry;
use paktum_shared::contact::Status;
use paktum_shared::device::{Repo, SortBy, sort_rows, status_counts, workers};
use paktum_shared::language::{Lang, fold, sort_key};
use paktum_shared::record::Kind;
use paktum_shared::{Day, DocumentId};

use super::language::{day_text, lang, number, when};
use super::parts::{PendingMark, SelectLabel, status_label, status_text, unique_id};
use crate::field::use_field;
use crate::i18n::*;

/// A row's height in CSS pixels (`ul.window li` in app.css says the same).
const ROW_PX: f64 = 80.0;
/// Rows rendered above and below the ones in view.
const BUFFER: usize = 8;
/// The URL's filter keys. The search text is not one: it is often a person's name, and
/// in the URL the browser's history, session and favicon stores would keep it where no
/// erasure reaches (issue 15).
const PARAMS: [&str; 4] = ["status", "worker", "sort", "unsynced"];

/// Index rows in the order `lang`'s readers expect names in.
pub(super) fn in_order(lang: Lang, rows: &[Entry]) -> Vec<Entry> {
    let mut keyed: Vec<_> = rows
        .iter()
        .map(|e| (sort_key(lang, &e.summary.name), e))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.into_iter().map(|(_, e)| e.clone()).collect()
}

/// What the list shows: the matching rows in order, the count per status of the rows
/// the other filters leave, and how many contacts there are in all.
#[derive(Clone, Default, PartialEq)]
struct Listed {
    rows: Arc<[Entry]>,
    counts: std::collections::BTreeMap<String, usize>,
    all: usize,
}

#[component]
pub fn Caseload() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let query = use_query_map();
    let navigate = use_navigate();
    let param = move |key: &'static str| query.with(|q| q.get(key).unwrap_or_default());
    let (search, set_search) = signal(String::new());
    let (status_id, worker_id, sort_id) = (
        unique_id("filter-status"),
        unique_id("filter-worker"),
        unique_id("sort"),
    );
    let set_param_now = move |key: &'static str, value: String| {
        let mut pairs: Vec<(String, String)> = PARAMS
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
    // Copy, for every control's handler.
    let set_param_now = StoredValue::new_local(set_param_now);
    let set_param =
        move |key: &'static str, value: String| set_param_now.with_value(|f| f(key, value));
    // The rows in the worker's language's order, sorted again only when the index rows
    // or the language change (sort keys for 10,000 names are not free).
    let ordered = StoredValue::new_local(None::<(Arc<[Entry]>, Lang, Arc<[Entry]>)>);
    let listed = Memo::new(move |_| {
        let q = fold(&search.get());
        let (status, worker) = (param("status"), param("worker"));
        let (sort, unsynced) = (SortBy::parse(&param("sort")), !param("unsynced").is_empty());
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
            let mut rows: Vec<&Entry> = sorted
                .iter()
                .filter(|e| worker.is_empty() || e.summary.worker == worker)
                .filter(|e| !unsynced || r.is_pending(&e.id))
                .filter(|e| r.finds(e, &q))
                .collect();
            let counts = status_counts(rows.iter().copied());
            rows.retain(|e| {
                status.is_empty() || e.summary.status.as_deref() == Some(status.as_str())
            });
            sort_rows(&mut rows, sort);
            // Unfiltered and by name, the list is the ordered rows themselves: no copy,
            // and an unchanged index compares equal by pointer (no redraw).
            let rows = if sort == SortBy::Name && rows.len() == sorted.len() {
                sorted.clone()
            } else {
                rows.into_iter().cloned().collect()
            };
            Listed {
                rows,
                counts,
                all: sorted.len(),
            }
        })
    });
    let all_workers = move || {
        let lang = lang(i18n);
        let mut all = field.read(workers);
        for member in field.members() {
            if !all.contains(&member) {
                all.push(member);
            }
        }
        all.sort_by_cached_key(|w| sort_key(lang, w));
        all
    };
    // A search also looks at fields only the records hold: read them, in slices.
    Effect::new(move |_| {
        if !search.with(|q| q.trim().is_empty()) {
            field.read(|_| ());
            field.prepare_search();
        }
    });
    let damaged = move || field.read(|r| r.damaged().len());
    let unsynced_count = move || field.read(|r| r.pending_count());

    // The window: which rows are in view, from the list's place on the page.
    let list = NodeRef::<leptos::html::Ul>::new();
    let in_view = RwSignal::new((0usize, 2 * BUFFER + 12));
    let measure = move || {
        let (Some(ul), Some(window)) = (list.get_untracked(), web_sys::window()) else {
            return;
        };
        let top = -ul.get_bounding_client_rect().top();
        let height = window
            .inner_height()
            .ok()
            .and_then(|h| h.as_f64())
            .unwrap_or(800.0);
        let first = (top.max(0.0) / ROW_PX) as usize;
        let last = ((top + height).max(0.0) / ROW_PX).ceil() as usize;
        let range = (first.saturating_sub(BUFFER), last + BUFFER);
        if in_view.get_untracked() != range {
            in_view.set(range);
        }
    };
    let on_scroll = window_event_listener(leptos::ev::scroll, move |_| measure());
    let on_resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || {
        on_scroll.remove();
        on_resize.remove();
    });
    // The window's rows, read from the device once per redraw or scroll for all of them.
    let shown = Memo::new(move |_| {
        let range = in_view.get();
        listed.with(|l| field.read(|r| shown_rows(r, &l.rows, range)))
    });
    // A new list (a search, a sync) may be shorter than where the page was.
    Effect::new(move |_| {
        listed.track();
        measure();
    });

    let count_of = move |s: Status| listed.with(|l| l.counts.get(s.as_str()).copied().unwrap_or(0));
    view! {
        <h1>{t!(i18n, caseload_title)}</h1>
        <super::contact::erase::ErasedNotice />
        <div class="filters">
            <label class="search">
                <span class="visually-hidden">{t!(i18n, caseload_search)}</span>
                <input type="search" autocomplete="off" placeholder=move || t_string!(i18n, caseload_search).to_string()
                    prop:value=move || search.get() on:input=move |ev| set_search.set(event_target_value(&ev)) />
            </label>
            <label>
                <SelectLabel id=status_id.clone() hidden=true>{t!(i18n, caseload_filter_status)}</SelectLabel>
                <select aria-labelledby=status_id.clone() prop:value=move || param("status") on:change=move |ev| set_param("status", event_target_value(&ev))>
                    <option value="">{t!(i18n, caseload_all_statuses)}</option>
                    {Status::ALL
                        .into_iter()
                        .map(|s| view! {
                            <option value=s.as_str()>
                                {move || format!("{} ({})", status_label(i18n, s), number(i18n, count_of(s)))}
                            </option>
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                <SelectLabel id=sort_id.clone() hidden=true>{t!(i18n, caseload_sort)}</SelectLabel>
                <select aria-labelledby=sort_id.clone() prop:value=move || param("sort") on:change=move |ev| set_param("sort", event_target_value(&ev))>
                    <option value="">{t!(i18n, caseload_sort_name)}</option>
                    <option value=SortBy::Status.as_str()>{t!(i18n, caseload_sort_status)}</option>
                    <option value=SortBy::Changed.as_str()>{t!(i18n, caseload_sort_changed)}</option>
                </select>
            </label>
            <label class="wide">
                <SelectLabel id=worker_id.clone() hidden=true>{t!(i18n, caseload_filter_worker)}</SelectLabel>
                <select aria-labelledby=worker_id.clone() prop:value=move || param("worker") on:change=move |ev| set_param("worker", event_target_value(&ev))>
                    <option value="">{t!(i18n, caseload_all_workers)}</option>
                    {move || {
                        all_workers()
                            .into_iter()
                            .map(|w| view! { <option value=w.clone()>{w.clone()}</option> })
                            .collect_view()
                    }}
                </select>
            </label>
            <label class="check">
                <input type="checkbox" prop:checked=move || !param("unsynced").is_empty()
                    on:change=move |ev| set_param("unsynced", if event_target_checked(&ev) { "1".into() } else { String::new() }) />
                {move || t!(i18n, caseload_unsynced, count = number(i18n, unsynced_count()))}
            </label>
        </div>
        {move || (damaged() > 0).then(|| view! { <p class="error" role="alert">{t!(i18n, damaged_some, count = damaged())}</p> })}
        <p class="hint" role="status">
            {move || {
                let (shown, all) = listed.with(|l| (l.rows.len(), l.all));
                t!(i18n, caseload_count, shown = number(i18n, shown), total = number(i18n, all))
            }}
            {move || {
                let left = field.search_left();
                (!search.with(|q| q.trim().is_empty()) && left > 0)
                    .then(|| view! { " · " {t!(i18n, caseload_searching, count = number(i18n, left))} })
            }}
        </p>
        <ul class="rows window" node_ref=list aria-label=move || t_string!(i18n, caseload_title).to_string()
            style:height=move || format!("{}px", listed.with(|l| l.rows.len()).max(1) as f64 * ROW_PX)>
            {move || listed.with(|l| l.rows.is_empty()).then(|| view! { <li class="empty">{t!(i18n, caseload_empty)}</li> })}
            // A fixed set of row slots, keyed by their place in the window: scrolling
            // changes what the slots say (text and position), it builds no row; a slot
            // is made or dropped only when the window's length changes.
            <For
                each=move || 0..shown.with(|w| w.rows.len())
                key=|slot| *slot
                children=move |slot| caseload_row(shown, slot)
            />
        </ul>
    }
}

/// What one row of the window says, read once per redraw for the whole window.
#[derive(Clone, Debug, PartialEq)]
struct Row {
    /// Its place in the list, from 0.
    at: usize,
    id: DocumentId,
    name: String,
    worker: String,
    status: Option<String>,
    follow_up: Option<Day>,
    relay: Relay,
}

/// Whether a row's latest change is on the relay, and since when.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Relay {
    Pending,
    Since(i64),
    On,
}

/// The rows in view (and a few either side), with the list's length.
#[derive(Clone, Debug, Default, PartialEq)]
struct Shown {
    rows: Vec<Row>,
    total: usize,
}

/// The window's rows: the rows of `listed` from `first` to `last`, with what the device
/// knows of each, in one read of the device.
fn shown_rows(r: &Repo, rows: &[Entry], (first, last): (usize, usize)) -> Shown {
    let total = rows.len();
    let rows = rows[first.min(total)..last.min(total)]
        .iter()
        .enumerate()
        .map(|(k, e)| Row {
            at: first + k,
            id: e.id,
            name: e.summary.name.clone(),
            worker: e.summary.worker.clone(),
            status: e.summary.status.clone(),
            follow_up: e.summary.next_follow_up,
            relay: if r.is_pending(&e.id) {
                Relay::Pending
            } else {
                r.on_relay_since(&e.id).map_or(Relay::On, Relay::Since)
            },
        })
        .collect();
    Shown { rows, total }
}

/// The row slot `slot` of the window: name; status, worker and follow-up; whether its
/// latest change is on the relay, and since when. Each part redraws only when what it
/// says changes (a slot's row changes as the list scrolls).
fn caseload_row(shown: Memo<Shown>, slot: usize) -> impl IntoView + use<> {
    let i18n = use_i18n();
    let row = Memo::new(move |_| shown.with(|w| w.rows.get(slot).cloned()));
    let part =
        move |f: fn(&Row) -> String| move || row.with(|r| r.as_ref().map(f).unwrap_or_default());
    let at = Memo::new(move |_| row.with(|r| r.as_ref().map_or(0, |r| r.at)));
    let status = Memo::new(move |_| row.with(|r| r.as_ref().and_then(|r| r.status.clone())));
    let follow_up = Memo::new(move |_| row.with(|r| r.as_ref().and_then(|r| r.follow_up)));
    let relay = Memo::new(move |_| row.with(|r| r.as_ref().map_or(Relay::On, |r| r.relay)));
    // Worded inside closures: a switch of language redraws the words in place.
    let status = move || {
        status
            .get()
            .map(|s| status_text(i18n, &s))
            .unwrap_or_default()
    };
    let follow = move || {
        follow_up
            .get()
            .map(|d| view! { " · " {move || t!(i18n, caseload_follow_up, day = day_text(i18n, d))}})
    };
    let relay = move || {
        match relay.get() {
        Relay::Pending => view! { <PendingMark pending=true /> }.into_any(),
        Relay::Since(ms) => {
            view! { <span class="meta">{t!(i18n, caseload_on_relay_since, time = when(i18n, ms))}</span> }
                .into_any()
        }
        Relay::On => view! { <span class="meta">{t!(i18n, caseload_on_relay)}</span> }.into_any(),
    }
    };
    view! {
        <li style:top=move || format!("{}px", at.get() as f64 * ROW_PX)
            aria-posinset=move || at.get() + 1 aria-setsize=move || shown.with(|w| w.total)>
            // A plain link (the router takes its clicks): one element per row, no
            // component to build.
            <a href=part(|r| format!("/contacts/{}", r.id))>
                <span class="name">{part(|r| r.name.clone())}</span>
                <span class="meta line">{status} " · " {part(|r| r.worker.clone())} {follow}</span>
                <span class="relay">{relay}</span>
            </a>
        </li>
    }
}
