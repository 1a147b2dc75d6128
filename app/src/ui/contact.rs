//! Youth contacts: a new contact from a first meeting, and the contact page with its
//! notes timeline (the list is `caseload`).

use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use paktum_shared::contact::{
    Channel, Contact, ContactDoc, ContactField, ContactPart, NewContact, Stage, Status,
};
use paktum_shared::{Day, DocumentId, Editor, ModelError};

use super::language::{day_text, when};
use super::members::MemberSelect;
use super::parts::{
    ChangedByBoth, Details, Field, InlineField, Outcome, PendingMark, RecordMemo, Said, SaveButton,
    SelectLabel, StatusOptions, Undo, UndoBar, as_is, channel_label, outcome_label, read_only_team,
    ready_record, record_page, record_save, shown_view, status_label, status_text, today,
    unique_id,
};
use crate::field::{Problem, use_field};
use crate::i18n::*;
use leptos_i18n::I18nContext;
use paktum_shared::device::Repo;

/// One change to a contact, run by the page's save action.
pub(super) type ContactOp = Rc<dyn Fn(&mut ContactDoc, &Editor) -> Result<(), ModelError>>;
/// The contact page's save: one op at a time, its result as a sentence.
pub(super) type ContactSave = Action<ContactOp, Said>;

/// What the new-contact form holds when it is sent.
#[derive(Clone)]
struct NewContactForm {
    stage: Stage,
    /// The stage's values (a description, a phone), empty ones left out.
    values: Vec<(ContactField, String)>,
    name: String,
    channel: String,
    place: String,
    day: String,
    worker: String,
}

pub(super) fn field_label(i18n: I18nContext<Locale>, field: ContactField) -> String {
    match field {
        ContactField::DisplayName => t_string!(i18n, field_display_name),
        ContactField::Description => t_string!(i18n, field_description),
        ContactField::FullName => t_string!(i18n, field_full_name),
        ContactField::BirthYear => t_string!(i18n, field_birth_year),
        ContactField::BirthDate => t_string!(i18n, field_birth_date),
        ContactField::Phone => t_string!(i18n, field_phone),
        ContactField::Email => t_string!(i18n, field_email),
        ContactField::Municipality => t_string!(i18n, field_municipality),
        ContactField::AssignedWorker => t_string!(i18n, field_assigned_worker),
        ContactField::Team => t_string!(i18n, field_team),
        ContactField::Status => t_string!(i18n, field_status),
    }
    .to_string()
}

