//! The coordinator's exports as a spreadsheet (XLSX, written by `rust_xlsxwriter`): the
//! very lines of the CSV (`indicators::Lines`), one worksheet, whole numbers written as
//! numbers so a funder's spreadsheet can add them up. Text cells are never read as
//! formulas, so the CSV's guard against formula injection is not needed here.

use paktum_shared::indicators::Lines;
use rust_xlsxwriter::Workbook;

/// The spreadsheet's media type, for the download.
pub const MIME: &str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet";

/// A workbook being written line by line; [`Xlsx::finish`] gives its bytes.
pub struct Xlsx {
    book: Workbook,
    row: u32,
    failed: bool,
}

impl Default for Xlsx {
    fn default() -> Self {
        let mut book = Workbook::new();
        book.add_worksheet();
        Self {
            book,
            row: 0,
            failed: false,
        }
    }
}

impl Xlsx {
    /// The file's bytes; `None` if a cell or the file could not be written.
    pub fn finish(mut self) -> Option<Vec<u8>> {
        if self.failed {
            return None;
        }
        self.book.save_to_buffer().ok()
    }
}

impl Lines for Xlsx {
    fn line(&mut self, cells: &[&str]) {
        let row = self.row;
        self.row += 1;
        let Ok(sheet) = self.book.worksheet_from_index(0) else {
            self.failed = true;
            return;
        };
        for (col, cell) in cells.iter().enumerate() {
            let Ok(col) = u16::try_from(col) else {
                self.failed = true;
                return;
            };
            let written = match whole_number(cell) {
                Some(n) => sheet.write_number(row, col, n).map(|_| ()),
                None => sheet.write_string(row, col, *cell).map(|_| ()),
            };
            self.failed |= written.is_err();
        }
    }
}

/// A cell that is a plain whole number ("12", "0"), as a number; anything else (a
/// phone number with its leading zero, a grouped "1 234", a percentage) stays text.
fn whole_number(cell: &str) -> Option<f64> {
    let plain = cell == "0"
        || (!cell.is_empty()
            && cell.len() <= 15
            && !cell.starts_with('0')
            && cell.bytes().all(|b| b.is_ascii_digit()));
    plain
        .then(|| cell.parse::<u64>().ok())
        .flatten()
        .map(|n| n as f64)
}

#[cfg(test)]
mod tests {
    use wasm_bindgen_test::wasm_bindgen_test;

    use super::*;

    #[wasm_bindgen_test]
    fn only_plain_whole_numbers_become_numbers() {
        assert_eq!(whole_number("12"), Some(12.0));
        assert_eq!(whole_number("0"), Some(0.0));
        for text in ["0470 12 34 56", "1 234", "48,5 %", "", "-3", "+3", "12a"] {
            assert_eq!(whole_number(text), None, "{text}");
        }
    }

    #[wasm_bindgen_test]
    fn the_lines_make_a_workbook() {
        let mut sheet = Xlsx::default();
        sheet.line(&["Young people reached", "12"]);
        sheet.line(&["=1+1", "0470 12 34 56"]);
        let bytes = sheet.finish().expect("written");
        // An XLSX file is a zip archive.
        assert_eq!(&bytes[..4], b"PK\x03\x04");
        assert!(bytes.len() > 1_000);
    }
}
