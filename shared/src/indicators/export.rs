//! CSV of the indicator table and of a table of records. The words come from the
//! app (a closure over its catalogue), so `shared` holds none: every cell that is
//! not a record id is asked for as a [`Label`].
//!
//! The file: a UTF-8 byte-order mark (spreadsheets then read accents right), header
//! lines `name;value` stating the title, period and filters, an empty line, then the
//! table with its column names. Lines end in CRLF (RFC 4180). A cell holding the
//! separator, a quote or a line break is quoted; a text cell starting with `=`, `+`,
//! `-`, `@` or a tab gets a leading `'`, so a spreadsheet never runs it as a formula.

use super::{Basis, GroupBy, Report, Row};
use crate::date::Day;

/// What the app words for the export.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Label<'a> {
    /// The file's title ("Indicators").
    Title,
    /// "Period".
    Period,
    /// "Grouped by", and the grouping's name.
    GroupedBy,
    GroupBy(GroupBy),
    /// A group's name; "" is the whole pact or "no municipality".
    Group(GroupBy, &'a str),
    Row(&'a Row),
    Basis(Basis),
    /// The share of committed employers, and the pact's goal.
    InclusiveShare,
    InclusiveGoal,
    /// Column names.
    ColumnGroup,
    ColumnIndicator,
    ColumnBasis,
    ColumnValue,
    ColumnRecords,
    /// A day, a whole number, a share in tenths of a percent, in the user's language.
    Day(Day),
    Count(u64),
    PerMille(u64),
}

/// Where an export's lines of cells go: CSV text here, a spreadsheet in the app.
pub trait Lines {
    fn line(&mut self, cells: &[&str]);
}

impl Lines for Csv {
    fn line(&mut self, cells: &[&str]) {
        Csv::line(self, cells);
    }
}

/// Lines of cells, written as CSV with the given separator (`,` or, where the
/// decimal sign is a comma, `;`).
#[derive(Clone, Debug)]
pub struct Csv {
    out: String,
    separator: char,
}

impl Csv {
    pub fn new(separator: char) -> Self {
        Self {
            out: String::from('\u{feff}'),
            separator,
        }
    }

    /// One line of text cells.
    pub fn line<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        for (i, cell) in cells.into_iter().enumerate() {
            if i > 0 {
                self.out.push(self.separator);
            }
            self.cell(cell.as_ref());
        }
        self.out.push_str("\r\n");
    }

    fn cell(&mut self, cell: &str) {
        let guarded = cell.starts_with(['=', '+', '-', '@', '\t', '\r']);
        let quoted = cell.contains([self.separator, '"', '\n', '\r']) || guarded;
        if quoted {
            self.out.push('"');
        }
        if guarded {
            self.out.push('\'');
        }
        for ch in cell.chars() {
            if ch == '"' {
                self.out.push('"');
            }
            self.out.push(ch);
        }
        if quoted {
            self.out.push('"');
        }
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// The indicator table of a report: header (title, period as first and last day,
/// grouping, the app's filters as `(name, value)`), then one line per group and row
/// with its basis, its value and the ids of the records behind it (space-separated).
pub fn indicators_csv(
    report: &Report,
    filters: &[(String, String)],
    separator: char,
    word: &dyn Fn(Label<'_>) -> String,
) -> String {
    let mut csv = Csv::new(separator);
    indicators_lines(&mut csv, report, filters, word);
    csv.finish()
}

/// [`indicators_csv`]'s lines, into any [`Lines`].
pub fn indicators_lines(
    out: &mut dyn Lines,
    report: &Report,
    filters: &[(String, String)],
    word: &dyn Fn(Label<'_>) -> String,
) {
    let mut csv = Cells(out);
    let by = report.query.group_by;
    csv.line([word(Label::Title)]);
    let last = report.end.plus_days(-1).unwrap_or(report.start);
    csv.line([
        word(Label::Period),
        word(Label::Day(report.start)),
        word(Label::Day(last)),
    ]);
    csv.line([word(Label::GroupedBy), word(Label::GroupBy(by))]);
    for (name, value) in filters {
        csv.line([name, value]);
    }
    csv.line([""; 0]);
    csv.line([
        word(Label::ColumnGroup),
        word(Label::ColumnIndicator),
        word(Label::ColumnBasis),
        word(Label::ColumnValue),
        word(Label::ColumnRecords),
    ]);
    let ids = |f: &super::Figure| {
        f.records
            .iter()
            .map(|id| id.to_string())
            .collect::<Vec<_>>()
            .join(" ")
    };
    for (group, figures) in &report.groups {
        let group_name = word(Label::Group(by, group));
        for (row, figure) in figures.rows() {
            csv.line([
                group_name.clone(),
                word(Label::Row(row)),
                word(Label::Basis(row.basis())),
                word(Label::Count(figure.count)),
                ids(figure),
            ]);
        }
        if let Some((per_mille, _)) = report.inclusive_share(group) {
            let committed = figures.get(&Row::InclusiveEmployers);
            csv.line([
                group_name.clone(),
                word(Label::InclusiveShare),
                word(Label::Basis(Basis::Standing)),
                word(Label::PerMille(per_mille)),
                ids(&committed),
            ]);
            csv.line([
                group_name.clone(),
                word(Label::InclusiveGoal),
                String::new(),
                word(Label::PerMille(
                    u64::from(report.query.inclusive_goal_percent) * 10,
                )),
                String::new(),
            ]);
        }
    }
}

/// Lines of owned or borrowed cells into a [`Lines`].
struct Cells<'a>(&'a mut dyn Lines);

impl Cells<'_> {
    fn line<S: AsRef<str>>(&mut self, cells: impl IntoIterator<Item = S>) {
        let cells: Vec<S> = cells.into_iter().collect();
        let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
        self.0.line(&cells);
    }
}

/// A table of records as the screen shows it: the header lines `(name, value)` (title,
/// period, filters; already worded), the column names, then the rows' cells.
pub fn table_csv(
    header: &[(String, String)],
    columns: &[String],
    rows: &[Vec<String>],
    separator: char,
) -> String {
    let mut csv = Csv::new(separator);
    table_lines(&mut csv, header, columns, rows);
    csv.finish()
}

/// [`table_csv`]'s lines, into any [`Lines`].
pub fn table_lines(
    out: &mut dyn Lines,
    header: &[(String, String)],
    columns: &[String],
    rows: &[Vec<String>],
) {
    let mut csv = Cells(out);
    for (name, value) in header {
        csv.line([name, value]);
    }
    csv.line([""; 0]);
    csv.line(columns);
    for row in rows {
        csv.line(row);
    }
}