#[component]
pub fn NewContactPage() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let navigate = use_navigate();
    let name = RwSignal::new(String::new());
    // Most first meetings yield a first name or a nickname; anonymous is one tap away.
    let stage = RwSignal::new(Stage::Pseudonymous);
    let description = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let channel = RwSignal::new(Channel::Street.as_str().to_string());
    let channel_id = unique_id("channel");
    let place = RwSignal::new(String::new());
    let day = RwSignal::new(today().map(|d| d.to_string()).unwrap_or_default());
    // Assigned to the one who creates it unless another member is chosen; the device's
    // worker is known once the field is ready.
    let worker = RwSignal::new(String::new());
    Effect::new(move |_| {
        let me = field.read(|r| r.identity().worker.clone());
        if worker.get_untracked().is_empty() && !me.is_empty() {
            worker.set(me);
        }
    });
    let create = Action::new_local(move |form: &NewContactForm| {
        let form = form.clone();
        let navigate = navigate.clone();
        async move {
            let first_contact_on = form.day.parse::<Day>().map_err(Problem::Model)?;
            let channel = form.channel.parse().unwrap_or(Channel::Other);
            let id = field
                .edit(move |r, now| {
                    let team = r.identity().team.clone();
                    r.create_contact_at(
                        NewContact {
                            team,
                            display_name: form.name,
                            first_contact_on,
                            channel,
                            place: Some(form.place),
                            assigned_worker: Some(form.worker).filter(|w| !w.trim().is_empty()),
                        },
                        form.stage,
                        &form.values,
                        now,
                    )
                })
                .await?;
            // Replacing the form's history entry: the browser's session store keeps a
            // page's form fields (the name typed) for going back, where no erasure
            // reaches it (issue 15).
            navigate(
                &format!("/contacts/{id}"),
                leptos_router::NavigateOptions {
                    replace: true,
                    ..Default::default()
                },
            );
            Ok(None)
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let stage = stage.get();
        let values = stage::new_contact_values(
            stage,
            [
                (ContactField::Description, description.get()),
                (ContactField::Phone, phone.get()),
            ],
        );
        create.dispatch_local(NewContactForm {
            stage,
            values,
            name: name.get(),
            channel: channel.get(),
            place: place.get(),
            day: day.get(),
            worker: worker.get(),
        });
    };
    view! {
        <h1>{t!(i18n, new_contact)}</h1>
        <p class="hint">{t!(i18n, new_contact_hint)}</p>
        <form on:submit=submit>
            <stage::StageChoice stage />
            <Field value=name required=true autofocus=true>
                {move || if stage.get() == Stage::Anonymous {
                    t!(i18n, field_nickname).into_any()
                } else {
                    t!(i18n, field_display_name).into_any()
                }}
            </Field>
            <Show when=move || stage.get() == Stage::Anonymous>
                <Field value=description>{t!(i18n, field_description)}</Field>
                <p class="hint">{t!(i18n, field_description_hint)}</p>
            </Show>
            <Show when=move || stage.get() == Stage::Pseudonymous>
                <Field value=phone kind="tel">{t!(i18n, field_phone_optional)}</Field>
            </Show>
            <duplicates::NewContactDuplicates name
                phone=Signal::derive(move || (stage.get() == Stage::Pseudonymous).then(|| phone.get())) />
            <label>
                <SelectLabel id=channel_id.clone()>{t!(i18n, new_contact_channel)}</SelectLabel>
                <select aria-labelledby=channel_id prop:value=channel on:change=move |ev| channel.set(event_target_value(&ev))>
                    {Channel::ALL
                        .into_iter()
                        .map(|c| view! { <option value=c.as_str()>{move || channel_label(i18n, c)}</option> })
                        .collect_view()}
                </select>
            </label>
            <Field value=place>{t!(i18n, new_contact_place)}</Field>
            <Field value=day kind="date">{t!(i18n, new_contact_date)}</Field>
            <MemberSelect value=worker>{t!(i18n, field_assigned_worker)}</MemberSelect>
            <Outcome action=create />
            <SaveButton busy=create.pending() class="primary wide">{t!(i18n, new_contact_save)}</SaveButton>
        </form>
    }
}

#[component]
pub fn ContactPage() -> impl IntoView {
    let (record, shown) = record_page(Repo::contact);
    shown_view(shown, move |id| {
        view! { <ContactView id record /> }.into_any()
    })
}

#[component]
fn ContactView(id: DocumentId, record: RecordMemo<Contact>) -> impl IntoView {
    let i18n = use_i18n();
    let (read, pending) = ready_record(record);
    let contact = move || read.get();
    let save: ContactSave =
        record_save(move |r, now, op: ContactOp| r.edit_contact(id, now, |c, ed| op(c, ed)));
    let run = move |op: ContactOp| {
        save.dispatch_local(op);
    };

    let undo: RwSignal<Option<Undo>> = RwSignal::new(None);
    let contact_signal = Signal::derive(contact);
    let read_only = read_only_team(id);

    view! {
        <article class="record">
            <header class="record-head">
                <h1>{move || contact().map(|c| c.display_name)}</h1>
                <p class="meta">
                    <span class="chip">{move || contact().map(|c| status_label(i18n, c.status))}</span>
                    " "
                    {move || view! { <PendingMark pending=pending() /> }}
                    " "
                    <A href=format!("/records/{id}/history")>{t!(i18n, history_link)}</A>
                </p>
            </header>
            <erase::ConsentFlag contact=contact_signal />
            // Another team's record: the relay would refuse a change, so none is offered.
            <Show
                when=move || read_only.get().is_none()
                fallback=move || view! {
                    <read_only::ContactReadOnly contact=contact_signal team=read_only.get().unwrap_or_default() />
                }
            >
            {move || {
                contact()
                    .map(|c| {
                        c.conflicts
                            .into_iter()
                            .map(|(f, values)| {
                                let keep = move |value: String| {
                                    run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
                                        if f == ContactField::Status {
                                            let status: Status = value.parse()?;
                                            c.change_status(ed, status, Some("kept after a conflict"))
                                        } else {
                                            c.set_field(ed, f, Some(&value))
                                        }
                                    }))
                                };
                                let word: fn(I18nContext<Locale>, &str) -> String = match f {
                                    ContactField::Status => status_text,
                                    ContactField::BirthDate => stage::birth_date_word,
                                    _ => as_is,
                                };
                                view! { <ChangedByBoth label=field_label(i18n, f) values keep word anchor=conflict_anchor(f) /> }
                            })
                            .collect_view()
                    })
            }}
            {move || {
                contact().map(|c| {
                    c.part_conflicts
                        .clone()
                        .into_iter()
                        .map(|(part, values)| {
                            let label = part_label(i18n, &c, &part);
                            let word = part_word(&part);
                            let keep_part = part.clone();
                            let keep = move |value: String| {
                                let part = keep_part.clone();
                                run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| c.keep_part(ed, &part, &value)))
                            };
                            view! { <ChangedByBoth label values keep word /> }
                        })
                        .collect_view()
                })
            }}
            <Outcome action=save />
            <duplicates::DuplicatesSection id contact=contact_signal />
            <notes::NotesSection id contact=contact_signal save undo />
            <StatusSection contact=Signal::derive(contact) save />
            <stage::StageSection id contact=contact_signal save />
            <DetailsSection contact=Signal::derive(contact) save />
            <consent::ConsentSection contact=Signal::derive(contact) save />
            <participant::ParticipantSection contact=contact_signal save undo />
            <referrals::ReferralSection contact=contact_signal save undo />
            <erase::EraseSection id contact=contact_signal />
            <UndoBar undo />
            </Show>
        </article>
    }
}

