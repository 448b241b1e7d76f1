//! Stage 5, read: the header and every line's count from a normalised page.
//!
//! The page's text segments, found from its ink, are read as far as it
//! takes to tell which form line each is (`text_segments`); a page where
//! that finds fewer of the form's lines is read whole by Tesseract's
//! automatic layout too, and the pass that found more is kept.
//! Each OCR text line is matched, fuzzily, against every printed text of the
//! model (each line's Kazakh and Russian label together, the election
//! titles, the station caption), so a line is found by what it says, not by
//! where a particular printing puts it. The count of a form line sits to the
//! right of its label, in a cell or box: that region is cut out, ruling
//! lines and label words are removed, and what is left is read by the
//! digits-only, single-line engine. Every value carries a confidence, and
//! every way a reading can go wrong lowers it rather than being guessed.

use std::collections::{BTreeMap, BTreeSet};
use std::mem::{discriminant, Discriminant};

use image::{GrayImage, Luma};

use super::ink::{
    cell_ink, dilate_square, glyph_columns, glyph_crop, height, ink_level, joined_where, normalise_crop,
    rows_by_middle, runs_by_gap, share_columns, union, white_crop, width, CellInk, GLYPH_EDGE,
};
use super::lines::{group_lines, has_letters, longest_rising_chain, word_rect, Rect, TextLine, MIN_WORD_CONFIDENCE};
use super::ocr::{DigitRead, Engines, OcrError, Word};
use super::page::{PAGE_HEIGHT, PAGE_WIDTH};
pub use super::reading::{parse_count, Reading, ValueReading};
use super::resize::{self, Filter};
use super::structure::{self, HorizontalRule};
use super::text_segments::{self, Reach, Teller, TextSegment, Told};
use super::{hand, row_labels, table};
use crate::digits;
use crate::model::{FormModel, StationForm};
use crate::textmatch::{fold, partial_score};

/// OCR lines shorter than this (folded letters) say too little to match.
const MIN_MATCH_CHARS: usize = 8;
/// Letters a block's opening must show after its line number to be a
/// label's start (a count's digits show none).
const MIN_OPENING_LETTERS: usize = 2;
/// The resolution Tesseract's layout is told for its second look at where
/// unread form lines stand (`look_again_where_unread`): half the page's,
/// as if its print were twice the size.
const SECOND_LOOK_DPI: i32 = super::ocr::PAGE_DPI / 2;
/// Tesseract numbers a reading's blocks from 1: a second look's blocks are
/// numbered from a multiple of this, past any page's count.
const SECOND_LOOK_BLOCKS: u32 = 100_000;
/// Lines of one label are closer than this many line heights; rows are
/// further apart.
const SAME_LABEL_GAP: f32 = 0.8;
/// A line is taken to print a label when at least this share of it matches.
const MIN_LABEL_SCORE: f64 = 0.72;
/// … and it matches that label clearly better than any other.
const MIN_LABEL_MARGIN: f64 = 0.04;
/// A region line must hold a known place name this well.
const MIN_REGION_SCORE: f64 = 0.85;
/// A place line is short: «Солтүстік Қазақстан облысы / Северо-Казахстанская область».
const MAX_REGION_LINE_CHARS: usize = 60;
/// A component at least this many times taller than wide is a thin stroke.
const THIN_ASPECT: u32 = 4;
/// A component more than this many times wider than tall is flat (a rule's
/// piece, a dash): never a piece of a digit broken across.
const FLAT_ASPECT: u32 = 2;
/// Pieces of one broken glyph stand at most this share of the label's line
/// height apart, one above the other (a stroke's width or less; the rows of
/// two counts stand a line apart).
const STACKED_PIECE_REACH_OF_LINE: f32 = 0.15;
/// …or this share of the digits' height the cell's glyphs share, where
/// that is more (a blurred «5»'s bar stands 5 px above the rest of it
/// where labels' lines are 27 px and digits 23), joining into a piece no
/// taller than a digit (two counts' rows never do).
const STACKED_PIECE_REACH_OF_DIGIT: f32 = 0.25;
/// Pieces one above the other share at most this share of the lower one's
/// rows (a slanting break overlaps a little; a box's corner around a digit
/// spans all of its rows).
const STACKED_OVERLAP_OF_HEIGHT: f32 = 0.3;
/// A thin stroke this many times taller than the digits is a rule or a box
/// side: boxes are drawn about twice as tall as their digits.
const RULE_HEIGHT_FACTOR: f32 = 1.4;
/// Nothing taller than this many digit heights is part of the count.
const MAX_DIGIT_HEIGHT_FACTOR: f32 = 1.8;
/// Digits of one count are this close in height (share of their height).
const ANCHOR_HEIGHT_TOLERANCE: f32 = 0.25;
/// Digits of one count stand closer together than this many digit heights.
const MAX_DIGIT_GAP_FACTOR: f32 = 1.2;
/// A count's digits are at least this share of the label's line height.
const MIN_DIGIT_HEIGHT_OF_LINE: f32 = 0.5;
/// How far (in digit heights) beside the whole glyphs a broken piece may lie.
const PIECE_REACH: f32 = 0.25;
/// A piece of a broken glyph beyond the whole ones is at least this share
/// of a digit's height.
const MIN_PIECE_SHARE: f32 = 0.3;
/// Margin around a station number's word box, in its heights: its digits
/// stand inside, the «№» a space away is cut by the edge.
const STATION_WORD_PAD: f32 = 0.3;
/// Station numbers have at most this many digits.
const MAX_STATION_DIGITS: u32 = 6;
/// A word of the station line is the printed caption's when it has this
/// many letters and matches a part of the caption this well (OCR misspells
/// and glues the «№» on: «участокМ»»); a handwritten number read as
/// letters is shorter or matches worse.
const CAPTION_WORD_LETTERS: usize = 3;
const CAPTION_WORD_MATCH: f64 = 0.7;
/// A re-read of the station number less sure than this is no opinion.
const STATION_OPINION_CONFIDENCE: f32 = 0.8;
/// Confidence kept for a station number read once and never confirmed.
const UNCONFIRMED_STATION_FACTOR: f32 = 0.5;
/// The first and last rows' counts are searched this many text line
/// heights above and below their label (other rows: half-way to the next).
const EDGE_ROW_REACH: f32 = 1.5;
/// Confidence kept when fewer digits were read than glyphs seen in the
/// cell: a dropped digit is likely.
const GLYPH_MISMATCH_FACTOR: f32 = 0.4;
/// Confidence kept when a second read of the cell disagrees.
const DISAGREEMENT_FACTOR: f32 = 0.5;
/// Scale of the second read: different enough to segment differently.
const SECOND_READ_SCALE: f32 = 1.5;
/// The glyph reader's least per-glyph probability at which its reading is
/// a voice of its own (on held-out print it is right far more often).
const GLYPH_READER_SURE: f32 = 0.95;
/// How far (in digit heights) a thin digit-high stroke may stand from a
/// count and still be its "1": a tabular "1" stands up to about 0.55 from
/// its neighbour; the cell's border, beside right-aligned counts, 0.67 and
/// more (measured on synthetic sets 4242 and 777).
const THIN_DIGIT_REACH: f32 = 0.6;
/// A printed "1", even blurred, is at least this share of its height wide
/// (0.27 measured); the broken pieces of a ruling line are 0.15 or less.
const MIN_ONE_WIDTH_SHARE: f32 = 0.18;
/// The election and station read at least this surely need no second
/// reading of the header (the flag threshold of `check`).
const CONFIDENT_HEADER: f32 = super::check::CONFIDENCE_THRESHOLD;
/// The station number's digits may be half as tall as the layout pass's
/// box of the word (which can take in the rule it is written on).
const STATION_DIGIT_SHARE: f32 = 0.5;
/// A glyph wider than this share of its height is two or more digits
/// touching (the widest printed digit, a bold "0", is about 0.7).
const MAX_DIGIT_WIDTH_OF_HEIGHT: f32 = 0.9;
/// A printed digit's usual width, as a share of its height, where no
/// single glyph of the cell tells (DejaVu Sans 0.6, bold serif 0.65).
const TYPICAL_DIGIT_WIDTH_OF_HEIGHT: f32 = 0.62;
/// A digit's width is taken as at least this share of its height (a cell
/// of "1"s says little of how wide two touching digits are).
const MIN_TYPICAL_WIDTH_OF_HEIGHT: f32 = 0.55;
/// Narrower glyphs ("1") say nothing of the other digits' width.
const MIN_DIGIT_WIDTH_OF_HEIGHT: f32 = 0.45;
/// How far either side of an expected boundary between touching digits the
/// cut is searched for, as a share of a digit's width.
const SPLIT_SEARCH_SHARE: f32 = 0.3;
/// A glyph less tall than this share of the cell's tallest is damaged
/// (print is one height), and the glyph reader gives no opinion on the cell.
const SHORT_GLYPH_SHARE: f32 = 0.85;
/// When Tesseract and the glyph reader agree on every digit, the reading's
/// confidence is at least this (capped by the glyph reader's own).
const AGREED_READERS_FLOOR: f32 = 0.9;

/// Something a line of OCR text can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// The form line at this index of `model.lines`.
    FormLine(usize),
    /// The election at this index of `model.elections`.
    Election(usize),
    Title,
    Station,
    /// The repeated total at this index of `model.repeated_totals` (a
    /// `TOTAL VALID VOTES` row under a table, read by `table`): known so
    /// that it is never taken for the line it repeats.
    Repeat(usize),
}

/// The model's printed texts, folded once per scan.
pub struct Targets {
    items: Vec<(Target, String)>,
    regions: Vec<(String, String)>,
}

impl Targets {
    pub fn new(model: &FormModel) -> Targets {
        let mut items = Vec::new();
        for (i, line) in model.lines.iter().enumerate() {
            items.push((Target::FormLine(i), fold(&line.label.joined())));
        }
        for (i, e) in model.elections.iter().enumerate() {
            items.push((Target::Election(i), fold(&e.title.joined())));
        }
        items.push((Target::Title, fold(&model.title.joined())));
        items.push((Target::Station, fold(&model.station_caption())));
        for (i, repeat) in model.repeated_totals.iter().enumerate() {
            items.push((Target::Repeat(i), fold(&repeat.labels.joined())));
        }
        let regions = model.regions.iter().map(|r| (r.clone(), fold(r))).collect();
        Targets { items, regions }
    }

    /// The target a folded OCR line prints, with its score, if clear.
    /// `line_number` is the number printed at the line's start, if any: it
    /// settles a tie between labels that differ only in a name the OCR
    /// could not read (two party lines, say).
    pub fn classify(&self, folded: &str, line_number: Option<u32>, model: &FormModel) -> Option<(Target, f64)> {
        if folded.chars().filter(|c| c.is_alphabetic()).count() < MIN_MATCH_CHARS {
            return None;
        }
        let mut scored: Vec<(Target, f64)> =
            self.items.iter().map(|(t, text)| (*t, partial_score(folded, text))).collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1));
        let (best, score) = scored[0];
        let second = scored.get(1).map(|s| s.1).unwrap_or(0.0);
        if score < MIN_LABEL_SCORE {
            return None;
        }
        if score - second >= MIN_LABEL_MARGIN {
            return Some((best, score));
        }
        let number = line_number?;
        scored
            .iter()
            .take_while(|(_, s)| score - s < MIN_LABEL_MARGIN)
            .find(|(t, _)| matches!(t, Target::FormLine(i) if model.lines[*i].number == number))
            .copied()
    }

    /// Every target a folded OCR line matches about as well as its best
    /// (within `MIN_LABEL_MARGIN`), when the best is good enough: the
    /// candidates of a line `classify` found ambiguous.
    pub fn candidates(&self, folded: &str) -> Vec<Target> {
        if folded.chars().filter(|c| c.is_alphabetic()).count() < MIN_MATCH_CHARS {
            return Vec::new();
        }
        let scored: Vec<(Target, f64)> = self.items.iter().map(|(t, text)| (*t, partial_score(folded, text))).collect();
        let best = scored.iter().map(|s| s.1).fold(0.0, f64::max);
        if best < MIN_LABEL_SCORE {
            return Vec::new();
        }
        scored.into_iter().filter(|(_, s)| best - s < MIN_LABEL_MARGIN).map(|(t, _)| t).collect()
    }

    /// The known place a folded OCR line names, if any: the place name must
    /// stand in the line (which may add «г.» or the Russian form), and the
    /// line must be short, as a place line is. The longest (most specific)
    /// of equally good names wins: «Алматы облысы» over «Алматы қ.».
    pub fn region(&self, folded: &str) -> Option<(String, f64)> {
        if folded.chars().count() > MAX_REGION_LINE_CHARS {
            return None;
        }
        self.regions
            .iter()
            .map(|(name, f)| (name.clone(), partial_score(f, folded), f.chars().count()))
            .filter(|(_, s, _)| *s >= MIN_REGION_SCORE)
            .max_by(|a, b| a.1.total_cmp(&b.1).then(a.2.cmp(&b.2)))
            .map(|(name, s, _)| (name, s))
    }
}

/// What a table's rule beside a line's print reads as: a bar, a bracket.
fn is_rule_mark(c: char) -> bool {
    matches!(c, '|' | '!' | '[' | ']' | '(' | ')' | '{' | '}')
}

/// The number printed before a line's label ("6." → 6), if the line starts
/// with one; a table's rule before it, read as a bar or a bracket ("|6.",
/// "| 6.", "(6."), is passed over.
fn leading_number(line: &TextLine) -> Option<u32> {
    let mut words: Vec<&Word> = line.words.iter().collect();
    words.sort_by_key(|w| w.left);
    let first = words.into_iter().map(|w| w.text.trim_start_matches(is_rule_mark)).find(|t| !t.is_empty())?;
    let digits: String = first.chars().take_while(|c| c.is_ascii_digit()).collect();
    let rest = &first[digits.len()..];
    if digits.is_empty() || !(rest.is_empty() || rest == "." || rest == ")") {
        return None;
    }
    digits.parse().ok()
}

/// Whether an OCR word is a word of the station line's printed caption
/// (`caption` folded): long enough, and matching a part of it well.
fn is_caption_word(text: &str, caption: &str) -> bool {
    let folded = fold(text);
    folded.chars().filter(|c| c.is_alphabetic()).count() >= CAPTION_WORD_LETTERS
        && partial_score(&folded, caption) >= CAPTION_WORD_MATCH
}

/// A handwritten reading Tesseract's reads alike is raised to as sure as
/// two agreeing readers, when the glyph network gave each digit at least
/// this much (a weak digit stays weak whoever agrees).
const HAND_SECONDED_FLOOR: f32 = 0.5;

