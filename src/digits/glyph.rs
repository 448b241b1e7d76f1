//! One glyph's pixels → the network's 28×28 input.
//!
//! The same function prepares the training glyphs (rendered print, MNIST
//! handwriting) and the glyphs cut from a photographed cell, so the network
//! sees one kind of picture: ink as 1 and paper as 0, the glyph's ink box
//! scaled to fit `FIT` pixels on its longer side and centred, as MNIST is.

use image::{imageops, GrayImage, Luma};

use super::net::{INPUT, SIDE};

/// The longer side of the ink box inside the 28-pixel square (MNIST's
/// convention: a 4-pixel border all round).
pub const FIT: u32 = 20;
/// Share of a crop's pixels taken as paper when judging the paper's shade
/// (a glyph's tight crop is at most about half ink).
const PAPER_PERCENTILE: f32 = 0.9;
/// Contrast below which a glyph's crop holds no glyph, only paper and noise.
pub const MIN_CONTRAST: u8 = 40;

/// The ink of a grey crop (dark ink on light paper) as light on black: the
/// box of the pixels darker than half-way between the paper (the shade at
/// `paper_percentile` of the crop's pixels) and its darkest ink, stretched
/// so paper is 0 and the darkest ink 255. `None` for a crop without ink:
/// its darkest ink less than `min_contrast` below the paper.
pub fn ink_of(crop: &GrayImage, paper_percentile: f32, min_contrast: u8) -> Option<GrayImage> {
    let mut shades: Vec<u8> = crop.pixels().map(|p| p.0[0]).collect();
    if shades.is_empty() {
        return None;
    }
    shades.sort_unstable();
    let darkest = shades[shades.len() / 200];
    let paper = shades[((shades.len() - 1) as f32 * paper_percentile) as usize];
    if paper.saturating_sub(darkest) < min_contrast {
        return None;
    }
    let level = ((darkest as u32 + paper as u32) / 2) as u8;
    let (mut l, mut t, mut r, mut b) = (u32::MAX, u32::MAX, 0, 0);
    for (x, y, p) in crop.enumerate_pixels() {
        if p.0[0] < level {
            (l, t, r, b) = (l.min(x), t.min(y), r.max(x + 1), b.max(y + 1));
        }
    }
    if r <= l || b <= t {
        return None;
    }
    let span = (paper - darkest) as f32;
    Some(GrayImage::from_fn(r - l, b - t, |x, y| {
        let v = crop.get_pixel(l + x, t + y).0[0];
        Luma([((paper.saturating_sub(v)) as f32 / span * 255.0).min(255.0) as u8])
    }))
}

/// The network's input for a grey crop holding one glyph (dark ink on light
/// paper); `None` for a crop without ink.
pub fn glyph_input(crop: &GrayImage) -> Option<[f32; INPUT]> {
    let ink = ink_of(crop, PAPER_PERCENTILE, MIN_CONTRAST)?;
    let (w, h) = ink.dimensions();
    let scale = FIT as f32 / w.max(h) as f32;
    let (sw, sh) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
    let small = imageops::resize(&ink, sw, sh, imageops::FilterType::Triangle);
    let (ox, oy) = ((SIDE as u32 - sw) / 2, (SIDE as u32 - sh) / 2);
    let mut input = [0.0f32; INPUT];
    for (x, y, p) in small.enumerate_pixels() {
        input[((oy + y) * SIDE as u32 + ox + x) as usize] = p.0[0] as f32 / 255.0;
    }
    Some(input)
}

/// The network's input turned by `degrees` about its centre (clockwise on
/// the page for a positive angle): the same glyph as a hand slanting it a
/// little more or less would write it, for a second look at a glyph read
/// unsurely.
pub fn turned(input: &[f32; INPUT], degrees: f32) -> [f32; INPUT] {
    let side = SIDE as u32;
    let image = GrayImage::from_fn(side, side, |x, y| Luma([(input[(y * side + x) as usize] * 255.0).round() as u8]));
    let turned = imageproc::geometric_transformations::rotate_about_center(
        &image,
        degrees.to_radians(),
        imageproc::geometric_transformations::Interpolation::Bilinear,
        imageproc::geometric_transformations::Border::Constant(Luma([0])),
    );
    let mut out = [0.0f32; INPUT];
    for (o, p) in out.iter_mut().zip(turned.pixels()) {
        *o = p.0[0] as f32 / 255.0;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_glyph_is_boxed_scaled_and_centred() {
        // A dark bar 10 wide and 40 tall on grey paper, off-centre.
        let crop = GrayImage::from_fn(60, 60, |x, y| {
            Luma([if (5..15).contains(&x) && (10..50).contains(&y) { 30 } else { 220 }])
        });
        let input = glyph_input(&crop).unwrap();
        let inked: Vec<(usize, usize)> = (0..INPUT).filter(|&i| input[i] > 0.5).map(|i| (i % SIDE, i / SIDE)).collect();
        let (xs, ys): (Vec<usize>, Vec<usize>) = inked.iter().copied().unzip();
        assert_eq!((ys.iter().min(), ys.iter().max()), (Some(&4), Some(&23)), "20 tall, centred");
        assert_eq!((xs.iter().min(), xs.iter().max()), (Some(&11), Some(&15)), "5 wide, centred");
        assert_eq!(glyph_input(&GrayImage::from_pixel(20, 20, Luma([200]))), None, "no ink");
    }

    #[test]
    fn a_turned_glyph_keeps_its_ink_and_leans() {
        // A vertical bar through the centre, turned 10 degrees clockwise:
        // its top moves right and its foot left, and its ink stays.
        let mut input = [0.0f32; INPUT];
        for y in 4..24 {
            input[y * SIDE + 14] = 1.0;
        }
        let turned = turned(&input, 10.0);
        let ink_x = |row: usize| {
            (0..SIDE).map(|x| x as f32 * turned[row * SIDE + x]).sum::<f32>()
                / (0..SIDE).map(|x| turned[row * SIDE + x]).sum::<f32>()
        };
        assert!(ink_x(6) > 14.4 && ink_x(21) < 13.6, "top at {}, foot at {}", ink_x(6), ink_x(21));
        let total = |v: &[f32]| v.iter().sum::<f32>();
        assert!((total(&turned) - total(&input)).abs() < 2.0);
        assert_eq!(super::turned(&input, 0.0), input);
    }
}
