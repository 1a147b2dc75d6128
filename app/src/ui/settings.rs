//! Settings: the language, the relay address (changeable without losing anything),
//! what this device stores and whether the browser keeps it, the app's version and
//! build, and "Sign out / reset this device" (refused while changes wait for the
//! relay, with "Sync now" offered).

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use wasm_bindgen_futures::JsFuture;

use super::language::{LanguagePicker, number, problem_view};
use super::lock::{NewPinFields, PinInput};
use super::parts::{Outcome, SaveButton};
use crate::field::{Problem, Words, use_field};
use crate::i18n::*;

/// The app's version (the workspace's) and build (`app/build.rs`).
const VERSION: &str = env!("CARGO_PKG_VERSION");
const BUILD: &str = env!("PAKTUM_BUILD");

/// What the browser says about this site's storage.
#[derive(Clone, Copy, Default)]
struct Storage {
    used_mb: Option<f64>,
    quota_mb: Option<f64>,
    persisted: Option<bool>,
}

async fn storage() -> Storage {
    let Some(window) = web_sys::window() else {
        return Storage::default();
    };
    let manager = window.navigator().storage();
    let mut found = Storage::default();
    if let Ok(promise) = manager.estimate()
        && let Ok(estimate) = JsFuture::from(promise).await
    {
        let mb = |key: &str| {
            js_sys::Reflect::get(&estimate, &key.into())
                .ok()
                .and_then(|v| v.as_f64())
                .map(|b| b / 1_048_576.0)
        };
        found.used_mb = mb("usage");
        found.quota_mb = mb("quota");
    }
    if let Ok(promise) = manager.persisted() {
        found.persisted = JsFuture::from(promise).await.ok().and_then(|v| v.as_bool());
    }
    found
}

/// Megabytes with one decimal, digits grouped as the language does.
fn megabytes(i18n: I18nContext<Locale>, mb: f64) -> String {
    let tenths = (mb * 10.0).round() as usize;
    format!(
        "{}{}{}",
        number(i18n, tenths / 10),
        decimal_mark(i18n),
        tenths % 10
    )
}

fn decimal_mark(i18n: I18nContext<Locale>) -> char {
    match i18n.get_locale() {
        Locale::en => '.',
        _ => ',',
    }
}

