//! The pact's merged caseload as a table: filters by team, worker, status, stage of
//! identification, municipality, age band, consent, overdue follow-up and months without activity,
//! kept in the URL (`Filter::to_query`/`from_query`), sortable by any column, the same
//! rows as CSV; and the review queue (`indicators::table::review`).

use std::collections::BTreeSet;
use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_location;
use paktum_shared::Day;
use paktum_shared::contact::{Contact, Stage, Status};
use paktum_shared::indicators::table::{Concern, Filter, review};
use paktum_shared::indicators::{AgeBand, table_lines};
use paktum_shared::language::sort_key;

use super::super::language::{day_text, lang, number, stage_label};
use super::super::parts::status_label;
use super::dashboard::ZONE;
use super::words::{age_label, concern_label, separator};
use super::{Format, PactHeader, export, pact_today, use_records};
use crate::i18n::*;

/// Rows drawn on screen at most; the download has them all.
const SHOWN: usize = 500;

/// The table's columns, in order; the URL's `sort` names one.
const COLUMNS: [&str; 10] = [
    "name",
    "team",
    "worker",
    "status",
    "stage",
    "municipality",
    "age",
    "consent",
    "follow_up",
    "changed",
];

fn today_or_epoch() -> Day {
    pact_today().unwrap_or_else(|| Day::new(2026, 1, 1).expect("a valid day"))
}

/// One contact's cells, worded as on screen (the CSV has the same words), with the
/// values it sorts by.
#[derive(Clone, PartialEq)]
struct Line {
    id: paktum_shared::DocumentId,
    cells: Vec<String>,
    sort: Vec<SortValue>,
}

#[derive(Clone, PartialEq, PartialOrd, Eq, Ord)]
enum SortValue {
    Text(paktum_shared::language::SortKey),
    Number(i64),
}

fn line(i18n: leptos_i18n::I18nContext<Locale>, c: &Contact, today: Day) -> Line {
    let l = lang(i18n);
    let yes_no = |b: bool| {
        if b {
            t_string!(i18n, word_yes).to_string()
        } else {
            t_string!(i18n, word_no).to_string()
        }
    };
    let follow = c.next_follow_up();
    let changed = ZONE.day_of(c.updated_at);
    let age = AgeBand::at(c.birth_year, today);
    let municipality = c.municipality.clone().unwrap_or_default();
    let cells = vec![
        c.display_name.clone(),
        c.team.clone(),
        c.assigned_worker.clone(),
        status_label(i18n, c.status),
        stage_label(i18n, c.stage),
        municipality.clone(),
        age_label(i18n, age),
        yes_no(c.consent.is_active()),
        follow.map(|d| day_text(i18n, d)).unwrap_or_default(),
        changed.map(|d| day_text(i18n, d)).unwrap_or_default(),
    ];
    let day_number = |d: Option<Day>| {
        d.map_or(i64::MAX, |d| {
            i64::from(d.year()) * 10_000 + i64::from(d.month()) * 100 + i64::from(d.day_of_month())
        })
    };
    let sort = vec![
        SortValue::Text(sort_key(l, &c.display_name)),
        SortValue::Text(sort_key(l, &c.team)),
        SortValue::Text(sort_key(l, &c.assigned_worker)),
        SortValue::Number(Status::ALL.iter().position(|s| *s == c.status).unwrap_or(0) as i64),
        SortValue::Number(c.stage as i64),
        SortValue::Text(sort_key(l, &municipality)),
        SortValue::Number(age as i64),
        SortValue::Number(i64::from(c.consent.is_active())),
        SortValue::Number(day_number(follow)),
        SortValue::Number(c.updated_at),
    ];
    Line {
        id: c.id,
        cells,
        sort,
    }
}

