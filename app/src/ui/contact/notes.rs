//! A contact's notes timeline: add a note, edit one (text, date, place, tags,
//! follow-up), mark its follow-up done or reopen it, remove it with "Undo".

use std::rc::Rc;

use leptos::prelude::*;
use paktum_shared::contact::{Contact, ContactDoc, NewNote, Note};
use paktum_shared::{Day, DocumentId, Editor, ModelError};

use super::{ContactOp, ContactSave};
use crate::field::{Problem, Words, use_field};
use crate::i18n::*;
use crate::ui::language::day_text;
use crate::ui::parts::{Field, Outcome, SaveOrCancel, Undo};

/// A date field's value: empty is none.
fn day_of(raw: &str) -> Result<Option<Day>, ModelError> {
    match raw.trim() {
        "" => Ok(None),
        day => day.parse().map(Some),
    }
}

/// Tags as typed: separated by commas.
fn tags_of(raw: &str) -> Vec<String> {
    raw.split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(String::from)
        .collect()
}

#[component]
pub(super) fn NotesSection(
    id: DocumentId,
    contact: Signal<Option<Contact>>,
    save: ContactSave,
    undo: RwSignal<Option<Undo>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    // Adding a note: one tap opens the field, one tap saves. Half-typed text is kept
    // by the controller, so a lock (which takes the page away) does not lose it.
    let kept = field.draft(&format!("note:{id}"));
    let adding = RwSignal::new(kept.is_some());
    let note_text = RwSignal::new(kept.unwrap_or_default());
    let note_follow = RwSignal::new(String::new());
    let add_note = Action::new_local(move |(text, follow): &(String, String)| {
        let (text, follow) = (text.clone(), follow.clone());
        async move {
            let follow_up = day_of(&follow).map_err(Problem::Model)?;
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
            field.keep_draft(&format!("note:{id}"), String::new());
            adding.set(false);
            Ok(Some((|i| t_string!(i, note_saved).to_string()) as Words))
        }
    });
    let save_note = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        add_note.dispatch_local((note_text.get(), note_follow.get()));
    };
    view! {
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
                            on:input=move |ev| {
                                let text = event_target_value(&ev);
                                field.keep_draft(&format!("note:{id}"), text.clone());
                                note_text.set(text);
                            }></textarea>
                    </label>
                    <Field value=note_follow kind="date">{t!(i18n, note_follow_up)}</Field>
                    <SaveOrCancel open=adding busy=add_note.pending()>{t!(i18n, note_save)}</SaveOrCancel>
                </form>
            </Show>
            <ol class="timeline" aria-label=move || t_string!(i18n, notes_title).to_string()>
                // Keyed by the whole note: an edit elsewhere (a sync) leaves a note
                // being edited here alone; a change to this note redraws it.
                <For
                    each=move || contact.get().map(|c| c.notes).unwrap_or_default()
                    key=|n| format!("{n:?}")
                    children=move |n| view! { <NoteItem note=n save undo /> }
                />
            </ol>
        </section>
    }
}

#[component]
fn NoteItem(note: Note, save: ContactSave, undo: RwSignal<Option<Undo>>) -> impl IntoView {
    let i18n = use_i18n();
    let run = move |op: ContactOp| {
        save.dispatch_local(op);
    };
    let busy = save.pending();
    let editing = RwSignal::new(false);
    let text = RwSignal::new(String::new());
    let date = RwSignal::new(String::new());
    let place = RwSignal::new(String::new());
    let tags = RwSignal::new(String::new());
    let follow = RwSignal::new(String::new());
    let shown = note.clone();
    let open = move |_| {
        text.set(shown.text.clone());
        date.set(shown.date.map(|d| d.to_string()).unwrap_or_default());
        place.set(shown.place.clone().unwrap_or_default());
        tags.set(shown.tags.join(", "));
        follow.set(shown.follow_up.map(|d| d.to_string()).unwrap_or_default());
        editing.set(true);
    };
    let note_id = note.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let note_id = note_id.clone();
        let (t, d, p, g, f) = (
            text.get_untracked(),
            date.get_untracked(),
            place.get_untracked(),
            tags.get_untracked(),
            follow.get_untracked(),
        );
        editing.set(false);
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            let values = NewNote {
                date: day_of(&d)?,
                place: Some(p.clone()),
                text: t.clone(),
                tags: tags_of(&g),
                follow_up: day_of(&f)?,
            };
            c.update_note(ed, &note_id, values)
        }));
    };
    let done_id = note.id.clone();
    let set_done = move |done: bool| {
        let note_id = done_id.clone();
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.set_note_done(ed, &note_id, done)
        }));
    };
    let remove_id = note.id.clone();
    let remove = move |_| {
        let note_id = remove_id.clone();
        let removed = note_id.clone();
        run(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.remove_note(ed, &removed)
        }));
        undo.set(Some(Undo::new(
            |i| t_string!(i, note_removed).to_string(),
            move || {
                let note_id = note_id.clone();
                save.dispatch_local(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
                    c.restore_note(ed, &note_id)
                }));
            },
        )));
    };
    let n = note;
    let shown_note = move || {
        let n = n.clone();
        let (set_done, set_open) = (set_done.clone(), set_done.clone());
        let follow_line = n.follow_up.map(|d| {
            if n.done {
                view! {
                    <p class="follow done">
                        {t!(i18n, note_follow_up_done_on, day = day_text(i18n, d))} " "
                        <button type="button" class="small" disabled=move || busy.get()
                            on:click=move |_| set_open(false)>{t!(i18n, note_reopen)}</button>
                    </p>
                }
                .into_any()
            } else {
                view! {
                    <p class="follow">
                        {t!(i18n, note_follow_up_on, day = day_text(i18n, d))} " "
                        <button type="button" class="small" disabled=move || busy.get()
                            on:click=move |_| set_done(true)>{t!(i18n, note_done)}</button>
                    </p>
                }
                .into_any()
            }
        });
        let tags_line = (!n.tags.is_empty()).then(|| {
            let tags = n.tags.join(", ");
            view! { <p class="meta">{t!(i18n, note_tags_line, tags = tags.clone())}</p> }
        });
        view! {
            <p class="meta">
                {n.date.map(|d| day_text(i18n, d))} " · " {n.author.clone()}
                {n.place.clone().map(|p| format!(" · {p}"))}
            </p>
            <p class="text">{n.text.clone()}</p>
            {tags_line}
            {follow_line}
            <div class="item-actions">
                <button type="button" class="small" on:click=open.clone()>{t!(i18n, note_edit)}</button>
                <button type="button" class="small" disabled=move || busy.get()
                    on:click=remove.clone()>{t!(i18n, note_remove)}</button>
            </div>
        }
    };
    view! {
        <li>
            <Show
                when=move || editing.get()
                fallback=shown_note
            >
                <form class="note-form" on:submit=submit.clone()>
                    <label>
                        {t!(i18n, note_text)}
                        <textarea rows="4" autocomplete="off" prop:value=text
                            on:input=move |ev| text.set(event_target_value(&ev))></textarea>
                    </label>
                    <Field value=date kind="date">{t!(i18n, note_date)}</Field>
                    <Field value=place>{t!(i18n, note_place)}</Field>
                    <Field value=tags>{t!(i18n, note_tags)}</Field>
                    <Field value=follow kind="date">{t!(i18n, note_follow_up)}</Field>
                    <SaveOrCancel open=editing busy>{t!(i18n, note_save_changes)}</SaveOrCancel>
                </form>
            </Show>
        </li>
    }
}