#[component]
pub fn Settings() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let relay_now = move || field.read(|r| r.identity().relay_url.clone());
    let relay = RwSignal::new(relay_now());
    let change_relay = Action::new_local(move |typed: &String| {
        let typed = typed.clone();
        async move {
            field
                .change_relay(&typed)
                .await
                .map(|()| Some((|i| t_string!(i, settings_relay_same).to_string()) as Words))
        }
    });
    let stored = LocalResource::new(storage);
    let pending = move || field.read(|r| r.pending_count());
    let confirming = RwSignal::new(false);
    let reset =
        Action::new_local(move |_: &()| async move { field.reset().await.map(|()| None::<Words>) });
    let ask_reset = move |_| {
        if pending() > 0 {
            // Refused, with the reason and "Sync now".
            reset.dispatch_local(());
        } else {
            confirming.set(true);
        }
    };
    let refused = move || matches!(reset.value().get(), Some(Err(Problem::Form(_))));
    let new_pin = RwSignal::new(String::new());
    let repeat_pin = RwSignal::new(String::new());
    let set_pin = Action::new_local(move |(pin, again): &(String, String)| {
        let (pin, again) = (pin.clone(), again.clone());
        async move {
            if pin != again {
                return Err(Problem::Form(|i| {
                    t_string!(i, lock_pin_mismatch).to_string()
                }));
            }
            field.set_pin(&pin).await?;
            new_pin.set(String::new());
            repeat_pin.set(String::new());
            Ok(Some((|i| t_string!(i, lock_pin_done).to_string()) as Words))
        }
    });
    let current_pin = RwSignal::new(String::new());
    let changed_pin = RwSignal::new(String::new());
    let changed_again = RwSignal::new(String::new());
    let change_pin = Action::new_local(move |(current, new, again): &(String, String, String)| {
        let (current, new, again) = (current.clone(), new.clone(), again.clone());
        async move {
            let result = field.change_pin(&current, &new, &again).await;
            current_pin.set(String::new());
            result?;
            changed_pin.set(String::new());
            changed_again.set(String::new());
            Ok(Some(
                (|i| t_string!(i, lock_pin_changed).to_string()) as Words,
            ))
        }
    });
    view! {
        <h1>{t!(i18n, settings_title)}</h1>

        <section aria-labelledby="settings-language">
            <h2 id="settings-language">{t!(i18n, language_label)}</h2>
            <LanguagePicker full=true />
        </section>

        <section aria-labelledby="settings-relay">
            <h2 id="settings-relay">{t!(i18n, settings_relay)}</h2>
            <p class="hint">{t!(i18n, settings_relay_hint)}</p>
            <form on:submit=move |ev| {
                ev.prevent_default();
                change_relay.dispatch_local(relay.get_untracked());
            }>
                <label>
                    {t!(i18n, setup_relay)}
                    <input type="url" inputmode="url" prop:value=relay
                        on:input=move |ev| relay.set(event_target_value(&ev)) />
                </label>
                <SaveButton busy=change_relay.pending()>{t!(i18n, settings_relay_change)}</SaveButton>
            </form>
            <Outcome action=change_relay />
        </section>

        <section aria-labelledby="settings-lock">
            <h2 id="settings-lock">{t!(i18n, lock_settings)}</h2>
            <Show
                when=move || field.has_pin()
                fallback=move || view! {
                    <p class="hint">{t!(i18n, lock_settings_hint)}</p>
                    <form on:submit=move |ev| {
                        ev.prevent_default();
                        set_pin.dispatch_local((new_pin.get_untracked(), repeat_pin.get_untracked()));
                    }>
                        <NewPinFields pin=new_pin again=repeat_pin />
                        <SaveButton busy=set_pin.pending()>{t!(i18n, lock_pin_set)}</SaveButton>
                    </form>
                }
            >
                <p class="hint">{t!(i18n, lock_settings_on)}</p>
                <button type="button" class="wide" on:click=move |_| field.lock_now()>{t!(i18n, lock_now)}</button>
                <h3>{t!(i18n, lock_change)}</h3>
                <form on:submit=move |ev| {
                    ev.prevent_default();
                    change_pin.dispatch_local((
                        current_pin.get_untracked(),
                        changed_pin.get_untracked(),
                        changed_again.get_untracked(),
                    ));
                }>
                    <PinInput value=current_pin current=true>{t!(i18n, lock_pin_current)}</PinInput>
                    <NewPinFields pin=changed_pin again=changed_again />
                    <SaveButton busy=change_pin.pending()>{t!(i18n, lock_pin_change)}</SaveButton>
                </form>
                <Outcome action=change_pin />
            </Show>
            <Outcome action=set_pin />
        </section>

        <section aria-labelledby="settings-storage">
            <h2 id="settings-storage">{t!(i18n, settings_storage)}</h2>
            <dl class="details">
                <dt>{t!(i18n, settings_storage_used)}</dt>
                <dd>
                    {move || stored.get().map(|s| match (s.used_mb, s.quota_mb) {
                        (Some(used), Some(quota)) => t!(i18n, settings_storage_of, used = megabytes(i18n, used), quota = megabytes(i18n, quota)).into_any(),
                        _ => t!(i18n, settings_unknown).into_any(),
                    })}
                </dd>
                <dt>{t!(i18n, settings_persistent)}</dt>
                <dd>
                    {move || stored.get().map(|s| match s.persisted {
                        Some(true) => t!(i18n, settings_persistent_yes).into_any(),
                        Some(false) => t!(i18n, settings_persistent_no).into_any(),
                        None => t!(i18n, settings_unknown).into_any(),
                    })}
                </dd>
                <dt>{t!(i18n, settings_waiting)}</dt>
                <dd>{move || number(i18n, pending())}</dd>
            </dl>
        </section>

        <section aria-labelledby="settings-about">
            <h2 id="settings-about">{t!(i18n, settings_about)}</h2>
            <dl class="details">
                <dt>{t!(i18n, settings_version)}</dt>
                <dd>{VERSION}</dd>
                <dt>{t!(i18n, settings_build)}</dt>
                <dd>{BUILD}</dd>
            </dl>
        </section>

        <section aria-labelledby="settings-reset">
            <h2 id="settings-reset">{t!(i18n, settings_reset)}</h2>
            <p class="hint">{t!(i18n, settings_reset_hint)}</p>
            <Show
                when=move || confirming.get()
                fallback=move || view! {
                    <button type="button" class="danger wide" on:click=ask_reset>{t!(i18n, settings_reset_button)}</button>
                }
            >
                <p class="notice warn" role="alert">{t!(i18n, settings_reset_confirm)}</p>
                <div class="actions">
                    <button type="button" class="danger" disabled=move || reset.pending().get()
                        on:click=move |_| { reset.dispatch_local(()); }>
                        {t!(i18n, settings_reset_erase)}
                    </button>
                    <button type="button" on:click=move |_| confirming.set(false)>{t!(i18n, cancel)}</button>
                </div>
            </Show>
            {move || reset.value().get().and_then(Result::err).map(|e| view! {
                <p class="error" role="alert">{move || problem_view(i18n, &e)}</p>
            })}
            {move || refused().then(|| view! {
                <button type="button" class="primary wide" on:click=move |_| {
                    reset.clear();
                    field.sync_now();
                }>{t!(i18n, sync_now)}</button>
            })}
        </section>
    }
}
