//! The Tesseract engines of one worker thread.
//!
//! Two engines per thread, created once and reused for every image (loading
//! one costs tens of milliseconds and megabytes): a *layout* engine that
//! reads the page's words with their boxes, to find the labels, and a
//! *digits* engine restricted to 0–9 in single-line mode, for the counts in
//! cropped cells. Engines are `Send` but not `Sync`, hence one per thread.
//! Pixels are handed over as raw grey frames, never re-encoded.

use image::GrayImage;
use tesseract::{PageSegMode, Tesseract};

/// Language of the digit pass; only its digits are used.
pub const DIGITS_LANGUAGE: &str = "eng";
/// The resolution of normalised pages, told to Tesseract so it sizes its
/// expectations (it warns and guesses otherwise).
pub const PAGE_DPI: i32 = 200;

/// One word from the layout pass, in page pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Word {
    pub text: String,
    pub left: u32,
    pub top: u32,
    pub width: u32,
    pub height: u32,
    /// Tesseract's confidence, 0–100.
    pub conf: f32,
    /// (block, paragraph, line) as numbered by Tesseract.
    pub line_id: (u32, u32, u32),
}

impl Word {
    pub fn right(&self) -> u32 {
        self.left + self.width
    }
    pub fn bottom(&self) -> u32 {
        self.top + self.height
    }
}

/// A digits-only reading of one crop.
#[derive(Debug, Clone, PartialEq)]
pub struct DigitRead {
    /// What Tesseract returned, trimmed.
    pub text: String,
    /// The lowest word confidence, 0–1 (0 when nothing was read).
    pub confidence: f32,
}

/// A failure inside Tesseract, as a sentence.
#[derive(Debug, thiserror::Error)]
#[error("tesseract: {0}")]
pub struct OcrError(pub String);

fn init(language: &str, mode: PageSegMode, whitelist: Option<&str>) -> Result<Tesseract, OcrError> {
    let mut t = Tesseract::new(None, Some(language)).map_err(|e| {
        OcrError(format!("cannot load the '{language}' model ({e}); is tesseract-ocr-{language} installed?"))
    })?;
    t.set_page_seg_mode(mode);
    let mut t = t.set_variable("debug_file", "/dev/null").map_err(|e| OcrError(e.to_string()))?;
    if let Some(chars) = whitelist {
        t = t.set_variable("tessedit_char_whitelist", chars).map_err(|e| OcrError(e.to_string()))?;
    }
    Ok(t)
}

/// The engines of one worker thread.
pub struct Engines {
    /// The form model's `ocr_language` (`kaz`: the Kazakh model's alphabet
    /// holds every Russian letter, so one model reads both labels).
    layout_language: String,
    layout: Option<Tesseract>,
    digits: Option<Tesseract>,
}

impl Engines {
    /// The engines for a form printed in `layout_language` (Tesseract's
    /// name of its language data, `kaz`, `eng`).
    pub fn new(layout_language: &str) -> Result<Engines, OcrError> {
        Ok(Engines {
            layout_language: layout_language.to_string(),
            layout: Some(Self::new_layout(layout_language)?),
            digits: Some(Self::new_digits()?),
        })
    }

    fn new_layout(language: &str) -> Result<Tesseract, OcrError> {
        // Forms are printed in proportional fonts: Tesseract's test of each
        // row for a typewriter's fixed pitch is skipped (a twentieth of the
        // labels' reading time, the same words read).
        init(language, PageSegMode::PsmAuto, None)?
            .set_variable("textord_all_prop", "1")
            .map_err(|e| OcrError(e.to_string()))
    }

    fn new_digits() -> Result<Tesseract, OcrError> {
        init(DIGITS_LANGUAGE, PageSegMode::PsmSingleLine, Some("0123456789"))
    }

    /// Runs `engine` on a grey frame and returns its TSV output. An engine
    /// that fails is dropped and made anew on the next call.
    fn run_tsv(
        slot: &mut Option<Tesseract>,
        make: impl Fn() -> Result<Tesseract, OcrError>,
        image: &GrayImage,
        dpi: i32,
    ) -> Result<String, OcrError> {
        let engine = match slot.take() {
            Some(e) => e,
            None => make()?,
        };
        let (w, h) = image.dimensions();
        let mut engine = engine
            .set_frame(image.as_raw(), w as i32, h as i32, 1, w as i32)
            .map_err(|e| OcrError(e.to_string()))?
            .set_source_resolution(dpi)
            .recognize()
            .map_err(|e| OcrError(e.to_string()))?;
        let tsv = engine.get_tsv_text(0).map_err(|e| OcrError(e.to_string()));
        *slot = Some(engine);
        tsv
    }

    /// Reads every word of a page with its box.
    pub fn read_words(&mut self, page: &GrayImage) -> Result<Vec<Word>, OcrError> {
        self.read_words_at_dpi(page, PAGE_DPI)
    }

    /// Reads every word of a page with its box, Tesseract told the page's
    /// resolution is `dpi`.
    pub fn read_words_at_dpi(&mut self, page: &GrayImage, dpi: i32) -> Result<Vec<Word>, OcrError> {
        let language = &self.layout_language;
        let tsv = Self::run_tsv(&mut self.layout, || Self::new_layout(language), page, dpi)?;
        Ok(parse_tsv(&tsv))
    }

