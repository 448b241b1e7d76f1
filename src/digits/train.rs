//! Training the glyph network: `protocol-ocr train-digits`.
//!
//! The data is made on the spot, from a seed, out of what the repository
//! holds and the MNIST folder given: digits printed in the bundled fonts
//! (every face but DejaVu Serif, kept back to measure print the network has
//! never seen), MNIST handwriting (the 60 000 training digits with
//! `--mnist-train`, else the test set's 0–4999 only), four of the bundled
//! handwriting faces, and ink that is not one digit (written digits run
//! together, printed ones side by side, letters, pieces of a digit). Each
//! glyph is degraded like a phone photo (turned a little, blurred, noisy,
//! faint or bold ink) and prepared by the same [`glyph_input`] as the
//! scan's glyphs. Every epoch makes its own such glyphs, from its own seed.

use std::path::PathBuf;

use ab_glyph::{FontRef, PxScale};
use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{rotate_about_center, Border, Interpolation};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;

use super::glyph::glyph_input;
use super::hand;
use super::mnist::{self, Mnist};
use super::net::{Net, INPUT, NOT_A_DIGIT, SIDE};
use super::net_train::GlyphTrainer;
use crate::fonts;

/// Printed digits per epoch, over all trained faces.
const PRINTED_SAMPLES: usize = 24_000;
/// Distorted copies of each MNIST training digit, per epoch, when only the
/// test set's first half (5 000 digits) is trained on.
const MNIST_COPIES: usize = 8;
/// The same with MNIST's whole training set (60 000 digits): one distorted
/// copy of each per epoch keeps an epoch near the same length, and each
/// epoch still sees every writer.
const MNIST_TRAINING_SET_COPIES: usize = 1;
/// Share of MNIST copies also photographed (small, on shaded paper, blurred).
const PHOTOGRAPHED_SHARE: f64 = 0.5;
/// Digits in the trained handwriting faces, each varied like another hand.
const HAND_FACE_SAMPLES: usize = 12_000;
/// Glyphs of the "not one digit" class: about 1 360 of each kind.
const NOT_A_DIGIT_SAMPLES: usize = 10_860;
/// The kinds of "not one digit" glyph, drawn evenly: written digits run
/// together take three of the eight (a handwritten count's digits touch
/// more often than anything else in a cell is not one digit), printed
/// pairs, printed letters, written letters (a zero written as a word,
/// «NIL», «Nil»), and pieces of MNIST and of face digits one each.
const NOT_A_DIGIT_KINDS: u32 = 8;
/// A touching pair of written digits: the pixel height they are drawn at
/// (`glyph_input` rescales it anyway), the gap between their ink boxes
/// against that height (negative: overlapping), how far each one's
/// baseline wanders, and how often one of them is a 1 or comes from a
/// handwriting face rather than MNIST.
const PAIR_HEIGHT: f32 = 40.0;
const PAIR_GAP_OF_HEIGHT: (f32, f32) = (-0.08, 0.03);
const PAIR_BASELINE_WANDER: f32 = 0.06;
const PAIR_WITH_A_ONE_SHARE: f64 = 0.2;
const PAIR_FACE_SHARE: f64 = 0.4;
/// A piece of a digit (not one digit) is this share of its width, from
/// either side: what a wrong cut through touching digits leaves.
const PIECE_SHARE: (f32, f32) = (0.3, 0.6);
/// Share of MNIST digits bent by an elastic distortion, how far (of the
/// digit's 28 pixels: up to about two pixels) and how smoothly (a field
/// smoothed over a seventh of the height bends strokes, not pixels).
const BENT_SHARE: f64 = 0.6;
const BENT_STRENGTH: (f32, f32) = (0.02, 0.08);
const BENT_SMOOTHNESS: f32 = 0.14;
/// Glyphs per optimisation step: enough that candle's per-step cost is
/// small beside the arithmetic.
const BATCH: usize = 128;
/// AdamW's step size at the start, and its decay per epoch.
const LEARNING_RATE: f64 = 2e-3;
const LEARNING_RATE_DECAY: f64 = 0.8;
/// Printed digit heights, in page pixels, the scan meets.
const PRINT_SIZE: (f32, f32) = (16.0, 56.0);
/// Letters that are never taken for digits (no О, З, б, which look like 0, 3, 6),
/// Cyrillic and the Latin ones Cyrillic has no shape for.
const LETTERS: &str = "АВГДЕЖИКЛМНПРСТУФХЦЧШЩЫЭЮЯавгдежиклмнпрстуфхцчшщыэюяҚҢҒҮҰӘІқңғүұәі№%DFLNRUVWY";
/// Capitals a hand writes in a count's cell (a zero as a word) that no
/// hand's digit resembles: no I, O, S, Z, B, G, D, U, C (a 1, 0, 5, 2, 8,
/// 6, a broken 0), nor T or Y (an open 7 or 4).
const WRITTEN_LETTERS: &str = "AEFHKLMNPRVWX";

