//! Stage 5b, handwriting's second opinion: the sequence reader's word on a
//! count the glyph reader read.
//!
//! A printed count is trusted because two unrelated readers (Tesseract and
//! the glyph network) agree. Handwriting gets the same footing: the glyph
//! reader cuts the count into glyphs and classifies each; the sequence
//! reader (`digits::sequence`) reads the whole crop without cutting. They
//! fail differently, so their agreement is evidence and their disagreement
//! a doubt shown to the reviewer.
//!
//! The two confidences become one probability of being right by a logistic
//! calibration fitted on composed counts of writers neither network saw
//! (`protocol-ocr eval-sequence --calibrate`): the confidence a value then
//! carries is how often values so read were right.

use super::reading::{parse_count, SecondOpinion, ValueReading};
use crate::digits::sequence::read_sequence;

/// The calibration's weights: bias; log-odds of the glyph reader's
/// confidence; log-odds of the sequence reader's confidence where it reads
/// the same count, and where it reads another; and the weight of agreeing.
/// Fitted by `protocol-ocr eval-sequence --count 3000 --seed 5 --calibrate`
/// (the default seed, 6, measures it on other counts).
pub const CALIBRATION: Calibration =
    Calibration { bias: -1.157, glyph: 0.517, sequence_agreeing: 0.398, sequence_disagreeing: -0.504, agreeing: 3.628 };

/// Log-odds are taken of confidences kept this far from 0 and 1.
const LOG_ODDS_CLAMP: f32 = 1e-4;
/// The sequence reader's own reading is offered to the reviewer among the
/// candidates with at most this probability: it is one reader's word.
const SEQUENCE_CANDIDATE_CEILING: f32 = 0.5;

/// A logistic calibration of the two readers' confidences.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Calibration {
    pub bias: f32,
    pub glyph: f32,
    pub sequence_agreeing: f32,
    pub sequence_disagreeing: f32,
    pub agreeing: f32,
}

impl Calibration {
    /// The probability that the glyph reader's reading is right, given its
    /// confidence, the sequence reader's and whether they agree.
    pub fn probability(&self, glyph: f32, sequence: f32, agree: bool) -> f32 {
        let z = self.bias
            + self.glyph * log_odds(glyph)
            + if agree {
                self.sequence_agreeing * log_odds(sequence) + self.agreeing
            } else {
                self.sequence_disagreeing * log_odds(sequence)
            };
        1.0 / (1.0 + (-z).exp())
    }

    /// The features the calibration weighs, in its weights' order, for
    /// fitting: 1, the glyph's log-odds, the sequence's when agreeing,
    /// when disagreeing, agreeing.
    pub fn features(glyph: f32, sequence: f32, agree: bool) -> [f64; 5] {
        let s = log_odds(sequence) as f64;
        let a = if agree { 1.0 } else { 0.0 };
        [1.0, log_odds(glyph) as f64, s * a, s * (1.0 - a), a]
    }

    /// The calibration with `weights` in [`Calibration::features`]' order.
    pub fn from_weights(w: [f64; 5]) -> Calibration {
        Calibration {
            bias: w[0] as f32,
            glyph: w[1] as f32,
            sequence_agreeing: w[2] as f32,
            sequence_disagreeing: w[3] as f32,
            agreeing: w[4] as f32,
        }
    }
}

/// How sure a rival reading the rules chose (`value`, found by the glyph
/// reader at `glyph_probability`) is when the sequence reader read that very
/// count: the two readers' calibrated agreement. A rival the glyph reader
/// never found, only the sequence reader, has the glyph reader's word
/// against it. `None` when the sequence reader read otherwise.
pub fn seconded_confidence(reading: &ValueReading, value: u64, glyph_probability: f32) -> Option<f32> {
    let opinion = reading.second_opinion.as_ref()?;
    if opinion.value() != Some(value) {
        return None;
    }
    let glyph = if opinion.added_candidate { LOG_ODDS_CLAMP } else { glyph_probability };
    Some(CALIBRATION.probability(glyph, opinion.confidence, true))
}

fn log_odds(p: f32) -> f32 {
    let p = p.clamp(LOG_ODDS_CLAMP, 1.0 - LOG_ODDS_CLAMP);
    (p / (1.0 - p)).ln()
}

