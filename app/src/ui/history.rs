//! The history of one record: who changed what and when (day and time), newest
//! first, with what each field was changed from and to, read from the Automerge
//! change log (`paktum_shared::record::FieldChange`); worded here.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_params_map;
use paktum_shared::Day;
use paktum_shared::contact::{ContactField, Outcome};
use paktum_shared::employer::EmployerField;
use paktum_shared::record::{FieldChange, Kind};

use super::language::{day_text, history_line, when_with_day};
use super::parts::{as_is, outcome_label, parse_id, status_text};
use crate::field::use_field;
use crate::i18n::*;
use leptos_i18n::I18nContext;
use paktum_shared::device::Loadable;

#[component]
pub fn HistoryPage() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| parse_id(&s))));
    let history = move || {
        id.get()
            .and_then(|id| field.read(|r| Some((id, r.history(&id)))))
    };
    move || {
        match history() {
        Some((id, Loadable::Ready((kind, entries)))) => {
            let back = match kind {
                Kind::Employer => format!("/employers/{id}"),
                _ => format!("/contacts/{id}"),
            };
            view! {
                <h1>{t!(i18n, history_title)}</h1>
                <A href=back>{t!(i18n, history_back)}</A>
                <ol class="timeline history">
                    {entries
                        .into_iter()
                        .rev()
                        .map(|h| {
                            // A field edit says it all in its from/to line.
                            let field_edit = matches!(h.changed.as_slice(), [c] if c.path == [h.what.clone()]);
                            let who = if h.by.is_empty() { t_string!(i18n, history_someone).to_string() } else { h.by };
                            view! {
                                <li>
                                    <span class="meta">{when_with_day(i18n, h.at_ms)} " · " {who}</span>
                                    {field_edit
                                        .then(|| change_view(i18n, &h.changed[0]))
                                        .flatten()
                                        .map(|line| view! { <span class="what">{line}</span> }.into_any())
                                        .unwrap_or_else(|| view! {
                                            <span class="what">{history_line(i18n, &h.what)}</span>
                                            {h.changed.iter().filter_map(|c| change_view(i18n, c)).collect_view()}
                                        }.into_any())}
                                </li>
                            }
                        })
                        .collect_view()}
                </ol>
            }
            .into_any()
        }
        Some((_, Loadable::Damaged(reason))) => {
            view! { <p class="error" role="alert">{t!(i18n, record_damaged, reason = reason.clone())}</p> }.into_any()
        }
        _ => view! { <p>{t!(i18n, record_not_here)}</p> }.into_any(),
    }
    }
}

/// A stored day as the language writes it; anything else as it is.
fn day_word(i18n: I18nContext<Locale>, raw: &str) -> String {
    raw.parse::<Day>()
        .map(|d| day_text(i18n, d))
        .unwrap_or_else(|_| raw.to_string())
}

/// `team` and `pact` in words; an older free-text scope as it was typed.
fn scope_word(i18n: I18nContext<Locale>, raw: &str) -> String {
    match raw {
        "team" => t_string!(i18n, consent_scope_team).to_string(),
        "pact" => t_string!(i18n, consent_scope_pact).to_string(),
        _ => raw.to_string(),
    }
}

fn outcome_word(i18n: I18nContext<Locale>, raw: &str) -> String {
    raw.parse::<Outcome>()
        .map(|o| outcome_label(i18n, o))
        .unwrap_or_else(|_| raw.to_string())
}

/// "Phone: 0470 11 22 33 → 0470 99 88 77" for a value a change set; `None` for what
/// the change's own line already says (a done flag, a tag, a new item's parts).
fn change_view(i18n: I18nContext<Locale>, change: &FieldChange) -> Option<AnyView> {
    type Word = fn(I18nContext<Locale>, &str) -> String;
    let path: Vec<&str> = change.path.iter().map(String::as_str).collect();
    let (label, word): (String, Word) = match path.as_slice() {
        [key] => {
            let field = ContactField::all()
                .find(|f| f.key() == *key)
                .map(|f| super::contact::field_label(i18n, f))
                .or_else(|| {
                    EmployerField::ALL
                        .into_iter()
                        .find(|f| f.key() == *key)
                        .map(|f| super::employer::field_label(i18n, f))
                })?;
            let word: Word = match *key {
                "status" => status_text,
                "birth_date" => super::contact::birth_date_word,
                _ => as_is,
            };
            (field, word)
        }
        ["inclusive", "level"] => (t_string!(i18n, commitment_title).to_string(), status_text),
        ["inclusive", "since"] => (t_string!(i18n, commitment_since).to_string(), day_word),
        ["notes", _, "follow_up"] => (t_string!(i18n, note_follow_up).to_string(), day_word),
        ["notes", _, "date"] => (t_string!(i18n, note_date).to_string(), day_word),
        ["notes", _, "place"] => (t_string!(i18n, note_place).to_string(), as_is),
        ["consent", "given_on"] => (t_string!(i18n, consent_given_on).to_string(), day_word),
        ["consent", "scope"] => (t_string!(i18n, consent_scope).to_string(), scope_word),
        ["consent", "withdrawn_on"] => {
            (t_string!(i18n, consent_withdrawn_on).to_string(), day_word)
        }
        ["referrals", _, "outcome"] => {
            (t_string!(i18n, referral_outcome).to_string(), outcome_word)
        }
        _ => return None,
    };
    let shown = |v: &Option<String>| match v.as_deref() {
        None | Some("") => "—".to_string(),
        Some(v) => word(i18n, v),
    };
    let (from, to) = (shown(&change.before), shown(&change.after));
    Some(
        view! { <span class="change">{t!(i18n, history_from_to, field = label, from = from, to = to)}</span> }
            .into_any(),
    )
}
