//! The commission secretary's pen: counts and the station number written
//! by hand into the printed form's empty cells, for `synth --handwritten`.
//!
//! Real protocols are often a printed form filled in with a pen. Each
//! handwritten protocol gets one writer: either real handwriting (MNIST
//! digits, a different person's digit for every stroke, each varied
//! further by [`digits::hand::vary`]) or one of the bundled handwriting
//! faces, itself varied per digit. Writers differ as people do, so a reader
//! cannot learn one way of drawing: how their digits are scaled and inked,
//! the pen (ballpoint, gel, felt-tip; blue, black or violet; faint or
//! firm), size, slant, spacing, how often digits touch or overlap, how far
//! the baseline wanders, where in the cell they write, and how often their
//! digits run into the cell's rules. The ink lies on a layer of its own,
//! which the photo blends in the pen's colour.

use image::{imageops, GrayImage, Luma};
use rand::Rng;

use crate::digits::{self, mnist};
use crate::fonts::HandFace;

/// Where a count (or the station number) is to be written: the free area of
/// its cell, inside any border, in page pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct Spot {
    pub rect: [u32; 4],
    pub text: String,
    /// The height a printed digit would have here (the form's digit size),
    /// which the hand's own size varies around.
    pub nominal_height: f32,
    /// Written flush right (a table's value column) rather than centred.
    pub right_aligned: bool,
}

/// Pens' ink colours (linear RGB as the photo blends them), with the share
/// of writers using each: ballpoints in blue and black, violet gel ink.
const INKS: [(&str, [f32; 3], f64); 3] =
    [("blue", [34.0, 52.0, 150.0], 0.55), ("black", [26.0, 26.0, 34.0], 0.35), ("violet", [86.0, 40.0, 130.0], 0.1)];
/// Share of writers whose digits are real handwriting (MNIST) rather than
/// a handwriting face.
const MNIST_WRITER_SHARE: f64 = 0.6;
/// A writer's digit height against the form's digit size: small, careful
/// digits to ones that fill the cell.
const HEIGHT_OF_NOMINAL: (f32, f32) = (0.6, 1.25);
/// Never taller than this share of the free cell height.
const MAX_HEIGHT_OF_CELL: f32 = 0.92;
/// A writer's usual gap between two digits, as a share of their height.
const GAP_OF_HEIGHT: (f32, f32) = (0.05, 0.5);
/// How often a writer's neighbouring digits touch or overlap: some never,
/// some every third pair.
const TOUCHING_SHARE: (f64, f64) = (0.0, 0.35);
/// The gap of touching digits, as a share of their height (negative: the
/// strokes overlap).
const TOUCHING_GAP_OF_HEIGHT: (f32, f32) = (-0.12, 0.0);
/// How often a writer's count runs into the cell's bottom (or top) rule.
const TOUCH_BORDER_SHARE: (f64, f64) = (0.0, 0.3);
/// How far a writer's digits' baselines wander, as a share of their height.
const BASELINE_WANDER: (f32, f32) = (0.02, 0.12);
/// A writer's own slant (shear of the whole count), either way, on top of
/// each digit's own.
const WRITER_SLANT: f32 = 0.25;
/// How firmly the pen lays its ink: the coverage gain after scaling, so a
/// stroke's core is solid ink (firm) or a faint ballpoint's pale line.
const STROKE_GAIN: (f32, f32) = (0.75, 1.5);
/// Share of writers with a felt-tip pen: a line a pixel wider all round
/// than the heavier ballpoint's.
const FELT_TIP_SHARE: f64 = 0.12;
/// MNIST digits are drawn at this many times their 28 pixels before the
/// writer's pen varies them. Their strokes are already about a fifth of
/// the digit's height; a heavier pen at their own size (a pixel more on
/// each side) made that a third, a marker's line that fills the loops of
/// 0, 6, 8 and 9, where the handwriting faces' heavier pens stay at a
/// quarter. At twice the size the heavier pen adds half as much.
const MNIST_PEN_SCALE: u32 = 2;
/// Coverage above which a pixel of a written digit counts as ink when its
/// box is found.
const INK_COVERAGE: u8 = 40;

/// Which MNIST digits real-handwriting writers draw from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum HandDigits {
    /// The digits the glyph reader may be trained on (t10k 0–4999).
    #[default]
    Trainable,
    /// The digits no reader is ever trained on (t10k 5000–9999): for
    /// measuring a reader on writers it never saw.
    HeldOut,
}