/// Below this share of a page's found counts read cleanly as print (two
/// readers agreeing, no doubt), the page is taken for a handwritten form.
const MIN_PRINTED_CLEAN_SHARE: f32 = 0.7;

/// Whether the counts read as print look like handwriting: too few of them
/// read cleanly.
pub fn looks_handwritten(printed: &[&ValueReading]) -> bool {
    let found: Vec<&&ValueReading> = printed.iter().filter(|v| v.label.is_some()).collect();
    if found.is_empty() {
        return false;
    }
    let clean = found
        .iter()
        .filter(|v| v.value.is_some() && v.problem.is_none() && v.confidence >= super::check::CONFIDENCE_THRESHOLD)
        .count();
    (clean as f32 / found.len() as f32) < MIN_PRINTED_CLEAN_SHARE
}

/// When a page is read whole by Tesseract's automatic layout, besides its
/// text segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WholePage {
    /// Where the segments told some of the form's lines but not all: a
    /// page whose segments tell none is taken for upside down (or no
    /// protocol), and its other way up is tried first.
    WhereSegmentsTellSome,
    /// Wherever the segments did not tell every line of the form.
    WhereSegmentsMissAny,
}

/// What a page's labels were read as: its words, its text lines and what
/// each line is (`classified`, by index), and whether Tesseract's layout
/// read the page whole.
struct PageText {
    words: Vec<Word>,
    lines: Vec<TextLine>,
    classified: Vec<Option<(Target, f64)>>,
    whole_page_read: bool,
}

/// A form whose lines all stand beside their labels is read segment by
/// segment, each as far as it takes to tell what it is (`read_segments`);
/// where that finds every form line, it is the reading. Otherwise (a small
/// or faint print whose segments were cut wrong, a form printed otherwise)
/// the page is also read whole by Tesseract's automatic layout, as
/// `whole_page` says, and the pass that found more of the form's lines is
/// kept. A form with lines in a table's columns is read whole at once: its
/// table reader needs the headings and every row's words.
fn read_labels(
    engines: &mut Engines,
    page: &GrayImage,
    rules: &[HorizontalRule],
    model: &FormModel,
    targets: &Targets,
    whole_page: WholePage,
) -> Result<PageText, OcrError> {
    let found = |text: &PageText| (0..model.lines.len()).filter(|&i| label_found(&text.classified, i)).count();
    let mut by_segments = None;
    if model.lines.iter().all(|l| l.column.is_none()) {
        let segmented = read_segments(engines, page, rules, model, targets)?;
        let told = found(&segmented);
        if told == model.lines.len() || (told == 0 && whole_page == WholePage::WhereSegmentsTellSome) {
            return Ok(segmented);
        }
        by_segments = Some(segmented);
    }
    let mut whole = told_by_layout(engines.read_words(page)?, model, targets);
    match by_segments {
        Some(mut segmented) if found(&segmented) > found(&whole) => {
            add_told_only_by(&mut segmented, whole);
            settle_by_order(&segmented.lines, &mut segmented.classified, targets);
            Ok(segmented)
        }
        Some(segmented) => {
            add_told_only_by(&mut whole, segmented);
            settle_by_order(&whole.lines, &mut whole.classified, targets);
            Ok(whole)
        }
        None => Ok(whole),
    }
}

/// The words Tesseract's layout read of the page (or of a band of it), as
/// text lines each told as what of the form it is, where it says.
fn told_by_layout(words: Vec<Word>, model: &FormModel, targets: &Targets) -> PageText {
    let lines = group_lines(&words);
    let mut classified: Vec<Option<(Target, f64)>> =
        lines.iter().map(|l| targets.classify(&l.folded, leading_number(l), model)).collect();
    settle_by_order(&lines, &mut classified, targets);
    PageText { words, lines, classified, whole_page_read: true }
}

/// Adds to one pass's reading of a page (the page read whole, or by its
/// segments) the lines the other pass told and it did not — a form line,
/// the station's, the election's — with their words: the segments read
/// small print scaled, the whole page reads print the segments cut
/// wrong, and each finds lines the other misses on a blurred page. Where
/// the two passes tell the same print as two form lines, the better
/// matched stands, and the other form line loses every line the base
/// told it by no better than that print: its reading is discredited (a
/// label read «…сайлау алған сайлау…» matched line 2 at 0.73, the same
/// print read whole line 3 at 0.87, and line 2 had taken line 3's count),
/// but a label matched to it better elsewhere stands (EC8A's line 5 read
/// «Number of iled Ba…» matched line 8 at 0.88; line 8's own label, at
/// 0.92, is still line 8).
fn add_told_only_by(base: &mut PageText, other: PageText) {
    let what = |t: &Target| match t {
        Target::FormLine(i) => Some((discriminant(t), *i)),
        Target::Station | Target::Election(_) => Some((discriminant(t), 0)),
        Target::Title | Target::Repeat(_) => None,
    };
    let told: Vec<(Discriminant<Target>, usize)> =
        base.classified.iter().flatten().filter_map(|(t, _)| what(t)).collect();
    for (line, class) in other.lines.into_iter().zip(other.classified) {
        let Some((target, score)) = class else { continue };
        if what(&target).is_none_or(|w| told.contains(&w)) {
            continue;
        }
        // The base's form lines told by the same print as another line.
        let rivals: Vec<(Target, f64)> = base
            .lines
            .iter()
            .zip(&base.classified)
            .filter_map(|(l, c)| match (c, l.letters, line.letters) {
                (Some((rival @ Target::FormLine(_), rival_score)), Some(a), Some(b))
                    if *rival != target && same_print(a, b) =>
                {
                    Some((*rival, *rival_score))
                }
                _ => None,
            })
            .collect();
        if rivals.iter().any(|&(_, rival_score)| rival_score >= score) {
            continue;
        }
        for c in base.classified.iter_mut() {
            if c.is_some_and(|(t, s)| rivals.iter().any(|r| r.0 == t && s <= r.1)) {
                *c = None;
            }
        }
        base.words.extend(line.words.iter().cloned());
        base.lines.push(line);
        base.classified.push(class);
    }
}

/// Whether two text lines' boxes hold the same print: each one's middle
/// row within the other's rows, and columns in common.
fn same_print(a: Rect, b: Rect) -> bool {
    let middle = |r: Rect| (r[1] + r[3]) / 2;
    let within = |y: u32, r: Rect| y >= r[1] && y <= r[3];
    within(middle(a), b) && within(middle(b), a) && a[0] < b[2] && b[0] < a[2]
}

/// What a page's reading has told so far, segment by segment.
#[derive(Debug, Default)]
struct PageProgress {
    /// The form lines told (their indices in the model).
    lines: BTreeSet<usize>,
    /// The form line told last.
    last_line: Option<usize>,
    election: bool,
    station: bool,
}

impl PageProgress {
    /// Takes note that `class` was told; whether everything the page is
    /// read for has now been told.
    fn note(&mut self, class: Target, model: &FormModel) -> bool {
        match class {
            Target::FormLine(i) => {
                self.lines.insert(i);
                self.last_line = Some(i);
            }
            Target::Election(_) => self.election = true,
            Target::Station => self.station = true,
            Target::Title | Target::Repeat(_) => {}
        }
        self.lines.len() == model.lines.len() && self.election && self.station
    }

    /// The form line a block's opening `line` is, told by its printed
    /// number alone: the number of the model's line after the one told
    /// last (the form's order), not told yet, and followed by letters (a
    /// label's first, not a count's digits). Two pieces of evidence, the
    /// number and its place among the form's lines, for the cost of a
    /// few glyphs; anything less is read further.
    fn numbered_next(&self, line: &TextLine, model: &FormModel) -> Option<usize> {
        let next = self.last_line? + 1;
        let expected = model.lines.get(next)?.number;
        // From the words as read: `folded` leaves out a word the crop cut.
        let letters = line.words.iter().flat_map(|w| w.text.chars()).filter(|c| c.is_alphabetic()).count();
        (!self.lines.contains(&next) && leading_number(line) == Some(expected) && letters >= MIN_OPENING_LETTERS)
            .then_some(next)
    }
}

/// Tells, segment by segment, what the text read of a page is: a form
/// line, the title, the election, the station's line, or nothing.
struct SegmentTeller<'a> {
    targets: &'a Targets,
    model: &'a FormModel,
    progress: PageProgress,
    /// Segments told by their printed line number alone.
    by_number: BTreeMap<usize, Target>,
}

impl Teller for SegmentTeller<'_> {
    fn tell(&mut self, lines: &[TextLine], reach: Reach) -> Told {
        let (targets, model) = (self.targets, self.model);
        if reach == Reach::Opening {
            let numbered =
                newest_line(lines).and_then(|line| self.progress.numbered_next(line, model).zip(segment_of(line)));
            let Some((next, segment)) = numbered else { return Told::ReadOn };
            self.by_number.insert(segment, Target::FormLine(next));
            return if self.progress.note(Target::FormLine(next), model) { Told::Last } else { Told::Settled };
        }
        // The segment just read says first what it is (a block's first
        // line may be an election's title, its next the station's line);
        // else the block's lines together.
        match newest_line(lines)
            .and_then(|l| targets.classify(&l.folded, leading_number(l), model))
            .or_else(|| classify_block(lines, targets, model))
        {
            // The station's number may stand at its line's end: read on.
            Some((Target::Station, _)) => {
                self.progress.note(Target::Station, model);
                Told::ReadOn
            }
            Some((target, _)) if self.progress.note(target, model) => Told::Last,
            Some((Target::FormLine(_), _)) => Told::Settled,
            Some(_) => Told::Line,
            // Above the form's lines, a line that may be the title and
            // shows no line number is the title (whose first words some
            // forms repeat in a label): not read to its end.
            None if self.progress.lines.is_empty()
                && newest_line(lines).is_some_and(|l| {
                    leading_number(l).is_none() && targets.candidates(&l.folded).contains(&Target::Title)
                }) =>
            {
                Told::Line
            }
            None if lines.iter().any(|l| !targets.candidates(&l.folded).is_empty())
                || !targets.candidates(&joined_text(lines)).is_empty() =>
            {
                Told::ReadOn
            }
            None => Told::Nothing,
        }
    }

    fn awaits_number(&self) -> bool {
        self.progress.last_line.is_some_and(|last| last + 1 < self.model.lines.len())
    }
}

/// The page's labels told by its text segments (`text_segments`), each
/// block read only as far as it takes to tell what it is.
fn read_segments(
    engines: &mut Engines,
    page: &GrayImage,
    rules: &[HorizontalRule],
    model: &FormModel,
    targets: &Targets,
) -> Result<PageText, OcrError> {
    let segments = text_segments::find_segments(page);
    let mut teller = SegmentTeller { targets, model, progress: PageProgress::default(), by_number: BTreeMap::new() };
    let blocks = text_segments::blocks(&segments, rules);
    let words = text_segments::read_blocks(engines, page, &segments, &blocks, &mut teller)?;
    let by_number = teller.by_number;
    let mut lines = group_lines(&words);
    // An opening told by its number ends in a word the crop cut, read
    // unsure: its label's print starts at its first letters all the same.
    for line in lines.iter_mut().filter(|l| segment_of(l).is_some_and(|s| by_number.contains_key(&s))) {
        let lettered = line.words.iter().filter(|w| w.text.chars().any(char::is_alphabetic)).map(word_rect);
        line.letters = line.letters.or_else(|| union(lettered));
    }
    let mut classified: Vec<Option<(Target, f64)>> = lines
        .iter()
        .map(|l| match segment_of(l).and_then(|segment| by_number.get(&segment)) {
            Some(&target) => Some((target, MIN_LABEL_SCORE)),
            None => targets.classify(&l.folded, leading_number(l), model),
        })
        .collect();
    told_by_blocks(&lines, &mut classified, &blocks, |lines| classify_block(lines, targets, model));
    settle_by_order(&lines, &mut classified, targets);
    complete_blocks(page, &mut lines, &mut classified, &segments, &blocks);
    Ok(PageText { words, lines, classified, whole_page_read: false })
}

/// Where the print of a line whose words (or first glyph) stand in
/// `letters` ends, its segment ending at `segment_end`: never past a
/// vertical line after `letters` — a table's column rule, a box's edge —
/// that runs from a quarter of a line above the line to a quarter below it
/// (a stroke of print is at most the line's height, under 0.7 of that):
/// what lies beyond is another cell,
/// and a pen's figure written at the box's edge may have joined the
/// segment.
fn print_end(page: &GrayImage, letters: Rect, segment_end: u32) -> u32 {
    let quarter = (letters[3] - letters[1]) / 4;
    let (top, bottom) = (letters[1].saturating_sub(quarter), letters[3] + quarter);
    match structure::vertical_rules_within(page, top, bottom, letters[2], segment_end + 1).first() {
        Some(&rule) => segment_end.min(rule.saturating_sub(2 * table::RULE_CLEARANCE)).max(letters[2]),
        None => segment_end,
    }
}

/// The index of the segment a text line was read from (`read_blocks`
/// keeps it in each word's block field); none for a word-less line.
fn segment_of(line: &TextLine) -> Option<usize> {
    line.words.first().map(|w| w.line_id.0 as usize)
}

/// The text line of the segment read last (the highest segment index).
fn newest_line(lines: &[TextLine]) -> Option<&TextLine> {
    lines
        .iter()
        .filter_map(|l| segment_of(l).map(|segment| (segment, l)))
        .max_by_key(|(segment, _)| *segment)
        .map(|(_, l)| l)
}

/// What a block of print's text lines say together: the first line that
/// says on its own which of the form's texts it is, else all of them read
/// as one text (a label whose only telling word wrapped to its second
/// line: «Адал»).
fn classify_block(lines: &[TextLine], targets: &Targets, model: &FormModel) -> Option<(Target, f64)> {
    lines
        .iter()
        .find_map(|l| targets.classify(&l.folded, leading_number(l), model))
        .or_else(|| targets.classify(&joined_text(lines), lines.first().and_then(leading_number), model))
}

/// The folded text of `lines`, one after the other.
fn joined_text(lines: &[TextLine]) -> String {
    lines.iter().map(|l| l.folded.as_str()).filter(|t| !t.is_empty()).collect::<Vec<_>>().join(" ")
}

