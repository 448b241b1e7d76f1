//! Cells for the CSV files observers open in a spreadsheet.
//!
//! A spreadsheet runs a cell that begins with `=`, `+`, `-` or `@` (and, in
//! some, a tab or carriage return) as a formula: a photo named
//! `=HYPERLINK(…).jpg` or a station typed as `=1+1` would run in the
//! observers' own spreadsheet. Such a cell is written with a leading
//! apostrophe, which spreadsheets take as "this is text" (OWASP's advice
//! on CSV injection). Numbers are left as they are, negative ones too.

use std::borrow::Cow;

/// The first characters that make a spreadsheet read a cell as a formula.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// `text` as a cell no spreadsheet runs as a formula.
pub fn cell(text: &str) -> Cow<'_, str> {
    let is_number = text.parse::<f64>().is_ok_and(f64::is_finite);
    if text.starts_with(FORMULA_STARTS) && !is_number {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// Writes one record of cells made safe by [`cell`].
pub fn write_record<W: std::io::Write>(writer: &mut csv::Writer<W>, record: &[String]) -> csv::Result<()> {
    writer.write_record(record.iter().map(|c| cell(c).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_become_text_and_numbers_stay_numbers() {
        assert_eq!(cell("=HYPERLINK(\"http://x\",\"y\").jpg"), "'=HYPERLINK(\"http://x\",\"y\").jpg");
        assert_eq!(cell("=1+1"), "'=1+1");
        assert_eq!(cell("+7 701"), "'+7 701");
        assert_eq!(cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(cell("-x"), "'-x");
        assert_eq!(cell("\tcmd"), "'\tcmd");
        assert_eq!(cell("-2.4"), "-2.4");
        assert_eq!(cell("217"), "217");
        assert_eq!(cell("day1/IMG_0042.jpg"), "day1/IMG_0042.jpg");
        assert_eq!(cell(""), "");
    }
}
