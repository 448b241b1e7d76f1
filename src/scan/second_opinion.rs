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
//!
//! Where they differ and the sequence reader is the surer, its count takes
//! the value's place, one reader's word, below the acceptance threshold.
//! Zero written as a word or a dash («NIL», «—»), which the glyph reader
//! can only misread as digits, is the sequence reader's to see.

use super::reading::{parse_count, zero_without_digit, SecondOpinion, ValueReading};
use crate::digits::sequence::{read_sequence, SequenceRead};

/// The calibration's weights: bias; log-odds of the glyph reader's
/// confidence; log-odds of the sequence reader's confidence where it reads
/// the same count, and where it reads another; and the weight of agreeing.
/// Fitted by `protocol-ocr eval-sequence --count 3000 --seed 5 --calibrate`
/// (the default seed, 6, measures it on other counts).
pub const CALIBRATION: Calibration =
    Calibration { bias: -1.202, glyph: 0.503, sequence_agreeing: 0.280, sequence_disagreeing: -0.327, agreeing: 3.936 };

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

/// Where the two readers read different counts, the sequence reader's
/// stands in place of the glyph reader's when it is at least this sure and
/// surer than the glyph reader: on 3 000 counts by unseen writers
/// (`eval-sequence --count 3000 --seed 5`), such a dissent was right 0.87
/// of the time, the glyph reader 0.11.
const OVERRULING_FLOOR: f32 = 0.5;
/// A count that stands on the sequence reader's word against the glyph
/// reader's is one reader's word: below the acceptance threshold (0.80),
/// accepted only where an equality singles it out (see `check`).
pub const OVERRULED_CEILING: f32 = 0.75;

/// The reading with the sequence reader's count in place of the glyph
/// reader's, where the two read different counts and the sequence reader is
/// the surer ([`OVERRULING_FLOOR`]): one reader's word, at most
/// [`OVERRULED_CEILING`], the glyph reader's count its rival. `None` where
/// the sequence reader does not overrule. `check` puts it in place where no
/// equality holds over the glyph reader's count.
pub fn sequence_count_in_place(reading: &ValueReading) -> Option<ValueReading> {
    let opinion = reading.second_opinion.as_ref().filter(|o| !o.agree)?;
    let (value, other) = (reading.value?, opinion.value()?);
    let sure = opinion.confidence;
    if sure < OVERRULING_FLOOR || sure <= opinion.glyph_confidence {
        return None;
    }
    let confidence = sure.min(OVERRULED_CEILING);
    let mut swapped = reading.clone();
    swapped.candidates.retain(|c| c.0 != other && c.0 != value);
    swapped.candidates.insert(0, (other, confidence));
    swapped.candidates.insert(1, (value, opinion.glyph_confidence.min(SEQUENCE_CANDIDATE_CEILING)));
    // The rivals by probability, after the value.
    swapped.candidates[1..].sort_by(|a, b| b.1.total_cmp(&a.1));
    swapped.value = Some(other);
    (swapped.confidence, swapped.ocr_confidence, swapped.identity_confidence) = (confidence, confidence, confidence);
    swapped.segmentation_guessed = false;
    swapped.cut_on_guess = false;
    if let Some(o) = swapped.second_opinion.as_mut() {
        o.overruled = Some(value);
    }
    let doubt = swapped.problem.take().unwrap_or_default();
    swapped.problem = Some(format!(
        "{doubt}; the sequence reader, the surer, is taken: its count stands at {confidence:.2}, the glyph \
         network's {value} is its rival"
    ));
    Some(swapped)
}

/// Where the glyph reader read no count at all (more digits than the form
/// allows: the ink of a neighbouring row or a stroke through the cell cut
/// into glyphs; or ink it found no glyph in), the sequence reader's count,
/// read at least [`OVERRULING_FLOOR`] surely, stands: one reader's word, at
/// most [`OVERRULED_CEILING`], its digits' parting its own guess — accepted
/// only where an equality singles it out (see `check`). `None` where it
/// read no count either.
fn sequence_count_alone(glyphs: &ValueReading, read: &SequenceRead, max_digits: u32) -> Option<ValueReading> {
    if read.confidence < OVERRULING_FLOOR {
        return None;
    }
    let digits = read.count_digits();
    let value = parse_count(digits, max_digits).ok()?;
    let confidence = read.confidence.min(OVERRULED_CEILING);
    let glyph_note = glyphs.problem.as_deref().unwrap_or("the glyph network read no count");
    Some(ValueReading {
        value: Some(value),
        confidence,
        ocr_confidence: confidence,
        identity_confidence: confidence,
        candidates: vec![(value, confidence)],
        segmentation_guessed: true,
        problem: Some(format!(
            "{glyph_note}; the sequence reader reads '{digits}' ({:.2}): its count stands alone at {confidence:.2}",
            read.confidence
        )),
        ..glyphs.clone()
    })
}