/// How a run is made.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    pub seed: u64,
    pub epochs: usize,
    /// An MNIST folder; `None` is the bundled copy.
    pub mnist_dir: Option<PathBuf>,
    /// A folder with MNIST's training set (`train-…` files, 60 000 digits):
    /// trained on in full instead of the test set's digits 0–4999.
    pub training_set_dir: Option<PathBuf>,
    /// A network file to go on training instead of starting from random
    /// weights, and the epoch the learning rate's decay and each epoch's
    /// variations go on from (its own epochs, or fewer to learn new
    /// variations at a higher rate).
    pub from: Option<(PathBuf, usize)>,
}

/// The written digits a run trains on: which set, which of its digits, and
/// how many distorted copies of each an epoch makes.
struct WrittenDigits<'a> {
    set: &'a Mnist,
    range: std::ops::Range<usize>,
    copies: usize,
}

impl WrittenDigits<'_> {
    fn samples(&self) -> usize {
        self.range.len() * self.copies
    }

    /// The `n`-th training digit of an epoch (wrapping over the range).
    fn index(&self, n: usize) -> usize {
        self.range.start + n % self.range.len()
    }
}

/// The figures of a finished run.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TrainReport {
    /// Training glyphs seen, over all epochs (each epoch makes its own).
    pub samples: usize,
    pub loss_per_epoch: Vec<f32>,
    /// MNIST digits 5000–9999, never trained on ("not one digit" wrong).
    pub mnist_held_out_accuracy: f32,
    /// The same digits, by the digit the network finds likeliest.
    pub mnist_held_out_likeliest_digit: f32,
    /// Freshly printed digits in the trained faces.
    pub printed_accuracy: f32,
    /// Printed digits in DejaVu Serif, a face never trained on.
    pub unseen_face_accuracy: f32,
    /// Digits in the trained handwriting faces, freshly varied.
    pub hand_face_accuracy: f32,
    /// Digits in the handwriting faces never trained on (Breip, Because We
    /// Organize).
    pub unseen_hand_face_accuracy: f32,
}

/// A glyph ready for the network, kept as bytes (a quarter of the memory).
struct Sample {
    input: Vec<u8>,
    label: u8,
}

fn to_sample(input: &[f32; INPUT], label: usize) -> Sample {
    Sample { input: input.iter().map(|v| (v * 255.0).round() as u8).collect(), label: label as u8 }
}

/// `text` printed in `font` at `size` pixels, degraded like a photo.
pub fn printed(rng: &mut impl Rng, font: &FontRef, text: &str, size: f32) -> GrayImage {
    let paper = rng.gen_range(170..=255u8);
    let ink = rng.gen_range(0..=paper.saturating_sub(90).min(110));
    let chars = text.chars().count() as f32;
    let (w, h) = ((size * (chars * 0.7 + 1.2)) as u32, (size * 1.8) as u32);
    let mut image = GrayImage::from_pixel(w, h, Luma([paper]));
    let x = (size * 0.5) as i32;
    let y = (size * 0.3) as i32;
    imageproc::drawing::draw_text_mut(&mut image, Luma([ink]), x, y, PxScale::from(size), font, text);
    degrade(rng, image, paper, size / 30.0)
}

/// Turns, blurs and adds noise to a glyph picture; `scale` is its size
/// against a 30-pixel digit.
fn degrade(rng: &mut impl Rng, image: GrayImage, paper: u8, scale: f32) -> GrayImage {
    let angle = rng.gen_range(-4.0f32..4.0).to_radians();
    let image = rotate_about_center(&image, angle, Interpolation::Bilinear, Border::Constant(Luma([paper])));
    let sigma = rng.gen_range(0.2..1.3) * scale.max(0.5);
    hand::blurred_and_noisy(rng, &image, sigma, 10.0)
}

