//! Training the sequence reader: `protocol-ocr train-sequence`.
//!
//! Counts are composed on the spot, from a seed: one to six digits, each
//! an MNIST training digit (or, now and then, a trained handwriting face)
//! distorted as another hand would write it, set side by side with gaps
//! that may be negative (touching, overlapping), on a wandering baseline,
//! now and then with a cell's rule against their feet or heads; then
//! photographed (shrunk to a phone's size, faint or bold ink on shaded
//! paper, blurred, noisy) and prepared by the same [`sequence_input`] as
//! the scan's crops. The loss is CTC's (the count's digits, wherever in
//! the crop they stand). The same composer, fed MNIST's test digits
//! 5000–9999, makes the counts `eval-sequence` measures on.
//!
//! Training meets two more things that writers put in a cell: dashes
//! round a count («-15-», read 15), and zero written as a word, a lone
//! dash or a stroke across the empty cell («NIL», «None», «—», «/»), in a
//! handwriting face or print capitals, read as the one [`ZERO_WORD`] token.

use std::path::Path;

use ab_glyph::FontRef;
use candle_core::{DType, Device, IndexOp, Result as CandleResult, Tensor, D};
use candle_nn::{AdamW, Optimizer, ParamsAdamW, VarBuilder, VarMap};
use image::{imageops, GrayImage, Luma};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use super::hand::{self, blurred_and_noisy, crop_to_ink, face_digit, face_text, on_paper};
use super::mnist::Mnist;
use super::sequence::{sequence_input, SequenceNet, BLANK, HEIGHT, OUTPUTS, ZERO_WORD};
use crate::fonts;

/// The height, in pixels, digits are composed at (before the photo shrinks them).
const COMPOSE_HEIGHT: f32 = 40.0;
/// How much one digit's height differs from the count's.
const DIGIT_HEIGHT_SPREAD: (f32, f32) = (0.85, 1.15);
/// The gap between neighbouring digits' ink, against the height: negative
/// touches or overlaps. Touching pairs are a quarter of the gaps.
const GAP_OF_HEIGHT: (f32, f32) = (0.04, 0.5);
const TOUCHING_GAP_OF_HEIGHT: (f32, f32) = (-0.2, 0.0);
const TOUCHING_SHARE: f64 = 0.25;
/// How far each digit's baseline wanders, against the height.
const BASELINE_WANDER: f32 = 0.1;
/// Share of counts written in a trained handwriting face instead of MNIST.
const FACE_SHARE: f64 = 0.15;
/// Share of counts with a cell's rule against the digits' feet or heads.
const RULE_SHARE: f64 = 0.2;
/// Share of counts whose first digit may be 0 (a code's box group).
const LEADING_ZERO_SHARE: f64 = 0.1;
/// Share of training examples that are zero written as a word or a dash.
const ZERO_WORD_SHARE: f64 = 0.08;
/// How zero is written instead of «0» (a lone dash is drawn, not typed).
const ZERO_WORDS: [&str; 10] = ["NIL", "Nil", "nil", "NILL", "None", "NONE", "none", "Zero", "ZERO", "zero"];
/// Share of zero words that are a lone dash.
const LONE_DASH_SHARE: f64 = 0.3;
/// Share of lone dashes drawn as a stroke across the cell at a slant (an
/// empty cell struck through, «/» or «\»), between these angles from the
/// level: steeper than a dash's wobble, and flatter than a written «1»
/// (60° or more from the level) even after the hand's turn and shear
/// (`hand::vary`, up to about 20° more), so a stroke is never taught as
/// a one's look.
const STRIKE_SHARE: f64 = 0.5;
const STRIKE_SLANT_DEG: (f32, f32) = (10.0, 40.0);
/// A strike's length against the digits' height: from a short tick to a
/// stroke across a wide cell.
const STRIKE_LENGTH_OF_HEIGHT: (f32, f32) = (0.7, 2.2);
/// Share of training counts (and zero words) with a dash before or after
/// them, or both.
const DASHED_SHARE: f64 = 0.15;
/// A dash's length against the count's height.
const DASH_LENGTH_OF_HEIGHT: (f32, f32) = (0.4, 1.4);
/// How many digits a count has: weights for 1, 2, … 6 digits.
const LENGTH_WEIGHTS: [u32; 6] = [14, 24, 30, 20, 8, 4];
/// The digit height, in pixels, a photo shows (a messenger's small photo
/// to a close phone photo).
const PHOTO_DIGIT_HEIGHT: (f32, f32) = (12.0, 44.0);
/// Steps between two lines of the training log.
const LOG_EVERY: usize = 25;
/// Counts per optimisation step.
const BATCH: usize = 48;
/// Adam's step size at the start; it falls linearly to a tenth by the end.
const LEARNING_RATE: f64 = 1e-3;
/// Adam's step size at the start when training goes on from a trained
/// network: half the first run's, so the first steps do not undo it.
const CONTINUED_LEARNING_RATE: f64 = 5e-4;
/// The gradient's length is cut to this at most: one odd batch (a count
/// whose path is nearly impossible) must not throw the weights off.
const MAX_GRADIENT_NORM: f32 = 5.0;
/// Stands for log(0): far below any path's log-probability, yet finite, so
/// no 0 × ∞ appears in the gradient.
const LOG_ZERO: f32 = -1e4;
/// The output layer's initial weights' variance against He's (see [`initialise`]).
const OUTPUT_INIT_GAIN: f32 = 0.01;
/// The bias an output added to a trained network starts with: about
/// e^-4 of the columns' weight, so the trained readings stand at first.
const NEW_OUTPUT_BIAS: f32 = -4.0;

