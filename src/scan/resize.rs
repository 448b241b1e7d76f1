//! Grey images scaled, pixel for pixel as `image::imageops::resize` scales
//! them, but in one channel and row by row.
//!
//! `image`'s resize works through four float channels, column by column,
//! and rounds each pixel with the C library's `round`: for a grey page that
//! was a ninth of a scan's time (the paper's brightness scaled up to the
//! page), a tenth of finding the page (the photo scaled down), and about a
//! twentieth in the small crops scaled up for Tesseract. The same weights,
//! summed in the same order, give the same pixels (the tests compare them).
//! The rounding it does without `round` serves the rule search too.

use image::GrayImage;

/// The resampling filters the reader uses, as `image` defines them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Linear: `image`'s `FilterType::Triangle`.
    Triangle,
    /// The Catmull-Rom cubic: `image`'s `FilterType::CatmullRom`.
    CatmullRom,
}

impl Filter {
    /// How far the filter reaches, in input samples at scale 1.
    fn support(self) -> f32 {
        match self {
            Filter::Triangle => 1.0,
            Filter::CatmullRom => 2.0,
        }
    }

    /// The filter's weight at `x` samples from the centre (`image`'s
    /// kernels, the same arithmetic).
    fn weight(self, x: f32) -> f32 {
        match self {
            Filter::Triangle => {
                if x.abs() < 1.0 {
                    1.0 - x.abs()
                } else {
                    0.0
                }
            }
            Filter::CatmullRom => bc_cubic_spline(x, 0.0, 0.5),
        }
    }
}

/// Mitchell and Netravali's cubic with parameters `b` and `c`, as `image`
/// computes it.
fn bc_cubic_spline(x: f32, b: f32, c: f32) -> f32 {
    let a = x.abs();
    let k = if a < 1.0 {
        (12.0 - 9.0 * b - 6.0 * c) * a.powi(3) + (-18.0 + 12.0 * b + 6.0 * c) * a.powi(2) + (6.0 - 2.0 * b)
    } else if a < 2.0 {
        (-b - 6.0 * c) * a.powi(3)
            + (6.0 * b + 30.0 * c) * a.powi(2)
            + (-12.0 * b - 48.0 * c) * a
            + (8.0 * b + 24.0 * c)
    } else {
        0.0
    };
    k / 6.0
}

/// The weights of `filter` resampling `from` samples to `to`, as `image`'s
/// `resize` computes them: for each output sample, the first input sample
/// it reads and the weight of each.
fn taps(filter: Filter, from: u32, to: u32) -> Vec<(usize, Vec<f32>)> {
    let ratio = from as f32 / to as f32;
    let scale = ratio.max(1.0);
    let support = filter.support() * scale;
    (0..to)
        .map(|out| {
            let centre = (out as f32 + 0.5) * ratio;
            let first = ((centre - support).floor() as i64).clamp(0, from as i64 - 1);
            let end = ((centre + support).ceil() as i64).clamp(first + 1, from as i64);
            let centre = centre - 0.5;
            let mut weights: Vec<f32> = (first..end).map(|i| filter.weight((i as f32 - centre) / scale)).collect();
            let sum: f32 = weights.iter().sum();
            weights.iter_mut().for_each(|w| *w /= sum);
            (first as usize, weights)
        })
        .collect()
}