/// MNIST digit `i`, distorted like another hand would write it; half the
/// time also as a photographed cell shows it.
fn handwritten(rng: &mut impl Rng, mnist: &Mnist, i: usize) -> GrayImage {
    let mut digit = mnist.as_print(i);
    if mnist.labels[i] == 7 && rng.gen_bool(hand::CROSSED_SEVEN_SHARE) {
        digit = hand::crossed_seven(rng, &digit);
    }
    if rng.gen_bool(BENT_SHARE) {
        let strength = rng.gen_range(BENT_STRENGTH.0..BENT_STRENGTH.1);
        digit = hand::bent(rng, &digit, strength, BENT_SMOOTHNESS);
    }
    let written = hand::vary(rng, &digit, None);
    if rng.gen_bool(PHOTOGRAPHED_SHARE) {
        photographed(rng, &written)
    } else {
        written
    }
}

/// A written glyph (dark on white) as a phone photo of a cell shows it: at
/// the page's size (a digit 18–45 pixels tall), in a pen's ink on paper of
/// some shade, turned, blurred and noisy.
fn photographed(rng: &mut impl Rng, written: &GrayImage) -> GrayImage {
    let size = rng.gen_range(PRINT_SIZE.0..PRINT_SIZE.1);
    // MNIST's ink box is 20 of its 28 pixels: the glyph's height follows.
    let scale = size / written.height() as f32 * 1.3;
    let (w, h) = (((written.width() as f32 * scale) as u32).max(1), ((written.height() as f32 * scale) as u32).max(1));
    let small = image::imageops::resize(written, w, h, image::imageops::FilterType::Triangle);
    let paper = rng.gen_range(170..=255u8);
    let ink = rng.gen_range(0..=paper.saturating_sub(90).min(120)) as f32;
    let shaded = hand::on_paper(&small, paper as f32, ink);
    degrade(rng, shaded, paper, size / 30.0)
}

/// Two written digits run together (MNIST or a trained handwriting face,
/// one hand and pen for both), touching or overlapping a little: ink that
/// is not one digit. A fifth of the time one is a 1, whose pair is hardly
/// wider than a single digit and so the likeliest to be read as one.
fn touching_pair(rng: &mut impl Rng, written_digits: &WrittenDigits, hand_faces: &[FontRef]) -> GrayImage {
    let with_a_one = rng.gen_bool(PAIR_WITH_A_ONE_SHARE);
    let one_first = rng.gen_bool(0.5);
    let face = rng.gen_bool(PAIR_FACE_SHARE).then(|| &hand_faces[rng.gen_range(0..hand_faces.len())]);
    let pen = hand::Pen::random(rng);
    let mut written = |first: bool| {
        // Never two 1s: touching, they are a 4 or a thick 1 to anyone.
        let digit = if with_a_one && first == one_first { 1 } else { [0, 2, 3, 4, 5, 6, 7, 8, 9][rng.gen_range(0..9)] };
        let source = match face {
            Some(font) => hand::face_digit(font, digit),
            None => {
                let choices = written_digits.set.indices_of(digit, written_digits.range.clone());
                written_digits.set.as_print(choices[rng.gen_range(0..choices.len())])
            }
        };
        hand::crop_to_ink(&hand::vary(rng, &source, Some(pen)), |v| v < 128)
    };
    let (a, b) = (written(true), written(false));
    let pair = run_together(rng, &a, &b);
    if rng.gen_bool(PHOTOGRAPHED_SHARE) {
        photographed(rng, &pair)
    } else {
        pair
    }
}

/// Two written digits (dark on white, cropped to their ink) side by side
/// at about one height, touching or overlapping a little, as a hand runs
/// a count's digits together.
pub fn run_together(rng: &mut impl Rng, a: &GrayImage, b: &GrayImage) -> GrayImage {
    let height = PAIR_HEIGHT;
    let mut scaled = |g: &GrayImage| {
        let h = (height * rng.gen_range(0.92..1.08)).round().max(2.0);
        let w = (g.width() as f32 * h / g.height().max(1) as f32).round().max(1.0);
        image::imageops::resize(g, w as u32, h as u32, image::imageops::FilterType::Triangle)
    };
    let (a, b) = (scaled(a), scaled(b));
    let gap = (rng.gen_range(PAIR_GAP_OF_HEIGHT.0..PAIR_GAP_OF_HEIGHT.1) * height) as i32;
    let bx = (a.width() as i32 + gap).max(1) as u32;
    let margin = (height * 0.2) as u32;
    let canvas_h = a.height().max(b.height()) + 2 * margin;
    let mut out = GrayImage::from_pixel(bx + b.width() + 2 * margin, canvas_h, Luma([255]));
    for (x0, digit) in [(margin, &a), (margin + bx, &b)] {
        let wander = (rng.gen_range(-PAIR_BASELINE_WANDER..PAIR_BASELINE_WANDER) * height) as i32;
        let y0 = (margin as i32 + wander).max(0) as u32;
        for (x, y, p) in digit.enumerate_pixels() {
            if let Some(o) = out.get_pixel_mut_checked(x0 + x, y0 + y) {
                o.0[0] = o.0[0].min(p.0[0]);
            }
        }
    }
    out
}