/// Whether zero written as a word or a dash («NIL», «—») may be what a
/// crop holds: in a count's cell, not in a station's number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WordsForZero {
    Count,
    NotHere,
}

/// A word for zero the sequence reader reads at least this surely is the
/// count 0, where the glyph reader, which knows only digits, is less sure
/// of the digits it made of the letters («NIL» read «1416»).
const ZERO_WORD_SURE: f32 = 0.9;

/// The count 0, written as a word or a dash and read so by the sequence
/// reader alone (`sure`): as sure as any 0 read from no digit
/// ([`zero_without_digit`]: an equality must hold over it), the
/// glyph reader's digits kept as a rival.
fn written_zero(glyphs: &ValueReading, sure: f32) -> ValueReading {
    let glyph_note = match glyphs.value {
        Some(v) => format!("the glyph network read {v} ({:.2})", glyphs.confidence),
        None => "the glyph network read no digit".to_string(),
    };
    let mut zero = zero_without_digit(&format!(
        "zero written as a word or a dash: the sequence reader reads it so ({sure:.2}); {glyph_note}"
    ));
    let confidence = zero.confidence.min(sure);
    (zero.confidence, zero.ocr_confidence, zero.identity_confidence) = (confidence, confidence, confidence);
    zero.candidates = std::iter::once((0, confidence))
        .chain(glyphs.value.map(|v| (v, glyphs.confidence.min(SEQUENCE_CANDIDATE_CEILING))))
        .collect();
    ValueReading { cell: glyphs.cell, crop: glyphs.crop.clone(), ..zero }
}

