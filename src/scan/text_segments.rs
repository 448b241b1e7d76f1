//! Where the page's text stands, found from its ink before any of it is
//! read, and read only as far as the form needs.
//!
//! Tesseract's recognition costs in proportion to the text it reads: a
//! protocol page holds some 2 000 characters (title, bilingual labels of
//! two lines each, signatures), and reading them all is most of a scan's
//! time. What the scan needs of a label is only which form line it is, and
//! a label's first few words say that. So the page's ink is cut into text
//! segments (runs of letter-sized glyphs along a line, apart from other
//! runs by a wide gap: a label's line, a count, a header line) and blocks
//! of segments (a label's lines). Each segment is read from its start as
//! far as [`PREFIX_GLYPHS`]; the caller says what that tells ([`Told`]),
//! and only a segment that could still be one of several of the form's
//! texts, or the station's line whose number may stand at its end, is read
//! to its end; a block is read no further once it is told. Where the caller
//! awaits a row's printed number, a block is first read only as far as its
//! opening ([`OPENING_GLYPHS`]), which may tell it alone. Each segment is
//! scaled so that its glyphs stand at the height Tesseract reads best,
//! which also reads the small print of a messenger's photo.

use image::imageops::crop_imm;
use image::{GrayImage, Luma};
use imageproc::contrast::otsu_level;

use super::ink::{component_boxes, paper_and_darkest};
use super::lines::{group_lines, Rect, TextLine};
use super::ocr::{Engines, OcrError, Word};
use super::resize::{self, Filter};
use super::structure::HorizontalRule;

/// A pixel this much darker than the page's paper (its median) is ink:
/// print on the lighting-flattened page is 80 and more below the paper,
/// a messenger's blurred small print 50; shadows and grain stay within 30.
const TEXT_INK_DEPTH: u8 = 45;
/// Ink pieces lower than this (pixels on the normalised page) are specks,
/// dots and commas, not glyphs: they neither make nor measure a line.
const MIN_GLYPH_HEIGHT: u32 = 5;
/// Pieces taller than this are rules, boxes and pictures (the largest
/// printed count on the form is about 50 pixels high at 200 dpi; a
/// handwritten one may reach 90).
const MAX_GLYPH_HEIGHT: u32 = 110;
/// Pieces taller than this many times the page's median glyph (a small
/// letter of the labels) are counts, stamps and written figures, not the
/// print the labels are read from: they are left out of the text lines
/// (a count's middle would join the two lines of its label). A title's
/// capitals stand under twice the labels' small letters.
const MAX_TEXT_GLYPH_OF_MEDIAN: f32 = 2.5;
/// Within a line, glyphs more than this many times its median height are
/// not print of that line: a line's capitals, brackets and descenders stand
/// under 1.9 times its typical (small) letter.
const MAX_GLYPH_OF_LINE: f32 = 2.0;
/// Pieces wider than this many times their height are rules or
/// underlines, or print touching them. A piece may be a whole word: the
/// letters of blurred or bold print run together (a 15-letter word is ten
/// times as wide as high); a table's rule, thickened where letters touch
/// it, is a hundred.
const MAX_GLYPH_ASPECT: u32 = 30;
/// A glyph belongs to a text line by the middle half of its height: the
/// ascenders and descenders of two lines printed close may touch, their
/// middles never do.
const CORE_SHARE: f32 = 0.5;
/// Glyphs of one line further apart than this many glyph heights belong
/// to different segments (a label and the count beside it, two columns).
/// A word's space is under one glyph height; a table's number column and
/// its label stand about three apart, and stay one segment.
const SEGMENT_GAP_GLYPHS: f32 = 4.0;
/// A line of print more than this many glyph heights below the one above
/// it starts a new block: a label's lines stand about one apart (the
/// space between two lines of 9–10 pt print), two labels further.
const BLOCK_GAP_GLYPHS: f32 = 1.2;
/// A segment shorter than this many of its glyph heights holds no label
/// (which needs eight letters to be told apart): a count, a mark, a «№»,
/// a label's last word wrapped alone. It is not read (but is still part
/// of its block's extent).
const MIN_SEGMENT_GLYPHS: u32 = 4;
/// How far a segment is read first, in its glyph heights from its start:
/// about 24 characters, the first three to five words of a label, which
/// tell the form's labels apart.
const PREFIX_GLYPHS: u32 = 26;
/// A segment less than this many glyph heights longer than the prefix is
/// read whole at once (the rest would cost a call for a word or two).
const PREFIX_SLACK_GLYPHS: u32 = 6;
/// How far a block's first segment is read first where its printed line
/// number may tell it («10. |Қа»): the number, the table's rule after it
/// and a letter or two, in under a third of the prefix's time (a line's
/// reading time grows with its length).
const OPENING_GLYPHS: u32 = 7;
/// Paper kept around a segment's ink in its crop, in glyph heights:
/// Tesseract misreads glyphs at a crop's very edge.
const MARGIN_GLYPHS: f32 = 0.6;
/// The height a segment's typical glyph (mostly small letters) is scaled
/// to: Tesseract's line recogniser reads best with small letters of about
/// 20–25 pixels.
pub const TARGET_GLYPH_HEIGHT: f32 = 24.0;
/// Glyphs are never scaled up more than this (beyond, the upscaled blur of
/// a small photo reads no better).
const MAX_UPSCALE: f32 = 3.0;

