//! Progressive identification (issue 15): the stage a new contact starts at, and on the
//! contact page the step to the next stage, asking only what that stage adds, with the
//! likely duplicates of what is typed shown before it is saved. Identified needs
//! recorded consent: without it the page says so and links to the consent section.
//! The rule itself is `shared::contact::Stage` / `check_move`.

use std::rc::Rc;

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use paktum_shared::contact::{BirthDate, Contact, ContactDoc, ContactField, Stage};
use paktum_shared::{DocumentId, Editor};

use super::duplicates::StepDuplicates;
use super::{ContactOp, ContactSave};
use crate::i18n::*;
use crate::ui::parts::{Field, SaveOrCancel};

/// Whether the contact page's Details show a field: what the stage holds (a record from
/// before stages shows every field, as before), the description when there is one.
/// The birth date shows where it is known (the year is then its year), the year
/// otherwise; a contact that may hold a date offers it in Details.
pub(super) fn detail_shown(c: &Contact, f: ContactField) -> bool {
    match f {
        ContactField::Description => c.stage == Stage::Anonymous || c.description.is_some(),
        ContactField::BirthYear if c.birth_date.is_some() => false,
        _ => c.stage_kept.is_none() || c.stage.allows(f),
    }
}

/// A stored birth date as the worker's language writes a day (the history, "changed by
/// both"); anything else as it is.
pub(crate) fn birth_date_word(i18n: I18nContext<Locale>, raw: &str) -> String {
    BirthDate::parse(raw)
        .map(|d| birth_date_text(i18n, d))
        .unwrap_or_else(|_| raw.to_string())
}

/// A birth date as the worker's language writes a day.
pub(super) fn birth_date_text(i18n: I18nContext<Locale>, d: BirthDate) -> String {
    paktum_shared::language::day(
        crate::ui::language::lang(i18n),
        d.year() as i32,
        d.month(),
        d.day_of_month(),
    )
}

/// What the new-contact form sends for `stage`: only the values that stage asks, empty
/// ones left out. A value typed before the worker switched the stage stays in its field
/// (switching back brings it back) but is not stored.
pub(super) fn new_contact_values(
    stage: Stage,
    typed: impl IntoIterator<Item = (ContactField, String)>,
) -> Vec<(ContactField, String)> {
    typed
        .into_iter()
        .filter(|(f, v)| stage.asks().contains(f) && !v.trim().is_empty())
        .collect()
}

/// A stored stage in the form's words, for the "changed by both" box; a stage this
/// version does not know is shown as written.
pub(super) fn stage_text(locale: Locale, stored: &str) -> String {
    match stored.parse::<Stage>() {
        Ok(Stage::Anonymous) => td_string!(locale, stage_anonymous),
        Ok(Stage::Pseudonymous) => td_string!(locale, stage_pseudonymous),
        Ok(Stage::Identified) => td_string!(locale, stage_identified),
        Err(_) => return stored.to_string(),
    }
    .to_string()
}

/// What a stage means, in one sentence.
fn says(i18n: I18nContext<Locale>, stage: Stage) -> String {
    match stage {
        Stage::Anonymous => t_string!(i18n, stage_says_anonymous),
        Stage::Pseudonymous => t_string!(i18n, stage_says_pseudonymous),
        Stage::Identified => t_string!(i18n, stage_says_identified),
    }
    .to_string()
}

/// The new-contact form's choice: anonymous, or a first name (identified comes later,
/// with consent).
#[component]
pub(super) fn StageChoice(stage: RwSignal<Stage>) -> impl IntoView {
    let i18n = use_i18n();
    let option = move |value: Stage| {
        view! {
            <label class="check">
                <input type="radio" name="new-contact-stage" value=value.as_str()
                    prop:checked=move || stage.get() == value
                    on:change=move |_| stage.set(value) />
                {move || match value {
                    Stage::Anonymous => t!(i18n, new_contact_stage_anonymous).into_any(),
                    _ => t!(i18n, new_contact_stage_pseudonymous).into_any(),
                }}
            </label>
        }
    };
    view! {
        <fieldset class="consent-scope">
            <legend>{t!(i18n, new_contact_stage)}</legend>
            {option(Stage::Anonymous)}
            {option(Stage::Pseudonymous)}
            <p class="hint">{t!(i18n, new_contact_stage_hint)}</p>
        </fieldset>
    }
}