/// Where digits come from: one MNIST set's digits, by label, and the faces.
pub struct Writers<'a> {
    set: &'a Mnist,
    by_digit: Vec<Vec<usize>>,
    faces: Vec<FontRef<'static>>,
    /// Faces zero's words are written in: the trained handwriting faces
    /// and print (capitals written like print).
    word_faces: Vec<FontRef<'static>>,
}

impl<'a> Writers<'a> {
    /// The digits of `set` in `range`, and the handwriting faces trained on
    /// when `with_faces`.
    pub fn new(set: &'a Mnist, range: std::ops::Range<usize>, with_faces: bool) -> Writers<'a> {
        let by_digit = (0..10).map(|d| set.indices_of(d, range.clone())).collect();
        let faces = if with_faces {
            fonts::hand_faces().into_iter().filter(|f| f.trained).map(|f| f.font).collect()
        } else {
            Vec::new()
        };
        let word_faces = if with_faces {
            faces.iter().cloned().chain(fonts::synth_families().into_iter().map(|f| f.regular)).collect()
        } else {
            Vec::new()
        };
        Writers { set, by_digit, faces, word_faces }
    }

    fn digit(&self, rng: &mut impl Rng, digit: u8, face: Option<&FontRef>, pen: hand::Pen) -> GrayImage {
        let source = match face {
            Some(font) => face_digit(font, digit),
            None => {
                let pool = &self.by_digit[digit as usize];
                self.set.as_print(pool[rng.gen_range(0..pool.len())])
            }
        };
        crop_to_ink(&hand::vary(rng, &source, Some(pen)), |v| v < 160)
    }
}

/// A random count's digits.
pub fn random_count(rng: &mut impl Rng) -> Vec<u8> {
    let total: u32 = LENGTH_WEIGHTS.iter().sum();
    let mut pick = rng.gen_range(0..total);
    let mut length = 1;
    for (i, w) in LENGTH_WEIGHTS.iter().enumerate() {
        if pick < *w {
            length = i + 1;
            break;
        }
        pick -= w;
    }
    let leading_zero = rng.gen_bool(LEADING_ZERO_SHARE);
    (0..length)
        .map(|i| if i == 0 && length > 1 && !leading_zero { rng.gen_range(1..10) } else { rng.gen_range(0..10) })
        .collect()
}

/// `digits` written by one hand and photographed: dark ink on paper.
pub fn compose_count(rng: &mut impl Rng, writers: &Writers, digits: &[u8]) -> GrayImage {
    compose(rng, writers, &Written::Digits(digits), false)
}

/// What a composed cell holds.
enum Written<'d> {
    Digits(&'d [u8]),
    /// Zero as a word in a face (or print capitals), or a lone dash (`None`).
    ZeroWord(Option<(&'d FontRef<'static>, &'static str)>),
}

/// `glyph` scaled to `h` pixels high.
fn scaled_to(glyph: &GrayImage, h: f32) -> GrayImage {
    let scale = h / glyph.height().max(1) as f32;
    let w = ((glyph.width() as f32 * scale).round() as u32).max(1);
    imageops::resize(glyph, w, h.round() as u32, imageops::FilterType::Triangle)
}

/// A written dash, as a glyph `height` pixels high: a stroke across its middle.
fn dash(rng: &mut impl Rng, height: f32, pen: hand::Pen) -> GrayImage {
    let length = (height * rng.gen_range(DASH_LENGTH_OF_HEIGHT.0..DASH_LENGTH_OF_HEIGHT.1)) as u32;
    let (h, thickness) = (height as u32, (height * 0.06).max(2.0) as u32);
    let y = (height * rng.gen_range(0.4..0.65)) as u32;
    let stroke = GrayImage::from_fn(length.max(4), h.max(4), |_, py| {
        Luma([if (y..y + thickness).contains(&py) { 0 } else { 255 }])
    });
    hand::vary(rng, &stroke, Some(pen))
}

/// A stroke across an empty cell, as a glyph: straight, at a slant either
/// way ([`STRIKE_SLANT_DEG`]), `height`-pixel digits' pen.
fn strike(rng: &mut impl Rng, height: f32, pen: hand::Pen) -> GrayImage {
    let length = height * rng.gen_range(STRIKE_LENGTH_OF_HEIGHT.0..STRIKE_LENGTH_OF_HEIGHT.1);
    let slant = rng.gen_range(STRIKE_SLANT_DEG.0..STRIKE_SLANT_DEG.1).to_radians();
    let (dx, dy) = (length * slant.cos(), length * slant.sin());
    let half_thickness = (height * 0.03).max(1.0);
    let (w, h) = ((dx + 4.0 * half_thickness) as u32, (dy + 4.0 * half_thickness) as u32);
    let rising = rng.gen_bool(0.5);
    let (x0, y0) = (2.0 * half_thickness, 2.0 * half_thickness);
    let stroke = GrayImage::from_fn(w.max(4), h.max(4), |px, py| {
        // Distance from the pixel to the segment from the top-left to the
        // bottom-right corner (mirrored for a rising stroke).
        let x = if rising { w as f32 - px as f32 } else { px as f32 } - x0;
        let y = py as f32 - y0;
        let t = ((x * dx + y * dy) / (length * length)).clamp(0.0, 1.0);
        let (ex, ey) = (x - t * dx, y - t * dy);
        Luma([if ex * ex + ey * ey <= half_thickness * half_thickness { 0 } else { 255 }])
    });
    hand::vary(rng, &stroke, Some(pen))
}

/// `written` by one hand, with dashes round it when `dashed`, photographed.
fn compose(rng: &mut impl Rng, writers: &Writers, written: &Written, dashed: bool) -> GrayImage {
    let face = (!writers.faces.is_empty() && rng.gen_bool(FACE_SHARE))
        .then(|| &writers.faces[rng.gen_range(0..writers.faces.len())]);
    let pen = hand::Pen::random_ballpoint(rng);
    let height = COMPOSE_HEIGHT * rng.gen_range(DIGIT_HEIGHT_SPREAD.0..DIGIT_HEIGHT_SPREAD.1);
    let mut glyphs: Vec<GrayImage> = match written {
        Written::Digits(digits) => digits
            .iter()
            .map(|&d| {
                let glyph = writers.digit(rng, d, face, pen);
                scaled_to(&glyph, height * rng.gen_range(DIGIT_HEIGHT_SPREAD.0..DIGIT_HEIGHT_SPREAD.1))
            })
            .collect(),
        Written::ZeroWord(Some((font, word))) => {
            let glyph = crop_to_ink(&hand::vary(rng, &face_text(font, word), Some(pen)), |v| v < 160);
            // Capitals stand a count's height; small letters a little less.
            let lower = word.chars().last().is_some_and(char::is_lowercase);
            vec![scaled_to(&glyph, height * if lower { rng.gen_range(0.7..0.95) } else { rng.gen_range(0.85..1.1) })]
        }
        Written::ZeroWord(None) if rng.gen_bool(STRIKE_SHARE) => vec![strike(rng, height, pen)],
        Written::ZeroWord(None) => vec![dash(rng, height, pen)],
    };
    if dashed {
        match rng.gen_range(0..3) {
            0 => glyphs.insert(0, dash(rng, height, pen)),
            1 => glyphs.push(dash(rng, height, pen)),
            _ => {
                glyphs.insert(0, dash(rng, height, pen));
                glyphs.push(dash(rng, height, pen));
            }
        }
    }
    let pad = (height * 0.5) as u32;
    let gaps: Vec<i32> = (0..glyphs.len())
        .map(|_| {
            let range = if rng.gen_bool(TOUCHING_SHARE) { TOUCHING_GAP_OF_HEIGHT } else { GAP_OF_HEIGHT };
            (rng.gen_range(range.0..range.1) * height) as i32
        })
        .collect();
    let width = glyphs.iter().zip(&gaps).map(|(g, gap)| g.width() as i32 + gap).sum::<i32>().max(1) as u32 + 2 * pad;
    let canvas_height = (height * (1.0 + 2.0 * BASELINE_WANDER)) as u32 + 2 * pad;
    let mut canvas = GrayImage::from_pixel(width, canvas_height, Luma([255]));
    let mut x = pad as i32;
    let base = pad as f32 + height * (1.0 + BASELINE_WANDER);
    for (glyph, gap) in glyphs.iter().zip(&gaps) {
        let foot = base + rng.gen_range(-BASELINE_WANDER..BASELINE_WANDER) * height;
        let top = (foot - glyph.height() as f32).max(0.0) as u32;
        for (gx, gy, p) in glyph.enumerate_pixels() {
            let (cx, cy) = (x + gx as i32, top + gy);
            if cx >= 0 && (cx as u32) < width && cy < canvas_height {
                let old = canvas.get_pixel(cx as u32, cy).0[0];
                canvas.put_pixel(cx as u32, cy, Luma([old.min(p.0[0])]));
            }
        }
        x += glyph.width() as i32 + gap;
    }
    if rng.gen_bool(RULE_SHARE) {
        // A rule just under the feet or over the heads, touching some.
        let at_foot = rng.gen_bool(0.6);
        let y =
            if at_foot { base + rng.gen_range(-0.05..0.15) * height } else { base - height * rng.gen_range(1.0..1.2) };
        let thickness = rng.gen_range(1..=3u32);
        let shade = rng.gen_range(40..170u8);
        for dy in 0..thickness {
            let row = (y as u32 + dy).min(canvas_height - 1);
            for cx in 0..width {
                let old = canvas.get_pixel(cx, row).0[0];
                canvas.put_pixel(cx, row, Luma([old.min(shade)]));
            }
        }
    }
    photographed(rng, &canvas, height)
}

/// The count as a phone photo shows it: shrunk to a digit height the scan
/// meets, in a pen's ink on paper of some shade, blurred and noisy.
fn photographed(rng: &mut impl Rng, written: &GrayImage, digit_height: f32) -> GrayImage {
    let scale = rng.gen_range(PHOTO_DIGIT_HEIGHT.0..PHOTO_DIGIT_HEIGHT.1) / digit_height;
    let (w, h) = (((written.width() as f32 * scale) as u32).max(4), ((written.height() as f32 * scale) as u32).max(4));
    let small = imageops::resize(written, w, h, imageops::FilterType::Triangle);
    let paper = rng.gen_range(170..=255u8) as f32;
    // Faint ballpoint to bold felt pen.
    let ink = rng.gen_range(0.0..(paper - 70.0).min(130.0));
    let shaded = on_paper(&small, paper, ink);
    let sigma = rng.gen_range(0.1..1.0f32) * (scale * digit_height / 25.0).max(0.5);
    blurred_and_noisy(rng, &shaded, sigma, 9.0)
}

/// One prepared count: the network's input and its digits.
struct Example {
    input: Vec<f32>,
    width: usize,
    digits: Vec<u8>,
}

/// `n` counts from `seed`, composed in parallel (each from its own seed,
/// so the batch is the same whatever the threads).
fn examples(writers: &Writers, seed: u64, n: usize) -> Vec<Example> {
    (0..n)
        .into_par_iter()
        .filter_map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
            let dashed = rng.gen_bool(DASHED_SHARE);
            let (image, digits) = if rng.gen_bool(ZERO_WORD_SHARE) && !writers.word_faces.is_empty() {
                let word = (!rng.gen_bool(LONE_DASH_SHARE)).then(|| {
                    let font = &writers.word_faces[rng.gen_range(0..writers.word_faces.len())];
                    (font, ZERO_WORDS[rng.gen_range(0..ZERO_WORDS.len())])
                });
                // A lone dash with dashes round it is a longer dash.
                let image = compose(&mut rng, writers, &Written::ZeroWord(word), dashed && word.is_some());
                (image, vec![ZERO_WORD as u8])
            } else {
                let digits = random_count(&mut rng);
                (compose(&mut rng, writers, &Written::Digits(&digits), dashed), digits)
            };
            let (input, width) = sequence_input(&image)?;
            Some(Example { input, width, digits })
        })
        .collect()
}

/// A batch as one tensor `(n, 1, HEIGHT, widest)`, narrower ones padded with paper.
fn batch_tensor(batch: &[Example], device: &Device) -> CandleResult<Tensor> {
    let widest = batch.iter().map(|e| e.width).max().unwrap_or(4);
    let mut data = vec![0.0f32; batch.len() * HEIGHT * widest];
    for (n, e) in batch.iter().enumerate() {
        for y in 0..HEIGHT {
            let row = &e.input[y * e.width..(y + 1) * e.width];
            data[(n * HEIGHT + y) * widest..][..e.width].copy_from_slice(row);
        }
    }
    Tensor::from_vec(data, (batch.len(), 1, HEIGHT, widest), device)
}

/// CTC's loss, the mean over the batch of −log P(digits | crop), from the
/// per-column log-probabilities `(batch, columns, outputs)`. The forward
/// recursion runs over the digits with a blank before, between and after
/// them, in log space.
pub fn ctc_loss(log_probs: &Tensor, targets: &[Vec<u8>]) -> CandleResult<Tensor> {
    let (batch, columns, _) = log_probs.dims3()?;
    let device = log_probs.device();
    let longest = targets.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let states = 2 * longest + 1;
    let mut extended = vec![BLANK as u32; batch * states];
    let mut skip = vec![LOG_ZERO; batch * states];
    let mut ends = vec![0u32; batch * 2];
    let mut feasible = vec![0.0f32; batch];
    for (n, digits) in targets.iter().enumerate() {
        // A repeated digit needs a blank column between its two runs.
        let repeats = digits.windows(2).filter(|w| w[0] == w[1]).count();
        if digits.len() + repeats <= columns {
            feasible[n] = 1.0;
        }
        for (i, &d) in digits.iter().enumerate() {
            let s = 2 * i + 1;
            extended[n * states + s] = d as u32;
            // A digit may follow the digit before it directly (skipping
            // the blank between) unless they are the same digit.
            if i > 0 && digits[i - 1] != d {
                skip[n * states + s] = 0.0;
            }
        }
        let last = 2 * digits.len();
        ends[n * 2] = last as u32;
        ends[n * 2 + 1] = last.saturating_sub(1) as u32;
    }
    let extended = Tensor::from_vec(extended, (batch, 1, states), device)?.broadcast_as((batch, columns, states))?;
    let emissions = log_probs.gather(&extended.contiguous()?, 2)?;
    let skip = Tensor::from_vec(skip, (batch, states), device)?;
    let start: Vec<f32> = (0..states).map(|s| if s < 2 { 0.0 } else { LOG_ZERO }).collect();
    let start = Tensor::from_vec(start, (1, states), device)?;
    let wall = Tensor::full(LOG_ZERO, (batch, 1), device)?;
    let wall2 = Tensor::full(LOG_ZERO, (batch, 2), device)?;
    let mut alpha = emissions.i((.., 0, ..))?.broadcast_add(&start)?;
    for t in 1..columns {
        let from_one = Tensor::cat(&[&wall, &alpha.narrow(1, 0, states - 1)?], 1)?;
        let from_two = (Tensor::cat(&[&wall2, &alpha.narrow(1, 0, states - 2)?], 1)? + &skip)?;
        let stacked = Tensor::stack(&[&alpha, &from_one, &from_two], 2)?;
        alpha = (stacked.log_sum_exp(2)? + emissions.i((.., t, ..))?)?;
    }
    let ends = Tensor::from_vec(ends, (batch, 2), device)?;
    let likelihood = alpha.gather(&ends, 1)?.log_sum_exp(1)?;
    // A crop too narrow for its digits has no path: left out.
    let kept = feasible.iter().sum::<f32>().max(1.0);
    let feasible = Tensor::from_vec(feasible, batch, device)?;
    (likelihood * feasible)?.sum_all()?.neg()? / kept as f64
}

/// How a run is made.
#[derive(Debug, Clone)]
pub struct TrainSequenceOptions {
    pub seed: u64,
    /// Optimisation steps of [`BATCH`] counts.
    pub steps: usize,
    /// Weights to go on training from (a network trained before), instead
    /// of seeded random ones.
    pub from: Option<std::path::PathBuf>,
}

/// Weights drawn from a seeded normal (He's scale for ReLU layers), biases
/// zero: the same seed starts the same network.
fn initialise(varmap: &VarMap, seed: u64) -> CandleResult<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = varmap.data().lock().expect("the weights' lock");
    let mut names: Vec<&String> = data.keys().collect();
    names.sort();
    for name in names {
        let var = &data[name];
        let dims = var.dims().to_vec();
        let count: usize = dims.iter().product();
        let values: Vec<f32> = if name.ends_with(".bias") || name.ends_with(".running_mean") {
            vec![0.0; count]
        } else if name.ends_with(".running_var") || name.starts_with("norm") {
            vec![1.0; count]
        } else {
            let fan_in: usize = dims[1..].iter().product();
            // The output layer starts near zero: every column's outputs
            // near equally likely, so every count has a path at the start.
            let gain = if name.starts_with("out.") { OUTPUT_INIT_GAIN } else { 2.0 };
            let normal = Normal::new(0.0, (gain / fan_in as f32).sqrt()).expect("a finite deviation");
            (0..count).map(|_| normal.sample(&mut rng)).collect()
        };
        var.set(&Tensor::from_vec(values, dims, &Device::Cpu)?)?;
    }
    Ok(())
}

