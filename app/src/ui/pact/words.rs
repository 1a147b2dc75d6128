//! The coordinator's words for the indicators' rows, bases, groups and concerns, on
//! screen and in the CSV files (`shared::indicators::Label`), in the app's language.

use leptos_i18n::I18nContext;
use paktum_shared::contact::{Education, Gender, LabourStatus, ParticipantResult, Stage};
use paktum_shared::indicators::table::Concern;
use paktum_shared::indicators::{AgeBand, Basis, GroupBy, Label, Row};
use paktum_shared::language::Lang;

use super::super::contact::participant::{
    education_label, gender_label, labour_label, result_label,
};
use super::super::language::{day_text, lang};
use super::super::parts::{outcome_label, status_label};
use crate::i18n::*;

/// A catalogue text with its `%name%` places filled. These texts are also wanted as
/// plain strings (CSV cells, accessible names), which leptos_i18n's `{{ name }}` cannot
/// give without its `interpolate_display` option (not offered by `load_locales!`).
pub fn fill(template: impl AsRef<str>, vars: &[(&str, String)]) -> String {
    let mut out = template.as_ref().to_string();
    for (name, value) in vars {
        out = out.replace(&format!("%{name}%"), value);
    }
    out
}

pub fn row_label(i18n: I18nContext<Locale>, row: &Row) -> String {
    match row {
        Row::Reached => t_string!(i18n, row_reached).to_string(),
        Row::ReachedAt(stage) => match stage {
            Stage::Anonymous => t_string!(i18n, row_reached_anonymous),
            Stage::Pseudonymous => t_string!(i18n, row_reached_pseudonymous),
            Stage::Identified => t_string!(i18n, row_reached_identified),
        }
        .to_string(),
        Row::Entered(s) => fill(
            t_string!(i18n, row_entered),
            &[("status", status_label(i18n, *s).to_string())],
        )
        .to_string(),
        Row::ClosedFor(reason) => fill(
            t_string!(i18n, row_closed),
            &[("reason", reason.clone().to_string())],
        )
        .to_string(),
        Row::Standing(s) => fill(
            t_string!(i18n, row_standing),
            &[("status", status_label(i18n, *s).to_string())],
        )
        .to_string(),
        Row::EmployersVisited => t_string!(i18n, row_employers_visited).to_string(),
        Row::Visits => t_string!(i18n, row_visits).to_string(),
        Row::Openings => t_string!(i18n, row_openings).to_string(),
        Row::Referrals => t_string!(i18n, row_referrals).to_string(),
        Row::ReferralOutcome(o) => fill(
            t_string!(i18n, row_referral_outcome),
            &[("outcome", outcome_label(i18n, *o).to_string())],
        )
        .to_string(),
        Row::Employers => t_string!(i18n, row_employers).to_string(),
        Row::InclusiveEmployers => t_string!(i18n, row_inclusive).to_string(),
        Row::Participants => t_string!(i18n, row_participants).to_string(),
        Row::AgeAtEntry(a) => fill(
            t_string!(i18n, row_age),
            &[("band", age_label(i18n, *a).to_string())],
        )
        .to_string(),
        Row::LabourStatusAtEntry(l) => fill(
            t_string!(i18n, row_labour),
            &[("status", labour(i18n, *l).to_string())],
        )
        .to_string(),
        Row::EducationAtEntry(e) => fill(
            t_string!(i18n, row_education),
            &[("level", education(i18n, *e).to_string())],
        )
        .to_string(),
        Row::GenderAtEntry(g) => fill(
            t_string!(i18n, row_gender),
            &[("gender", gender(i18n, *g).to_string())],
        )
        .to_string(),
        Row::Leavers => t_string!(i18n, row_leavers).to_string(),
        Row::UponLeaving(r) => fill(
            t_string!(i18n, row_upon_leaving),
            &[("result", result(i18n, *r).to_string())],
        )
        .to_string(),
        Row::SixMonthCohort => t_string!(i18n, row_six_cohort).to_string(),
        Row::SixMonthsAfter(r) => fill(
            t_string!(i18n, row_six_after),
            &[("result", result(i18n, *r).to_string())],
        )
        .to_string(),
    }
}

