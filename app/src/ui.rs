//! The screens: start-up and setup, the app frame with the sync status line and the
//! bottom navigation, and the routes of the two pages: the field app (`App`) and the
//! coordinator's page (`PactApp`, the same screens and the pact's). Components only
//! wire signals to views; every change goes through [`Field::edit`] (device core
//! first, then disk, then relay).

mod caseload;
mod contact;
mod day;
mod employer;
mod history;
mod language;
mod lock;
mod members;
mod pact;
mod parts;
mod settings;
mod setup;
mod status;
mod withdrawn;

use leptos::prelude::*;
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

use crate::field::{Field, Phase, use_field};
use crate::i18n::*;
use paktum_shared::device::Role;

/// The field app (`index.html`, the worker's phone): every screen but the pact's.
#[component]
pub fn App() -> impl IntoView {
    view! {
        <I18nContextProvider>
            {start(FieldFrame)}
        </I18nContextProvider>
    }
}

/// The coordinator's page (`pact.html`, served at `/pact`): the field app's screens
/// plus the pact's. A binary of its own, so a worker's phone never downloads them.
#[component]
pub fn PactApp() -> impl IntoView {
    view! {
        <I18nContextProvider>
            {start(PactFrame)}
        </I18nContextProvider>
    }
}

/// Start-up, setup and lock, then `frame` once the device is ready. Generic, not a
/// function pointer: each binary links only the frame it names.
fn start<F, V>(frame: F) -> impl IntoView
where
    F: Fn() -> V + Copy + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let i18n = use_i18n();
    language::restore(i18n);
    let field = Field::new(i18n);
    provide_context(field);
    field.open();
    crate::pwa::start();
    move || match field.phase() {
        Phase::Loading => {
            view! { <p class="loading" role="status">{t!(i18n, loading)}</p> }.into_any()
        }
        Phase::Setup => view! { <setup::Setup /> }.into_any(),
        Phase::Failed => view! {
            <main class="page">
                <h1>{t!(i18n, app_name)}</h1>
                <p class="error" role="alert">{move || field.problem()}</p>
            </main>
        }
        .into_any(),
        Phase::Ready => frame().into_any(),
        Phase::Locked => view! { <lock::LockScreen /> }.into_any(),
        Phase::Withdrawn => view! { <withdrawn::WithdrawnScreen /> }.into_any(),
    }
}

/// The worker's frame: the field app's routes; "Pact" (coordinators and admins) is a
/// full navigation to the coordinator's page.
#[component]
fn FieldFrame() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Frame pact_page=false>
            <Routes fallback=move || view! { <p>{t!(i18n, not_found)}</p> }>
                <Route path=path!("/") view=day::MyDay />
                <Route path=path!("/caseload") view=caseload::Caseload />
                <Route path=path!("/contacts/new") view=contact::NewContactPage />
                <Route path=path!("/contacts/:id") view=contact::ContactPage />
                <Route path=path!("/employers") view=employer::Employers />
                <Route path=path!("/employers/new") view=employer::NewEmployerPage />
                <Route path=path!("/employers/:id") view=employer::EmployerPage />
                <Route path=path!("/records/:id/history") view=history::HistoryPage />
                <Route path=path!("/settings") view=settings::Settings />
            </Routes>
        </Frame>
    }
}

/// The coordinator's frame: the same routes and the pact's.
#[component]
fn PactFrame() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Frame pact_page=true>
            <Routes fallback=move || view! { <p>{t!(i18n, not_found)}</p> }>
                <Route path=path!("/") view=day::MyDay />
                <Route path=path!("/caseload") view=caseload::Caseload />
                <Route path=path!("/contacts/new") view=contact::NewContactPage />
                <Route path=path!("/contacts/:id") view=contact::ContactPage />
                <Route path=path!("/employers") view=employer::Employers />
                <Route path=path!("/employers/new") view=employer::NewEmployerPage />
                <Route path=path!("/employers/:id") view=employer::EmployerPage />
                <Route path=path!("/records/:id/history") view=history::HistoryPage />
                <Route path=path!("/settings") view=settings::Settings />
                <Route path=path!("/pact") view=pact::Dashboard />
                <Route path=path!("/pact/figure") view=pact::FigurePage />
                <Route path=path!("/pact/table") view=pact::Table />
                <Route path=path!("/pact/review") view=pact::Review />
            </Routes>
        </Frame>
    }
}

/// The app frame: status line on top, the page, navigation at the bottom (thumb reach).
#[component]
fn Frame(pact_page: bool, children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let coordinates = Memo::new(move |_| field.read(|r| r.identity().role != Role::Worker));
    if !pact_page {
        // A coordinator's device keeps the coordinator's page offline too (asked once
        // per start: the role is read again on every change, but rarely changes).
        Effect::new(move || {
            if coordinates.get() {
                crate::pwa::keep_pact_page();
            }
        });
    }
    view! {
        <Router>
            <header class="top">
                <status::StatusLine />
                <crate::pwa::UpdateNotice />
                {move || field.storage_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </header>
            <main class="page">{children()}</main>
            <nav class="bottom" aria-label=move || t_string!(i18n, nav_label).to_string()>
                <A href="/">{t!(i18n, nav_day)}</A>
                <A href="/caseload">{t!(i18n, nav_caseload)}</A>
                <A href="/employers">{t!(i18n, nav_employers)}</A>
                // The pact's figures: only coordinators and admins follow every team.
                {move || coordinates.get().then(|| if pact_page {
                    view! { <A href="/pact">{t!(i18n, nav_pact)}</A> }.into_any()
                } else {
                    // The other page: the browser loads it (rel=external skips the router).
                    view! { <a href="/pact" rel="external">{t!(i18n, nav_pact)}</a> }.into_any()
                })}
                <A href="/contacts/new" attr:class="new">{t!(i18n, nav_new_contact)}</A>
                // A gear at 360 px: five words do not fit one line there in every
                // language. The link's name is the word (visually hidden).
                <A href="/settings" attr:class="icon" attr:title=move || t_string!(i18n, nav_settings).to_string()>
                    <svg viewBox="0 0 24 24" width="26" height="26" aria-hidden="true" focusable="false">
                        <circle cx="12" cy="12" r="3.4" fill="none" stroke="currentColor" stroke-width="2.2" />
                        <circle cx="12" cy="12" r="7.6" fill="none" stroke="currentColor" stroke-width="3.6" stroke-dasharray="3.3 2.67" />
                    </svg>
                    <span class="visually-hidden">{t!(i18n, nav_settings)}</span>
                </A>
            </nav>
        </Router>
    }
}
