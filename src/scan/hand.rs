//! Stage 5b, handwriting: the counts a commission secretary wrote by pen.
//!
//! Tesseract reads print; a pen's digits vary in size, slant and spacing,
//! break into pieces and touch. On a page whose counts are handwritten
//! (decided in `read`), every cell is read here instead: its ink is cut
//! into glyphs (connected components; parts one above the other and small
//! pieces joined to their glyph; parts side by side joined where the glyph
//! network reads them better as one digit; wide or unsure glyphs cut where
//! the network reads the parts surest), each glyph is classified by the
//! network with its runner-up digits, and the value is as sure as its least
//! sure digit, lowered for every guess made on the way. The likeliest other
//! readings are kept as candidates, for the rules to rank and the reviewer
//! to pick from; the arithmetic never raises a weak reading (see `check`).
//! Each count's crop is then read whole by the sequence reader, whose word
//! is weighed in by `second_opinion`.

use image::GrayImage;

use super::ink::{
    cell_ink, glyph_crop, height, joined_where, paper_and_darkest, paper_crop, rows_by_middle, runs_by_gap,
    share_columns, union, width, CellInk, RULE_RUN_HORIZONTAL,
};
use super::reading::{parse_count, zero_without_digit, ValueReading};
use super::second_opinion::{weigh_second_opinion, WordsForZero};
use crate::digits::{self, CLASSES, NOT_A_DIGIT};

type Rect = [u32; 4];

/// Ink is what is darker than the paper by this share of the way to the
/// region's darkest print: a ballpoint's line is fainter than print (blue
/// ink, a thin stroke), so the level sits nearer the paper than print's.
const HAND_INK_DEPTH: f32 = 0.3;
/// Vertical ink runs at least this many label-text heights long are rules
/// (box sides, a table's column rules), taken out so a digit touching one
/// stays a digit; a written digit's straightest stroke is shorter.
const VERTICAL_RULE_OF_LINE: f32 = 2.2;
/// A box side is a stroke this many times taller than wide, whose ends
/// stand within this many pixels of the box's top and bottom rules.
const SIDE_ASPECT: u32 = 4;
const SIDE_REACH: u32 = 3;
/// How far beside a stroke a rule is looked for, to tell a box's corner
/// (the rule stops at the stroke) from a table's row rule running on past a
/// written 1: half a text line.
const CORNER_REACH_OF_LINE: f32 = 0.5;
/// Components shorter than this share of the tallest glyph are pieces
/// (a 5's bar, a broken stroke), never digits of their own.
const PIECE_OF_HEIGHT: f32 = 0.45;
/// The most atoms (components side by side) one handwritten digit is read
/// from, and the log-odds each atom beyond the first costs: a digit broken
/// into parts is rarer than two digits, so joining must read clearly better.
const MAX_ATOMS_PER_DIGIT: usize = 3;
const MERGE_LOG_PRIOR: f32 = -0.7;
/// Two components sharing this share of the narrower one's columns are one
/// digit broken across (print's rule, a half, would join a slanted digit
/// to the "1" it leans over).
const STACKED_SHARE: f32 = 0.8;
/// A piece joins the glyph it stands within this share of the height from.
const PIECE_JOIN_REACH: f32 = 0.3;
/// Glyphs of one count stand closer than this many heights apart; further
/// off is other writing (a neighbour's count, a stray mark).
const MAX_GAP_OF_HEIGHT: f32 = 1.5;
/// Ink less deep under the paper than this share of the region's darkest
/// component is not written there (see `without_faint_ink`): a ballpoint's
/// digits of one count differ in depth by a third at most.
const FAINT_OF_DARKEST: f32 = 0.5;
/// The tallest a handwritten digit may be, against the label's text height
/// (taller ink is a rule or a box side).
const MAX_HEIGHT_OF_LINE: f32 = 3.5;
/// The least a handwritten digit's height may be, against the label's.
const MIN_HEIGHT_OF_LINE: f32 = 0.45;
/// A glyph the network reads as one digit this surely, and too narrow for
/// two digits (see `could_be_two`), is kept whole; others are read as their
/// best cut into digits (which may be no cut).
const WHOLE_SURE: f32 = 0.9;
/// Atoms are joined into one digit only while no wider than this share of
/// its height.
const MAX_WHOLE_WIDTH_OF_HEIGHT: f32 = 1.2;
/// Glyphs narrower than this share of their height are never cut (two
/// touching digits, even a 1 beside another, are about this wide)...
const MIN_CUT_WIDTH_OF_HEIGHT: f32 = 0.85;
/// ...unless the network reads the glyph as not one digit: then two 1s
/// run together («11»), or a 1 leaning on a digit, may be this narrow.
const MIN_PAIR_WIDTH_OF_HEIGHT: f32 = 0.25;
/// A digit cut from touching ink is between these shares of its height wide.
const PART_WIDTH_OF_HEIGHT: (f32, f32) = (0.1, 1.1);
/// Cut positions are tried every this share of the height.
const CUT_STEP_OF_HEIGHT: f32 = 1.0 / 15.0;
/// The log-odds a cut costs: touching digits are rarer than a digit the
/// network reads a little unsurely, so cutting must win clearly (a "4" read
/// at 0.85 stays a "4" against a "1" and a "4" read at 0.95 each).
const CUT_LOG_PRIOR: f32 = -0.5;
/// A value whose glyphs were cut apart on a guess is this much less sure:
/// below the acceptance threshold unless the network is near certain, so
/// mostly only an exact equality over a surely read value lets it pass (see
/// `check`; a value no equality checks never passes with a cut).
const CUT_GUESS_FACTOR: f32 = 0.7;
/// A cut whose every digit the network reads at least this surely stands
/// (measured: such cuts read right; less sure ones were a third wrong).
const SURE_CUT: f32 = 0.995;
/// Such a cut parts the digits without a guess when every glyph cut read,
/// whole, as one digit at most this surely (measured on two synthetic
/// sets: 105 such cuts read right, none wrong; the one wrong sure cut,
/// 3092 read 30971, had its glyph whole read as one digit at 0.18).
const CUT_WHOLE_AS_DIGIT: f32 = 0.01;
/// A glyph wide enough for two touching digits, read as one digit at least
/// this surely, is taken for one digit (see `could_be_two`).
const SURE_WIDE_DIGIT: f32 = 0.995;
/// A leading zero is not how counts are written.
const LEADING_ZERO_FACTOR: f32 = 0.4;
/// Readings kept per value (the value itself and its likeliest rivals).
const CANDIDATES: usize = 4;
/// How far above and below a station line's text its handwritten number
/// is looked for (twice this), in label text heights.
const STATION_REACH_OF_LINE: f32 = 2.0;
/// A station number's digits stand closer than this many heights apart;
/// the caption's words stand further off.
const STATION_GAP_OF_HEIGHT: f32 = 0.8;
/// A glyph before a station number, where the layout pass read a word
/// that is no number, shorter than this share of the tallest glyph after
/// it, is printed (the «№» at the caption's size), not written: the sign,
/// left out of the number, unless the network is sure it is a digit.
const SIGN_PRINTED_OF_DIGITS: f32 = 0.75;
/// Up to this share, it is the sign when the network takes it for "not one
/// digit" at least [`SIGN_SURE`] (small handwriting is little taller than
/// print); as tall as the digits, it is written.
const SIGN_MAX_OF_DIGITS: f32 = 0.9;
const SIGN_SURE: f32 = 0.5;
/// The share of a glyph's box that must lie in such a word, or of the
/// word's box in the glyph (the layout pass may box part of the «№» only).
const SIGN_WORD_OVERLAP: f32 = 0.5;
/// A sign this far (in its heights) from the number's first glyph stands
/// apart: nothing of the number went with it.
const SIGN_CLEARANCE_OF_HEIGHT: f32 = 0.1;
/// A station number's handwritten digits are no taller than this many label
/// text heights (taller ink is a title line's letters run together).
const MAX_STATION_HEIGHT_OF_LINE: f32 = 2.2;
/// The most digits a station number has.
const MAX_STATION_DIGITS: u32 = 6;
/// The blank a station number is written on is a thin printed underline
/// which, photographed, breaks into dashes up to this many pixels apart:
/// bridged, it is still a rule (whole, it merged with the digits written
/// on it into one glyph read as no digit). Counts' cells keep unbroken
/// rules only (bridging there cost their digits more than it gave).
const STATION_RULE_GAP: u32 = 3;
/// The «№» cut up reads as digits below this (on three synthetic sets at
/// most 0.967), but for its «o» over the sign's bar, which may read as a
/// 6 up to 0.9995; a digit read surelier before a clean print's number is
/// otherwise written: «116786» beside «86», a print that lost its 7, is no
/// print of 86.
const SIGN_PIECE_SURE: f32 = 0.99;
/// A station print may hold one glyph the network doubts is one digit
/// when at least this many others are digits.
const MIN_DIGITS_BESIDE_UNCLEAR: usize = 2;
/// One clean print of the station number stands on its own when the two
/// readers agree on it at least this surely: the top band of their
/// calibration table (`eval-sequence`), where composed counts read right
/// 0.997 of the time or more.
const LONE_PRINT_CONFIDENCE: f32 = 0.995;
/// One print of the station number alone (or two that differ) is this much
/// less sure: for a person to confirm.
const UNCONFIRMED_STATION_FACTOR: f32 = 0.5;
/// Margin (pixels) of the debug crop around the glyphs.
const CROP_PAD: u32 = 3;
/// The slash between the station captions stands a space from the words
/// on either side; a line height is several spaces.
const SLASH_REACH_OF_LINE: f32 = 1.0;

/// One glyph of a count as the network read it: all class probabilities.
#[derive(Clone)]
struct GlyphRead {
    probs: [f32; CLASSES],
}

impl GlyphRead {
    /// The likeliest digit and its probability (`None` when "not one
    /// digit" is likeliest).
    fn best(&self) -> (Option<u8>, f32) {
        let (class, p) = self
            .probs
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .map(|(c, p)| (c, *p))
            .unwrap_or((NOT_A_DIGIT, 0.0));
        ((class != NOT_A_DIGIT).then_some(class as u8), p)
    }

    /// How sure the network is which digit the glyph is, were it one
    /// digit: its likeliest digit's share of the ten digits' probability
    /// ("not one digit", a doubt about where digits part, left out).
    fn identity(&self) -> f32 {
        let total: f32 = self.probs[..NOT_A_DIGIT].iter().sum();
        if total > 0.0 {
            self.likeliest_digit_probability() / total
        } else {
            0.0
        }
    }

    /// The likeliest digit's probability, "not one digit" aside.
    fn likeliest_digit_probability(&self) -> f32 {
        self.probs[..NOT_A_DIGIT].iter().copied().fold(0.0, f32::max)
    }

    /// The digits by probability, likeliest first.
    fn ranked_digits(&self) -> Vec<(u8, f32)> {
        let mut digits: Vec<(u8, f32)> = (0..10u8).map(|d| (d, self.probs[d as usize])).collect();
        digits.sort_by(|a, b| b.1.total_cmp(&a.1));
        digits
    }
}