fn labour(i18n: I18nContext<Locale>, l: LabourStatus) -> String {
    labour_label(i18n, l)
}
fn education(i18n: I18nContext<Locale>, e: Education) -> String {
    education_label(i18n, e)
}
fn gender(i18n: I18nContext<Locale>, g: Gender) -> String {
    gender_label(i18n, g)
}
fn result(i18n: I18nContext<Locale>, r: ParticipantResult) -> String {
    result_label(i18n, r)
}

pub fn age_label(i18n: I18nContext<Locale>, a: AgeBand) -> String {
    match a {
        AgeBand::Under18 => t_string!(i18n, age_under_18),
        AgeBand::From18To29 => t_string!(i18n, age_18_29),
        AgeBand::From30 => t_string!(i18n, age_30),
        AgeBand::Unknown => t_string!(i18n, age_unknown),
    }
    .to_string()
}

/// What a row counts, short (the CSV's column, the table's header).
pub fn basis_label(i18n: I18nContext<Locale>, b: Basis) -> String {
    match b {
        Basis::Entrants => t_string!(i18n, basis_entrants),
        Basis::Standing => t_string!(i18n, basis_standing),
        Basis::Activity => t_string!(i18n, basis_activity),
        Basis::Cohort => t_string!(i18n, basis_cohort),
    }
    .to_string()
}

/// What a row counts and over which days, in a sentence (the first and last day).
pub fn basis_sentence(
    i18n: I18nContext<Locale>,
    row: &Row,
    first: paktum_shared::Day,
    last: paktum_shared::Day,
) -> String {
    let (start, end) = (day_text(i18n, first), day_text(i18n, last));
    match (row, row.basis()) {
        (Row::SixMonthCohort | Row::SixMonthsAfter(_), _) => fill(
            t_string!(i18n, basis_six_months_when),
            &[("start", start.to_string()), ("end", end.to_string())],
        )
        .to_string(),
        (_, Basis::Entrants) => fill(
            t_string!(i18n, basis_entrants_when),
            &[("start", start.to_string()), ("end", end.to_string())],
        )
        .to_string(),
        (_, Basis::Standing) => fill(
            t_string!(i18n, basis_standing_when),
            &[("end", end.to_string())],
        )
        .to_string(),
        (_, Basis::Activity) => fill(
            t_string!(i18n, basis_activity_when),
            &[("start", start.to_string()), ("end", end.to_string())],
        )
        .to_string(),
        (_, Basis::Cohort) => fill(
            t_string!(i18n, basis_cohort_when),
            &[("start", start.to_string()), ("end", end.to_string())],
        )
        .to_string(),
    }
}

pub fn group_by_label(i18n: I18nContext<Locale>, by: GroupBy) -> String {
    match by {
        GroupBy::Pact => t_string!(i18n, group_pact),
        GroupBy::Team => t_string!(i18n, group_team),
        GroupBy::Municipality => t_string!(i18n, group_municipality),
    }
    .to_string()
}

/// A group's name: the whole pact, a team, a municipality (or none).
pub fn group_name(i18n: I18nContext<Locale>, by: GroupBy, key: &str) -> String {
    match (by, key) {
        (GroupBy::Pact, _) => t_string!(i18n, group_whole_pact).to_string(),
        (GroupBy::Municipality, "") => t_string!(i18n, group_no_municipality).to_string(),
        _ => key.to_string(),
    }
}

/// A concern in words; `retention_months` is the pact's (for "kept N months").
pub fn concern_label(i18n: I18nContext<Locale>, c: Concern, retention_months: u32) -> String {
    match c {
        Concern::ChangedByBoth => t_string!(i18n, concern_changed_by_both),
        Concern::NoConsentAfter14Days => t_string!(i18n, concern_no_consent),
        Concern::OverdueFollowUp => t_string!(i18n, concern_overdue),
        Concern::NoActivityFor3Months => t_string!(i18n, concern_inactive),
        Concern::PastRetention => {
            return fill(
                t_string!(i18n, concern_past_retention),
                &[("months", retention_months.to_string())],
            );
        }
    }
    .to_string()
}

