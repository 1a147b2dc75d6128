//! The indicators of a period (month, quarter, year or a custom range), for the whole
//! pact and per team or municipality, each row saying what it counts and over which
//! days; the charts; the ESF+ view; the records behind any figure (`FigurePage`); the
//! indicators' CSV and the printed report. The choice lives in the URL.

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;
use leptos_router::params::ParamsMap;
use paktum_shared::contact::{Education, Gender, LabourStatus, Outcome, ParticipantResult, Status};
use paktum_shared::device::PactRecords;
use paktum_shared::indicators::{
    self, AgeBand, Figure, GroupBy, Indicators, Period, Query, Report, Row, Zone,
};
use paktum_shared::record::Kind;
use paktum_shared::{Day, DocumentId, ModelError};

use super::super::language::{day_text, number};
use super::words::{
    basis_sentence, csv_word, group_by_label, group_name, per_mille, row_label, separator,
};
use super::{Format, PactHeader, Records, charts, export, pact_today, use_records};
use crate::field::use_field;
use crate::i18n::*;

/// The pact's time zone: every pact so far keeps Central European Time.
pub(super) const ZONE: Zone = Zone::CentralEurope;
/// Months the trend shows, up to the period's last month.
const TREND_MONTHS: i32 = 12;

/// What the dashboard shows: the period, the grouping and the pact's goal.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Choice {
    pub period: Period,
    pub by: GroupBy,
    pub goal: u32,
    /// The pact's setting (50 % unless it set another); the URL may override it.
    pub pact_goal: u32,
}

impl Choice {
    /// From the URL; missing or unreadable: this month, the whole pact, its goal.
    pub fn read(q: &ParamsMap, today: Day, pact_goal: u32) -> Choice {
        let num = |k: &str| q.get(k).and_then(|v| v.parse::<i32>().ok());
        let year = num("y")
            .filter(|y| (1990..=2100).contains(y))
            .unwrap_or(today.year());
        let this_month = Period::Month {
            year,
            month: today.month(),
        };
        let period = match q.get("period").as_deref() {
            Some("quarter") => Period::Quarter {
                year,
                quarter: num("q")
                    .filter(|q| (1..=4).contains(q))
                    .map_or((today.month() - 1) / 3 + 1, |q| q as u32),
            },
            Some("year") => Period::Year(year),
            Some("range") => {
                let day = |k: &str| q.get(k).and_then(|v| v.parse::<Day>().ok());
                match (day("from"), day("to").and_then(|d| d.plus_days(1))) {
                    (Some(start), Some(end)) if start < end => Period::Range { start, end },
                    _ => this_month,
                }
            }
            _ => Period::Month {
                year,
                month: num("m")
                    .filter(|m| (1..=12).contains(m))
                    .map_or(today.month(), |m| m as u32),
            },
        };
        let by = match q.get("by").as_deref() {
            Some("team") => GroupBy::Team,
            Some("municipality") => GroupBy::Municipality,
            _ => GroupBy::Pact,
        };
        let goal = num("goal")
            .filter(|g| (0..=100).contains(g))
            .map_or(pact_goal, |g| g as u32);
        Choice {
            period,
            by,
            goal,
            pact_goal,
        }
    }

    /// The URL query saying this choice.
    pub fn query(&self) -> String {
        let mut out = match self.period {
            Period::Month { year, month } => format!("period=month&y={year}&m={month}"),
            Period::Quarter { year, quarter } => format!("period=quarter&y={year}&q={quarter}"),
            Period::Year(year) => format!("period=year&y={year}"),
            Period::Range { start, end } => {
                let last = end.plus_days(-1).unwrap_or(start);
                format!("period=range&from={start}&to={last}")
            }
        };
        match self.by {
            GroupBy::Pact => {}
            GroupBy::Team => out.push_str("&by=team"),
            GroupBy::Municipality => out.push_str("&by=municipality"),
        }
        if self.goal != self.pact_goal {
            out.push_str(&format!("&goal={}", self.goal));
        }
        out
    }

    fn query_for(&self) -> Query {
        Query {
            period: self.period,
            zone: ZONE,
            group_by: self.by,
            inclusive_goal_percent: self.goal,
        }
    }
}

/// The figures of a choice: per group, for the whole pact, and the trend's months.
pub(super) struct Computed {
    pub report: Report,
    pub whole: Report,
    pub trend: Vec<(Period, Indicators)>,
}