/// Sets `varmap`'s weights to those saved at `path`. A network saved with
/// fewer outputs (before the word for zero was one) keeps its outputs; the
/// new ones start near silent (small seeded weights, a low bias), so the
/// trained reading is where training goes on from.
fn load_trained(varmap: &VarMap, path: &Path, seed: u64) -> anyhow::Result<()> {
    let saved =
        candle_core::safetensors::load(path, &Device::Cpu).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let data = varmap.data().lock().expect("the weights' lock");
    for (name, var) in data.iter() {
        let old = saved.get(name).ok_or_else(|| anyhow::anyhow!("{}: no tensor {name}", path.display()))?;
        if old.dims() == var.dims() {
            var.set(old)?;
            continue;
        }
        let (outputs, saved_outputs) = (var.dims()[0], old.dims()[0]);
        anyhow::ensure!(
            name.starts_with("out.")
                && outputs == OUTPUTS
                && saved_outputs < outputs
                && old.dims()[1..] == var.dims()[1..],
            "{}: {name} is {:?}, the network's is {:?}",
            path.display(),
            old.dims(),
            var.dims()
        );
        let rest: usize = var.dims()[1..].iter().product();
        let added: Vec<f32> = if name.ends_with(".bias") {
            vec![NEW_OUTPUT_BIAS; (outputs - saved_outputs) * rest]
        } else {
            let normal = Normal::new(0.0, (OUTPUT_INIT_GAIN / rest as f32).sqrt()).expect("a finite deviation");
            (0..(outputs - saved_outputs) * rest).map(|_| normal.sample(&mut rng)).collect()
        };
        let mut shape = var.dims().to_vec();
        shape[0] = outputs - saved_outputs;
        let added = Tensor::from_vec(added, shape, &Device::Cpu)?;
        var.set(&Tensor::cat(&[old, &added], 0)?)?;
    }
    Ok(())
}

