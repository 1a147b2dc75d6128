//! A contact's referrals: the list with outcomes (remove with "Undo"), and a new
//! referral to an employer found by typing part of its name (accents and case do not
//! matter) and one of the openings recorded at that employer, or one typed.

use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::components::A;
use paktum_shared::contact::{Contact, ContactDoc, Outcome};
use paktum_shared::device::{Loadable, rows_of};
use paktum_shared::language as collation;
use paktum_shared::record::Kind;
use paktum_shared::{DocumentId, Editor};

use super::{ContactOp, ContactSave};
use crate::field::use_field;
use crate::i18n::*;
use crate::ui::language::{day_text, lang};
use crate::ui::parts::{Field, SaveButton, SelectLabel, Undo, outcome_label, today, unique_id};

/// How many matching employers the picker lists at once.
const SHOWN_MATCHES: usize = 8;
/// The opening select's value for "type another one".
const OTHER: &str = "\u{1}other";

#[component]
pub(super) fn ReferralSection(
    contact: Signal<Option<Contact>>,
    save: ContactSave,
    undo: RwSignal<Option<Undo>>,
) -> impl IntoView {
    let run = move |op: ContactOp| {
        save.dispatch_local(op);
    };
    let busy = save.pending();
    let i18n = use_i18n();
    let field = use_field();
    let name_of = move |id: Option<DocumentId>| {
        id.and_then(|id| field.read(|r| r.entry(&id).map(|e| e.summary.name.clone())))
            .unwrap_or_default()
    };
    let remove = move |rid: String| {
        let removed = rid.clone();
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.remove_referral(ed, &removed)
        }));
        undo.set(Some(Undo::new(
            |i| t_string!(i, referral_removed).to_string(),
            move || {
                let rid = rid.clone();
                save.dispatch_local(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
                    c.restore_referral(ed, &rid)
                }));
            },
        )));
    };
    view! {
        <section aria-labelledby="referrals">
            <h2 id="referrals">{t!(i18n, referrals_title)}</h2>
            <ul class="rows plain" aria-label=move || t_string!(i18n, referrals_title).to_string()>
                {move || {
                    contact
                        .get()
                        .map(|c| {
                            c.referrals
                                .into_iter()
                                .map(|r| {
                                    let rid = r.id.clone();
                                    let outcome_id = unique_id("outcome");
                                    let remove_id = r.id.clone();
                                    let employer = r.employer_id.map(|e| {
                                        view! { <A href=format!("/employers/{e}")>{name_of(Some(e))}</A> }
                                    });
                                    view! {
                                        <li>
                                            <span class="name">{r.opening.clone()} " · " {employer}</span>
                                            <span class="meta">{r.date.map(|d| day_text(i18n, d))} " · " {r.by.clone()}</span>
                                            <div class="item-actions">
                                                <label>
                                                    <SelectLabel id=outcome_id.clone() hidden=true>{t!(i18n, referral_outcome)}</SelectLabel>
                                                    <select aria-labelledby=outcome_id prop:value=r.outcome.as_str() on:change=move |ev| {
                                                        let rid = rid.clone();
                                                        if let Ok(outcome) = event_target_value(&ev).parse::<Outcome>() {
                                                            run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| c.set_referral_outcome(ed, &rid, outcome)));
                                                        }
                                                    }>
                                                        {Outcome::ALL
                                                            .into_iter()
                                                            .map(|o| view! { <option value=o.as_str()>{outcome_label(i18n, o)}</option> })
                                                            .collect_view()}
                                                    </select>
                                                </label>
                                                <button type="button" class="small" disabled=move || busy.get()
                                                    on:click=move |_| remove(remove_id.clone())>{t!(i18n, referral_remove)}</button>
                                            </div>
                                        </li>
                                    }
                                })
                                .collect_view()
                        })
                }}
            </ul>
            <NewReferral save />
        </section>
    }
}