impl HandDigits {
    fn range(self) -> std::ops::Range<usize> {
        match self {
            HandDigits::Trainable => mnist::TRAIN,
            HandDigits::HeldOut => mnist::HELD_OUT,
        }
    }
}

/// Where in a cell a writer puts a count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// As the form asks: flush right in a table's value column, centred in
    /// a box.
    AsAsked,
    /// Left in the cell, wherever the form would have it.
    Left,
    /// Centred in the cell.
    Centred,
}

/// One writer: the source of their digits, their pen and their habits.
pub struct Writer {
    /// `None` for real handwriting (MNIST), else the index of a hand face.
    face: Option<usize>,
    /// Their overall size against the form's digit size.
    size: f32,
    gap: f32,
    /// Their pen's stroke against the source digits' (one pen per protocol).
    pen: digits::hand::Pen,
    /// A felt-tip: every stroke a pixel wider still.
    felt_tip: bool,
    /// How firmly the pen lays ink (see [`STROKE_GAIN`]).
    stroke_gain: f32,
    /// How an MNIST digit is scaled up to the pen's size.
    scaling: imageops::FilterType,
    /// How often two neighbouring digits touch or overlap.
    touching: f64,
    /// How often a count runs into the cell's top or bottom rule.
    touch_border: f64,
    /// How far each digit's baseline wanders, against the height.
    baseline_wander: f32,
    /// The writer's own slant (shear), added to each digit's.
    slant: f32,
    /// Where in a cell they write a count.
    placement: Placement,
    /// Which MNIST digits a real-handwriting writer draws from.
    digits: HandDigits,
    pub ink: [f32; 3],
    pub description: String,
}

impl Writer {
    /// A random writer; one who writes real handwriting draws from `digits`.
    pub fn random(rng: &mut impl Rng, faces: &[HandFace], digits: HandDigits) -> Writer {
        let face = (!rng.gen_bool(MNIST_WRITER_SHARE)).then(|| rng.gen_range(0..faces.len()));
        let mut pick: f64 = rng.gen();
        let (ink_name, ink, _) = *INKS
            .iter()
            .find(|(_, _, share)| {
                pick -= share;
                pick < 0.0
            })
            .unwrap_or(&INKS[0]);
        let ink = ink.map(|c| c * rng.gen_range(0.8..1.15));
        let source = face.map_or("MNIST".to_string(), |f| faces[f].name.to_string());
        let size = rng.gen_range(HEIGHT_OF_NOMINAL.0..HEIGHT_OF_NOMINAL.1);
        let gap = rng.gen_range(GAP_OF_HEIGHT.0..GAP_OF_HEIGHT.1);
        let pen = digits::hand::Pen::random_ballpoint(rng);
        let felt_tip = rng.gen_bool(FELT_TIP_SHARE);
        let stroke = match (felt_tip, pen) {
            (true, _) => "felt-tip",
            (false, digits::hand::Pen::Thicker) => "heavier pen",
            (false, digits::hand::Pen::Thinner) => "finer pen",
            (false, digits::hand::Pen::Same) => "the source's stroke",
        };
        let stroke_gain = rng.gen_range(STROKE_GAIN.0..STROKE_GAIN.1);
        let scaling = [imageops::FilterType::Triangle, imageops::FilterType::CatmullRom, imageops::FilterType::Nearest]
            [rng.gen_range(0..3)];
        let placement =
            [Placement::AsAsked, Placement::AsAsked, Placement::Left, Placement::Centred][rng.gen_range(0..4)];
        let touching = rng.gen_range(TOUCHING_SHARE.0..TOUCHING_SHARE.1);
        let touch_border = rng.gen_range(TOUCH_BORDER_SHARE.0..TOUCH_BORDER_SHARE.1);
        let baseline_wander = rng.gen_range(BASELINE_WANDER.0..BASELINE_WANDER.1);
        let slant = rng.gen_range(-WRITER_SLANT..WRITER_SLANT);
        let description = format!(
            "{source}, {ink_name} ink, {stroke}{}, size {size:.2}, slant {slant:+.2}, touching {touching:.2}",
            if stroke_gain < 1.0 { ", faint" } else { "" },
        );
        Writer {
            face,
            size,
            gap,
            pen,
            felt_tip,
            stroke_gain,
            scaling,
            touching,
            touch_border,
            baseline_wander,
            slant,
            placement,
            ink,
            digits,
            description,
        }
    }

