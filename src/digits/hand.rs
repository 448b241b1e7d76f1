//! How another hand would write a digit: the distortions that turn one
//! written digit into a plausible other writer's (turned, slanted,
//! stretched, a thicker or thinner pen).
//!
//! Shared by `train-digits` (so the network meets many hands per MNIST
//! digit) and `synth --handwritten` (so the synthetic secretaries do not all
//! write alike), so both vary a hand within the same ranges. The two
//! trainings also share how a phone photographs written ink: in a pen's
//! shade on paper ([`on_paper`]), blurred and noisy ([`blurred_and_noisy`]).

use ab_glyph::{FontRef, PxScale};
use image::{GrayImage, Luma};
use imageproc::geometric_transformations::{warp, Border, Interpolation, Projection};
use imageproc::morphology::Mask;
use rand::Rng;
use rand_distr::{Distribution, Normal};

/// How a hand varies a digit: turn (degrees either way), slant (shear
/// either way) and stretch (each axis).
pub const HAND_TURN_DEG: f32 = 12.0;
pub const HAND_SHEAR: f32 = 0.3;
pub const HAND_STRETCH: (f32, f32) = (0.85, 1.15);
/// Paper added on every side before warping, so a turned digit keeps its ends.
const PAD: u32 = 4;
/// The pixel size handwriting faces are rendered at (then scaled as needed).
const FACE_RENDER_SIZE: f32 = 96.0;

/// `digit` in a handwriting face, dark on white, with paper around it.
pub fn face_digit(font: &FontRef, digit: u8) -> GrayImage {
    face_text(font, &char::from(b'0' + digit).to_string())
}

/// `text` in a face, dark on white, with paper around it.
pub fn face_text(font: &FontRef, text: &str) -> GrayImage {
    let size = FACE_RENDER_SIZE;
    let width = size * (0.4 + 0.8 * text.chars().count() as f32);
    let mut image = GrayImage::from_pixel(width as u32, (size * 1.5) as u32, Luma([255]));
    let (x, y) = ((size * 0.2) as i32, (size * 0.1) as i32);
    imageproc::drawing::draw_text_mut(&mut image, Luma([0]), x, y, PxScale::from(size), font, text);
    image
}

/// A pen's stroke against the digit's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pen {
    Thicker,
    Thinner,
    Same,
}

impl Pen {
    pub fn random(rng: &mut impl Rng) -> Pen {
        match rng.gen_range(0..3) {
            0 => Pen::Thicker,
            1 => Pen::Thinner,
            _ => Pen::Same,
        }
    }

    /// A ballpoint's: never thinner than MNIST's own strokes, which scaled
    /// to a cell are already a fine pen's line (thinner would be a hair).
    pub fn random_ballpoint(rng: &mut impl Rng) -> Pen {
        if rng.gen_bool(0.5) {
            Pen::Thicker
        } else {
            Pen::Same
        }
    }
}

/// `digit` (dark ink on white paper) as another hand would write it:
/// turned, slanted, stretched, with a thicker or thinner pen (`pen`, or
/// one drawn at random for each digit).
pub fn vary(rng: &mut impl Rng, digit: &GrayImage, pen: Option<Pen>) -> GrayImage {
    let pad = GrayImage::from_fn(digit.width() + 2 * PAD, digit.height() + 2 * PAD, |x, y| {
        let inside = x >= PAD && y >= PAD && x < digit.width() + PAD && y < digit.height() + PAD;
        if inside {
            *digit.get_pixel(x - PAD, y - PAD)
        } else {
            Luma([255])
        }
    });
    let angle = rng.gen_range(-HAND_TURN_DEG..HAND_TURN_DEG).to_radians();
    let shear = rng.gen_range(-HAND_SHEAR..HAND_SHEAR);
    let (sx, sy) = (rng.gen_range(HAND_STRETCH.0..HAND_STRETCH.1), rng.gen_range(HAND_STRETCH.0..HAND_STRETCH.1));
    let (c, s) = (angle.cos(), angle.sin());
    let (cx, cy) = (pad.width() as f32 / 2.0, pad.height() as f32 / 2.0);
    // Turn, then slant and stretch, about the centre.
    let (a, b, d, e) = (sx * c, sx * (shear * c - s), sy * s, sy * (shear * s + c));
    let matrix = [a, b, cx - a * cx - b * cy, d, e, cy - d * cx - e * cy, 0.0, 0.0, 1.0];
    let Some(projection) = Projection::from_matrix(matrix) else { return pad };
    let shaped = warp(&pad, projection, Interpolation::Bilinear, Border::Constant(Luma([255])));
    match pen.unwrap_or_else(|| Pen::random(rng)) {
        // Ink is dark: the minimum over a neighbourhood thickens strokes.
        Pen::Thicker => heavier(&shaped),
        Pen::Thinner => imageproc::morphology::grayscale_dilate(&shaped, &Mask::diamond(1)),
        Pen::Same => shaped,
    }
}

