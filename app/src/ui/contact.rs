//! Youth contacts: a new contact from a first meeting, and the contact page with its
//! notes timeline (the list is `caseload`).

use std::rc::Rc;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_navigate;
use paktum_shared::contact::{
    Channel, Contact, ContactDoc, ContactField, NewContact, NewNote, Outcome, Status,
};
use paktum_shared::record::Kind;
use paktum_shared::{Day, DocumentId, Editor, ModelError};

use super::language::{day_text, lang, when};
use super::parts::{
    ChangedByBoth, Details, Field, InlineField, Outcome, PendingMark, RecordMemo, Said, SaveButton,
    SaveOrCancel, StatusOptions, as_is, channel_label, outcome_label, ready_record, record_page,
    record_save, shown_view, status_label, status_text, today,
};
use crate::field::{Problem, Words, use_field};
use crate::i18n::*;
use leptos_i18n::I18nContext;
use paktum_shared::device::{Repo, rows_of};

/// One change to a contact, run by the page's save action.
type ContactOp = Rc<dyn Fn(&mut ContactDoc, &Editor) -> Result<(), ModelError>>;
/// The contact page's save: one op at a time, its result as a sentence.
type ContactSave = Action<ContactOp, Said>;

/// What the new-contact form holds when it is sent.
#[derive(Clone)]
struct NewContactForm {
    name: String,
    channel: String,
    place: String,
    day: String,
}

