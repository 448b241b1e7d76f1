//! Labels read row by row, where the page-wide layout pass left them unread.
//!
//! Tesseract's automatic layout reads a page at the size it is given. Where
//! a form's labels are printed small (a 1 000 px phone photo of an A4 sheet,
//! a messenger's shrunken copy: capitals 10–12 px high) or faint among a
//! table's rules, it returns letter salad for them, and their counts are
//! never looked for. The table's rules are found reliably at any size, so
//! each ruled row that holds no recognised text is cut out, its label cell
//! (up to the first column rule) scaled so that its letters stand at the
//! height Tesseract reads best (`text_segments::upscaled`), and read alone
//! as one block of text. The caller matches what it says to
//! the model like any other line; the model's order of lines is the
//! evidence that settles the rest (`read::keep_in_model_order`).

use image::imageops::crop_imm;
use image::{GrayImage, Luma};
use imageproc::contrast::otsu_level;

use super::ink::component_boxes;
use super::lines::{group_lines, Rect, TextLine};
use super::ocr::{Engines, OcrError, Word};
use super::structure::{vertical_rules, HorizontalRule};
use super::text_segments::{on_page, upscaled, TARGET_GLYPH_HEIGHT};

/// A row between two rules is a label's row when it is this high or more
/// on the normalised page (a small print's single line, 18 px and up)…
const MIN_ROW_HEIGHT: u32 = 18;
/// …and at most this high (a label wrapped over three lines, or a tall
/// box; anything taller is a table's body or a blank area).
const MAX_ROW_HEIGHT: u32 = 150;
/// Ink pieces lower than this are specks and dots, not glyphs.
const MIN_GLYPH_HEIGHT: u32 = 4;
/// A column rule ends the label's cell only this far from the row's left
/// (a share of the page width): nearer, it is a number column's rule.
const MIN_LABEL_CELL_SHARE: f32 = 0.25;
/// Pixels kept clear of the rules around a row's cell (their ink would be
/// read as letters).
const RULE_CLEARANCE: u32 = 3;
/// At most this many rows are read on one page: what the cost of a page
/// whose labels the layout pass could not read is bounded by.
pub const MAX_ROWS_READ: usize = 40;

/// The ruled rows of a page, top to bottom, that hold no text line the
/// layout pass recognised (`recognised`: the boxes of the lines matched to
/// the model): where an unread label may stand.
pub fn unread_rows(rules: &[HorizontalRule], recognised: &[Rect]) -> Vec<(u32, u32)> {
    rules
        .windows(2)
        .map(|pair| (pair[0].y, pair[1].y))
        .filter(|&(top, bottom)| (MIN_ROW_HEIGHT..=MAX_ROW_HEIGHT).contains(&(bottom - top)))
        .filter(|&(top, bottom)| {
            !recognised.iter().any(|r| {
                let middle = (r[1] + r[3]) / 2;
                top < middle && middle < bottom
            })
        })
        .collect()
}

/// The label box of the one ruled row between the rows of two labels
/// (`above` and `below`, label boxes a row of the form apart): where the
/// form line printed between theirs stands, found by the table alone when
/// its label was read by no pass. Only rules that run across both labels
/// count (a rule of one column does not divide the label column's rows);
/// `None` unless exactly one row of a label's height lies between the two
/// labels' rows, and its label cell ends at a column rule (past which its
/// count stands). The box is that label cell, clear of the rules, from the
/// labels' left.
pub fn label_between(page: &GrayImage, rules: &[HorizontalRule], above: Rect, below: Rect) -> Option<Rect> {
    let (left, right) = (above[0].min(below[0]), above[2].max(below[2]));
    let across: Vec<u32> = rules.iter().filter(|r| r.left <= left && r.right >= right).map(|r| r.y).collect();
    let middle = |r: Rect| (r[1] + r[3]) / 2;
    let row_of = |y: u32| across.windows(2).position(|pair| pair[0] < y && y < pair[1]);
    let (a, b) = (row_of(middle(above))?, row_of(middle(below))?);
    if b != a + 2 {
        return None;
    }
    let (top, bottom) = (across[a + 1], across[a + 2]);
    if !(MIN_ROW_HEIGHT..=MAX_ROW_HEIGHT).contains(&(bottom - top)) {
        return None;
    }
    let (_, cell_right) = label_cell(page, top, bottom);
    (cell_right < page.width()).then_some([
        left,
        top + RULE_CLEARANCE,
        cell_right.saturating_sub(RULE_CLEARANCE),
        bottom.saturating_sub(RULE_CLEARANCE),
    ])
}

/// Reads the label cell of the row between rules `top` and `bottom`: the
/// text lines Tesseract finds in it, in page coordinates.
pub fn read_row_label(
    engines: &mut Engines,
    page: &GrayImage,
    top: u32,
    bottom: u32,
) -> Result<Vec<TextLine>, OcrError> {
    let (left, right) = label_cell(page, top, bottom);
    let (y0, y1) = (top + RULE_CLEARANCE, bottom.saturating_sub(RULE_CLEARANCE));
    if y1 <= y0 || right <= left + 2 * RULE_CLEARANCE {
        return Ok(Vec::new());
    }
    let (x0, x1) = (left + RULE_CLEARANCE, right - RULE_CLEARANCE);
    let cell = crop_imm(page, x0, y0, x1 - x0, y1 - y0).to_image();
    let glyph = glyph_height(&cell).unwrap_or(TARGET_GLYPH_HEIGHT);
    let (scaled, scale) = upscaled(cell, glyph);
    let words = engines.read_block_words(&scaled)?;
    let placed: Vec<Word> = words.into_iter().map(|w| on_page(w, scale, x0, y0)).collect();
    Ok(group_lines(&placed))
}