#[component]
fn StatusSection(contact: Signal<Option<Contact>>, save: ContactSave) -> impl IntoView {
    let run = move |op: ContactOp| {
        save.dispatch_local(op);
    };
    let busy = save.pending();
    let i18n = use_i18n();
    let chosen = RwSignal::new(String::new());
    let status_id = unique_id("status-new");
    let reason = RwSignal::new(String::new());
    let change = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(status) = chosen.get().parse::<Status>() else {
            return;
        };
        let reason = reason.get();
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.change_status(
                ed,
                status,
                Some(reason.as_str()).filter(|r| !r.trim().is_empty()),
            )
        }));
    };
    view! {
        <section aria-labelledby="status">
            <h2 id="status">{t!(i18n, status_title)}</h2>
            <form class="inline" on:submit=change>
                <label>
                    <SelectLabel id=status_id.clone() hidden=true>{t!(i18n, status_new_label)}</SelectLabel>
                    <select aria-labelledby=status_id.clone()
                        prop:value=move || {
                            let current = contact.get().map(|c| c.status.as_str().to_string()).unwrap_or_default();
                            if chosen.get().is_empty() { current } else { chosen.get() }
                        }
                        on:change=move |ev| chosen.set(event_target_value(&ev))
                    >
                        <StatusOptions />
                    </select>
                </label>
                <InlineField label=Signal::derive(move || t_string!(i18n, status_reason).to_string()) value=reason />
                <SaveButton busy class="">{t!(i18n, status_change)}</SaveButton>
            </form>
            // The group takes its name from the summary (a details element has none of
            // its own); the arrow is drawn by CSS and not read out.
            <details class="disclosure" aria-labelledby="status-history">
                <summary id="status-history">{t!(i18n, status_history)}</summary>
                <ol class="timeline">
                    {move || {
                        contact
                            .get()
                            .map(|c| {
                                c.status_history
                                    .into_iter()
                                    .rev()
                                    .map(|s| {
                                        view! {
                                            <li>
                                                <strong>{status_label(i18n, s.status)}</strong>
                                                " · " {s.by} " · " {when(i18n, s.at_ms)}
                                                {s.reason.map(|r| format!(" · {r}"))}
                                            </li>
                                        }
                                    })
                                    .collect_view()
                            })
                    }}
                </ol>
            </details>
        </section>
    }
}

const DETAIL_FIELDS: &[ContactField] = &[
    ContactField::DisplayName,
    ContactField::Description,
    ContactField::FullName,
    ContactField::Phone,
    ContactField::Email,
    ContactField::BirthDate,
    ContactField::BirthYear,
    ContactField::Municipality,
    ContactField::AssignedWorker,
];

fn value_of(c: &Contact, f: ContactField) -> String {
    match f {
        ContactField::DisplayName => c.display_name.clone(),
        ContactField::Description => c.description.clone().unwrap_or_default(),
        ContactField::FullName => c.full_name.clone().unwrap_or_default(),
        ContactField::Phone => c.phone.clone().unwrap_or_default(),
        ContactField::Email => c.email.clone().unwrap_or_default(),
        ContactField::BirthYear => c.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        ContactField::BirthDate => c.birth_date.map(|d| d.to_string()).unwrap_or_default(),
        ContactField::Municipality => c.municipality.clone().unwrap_or_default(),
        ContactField::AssignedWorker => c.assigned_worker.clone(),
        ContactField::Team => c.team.clone(),
        ContactField::Status => c.status.as_str().to_string(),
    }
}

/// A Details value as the page shows it where that is not the value edited: the birth
/// date in the worker's language.
fn detail_text(i18n: I18nContext<Locale>, c: &Contact, f: ContactField) -> Option<String> {
    match f {
        ContactField::BirthDate => c.birth_date.map(|d| stage::birth_date_text(i18n, d)),
        _ => None,
    }
}