impl Computed {
    pub fn pact(&self) -> &Indicators {
        static NOTHING: std::sync::LazyLock<Indicators> =
            std::sync::LazyLock::new(Indicators::default);
        self.whole.groups.get("").unwrap_or(&NOTHING)
    }

    /// The first and the last day of the period.
    pub fn days(&self) -> (Day, Day) {
        let last = self.report.end.plus_days(-1).unwrap_or(self.report.start);
        (self.report.start, last)
    }
}

/// One pass over the records for the period per group, for the whole pact and for
/// each month of the trend (the 12 months up to the period's last).
pub(super) fn compute(choice: Choice, records: &PactRecords) -> Result<Computed, ModelError> {
    let query = choice.query_for();
    let pact = Query {
        group_by: GroupBy::Pact,
        ..query
    };
    let (_, end) = choice.period.bounds()?;
    let last = end.plus_days(-1).unwrap_or(end);
    let last_month = last.year() * 12 + last.month() as i32 - 1;
    let months: Vec<Period> = (last_month - TREND_MONTHS + 1..=last_month)
        .map(|m| Period::Month {
            year: m.div_euclid(12),
            month: m.rem_euclid(12) as u32 + 1,
        })
        .collect();
    let mut queries = vec![query, pact];
    queries.extend(months.iter().map(|&period| Query { period, ..pact }));
    let mut reports =
        indicators::compute_all(&queries, &records.contacts, &records.employers)?.into_iter();
    let (Some(report), Some(whole)) = (reports.next(), reports.next()) else {
        return Err(ModelError::Corrupt("no report".into()));
    };
    let trend = months
        .into_iter()
        .zip(reports)
        .map(|(m, mut r)| (m, r.groups.remove("").unwrap_or_default()))
        .collect();
    Ok(Computed {
        report,
        whole,
        trend,
    })
}

/// Compared by identity: a new computation is a new value.
pub(super) struct Shared<T>(pub Arc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Self(self.0.clone())
    }
}

impl<T> PartialEq for Shared<T> {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

/// The three parts of the dashboard's table.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
    Pathway,
    Employers,
    Esf,
}

/// The rows of a section in the table's order, every one shown (zeros too, so a
/// funder's form can be filled in line by line); the closing reasons are those counted.
pub(super) fn section_rows(section: Section, pact: &Indicators) -> Vec<Row> {
    match section {
        Section::Pathway => {
            let mut rows = vec![Row::Reached];
            rows.extend(paktum_shared::contact::Stage::ALL.map(Row::ReachedAt));
            rows.extend(
                Status::ALL
                    .into_iter()
                    .filter(|s| *s != Status::New)
                    .map(Row::Entered),
            );
            rows.extend(
                pact.rows()
                    .filter(|(r, _)| matches!(r, Row::ClosedFor(_)))
                    .map(|(r, _)| r.clone()),
            );
            rows.extend(Status::ALL.into_iter().map(Row::Standing));
            rows
        }
        Section::Employers => {
            let mut rows = vec![
                Row::EmployersVisited,
                Row::Visits,
                Row::Openings,
                Row::Referrals,
            ];
            rows.extend(Outcome::ALL.into_iter().map(Row::ReferralOutcome));
            rows.extend([Row::Employers, Row::InclusiveEmployers]);
            rows
        }
        Section::Esf => {
            let mut rows = vec![Row::Participants];
            rows.extend(AgeBand::ALL.into_iter().map(Row::AgeAtEntry));
            rows.extend(LabourStatus::ALL.into_iter().map(Row::LabourStatusAtEntry));
            rows.extend(Education::ALL.into_iter().map(Row::EducationAtEntry));
            rows.extend(Gender::ALL.into_iter().map(Row::GenderAtEntry));
            rows.push(Row::Leavers);
            rows.extend(ParticipantResult::ALL.into_iter().map(Row::UponLeaving));
            rows.push(Row::SixMonthCohort);
            rows.extend(ParticipantResult::ALL.into_iter().map(Row::SixMonthsAfter));
            rows
        }
    }
}

