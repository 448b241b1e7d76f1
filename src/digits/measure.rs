//! How well the glyph network reads handwriting it never saw, and whether
//! its sureness means what it says: `protocol-ocr eval-digits`.
//!
//! Measured on MNIST's digits 5000–9999 of the test set, which nothing is
//! ever trained on (written by other people than MNIST's training
//! writers), each glyph read as the handwriting reader reads one (an unsure
//! glyph looked at twice, [`super::classify_looking_twice`]); the network's
//! first look alone is given beside it. Accuracy is given two ways: the
//! class found likeliest ("not one digit" counting as wrong), and the
//! likeliest digit (what the reader writes down, doubting it). The
//! calibration table groups the digits by the reader's probability for its
//! answer: in a band whose answers are right less often than the band
//! says, the reader is overconfident there, and no threshold should trust
//! it.

#[cfg(feature = "lab")]
use std::ops::Range;

#[cfg(feature = "lab")]
use rayon::prelude::*;
use serde::Serialize;

#[cfg(feature = "lab")]
use super::mnist::Mnist;
#[cfg(feature = "lab")]
use super::net::{Net, NOT_A_DIGIT};
#[cfg(feature = "lab")]
use super::{glyph_input, look_again_if_unsure};

/// The probability bands of the calibration table, lowest bound first
/// (each band runs up to the next bound; the last to 1.0). The upper ones
/// are the reader's own thresholds: 0.98 to accept a digit, 0.995 for a
/// digit trusted without a second opinion.
pub const BANDS: [f32; 7] = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.995];

/// One band of the calibration table.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Band {
    /// The band's probabilities: `from` inclusive, `to` exclusive (1.0 inclusive).
    pub from: f32,
    pub to: f32,
    /// Digits (or values) whose probability fell here.
    pub digits: usize,
    /// How many of them were right.
    pub right: usize,
}

/// The network's figures on held-out handwriting.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DigitScores {
    pub digits: usize,
    /// The likeliest class is the digit ("not one digit" counts as wrong).
    pub accuracy: f64,
    /// The likeliest digit is the digit.
    pub likeliest_digit_accuracy: f64,
    /// The likeliest class of the network's first look alone.
    pub first_look_accuracy: f64,
    pub calibration: Vec<Band>,
}

/// Scores `net` on the MNIST digits `range` of `set`.
#[cfg(feature = "lab")]
pub fn score(net: &Net, set: &Mnist, range: Range<usize>) -> DigitScores {
    // Per digit: (label, likeliest class, its probability, likeliest
    // digit, the first look's likeliest class).
    let answers: Vec<(usize, usize, f32, usize, usize)> = range
        .into_par_iter()
        .filter_map(|i| {
            let input = glyph_input(&set.as_print(i))?;
            let first_look = net.classify(&input);
            let first_best = argmax(&first_look);
            let probs = look_again_if_unsure(net, &input, first_look);
            let best = argmax(&probs);
            Some((set.labels[i] as usize, best, probs[best], argmax(&probs[..NOT_A_DIGIT]), first_best))
        })
        .collect();
    let n = answers.len().max(1) as f64;
    let calibration = tally(answers.iter().map(|&(label, best, probability, ..)| (probability, best == label)));
    DigitScores {
        digits: answers.len(),
        accuracy: answers.iter().filter(|a| a.1 == a.0).count() as f64 / n,
        likeliest_digit_accuracy: answers.iter().filter(|a| a.3 == a.0).count() as f64 / n,
        first_look_accuracy: answers.iter().filter(|a| a.4 == a.0).count() as f64 / n,
        calibration,
    }
}

/// `(probability, right)` samples counted per band of [`BANDS`]: the
/// calibration table of the network, and of `eval`'s handwritten values.
pub fn tally(samples: impl Iterator<Item = (f32, bool)>) -> Vec<Band> {
    let mut bands: Vec<Band> = BANDS
        .iter()
        .enumerate()
        .map(|(i, &from)| Band { from, to: BANDS.get(i + 1).copied().unwrap_or(1.0), digits: 0, right: 0 })
        .collect();
    for (probability, right) in samples {
        let band = BANDS.iter().rposition(|&from| probability >= from).unwrap_or(0);
        bands[band].digits += 1;
        bands[band].right += right as usize;
    }
    bands
}

#[cfg(feature = "lab")]
fn argmax(probs: &[f32]) -> usize {
    probs.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(c, _)| c).unwrap_or(0)
}

impl DigitScores {
    /// The figures as a table for the terminal.
    pub fn render(&self) -> String {
        let mut text = format!(
            "MNIST test digits 5000-9999 (never trained on): {} digits, read as the scan reads a written glyph\n\
             accuracy (likeliest class)   {:.4}\n\
             accuracy (likeliest digit)   {:.4}\n\
             the network's first look alone (likeliest class)   {:.4}\n\
             calibration: the reader's probability for its answer, against how often it was right\n\
             band            digits   right   share right\n",
            self.digits, self.accuracy, self.likeliest_digit_accuracy, self.first_look_accuracy
        );
        for band in &self.calibration {
            let share = if band.digits == 0 {
                "—".to_string()
            } else {
                format!("{:.4}", band.right as f64 / band.digits as f64)
            };
            let close = if band.to >= 1.0 { "]" } else { ")" };
            text.push_str(&format!(
                "[{:.3}, {:.3}{close}  {:>7}  {:>6}   {share}\n",
                band.from, band.to, band.digits, band.right
            ));
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_digit_lands_in_one_band_and_right_answers_are_counted() {
        let set = Mnist::bundled();
        let scores = score(super::super::network(), set, 5000..5200);
        assert_eq!(scores.calibration.iter().map(|b| b.digits).sum::<usize>(), scores.digits);
        let right: usize = scores.calibration.iter().map(|b| b.right).sum();
        assert!((right as f64 / scores.digits as f64 - scores.accuracy).abs() < 1e-9);
        assert!(scores.render().contains("[0.995, 1.000]"));
    }
}
