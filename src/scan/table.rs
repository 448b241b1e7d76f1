//! Figures that stand in a named column of a table, and station code boxes.
//!
//! A party table prints one short row per party (an acronym, two or three
//! letters) — too short for the fuzzy label match that finds the long
//! labels of the numbered lines. What finds its rows is the table itself:
//! the column's printed heading (`IN FIGURES`) above the first row, the
//! repeated total's label (`TOTAL VALID VOTES`) below the last, and the
//! model's order of the parties between them, one row each of one height.
//! The column's sides are its vertical rules, where found.
//!
//! The station of such a form is written in code boxes after a caption
//! (`State … Code |3|2|`): the boxes after each `Code` word, top to
//! bottom, are the model's box groups in order.

use image::GrayImage;

use super::hand;
use super::lines::{group_lines, longest_rising_chain, Rect, TextLine};
use super::ocr::{Engines, Word};
use super::reading::{zero_without_digit, Reading, ValueReading};
use super::resize::{self, Filter};
use super::structure::{trace_rule, vertical_rules, vertical_rules_within, HorizontalRule, MAX_RULE_LEAN};
use crate::model::{CodeBox, FormModel};
use crate::textmatch::{fold, partial_score};

/// A run of OCR words matches a printed heading when its folded letters
/// score this well against the heading's (a letter or two misread).
const MIN_HEADING_SCORE: f64 = 0.8;
/// Where the layout pass missed a column's heading, the band under the
/// labelled lines read again is this share of the page's height.
const HEADING_SEARCH_SHARE: f32 = 0.25;
/// A horizontal rule within this many text heights below a heading is the
/// heading row's lower edge (the table's first row starts there).
const HEADING_RULE_REACH: f32 = 2.0;
/// At least this many of a table's short labels read where the model's
/// order puts them tell its rows, where its heading was not read.
const MIN_LABELS_FOR_ROWS: usize = 4;
/// A table's short labels stand within this many text heights of their
/// column's middle.
const LABEL_COLUMN_REACH: f32 = 3.0;
/// A table row is between this many text heights high and that many: a
/// narrower or wider pitch means the heading or the total was misplaced.
const ROW_HEIGHT_OF_TEXT: (f32, f32) = (1.2, 5.0);
/// A written figure may stand this share of a row above or below its row
/// (ballpoint drifts across row lines); its middle must still be in its row.
pub const ROW_DRIFT: f32 = 0.6;
/// Inside a column's rules, this many pixels are left out on each side (the
/// rule's own blur).
pub(super) const RULE_CLEARANCE: u32 = 4;
/// Without vertical rules, a column reaches this share of its heading's
/// width beyond the heading on each side.
const HEADING_COLUMN_REACH: f32 = 0.35;
/// The word that precedes a station's code boxes is matched this well (a
/// letter of four misread).
const MARKER_WORD_SCORE: f64 = 0.75;
/// A value column is at least this many text heights wide (two digits and
/// their margins).
const MIN_VALUE_CELL_OF_TEXT: f32 = 2.5;
/// How far either side of a cell's left edge its column's rule is looked
/// for (the lean a phone's perspective gives a rule across a few rows).
const RULE_SEARCH: u32 = 12;
/// Half the lean a found rule may have across the cell's rows (as much as
/// `structure` allows a rule): its middle column plus this clears it.
const RULE_LEAN_ALLOWANCE: f32 = MAX_RULE_LEAN / 2.0;
/// A code box is at least this wide (page pixels): narrower evenly spaced
/// strokes are a digit's, not a grid's.
const MIN_BOX_WIDTH: u32 = 12;
/// A stroke this near the box grid's line is a side.
const BOX_GRID_SLACK: u32 = 3;
/// A code box reaches this many text heights above and below its word's
/// middle.
const CODE_BOX_HALF_HEIGHT_OF_TEXT: f32 = 1.0;
/// Tesseract reads the boxes' digits enlarged this many times (it reads
/// print best at 30–40 pixels; the boxes' digits are a third of that).
const CODE_OCR_SCALE: u32 = 3;
/// White columns added either side of the boxes cut out (readers want a
/// margin round what they read).
const CODE_MARGIN: u32 = 12;
/// Pixels painted white either side of a box side's middle.
const BOX_SIDE_HALF_WIDTH: u32 = 2;
/// A code group the two readers do not read alike keeps this share of the
/// glyph network's confidence: below the threshold, a person looks.
const UNSECONDED_BOX_FACTOR: f32 = 0.5;
/// A code box group's digits stand within this many text heights after the
/// `Code` word, per digit.
const CODE_REACH_PER_DIGIT: f32 = 1.6;

/// Where a run of consecutive words of one OCR line prints `heading`: the
/// run's box, the best-matching run of as many words as the heading has.
pub fn find_heading(lines: &[TextLine], heading: &str) -> Option<Rect> {
    let wanted: String = fold(heading).chars().filter(|c| c.is_alphanumeric()).collect();
    let count = heading.split_whitespace().count().max(1);
    let mut best: Option<(f64, Rect)> = None;
    for line in lines {
        let mut words: Vec<&Word> = line.words.iter().collect();
        if words.is_empty() {
            // A label placed by the table's rows alone: no words read.
            continue;
        }
        words.sort_by_key(|w| w.left);
        for run in words.windows(count.min(words.len())) {
            let text: String = run.iter().map(|w| fold(&w.text)).collect::<String>();
            let text: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
            if text.len() * 2 < wanted.len() || text.len() > wanted.len() * 2 {
                continue;
            }
            let score = partial_score(&text, &wanted).min(partial_score(&wanted, &text));
            if score >= MIN_HEADING_SCORE && best.is_none_or(|(s, _)| score > s) {
                let rect = run.iter().fold([u32::MAX, u32::MAX, 0, 0], |r, w| {
                    [r[0].min(w.left), r[1].min(w.top), r[2].max(w.right()), r[3].max(w.bottom())]
                });
                best = Some((score, rect));
            }
        }
    }
    best.map(|(_, rect)| rect)
}

