//! Small pieces the screens share: labels for the model's values, today in the
//! worker's time zone, the "not yet synced" marker, the "changed by both" box, and
//! the form parts (labelled fields, save and cancel, a record's details form).

use leptos::prelude::*;
use paktum_shared::contact::{Channel, Outcome, Status};
use paktum_shared::employer::Commitment;
use paktum_shared::record::Concurrent;
use paktum_shared::{Day, DocumentId};

use leptos_router::hooks::use_params_map;

use super::language::{problem_view, when};
use crate::field::{Problem, Words, use_field};
use crate::i18n::*;
use leptos_i18n::I18nContext;
use paktum_shared::device::{Loadable, Repo};

pub fn status_label(i18n: I18nContext<Locale>, status: Status) -> String {
    match status {
        Status::New => t_string!(i18n, status_new),
        Status::Engaged => t_string!(i18n, status_engaged),
        Status::InGuidance => t_string!(i18n, status_in_guidance),
        Status::InTraining => t_string!(i18n, status_in_training),
        Status::InWork => t_string!(i18n, status_in_work),
        Status::Closed => t_string!(i18n, status_closed),
    }
    .to_string()
}

/// A status as stored in an index row (a string), worded; unknown values as they are.
pub fn status_text(i18n: I18nContext<Locale>, raw: &str) -> String {
    if let Ok(status) = raw.parse::<Status>() {
        return status_label(i18n, status);
    }
    if let Ok(level) = raw.parse::<Commitment>() {
        return commitment_label(i18n, level);
    }
    raw.to_string()
}

pub fn channel_label(i18n: I18nContext<Locale>, channel: Channel) -> String {
    match channel {
        Channel::Street => t_string!(i18n, channel_street),
        Channel::YouthCentre => t_string!(i18n, channel_youth_centre),
        Channel::School => t_string!(i18n, channel_school),
        Channel::PartnerReferral => t_string!(i18n, channel_partner_referral),
        Channel::Event => t_string!(i18n, channel_event),
        Channel::Online => t_string!(i18n, channel_online),
        Channel::Other => t_string!(i18n, channel_other),
    }
    .to_string()
}

pub fn commitment_label(i18n: I18nContext<Locale>, level: Commitment) -> String {
    match level {
        Commitment::None => t_string!(i18n, commitment_none),
        Commitment::Interested => t_string!(i18n, commitment_interested),
        Commitment::AsEmployer => t_string!(i18n, commitment_employer),
        Commitment::AsClient => t_string!(i18n, commitment_client),
    }
    .to_string()
}

pub fn outcome_label(i18n: I18nContext<Locale>, outcome: Outcome) -> String {
    match outcome {
        Outcome::Pending => t_string!(i18n, outcome_pending),
        Outcome::Interview => t_string!(i18n, outcome_interview),
        Outcome::Hired => t_string!(i18n, outcome_hired),
        Outcome::Rejected => t_string!(i18n, outcome_rejected),
        Outcome::Withdrawn => t_string!(i18n, outcome_withdrawn),
    }
    .to_string()
}

/// Today in the device's time zone (a follow-up is due on the worker's calendar day).
/// An id unique on the page, for `aria-labelledby`.
pub fn unique_id(prefix: &str) -> String {
    thread_local!(static NEXT: std::cell::Cell<u64> = const { std::cell::Cell::new(0) });
    let n = NEXT.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    format!("{prefix}-{n}")
}

/// A select's label, named by `aria-labelledby` on the select: a label that wraps a
/// select would otherwise put the chosen option into its name ("Assigned worker
/// Anna"), and a screen reader says the option twice.
#[component]
pub fn SelectLabel(
    /// The id the select names in its `aria-labelledby`.
    id: String,
    /// Shown to screen readers only.
    #[prop(optional)]
    hidden: bool,
    children: Children,
) -> impl IntoView {
    view! { <span id=id class:visually-hidden=hidden>{children()}</span> }
}

pub fn today() -> Option<Day> {
    let now = js_sys::Date::new_0();
    Day::new(
        now.get_full_year() as i32,
        now.get_month() + 1,
        now.get_date(),
    )
    .ok()
}

