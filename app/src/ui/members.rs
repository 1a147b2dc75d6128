//! Choosing a worker of the team (a contact's "assigned worker") from the members the
//! relay listed, instead of typing a name. In development mode the relay lists none;
//! then the choice is among the workers the caseload already names and this device's
//! worker. The value chosen before stays choosable even if it left the list.

use leptos::prelude::*;
use paktum_shared::device::{member_choices, workers};
use paktum_shared::language::sort_key;

use super::language::lang;
use super::parts::{SelectLabel, unique_id};
use crate::field::use_field;
use crate::i18n::*;

/// The input type a record's `kind_of` gives a field chosen among the team's members
/// (`parts::Details` then shows [`MemberSelect`]).
pub const MEMBER_INPUT: &str = "member";

/// A labelled select of the team's members bound to `value`; the children are its
/// label.
#[component]
pub fn MemberSelect(value: RwSignal<String>, children: Children) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let id = unique_id("member");
    let options = move || {
        let named = field.read(workers);
        let me = field.read(|r| r.identity().worker.clone());
        let mut all = member_choices(field.members(), named, me, &value.get());
        let lang = lang(i18n);
        all.sort_by_cached_key(|n| sort_key(lang, n));
        all
    };
    view! {
        <label>
            <SelectLabel id=id.clone()>{children()}</SelectLabel>
            <select aria-labelledby=id prop:value=move || value.get() on:change=move |ev| value.set(event_target_value(&ev))>
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