/// The text lines of a block none of which was told alone take what the
/// block's lines say together (`classify_block`). A line's block is the
/// block holding its segment (the line's block number).
fn told_by_blocks(
    lines: &[TextLine],
    classified: &mut [Option<(Target, f64)>],
    blocks: &[Vec<usize>],
    classify_block: impl Fn(&[TextLine]) -> Option<(Target, f64)>,
) {
    for block in blocks {
        let members: Vec<usize> = (0..lines.len())
            .filter(|&k| segment_of(&lines[k]).is_some_and(|segment| block.contains(&segment)))
            .collect();
        if members.is_empty() {
            continue;
        }
        // A block told as one form line is that label's print throughout:
        // a line of it read as nothing (a small photo's blur, a crop
        // taking in half of the next line) is still the label's, never a
        // count's ink.
        let told: Vec<(Target, f64)> = members.iter().filter_map(|&k| classified[k]).collect();
        if let Some(&first @ (Target::FormLine(_), _)) = told.first() {
            if told.iter().all(|c| c.0 == first.0) {
                for &k in &members {
                    classified[k].get_or_insert(first);
                }
            }
            continue;
        }
        if !told.is_empty() {
            continue;
        }
        let block_lines: Vec<TextLine> = members.iter().map(|&k| lines[k].clone()).collect();
        if let Some(class) = classify_block(&block_lines) {
            for &k in &members {
                classified[k] = Some(class);
            }
        }
    }
}

/// Text lines read from segments (one segment each, its index the line's
/// block number), with what each is, completed to cover the print they
/// were read from: a line read only as far as it took to tell which it is
/// reaches to its segment's end, and each segment of a block left unread
/// once the block was told becomes a line (without words) of the same
/// kind. So a label covers the page as far as its print does: its row is
/// its block's, and no part of it is taken for a count.
fn complete_blocks(
    page: &GrayImage,
    lines: &mut Vec<TextLine>,
    classified: &mut Vec<Option<(Target, f64)>>,
    segments: &[TextSegment],
    blocks: &[Vec<usize>],
) {
    for line in lines.iter_mut() {
        if let (Some(index), Some(letters)) = (segment_of(line), &mut line.letters) {
            // Its rows are its segment's: Tesseract's boxes in a crop may
            // take in a neighbouring line's ascenders.
            let segment = segments[index].rect;
            (letters[1], letters[3]) = (segment[1], segment[3]);
            letters[2] = letters[2].max(print_end(page, *letters, segment[2]));
        }
    }
    for block in blocks {
        let read: Vec<usize> = lines.iter().filter_map(segment_of).filter(|i| block.contains(i)).collect();
        let told = lines
            .iter()
            .zip(classified.iter())
            .find_map(|(line, class)| segment_of(line).filter(|i| block.contains(i)).and(*class));
        let Some(class) = told else { continue };
        for &index in block.iter().filter(|i| !read.contains(i)) {
            let mut print = segments[index].rect;
            print[2] = print_end(page, [print[0], print[1], print[0] + 1, print[3]], print[2]);
            lines.push(TextLine { words: Vec::new(), folded: String::new(), letters: Some(print) });
            classified.push(Some(class));
        }
    }
}