/// The faces digits are trained on, and the one kept back.
fn faces() -> (Vec<FontRef<'static>>, FontRef<'static>) {
    let mut trained = Vec::new();
    for family in fonts::synth_families() {
        trained.push(family.regular);
        trained.push(family.bold);
    }
    (trained, fonts::other_family().regular)
}

fn print_size(rng: &mut impl Rng) -> f32 {
    rng.gen_range(PRINT_SIZE.0..PRINT_SIZE.1)
}

/// Accuracy of `net` on `count` fresh digits, digit `i % 10` drawn by
/// `make(rng, i)` from its own seeded generator.
fn fresh_digit_accuracy(
    net: &Net,
    seed: u64,
    count: usize,
    make: impl Fn(&mut ChaCha8Rng, usize) -> GrayImage + Sync,
) -> f32 {
    let right: usize = (0..count)
        .into_par_iter()
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed ^ (i as u64).wrapping_mul(0x9E37_79B9));
            let glyph = make(&mut rng, i);
            glyph_input(&glyph).is_some_and(|input| best_class(&net.classify(&input)) == i % 10) as usize
        })
        .sum();
    right as f32 / count as f32
}

/// Accuracy of `net` on `count` fresh printed digits in `font`.
pub fn printed_accuracy(net: &Net, font: &FontRef, seed: u64, count: usize) -> f32 {
    fresh_digit_accuracy(net, seed, count, |rng, i| {
        let size = print_size(rng);
        printed(rng, font, &(i % 10).to_string(), size)
    })
}

/// Accuracy of `net` on the MNIST digits `range`, as they are: a "not one
/// digit" answer counts as wrong.
pub fn mnist_accuracy(net: &Net, mnist: &Mnist, range: std::ops::Range<usize>) -> f32 {
    mnist_score(net, mnist, range, best_class)
}

/// Accuracy of the digit `net` finds likeliest for each MNIST digit of
/// `range` (what the reader writes down, doubting it, when the network
/// leans to "not one digit" and no cut reads better).
pub fn mnist_likeliest_digit_accuracy(net: &Net, mnist: &Mnist, range: std::ops::Range<usize>) -> f32 {
    mnist_score(net, mnist, range, |probs| best_class(&probs[..NOT_A_DIGIT]))
}

fn mnist_score(
    net: &Net,
    mnist: &Mnist,
    range: std::ops::Range<usize>,
    answer: impl Fn(&[f32]) -> usize + Sync,
) -> f32 {
    let total = range.len();
    let right: usize = range
        .into_par_iter()
        .map(|i| {
            let label = mnist.labels[i] as usize;
            glyph_input(&mnist.as_print(i)).is_some_and(|input| answer(&net.classify(&input)) == label) as usize
        })
        .sum();
    right as f32 / total as f32
}

fn best_class(probs: &[f32]) -> usize {
    probs.iter().enumerate().max_by(|a, b| a.1.total_cmp(b.1)).map(|(c, _)| c).unwrap_or(NOT_A_DIGIT)
}

/// A handwriting face's digit as another hand would write it, on the
/// paper and with the ink and blur a photo gives.
pub fn hand_face_digit(rng: &mut impl Rng, font: &FontRef, digit: u8) -> GrayImage {
    let mut face = hand::face_digit(font, digit);
    if digit == 7 && rng.gen_bool(hand::CROSSED_SEVEN_SHARE) {
        face = hand::crossed_seven(rng, &face);
    }
    hand_face_written(rng, &face)
}

/// A handwriting face's glyph (dark on white) as another hand would write
/// it, photographed.
fn hand_face_written(rng: &mut impl Rng, face: &GrayImage) -> GrayImage {
    let written = hand::vary(rng, face, None);
    photographed(rng, &written)
}

