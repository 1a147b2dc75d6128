//! The lock screen: the PIN, and why the last try failed (a wrong PIN, how long to
//! wait, or that too many wrong PINs erased what the relay had). Nothing of a record
//! is in the page while it shows.

use leptos::prelude::*;

use crate::field::{UnlockProblem, use_field};
use crate::i18n::*;

#[component]
pub fn LockScreen() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let pin = RwSignal::new(String::new());
    // The clock the waiting message counts down with.
    let now = RwSignal::new(js_sys::Date::now());
    let tick = gloo_timers::callback::Interval::new(250, move || {
        let _ = now.try_set(js_sys::Date::now());
    });
    let tick = StoredValue::new_local(Some(tick));
    on_cleanup(move || tick.update_value(|t| drop(t.take())));
    let unlock = Action::new_local(move |typed: &String| {
        let typed = typed.clone();
        async move {
            let result = field.unlock(&typed).await;
            // The countdown starts from now, not from the last tick.
            let _ = now.try_set(js_sys::Date::now());
            let _ = pin.try_set(String::new());
            result
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        unlock.dispatch_local(pin.get_untracked());
    };
    let wait_left = move || {
        let (_, until, _) = field.unlock_state();
        ((until - now.get()) / 1000.0).ceil().max(0.0) as u64
    };
    let busy = move || unlock.pending().get() || wait_left() > 0;
    let failed = move || matches!(unlock.value().get(), Some(Err(_)));
    view! {
        <main class="page lock">
            <h1>{t!(i18n, lock_title)}</h1>
            {move || field.unlock_state().2.then(|| view! {
                <p class="notice warn" role="alert">{t!(i18n, lock_wiped)}</p>
            })}
            <p>{t!(i18n, lock_intro)}</p>
            <form on:submit=submit>
                <label>
                    {t!(i18n, lock_pin)}
                    <input type="password" autocomplete="off" autofocus prop:value=pin
                        on:input=move |ev| pin.set(event_target_value(&ev)) />
                </label>
                <p role="status">
                    {move || match (wait_left(), failed()) {
                        (0, true) => Some(t!(i18n, lock_wrong).into_any()),
                        (0, false) => None,
                        (seconds, _) => Some(t!(i18n, lock_wait, seconds = seconds).into_any()),
                    }}
                </p>
                {move || match unlock.value().get() {
                    Some(Err(UnlockProblem::Store(e))) => Some(view! {
                        <p class="error" role="alert">{crate::field::store_error_text(i18n, &e)}</p>
                    }),
                    _ => None,
                }}
                <button type="submit" class="primary"
                    disabled=busy>
                    <span hidden=move || unlock.pending().get()>{t!(i18n, lock_unlock)}</span>
                    <span hidden=move || !unlock.pending().get()>{t!(i18n, lock_unlocking)}</span>
                </button>
            </form>
        </main>
    }
}

/// A PIN field bound to `value`, labelled by its children: a PIN being chosen
/// (`new-password`) or, with `current`, the one in use.
#[component]
pub fn PinInput(
    value: RwSignal<String>,
    #[prop(optional)] current: bool,
    children: Children,
) -> impl IntoView {
    let autocomplete = if current {
        "current-password"
    } else {
        "new-password"
    };
    view! {
        <label>
            {children()}
            <input type="password" autocomplete=autocomplete prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

/// A new PIN and the same again (setup, Settings' "set" and "change").
#[component]
pub fn NewPinFields(pin: RwSignal<String>, again: RwSignal<String>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <PinInput value=pin>{t!(i18n, lock_pin_new)}</PinInput>
        <PinInput value=again>{t!(i18n, lock_pin_repeat)}</PinInput>
    }
}