/// Reads one normalised, upright page whose horizontal rules are `rules`
/// (as `structure::level_rules` found them).
pub fn read_page(
    engines: &mut Engines,
    page: &GrayImage,
    rules: &[HorizontalRule],
    model: &FormModel,
    targets: &Targets,
    whole_page: WholePage,
) -> Result<Reading, OcrError> {
    let mut text = read_labels(engines, page, rules, model, targets, whole_page)?;
    read_unread_labels(engines, page, rules, model, targets, &mut text.lines, &mut text.classified)?;
    look_again_where_unread(engines, page, model, targets, &mut text)?;
    let PageText { words, mut lines, mut classified, whole_page_read } = text;
    keep_in_model_order(&lines, &mut classified);
    let placed = place_unread_by_order(page, rules, model, &mut lines, &mut classified);

    let mut reading = Reading { whole_page_read, ..Reading::default() };
    read_election(model, &lines, &classified, &mut reading);
    // A station in code boxes is read once the header's extent is known.
    let code_boxes = match &model.station {
        StationForm::CodeBoxes { boxes, marker } => Some((boxes, marker)),
        StationForm::Number { .. } => None,
    };
    if code_boxes.is_none() {
        read_station(engines, page, &lines, &words, &classified, &mut reading)?;
    }

    // The band of each form line beside its label: the union of its
    // label's text lines (lines in a table column are found by `table`).
    let mut bands: Vec<Option<Rect>> = vec![None; model.lines.len()];
    let mut heights = Vec::new();
    for (line, class) in lines.iter().zip(&classified) {
        if let (Some((Target::FormLine(i), _)), Some(r)) = (class, line.letters) {
            if model.lines[*i].column.is_some() {
                continue;
            }
            bands[*i] = union(bands[*i].into_iter().chain(std::iter::once(r)));
            // A line of a label left unread (`complete_blocks`) has no
            // height of its own: its segment's box may take in a tall «Қ»
            // of a word Tesseract would have boxed apart.
            if !line.words.is_empty() {
                heights.push(r[3] - r[1]);
            }
        }
    }
    heights.sort_unstable();
    let line_height = heights.get(heights.len() / 2).copied().unwrap_or(30).max(12) as f32;
    reading.lines_found = bands.iter().filter(|b| b.is_some()).count();

    // Region: a header line (above the first form line) naming a known place.
    let first_row_top = bands.iter().flatten().map(|b| b[1]).min().unwrap_or(PAGE_HEIGHT);
    let region_of = |lines: &[TextLine], classified: &[Option<(Target, f64)>]| {
        lines
            .iter()
            .zip(classified)
            .filter(|(l, c)| c.is_none() && l.letters.is_some_and(|r| r[3] <= first_row_top))
            .filter_map(|(l, _)| {
                // A place's short words count here («Алматы қ.»: the «қ.»
                // that a label's text leaves out as noise).
                let confident = l.words.iter().filter(|w| w.conf >= MIN_WORD_CONFIDENCE);
                let text = fold(&confident.map(|w| w.text.as_str()).collect::<Vec<_>>().join(" "));
                targets.region(&text).or_else(|| targets.region(&l.folded))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(name, _)| name)
    };
    reading.region = region_of(&lines, &classified);
    if let Some((boxes, marker)) = code_boxes {
        if let Some((station, confidence)) =
            table::read_code_boxes(engines, page, boxes, &marker.joined(), &words, first_row_top, line_height)
        {
            (reading.station, reading.station_confidence) = (Some(station), confidence);
        }
    }

    // The automatic layout sometimes returns nothing of a centred header
    // line: where the election or the station is not surely read, the
    // header (above the first form line) is read again as one block.
    let unsure_header = reading.election_confidence < CONFIDENT_HEADER
        || (code_boxes.is_none() && reading.station_confidence < CONFIDENT_HEADER);
    // The station lines found by that second read: where the first pass
    // found none, a handwritten station number is looked for on these.
    let mut header_station_lines: Vec<TextLine> = Vec::new();
    if unsure_header && first_row_top < PAGE_HEIGHT {
        let header = image::imageops::crop_imm(page, 0, 0, page.width(), first_row_top).to_image();
        let header_words = engines.read_block_words(&header)?;
        let header_lines = group_lines(&header_words);
        let header_classified: Vec<Option<(Target, f64)>> =
            header_lines.iter().map(|l| targets.classify(&l.folded, leading_number(l), model)).collect();
        header_station_lines = station_lines(&header_lines, &header_classified).into_iter().cloned().collect();
        let mut again = Reading::default();
        read_election(model, &header_lines, &header_classified, &mut again);
        if again.election_confidence > reading.election_confidence {
            (reading.election, reading.election_confidence) = (again.election.take(), again.election_confidence);
        }
        if code_boxes.is_none() {
            read_station(engines, page, &header_lines, &header_words, &header_classified, &mut again)?;
        }
        if again.station_confidence > reading.station_confidence {
            (reading.station, reading.station_confidence) = (again.station, again.station_confidence);
        }
        if reading.region.is_none() {
            reading.region = region_of(&header_lines, &header_classified);
        }
    }

    // Words with letters are never part of a count.
    // Label text reaching into a count's region is masked; short lines are
    // not (the layout pass reads a count's digits as letters: «35» → «ЗБ»).
    // So is the «/» between a label's Kazakh and Russian halves, which would
    // otherwise pass for a slanted "1": a slash right after a word of the
    // label (a count's digits misread as punctuation stand further off).
    // So is a line read only as far as its printed number and a word's
    // first letters (a label told by its number): a count has no number
    // before letters.
    let is_label_print = |line: &TextLine| {
        line.folded.chars().filter(|c| c.is_alphabetic()).count() >= MIN_MATCH_CHARS
            || (leading_number(line).is_some() && line.words.iter().any(|w| has_letters(&w.text)))
    };
    let label_lines = || lines.iter().filter(|l| is_label_print(l));
    let separators = label_lines().flat_map(|l| {
        l.words.windows(2).filter_map(|pair| {
            let (before, slash) = (&pair[0], &pair[1]);
            let adjacent = slash.left <= before.right() + before.height;
            (slash.text == "/" && has_letters(&before.text) && adjacent).then(|| word_rect(slash))
        })
    });
    let letter_boxes: Vec<Rect> = label_lines().filter_map(|l| l.letters).chain(separators).collect();
    let mut ordered: Vec<(usize, Rect)> = bands.iter().enumerate().filter_map(|(i, b)| b.map(|b| (i, b))).collect();
    ordered.sort_by_key(|(_, b)| b[1]);
    let mut cells = Vec::new();
    // A row that holds another line's label too is none: the rules between
    // the labels were not found (faint, or too steep on a curled sheet).
    let middles: Vec<u32> = ordered.iter().map(|(_, band)| (band[1] + band[3]) / 2).collect();
    let found_cells: Vec<_> = ordered
        .iter()
        .enumerate()
        .map(|(pos, &(_, band))| {
            let cell = table::value_column_left(page, band, line_height, rules)?;
            let holds_another = |(k, &m): (usize, &u32)| k != pos && cell.rows.0 < m && m < cell.rows.1;
            (!middles.iter().enumerate().any(holds_another)).then_some(cell)
        })
        .collect();
    let table_cells = table::agree_on_value_column(&found_cells, line_height);
    for (pos, &(index, band)) in ordered.iter().enumerate() {
        // The count may stand anywhere beside its label's lines (a wrapped
        // line of the label may not have been recognised): search up to
        // half-way to the neighbouring labels.
        let reach = line_height * EDGE_ROW_REACH;
        let top = match pos {
            0 => band[1] as f32 - reach,
            _ => (ordered[pos - 1].1[3] + band[1]) as f32 / 2.0,
        };
        let bottom = match ordered.get(pos + 1) {
            Some(&(_, below)) => (band[3] + below[1]) as f32 / 2.0,
            None => band[3] as f32 + reach,
        };
        // Where the label stands in a ruled table, its figure stands past
        // the table's rule to its right, whatever of the label's print the
        // layout pass left out of the label («(Total of #5 + #6 + #7)»).
        // A column most of the table's lines share starts the figure's
        // cell however far the label's words seemed to reach.
        let after_label = (band[2] as f32 + line_height * 0.5) as u32;
        let value_left = match table_cells[pos] {
            Some((cell, true)) => cell.left,
            Some((cell, false)) => cell.left.max(after_label),
            None => after_label,
        };
        let table_cell = table_cells[pos].map(|(cell, _)| cell);
        let region = [value_left, top.max(0.0) as u32, PAGE_WIDTH.saturating_sub(8), (bottom as u32).min(PAGE_HEIGHT)];
        let centre = (band[1] + band[3]) / 2;
        let mut value = read_cell(engines, page, region, centre, line_height, &letter_boxes, model.max_digits)?;
        value.label = Some(band);
        reading.values.insert(model.lines[index].key.clone(), value);
        // Handwriting wanders further up and down its row than print: its
        // region reaches to the neighbouring labels, but the count must
        // stand nearer this label than theirs (inside `region`'s rows).
        let reach_top = if pos == 0 { region[1] } else { ordered[pos - 1].1[3] };
        let reach_bottom = ordered.get(pos + 1).map_or(region[3], |&(_, below)| below[1]);
        cells.push(HandCell { index, band, region, reach: (reach_top, reach_bottom), table_cell, centre });
    }
    // A page whose counts Tesseract and the glyph reader mostly could not
    // read alike is taken for a form filled in by hand: every count is read
    // again as handwriting, and so is the station number.
    let printed: Vec<&ValueReading> = reading.values.values().collect();
    if looks_handwritten(&printed) {
        reading.handwritten = true;
        for cell in &cells {
            let (index, band) = (cell.index, cell.band);
            let key = &model.lines[index].key;
            let (place, rows_slope) = hand_place(page, cell, line_height);
            let mut value = hand::read_hand_cell_along(
                page,
                &place,
                rows_slope,
                &letter_boxes,
                model.max_digits,
                hand::LeadingZero::for_counts(model.leading_zeros),
            );
            value.label = Some(band);
            // Tesseract's reading of the same cell, when it says the same,
            // is a second, unrelated reader's word.
            let printed = &reading.values[key];
            if value.value.is_some() && printed.value == value.value && value.ocr_confidence >= HAND_SECONDED_FLOOR {
                value.confidence = value.confidence.max(AGREED_READERS_FLOOR.min(printed.ocr_confidence));
                let note = value.problem.take().unwrap_or_default();
                value.problem = Some(format!("{note}; Tesseract read it alike ({:.2})", printed.ocr_confidence));
            }
            reading.values.insert(key.clone(), value);
        }
        // (A station in code boxes was read by `table`.)
        if code_boxes.is_none() {
            // The station number is handwritten too: read in the blanks of the
            // station lines, the caption's words masked. A printed-pass reading
            // that says the same is one more opinion.
            // The layout pass over the whole page now and then returns nothing
            // of the station line (a handwritten number and the blank's dashed
            // underline in it): the header's read as one block is used then.
            let mut station_lines = station_lines(&lines, &classified);
            if station_lines.is_empty() {
                station_lines = header_station_lines.iter().collect();
            }
            // The caption's words (matched to the form's caption, however
            // misspelt, «№» glued on and all) are masked. Any other word with
            // no digit may be the «№» (read «%», «м», «Ме»), or a handwritten
            // number read as letters: the glyph's height and the network tell
            // which.
            let caption = fold(&model.station_caption());
            // The slash between the Kazakh and the Russian caption reads as a
            // 1: it is the caption's too where it stands between two of the
            // caption's words. A «/» elsewhere is a written digit Tesseract
            // took for one (a slanted 1 after «27»): neither caption nor sign.
            let (caption_words, sign_words): (Vec<&Word>, Vec<&Word>) = station_lines
                .iter()
                .flat_map(|l| l.words.iter())
                .filter(|w| !w.text.chars().any(|c| c.is_ascii_digit()) && w.text != "/")
                .partition(|w| is_caption_word(&w.text, &caption));
            let mut caption_words: Vec<Rect> = caption_words.into_iter().map(word_rect).collect();
            let sign_words: Vec<Rect> = sign_words.into_iter().map(word_rect).collect();
            let slashes: Vec<Rect> = station_lines
                .iter()
                .flat_map(|l| l.words.iter())
                .filter(|w| w.text == "/")
                .map(word_rect)
                .filter(|slash| hand::between_caption_words(slash, &caption_words, line_height))
                .collect();
            caption_words.extend(slashes);
            let line_boxes: Vec<Rect> = station_lines.iter().filter_map(|l| l.letters).collect();
            let printed_surely = reading.station_confidence >= super::check::CONFIDENCE_THRESHOLD;
            match hand::read_hand_station(page, &line_boxes, &caption_words, &sign_words, line_height) {
                // Tesseract reading the same number is one more reader's
                // word where the sequence reader read it so too; else it
                // agrees with the glyph network, as the two can on a hand
                // neither reads well, and the handwriting's doubt stands.
                Some(hand) if reading.station.as_deref() == Some(hand.number.as_str()) => {
                    reading.station_confidence =
                        if hand.seconded { reading.station_confidence.max(hand.confidence) } else { hand.confidence };
                }
                // A number printed on a form filled in by hand: the printed
                // «№» before it reads as digits to the glyph network
                // («16» + «555»), and the printed pass's sure reading is
                // the number.
                Some(hand) if printed_surely && reading.station.as_ref().is_some_and(|s| hand.is_signed(s)) => {}
                Some(hand) => {
                    reading.station = Some(hand.number);
                    reading.station_confidence = hand.confidence;
                }
                // What the printed pass made of a handwritten number is no
                // reading to stand on its own.
                None => reading.station_confidence = reading.station_confidence.min(UNCONFIRMED_STATION_FACTOR),
            }
        }
    }
    let labelled_bottom = ordered.iter().map(|(_, band)| band[3]).max().unwrap_or(0);
    let text = table::PageText { words: &words, lines: &lines, labelled_bottom };
    table::read_column_lines(engines, page, model, &text, rules, line_height, &mut reading);
    for line in &model.lines {
        reading.values.entry(line.key.clone()).or_insert_with(|| ValueReading {
            problem: Some("the line's label was not found on the page".into()),
            ..Default::default()
        });
    }
    for index in placed {
        if let Some(value) = reading.values.get_mut(&model.lines[index].key) {
            let note = format!(
                "its label was not read: its row is the one ruled row between lines {} and {}",
                model.lines[index - 1].number,
                model.lines[index + 1].number
            );
            value.problem = Some(match value.problem.take() {
                Some(p) if !p.is_empty() => format!("{note}; {p}"),
                _ => note,
            });
        }
    }
    Ok(reading)
}

/// Settles lines that match several form lines equally (labels that differ
/// only in a party name the OCR garbled) by the form's order: the lines are
/// printed in model order, so a line between the labels of lines a and b
/// belongs to a line numbered from a to b. Settled when one candidate is left.
fn settle_by_order(lines: &[TextLine], classified: &mut [Option<(Target, f64)>], targets: &Targets) {
    let middle = |r: Rect| (r[1] + r[3]) / 2;
    let anchors: Vec<(Rect, usize)> = lines
        .iter()
        .zip(classified.iter())
        .filter_map(|(l, c)| match (c, l.letters) {
            (Some((Target::FormLine(i), _)), Some(r)) => Some((r, *i)),
            _ => None,
        })
        .collect();
    for (line, class) in lines.iter().zip(classified.iter_mut()) {
        let Some(rect) = line.letters else { continue };
        if class.is_some() {
            continue;
        }
        let candidates = targets.candidates(&line.folded);
        if candidates.len() < 2 || !candidates.iter().all(|t| matches!(t, Target::FormLine(_))) {
            continue;
        }
        let y = middle(rect);
        let above = anchors.iter().filter(|a| middle(a.0) < y).max_by_key(|a| middle(a.0));
        let below = anchors.iter().filter(|a| middle(a.0) > y).min_by_key(|a| middle(a.0));
        // A neighbouring label further away than a line's spacing is
        // another row: this line is not part of it.
        let line_height = (rect[3] - rect[1]) as f32;
        let apart = |gap: u32| gap as f32 > SAME_LABEL_GAP * line_height;
        let allowed: Vec<Target> = candidates
            .into_iter()
            .filter(|t| {
                let Target::FormLine(k) = t else { return false };
                let after_above =
                    above.is_none_or(|(r, a)| *k > *a || (*k == *a && !apart(rect[1].saturating_sub(r[3]))));
                let before_below =
                    below.is_none_or(|(r, b)| *k < *b || (*k == *b && !apart(r[1].saturating_sub(rect[3]))));
                after_above && before_below
            })
            .collect();
        if let [only] = allowed[..] {
            *class = Some((only, MIN_LABEL_SCORE));
        }
    }
}

/// Whether the form line at `index` has a text line matched to it.
fn label_found(classified: &[Option<(Target, f64)>], index: usize) -> bool {
    classified.iter().any(|c| matches!(c, Some((Target::FormLine(i), _)) if *i == index))
}

/// Form lines whose label the layout pass left unread are looked for row by
/// row (`row_labels`) on a page it recognised some of the form on: each
/// ruled row holding no recognised line is read alone, scaled, until every
/// such line is matched or the rows allowed run out. A row's line is kept
/// only when it matches a form line beside its label; a form line matched
/// twice is settled by `keep_in_model_order`.
fn read_unread_labels(
    engines: &mut Engines,
    page: &GrayImage,
    rules: &[HorizontalRule],
    model: &FormModel,
    targets: &Targets,
    lines: &mut Vec<TextLine>,
    classified: &mut Vec<Option<(Target, f64)>>,
) -> Result<(), OcrError> {
    let unread = |classified: &[Option<(Target, f64)>]| {
        (0..model.lines.len()).filter(|&i| model.lines[i].column.is_none() && !label_found(classified, i)).count()
    };
    // A page of which the layout pass recognised nothing at all is turned
    // the wrong way, or no protocol: its rows are not read.
    if unread(classified) == 0 || classified.iter().all(Option::is_none) {
        return Ok(());
    }
    let recognised: Vec<Rect> =
        lines.iter().zip(classified.iter()).filter(|(_, c)| c.is_some()).filter_map(|(l, _)| l.letters).collect();
    let rows = row_labels::unread_rows(rules, &recognised);
    for (top, bottom) in rows.into_iter().take(row_labels::MAX_ROWS_READ) {
        for line in row_labels::read_row_label(engines, page, top, bottom)? {
            let class = targets.classify(&line.folded, leading_number(&line), model);
            if matches!(class, Some((Target::FormLine(i), _)) if model.lines[i].column.is_none()) {
                lines.push(line);
                classified.push(class);
            }
        }
        if unread(classified) == 0 {
            break;
        }
    }
    Ok(())
}

/// Form lines no pass read are looked for once more where the model's
/// order puts them: in the band of the page between the read labels of the
/// form lines before and after them, read whole by Tesseract's layout told
/// [`SECOND_LOOK_DPI`] (`bands_of_unread`). Its layout analysis sizes what
/// it takes for text, and what for specks and rules, by the resolution it
/// is told: told the page's 200 dpi, it leaves out print much smaller than
/// a form's usual (EC8A's numbered lines, about 6 pt: 10 px high), which
/// it reads whole when told half that; told half, it reads a table's bold
/// print worse, so the second look adds what the first missed and
/// replaces nothing. A page of which nothing was read is not looked at
/// again (it is turned the wrong way, or no protocol).
fn look_again_where_unread(
    engines: &mut Engines,
    page: &GrayImage,
    model: &FormModel,
    targets: &Targets,
    text: &mut PageText,
) -> Result<(), OcrError> {
    // Each form line where its best-matched label was read.
    let mut read_at: Vec<Option<(f64, Rect)>> = vec![None; model.lines.len()];
    for (line, class) in text.lines.iter().zip(&text.classified) {
        if let (Some((Target::FormLine(i), score)), Some(r)) = (class, line.letters) {
            if read_at[*i].is_none_or(|(best, _)| *score > best) {
                read_at[*i] = Some((*score, r));
            }
        }
    }
    let read_at: Vec<Option<Rect>> = read_at.into_iter().map(|l| l.map(|(_, r)| r)).collect();
    // Lines in a table's column are found by the table's rows, not here.
    let beside_label: Vec<bool> = model.lines.iter().map(|l| l.column.is_none()).collect();
    let bands = bands_of_unread(&read_at, &beside_label, page.height());
    for (band, &(top, bottom)) in bands.iter().enumerate() {
        let crop = image::imageops::crop_imm(page, 0, top, page.width(), bottom - top).to_image();
        let mut words = engines.read_words_at_dpi(&crop, SECOND_LOOK_DPI)?;
        for word in &mut words {
            word.top += top;
            // Numbered apart from the first reading's lines, which
            // `group_lines` would otherwise join them to.
            word.line_id.0 += SECOND_LOOK_BLOCKS * (band as u32 + 1);
        }
        add_told_only_by(text, told_by_layout(words, model, targets));
    }
    settle_by_order(&text.lines, &mut text.classified, targets);
    Ok(())
}

/// The bands of the page (top, bottom) where form lines whose label was
/// not read must stand, by the model's order: from the bottom of the read
/// label of the nearest form line before (the page's top if none) to the
/// top of the nearest after (its bottom if none). Only lines beside a
/// label (`beside_label`) are looked for; none when no line was read; a
/// band is given once, however many unread lines share it, and none that
/// the labels around it leave empty (read out of order).
fn bands_of_unread(read_at: &[Option<Rect>], beside_label: &[bool], page_height: u32) -> Vec<(u32, u32)> {
    if read_at.iter().all(Option::is_none) {
        return Vec::new();
    }
    let mut bands: Vec<(u32, u32)> = Vec::new();
    for index in (0..read_at.len()).filter(|&i| read_at[i].is_none() && beside_label[i]) {
        let above = read_at[..index].iter().rev().flatten().next().map_or(0, |r| r[3]);
        let below = read_at[index + 1..].iter().flatten().next().map_or(page_height, |r| r[1]);
        if above < below && !bands.contains(&(above, below)) {
            bands.push((above, below));
        }
    }
    bands
}

/// Where a line's count stands, as the handwriting reader is given it when
/// the page is read as handwriting: its label (`band`) and line (`index`),
/// the region the printed reader read (`region`), how far up and down the
/// neighbouring labels leave it (`reach`), its ruled table cell, if any,
/// and its label's middle (`centre`).
struct HandCell {
    index: usize,
    band: Rect,
    region: Rect,
    reach: (u32, u32),
    table_cell: Option<table::ValueCell>,
    centre: u32,
}

/// The handwriting reader's place for `cell`, and how its rows slope (rows
/// per column). In a ruled table the count's row is its label's, rule to
/// rule, as the rules run where the figure is written. Off a table the
/// rules were not found on the page (too faint, or too steep on a curled
/// sheet), but may be traced from between the labels: where they slope,
/// the row is theirs. A pen's figure may cross into the rows around, in a
/// table or not: the region reaches as far, so that such a figure is not
/// cut by its edge (its middle still tells whose row it is).
fn hand_place(page: &GrayImage, cell: &HandCell, line_height: f32) -> (hand::Place, f32) {
    let region = cell.region;
    let mut own_rows = (region[1], region[3]);
    let traced = match cell.table_cell {
        Some(table_cell) => {
            own_rows = table_cell.rows;
            table::row_as_traced(page, table_cell.left, table_cell.rows, line_height).map(|(rows, slope)| {
                let shift =
                    |y: u32| (y as f32 + slope * region[0].saturating_sub(table_cell.left) as f32).max(0.0) as u32;
                ((shift(rows.0), shift(rows.1)), slope)
            })
        }
        None => table::row_as_traced(page, region[0], own_rows, line_height)
            .filter(|(_, slope)| slope.abs() >= hand::MIN_LEVELLED_SLOPE),
    };
    let (mut centre, mut slope, mut bend) = (cell.centre, 0.0, 0);
    if let Some((rows, traced_slope)) = traced {
        own_rows = rows;
        centre = (rows.0 + rows.1) / 2;
        slope = traced_slope;
        bend = (slope.abs() * line_height * table::ROW_TRACE_OF_TEXT) as u32;
    }
    let drift = ((own_rows.1 - own_rows.0) as f32 * table::ROW_DRIFT) as u32 + bend;
    let hand_region = [
        region[0],
        cell.reach.0.min(region[1]).min(own_rows.0.saturating_sub(drift)),
        region[2],
        cell.reach.1.max(region[3]).max((own_rows.1 + drift).min(PAGE_HEIGHT)),
    ];
    (hand::Place { region: hand_region, own_rows, label_centre_y: centre, line_height }, slope)
}

/// A form line whose label no pass read, printed between two form lines
/// whose labels were read, stands in the one ruled row between theirs
/// (`row_labels::label_between`): the table and the model's order of lines
/// say which row it is. Its label box is that row's label cell, matched
/// with the least score a label passes with. Returns the form lines so
/// placed.
fn place_unread_by_order(
    page: &GrayImage,
    rules: &[HorizontalRule],
    model: &FormModel,
    lines: &mut Vec<TextLine>,
    classified: &mut Vec<Option<(Target, f64)>>,
) -> Vec<usize> {
    let beside_label = |i: usize| model.lines[i].column.is_none();
    let band_of = |lines: &[TextLine], classified: &[Option<(Target, f64)>], i: usize| {
        union(lines.iter().zip(classified).filter_map(|(line, class)| match class {
            Some((Target::FormLine(k), _)) if *k == i => line.letters,
            _ => None,
        }))
    };
    let mut placed = Vec::new();
    for i in 1..model.lines.len().saturating_sub(1) {
        if !beside_label(i) || !beside_label(i - 1) || !beside_label(i + 1) || label_found(classified, i) {
            continue;
        }
        let (Some(above), Some(below)) = (band_of(lines, classified, i - 1), band_of(lines, classified, i + 1)) else {
            continue;
        };
        let Some(letters) = row_labels::label_between(page, rules, above, below) else { continue };
        lines.push(TextLine { words: Vec::new(), folded: String::new(), letters: Some(letters) });
        classified.push(Some((Target::FormLine(i), MIN_LABEL_SCORE)));
        placed.push(i);
    }
    placed
}

/// The form's lines are printed in the model's order, top to bottom: of the
/// labels matched to form lines, the longest run in that order is kept (the
/// best-matched where two runs are as long), and a match out of it — the
/// repeated «TOTAL VALID VOTES» under a party table taken for line 7, a
/// form line matched both where the layout pass and where the row reader
/// found it — is dropped. Text lines of one wrapped label (the same line,
/// a line's spacing apart) count as one label.
fn keep_in_model_order(lines: &[TextLine], classified: &mut [Option<(Target, f64)>]) {
    // Each text line matched to a form line: the form line, its box, its
    // score, its index among `lines`.
    let mut matched: Vec<(usize, Rect, f64, usize)> = lines
        .iter()
        .zip(classified.iter())
        .enumerate()
        .filter_map(|(k, (line, class))| match (class, line.letters) {
            (Some((Target::FormLine(i), score)), Some(rect)) => Some((*i, rect, *score, k)),
            _ => None,
        })
        .collect();
    matched.sort_by_key(|m| (m.1[1] + m.1[3]) / 2);
    // Each label: its form line, its bottom, its score, its text lines,
    // its tallest line's height (a wrapped last word, «саны», is a line
    // lower than the rest: the spacing is measured by the label's lines).
    let mut labels: Vec<(usize, u32, f64, Vec<usize>, u32)> = Vec::new();
    for (index, rect, score, k) in matched {
        let height = rect[3] - rect[1];
        match labels.last_mut() {
            Some(label)
                if label.0 == index
                    && (rect[1].saturating_sub(label.1) as f32) <= SAME_LABEL_GAP * height.max(label.4) as f32 =>
            {
                label.1 = label.1.max(rect[3]);
                label.2 += score;
                label.3.push(k);
                label.4 = label.4.max(height);
            }
            _ => labels.push((index, rect[3], score, vec![k], height)),
        }
    }
    let items: Vec<(usize, u32, f64)> = labels.iter().map(|l| (l.0, l.1, l.2)).collect();
    let kept = longest_rising_chain(&items);
    for (n, label) in labels.iter().enumerate() {
        if !kept.contains(&n) {
            for &k in &label.3 {
                classified[k] = None;
            }
        }
    }
}

fn read_election(model: &FormModel, lines: &[TextLine], classified: &[Option<(Target, f64)>], reading: &mut Reading) {
    let mut score_by_election = vec![0.0f64; model.elections.len()];
    for (_, class) in lines.iter().zip(classified) {
        if let Some((Target::Election(e), s)) = class {
            score_by_election[*e] += s;
        }
    }
    let total: f64 = score_by_election.iter().sum();
    if let Some((best, &score)) = score_by_election.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)) {
        if score > 0.0 {
            reading.election = Some(model.elections[best].key.clone());
            // Lines voting for another election make the reading doubtful.
            reading.election_confidence = (score / total) as f32;
        }
    }
}