#[component]
pub(super) fn StageSection(
    id: DocumentId,
    contact: Signal<Option<Contact>>,
    save: ContactSave,
) -> impl IntoView {
    let i18n = use_i18n();
    let busy = save.pending();
    let run = move |to: Stage, values: Vec<(ContactField, String)>| {
        save.dispatch_local(Rc::new(move |c: &mut ContactDoc, ed: &Editor| {
            c.move_to_stage(ed, to, &values)
        }) as ContactOp);
    };
    let open = RwSignal::new(false);
    let name = RwSignal::new(String::new());
    let phone = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let full_name = RwSignal::new(String::new());
    let birth_year = RwSignal::new(String::new());
    let birth_date = RwSignal::new(String::new());
    let stage = Memo::new(move |_| contact.get().map(|c| c.stage));
    let next = move || stage.get().and_then(Stage::next);
    // Identified needs consent: asked before the form opens, so the worker is told why
    // instead of filling in a name that would be refused.
    let blocked = Memo::new(move |_| {
        next() == Some(Stage::Identified)
            && contact
                .get()
                .is_some_and(|c| c.identify_refusal().is_some())
    });
    let start = move |_| {
        if let Some(c) = contact.get_untracked() {
            name.set(c.display_name.clone());
            phone.set(c.phone.clone().unwrap_or_default());
            email.set(c.email.clone().unwrap_or_default());
            full_name.set(c.full_name.clone().unwrap_or_default());
            birth_year.set(c.birth_year.map(|y| y.to_string()).unwrap_or_default());
            birth_date.set(c.birth_date.map(|d| d.to_string()).unwrap_or_default());
        }
        open.set(true);
    };
    // The step's values as typed: what it writes, and what the duplicates are looked
    // for with while it is filled in.
    let typed = Signal::derive(move || match next() {
        Some(Stage::Identified) => vec![
            (ContactField::FullName, full_name.get()),
            (ContactField::BirthDate, birth_date.get()),
            (ContactField::BirthYear, birth_year.get()),
        ],
        Some(_) => vec![
            (ContactField::DisplayName, name.get()),
            (ContactField::Phone, phone.get()),
            (ContactField::Email, email.get()),
        ],
        None => Vec::new(),
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(to) = next() else { return };
        open.set(false);
        run(to, typed.get_untracked());
    };
    let step_label = move |to: Stage| match to {
        Stage::Identified => t!(i18n, stage_to_identified).into_any(),
        _ => t!(i18n, stage_to_pseudonymous).into_any(),
    };
    let form = move || {
        let fields = if next() == Some(Stage::Identified) {
            view! {
                <Field value=full_name required=true autofocus=true>{t!(i18n, field_full_name)}</Field>
                <Field value=birth_date kind="date">{t!(i18n, field_birth_date_optional)}</Field>
                // Data minimisation: the date is asked, the year alone is enough.
                <p class="hint">{t!(i18n, stage_birth_hint)}</p>
                <Field value=birth_year kind="number">{t!(i18n, field_birth_year_optional)}</Field>
            }
            .into_any()
        } else {
            view! {
                <Field value=name required=true autofocus=true>{t!(i18n, field_display_name)}</Field>
                <Field value=phone kind="tel">{t!(i18n, field_phone_optional)}</Field>
                <Field value=email kind="email">{t!(i18n, field_email_optional)}</Field>
            }
            .into_any()
        };
        view! {
            <form on:submit=submit>
                {fields}
                <StepDuplicates id contact typed />
                <SaveOrCancel open busy>{t!(i18n, stage_save)}</SaveOrCancel>
            </form>
        }
    };
    // Down a stage (a record from before stages too, which is then kept at the lower
    // one): the values the lower stage may not hold are removed in the same change.
    let down = move || {
        let c = contact.get()?;
        let (to, words) = match c.stage {
            Stage::Identified => (
                Stage::Pseudonymous,
                t!(i18n, stage_down_pseudonymous).into_any(),
            ),
            Stage::Pseudonymous => (Stage::Anonymous, t!(i18n, stage_down_anonymous).into_any()),
            Stage::Anonymous => return None,
        };
        // Behind a disclosure: it removes values, and sits next to the step up.
        Some(view! {
            <details class="disclosure" aria-labelledby="stage-down">
                <summary id="stage-down">{t!(i18n, stage_down_title)}</summary>
                <button type="button" disabled=move || busy.get()
                    on:click=move |_| run(to, Vec::new())>{words}</button>
            </details>
        })
    };
    view! {
        <section aria-labelledby="identification">
            <h2 id="identification">{t!(i18n, stage_title)}</h2>
            <p class="stage">{move || stage.get().map(|s| says(i18n, s))}</p>
            <Show when=move || contact.get().is_some_and(|c| c.stage == Stage::Identified && c.consent.withdrawn_on.is_some())>
                <p class="notice warn">{t!(i18n, stage_withdrawn)}</p>
            </Show>
            {move || next().map(|to| {
                if open.get() && blocked.get() {
                    view! {
                        <p class="notice warn" role="alert">
                            {t!(i18n, stage_needs_consent)} " "
                            // Closed on the way, so the consent recorded brings back
                            // the step's button rather than a form below the fold.
                            <a href="#consent" on:click=move |_| open.set(false)>{t!(i18n, stage_consent_link)}</a>
                        </p>
                    }
                    .into_any()
                } else if open.get() {
                    form().into_any()
                } else {
                    view! { <button type="button" on:click=start>{step_label(to)}</button> }.into_any()
                }
            })}
            {down}
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::ActorId;
    use paktum_shared::Day;
    use paktum_shared::contact::{Channel, NewContact};
    use wasm_bindgen_test::wasm_bindgen_test;

    fn typed() -> Vec<(ContactField, String)> {
        vec![
            (
                ContactField::Description,
                "tall, red cap, skate park".into(),
            ),
            (ContactField::Phone, "0470 12 34 56".into()),
        ]
    }

    #[wasm_bindgen_test]
    fn a_stage_changed_by_both_reads_as_the_form_says_not_the_stored_word() {
        assert_eq!(stage_text(Locale::en, "pseudonymous"), "First name known");
        assert_eq!(stage_text(Locale::hu, "anonymous"), "Névtelen");
        for locale in [Locale::en, Locale::hu, Locale::nl, Locale::fr, Locale::de] {
            for stage in Stage::ALL {
                let shown = stage_text(locale, stage.as_str());
                assert!(
                    !shown.is_empty() && shown != stage.as_str(),
                    "{locale:?}: {stage:?} -> {shown}"
                );
            }
        }
        assert_eq!(stage_text(Locale::fr, "verified"), "verified");
    }

    #[wasm_bindgen_test]
    fn the_form_sends_only_what_the_chosen_stage_asks() {
        assert_eq!(
            new_contact_values(Stage::Anonymous, typed()),
            [(
                ContactField::Description,
                "tall, red cap, skate park".to_string()
            )],
            "a phone typed before choosing anonymous is not stored"
        );
        assert_eq!(
            new_contact_values(Stage::Pseudonymous, typed()),
            [(ContactField::Phone, "0470 12 34 56".to_string())]
        );
        let blank = vec![(ContactField::Phone, "  ".to_string())];
        assert!(new_contact_values(Stage::Pseudonymous, blank).is_empty());
    }

    fn contact(stage: Stage, values: &[(ContactField, String)]) -> Contact {
        let editor = Editor::new(ActorId::random(), "Ines", 1_795_521_600_000);
        let new = NewContact {
            team: "kempen".into(),
            display_name: "Red cap".into(),
            first_contact_on: Day::new(2026, 11, 20).expect("day"),
            channel: Channel::Street,
            place: None,
            assigned_worker: None,
        };
        let doc = match stage {
            Stage::Identified => {
                let mut doc =
                    ContactDoc::create_at(&editor, new, Stage::Pseudonymous, &[]).expect("created");
                doc.give_consent(
                    &editor,
                    Day::new(2026, 11, 20).expect("day"),
                    paktum_shared::contact::ConsentScope::Team,
                )
                .expect("consent");
                doc.move_to_stage(&editor, stage, values)
                    .expect("identified");
                doc
            }
            _ => ContactDoc::create_at(&editor, new, stage, values).expect("created"),
        };
        doc.read().expect("read")
    }

    #[wasm_bindgen_test]
    fn details_show_what_the_stage_holds() {
        let shown = |c: &Contact| {
            [
                ContactField::Description,
                ContactField::Phone,
                ContactField::Email,
                ContactField::FullName,
                ContactField::BirthDate,
                ContactField::BirthYear,
                ContactField::Municipality,
            ]
            .into_iter()
            .filter(|f| detail_shown(c, *f))
            .collect::<Vec<_>>()
        };
        let anonymous = contact(
            Stage::Anonymous,
            &new_contact_values(Stage::Anonymous, typed()),
        );
        assert_eq!(
            shown(&anonymous),
            [ContactField::Description, ContactField::Municipality]
        );
        let named = contact(Stage::Pseudonymous, &[]);
        assert_eq!(
            shown(&named),
            [
                ContactField::Phone,
                ContactField::Email,
                ContactField::Municipality
            ],
            "no description asked once named, none held"
        );
        let identified = contact(
            Stage::Identified,
            &[(ContactField::FullName, "Ruben Verhoeven".to_string())],
        );
        assert_eq!(
            shown(&identified),
            [
                ContactField::Phone,
                ContactField::Email,
                ContactField::FullName,
                ContactField::BirthDate,
                ContactField::BirthYear,
                ContactField::Municipality
            ],
            "a year, or a date to add"
        );
        let dated = contact(
            Stage::Identified,
            &[
                (ContactField::FullName, "Ruben Verhoeven".to_string()),
                (ContactField::BirthDate, "2008-05-14".to_string()),
            ],
        );
        assert_eq!(dated.birth_year, Some(2008));
        assert_eq!(
            shown(&dated),
            [
                ContactField::Phone,
                ContactField::Email,
                ContactField::FullName,
                ContactField::BirthDate,
                ContactField::Municipality
            ],
            "the date where known, not the year beside it"
        );
    }
}
