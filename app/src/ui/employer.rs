//! Employers: the list, a new employer, and the employer page with its visits and
//! the inclusive-hiring commitment.

use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use paktum_shared::employer::{
    Commitment, Employer, EmployerDoc, EmployerField, NewVisit, Opening, Visit,
};
use paktum_shared::record::Kind;
use paktum_shared::{Day, DocumentId, Editor, ModelError};

use super::caseload::in_order;
use super::language::{day_text, lang};
use super::parts::{
    ChangedByBoth, Details, Field, Outcome, PendingMark, RecordMemo, Said, SaveButton,
    SaveOrCancel, SelectLabel, Undo, UndoBar, commitment_label, read_only_team, ready_record,
    record_page, record_save, shown_view, status_text, today, unique_id,
};
use crate::field::{Problem, Words, use_field};
use crate::i18n::*;
use leptos_i18n::I18nContext;
use paktum_shared::device::{Repo, rows_of};

/// One change to an employer, run by the page's save action.
type EmployerOp = Rc<dyn Fn(&mut EmployerDoc, &Editor) -> Result<(), ModelError>>;

/// One opening row of the add-visit form.
#[derive(Clone, Copy)]
struct OpeningRow {
    title: RwSignal<String>,
    count: RwSignal<String>,
    requirements: RwSignal<String>,
}

impl OpeningRow {
    fn new() -> Self {
        OpeningRow {
            title: RwSignal::new(String::new()),
            count: RwSignal::new("1".into()),
            requirements: RwSignal::new(String::new()),
        }
    }
}

/// A visit's openings as rows of title, count and requirements, with "add" and "drop";
/// `keep_one`: the last row cannot be dropped (a new visit's form).
#[component]
fn OpeningsFieldset(rows: RwSignal<Vec<OpeningRow>>, keep_one: bool) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <fieldset>
            <legend>{t!(i18n, visit_openings)}</legend>
            <For
                each=move || rows.get().into_iter().enumerate()
                key=|(_, r)| r.title
                children=move |(i, r)| view! {
                    <div class="opening-row" role="group"
                        aria-label=move || format!("{} {}", t_string!(i18n, visit_opening_label), i + 1)>
                        <Field value=r.title>{t!(i18n, visit_opening_title)}</Field>
                        <label>
                            {t!(i18n, visit_opening_count)}
                            <input type="number" min="1" max="1000" inputmode="numeric" prop:value=r.count
                                on:input=move |ev| r.count.set(event_target_value(&ev)) />
                        </label>
                        <Field value=r.requirements>{t!(i18n, visit_opening_requirements)}</Field>
                        <Show when=move || !keep_one || rows.with(|v| v.len() > 1)>
                            <button type="button" class="small" on:click=move |_| {
                                rows.update(|v| v.retain(|o| o.title != r.title));
                            }>{t!(i18n, visit_opening_drop)}</button>
                        </Show>
                    </div>
                }
            />
            <button type="button" class="small" on:click=move |_| rows.update(|v| v.push(OpeningRow::new()))>
                {t!(i18n, visit_opening_more)}
            </button>
        </fieldset>
    }
}

/// What the add-visit form holds when it is sent.
#[derive(Clone)]
struct VisitForm {
    date: String,
    purpose: String,
    report: String,
    /// Title, count, requirements of each opening row.
    openings: Vec<(String, String, String)>,
    follow: String,
    commitment: String,
}

pub(super) fn field_label(i18n: I18nContext<Locale>, field: EmployerField) -> String {
    match field {
        EmployerField::Name => t_string!(i18n, employer_name),
        EmployerField::Sector => t_string!(i18n, employer_sector),
        EmployerField::Municipality => t_string!(i18n, field_municipality),
        EmployerField::ContactName => t_string!(i18n, employer_contact_name),
        EmployerField::ContactPhone => t_string!(i18n, employer_contact_phone),
        EmployerField::ContactEmail => t_string!(i18n, employer_contact_email),
        EmployerField::SizeBand => t_string!(i18n, employer_size),
    }
    .to_string()
}