/// A left or right piece of a digit: what a wrong cut through touching
/// digits leaves, which is not one digit.
fn digit_piece(rng: &mut impl Rng, glyph: &GrayImage) -> GrayImage {
    let Some(input) = glyph_input(glyph) else { return glyph.clone() };
    // The digit as the network sees it, then a piece of its ink box.
    let side = SIDE as u32;
    let ink: Vec<(u32, u32)> =
        (0..INPUT as u32).filter(|&i| input[i as usize] > 0.3).map(|i| (i % side, i / side)).collect();
    let (l, r) = (ink.iter().map(|p| p.0).min().unwrap_or(0), ink.iter().map(|p| p.0).max().unwrap_or(side - 1) + 1);
    let share = rng.gen_range(PIECE_SHARE.0..PIECE_SHARE.1);
    let cut = l + ((r - l) as f32 * share) as u32;
    let keep_left = rng.gen_bool(0.5);
    GrayImage::from_fn(side, side, |x, y| {
        let kept = if keep_left { x < cut } else { x >= cut };
        Luma([if kept { 255 - (input[(y * side + x) as usize] * 255.0) as u8 } else { 255 }])
    })
}

/// Makes the training set: every sample from its own seeded generator, so
/// the set is the same whatever the number of threads.
fn training_set(seed: u64, written_digits: &WrittenDigits) -> Vec<Sample> {
    let mnist = written_digits.set;
    let (trained, _) = faces();
    let hand_faces: Vec<FontRef<'static>> =
        fonts::hand_faces().into_iter().filter(|f| f.trained).map(|f| f.font).collect();
    let letters: Vec<char> = LETTERS.chars().collect();
    let written_letters: Vec<char> = WRITTEN_LETTERS.chars().collect();
    let mnist_samples = written_digits.samples();
    let hand_start = PRINTED_SAMPLES + mnist_samples;
    let total = hand_start + HAND_FACE_SAMPLES + NOT_A_DIGIT_SAMPLES;
    (0..total)
        .into_par_iter()
        .filter_map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
            let (glyph, label) = if i < PRINTED_SAMPLES {
                let digit = i % 10;
                let font = &trained[(i / 10) % trained.len()];
                let size = print_size(&mut rng);
                (printed(&mut rng, font, &digit.to_string(), size), digit)
            } else if i < hand_start {
                let index = written_digits.index(i - PRINTED_SAMPLES);
                (handwritten(&mut rng, mnist, index), mnist.labels[index] as usize)
            } else if i < hand_start + HAND_FACE_SAMPLES {
                let digit = i % 10;
                let font = &hand_faces[(i / 10) % hand_faces.len()];
                (hand_face_digit(&mut rng, font, digit as u8), digit)
            } else {
                let glyph = match rng.gen_range(0..NOT_A_DIGIT_KINDS) {
                    0..=2 => touching_pair(&mut rng, written_digits, &hand_faces),
                    3 => {
                        let font = &trained[rng.gen_range(0..trained.len())];
                        let pair = format!("{}{}", rng.gen_range(0..10), rng.gen_range(0..10));
                        let size = print_size(&mut rng);
                        printed(&mut rng, font, &pair, size)
                    }
                    4 => {
                        let font = &trained[rng.gen_range(0..trained.len())];
                        let letter = letters[rng.gen_range(0..letters.len())].to_string();
                        let size = print_size(&mut rng);
                        printed(&mut rng, font, &letter, size)
                    }
                    5 => {
                        // A piece of a handwritten digit other than a 1 (whose
                        // every piece is still a stroke like a 1).
                        let index = loop {
                            let i = rng.gen_range(written_digits.range.clone());
                            if mnist.labels[i] != 1 {
                                break i;
                            }
                        };
                        let digit = handwritten(&mut rng, mnist, index);
                        digit_piece(&mut rng, &digit)
                    }
                    6 => {
                        let font = &hand_faces[rng.gen_range(0..hand_faces.len())];
                        let letter = written_letters[rng.gen_range(0..written_letters.len())].to_string();
                        hand_face_written(&mut rng, &hand::face_text(font, &letter))
                    }
                    _ => {
                        let font = &hand_faces[rng.gen_range(0..hand_faces.len())];
                        let which = rng.gen_range(2..10);
                        let digit = hand_face_digit(&mut rng, font, which);
                        digit_piece(&mut rng, &digit)
                    }
                };
                (glyph, NOT_A_DIGIT)
            };
            glyph_input(&glyph).map(|input| to_sample(&input, label))
        })
        .collect()
}

