//! A contact's ESF+ participant data: entry facts (asked once the young person has
//! given consent, and corrected later), the leaving date, and dated results after
//! leaving (a result entered by mistake removed, with "Undo"). Without active consent
//! the entry form is not offered; the section says why instead. `ParticipantReadOnly`:
//! the same facts and results on another team's record, with nothing to change.

use std::rc::Rc;

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use paktum_shared::contact::{
    Contact, ContactDoc, Education, Entry, Gender, LabourStatus, ParticipantResult,
};
use paktum_shared::{Day, Editor};

use super::{ContactOp, ContactSave};
use crate::i18n::*;
use crate::ui::language::day_text;
use crate::ui::parts::{Field, SaveButton, SaveOrCancel, SelectLabel, Undo, today, unique_id};

pub fn labour_label(i18n: I18nContext<Locale>, s: LabourStatus) -> String {
    match s {
        LabourStatus::Unemployed => t_string!(i18n, labour_unemployed),
        LabourStatus::LongTermUnemployed => t_string!(i18n, labour_long_term_unemployed),
        LabourStatus::Inactive => t_string!(i18n, labour_inactive),
        LabourStatus::Employed => t_string!(i18n, labour_employed),
    }
    .to_string()
}

pub fn education_label(i18n: I18nContext<Locale>, e: Education) -> String {
    match e {
        Education::Isced0To2 => t_string!(i18n, education_isced_0_2),
        Education::Isced3To4 => t_string!(i18n, education_isced_3_4),
        Education::Isced5To8 => t_string!(i18n, education_isced_5_8),
    }
    .to_string()
}

pub fn gender_label(i18n: I18nContext<Locale>, g: Gender) -> String {
    match g {
        Gender::Woman => t_string!(i18n, gender_woman),
        Gender::Man => t_string!(i18n, gender_man),
        Gender::NonBinary => t_string!(i18n, gender_non_binary),
    }
    .to_string()
}

pub fn result_label(i18n: I18nContext<Locale>, r: ParticipantResult) -> String {
    match r {
        ParticipantResult::InEducation => t_string!(i18n, result_in_education),
        ParticipantResult::Qualification => t_string!(i18n, result_qualification),
        ParticipantResult::Employed => t_string!(i18n, result_employed),
        ParticipantResult::JobSearching => t_string!(i18n, result_job_searching),
    }
    .to_string()
}

/// A labelled select over a stored enum, starting on "Choose…" (nothing is guessed).
fn choice<T: Copy + 'static>(
    i18n: I18nContext<Locale>,
    label: AnyView,
    all: &'static [T],
    key: fn(T) -> &'static str,
    word: fn(I18nContext<Locale>, T) -> String,
    value: RwSignal<String>,
) -> impl IntoView {
    let id = unique_id("choice");
    view! {
        <label>
            <SelectLabel id=id.clone()>{label}</SelectLabel>
            <select aria-labelledby=id required prop:value=value on:change=move |ev| value.set(event_target_value(&ev))>
                <option value="">{t!(i18n, participant_choose)}</option>
                {all.iter().map(|v| view! { <option value=key(*v)>{word(i18n, *v)}</option> }).collect_view()}
            </select>
        </label>
    }
}

fn day_of(raw: &str) -> Option<Day> {
    raw.parse().ok()
}