fn value_of(e: &Employer, f: EmployerField) -> String {
    match f {
        EmployerField::Name => e.name.clone(),
        EmployerField::Sector => e.sector.clone().unwrap_or_default(),
        EmployerField::Municipality => e.municipality.clone().unwrap_or_default(),
        EmployerField::ContactName => e.contact_name.clone().unwrap_or_default(),
        EmployerField::ContactPhone => e.contact_phone.clone().unwrap_or_default(),
        EmployerField::ContactEmail => e.contact_email.clone().unwrap_or_default(),
        EmployerField::SizeBand => e
            .size_band
            .map(|b| b.as_str().to_string())
            .unwrap_or_default(),
    }
}

#[component]
pub fn Employers() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let rows = move || {
        field.read(|r| {
            in_order(lang(i18n), &rows_of(r, Kind::Employer))
                .into_iter()
                .map(|e| (r.is_pending(&e.id), e))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <h1>{t!(i18n, employers_title)}</h1>
        <A href="/employers/new" attr:class="button primary wide">{t!(i18n, employer_new)}</A>
        <ul class="rows" aria-label=move || t_string!(i18n, employers_title).to_string()>
            {move || {
                let rows = rows();
                if rows.is_empty() {
                    return view! { <li class="empty">{t!(i18n, employers_empty)}</li> }.into_any();
                }
                rows.into_iter()
                    .map(|(pending, e)| {
                        let level = e.summary.status.as_deref().map(|s| status_text(i18n, s)).unwrap_or_default();
                        view! {
                            <li>
                                <A href=format!("/employers/{}", e.id)>
                                    <span class="name">{e.summary.name.clone()}</span>
                                    <span class="meta">{level}</span>
                                    <PendingMark pending />
                                </A>
                            </li>
                        }
                    })
                    .collect_view()
                    .into_any()
            }}
        </ul>
    }
}

#[component]
pub fn NewEmployerPage() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    let create = Action::new_local(move |name: &String| {
        let name = name.clone();
        let navigate = navigate.clone();
        async move {
            let id = field
                .edit(move |r, now| r.create_employer(&name, now))
                .await?;
            navigate(&format!("/employers/{id}"), Default::default());
            Ok(None)
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch_local(name.get());
    };
    view! {
        <h1>{t!(i18n, employer_new)}</h1>
        <form on:submit=submit>
            <Field value=name required=true autofocus=true>{t!(i18n, employer_name)}</Field>
            <Outcome action=create />
            <SaveButton busy=create.pending() class="primary wide">{t!(i18n, employer_save)}</SaveButton>
        </form>
    }
}

#[component]
pub fn EmployerPage() -> impl IntoView {
    let (record, shown) = record_page(Repo::employer);
    shown_view(shown, move |id| {
        view! { <EmployerView id record /> }.into_any()
    })
}

#[component]
fn EmployerView(id: DocumentId, record: RecordMemo<Employer>) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let (read, pending) = ready_record(record);
    let employer = move || read.get();
    let save =
        record_save(move |r, now, op: EmployerOp| r.edit_employer(id, now, |e, ed| op(e, ed)));
    let run = move |op: EmployerOp| {
        save.dispatch_local(op);
    };
    let undo: RwSignal<Option<Undo>> = RwSignal::new(None);
    let read_only = read_only_team(id);

    // Add visit: date, purpose, report, openings, follow-up, commitment.
    let adding = RwSignal::new(false);
    let date = RwSignal::new(today().map(|d| d.to_string()).unwrap_or_default());
    let purpose = RwSignal::new(String::new());
    let report = RwSignal::new(String::new());
    let rows = RwSignal::new(vec![OpeningRow::new()]);
    let follow = RwSignal::new(String::new());
    let commitment = RwSignal::new(String::new());
    let commitment_id = StoredValue::new(unique_id("visit-commitment"));
    let add_visit = Action::new_local(move |form: &VisitForm| {
        let form = form.clone();
        let current = employer().map(|e| e.commitment);
        async move {
            let parse_day = |s: &str| -> Result<Option<Day>, Problem> {
                match s.trim() {
                    "" => Ok(None),
                    d => d.parse::<Day>().map(Some).map_err(Problem::Model),
                }
            };
            let Some(visit_day) = parse_day(&form.date)? else {
                return Err(Problem::Form(|i| {
                    t_string!(i, visit_date_missing).to_string()
                }));
            };
            let follow_up = parse_day(&form.follow)?;
            let mut openings = Vec::new();
            for (title, count, requirements) in form.openings {
                if title.trim().is_empty() {
                    continue;
                }
                let Ok(count) = count.trim().parse::<u32>() else {
                    return Err(Problem::Form(|i| {
                        t_string!(i, visit_count_invalid).to_string()
                    }));
                };
                openings.push(Opening {
                    title,
                    count,
                    requirements: Some(requirements).filter(|r| !r.trim().is_empty()),
                });
            }
            let level = form.commitment.parse::<Commitment>().ok();
            let visit = NewVisit {
                date: visit_day,
                purpose: form.purpose,
                text: form.report,
                openings,
                follow_up,
            };
            field
                .edit(move |r, now| {
                    r.edit_employer(id, now, |e, ed| {
                        e.add_visit(ed, visit)?;
                        if let Some(level) = level.filter(|l| Some(*l) != current) {
                            e.set_commitment(ed, level, Some(visit_day))?;
                        }
                        Ok(())
                    })
                })
                .await?;
            for s in [purpose, report, follow, commitment] {
                s.set(String::new());
            }
            rows.set(vec![OpeningRow::new()]);
            adding.set(false);
            Ok(Some((|i| t_string!(i, visit_saved).to_string()) as Words))
        }
    });
    let save_visit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add_visit.dispatch_local(VisitForm {
            date: date.get(),
            purpose: purpose.get(),
            report: report.get(),
            openings: rows
                .get()
                .iter()
                .map(|r| (r.title.get(), r.count.get(), r.requirements.get()))
                .collect(),
            follow: follow.get(),
            commitment: commitment.get(),
        });
    };

    view! {
        <article class="record">
            <header class="record-head">
                <h1>{move || employer().map(|e| e.name)}</h1>
                <p class="meta">
                    <span class="chip">{move || employer().map(|e| commitment_label(i18n, e.commitment))}</span>
                    " "
                    {move || employer().map(|e| t!(i18n, employer_openings, count = e.open_positions()))}
                    " "
                    {move || view! { <PendingMark pending=pending() /> }}
                    " "
                    <A href=format!("/records/{id}/history")>{t!(i18n, history_link)}</A>
                </p>
            </header>
            // Another team's record: the relay would refuse a change, so none is offered.
            <Show
                when=move || read_only.get().is_none()
                fallback=move || view! {
                    <read_only::EmployerReadOnly id employer=Signal::derive(employer) team=read_only.get().unwrap_or_default() />
                }
            >
            {move || {
                employer().map(|e| {
                    e.conflicts
                        .into_iter()
                        .map(|(f, values)| {
                            let keep = move |value: String| {
                                run(Rc::new(move |e: &mut EmployerDoc, ed: &Editor| e.set_field(ed, f, Some(&value))))
                            };
                            view! { <ChangedByBoth label=field_label(i18n, f) values keep anchor=format!("conflict-{}", f.key()) /> }
                        })
                        .collect_view()
                })
            }}
            {move || {
                employer().and_then(|e| {
                    let since = e.commitment_since;
                    (!e.commitment_conflict.is_empty()).then(|| {
                        let keep = move |value: String| {
                            if let Ok(level) = value.parse::<Commitment>() {
                                run(Rc::new(move |e: &mut EmployerDoc, ed: &Editor| e.set_commitment(ed, level, since)))
                            }
                        };
                        view! {
                            <ChangedByBoth label=t_string!(i18n, commitment_title).to_string()
                                values=e.commitment_conflict keep word=status_text anchor="conflict-commitment".to_string() />
                        }
                    })
                })
            }}
            <Outcome action=save />
            <Outcome action=add_visit />
            <section aria-labelledby="visits">
                <h2 id="visits">{t!(i18n, visits_title)}</h2>
                <Show
                    when=move || adding.get()
                    fallback=move || view! {
                        <button type="button" class="primary wide" on:click=move |_| adding.set(true)>{t!(i18n, visit_add)}</button>
                    }
                >
                    <form class="visit-form" on:submit=save_visit>
                        <Field value=date kind="date">{t!(i18n, visit_date)}</Field>
                        <Field value=purpose autofocus=true>{t!(i18n, visit_purpose)}</Field>
                        <label>
                            {t!(i18n, visit_report)}
                            <textarea rows="3" autocomplete="off" prop:value=report on:input=move |ev| report.set(event_target_value(&ev))></textarea>
                        </label>
                        <OpeningsFieldset rows keep_one=true />
                        <label>
                            <SelectLabel id=commitment_id.get_value()>{t!(i18n, visit_commitment)}</SelectLabel>
                            <select aria-labelledby=commitment_id.get_value() prop:value=commitment on:change=move |ev| commitment.set(event_target_value(&ev))>
                                <option value="">{t!(i18n, visit_commitment_unchanged)}</option>
                                {Commitment::ALL
                                    .into_iter()
                                    .map(|c| view! { <option value=c.as_str()>{move || commitment_label(i18n, c)}</option> })
                                    .collect_view()}
                            </select>
                        </label>
                        <Field value=follow kind="date">{t!(i18n, note_follow_up)}</Field>
                        <SaveOrCancel open=adding busy=add_visit.pending()>{t!(i18n, visit_save)}</SaveOrCancel>
                    </form>
                </Show>
                <ol class="timeline" aria-label=move || t_string!(i18n, visits_title).to_string()>
                    {move || {
                        employer().map(|e| {
                            e.visits
                                .into_iter()
                                .map(|v| view! { <VisitItem visit=v save undo /> })
                                .collect_view()
                        })
                    }}
                </ol>
            </section>
            <CommitmentSection employer=Signal::derive(employer) save />
            <referrals::ReferralsTo id />
            <EmployerDetails employer=Signal::derive(employer) save />
            <UndoBar undo />
            </Show>
        </article>
    }
}