/// The rows (top, bottom) of `count` table rows that start under
/// `heading` and, where the table's end is known (`end`, the top of the row
/// after the last), end there; otherwise rows of the pitch the rules under
/// the heading show. Rows below the page are left out (a photo cut off).
fn table_rows(
    rules: &[HorizontalRule],
    heading: Rect,
    end: Option<u32>,
    count: usize,
    text_height: f32,
    page_height: u32,
) -> Option<Vec<(u32, u32)>> {
    let reach = (heading[3] as f32 + text_height * HEADING_RULE_REACH) as u32;
    let start = rules.iter().map(|r| r.y).find(|&y| y > heading[3] && y <= reach).unwrap_or(heading[3] + 2);
    let (low, high) = (text_height * ROW_HEIGHT_OF_TEXT.0, text_height * ROW_HEIGHT_OF_TEXT.1);
    let pitch = match end {
        Some(end) if end > start => (end - start) as f32 / count as f32,
        _ => {
            // The median gap between the rules under the heading that are
            // one row apart.
            let mut gaps: Vec<f32> = rules
                .windows(2)
                .filter(|p| p[0].y >= start)
                .map(|p| (p[1].y - p[0].y) as f32)
                .filter(|g| (low..=high).contains(g))
                .collect();
            gaps.sort_by(f32::total_cmp);
            *gaps.get(gaps.len() / 2)?
        }
    };
    if !(low..=high).contains(&pitch) {
        return None;
    }
    let middle = (heading[0] + heading[2]) / 2;
    let crossing: Vec<u32> = rules.iter().filter(|r| r.left <= middle && middle <= r.right).map(|r| r.y).collect();
    Some(rows_along_rules(start as f32, pitch, count, end, &crossing, page_height))
}

/// A row's edge is the rule found within this share of a row's height of
/// where the rows so far put it: the printed rules, not an even division,
/// tell the rows of a photographed table (perspective and a curved sheet
/// make the rows lower down taller, by half a row over eighteen rows).
const ROW_RULE_SNAP: f32 = 0.3;

/// The rows a table's pitch is taken from where no end is known: the last
/// this many whose edges were both rules (one sloping rule's row is off by
/// a few pixels; a photo's perspective changes the pitch slowly).
const PITCH_FROM_ROWS: usize = 5;

/// `count` rows from row `top` down, each ending on the rule (of `rules`,
/// those crossing the column) nearest where the rows above it put its
/// edge: at the table's `end` divided evenly among the rows left, or, with
/// no end known, one row below at the median height of the last rows that
/// rules bound on both edges (`pitch` before any). Where no rule is near,
/// the expected edge stands. Rows below the page are left out (a photo cut
/// off loses the rest).
fn rows_along_rules(
    top: f32,
    pitch: f32,
    count: usize,
    end: Option<u32>,
    rules: &[u32],
    page_height: u32,
) -> Vec<(u32, u32)> {
    let mut rows = Vec::with_capacity(count);
    let mut ruled_heights: Vec<f32> = Vec::new();
    let (mut edge, mut edge_is_rule) = (top, true);
    for i in 0..count {
        let step = match end {
            Some(end) if end as f32 > edge => (end as f32 - edge) / (count - i) as f32,
            _ => {
                let mut recent: Vec<f32> = ruled_heights.iter().rev().take(PITCH_FROM_ROWS).copied().collect();
                recent.sort_by(f32::total_cmp);
                recent.get(recent.len() / 2).copied().unwrap_or(pitch)
            }
        };
        let expected = edge + step;
        let snapped = rules
            .iter()
            .map(|&y| y as f32)
            .filter(|y| (y - expected).abs() <= step * ROW_RULE_SNAP)
            .min_by(|a, b| (a - expected).abs().total_cmp(&(b - expected).abs()));
        let next = match (i + 1 == count, end, snapped) {
            (true, Some(end), _) => end as f32,
            (_, _, Some(y)) => {
                if edge_is_rule {
                    ruled_heights.push(y - edge);
                }
                y
            }
            _ => expected,
        };
        edge_is_rule = snapped.is_some();
        rows.push((edge as u32, next as u32));
        edge = next;
    }
    rows.retain(|&(_, bottom)| bottom < page_height);
    rows
}

/// Row `i` of `rows` with its neighbours above and below: the band a
/// column's rules are looked for in (a written «1» runs down one row, a
/// rule down all three).
fn with_neighbours(rows: &[(u32, u32)], i: usize) -> (u32, u32) {
    (rows[i.saturating_sub(1)].0, rows[(i + 1).min(rows.len() - 1)].1)
}

/// The column under `heading` in each of `rows`, between its two rules: in
/// the row where a rule stands on each side of the heading's words (the
/// heading is printed inside its column; a column of written zeros one
/// above the other makes a "rule" across them) most evenly, then
/// each rule followed down and up the rows, to the rule found nearest where
/// it stood a row before (a printed rule runs on; a photo's perspective or
/// a curved sheet leans it a few pixels a row); a row where a rule was not
/// found takes it on the line between the rows that found it
/// ([`follow_rule`]). Without any row ruled on both sides, the heading's
/// width and some.
fn column_spans(page: &GrayImage, heading: Rect, rows: &[(u32, u32)]) -> Vec<(u32, u32)> {
    let middle = (heading[0] + heading[2]) / 2;
    let heading_width = heading[2] - heading[0];
    let (search_left, search_right) = (heading[0].saturating_sub(heading_width), heading[2] + heading_width);
    let found: Vec<Vec<u32>> = (0..rows.len())
        .map(|i| {
            let (top, bottom) = with_neighbours(rows, i);
            vertical_rules_within(page, top, bottom, search_left, search_right)
        })
        .collect();
    let beside_heading = |i: usize| {
        let lean = (rows[i].1.saturating_sub(heading[3]) as f32 * MAX_RULE_LEAN) as u32 + RULE_CLEARANCE;
        let left = found[i].iter().copied().filter(|&x| x < middle && x <= heading[0] + lean).max()?;
        let right = found[i].iter().copied().filter(|&x| x > middle && x + lean >= heading[2]).min()?;
        (right > left + 2 * RULE_CLEARANCE).then_some((left, right))
    };
    // The heading stands in its column's middle: the row whose rules are
    // the most evenly either side of it is where the rules are followed
    // from (a rule missed in a row takes the next stroke for it).
    let off_centre = |(left, right): (u32, u32)| (left + right).abs_diff(2 * middle);
    let start =
        (0..rows.len()).filter_map(|i| beside_heading(i).map(|span| (i, span))).min_by_key(|&(_, s)| off_centre(s));
    let Some((first, span)) = start else {
        let reach = (heading_width as f32 * HEADING_COLUMN_REACH) as u32;
        return vec![(heading[0].saturating_sub(reach), (heading[2] + reach).min(page.width() - 1)); rows.len()];
    };
    let lefts = follow_rule(rows, &found, first, span.0);
    let rights = follow_rule(rows, &found, first, span.1);
    lefts
        .into_iter()
        .zip(rights)
        .map(|(left, right)| {
            if right > left + 2 * RULE_CLEARANCE {
                (left + RULE_CLEARANCE, right - RULE_CLEARANCE)
            } else {
                (left, right)
            }
        })
        .collect()
}