/// A share in tenths of a percent ("52.5", "52,5").
pub fn per_mille(i18n: I18nContext<Locale>, n: u64) -> String {
    let sign = if lang(i18n) == Lang::En { '.' } else { ',' };
    format!("{}{sign}{}", n / 10, n % 10)
}

/// The CSV separator: `;` where the decimal sign is a comma (spreadsheets expect it).
pub fn separator(i18n: I18nContext<Locale>) -> char {
    if lang(i18n) == Lang::En { ',' } else { ';' }
}

/// Every word of the indicators' CSV.
pub fn csv_word(i18n: I18nContext<Locale>, label: Label<'_>) -> String {
    match label {
        Label::Title => t_string!(i18n, csv_indicators_title).to_string(),
        Label::Period => t_string!(i18n, csv_period).to_string(),
        Label::GroupedBy => t_string!(i18n, csv_grouped_by).to_string(),
        Label::GroupBy(by) => group_by_label(i18n, by),
        Label::Group(by, key) => group_name(i18n, by, key),
        Label::Row(row) => row_label(i18n, row),
        Label::Basis(b) => basis_label(i18n, b),
        Label::InclusiveShare => t_string!(i18n, inclusive_share).to_string(),
        Label::InclusiveGoal => t_string!(i18n, inclusive_goal).to_string(),
        Label::ColumnGroup => t_string!(i18n, col_group).to_string(),
        Label::ColumnIndicator => t_string!(i18n, col_indicator).to_string(),
        Label::ColumnBasis => t_string!(i18n, col_basis).to_string(),
        Label::ColumnValue => t_string!(i18n, col_value).to_string(),
        Label::ColumnRecords => t_string!(i18n, col_records).to_string(),
        Label::Day(d) => day_text(i18n, d),
        // Plain digits: a spreadsheet reads "1 234" as text.
        Label::Count(n) => n.to_string(),
        Label::PerMille(n) => per_mille(i18n, n),
    }
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::fill;

    const CATALOGUES: [(&str, &str); 5] = [
        ("en", include_str!("../../../locales/en.json")),
        ("hu", include_str!("../../../locales/hu.json")),
        ("nl", include_str!("../../../locales/nl.json")),
        ("fr", include_str!("../../../locales/fr.json")),
        ("de", include_str!("../../../locales/de.json")),
    ];

    /// The `%name%` places of a text, sorted.
    fn places(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut rest = text;
        while let Some(start) = rest.find('%') {
            let after = &rest[start + 1..];
            match after.find('%') {
                Some(end)
                    if end > 0
                        && after[..end]
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '_') =>
                {
                    out.push(after[..end].to_string());
                    rest = &after[end + 1..];
                }
                _ => rest = after,
            }
        }
        out.sort();
        out
    }

    /// The texts filled by `fill` are not checked by leptos_i18n nor by the catalogue
    /// check (they use `%name%`, not `{{ name }}`): every language keeps every place.
    #[wasm_bindgen_test]
    fn every_catalogue_keeps_the_places_english_has() -> Result<(), serde_json::Error> {
        let en: serde_json::Value = serde_json::from_str(CATALOGUES[0].1)?;
        let keys: Vec<(&String, Vec<String>)> = en
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k, places(v.as_str()?))))
            .filter(|(_, p)| !p.is_empty())
            .collect();
        assert!(keys.len() >= 15, "{keys:?}");
        for (lang, json) in CATALOGUES {
            let catalogue: serde_json::Value = serde_json::from_str(json)?;
            for (key, wanted) in &keys {
                let said = catalogue[key.as_str()].as_str().unwrap_or_default();
                assert_eq!(&places(said), wanted, "{lang}: {key}");
            }
        }
        assert_eq!(
            fill(
                "Goal %goal% %; %share% %",
                &[("goal", "50".into()), ("share", "52,5".into())]
            ),
            "Goal 50 %; 52,5 %"
        );
        Ok(())
    }
}