#[component]
pub(super) fn ParticipantSection(
    contact: Signal<Option<Contact>>,
    save: ContactSave,
    undo: RwSignal<Option<Undo>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let busy = save.pending();
    let run = move |op: ContactOp| {
        save.dispatch_local(op);
    };
    let default_day = move || today().map(|d| d.to_string()).unwrap_or_default();

    let entry_on = RwSignal::new(default_day());
    let labour = RwSignal::new(String::new());
    let education = RwSignal::new(String::new());
    let gender = RwSignal::new(String::new());
    let enter = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Some(entry_on), Ok(labour_status), Ok(education), Ok(gender)) = (
            day_of(&entry_on.get()),
            labour.get().parse(),
            education.get().parse(),
            gender.get().parse(),
        ) else {
            return;
        };
        let entry = Entry {
            entry_on,
            labour_status,
            education,
            gender,
        };
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.set_participant_entry(ed, entry)
        }));
    };

    // Correcting the entry facts: the same fields, copied from the record when the form
    // opens (a sync meanwhile does not overwrite what is being typed).
    let correcting = RwSignal::new(false);
    let correct = move |_| {
        let Some(e) = contact
            .get_untracked()
            .and_then(|c| c.participant)
            .map(|p| p.entry)
        else {
            return;
        };
        entry_on.set(e.entry_on.to_string());
        labour.set(e.labour_status.as_str().to_string());
        education.set(e.education.as_str().to_string());
        gender.set(e.gender.as_str().to_string());
        correcting.set(true);
    };
    let save_correction = move |ev: leptos::ev::SubmitEvent| {
        enter(ev);
        correcting.set(false);
    };

    let remove_result = move |id: String| {
        let removed = id.clone();
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.remove_participant_result(ed, &removed)
        }));
        undo.set(Some(Undo::new(
            |i| t_string!(i, participant_result_removed).to_string(),
            move || {
                let id = id.clone();
                save.dispatch_local(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
                    c.restore_participant_result(ed, &id)
                }));
            },
        )));
    };

    let left_on = RwSignal::new(default_day());
    let leave = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(on) = day_of(&left_on.get()) else {
            return;
        };
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.set_participant_left(ed, Some(on))
        }));
    };

    let result = RwSignal::new(String::new());
    let result_on = RwSignal::new(default_day());
    let add_result = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (Ok(r), Some(on)) = (
            result.get().parse::<ParticipantResult>(),
            day_of(&result_on.get()),
        ) else {
            return;
        };
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.add_participant_result(ed, r, on).map(|_| ())
        }));
        result.set(String::new());
    };

    let body = move || {
        let c = contact.get()?;
        let Some(p) = c.participant.clone() else {
            if !c.may_participate() {
                return Some(view! { <p class="hint" id="participant-why">{t!(i18n, participant_needs_consent)}</p> }.into_any());
            }
            return Some(view! {
                <p class="hint">{t!(i18n, participant_offer)}</p>
                <form class="stack" on:submit=enter>
                    <Field value=entry_on kind="date" required=true>{t!(i18n, participant_entry_on)}</Field>
                    {choice(i18n, t!(i18n, participant_labour).into_any(), &LabourStatus::ALL, LabourStatus::as_str, labour_label, labour)}
                    {choice(i18n, t!(i18n, participant_education).into_any(), &Education::ALL, Education::as_str, education_label, education)}
                    {choice(i18n, t!(i18n, participant_gender).into_any(), &Gender::ALL, Gender::as_str, gender_label, gender)}
                    <SaveButton busy>{t!(i18n, participant_enter)}</SaveButton>
                </form>
            }.into_any());
        };
        let e = p.entry;
        let entry_form = move || {
            view! {
                <form class="stack" on:submit=save_correction>
                    <Field value=entry_on kind="date" required=true>{t!(i18n, participant_entry_on)}</Field>
                    {choice(i18n, t!(i18n, participant_labour).into_any(), &LabourStatus::ALL, LabourStatus::as_str, labour_label, labour)}
                    {choice(i18n, t!(i18n, participant_education).into_any(), &Education::ALL, Education::as_str, education_label, education)}
                    {choice(i18n, t!(i18n, participant_gender).into_any(), &Gender::ALL, Gender::as_str, gender_label, gender)}
                    <SaveOrCancel open=correcting busy>{t!(i18n, participant_correct_save)}</SaveOrCancel>
                </form>
            }
        };
        let facts = view! {
            {entry_facts(i18n, e, p.left_on)}
            <Show
                when=move || correcting.get()
                fallback=move || view! {
                    <button type="button" class="small" on:click=correct>{t!(i18n, participant_correct)}</button>
                }
            >
                {entry_form}
            </Show>
        };
        let after = match p.left_on {
            None => view! {
                <form class="inline" on:submit=leave>
                    <Field value=left_on kind="date" required=true>{t!(i18n, field_left_on)}</Field>
                    <SaveButton busy class="">{t!(i18n, participant_leave)}</SaveButton>
                </form>
            }.into_any(),
            Some(_) => view! {
                <h3 id="participant-results">{t!(i18n, participant_results)}</h3>
                <p class="hint">{t!(i18n, participant_result_hint)}</p>
                <ul class="rows plain" aria-labelledby="participant-results">
                    {p.results.iter().map(|r| {
                        let id = r.id.clone();
                        // Named "Remove result", the result and its day: one name per row.
                        let (button, what, day) = (unique_id("result-remove"), unique_id("result"), unique_id("result-on"));
                        let named = format!("{button} {what} {day}");
                        view! {
                            <li>
                                <span id=day>{day_text(i18n, r.on)}</span> <strong id=what>{result_label(i18n, r.result)}</strong> <span class="meta">{r.by.clone()}</span>
                                <div class="item-actions">
                                    <button type="button" class="small" id=button aria-labelledby=named disabled=move || busy.get()
                                        on:click=move |_| remove_result(id.clone())>{t!(i18n, participant_result_remove)}</button>
                                </div>
                            </li>
                        }
                    }).collect_view()}
                </ul>
                <form class="stack" on:submit=add_result>
                    {choice(i18n, t!(i18n, field_participant_result).into_any(), &ParticipantResult::ALL, ParticipantResult::as_str, result_label, result)}
                    <Field value=result_on kind="date" required=true>{t!(i18n, participant_result_on)}</Field>
                    <SaveButton busy>{t!(i18n, participant_result_add)}</SaveButton>
                </form>
            }.into_any(),
        };
        Some(view! { {facts} {after} }.into_any())
    };
    view! {
        <section aria-labelledby="participant">
            <h2 id="participant">{t!(i18n, participant_title)}</h2>
            {body}
        </section>
    }
}

