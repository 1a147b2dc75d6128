//! Paktum's field app: views, the IndexedDB store and the sync client.

leptos_i18n_macro::load_locales!();

pub mod field;
pub mod outbox;
pub mod pwa;
pub mod store;
pub mod sync;
pub mod timing;
pub mod ui;

// The locale files are read by the macro above; this makes editing them rebuild the app.
const _: &str = include_str!("../locales/en.json");

/// Mounts the field app on the page (`index.html`).
pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(ui::App);
}

/// Mounts the coordinator's page (`pact.html`): the field app and the pact's screens.
pub fn start_pact() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(ui::PactApp);
}

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