/// A run of glyphs along one line of print, apart from any other.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TextSegment {
    /// The box of its glyphs.
    pub rect: Rect,
    /// Its glyphs' median height.
    pub glyph_height: u32,
}

/// The text segments of a page, top to bottom and left to right.
pub fn find_segments(page: &GrayImage) -> Vec<TextSegment> {
    // Otsu's level parts ink from paper where the paper is patterned or
    // noisy (ink is at or below it); it is never let nearer the paper
    // than TEXT_INK_DEPTH.
    let (paper, _) = paper_and_darkest(page, [0, 0, page.width(), page.height()]);
    let level = otsu_level(page).min(paper.saturating_sub(TEXT_INK_DEPTH));
    let ink =
        GrayImage::from_fn(page.width(), page.height(), |x, y| Luma([u8::from(page.get_pixel(x, y).0[0] <= level)]));
    let mut glyphs = glyph_boxes(&ink);
    let mut heights: Vec<u32> = glyphs.iter().map(|g| g[3] - g[1]).collect();
    heights.sort_unstable();
    if let Some(&typical) = heights.get(heights.len() / 2) {
        let tallest = (typical as f32 * MAX_TEXT_GLYPH_OF_MEDIAN) as u32;
        glyphs.retain(|g| g[3] - g[1] <= tallest);
    }
    let mut segments = Vec::new();
    for line in text_lines(glyphs) {
        let typical = median_height(&line);
        let gap = (typical as f32 * SEGMENT_GAP_GLYPHS) as u32;
        // A written figure beside a label (a pen's «1», taller than any of
        // the print's letters) is not part of its segment: the segment is
        // where the label's print reaches, and no count may be taken in.
        let tallest = (typical as f32 * MAX_GLYPH_OF_LINE) as u32;
        let mut runs: Vec<Vec<Rect>> = Vec::new();
        for g in line.into_iter().filter(|g| g[3] - g[1] <= tallest) {
            match runs.last_mut() {
                Some(run) if g[0] <= run.iter().map(|r| r[2]).max().unwrap_or(0) + gap => run.push(g),
                _ => runs.push(vec![g]),
            }
        }
        for run in runs {
            let glyph_height = median_height(&run);
            let rect = [
                run.iter().map(|r| r[0]).min().unwrap_or(0),
                run.iter().map(|r| r[1]).min().unwrap_or(0),
                run.iter().map(|r| r[2]).max().unwrap_or(0),
                run.iter().map(|r| r[3]).max().unwrap_or(0),
            ];
            segments.push(TextSegment { rect, glyph_height });
        }
    }
    segments.sort_by_key(|s| (s.rect[1], s.rect[0]));
    segments
}

/// The median height of glyph boxes (at least 1).
fn median_height(glyphs: &[Rect]) -> u32 {
    let mut heights: Vec<u32> = glyphs.iter().map(|g| g[3] - g[1]).collect();
    heights.sort_unstable();
    heights.get(heights.len() / 2).copied().unwrap_or(1).max(1)
}