/// A stored value shown as it is.
pub fn as_is(_: I18nContext<Locale>, value: &str) -> String {
    value.to_string()
}

pub fn parse_id(raw: &str) -> Option<DocumentId> {
    raw.parse().ok()
}

/// The team of record `id` while this device may only read it (another team's record
/// on a coordinator's device), else `None`: the page then offers nothing to change.
pub fn read_only_team(id: DocumentId) -> Memo<Option<String>> {
    let field = use_field();
    Memo::new(move |_| field.read(|r| r.read_only_team(&id)))
}

/// Says that the record belongs to another team and is only read here.
#[component]
pub fn ReadOnlyNotice(team: String) -> impl IntoView {
    let i18n = use_i18n();
    view! { <p class="notice" role="status" id="read-only">{t!(i18n, record_read_only, team = team.clone())}</p> }
}

/// Marks a record with changes the relay has not confirmed yet.
#[component]
pub fn PendingMark(pending: bool) -> impl IntoView {
    let i18n = use_i18n();
    pending.then(|| {
        view! {
            <span class="pending" title=move || t_string!(i18n, pending_title).to_string()>
                {t!(i18n, pending_mark)}
            </span>
        }
    })
}

/// A field two people changed while offline: both values, who set them, keep one.
#[component]
pub fn ChangedByBoth(
    label: String,
    values: Vec<Concurrent>,
    /// The box's element id, for the mark in Details to link to.
    #[prop(optional)]
    anchor: Option<String>,
    #[prop(into)] keep: Callback<String>,
    /// How a stored value reads (a status is worded; names and numbers are as they are).
    #[prop(default = as_is)]
    word: fn(I18nContext<Locale>, &str) -> String,
) -> impl IntoView {
    let i18n = use_i18n();
    let heading = label.clone();
    view! {
        <section class="conflict" role="group" id=anchor aria-label=move || t_string!(i18n, conflict_box_label).to_string()>
            // h2: the box sits between the record's h1 and its sections.
            <h2>{t!(i18n, conflict_heading, field = heading.clone())}</h2>
            <p class="hint">{t!(i18n, conflict_hint)}</p>
            <ul>
                {values
                    .into_iter()
                    .map(|c| {
                        let value = c.value.clone();
                        let shown = if c.value.is_empty() { "—".to_string() } else { word(i18n, &c.value) };
                        let by = c.set_by.clone();
                        let at = c.at_ms;
                        view! {
                            <li>
                                <strong class="value">{shown.clone()}</strong>
                                <span class="meta">{move || t!(i18n, conflict_set_by, who = by.clone(), at = when(i18n, at))}</span>
                                <button type="button" on:click=move |_| keep.run(value.clone())>
                                    {t!(i18n, conflict_keep_label, value = shown.clone())}
                                </button>
                            </li>
                        }
                    })
                    .collect_view()}
            </ul>
        </section>
    }
}

/// What a save says afterwards: words to confirm it (none when the page moves on), or
/// why it failed; both worded when shown.
pub type Said = Result<Option<Words>, Problem>;

/// A record page's save: each dispatched op is one edit of the record through
/// `Field::edit` (device core, disk, relay); its value is "Saved" or the problem.
pub fn record_save<Op: Clone + 'static>(
    edit: impl Fn(
        &mut Repo,
        i64,
        Op,
    ) -> Result<((), paktum_shared::device::Step), paktum_shared::ModelError>
    + Copy
    + 'static,
) -> Action<Op, Said> {
    let field = use_field();
    Action::new_local(move |op: &Op| {
        let op = op.clone();
        async move {
            field
                .edit(move |r, now| edit(r, now, op))
                .await
                .map(|()| Some((|i| t_string!(i, saved).to_string()) as Words))
        }
    })
}

