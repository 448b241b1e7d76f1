//! The commission secretary's pen: counts and the station number written
//! by hand into the printed form's empty cells, for `synth --handwritten`.
//!
//! Real protocols are often a printed form filled in with a pen. Each
//! handwritten protocol gets one writer: either real handwriting (MNIST
//! digits 0–4999, a different person's digit for every stroke, each varied
//! further by [`digits::hand::vary`]) or one of the bundled handwriting
//! faces, itself varied per digit. The digits vary in size, slant, stroke
//! width and position within the cell, sometimes touch the cell's border,
//! and are written in blue or black ink on a layer of their own, which the
//! photo blends in the pen's colour.

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

/// A ballpoint pen's ink colours (linear RGB as the photo blends them).
const BLACK_INK: [f32; 3] = [26.0, 26.0, 34.0];
const BLUE_INK: [f32; 3] = [34.0, 52.0, 150.0];
/// Share of handwritten protocols filled in blue ink (the rest black).
const BLUE_SHARE: f64 = 0.6;
/// Share of writers whose digits are real handwriting (MNIST) rather than
/// a handwriting face.
const MNIST_WRITER_SHARE: f64 = 0.6;
/// A written digit's height against the form's digit size.
const HEIGHT_OF_NOMINAL: (f32, f32) = (0.7, 1.1);
/// Never taller than this share of the free cell height.
const MAX_HEIGHT_OF_CELL: f32 = 0.9;
/// The gap between two digits, as a share of their height; now and then a
/// writer's digits touch.
const GAP_OF_HEIGHT: (f32, f32) = (0.12, 0.4);
const TOUCHING_SHARE: f64 = 0.08;
/// Share of counts written low enough to touch the cell's bottom border.
const TOUCH_BORDER_SHARE: f64 = 0.12;
/// How far a digit's baseline wanders, as a share of its height.
const BASELINE_WANDER: f32 = 0.06;
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
/// Coverage gain after scaling, so a stroke's core is solid ink and only its
/// rim is soft (a ballpoint's line, not a pencil's).
const STROKE_CORE_GAIN: f32 = 1.3;

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

/// One writer: the source of their digits and their ink.
pub struct Writer {
    /// `None` for real handwriting (MNIST), else the index of a hand face.
    face: Option<usize>,
    /// Their overall size against the form's digit size.
    size: f32,
    gap: f32,
    /// Their pen's stroke against the source digits' (one pen per protocol).
    pen: digits::hand::Pen,
    /// Which MNIST digits a real-handwriting writer draws from.
    digits: HandDigits,
    pub ink: [f32; 3],
    pub description: String,
}

impl Writer {
    /// A random writer; one who writes real handwriting draws from `digits`.
    pub fn random(rng: &mut impl Rng, faces: &[HandFace], digits: HandDigits) -> Writer {
        let face = (!rng.gen_bool(MNIST_WRITER_SHARE)).then(|| rng.gen_range(0..faces.len()));
        let blue = rng.gen_bool(BLUE_SHARE);
        let ink = if blue { BLUE_INK } else { BLACK_INK }.map(|c| c * rng.gen_range(0.8..1.15));
        let source = face.map_or("MNIST".to_string(), |f| faces[f].name.to_string());
        // Drawn in the order they always were (size, spacing, pen), so a
        // seed writes the same protocols.
        let size = rng.gen_range(HEIGHT_OF_NOMINAL.0..HEIGHT_OF_NOMINAL.1);
        let gap = rng.gen_range(GAP_OF_HEIGHT.0..GAP_OF_HEIGHT.1);
        let pen = digits::hand::Pen::random_ballpoint(rng);
        let stroke = match pen {
            digits::hand::Pen::Thicker => "heavier pen",
            digits::hand::Pen::Thinner => "finer pen",
            digits::hand::Pen::Same => "the source's stroke",
        };
        Writer {
            face,
            size,
            gap,
            ink,
            pen,
            digits,
            description: format!("{source}, {} ink, {stroke}", if blue { "blue" } else { "black" }),
        }
    }

    /// One digit as this writer writes it: ink coverage (0 paper, 255 full
    /// ink), cropped to its ink.
    fn digit(&self, rng: &mut impl Rng, faces: &[HandFace], digit: u8) -> GrayImage {
        let written = match self.face {
            None => {
                let choices = digits_of(digit, self.digits);
                let index = choices[rng.gen_range(0..choices.len())];
                mnist_digit(rng, index, self.pen)
            }
            Some(f) => digits::hand::vary(rng, &digits::hand::face_digit(&faces[f].font, digit), Some(self.pen)),
        };
        let coverage =
            GrayImage::from_fn(written.width(), written.height(), |x, y| Luma([255 - written.get_pixel(x, y).0[0]]));
        digits::hand::crop_to_ink(&coverage, |c| c > INK_COVERAGE)
    }
}

/// MNIST digit `index` as a writer with `pen` writes it (dark ink on white),
/// drawn at [`MNIST_PEN_SCALE`] times its size.
fn mnist_digit(rng: &mut impl Rng, index: usize, pen: digits::hand::Pen) -> GrayImage {
    let source = mnist::Mnist::bundled().as_print(index);
    let (w, h) = (source.width() * MNIST_PEN_SCALE, source.height() * MNIST_PEN_SCALE);
    let source = imageops::resize(&source, w, h, imageops::FilterType::Triangle);
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
        .map(|_| if rng.gen_bool(TOUCHING_SHARE) { -0.04 } else { writer.gap * rng.gen_range(0.7..1.3) })
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
    let mut x = if spot.right_aligned {
        l as f32 + slack - rng.gen_range(0.02..0.15) * slack.min(cell_w * 0.5)
    } else {
        l as f32 + slack * rng.gen_range(0.3..0.7)
    };
    let touch_border = rng.gen_bool(TOUCH_BORDER_SHARE);
    let top = if touch_border {
        // Written low: the digits' feet reach into the cell's bottom border.
        b as f32 - height + rng.gen_range(1.0..4.0)
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
        // A pen lays full ink in its stroke's core, however thin the stroke
        // came out of scaling.
        let strongest = small.pixels().map(|p| p.0[0]).max().unwrap_or(0).max(1) as f32;
        for p in small.pixels_mut() {
            p.0[0] = (p.0[0] as f32 * 255.0 / strongest * STROKE_CORE_GAIN).min(255.0) as u8;
        }
        let y = top + (height - h) / 2.0 + rng.gen_range(-BASELINE_WANDER..BASELINE_WANDER) * height;
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
            digits: HandDigits::Trainable,
            ink: BLUE_INK,
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