#[component]
fn EmployerDetails(
    employer: Signal<Option<Employer>>,
    save: Action<EmployerOp, Said>,
) -> impl IntoView {
    let busy = save.pending();
    let save = move |changed: Vec<(EmployerField, String)>| {
        save.dispatch_local(Rc::new(move |e: &mut EmployerDoc, ed: &Editor| {
            for (f, v) in &changed {
                e.set_field(ed, *f, Some(v.as_str()))?;
            }
            Ok(())
        }));
    };
    view! {
        <Details
            heading="employer-details"
            record=employer
            fields={&EmployerField::ALL}
            label_of=field_label
            value_of=value_of
            kind_of=|_| "text"
            save
            busy
            conflict_of=|e: &Employer, f| e.conflicts.contains_key(&f).then(|| format!("conflict-{}", f.key()))
        />
    }
}

mod read_only;
mod visit_edit;

/// One visit: what was found, its openings, its follow-up (done or reopened), remove.
#[component]
fn VisitItem(
    visit: Visit,
    save: Action<EmployerOp, Said>,
    undo: RwSignal<Option<Undo>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let busy = save.pending();
    let run = move |op: EmployerOp| {
        save.dispatch_local(op);
    };
    let v = visit;
    let editing = RwSignal::new(false);
    let edited = v.clone();
    let done_id = v.id.clone();
    let set_done = move |done: bool| {
        let id = done_id.clone();
        run(Rc::new(move |e: &mut EmployerDoc, ed: &Editor| {
            e.set_visit_done(ed, &id, done)
        }));
    };
    let remove_id = v.id.clone();
    let remove = move |_| {
        let id = remove_id.clone();
        let removed = id.clone();
        run(Rc::new(move |e: &mut EmployerDoc, ed: &Editor| {
            e.remove_visit(ed, &removed)
        }));
        undo.set(Some(Undo::new(
            |i| t_string!(i, visit_removed).to_string(),
            move || {
                let id = id.clone();
                save.dispatch_local(Rc::new(move |e: &mut EmployerDoc, ed: &Editor| {
                    e.restore_visit(ed, &id)
                }));
            },
        )));
    };
    let follow = v.follow_up.map(|d| {
        let day = day_text(i18n, d);
        if v.done {
            view! {
                <p class="follow done">
                    {t!(i18n, note_follow_up_done_on, day = day.clone())} " "
                    <button type="button" class="small" disabled=move || busy.get()
                        on:click=move |_| set_done(false)>{t!(i18n, note_reopen)}</button>
                </p>
            }
            .into_any()
        } else {
            view! {
                <p class="follow">
                    {t!(i18n, note_follow_up_on, day = day.clone())} " "
                    <button type="button" class="small" disabled=move || busy.get()
                        on:click=move |_| set_done(true)>{t!(i18n, note_done)}</button>
                </p>
            }
            .into_any()
        }
    });
    view! {
        <li>
            <p class="meta">{v.date.map(|d| day_text(i18n, d))} " · " {v.worker.clone()} " · " {v.purpose.clone()}</p>
            <Show when=move || editing.get()>
                <visit_edit::VisitEditForm visit=edited.clone() save open=editing />
            </Show>
            <p class="text">{v.text.clone()}</p>
            <OpeningsList openings=v.openings.clone() />
            {follow}
            <div class="item-actions" hidden=move || editing.get()>
                <button type="button" class="small" on:click=move |_| editing.set(true)>{t!(i18n, visit_edit)}</button>
                <button type="button" class="small" disabled=move || busy.get() on:click=remove>{t!(i18n, visit_remove)}</button>
            </div>
        </li>
    }
}