    /// One digit as this writer writes it: ink coverage (0 paper, 255 full
    /// ink), cropped to its ink.
    fn digit(&self, rng: &mut impl Rng, faces: &[HandFace], digit: u8) -> GrayImage {
        let written = match self.face {
            None => {
                let choices = digits_of(digit, self.digits);
                let index = choices[rng.gen_range(0..choices.len())];
                mnist_digit(rng, index, self.pen, self.scaling)
            }
            Some(f) => digits::hand::vary(rng, &digits::hand::face_digit(&faces[f].font, digit), Some(self.pen)),
        };
        let mut written = digits::hand::slanted(&written, self.slant);
        if self.felt_tip {
            written = digits::hand::heavier(&written);
        }
        let coverage =
            GrayImage::from_fn(written.width(), written.height(), |x, y| Luma([255 - written.get_pixel(x, y).0[0]]));
        digits::hand::crop_to_ink(&coverage, |c| c > INK_COVERAGE)
    }
}

/// MNIST digit `index` as a writer with `pen` writes it (dark ink on white),
/// drawn at [`MNIST_PEN_SCALE`] times its size by `scaling`.
fn mnist_digit(rng: &mut impl Rng, index: usize, pen: digits::hand::Pen, scaling: imageops::FilterType) -> GrayImage {
    let source = mnist::Mnist::bundled().as_print(index);
    let (w, h) = (source.width() * MNIST_PEN_SCALE, source.height() * MNIST_PEN_SCALE);
    let source = imageops::resize(&source, w, h, scaling);
    digits::hand::vary(rng, &source, Some(pen))
}

/// The MNIST digits of one label that may be drawn from `which` half.
fn digits_of(digit: u8, which: HandDigits) -> &'static [usize] {
    type ByLabel = std::sync::OnceLock<Vec<Vec<usize>>>;
    static TRAINABLE: ByLabel = ByLabel::new();
    static HELD_OUT: ByLabel = ByLabel::new();
    let cache = if which == HandDigits::Trainable { &TRAINABLE } else { &HELD_OUT };
    &cache.get_or_init(|| {
        let set = mnist::Mnist::bundled();
        (0..10).map(|d| set.indices_of(d, which.range())).collect()
    })[digit as usize]
}

/// Writes `spot.text` into the pen layer (coverage per page pixel).
pub fn write(rng: &mut impl Rng, layer: &mut GrayImage, writer: &Writer, faces: &[HandFace], spot: &Spot) {
    let [l, t, r, b] = spot.rect;
    let (cell_w, cell_h) = ((r - l) as f32, (b - t) as f32);
    let mut height = (spot.nominal_height * writer.size * rng.gen_range(0.92..1.08)).min(cell_h * MAX_HEIGHT_OF_CELL);
    let glyphs: Vec<GrayImage> =
        spot.text.bytes().filter(u8::is_ascii_digit).map(|d| writer.digit(rng, faces, d - b'0')).collect();
    if glyphs.is_empty() {
        return;
    }
    // Each digit scaled to the writer's height (a little more or less each
    // time), its own width following its shape.
    let scaled_width = |g: &GrayImage, h: f32| g.width() as f32 * h / g.height().max(1) as f32;
    let gaps: Vec<f32> = (0..glyphs.len())
        .map(|_| {
            if rng.gen_bool(writer.touching) {
                rng.gen_range(TOUCHING_GAP_OF_HEIGHT.0..TOUCHING_GAP_OF_HEIGHT.1)
            } else {
                writer.gap * rng.gen_range(0.7..1.3)
            }
        })
        .collect();
    let total = |h: f32| -> f32 {
        glyphs.iter().map(|g| scaled_width(g, h)).sum::<f32>() + gaps[1..].iter().map(|g| g * h).sum::<f32>()
    };
    // A long count in a narrow cell is written smaller.
    while total(height) > cell_w * 0.92 && height > 8.0 {
        height *= 0.92;
    }
    let width = total(height);
    let slack = (cell_w - width).max(0.0);
    let mut x = match writer.placement {
        Placement::AsAsked if spot.right_aligned => {
            l as f32 + slack - rng.gen_range(0.02..0.15) * slack.min(cell_w * 0.5)
        }
        Placement::Left => l as f32 + rng.gen_range(0.0..0.15) * slack.min(cell_w * 0.5),
        Placement::AsAsked | Placement::Centred => l as f32 + slack * rng.gen_range(0.3..0.7),
    };
    let top = if rng.gen_bool(writer.touch_border) {
        if rng.gen_bool(0.7) {
            // Written low: the digits' feet reach into the cell's bottom border.
            b as f32 - height + rng.gen_range(1.0..4.0)
        } else {
            // Written high: their heads reach into the top border.
            t as f32 - rng.gen_range(1.0..4.0)
        }
    } else {
        t as f32 + (cell_h - height) * rng.gen_range(0.3..0.7)
    };
    for (i, glyph) in glyphs.iter().enumerate() {
        if i > 0 {
            x += gaps[i] * height;
        }
        let h = height * rng.gen_range(0.94..1.06);
        let w = scaled_width(glyph, h).max(2.0);
        let mut small =
            imageops::resize(glyph, w.round() as u32, h.round().max(2.0) as u32, imageops::FilterType::Triangle);
        // A firm pen lays full ink in its stroke's core, however thin the
        // stroke came out of scaling; a faint one never does.
        let strongest = small.pixels().map(|p| p.0[0]).max().unwrap_or(0).max(1) as f32;
        for p in small.pixels_mut() {
            p.0[0] = (p.0[0] as f32 * 255.0 / strongest * writer.stroke_gain).min(255.0) as u8;
        }
        let wander = writer.baseline_wander;
        let y = top + (height - h) / 2.0 + rng.gen_range(-wander..wander) * height;
        let (ox, oy) = (x.round().max(0.0) as u32, y.round().max(0.0) as u32);
        for (gx, gy, p) in small.enumerate_pixels() {
            let (px, py) = (ox + gx, oy + gy);
            if px < layer.width() && py < layer.height() {
                let o = layer.get_pixel_mut(px, py);
                o.0[0] = o.0[0].max(p.0[0]);
            }
        }
        x += w;
    }
}

