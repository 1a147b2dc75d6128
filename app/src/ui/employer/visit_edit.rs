//! Mending a visit: its date, openings and follow-up date. The form copies the visit
//! when it opens (a sync never overwrites typing); a change of the follow-up date
//! alone is saved as that ("Follow-up date changed" in the history).

use std::rc::Rc;

use leptos::prelude::*;
use paktum_shared::employer::{EmployerDoc, Opening, Visit, VisitEdit};
use paktum_shared::{Day, Editor, ModelError};

use super::{EmployerOp, OpeningRow, OpeningsFieldset};
use crate::i18n::*;
use crate::ui::parts::{Field, Said, SaveOrCancel};

#[component]
pub(super) fn VisitEditForm(
    visit: Visit,
    save: Action<EmployerOp, Said>,
    open: RwSignal<bool>,
) -> impl IntoView {
    let i18n = use_i18n();
    let date = RwSignal::new(visit.date.map(|d| d.to_string()).unwrap_or_default());
    let follow = RwSignal::new(visit.follow_up.map(|d| d.to_string()).unwrap_or_default());
    let rows = RwSignal::new(
        visit
            .openings
            .iter()
            .map(|o| OpeningRow {
                title: RwSignal::new(o.title.clone()),
                count: RwSignal::new(o.count.to_string()),
                requirements: RwSignal::new(o.requirements.clone().unwrap_or_default()),
            })
            .collect::<Vec<_>>(),
    );
    let id = visit.id.clone();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(date) = date.get().parse::<Day>() else {
            return;
        };
        let follow_up = follow.get().parse::<Day>().ok();
        let openings: Vec<(String, String, String)> = rows
            .get()
            .iter()
            .map(|r| (r.title.get(), r.count.get(), r.requirements.get()))
            .filter(|(t, _, _)| !t.trim().is_empty())
            .collect();
        let before = visit.clone();
        let id = id.clone();
        save.dispatch_local(Rc::new(move |e: &mut EmployerDoc, ed: &Editor| {
            let mut list = Vec::new();
            for (title, count, requirements) in &openings {
                let count = count
                    .trim()
                    .parse::<u32>()
                    .map_err(|_| ModelError::OutOfRange {
                        field: "number of openings",
                        min: 1,
                        max: 1000,
                    })?;
                list.push(Opening {
                    title: title.trim().to_string(),
                    count,
                    requirements: Some(requirements.trim().to_string()).filter(|r| !r.is_empty()),
                });
            }
            if before.date == Some(date) && before.openings == list {
                if before.follow_up != follow_up {
                    e.set_visit_follow_up(ed, &id, follow_up)?;
                }
                return Ok(());
            }
            e.update_visit(
                ed,
                &id,
                VisitEdit {
                    date,
                    openings: list.clone(),
                    follow_up,
                },
            )
        }));
        open.set(false);
    };
    view! {
        <form class="visit-form" on:submit=submit>
            <Field value=date kind="date" required=true>{t!(i18n, visit_date)}</Field>
            <OpeningsFieldset rows keep_one=false />
            <Field value=follow kind="date">{t!(i18n, note_follow_up)}</Field>
            <SaveOrCancel open busy=save.pending()>{t!(i18n, note_save_changes)}</SaveOrCancel>
        </form>
    }
}
