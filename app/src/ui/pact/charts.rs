//! The dashboard's SVG charts (no canvas), drawn from `shared::indicators::chart`'s
//! geometry: the pathway funnel, the monthly trend of new contacts and placements, and
//! the share of committed employers against the pact's goal. Each chart is an image
//! with a name and a description in words; the tables below hold the same figures.

use leptos::prelude::*;
use paktum_shared::contact::Status;
use paktum_shared::indicators::chart;
use paktum_shared::indicators::{Period, Row};

use super::super::language::number;
use super::dashboard::{Computed, Shared};
use super::words::{per_mille, row_label};
use crate::i18n::*;

const FUNNEL_W: f64 = 250.0;
const FUNNEL_H: f64 = 200.0;
/// The steps' short names stand left of the bars (the table below has the long ones).
const LABEL_W: f64 = 125.0;
const TREND_W: f64 = 480.0;
const TREND_H: f64 = 160.0;
const SHARE_W: f64 = 420.0;

#[component]
pub fn Charts(computed: Shared<Computed>, goal: u32) -> impl IntoView {
    let i18n = use_i18n();
    let c = computed.0;
    let pact = c.pact();
    let bars = chart::funnel(pact, FUNNEL_W, FUNNEL_H);
    let funnel_words = {
        let counts: Vec<(Row, u64)> = bars.iter().map(|b| (b.row.clone(), b.count)).collect();
        move || {
            counts
                .iter()
                .map(|(r, n)| format!("{}: {}", row_label(i18n, r), number(i18n, *n as usize)))
                .collect::<Vec<_>>()
                .join("; ")
        }
    };
    let lines_rows = [Row::Reached, Row::Entered(Status::InWork)];
    let (lines, top) = chart::trend(&c.trend, &lines_rows, TREND_W, TREND_H);
    let months: Vec<Period> = c.trend.iter().map(|(p, _)| *p).collect();
    let trend_words = {
        let series: Vec<(u64, u64)> = c
            .trend
            .iter()
            .map(|(_, f)| (f.get(&lines_rows[0]).count, f.get(&lines_rows[1]).count))
            .collect();
        let months = months.clone();
        move || {
            months
                .iter()
                .zip(&series)
                .map(|(m, (a, b))| format!("{} {a}/{b}", month_short(m)))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let share = c.whole.inclusive_share("");
    let (filled, goal_x) = chart::share_bar(share.map_or(0, |(pm, _)| pm), goal, SHARE_W);
    let share_words = move || match share {
        Some((pm, _)) => super::words::fill(
            t_string!(i18n, share_text),
            &[
                ("share", per_mille(i18n, pm).to_string()),
                ("goal", goal.to_string()),
            ],
        )
        .to_string(),
        None => super::words::fill(t_string!(i18n, share_none), &[("goal", goal.to_string())])
            .to_string(),
    };
    let reached_line = lines.first().map(|l| l.svg_points()).unwrap_or_default();
    let work_line = lines.get(1).map(|l| l.svg_points()).unwrap_or_default();
    let first_month = months.first().map(month_short).unwrap_or_default();
    let last_month = months.last().map(month_short).unwrap_or_default();
    view! {
        <div class="charts">
            <figure class="chart">
                <figcaption>{t!(i18n, chart_funnel)}</figcaption>
                <svg viewBox=format!("0 0 {} {}", LABEL_W + FUNNEL_W + 40.0, FUNNEL_H) role="img"
                    aria-label=move || format!("{}: {}", t_string!(i18n, chart_funnel), funnel_words())>
                    {bars.into_iter().map(|b| {
                        let row = b.row.clone();
                        view! {
                            <text x="0" y=b.y + b.height * 0.7 class="label">{move || step_label(i18n, &row)}</text>
                            <rect x=LABEL_W + b.x y=b.y width=b.width.max(1.0) height=b.height class="bar" />
                            <text x=LABEL_W + FUNNEL_W + 6.0 y=b.y + b.height * 0.7 class="value">{b.count}</text>
                        }
                    }).collect_view()}
                </svg>
            </figure>
            <figure class="chart">
                <figcaption>{t!(i18n, chart_trend)}</figcaption>
                <svg viewBox=format!("-40 -10 {} {}", TREND_W + 60.0, TREND_H + 40.0) role="img"
                    aria-label=move || format!("{}: {}", t_string!(i18n, chart_trend), trend_words())>
                    <line x1="0" y1=TREND_H x2=TREND_W y2=TREND_H class="axis" />
                    <line x1="0" y1="0" x2=TREND_W y2="0" class="grid" />
                    <text x="-6" y="4" class="tick" text-anchor="end">{top}</text>
                    <text x="-6" y=TREND_H + 4.0 class="tick" text-anchor="end">"0"</text>
                    <text x="0" y=TREND_H + 20.0 class="tick">{first_month}</text>
                    <text x=TREND_W y=TREND_H + 20.0 class="tick" text-anchor="end">{last_month}</text>
                    <polyline points=reached_line class="line reached" />
                    <polyline points=work_line class="line work" />
                </svg>
                <p class="legend">
                    <span class="key reached"></span>{t!(i18n, legend_reached)}
                    <span class="key work"></span>{t!(i18n, legend_in_work)}
                </p>
            </figure>
            <figure class="chart">
                <figcaption>{t!(i18n, chart_share)}</figcaption>
                <svg viewBox=format!("0 0 {} 50", SHARE_W + 10.0) role="img"
                    aria-label=move || format!("{}: {}", t_string!(i18n, chart_share), share_words())>
                    <rect x="0" y="10" width=SHARE_W height="24" class="track" />
                    <rect x="0" y="10" width=filled height="24" class="bar" />
                    <line x1=goal_x y1="2" x2=goal_x y2="42" class="goal" />
                </svg>
                <p class="legend">{share_words}</p>
            </figure>
        </div>
    }
}

/// A funnel step in a word or two: "New contacts", then the statuses.
fn step_label(i18n: leptos_i18n::I18nContext<Locale>, row: &Row) -> String {
    match row {
        Row::Entered(s) => super::super::parts::status_label(i18n, *s),
        _ => t_string!(i18n, legend_reached).to_string(),
    }
}

/// "2026-03": the trend's axis, the same in every language.
fn month_short(p: &Period) -> String {
    match p {
        Period::Month { year, month } => format!("{year}-{month:02}"),
        _ => String::new(),
    }
}