/// Asks the sequence reader about a handwritten count the glyph reader
/// read (`reading`, with its crop), and weighs its answer in: the
/// confidence becomes the calibrated probability of the two; agreement
/// takes the doubt about where the digits part away (a reader that does
/// not cut reads the same digits); disagreement is a note, and the
/// sequence reader's count joins the candidates. How sure the glyph network
/// is of each digit (`identity_confidence`) is left as it is: an exact
/// equality over surely read values may still clear the doubt (see
/// `check`). A reading without a value is left as it is.
pub fn weigh_second_opinion(reading: &mut ValueReading, max_digits: u32) {
    let (Some(value), Some(crop)) = (reading.value, reading.crop.as_ref()) else { return };
    let read = read_sequence(crop);
    // No ink at all for it is a sure "nothing here".
    let (digits, sequence_confidence) = read.map_or((String::new(), 1.0), |r| (r.digits, r.confidence));
    let sequence_value = parse_count(&digits, max_digits).ok();
    let agree = sequence_value == Some(value);
    let glyph_confidence = reading.confidence;
    // A dissent never makes the glyph reader surer (the fitted weights
    // would, for a dissent unsure enough).
    let calibrated = CALIBRATION.probability(glyph_confidence, sequence_confidence, agree);
    let combined = if agree { calibrated } else { calibrated.min(glyph_confidence) };
    let mut opinion = SecondOpinion {
        digits: digits.clone(),
        confidence: sequence_confidence,
        glyph_confidence,
        agree,
        added_candidate: false,
    };
    reading.confidence = combined;
    let note = if agree {
        reading.segmentation_guessed = false;
        reading.cut_on_guess = false;
        format!("the sequence reader agrees ({sequence_confidence:.2}); both together {combined:.3}")
    } else {
        if let Some(other) = sequence_value {
            if !reading.candidates.iter().any(|c| c.0 == other) {
                // Among the rivals by probability, after the value itself.
                let p = sequence_confidence.min(SEQUENCE_CANDIDATE_CEILING);
                let candidates = &mut reading.candidates;
                let at = (1..candidates.len()).find(|&i| candidates[i].1 < p).unwrap_or(candidates.len());
                candidates.insert(at, (other, p));
                opinion.added_candidate = true;
            }
        }
        let what = if digits.is_empty() { "nothing".to_string() } else { format!("'{digits}'") };
        format!("the sequence reader reads {what} ({sequence_confidence:.2}), not {value}; both together {combined:.3}")
    };
    reading.second_opinion = Some(opinion);
    reading.problem = Some(match reading.problem.take() {
        Some(p) if !p.is_empty() => format!("{p}; {note}"),
        _ => note,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agreement_raises_and_disagreement_lowers_the_glyph_readers_confidence() {
        let alone = 0.9;
        let agreeing = CALIBRATION.probability(alone, 0.9, true);
        let disagreeing = CALIBRATION.probability(alone, 0.9, false);
        assert!(agreeing > alone, "{agreeing}");
        assert!(disagreeing < 0.5, "{disagreeing}");
        // The surer the dissenting reader, the lower.
        assert!(CALIBRATION.probability(alone, 0.99, false) < CALIBRATION.probability(alone, 0.3, false));
    }

    #[test]
    fn a_sequence_reader_that_sees_no_count_is_a_doubt_shown_in_the_notes() {
        let mut reading = ValueReading {
            value: Some(61),
            confidence: 0.99,
            handwritten: true,
            crop: Some(image::GrayImage::from_pixel(60, 30, image::Luma([240]))),
            candidates: vec![(61, 0.99)],
            ..Default::default()
        };
        weigh_second_opinion(&mut reading, 6);
        let opinion = reading.second_opinion.as_ref().expect("asked");
        assert!(!opinion.agree);
        assert_eq!(opinion.glyph_confidence, 0.99);
        assert!(reading.confidence < 0.99);
        assert!(reading.problem.as_deref().is_some_and(|p| p.contains("the sequence reader reads nothing")));
        // Nothing read is no rival count.
        assert_eq!(reading.candidates, vec![(61, 0.99)]);
        // A reading without a value is not asked about.
        let mut empty = ValueReading { handwritten: true, ..Default::default() };
        weigh_second_opinion(&mut empty, 6);
        assert!(empty.second_opinion.is_none());
    }

    #[test]
    fn a_rival_is_seconded_only_by_the_sequence_readers_own_count_and_less_when_only_it_found_it() {
        let opinion = |digits: &str, added_candidate| ValueReading {
            second_opinion: Some(SecondOpinion {
                digits: digits.into(),
                confidence: 0.9,
                glyph_confidence: 0.6,
                agree: false,
                added_candidate,
            }),
            ..Default::default()
        };
        assert_eq!(seconded_confidence(&opinion("1478", false), 1488, 0.3), None);
        let both = seconded_confidence(&opinion("1488", false), 1488, 0.3).expect("seconded");
        let sequence_alone = seconded_confidence(&opinion("1488", true), 1488, 0.3).expect("seconded");
        assert!(sequence_alone < both, "{sequence_alone} < {both}");
        assert_eq!(seconded_confidence(&ValueReading::default(), 1488, 0.3), None);
    }

    #[test]
    fn the_features_reproduce_the_probability() {
        let w = [
            CALIBRATION.bias,
            CALIBRATION.glyph,
            CALIBRATION.sequence_agreeing,
            CALIBRATION.sequence_disagreeing,
            CALIBRATION.agreeing,
        ];
        for (g, s, agree) in [(0.7, 0.95, true), (0.99, 0.4, false)] {
            let z: f64 = Calibration::features(g, s, agree).iter().zip(w).map(|(x, w)| x * w as f64).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            assert!((p as f32 - CALIBRATION.probability(g, s, agree)).abs() < 1e-5);
        }
    }
}
