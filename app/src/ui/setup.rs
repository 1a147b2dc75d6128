//! First start: who uses this device, for which team, and which relay it syncs with.

use leptos::prelude::*;

use paktum_shared::device::{Identity, normalise_relay_url, normalise_team};

use super::language::problem_view;
use super::lock::NewPinFields;
use crate::field::{Problem, use_field};
use crate::i18n::*;
use crate::sync::{default_relay_url, enrol};

#[component]
pub fn Setup() -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let worker = RwSignal::new(String::new());
    let team = RwSignal::new(String::new());
    let relay = RwSignal::new(default_relay_url());
    // The relay's invite link is `…/#/enrol?code=XXXXX-XXXXX`: take the code from it.
    let code = RwSignal::new(code_from_link().unwrap_or_default());
    // The device lock can be set right away (or later in the settings).
    let pin = RwSignal::new(String::new());
    let pin_again = RwSignal::new(String::new());
    // Setting up is this screen's save: pending while it enrols and writes the
    // identity, and the error sentence when it failed (success leaves the screen).
    let start = Action::new_local(move |form: &(String, String, String, String)| {
        let (w, t, relay, code) = form.clone();
        let (pin, again) = (pin.get_untracked(), pin_again.get_untracked());
        async move {
            // Checked before enrolling: the code can be used once only.
            let pin = (!pin.is_empty()).then_some(pin);
            if let Some(pin) = &pin {
                if *pin != again {
                    return Err(Problem::Form(|i| {
                        t_string!(i, lock_pin_mismatch).to_string()
                    }));
                }
                if !paktum_shared::device::is_acceptable_pin(pin) {
                    return Err(Problem::Form(|i| t_string!(i, lock_pin_short).to_string()));
                }
            }
            if code.is_empty() && (w.is_empty() || t.is_empty()) {
                return Err(Problem::Form(|i| t_string!(i, setup_missing).to_string()));
            }
            let Some(url) = normalise_relay_url(&relay) else {
                return Err(Problem::Form(|i| {
                    t_string!(i, failure_bad_address).to_string()
                }));
            };
            let device = if code.is_empty() {
                // Development mode keys caseloads by the typed name: "Team-x" and
                // "team-x" must be one team.
                Identity::new(&w, &normalise_team(&t), &url)
            } else {
                // The relay knows who the code was made for; its names win.
                let e = enrol(&url, &code, "Paktum field app")
                    .await
                    .map_err(Problem::Enrol)?;
                let pick = |theirs: String, ours: &str| {
                    if theirs.is_empty() {
                        ours.to_string()
                    } else {
                        theirs
                    }
                };
                let mut device = Identity::new(&pick(e.worker, &w), &pick(e.team, &t), &url)
                    .with_pact(&e.role, e.teams)
                    .with_settings(e.settings)
                    .with_own_caseload(e.own_caseload_only);
                device.device_token = Some(e.token);
                device
            };
            field.set_up(device, pin).await
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        start.dispatch_local((
            worker.get().trim().to_string(),
            team.get().trim().to_string(),
            relay.get(),
            code.get().trim().to_string(),
        ));
    };
    let error = move || start.value().get().and_then(Result::err);
    let busy = start.pending();
    view! {
        <main class="page setup">
            <div class="setup-head">
                <h1>{t!(i18n, setup_title)}</h1>
                <super::language::LanguagePicker />
            </div>
            <p>{t!(i18n, setup_intro)}</p>
            <form on:submit=submit>
                <label>
                    {t!(i18n, setup_worker)}
                    <input type="text" autocomplete="name" prop:value=worker
                        on:input=move |ev| worker.set(event_target_value(&ev)) />
                </label>
                <label>
                    {t!(i18n, setup_team)}
                    <input type="text" prop:value=team on:input=move |ev| team.set(event_target_value(&ev)) />
                </label>
                <label>
                    {t!(i18n, setup_relay)}
                    <input type="url" inputmode="url" prop:value=relay on:input=move |ev| relay.set(event_target_value(&ev)) />
                </label>
                <label>
                    {t!(i18n, setup_code)}
                    <input type="text" autocomplete="one-time-code" prop:value=code
                        on:input=move |ev| code.set(event_target_value(&ev)) />
                </label>
                <p class="hint">{t!(i18n, lock_settings_hint)}</p>
                <NewPinFields pin=pin again=pin_again />
                {move || error().map(|e| view! { <p class="error" role="alert">{move || problem_view(i18n, &e)}</p> })}
                <button type="submit" class="primary" disabled=busy>{t!(i18n, setup_start)}</button>
            </form>
        </main>
    }
}

fn code_from_link() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    let query = hash.split_once('?')?.1;
    query
        .split('&')
        .find_map(|pair| pair.strip_prefix("code="))
        .and_then(|c| js_sys::decode_uri_component(c).ok())
        .map(String::from)
}
