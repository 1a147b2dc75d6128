//! The screens: start-up and setup, the app frame with the sync status line and the
//! bottom navigation, and the routes. Components only wire signals to views; every
//! change goes through [`Field::edit`] (device core first, then disk, then relay).

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

#[component]
pub fn App() -> impl IntoView {
    view! {
        <I18nContextProvider>
            <Start />
        </I18nContextProvider>
    }
}

#[component]
fn Start() -> impl IntoView {
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
        Phase::Ready => view! { <Frame /> }.into_any(),
        Phase::Locked => view! { <lock::LockScreen /> }.into_any(),
        Phase::Withdrawn => view! { <withdrawn::WithdrawnScreen /> }.into_any(),
    }
}

/// The app frame: status line on top, the page, navigation at the bottom (thumb reach).
#[component]
fn Frame() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    view! {
        <Router>
            <header class="top">
                <status::StatusLine />
                <crate::pwa::UpdateNotice />
                {move || field.storage_error().map(|e| view! { <p class="error" role="alert">{e}</p> })}
            </header>
            <main class="page">
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
            </main>
            <nav class="bottom" aria-label=move || t_string!(i18n, nav_label).to_string()>
                <A href="/">{t!(i18n, nav_day)}</A>
                <A href="/caseload">{t!(i18n, nav_caseload)}</A>
                <A href="/employers">{t!(i18n, nav_employers)}</A>
                // The pact's figures: only coordinators and admins follow every team.
                {move || field.read(|r| r.identity().role != Role::Worker).then(|| view! {
                    <A href="/pact">{t!(i18n, nav_pact)}</A>
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