/// Asks the sequence reader about a handwritten count the glyph reader
/// read (`reading`, with its crop), and weighs its answer in: the
/// confidence becomes the calibrated probability of the two; agreement
/// takes the doubt about where the digits part away (a reader that does
/// not cut reads the same digits); disagreement is a note, and the
/// sequence reader's count joins the candidates (where it is the surer
/// reader, see [`sequence_count_in_place`]). How sure
/// the glyph network is of each digit (`identity_confidence`) is left as it
/// is: an exact equality over surely read values may still clear the doubt
/// (see `check`). In a count's cell, a word for zero read surely is the
/// count 0 (see [`written_zero`]), whether or not the glyph reader read
/// digits. Where the glyph reader made no count, the sequence reader's
/// may stand alone (see `sequence_count_alone`).
pub fn weigh_second_opinion(reading: &mut ValueReading, max_digits: u32, words_for_zero: WordsForZero) {
    let Some(crop) = reading.crop.as_ref() else { return };
    let read = read_sequence(crop);
    if words_for_zero == WordsForZero::Count {
        if let Some(zero) = read.as_ref().filter(|r| r.written_zero() && r.confidence >= ZERO_WORD_SURE) {
            if reading.value != Some(0) && (reading.value.is_none() || reading.confidence < zero.confidence) {
                *reading = written_zero(reading, zero.confidence);
                return;
            }
        }
    }
    let Some(value) = reading.value else {
        if words_for_zero == WordsForZero::Count {
            if let Some(alone) = read.as_ref().and_then(|r| sequence_count_alone(reading, r, max_digits)) {
                *reading = alone;
            }
        }
        return;
    };
    // No ink at all for it is a sure "nothing here".
    // A word for zero is a count's 0 only: in a station's number it is no digit.
    let digits_of = |r: &SequenceRead| match words_for_zero {
        WordsForZero::Count => r.count_digits().to_string(),
        WordsForZero::NotHere => r.digits.clone(),
    };
    let (digits, sequence_confidence) = read.map_or((String::new(), 1.0), |r| (digits_of(&r), r.confidence));
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
        overruled: None,
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
    reading.add_note(note);
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
        weigh_second_opinion(&mut reading, 6, WordsForZero::Count);
        let opinion = reading.second_opinion.as_ref().expect("asked");
        assert!(!opinion.agree);
        assert_eq!(opinion.glyph_confidence, 0.99);
        assert!(reading.confidence < 0.99);
        assert!(reading.problem.as_deref().is_some_and(|p| p.contains("the sequence reader reads nothing")));
        // Nothing read is no rival count.
        assert_eq!(reading.candidates, vec![(61, 0.99)]);
        // A reading without a value is not asked about.
        let mut empty = ValueReading { handwritten: true, ..Default::default() };
        weigh_second_opinion(&mut empty, 6, WordsForZero::Count);
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
                overruled: None,
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

    /// `text` in a handwriting face, at a cell's size, as a count's crop.
    fn written_in_a_cell(text: &str) -> image::GrayImage {
        let face = crate::fonts::hand_faces().into_iter().find(|f| f.trained).expect("a trained face");
        let written = crate::digits::hand::face_text(&face.font, text);
        let (w, h) = (written.width() / 3, written.height() / 3);
        image::imageops::resize(&written, w, h, image::imageops::FilterType::Triangle)
    }

    #[test]
    fn zero_written_as_a_word_is_the_count_0_with_the_glyph_readers_digits_as_a_rival_but_never_a_station() {
        let crop = written_in_a_cell("NIL");
        let letters_as_digits = || ValueReading {
            value: Some(1416),
            confidence: 0.3,
            handwritten: true,
            crop: Some(crop.clone()),
            candidates: vec![(1416, 0.3)],
            ..Default::default()
        };
        let mut count = letters_as_digits();
        weigh_second_opinion(&mut count, 6, WordsForZero::Count);
        assert_eq!(count.value, Some(0), "{:?}", count.problem);
        assert!(count.confidence <= 0.96);
        assert_eq!(count.candidates.iter().map(|c| c.0).collect::<Vec<_>>(), vec![0, 1416]);
        assert!(count.problem.as_deref().is_some_and(|p| p.contains("zero written as a word")));
        // A station number is never a word for zero: the word is a dissent.
        let mut station = letters_as_digits();
        weigh_second_opinion(&mut station, 6, WordsForZero::NotHere);
        assert_eq!(station.value, Some(1416));
        assert!(station.second_opinion.as_ref().is_some_and(|o| !o.agree));
        // A glyph reading surer than the word stands, doubted.
        let mut sure = ValueReading { confidence: 1.0, ..letters_as_digits() };
        weigh_second_opinion(&mut sure, 6, WordsForZero::Count);
        assert_eq!(sure.value, Some(1416));
    }

    #[test]
    fn the_surer_sequence_readers_count_may_take_the_place_of_the_glyph_readers_below_the_threshold() {
        let crop = written_in_a_cell("548");
        let glyphs = |confidence: f32| ValueReading {
            value: Some(5418),
            confidence,
            handwritten: true,
            cut_on_guess: true,
            crop: Some(crop.clone()),
            candidates: vec![(5418, confidence), (548, 0.01)],
            ..Default::default()
        };
        let mut unsure = glyphs(0.2);
        weigh_second_opinion(&mut unsure, 6, WordsForZero::Count);
        let opinion = unsure.second_opinion.clone().expect("asked");
        assert!(opinion.confidence >= OVERRULING_FLOOR, "the sequence reader read {opinion:?}");
        // Weighed, the glyph reader's count stays; in its place, the
        // sequence reader's.
        assert_eq!(unsure.value, Some(5418));
        let swapped = sequence_count_in_place(&unsure).expect("the surer dissent");
        assert_eq!(swapped.value, Some(548));
        assert_eq!(swapped.second_opinion.as_ref().and_then(|o| o.overruled), Some(5418));
        assert!(!swapped.cut_on_guess);
        assert!(swapped.confidence <= OVERRULED_CEILING && swapped.identity_confidence <= OVERRULED_CEILING);
        assert_eq!(swapped.candidates.iter().map(|c| c.0).collect::<Vec<_>>(), vec![548, 5418]);
        // A glyph reading surer than the sequence reader's is not replaced.
        let mut sure = glyphs(1.0);
        weigh_second_opinion(&mut sure, 6, WordsForZero::Count);
        assert_eq!(sure.value, Some(5418));
        assert!(sequence_count_in_place(&sure).is_none());
    }

    #[test]
    fn where_the_glyph_reader_read_no_count_the_sequence_readers_stands_alone_below_acceptance() {
        let failed = || ValueReading {
            handwritten: true,
            crop: Some(written_in_a_cell("548")),
            problem: Some("'54161180' is not a count of at most 6 digits".into()),
            ..Default::default()
        };
        let mut alone = failed();
        weigh_second_opinion(&mut alone, 6, WordsForZero::Count);
        assert_eq!(alone.value, Some(548), "{:?}", alone.problem);
        assert!(alone.confidence >= OVERRULING_FLOOR && alone.confidence <= OVERRULED_CEILING);
        assert!(alone.identity_confidence <= OVERRULED_CEILING && alone.segmentation_guessed);
        assert_eq!(alone.candidates, vec![(548, alone.confidence)]);
        assert!(alone.problem.as_deref().is_some_and(|p| p.starts_with("'54161180'") && p.contains("stands alone")));
        // A count longer than the form allows stays unread; so does a
        // station's number.
        let mut too_long = failed();
        weigh_second_opinion(&mut too_long, 2, WordsForZero::Count);
        assert_eq!(too_long.value, None);
        let mut station = failed();
        weigh_second_opinion(&mut station, 6, WordsForZero::NotHere);
        assert_eq!(station.value, None);
    }
}