/// The median height of the glyphs in a label's cell: its ink's connected
/// pieces (Otsu's threshold), specks and the cell's rules left out.
fn glyph_height(cell: &GrayImage) -> Option<f32> {
    let level = otsu_level(cell);
    let ink =
        GrayImage::from_fn(cell.width(), cell.height(), |x, y| Luma([u8::from(cell.get_pixel(x, y).0[0] < level)]));
    let mut heights: Vec<u32> = component_boxes(&ink)
        .iter()
        .map(|b| b[3] - b[1])
        .filter(|&h| h >= MIN_GLYPH_HEIGHT && h * 10 < cell.height() * 8)
        .collect();
    heights.sort_unstable();
    heights.get(heights.len() / 2).map(|&h| h as f32)
}

/// The columns of a row's label cell: from the row's first column rule (or
/// the page's edge) to the next rule far enough right, or the page's edge.
fn label_cell(page: &GrayImage, top: u32, bottom: u32) -> (u32, u32) {
    let columns = vertical_rules(page, top + RULE_CLEARANCE, bottom.saturating_sub(RULE_CLEARANCE));
    let min_width = (page.width() as f32 * MIN_LABEL_CELL_SHARE) as u32;
    let left = columns.first().copied().filter(|&x| x < min_width).unwrap_or(0);
    let right = columns.iter().copied().find(|&x| x >= left + min_width).unwrap_or(page.width());
    (left, right)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(y: u32) -> HorizontalRule {
        HorizontalRule { y, left: 100, right: 1500 }
    }

    /// A page with a ruled table: rules across at `rows`, a column rule at
    /// x = 1000 between them.
    fn table_page(rows: &[u32]) -> (GrayImage, Vec<HorizontalRule>) {
        let mut page = GrayImage::from_pixel(1654, 800, Luma([235]));
        let (first, last) = (rows[0], rows[rows.len() - 1]);
        for &y in rows {
            for x in 80..1580 {
                page.put_pixel(x, y, Luma([30]));
            }
        }
        for y in first..=last {
            page.put_pixel(1000, y, Luma([30]));
            page.put_pixel(1001, y, Luma([30]));
        }
        let rules = rows.iter().map(|&y| HorizontalRule { y, left: 80, right: 1580 }).collect();
        (page, rules)
    }

    #[test]
    fn the_one_row_between_two_labels_rows_is_found_and_no_other() {
        let (page, rules) = table_page(&[100, 160, 220, 280, 340]);
        let label = |top: u32| [120, top + 15, 700, top + 45];
        // The row 160–220, rules cleared, from the labels' left to the column rule.
        let row = |placed: Option<Rect>| placed.map(|p| (p[0], p[1] - RULE_CLEARANCE, p[3] + RULE_CLEARANCE));
        let placed = label_between(&page, &rules, label(100), label(220));
        assert_eq!(row(placed), Some((120, 160, 220)));
        assert!(placed.is_some_and(|p| p[2] < 1000 && p[2] > 900), "{placed:?}");
        assert_eq!(label_between(&page, &rules, label(100), label(280)), None, "two rows between: which is which?");
        assert_eq!(label_between(&page, &rules, label(100), label(160)), None, "neighbouring rows");
        // A rule of the count column alone does not part the label column.
        let mut partial = rules.clone();
        partial.push(HorizontalRule { y: 190, left: 1010, right: 1580 });
        partial.sort_by_key(|r| r.y);
        assert_eq!(row(label_between(&page, &partial, label(100), label(220))), Some((120, 160, 220)));
    }

    #[test]
    fn a_row_without_a_column_rule_is_not_placed() {
        let mut page = GrayImage::from_pixel(1654, 800, Luma([235]));
        for y in [100u32, 160, 220, 280] {
            for x in 80..1580 {
                page.put_pixel(x, y, Luma([30]));
            }
        }
        let rules: Vec<HorizontalRule> =
            [100, 160, 220, 280].iter().map(|&y| HorizontalRule { y, left: 80, right: 1580 }).collect();
        let label = |top: u32| [120, top + 15, 700, top + 45];
        assert_eq!(label_between(&page, &rules, label(40), label(220)), None, "above the rules");
        assert_eq!(label_between(&page, &rules, label(100), label(220)), None, "rows, but no column");
    }

    #[test]
    fn rows_holding_a_recognised_line_or_of_no_label_height_are_left_out() {
        let rules = [rule(100), rule(130), rule(160), rule(170), rule(400), rule(440)];
        // 100–130 holds a recognised line; 160–170 is too low, 170–400 too high.
        let recognised = [[120, 108, 600, 124]];
        assert_eq!(unread_rows(&rules, &recognised), vec![(130, 160), (400, 440)]);
    }
}
