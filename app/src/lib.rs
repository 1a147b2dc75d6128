//! Paktum's field app: views, the IndexedDB store and the sync client.

leptos_i18n_macro::load_locales!();

pub mod device;
pub mod repo;
pub mod store;
pub mod sync;

use leptos::prelude::*;

use crate::i18n::*;

pub fn start() {
    console_error_panic_hook::set_once();
    leptos::mount::mount_to_body(|| view! { <I18nContextProvider><Hello/></I18nContextProvider> });
}

#[component]
fn Hello() -> impl IntoView {
    let i18n = use_i18n();
    view! { <main><h1>{t!(i18n, app_name)}</h1></main> }
}

#[cfg(test)]
wasm_bindgen_test::wasm_bindgen_test_configure!(run_in_browser);