/// The lines classified as the station line.
fn station_lines<'a>(lines: &'a [TextLine], classified: &[Option<(Target, f64)>]) -> Vec<&'a TextLine> {
    lines.iter().zip(classified).filter(|(_, c)| matches!(c, Some((Target::Station, _)))).map(|(l, _)| l).collect()
}

fn read_station(
    engines: &mut Engines,
    page: &GrayImage,
    lines: &[TextLine],
    words: &[Word],
    classified: &[Option<(Target, f64)>],
    reading: &mut Reading,
) -> Result<(), OcrError> {
    // The numbers on the station lines' height (a number may stand apart
    // from its caption), each once.
    let mut numbers: Vec<&Word> = Vec::new();
    // Numbers the layout pass was unsure of (often the Kazakh line's, read
    // together with the «№» before it): only re-read, and only as a second
    // voice for what the sure reads say.
    let mut unsure: Vec<&Word> = Vec::new();
    // What the layout pass read of every number on the station lines that
    // is not a sure read: unsure numbers, and the digits ending a word that
    // has letters glued before them («Һ.714»). Each is the other print of
    // the number; read alike, it confirms a sure read.
    let mut other_prints: Vec<String> = Vec::new();
    for (line, class) in lines.iter().zip(classified) {
        let (Some((Target::Station, _)), Some(band)) = (class, line.letters) else { continue };
        for w in words {
            let centre = w.top + w.height / 2;
            if centre >= band[1] && centre <= band[3] && has_letters(&w.text) {
                let folded: Vec<char> = w.text.chars().map(digit_look_alike).collect();
                let tail: String = folded.iter().rev().take_while(|c| c.is_ascii_digit()).collect();
                if !tail.is_empty() {
                    other_prints.push(tail.chars().rev().collect());
                }
            }
            let is_number = w.text.chars().any(|c| c.is_ascii_digit()) && !has_letters(&w.text);
            // A number read with little confidence is often the «№» glued
            // to it («85311»): the other station line will have it.
            let on_line = centre >= band[1] && centre <= band[3] && is_number;
            if !on_line || numbers.iter().chain(&unsure).any(|n| std::ptr::eq(*n, w)) {
                continue;
            }
            if w.conf >= MIN_WORD_CONFIDENCE {
                numbers.push(w);
            } else {
                unsure.push(w);
                other_prints.push(w.text.chars().filter(|c| c.is_ascii_digit()).collect());
            }
        }
    }
    numbers.sort_by_key(|w| (w.top / 8, w.left));
    // «№» is often read as a digit of its own («6 375»): a number directly
    // followed by another is that sign, not the station.
    let followed = |w: &Word| {
        numbers
            .iter()
            .any(|n| n.left > w.left && n.left <= w.right() + w.height * 3 / 2 && n.top.abs_diff(w.top) < w.height)
    };
    // Read like a count: the word's own glyphs only, so a sliver of the «№»
    // beside it (cut by the word's edge) is left out.
    let mut reread = |w: &Word| -> Result<(String, f32), OcrError> {
        let pad = (w.height as f32 * STATION_WORD_PAD) as u32;
        let rect = [w.left.saturating_sub(pad), w.top.saturating_sub(pad), w.right() + pad, w.bottom() + pad];
        let centre = w.top + w.height / 2;
        // The word's box may hold the rule the number is written on (twice
        // the digits' height), so the digits' height is not taken from it.
        let digit_height = w.height as f32 * STATION_DIGIT_SHARE;
        let read = read_cell(engines, page, rect, centre, digit_height, &[], MAX_STATION_DIGITS)?;
        Ok((read.value.map(|v| v.to_string()).unwrap_or_default(), read.confidence))
    };
    let mut engine_reads = Vec::new();
    let mut layout_reads = Vec::new();
    for w in numbers.iter().filter(|w| !followed(w)) {
        engine_reads.push(reread(w)?);
        // The layout pass reads the number in its context, often better.
        layout_reads.push((w.text.chars().filter(|c| c.is_ascii_digit()).collect(), w.conf / 100.0));
    }
    let mut unsure_reads = Vec::new();
    if !layout_reads.is_empty() {
        for w in unsure.iter().filter(|w| !followed(w)) {
            unsure_reads.push(reread(w)?);
        }
    }
    if let Some((station, confidence)) = agree_on_station(&engine_reads, &layout_reads, &unsure_reads, &other_prints) {
        reading.station = Some(station);
        reading.station_confidence = confidence;
    }
    Ok(())
}

/// The digit a letter of a misread number looks like («В55» is 855,
/// «В8З» 883); other characters as they are.
fn digit_look_alike(c: char) -> char {
    match c {
        'В' | 'B' => '8',
        'З' | 'з' => '3',
        'О' | 'о' | 'O' | 'o' => '0',
        'б' => '6',
        'l' | 'I' | '|' => '1',
        other => other,
    }
}

/// The station number, from the layout pass's reads of the number words
/// (Kazakh and Russian lines each print it) and the digits engine's
/// confident re-reads of the same words (an unsure re-read, or one of
/// another length than the layout pass's, is no opinion).
/// Every opinion must agree: a number read two ways is for a person to
/// settle. Two opinions stand; one alone is sent to a person. `seconding`
/// are confident re-reads of numbers the layout pass was unsure of: they
/// add an opinion when they say what the others say, and nothing otherwise.
/// `other_prints` are the layout pass's unsure reads of the number's other
/// print: one that reads exactly alike adds an opinion (a misread would
/// have to repeat itself in the other print), one that does not, nothing.
pub fn agree_on_station(
    engine_reads: &[(String, f32)],
    layout_reads: &[(String, f32)],
    seconding: &[(String, f32)],
    other_prints: &[String],
) -> Option<(String, f32)> {
    let mut layout: Vec<&(String, f32)> = layout_reads.iter().filter(|(t, _)| !t.is_empty()).collect();
    // The «№» glued to a number can swallow its first digit («№855» read
    // «В55», its digits «55»). A layout read that is the end of a longer one
    // is that, when every sure re-read says the longer number.
    if let Some(longest) = layout.iter().map(|(t, _)| t.clone()).max_by_key(|t| t.len()) {
        let sure: Vec<&String> = engine_reads
            .iter()
            .filter(|(t, c)| !t.is_empty() && *c >= STATION_OPINION_CONFIDENCE)
            .map(|(t, _)| t)
            .collect();
        let all_ends = layout.iter().all(|(t, _)| longest.ends_with(t.as_str()));
        if all_ends && !sure.is_empty() && sure.iter().all(|t| **t == longest) {
            layout.retain(|(t, _)| *t == longest);
        }
    }
    // A layout read less sure than a re-read must be is no opinion against
    // sure layout reads that agree (a messenger's blurred «5» read «926»
    // at 0.44 beside «526» at 0.96): the re-reads of its print still
    // speak.
    let sure_layout: Vec<&String> =
        layout.iter().filter(|(_, c)| *c >= STATION_OPINION_CONFIDENCE).map(|(t, _)| t).collect();
    if let Some(&sure) = sure_layout.first().filter(|_| sure_layout.iter().all(|t| *t == sure_layout[0])) {
        let sure = sure.clone();
        layout.retain(|(t, c)| *c >= STATION_OPINION_CONFIDENCE || *t == sure);
    }
    // A re-read shorter or longer than the layout pass's is a crop that cut
    // or caught too much, not another number.
    let length = layout.first().map(|(t, _)| t.len());
    let engine: Vec<&(String, f32)> = engine_reads
        .iter()
        .filter(|(t, c)| !t.is_empty() && *c >= STATION_OPINION_CONFIDENCE && length.is_none_or(|n| t.len() == n))
        .collect();
    let (first, _) = layout.iter().chain(&engine).next()?;
    if !layout.iter().chain(&engine).all(|(t, _)| t == first) {
        return None;
    }
    let lowest = |reads: &[&(String, f32)]| reads.iter().map(|r| r.1).fold(1.0, f32::min);
    let seconds: Vec<&(String, f32)> =
        seconding.iter().filter(|(t, c)| t == first && *c >= STATION_OPINION_CONFIDENCE).collect();
    // The digits engine's confidence is calibrated for digits; the layout
    // pass's, for words, runs lower on numbers. A seconding read is the
    // digits engine's too.
    let confidence = match (engine.is_empty(), seconds.is_empty()) {
        (false, _) => lowest(&engine),
        (true, false) => lowest(&seconds),
        // The number is printed on both station lines: two prints read
        // alike are as sure as the surer read (a misread would have to
        // repeat itself in the other print).
        (true, true) if layout.len() >= 2 => layout.iter().map(|r| r.1).fold(0.0, f32::max),
        (true, true) => lowest(&layout),
    };
    let alike = other_prints.iter().filter(|p| *p == first).count();
    let opinions = layout.len() + engine.len() + seconds.len() + if layout.is_empty() { 0 } else { alike };
    let confidence = if opinions < 2 { confidence * UNCONFIRMED_STATION_FACTOR } else { confidence };
    Some((first.clone(), confidence))
}