/// Trains the sequence network on counts composed from `training` (with
/// the trained faces); `log` hears the loss now and then. Returns its
/// weights.
pub fn train(training: &Mnist, options: &TrainSequenceOptions, mut log: impl FnMut(&str)) -> anyhow::Result<VarMap> {
    let device = Device::Cpu;
    let varmap = VarMap::new();
    let net = SequenceNet::new(VarBuilder::from_varmap(&varmap, DType::F32, &device))?;
    let start_rate = match &options.from {
        Some(path) => {
            load_trained(&varmap, path, options.seed)?;
            CONTINUED_LEARNING_RATE
        }
        None => {
            initialise(&varmap, options.seed)?;
            LEARNING_RATE
        }
    };
    let params = ParamsAdamW { lr: start_rate, weight_decay: 1e-4, ..Default::default() };
    let mut optimiser = AdamW::new(varmap.all_vars(), params)?;
    let writers = Writers::new(training, 0..training.len(), true);
    let started = std::time::Instant::now();
    let mut recent = 0.0f64;
    let mut largest_norm = 0.0f32;
    for step in 0..options.steps {
        let progress = step as f64 / options.steps as f64;
        optimiser.set_learning_rate(start_rate * (1.0 - 0.9 * progress));
        let batch = examples(&writers, options.seed.wrapping_mul(7_919).wrapping_add(step as u64), BATCH);
        let input = batch_tensor(&batch, &device)?;
        let log_probs = candle_nn::ops::log_softmax(&net.forward(&input, true)?, D::Minus1)?;
        let targets: Vec<Vec<u8>> = batch.iter().map(|e| e.digits.clone()).collect();
        let loss = ctc_loss(&log_probs, &targets)?;
        let mut gradients = loss.backward()?;
        let norm = clip_gradients(&mut gradients, &varmap.all_vars(), MAX_GRADIENT_NORM)?;
        largest_norm = largest_norm.max(norm);
        optimiser.step(&gradients)?;
        recent += loss.to_scalar::<f32>()? as f64;
        if (step + 1) % LOG_EVERY == 0 {
            log(&format!(
                "step {:>6}/{}  loss {:.4}  largest gradient {:.1}  {:.0} s",
                step + 1,
                options.steps,
                recent / LOG_EVERY as f64,
                largest_norm,
                started.elapsed().as_secs_f64()
            ));
            recent = 0.0;
            largest_norm = 0.0;
        }
    }
    Ok(varmap)
}

