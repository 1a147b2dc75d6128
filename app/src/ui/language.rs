//! The pact's languages in the app: the language picker (the browser's language on
//! first start, then the worker's choice, remembered per device in localStorage;
//! leptos_i18n sets `<html lang>`), and what the catalogue cannot hold on its own:
//! dates, times, numbers and plural forms (written by `paktum_shared::language`), the
//! record model's errors and the history lines, each mapped to a catalogue key.

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_i18n::Locale as _;
use paktum_shared::contact::{ContactField, Outcome, Stage, Status};
use paktum_shared::employer::{Commitment, EmployerField};
use paktum_shared::language::{self, Due, Lang, Plural};
use paktum_shared::refusal::Code;
use paktum_shared::{Day, ModelError};

use super::parts::{commitment_label, outcome_label, status_label};
use crate::field::{Problem, store_error_text};
use crate::i18n::*;
use crate::sync::EnrolError;

/// Where the chosen language is remembered (this device only).
const STORAGE_KEY: &str = "paktum-locale";

fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok()?
}

/// Switches to the language this device was set to, if it was; call once at start.
pub fn restore(i18n: I18nContext<Locale>) {
    let chosen = local_storage()
        .and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        .and_then(|code| code.parse::<Locale>().ok());
    if let Some(locale) = chosen {
        i18n.set_locale(locale);
        // leptos_i18n sets the browser's language from an effect of its own once the
        // app is mounted; this one is created after it, so it runs after it too.
        Effect::new(move |_| i18n.set_locale(locale));
    }
}

/// Each language by its own name, as a picker lists them.
fn autonym(locale: Locale) -> &'static str {
    match Lang::from_tag(locale.as_str()) {
        Lang::En => "English",
        Lang::Hu => "Magyar",
        Lang::Nl => "Nederlands",
        Lang::Fr => "Français",
        Lang::De => "Deutsch",
    }
}