fn column_label(i18n: leptos_i18n::I18nContext<Locale>, column: &str) -> String {
    match column {
        "name" => t_string!(i18n, col_name),
        "team" => t_string!(i18n, col_team),
        "worker" => t_string!(i18n, col_worker),
        "status" => t_string!(i18n, col_status),
        "stage" => t_string!(i18n, stage_title),
        "municipality" => t_string!(i18n, col_municipality),
        "age" => t_string!(i18n, col_age),
        "consent" => t_string!(i18n, col_consent),
        "follow_up" => t_string!(i18n, col_follow_up),
        _ => t_string!(i18n, col_changed),
    }
    .to_string()
}

/// The filter and the sort from the URL.
fn from_url(search: &str) -> (Filter, usize, bool) {
    let filter = Filter::from_query(search);
    let mut sort = 0;
    let mut descending = false;
    for pair in search.trim_start_matches('?').split('&') {
        match pair.split_once('=') {
            Some(("sort", v)) => sort = COLUMNS.iter().position(|c| *c == v).unwrap_or(0),
            Some(("desc", "1")) => descending = true,
            _ => {}
        }
    }
    (filter, sort, descending)
}

fn to_url(filter: &Filter, sort: usize, descending: bool) -> String {
    let mut q = filter.to_query();
    if sort > 0 {
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str(&format!("sort={}", COLUMNS[sort]));
    }
    if descending {
        if !q.is_empty() {
            q.push('&');
        }
        q.push_str("desc=1");
    }
    if q.is_empty() {
        "/pact/table".into()
    } else {
        format!("/pact/table?{q}")
    }
}

/// The filters as (name, value) lines for the CSV's header, worded.
fn filter_words(i18n: leptos_i18n::I18nContext<Locale>, f: &Filter) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let join = |v: &[String]| v.join(", ");
    if !f.teams.is_empty() {
        out.push((t_string!(i18n, filter_team).to_string(), join(&f.teams)));
    }
    if !f.workers.is_empty() {
        out.push((t_string!(i18n, filter_worker).to_string(), join(&f.workers)));
    }
    if !f.statuses.is_empty() {
        let words: Vec<String> = f.statuses.iter().map(|s| status_label(i18n, *s)).collect();
        out.push((t_string!(i18n, filter_status).to_string(), words.join(", ")));
    }
    if !f.stages.is_empty() {
        let words: Vec<String> = f.stages.iter().map(|s| stage_label(i18n, *s)).collect();
        out.push((t_string!(i18n, stage_title).to_string(), words.join(", ")));
    }
    if !f.municipalities.is_empty() {
        out.push((
            t_string!(i18n, filter_municipality).to_string(),
            join(&f.municipalities),
        ));
    }
    if !f.age_bands.is_empty() {
        let words: Vec<String> = f.age_bands.iter().map(|a| age_label(i18n, *a)).collect();
        out.push((t_string!(i18n, filter_age).to_string(), words.join(", ")));
    }
    if let Some(c) = f.consent {
        let word = if c {
            t_string!(i18n, consent_yes)
        } else {
            t_string!(i18n, consent_no)
        };
        out.push((
            t_string!(i18n, filter_consent).to_string(),
            word.to_string(),
        ));
    }
    if f.overdue {
        out.push((
            t_string!(i18n, filter_overdue).to_string(),
            t_string!(i18n, word_yes).to_string(),
        ));
    }
    if let Some(m) = f.inactive_months {
        out.push((t_string!(i18n, filter_inactive).to_string(), m.to_string()));
    }
    out
}