/// `image` (dark ink on white) bent as a hand bends strokes from one
/// writing to the next (Simard et al.'s elastic distortion): every pixel
/// moved by a random field smoothed over `smoothness` of the image's height,
/// by at most `strength` of its height. Paper comes in at the edges.
pub fn bent(rng: &mut impl Rng, image: &GrayImage, strength: f32, smoothness: f32) -> GrayImage {
    let (w, h) = image.dimensions();
    let field = |rng: &mut dyn rand::RngCore| {
        let noise = image::ImageBuffer::<Luma<f32>, Vec<f32>>::from_fn(w, h, |_, _| Luma([rng.gen_range(-1.0..1.0)]));
        let smooth = imageproc::filter::gaussian_blur_f32(&noise, (smoothness * h as f32).max(0.5));
        let largest = smooth.pixels().map(|p| p.0[0].abs()).fold(f32::EPSILON, f32::max);
        let scale = strength * h as f32 / largest;
        smooth.pixels().map(|p| p.0[0] * scale).collect::<Vec<f32>>()
    };
    let (dx, dy) = (field(rng), field(rng));
    let at = |x: i64, y: i64| -> f32 {
        if x < 0 || y < 0 || x >= w as i64 || y >= h as i64 {
            255.0
        } else {
            image.get_pixel(x as u32, y as u32).0[0] as f32
        }
    };
    GrayImage::from_fn(w, h, |x, y| {
        let i = (y * w + x) as usize;
        let (sx, sy) = (x as f32 + dx[i], y as f32 + dy[i]);
        let (x0, y0) = (sx.floor(), sy.floor());
        let (fx, fy) = (sx - x0, sy - y0);
        let (x0, y0) = (x0 as i64, y0 as i64);
        let top = at(x0, y0) * (1.0 - fx) + at(x0 + 1, y0) * fx;
        let bottom = at(x0, y0 + 1) * (1.0 - fx) + at(x0 + 1, y0 + 1) * fx;
        Luma([(top * (1.0 - fy) + bottom * fy).round() as u8])
    })
}

/// `image` (dark ink on white) written with a pen a pixel wider all round:
/// ink is dark, so the minimum over a neighbourhood widens its strokes.
pub fn heavier(image: &GrayImage) -> GrayImage {
    imageproc::morphology::grayscale_erode(image, &Mask::square(1))
}

/// `image` (dark ink on white) slanted by `shear` (x moves by `shear` × the
/// height above the middle), widened so nothing is cut off.
pub fn slanted(image: &GrayImage, shear: f32) -> GrayImage {
    let extra = (shear.abs() * image.height() as f32).ceil() as u32;
    if extra == 0 {
        return image.clone();
    }
    let mut wide = GrayImage::from_pixel(image.width() + extra, image.height(), Luma([255]));
    image::imageops::replace(&mut wide, image, (extra / 2) as i64, 0);
    let cy = wide.height() as f32 / 2.0;
    // Leaning right (shear > 0) moves the top right: x' = x − shear (y − cy).
    let matrix = [1.0, -shear, shear * cy, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0];
    match Projection::from_matrix(matrix) {
        Some(projection) => warp(&wide, projection, Interpolation::Bilinear, Border::Constant(Luma([255]))),
        None => wide,
    }
}

