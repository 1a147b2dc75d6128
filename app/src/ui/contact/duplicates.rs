//! Likely duplicates (issue 15): while a new contact's name and phone are typed, the
//! contacts already in the caseload it may be; while a contact's step to the next stage is
//! filled in, those the contact may be with the values typed; on the contact page,
//! "Possible duplicates" with the reasons, and for a coordinator or admin "Merge into
//! this contact": a confirmation says what happens (the other contact's notes and
//! referrals move here, then it is erased), then the core merges
//! (`Repo::merge_contacts`, on disk first) and the relay erases the other one
//! (`POST /erase`) once it holds the merged change (within 10 s; otherwise nothing is
//! erased and the page says so; merging again retries the erasure). A worker's device
//! offers no merge: the erasure that ends it is a coordinator's (see `Repo::may_merge`).
//! The step's list and "Possible duplicates" are one component, `DuplicateList`.

use leptos::prelude::*;
use leptos_i18n::I18nContext;
use leptos_router::components::A;
use paktum_shared::DocumentId;
use paktum_shared::contact::duplicates::{Candidate, Person, Reason};
use paktum_shared::contact::merge::ConsentMerge;
use paktum_shared::contact::{Contact, ContactField};

use crate::field::{Field, Problem, use_field};
use crate::i18n::*;
use crate::sync::EraseError;
use crate::ui::language::{problem_view, refusal_text};

/// At most this many suggestions are shown.
const SHOWN: usize = 5;

fn reason_text(i18n: I18nContext<Locale>, reason: Reason) -> String {
    match reason {
        Reason::SamePhone => t_string!(i18n, duplicate_same_phone),
        Reason::SameName => t_string!(i18n, duplicate_same_name),
        Reason::SimilarName => t_string!(i18n, duplicate_similar_name),
        Reason::PartOfName => t_string!(i18n, duplicate_part_of_name),
        Reason::SameBirthYear => t_string!(i18n, duplicate_same_birth_year),
        Reason::SameMunicipality => t_string!(i18n, duplicate_same_municipality),
    }
    .to_string()
}

fn reasons_text(i18n: I18nContext<Locale>, reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(|r| reason_text(i18n, *r))
        .collect::<Vec<_>>()
        .join(" · ")
}

/// The name a candidate is listed under (its index row).
fn name_of(field: Field, id: &DocumentId) -> String {
    field.read(|r| {
        r.entry(id)
            .map(|e| e.summary.name.clone())
            .unwrap_or_default()
    })
}

/// On the new-contact form: the contacts the typed name or phone may already be. The
/// phone counts only while the form asks it (`phone` is `None` otherwise: a phone typed
/// before switching to anonymous is not stored, so it suggests nothing either).
#[component]
pub fn NewContactDuplicates(
    name: RwSignal<String>,
    #[prop(into)] phone: Signal<Option<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let found = Memo::new(move |_| {
        let typed = name.get();
        let phone = phone.get().filter(|p| !p.trim().is_empty());
        if typed.trim().chars().count() < 3 && phone.is_none() {
            return Vec::new();
        }
        let probe = Person {
            display_name: typed,
            phone,
            ..Person::default()
        };
        field.read(|r| r.duplicates(&probe, SHOWN))
    });
    move || {
        let found = found.get();
        (!found.is_empty()).then(|| {
            view! {
                <section class="duplicates" aria-labelledby="duplicates-new" aria-live="polite">
                    <h2 id="duplicates-new">{t!(i18n, duplicates_new_title)}</h2>
                    <p class="hint">{t!(i18n, duplicates_new_hint)}</p>
                    <ul>
                        {found
                            .into_iter()
                            .map(|c| view! { <li><CandidateLink candidate=c /></li> })
                            .collect_view()}
                    </ul>
                </section>
            }
        })
    }
}

#[component]
fn CandidateLink(candidate: Candidate) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let id = candidate.id;
    let reasons = candidate.reasons;
    view! {
        <A href=format!("/contacts/{id}")>{move || name_of(field, &id)}</A>
        <span class="reasons">{move || reasons_text(i18n, &reasons)}</span>
    }
}

/// What a merge came to, worded when shown.
#[derive(Clone)]
enum Merged {
    /// Merged and erased.
    Done {
        name: String,
        narrowed: bool,
    },
    /// Merged, but the relay did not erase the other contact (yet).
    NotErased(EraseError),
    Failed(Problem),
}

/// On the contact page: possible duplicates of this contact, and merging one into it.
#[component]
pub fn DuplicatesSection(id: DocumentId, contact: Signal<Option<Contact>>) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let found = Memo::new(move |_| {
        contact.track();
        field.read(|r| r.duplicates_of(&id, SHOWN))
    });
    view! {
        <DuplicateList id contact found=found.into() at="duplicates">
            <h2 id="duplicates">{t!(i18n, duplicates_title)}</h2>
        </DuplicateList>
        <MergedFrom id />
    }
}

/// In the step to the next stage (`stage.rs`): the likely duplicates of this contact as
/// the step would leave it, with the values as they are typed (`Person::after_step`),
/// so the worker sees them before confirming; merging as in "Possible duplicates".
#[component]
pub fn StepDuplicates(
    id: DocumentId,
    contact: Signal<Option<Contact>>,
    typed: Signal<Vec<(ContactField, String)>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let found = Memo::new(move |_| {
        let probe = contact.with(|c| c.as_ref().map(|c| Person::after_step(c, &typed.get())));
        probe
            .map(|probe| field.read(|r| r.duplicates(&probe, SHOWN)))
            .unwrap_or_default()
    });
    view! {
        <DuplicateList id contact found=found.into() at="duplicates-step" live=true>
            <h3 id="duplicates-step">{t!(i18n, duplicates_new_title)}</h3>
            <p class="hint">{t!(i18n, duplicates_step_hint)}</p>
        </DuplicateList>
    }
}

