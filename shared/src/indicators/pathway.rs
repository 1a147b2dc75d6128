//! The pathway figures of one contact: reached, the steps entered, closings by
//! reason, and where it stands on the period's last day.

use super::{Frame, Groups, Row};
use crate::contact::{Contact, Status};
use crate::date::Day;

/// The day a contact was reached: the first-contact day typed by the worker, or
/// the day the record was made when another client wrote none.
pub(super) fn reached_on(frame: &Frame, c: &Contact) -> Option<Day> {
    c.first_contact_on.or_else(|| frame.day_of(c.created_at))
}

pub(super) fn contact(frame: &Frame, c: &Contact, groups: &mut Groups) {
    let reached = reached_on(frame, c);
    if let Some(day) = reached.filter(|d| frame.contains(*d)) {
        let group = frame.contact_group(c, day);
        groups.add(group, Row::Reached, c.id, 1);
        groups.add(group, Row::ReachedAt(c.stage), c.id, 1);
    }

    // Oldest first; a list merged from two devices may hold them out of order.
    let mut history: Vec<(i64, Day, Status, Option<&str>)> = c
        .status_history
        .iter()
        .filter_map(|s| {
            let day = frame.day_of(s.at_ms)?;
            Some((s.at_ms, day, s.status, s.reason.as_deref()))
        })
        .collect();
    history.sort_by_key(|(at, _, _, _)| *at);

    // Entrants: each (group, status) once, however often the contact entered it.
    let mut entered: Vec<(&str, Status)> = Vec::new();
    let mut last_closing: Option<(&str, &str)> = None;
    // "New" is where every contact starts, counted as reached, not as entering a step.
    for (_, day, status, reason) in &history {
        if !frame.contains(*day) || *status == Status::New {
            continue;
        }
        let group = frame.contact_group(c, *day);
        if *status == Status::Closed {
            last_closing = Some((group, reason.unwrap_or_default()));
        }
        if !entered.iter().any(|(g, s)| g == &group && s == status) {
            entered.push((group, *status));
        }
    }
    for (group, status) in entered {
        groups.add(group, Row::Entered(status), c.id, 1);
    }
    if let Some((group, reason)) = last_closing {
        groups.add(group, Row::ClosedFor(reason.to_string()), c.id, 1);
    }

    // Standing: the last status set on or before the period's last day, for a
    // contact reached by then.
    let last = frame.last_day();
    if reached.is_some_and(|d| d <= last) || history.iter().any(|(_, d, _, _)| *d <= last) {
        let status = history
            .iter()
            .rev()
            .find(|(_, day, _, _)| *day <= last)
            .map_or(Status::New, |(_, _, s, _)| *s);
        groups.add(frame.contact_group(c, last), Row::Standing(status), c.id, 1);
    }
}
