//! First start: who uses this device, for which team, and which relay it syncs with.

use leptos::prelude::*;
use leptos::task::spawn_local;

use super::use_field;
use crate::device::{Device, default_relay_url, normalise_relay_url};
use crate::i18n::*;

#[component]
pub fn Setup() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let worker = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let relay = RwSignal::new(default_relay_url());
    let error = RwSignal::new(None::<String>);
    let busy = RwSignal::new(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (w, t) = (
            worker.get().trim().to_string(),
            team.get().trim().to_string(),
        );
        if w.is_empty() || t.is_empty() {
            error.set(Some(t_string!(i18n, setup_missing).to_string()));
            return;
        }
        let Some(url) = normalise_relay_url(&relay.get()) else {
            error.set(Some(t_string!(i18n, failure_bad_address).to_string()));
            return;
        };
        busy.set(true);
        spawn_local(async move {
            if let Err(e) = field.set_up(Device::new(&w, &t, &url)).await {
                error.set(Some(e));
                busy.set(false);
            }
        });
    };
    view! {
        <main class="page setup">
            <h1>{t!(i18n, setup_title)}</h1>
            <p>{t!(i18n, setup_intro)}</p>
            <form on:submit=submit>
                <label>
                    {t!(i18n, setup_worker)}
                    <input type="text" autocomplete="name" required prop:value=worker
                        on:input=move |ev| worker.set(event_target_value(&ev)) />
                </label>
                <label>
                    {t!(i18n, setup_team)}
                    <input type="text" required prop:value=team on:input=move |ev| team.set(event_target_value(&ev)) />
                </label>
                <label>
                    {t!(i18n, setup_relay)}
                    <input type="url" inputmode="url" prop:value=relay on:input=move |ev| relay.set(event_target_value(&ev)) />
                </label>
                {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
                <button type="submit" class="primary" disabled=busy>{t!(i18n, setup_start)}</button>
            </form>
        </main>
    }
}