/// Where a column's rule, found at `start` in row `first`, crosses each of
/// `rows` (`found`: the rules found across each): followed down and up to
/// the rule nearest where it was last found, within [`RULE_SEARCH`] and the
/// lean a rule may gather over the rows since; rows where it was not found
/// take it on the straight line between the rows either side that did.
fn follow_rule(rows: &[(u32, u32)], found: &[Vec<u32>], first: usize, start: u32) -> Vec<u32> {
    let mut at: Vec<Option<u32>> = vec![None; rows.len()];
    at[first] = Some(start);
    let mut step = |order: &mut dyn Iterator<Item = usize>| {
        let (mut last_row, mut last_x) = (first, start);
        for i in order {
            let gathered: u32 = (i.min(last_row)..i.max(last_row)).map(|r| rows[r].1 - rows[r].0).sum();
            let reach = RULE_SEARCH + (gathered as f32 * MAX_RULE_LEAN) as u32;
            let nearest = found[i].iter().copied().min_by_key(|x| x.abs_diff(last_x));
            if let Some(x) = nearest.filter(|x| x.abs_diff(last_x) <= reach) {
                at[i] = Some(x);
                (last_row, last_x) = (i, x);
            }
        }
    };
    step(&mut (first + 1..rows.len()));
    step(&mut (0..first).rev());
    (0..rows.len())
        .map(|i| {
            let above = (0..i).rev().find_map(|k| at[k].map(|x| (k, x)));
            let below = (i..rows.len()).find_map(|k| at[k].map(|x| (k, x)));
            match (above, below) {
                (_, Some((k, x))) if k == i => x,
                (Some((a, xa)), Some((b, xb))) => {
                    (xa as f32 + (xb as f32 - xa as f32) * (i - a) as f32 / (b - a) as f32).round() as u32
                }
                (Some((_, x)), None) | (None, Some((_, x))) => x,
                (None, None) => start,
            }
        })
        .collect()
}

/// A handwritten figure in a table cell: the cell's rows, with room for the
/// drift of a pen, read by the handwriting reader. An empty cell on a form
/// that leaves zero blank is 0.
fn read_table_cell(
    page: &GrayImage,
    (left, right): (u32, u32),
    (top, bottom): (u32, u32),
    text_height: f32,
    blank_is_zero: bool,
    model: &FormModel,
) -> ValueReading {
    let drift = ((bottom - top) as f32 * ROW_DRIFT) as u32;
    let (y0, y1) = (top.saturating_sub(drift), (bottom + drift).min(page.height() - 1));
    // The column's rule where it runs beside this cell: a photo's
    // perspective leans it off the span the table's rows share, and its
    // edge inside the cell reads as a sure 1. The cell starts clear of it.
    let nearest = vertical_rules_within(page, y0, y1, left.saturating_sub(RULE_SEARCH), left + RULE_SEARCH)
        .into_iter()
        .min_by_key(|x| x.abs_diff(left));
    let lean = ((y1 - y0) as f32 * RULE_LEAN_ALLOWANCE) as u32;
    let left = nearest.map_or(left, |x| left.max(x + RULE_CLEARANCE + lean));
    let region = [left, y0, right, y1];
    let place =
        hand::Place { region, own_rows: (top, bottom), label_centre_y: (top + bottom) / 2, line_height: text_height };
    let mut value =
        hand::read_hand_cell(page, &place, &[], model.max_digits, hand::LeadingZero::for_counts(model.leading_zeros));
    // Ink in which neither reader found a count (no glyph, and no count or
    // word for zero to the sequence reader: a stroke lost with a rule,
    // specks) is no figure either: the cell is as good as blank.
    if value.value.is_none() && blank_is_zero {
        match value.problem.as_deref() {
            Some(hand::EMPTY_CELL) => value = zero_without_digit("the cell is blank: 0 on this form"),
            Some(hand::NO_GLYPH) => {
                value = zero_without_digit("the cell holds ink but no figure, as if blank: 0 on this form")
            }
            _ => {}
        }
    }
    value.cell.get_or_insert([left, top, right, bottom]);
    value
}

/// The page's words and lines as the layout pass read them, and where the
/// lines read beside their labels end (a table column's heading is below).
pub struct PageText<'a> {
    pub words: &'a [Word],
    pub lines: &'a [TextLine],
    pub labelled_bottom: u32,
}

/// The heading `text` among the page's lines or, where the layout pass over
/// the whole page left it out (a ruled table's headings often are), in the
/// band under the labelled lines read again as one block.
/// A heading whose box is taller than this many text heights is no line of
/// print: the OCR ran it together with what stands beside it («[INFIGURES»
/// 572 px wide and 52 high, over both the figures' and the words' columns).
const MAX_HEADING_HEIGHT_OF_TEXT: f32 = 2.0;

/// The heading `text` among the page's lines or, where the layout pass over
/// the whole page left it out (a ruled table's headings often are), in the
/// band under the labelled lines read again as one block. A match taller
/// than a line of print is read again alone, as one line.
fn heading_anywhere(
    engines: &mut Engines,
    page: &GrayImage,
    text: &PageText,
    heading: &str,
    text_height: f32,
) -> Option<Rect> {
    let found = find_heading(text.lines, heading).or_else(|| {
        let top = text.labelled_bottom.min(page.height().saturating_sub(1));
        let height = (page.height() as f32 * HEADING_SEARCH_SHARE) as u32;
        let band = read_words_at(engines, page, [0, top, page.width(), top + height])?;
        find_heading(&group_lines(&band), heading)
    })?;
    if (found[3] - found[1]) as f32 <= text_height * MAX_HEADING_HEIGHT_OF_TEXT {
        return Some(found);
    }
    let words = read_words_at(engines, page, found)?;
    find_heading(&group_lines(&words), heading)
        .filter(|again| (again[3] - again[1]) as f32 <= text_height * MAX_HEADING_HEIGHT_OF_TEXT)
}