/// The entry facts and the leaving date, as the section and its read-only copy show them.
fn entry_facts(i18n: I18nContext<Locale>, e: Entry, left_on: Option<Day>) -> impl IntoView {
    view! {
        <dl class="details">
            <dt>{t!(i18n, participant_entry_on)}</dt><dd>{day_text(i18n, e.entry_on)}</dd>
            <dt>{t!(i18n, participant_labour)}</dt><dd>{labour_label(i18n, e.labour_status)}</dd>
            <dt>{t!(i18n, participant_education)}</dt><dd>{education_label(i18n, e.education)}</dd>
            <dt>{t!(i18n, participant_gender)}</dt><dd>{gender_label(i18n, e.gender)}</dd>
            {left_on.map(|d| view! { <dt>{t!(i18n, field_left_on)}</dt><dd>{day_text(i18n, d)}</dd> })}
        </dl>
    }
}

/// The ESF+ section of another team's record (a coordinator's device): entry facts,
/// leaving date and results, no form and no button.
#[component]
pub(super) fn ParticipantReadOnly(contact: Signal<Option<Contact>>) -> impl IntoView {
    let i18n = use_i18n();
    let body = move || {
        let p = contact.get()?.participant;
        let Some(p) = p else {
            return Some(view! { <p class="hint">{t!(i18n, participant_none)}</p> }.into_any());
        };
        let e = p.entry;
        let results = p
            .results
            .iter()
            .map(|r| {
                view! {
                    <li>
                        {day_text(i18n, r.on)} " " <strong>{result_label(i18n, r.result)}</strong>
                        " " <span class="meta">{r.by.clone()}</span>
                    </li>
                }
            })
            .collect_view();
        Some(
            view! {
                {entry_facts(i18n, e, p.left_on)}
                {(!p.results.is_empty()).then(|| view! {
                    <h3 id="participant-results">{t!(i18n, participant_results)}</h3>
                    <ul class="rows plain" aria-labelledby="participant-results">{results}</ul>
                })}
            }
            .into_any(),
        )
    };
    view! {
        <section aria-labelledby="participant">
            <h2 id="participant">{t!(i18n, participant_title)}</h2>
            {body}
        </section>
    }
}