/// Scales the gradients down so their joint length is at most `limit`.
fn clip_gradients(
    gradients: &mut candle_core::backprop::GradStore,
    vars: &[candle_core::Var],
    limit: f32,
) -> CandleResult<f32> {
    let mut squares = 0.0f32;
    for var in vars {
        if let Some(g) = gradients.get(var) {
            squares += g.sqr()?.sum_all()?.to_scalar::<f32>()?;
        }
    }
    let norm = squares.sqrt();
    if norm > limit {
        for var in vars {
            if let Some(g) = gradients.get(var) {
                let scaled = (g * (limit / norm) as f64)?;
                gradients.insert(var, scaled);
            }
        }
    }
    Ok(norm)
}

/// Counts composed for measuring: from `set`'s digits in `range` (MNIST's
/// test digits 5000–9999, which nothing trains on), without faces.
pub fn measuring_counts(set: &Mnist, range: std::ops::Range<usize>, seed: u64, n: usize) -> Vec<(Vec<u8>, GrayImage)> {
    let writers = Writers::new(set, range, false);
    (0..n)
        .into_par_iter()
        .map(|i| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(15_485_863).wrapping_add(i as u64));
            let digits = random_count(&mut rng);
            let image = compose_count(&mut rng, &writers, &digits);
            (digits, image)
        })
        .collect()
}