#[component]
pub fn Table() -> impl IntoView {
    let i18n = use_i18n();
    let records = use_records();
    let location = use_location();
    let replace = super::replace_url();
    let state = Memo::new(move |_| location.search.with(|s| from_url(s)));
    let go = move |filter: Filter, sort: usize, descending: bool| {
        let url = to_url(&filter, sort, descending);
        replace(&url);
    };
    let change = move |edit: Box<dyn FnOnce(&mut Filter)>| {
        let (mut f, sort, desc) = state.get_untracked();
        edit(&mut f);
        go(f, sort, desc);
    };
    // Choices for the selects: what the pact's records hold.
    let choices = Memo::new(move |_| {
        records.with(|r| {
            let mut teams = BTreeSet::new();
            let mut workers = BTreeSet::new();
            let mut places = BTreeSet::new();
            for c in &r.data.contacts {
                teams.insert(c.team.clone());
                workers.insert(c.assigned_worker.clone());
                if let Some(m) = &c.municipality {
                    places.insert(m.clone());
                }
            }
            (
                teams.into_iter().collect::<Vec<_>>(),
                workers.into_iter().collect::<Vec<_>>(),
                places.into_iter().collect::<Vec<_>>(),
            )
        })
    });
    let lines = Memo::new(move |_| {
        let (filter, sort, descending) = state.get();
        let today = today_or_epoch();
        let _lang = lang(i18n);
        records.with(|r| {
            let mut lines: Vec<Line> = r
                .data
                .contacts
                .iter()
                .filter(|c| filter.matches(c, today, ZONE))
                .map(|c| line(i18n, c, today))
                .collect();
            lines.sort_by(|a, b| {
                a.sort[sort]
                    .cmp(&b.sort[sort])
                    .then_with(|| a.sort[0].cmp(&b.sort[0]))
            });
            if descending {
                lines.reverse();
            }
            (Arc::new(lines), r.data.contacts.len())
        })
    });
    let download_as = move |format: Format| {
        let (filter, _, _) = state.get_untracked();
        let mut header = vec![(t_string!(i18n, table_title).to_string(), String::new())];
        header.push((
            t_string!(i18n, csv_exported).to_string(),
            day_text(i18n, today_or_epoch()),
        ));
        header.extend(filter_words(i18n, &filter));
        let columns: Vec<String> = COLUMNS.iter().map(|c| column_label(i18n, c)).collect();
        let rows: Vec<Vec<String>> =
            lines.with_untracked(|(l, _)| l.iter().map(|l| l.cells.clone()).collect());
        export(
            &format!("paktum-caseload-{}", today_or_epoch()),
            format,
            separator(i18n),
            |out| table_lines(out, &header, &columns, &rows),
        );
    };
    let select = move |label: fn(leptos_i18n::I18nContext<Locale>) -> String,
                       current: Signal<String>,
                       options: Signal<Vec<(String, String)>>,
                       on: Box<dyn Fn(String) + Send + Sync>| {
        view! {
            <label>
                {move || label(i18n)}
                <select prop:value=move || current.get() on:change=move |ev| on(event_target_value(&ev))>
                    <option value="">{t!(i18n, filter_all)}</option>
                    {move || options.get().into_iter().map(|(v, w)| view! { <option value=v>{w}</option> }).collect_view()}
                </select>
            </label>
        }
    };
    let first = |v: &[String]| v.first().cloned().unwrap_or_default();
    let plain = |v: Vec<String>| v.into_iter().map(|x| (x.clone(), x)).collect::<Vec<_>>();
    let team_select = select(
        |i| t_string!(i, filter_team).to_string(),
        Signal::derive(move || first(&state.get().0.teams)),
        Signal::derive(move || plain(choices.get().0)),
        Box::new(move |v| {
            change(Box::new(move |f| {
                f.teams = (!v.is_empty()).then_some(v).into_iter().collect()
            }))
        }),
    );
    let worker_select = select(
        |i| t_string!(i, filter_worker).to_string(),
        Signal::derive(move || first(&state.get().0.workers)),
        Signal::derive(move || plain(choices.get().1)),
        Box::new(move |v| {
            change(Box::new(move |f| {
                f.workers = (!v.is_empty()).then_some(v).into_iter().collect()
            }))
        }),
    );
    let status_select = select(
        |i| t_string!(i, filter_status).to_string(),
        Signal::derive(move || {
            state
                .get()
                .0
                .statuses
                .first()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default()
        }),
        Signal::derive(move || {
            Status::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), status_label(i18n, *s)))
                .collect()
        }),
        Box::new(move |v| {
            change(Box::new(move |f| {
                f.statuses = v.parse::<Status>().ok().into_iter().collect()
            }))
        }),
    );
    let stage_select = select(
        |i| t_string!(i, stage_title).to_string(),
        Signal::derive(move || {
            state
                .get()
                .0
                .stages
                .first()
                .map(|s| s.as_str().to_string())
                .unwrap_or_default()
        }),
        Signal::derive(move || {
            Stage::ALL
                .iter()
                .map(|s| (s.as_str().to_string(), stage_label(i18n, *s)))
                .collect()
        }),
        Box::new(move |v| {
            change(Box::new(move |f| {
                f.stages = v.parse::<Stage>().ok().into_iter().collect()
            }))
        }),
    );
    let place_select = select(
        |i| t_string!(i, filter_municipality).to_string(),
        Signal::derive(move || first(&state.get().0.municipalities)),
        Signal::derive(move || plain(choices.get().2)),
        Box::new(move |v| {
            change(Box::new(move |f| {
                f.municipalities = (!v.is_empty()).then_some(v).into_iter().collect()
            }))
        }),
    );
    let age_select = select(
        |i| t_string!(i, filter_age).to_string(),
        Signal::derive(move || {
            state
                .get()
                .0
                .age_bands
                .first()
                .map(|a| a.as_str().to_string())
                .unwrap_or_default()
        }),
        Signal::derive(move || {
            AgeBand::ALL
                .iter()
                .map(|a| (a.as_str().to_string(), age_label(i18n, *a)))
                .collect()
        }),
        Box::new(move |v| {
            change(Box::new(move |f| {
                f.age_bands = AgeBand::ALL
                    .into_iter()
                    .filter(|a| a.as_str() == v)
                    .collect()
            }))
        }),
    );
    let consent_select = select(
        |i| t_string!(i, filter_consent).to_string(),
        Signal::derive(move || match state.get().0.consent {
            Some(true) => "yes".into(),
            Some(false) => "no".into(),
            None => String::new(),
        }),
        Signal::derive(move || {
            vec![
                ("yes".into(), t_string!(i18n, consent_yes).to_string()),
                ("no".into(), t_string!(i18n, consent_no).to_string()),
            ]
        }),
        Box::new(move |v| {
            change(Box::new(move |f| {
                f.consent = match v.as_str() {
                    "yes" => Some(true),
                    "no" => Some(false),
                    _ => None,
                }
            }))
        }),
    );
    let sort_button = move |i: usize| {
        let sorted = move || {
            let (_, sort, desc) = state.get();
            match (sort == i, desc) {
                (false, _) => "none",
                (true, false) => "ascending",
                (true, true) => "descending",
            }
        };
        view! {
            <th scope="col" aria-sort=sorted>
                <button type="button" class="sort" on:click=move |_| {
                    let (f, sort, desc) = state.get_untracked();
                    go(f, i, sort == i && !desc);
                }>
                    {move || column_label(i18n, COLUMNS[i])}
                </button>
            </th>
        }
    };
    view! {
        <div class="pact">
            <PactHeader />
            <h2>{t!(i18n, table_title)}</h2>
            <form class="choice table-filters no-print" on:submit=|ev| ev.prevent_default()
                aria-label=move || t_string!(i18n, table_filters).to_string()>
                {team_select}
                {worker_select}
                {status_select}
                {stage_select}
                {place_select}
                {age_select}
                {consent_select}
                <label class="check">
                    <input type="checkbox" prop:checked=move || state.get().0.overdue
                        on:change=move |ev| { let on = event_target_checked(&ev); change(Box::new(move |f| f.overdue = on)) } />
                    {t!(i18n, filter_overdue)}
                </label>
                <label>
                    {t!(i18n, filter_inactive)}
                    <input type="number" min="0" max="60" prop:value=move || state.get().0.inactive_months.map(|m| m.to_string()).unwrap_or_default()
                        on:change=move |ev| { let v = event_target_value(&ev); change(Box::new(move |f| f.inactive_months = v.parse().ok().filter(|m| *m > 0))) } />
                </label>
            </form>
            <div class="actions-row no-print">
                <button type="button" on:click=move |_| download_as(Format::Csv)>{t!(i18n, download_table)}</button>
                <button type="button" on:click=move |_| download_as(Format::Xlsx)>{t!(i18n, download_table_xlsx)}</button>
                <A href="/pact/table" attr:class="button">{t!(i18n, table_clear)}</A>
            </div>
            <p class="hint" role="status">
                {move || lines.with(|(l, all)| t!(i18n, table_count, shown = number(i18n, l.len()), total = number(i18n, *all)))}
                {move || lines.with(|(l, _)| (l.len() > SHOWN).then(|| view! { " " {t!(i18n, table_capped, shown = number(i18n, SHOWN))} }))}
            </p>
            <div class="table-wrap">
                <table class="caseload">
                    <caption class="visually-hidden">{t!(i18n, table_title)}</caption>
                    <thead>
                        <tr>{(0..COLUMNS.len()).map(sort_button).collect_view()}</tr>
                    </thead>
                    <tbody>
                        {move || lines.with(|(l, _)| l.iter().take(SHOWN).map(|line| {
                            let href = format!("/contacts/{}", line.id);
                            let mut cells = line.cells.clone().into_iter();
                            let name = cells.next().unwrap_or_default();
                            view! {
                                <tr>
                                    <th scope="row"><A href=href>{name}</A></th>
                                    {cells.map(|c| view! { <td>{c}</td> }).collect_view()}
                                </tr>
                            }
                        }).collect_view())}
                    </tbody>
                </table>
            </div>
        </div>
    }
}