/// Segments (top to bottom) grouped into blocks of print: a label's lines,
/// the title's. A segment starts a new block when a rule of the page runs
/// between it and the block's last segment, when it stands further below
/// that segment than [`BLOCK_GAP_GLYPHS`], or when the two share no column.
pub fn blocks(segments: &[TextSegment], rules: &[HorizontalRule]) -> Vec<Vec<usize>> {
    let mut blocks: Vec<Vec<usize>> = Vec::new();
    for (index, segment) in segments.iter().enumerate() {
        let joins = |block: &Vec<usize>| {
            let last = &segments[*block.last().expect("blocks are never empty")];
            let (above, below) = (last.rect, segment.rect);
            let gap = below[1] as f32 - above[3] as f32;
            let height = last.glyph_height.max(segment.glyph_height) as f32;
            let share_columns = below[0] < above[2] && above[0] < below[2];
            let ruled_apart = rules.iter().any(|r| {
                above[3] <= r.y
                    && r.y <= below[1]
                    && r.left <= above[2].min(below[2])
                    && r.right >= above[0].max(below[0])
            });
            share_columns && !ruled_apart && gap <= height * BLOCK_GAP_GLYPHS
        };
        // A segment joins the block above it in its column, if any.
        match blocks.iter_mut().rev().find(|b| {
            let last = segments[*b.last().expect("never empty")].rect;
            last[3] <= segment.rect[1] && last[0] < segment.rect[2] && segment.rect[0] < last[2]
        }) {
            Some(block) if joins(block) => block.push(index),
            _ => blocks.push(vec![index]),
        }
    }
    blocks
}

/// What the text read of a segment tells of it, as the caller judges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Told {
    /// Which of the form's lines it is, for certain: its block is read.
    Settled,
    /// Which of the form's other texts (a title, an election) it is: its
    /// rest is not read, but the next line of its block may be another
    /// (a header's lines stand close).
    Line,
    /// One of a few of the form's texts, or one whose end matters (the
    /// station's line, its number at the end): read it to its end.
    ReadOn,
    /// None of the form's texts: its rest is not read.
    Nothing,
    /// Settled, and with it everything the page is read for has been
    /// told: the rest of the page (signatures, notes) is not read.
    Last,
}

/// How much of a segment a reading covers, for [`Teller::tell`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reach {
    /// The start of a block's first segment ([`OPENING_GLYPHS`]): enough
    /// for a printed line number. Unless the teller settles the block by
    /// it (`Settled` or `Last`), the words are dropped and the segment read
    /// as ever.
    Opening,
    /// Its prefix ([`PREFIX_GLYPHS`]), or the whole of it.
    Further,
}

/// The judge of what the text read tells, for [`read_blocks`].
pub trait Teller {
    /// What the lines of a block read so far tell, the last segment read
    /// as far as `reach`.
    fn tell(&mut self, lines: &[TextLine], reach: Reach) -> Told;
    /// Whether a block's opening could tell it now (a printed line number
    /// is expected next): otherwise no opening is read.
    fn awaits_number(&self) -> bool;
}

/// Reads each block of segments as far as it takes to tell what it is: its
/// segments in turn, each from its start as far as [`PREFIX_GLYPHS`] and,
/// if the teller says it is worth it, to its end; the block's reading stops at
/// the first segment that settles it (the teller is given every line of
/// the block read so far: a label may say which it is only in its second
/// line), and the page's reading at the first that tells the last thing
/// needed. A block's first segment, when long and when the teller awaits a
/// line number, is first read only as far as [`OPENING_GLYPHS`]
/// (`Reach::Opening`), which may settle the block.
/// Returns the words read, in page pixels, the words of each segment one
/// line (numbered by the segment's index, in the word's block field).
pub fn read_blocks(
    engines: &mut Engines,
    page: &GrayImage,
    segments: &[TextSegment],
    blocks: &[Vec<usize>],
    teller: &mut impl Teller,
) -> Result<Vec<Word>, OcrError> {
    let mut words = Vec::new();
    'page: for block in blocks {
        let mut block_words: Vec<Word> = Vec::new();
        for &index in block {
            let segment = &segments[index];
            let [left, top, right, bottom] = segment.rect;
            if right - left < MIN_SEGMENT_GLYPHS * segment.glyph_height {
                continue;
            }
            let read_as_line = |engines: &mut Engines, rect: Rect| -> Result<Vec<Word>, OcrError> {
                let read = read_strip(engines, page, rect, segment.glyph_height)?;
                Ok(read.into_iter().map(|w| Word { line_id: (index as u32, 0, 0), ..w }).collect())
            };
            let opening_right = left + OPENING_GLYPHS * segment.glyph_height;
            let long_enough = right > opening_right + OPENING_GLYPHS * segment.glyph_height;
            if index == block[0] && long_enough && teller.awaits_number() {
                let opening = read_as_line(engines, [left, top, opening_right, bottom])?;
                match teller.tell(&group_lines(&opening), Reach::Opening) {
                    Told::Last => {
                        words.extend(opening);
                        break 'page;
                    }
                    Told::Settled => {
                        words.extend(opening);
                        break;
                    }
                    _ => {}
                }
            }
            let prefix_right = left + PREFIX_GLYPHS * segment.glyph_height;
            let cut = right > prefix_right + PREFIX_SLACK_GLYPHS * segment.glyph_height;
            let first = [left, top, if cut { prefix_right } else { right }, bottom];
            let mut told_with =
                |read: &[Word]| teller.tell(&group_lines(&[block_words.as_slice(), read].concat()), Reach::Further);
            let mut read = read_as_line(engines, first)?;
            let mut told = told_with(&read);
            if cut && told == Told::ReadOn {
                read = read_as_line(engines, segment.rect)?;
                told = told_with(&read);
            }
            block_words.extend(read);
            match told {
                Told::Last => {
                    words.append(&mut block_words);
                    break 'page;
                }
                Told::Settled => break,
                _ => {}
            }
        }
        words.append(&mut block_words);
    }
    Ok(words)
}