/// The one-line message of a save run through a Leptos action (`Action::new_local`):
/// its last result as a sentence.
#[component]
pub fn Outcome<I: 'static>(action: Action<I, Said>) -> impl IntoView {
    let value = action.value();
    let version = action.version();
    // A confirmation fades after a few seconds; an error stays until the next try.
    Effect::new(move |_| {
        let shown = version.get();
        if let Some(Ok(_)) = value.get() {
            gloo_timers::callback::Timeout::new(4_000, move || {
                // The page may be gone by now (then the version is disposed), or a newer
                // save may be showing: then there is nothing to clear.
                if version.try_get_untracked() == Some(shown) {
                    action.clear();
                }
            })
            .forget();
        }
    });
    let i18n = use_i18n();
    move || {
        value.get().and_then(|m| match m {
            Ok(None) => None,
            Ok(Some(words)) => {
                Some(view! { <p class="saved" role="status">{move || words(i18n)}</p> }.into_any())
            }
            Err(problem) => Some(
                view! { <p class="error" role="alert">{move || problem_view(i18n, &problem)}</p> }
                    .into_any(),
            ),
        })
    }
}

/// A form's submit button that says "Saving…" and cannot be pressed again while its
/// save runs (`busy`: the action's `pending()`); the children are its words otherwise.
#[component]
pub fn SaveButton(
    #[prop(into)] busy: Signal<bool>,
    #[prop(default = "primary")] class: &'static str,
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <button type="submit" class=class disabled=move || busy.get() aria-busy=move || busy.get().to_string()>
            <span hidden=move || busy.get()>{children()}</span>
            <span hidden=move || !busy.get()>{t!(i18n, saving)}</span>
        </button>
    }
}

/// A labelled input bound to `value`. The label wraps the control, so it names it (for
/// screen readers, and for the end-to-end test's `getByLabel`); the children are its words.
#[component]
pub fn Field(
    value: RwSignal<String>,
    /// The input's `type`.
    #[prop(default = "text")]
    kind: &'static str,
    #[prop(optional)] required: bool,
    #[prop(optional)] autofocus: bool,
    children: Children,
) -> impl IntoView {
    view! {
        <label>
            {children()}
            // autocomplete="off": Chromium then keeps the value neither in its session
            // store (form state for going back) nor in autofill, where no erasure
            // reaches it (issue 15).
            <input type=kind required=required autofocus=autofocus autocomplete="off" prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

/// A field of a one-line form: the label is for screen readers, the placeholder says
/// the same on screen.
#[component]
pub fn InlineField(#[prop(into)] label: Signal<String>, value: RwSignal<String>) -> impl IntoView {
    view! {
        <label>
            <span class="visually-hidden">{label}</span>
            <input type="text" placeholder=label autocomplete="off" prop:value=value
                on:input=move |ev| value.set(event_target_value(&ev)) />
        </label>
    }
}

/// A form's buttons: submit (the children are its words; "Saving…" while `busy`) and
/// cancel, which closes the form by setting `open` to false.
#[component]
pub fn SaveOrCancel(
    open: RwSignal<bool>,
    #[prop(into, default = Signal::stored(false))] busy: Signal<bool>,
    children: Children,
) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <div class="actions">
            <SaveButton busy>{children()}</SaveButton>
            <button type="button" on:click=move |_| open.set(false)>{t!(i18n, cancel)}</button>
        </div>
    }
}

