//! What reading a page yields: one count's reading (its value, how sure,
//! where, what went wrong, and for handwriting its rival readings) and the
//! page's whole reading, plus the one rule for turning a cell's text into a
//! count. The types the readers (`read`, `hand`) fill and the check
//! (`check`) judges, kept apart so neither depends on the other.

use std::collections::BTreeMap;

use image::GrayImage;

type Rect = [u32; 4];

/// The count in a cell's OCR text: only ASCII digits, at most `max_digits`
/// of them. Anything else is a sentence saying why it is not a count — a
/// guess at what a stray letter meant would be a silent error.
pub fn parse_count(text: &str, max_digits: u32) -> Result<u64, String> {
    if text.is_empty() {
        return Err("no digits read".into());
    }
    if !text.chars().all(|c| c.is_ascii_digit()) || text.len() > (max_digits as usize).min(MAX_COUNT_DIGITS) {
        return Err(format!("'{text}' is not a count of at most {max_digits} digits"));
    }
    text.parse().map_err(|e| format!("'{text}' is not a count: {e}"))
}

/// No count on a protocol has more digits than this (u64 holds 19).
const MAX_COUNT_DIGITS: usize = 12;

/// The reading of one count.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ValueReading {
    pub value: Option<u64>,
    /// 0–1; 0 when nothing was read. Tesseract's confidence, lowered for
    /// every doubt the reader has (see `problem`).
    pub confidence: f32,
    /// Tesseract's own confidence in the digits, before any doubt.
    pub ocr_confidence: f32,
    /// Where the label was found.
    pub label: Option<Rect>,
    /// Where the digits were found.
    pub cell: Option<Rect>,
    /// What went wrong, in words, when something did.
    pub problem: Option<String>,
    /// The cleaned crop the digits engine read (for handwriting: the count's
    /// box as the sequence reader reads it), for `--debug-dir`.
    pub crop: Option<GrayImage>,
    /// Read as handwriting (by the glyph network, see `hand`).
    pub handwritten: bool,
    /// For handwriting: the likeliest readings, best first (the value
    /// itself first), each with its probability, for the rules to rank and
    /// the reviewer to choose from.
    pub candidates: Vec<(u64, f32)>,
    /// For handwriting: where one digit ends and the next begins was a
    /// guess (touching digits cut, or a glyph wide enough for two read as
    /// one), so a digit may be lost or added however sure each glyph reads.
    pub segmentation_guessed: bool,
    /// For handwriting: touching digits were cut apart on a guess (one
    /// kind of `segmentation_guessed`, the one that lowers `confidence`).
    pub cut_on_guess: bool,
    /// For handwriting: how sure the network is which digit each glyph is,
    /// were it one digit (the least sure digit's share of the ten digits'
    /// probability; × 0.4 for a leading zero). Never below `ocr_confidence`;
    /// above it where the network doubted a glyph is one digit at all.
    pub identity_confidence: f32,
    /// For handwriting: what the sequence reader made of the same count
    /// (see `second_opinion`).
    pub second_opinion: Option<SecondOpinion>,
}

impl ValueReading {
    /// Adds `note` to what went wrong, after the doubts already noted
    /// (`"; "` between them).
    pub fn add_note(&mut self, note: String) {
        self.problem = Some(match self.problem.take() {
            Some(p) if !p.is_empty() => format!("{p}; {note}"),
            _ => note,
        });
    }
}

/// The sequence reader's word on a handwritten count.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SecondOpinion {
    /// The digits it read (empty: none).
    pub digits: String,
    /// Its confidence in them.
    pub confidence: f32,
    /// The glyph reader's confidence before the two were weighed together.
    pub glyph_confidence: f32,
    /// It read the same count as the glyph reader.
    pub agree: bool,
    /// Its count was none of the glyph reader's candidates and was added
    /// to them.
    pub added_candidate: bool,
    /// The glyph reader's count, where the sequence reader's, the surer,
    /// took its place as the value.
    pub overruled: Option<u64>,
}

impl SecondOpinion {
    /// The count it read, if it read one.
    pub fn value(&self) -> Option<u64> {
        self.digits.parse().ok()
    }
}

/// Everything read from one page.
#[derive(Debug, Clone, Default)]
pub struct Reading {
    pub election: Option<String>,
    pub election_confidence: f32,
    pub station: Option<String>,
    pub station_confidence: f32,
    pub region: Option<String>,
    /// By line key, every line of the model.
    pub values: BTreeMap<String, ValueReading>,
    /// How many of the model's lines were found by their label.
    pub lines_found: usize,
    /// The counts were read as handwriting (see `read::looks_handwritten`).
    pub handwritten: bool,
    /// The labels were read by Tesseract's layout of the whole page, not
    /// told by the page's text segments alone (see `read::WholePage`).
    pub whole_page_read: bool,
    /// The model's repeated totals, by the key of the line they repeat,
    /// where the page's table holds one (see `table`).
    pub repeats: BTreeMap<String, ValueReading>,
}

/// A 0 not read from a written digit — a dash in the cell, or a blank cell
/// where the form says blank means none — is as sure as a clean
/// handwritten digit checked by an equality (the equality answers for a
/// figure the ink search missed), never sure enough to pass with no
/// equality over it.
pub const ZERO_WITHOUT_DIGIT_CONFIDENCE: f32 = 0.96;
/// A 0 read from no written digit (see [`ZERO_WITHOUT_DIGIT_CONFIDENCE`]),
/// `why` in its notes.
pub fn zero_without_digit(why: &str) -> ValueReading {
    ValueReading {
        value: Some(0),
        confidence: ZERO_WITHOUT_DIGIT_CONFIDENCE,
        ocr_confidence: ZERO_WITHOUT_DIGIT_CONFIDENCE,
        identity_confidence: ZERO_WITHOUT_DIGIT_CONFIDENCE,
        handwritten: true,
        problem: Some(why.into()),
        ..Default::default()
    }
}