/// The network's reading of one glyph's crop, unsure glyphs looked at
/// twice ([`digits::classify_looking_twice`]).
fn read_crop(crop: &GrayImage) -> Option<GlyphRead> {
    let input = digits::glyph_input(crop)?;
    Some(GlyphRead { probs: digits::classify_looking_twice(digits::network(), &input) })
}

/// The problem of a region with no count's ink in it.
pub const EMPTY_CELL: &str = "the cell is empty";
/// Why a cell whose ink the glyph reader found no glyph in (rule pieces,
/// specks, a stroke taken out with a rule) has no count.
pub const NO_GLYPH: &str = "the cell holds ink but no glyph";

/// A written dash («—», nil): a stroke at least this many label-text
/// heights long, at least this many times as long as it is high, alone in
/// its row and clear of the row's rules by this many pixels.
const DASH_MIN_LENGTH_OF_LINE: f32 = 0.8;
const DASH_MIN_LENGTH_OF_HEIGHT: u32 = 3;
const DASH_RULE_CLEARANCE: u32 = 3;

/// Where on the page a handwritten count is looked for.
#[derive(Debug, Clone, Copy)]
pub struct Place {
    /// The region searched (page coordinates).
    pub region: Rect,
    /// The rows (top, bottom) the count's middle must lie in: nearer its
    /// own label than a neighbour's.
    pub own_rows: (u32, u32),
    /// The middle of the label's text, and its text height.
    pub label_centre_y: u32,
    pub line_height: f32,
}

/// Whether a leading zero is a doubt: a count is not written «07», a code's
/// box group is («04»).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LeadingZero {
    Doubtful,
    Expected,
}

impl LeadingZero {
    /// A count's leading zero on a form whose writers put zeros before
    /// counts (the model's `leading_zeros`) or not.
    pub fn for_counts(leading_zeros: bool) -> LeadingZero {
        if leading_zeros {
            LeadingZero::Expected
        } else {
            LeadingZero::Doubtful
        }
    }
}

/// Reads the digits of a code's box group at `place` (box sides taken out):
/// as a count, but a leading zero is no doubt.
pub fn read_hand_code(page: &GrayImage, place: &Place, max_digits: u32) -> ValueReading {
    read_hand_cell(page, place, &[], max_digits, LeadingZero::Expected)
}

/// Paper added round a lone count's crop, so its ink never touches the
/// region's edge (ink cut by the edge is taken for a neighbour's).
const LONE_CROP_MARGIN: u32 = 8;
/// A lone count's digits against the printed text a page would have beside
/// them (`Place::line_height`): handwriting stands a little taller.
const LONE_DIGITS_OF_LINE: f32 = 1.2;

/// Reads a crop holding one handwritten count and nothing else, as
/// `read_hand_cell` reads a cell (for measuring the reader apart from
/// finding the cell).
pub fn read_hand_crop(crop: &GrayImage) -> ValueReading {
    let m = LONE_CROP_MARGIN;
    let (w, h) = (crop.width() + 2 * m, crop.height() + 2 * m);
    let mut page = GrayImage::from_pixel(w, h, image::Luma([255]));
    image::imageops::replace(&mut page, crop, m as i64, m as i64);
    let ink_rows: Vec<u32> = crop.enumerate_pixels().filter(|(_, _, p)| p.0[0] < 128).map(|(_, y, _)| y).collect();
    let ink_height = match (ink_rows.iter().min(), ink_rows.iter().max()) {
        (Some(top), Some(bottom)) => bottom - top + 1,
        _ => crop.height(),
    };
    let place = Place {
        region: [0, 0, w, h],
        own_rows: (0, h),
        label_centre_y: h / 2,
        line_height: (ink_height as f32 / LONE_DIGITS_OF_LINE).max(4.0),
    };
    read_hand_cell(&page, &place, &[], MAX_LONE_DIGITS, LeadingZero::Doubtful)
}

/// The most digits a lone count is read with.
const MAX_LONE_DIGITS: u32 = 7;

/// Reads the handwritten count at `place` on the page.
pub fn read_hand_cell(
    page: &GrayImage,
    place: &Place,
    letter_boxes: &[Rect],
    max_digits: u32,
    leading_zero: LeadingZero,
) -> ValueReading {
    let Place { region, own_rows, label_centre_y, line_height } = *place;
    let [l, t, r, b] = region;
    if r <= l + 4 || b <= t + 4 {
        return ValueReading {
            handwritten: true,
            problem: Some("no room to the right of the label".into()),
            ..Default::default()
        };
    }
    let ink = hand_ink(page, region, line_height, letter_boxes, 0);
    let centre = label_centre_y.saturating_sub(t);
    let own =
        within_rules((own_rows.0.saturating_sub(t), own_rows.1.saturating_sub(t)), centre, &rule_rows(&ink.rules));
    let boxes: Vec<Rect> = ink.components.iter().map(|c| c.1).collect();
    // A dash is how many write "none": 0, as a digit-high dash of a heavy
    // pen too.
    if let Some([dl, dt, dr, db]) = lone_dash(&boxes, own, line_height) {
        return ValueReading { cell: Some([l + dl, t + dt, l + dr, t + db]), ..zero_without_digit("a dash: 0") };
    }
    let Some(group) = count_group(&boxes, centre, own, line_height) else {
        return ValueReading { handwritten: true, problem: Some(EMPTY_CELL.into()), ..Default::default() };
    };
    let mut reading = interpret(read_group(page, &ink, &group, &[]), max_digits, leading_zero);
    weigh_second_opinion(&mut reading, max_digits, WordsForZero::Count);
    reading
}

/// Rows sloping less than this (rows per column: tan 1°, the slope below
/// which `structure` leaves a page unturned, as the readers tolerate it)
/// are read where they stand; steeper, the cell is levelled first (the
/// resampling softens a stroke's edge a little).
pub(super) const MIN_LEVELLED_SLOPE: f32 = 0.0175;

/// Reads the handwritten count at `place`, whose rows slope by `slope`
/// rows per column to the right (`place`'s rows and label middle where
/// they stand at its region's left edge): the region is first sheared
/// level, so that its rules run along pixel rows (where they are taken
/// out) and the rows hold the same figure all along. A curled sheet's
/// rows rise or fall by a row and more across a figure's cell.
pub fn read_hand_cell_along(
    page: &GrayImage,
    place: &Place,
    slope: f32,
    letter_boxes: &[Rect],
    max_digits: u32,
    leading_zero: LeadingZero,
) -> ValueReading {
    if slope.abs() < MIN_LEVELLED_SLOPE {
        return read_hand_cell(page, place, letter_boxes, max_digits, leading_zero);
    }
    let [l, t, r, b] = place.region;
    let (w, h) = (r.saturating_sub(l), b.saturating_sub(t));
    let page_row = |x: u32, y: u32| t as f32 + y as f32 + slope * x as f32;
    // Each column moved up or down by its share of a row, between the two
    // page rows it falls between (a stroke's edge keeps its shade).
    let level = GrayImage::from_fn(w, h, |x, y| {
        let row = page_row(x, y);
        if row < 0.0 || row + 1.0 >= page.height() as f32 || l + x >= page.width() {
            return image::Luma([255]);
        }
        image::Luma([super::structure::level_between_rows(page, l + x, row)])
    });
    let to_level = |bx: &Rect| {
        let shift = |x: u32| (slope * x.saturating_sub(l) as f32).round() as i64;
        let (top, bottom) = (
            bx[1] as i64 - t as i64 - shift(bx[2]).max(shift(bx[0])),
            bx[3] as i64 - t as i64 - shift(bx[0]).min(shift(bx[2])),
        );
        [bx[0].saturating_sub(l), top.max(0) as u32, bx[2].saturating_sub(l), bottom.max(0) as u32]
    };
    let letters: Vec<Rect> = letter_boxes.iter().filter(|bx| bx[2] > l && bx[0] < r).map(to_level).collect();
    let levelled = Place {
        region: [0, 0, w, h],
        own_rows: (place.own_rows.0.saturating_sub(t), place.own_rows.1.saturating_sub(t)),
        label_centre_y: place.label_centre_y.saturating_sub(t),
        line_height: place.line_height,
    };
    let mut value = read_hand_cell(&level, &levelled, &letters, max_digits, leading_zero);
    // The figure's box back on the page: its corners' rows sheared back.
    value.cell = value.cell.map(|[x0, y0, x1, y1]| {
        let (top, bottom) = (page_row(x0, y0).min(page_row(x1, y0)), page_row(x0, y1).max(page_row(x1, y1)));
        [l + x0, top.max(0.0) as u32, l + x1, bottom.max(0.0) as u32]
    });
    value
}

/// The one written dash in a cell that holds no digit: of the ink whose
/// middle lies in the count's rows (`own`), a single long, low stroke,
/// clear of the rules that bound the rows (a piece of a rule is no dash).
fn lone_dash(components: &[Rect], own: (u32, u32), line_height: f32) -> Option<Rect> {
    let in_rows: Vec<&Rect> = components.iter().filter(|b| (own.0..=own.1).contains(&((b[1] + b[3]) / 2))).collect();
    let [dash] = in_rows.as_slice() else { return None };
    let long = width(dash) as f32 >= DASH_MIN_LENGTH_OF_LINE * line_height;
    let low = width(dash) >= DASH_MIN_LENGTH_OF_HEIGHT * height(dash).max(1);
    let clear = dash[1] >= own.0 + DASH_RULE_CLEARANCE && dash[3] + DASH_RULE_CLEARANCE <= own.1;
    (long && low && clear).then_some(**dash)
}

/// The rows a count's middle may lie in (`own`, region coordinates),
/// reaching to the rules nearest above and below its label's middle
/// (`centre`) where those lie further out: a table's row ends at its rule,
/// however far the label stands from it, and a count written low on the
/// rule under it (or high under the one above) is still its row's. The
/// region ends at the neighbouring labels, so these rules are never beyond
/// them.
fn within_rules(own: (u32, u32), centre: u32, rule_rows: &[u32]) -> (u32, u32) {
    let above = rule_rows.iter().copied().filter(|&y| y < centre).max();
    let below = rule_rows.iter().copied().filter(|&y| y > centre).min();
    (above.map_or(own.0, |y| y.min(own.0)), below.map_or(own.1, |y| y.max(own.1)))
}

/// A region's ink as handwriting: its components, without rules and specks.
struct HandInk {
    region: Rect,
    labels: image::ImageBuffer<image::Luma<u32>, Vec<u32>>,
    /// (component id, box in region coordinates).
    components: Vec<(u32, Rect)>,
    /// The rule pixels taken out (region coordinates): never part of a
    /// glyph's crop, however near its strokes.
    removed: GrayImage,
    /// The long horizontal ink runs found (rules, box edges).
    rules: GrayImage,
    /// The paper's shade in the region.
    paper: u8,
}