/// A record's details, shared by the contact and employer pages: a list to read, and on
/// "Edit details" a form of the same fields. The form copies the values when it opens,
/// so a sync never overwrites typing; `save` gets only the fields whose value changed.
#[component]
pub fn Details<R, F>(
    /// The id of the section's heading.
    heading: &'static str,
    record: Signal<Option<R>>,
    fields: &'static [F],
    label_of: fn(I18nContext<Locale>, F) -> String,
    value_of: fn(&R, F) -> String,
    /// The input type of a field ("text", "tel", …).
    kind_of: fn(F) -> &'static str,
    #[prop(into)] save: Callback<Vec<(F, String)>>,
    /// Whether a save of this record is running.
    #[prop(into)]
    busy: Signal<bool>,
    /// Rows the list shows after the fields (not edited here).
    #[prop(optional, into)]
    more: ViewFn,
    /// The element id of the field's "changed by both" box while it has one.
    #[prop(default = |_, _| None)]
    conflict_of: fn(&R, F) -> Option<String>,
    /// Whether the record shows a field (a contact: what its stage holds).
    #[prop(default = |_, _| true)]
    shown: fn(&R, F) -> bool,
    /// A value as the list shows it, where that is not the value edited (a date in
    /// the worker's language).
    #[prop(default = |_, _, _| None)]
    text_of: fn(I18nContext<Locale>, &R, F) -> Option<String>,
) -> impl IntoView
where
    R: Clone + Send + Sync + 'static,
    F: Copy + Send + Sync + 'static,
{
    let i18n = use_i18n();
    let editing = RwSignal::new(false);
    let values: Vec<(F, RwSignal<String>)> = fields
        .iter()
        .map(|f| (*f, RwSignal::new(String::new())))
        .collect();
    let open_values = values.clone();
    let open = move |_| {
        if let Some(r) = record.get_untracked() {
            for (f, sig) in &open_values {
                sig.set(value_of(&r, *f));
            }
        }
        editing.set(true);
    };
    let save_values = values.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Some(r) = record.get_untracked() else {
            return;
        };
        let changed: Vec<(F, String)> = save_values
            .iter()
            .filter(|(f, _)| shown(&r, *f))
            .map(|(f, sig)| (*f, sig.get_untracked()))
            .filter(|(f, v)| v.trim() != value_of(&r, *f))
            .collect();
        editing.set(false);
        if !changed.is_empty() {
            save.run(changed);
        }
    };
    view! {
        <section aria-labelledby=heading>
            <h2 id=heading>{t!(i18n, details_title)}</h2>
            <Show
                when=move || editing.get()
                fallback=move || view! {
                    <dl class="details">
                        {move || record.get().map(|r| {
                            fields
                                .iter()
                                .filter(|f| shown(&r, **f))
                                .map(|f| {
                                    let v = text_of(i18n, &r, *f).unwrap_or_else(|| value_of(&r, *f));
                                    let mark = conflict_of(&r, *f).map(|anchor| view! {
                                        " "
                                        <a class="conflict-mark" href=format!("#{anchor}")>{t!(i18n, conflict_mark)}</a>
                                    });
                                    view! {
                                        <dt>{label_of(i18n, *f)}</dt>
                                        <dd>{if v.is_empty() { "—".to_string() } else { v }} {mark}</dd>
                                    }
                                })
                                .collect_view()
                        })}
                        {more.run()}
                    </dl>
                    <button type="button" on:click=open.clone()>{t!(i18n, details_edit)}</button>
                }
            >
                <form on:submit=submit.clone()>
                    {values
                        .iter()
                        .filter(|(f, _)| record.get_untracked().is_none_or(|r| shown(&r, *f)))
                        .map(|&(f, sig)| if kind_of(f) == super::members::MEMBER_INPUT {
                            view! { <super::members::MemberSelect value=sig>{move || label_of(i18n, f)}</super::members::MemberSelect> }.into_any()
                        } else {
                            view! { <Field value=sig kind=kind_of(f)>{move || label_of(i18n, f)}</Field> }.into_any()
                        })
                        .collect_view()}
                    <SaveOrCancel open=editing busy>{t!(i18n, details_save)}</SaveOrCancel>
                </form>
            </Show>
        </section>
    }
}

/// What a record page shows, at the coarsest level.
#[derive(Clone, Debug, PartialEq)]
pub enum Shown {
    Ready(DocumentId),
    NotHere,
    Damaged(String),
}

/// A record read for a page, with whether it has changes not yet on the relay.
pub type RecordMemo<T> = Memo<Option<(Loadable<T>, bool)>>;