/// Finds and reads the digits inside `region` of the page.
#[allow(clippy::too_many_arguments)]
fn read_cell(
    engines: &mut Engines,
    page: &GrayImage,
    region: Rect,
    label_centre_y: u32,
    line_height: f32,
    letter_boxes: &[Rect],
    max_digits: u32,
) -> Result<ValueReading, OcrError> {
    let [l, t, r, b] = region;
    if r <= l + 4 || b <= t + 4 {
        return Ok(ValueReading { problem: Some("no room to the right of the label".into()), ..Default::default() });
    }
    let (w, h) = (r - l, b - t);
    let CellInk { labels, boxes, .. } = cell_ink(page, region, ink_level(page, region), letter_boxes, None, 0);
    let min_area = (line_height * line_height * 0.02) as u32;
    // Ink cut by the region's edge continues outside it: a rule or a
    // neighbour's print, never a digit of this count (which stands inside).
    let cut = |bx: &Rect| bx[1] == 0 || bx[3] >= h || bx[2] >= w;
    let components: Vec<Rect> =
        boxes.values().filter(|(bx, area)| *area >= min_area && !cut(bx)).map(|(bx, _)| *bx).collect();
    let (glyphs, _rules) = select_digit_glyphs(&components, label_centre_y.saturating_sub(t), line_height);
    let Some(digits_box) = union(glyphs.iter().copied()) else {
        return Ok(ValueReading { problem: Some("the cell is empty".into()), ..Default::default() });
    };
    // The chosen glyphs' own ink, once: it gives the ink per pixel column
    // (where touching glyphs are cut) and, dilated, the crop's mask.
    let chosen_ids: std::collections::HashSet<u32> =
        boxes.iter().filter(|(_, (bx, _))| glyphs.contains(bx)).map(|(id, _)| *id).collect();
    let chosen_ink = GrayImage::from_fn(w, h, |x, y| {
        Luma([if chosen_ids.contains(&labels.get_pixel(x, y).0[0]) { 255 } else { 0 }])
    });
    let ink_per_column: Vec<u32> =
        (0..w).map(|x| (0..h).filter(|&y| chosen_ink.get_pixel(x, y).0[0] > 0).count() as u32).collect();
    let whole_columns = glyph_columns(&glyphs);
    let columns = split_touching(&whole_columns, &ink_per_column);
    // Where touching glyphs were cut apart, the glyph reader's reading rests
    // on a guessed cut: it may confirm Tesseract, never stand against it.
    let split = columns.len() != whole_columns.len();
    let glyph_count = columns.len();
    let cell = [digits_box[0] + l, digits_box[1] + t, digits_box[2] + l, digits_box[3] + t];
    let crop_rect = [cell[0].saturating_sub(3), cell[1].saturating_sub(3), cell[2] + 3, cell[3] + 3];
    // The crop holds the chosen glyphs' own pixels and their soft edges,
    // nothing else: no rule, no fragment, no label.
    let glyph_mask = dilate_square(&chosen_ink, GLYPH_EDGE);
    let keep = |x: u32, y: u32| {
        let (cx, cy) = (x.wrapping_sub(l), y.wrapping_sub(t));
        cx < w && cy < h && glyph_mask.get_pixel(cx, cy).0[0] > 0
    };
    let crop = normalise_crop(white_crop(page, crop_rect, keep), height(&digits_box));
    let mut read = engines.read_digits(&crop)?;
    if read.text.is_empty() {
        // Short counts in small crops are sometimes dropped whole; larger, they read.
        let (cw, ch) = crop.dimensions();
        let larger = resize::gray(&crop, cw * 2, ch * 2, Filter::CatmullRom);
        read = engines.read_digits(&larger)?;
        if read.text.is_empty() && glyph_count == 1 {
            read = engines.read_single_digit(&crop)?;
        }
    }
    let first = DigitRead { text: read.text.chars().filter(|c| !c.is_whitespace()).collect(), ..read };
    // A second read of the same cell at another scale: Tesseract's
    // segmentation differs, so a fragile reading shows as a disagreement.
    let (cw, ch) = crop.dimensions();
    let scaled = resize::gray(
        &crop,
        (cw as f32 * SECOND_READ_SCALE) as u32,
        (ch as f32 * SECOND_READ_SCALE) as u32,
        Filter::CatmullRom,
    );
    let second = engines.read_digits(&scaled)?;
    let second = DigitRead { text: second.text.chars().filter(|c| !c.is_whitespace()).collect(), ..second };
    // Of two different reads, the one with as many digits as glyphs seen is
    // taken (line mode drops a doubled digit: «44» → «4»); the disagreement
    // stays a doubt either way.
    let fits = |r: &DigitRead| r.text.len() == glyph_count && r.text.chars().all(|c| c.is_ascii_digit());
    let mut chosen = if !fits(&first) && fits(&second) { second.clone() } else { first.clone() };
    let line_doubt = (first.text != second.text)
        .then(|| format!("read '{}', and '{}' at {SECOND_READ_SCALE}× scale", first.text, second.text));

    // The second reader: each glyph by the network, from the page's pixels
    // (`keep` is the chosen glyphs' mask, in page coordinates).
    let column_crops: Vec<GrayImage> =
        columns.iter().map(|c| glyph_crop(page, [c[0] + l, c[1] + t, c[2] + l, c[3] + t], keep)).collect();
    let glyph_view = read_glyphs(&column_crops).and_then(|read| {
        // A glyph shorter than its neighbours lost ink (to a rule it
        // touched, to the region's edge): its shape may be another digit's.
        let tallest = columns.iter().map(height).max().unwrap_or(0) as f32;
        match columns.iter().position(|c| (height(c) as f32) < SHORT_GLYPH_SHARE * tallest) {
            Some(i) => Err(format!("glyph {} is shorter than the others", i + 1)),
            None => Ok(read),
        }
    });
    let sure_glyphs = glyph_view.as_ref().ok().filter(|(_, p)| *p >= GLYPH_READER_SURE).cloned();
    // How the glyph reader's sure reading stands with Tesseract's.
    let mut verdict = GlyphVerdict::Silent;
    if let Some((text, sure)) = &sure_glyphs {
        if let Some(agreeing) = [&first, &second].into_iter().find(|r| r.text == *text) {
            chosen = agreeing.clone();
            verdict = GlyphVerdict::Agrees(format!("the glyph reader read '{text}' too ({sure:.2})"));
        } else if [&first, &second].iter().all(|r| r.text.is_empty() || r.text.len() == text.len()) {
            // Tesseract's line reads said nothing, or other digits but as
            // many: each glyph read alone by Tesseract is the deciding voice.
            // (Where a line read counts other digits, glyph-by-glyph reads
            // share the glyph reader's cut of the cell, a glyph broken in
            // two among it: no second voice.)
            let mut singles = String::new();
            let mut lowest = 1.0f32;
            for crop in &column_crops {
                let single = engines.read_single_digit(&normalise_crop(crop.clone(), height(&digits_box)))?;
                singles.push_str(single.text.trim());
                lowest = lowest.min(single.confidence);
            }
            if singles == *text {
                chosen = DigitRead { text: text.clone(), confidence: lowest };
                verdict = GlyphVerdict::Agrees(format!(
                    "the glyph reader read '{text}' ({sure:.2}), and so did Tesseract glyph by glyph"
                ));
            } else if !split && first.text.is_empty() && second.text.is_empty() {
                // Tesseract read nothing; the glyph reader's reading is the
                // better guess, for a person to confirm.
                chosen = DigitRead { text: text.clone(), confidence: *sure };
                verdict = GlyphVerdict::Alone(format!(
                    "Tesseract read nothing ('{singles}' glyph by glyph); the glyph reader read '{text}' ({sure:.2})"
                ));
            }
        } else if !split {
            verdict = GlyphVerdict::Disagrees(format!("the glyph reader read '{text}' ({sure:.2})"));
        }
    }
    let digits = chosen.text.clone();

    let mut reading = ValueReading {
        cell: Some(cell),
        confidence: chosen.confidence,
        ocr_confidence: chosen.confidence,
        crop: Some(crop.clone()),
        ..Default::default()
    };
    // What the glyph reader made of a cell it did not settle, for the reviewer.
    let unsure_view = match &glyph_view {
        Ok((text, p)) if *p < GLYPH_READER_SURE => Some(format!("the glyph reader read '{text}' unsure ({p:.2})")),
        Err(why) => Some(format!("the glyph reader: {why}")),
        Ok(_) => None,
    };
    if digits.is_empty() {
        reading.confidence = 0.0;
        let problems: Vec<String> =
            std::iter::once("ink in the cell, but no digits read".to_string()).chain(unsure_view).collect();
        reading.problem = Some(problems.join("; "));
        return Ok(reading);
    }
    match parse_count(&digits, max_digits) {
        Ok(value) => reading.value = Some(value),
        Err(problem) => {
            reading.confidence = 0.0;
            reading.problem = Some(problem);
            return Ok(reading);
        }
    }
    let mut doubts: Vec<String> = Vec::new();
    if digits.len() > 1 && digits.starts_with('0') {
        reading.confidence *= GLYPH_MISMATCH_FACTOR;
        doubts.push(format!("'{digits}' starts with a zero"));
    }
    let sure = sure_glyphs.as_ref().map_or(0.0, |g| g.1);
    match verdict {
        GlyphVerdict::Agrees(note) if doubts.is_empty() => {
            // Two unrelated readers agree on every digit: the reading is as
            // sure as the less sure of them. A settled doubt stays a note.
            reading.confidence = reading.confidence.max(AGREED_READERS_FLOOR).min(sure);
            reading.ocr_confidence = reading.confidence;
            if line_doubt.is_some() || glyph_count != first.text.len() {
                doubts.extend(line_doubt);
                doubts.push(note);
            }
        }
        GlyphVerdict::Alone(note) => {
            // One reader's word: a doubt, which only an exact equality over
            // the value can clear (see `check`).
            reading.confidence = sure * DISAGREEMENT_FACTOR;
            reading.ocr_confidence = sure;
            doubts.push(note);
        }
        verdict => {
            // Glyphs touching after the closing make the count a lower
            // bound: only fewer digits than glyphs (a dropped digit) is a doubt.
            // Glyphs cut apart are a guess, so the doubt counts whole ones.
            if digits.len() < whole_columns.len() {
                reading.confidence *= GLYPH_MISMATCH_FACTOR;
                doubts.push(format!("read {} digits but saw {} glyphs", digits.len(), whole_columns.len()));
            }
            if let Some(doubt) = line_doubt {
                reading.confidence *= DISAGREEMENT_FACTOR;
                doubts.push(doubt);
            }
            if let GlyphVerdict::Disagrees(note) = verdict {
                reading.confidence *= DISAGREEMENT_FACTOR;
                doubts.push(note);
            } else if !doubts.is_empty() {
                doubts.extend(unsure_view);
            }
        }
    }
    if !doubts.is_empty() {
        reading.problem = Some(doubts.join("; "));
    }
    Ok(reading)
}

/// How the glyph reader's sure reading of a cell stands with Tesseract's.
enum GlyphVerdict {
    /// Not sure, or not one digit per glyph: no voice.
    Silent,
    /// A Tesseract reading says the same.
    Agrees(String),
    /// Tesseract read nothing; the glyph reader's reading is taken, as a
    /// doubt.
    Alone(String),
    /// Tesseract read something else.
    Disagrees(String),
}

/// Splits glyph columns that are two or more digits touching (bold or
/// blurred print closes the gap): a column much wider than a digit is cut
/// where the least ink stands near each expected boundary.
/// `ink_per_column` counts the glyphs' ink pixels in each pixel column.
fn split_touching(columns: &[Rect], ink_per_column: &[u32]) -> Vec<Rect> {
    let Some(digit_height) = columns.iter().map(height).max() else { return Vec::new() };
    // A single digit's width: the median of the cell's glyphs that are as
    // wide as most digits (not a "1", not touching digits), or else a
    // printed digit's usual share of its height.
    let height_share = |share: f32| share * digit_height as f32;
    let mut widths: Vec<u32> = columns
        .iter()
        .map(width)
        .filter(|&w| {
            (w as f32) >= height_share(MIN_DIGIT_WIDTH_OF_HEIGHT)
                && (w as f32) <= height_share(MAX_DIGIT_WIDTH_OF_HEIGHT)
        })
        .collect();
    widths.sort_unstable();
    let typical = widths
        .get(widths.len() / 2)
        .map_or(height_share(TYPICAL_DIGIT_WIDTH_OF_HEIGHT), |&w| w as f32)
        .max(height_share(MIN_TYPICAL_WIDTH_OF_HEIGHT));
    let mut out = Vec::new();
    for c in columns {
        let w = width(c) as f32;
        let parts = (w / typical).round() as u32;
        if w <= height_share(MAX_DIGIT_WIDTH_OF_HEIGHT) || parts < 2 {
            out.push(*c);
            continue;
        }
        let mut left = c[0];
        for k in 1..parts {
            let expected = c[0] as f32 + w * k as f32 / parts as f32;
            let reach = (typical * SPLIT_SEARCH_SHARE) as u32;
            let (from, to) =
                ((expected as u32).saturating_sub(reach).max(left + 1), (expected as u32 + reach).min(c[2] - 1));
            let cut = (from..=to.max(from))
                .min_by_key(|&x| (ink_per_column.get(x as usize).copied().unwrap_or(0), x.abs_diff(expected as u32)))
                .unwrap_or(expected as u32);
            out.push([left, c[1], cut, c[3]]);
            left = cut;
        }
        out.push([left, c[1], c[2], c[3]]);
    }
    out
}

/// The glyph reader's reading of a cell's glyphs (left to right) and its
/// least probability; or why it has none.
fn read_glyphs(crops: &[GrayImage]) -> Result<(String, f32), String> {
    let net = digits::network();
    let mut text = String::new();
    let mut lowest = 1.0f32;
    for (i, crop) in crops.iter().enumerate() {
        let read = digits::read_glyph(net, crop).ok_or_else(|| format!("glyph {} holds no ink", i + 1))?;
        let digit = read.digit.ok_or_else(|| format!("glyph {} is not one digit", i + 1))?;
        text.push(char::from(b'0' + digit));
        lowest = lowest.min(read.probability);
    }
    if text.is_empty() {
        return Err("no glyphs".into());
    }
    Ok((text, lowest))
}

/// The height most glyphs share (within `ANCHOR_HEIGHT_TOLERANCE`), the
/// smaller of equally common ones: the digits' height, which specks,
/// broken pieces and box sides do not share. A piece wider than tall
/// counts as the glyphs it may hold, its width in heights (a digit is no
/// wider than tall): two digits a blur ran together outweigh the
/// broken-off top of a third («5» of «56»), while a box's corner around
/// the count is one, and so is a flat piece (a rule's, a dash), however
/// long.
fn common_height(components: &[Rect]) -> Option<f32> {
    let glyphs = |b: &Rect| {
        let (w, h) = (width(b), height(b).max(1));
        if w > FLAT_ASPECT * h {
            1.0
        } else {
            (w as f32 / h as f32).max(1.0)
        }
    };
    let share = |h: f32| -> f32 {
        components.iter().filter(|b| (height(b) as f32 - h).abs() <= ANCHOR_HEIGHT_TOLERANCE * h).map(glyphs).sum()
    };
    components
        .iter()
        .map(|b| height(b) as f32)
        .map(|h| (share(h), h))
        .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)))
        .map(|(_, h)| h)
}

/// Pieces of one printed glyph that blur or a small photo broke apart, one
/// above the other (a «5»'s bar and its bowl), joined into one box: apart,
/// neither is as tall as a digit, and the count seems to have a gap where
/// the glyph stands (a messenger's «151» read «1»). Pieces join when they
/// share most of the narrower one's columns, stand within a stroke's width
/// of each other, one above the other (not side by side within the same
/// rows: a box's corner around the count), and neither is flat like a rule
/// or a dash.
fn stacked_pieces_joined(components: &[Rect], line_height: f32) -> Vec<Rect> {
    let by_line = (line_height * STACKED_PIECE_REACH_OF_LINE) as u32;
    let digit_height = common_height(components).unwrap_or(0.0);
    let by_digit = (digit_height * STACKED_PIECE_REACH_OF_DIGIT) as u32;
    let flat = |b: &Rect| width(b) > FLAT_ASPECT * height(b);
    joined_where(components, |a, b| {
        let gap = a[1].saturating_sub(b[3]).max(b[1].saturating_sub(a[3]));
        let joined_height = a[3].max(b[3]) - a[1].min(b[1]);
        let digit_high = joined_height as f32 <= (1.0 + ANCHOR_HEIGHT_TOLERANCE) * digit_height;
        let reach = if digit_high { by_line.max(by_digit) } else { by_line };
        let overlap = a[3].min(b[3]).saturating_sub(a[1].max(b[1])) as f32;
        let stacked = overlap <= STACKED_OVERLAP_OF_HEIGHT * height(a).min(height(b)) as f32;
        // A flat piece (a «2»'s foot, a «5»'s bar) joins only into a box
        // shaped like a digit, taller than wide: a rule's piece or an
        // underline spans more than a digit's width.
        let digit_shaped = || {
            let joined = union([*a, *b].into_iter()).expect("two boxes");
            width(&joined) <= height(&joined)
        };
        (!(flat(a) || flat(b)) || digit_shaped()) && share_columns(a, b, 0.5) && gap <= reach && stacked
    })
}