fn hand_ink(page: &GrayImage, region: Rect, line_height: f32, letter_boxes: &[Rect], rule_gap: u32) -> HandInk {
    let [l, t, r, b] = region;
    let (w, h) = (r - l, b - t);
    let (paper, darkest) = paper_and_darkest(page, region);
    let level = paper.saturating_sub((HAND_INK_DEPTH * paper.saturating_sub(darkest) as f32) as u8);
    let vertical_run = (line_height * VERTICAL_RULE_OF_LINE) as u32;
    let CellInk { labels, boxes, rules, removed } =
        cell_ink(page, region, level, letter_boxes, Some(vertical_run), rule_gap);
    let min_area = (line_height * line_height * 0.02) as u32;
    // Ink cut by the region's edge continues outside it: not this count's.
    let cut = |bx: &Rect| bx[1] == 0 || bx[3] >= h || bx[2] >= w;
    let tallest = line_height * MAX_HEIGHT_OF_LINE;
    // A box side too short for the vertical rule mask: a thin stroke that
    // runs from the box's top rule to its bottom rule (a written 1 that
    // touches both is taller than any digit of the count).
    let rule_at = |x0: u32, x1: u32, y: u32| {
        y < h && (x0.saturating_sub(SIDE_REACH)..(x1 + SIDE_REACH).min(w)).any(|x| rules.get_pixel(x, y).0[0] > 0)
    };
    // A box's side ends its top or bottom rule: the rule turns there (a
    // corner), running on to one side of it only. A rule that runs on past
    // the stroke on both sides, top and bottom, is a table's row rule, and
    // the stroke across the row between them a written 1.
    let reach = ((line_height * CORNER_REACH_OF_LINE) as u32).max(SIDE_REACH + 2);
    let runs_on_both_sides = |bx: &Rect, y: u32| {
        // A rule off the level by a row or two at the reach's far end.
        let near = |x0: u32, x1: u32| (y.saturating_sub(SIDE_REACH)..=y + SIDE_REACH).any(|yy| rule_at(x0, x1, yy));
        let left = bx[0] > reach && near(bx[0] - reach, bx[0].saturating_sub(SIDE_REACH + 1));
        let right = bx[2] + reach < w && near(bx[2] + SIDE_REACH + 1, bx[2] + reach);
        left && right
    };
    let is_side = |bx: &Rect| {
        let top = (bx[1].saturating_sub(SIDE_REACH)..=bx[1]).find(|&y| rule_at(bx[0], bx[2], y));
        let bottom = (bx[3].saturating_sub(1)..bx[3] + SIDE_REACH).find(|&y| rule_at(bx[0], bx[2], y));
        let (Some(top), Some(bottom)) = (top, bottom) else { return false };
        width(bx) * SIDE_ASPECT <= height(bx) && !(runs_on_both_sides(bx, top) && runs_on_both_sides(bx, bottom))
    };
    let components: Vec<(u32, Rect)> = boxes
        .iter()
        .filter(|(_, (bx, area))| *area >= min_area && !cut(bx) && !is_side(bx) && (height(bx) as f32) <= tallest)
        .map(|(id, (bx, _))| (*id, *bx))
        .collect();
    let components = without_faint_ink(page, region, &labels, paper, components);
    HandInk { region, labels, components, removed, rules, paper }
}

/// `components` without those whose ink is much fainter than the darkest
/// one's (below [`FAINT_OF_DARKEST`] of its depth under the paper): what a
/// stamp leaves where its red ink was taken out, a smudge, print showing
/// through the sheet. One pen writes a count's digits about as dark as
/// each other; a stamp's grey residue beside a «25» was read as two more
/// digits («2343»). A component's depth is its darkest tenth's, so a thin
/// stroke's blurred edge does not make it faint.
fn without_faint_ink(
    page: &GrayImage,
    region: Rect,
    labels: &image::ImageBuffer<image::Luma<u32>, Vec<u32>>,
    paper: u8,
    components: Vec<(u32, Rect)>,
) -> Vec<(u32, Rect)> {
    let depth_of = |(id, bx): &(u32, Rect)| {
        let mut shades: Vec<u8> = Vec::new();
        for y in bx[1]..bx[3] {
            for x in bx[0]..bx[2] {
                if labels.get_pixel(x, y).0[0] == *id {
                    shades.push(page.get_pixel(region[0] + x, region[1] + y).0[0]);
                }
            }
        }
        if shades.is_empty() {
            return 0;
        }
        let core = shades.len() / 10;
        paper.saturating_sub(*shades.select_nth_unstable(core).1)
    };
    let depths: Vec<u8> = components.iter().map(depth_of).collect();
    let darkest = depths.iter().copied().max().unwrap_or(0) as f32;
    components
        .into_iter()
        .zip(depths)
        .filter(|(_, d)| *d as f32 >= darkest * FAINT_OF_DARKEST)
        .map(|(c, _)| c)
        .collect()
}

/// The rows a horizontal rule runs along, in a region's mask of `rules`.
fn rule_rows(rules: &GrayImage) -> Vec<u32> {
    let (w, h) = rules.dimensions();
    (0..h)
        .filter(|&y| (0..w).filter(|&x| rules.get_pixel(x, y).0[0] > 0).count() as u32 >= RULE_RUN_HORIZONTAL)
        .collect()
}

/// The glyphs of one written number, read.
struct ReadGlyphs {
    glyphs: Vec<GlyphRead>,
    /// Where touching glyphs were cut apart on a guess (1-based glyph index).
    cuts: Vec<usize>,
    /// The most surely any glyph so cut read, whole, as one digit.
    cut_whole_as_digit: f32,
    /// The number's ink box (page coordinates) and its cleaned crop.
    cell: Rect,
    crop: GrayImage,
    /// A glyph wide enough for two touching digits was read as one.
    wide_kept: bool,
    /// Where the digits part was a guess, the other way of parting them.
    partings: Vec<Parting>,
    /// The sign left out before the number, if there was one.
    sign: Option<Sign>,
}

/// The other way of parting a number's glyphs where the chosen one was a
/// guess: `glyphs[at..at + len]` read as `instead` (touching digits cut
/// apart, kept whole; a wide glyph kept whole, cut).
struct Parting {
    at: usize,
    len: usize,
    instead: Vec<GlyphRead>,
}

/// A sign (the «№») found before a number and left out.
struct Sign {
    /// It stands apart from the number's first glyph: no digit of the
    /// number can have been taken with it.
    clear: bool,
}

/// Reads the glyphs of `group` (components, region coordinates): pieces
/// joined to their glyph, each glyph by the network, one not surely a digit
/// (or wide enough for two) read as the best cut into digits. With
/// `signs` (page boxes of words the layout pass read as no number: the
/// printed «№»), a first glyph among them, printed-short and not surely a
/// digit, is the sign: kept whole and left out, see [`ReadGlyphs::sign`].
fn read_group(page: &GrayImage, ink: &HandInk, group: &[Rect], signs: &[Rect]) -> ReadGlyphs {
    let [l, t, r, b] = ink.region;
    let (w, h) = (r - l, b - t);
    let chosen_ids: std::collections::HashSet<u32> =
        ink.components.iter().filter(|(_, bx)| group.contains(bx)).map(|(id, _)| *id).collect();
    let chosen_ink = GrayImage::from_fn(w, h, |x, y| {
        image::Luma([if chosen_ids.contains(&ink.labels.get_pixel(x, y).0[0]) { 255 } else { 0 }])
    });
    let mask = super::ink::dilate_square(&chosen_ink, 2);
    let keep = |x: u32, y: u32| {
        let (cx, cy) = (x.wrapping_sub(l), y.wrapping_sub(t));
        cx < w && cy < h && mask.get_pixel(cx, cy).0[0] > 0 && ink.removed.get_pixel(cx, cy).0[0] == 0
    };
    let to_page = |c: &Rect| [c[0] + l, c[1] + t, c[2] + l, c[3] + t];
    let cell = to_page(&union(group.iter().copied()).expect("a group is never empty"));
    let crop_rect =
        [cell[0].saturating_sub(CROP_PAD), cell[1].saturating_sub(CROP_PAD), cell[2] + CROP_PAD, cell[3] + CROP_PAD];
    // The whole count's crop, for the sequence reader: everything in the
    // number's box but the rules, so a faint stroke the glyphs lost is
    // still there for it.
    let no_rule = |x: u32, y: u32| {
        let (cx, cy) = (x.wrapping_sub(l), y.wrapping_sub(t));
        cx < w && cy < h && ink.removed.get_pixel(cx, cy).0[0] == 0
    };
    let crop = paper_crop(page, crop_rect, no_rule, ink.paper);

    let mut glyphs: Vec<GlyphRead> = Vec::new();
    let mut cuts = Vec::new();
    let mut cut_whole_as_digit = 0.0f32;
    let mut wide_kept = false;
    let mut partings = Vec::new();
    let mut sign = None;
    let atoms = join_pieces(&stacked_parts_joined(group));
    let columns = join_broken(&atoms, |c: &Rect| read_crop(&glyph_crop(page, to_page(c), keep)));
    let lefts: Vec<u32> = columns.iter().map(|(c, _)| c[0]).collect();
    // The tallest glyph after the first: what a printed sign is shorter than.
    let tallest_after = columns.iter().skip(1).map(|(c, _)| height(c)).max().unwrap_or(0);
    for (i, (column, whole)) in columns.into_iter().enumerate() {
        let Some(whole) = whole else { continue };
        let (digit, sure) = whole.best();
        // The printed «№» before the number, where the layout pass read a
        // word that is no number: left out, and never cut (cut up it reads
        // as digits, "16").
        let on_sign = || {
            let glyph = to_page(&column);
            signs
                .iter()
                .any(|w| overlap_share(&glyph, w) >= SIGN_WORD_OVERLAP || overlap_share(w, &glyph) >= SIGN_WORD_OVERLAP)
        };
        if i == 0 && on_sign() && looks_printed_sign(height(&column), tallest_after, digit, sure) {
            let gap = lefts.get(i + 1).map_or(u32::MAX, |x| x.saturating_sub(column[2]));
            sign = Some(Sign { clear: gap as f32 >= SIGN_CLEARANCE_OF_HEIGHT * height(&column) as f32 });
            continue;
        }
        let sure_digit = digit.is_some() && sure >= WHOLE_SURE;
        let cut_it = !sure_digit || could_be_two(&column);
        let narrowest = if digit.is_none() { MIN_PAIR_WIDTH_OF_HEIGHT } else { MIN_CUT_WIDTH_OF_HEIGHT };
        let segmentation = if cut_it { segment(page, to_page(&column), narrowest, &keep) } else { None };
        // A glyph too narrow for two digits but for 1s is cut only into
        // digits each read surely: a 1 with a flourish is not one digit to
        // the network either, and its cut reads as «11» unsurely.
        let narrow = !could_be_two(&column);
        let sure_parts = |parts: &[GlyphRead]| parts.iter().all(|p| p.best().1 >= WHOLE_SURE);
        match segmentation {
            Some(Segmentation { best: parts, .. }) if parts.len() > 1 && (!narrow || sure_parts(&parts)) => {
                // The glyph whole is the other way of parting it (read as
                // its likeliest digit, should the network doubt it is one).
                cut_whole_as_digit = cut_whole_as_digit.max(whole.ranked_digits()[0].1);
                partings.push(Parting { at: glyphs.len(), len: parts.len(), instead: vec![whole] });
                cuts.push(glyphs.len() + 1);
                glyphs.extend(parts);
            }
            segmentation => {
                // The network knows touching digits for "not one digit"
                // (it was trained on them): a wide glyph it reads as one
                // digit near certainly is one.
                let kept_wide = could_be_two(&column) && sure < SURE_WIDE_DIGIT;
                if let Some(split) = segmentation.and_then(|s| s.split).filter(|_| kept_wide || narrow) {
                    partings.push(Parting { at: glyphs.len(), len: 1, instead: split });
                }
                wide_kept |= kept_wide;
                glyphs.push(whole)
            }
        }
    }
    ReadGlyphs { glyphs, cuts, cut_whole_as_digit, cell, crop, wide_kept, partings, sign }
}