/// A pen layer for a page of `width` × `height` with every spot written by
/// one writer.
pub fn write_all(
    rng: &mut impl Rng,
    width: u32,
    height: u32,
    writer: &Writer,
    spots: &[Spot],
    faces: &[HandFace],
) -> GrayImage {
    let mut layer = GrayImage::new(width, height);
    for spot in spots {
        write(rng, &mut layer, writer, faces, spot);
    }
    layer
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn a_heavier_pen_writes_a_ballpoints_line_not_a_markers() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let writer = Writer {
            face: None,
            size: 0.9,
            gap: 0.2,
            pen: digits::hand::Pen::Thicker,
            felt_tip: false,
            stroke_gain: 1.3,
            scaling: imageops::FilterType::Triangle,
            touching: 0.0,
            touch_border: 0.0,
            baseline_wander: 0.06,
            slant: 0.0,
            placement: Placement::AsAsked,
            digits: HandDigits::Trainable,
            ink: INKS[0].1,
            description: String::new(),
        };
        let spot = Spot { rect: [0, 0, 120, 60], text: "0".into(), nominal_height: 30.0, right_aligned: false };
        // The width of a written 0's sides, against its height: drawn at
        // MNIST's own size the heavier pen's line was 0.27 (a tenth of the
        // zeros 0.40, a blot: a marker's line), at twice it 0.21 (0.29).
        let mut widths: Vec<f32> = (0..200)
            .map(|_| {
                let layer = write_all(&mut rng, 120, 60, &writer, std::slice::from_ref(&spot), &[]);
                let zero = digits::hand::crop_to_ink(&layer, |c| c > INK_COVERAGE);
                // The middle row: the 0's two sides, or one blot.
                let y = zero.height() / 2;
                let inked = (0..zero.width()).filter(|&x| zero.get_pixel(x, y).0[0] > 128).count();
                let runs = (0..zero.width())
                    .filter(|&x| zero.get_pixel(x, y).0[0] > 128 && (x == 0 || zero.get_pixel(x - 1, y).0[0] <= 128))
                    .count()
                    .max(1);
                inked as f32 / runs as f32 / zero.height() as f32
            })
            .collect();
        widths.sort_by(f32::total_cmp);
        let median = widths[widths.len() / 2];
        let heaviest_tenth = widths[widths.len() * 9 / 10];
        assert!(median <= 0.24, "a heavier pen's line is {median} of a zero's height");
        assert!(heaviest_tenth <= 0.33, "a tenth of the zeros' lines are {heaviest_tenth} of their height or more");
    }
}
