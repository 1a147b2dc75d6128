//! Another team's contact on a coordinator's device: what the page shows, with nothing
//! to change (the relay refuses the change, which would then stay pending for good).

use leptos::prelude::*;
use paktum_shared::contact::Contact;

use super::super::language::{day_text, when};
use super::super::parts::{ReadOnlyNotice, outcome_label, status_label};
use super::{DETAIL_FIELDS, channel_label, detail_text, field_label, value_of};
use crate::i18n::*;

#[component]
pub(super) fn ContactReadOnly(contact: Signal<Option<Contact>>, team: String) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <ReadOnlyNotice team />
        {move || contact.get().map(|c| {
            let details = DETAIL_FIELDS
                .iter()
                .filter(|f| super::stage::detail_shown(&c, **f))
                .map(|f| {
                    let v = detail_text(i18n, &c, *f).unwrap_or_else(|| value_of(&c, *f));
                    view! { <dt>{field_label(i18n, *f)}</dt> <dd>{v}</dd> }
                })
                .collect_view();
            let first_contact = format!(
                "{} · {}{}",
                c.first_contact_on.map(|d| day_text(i18n, d)).unwrap_or_default(),
                c.channel.map(|ch| channel_label(i18n, ch)).unwrap_or_default(),
                c.first_place.clone().map(|p| format!(" · {p}")).unwrap_or_default()
            );
            let history = c
                .status_history
                .iter()
                .rev()
                .map(|s| view! {
                    <li>
                        <strong>{status_label(i18n, s.status)}</strong>
                        " · " {s.by.clone()} " · " {when(i18n, s.at_ms)}
                        {s.reason.clone().map(|r| format!(" · {r}"))}
                    </li>
                })
                .collect_view();
            let consent = match (c.consent.given_on, c.consent.withdrawn_on) {
                (Some(on), None) => t!(i18n, consent_given, day = day_text(i18n, on), scope = super::consent::scope_words(i18n, &c.consent)).into_any(),
                (_, Some(off)) => t!(i18n, consent_withdrawn, day = day_text(i18n, off)).into_any(),
                (None, None) => t!(i18n, consent_none).into_any(),
            };
            let notes = c
                .notes
                .iter()
                .map(|n| {
                    let follow = n.follow_up.map(|d| {
                        let day = day_text(i18n, d);
                        if n.done {
                            view! { <p class="follow done">{t!(i18n, note_follow_up_done_on, day = day.clone())}</p> }.into_any()
                        } else {
                            view! { <p class="follow">{t!(i18n, note_follow_up_on, day = day.clone())}</p> }.into_any()
                        }
                    });
                    view! {
                        <li>
                            <p class="meta">
                                {n.date.map(|d| day_text(i18n, d))} " · " {n.author.clone()}
                                {n.place.clone().map(|p| format!(" · {p}"))}
                            </p>
                            <p class="text">{n.text.clone()}</p>
                            {follow}
                        </li>
                    }
                })
                .collect_view();
            let referrals = c
                .referrals
                .iter()
                .map(|r| view! {
                    <li>
                        {r.opening.clone()}
                        {r.date.map(|d| format!(" · {}", day_text(i18n, d)))}
                        " · " {outcome_label(i18n, r.outcome)}
                    </li>
                })
                .collect_view();
            view! {
                <section aria-labelledby="notes">
                    <h2 id="notes">{t!(i18n, notes_title)}</h2>
                    <ol class="timeline" aria-label=move || t_string!(i18n, notes_title).to_string()>{notes}</ol>
                </section>
                <section aria-labelledby="status">
                    <h2 id="status">{t!(i18n, status_title)}</h2>
                    <ol class="timeline">{history}</ol>
                </section>
                <section aria-labelledby="details">
                    <h2 id="details">{t!(i18n, details_title)}</h2>
                    <dl>
                        {details}
                        <dt>{t!(i18n, field_first_contact)}</dt>
                        <dd>{first_contact}</dd>
                    </dl>
                </section>
                <section aria-labelledby="consent">
                    <h2 id="consent">{t!(i18n, consent_title)}</h2>
                    <p>{consent}</p>
                </section>
                <section aria-labelledby="referrals">
                    <h2 id="referrals">{t!(i18n, referrals_title)}</h2>
                    <ul>{referrals}</ul>
                </section>
            }
        })}
        <super::participant::ParticipantReadOnly contact />
    }
}