/// The share of `a`'s area that lies inside `b`.
fn overlap_share(a: &Rect, b: &Rect) -> f32 {
    let w = a[2].min(b[2]).saturating_sub(a[0].max(b[0]));
    let h = a[3].min(b[3]).saturating_sub(a[1].max(b[1]));
    (w * h) as f32 / (width(a) * height(a)).max(1) as f32
}

/// Whether a glyph is wide enough to be two touching digits (a 1 beside
/// another digit is about this wide), however surely it reads as one.
fn could_be_two(glyph: &Rect) -> bool {
    width(glyph) as f32 >= MIN_CUT_WIDTH_OF_HEIGHT * height(glyph) as f32
}

/// The atoms of a number (left to right) joined where the network reads
/// them better as one digit than apart: a digit written in strokes that do
/// not touch reads as one, two digits read as two. Each extra atom in a
/// digit costs [`MERGE_LOG_PRIOR`], so only a clearly better reading joins.
/// Returns each digit's box with the network's reading of it (`None`: no
/// ink), so no glyph is read twice.
fn join_broken(atoms: &[Rect], read: impl Fn(&Rect) -> Option<GlyphRead>) -> Vec<(Rect, Option<GlyphRead>)> {
    let n = atoms.len();
    // best[i]: (log probability, atoms in the last digit, its box and
    // reading) of atoms[..i].
    type Step = (f32, usize, Rect, Option<GlyphRead>);
    let mut best: Vec<Option<Step>> = vec![None; n + 1];
    best[0] = Some((0.0, 0, [0; 4], None));
    for i in 1..=n {
        for len in 1..=MAX_ATOMS_PER_DIGIT.min(i) {
            let Some(before) = best[i - len].as_ref().map(|b| b.0) else { continue };
            let joined = union(atoms[i - len..i].iter().copied()).expect("a run of atoms");
            if len > 1 && width(&joined) as f32 > MAX_WHOLE_WIDTH_OF_HEIGHT * height(&joined) as f32 {
                continue;
            }
            let reading = read(&joined);
            let p =
                reading.as_ref().map_or(f32::MIN_POSITIVE, |g| g.likeliest_digit_probability().max(f32::MIN_POSITIVE));
            let score = before + p.ln() + (len - 1) as f32 * MERGE_LOG_PRIOR;
            if best[i].as_ref().is_none_or(|b| score > b.0) {
                best[i] = Some((score, len, joined, reading));
            }
        }
    }
    let mut out = Vec::new();
    let mut i = n;
    while i > 0 {
        let (_, len, joined, reading) = best[i].take().expect("every prefix has a best reading");
        out.push((joined, reading));
        i -= len;
    }
    out.reverse();
    out
}

/// The value a number's read glyphs give, as sure as its least sure digit,
/// lowered for every guess; with its likeliest other readings.
fn interpret(read: ReadGlyphs, max_digits: u32, leading_zero: LeadingZero) -> ValueReading {
    let ReadGlyphs { glyphs, cuts, cut_whole_as_digit, cell, crop, wide_kept, partings, .. } = read;
    let mut reading = ValueReading { handwritten: true, cell: Some(cell), crop: Some(crop), ..Default::default() };
    if glyphs.is_empty() {
        reading.problem = Some(NO_GLYPH.into());
        return reading;
    }
    let mut text = String::new();
    let mut least = 1.0f32;
    let mut least_identity = 1.0f32;
    let mut doubts = Vec::new();
    for (i, glyph) in glyphs.iter().enumerate() {
        let (digit, p) = glyph.best();
        let ranked = glyph.ranked_digits();
        match digit {
            Some(d) => {
                text.push(char::from(b'0' + d));
                least = least.min(p);
                least_identity = least_identity.min(glyph.identity());
                if p < WHOLE_SURE {
                    let (rival, q) = ranked.iter().copied().find(|(r, _)| *r != d).unwrap_or((d, 0.0));
                    doubts.push(format!("digit {} is {d} ({p:.2}) or {rival} ({q:.2})", i + 1));
                }
            }
            None => {
                // Not one digit: the likeliest digit stands in, unsure.
                let (d, q) = ranked[0];
                text.push(char::from(b'0' + d));
                let sure = q.min(1.0 - p);
                least = least.min(sure);
                least_identity = least_identity.min(sure);
                doubts.push(format!("glyph {} is not clearly one digit (likeliest {d}, {q:.2})", i + 1));
            }
        }
    }
    reading.candidates = candidates(&glyphs, &partings, max_digits);
    let mut notes = vec![format!("handwritten: the glyph network read '{text}' (least sure digit {least:.2})")];
    match parse_count(&text, max_digits) {
        Ok(value) => reading.value = Some(value),
        Err(problem) => {
            reading.problem = Some(format!("{}; {problem}", notes[0]));
            return reading;
        }
    }
    reading.ocr_confidence = least;
    reading.confidence = least;
    reading.identity_confidence = least_identity;
    // A sure cut of a glyph the network is sure is no one digit parts the
    // digits without a guess.
    let sure_parts = least >= SURE_CUT;
    let sure_cuts = sure_parts && cut_whole_as_digit <= CUT_WHOLE_AS_DIGIT;
    if !cuts.is_empty() {
        let at: Vec<String> = cuts.iter().map(|i| format!("from digit {i}")).collect();
        if !sure_parts {
            reading.confidence *= CUT_GUESS_FACTOR;
            reading.cut_on_guess = true;
            doubts.push(format!("touching digits were cut apart on a guess ({})", at.join(", ")));
        } else if sure_cuts {
            doubts.push(format!(
                "touching digits cut apart ({}), every part read surely, the network sure each glyph cut is \
                 not one digit",
                at.join(", ")
            ));
        } else {
            doubts.push(format!("touching digits cut apart ({}), every part read surely", at.join(", ")));
        }
    }
    // Where the digits part is a guess of its own, whatever the network's
    // certainty about each glyph: a lost or an extra digit reads surely.
    reading.segmentation_guessed = (!cuts.is_empty() && !sure_cuts) || wide_kept;
    if wide_kept {
        doubts.push("a glyph wide enough for two touching digits was read as one".into());
    }
    if text.len() > 1 && text.starts_with('0') && leading_zero == LeadingZero::Doubtful {
        reading.confidence *= LEADING_ZERO_FACTOR;
        reading.ocr_confidence *= LEADING_ZERO_FACTOR;
        reading.identity_confidence *= LEADING_ZERO_FACTOR;
        doubts.push(format!("'{text}' starts with a zero"));
    }
    if reading.candidates.len() > 1 {
        let others: Vec<String> = reading.candidates[1..].iter().map(|(v, p)| format!("{v} ({p:.2})")).collect();
        doubts.push(format!("other readings: {}", others.join(", ")));
    }
    notes.extend(doubts);
    reading.problem = Some(notes.join("; "));
    reading
}

/// The handwritten station number: every number written on the station
/// lines (`lines`, page coordinates of their text), read like a count, with
/// the printed caption's words (`caption_words`) masked; a sign before a
/// number (the «№»), where the layout pass read a word that is no number
/// (`sign_words`) and the network knows it is not a digit, is left out.
/// The number is written on both station lines (Kazakh and Russian): two
/// prints read alike are two opinions; one alone, or two that differ, are
/// for a person (the confidence is then below the threshold).
pub fn read_hand_station(
    page: &GrayImage,
    lines: &[Rect],
    caption_words: &[Rect],
    sign_words: &[Rect],
    line_height: f32,
) -> Option<HandStation> {
    let mut prints: Vec<Print> = Vec::new();
    // Runs of digit-high ink on the station lines that were neither a
    // print, the «№» nor the caption's slash.
    let mut unread_runs = 0;
    // Station lines side by side (Kazakh left, Russian right) are one band
    // across the page; each print in it is read once.
    let mut bands: Vec<Rect> = Vec::new();
    for line in lines {
        match bands.iter_mut().find(|b| line[1] < b[3] && b[1] < line[3]) {
            Some(b) => *b = [b[0].min(line[0]), b[1].min(line[1]), b[2].max(line[2]), b[3].max(line[3])],
            None => bands.push(*line),
        }
    }
    for line in &bands {
        // The blank for the number may stand beyond the text the layout
        // pass returned: the band is searched across the page.
        let reach = (line_height * STATION_REACH_OF_LINE) as u32;
        let region = [0, line[1].saturating_sub(reach / 2), page.width(), (line[3] + reach / 2).min(page.height())];
        let ink = hand_ink(page, region, line_height, caption_words, STATION_RULE_GAP);
        // Only numbers written on this line (the region reaches into the
        // lines above and below), no taller than a written digit.
        let (line_top, line_bottom) = (line[1].saturating_sub(region[1]), line[3].saturating_sub(region[1]));
        let slack = (line_height * 0.5) as u32;
        let on_line = |b: &Rect| {
            let middle = (b[1] + b[3]) / 2;
            middle + slack >= line_top && middle <= line_bottom + slack
        };
        let digit_high: Vec<Rect> = ink
            .components
            .iter()
            .map(|c| c.1)
            .filter(|b| {
                let h = height(b) as f32;
                h >= MIN_HEIGHT_OF_LINE * line_height && h <= MAX_STATION_HEIGHT_OF_LINE * line_height && on_line(b)
            })
            .collect();
        let Some(tallest) = digit_high.iter().map(height).max() else { continue };
        // Numbers: runs of glyphs standing close together, left to right.
        // The last run read on this line was the «№» standing alone.
        let mut sign_just_before = false;
        for run in runs_by_gap(digit_high, (tallest as f32 * STATION_GAP_OF_HEIGHT) as u32) {
            let sign_before = std::mem::take(&mut sign_just_before);
            let band = union(run.iter().copied()).expect("runs are not empty");
            // The printed slash between the Kazakh and the Russian caption,
            // where the layout pass read it otherwise than «/» (a 1, or
            // glued to nothing): one stroke standing between two of the
            // caption's words, where no number is written.
            let on_page = [band[0] + region[0], band[1] + region[1], band[2] + region[0], band[3] + region[1]];
            if run.len() == 1 && between_caption_words(&on_page, caption_words, line_height) {
                continue;
            }
            let members: Vec<Rect> = ink
                .components
                .iter()
                .map(|c| c.1)
                .filter(|b| b[0] + 2 >= band[0] && b[2] <= band[2] + 2 && b[1] + 4 >= band[1] && b[3] <= band[3] + 4)
                .collect();
            let read = read_group(page, &ink, &members, sign_words);
            let sign_alone = read.glyphs.is_empty() && read.sign.is_some();
            // A line has one «№» per print: a second sign-like run right
            // after one is written ink no reader could read.
            if sign_alone && sign_before {
                unread_runs += 1;
            }
            sign_just_before = sign_alone;
            // A number's glyphs are digits; one among three or more that
            // the network doubts is one digit (a 7 written wide, a loop left
            // open) still leaves a print to weigh, not one free of doubt.
            // More such glyphs are words or marks.
            let unclear = read.glyphs.iter().filter(|g| g.best().0.is_none()).count();
            if read.glyphs.is_empty() {
                continue;
            }
            if unclear > 1 || (unclear == 1 && read.glyphs.len() < MIN_DIGITS_BESIDE_UNCLEAR + 1) {
                unread_runs += 1;
                continue;
            }
            // A sign left out that touched the number (a digit may have
            // gone with it), or digits parted on a guess (a glyph cut in
            // two, or read as one though wide enough for two): the same
            // hand writes the other print alike, so the guess would repeat.
            // No opinion of its own.
            let stripped = read.sign.as_ref().is_some_and(|s| !s.clear);
            let sign_found = sign_before || read.sign.is_some();
            let digits = read.glyphs.iter().map(|g| std::array::from_fn(|d| g.probs[d])).collect();
            let mut value = interpret(read, MAX_STATION_DIGITS, LeadingZero::Doubtful);
            // Where the digits part is no guess when the sequence reader,
            // which does not cut, reads the same number.
            weigh_second_opinion(&mut value, MAX_STATION_DIGITS, WordsForZero::NotHere);
            let doubtful = stripped || value.segmentation_guessed || unclear > 0;
            if let Some(v) = value.value {
                prints.push(Print {
                    text: v.to_string(),
                    confidence: value.confidence,
                    network: value.ocr_confidence,
                    doubtful,
                    sign_found,
                    digits,
                    seconded: value.second_opinion.as_ref().is_some_and(|o| o.agree),
                });
            }
        }
    }
    let prints = sign_cut_off(prints);
    let (number, confidence) = agree_on_prints(&prints)?;
    let of_number = || prints.iter().filter(|p| p.text == number);
    let confidence = unless_lone_beside_unread(confidence, of_number().count(), unread_runs);
    let seconded = of_number().any(|p| p.seconded);
    // How surely each digit was read, in the print that read it least surely.
    let digit_certainty = (0..number.len())
        .map(|i| of_number().filter_map(|p| p.digits.get(i).map(surest)).fold(1.0, f32::min))
        .collect();
    Some(HandStation { number, confidence, seconded, digit_certainty })
}

