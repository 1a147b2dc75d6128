//! Choosing a worker of the team (a contact's "assigned worker") from the members the
//! relay listed, instead of typing a name. In development mode the relay lists none;
//! then the choice is among the workers the caseload already names and this device's
//! worker. The value chosen before stays choosable even if it left the list.

use leptos::prelude::*;
use paktum_shared::device::workers;
use paktum_shared::language::sort_key;

use super::language::lang;
use crate::field::use_field;
use crate::i18n::*;

/// The input type a record's `kind_of` gives a field chosen among the team's members
/// (`parts::Details` then shows [`MemberSelect`]).
pub const MEMBER_INPUT: &str = "member";

/// The names to choose from: the team's members, else the workers the index names and
/// this device's worker; `current` always; in the language's order.
fn choices(members: Vec<String>, named: Vec<String>, me: String, current: &str) -> Vec<String> {
    let mut all = if members.is_empty() {
        let mut all = named;
        all.push(me);
        all
    } else {
        members
    };
    if !current.trim().is_empty() {
        all.push(current.trim().to_string());
    }
    all.retain(|n| !n.trim().is_empty());
    all.sort();
    all.dedup();
    all
}

/// A labelled select of the team's members bound to `value`; the children are its
/// label.
#[component]
pub fn MemberSelect(value: RwSignal<String>, children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let options = move || {
        let named = field.read(workers);
        let me = field.read(|r| r.identity().worker.clone());
        let mut all = choices(field.members(), named, me, &value.get());
        let lang = lang(i18n);
        all.sort_by_cached_key(|n| sort_key(lang, n));
        all
    };
    view! {
        <label>
            {children()}
            <select prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
                {move || {
                    options()
                        .into_iter()
                        .map(|n| {
                            let selected = n == value.get_untracked();
                            view! { <option value=n.clone() selected=selected>{n.clone()}</option> }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    fn names(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[wasm_bindgen_test]
    fn the_relays_members_are_the_choice_and_the_current_value_stays() {
        let got = choices(
            names(&["Bram", "Anna"]),
            names(&["Typo Name"]),
            "Anna".into(),
            "Cleo",
        );
        assert_eq!(got, ["Anna", "Bram", "Cleo"], "members, and who it is now");
        let got = choices(vec![], names(&["Bram", "Anna"]), "Dirk".into(), "");
        assert_eq!(
            got,
            ["Anna", "Bram", "Dirk"],
            "no directory: who the caseload names, and me"
        );
    }
}