pub(super) fn field_label(i18n: I18nContext<Locale>, field: ContactField) -> String {
    match field {
        ContactField::DisplayName => t_string!(i18n, field_display_name),
        ContactField::FullName => t_string!(i18n, field_full_name),
        ContactField::BirthYear => t_string!(i18n, field_birth_year),
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
    let channel = RwSignal::new(Channel::Street.as_str().to_string());
    let place = RwSignal::new(String::new());
    let day = RwSignal::new(today().map(|d| d.to_string()).unwrap_or_default());
    let create = Action::new_local(move |form: &NewContactForm| {
        let form = form.clone();
        let navigate = navigate.clone();
        async move {
            let first_contact_on = form.day.parse::<Day>().map_err(Problem::Model)?;
            let channel = form.channel.parse().unwrap_or(Channel::Other);
            let id = field
                .edit(move |r, now| {
                    let team = r.identity().team.clone();
                    r.create_contact(
                        NewContact {
                            team,
                            display_name: form.name,
                            first_contact_on,
                            channel,
                            place: Some(form.place),
                            assigned_worker: None,
                        },
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
        create.dispatch_local(NewContactForm {
            name: name.get(),
            channel: channel.get(),
            place: place.get(),
            day: day.get(),
        });
    };
    view! {
        <h1>{t!(i18n, new_contact)}</h1>
        <p class="hint">{t!(i18n, new_contact_hint)}</p>
        <form on:submit=submit>
            <Field value=name required=true autofocus=true>{t!(i18n, field_display_name)}</Field>
            <label>
                {t!(i18n, new_contact_channel)}
                <select prop:value=channel on:change=move |ev| channel.set(event_target_value(&ev))>
                    {Channel::ALL
                        .into_iter()
                        .map(|c| view! { <option value=c.as_str()>{move || channel_label(i18n, c)}</option> })
                        .collect_view()}
                </select>
            </label>
            <Field value=place>{t!(i18n, new_contact_place)}</Field>
            <Field value=day kind="date">{t!(i18n, new_contact_date)}</Field>
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
    let field = use_field();
    let (read, pending) = ready_record(record);
    let contact = move || read.get();
    let save: ContactSave =
        record_save(move |r, now, op: ContactOp| r.edit_contact(id, now, |c, ed| op(c, ed)));
    let run = move |op: ContactOp| {
        save.dispatch_local(op);
    };

    // Adding a note: one tap opens the field, one tap saves.
    let adding = RwSignal::new(false);
    let note_text = RwSignal::new(String::new());
    let note_follow = RwSignal::new(String::new());
    let add_note = Action::new_local(move |(text, follow): &(String, String)| {
        let (text, follow) = (text.clone(), follow.clone());
        async move {
            let follow_up = match follow.trim() {
                "" => None,
                day => Some(day.parse::<Day>().map_err(Problem::Model)?),
            };
            field
                .edit(move |r, now| {
                    r.edit_contact(id, now, |c, ed| {
                        c.add_note(
                            ed,
                            NewNote {
                                text,
                                follow_up,
                                ..Default::default()
                            },
                        )
                        .map(|_| ())
                    })
                })
                .await?;
            note_text.set(String::new());
            note_follow.set(String::new());
            adding.set(false);
            Ok(Some((|i| t_string!(i, note_saved).to_string()) as Words))
        }
    });
    let save_note = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add_note.dispatch_local((note_text.get(), note_follow.get()));
    };

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
                                let word = if f == ContactField::Status { status_text } else { as_is };
                                view! { <ChangedByBoth label=field_label(i18n, f) values keep word /> }
                            })
                            .collect_view()
                    })
            }}
            <Outcome action=save />
            <Outcome action=add_note />
            <section aria-labelledby="notes">
                <h2 id="notes">{t!(i18n, notes_title)}</h2>
                <Show
                    when=move || adding.get()
                    fallback=move || view! {
                        <button type="button" class="primary wide" on:click=move |_| adding.set(true)>
                            {t!(i18n, note_add)}
                        </button>
                    }
                >
                    <form class="note-form" on:submit=save_note>
                        <label>
                            {t!(i18n, note_text)}
                            <textarea rows="4" autofocus autocomplete="off" prop:value=note_text
                                on:input=move |ev| note_text.set(event_target_value(&ev))></textarea>
                        </label>
                        <Field value=note_follow kind="date">{t!(i18n, note_follow_up)}</Field>
                        <SaveOrCancel open=adding busy=add_note.pending()>{t!(i18n, note_save)}</SaveOrCancel>
                    </form>
                </Show>
                <ol class="timeline">
                    {move || {
                        contact()
                            .map(|c| {
                                c.notes
                                    .into_iter()
                                    .map(|n| {
                                        let note_id = n.id.clone();
                                        let open = n.follow_up.filter(|_| !n.done);
                                        view! {
                                            <li>
                                                <p class="meta">
                                                    {n.date.map(|d| day_text(i18n, d))} " · " {n.author.clone()}
                                                    {n.place.clone().map(|p| format!(" · {p}"))}
                                                </p>
                                                <p class="text">{n.text.clone()}</p>
                                                {open.map(|d| {
                                                    let note_id = note_id.clone();
                                                    view! {
                                                        <p class="follow">
                                                            {t!(i18n, note_follow_up_on, day = day_text(i18n, d))} " "
                                                            <button type="button" class="small" on:click=move |_| {
                                                                let note_id = note_id.clone();
                                                                run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| c.set_note_done(ed, &note_id, true)))
                                                            }>{t!(i18n, note_done)}</button>
                                                        </p>
                                                    }
                                                })}
                                            </li>
                                        }
                                    })
                                    .collect_view()
                            })
                    }}
                </ol>
            </section>
            <StatusSection contact=Signal::derive(contact) save />
            <DetailsSection contact=Signal::derive(contact) save />
            <ConsentSection contact=Signal::derive(contact) save />
            <ReferralSection contact=Signal::derive(contact) save />
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
                    <span class="visually-hidden">{t!(i18n, status_new_label)}</span>
                    <select
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
            <details>
                <summary>{t!(i18n, status_history)}</summary>
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
    ContactField::FullName,
    ContactField::Phone,
    ContactField::Email,
    ContactField::BirthYear,
    ContactField::Municipality,
    ContactField::AssignedWorker,
];

fn value_of(c: &Contact, f: ContactField) -> String {
    match f {
        ContactField::DisplayName => c.display_name.clone(),
        ContactField::FullName => c.full_name.clone().unwrap_or_default(),
        ContactField::Phone => c.phone.clone().unwrap_or_default(),
        ContactField::Email => c.email.clone().unwrap_or_default(),
        ContactField::BirthYear => c.birth_year.map(|y| y.to_string()).unwrap_or_default(),
        ContactField::Municipality => c.municipality.clone().unwrap_or_default(),
        ContactField::AssignedWorker => c.assigned_worker.clone(),
        ContactField::Team => c.team.clone(),
        ContactField::Status => c.status.as_str().to_string(),
    }
}

/// The input type that brings up the right keyboard for a field.
fn kind_of(f: ContactField) -> &'static str {
    match f {
        ContactField::Phone => "tel",
        ContactField::Email => "email",
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
        />
    }
}