/// The suggestions `found` for contact `id` under the heading in `children`, shown while
/// there are any: each with its reasons and link; for a coordinator or admin "Merge into
/// this contact" with its confirmation, for a worker a hint. `at` names the heading and
/// keeps the element ids of two lists on one page apart.
#[component]
fn DuplicateList(
    id: DocumentId,
    contact: Signal<Option<Contact>>,
    found: Signal<Vec<Candidate>>,
    at: &'static str,
    /// Read out as it changes (the list follows what is typed).
    #[prop(optional)]
    live: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let may_merge = move || field.read(|r| r.may_merge());
    // The candidate whose merge is being confirmed.
    let asking: RwSignal<Option<DocumentId>> = RwSignal::new(None);
    let merge = Action::new_local(move |from: &DocumentId| {
        let from = *from;
        let name = name_of(field, &from);
        let me = field.read(|r| Some(r.identity().clone()));
        async move {
            let merged = match field
                .edit(move |r, now| r.merge_contacts(id, from, now))
                .await
            {
                Ok(m) => m,
                Err(problem) => return Merged::Failed(problem),
            };
            let Some(me) = me else {
                return Merged::NotErased(EraseError::Unreachable);
            };
            // B is erased only once the relay holds A with B's notes: until then B's
            // copy on the relay is the only one other devices have.
            let mut waited = 0;
            while field.read(|r| r.is_pending(&id)) {
                if waited >= 100 {
                    return Merged::NotErased(EraseError::Unreachable);
                }
                gloo_timers::future::TimeoutFuture::new(100).await;
                waited += 1;
            }
            let doc = from.to_string();
            match crate::sync::erase(&me.relay_url, me.device_token.as_deref(), &doc).await {
                Ok(_) => {
                    asking.set(None);
                    Merged::Done {
                        name,
                        narrowed: merged.consent == ConsentMerge::TakenForTeamOnly,
                    }
                }
                Err(e) => Merged::NotErased(e),
            }
        }
    });
    let busy = merge.pending();
    let said = move || {
        merge.value().get().map(|m| match m {
            Merged::Done { name, narrowed } => view! {
                <p class="saved" role="status">{t!(i18n, duplicates_merged, name = name)}</p>
                {narrowed.then(|| view! { <p class="notice warn" role="status">{t!(i18n, duplicates_consent_narrowed)}</p> })}
            }
            .into_any(),
            Merged::NotErased(e) => {
                let why = match e {
                    EraseError::Unreachable => t_string!(i18n, erase_unreachable).to_string(),
                    EraseError::Refused(r) => match r.code {
                        Some(code) => refusal_text(i18n, code),
                        None => t_string!(i18n, erase_refused).to_string(),
                    },
                };
                view! { <p class="error" role="alert">{t!(i18n, duplicates_not_erased)} " " {why}</p> }.into_any()
            }
            Merged::Failed(problem) => {
                view! { <p class="error" role="alert">{problem_view(i18n, &problem)}</p> }.into_any()
            }
        })
    };
    let this_name = move || contact.get().map(|c| c.display_name).unwrap_or_default();
    let row = move |c: Candidate| {
        let other = c.id;
        let confirm_name = name_of(field, &other);
        let confirm_id = format!("{at}-merge-{other}");
        view! {
            <li>
                <CandidateLink candidate=c />
                <Show when=move || may_merge() && asking.get() != Some(other)>
                    <button type="button" class="small" on:click=move |_| asking.set(Some(other))>
                        {t!(i18n, duplicates_merge)}
                    </button>
                </Show>
                <Show when=move || asking.get() == Some(other)>
                    {
                        let other_name = confirm_name.clone();
                        let (group, text) = (confirm_id.clone(), confirm_id.clone());
                        view! {
                            <div class="confirm" role="group" aria-labelledby=group>
                                <p id=text>
                                    {move || t!(i18n, duplicates_confirm, other = other_name.clone(), this = this_name())}
                                </p>
                                <button type="button" class="danger" disabled=move || busy.get()
                                    on:click=move |_| { merge.dispatch_local(other); }>
                                    {t!(i18n, duplicates_confirm_button)}
                                </button>
                                " "
                                <button type="button" on:click=move |_| asking.set(None)>{t!(i18n, erase_cancel)}</button>
                            </div>
                        }
                    }
                </Show>
            </li>
        }
    };
    view! {
        {move || {
            let found = found.get();
            let children = children.clone();
            (!found.is_empty()).then(|| view! {
                <section class="duplicates" aria-labelledby=at aria-live=live.then_some("polite")>
                    {children()}
                    <ul>{found.into_iter().map(row).collect_view()}</ul>
                    <Show when=move || !may_merge()>
                        <p class="hint">{t!(i18n, duplicates_worker_hint)}</p>
                    </Show>
                </section>
            })
        }}
        {said}
    }
}

/// "Merged from …": the contacts merged into this one, from its merge entries.
#[component]
fn MergedFrom(id: DocumentId) -> impl IntoView {
    let i18n = use_i18n();
    let field = use_field();
    let entries = move || field.read(|r| r.merged_into(&id));
    move || {
        entries()
            .into_iter()
            .map(|m| {
                let day = crate::ui::language::when(i18n, m.at_ms);
                view! {
                    <p class="hint merged-from">
                        {t!(i18n, duplicates_merged_from, name = m.name.clone(), by = m.by.clone(), when = day.clone())}
                    </p>
                }
            })
            .collect_view()
    }
}