/// Saves the weights as safetensors.
pub fn save(varmap: &VarMap, path: &Path) -> anyhow::Result<()> {
    varmap.save(path)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::digits::sequence::best_path;

    #[test]
    fn a_struck_through_cell_is_a_slanted_stroke_wider_than_a_written_one() {
        // A written «1» is at most about a third as wide as it is high; a
        // strike, turned and sheared by the hand, is never that narrow.
        for seed in 0..200 {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            let pen = hand::Pen::random_ballpoint(&mut rng);
            let stroke = crop_to_ink(&strike(&mut rng, 40.0, pen), |v| v < 160);
            let (w, h) = stroke.dimensions();
            assert!(w as f32 >= 0.45 * h as f32, "seed {seed}: a {w}×{h} stroke");
            assert!(w >= 12, "seed {seed}: a stroke across the cell, not a dot ({w}×{h})");
        }
    }

    #[test]
    fn ctc_loss_is_small_for_the_right_digits_and_large_for_others() {
        let device = Device::Cpu;
        // Five columns that say 4, blank, 4, 7, blank with near certainty.
        let sure = [4usize, BLANK, 4, 7, BLANK];
        let mut data = vec![(0.001f32).ln(); 5 * 11];
        for (t, &c) in sure.iter().enumerate() {
            data[t * 11 + c] = (0.99f32).ln();
        }
        let log_probs = Tensor::from_vec(data, (1, 5, 11), &device).unwrap();
        let right = ctc_loss(&log_probs, &[vec![4, 4, 7]]).unwrap().to_scalar::<f32>().unwrap();
        let merged = ctc_loss(&log_probs, &[vec![4, 7]]).unwrap().to_scalar::<f32>().unwrap();
        assert!(right < 0.2, "loss of the right digits {right}");
        assert!(merged > 5.0, "loss of digits the columns do not say {merged}");
    }

    /// Every path of `columns` outputs, collapsed, against the target: the
    /// definition CTC's recursion computes.
    fn brute_force_likelihood(probs: &[Vec<f32>], target: &str) -> f64 {
        let columns = probs.len();
        let mut total = 0.0f64;
        for path in 0..11usize.pow(columns as u32) {
            let mut rest = path;
            let mut p = 1.0f64;
            let mut outputs = Vec::new();
            for column in probs {
                let c = rest % 11;
                rest /= 11;
                p *= column[c] as f64;
                outputs.push(c);
            }
            let collapsed: Vec<Vec<f32>> =
                outputs.iter().map(|&c| (0..11).map(|k| if k == c { 1.0 } else { 0.0 }).collect()).collect();
            if best_path(&collapsed).digits == target {
                total += p;
            }
        }
        total
    }

    #[test]
    fn ctc_loss_is_the_sum_over_every_path() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let columns = 4;
        let probs: Vec<Vec<f32>> = (0..columns)
            .map(|_| {
                let raw: Vec<f32> = (0..11).map(|_| rng.gen_range(0.05..1.0f32)).collect();
                let sum: f32 = raw.iter().sum();
                raw.iter().map(|v| v / sum).collect()
            })
            .collect();
        let logs: Vec<f32> = probs.iter().flatten().map(|p| p.ln()).collect();
        let log_probs = Tensor::from_vec(logs, (1, columns, 11), &Device::Cpu).unwrap();
        for target in [vec![3u8], vec![3, 3], vec![1, 2, 1], vec![7, 0]] {
            let text: String = target.iter().map(|d| char::from(b'0' + d)).collect();
            let expected = -brute_force_likelihood(&probs, &text).ln();
            let loss = ctc_loss(&log_probs, &[target]).unwrap().to_scalar::<f32>().unwrap() as f64;
            assert!((loss - expected).abs() < 1e-3, "{text}: {loss} against {expected}");
        }
    }

    #[test]
    fn best_path_of_composed_columns() {
        let columns: Vec<Vec<f32>> =
            [3, 3, BLANK, 0].iter().map(|&c| (0..11).map(|k| if k == c { 0.9 } else { 0.01 }).collect()).collect();
        assert_eq!(best_path(&columns).digits, "30");
    }

    #[test]
    fn the_networks_gradient_is_the_slope_of_its_loss() {
        // Guards the layers against autograd pitfalls met here: a linear
        // layer over a transposed view, and max pooling's ties.
        let device = Device::Cpu;
        let varmap = VarMap::new();
        let net = SequenceNet::new(VarBuilder::from_varmap(&varmap, DType::F32, &device)).unwrap();
        initialise(&varmap, 2).unwrap();
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let width = 48;
        // Ink on the left, blank paper on the right (pooling's ties).
        let pixels: Vec<f32> = (0..2 * HEIGHT * width)
            .map(|i| if i % width < width / 2 { rng.gen_range(0.0..1.0f32) } else { 0.0 })
            .collect();
        let input = Tensor::from_vec(pixels, (2, 1, HEIGHT, width), &device).unwrap();
        let targets = vec![vec![4u8, 1], vec![9u8, 9, 0]];
        let loss_now = || {
            let log_probs = candle_nn::ops::log_softmax(&net.forward(&input, false).unwrap(), D::Minus1).unwrap();
            ctc_loss(&log_probs, &targets).unwrap()
        };
        let gradients = loss_now().backward().unwrap();
        let data = varmap.data().lock().unwrap().clone();
        for (name, var) in data.iter().filter(|(name, _)| name.ends_with(".weight")) {
            let gradient = gradients.get(var).unwrap().flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let weights = var.flatten_all().unwrap().to_vec1::<f32>().unwrap();
            let i = (0..gradient.len()).max_by(|&a, &b| gradient[a].abs().total_cmp(&gradient[b].abs())).unwrap();
            let loss_with = |delta: f32| {
                let mut moved = weights.clone();
                moved[i] += delta;
                var.set(&Tensor::from_vec(moved, var.dims(), &device).unwrap()).unwrap();
                loss_now().to_scalar::<f32>().unwrap()
            };
            let step = 1e-2;
            let slope = (loss_with(step) - loss_with(-step)) / (2.0 * step);
            var.set(&Tensor::from_vec(weights, var.dims(), &device).unwrap()).unwrap();
            let off = (slope - gradient[i]).abs() / gradient[i].abs().max(1e-3);
            assert!(off < 0.1, "{name}: gradient {} against slope {slope}", gradient[i]);
        }
    }

    #[test]
    fn the_committed_network_reads_counts_by_writers_it_never_saw() {
        let set = Mnist::bundled();
        let counts = measuring_counts(set, crate::digits::mnist::HELD_OUT, 11, 20);
        let right = counts
            .iter()
            .filter(|(digits, image)| {
                let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
                crate::digits::sequence::read_sequence(image).is_some_and(|r| r.digits == text)
            })
            .count();
        assert!(right >= 15, "{right} of 20 counts read right");
    }

    #[test]
    fn the_committed_network_reads_zero_as_a_word_in_print_it_never_saw_and_counts_between_dashes() {
        let set = Mnist::bundled();
        let writers = Writers::new(set, crate::digits::mnist::HELD_OUT, false);
        // Capitals written like print, in a face training never used.
        // (Handwriting faces it never saw it reads far worse: see
        // docs/reader.md.)
        let unseen = fonts::other_family().regular;
        let mut rng = ChaCha8Rng::seed_from_u64(13);
        let words = ["NIL", "Nil", "None", "NIL", "NONE", "nil"];
        let zeros = words
            .iter()
            .filter(|word| {
                let dashed = rng.gen_bool(0.5);
                let image = compose(&mut rng, &writers, &Written::ZeroWord(Some((&unseen, word))), dashed);
                crate::digits::sequence::read_sequence(&image).is_some_and(|r| r.written_zero())
            })
            .count();
        assert!(zeros >= 4, "{zeros} of {} words for zero read as zero", words.len());
        let mut right = 0;
        for _ in 0..20 {
            let digits = random_count(&mut rng);
            let image = compose(&mut rng, &writers, &Written::Digits(&digits), true);
            let text: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
            right += usize::from(crate::digits::sequence::read_sequence(&image).is_some_and(|r| r.digits == text));
        }
        assert!(right >= 15, "{right} of 20 counts between dashes read right");
    }
}
