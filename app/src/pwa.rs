//! What makes the app a dependable PWA beyond its screens: the offer to reload when a
//! new version is installed (the service worker itself is `public/sw.js`, registered
//! by `index.html`), and asking the browser to keep our data, with a warning when it
//! refuses or space runs low.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::Closure;
use wasm_bindgen_futures::JsFuture;

use crate::i18n::*;

/// Below this much free quota the worker is warned (a day of notes is far less).
const LOW_SPACE_BYTES: f64 = 50.0 * 1024.0 * 1024.0;

#[derive(Clone, Copy)]
struct Pwa {
    update_ready: RwSignal<bool>,
    not_persistent: RwSignal<bool>,
    free_mb: RwSignal<Option<u32>>,
}

/// Starts watching for updates and asks for persistent storage; call once, inside
/// the i18n provider.
pub fn start() {
    let pwa = Pwa {
        update_ready: RwSignal::new(false),
        not_persistent: RwSignal::new(false),
        free_mb: RwSignal::new(None),
    };
    provide_context(pwa);
    let Some(window) = web_sys::window() else {
        return;
    };
    // index.html's registration script fires this when a new version waits.
    let on_update = Closure::<dyn FnMut()>::new(move || pwa.update_ready.set(true));
    let _ = window
        .add_event_listener_with_callback("paktum-update", on_update.as_ref().unchecked_ref());
    on_update.forget();
    let storage = window.navigator().storage();
    leptos::task::spawn_local(async move {
        if let Ok(promise) = storage.persist() {
            match JsFuture::from(promise).await {
                Ok(granted) if granted.as_bool() == Some(true) => {}
                _ => pwa.not_persistent.set(true),
            }
        }
        if let Ok(promise) = storage.estimate()
            && let Ok(estimate) = JsFuture::from(promise).await
        {
            let number = |key: &str| {
                js_sys::Reflect::get(&estimate, &key.into())
                    .ok()
                    .and_then(|v| v.as_f64())
            };
            if let (Some(quota), Some(usage)) = (number("quota"), number("usage"))
                && quota - usage < LOW_SPACE_BYTES
            {
                pwa.free_mb
                    .set(Some(((quota - usage).max(0.0) / 1_048_576.0) as u32));
            }
        }
    });
}

/// Asks the service worker to keep the coordinator's page offline too (`sw.js`
/// "keep-pact"): only a coordinator's or admin's device calls this, so a worker's
/// phone never downloads that page.
pub fn keep_pact_page() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let Ok(ready) = window.navigator().service_worker().ready() else {
        return;
    };
    leptos::task::spawn_local(async move {
        if let Ok(registration) = JsFuture::from(ready).await
            && let Some(worker) = registration
                .unchecked_into::<web_sys::ServiceWorkerRegistration>()
                .active()
        {
            let _ = worker.post_message(&"keep-pact".into());
        }
    });
}

fn apply_update() {
    let Some(window) = web_sys::window() else {
        return;
    };
    if let Ok(apply) = js_sys::Reflect::get(&window, &"paktumApplyUpdate".into())
        && let Some(apply) = apply.dyn_ref::<js_sys::Function>()
    {
        let _ = apply.call0(&window);
    }
}

/// The offer to reload into a new version (never forced mid-visit).
#[component]
pub fn UpdateNotice() -> impl IntoView {
    let i18n = use_i18n();
    let Some(pwa) = use_context::<Pwa>() else {
        return ().into_any();
    };
    view! {
        <Show when=move || pwa.update_ready.get()>
            <p class="notice" role="status">
                {t!(i18n, update_ready)} " "
                <button type="button" class="small" on:click=move |_| apply_update()>{t!(i18n, update_reload)}</button>
            </p>
        </Show>
    }
    .into_any()
}

/// Warnings that the browser may drop our data or that space runs low.
#[component]
pub fn StorageNotices() -> impl IntoView {
    let i18n = use_i18n();
    let Some(pwa) = use_context::<Pwa>() else {
        return ().into_any();
    };
    view! {
        <Show when=move || pwa.not_persistent.get()>
            <p class="notice warn" role="status">
                {t!(i18n, storage_not_persistent)} " "
                <button type="button" class="small" on:click=move |_| pwa.not_persistent.set(false)>{t!(i18n, dismiss)}</button>
            </p>
        </Show>
        {move || pwa.free_mb.get().map(|mb| view! { <p class="notice warn" role="alert">{t!(i18n, storage_low, mb = mb)}</p> })}
    }
    .into_any()
}