#[component]
fn ConsentSection(contact: Signal<Option<Contact>>, save: ContactSave) -> impl IntoView {
    let run = move |op: ContactOp| {
        save.dispatch_local(op);
    };
    let busy = save.pending();
    let i18n = use_i18n();
    let scope = RwSignal::new(String::new());
    let active = move || contact.get().is_some_and(|c| c.consent.is_active());
    let give = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(day) = today() else { return };
        let scope = scope.get();
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.give_consent(ed, day, &scope)
        }));
    };
    let withdraw = move |_| {
        let Some(day) = today() else { return };
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.withdraw_consent(ed, day)
        }));
    };
    view! {
        <section aria-labelledby="consent">
            <h2 id="consent">{t!(i18n, consent_title)}</h2>
            <p>
                {move || {
                    contact.get().map(|c| {
                        let consent = c.consent;
                        match (consent.given_on, consent.withdrawn_on) {
                            (Some(on), None) => t!(i18n, consent_given, day = day_text(i18n, on), scope = consent.scope.unwrap_or_default()).into_any(),
                            (_, Some(off)) => t!(i18n, consent_withdrawn, day = day_text(i18n, off)).into_any(),
                            (None, None) => t!(i18n, consent_none).into_any(),
                        }
                    })
                }}
            </p>
            <Show
                when=active
                fallback=move || view! {
                    <form class="inline" on:submit=give>
                        <InlineField label=Signal::derive(move || t_string!(i18n, consent_scope).to_string()) value=scope />
                        <SaveButton busy class="">{t!(i18n, consent_give)}</SaveButton>
                    </form>
                }
            >
                <button type="button" on:click=withdraw disabled=move || busy.get()>{t!(i18n, consent_withdraw)}</button>
            </Show>
        </section>
    }
}

#[component]
fn ReferralSection(contact: Signal<Option<Contact>>, save: ContactSave) -> impl IntoView {
    let run = move |op: ContactOp| {
        save.dispatch_local(op);
    };
    let busy = save.pending();
    let i18n = use_i18n();
    let field = use_field();
    let employers = move || {
        let lang = lang(i18n);
        field.read(|r| super::caseload::in_order(lang, &rows_of(r, Kind::Employer)))
    };
    let employer = RwSignal::new(String::new());
    let opening = RwSignal::new(String::new());
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(day) = today() else { return };
        let employer_id = employer.get().parse::<DocumentId>().ok();
        let title = opening.get();
        opening.set(String::new());
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.add_referral(ed, employer_id, &title, day).map(|_| ())
        }));
    };
    let name_of = move |id: Option<DocumentId>| {
        id.and_then(|id| field.read(|r| r.entry(&id).map(|e| e.summary.name.clone())))
            .unwrap_or_default()
    };
    view! {
        <section aria-labelledby="referrals">
            <h2 id="referrals">{t!(i18n, referrals_title)}</h2>
            <ul class="rows plain">
                {move || {
                    contact
                        .get()
                        .map(|c| {
                            c.referrals
                                .into_iter()
                                .map(|r| {
                                    let rid = r.id.clone();
                                    view! {
                                        <li>
                                            <span class="name">{r.opening.clone()} " · " {name_of(r.employer_id)}</span>
                                            <span class="meta">{r.date.map(|d| day_text(i18n, d))} " · " {r.by.clone()}</span>
                                            <label>
                                                <span class="visually-hidden">{t!(i18n, referral_outcome)}</span>
                                                <select prop:value=r.outcome.as_str() on:change=move |ev| {
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
                                        </li>
                                    }
                                })
                                .collect_view()
                        })
                }}
            </ul>
            <form on:submit=add>
                <label>
                    {t!(i18n, referral_employer)}
                    <select prop:value=employer on:change=move |ev| employer.set(event_target_value(&ev))>
                        <option value="">{t!(i18n, referral_no_employer)}</option>
                        {move || {
                            employers()
                                .into_iter()
                                .map(|e| view! { <option value=e.id.to_string()>{e.summary.name.clone()}</option> })
                                .collect_view()
                        }}
                    </select>
                </label>
                <Field value=opening>{t!(i18n, referral_opening)}</Field>
                <SaveButton busy class="">{t!(i18n, referral_add)}</SaveButton>
            </form>
        </section>
    }
}