/// The inclusive-hiring commitment, changed on its own (not only with a visit).
#[component]
fn CommitmentSection(
    employer: Signal<Option<Employer>>,
    save: Action<EmployerOp, Said>,
) -> impl IntoView {
    let i18n = use_i18n();
    let busy = save.pending();
    let level = RwSignal::new(String::new());
    let level_id = unique_id("commitment-level");
    let since = RwSignal::new(today().map(|d| d.to_string()).unwrap_or_default());
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let current = employer.get_untracked().map(|e| e.commitment);
        let chosen = level.get_untracked();
        let Ok(chosen) = (if chosen.is_empty() {
            current.ok_or(())
        } else {
            chosen.parse::<Commitment>().map_err(|_| ())
        }) else {
            return;
        };
        let on = since.get_untracked();
        save.dispatch_local(Rc::new(move |e: &mut EmployerDoc, ed: &Editor| {
            let on = match on.trim() {
                "" => None,
                d => Some(d.parse::<Day>()?),
            };
            e.set_commitment(ed, chosen, on)
        }));
    };
    view! {
        // No aria-labelledby: the visit form's select has the same name.
        <section>
            <h2 id="commitment">{t!(i18n, commitment_title)}</h2>
            <p>
                {move || employer.get().map(|e| match e.commitment_since {
                    Some(d) => t!(i18n, commitment_now_since, level = commitment_label(i18n, e.commitment), day = day_text(i18n, d)).into_any(),
                    None => t!(i18n, commitment_now, level = commitment_label(i18n, e.commitment)).into_any(),
                })}
                {move || employer.get().filter(|e| !e.commitment_conflict.is_empty()).map(|_| view! {
                    " " <a class="conflict-mark" href="#conflict-commitment">{t!(i18n, conflict_mark)}</a>
                })}
            </p>
            <form on:submit=change>
                <label>
                    <SelectLabel id=level_id.clone()>{t!(i18n, commitment_level)}</SelectLabel>
                    <select aria-labelledby=level_id.clone()
                        prop:value=move || {
                            let current = employer.get().map(|e| e.commitment.as_str().to_string()).unwrap_or_default();
                            if level.get().is_empty() { current } else { level.get() }
                        }
                        on:change=move |ev| level.set(event_target_value(&ev))
                    >
                        {Commitment::ALL
                            .into_iter()
                            .map(|c| view! { <option value=c.as_str()>{move || commitment_label(i18n, c)}</option> })
                            .collect_view()}
                    </select>
                </label>
                <Field value=since kind="date">{t!(i18n, commitment_since)}</Field>
                <SaveButton busy class="">{t!(i18n, commitment_change)}</SaveButton>
            </form>
        </section>
    }
}

mod referrals;

/// A visit's openings as read: title, count and requirements (the visit on the employer
/// page, editable or read-only).
#[component]
fn OpeningsList(openings: Vec<Opening>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ul class="openings" aria-label=move || t_string!(i18n, visit_openings).to_string()>
            {openings
                .into_iter()
                .map(|o| {
                    let requirements = o.requirements.map(|r| format!(" · {r}"));
                    view! {
                        <li class="opening">
                            {t!(i18n, visit_opening_line, count = o.count, title = o.title.clone())}
                            <span class="meta">{requirements}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
    }
}