/// A row's name in the URL. A closing reason is typed by a worker, so it goes by its
/// place among the reasons counted, never as its words (URLs stay in the browser's
/// history).
pub(super) fn slug(row: &Row, pact: &Indicators) -> String {
    match row {
        Row::Reached => "reached".into(),
        Row::ReachedAt(s) => format!("reached.{}", s.as_str()),
        Row::Entered(s) => format!("entered.{}", s.as_str()),
        Row::ClosedFor(_) => {
            let place = pact
                .rows()
                .filter(|(r, _)| matches!(r, Row::ClosedFor(_)))
                .position(|(r, _)| r == row)
                .unwrap_or(0);
            format!("closed.{place}")
        }
        Row::Standing(s) => format!("standing.{}", s.as_str()),
        Row::EmployersVisited => "employers_visited".into(),
        Row::Visits => "visits".into(),
        Row::Openings => "openings".into(),
        Row::Referrals => "referrals".into(),
        Row::ReferralOutcome(o) => format!("referral.{}", o.as_str()),
        Row::Employers => "employers".into(),
        Row::InclusiveEmployers => "inclusive".into(),
        Row::Participants => "participants".into(),
        Row::AgeAtEntry(a) => format!("age.{}", a.as_str()),
        Row::LabourStatusAtEntry(l) => format!("labour.{}", l.as_str()),
        Row::EducationAtEntry(e) => format!("education.{}", e.as_str()),
        Row::GenderAtEntry(g) => format!("gender.{}", g.as_str()),
        Row::Leavers => "leavers".into(),
        Row::UponLeaving(r) => format!("leaving.{}", r.as_str()),
        Row::SixMonthCohort => "six_months".into(),
        Row::SixMonthsAfter(r) => format!("six_months.{}", r.as_str()),
    }
}

/// Where the records behind a figure are listed (`group`: `None` for the whole pact).
fn figure_href(choice: &Choice, row: &Row, pact: &Indicators, group: Option<&str>) -> String {
    let mut href = format!("/pact/figure?row={}", slug(row, pact));
    if let Some(g) = group {
        href.push_str(&format!("&g={}", js_sys::encode_uri_component(g)));
    }
    href.push('&');
    href.push_str(&choice.query());
    href
}

/// The choice from the URL, and a way to change one key of it (the others kept).
fn use_choice() -> (Memo<Choice>, impl Fn(&str, String) + Copy) {
    let query = use_query_map();
    let field = use_field();
    let choice = Memo::new(move |_| {
        let today = pact_today().unwrap_or_else(|| Day::new(2026, 1, 1).expect("a valid day"));
        let pact_goal = field.pact_settings().sane().inclusive_goal();
        query.with(|q| Choice::read(q, today, pact_goal))
    });
    let replace = super::replace_url();
    let set = move |key: &str, value: String| {
        let mut pairs: Vec<(String, String)> = query.with_untracked(|q| {
            ["period", "y", "m", "q", "from", "to", "by", "goal"]
                .into_iter()
                .filter_map(|k| q.get(k).map(|v| (k.to_string(), v)))
                .collect()
        });
        pairs.retain(|(k, _)| k != key);
        if !value.is_empty() {
            pairs.push((key.to_string(), value));
        }
        let qs: Vec<String> = pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", js_sys::encode_uri_component(&v)))
            .collect();
        let url = format!("/pact?{}", qs.join("&"));
        replace(&url);
    };
    (choice, set)
}

fn computed_memo(
    choice: Memo<Choice>,
    records: Memo<Records>,
) -> Memo<Result<Shared<Computed>, String>> {
    Memo::new(move |_| {
        let c = choice.get();
        records.with(|r| {
            // Every indicator, again: the browser bench reads this measure.
            crate::timing::mark("paktum:indicators-start");
            let computed = compute(c, &r.data)
                .map(|d| Shared(Arc::new(d)))
                .map_err(|e| e.to_string());
            crate::timing::measure("paktum:indicators", "paktum:indicators-start");
            computed
        })
    })
}