/// A number read from a single print stands on its own only where no other
/// written ink on the station lines went unread: the other print may be
/// the same number, written so that no reader could read it, or another
/// (Breip's «12», its «2» a «z», read «17» in one print and not at all in
/// the other). Else it is unconfirmed.
fn unless_lone_beside_unread(confidence: f32, prints_of_number: usize, unread_runs: usize) -> f32 {
    if prints_of_number == 1 && unread_runs > 0 {
        confidence * UNCONFIRMED_STATION_FACTOR
    } else {
        confidence
    }
}

/// The station number as the handwriting readers read it.
#[derive(Debug, Clone, PartialEq)]
pub struct HandStation {
    pub number: String,
    pub confidence: f32,
    /// The sequence reader read a print of it alike.
    pub seconded: bool,
    /// How surely the glyph network read each digit (its least sure print).
    pub digit_certainty: Vec<f32>,
}

impl HandStation {
    /// Whether this reading is `number` with the printed «№» before it read
    /// as digits («16» + «555»): it ends with `number`, the digits before
    /// it were read as the sign's pieces read (`read_as_sign_pieces`; a
    /// digit read surelier was written: Tesseract lost it), and the
    /// sequence reader did not read it so.
    pub fn is_signed(&self, number: &str) -> bool {
        let extra = self.number.len().saturating_sub(number.len());
        extra > 0
            && self.number.ends_with(number)
            && !self.seconded
            && self.digit_certainty.len() == self.number.len()
            && read_as_sign_pieces(self.digit_certainty[..extra].iter().copied())
    }
}

/// How surely a glyph reads as the digit it likeliest is.
fn surest(digit: &[f32; 10]) -> f32 {
    digit.iter().copied().fold(0.0, f32::max)
}

/// Whether digits read this surely (in order) could be the «№» cut up:
/// none read as surely as a written digit ([`SIGN_PIECE_SURE`]), or, cut
/// in two, its «N» so and its «o» as surely as any 6.
fn read_as_sign_pieces(certainties: impl IntoIterator<Item = f32>) -> bool {
    let certainties: Vec<f32> = certainties.into_iter().collect();
    let unsure = |c: &f32| *c < SIGN_PIECE_SURE;
    certainties.iter().all(unsure) || (certainties.len() == 2 && unsure(&certainties[0]))
}

/// Prints whose first digits are the «№» cut up: a doubtful print whose
/// «№» was not found, whose last digits are a clean print's number, the
/// digits before them read as the sign's pieces read
/// (`read_as_sign_pieces`: the sign, cut, reads «16» or «861», its «N»
/// never surely), is a print of that number («16838» beside «838»), still
/// doubtful. Other prints as they are. (A clean print may
/// have lost its first digit: «463», its «№» found standing apart, beside
/// a clean «63» is no print of 63.)
fn sign_cut_off(mut prints: Vec<Print>) -> Vec<Print> {
    let clean: Vec<String> = prints.iter().filter(|p| !p.doubtful).map(|p| p.text.clone()).collect();
    for print in prints.iter_mut().filter(|p| p.doubtful && !p.sign_found) {
        let Some(number) = clean.iter().find(|c| print.text.len() > c.len() && print.text.ends_with(c.as_str())) else {
            continue;
        };
        if print.digits.len() != print.text.len() {
            continue;
        }
        let extra = print.text.len() - number.len();
        if !read_as_sign_pieces(print.digits[..extra].iter().map(surest)) {
            continue;
        }
        print.digits.drain(..extra);
        print.text = number.clone();
        print.network = print.digits.iter().map(surest).fold(1.0, f32::min);
        print.confidence = print.confidence.min(print.network);
    }
    prints
}

/// Whether a number's first glyph (`height`, read as `digit` this `sure`),
/// on a word the layout pass read as no number, is the printed sign: it is
/// shorter than the digits written after it (`tallest_after`, 0 when it
/// stands alone). As tall as they are, it is written digits, even two
/// touching that the network reads as no one digit («86» read «Вб»).
/// Printed small, it is the sign unless the network is sure it is a digit
/// (cut up, the «№» reads "16"); in between, and alone, only when the
/// network is sure it is no digit.
fn looks_printed_sign(height: u32, tallest_after: u32, digit: Option<u8>, sure: f32) -> bool {
    let (height, tallest_after) = (height as f32, tallest_after as f32);
    let no_digit = digit.is_none() && sure >= SIGN_SURE;
    if tallest_after == 0.0 {
        no_digit
    } else if height < SIGN_PRINTED_OF_DIGITS * tallest_after {
        !(digit.is_some() && sure >= WHOLE_SURE)
    } else {
        height < SIGN_MAX_OF_DIGITS * tallest_after && no_digit
    }
}

/// Whether `stroke` (page coordinates) stands between two of the
/// caption's words on its line, each within [`SLASH_REACH_OF_LINE`] line
/// heights of it.
pub fn between_caption_words(stroke: &Rect, caption_words: &[Rect], line_height: f32) -> bool {
    let reach = (line_height * SLASH_REACH_OF_LINE) as u32;
    let beside = |w: &&Rect| w[1] < stroke[3] && stroke[1] < w[3];
    let left = caption_words.iter().filter(beside).any(|w| w[2] <= stroke[0] && stroke[0] - w[2] <= reach);
    let right = caption_words.iter().filter(beside).any(|w| w[0] >= stroke[2] && w[0] - stroke[2] <= reach);
    left && right
}

/// One handwritten print of the station number, read.
#[derive(Debug, Clone, PartialEq)]
struct Print {
    text: String,
    confidence: f32,
    /// The network's least digit probability.
    network: f32,
    /// A sign touching it was left out before it (a digit may have gone
    /// with it), or where its digits part was a guess (cut, or wide and
    /// kept whole).
    doubtful: bool,
    /// The «№» before it was recognised (left out of its glyphs, or read
    /// standing alone just before it): none of its digits is the sign.
    sign_found: bool,
    /// Each glyph's probability of being each digit, left to right.
    digits: Vec<[f32; 10]>,
    /// The sequence reader read the same number (`confidence` is then the
    /// two readers' calibrated confidence).
    seconded: bool,
}

/// The station number from its handwritten prints: the number most prints
/// read (ties: the one with a print free of doubt, then the surer). Two or
/// more prints of it are as sure as their digits read together (a misread
/// would have to repeat itself in another writing of the number)
/// — provided one of them is free of doubt about where its digits part
/// (one hand writes both prints alike, so a wrong cut would repeat
/// itself), and no print free of doubt reads another number. A doubtful
/// print that differs is a cut gone wrong (the «№» cut up reads "16"), not
/// an opinion. One print alone, or a clean print against it, is for a
/// person — unless the sequence reader read that print alike, near
/// certainly, and no clean print or seconded print dissents.
fn agree_on_prints(prints: &[Print]) -> Option<(String, f32)> {
    fn of<'a>(prints: &'a [Print], text: &'a str) -> impl Iterator<Item = &'a Print> {
        prints.iter().filter(move |p| p.text == text)
    }
    let rank = |p: &Print| (of(prints, &p.text).count(), of(prints, &p.text).any(|q| !q.doubtful), p.confidence);
    let best = prints.iter().max_by(|a, b| rank(a).partial_cmp(&rank(b)).unwrap_or(std::cmp::Ordering::Equal))?;
    let agreeing = of(prints, &best.text).count();
    let clean_dissent = prints.iter().any(|p| p.text != best.text && !p.doubtful);
    if agreeing >= 2 && of(prints, &best.text).any(|p| !p.doubtful) && !clean_dissent {
        // Each print sure of a digit the other doubts settles it.
        let alike: Vec<&Print> = of(prints, &best.text).collect();
        let least = match digits_together(&alike) {
            Some((text, together)) if text == best.text => together,
            _ => alike.iter().map(|p| p.network).fold(1.0, f32::min),
        };
        return Some((best.text.clone(), unless_seconded(&alike, least)));
    }
    if let Some((text, least)) = read_together(prints) {
        let read: Vec<&Print> = prints.iter().collect();
        return Some((text, unless_seconded(&read, least)));
    }
    // One clean print that both readers read alike, near certainly, against
    // only prints whose digits part on a guess (the «№» glued on) and that
    // the sequence reader does not read so: two readers of one writing.
    let lone = !best.doubtful && best.seconded && best.confidence >= LONE_PRINT_CONFIDENCE;
    if lone && !clean_dissent && !prints.iter().any(|p| p.text != best.text && p.seconded) {
        return Some((best.text.clone(), best.confidence));
    }
    let least = of(prints, &best.text).map(|p| p.confidence).fold(1.0, f32::min);
    Some((best.text.clone(), least * UNCONFIRMED_STATION_FACTOR))
}

