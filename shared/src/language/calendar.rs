//! Dates, times and numbers as each language writes them: hu `2026. 12. 02.`,
//! nl (Flanders) `2/12/2026`, fr (Belgium) `2 déc. 2026`, de `02.12.2026`,
//! en `2 Dec 2026`; times are 24-hour everywhere.

use super::Lang;
use crate::Day;

const EN_MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
// The abbreviations of the Belgian French usage (CLDR fr): "juin" and "mai" stay whole.
const FR_MONTHS: [&str; 12] = [
    "janv.", "févr.", "mars", "avr.", "mai", "juin", "juil.", "août", "sept.", "oct.", "nov.",
    "déc.",
];

/// A calendar day. `month` is 1–12; an impossible month is written as a number.
pub fn day(lang: Lang, year: i32, month: u32, date: u32) -> String {
    let index = month.checked_sub(1).map(|m| m as usize).filter(|m| *m < 12);
    match lang {
        Lang::Hu => format!("{year}. {month:02}. {date:02}."),
        Lang::Nl => format!("{date}/{month:02}/{year}"),
        Lang::De => format!("{date:02}.{month:02}.{year}"),
        Lang::Fr => match index {
            Some(m) => format!("{date}\u{a0}{}\u{a0}{year}", FR_MONTHS[m]),
            None => format!("{date:02}/{month:02}/{year}"),
        },
        Lang::En => match index {
            Some(m) => format!("{date}\u{a0}{}\u{a0}{year}", EN_MONTHS[m]),
            None => format!("{date:02}/{month:02}/{year}"),
        },
    }
}

/// A stored day as `lang` writes it.
pub fn written(lang: Lang, d: Day) -> String {
    day(lang, d.year(), d.month(), d.day_of_month())
}

/// When something is due, seen from today: the screens word it ("3 days overdue",
/// "Due today", "in 2 days") with the plural form of [`super::plural`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Due {
    Overdue(u64),
    Today,
    In(u64),
}

pub fn due(today: Day, on: Day) -> Due {
    match today.days_until(&on) {
        0 => Due::Today,
        n if n < 0 => Due::Overdue(n.unsigned_abs()),
        n => Due::In(n.unsigned_abs()),
    }
}

/// A day and a 24-hour time.
pub fn day_and_time(
    lang: Lang,
    (year, month, date): (i32, u32, u32),
    (hour, minute): (u32, u32),
) -> String {
    let day = day(lang, year, month, date);
    let time = format!("{hour:02}:{minute:02}");
    match lang {
        Lang::Hu | Lang::Nl => format!("{day} {time}"),
        Lang::Fr => format!("{day} à {time}"),
        Lang::En | Lang::De => format!("{day}, {time}"),
    }
}

/// A whole number with the language's digit grouping: en `5,000`, de/nl `5.000`,
/// fr `5 000` (narrow no-break space), hu `5 000` (no-break space).
pub fn grouped(lang: Lang, n: u64) -> String {
    let separator = match lang {
        Lang::En => ",",
        Lang::De | Lang::Nl => ".",
        Lang::Fr => "\u{202f}",
        Lang::Hu => "\u{a0}",
    };
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push_str(separator);
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_language_writes_the_second_of_december_its_own_way() {
        let written: Vec<String> = Lang::ALL.iter().map(|l| day(*l, 2026, 12, 2)).collect();
        assert_eq!(
            written,
            [
                "2\u{a0}Dec\u{a0}2026",
                "2026. 12. 02.",
                "2/12/2026",
                "2\u{a0}déc.\u{a0}2026",
                "02.12.2026"
            ]
        );
    }

    #[test]
    fn an_impossible_month_is_written_as_digits_not_a_panic() {
        assert_eq!(day(Lang::En, 2026, 13, 1), "01/13/2026");
        assert_eq!(day(Lang::Fr, 2026, 0, 1), "01/00/2026");
    }

    #[test]
    fn times_are_24_hour_in_every_language() {
        let at = |l| day_and_time(l, (2026, 5, 9), (14, 5));
        assert_eq!(at(Lang::En), "9\u{a0}May\u{a0}2026, 14:05");
        assert_eq!(at(Lang::Hu), "2026. 05. 09. 14:05");
        assert_eq!(at(Lang::Nl), "9/05/2026 14:05");
        assert_eq!(at(Lang::Fr), "9\u{a0}mai\u{a0}2026 à 14:05");
        assert_eq!(at(Lang::De), "09.05.2026, 14:05");
    }

    #[test]
    fn due_counts_calendar_days_across_month_and_year_ends() -> Result<(), crate::ModelError> {
        let today = Day::new(2026, 12, 30)?;
        assert_eq!(due(today, Day::new(2026, 12, 30)?), Due::Today);
        assert_eq!(due(today, Day::new(2027, 1, 1)?), Due::In(2));
        assert_eq!(due(today, Day::new(2026, 11, 30)?), Due::Overdue(30));
        assert_eq!(written(Lang::Hu, Day::new(2027, 1, 1)?), "2027. 01. 01.");
        Ok(())
    }

    #[test]
    fn thousands_are_grouped_per_language() {
        assert_eq!(grouped(Lang::En, 5000), "5,000");
        assert_eq!(grouped(Lang::De, 1_234_567), "1.234.567");
        assert_eq!(grouped(Lang::Fr, 10_000), "10\u{202f}000");
        assert_eq!(grouped(Lang::Hu, 10_000), "10\u{a0}000");
        assert_eq!(grouped(Lang::Nl, 999), "999");
        assert_eq!(grouped(Lang::En, 0), "0");
    }
}