/// The words of the page's region `[left, top, right, bottom]` (clipped to
/// the page), read as one block, in page coordinates.
fn read_words_at(engines: &mut Engines, page: &GrayImage, region: Rect) -> Option<Vec<Word>> {
    let [left, top] = [region[0].min(page.width() - 1), region[1].min(page.height() - 1)];
    let (width, height) = (region[2].min(page.width()) - left, region[3].min(page.height()) - top);
    let crop = image::imageops::crop_imm(page, left, top, width.max(1), height.max(1)).to_image();
    let mut words = engines.read_block_words(&crop).ok()?;
    for w in &mut words {
        w.left += left;
        w.top += top;
    }
    Some(words)
}

/// A text's letters and digits, folded: what a short label is compared by.
fn letters_of(text: &str) -> String {
    fold(text).chars().filter(|c| c.is_alphanumeric()).collect()
}

/// The rows of a table's `members`, found by their own short labels where
/// the column's heading was not read: the words that print a member's label
/// exactly, kept where they stand in the model's order down the page (the
/// longest such chain), give each row's middle by a straight line through
/// them. The column is then the cell right of the labels' column, between
/// the first two vertical rules right of them: returned as a stand-in for
/// the heading (its left and right; top and bottom the table's top).
fn rows_by_labels(
    page: &GrayImage,
    lines: &[TextLine],
    rules: &[HorizontalRule],
    members: &[&crate::model::Line],
    text_height: f32,
) -> Option<(Vec<(u32, u32)>, Rect)> {
    let wanted: Vec<String> = members.iter().map(|m| letters_of(&m.label.joined())).collect();
    let mut hits: Vec<(usize, Rect)> = lines
        .iter()
        .flat_map(|l| l.words.iter())
        .filter_map(|w| {
            let index = wanted.iter().position(|label| *label == letters_of(&w.text))?;
            Some((index, [w.left, w.top, w.right(), w.bottom()]))
        })
        .collect();
    // The labels stand in one column: a hit far from the others' middle is
    // the same letters printed elsewhere («A» of «FORM EC 8A»).
    let mut middles: Vec<u32> = hits.iter().map(|(_, r)| (r[0] + r[2]) / 2).collect();
    middles.sort_unstable();
    let column_middle = *middles.get(middles.len() / 2)?;
    let reach = (text_height * LABEL_COLUMN_REACH) as u32;
    hits.retain(|(_, r)| ((r[0] + r[2]) / 2).abs_diff(column_middle) <= reach);
    hits.sort_by_key(|(_, r)| r[1]);
    // The longest chain of hits whose model order rises down the page.
    let items: Vec<(usize, u32, f64)> = hits.iter().map(|(i, r)| (*i, r[1], 1.0)).collect();
    let chain: Vec<(usize, Rect)> = longest_rising_chain(&items).into_iter().map(|k| hits[k]).collect();
    if chain.len() < MIN_LABELS_FOR_ROWS {
        return None;
    }
    // Least squares: middle = first + pitch × index.
    let n = chain.len() as f32;
    let points: Vec<(f32, f32)> = chain.iter().map(|(i, r)| (*i as f32, (r[1] + r[3]) as f32 / 2.0)).collect();
    let (mean_i, mean_y) = (points.iter().map(|p| p.0).sum::<f32>() / n, points.iter().map(|p| p.1).sum::<f32>() / n);
    let spread: f32 = points.iter().map(|p| (p.0 - mean_i).powi(2)).sum();
    let pitch = points.iter().map(|p| (p.0 - mean_i) * (p.1 - mean_y)).sum::<f32>() / spread.max(1.0);
    let (low, high) = (text_height * ROW_HEIGHT_OF_TEXT.0, text_height * ROW_HEIGHT_OF_TEXT.1);
    if !(low..=high).contains(&pitch) {
        return None;
    }
    let first = mean_y - pitch * mean_i;
    // `first` is the first row's middle.
    let crossing: Vec<u32> =
        rules.iter().filter(|r| r.left <= column_middle && column_middle <= r.right).map(|r| r.y).collect();
    let rows = rows_along_rules(first - pitch * 0.5, pitch, members.len(), None, &crossing, page.height());
    let top = rows.first()?.0;
    // The figures' cell: between the first two vertical rules right of the
    // labels, as most rows (with their neighbours) show them.
    let labels_right = chain.iter().map(|(_, r)| r[2]).max()?;
    let (mut lefts, mut rights): (Vec<u32>, Vec<u32>) = (0..rows.len())
        .filter_map(|i| {
            let (band_top, band_bottom) = with_neighbours(&rows, i);
            let rules = vertical_rules_within(page, band_top, band_bottom, labels_right, page.width());
            Some((*rules.first()?, *rules.get(1)?))
        })
        .unzip();
    lefts.sort_unstable();
    rights.sort_unstable();
    let (&left, &right) = (lefts.get(lefts.len() / 2)?, rights.get(rights.len() / 2)?);
    (right > left).then_some((rows, [left + 1, top, right - 1, top]))
}

/// Reads every line whose figure stands in a named column (in model order,
/// between the column's heading and the repeated total under the table, if
/// the model has one) and the repeated totals, into `reading`.
pub fn read_column_lines(
    engines: &mut Engines,
    page: &GrayImage,
    model: &FormModel,
    text: &PageText,
    rules: &[HorizontalRule],
    text_height: f32,
    reading: &mut Reading,
) {
    let lines = text.lines;
    for (index, column) in model.columns.iter().enumerate() {
        let members: Vec<&crate::model::Line> = model.lines.iter().filter(|l| l.column == Some(index)).collect();
        if members.is_empty() {
            continue;
        }
        let missing = |why: &str| ValueReading { problem: Some(why.to_string()), ..Default::default() };
        // The repeated total under the table ends it.
        let repeat = model.repeated_totals.iter().find(|r| r.column == Some(index));
        let heading = heading_anywhere(engines, page, text, &column.labels.joined(), text_height);
        let total_label = repeat
            .and_then(|r| find_heading(lines, &r.labels.joined()))
            .filter(|t| heading.is_none_or(|h| t[1] > h[3]));
        let end = total_label.map(|t| {
            let above = rules.iter().map(|r| r.y).filter(|&y| y < t[1] && y + (text_height * 2.0) as u32 > t[1]).max();
            above.unwrap_or(t[1].saturating_sub(2))
        });
        let under_heading = heading.and_then(|heading| {
            let rows = table_rows(rules, heading, end, members.len(), text_height, page.height())?;
            Some((rows, heading))
        });
        let Some((rows, heading)) = under_heading.or_else(|| rows_by_labels(page, lines, rules, &members, text_height))
        else {
            let why = if heading.is_some() { "the table's rows were not found" } else { "the table was not found" };
            for line in &members {
                reading.values.insert(line.key.clone(), missing(why));
            }
            continue;
        };
        let spans = column_spans(page, heading, &rows);
        for (i, line) in members.iter().enumerate() {
            let value = match rows.get(i) {
                Some(&row) => read_table_cell(page, spans[i], row, text_height, line.blank_is_zero, model),
                None => missing("the photo ends before this row"),
            };
            reading.values.insert(line.key.clone(), value);
        }
        reading.lines_found += rows.len();
        // The repeated total's row is the one after the table's last.
        let last_row = rows.last().copied();
        let total_under_table =
            total_label.filter(|t| last_row.is_some_and(|(top, bottom)| t[1] >= (top + bottom) / 2));
        if let (Some(repeat), Some(end), Some(label), Some(&span)) = (repeat, end, total_under_table, spans.last()) {
            let row = (end, label[3] + (label[3] - label[1]));
            let value = read_table_cell(page, span, row, text_height, false, model);
            reading.repeats.insert(repeat.key.clone(), value);
        }
    }
}

