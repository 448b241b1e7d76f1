//! The layout pass's words as text lines: Tesseract's words grouped into
//! the lines it numbered, each with its folded text and the box of its
//! label's words. Shared by the row reader (`read`) and the table reader
//! (`table`), so neither needs the other for it.

use std::collections::BTreeMap;

use super::ocr::Word;
use crate::textmatch::fold;

/// Layout-pass words below this confidence (0–100) are not text.
pub(super) const MIN_WORD_CONFIDENCE: f32 = 30.0;
/// Words of one label follow each other closer than this many word heights.
const MAX_WORD_GAP_FACTOR: f32 = 2.0;

/// A rectangle on the normalised page: left, top, right, bottom.
pub type Rect = [u32; 4];

/// One line of OCR text.
#[derive(Debug, Clone)]
pub struct TextLine {
    pub words: Vec<Word>,
    pub folded: String,
    /// Box of the words holding letters (numbers on the line left out).
    pub letters: Option<Rect>,
}

/// Groups words into lines as Tesseract numbered them.
pub fn group_lines(words: &[Word]) -> Vec<TextLine> {
    let mut by_id: BTreeMap<(u32, u32, u32), Vec<Word>> = BTreeMap::new();
    for w in words {
        by_id.entry(w.line_id).or_default().push(w.clone());
    }
    by_id
        .into_values()
        .map(|words| {
            let text = words.iter().filter(|w| is_text(w)).map(|w| w.text.as_str()).collect::<Vec<_>>().join(" ");
            let letters = label_extent(&words);
            TextLine { folded: fold(&text), words, letters }
        })
        .collect()
}

/// The box of a line's text: from its first confident word rightwards
/// through every word that follows at a word's spacing, whatever its
/// confidence (a party name in Latin letters reads as low-confidence salad
/// but is still the label), and not past a wide gap (the count beside it).
fn label_extent(words: &[Word]) -> Option<Rect> {
    let mut sorted: Vec<&Word> = words.iter().collect();
    sorted.sort_by_key(|w| w.left);
    let start = sorted.iter().position(|w| is_text(w))?;
    let mut heights: Vec<u32> = sorted.iter().map(|w| w.height).collect();
    heights.sort_unstable();
    let max_gap = heights[heights.len() / 2] as f32 * MAX_WORD_GAP_FACTOR;
    let mut rect = word_rect(sorted[start]);
    for w in &sorted[start + 1..] {
        if (w.left as f32) > rect[2] as f32 + max_gap {
            break;
        }
        if w.text.chars().any(|c| c.is_alphabetic()) || is_text(w) {
            rect = [rect[0].min(w.left), rect[1].min(w.top), rect[2].max(w.right()), rect[3].max(w.bottom())];
        }
    }
    Some(rect)
}

/// A word of printed text: letters, read with some confidence (rules and
/// underlines come out of the layout pass as letter salad near 0 %).
pub(super) fn is_text(w: &Word) -> bool {
    has_letters(&w.text) && w.conf >= MIN_WORD_CONFIDENCE
}

pub(super) fn has_letters(text: &str) -> bool {
    text.chars().filter(|c| c.is_alphabetic()).count() >= 2
}

/// A word's box on the page.
pub(super) fn word_rect(w: &Word) -> Rect {
    [w.left, w.top, w.right(), w.bottom()]
}

/// Of `items` — (rank in the model's order, place down the page, weight) —
/// the longest chain whose ranks and places both rise, the heaviest where
/// chains are as long: the indices of its items, top to bottom. What the
/// form's printed order makes of a page's labels: a match out of that
/// order is a misreading or another print of the same words.
pub fn longest_rising_chain(items: &[(usize, u32, f64)]) -> Vec<usize> {
    let mut best: Vec<(usize, f64, Option<usize>)> = Vec::with_capacity(items.len());
    for &(rank, place, weight) in items {
        let mut here = (1, weight, None);
        for (i, &(length, total, _)) in best.iter().enumerate() {
            let rises = items[i].0 < rank && items[i].1 < place;
            if rises && (length + 1, total + weight) > (here.0, here.1) {
                here = (length + 1, total + weight, Some(i));
            }
        }
        best.push(here);
    }
    let mut at = (0..best.len()).max_by(|&a, &b| {
        (best[a].0, best[a].1).partial_cmp(&(best[b].0, best[b].1)).unwrap_or(std::cmp::Ordering::Equal)
    });
    let mut chain = Vec::new();
    while let Some(i) = at {
        chain.push(i);
        at = best[i].2;
    }
    chain.reverse();
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_longest_chain_in_order_is_kept_and_the_heavier_of_equals() {
        // Lines 0, 1, 2 down the page, and line 1 matched again further
        // down (a repeated total): the out-of-order match is left out.
        let items = [(0, 10, 1.0), (1, 20, 1.0), (2, 30, 1.0), (1, 40, 1.0)];
        assert_eq!(longest_rising_chain(&items), vec![0, 1, 2]);
        // Two places for line 1, either makes a chain of two: the better match.
        let items = [(0, 10, 1.0), (1, 20, 0.8), (1, 40, 0.9)];
        assert_eq!(longest_rising_chain(&items), vec![0, 2]);
        assert!(longest_rising_chain(&[]).is_empty());
    }
}