#[component]
pub fn Dashboard() -> impl IntoView {
    let i18n = use_i18n();
    let records = use_records();
    let field = use_field();
    let (choice, set) = use_choice();
    let computed = computed_memo(choice, records);
    let kind = move || match choice.get().period {
        Period::Month { .. } => "month",
        Period::Quarter { .. } => "quarter",
        Period::Year(_) => "year",
        Period::Range { .. } => "range",
    };
    let year = move || match choice.get().period {
        Period::Month { year, .. } | Period::Quarter { year, .. } | Period::Year(year) => year,
        Period::Range { start, .. } => start.year(),
    };
    let by_value = move || match choice.get().by {
        GroupBy::Pact => "",
        GroupBy::Team => "team",
        GroupBy::Municipality => "municipality",
    };
    let download_as = move |format: Format| {
        let Ok(Shared(c)) = computed.get_untracked() else {
            return;
        };
        let goal = (
            t_string!(i18n, inclusive_goal).to_string(),
            format!("{} %", choice.get_untracked().goal),
        );
        let (first, last) = c.days();
        export(
            &format!("paktum-indicators-{first}-{last}"),
            format,
            separator(i18n),
            |out| indicators::indicators_lines(out, &c.report, &[goal], &|l| csv_word(i18n, l)),
        );
    };
    let print = move |_| {
        if let Some(w) = web_sys::window() {
            let _ = w.print();
        }
    };
    // Records kept past the pact's retention period: listed, never erased silently.
    let past_retention = move || {
        let today = pact_today()?;
        let months = field.pact_settings().sane().retention_months();
        let n = records.with(|r| {
            r.data
                .contacts
                .iter()
                .filter(|c| indicators::table::past_retention(c, today, ZONE, months))
                .count()
        });
        (n > 0).then(|| {
            view! {
                <p class="notice no-print" role="status">
                    <A href="/pact/review">{t!(i18n, retention_due, count = number(i18n, n), months = number(i18n, months as usize))}</A>
                </p>
            }
        })
    };
    view! {
        <div class="pact">
            <PactHeader />
            {past_retention}
            <form class="choice no-print" on:submit=|ev| ev.prevent_default()>
                <label>
                    {t!(i18n, period_label)}
                    <select prop:value=kind on:change=move |ev| set("period", event_target_value(&ev))>
                        <option value="month">{t!(i18n, period_month)}</option>
                        <option value="quarter">{t!(i18n, period_quarter)}</option>
                        <option value="year">{t!(i18n, period_year)}</option>
                        <option value="range">{t!(i18n, period_range)}</option>
                    </select>
                </label>
                {move || (kind() != "range").then(|| view! {
                    <label>
                        {t!(i18n, period_year_input)}
                        <input type="number" min="1990" max="2100" prop:value=move || year().to_string()
                            on:change=move |ev| set("y", event_target_value(&ev)) />
                    </label>
                })}
                {move || match choice.get().period {
                    Period::Month { month, .. } => Some(view! {
                        <label>
                            {t!(i18n, period_month_input)}
                            <select prop:value=month.to_string() on:change=move |ev| set("m", event_target_value(&ev))>
                                {(1..=12u32).map(|m| {
                                    let name = move || {
                                        let first = Day::new(2026, m, 1).ok();
                                        first.map(|d| month_name(i18n, d)).unwrap_or_default()
                                    };
                                    view! { <option value=m.to_string()>{name}</option> }
                                }).collect_view()}
                            </select>
                        </label>
                    }.into_any()),
                    Period::Quarter { quarter, .. } => Some(view! {
                        <label>
                            {t!(i18n, period_quarter_input)}
                            <select prop:value=quarter.to_string() on:change=move |ev| set("q", event_target_value(&ev))>
                                {(1..=4u32).map(|q| view! {
                                    <option value=q.to_string()>{move || super::words::fill(t_string!(i18n, period_quarter_n), &[("n", q.to_string())]).to_string()}</option>
                                }).collect_view()}
                            </select>
                        </label>
                    }.into_any()),
                    Period::Range { start, end } => {
                        let last = end.plus_days(-1).unwrap_or(start);
                        Some(view! {
                            <label>
                                {t!(i18n, period_from)}
                                <input type="date" prop:value=start.to_string()
                                    on:change=move |ev| set("from", event_target_value(&ev)) />
                            </label>
                            <label>
                                {t!(i18n, period_to)}
                                <input type="date" prop:value=last.to_string()
                                    on:change=move |ev| set("to", event_target_value(&ev)) />
                            </label>
                        }.into_any())
                    }
                    Period::Year(_) => None,
                }}
                <label>
                    {t!(i18n, group_by_label)}
                    <select prop:value=by_value on:change=move |ev| set("by", event_target_value(&ev))>
                        <option value="">{move || group_by_label(i18n, GroupBy::Pact)}</option>
                        <option value="team">{move || group_by_label(i18n, GroupBy::Team)}</option>
                        <option value="municipality">{move || group_by_label(i18n, GroupBy::Municipality)}</option>
                    </select>
                </label>
                <label>
                    {t!(i18n, goal_label)}
                    <input type="number" min="0" max="100" prop:value=move || choice.get().goal.to_string()
                        on:change=move |ev| set("goal", event_target_value(&ev)) />
                </label>
            </form>
            <div class="actions-row no-print">
                <button type="button" on:click=move |_| download_as(Format::Csv)>{t!(i18n, download_indicators)}</button>
                <button type="button" on:click=move |_| download_as(Format::Xlsx)>{t!(i18n, download_indicators_xlsx)}</button>
                <button type="button" on:click=print>{t!(i18n, print_report)}</button>
            </div>
            {move || match computed.get() {
                Err(e) => view! { <p class="error" role="alert">{e}</p> }.into_any(),
                Ok(Shared(c)) => figures_view(choice.get(), c).into_any(),
            }}
        </div>
    }
}