#[component]
pub fn Review() -> impl IntoView {
    let i18n = use_i18n();
    let records = use_records();
    let field = crate::field::use_field();
    let months = Memo::new(move |_| field.pact_settings().sane().retention_months());
    let queue = Memo::new(move |_| {
        let today = today_or_epoch();
        let months = months.get();
        records.with(|r| {
            let mut out: Vec<_> = r
                .data
                .contacts
                .iter()
                .filter_map(|c| {
                    let concerns = review(c, today, ZONE, months);
                    (!concerns.is_empty()).then(|| {
                        (
                            c.id,
                            c.display_name.clone(),
                            c.team.clone(),
                            c.assigned_worker.clone(),
                            concerns,
                        )
                    })
                })
                .collect();
            out.sort_by(|a, b| a.4.cmp(&b.4).then_with(|| a.1.cmp(&b.1)));
            out
        })
    });
    view! {
        <div class="pact">
            <PactHeader />
            <h2>{t!(i18n, review_title)}</h2>
            <p class="hint">{t!(i18n, review_intro)}</p>
            <p role="status">{move || t!(i18n, review_count, count = number(i18n, queue.with(Vec::len)))}</p>
            {move || queue.with(Vec::is_empty).then(|| view! { <p class="empty">{t!(i18n, review_empty)}</p> })}
            <ul class="concern-counts">
                {move || queue.with(|q| {
                    Concern::ALL
                        .into_iter()
                        .map(|c| (c, q.iter().filter(|row| row.4.contains(&c)).count()))
                        .filter(|(_, n)| *n > 0)
                        .map(|(c, n)| view! { <li>{concern_label(i18n, c, months.get())} ": " {number(i18n, n)}</li> })
                        .collect_view()
                })}
            </ul>
            <div class="table-wrap">
                <table class="caseload">
                    <caption class="visually-hidden">{t!(i18n, review_title)}</caption>
                    <thead>
                        <tr>
                            <th scope="col">{t!(i18n, col_name)}</th>
                            <th scope="col">{t!(i18n, col_team)}</th>
                            <th scope="col">{t!(i18n, col_worker)}</th>
                            <th scope="col">{t!(i18n, col_concerns)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {move || queue.get().into_iter().map(|(id, name, team, worker, concerns)| {
                            let words = move || concerns.iter().map(|c| concern_label(i18n, *c, months.get())).collect::<Vec<_>>().join(", ");
                            view! {
                                <tr>
                                    <th scope="row"><A href=format!("/contacts/{id}")>{name}</A></th>
                                    <td>{team}</td>
                                    <td>{worker}</td>
                                    <td>{words}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            </div>
        </div>
    }
}