/// The x positions (crop coordinates) of a row of code boxes' sides: the
/// strokes that run down the whole band, spaced evenly. A written «1» runs
/// down the band too, but stands between two sides, not a box's width on.
fn box_sides(crop: &GrayImage) -> Vec<u32> {
    let strokes = vertical_rules(crop, 0, crop.height());
    let mut best: Vec<u32> = Vec::new();
    for (i, &first) in strokes.iter().enumerate() {
        for &second in &strokes[i + 1..] {
            let step = second - first;
            if step < MIN_BOX_WIDTH {
                continue;
            }
            let on_grid: Vec<u32> = strokes
                .iter()
                .copied()
                .filter(|&x| {
                    x >= first && {
                        let offset = (x - first) % step;
                        offset <= BOX_GRID_SLACK || step - offset <= BOX_GRID_SLACK
                    }
                })
                .collect();
            if on_grid.len() > best.len() {
                best = on_grid;
            }
        }
    }
    best
}

/// The crop with its box sides painted white and, where two sides or
/// more were found, cut to the boxes (from the first side to the last):
/// the digits alone, in white margins, for both readers.
fn without_box_sides(mut crop: GrayImage) -> GrayImage {
    let sides = box_sides(&crop);
    for &x in &sides {
        for xx in x.saturating_sub(BOX_SIDE_HALF_WIDTH)..=(x + BOX_SIDE_HALF_WIDTH).min(crop.width() - 1) {
            for y in 0..crop.height() {
                crop.put_pixel(xx, y, image::Luma([255]));
            }
        }
    }
    let (Some(&first), Some(&last)) = (sides.first(), sides.last()) else { return crop };
    if last <= first + MIN_BOX_WIDTH {
        return crop;
    }
    let inside = image::imageops::crop_imm(&crop, first, 0, last - first, crop.height()).to_image();
    let mut framed = GrayImage::from_pixel(inside.width() + 2 * CODE_MARGIN, inside.height(), image::Luma([255]));
    image::imageops::replace(&mut framed, &inside, CODE_MARGIN as i64, 0);
    framed
}

/// Where a line's figure is written in a ruled table: from `left` (past a
/// column rule's blur), in the row between the rules `rows` (top, bottom).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ValueCell {
    pub left: u32,
    pub rows: (u32, u32),
}

/// The value cell beside a label in a ruled table: from the first vertical
/// rule right of the label's text (`band`) down the table row the label's
/// middle stands in (between `rules`, the page's horizontal rules), that
/// has a cell's room after it (the page's frame at its edge does not), past
/// the rule's blur. `None` off a table.
pub fn value_column_left(
    page: &GrayImage,
    band: Rect,
    text_height: f32,
    rules: &[HorizontalRule],
) -> Option<ValueCell> {
    let middle = (band[1] + band[3]) / 2;
    let above = rules.iter().map(|r| r.y).filter(|&y| y < middle).max()?;
    let below = rules.iter().map(|r| r.y).filter(|&y| y > middle).min()?;
    // The row's inside, clear of its rules' blur: a letter's stroke runs
    // down less of it than a rule.
    let rules = vertical_rules(page, above + RULE_CLEARANCE, below.saturating_sub(RULE_CLEARANCE));
    let room = (text_height * MIN_VALUE_CELL_OF_TEXT) as u32;
    let mut after = rules.iter().copied().filter(|&x| x > band[2]);
    let first = after.next()?;
    // The cell reaches to the table's far rule or the page's edge, past any
    // stroke of a written figure that runs down a short row like a rule
    // (a 1, a 7's stem): the page's frame has no cell after it.
    let next = after.next_back().unwrap_or(page.width());
    (next >= first + room).then_some(ValueCell { left: first + RULE_CLEARANCE, rows: (above, below) })
}

/// The value column's left edge of most of a table's lines, where at least
/// this many lines found one within [`VALUE_COLUMN_SLACK_OF_TEXT`] of it.
const MIN_LINES_FOR_COLUMN: usize = 3;
/// A line whose value column starts further than this many text heights
/// from the one most lines share took another stroke for its rule (a
/// letter of a label read short, a figure's «1»).
const VALUE_COLUMN_SLACK_OF_TEXT: f32 = 2.0;

/// The value columns of the lines beside their labels (`value_column_left`
/// of each, in order down the page) made to agree within each table: the
/// figures of a table's lines stand in one column. Lines whose rows follow
/// one another less than a row apart are one table (a form may print two,
/// their columns apart); where most of a table's lines share a left edge,
/// a line whose edge is off it takes the shared one. Returns the cells,
/// and whether their edge is a shared one (a label's text that seems to
/// reach past it holds something else: the figure read with it).
pub fn agree_on_value_column(cells: &[Option<ValueCell>], text_height: f32) -> Vec<Option<(ValueCell, bool)>> {
    let slack = (text_height * VALUE_COLUMN_SLACK_OF_TEXT) as u32;
    let mut agreed = vec![None; cells.len()];
    let mut start = 0;
    while start < cells.len() {
        let mut end = start + 1;
        while end < cells.len() {
            let follows = match (cells[end - 1], cells[end]) {
                // Less than a row apart (a rule doubled by the photo's
                // blur splits the rows; a second table starts further on).
                (Some(above), Some(below)) => {
                    let row = (above.rows.1 - above.rows.0).min(below.rows.1 - below.rows.0);
                    below.rows.0.abs_diff(above.rows.1) < row
                }
                _ => false,
            };
            if !follows {
                break;
            }
            end += 1;
        }
        let table: Vec<ValueCell> = cells[start..end].iter().flatten().copied().collect();
        let shared = shared_edge(&table, slack);
        for (i, cell) in (start..end).zip(&cells[start..end]) {
            agreed[i] = cell.map(|cell| match shared {
                Some(m) if cell.left.abs_diff(m) > slack => (ValueCell { left: m, ..cell }, true),
                Some(_) => (cell, true),
                None => (cell, false),
            });
        }
        start = end;
    }
    agreed
}