/// How sure a number the glyph network read alike in every one of `prints`
/// (`least` sure of a digit) is. One hand writes both prints, and a digit
/// the network misreads in that hand it misreads each time: the repeat is
/// no second opinion. The sequence reader, which fails otherwise, is one:
/// unless it read one of the prints alike, the number is no surer than the
/// surest print as both readers weighed it.
fn unless_seconded(prints: &[&Print], least: f32) -> f32 {
    if prints.iter().any(|p| p.seconded) {
        least
    } else {
        least.min(prints.iter().map(|p| p.confidence).fold(0.0, f32::max))
    }
}

/// Two prints free of doubt that differ, with as many digits, read digit
/// by digit together: each is the same number written again, so each
/// digit's probabilities multiply and the print sure of a digit settles
/// what the other doubts (two prints each sure of another digit leave it
/// at even odds). As sure as the least sure digit so read.
fn read_together(prints: &[Print]) -> Option<(String, f32)> {
    let [a, b] = prints else { return None };
    if a.doubtful || b.doubtful {
        return None;
    }
    let (text, least) = digits_together(&[a, b])?;
    (!(text.len() > 1 && text.starts_with('0'))).then_some((text, least))
}

/// Prints of the number read digit by digit together (each is the same
/// number written again, so each digit's probabilities multiply): the
/// digits so read, as sure as the least sure of them. `None` when the
/// prints have not as many digits.
fn digits_together(prints: &[&Print]) -> Option<(String, f32)> {
    let count = prints.first()?.digits.len();
    if prints.iter().any(|p| p.digits.len() != count) {
        return None;
    }
    let mut text = String::new();
    let mut least = 1.0f32;
    for i in 0..count {
        let joint: [f32; 10] = std::array::from_fn(|d| prints.iter().map(|p| p.digits[i][d]).product());
        let total: f32 = joint.iter().sum();
        let (digit, p) = joint.iter().copied().enumerate().max_by(|m, n| m.1.total_cmp(&n.1))?;
        if total <= 0.0 {
            return None;
        }
        text.push(char::from(b'0' + digit as u8));
        least = least.min(p / total);
    }
    Some((text, least))
}

/// The components that make up the count: the row of digit-high ink that
/// best stands beside the label (most glyphs, nearest its middle), its
/// largest run of glyphs standing close together, and the pieces within it.
fn count_group(components: &[Rect], centre_y: u32, own_rows: (u32, u32), line_height: f32) -> Option<Vec<Rect>> {
    let digit_high: Vec<Rect> =
        components.iter().copied().filter(|b| height(b) as f32 >= MIN_HEIGHT_OF_LINE * line_height).collect();
    let tallest = digit_high.iter().map(height).max()? as f32;
    // Rows: digit-high glyphs whose middles are within half the tallest's
    // height of each other.
    let rows = rows_by_middle(digit_high, tallest / 2.0);
    let score = |row: &Vec<Rect>| {
        let middle = row.iter().map(|b| (b[1] + b[3]) as f32 / 2.0).sum::<f32>() / row.len() as f32;
        row.len() as f32 - (middle - centre_y as f32).abs() / tallest
    };
    let middle_of = |row: &Vec<Rect>| row.iter().map(|b| (b[1] + b[3]) as f32 / 2.0).sum::<f32>() / row.len() as f32;
    let own = |row: &Vec<Rect>| (own_rows.0 as f32..=own_rows.1 as f32).contains(&middle_of(row));
    let row = rows.into_iter().filter(own).max_by(|a, b| score(a).total_cmp(&score(b)))?;
    let run = runs_by_gap(row, (tallest * MAX_GAP_OF_HEIGHT) as u32).into_iter().max_by_key(|r| r.len())?;
    let band = union(run.iter().copied())?;
    // Pieces (and thin 1s) lie within the run's band, or just beside it.
    let reach = (tallest * PIECE_JOIN_REACH) as u32;
    let slack = (tallest * 0.2) as u32;
    let members = components
        .iter()
        .copied()
        .filter(|b| {
            let vertical = b[1] + slack >= band[1] && b[3] <= band[3] + slack;
            let horizontal = b[2] + reach >= band[0] && b[0] <= band[2] + reach;
            vertical && horizontal
        })
        .collect();
    Some(members)
}

/// Components standing one above the other (sharing most of the narrower
/// one's columns: a digit broken across) joined into one box. Unlike
/// print's `glyph_columns`, a mere overlap is not enough: slanted
/// handwriting leans a digit over its thin neighbour (a "1").
fn stacked_parts_joined(boxes: &[Rect]) -> Vec<Rect> {
    joined_where(boxes, |a, b| share_columns(a, b, STACKED_SHARE))
}

/// Joins pieces (columns much shorter than the tallest glyph) to the glyph
/// beside them; a piece with no glyph near is left as it is.
fn join_pieces(columns: &[Rect]) -> Vec<Rect> {
    let Some(tallest) = columns.iter().map(height).max() else { return Vec::new() };
    let is_piece = |c: &Rect| (height(c) as f32) < PIECE_OF_HEIGHT * tallest as f32;
    let mut glyphs: Vec<Rect> = columns.iter().copied().filter(|c| !is_piece(c)).collect();
    let reach = (tallest as f32 * PIECE_JOIN_REACH) as u32;
    for piece in columns.iter().filter(|c| is_piece(c)) {
        let gap = |g: &Rect| piece[0].saturating_sub(g[2]).max(g[0].saturating_sub(piece[2]));
        match glyphs.iter_mut().filter(|g| gap(g) <= reach).min_by_key(|g| gap(g)) {
            Some(g) => *g = [g[0].min(piece[0]), g[1].min(piece[1]), g[2].max(piece[2]), g[3].max(piece[3])],
            None => glyphs.push(*piece),
        }
    }
    glyphs.sort_by_key(|g| g[0]);
    glyphs
}

/// A glyph read as digits side by side: the best way, and the best way
/// as two digits (the other way of parting it, should the best be to keep
/// it whole).
struct Segmentation {
    best: Vec<GlyphRead>,
    split: Option<Vec<GlyphRead>>,
}

/// The best way to read a glyph (page coordinates) as one or more digits
/// side by side: the cuts (at pixel columns) whose parts the network reads
/// as digits most surely, each cut paying [`CUT_LOG_PRIOR`]; and the best
/// single cut. `None` when the glyph is narrower than
/// `min_width_of_height` × its height or no cut reads as digits.
fn segment(
    page: &GrayImage,
    rect: Rect,
    min_width_of_height: f32,
    keep: &impl Fn(u32, u32) -> bool,
) -> Option<Segmentation> {
    let (w, h) = (width(&rect) as f32, height(&rect) as f32);
    if w < min_width_of_height * h {
        return None;
    }
    let step = ((h * CUT_STEP_OF_HEIGHT) as u32).max(1);
    let mut xs: Vec<u32> = (rect[0]..rect[2]).step_by(step as usize).collect();
    xs.push(rect[2]);
    let last = xs.len() - 1;
    let (narrowest, widest) = (PART_WIDTH_OF_HEIGHT.0 * h, PART_WIDTH_OF_HEIGHT.1 * h);
    // best[i]: the surest reading of the ink left of xs[i], as (log
    // probability, where the last part starts, that part's reading);
    // first[i]: that ink read as one digit; and the surest reading of the
    // whole glyph as two digits (a glyph wide enough for two is not four).
    let mut best: Vec<Option<(f32, usize, Option<GlyphRead>)>> = vec![None; xs.len()];
    let mut first: Vec<Option<(f32, GlyphRead)>> = vec![None; xs.len()];
    let mut best_split: Option<(f32, GlyphRead, GlyphRead)> = None;
    best[0] = Some((0.0, 0, None));
    for i in 1..xs.len() {
        for j in 0..i {
            let span = (xs[i] - xs[j]) as f32;
            let Some((before, _, _)) = best[j].as_ref() else { continue };
            let whole = j == 0 && i == last;
            if !whole && (span < narrowest || span > widest) {
                continue;
            }
            let Some(read) = read_crop(&glyph_crop(page, [xs[j], rect[1], xs[i], rect[3]], keep)) else { continue };
            let (Some(digit), _) = read.best() else { continue };
            let cost = if j == 0 { 0.0 } else { CUT_LOG_PRIOR };
            let own = read.probs[digit as usize].max(f32::MIN_POSITIVE).ln();
            let score = before + own + cost;
            if j == 0 {
                first[i] = Some((own, read.clone()));
            }
            if let (true, Some((left, left_read))) = (i == last && j > 0, &first[j]) {
                if best_split.as_ref().is_none_or(|b| left + own > b.0) {
                    best_split = Some((left + own, left_read.clone(), read.clone()));
                }
            }
            if best[i].as_ref().is_none_or(|b| score > b.0) {
                best[i] = Some((score, j, Some(read)));
            }
        }
    }
    // Walk back from the right edge.
    let mut parts = Vec::new();
    let mut i = last;
    while i > 0 {
        let (_, j, read) = best[i].take()?;
        parts.push(read?);
        i = j;
    }
    parts.reverse();
    Some(Segmentation { best: parts, split: best_split.map(|(_, left, right)| vec![left, right]) })
}