/// Sorts the ink components of a cell into the digits of the count and the
/// rules around them (box sides, table rules), by shape alone:
/// - the digits of one printed count are equally tall; their height is the
///   median height of the components that are not thin strokes;
/// - a thin stroke much taller than that is a box side or a rule (a printed
///   "1" is as tall as the other digits);
/// - the count is the largest group of digit-high components standing
///   side by side; pieces of a glyph broken by blur are kept when they lie
///   within its band.
///
/// Returns (digit components, rule components).
pub fn select_digit_glyphs(components: &[Rect], centre_y: u32, line_height: f32) -> (Vec<Rect>, Vec<Rect>) {
    // Pieces one above the other may be one glyph broken (print a small
    // photo blurred) or strokes of their own (a pen's «7» bar over its
    // stem, beside a «6» broken otherwise): the count is chosen both ways,
    // and the choice whose box covers more of the cell stands (digits lost
    // to a gap, or a broken digit's foot left out, are what either way
    // risks).
    let as_they_are = select_among(components, components, centre_y, line_height);
    let joined = stacked_pieces_joined(components, line_height);
    if joined.len() == components.len() {
        return as_they_are;
    }
    let with_joined = select_among(components, &joined, centre_y, line_height);
    let covered = |glyphs: &[Rect]| union(glyphs.iter().copied()).map_or(0, |b| width(&b) * height(&b));
    if covered(&with_joined.0) > covered(&as_they_are.0) {
        with_joined
    } else {
        as_they_are
    }
}