/// A month's name in the app's language (from the written day, less the day and year).
fn month_name(i18n: leptos_i18n::I18nContext<Locale>, first: Day) -> String {
    match first.month() {
        1 => t_string!(i18n, month_1),
        2 => t_string!(i18n, month_2),
        3 => t_string!(i18n, month_3),
        4 => t_string!(i18n, month_4),
        5 => t_string!(i18n, month_5),
        6 => t_string!(i18n, month_6),
        7 => t_string!(i18n, month_7),
        8 => t_string!(i18n, month_8),
        9 => t_string!(i18n, month_9),
        10 => t_string!(i18n, month_10),
        11 => t_string!(i18n, month_11),
        _ => t_string!(i18n, month_12),
    }
    .to_string()
}

/// The period in words, the charts and the three tables.
fn figures_view(choice: Choice, c: Arc<Computed>) -> impl IntoView {
    let i18n = use_i18n();
    let (first, last) = c.days();
    let groups: Vec<String> = match choice.by {
        GroupBy::Pact => Vec::new(),
        _ => c.report.groups.keys().cloned().collect(),
    };
    let table = |section: Section, caption: fn(leptos_i18n::I18nContext<Locale>) -> String| {
        let c = c.clone();
        let groups = groups.clone();
        let rows = section_rows(section, c.pact());
        view! {
            <table class="figures">
                <caption>{move || caption(i18n)}</caption>
                <thead>
                    <tr>
                        <th scope="col">{t!(i18n, col_indicator)}</th>
                        <th scope="col" class="basis">{t!(i18n, col_basis)}</th>
                        <th scope="col" class="num">{t!(i18n, group_whole_pact)}</th>
                        {groups.iter().map(|g| {
                            let g = g.clone();
                            view! { <th scope="col" class="num">{move || group_name(i18n, choice.by, &g)}</th> }
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {rows.into_iter().map(|row| {
                        let cell = |group: Option<&str>, figure: Figure| {
                            let href = figure_href(&choice, &row, c.pact(), group);
                            let row2 = row.clone();
                            let group_word = group.map_or_else(
                                || "".to_string(),
                                |g| g.to_string(),
                            );
                            let by = choice.by;
                            let is_group = group.is_some();
                            let name = move || {
                                let g = if is_group { group_name(i18n, by, &group_word) } else { t_string!(i18n, group_whole_pact).to_string() };
                                format!("{} – {}: {}", row_label(i18n, &row2), g, number(i18n, figure.count as usize))
                            };
                            let count = figure.count as usize;
                            view! {
                                <td class="num">
                                    <A href=href attr:aria-label=name>{move || number(i18n, count)}</A>
                                </td>
                            }
                        };
                        let whole = c.pact().get(&row);
                        let per_group: Vec<_> = groups.iter().map(|g| {
                            let f = c.report.groups.get(g).map(|x| x.get(&row)).unwrap_or_default();
                            cell(Some(g.as_str()), f)
                        }).collect();
                        let label_row = row.clone();
                        let basis_row = row.clone();
                        view! {
                            <tr>
                                <th scope="row">{move || row_label(i18n, &label_row)}</th>
                                <td class="basis">{move || basis_sentence(i18n, &basis_row, first, last)}</td>
                                {cell(None, whole)}
                                {per_group}
                            </tr>
                        }
                    }).collect_view()}
                    {(section == Section::Employers).then(|| {
                        let share = |key: &str, report: &Report| report.inclusive_share(key).map(|(pm, _)| pm);
                        let whole = share("", &c.whole);
                        let per_group: Vec<_> = groups.iter().map(|g| share(g, &c.report)).collect();
                        let shown = move |v: Option<u64>| v.map(|pm| format!("{} %", per_mille(i18n, pm))).unwrap_or_else(|| "–".into());
                        view! {
                            <tr>
                                <th scope="row">{t!(i18n, inclusive_share)}</th>
                                <td class="basis">{move || super::words::fill(t_string!(i18n, basis_share_when), &[("goal", choice.goal.to_string()), ("end", day_text(i18n, last).to_string())]).to_string()}</td>
                                <td class="num">{move || shown(whole)}</td>
                                {per_group.into_iter().map(|v| view! { <td class="num">{move || shown(v)}</td> }).collect_view()}
                            </tr>
                        }
                    })}
                </tbody>
            </table>
        }
    };
    let pathway = table(Section::Pathway, |i| {
        t_string!(i, section_pathway).to_string()
    });
    let employers = table(Section::Employers, |i| {
        t_string!(i, section_employers).to_string()
    });
    let esf = table(Section::Esf, |i| t_string!(i, section_esf).to_string());
    view! {
        <p class="period" role="note">
            {move || t!(i18n, period_statement, start = day_text(i18n, first), end = day_text(i18n, last))}
        </p>
        <p class="print-only">{move || t!(i18n, report_printed, day = pact_today().map(|d| day_text(i18n, d)).unwrap_or_default())}</p>
        <charts::Charts computed=Shared(c.clone()) goal=choice.goal />
        <h2>{t!(i18n, section_pathway)}</h2>
        {pathway}
        <h2>{t!(i18n, section_employers)}</h2>
        {employers}
        <h2 id="esf">{t!(i18n, section_esf)}</h2>
        <p class="hint">{t!(i18n, esf_intro)}</p>
        {esf}
    }
}

/// The records behind one figure: the same computation as the dashboard, the row and
/// group named in the URL, the records listed (contacts and employers, each once).
#[component]
pub fn FigurePage() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let records = use_records();
    let (choice, _) = use_choice();
    let computed = computed_memo(choice, records);
    let query = use_query_map();
    let found = Memo::new(move |_| {
        let Ok(Shared(c)) = computed.get() else {
            return None;
        };
        let (slug_wanted, group) = query.with(|q| (q.get("row").unwrap_or_default(), q.get("g")));
        let pact = c.pact();
        let row = [Section::Pathway, Section::Employers, Section::Esf]
            .into_iter()
            .flat_map(|s| section_rows(s, pact))
            .find(|r| slug(r, pact) == slug_wanted)?;
        let figure = match &group {
            None => pact.get(&row),
            Some(g) => c
                .report
                .groups
                .get(g)
                .map(|x| x.get(&row))
                .unwrap_or_default(),
        };
        let (first, last) = c.days();
        Some((row, group, figure, first, last))
    });
    let back = move || format!("/pact?{}", choice.get().query());
    view! {
        <div class="pact">
            <PactHeader />
            <p class="no-print"><A href=back>{t!(i18n, figure_back)}</A></p>
            {move || match found.get() {
                None => view! { <p class="error" role="alert">{t!(i18n, figure_unknown)}</p> }.into_any(),
                Some((row, group, figure, first, last)) => {
                    let by = choice.get().by;
                    let group_text = move || match &group {
                        None => t_string!(i18n, group_whole_pact).to_string(),
                        Some(g) => group_name(i18n, by, g),
                    };
                    let row2 = row.clone();
                    let ids = figure.records.clone();
                    // One pass over the index rows for all the figure's records.
                    let wanted: std::collections::HashSet<DocumentId> = ids.iter().copied().collect();
                    // Another team's rows carry no name (its shared index): read from the record.
                    let names: std::collections::HashMap<DocumentId, (Kind, String, String)> =
                        field.read(|r| r.pact_rows(&wanted));
                    view! {
                        <h2>{move || row_label(i18n, &row2)} " · " {group_text}</h2>
                        <p class="hint">{move || basis_sentence(i18n, &row, first, last)}</p>
                        <p role="status">{move || t!(i18n, figure_count, count = number(i18n, figure.count as usize), records = number(i18n, ids.len()))}</p>
                        <ul class="rows plain figure-records" aria-label=move || t_string!(i18n, figure_records).to_string()>
                            {figure.records.iter().map(|id| {
                                let id = *id;
                                match names.get(&id).cloned() {
                                    Some((kind, name, team)) => {
                                        let href = match kind {
                                            Kind::Employer => format!("/employers/{id}"),
                                            _ => format!("/contacts/{id}"),
                                        };
                                        view! { <li><A href=href>{name}</A> <span class="meta">{team}</span></li> }.into_any()
                                    }
                                    None => view! { <li><span class="meta">{t!(i18n, figure_not_here)}</span></li> }.into_any(),
                                }
                            }).collect_view()}
                        </ul>
                    }.into_any()
                }
            }}
        </div>
    }
}