/// The new-referral form: a searchable employer picker, then an opening.
#[component]
fn NewReferral(save: ContactSave) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let busy = save.pending();
    let query = RwSignal::new(String::new());
    let employer: RwSignal<Option<(DocumentId, String)>> = RwSignal::new(None);
    let chosen_opening = RwSignal::new(String::new());
    let opening_id = StoredValue::new(unique_id("opening"));
    let typed_opening = RwSignal::new(String::new());
    // The employers whose name holds what was typed (ignoring case and accents), in
    // the language's order; at most a handful, so 200 employers stay one thumb away.
    let matches = move || {
        let q = collation::fold(query.get().trim());
        if q.is_empty() {
            return (Vec::new(), 0);
        }
        let lang = lang(i18n);
        let all = field.read(|r| crate::ui::caseload::in_order(lang, &rows_of(r, Kind::Employer)));
        let found: Vec<_> = all
            .into_iter()
            .filter(|e| collation::matches(&q, &e.summary.name))
            .collect();
        let total = found.len();
        (
            found
                .into_iter()
                .take(SHOWN_MATCHES)
                .map(|e| (e.id, e.summary.name.clone()))
                .collect::<Vec<_>>(),
            total,
        )
    };
    // The openings recorded at the chosen employer's visits (each title once).
    let openings = move || {
        let Some((id, _)) = employer.get() else {
            return Vec::new();
        };
        let mut titles: Vec<String> = match field.read(|r| Some(r.employer(&id))) {
            Some(Loadable::Ready(e)) => e
                .visits
                .iter()
                .flat_map(|v| v.openings.iter().map(|o| o.title.clone()))
                .collect(),
            _ => Vec::new(),
        };
        let mut seen = std::collections::HashSet::new();
        titles.retain(|t| seen.insert(t.clone()));
        titles
    };
    let typing_opening = move || {
        let chosen = chosen_opening.get();
        chosen == OTHER || chosen.is_empty() && openings().is_empty()
    };
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(day) = today() else { return };
        let employer_id = employer.get().map(|(id, _)| id);
        let title = if typing_opening() {
            typed_opening.get()
        } else {
            chosen_opening.get()
        };
        typed_opening.set(String::new());
        chosen_opening.set(String::new());
        save.dispatch_local(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.add_referral(ed, employer_id, &title, day).map(|_| ())
        }));
    };
    view! {
        <form on:submit=add class="referral-form">
            <h3>{t!(i18n, referral_new)}</h3>
            <Show
                when=move || employer.get().is_some()
                fallback=move || view! {
                    <label>
                        {t!(i18n, referral_employer)}
                        <input type="search" autocomplete="off" prop:value=query
                            placeholder=move || t_string!(i18n, referral_employer_search).to_string()
                            on:input=move |ev| query.set(event_target_value(&ev)) />
                    </label>
                    {move || {
                        let (shown, total) = matches();
                        if query.get().trim().is_empty() {
                            return view! { <p class="hint">{t!(i18n, referral_no_employer_hint)}</p> }.into_any();
                        }
                        if total == 0 {
                            return view! { <p class="hint">{t!(i18n, referral_employer_none)}</p> }.into_any();
                        }
                        let more = (total > shown.len()).then(|| {
                            view! { <p class="hint">{t!(i18n, referral_employer_more, shown = shown.len(), total = total)}</p> }
                        });
                        view! {
                            <ul class="picker" aria-label=move || t_string!(i18n, referral_employer_matches).to_string()>
                                {shown
                                    .into_iter()
                                    .map(|(id, name)| {
                                        let pick = (id, name.clone());
                                        view! {
                                            <li>
                                                <button type="button" on:click=move |_| {
                                                    chosen_opening.set(String::new());
                                                    employer.set(Some(pick.clone()));
                                                }>{name}</button>
                                            </li>
                                        }
                                    })
                                    .collect_view()}
                            </ul>
                            {more}
                        }
                        .into_any()
                    }}
                }
            >
                <p class="chosen">
                    <span>{move || employer.get().map(|(_, name)| t!(i18n, referral_employer_chosen, name = name))}</span>
                    " "
                    <button type="button" class="small" on:click=move |_| {
                        employer.set(None);
                        chosen_opening.set(String::new());
                    }>{t!(i18n, referral_employer_change)}</button>
                </p>
                <Show when=move || !openings().is_empty()>
                    <label>
                        <SelectLabel id=opening_id.get_value()>{t!(i18n, referral_opening_pick)}</SelectLabel>
                        <select aria-labelledby=opening_id.get_value() prop:value=chosen_opening on:change=move |ev| chosen_opening.set(event_target_value(&ev))>
                            <option value="">{t!(i18n, referral_opening_choose)}</option>
                            {move || openings()
                                .into_iter()
                                .map(|t| view! { <option value=t.clone()>{t.clone()}</option> })
                                .collect_view()}
                            <option value=OTHER>{t!(i18n, referral_opening_other)}</option>
                        </select>
                    </label>
                </Show>
            </Show>
            <Show when=typing_opening>
                <Field value=typed_opening>{t!(i18n, referral_opening)}</Field>
            </Show>
            <SaveButton busy class="">{t!(i18n, referral_add)}</SaveButton>
        </form>
    }
}