/// [`select_digit_glyphs`] with the glyphs found among `components` (the
/// pieces, or the pieces joined), the count returned as `pieces` (the
/// caller finds their ink by their boxes).
fn select_among(pieces: &[Rect], components: &[Rect], centre_y: u32, line_height: f32) -> (Vec<Rect>, Vec<Rect>) {
    let thin = |b: &Rect| width(b) * THIN_ASPECT <= height(b);
    // Printed counts are at least about as tall as the label's letters;
    // flatter things (the frayed edge of a rule, a dash) only set the
    // digits' height wrong.
    let tall_enough = |b: &Rect| height(b) as f32 >= MIN_DIGIT_HEIGHT_OF_LINE * line_height;
    let wide: Vec<Rect> = components.iter().copied().filter(|b| !thin(b) && tall_enough(b)).collect();
    let tall: Vec<Rect> = components.iter().copied().filter(tall_enough).collect();
    let Some(digit_height) = common_height(if wide.is_empty() { &tall } else { &wide }) else {
        return (Vec::new(), Vec::new());
    };
    let is_rule = |b: &Rect| {
        let h = height(b) as f32;
        (thin(b) && h >= RULE_HEIGHT_FACTOR * digit_height) || h > MAX_DIGIT_HEIGHT_FACTOR * digit_height
    };
    let rules: Vec<Rect> = components.iter().copied().filter(is_rule).collect();
    // A plain thin stroke is a digit only where nothing wider is: printed
    // "1"s have a flag or a foot, a broken piece of a ruling line has not
    // (it may still join a count it stands inside, as a piece below).
    let anchors: Vec<Rect> = components
        .iter()
        .copied()
        .filter(|b| {
            tall_enough(b)
                && !is_rule(b)
                && (wide.is_empty() || !thin(b))
                && (height(b) as f32 - digit_height).abs() <= ANCHOR_HEIGHT_TOLERANCE * digit_height
        })
        .collect();
    // Rows: anchors whose middles are within half a digit of each other.
    let rows = rows_by_middle(anchors, digit_height / 2.0);
    // The row that best stands beside the label; in it, the largest run of
    // digits closer together than `MAX_DIGIT_GAP_FACTOR` heights.
    // A row scores one per glyph, less one per digit height it stands from
    // the label's middle: a stray fragment beside the label loses to the
    // count a little lower, and a neighbour's count far away loses to ours.
    let score = |row: &Vec<Rect>| {
        let middle = (row[0][1] + row[0][3]) as f32 / 2.0;
        row.len() as f32 - (middle - centre_y as f32).abs() / digit_height
    };
    let Some(row) = rows.into_iter().max_by(|a, b| score(a).total_cmp(&score(b))) else {
        return (Vec::new(), rules);
    };
    let groups = runs_by_gap(row, (digit_height * MAX_DIGIT_GAP_FACTOR) as u32);
    let Some(group) = groups.into_iter().max_by_key(|g| g.len()) else {
        return (Vec::new(), rules);
    };
    let mut band = union(group.iter().copied()).expect("groups are not empty");
    let slack = (digit_height * 0.15) as u32;
    // A thin "1" of digit height standing at a digit's distance from the
    // count belongs to it (a rule's broken piece stands further off).
    let reach = (digit_height * THIN_DIGIT_REACH) as u32;
    let mut grown = true;
    while grown {
        grown = false;
        for b in components.iter().filter(|b| thin(b) && !is_rule(b)) {
            let digit_high = (height(b) as f32 - digit_height).abs() <= ANCHOR_HEIGHT_TOLERANCE * digit_height;
            let stroke_wide = width(b) as f32 >= MIN_ONE_WIDTH_SHARE * digit_height;
            let in_band = b[1] + slack >= band[1] && b[3] <= band[3] + slack;
            let outside = b[2] <= band[0] || b[0] >= band[2];
            let near = b[2] + reach >= band[0] && b[0] <= band[2] + reach;
            if digit_high && stroke_wide && in_band && outside && near {
                band = [band[0].min(b[0]), band[1], band[2].max(b[2]), band[3]];
                grown = true;
            }
        }
    }
    // Pieces of a glyph broken by blur lie in the band, touching or nearly
    // touching the first or last whole glyph.
    let side = (digit_height * PIECE_REACH) as u32;
    let glyphs = pieces
        .iter()
        .copied()
        .filter(|b| {
            let in_band = b[1] + slack >= band[1] && b[3] <= band[3] + slack;
            let within = b[0] + slack >= band[0] && b[2] <= band[2] + slack;
            let beside = b[2] + side >= band[0] && b[0] <= band[2] + side;
            // Beyond the whole glyphs only sizeable pieces count, not specks.
            let sizeable = height(b) as f32 >= MIN_PIECE_SHARE * digit_height;
            !is_rule(b) && in_band && (within || (beside && sizeable))
        })
        .collect();
    (glyphs, rules)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspelt_label_lines_are_classified() {
        let model = FormModel::load(None).unwrap();
        let targets = Targets::new(&model);
        let index = |key: &str| model.lines.iter().position(|l| l.key == key).unwrap();
        let cases = [
            ("Число избиратeлей, вкпючённых в cписки для голосования", index("voters_on_list")),
            ("Бүлiнген (жарамсыз деп танылган) бюллетеньдердiң саны", index("ballots_spoiled")),
            ("Число неиспользованных (погашенньх) избирательных", index("ballots_unused")),
            ("«Адал» партиясына берiлген дауыстар саны / Число голосов,", index("votes.adal")),
        ];
        for (text, want) in cases {
            let got = targets.classify(&fold(text), None, &model);
            assert_eq!(got.map(|g| g.0), Some(Target::FormLine(want)), "{text}");
        }
        assert_eq!(
            targets.classify(&fold("Облыстык маслихат депутаттарын сайлау"), None, &model).map(|g| g.0),
            Some(Target::Election(1))
        );
        assert_eq!(targets.classify(&fold("саны"), None, &model), None, "too short to say");
        assert_eq!(targets.region(&fold("Алматы к.")).map(|r| r.0), Some("Алматы қ.".to_string()));
        assert_eq!(targets.region(&fold("г. Алматы / Алматы к.")).map(|r| r.0), Some("Алматы қ.".to_string()));
        assert_eq!(targets.region(&fold("Алматы облысы")).map(|r| r.0), Some("Алматы облысы".to_string()));
        // A party name the OCR lost: a tie between party lines, settled by the line number.
        let garbled = fold("«» партиясына берiлген дауыстар саны");
        assert_eq!(targets.classify(&garbled, None, &model), None);
        let by_number = targets.classify(&garbled, Some(6), &model).map(|g| g.0);
        assert_eq!(by_number, Some(Target::FormLine(index("votes.nur_otan"))));
    }

    #[test]
    fn box_sides_are_rules_and_digits_are_kept() {
        // A box 64 px tall with sides 4 px wide, holding "1857" 32 px tall,
        // the "5" broken into its bar and its bowl.
        let components = [
            [0, 0, 4, 64],      // left side
            [196, 0, 200, 64],  // right side
            [60, 16, 68, 48],   // 1
            [74, 16, 92, 48],   // 8
            [98, 16, 116, 22],  // 5: bar
            [98, 24, 116, 48],  // 5: bowl
            [122, 16, 140, 48], // 7
            [150, 40, 152, 42], // speck
        ];
        let (glyphs, rules) = select_digit_glyphs(&components, 32, 30.0);
        assert_eq!(rules, vec![[0, 0, 4, 64], [196, 0, 200, 64]]);
        assert_eq!(glyphs.len(), 5, "{glyphs:?}");
        assert_eq!(glyph_columns(&glyphs).len(), 4);
    }

    #[test]
    fn the_count_beside_the_label_is_chosen_over_a_neighbours() {
        // Two rows of digits in one region: "12" at y 10–42, "345" at y 70–102.
        let components = [[10, 10, 28, 42], [32, 10, 50, 42], [10, 70, 28, 102], [32, 70, 50, 102], [54, 70, 72, 102]];
        let (glyphs, _) = select_digit_glyphs(&components, 30, 30.0);
        assert_eq!(glyphs, vec![[10, 10, 28, 42], [32, 10, 50, 42]]);
        let (glyphs, _) = select_digit_glyphs(&components, 90, 30.0);
        assert_eq!(glyphs.len(), 3);
    }

    #[test]
    fn a_flat_piece_of_a_digit_joins_it_but_an_underline_does_not() {
        // «132» as a messenger's blur prints it: the «2»'s foot broke off,
        // and its upper part alone is shorter than the other digits.
        let count = [[211, 45, 217, 70], [225, 45, 241, 70], [245, 45, 259, 63], [244, 64, 259, 70]];
        let (glyphs, _) = select_digit_glyphs(&count, 57, 27.0);
        assert_eq!(union(glyphs.into_iter()), Some([211, 45, 259, 70]));
        // «56» with the «5»'s top broken off and its bowl run into the «6».
        let run_together = [[174, 43, 187, 56], [175, 44, 210, 70]];
        let (glyphs, _) = select_digit_glyphs(&run_together, 54, 25.0);
        assert_eq!(union(glyphs.into_iter()), Some([174, 43, 210, 70]));
        // «1405» blurred: the «5»'s bar 5 px above what is left of its bowl.
        let bar_apart = [[114, 51, 121, 74], [127, 51, 160, 74], [163, 50, 175, 56], [170, 61, 177, 74]];
        let (glyphs, _) = select_digit_glyphs(&bar_apart, 58, 27.0);
        assert_eq!(union(glyphs.into_iter()), Some([114, 50, 177, 74]));
        // A box's corner piece, as wide for its height as two digits run
        // together, is not the count beside it.
        let cornered = [[252, 2, 274, 16], [205, 40, 225, 67], [230, 40, 252, 68]];
        let (glyphs, _) = select_digit_glyphs(&cornered, 52, 23.0);
        assert_eq!(glyphs, cornered[1..].to_vec());
        let underlined = [[225, 45, 241, 70], [220, 72, 262, 76]];
        assert_eq!(stacked_pieces_joined(&underlined, 27.0).len(), 2, "an underline wider than the digit");
    }

    /// Words side by side on one line, read from segment `segment`, word
    /// `i` with confidence `conf(i)`.
    fn words_side_by_side(texts: &[&str], segment: u32, conf: impl Fn(usize) -> f32) -> Vec<Word> {
        texts
            .iter()
            .enumerate()
            .map(|(i, t)| Word {
                text: t.to_string(),
                left: 10 + 60 * i as u32,
                top: 10,
                width: 50,
                height: 20,
                conf: conf(i),
                line_id: (segment, 0, 0),
            })
            .collect()
    }

    #[test]
    fn a_line_number_is_read_past_the_tables_rule_before_it() {
        let line = |texts: &[&str]| TextLine {
            words: words_side_by_side(texts, 0, |_| 90.0),
            folded: String::new(),
            letters: None,
        };
        assert_eq!(leading_number(&line(&["2.", "Учаскелік"])), Some(2));
        assert_eq!(leading_number(&line(&["|2.", "|Учаскелік"])), Some(2));
        assert_eq!(leading_number(&line(&["|", "6.", "«Ақ"])), Some(6));
        assert_eq!(leading_number(&line(&["(10.", "Қазақстан"])), Some(10));
        assert_eq!(leading_number(&line(&["|Учаскелік", "2."])), None, "a number after the label's first word");
        assert_eq!(leading_number(&line(&["|", "!"])), None);
        assert_eq!(leading_number(&line(&["Із.", "Сайлау"])), None, "a misread number is none");
    }

    #[test]
    fn rows_are_told_by_their_number_in_order_and_the_title_above_them() {
        let model = FormModel::load(None).unwrap();
        let targets = Targets::new(&model);
        // Words read from segment 7; an opening's last word, cut by the
        // crop, read unsure.
        let read = |texts: &[&str], last_unsure: bool| {
            let unsure = |i: usize| last_unsure && i + 1 == texts.len();
            group_lines(&words_side_by_side(texts, 7, |i| if unsure(i) { 20.0 } else { 90.0 }))
        };
        let opening = |texts: &[&str]| read(texts, true);
        let mut teller = SegmentTeller {
            targets: &targets,
            model: &model,
            progress: PageProgress::default(),
            by_number: BTreeMap::new(),
        };
        // Before any line is told, no number is awaited: the page's header
        // is read as ever.
        assert!(!teller.awaits_number());
        assert_eq!(teller.tell(&opening(&["|2.", "|Уч"]), Reach::Opening), Told::ReadOn);
        // The title's first words are line 2's: above the form's lines,
        // without a number, they are the title's (not read on).
        let shared = ["Учаскелік", "сайлау", "комиссиясы"];
        assert_eq!(teller.tell(&read(&shared, false), Reach::Further), Told::Line);
        teller.progress.note(Target::FormLine(0), &model);
        assert_eq!(teller.tell(&read(&shared, false), Reach::Further), Told::ReadOn, "below line 1: either");
        assert!(teller.awaits_number());
        // Line 3 where line 2 is due, a count's digits, a misread number:
        // read further.
        assert_eq!(teller.tell(&opening(&["|3.", "|Сай"]), Reach::Opening), Told::ReadOn);
        assert_eq!(teller.tell(&opening(&["2", "1450"]), Reach::Opening), Told::ReadOn);
        assert_eq!(teller.tell(&opening(&["Із.", "|Сай"]), Reach::Opening), Told::ReadOn);
        assert!(teller.by_number.is_empty());
        // Line 2's number, then a label's first letters (the last word cut
        // by the crop, read unsure): settled.
        assert_eq!(teller.tell(&opening(&["|2.", "|Уч"]), Reach::Opening), Told::Settled);
        assert_eq!(teller.by_number.get(&7), Some(&Target::FormLine(1)));
        assert_eq!(teller.progress.last_line, Some(1));
    }

    /// A one-word text line read from segment `segment`, 30 pixels below
    /// the one before.
    fn segment_line(segment: u32, text: &str) -> TextLine {
        let top = 10 + 30 * segment;
        let word =
            Word { text: text.into(), left: 10, top, width: 100, height: 20, conf: 90.0, line_id: (segment, 0, 0) };
        TextLine { words: vec![word], folded: text.into(), letters: Some([10, top, 110, top + 20]) }
    }

    #[test]
    fn a_line_read_as_nothing_in_a_block_told_as_one_label_is_that_label() {
        let lines = [segment_line(0, "жер"), segment_line(1, "недеиствительными"), segment_line(2, "комиссия")];
        let label = Some((Target::FormLine(4), 0.96));
        let mut classified = vec![None, label, None];
        told_by_blocks(&lines, &mut classified, &[vec![0, 1], vec![2]], |_| None);
        assert_eq!(classified, vec![label, label, None], "the other block is not the label's");
        let mut two_labels = vec![Some((Target::FormLine(3), 0.9)), label, None];
        told_by_blocks(&lines, &mut two_labels, &[vec![0, 1, 2]], |_| None);
        assert_eq!(two_labels[2], None, "a block told as two labels lends neither");
    }

    #[test]
    fn a_reading_takes_the_lines_only_the_other_pass_told() {
        let text = |lines: Vec<TextLine>, classified| PageText {
            words: lines.iter().flat_map(|l| l.words.clone()).collect(),
            lines,
            classified,
            whole_page_read: false,
        };
        let election = Some((Target::Election(0), 1.0));
        let first_line = Some((Target::FormLine(0), 1.0));
        let mut whole = text(vec![segment_line(0, "выборы"), segment_line(3, "дауыс")], vec![election, first_line]);
        let station = Some((Target::Station, 0.9));
        let adal = Some((Target::FormLine(8), 0.9));
        let segmented = text(
            vec![
                segment_line(0, "выборы"),
                segment_line(1, "участок"),
                segment_line(2, "дауыс"),
                segment_line(4, "адал"),
            ],
            vec![election, station, first_line, adal],
        );
        add_told_only_by(&mut whole, segmented);
        assert_eq!(whole.classified, vec![election, first_line, station, adal], "each line told once");
        assert_eq!(whole.words.len(), 4, "the added lines' words come with them");
        // The same print told as two form lines: the better match stands,
        // and the other form line loses its every line.
        let second = Some((Target::FormLine(1), 0.73));
        let mut segmented = text(vec![segment_line(5, "алган саилау"), segment_line(6, "")], vec![second, second]);
        let third = Some((Target::FormLine(2), 0.87));
        let whole = text(vec![segment_line(5, "саилау алган саилаушылардын")], vec![third]);
        add_told_only_by(&mut segmented, whole);
        assert_eq!(segmented.classified, vec![None, None, third]);
        let mut surer = text(vec![segment_line(5, "алган саилау")], vec![Some((Target::FormLine(1), 0.9))]);
        add_told_only_by(&mut surer, text(vec![segment_line(5, "саилау")], vec![third]));
        assert_eq!(surer.classified.len(), 1, "a worse match on the same print is not added");
        // A form line told better by other print than by the print taken
        // from it keeps that other print.
        let eighth = |score| Some((Target::FormLine(7), score));
        let mut base = text(
            vec![segment_line(1, "number of iled ba"), segment_line(3, "total number of used")],
            vec![eighth(0.88), eighth(0.92)],
        );
        let fifth = Some((Target::FormLine(4), 0.94));
        add_told_only_by(&mut base, text(vec![segment_line(1, "number of spoiled")], vec![fifth]));
        assert_eq!(base.classified, vec![None, eighth(0.92), fifth]);
    }

    #[test]
    fn unread_lines_are_looked_for_between_the_read_ones_around_them() {
        let label = |top: u32| Some([100, top, 600, top + 20]);
        // Lines 0, 1 and 3 unread; line 2 read at 300, line 4 at 500; line
        // 5 stands in a table's column.
        let read_at = [None, None, label(300), None, label(500), None];
        let beside_label = [true, true, true, true, true, false];
        assert_eq!(bands_of_unread(&read_at, &beside_label, 2000), vec![(0, 300), (320, 500)]);
        // The last line unread reaches to the page's bottom.
        let beside_label = [true; 6];
        assert_eq!(bands_of_unread(&read_at, &beside_label, 2000), vec![(0, 300), (320, 500), (520, 2000)]);
        // Labels read out of order leave no band; nothing read, no band.
        assert!(bands_of_unread(&[label(500), None, label(300)], &[true; 3], 2000).is_empty());
        assert!(bands_of_unread(&[None, None], &[true; 2], 2000).is_empty());
    }

    #[test]
    fn station_reads_must_agree() {
        let r = |t: &str, c: f32| (t.to_string(), c);
        let two = [r("311", 0.77), r("311", 0.85)];
        assert_eq!(agree_on_station(&[r("311", 0.93), r("", 0.0)], &two, &[], &[]), Some(("311".into(), 0.93)));
        assert_eq!(
            agree_on_station(&[r("31", 0.2)], &two, &[], &[]),
            Some(("311".into(), 0.85)),
            "an unsure re-read is no opinion; both prints read alike count as the surer"
        );
        assert_eq!(agree_on_station(&[r("317", 0.97)], &two, &[], &[]), None, "a sure re-read that disagrees");
        assert_eq!(agree_on_station(&[], &[r("311", 0.97), r("31", 0.95)], &[], &[]), None);
        let confirmed = agree_on_station(&[r("217", 0.96)], &[r("217", 0.97)], &[], &[]).unwrap();
        assert_eq!(confirmed, ("217".into(), 0.96));
        let alone = agree_on_station(&[], &[r("217", 0.97)], &[], &[]).unwrap();
        assert!(alone.1 < 0.8, "one unconfirmed read is for a person: {alone:?}");
        // A sure re-read of the number the layout pass was unsure of seconds it…
        let seconded = agree_on_station(&[], &[r("217", 0.62)], &[r("217", 0.95)], &[]).unwrap();
        assert_eq!(seconded, ("217".into(), 0.95), "the digits engine's confidence counts");
        // …but one that says something else, or is unsure, changes nothing.
        assert_eq!(agree_on_station(&[], &[r("217", 0.97)], &[r("5217", 0.99)], &[]), Some(alone.clone()));
        assert_eq!(agree_on_station(&[], &[r("217", 0.97)], &[r("217", 0.3)], &[]), Some(alone));
        assert_eq!(agree_on_station(&[], &[], &[r("217", 0.97)], &[]), None, "no sure read to second");
        assert_eq!(agree_on_station(&[], &[], &[], &[]), None);
        // The other print read alike by the layout pass, unsure («Һ.217»),
        // confirms a sure read; read otherwise, it changes nothing.
        let alike = agree_on_station(&[], &[r("217", 0.93)], &[], &["217".into()]).unwrap();
        assert_eq!(alike, ("217".into(), 0.93));
        let unlike = agree_on_station(&[], &[r("217", 0.93)], &[], &["17".into()]).unwrap();
        assert!(unlike.1 < 0.8, "{unlike:?}");
        assert_eq!(agree_on_station(&[], &[], &[], &["217".into()]), None, "no sure read to confirm");
        // A layout read that lost its first digit to the «№» is outvoted by
        // sure re-reads of the whole number, never by a lone layout read.
        let swallowed = agree_on_station(&[r("855", 0.95)], &[r("55", 0.86), r("855", 0.97)], &[], &[]);
        assert_eq!(swallowed, Some(("855".into(), 0.95)));
        assert_eq!(agree_on_station(&[], &[r("55", 0.86), r("855", 0.97)], &[], &[]), None);
        assert_eq!(agree_on_station(&[r("855", 0.95), r("55", 0.9)], &[r("55", 0.86), r("855", 0.97)], &[], &[]), None);
        // An unsure layout read that dissents is no opinion against a sure
        // one, while the re-reads agree; a sure re-read's dissent stands.
        let blurred = [r("526", 0.96), r("926", 0.44)];
        let outvoted = agree_on_station(&[r("526", 0.9), r("526", 0.85)], &blurred, &[], &[]);
        assert_eq!(outvoted, Some(("526".into(), 0.85)));
        assert_eq!(agree_on_station(&[r("526", 0.9), r("926", 0.85)], &blurred, &[], &[]), None);
        assert_eq!(agree_on_station(&[r("526", 0.9)], &[r("526", 0.6), r("926", 0.44)], &[], &[]), None);
        let folded: String = "В8З".chars().map(digit_look_alike).collect();
        assert_eq!(folded, "883");
    }

    #[test]
    fn a_count_wins_over_a_rule_fragment_nearer_the_label() {
        // "978" at y 40–72; a 2 px sliver of a rule at y 20–51, nearer the
        // label's middle (y 30).
        let components = [[100, 40, 118, 72], [120, 40, 138, 72], [140, 40, 158, 72], [180, 20, 182, 51]];
        let (glyphs, _) = select_digit_glyphs(&components, 30, 30.0);
        assert_eq!(glyphs.len(), 3, "{glyphs:?}");
    }

    #[test]
    fn a_digit_broken_into_its_bar_and_its_bowl_keeps_its_count_whole() {
        // A messenger's «151», 34 px label lines: the 5 broken in two, each
        // piece lower than a digit; the cell's rule at the right.
        let components =
            [[153, 44, 160, 70], [169, 43, 183, 57], [169, 55, 186, 70], [194, 44, 202, 71], [223, 2, 227, 111]];
        let (mut glyphs, _) = select_digit_glyphs(&components, 56, 34.0);
        glyphs.sort();
        assert_eq!(glyphs, components[..4].to_vec(), "the pieces themselves, every digit of the count");
        // A rule's flat piece over a digit is no piece of it; nor is the
        // corner of the box the count stands in.
        let under_rule = [[100, 30, 118, 62], [90, 24, 200, 27]];
        let (glyphs, _) = select_digit_glyphs(&under_rule, 46, 30.0);
        assert_eq!(glyphs, vec![under_rule[0]]);
        // Nor a pen's broken stroke: a «7»'s bar above its stem (a short
        // piece joined would stand as tall as a digit where its neighbours'
        // pieces do not, and part the count).
        let pen = [[78, 34, 82, 55], [97, 32, 105, 38], [88, 42, 99, 56], [123, 34, 134, 40], [114, 42, 129, 59]];
        let (glyphs, _) = select_digit_glyphs(&pen, 46, 24.0);
        assert!(glyphs.contains(&pen[2]) && glyphs.contains(&pen[4]), "{glyphs:?}");
        let counted =
            [[238, 16, 243, 84], pen[1], pen[0], pen[3], [143, 34, 150, 41], pen[2], pen[4], [141, 43, 151, 57]];
        let (glyphs, _) = select_digit_glyphs(&counted, 30, 24.0);
        let band = union(glyphs.iter().copied()).unwrap();
        assert!(band[0] <= 88 && band[2] >= 151, "the whole «1676», not «76»: {glyphs:?}");
        // A lone «2» whose foot broke off keeps its foot.
        let two = [[1394, 900, 1408, 917], [1395, 918, 1407, 925]];
        let (glyphs, _) = select_digit_glyphs(&two, 912, 30.0);
        assert_eq!(glyphs.len(), 2, "{glyphs:?}");
        let in_a_corner = [[100, 30, 118, 62], [121, 30, 139, 62], [95, 10, 165, 110]];
        let (mut glyphs, _) = select_digit_glyphs(&in_a_corner, 46, 30.0);
        glyphs.sort();
        assert_eq!(glyphs, in_a_corner[..2].to_vec());
    }

    #[test]
    fn a_lone_one_is_a_digit_not_a_rule() {
        let (glyphs, rules) = select_digit_glyphs(&[[50, 10, 56, 42]], 26, 30.0);
        assert_eq!(glyphs.len(), 1);
        assert!(rules.is_empty());
    }

    #[test]
    fn a_ruling_line_piece_beside_a_count_is_not_its_one() {
        // "15" 24 px tall, then a 3 px wide piece of a rule 20 px tall, 14 px off.
        let components = [[100, 40, 112, 64], [115, 40, 129, 64], [143, 42, 146, 62]];
        let (glyphs, _) = select_digit_glyphs(&components, 52, 24.0);
        assert_eq!(glyphs.len(), 2, "{glyphs:?}");
        // A thin "1" of digit height at a digit's distance belongs to the count.
        let components = [[100, 40, 114, 64], [127, 40, 133, 64]];
        let (glyphs, _) = select_digit_glyphs(&components, 52, 24.0);
        assert_eq!(glyphs.len(), 2, "{glyphs:?}");
    }

    #[test]
    fn touching_digits_are_cut_where_the_least_ink_stands() {
        // "5" 15 wide, then "60" touching, 33 wide, with a waist at x = 33.
        let columns = [[0, 0, 15, 23], [18, 0, 51, 23]];
        let mut ink = vec![10u32; 60];
        ink[33] = 1;
        let cut = split_touching(&columns, &ink);
        assert_eq!(cut, vec![[0, 0, 15, 23], [18, 0, 33, 23], [33, 0, 51, 23]]);
        // A wide single digit is left whole.
        assert_eq!(split_touching(&[[0, 0, 18, 23]], &ink), vec![[0, 0, 18, 23]]);
    }

    #[test]
    fn station_caption_words_are_told_from_the_sign_and_the_number() {
        let model = FormModel::load(None).unwrap();
        let caption = fold(&model.station_caption());
        // As Tesseract read them on photographed station lines.
        for word in ["сайлау", "учаскесі", "Избирательный", "участокМ»", "участок!»"]
        {
            assert!(is_caption_word(word, &caption), "{word} is the caption's");
        }
        // The «№» read as letters, and a handwritten 6 read as «бә»: not
        // the caption's, so never masked as print.
        for word in ["Ме", "Мм", "ж»", "%", "бә", "И/"] {
            assert!(!is_caption_word(word, &caption), "{word} is not the caption's");
        }
    }
}