/// The language picker: a small select in the top bar (and on the setup screen), or
/// with `full` a labelled select of the languages' own names (settings).
/// Switching redraws the words in place; forms keep what was typed.
#[component]
pub fn LanguagePicker(#[prop(optional)] full: bool) -> impl IntoView {
    let i18n = use_i18n();
    let label_id = super::parts::unique_id("language");
    let change = move |ev: leptos::ev::Event| {
        if let Ok(locale) = event_target_value(&ev).parse::<Locale>() {
            i18n.set_locale(locale);
            if let Some(storage) = local_storage() {
                // Not remembering only means the browser's language next time.
                let _ = storage.set_item(STORAGE_KEY, locale.as_str());
            }
        }
    };
    view! {
        <label class:language=!full>
            <span id=label_id.clone() class:visually-hidden=!full>{t!(i18n, language_label)}</span>
            <select aria-labelledby=label_id prop:value=move || i18n.get_locale().as_str() on:change=change>
                {Locale::get_all()
                    .iter()
                    .map(|l| {
                        let code = l.as_str();
                        view! {
                            <option value=code lang=code title=autonym(*l) selected=move || i18n.get_locale() == *l>
                                {if full { autonym(*l).to_string() } else { code.to_uppercase() }}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}

/// The language the screens are in now (tracked: a closure calling this redraws on a switch).
pub fn lang(i18n: I18nContext<Locale>) -> Lang {
    Lang::from_tag(i18n.get_locale().as_str())
}

/// A stored day as the worker's language writes it.
pub fn day_text(i18n: I18nContext<Locale>, day: Day) -> String {
    language::written(lang(i18n), day)
}

/// A whole number with the language's digit grouping.
pub fn number(i18n: I18nContext<Locale>, n: usize) -> String {
    language::grouped(lang(i18n), n as u64)
}

/// "14:05" today, the day and time otherwise (the device's time zone).
pub fn when(i18n: I18nContext<Locale>, ms: i64) -> String {
    when_shown(i18n, ms, false)
}

/// The day and the time, also today (the history, where "14:05" alone reads as any day).
pub fn when_with_day(i18n: I18nContext<Locale>, ms: i64) -> String {
    when_shown(i18n, ms, true)
}

fn when_shown(i18n: I18nContext<Locale>, ms: i64, always_day: bool) -> String {
    if ms <= 0 {
        return String::new();
    }
    let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms as f64));
    let now = js_sys::Date::new_0();
    let same_day = date.get_full_year() == now.get_full_year()
        && date.get_month() == now.get_month()
        && date.get_date() == now.get_date();
    let time = (date.get_hours(), date.get_minutes());
    if same_day && !always_day {
        format!("{:02}:{:02}", time.0, time.1)
    } else {
        language::day_and_time(
            lang(i18n),
            (
                date.get_full_year() as i32,
                date.get_month() + 1,
                date.get_date(),
            ),
            time,
        )
    }
}

/// "3 days overdue", "Due today", "in 2 days", with the language's plural form.
pub fn due_view(i18n: I18nContext<Locale>, today: Day, on: Day) -> AnyView {
    let lang = lang(i18n);
    match language::due(today, on) {
        Due::Today => t!(i18n, day_today).into_any(),
        Due::Overdue(n) => match language::plural(lang, n) {
            Plural::One => t!(i18n, due_overdue.one, count = n).into_any(),
            Plural::Other => t!(i18n, due_overdue.other, count = n).into_any(),
        },
        Due::In(n) => match language::plural(lang, n) {
            Plural::One => t!(i18n, due_in.one, count = n).into_any(),
            Plural::Other => t!(i18n, due_in.other, count = n).into_any(),
        },
    }
}

/// A field name the model uses in its errors, as the form labels it.
fn field_name(i18n: I18nContext<Locale>, field: &str) -> String {
    match field {
        "name" => t_string!(i18n, field_display_name),
        "full name" => t_string!(i18n, field_full_name),
        "description" => t_string!(i18n, field_description),
        "birth year" => t_string!(i18n, field_birth_year),
        "birth date" => t_string!(i18n, field_birth_date),
        "phone number" => t_string!(i18n, field_phone),
        "email address" => t_string!(i18n, field_email),
        "municipality" => t_string!(i18n, field_municipality),
        "assigned worker" => t_string!(i18n, field_assigned_worker),
        "team" => t_string!(i18n, field_team),
        "status" => t_string!(i18n, field_status),
        "channel" => t_string!(i18n, new_contact_channel),
        "size band" | "size_band" => t_string!(i18n, employer_size),
        "commitment" => t_string!(i18n, visit_commitment),
        "outcome" => t_string!(i18n, referral_outcome),
        "note" => t_string!(i18n, note_text),
        "consent scope" => t_string!(i18n, field_consent_scope),
        "opening" => t_string!(i18n, referral_opening),
        "employer name" => t_string!(i18n, employer_name),
        "purpose" => t_string!(i18n, visit_purpose),
        "visit report" => t_string!(i18n, visit_report),
        "opening title" => t_string!(i18n, visit_opening_title),
        "number of openings" => t_string!(i18n, visit_opening_count),
        "requirements" => t_string!(i18n, field_requirements),
        "document" => t_string!(i18n, field_document),
        "sector" => t_string!(i18n, employer_sector),
        "contact_name" => t_string!(i18n, employer_contact_name),
        "contact_phone" => t_string!(i18n, employer_contact_phone),
        "contact_email" => t_string!(i18n, employer_contact_email),
        "leaving date" => t_string!(i18n, field_left_on),
        "result" => t_string!(i18n, field_participant_result),
        // A field added to the model before it gets a label here: its own name.
        other => return other.to_string(),
    }
    .to_string()
}

/// A status as stored, worded; unknown values as they are.
fn status_word(i18n: I18nContext<Locale>, raw: &str) -> String {
    raw.parse::<Status>()
        .map(|s| status_label(i18n, s))
        .unwrap_or_else(|_| raw.to_string())
}

/// Why something failed, in the worker's language of the moment.
pub fn problem_view(i18n: I18nContext<Locale>, problem: &Problem) -> AnyView {
    match problem {
        Problem::Store(e) => store_error_text(i18n, e).into_any(),
        Problem::Model(e) => model_error(i18n, e),
        Problem::Enrol(e) => enrol_error(i18n, e),
        Problem::Form(words) => words(i18n).into_any(),
    }
}

/// Why enrolling this device failed: the relay's code worded here; its English
/// sentence only for a code this build does not know.
fn enrol_error(i18n: I18nContext<Locale>, e: &EnrolError) -> AnyView {
    let refusal = match e {
        EnrolError::Unreachable => return t!(i18n, enrol_unreachable).into_any(),
        EnrolError::Refused(refusal) => refusal,
    };
    match (refusal.code, refusal.retry_after_secs) {
        (Some(Code::RateLimited), Some(secs)) => {
            let wait = wait_view(i18n, secs);
            view! { {refusal_text(i18n, Code::RateLimited)} " " {wait} }.into_any()
        }
        (Some(code), _) => refusal_text(i18n, code).into_any(),
        (None, _) if !refusal.error.is_empty() => refusal.error.clone().into_any(),
        (None, _) => t!(i18n, enrol_refused).into_any(),
    }
}

/// "You can try again in 30 seconds" (whole minutes from two minutes on).
fn wait_view(i18n: I18nContext<Locale>, secs: u64) -> AnyView {
    let lang = lang(i18n);
    if secs < 120 {
        let n = secs.max(1);
        match language::plural(lang, n) {
            Plural::One => t!(i18n, enrol_wait_seconds.one, count = n).into_any(),
            Plural::Other => t!(i18n, enrol_wait_seconds.other, count = n).into_any(),
        }
    } else {
        let n = secs.div_ceil(60);
        match language::plural(lang, n) {
            Plural::One => t!(i18n, enrol_wait_minutes.one, count = n).into_any(),
            Plural::Other => t!(i18n, enrol_wait_minutes.other, count = n).into_any(),
        }
    }
}

/// Each code the relay refuses with and the catalogue key that says it, in one list:
/// `refusal_text` is generated from it (a match without a wildcard, so a new code
/// does not build until it has a key), and so is the table the test below checks
/// against every catalogue.
macro_rules! refusal_keys {
    ($($code:ident => $key:ident,)*) => {
        /// A relay refusal, by its code, in the worker's language.
        pub fn refusal_text(i18n: I18nContext<Locale>, code: Code) -> String {
            match code {
                $(Code::$code => t_string!(i18n, $key).to_string(),)*
            }
        }

        #[cfg(test)]
        const REFUSAL_KEYS: &[(Code, &str)] = &[$((Code::$code, stringify!($key)),)*];
    };
}

refusal_keys! {
    NotEnrolled => failure_not_accepted,
    ProtocolVersion => failure_version,
    TooManyConnections => failure_too_many_connections,
    TooManyDocuments => failure_too_many_documents,
    RateLimited => enrol_rate_limited,
    CodeUsed => enrol_used,
    CodeExpired => enrol_expired,
    CodeUnknown => enrol_unknown,
    Malformed => failure_not_understood,
    ProtocolViolation => failure_not_understood,
    BadSync => failure_not_understood,
    TooSlow => failure_lost,
    Unavailable => failure_relay_busy,
    NotPermitted => failure_not_permitted,
    Withdrawn => withdrawn_wiped,
    WithdrawnQuarantined => withdrawn_wiped_quarantined,
}

/// The record model's refusal as a sentence in the worker's language.
pub fn model_error(i18n: I18nContext<Locale>, e: &ModelError) -> AnyView {
    match e.clone() {
        ModelError::Empty { field } => {
            t!(i18n, error_empty, field = field_name(i18n, field)).into_any()
        }
        ModelError::TooLong { field, max } => t!(
            i18n,
            error_too_long,
            field = field_name(i18n, field),
            max = number(i18n, max)
        )
        .into_any(),
        ModelError::BadDate { value } => t!(i18n, error_bad_date, value = value).into_any(),
        ModelError::DateOutOfRange { value, min, max } => {
            t!(i18n, error_date_range, value = value, min = min, max = max).into_any()
        }
        ModelError::OutOfRange { field, min, max } => t!(
            i18n,
            error_out_of_range,
            field = field_name(i18n, field),
            min = min,
            max = max
        )
        .into_any(),
        ModelError::Invalid { field, value } => t!(
            i18n,
            error_invalid,
            field = field_name(i18n, field),
            value = value
        )
        .into_any(),
        ModelError::UnknownStatus(value) => {
            t!(i18n, error_unknown_status, value = value).into_any()
        }
        ModelError::ReasonRequired => t!(i18n, error_reason_required).into_any(),
        ModelError::StatusUnchanged(status) => t!(
            i18n,
            error_status_unchanged,
            status = status_word(i18n, &status)
        )
        .into_any(),
        ModelError::NotFound { what, .. } => match what {
            "note" => t!(i18n, error_note_gone).into_any(),
            "referral" => t!(i18n, error_referral_gone).into_any(),
            _ => t!(i18n, error_record_gone).into_any(),
        },
        ModelError::BadDocumentId => t!(i18n, error_bad_id).into_any(),
        ModelError::Corrupt(reason) => t!(i18n, record_damaged, reason = reason).into_any(),
        ModelError::WrongKind { found, .. } => t!(i18n, error_wrong_kind, found = found).into_any(),
        ModelError::NewerSchema(_) => t!(i18n, error_newer_schema).into_any(),
        ModelError::ReadOnly { team } => t!(i18n, record_read_only, team = team).into_any(),
        ModelError::ConsentRequired => t!(i18n, error_consent_required).into_any(),
        ModelError::NotAtStage { field, stage } => t!(
            i18n,
            error_not_at_stage,
            field = field_name(i18n, field),
            stage = stage_word(i18n, stage)
        )
        .into_any(),
        ModelError::IdentifyNeedsConsent => t!(i18n, error_identify_needs_consent).into_any(),
        ModelError::NotParticipant => t!(i18n, error_not_participant).into_any(),
        ModelError::TooLate { field, latest } => t!(
            i18n,
            error_too_late,
            field = field_name(i18n, field),
            latest = latest
        )
        .into_any(),
        ModelError::BirthYearNotOfDate { year, date } => {
            t!(i18n, error_birth_year_not_of_date, year = year, date = date).into_any()
        }
        ModelError::TooEarly { field, earliest } => t!(
            i18n,
            error_too_early,
            field = field_name(i18n, field),
            earliest = earliest
        )
        .into_any(),
    }
}

/// A stage of identification as stored ("anonymous"), in the worker's language.
pub fn stage_word(i18n: I18nContext<Locale>, stored: &str) -> String {
    match stored.parse::<Stage>() {
        Ok(stage) => stage_label(i18n, stage),
        Err(_) => stored.to_string(),
    }
}

/// A stage's name.
pub fn stage_label(i18n: I18nContext<Locale>, stage: Stage) -> String {
    match stage {
        Stage::Anonymous => t_string!(i18n, stage_anonymous),
        Stage::Pseudonymous => t_string!(i18n, stage_pseudonymous),
        Stage::Identified => t_string!(i18n, stage_identified),
    }
    .to_string()
}

/// A history line ("what" of a change, as `shared` writes it) in the worker's language.
pub fn history_line(i18n: I18nContext<Locale>, what: &str) -> AnyView {
    if let Some(status) = what.strip_prefix("status: ") {
        return t!(i18n, history_status, status = status_word(i18n, status)).into_any();
    }
    if let Some(stage) = what.strip_prefix("stage: ") {
        return t!(i18n, history_stage, stage = stage_word(i18n, stage)).into_any();
    }
    if let Some(outcome) = what.strip_prefix("referral: ") {
        let worded = outcome
            .parse::<Outcome>()
            .map(|o| outcome_label(i18n, o))
            .unwrap_or_else(|_| outcome.to_string());
        return t!(i18n, history_referral, outcome = worded).into_any();
    }
    if let Some(level) = what.strip_prefix("commitment: ") {
        let worded = level
            .parse::<Commitment>()
            .map(|c| commitment_label(i18n, c))
            .unwrap_or_else(|_| level.to_string());
        return t!(i18n, history_commitment, level = worded).into_any();
    }
    if let Some(result) = what.strip_prefix("result: ") {
        let worded = result
            .parse()
            .map(|r| super::contact::result_label(i18n, r))
            .unwrap_or_else(|_| result.to_string());
        return t!(i18n, history_participant_result, result = worded).into_any();
    }
    let fixed = match what {
        "participant entry" => t_string!(i18n, history_participant_entry),
        "participant left" => t_string!(i18n, history_participant_left),
        "created" => t_string!(i18n, history_created),
        "merged" => t_string!(i18n, history_merged),
        "consent given" => t_string!(i18n, history_consent_given),
        "consent withdrawn" => t_string!(i18n, history_consent_withdrawn),
        "tags" => t_string!(i18n, history_tags),
        "note added" => t_string!(i18n, history_note_added),
        "note edited" => t_string!(i18n, history_note_edited),
        "follow-up done" => t_string!(i18n, history_follow_up_done),
        "follow-up reopened" => t_string!(i18n, history_follow_up_reopened),
        "follow-up date" => t_string!(i18n, history_follow_up_date),
        "referral added" => t_string!(i18n, history_referral_added),
        "visit added" => t_string!(i18n, history_visit_added),
        "visit edited" => t_string!(i18n, history_visit_edited),
        "note removed" => t_string!(i18n, history_note_removed),
        "note restored" => t_string!(i18n, history_note_restored),
        "visit removed" => t_string!(i18n, history_visit_removed),
        "visit restored" => t_string!(i18n, history_visit_restored),
        "referral removed" => t_string!(i18n, history_referral_removed),
        "referral restored" => t_string!(i18n, history_referral_restored),
        "result removed" => t_string!(i18n, history_result_removed),
        "result restored" => t_string!(i18n, history_result_restored),
        _ => "",
    };
    if !fixed.is_empty() {
        return fixed.to_string().into_any();
    }
    // A field edit: the change is named after the document key.
    let field = ContactField::all()
        .find(|f| f.key() == what)
        .map(|f| super::contact::field_label(i18n, f))
        .or_else(|| {
            EmployerField::ALL
                .into_iter()
                .find(|f| f.key() == what)
                .map(|f| super::employer::field_label(i18n, f))
        });
    match field {
        Some(field) => t!(i18n, history_changed, field = field).into_any(),
        None => what.to_string().into_any(),
    }
}

#[cfg(test)]
mod tests {
    use super::REFUSAL_KEYS;
    use paktum_shared::refusal::Code;
    use wasm_bindgen_test::wasm_bindgen_test;

    const CATALOGUES: [(&str, &str); 5] = [
        ("en", include_str!("../../locales/en.json")),
        ("hu", include_str!("../../locales/hu.json")),
        ("nl", include_str!("../../locales/nl.json")),
        ("fr", include_str!("../../locales/fr.json")),
        ("de", include_str!("../../locales/de.json")),
    ];

    #[wasm_bindgen_test]
    fn every_refusal_code_has_a_key_in_every_catalogue() -> Result<(), serde_json::Error> {
        for (lang, json) in CATALOGUES {
            let catalogue: serde_json::Value = serde_json::from_str(json)?;
            for code in Code::ALL {
                let keys: Vec<&str> = REFUSAL_KEYS
                    .iter()
                    .filter(|(c, _)| *c == code)
                    .map(|(_, key)| *key)
                    .collect();
                assert_eq!(keys.len(), 1, "{code}: one key, not {keys:?}");
                let said = catalogue[keys[0]].as_str().unwrap_or_default();
                assert!(!said.is_empty(), "{lang}: {code} -> {} missing", keys[0]);
            }
            for group in ["enrol_wait_seconds", "enrol_wait_minutes"] {
                for form in ["one", "other"] {
                    let said = catalogue[group][form].as_str().unwrap_or_default();
                    assert!(said.contains("{{ count }}"), "{lang}: {group}.{form}");
                }
            }
        }
        Ok(())
    }
}