/// Reads the text of `rect` as one line, its glyphs (`glyph_height` high)
/// scaled to [`TARGET_GLYPH_HEIGHT`], with a paper margin: its words in
/// page pixels.
fn read_strip(engines: &mut Engines, page: &GrayImage, rect: Rect, glyph_height: u32) -> Result<Vec<Word>, OcrError> {
    let margin = (glyph_height as f32 * MARGIN_GLYPHS).ceil() as u32;
    let x0 = rect[0].saturating_sub(margin);
    let y0 = rect[1].saturating_sub(margin);
    let x1 = (rect[2] + margin).min(page.width());
    let y1 = (rect[3] + margin).min(page.height());
    let crop = crop_imm(page, x0, y0, x1 - x0, y1 - y0).to_image();
    let (scaled, scale) = upscaled(crop, glyph_height as f32);
    let words = engines.read_line_words(&scaled)?;
    Ok(words.into_iter().map(|w| on_page(w, scale, x0, y0)).collect())
}

/// `crop` scaled so that its glyphs (`glyph_height` high) stand at the
/// height Tesseract reads best, with the factor used (never shrunk).
pub fn upscaled(crop: GrayImage, glyph_height: f32) -> (GrayImage, f32) {
    let scale = (TARGET_GLYPH_HEIGHT / glyph_height.max(1.0)).clamp(1.0, MAX_UPSCALE);
    if scale <= 1.0 {
        return (crop, 1.0);
    }
    let (w, h) = ((crop.width() as f32 * scale) as u32, (crop.height() as f32 * scale) as u32);
    (resize::gray(&crop, w, h, Filter::CatmullRom), scale)
}

/// A word read on a crop scaled by `scale` whose corner stood at (`x0`,
/// `y0`), placed on the page.
pub fn on_page(word: Word, scale: f32, x0: u32, y0: u32) -> Word {
    let back = |v: u32| (v as f32 / scale).round() as u32;
    Word {
        left: x0 + back(word.left),
        top: y0 + back(word.top),
        width: back(word.width),
        height: back(word.height),
        ..word
    }
}

/// The boxes (left, top, right, bottom; right and bottom exclusive) of the
/// ink's connected pieces that are glyph-sized.
fn glyph_boxes(ink: &GrayImage) -> Vec<Rect> {
    component_boxes(ink)
        .into_iter()
        .filter(|b| {
            let (w, h) = (b[2] - b[0], b[3] - b[1]);
            (MIN_GLYPH_HEIGHT..=MAX_GLYPH_HEIGHT).contains(&h) && w <= MAX_GLYPH_ASPECT * h
        })
        .collect()
}