/// Share of written 7s the trainers cross (see [`crossed_seven`]): many
/// hands cross them, MNIST's writers seldom did.
pub const CROSSED_SEVEN_SHARE: f64 = 0.3;
/// Where a crossed seven's bar stands on its stem, against the ink's
/// height from the top (hands put it about half-way down), and how far it
/// reaches each way against the ink's width.
const CROSS_BAR_HEIGHT: (f32, f32) = (0.42, 0.62);
const CROSS_BAR_REACH: (f32, f32) = (0.2, 0.42);
/// How much the bar rises or falls over its length.
const CROSS_BAR_TILT: f32 = 0.12;
/// The thinnest bar drawn (pixels): a hair below it would not show.
const MIN_CROSS_BAR_STROKE: f32 = 1.5;

/// `seven` (an upright 7, dark ink on white) crossed as much of Europe,
/// Russia, Kazakhstan and West Africa write it: a short bar through the
/// stem about half-way down, in the stem's own stroke width. A picture
/// without ink where the bar would go comes back unchanged.
pub fn crossed_seven(rng: &mut impl Rng, seven: &GrayImage) -> GrayImage {
    let is_ink = |v: u8| v < 128;
    let ink: Vec<(u32, u32)> =
        seven.enumerate_pixels().filter(|(_, _, p)| is_ink(p.0[0])).map(|(x, y, _)| (x, y)).collect();
    let (Some(top), Some(bottom)) = (ink.iter().map(|p| p.1).min(), ink.iter().map(|p| p.1).max()) else {
        return seven.clone();
    };
    let (left, right) = (ink.iter().map(|p| p.0).min().unwrap_or(0), ink.iter().map(|p| p.0).max().unwrap_or(0));
    let height = (bottom - top + 1) as f32;
    let row = top + (height * rng.gen_range(CROSS_BAR_HEIGHT.0..CROSS_BAR_HEIGHT.1)) as u32;
    let on_row: Vec<u32> = ink.iter().filter(|p| p.1 == row).map(|p| p.0).collect();
    if on_row.is_empty() {
        return seven.clone();
    }
    // The stem's centre and width where the bar crosses it.
    let centre = on_row.iter().sum::<u32>() as f32 / on_row.len() as f32 + 0.5;
    let stroke = (on_row.len() as f32).min(height / 6.0).max(MIN_CROSS_BAR_STROKE);
    let width = (right - left + 1) as f32;
    let from = centre - width * rng.gen_range(CROSS_BAR_REACH.0..CROSS_BAR_REACH.1);
    let to = centre + width * rng.gen_range(CROSS_BAR_REACH.0..CROSS_BAR_REACH.1);
    let rise = (to - from) * rng.gen_range(-CROSS_BAR_TILT..CROSS_BAR_TILT);
    let (y0, y1) = (row as f32 + 0.5 + rise / 2.0, row as f32 + 0.5 - rise / 2.0);
    let mut crossed = seven.clone();
    for (x, y, p) in crossed.enumerate_pixels_mut() {
        let (px, py) = (x as f32 + 0.5, y as f32 + 0.5);
        let t = ((px - from) / (to - from)).clamp(0.0, 1.0);
        let (qx, qy) = (from + t * (to - from), y0 + t * (y1 - y0));
        let distance = ((px - qx).powi(2) + (py - qy).powi(2)).sqrt();
        let cover = (stroke / 2.0 + 0.5 - distance).clamp(0.0, 1.0);
        p.0[0] = p.0[0].min((255.0 * (1.0 - cover)) as u8);
    }
    crossed
}

/// The smallest part of `image` holding every pixel `is_ink` says is ink
/// (a 1×1 blank when there is none).
pub fn crop_to_ink(image: &GrayImage, is_ink: impl Fn(u8) -> bool) -> GrayImage {
    let (mut l, mut t, mut r, mut b) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in image.enumerate_pixels() {
        if is_ink(p.0[0]) {
            (l, t, r, b) = (l.min(x), t.min(y), r.max(x + 1), b.max(y + 1));
        }
    }
    if r <= l || b <= t {
        return GrayImage::new(1, 1);
    }
    image::imageops::crop_imm(image, l, t, r - l, b - t).to_image()
}

/// A written picture (dark on white) in ink of shade `ink` on paper of
/// shade `paper`: each pixel as much ink as it was dark.
pub fn on_paper(written: &GrayImage, paper: f32, ink: f32) -> GrayImage {
    GrayImage::from_fn(written.width(), written.height(), |x, y| {
        let cover = 1.0 - written.get_pixel(x, y).0[0] as f32 / 255.0;
        Luma([(paper - (paper - ink) * cover) as u8])
    })
}