    /// Sets the page segmentation mode of the engine in `slot`, making the
    /// engine first if a failure dropped it.
    fn set_mode(
        slot: &mut Option<Tesseract>,
        make: impl Fn() -> Result<Tesseract, OcrError>,
        mode: PageSegMode,
    ) -> Result<(), OcrError> {
        let engine = match slot {
            Some(engine) => engine,
            None => slot.insert(make()?),
        };
        engine.set_page_seg_mode(mode);
        Ok(())
    }

    /// Reads every word of a crop holding one block of text (the page's
    /// header), as a single block: the automatic layout sometimes takes a
    /// centred bold title for a picture and returns nothing of it.
    pub fn read_block_words(&mut self, crop: &GrayImage) -> Result<Vec<Word>, OcrError> {
        self.read_words_as(crop, PageSegMode::PsmSingleBlock)
    }

    /// Reads every word of a crop holding one line of text (a segment of
    /// `text_segments`): no layout analysis at all.
    pub fn read_line_words(&mut self, crop: &GrayImage) -> Result<Vec<Word>, OcrError> {
        self.read_words_as(crop, PageSegMode::PsmSingleLine)
    }

    /// Reads a crop's words in segmentation `mode`, then puts the layout
    /// engine back to the automatic layout.
    fn read_words_as(&mut self, crop: &GrayImage, mode: PageSegMode) -> Result<Vec<Word>, OcrError> {
        let language = self.layout_language.clone();
        Self::set_mode(&mut self.layout, || Self::new_layout(&language), mode)?;
        let words = self.read_words(crop);
        Self::set_mode(&mut self.layout, || Self::new_layout(&language), PageSegMode::PsmAuto)?;
        words
    }

    /// Reads a crop holding one digit (single-character mode: line mode
    /// sometimes returns nothing for a lone glyph).
    pub fn read_single_digit(&mut self, crop: &GrayImage) -> Result<DigitRead, OcrError> {
        Self::set_mode(&mut self.digits, Self::new_digits, PageSegMode::PsmSingleChar)?;
        let read = self.read_digits(crop);
        Self::set_mode(&mut self.digits, Self::new_digits, PageSegMode::PsmSingleLine)?;
        read
    }

    /// Reads one line of digits from a cropped cell.
    pub fn read_digits(&mut self, crop: &GrayImage) -> Result<DigitRead, OcrError> {
        let tsv = Self::run_tsv(&mut self.digits, Self::new_digits, crop, PAGE_DPI)?;
        let words = parse_tsv(&tsv);
        let text: String = words.iter().map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
        let confidence = words.iter().map(|w| w.conf).fold(f32::INFINITY, f32::min);
        let confidence = if words.is_empty() { 0.0 } else { (confidence / 100.0).clamp(0.0, 1.0) };
        Ok(DigitRead { text: text.trim().to_string(), confidence })
    }
}

/// Tesseract's TSV columns: level, page, block, paragraph, line, word,
/// left, top, width, height, confidence, text.
const TSV_COLUMNS: usize = 12;
/// The level of a word's row (1 page, 2 block, 3 paragraph, 4 line).
const WORD_LEVEL: &str = "5";

/// Parses Tesseract's TSV: the word rows (level 5) with non-empty text.
/// Fields are tab-separated and never quoted (a word may hold a `"`).
pub fn parse_tsv(tsv: &str) -> Vec<Word> {
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(b'\t')
        .has_headers(false)
        .flexible(true)
        .quoting(false)
        .from_reader(tsv.as_bytes());
    let mut words = Vec::new();
    for row in reader.records().filter_map(Result::ok) {
        if row.len() < TSV_COLUMNS || &row[0] != WORD_LEVEL {
            continue;
        }
        let text = row[11].trim();
        if text.is_empty() {
            continue;
        }
        let num = |i: usize| row[i].parse::<f32>().unwrap_or(0.0);
        words.push(Word {
            text: text.to_string(),
            left: num(6) as u32,
            top: num(7) as u32,
            width: num(8) as u32,
            height: num(9) as u32,
            conf: num(10),
            line_id: (num(2) as u32, num(3) as u32, num(4) as u32),
        });
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_word_rows_only() {
        let tsv = "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t\n\
                   5\t1\t1\t1\t2\t1\t10\t20\t30\t40\t96.5\tЧисло\n\
                   5\t1\t1\t1\t2\t2\t45\t20\t30\t40\t91\t \n";
        let words = parse_tsv(tsv);
        assert_eq!(words.len(), 1);
        assert_eq!(words[0].text, "Число");
        assert_eq!((words[0].left, words[0].top, words[0].right(), words[0].bottom()), (10, 20, 40, 60));
        assert_eq!(words[0].line_id, (1, 1, 2));
    }

    #[test]
    fn a_quote_in_a_word_is_text_not_quoting() {
        let tsv = "5\t1\t1\t1\t1\t1\t0\t0\t9\t9\t80\t\"No\n\
                   5\t1\t1\t1\t1\t2\t12\t0\t9\t9\t70\t12\"\n";
        let words = parse_tsv(tsv);
        let texts: Vec<&str> = words.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["\"No", "12\""]);
        assert_eq!(words[1].conf, 70.0);
    }
}
