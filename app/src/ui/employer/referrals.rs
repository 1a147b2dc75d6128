//! The referrals made to an employer, from the contacts on this device, with their
//! outcomes (a referral lives in the young person's record).

use leptos::prelude::*;
use leptos_router::components::A;
use paktum_shared::DocumentId;

use crate::field::use_field;
use crate::i18n::*;
use crate::ui::language::day_text;
use crate::ui::parts::outcome_label;

#[component]
pub(super) fn ReferralsTo(id: DocumentId) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let referrals = move || field.read(|r| r.referrals_to(&id));
    view! {
        <section aria-labelledby="referrals-to">
            <h2 id="referrals-to">{t!(i18n, employer_referrals_title)}</h2>
            <ul class="rows" aria-label=move || t_string!(i18n, employer_referrals_title).to_string()>
                {move || {
                    let found = referrals();
                    if found.is_empty() {
                        return view! { <li class="empty">{t!(i18n, employer_referrals_none)}</li> }.into_any();
                    }
                    found
                        .into_iter()
                        .map(|r| {
                            let outcome = outcome_label(i18n, r.referral.outcome);
                            view! {
                                <li>
                                    <A href=format!("/contacts/{}", r.contact)>
                                        <span class="name">{r.name.clone()} " · " {r.referral.opening.clone()}</span>
                                        <span class="meta">
                                            {r.referral.date.map(|d| day_text(i18n, d))} " · " {r.referral.by.clone()}
                                        </span>
                                        <span class="chip">{outcome}</span>
                                    </A>
                                </li>
                            }
                        })
                        .collect_view()
                        .into_any()
                }}
            </ul>
        </section>
    }
}