/// `image` blurred by `sigma` and given sensor noise of a deviation drawn
/// up to `max_noise`.
pub fn blurred_and_noisy(rng: &mut impl Rng, image: &GrayImage, sigma: f32, max_noise: f32) -> GrayImage {
    let mut image = imageproc::filter::gaussian_blur_f32(image, sigma);
    let noise = Normal::new(0.0, rng.gen_range(0.0..max_noise)).expect("a finite deviation");
    for p in image.pixels_mut() {
        p.0[0] = (p.0[0] as f32 + noise.sample(rng)).clamp(0.0, 255.0) as u8;
    }
    image
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    #[test]
    fn a_crossed_seven_gains_a_bar_across_its_stem_and_nothing_above() {
        // A 7: a top bar and a stem going straight down from its right end.
        let mut seven = GrayImage::from_pixel(28, 28, Luma([255]));
        for x in 6..22 {
            for y in 4..7 {
                seven.put_pixel(x, y, Luma([0]));
            }
        }
        for y in 4..24 {
            for x in 13..16 {
                seven.put_pixel(x, y, Luma([0]));
            }
        }
        let crossed = crossed_seven(&mut ChaCha8Rng::seed_from_u64(3), &seven);
        let ink_in = |image: &GrayImage, rows: std::ops::Range<u32>, columns: std::ops::Range<u32>| {
            rows.flat_map(|y| columns.clone().map(move |x| (x, y)))
                .filter(|&(x, y)| image.get_pixel(x, y).0[0] < 128)
                .count()
        };
        // Beside the stem, half-way down: paper before, ink after.
        assert_eq!(ink_in(&seven, 12..18, 8..12), 0);
        assert!(ink_in(&crossed, 12..18, 8..12) >= 4, "no bar left of the stem");
        assert!(ink_in(&crossed, 12..18, 16..20) >= 4, "no bar right of the stem");
        // The top bar and the foot of the stem are as they were.
        assert_eq!(ink_in(&crossed, 0..10, 0..28), ink_in(&seven, 0..10, 0..28));
        assert_eq!(ink_in(&crossed, 20..28, 0..28), ink_in(&seven, 20..28, 0..28));
        // A 7 six pixels high is crossed too, the bar no thinner than a hair.
        let mut tiny = GrayImage::from_pixel(8, 8, Luma([255]));
        (1..6).for_each(|x| tiny.put_pixel(x, 1, Luma([0])));
        (1..7).for_each(|y| tiny.put_pixel(5, y, Luma([0])));
        let crossed_tiny = crossed_seven(&mut ChaCha8Rng::seed_from_u64(3), &tiny);
        assert!(ink_in(&crossed_tiny, 0..8, 0..5) > ink_in(&tiny, 0..8, 0..5), "no bar on the small 7");
        // Nothing to cross on a blank.
        let blank = GrayImage::from_pixel(10, 10, Luma([255]));
        assert_eq!(crossed_seven(&mut ChaCha8Rng::seed_from_u64(3), &blank), blank);
    }

    #[test]
    fn a_bent_stroke_moves_but_keeps_about_its_ink() {
        // A vertical bar, 4 pixels wide, in a 28-pixel square.
        let bar = GrayImage::from_fn(28, 28, |x, y| {
            Luma([if (12..16).contains(&x) && (4..24).contains(&y) { 0 } else { 255 }])
        });
        let ink = |g: &GrayImage| g.pixels().map(|p| 255 - p.0[0] as u32).sum::<u32>() as f32;
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let bent = bent(&mut rng, &bar, 0.08, 0.14);
        assert_ne!(bent, bar, "a bend moves pixels");
        assert!((ink(&bent) / ink(&bar) - 1.0).abs() < 0.2, "ink {} against {}", ink(&bent), ink(&bar));
        // Ink stays near the bar: within the bend's 0.08 × 28 ≈ 2.2 pixels.
        let far = bent.enumerate_pixels().filter(|(x, _, p)| p.0[0] < 128 && !(9..19).contains(x)).count();
        assert_eq!(far, 0);
        assert_eq!(super::bent(&mut ChaCha8Rng::seed_from_u64(1), &bar, 0.08, 0.14), bent, "a seed bends alike");
    }
}