/// Glyph boxes grouped into text lines: glyphs whose middle halves overlap
/// down the page are one line (a tall count's middle spans its label's
/// lines: it joins them, and the segments part it again). Each line's
/// glyphs come left to right.
fn text_lines(mut glyphs: Vec<Rect>) -> Vec<Vec<Rect>> {
    let core = |g: &Rect| {
        let h = (g[3] - g[1]) as f32;
        let middle = (g[1] + g[3]) as f32 / 2.0;
        (middle - h * CORE_SHARE / 2.0, middle + h * CORE_SHARE / 2.0)
    };
    glyphs.sort_by(|a, b| core(a).0.total_cmp(&core(b).0));
    let mut lines: Vec<(f32, Vec<Rect>)> = Vec::new();
    for g in glyphs {
        let (top, bottom) = core(&g);
        match lines.last_mut() {
            Some((end, members)) if top <= *end => {
                *end = end.max(bottom);
                members.push(g);
            }
            _ => lines.push((bottom, vec![g])),
        }
    }
    lines
        .into_iter()
        .map(|(_, mut members)| {
            members.sort_by_key(|g| g[0]);
            members
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A page with "words" of box glyphs: each glyph `h` high and `h * 3 / 4`
    /// wide, a quarter of a glyph apart, words half a glyph apart.
    fn draw_words(page: &mut GrayImage, x: u32, y: u32, h: u32, words: &[usize]) -> u32 {
        let (w, gap) = (h * 3 / 4, h / 4);
        let mut at = x;
        for &letters in words {
            for _ in 0..letters {
                for yy in y..y + h {
                    for xx in at..at + w {
                        page.put_pixel(xx, yy, Luma([20]));
                    }
                }
                at += w + gap;
            }
            at += h / 2;
        }
        at
    }

    fn blank() -> GrayImage {
        GrayImage::from_pixel(1200, 800, Luma([240]))
    }

    #[test]
    fn a_label_and_its_count_are_two_segments_and_a_counts_tall_digits_no_text() {
        let mut page = blank();
        // What `draw_words` returns is past the last glyph by a glyph's gap
        // and a word's.
        let ink_end = |after: u32| after - 3 - 6;
        let label = ink_end(draw_words(&mut page, 100, 100, 12, &[6, 4, 9]));
        // Far to the right: a printed count as high as the text, and a tall one.
        let count = ink_end(draw_words(&mut page, 1000, 100, 12, &[4]));
        draw_words(&mut page, 1000, 300, 40, &[3]);
        let second = ink_end(draw_words(&mut page, 100, 300, 12, &[5, 5]));
        let segments = find_segments(&page);
        let rects: Vec<Rect> = segments.iter().map(|s| s.rect).collect();
        assert_eq!(rects, vec![[100, 100, label, 112], [1000, 100, count, 112], [100, 300, second, 312]]);
        assert!(segments.iter().all(|s| s.glyph_height == 12));
    }

    #[test]
    fn a_pens_figure_close_beside_a_label_is_not_part_of_its_segment() {
        let mut page = blank();
        // Many lines of print set the page's typical glyph.
        for y in [100, 140, 180, 220] {
            draw_words(&mut page, 100, y, 12, &[6, 5, 7]);
        }
        let label = draw_words(&mut page, 100, 300, 12, &[6, 4]) - 3 - 6;
        // A written «1»: a stroke 28 px high and 4 wide, a glyph's width
        // after the label's end.
        for y in 292..320 {
            for x in label + 12..label + 16 {
                page.put_pixel(x, y, Luma([20]));
            }
        }
        let segments = find_segments(&page);
        let line = segments.iter().find(|s| s.rect[1] >= 290).expect("the label's line");
        assert_eq!(line.rect, [100, 300, label, 312]);
    }

    #[test]
    fn letters_run_together_into_a_word_are_still_text() {
        let mut page = blank();
        // One blob 12 high and 150 wide (a bold word), then separate letters.
        for y in 200..212 {
            for x in 100..250 {
                page.put_pixel(x, y, Luma([20]));
            }
        }
        draw_words(&mut page, 256, 200, 12, &[5]);
        let segments = find_segments(&page);
        assert_eq!(segments.len(), 1, "{segments:?}");
        assert_eq!(segments[0].rect[0], 100);
        // A rule is not text.
        let mut ruled = blank();
        for x in 50..1100 {
            ruled.put_pixel(x, 400, Luma([20]));
            ruled.put_pixel(x, 401, Luma([20]));
        }
        assert!(find_segments(&ruled).is_empty());
    }

    #[test]
    fn a_labels_lines_are_one_block_and_a_rule_or_a_wide_space_parts_blocks() {
        let segment = |x: u32, y: u32| TextSegment { rect: [x, y, x + 600, y + 12], glyph_height: 12 };
        // Two lines of a label 8 px apart; the next label 40 px below; a
        // third label under a rule that runs close below the second.
        let segments = [segment(100, 100), segment(100, 120), segment(100, 172), segment(100, 190), segment(120, 212)];
        let rule = HorizontalRule { y: 206, left: 50, right: 1100 };
        assert_eq!(blocks(&segments, &[rule]), vec![vec![0, 1], vec![2, 3], vec![4]]);
        assert_eq!(blocks(&segments, &[]), vec![vec![0, 1], vec![2, 3, 4]]);
        // A segment in another column starts its own block.
        let beside = [segment(100, 100), TextSegment { rect: [900, 118, 960, 130], glyph_height: 12 }];
        assert_eq!(blocks(&beside, &[]), vec![vec![0], vec![1]]);
    }
}
