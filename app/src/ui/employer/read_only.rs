//! Another team's employer on a coordinator's device: what the page shows, with nothing
//! to change (the relay refuses the change, which would then stay pending for good).

use leptos::prelude::*;
use paktum_shared::DocumentId;
use paktum_shared::employer::{Employer, EmployerField};

use super::super::language::day_text;
use super::super::parts::{ReadOnlyNotice, commitment_label};
use super::{OpeningsList, field_label, referrals, value_of};
use crate::i18n::*;

#[component]
pub(super) fn EmployerReadOnly(
    id: DocumentId,
    employer: Signal<Option<Employer>>,
    team: String,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ReadOnlyNotice team />
        {move || employer.get().map(|e| {
            let visits = e
                .visits
                .iter()
                .map(|v| {
                    let follow = v.follow_up.map(|d| {
                        let day = day_text(i18n, d);
                        if v.done {
                            view! { <p class="follow done">{t!(i18n, note_follow_up_done_on, day = day.clone())}</p> }.into_any()
                        } else {
                            view! { <p class="follow">{t!(i18n, note_follow_up_on, day = day.clone())}</p> }.into_any()
                        }
                    });
                    view! {
                        <li>
                            <p class="meta">{v.date.map(|d| day_text(i18n, d))} " · " {v.worker.clone()} " · " {v.purpose.clone()}</p>
                            <p class="text">{v.text.clone()}</p>
                            <OpeningsList openings=v.openings.clone() />
                            {follow}
                        </li>
                    }
                })
                .collect_view();
            let commitment = match e.commitment_since {
                Some(d) => t!(i18n, commitment_now_since, level = commitment_label(i18n, e.commitment), day = day_text(i18n, d)).into_any(),
                None => t!(i18n, commitment_now, level = commitment_label(i18n, e.commitment)).into_any(),
            };
            let details = EmployerField::ALL
                .iter()
                .map(|f| view! { <dt>{field_label(i18n, *f)}</dt> <dd>{value_of(&e, *f)}</dd> })
                .collect_view();
            view! {
                <section aria-labelledby="visits">
                    <h2 id="visits">{t!(i18n, visits_title)}</h2>
                    <ol class="timeline" aria-label=move || t_string!(i18n, visits_title).to_string()>{visits}</ol>
                </section>
                <section aria-labelledby="commitment">
                    <h2 id="commitment">{t!(i18n, commitment_title)}</h2>
                    <p>{commitment}</p>
                </section>
                <section aria-labelledby="employer-details">
                    <h2 id="employer-details">{t!(i18n, details_title)}</h2>
                    <dl>{details}</dl>
                </section>
            }
        })}
        <referrals::ReferralsTo id />
    }
}