/// The input type that brings up the right keyboard for a field.
fn kind_of(f: ContactField) -> &'static str {
    match f {
        ContactField::Phone => "tel",
        ContactField::Email => "email",
        ContactField::BirthDate => "date",
        ContactField::AssignedWorker => super::members::MEMBER_INPUT,
        _ => "text",
    }
}

#[component]
fn DetailsSection(contact: Signal<Option<Contact>>, save: ContactSave) -> impl IntoView {
    let run = move |op: ContactOp| {
        save.dispatch_local(op);
    };
    let busy = save.pending();
    let i18n = use_i18n();
    let save = move |changed: Vec<(ContactField, String)>| {
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            for (f, v) in &changed {
                c.set_field(ed, *f, Some(v.as_str()))?;
            }
            Ok(())
        }))
    };
    let first_contact = move || {
        view! {
            <dt>{t!(i18n, field_first_contact)}</dt>
            <dd>
                {move || contact.get().map(|c| {
                    let channel = c.channel.map(|ch| channel_label(i18n, ch)).unwrap_or_default();
                    format!(
                        "{} · {}{}",
                        c.first_contact_on.map(|d| day_text(i18n, d)).unwrap_or_default(),
                        channel,
                        c.first_place.map(|p| format!(" · {p}")).unwrap_or_default()
                    )
                })}
            </dd>
        }
    };
    view! {
        <Details
            heading="details"
            record=contact
            fields=DETAIL_FIELDS
            label_of=field_label
            value_of=value_of
            kind_of=kind_of
            save
            busy
            more=first_contact
            conflict_of=|c: &Contact, f| c.conflicts.contains_key(&f).then(|| conflict_anchor(f))
            shown=stage::detail_shown
            text_of=detail_text
        />
    }
}

mod consent;
mod duplicates;
pub(super) mod erase;
mod notes;
pub(super) mod participant;
mod read_only;
mod referrals;
mod stage;
pub(super) use participant::result_label;
pub(crate) use stage::birth_date_word;

/// The element id of a field's "changed by both" box.
fn conflict_anchor(f: ContactField) -> String {
    format!("conflict-{}", f.key())
}

/// What a "changed by both" box inside the record is about: "Follow-up of the note of
/// 2 Dec 2026", "Consent: scope", "Outcome of the referral Apprentice baker",
/// "Identification".
fn part_label(i18n: I18nContext<Locale>, c: &Contact, part: &ContactPart) -> String {
    let note_day = |id: &str| {
        c.notes
            .iter()
            .find(|n| n.id == id)
            .and_then(|n| n.date)
            .map(|d| day_text(i18n, d))
            .unwrap_or_default()
    };
    match part {
        ContactPart::Stage => t_string!(i18n, stage_title).to_string(),
        ContactPart::NoteFollowUp(id) => {
            t_string!(i18n, conflict_note_follow_up).replace("{day}", &note_day(id))
        }
        ContactPart::NoteDone(id) => {
            t_string!(i18n, conflict_note_done).replace("{day}", &note_day(id))
        }
        ContactPart::ConsentGivenOn => t_string!(i18n, consent_given_on).to_string(),
        ContactPart::ConsentScope => t_string!(i18n, consent_scope).to_string(),
        ContactPart::ConsentWithdrawnOn => t_string!(i18n, consent_withdrawn_on).to_string(),
        ContactPart::ReferralOutcome(id) => {
            let opening = c
                .referrals
                .iter()
                .find(|r| r.id == *id)
                .map(|r| r.opening.clone())
                .unwrap_or_default();
            t_string!(i18n, conflict_referral_outcome).replace("{opening}", &opening)
        }
    }
}

/// How a value inside the record reads in its "changed by both" box.
fn part_word(part: &ContactPart) -> fn(I18nContext<Locale>, &str) -> String {
    match part {
        ContactPart::NoteFollowUp(_)
        | ContactPart::ConsentGivenOn
        | ContactPart::ConsentWithdrawnOn => |i, v| {
            v.parse::<Day>()
                .map(|d| day_text(i, d))
                .unwrap_or_else(|_| v.to_string())
        },
        ContactPart::NoteDone(_) => |i, v| match v {
            "true" => t_string!(i, conflict_done_yes).to_string(),
            "false" => t_string!(i, conflict_done_no).to_string(),
            other => other.to_string(),
        },
        ContactPart::ReferralOutcome(_) => |i, v| {
            v.parse()
                .map(|o| outcome_label(i, o))
                .unwrap_or_else(|_| v.to_string())
        },
        ContactPart::ConsentScope => |i, v| consent::scope_text(i.get_locale(), v),
        ContactPart::Stage => |i, v| stage::stage_text(i.get_locale(), v),
    }
}