/// The left edge most of one table's value cells share: their median, where
/// at least [`MIN_LINES_FOR_COLUMN`] lie within `slack` pixels of it.
fn shared_edge(table: &[ValueCell], slack: u32) -> Option<u32> {
    let mut edges: Vec<u32> = table.iter().map(|c| c.left).collect();
    edges.sort_unstable();
    let median = *edges.get(edges.len() / 2)?;
    (edges.iter().filter(|x| x.abs_diff(median) <= slack).count() >= MIN_LINES_FOR_COLUMN).then_some(median)
}

/// A row's rules are traced this many text heights right of its value
/// column's left edge to measure how they slope where a figure is written.
pub const ROW_TRACE_OF_TEXT: f32 = 12.0;
/// A row's two rules slope alike, within this (rows per column, about
/// 2°): a trace that strayed onto a figure's strokes or a box's edge
/// and on does not.
const MAX_RULES_SLOPE_DIFFERENCE: f32 = 0.035;
/// A traced slope steeper than this (rows per column, about 11°) is a
/// stroke followed off its rule, not a rule.
const MAX_TRACED_SLOPE: f32 = 0.2;

/// A table row (`rows`: its top and bottom rules' mean rows) as its rules
/// run right of `column_left`, its value column's left edge: the rows at
/// that column and their slope (rows per column), traced along the rules'
/// ink (`structure::trace_rule`); `None` unless both were, sloping alike.
pub fn row_as_traced(
    page: &GrayImage,
    column_left: u32,
    (top, bottom): (u32, u32),
    text_height: f32,
) -> Option<((u32, u32), f32)> {
    // Clear of the column's vertical rule, whose ink is on every row.
    let from = column_left + RULE_CLEARANCE;
    let to = from + (text_height * ROW_TRACE_OF_TEXT) as u32;
    let traced = |y: u32| trace_rule(page, from, to, y).filter(|(_, slope)| slope.abs() <= MAX_TRACED_SLOPE);
    let height = (bottom - top) as f32;
    let ((above, below), slope) = match (traced(top), traced(bottom)) {
        (Some((a, sa)), Some((b, sb))) if (sa - sb).abs() <= MAX_RULES_SLOPE_DIFFERENCE => ((a, b), (sa + sb) / 2.0),
        _ => return None,
    };
    // Back from `from` to the column's edge.
    let back = slope * RULE_CLEARANCE as f32;
    let (above, below) = ((above - back).max(0.0), below - back);
    (below > above + height / 2.0).then_some(((above as u32, below as u32), slope))
}