/// A record page's plumbing, shared by the contact and employer pages: the id in the
/// URL, the record it names with whether it has unsynced changes (re-read on every
/// change), and what the page shows. Only a change of kind (readable, missing,
/// damaged) rebuilds the page, so a sync arriving while the worker types does not
/// throw the typing away.
pub fn record_page<T>(read: fn(&Repo, &DocumentId) -> Loadable<T>) -> (RecordMemo<T>, Memo<Shown>)
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let field = use_field();
    let params = use_params_map();
    let id = Memo::new(move |_| params.with(|p| p.get("id").and_then(|s| parse_id(&s))));
    let record = Memo::new(move |_| {
        id.get()
            .and_then(|id| field.read(|r| Some((read(r, &id), r.is_pending(&id)))))
    });
    let shown = Memo::new(move |_| {
        let Some(id) = id.get() else {
            return Shown::NotHere;
        };
        record.with(|r| match r {
            Some((Loadable::Ready(_), _)) => Shown::Ready(id),
            Some((Loadable::Damaged(reason), _)) => Shown::Damaged(reason.clone()),
            _ => Shown::NotHere,
        })
    });
    (record, shown)
}

/// The readable record in a memo of its own, and whether it has changes not yet on
/// the relay: the relay confirming a change flips only the latter, and must not
/// redraw the whole record (that landed in the middle of the next save).
pub fn ready_record<T>(record: RecordMemo<T>) -> (Memo<Option<T>>, impl Fn() -> bool + Copy)
where
    T: Clone + PartialEq + Send + Sync + 'static,
{
    let read = Memo::new(move |_| {
        record.with(|r| match r {
            Some((Loadable::Ready(v), _)) => Some(v.clone()),
            _ => None,
        })
    });
    let pending = move || record.with(|r| r.as_ref().is_some_and(|(_, p)| *p));
    (read, pending)
}

/// Renders a record page: the record via `ready`, or why it cannot be shown.
pub fn shown_view(
    shown: Memo<Shown>,
    ready: impl Fn(DocumentId) -> AnyView + Send + Sync + 'static,
) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        match shown.get() {
        Shown::Ready(id) => ready(id),
        Shown::Damaged(reason) => {
            view! { <p class="error" role="alert">{t!(i18n, record_damaged, reason = reason.clone())}</p> }.into_any()
        }
        Shown::NotHere => view! { <p>{t!(i18n, record_not_here)}</p> }.into_any(),
    }
    }
}

/// One `<option>` per pathway status, worded in the current language.
#[component]
pub fn StatusOptions() -> impl IntoView {
    let i18n = use_i18n();
    Status::ALL
        .into_iter()
        .map(|s| view! { <option value=s.as_str()>{move || status_label(i18n, s)}</option> })
        .collect_view()
}

/// Something just removed that one tap puts back: what to say, and how to restore it.
/// The restore is a plain closure, not a `Callback`: the removed item's component (its
/// owner) is gone by the time Undo is pressed.
#[derive(Clone)]
pub struct Undo {
    pub said: Words,
    pub restore: std::sync::Arc<dyn Fn() + Send + Sync>,
    serial: u64,
}

impl Undo {
    pub fn new(said: Words, restore: impl Fn() + Send + Sync + 'static) -> Self {
        thread_local!(static SERIAL: std::cell::Cell<u64> = const { std::cell::Cell::new(0) });
        let serial = SERIAL.with(|s| {
            s.set(s.get() + 1);
            s.get()
        });
        Undo {
            said,
            restore: std::sync::Arc::new(restore),
            serial,
        }
    }
}

/// How long "Undo" stays after a removal.
const UNDO_MS: u32 = 8_000;

/// "Note removed. Undo" near the thumb for a few seconds after a removal. Undo is a
/// change of its own (the item's flag set back), so it syncs and shows in the history.
#[component]
pub fn UndoBar(undo: RwSignal<Option<Undo>>) -> impl IntoView {
    let i18n = use_i18n();
    Effect::new(move |_| {
        if let Some(shown) = undo.get().map(|u| u.serial) {
            gloo_timers::callback::Timeout::new(UNDO_MS, move || {
                if undo.try_get_untracked().flatten().map(|u| u.serial) == Some(shown) {
                    undo.set(None);
                }
            })
            .forget();
        }
    });
    move || {
        undo.get().map(|u| {
            view! {
                <div class="undo" role="status">
                    <span>{move || (u.said)(i18n)}</span>
                    <button type="button" class="small" on:click=move |_| {
                        undo.set(None);
                        (u.restore)();
                    }>{t!(i18n, undo)}</button>
                </div>
            }
        })
    }
}