/// `image` scaled to `width × height` with `filter`: pixel for pixel what
/// `image::imageops::resize` with the same filter makes.
pub fn gray(image: &GrayImage, width: u32, height: u32, filter: Filter) -> GrayImage {
    let (image_width, image_height) = image.dimensions();
    if image_width == 0 || image_height == 0 {
        return GrayImage::new(width, height);
    }
    if (width, height) == (image_width, image_height) {
        return image.clone();
    }
    let columns = image_width as usize;
    // Down the page first, into floats, as `resize` does: each output row
    // the weighted sum of its input rows, added in the same order.
    let mut tall = vec![0f32; columns * height as usize];
    for (y, (first, weights)) in taps(filter, image_height, height).into_iter().enumerate() {
        let row = &mut tall[y * columns..(y + 1) * columns];
        for (i, w) in weights.iter().enumerate() {
            let input = &image.as_raw()[(first + i) * columns..(first + i + 1) * columns];
            for (sum, &value) in row.iter_mut().zip(input) {
                *sum += value as f32 * w;
            }
        }
    }
    let across = taps(filter, image_width, width);
    let mut out = GrayImage::new(width, height);
    for (row_out, row_in) in out.chunks_exact_mut(width as usize).zip(tall.chunks_exact(columns)) {
        for (value, (first, weights)) in row_out.iter_mut().zip(&across) {
            let mut sum = 0.0;
            for (i, w) in weights.iter().enumerate() {
                sum += row_in[first + i] * w;
            }
            *value = round_level(sum.clamp(0.0, 255.0));
        }
    }
    out
}

/// `level.round() as u8` for a level in 0–255, without a branch: half
/// added in double precision (exact there), then cut. A branch on the
/// remainder goes either way at random over a page's pixels, and its
/// mispredictions were a fiftieth of a scan's time.
pub fn round_level(level: f32) -> u8 {
    (f64::from(level) + 0.5) as u8
}

/// `value.round()` (halves away from zero) for values of a page's size,
/// under 2^23, without the C library call `round` compiles to on the
/// baseline x86-64 target, and without a branch: the magnitude plus a half
/// in double precision (exact there), cut, and the sign put back.
pub fn round_half_away(value: f32) -> f32 {
    let magnitude = (f64::from(value.abs()) + 0.5) as i64 as f32;
    magnitude.copysign(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::imageops::{resize, FilterType};
    use image::Luma;

    #[test]
    fn grey_resizing_is_images_resize_pixel_for_pixel_up_and_down() {
        let small = GrayImage::from_fn(69, 98, |x, y| Luma([((x * 37 + y * 91 + x * y * 7) % 251) as u8]));
        // A photo reduced about eightfold, as the page is searched in.
        let photo = GrayImage::from_fn(700, 520, |x, y| Luma([((x * 13 + y * 7 + (x * y) % 89) % 256) as u8]));
        let cases = [(&small, 1654, 2339), (&small, 1000, 333), (&small, 69, 98), (&small, 50, 40), (&small, 110, 157)];
        for (image, w, h) in cases.into_iter().chain([(&photo, 90, 67)]) {
            for (ours, theirs) in
                [(Filter::Triangle, FilterType::Triangle), (Filter::CatmullRom, FilterType::CatmullRom)]
            {
                assert_eq!(gray(image, w, h, ours), resize(image, w, h, theirs), "{w}×{h} {ours:?}");
            }
        }
    }

    #[test]
    fn rounding_halves_away_from_zero_is_the_c_librarys() {
        let mut value = -3000.0f32;
        while value < 3000.0 {
            for v in [value, value + 0.5, value - 0.5, value + 0.4999999, value.next_up(), value.next_down()] {
                assert_eq!(round_half_away(v), v.round(), "{v}");
            }
            value += 0.37;
        }
    }

    #[test]
    fn a_level_is_rounded_half_up() {
        for (level, rounded) in [(0.0, 0), (0.49999997, 0), (0.5, 1), (1.4999999, 1), (254.5, 255), (255.0, 255)] {
            assert_eq!(round_level(level), rounded, "{level}");
            assert_eq!(round_level(level), level.round() as u8);
        }
        // Every level, and the floats on either side of each half.
        let mut level = 0.0f32;
        while level <= 255.0 {
            for l in [level, level.next_up(), level.next_down().max(0.0), level + 0.5, (level + 0.5).next_down()] {
                assert_eq!(round_level(l.min(255.0)), l.min(255.0).round() as u8, "{l}");
            }
            level += 0.25;
        }
    }
}