/// Accuracy of `net` on `count` fresh digits in the handwriting `fonts`.
pub fn hand_face_accuracy(net: &Net, fonts: &[FontRef], seed: u64, count: usize) -> f32 {
    fresh_digit_accuracy(net, seed, count, |rng, i| {
        hand_face_digit(rng, &fonts[(i / 10) % fonts.len()], (i % 10) as u8)
    })
}

/// The seed of an epoch's training glyphs (the first epoch's is the run's).
fn epoch_seed(seed: u64, epoch: usize) -> u64 {
    seed.wrapping_add((epoch as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

/// Trains a network from scratch; `progress` hears one line per epoch.
pub fn train(options: &TrainOptions, mut progress: impl FnMut(&str)) -> anyhow::Result<(Net, TrainReport)> {
    let loaded;
    let mnist = match &options.mnist_dir {
        Some(dir) => {
            loaded = Mnist::load(dir)?;
            &loaded
        }
        None => Mnist::bundled(),
    };
    anyhow::ensure!(mnist.len() >= mnist::HELD_OUT.end, "the MNIST set holds {} digits, not 10000", mnist.len());
    let training_set_loaded;
    let written_digits = match &options.training_set_dir {
        Some(dir) => {
            training_set_loaded = Mnist::load_training(dir)?;
            WrittenDigits {
                set: &training_set_loaded,
                range: 0..training_set_loaded.len(),
                copies: MNIST_TRAINING_SET_COPIES,
            }
        }
        None => WrittenDigits { set: mnist, range: mnist::TRAIN, copies: MNIST_COPIES },
    };
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let start = match &options.from {
        Some((path, _)) => super::network_file(path)?,
        None => Net::initial(|| rng.gen::<f32>()),
    };
    let first_epoch = options.from.as_ref().map_or(0, |(_, epoch)| *epoch);
    let mut trainer = GlyphTrainer::new(&start, LEARNING_RATE, rng.gen())?;
    let mut loss_per_epoch = Vec::new();
    let mut seen = 0;
    for epoch in first_epoch..first_epoch + options.epochs {
        // Every epoch its own variations of the same digits: the network
        // learns the digit, not one picture of it.
        let samples = training_set(epoch_seed(options.seed, epoch), &written_digits);
        seen += samples.len();
        let mut order: Vec<usize> = (0..samples.len()).collect();
        order.shuffle(&mut rng);
        let rate = LEARNING_RATE * LEARNING_RATE_DECAY.powi(epoch as i32);
        let mut epoch_loss = 0.0;
        for batch in order.chunks(BATCH) {
            let inputs: Vec<f32> =
                batch.iter().flat_map(|&i| samples[i].input.iter().map(|&b| b as f32 / 255.0)).collect();
            let labels: Vec<u32> = batch.iter().map(|&i| samples[i].label as u32).collect();
            epoch_loss += trainer.step(inputs, labels, rate)? * batch.len() as f32;
        }
        let loss = epoch_loss / samples.len() as f32;
        loss_per_epoch.push(loss);
        progress(&format!("epoch {}/{}: loss {loss:.4}", epoch + 1, first_epoch + options.epochs));
    }
    let net = trainer.net()?;
    let (trained, unseen) = faces();
    let (hand_trained, hand_unseen): (Vec<_>, Vec<_>) = fonts::hand_faces().into_iter().partition(|f| f.trained);
    let hand_trained: Vec<FontRef> = hand_trained.into_iter().map(|f| f.font).collect();
    let hand_unseen: Vec<FontRef> = hand_unseen.into_iter().map(|f| f.font).collect();
    let trained_faces =
        trained.iter().map(|f| printed_accuracy(&net, f, options.seed + 1, 1000)).sum::<f32>() / trained.len() as f32;
    let report = TrainReport {
        samples: seen,
        loss_per_epoch,
        mnist_held_out_accuracy: mnist_accuracy(&net, mnist, mnist::HELD_OUT),
        mnist_held_out_likeliest_digit: mnist_likeliest_digit_accuracy(&net, mnist, mnist::HELD_OUT),
        printed_accuracy: trained_faces,
        unseen_face_accuracy: printed_accuracy(&net, &unseen, options.seed + 2, 2000),
        hand_face_accuracy: hand_face_accuracy(&net, &hand_trained, options.seed + 3, 2000),
        unseen_hand_face_accuracy: hand_face_accuracy(&net, &hand_unseen, options.seed + 4, 2000),
    };
    Ok((net, report))
}
