//! My day: the worker's own follow-ups (records assigned to them, follow-ups they
//! wrote) or, with the switch, the whole team's: overdue first, then today's, then
//! the next seven days'; each can be marked done here. Then the records touched most
//! recently. The switch lives in the URL (`?whose=team`).

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::components::A;
use leptos_router::hooks::{use_navigate, use_query_map};
use paktum_shared::DocumentId;
use paktum_shared::caseload::Entry;
use paktum_shared::device::{Due, Whose};
use paktum_shared::record::Kind;

use super::language::{due_view, when};
use super::parts::{Outcome, PendingMark, Said, status_text, today};
use crate::field::{Words, use_field};
use crate::i18n::*;

pub(super) fn href(entry: &Entry) -> String {
    match entry.summary.kind {
        Kind::Employer => format!("/employers/{}", entry.id),
        _ => format!("/contacts/{}", entry.id),
    }
}

/// The three parts of my day.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Part {
    Overdue,
    Today,
    Soon,
}

impl Part {
    fn of(due: Due) -> Self {
        match due {
            Due::Overdue(_) => Part::Overdue,
            Due::Today => Part::Today,
            Due::Soon(_) => Part::Soon,
        }
    }
}

#[component]
pub fn MyDay() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let query = use_query_map();
    let navigate = use_navigate();
    let team = move || query.with(|q| q.get("whose").as_deref() == Some("team"));
    let set_team = move |on: bool| {
        let url = if on { "/?whose=team" } else { "/" };
        navigate(
            url,
            NavigateOptions {
                replace: true,
                scroll: false,
                ..Default::default()
            },
        );
    };
    let worker = move || field.read(|r| r.identity().worker.clone());
    let due = Memo::new(move |_| {
        let (team, today) = (team(), today());
        field.read(|r| {
            let Some(today) = today else {
                return Vec::new();
            };
            let me = r.identity().worker.clone();
            let whose = if team { Whose::Team } else { Whose::Mine(&me) };
            r.follow_ups(whose, today)
                .into_iter()
                .map(|(due, e)| (Part::of(due), r.is_pending(&e.id), e))
                .collect::<Vec<_>>()
        })
    });
    let done = Action::new_local(move |id: &DocumentId| {
        let id = *id;
        async move {
            field
                .edit(move |r, now| r.finish_follow_up(id, now).map(|step| ((), step)))
                .await
                .map(|()| Some((|i| t_string!(i, day_marked_done).to_string()) as Words))
        }
    });
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
    let part = move |part: Part, id: &'static str| {
        let rows = move || {
            due.get()
                .into_iter()
                .filter(|(p, _, _)| *p == part)
                .collect::<Vec<_>>()
        };
        let heading = move || match part {
            Part::Overdue => t_string!(i18n, day_overdue).to_string(),
            Part::Today => t_string!(i18n, day_today).to_string(),
            Part::Soon => t_string!(i18n, day_soon).to_string(),
        };
        move || {
            let rows = rows();
            (!rows.is_empty()).then(|| {
                view! {
                    <section aria-labelledby=id>
                        <h3 id=id>{heading} " (" {rows.len()} ")"</h3>
                        <ul class="rows due">
                            {rows
                                .into_iter()
                                .map(|(_, pending, e)| due_row(e, pending, part, team(), done))
                                .collect_view()}
                        </ul>
                    </section>
                }
            })
        }
    };
    view! {
        <h1>{move || t!(i18n, day_title, worker = worker())}</h1>
        <crate::pwa::StorageNotices />
        <A href="/contacts/new" attr:class="button primary wide">{t!(i18n, new_contact)}</A>
        <section aria-labelledby="due">
        <h2 id="due">{t!(i18n, day_due)}</h2>
        <label class="switch">
            <input type="checkbox" role="switch" prop:checked=team
                on:change=move |ev| set_team(event_target_checked(&ev)) />
            {t!(i18n, day_whole_team)}
        </label>
        <p class="hint" role="status">
            {move || if team() { t!(i18n, day_showing_team).into_any() } else { t!(i18n, day_showing_mine).into_any() }}
        </p>
        <Outcome action=done />
        {part(Part::Overdue, "due-overdue")}
        {part(Part::Today, "due-today")}
        {part(Part::Soon, "due-soon")}
        {move || due.with(Vec::is_empty).then(|| view! { <p class="empty">{t!(i18n, day_nothing_due)}</p> })}
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

/// One follow-up: the record, when it is due (and whose, on the team's list), and
/// "Mark done".
fn due_row(
    e: Entry,
    pending: bool,
    part: Part,
    team: bool,
    done: Action<DocumentId, Said>,
) -> impl IntoView {
    let i18n = use_i18n();
    let due = e.summary.next_follow_up.zip(today());
    let employer = e.summary.kind == Kind::Employer;
    let whose = team.then(|| {
        e.summary
            .follow_up_by
            .clone()
            .unwrap_or(e.summary.worker.clone())
    });
    let name = e.summary.name.clone();
    let id = e.id;
    view! {
        <li class:overdue=part == Part::Overdue>
            <A href=href(&e)>
                <span class="name">{e.summary.name.clone()}</span>
                <span class="meta">
                    {move || due.map(|(on, today)| due_view(i18n, today, on))}
                    {employer.then(|| view! { " · " {t!(i18n, day_employer)} })}
                    {whose.map(|w| view! { " · " {w} })}
                </span>
                <PendingMark pending />
            </A>
            <button type="button" class="small"
                aria-label=move || format!("{}: {}", t_string!(i18n, note_done), name)
                disabled=move || done.pending().get()
                on:click=move |_| { done.dispatch_local(id); }>
                {t!(i18n, note_done)}
            </button>
        </li>
    }
}
