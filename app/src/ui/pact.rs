//! The coordinator's screens, desktop first: the pact's indicators per period and per
//! team or municipality with their charts and the ESF+ view (`dashboard.rs`,
//! `charts.rs`), the records behind any figure, the merged caseload table with its
//! filters in the URL and the review queue (`table.rs`), CSV downloads and a printable
//! report. Everything is computed by `shared::indicators` from the records on this
//! device (`Repo::pact_records`), so it works offline.

mod charts;
mod dashboard;
mod table;
mod words;
mod xlsx;

use std::sync::Arc;

use leptos::prelude::*;
use leptos_router::components::A;
use paktum_shared::device::PactRecords;
use paktum_shared::indicators::{Csv, Lines};
use wasm_bindgen::JsCast;

use super::language::number;
use crate::field::use_field;
use crate::i18n::*;

pub use dashboard::{Dashboard, FigurePage};
pub use table::{Review, Table};

/// The pact's records as of a revision of the device core; compared by revision only
/// (comparing 10,000 contacts field by field on every redraw would cost more than the
/// figures).
#[derive(Clone, Default)]
struct Records {
    revision: u64,
    data: Arc<PactRecords>,
}

impl PartialEq for Records {
    fn eq(&self, other: &Self) -> bool {
        self.revision == other.revision
    }
}

/// The records, read again (only those that changed) after every change on the device.
fn use_records() -> Memo<Records> {
    let field = use_field();
    Memo::new(move |_| {
        field.read(|r| {
            crate::timing::mark("paktum:pact-records-start");
            let records = Records {
                revision: r.revision(),
                data: Arc::new(r.pact_records()),
            };
            crate::timing::measure("paktum:pact-records", "paktum:pact-records-start");
            records
        })
    })
}

/// The heading, how much of the pact is on this device, and the three views.
#[component]
fn PactHeader() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let progress = move || field.read(|r| Some(r.pact_progress()));
    view! {
        <div class="pact-head">
            <h1>{t!(i18n, pact_title)}</h1>
            <p class="hint" role="status">
                {move || progress().map(|p| t!(i18n, pact_progress,
                    here = number(i18n, p.records_here),
                    listed = number(i18n, p.records_listed),
                    known = number(i18n, p.indices_known),
                    teams = number(i18n, p.teams)))}
            </p>
            <nav class="tabs no-print" aria-label=move || t_string!(i18n, pact_views).to_string()>
                <A href="/pact" exact=true>{t!(i18n, pact_tab_dashboard)}</A>
                <A href="/pact/table">{t!(i18n, pact_tab_table)}</A>
                <A href="/pact/review">{t!(i18n, pact_tab_review)}</A>
            </nav>
        </div>
    }
}

/// Puts the screen's choice in the address without a history entry or a scroll:
/// `replace` for the URL a filter or period change writes.
fn replace_url() -> impl Fn(&str) + Copy + 'static {
    let navigate = StoredValue::new_local(leptos_router::hooks::use_navigate());
    move |url: &str| {
        navigate.with_value(|n| {
            n(
                url,
                leptos_router::NavigateOptions {
                    replace: true,
                    scroll: false,
                    ..Default::default()
                },
            )
        })
    }
}

/// Today in the pact's time zone (not the device's): the day every pact screen counts
/// from. `None` if the clock cannot be read.
fn pact_today() -> Option<paktum_shared::Day> {
    dashboard::ZONE.day_of(js_sys::Date::now() as i64)
}

/// The file formats of the coordinator's exports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    /// Text, `separator` between cells (`;` where the decimal sign is a comma).
    Csv,
    /// A spreadsheet (`xlsx.rs`).
    Xlsx,
}

/// Writes an export's lines in `format` and offers the file `name` + its extension.
fn export(name: &str, format: Format, separator: char, lines: impl FnOnce(&mut dyn Lines)) {
    match format {
        Format::Csv => {
            let mut csv = Csv::new(separator);
            lines(&mut csv);
            let csv = csv.finish();
            download(
                &format!("{name}.csv"),
                csv.as_bytes(),
                "text/csv;charset=utf-8",
            );
        }
        Format::Xlsx => {
            let mut sheet = xlsx::Xlsx::default();
            lines(&mut sheet);
            match sheet.finish() {
                Some(bytes) => download(&format!("{name}.xlsx"), &bytes, xlsx::MIME),
                None => leptos::logging::warn!("the spreadsheet could not be written"),
            }
        }
    }
}

/// Offers `bytes` as a file download (a blob URL: the contents never go into a URL the
/// browser keeps in its history).
fn download(file_name: &str, bytes: &[u8], mime: &str) {
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(bytes));
    let options = web_sys::BlobPropertyBag::new();
    options.set_type(mime);
    let Ok(blob) = web_sys::Blob::new_with_u8_array_sequence_and_options(&parts, &options) else {
        return;
    };
    let Ok(url) = web_sys::Url::create_object_url_with_blob(&blob) else {
        return;
    };
    if let Ok(link) = document.create_element("a") {
        let _ = link.set_attribute("href", &url);
        let _ = link.set_attribute("download", file_name);
        if let Some(body) = document.body() {
            let _ = body.append_child(&link);
            if let Some(link) = link.dyn_ref::<web_sys::HtmlElement>() {
                link.click();
            }
            link.remove();
        }
    }
    // The download has started from the link; the blob may go after a moment.
    leptos::task::spawn_local(async move {
        gloo_timers::future::TimeoutFuture::new(10_000).await;
        let _ = web_sys::Url::revoke_object_url(&url);
    });
}