/// The station from code boxes: the digits after each `marker` word of the
/// header (above `header_bottom`), top to bottom, one group per box of the
/// model, each zero-padded to its width and joined with `/`. Returns the
/// station and its confidence (the least sure group's), or `None`.
pub fn read_code_boxes(
    engines: &mut Engines,
    page: &GrayImage,
    boxes: &[CodeBox],
    marker: &str,
    words: &[Word],
    header_bottom: u32,
    text_height: f32,
) -> Option<(String, f32)> {
    let marker = fold(marker);
    let letters = |text: &str| text.chars().filter(|c| c.is_alphabetic()).count();
    let mut code_words: Vec<&Word> = words
        .iter()
        .filter(|w| w.bottom() <= header_bottom && partial_score(&fold(&w.text), &marker) >= MARKER_WORD_SCORE)
        .filter(|w| letters(&fold(&w.text)) * 4 >= letters(&marker) * 3)
        .collect();
    code_words.sort_by_key(|w| w.top);
    if code_words.len() != boxes.len() {
        return None;
    }
    let mut groups = Vec::new();
    let mut confidence = 1.0f32;
    for (word, code_box) in code_words.iter().zip(boxes) {
        let reach = (text_height * CODE_REACH_PER_DIGIT * (code_box.digits + 1) as f32) as u32;
        // The boxes stand level with the word, a little taller than text.
        let middle = (word.top + word.bottom()) / 2;
        let half = (text_height * CODE_BOX_HALF_HEIGHT_OF_TEXT) as u32;
        let region = [
            word.right() + 2,
            middle.saturating_sub(half),
            (word.right() + reach).min(page.width() - 1),
            (middle + half).min(page.height() - 1),
        ];
        // A marker at the page's right edge has no boxes on the page.
        if region[2] <= region[0] + MIN_BOX_WIDTH || region[3] <= region[1] {
            return None;
        }
        let crop = image::imageops::crop_imm(page, region[0], region[1], region[2] - region[0], region[3] - region[1]);
        let crop = without_box_sides(crop.to_image());
        let (w, h) = crop.dimensions();
        let place = hand::Place {
            region: [0, 0, w, h],
            own_rows: (word.top.max(region[1]) - region[1], word.bottom().min(region[3]) - region[1]),
            label_centre_y: middle - region[1],
            line_height: text_height,
        };
        // A group may have a box more than its digits (the state's «032»).
        let read = hand::read_hand_code(&crop, &place, code_box.digits + 1);
        // Tesseract's digits engine on the same boxes is the second opinion:
        // a station is checked by no arithmetic.
        let enlarged =
            resize::gray(&crop, crop.width() * CODE_OCR_SCALE, crop.height() * CODE_OCR_SCALE, Filter::CatmullRom);
        let second = engines.read_digits(&enlarged).ok()?;
        let value = read.value?;
        let digits = value.to_string();
        if digits.len() > code_box.digits as usize {
            return None;
        }
        groups.push(format!("{value:0width$}", width = code_box.digits as usize));
        let agreed = second.text.parse::<u64>().ok() == Some(value);
        confidence = confidence.min(if agreed { read.confidence } else { read.confidence * UNSECONDED_BOX_FACTOR });
    }
    Some((groups.join("/"), confidence))
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::Luma;
    use imageproc::drawing::{draw_filled_rect_mut, draw_line_segment_mut};
    use imageproc::rect::Rect as DrawRect;

    #[test]
    fn a_columns_rules_are_followed_down_past_a_stack_of_written_zeros() {
        // A column from x 505 to 800 under its heading, both rules leaning
        // 25 px left over 18 rows of 50; a zero written in every row near
        // the left rule, one above the other (its sides run down the rows
        // as a rule does); the right rule lost in rows 8 to 11.
        let mut page = GrayImage::from_pixel(1000, 1500, Luma([250]));
        let (top, rows_down) = (430.0f32, 900.0f32);
        for (x, skip) in [(505.0f32, None), (800.0, Some((830.0, 1030.0)))] {
            for dx in [0.0, 1.0] {
                let (x0, x1) = (x + dx, x + dx - 25.0);
                match skip {
                    None => draw_line_segment_mut(&mut page, (x0, top), (x1, top + rows_down), Luma([40])),
                    Some((gap_top, gap_bottom)) => {
                        let at = |y: f32| x0 + (x1 - x0) * (y - top) / rows_down;
                        draw_line_segment_mut(&mut page, (x0, top), (at(gap_top), gap_top), Luma([40]));
                        draw_line_segment_mut(
                            &mut page,
                            (at(gap_bottom), gap_bottom),
                            (x1, top + rows_down),
                            Luma([40]),
                        );
                    }
                }
            }
        }
        let rows: Vec<(u32, u32)> = (0..18).map(|i| (430 + 50 * i, 480 + 50 * i)).collect();
        for &(row_top, row_bottom) in &rows {
            let centre = (560, ((row_top + row_bottom) / 2) as i32);
            for (rx, ry) in [(10, 23), (9, 22), (8, 21)] {
                imageproc::drawing::draw_hollow_ellipse_mut(&mut page, centre, rx, ry, Luma([30]));
            }
        }
        // The zeros' sides are found as rules, as on a photo.
        let (band_top, band_bottom) = with_neighbours(&rows, 9);
        let strokes = crate::scan::structure::vertical_rules_within(&page, band_top, band_bottom, 400, 900);
        assert!(strokes.iter().any(|&x| (540..=580).contains(&x)), "{strokes:?}");
        let heading = [530, 400, 720, 420];
        let spans = column_spans(&page, heading, &rows);
        for (i, &(left, right)) in spans.iter().enumerate() {
            let lean = 25.0 * ((rows[i].0 + rows[i].1) as f32 / 2.0 - top) / rows_down;
            let (true_left, true_right) = (505.5 - lean, 800.5 - lean);
            assert!((left as f32 - true_left - RULE_CLEARANCE as f32).abs() <= 4.0, "row {i}: {spans:?}");
            assert!((right as f32 - true_right + RULE_CLEARANCE as f32).abs() <= 4.0, "row {i}: {spans:?}");
        }
    }

    #[test]
    fn a_rule_not_found_in_some_rows_is_taken_on_the_line_between_those_that_found_it() {
        let rows: Vec<(u32, u32)> = (0..6).map(|i| (100 + 50 * i, 150 + 50 * i)).collect();
        // Found in rows 0, 1 and 5; a stroke far off in row 3.
        let found = vec![vec![500], vec![498], vec![], vec![420], vec![], vec![490]];
        assert_eq!(follow_rule(&rows, &found, 0, 500), [500, 498, 496, 494, 492, 490]);
        // Followed up from the row it was first found in.
        assert_eq!(follow_rule(&rows, &found, 5, 490), [500, 498, 496, 494, 492, 490]);
    }

    #[test]
    fn box_sides_are_taken_out_and_a_written_one_is_kept() {
        // Three boxes 30 px wide; a «1» written down the middle one, as tall
        // as the boxes.
        let mut crop = GrayImage::from_pixel(110, 40, Luma([255]));
        for x in [5.0, 35.0, 65.0, 95.0] {
            draw_line_segment_mut(&mut crop, (x, 0.0), (x, 39.0), Luma([30]));
        }
        draw_filled_rect_mut(&mut crop, DrawRect::at(49, 2).of_size(3, 36), Luma([20]));
        assert_eq!(box_sides(&crop), [5, 35, 65, 95]);
        let clean = without_box_sides(crop);
        // Cut to the boxes (sides 5 to 95) in white margins.
        assert_eq!(clean.dimensions(), (90 + 2 * CODE_MARGIN, 40));
        let at = |x: u32| x - 5 + CODE_MARGIN;
        assert!((0..40).all(|y| clean.get_pixel(at(35), y).0[0] == 255), "a side is gone");
        assert!((4..36).all(|y| clean.get_pixel(at(50), y).0[0] < 100), "the «1» stays");
        assert!(clean.pixels().filter(|p| p.0[0] < 100).count() <= 3 * 36 + 4, "nothing but the «1» is left");
    }

    fn word(text: &str, left: u32, top: u32) -> Word {
        Word { text: text.into(), left, top, width: 20 * text.len() as u32, height: 30, conf: 90.0, line_id: (1, 1, 1) }
    }

    #[test]
    fn a_cell_whose_faint_ink_holds_no_figure_is_blank_where_blank_means_zero() {
        let model = crate::model::FormModel::load(Some(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ng-2023-ec8a.toml"),
        ))
        .unwrap();
        // A cell 300×50 holding a faint smudge 30 levels below the paper
        // and nothing darker: ink to the cell's reader, no glyph to the
        // network (a glyph needs 40).
        let mut page = GrayImage::from_pixel(600, 300, Luma([250]));
        draw_filled_rect_mut(&mut page, DrawRect::at(280, 118).of_size(14, 14), Luma([220]));
        let read = |blank_is_zero| read_table_cell(&page, (200, 500), (100, 150), 20.0, blank_is_zero, &model);
        let as_blank = read(true);
        assert_eq!(as_blank.value, Some(0), "{:?}", as_blank.problem);
        // As sure as any 0 read from no digit: an equality must hold over it.
        assert_eq!(as_blank.confidence, crate::scan::reading::ZERO_WITHOUT_DIGIT_CONFIDENCE);
        assert!(as_blank.problem.as_deref().is_some_and(|p| p.contains("no figure")), "{:?}", as_blank.problem);
        let unread = read(false);
        assert_eq!(unread.value, None, "{:?}", unread.problem);
        assert_eq!(unread.problem.as_deref(), Some(hand::NO_GLYPH));
    }

    #[test]
    fn a_column_heading_is_found_among_other_words_however_misread() {
        let words =
            vec![word("PARTY", 100, 500), word("IN", 400, 500), word("FlGURES", 460, 500), word("IN", 800, 500)];
        let lines = crate::scan::lines::group_lines(&words);
        let found = find_heading(&lines, "IN FIGURES").expect("the heading");
        assert_eq!(found, [400, 500, 600, 530]);
        assert!(find_heading(&lines, "TOTAL VALID VOTES").is_none());
        // A label placed by the table's rows has no words.
        let mut with_placed = lines.clone();
        with_placed.push(TextLine { words: Vec::new(), folded: String::new(), letters: Some([100, 600, 700, 640]) });
        assert_eq!(find_heading(&with_placed, "IN FIGURES"), Some(found));
    }

    #[test]
    fn table_rows_end_on_the_rules_found_and_stop_at_the_page_end() {
        let rules: Vec<HorizontalRule> =
            [520u32, 575, 630].iter().map(|&y| HorizontalRule { y, left: 100, right: 900 }).collect();
        let heading = [400, 480, 600, 510];
        // From the rule under the heading to the total's row: the rows end on
        // the two rules found, the rest divide what is left evenly.
        let rows = table_rows(&rules, heading, Some(720), 4, 20.0, 2000).unwrap();
        assert_eq!(rows, [(520, 575), (575, 630), (630, 675), (675, 720)]);
        // No total: the rules' pitch, and rows past the page's end left out.
        let rows = table_rows(&rules, heading, None, 10, 20.0, 800).unwrap();
        assert_eq!(rows.len(), 5, "{rows:?}");
        assert_eq!(rows[1], (575, 630));
        // A pitch no table row has: nothing.
        assert!(table_rows(&rules, heading, Some(530), 4, 20.0, 2000).is_none());
        // A rule that ends left of the column is none of its rows' edges.
        let short =
            [HorizontalRule { y: 520, left: 100, right: 900 }, HorizontalRule { y: 560, left: 100, right: 300 }];
        let rows = table_rows(&short, heading, Some(720), 4, 20.0, 2000).unwrap();
        assert_eq!(rows[0], (520, 570));
    }

    #[test]
    fn a_tables_lines_share_one_value_column() {
        // Five lines at 840 ± 3; one took a letter's stroke (449), one a
        // figure's (1055).
        let cell = |left: u32, rows: (u32, u32)| Some(ValueCell { left, rows });
        let cells = [
            None,
            cell(839, (615, 644)),
            cell(449, (644, 677)),
            cell(841, (677, 712)),
            cell(843, (712, 745)),
            cell(1055, (745, 775)),
            cell(842, (775, 804)),
            None,
            // A second table lower down, its column further right.
            cell(1200, (900, 930)),
            cell(1203, (930, 960)),
            cell(1198, (960, 990)),
        ];
        let agreed = agree_on_value_column(&cells, 23.0);
        let edges: Vec<Option<u32>> = agreed.iter().map(|c| c.map(|(cell, _)| cell.left)).collect();
        assert_eq!(
            edges,
            [
                None,
                Some(839),
                Some(842),
                Some(841),
                Some(843),
                Some(842),
                Some(842),
                None,
                Some(1200),
                Some(1203),
                Some(1198)
            ]
        );
        assert!(agreed.iter().flatten().all(|(_, shared)| *shared));
        assert_eq!(agreed[2].map(|(c, _)| c.rows), Some((644, 677)));
        // Two lines are no column to agree on.
        let few = agree_on_value_column(&cells[1..3], 23.0);
        assert_eq!(few[1], Some((cells[2].unwrap(), false)));
    }

    #[test]
    fn rows_follow_a_photographed_tables_rules_as_they_grow_taller() {
        // Perspective: rows 45 px high at the top, a pixel more each row
        // down; the rules of rows 12 and 13 lost in a shadow.
        let mut edges = vec![600.0f32];
        for i in 0..18 {
            edges.push(edges[i] + 45.0 + i as f32);
        }
        let found: Vec<u32> =
            edges.iter().enumerate().filter(|(i, _)| !(12..=13).contains(i)).map(|(_, &y)| y as u32).collect();
        // The table's pitch: the median of the rules' gaps.
        let pitch = 53.0;
        let rows = rows_along_rules(600.0, pitch, 18, None, &found, 3000);
        for (i, &(top, bottom)) in rows.iter().enumerate() {
            let middle = (top + bottom) as f32 / 2.0;
            let true_middle = (edges[i] + edges[i + 1]) / 2.0;
            assert!((middle - true_middle).abs() <= 6.0, "row {i}: {rows:?}");
        }
        // Evenly divided, the rows would be most of a row off in the middle.
        let even = rows_along_rules(600.0, pitch, 18, None, &[], 3000);
        assert!(((even[10].0 + even[10].1) as f32 / 2.0 - (edges[10] + edges[11]) / 2.0).abs() > 30.0);
    }

    #[test]
    fn a_table_whose_heading_was_not_read_is_found_by_its_labels_in_order() {
        let model = crate::model::FormModel::load(Some(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ng-2023-ec8a.toml"),
        ))
        .unwrap();
        let members: Vec<&crate::model::Line> = model.party_lines().collect();
        let mut page = GrayImage::from_pixel(1654, 2339, Luma([255]));
        for x in [550.0, 850.0] {
            draw_line_segment_mut(&mut page, (x, 900.0), (x, 2000.0), Luma([40]));
        }
        // A, AA, AAC, ADC and ADP read in their rows (55 px apart), BP read
        // out of order, and the «A» of «FORM EC 8A» far to the right.
        let mut words: Vec<Word> = ["A", "AA", "AAC", "ADC", "ADP"]
            .iter()
            .enumerate()
            .map(|(i, text)| word(text, 400, 1000 + 55 * i as u32 - 12))
            .collect();
        words.push(word("BP", 400, 940));
        words.push(word("A", 1500, 200));
        for (i, w) in words.iter_mut().enumerate() {
            w.line_id = (1, 1, i as u32);
        }
        let lines = crate::scan::lines::group_lines(&words);
        let (rows, column) = rows_by_labels(&page, &lines, &[], &members, 24.0).expect("rows");
        assert_eq!(rows.len(), 18);
        let middle = |(top, bottom): (u32, u32)| (top + bottom) / 2;
        assert!(middle(rows[0]).abs_diff(1003) <= 2, "{rows:?}");
        assert!(middle(rows[4]).abs_diff(1003 + 4 * 55) <= 2, "{rows:?}");
        assert_eq!((column[0], column[2]), (551, 849));
    }
}
