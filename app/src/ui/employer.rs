//! Employers: the list, a new employer, and the employer page with its visits and
//! the inclusive-hiring commitment.

use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use paktum_shared::employer::{
    Commitment, Employer, EmployerDoc, EmployerField, NewVisit, Opening,
};
use paktum_shared::record::Kind;
use paktum_shared::{Day, DocumentId, Editor, ModelError};

use super::caseload::in_order;
use super::language::{day_text, lang};
use super::parts::{
    ChangedByBoth, Details, Field, Outcome, PendingMark, RecordMemo, Said, SaveButton,
    SaveOrCancel, commitment_label, ready_record, record_page, record_save, shown_view,
    status_text, today,
};
use crate::field::{Problem, Words, use_field};
use crate::i18n::*;
use leptos_i18n::I18nContext;
use paktum_shared::device::{Repo, rows_of};

/// One change to an employer, run by the page's save action.
type EmployerOp = Rc<dyn Fn(&mut EmployerDoc, &Editor) -> Result<(), ModelError>>;

/// What the add-visit form holds when it is sent.
#[derive(Clone)]
struct VisitForm {
    date: String,
    purpose: String,
    report: String,
    opening: String,
    count: String,
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

    // Add visit: date, purpose, report, one opening, follow-up, commitment.
    let adding = RwSignal::new(false);
    let date = RwSignal::new(today().map(|d| d.to_string()).unwrap_or_default());
    let purpose = RwSignal::new(String::new());
    let report = RwSignal::new(String::new());
    let opening = RwSignal::new(String::new());
    let count = RwSignal::new("1".to_string());
    let follow = RwSignal::new(String::new());
    let commitment = RwSignal::new(String::new());
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
            let openings = match form.opening.trim() {
                "" => vec![],
                title => match form.count.trim().parse::<u32>() {
                    Ok(n) => vec![Opening {
                        title: title.to_string(),
                        count: n,
                        requirements: None,
                    }],
                    Err(_) => {
                        return Err(Problem::Form(|i| {
                            t_string!(i, visit_count_invalid).to_string()
                        }));
                    }
                },
            };
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
            for s in [purpose, report, opening, follow, commitment] {
                s.set(String::new());
            }
            count.set("1".into());
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
            opening: opening.get(),
            count: count.get(),
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
            {move || {
                employer().map(|e| {
                    e.conflicts
                        .into_iter()
                        .map(|(f, values)| {
                            let keep = move |value: String| {
                                run(Rc::new(move |e: &mut EmployerDoc, ed: &Editor| e.set_field(ed, f, Some(&value))))
                            };
                            view! { <ChangedByBoth label=field_label(i18n, f) values keep /> }
                        })
                        .collect_view()
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
                            <textarea rows="3" prop:value=report on:input=move |ev| report.set(event_target_value(&ev))></textarea>
                        </label>
                        <fieldset>
                            <legend>{t!(i18n, visit_openings)}</legend>
                            <Field value=opening>{t!(i18n, visit_opening_title)}</Field>
                            <label>
                                {t!(i18n, visit_opening_count)}
                                <input type="number" min="1" max="1000" inputmode="numeric" prop:value=count
                                    on:input=move |ev| count.set(event_target_value(&ev)) />
                            </label>
                        </fieldset>
                        <label>
                            {t!(i18n, visit_commitment)}
                            <select prop:value=commitment on:change=move |ev| commitment.set(event_target_value(&ev))>
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
                <ol class="timeline">
                    {move || {
                        employer().map(|e| {
                            e.visits
                                .into_iter()
                                .map(|v| {
                                    view! {
                                        <li>
                                            <p class="meta">{v.date.map(|d| day_text(i18n, d))} " · " {v.worker.clone()} " · " {v.purpose.clone()}</p>
                                            <p class="text">{v.text.clone()}</p>
                                            {v.openings
                                                .iter()
                                                .map(|o| view! { <p class="opening">{t!(i18n, visit_opening_line, count = o.count, title = o.title.clone())}</p> })
                                                .collect_view()}
                                            {v.follow_up.map(|d| view! { <p class="follow">{t!(i18n, note_follow_up_on, day = day_text(i18n, d))}</p> })}
                                        </li>
                                    }
                                })
                                .collect_view()
                        })
                    }}
                </ol>
            </section>
            <EmployerDetails employer=Signal::derive(employer) save />
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
        />
    }
}