/// The likeliest readings of the glyphs as a count: the best digit of each,
/// then the likeliest readings with one digit replaced by a rival, and
/// every other way of parting the digits where that was a guess
/// (`partings`: a digit more or fewer), by probability (the product of the
/// digits'), best first.
fn candidates(glyphs: &[GlyphRead], partings: &[Parting], max_digits: u32) -> Vec<(u64, f32)> {
    let ranked: Vec<Vec<(u8, f32)>> = glyphs.iter().map(GlyphRead::ranked_digits).collect();
    let best: Vec<(u8, f32)> = ranked.iter().map(|r| r[0]).collect();
    let product = |digits: &[(u8, f32)]| digits.iter().map(|d| d.1).product::<f32>();
    let mut readings = vec![best.clone()];
    for (i, rivals) in ranked.iter().enumerate() {
        for rival in rivals.iter().skip(1).take(2) {
            let mut reading = best.clone();
            reading[i] = *rival;
            readings.push(reading);
        }
    }
    let partings: Vec<Vec<(u8, f32)>> = partings
        .iter()
        .map(|parting| {
            let mut reading = best[..parting.at].to_vec();
            reading.extend(parting.instead.iter().map(|g| g.ranked_digits()[0]));
            reading.extend_from_slice(&best[parting.at + parting.len..]);
            reading
        })
        .collect();
    let as_count = |r: &Vec<(u8, f32)>| -> Option<(u64, f32)> {
        let text: String = r.iter().map(|d| char::from(b'0' + d.0)).collect();
        parse_count(&text, max_digits).ok().map(|v| (v, product(r)))
    };
    // The reading itself first, as read (a leading zero and all); then
    // the rivals a count could be (no leading zero), likeliest first.
    let mut out: Vec<(u64, f32)> = as_count(&readings[0]).into_iter().collect();
    let mut rivals: Vec<(u64, f32)> =
        readings[1..].iter().filter(|r| r.len() == 1 || r[0].0 != 0).filter_map(as_count).collect();
    rivals.sort_by(|a, b| b.1.total_cmp(&a.1));
    out.extend(rivals);
    out.truncate(CANDIDATES);
    // Each other way of parting the digits besides (never crowded out by
    // rivals of one digit: a digit lost or added is no single digit's rival).
    for reading in partings.iter().filter(|r| r[0].0 != 0).filter_map(as_count) {
        if !out.iter().any(|c| c.0 == reading.0) {
            out.push(reading);
        }
    }
    if let Some(rivals) = out.get_mut(1..) {
        rivals.sort_by(|a, b| b.1.total_cmp(&a.1));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(probs: &[(usize, f32)]) -> GlyphRead {
        let mut p = [0.0; CLASSES];
        for &(c, v) in probs {
            p[c] = v;
        }
        GlyphRead { probs: p }
    }

    #[test]
    fn a_glyphs_identity_leaves_out_the_doubt_that_it_is_one_digit() {
        // A 7 the network half doubts is one digit, but is sure is no 1.
        let seven = read(&[(7, 0.78), (NOT_A_DIGIT, 0.2), (1, 0.02)]);
        assert!((seven.identity() - 0.975).abs() < 1e-4, "{}", seven.identity());
        // Torn between 3 and 8: the doubt stays whole.
        let torn = read(&[(3, 0.6), (8, 0.4)]);
        assert!((torn.identity() - 0.6).abs() < 1e-6);
        assert_eq!(read(&[(NOT_A_DIGIT, 1.0)]).identity(), 0.0);
    }

    #[test]
    fn candidates_put_the_reading_first_then_rivals_by_probability() {
        let glyphs = [read(&[(3, 0.6), (8, 0.35)]), read(&[(1, 0.99), (7, 0.01)])];
        let c = candidates(&glyphs, &[], 6);
        assert_eq!(c[0].0, 31, "the reading itself first");
        assert_eq!(c[1].0, 81, "the likeliest rival next");
        assert!(c[1].1 > c[2].1);
        // A reading with a leading zero is still the first candidate (the
        // value as read); rivals with one are no count.
        let glyphs = [read(&[(0, 0.7), (8, 0.3)]), read(&[(2, 0.99), (7, 0.01)])];
        let c = candidates(&glyphs, &[], 6);
        assert_eq!(c[0].0, 2, "'02' as read");
        assert_eq!(c[1].0, 82);
    }

    #[test]
    fn candidates_part_the_digits_the_other_way_where_that_was_a_guess() {
        // «77» touching, kept whole and read as one 7; cut, two sure 7s.
        let glyphs = [read(&[(1, 0.99)]), read(&[(7, 0.7), (1, 0.2)])];
        let split = Parting { at: 1, len: 1, instead: vec![read(&[(7, 0.9)]), read(&[(7, 0.95)])] };
        let c = candidates(&glyphs, &[split], 6);
        assert_eq!(c[0].0, 17, "the reading itself first");
        assert_eq!(c[1].0, 177, "a digit more, likelier than any one-digit rival");
        assert!((c[1].1 - 0.99 * 0.9 * 0.95).abs() < 1e-6);
        // «21» cut apart on a guess; whole, an 8.
        let glyphs = [read(&[(2, 0.8)]), read(&[(1, 0.8)]), read(&[(4, 0.99)])];
        let whole = Parting { at: 0, len: 2, instead: vec![read(&[(8, 0.5), (3, 0.1)])] };
        let c = candidates(&glyphs, &[whole], 6);
        assert_eq!(c[0].0, 214);
        assert!(c.contains(&(84, 0.5 * 0.99)), "{c:?}");
        // More digits than a count has, whichever way they part: no
        // candidate, and no panic.
        let glyphs = [read(&[(2, 0.9)]), read(&[(1, 0.9)]), read(&[(4, 0.9)])];
        let whole = Parting { at: 0, len: 2, instead: vec![read(&[(8, 0.5)])] };
        assert_eq!(candidates(&glyphs, &[whole], 1), vec![]);
    }

    /// A station print of `t`, every digit read at `network`.
    fn print(t: &str, network: f32, doubtful: bool) -> Print {
        Print {
            text: t.to_string(),
            confidence: network * 0.7,
            network,
            doubtful,
            sign_found: false,
            seconded: false,
            digits: t
                .bytes()
                .map(|d| {
                    std::array::from_fn(|c| if c == (d - b'0') as usize { network } else { (1.0 - network) / 9.0 })
                })
                .collect(),
        }
    }

    #[test]
    fn one_clean_print_both_readers_read_alike_stands_against_a_print_with_the_sign_glued_on() {
        let seconded = |t: &str, confidence: f32| Print { confidence, seconded: true, ..print(t, 0.99, false) };
        let glued = print("16963", 0.75, true);
        assert_eq!(agree_on_prints(&[glued.clone(), seconded("953", 0.996)]), Some(("953".into(), 0.996)));
        // Not surely enough, or the glyph reader's word alone: for a person.
        let (_, unsure) = agree_on_prints(&[glued.clone(), seconded("953", 0.99)]).unwrap();
        assert!(unsure < 0.8);
        let (_, alone) = agree_on_prints(&[glued, print("953", 0.999, false)]).unwrap();
        assert!(alone < 0.8);
        // Another clean print reading otherwise: for a person.
        let (_, against) = agree_on_prints(&[print("33", 0.99, false), seconded("331", 0.999)]).unwrap();
        assert!(against < 0.8);
    }

    #[test]
    fn the_sign_cut_up_before_a_print_is_cut_off() {
        // «16838» (the «№» cut up, read unsurely) beside a clean «838»: a
        // second print of 838, and the station is sure.
        let mut cut_up = print("16838", 0.99, true);
        cut_up.digits[0] = std::array::from_fn(|d| if d == 1 { 0.95 } else { 0.05 / 9.0 });
        cut_up.digits[1] = std::array::from_fn(|d| if d == 6 { 0.6 } else { 0.4 / 9.0 });
        let clean = Print { seconded: true, ..print("838", 0.99, false) };
        let prints = sign_cut_off(vec![cut_up.clone(), clean]);
        assert_eq!((prints[0].text.as_str(), prints[0].digits.len(), prints[0].doubtful), ("838", 3, true));
        let (text, confidence) = agree_on_prints(&prints).unwrap();
        assert_eq!(text, "838");
        assert!(confidence > 0.99, "{confidence}");
        // A leading digit read surely is written, not the sign («116786»
        // beside a clean «86» that lost its 7); a doubtful print is never
        // the one cut to.
        let mut lost_a_digit = print("116786", 0.8, true);
        lost_a_digit.digits[3] = std::array::from_fn(|d| if d == 7 { 0.9996 } else { 0.0004 / 9.0 });
        let kept = sign_cut_off(vec![lost_a_digit, print("86", 0.99, false)]);
        assert_eq!(kept[0].text, "116786");
        let kept = sign_cut_off(vec![cut_up.clone(), print("838", 0.99, true)]);
        assert_eq!(kept[0].text, "16838");
        // Its «№» found, none of its digits is the sign («463» beside a
        // clean «63» that lost its 4).
        let mut found = cut_up;
        found.sign_found = true;
        let kept = sign_cut_off(vec![found, print("838", 0.99, false)]);
        assert_eq!(kept[0].text, "16838");
    }

    #[test]
    fn prints_alike_to_the_glyph_network_alone_are_no_surer_than_the_sequence_reader_lets_them() {
        // One hand wrote both prints of 12, and the glyph network reads its 2
        // as a 7 in both, surely; the sequence reader read neither as 17.
        let dissented = |t: &str| Print { confidence: 0.3, ..print(t, 0.999, false) };
        let (text, confidence) = agree_on_prints(&[dissented("17"), dissented("17")]).unwrap();
        assert_eq!(text, "17");
        assert!(confidence <= 0.3, "{confidence}");
        let (_, confidence) = agree_on_prints(&[dissented("17"), dissented("12")]).unwrap();
        assert!(confidence <= 0.3, "read together, still the glyph network's word alone: {confidence}");
        // It read one of them alike: as sure as their digits together.
        let seconded = Print { seconded: true, confidence: 0.99, ..print("17", 0.999, false) };
        let (_, confidence) = agree_on_prints(&[dissented("17"), seconded]).unwrap();
        assert!(confidence > 0.99, "{confidence}");
    }

    #[test]
    fn a_printed_number_with_the_sign_read_as_unsure_digits_before_it_is_that_number() {
        let read = |number: &str, certainty: &[f32], seconded: bool| HandStation {
            number: number.into(),
            confidence: 0.2,
            seconded,
            digit_certainty: certainty.to_vec(),
        };
        assert!(read("16555", &[0.9, 0.6, 1.0, 1.0, 1.0], false).is_signed("555"));
        // Its «o» over the sign's bar read as a sure 6, its «N» not.
        assert!(read("16555", &[0.65, 0.9993, 1.0, 1.0, 1.0], false).is_signed("555"));
        assert!(!read("16555", &[0.995, 0.9993, 1.0, 1.0, 1.0], false).is_signed("555"), "a written 16");
        assert!(!read("116555", &[0.6, 0.6, 0.9993, 1.0, 1.0, 1.0], false).is_signed("555"), "three pieces, one sure");
        assert!(!read("868", &[0.999, 1.0, 1.0], false).is_signed("8"), "a written 86 Tesseract lost");
        assert!(!read("16555", &[0.9, 0.6, 1.0, 1.0, 1.0], true).is_signed("555"), "the sequence reader read it");
        assert!(!read("555", &[1.0, 1.0, 1.0], false).is_signed("555"), "the number itself");
        assert!(!read("5556", &[1.0, 1.0, 1.0, 0.5], false).is_signed("555"), "another number");
    }

    #[test]
    fn station_prints_must_agree() {
        // (The sequence reader read one print alike each time.)
        let seconded = |t: &str, network: f32| Print { seconded: true, ..print(t, network, false) };
        // Two prints alike, one sure of where the number starts: as sure as
        // their digits read together (surer than either).
        let alike = [print("555", 0.99, true), seconded("555", 0.97)];
        let (text, confidence) = agree_on_prints(&alike).unwrap();
        assert_eq!(text, "555");
        assert!(confidence > 0.99, "{confidence}");
        // The clean print doubts its first digit, the other print is sure
        // of it: settled.
        let mut doubting = seconded("425", 0.99);
        doubting.digits[0] = std::array::from_fn(|d| [0.0, 0.0, 0.0, 0.0, 0.54, 0.0, 0.0, 0.0, 0.0, 0.46][d]);
        let (_, confidence) = agree_on_prints(&[doubting, print("425", 0.99, true)]).unwrap();
        assert!(confidence > 0.9, "{confidence}");
        // A doubtful print of another number (the «№» cut up) is no
        // opinion; the number most prints read is the reading.
        let with_sign = [print("16", 0.9, true), print("555", 0.99, false), print("555", 0.97, true)];
        assert_eq!(agree_on_prints(&with_sign).map(|(text, _)| text), Some("555".into()));
        // Two clean prints that differ in a digit each is sure of: even
        // odds, for a person. One unsure of a digit the other is sure of:
        // read together, the sure one settles it.
        let (text, confidence) = agree_on_prints(&[print("555", 0.99, false), print("565", 0.99, false)]).unwrap();
        assert!(confidence <= 0.5, "{text} {confidence}");
        let mut unsure = print("973", 0.99, false);
        unsure.digits[0] = std::array::from_fn(|d| [0.1, 0.1, 0.0, 0.0, 0.0, 0.35, 0.0, 0.0, 0.0, 0.45][d]);
        let (text, confidence) = agree_on_prints(&[seconded("573", 0.99), unsure]).unwrap();
        assert_eq!(text, "573");
        assert!(confidence > 0.9, "{confidence}");
        // Prints that differ, only doubtful ones, or one alone: below any
        // threshold.
        for prints in [
            vec![print("555", 0.99, false), print("555", 0.99, true), print("565", 0.99, false)],
            vec![print("5", 0.99, true), print("555", 0.99, false)],
            vec![print("55", 0.99, true), print("55", 0.99, true)],
            vec![print("555", 0.99, false)],
        ] {
            let (_, confidence) = agree_on_prints(&prints).unwrap();
            assert!(confidence < 0.5, "{prints:?}");
        }
        assert_eq!(agree_on_prints(&[]), None);
    }

    #[test]
    fn a_lone_print_beside_unread_ink_is_unconfirmed() {
        assert_eq!(unless_lone_beside_unread(0.999, 1, 0), 0.999);
        assert!(unless_lone_beside_unread(0.999, 1, 1) < crate::scan::check::CONFIDENCE_THRESHOLD);
        // Two prints read alike are two readings, whatever else is unread.
        assert_eq!(unless_lone_beside_unread(0.999, 2, 1), 0.999);
    }

    #[test]
    fn a_long_low_stroke_alone_in_its_row_is_a_dash_and_nothing_else_is() {
        // Rows 5–40, label text 22 pixels high.
        let (own, line) = ((5, 40), 22.0);
        let dash = [10, 20, 60, 26];
        assert_eq!(lone_dash(&[dash], own, line), Some(dash));
        // Ink outside the rows is not the row's.
        assert_eq!(lone_dash(&[dash, [10, 50, 30, 70]], own, line), Some(dash));
        assert_eq!(lone_dash(&[[30, 10, 34, 35]], own, line), None, "a 1");
        assert_eq!(lone_dash(&[dash, [70, 10, 90, 35]], own, line), None, "a digit beside it");
        assert_eq!(lone_dash(&[[10, 20, 24, 24]], own, line), None, "too short: a speck");
        assert_eq!(lone_dash(&[[10, 6, 60, 12]], own, line), None, "on the rule above: a piece of it");
        assert_eq!(lone_dash(&[[10, 10, 40, 30]], own, line), None, "as high as a third of its length: a digit");
    }

    /// A white region 400 × 60 with a rule along rows 10 and 50, from
    /// `rule_from` to `rule_to`, and a 3 px stroke at x 200 from rule to rule.
    fn stroke_between_rules(rule_from: u32, rule_to: u32) -> GrayImage {
        let mut page = GrayImage::from_pixel(400, 60, image::Luma([250]));
        for x in rule_from..rule_to {
            for y in [10, 11, 50, 51] {
                page.put_pixel(x, y, image::Luma([30]));
            }
        }
        for y in 10..52 {
            for x in 200..203 {
                page.put_pixel(x, y, image::Luma([40]));
            }
        }
        page
    }

    #[test]
    fn a_stroke_across_a_tables_row_is_a_one_and_a_boxs_side_is_not() {
        let strokes = |page: &GrayImage| {
            let ink = hand_ink(page, [0, 0, 400, 60], 30.0, &[], 0);
            ink.components.iter().filter(|(_, b)| b[0] <= 200 && b[2] >= 202).count()
        };
        // The row's rules run on both sides of the stroke: a written 1.
        assert_eq!(strokes(&stroke_between_rules(20, 380)), 1);
        // The rules stop at the stroke, as a box's do at its side.
        assert_eq!(strokes(&stroke_between_rules(200, 380)), 0);
    }

    #[test]
    fn ink_much_fainter_than_the_counts_is_no_part_of_it() {
        // Two written strokes about 200 levels under the paper, and beside
        // them a stamp's grey residue 80 under it (ink by the pen's level).
        let mut page = GrayImage::from_pixel(400, 60, image::Luma([250]));
        for (x0, shade) in [(100u32, 50u8), (140, 60), (180, 170)] {
            for y in 15..45 {
                for x in x0..x0 + 4 {
                    page.put_pixel(x, y, image::Luma([shade]));
                }
            }
        }
        let ink = hand_ink(&page, [0, 0, 400, 60], 30.0, &[], 0);
        let lefts: Vec<u32> = ink.components.iter().map(|(_, b)| b[0]).collect();
        assert_eq!(lefts, vec![100, 140], "the faint stroke is left out");
        // Alone, faint ink is the cell's ink.
        let faint_alone = GrayImage::from_fn(400, 60, |x, y| {
            image::Luma([if (180..184).contains(&x) && (15..45).contains(&y) { 170 } else { 250 }])
        });
        assert_eq!(hand_ink(&faint_alone, [0, 0, 400, 60], 30.0, &[], 0).components.len(), 1);
    }

    #[test]
    fn a_figure_in_a_row_that_rises_across_the_cell_is_read_along_it() {
        // A row between rules rising 1 row in 10 to the right (a curled
        // sheet): 40 px high at the cell's left edge (rows 60–100), at x 300
        // rows 30–70, where a «1» is written across its middle.
        let slope = -0.1f32;
        let mut page = GrayImage::from_pixel(400, 140, image::Luma([250]));
        for x in 0..400u32 {
            for rule in [60.0f32, 100.0] {
                let y = (rule + slope * x as f32).round() as u32;
                page.put_pixel(x, y, image::Luma([40]));
                page.put_pixel(x, y + 1, image::Luma([40]));
            }
        }
        for y in 36..64 {
            for x in 300..304 {
                page.put_pixel(x, y, image::Luma([30]));
            }
        }
        let place = Place { region: [0, 0, 400, 140], own_rows: (60, 100), label_centre_y: 80, line_height: 20.0 };
        let along = read_hand_cell_along(&page, &place, slope, &[], 5, LeadingZero::Doubtful);
        assert_eq!(along.value, Some(1), "{:?}", along.problem);
        let cell = along.cell.expect("the figure's box");
        assert!(cell[0] >= 298 && cell[2] <= 306 && cell[1] >= 30 && cell[3] <= 70, "{cell:?}");
        // Read level, the «1» stands above the row's rows at the left edge.
        let level = read_hand_cell(&page, &place, &[], 5, LeadingZero::Doubtful);
        assert_ne!(level.value, Some(1), "{:?}", level.problem);
    }

    #[test]
    fn a_count_written_on_its_rows_rule_is_its_rows() {
        // A two-line label centred at 40, the next label from 120: the
        // midway bound is 90, the row's rule at 110.
        assert_eq!(within_rules((10, 90), 40, &[5, 6, 110, 111]), (6, 110));
        // Rules nearer than the midway bounds (a box round the count) leave
        // them as they are; no rules, likewise.
        assert_eq!(within_rules((10, 90), 40, &[25, 60]), (10, 90));
        assert_eq!(within_rules((10, 90), 40, &[]), (10, 90));
    }

    #[test]
    fn a_sure_cut_of_a_glyph_surely_no_one_digit_parts_the_digits() {
        let parted = |whole_as_digit: f32, least: f32| {
            let glyphs = vec![read(&[(2, 1.0)]), read(&[(4, least)]), read(&[(3, 1.0)])];
            let read = ReadGlyphs {
                glyphs,
                cuts: vec![2],
                cut_whole_as_digit: whole_as_digit,
                cell: [0, 0, 30, 10],
                crop: GrayImage::new(1, 1),
                wide_kept: false,
                partings: Vec::new(),
                sign: None,
            };
            let value = interpret(read, 6, LeadingZero::Doubtful);
            assert_eq!(value.value, Some(243));
            !value.segmentation_guessed
        };
        assert!(parted(0.002, 0.999));
        // The glyph whole might be one digit (3092 cut into 30971), or a
        // part reads less than surely: a guess.
        assert!(!parted(0.18, 0.999));
        assert!(!parted(0.002, 0.99));
    }

    #[test]
    fn a_leading_zero_is_a_doubt_only_where_counts_are_not_written_so() {
        let read_015 = |leading_zero: LeadingZero| {
            let read = ReadGlyphs {
                glyphs: vec![read(&[(0, 1.0)]), read(&[(1, 1.0)]), read(&[(5, 1.0)])],
                cuts: Vec::new(),
                cut_whole_as_digit: 0.0,
                cell: [0, 0, 30, 10],
                crop: GrayImage::new(1, 1),
                wide_kept: false,
                partings: Vec::new(),
                sign: None,
            };
            interpret(read, 5, leading_zero)
        };
        let doubted = read_015(LeadingZero::for_counts(false));
        let written = read_015(LeadingZero::for_counts(true));
        assert_eq!((doubted.value, written.value), (Some(15), Some(15)));
        assert!(doubted.confidence < crate::scan::check::CONFIDENCE_THRESHOLD);
        assert!(written.confidence > 0.99, "{written:?}");
    }

    #[test]
    fn only_a_glyph_printed_small_is_the_sign() {
        // The «№» at 16 px before digits 26 px tall: the sign, read as no
        // digit, or as an unsure one (cut up, "16"), but not as a sure 7.
        assert!(looks_printed_sign(16, 26, None, 0.6));
        assert!(looks_printed_sign(16, 26, Some(8), 0.8));
        assert!(!looks_printed_sign(16, 26, Some(7), 0.99));
        // Small handwriting (21 px): the sign only when surely no digit.
        assert!(looks_printed_sign(17, 21, None, 0.99));
        assert!(!looks_printed_sign(17, 21, Some(8), 0.8));
        // Two touching digits as tall as the rest, surely no one digit:
        // written, not the sign («86» of 862 read «Вб»).
        assert!(!looks_printed_sign(27, 25, None, 1.0));
        // Alone: the sign when surely no digit.
        assert!(looks_printed_sign(17, 0, None, 0.99));
        assert!(!looks_printed_sign(17, 0, Some(1), 0.6));
    }

    #[test]
    fn the_slash_between_the_captions_is_no_number() {
        // «… учаскесі / Избирательный …» at line height 20; the slash at
        // x 300–306.
        let words = [[200, 100, 290, 120], [315, 100, 450, 120]];
        assert!(between_caption_words(&[300, 98, 306, 122], &words, 20.0));
        // A number after the last caption word, or far from the words
        // (written on the blank), or on another line, is not the slash.
        assert!(!between_caption_words(&[460, 98, 470, 122], &words, 20.0));
        assert!(!between_caption_words(&[300, 98, 306, 122], &[[200, 100, 270, 120], [315, 100, 450, 120]], 20.0));
        assert!(!between_caption_words(&[300, 148, 306, 172], &words, 20.0));
    }

    #[test]
    fn pieces_join_the_glyph_beside_them() {
        // A 5's bar (short) just right of its bowl, and a second digit.
        let columns = [[0, 10, 20, 40], [21, 8, 30, 14], [40, 10, 60, 40]];
        assert_eq!(join_pieces(&columns), vec![[0, 8, 30, 40], [40, 10, 60, 40]]);
    }
}
