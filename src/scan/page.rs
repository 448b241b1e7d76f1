//! Stage 4, normalise the page: from a phone photo to a flat, upright,
//! evenly lit A4 page at a fixed resolution.
//!
//! The sheet is found as the largest bright region against the darker
//! background; its four corners give a homography that removes perspective
//! and fine rotation at once (and the angle of its top edge is the reported
//! skew). Which edge is the top — the coarse 0/90/180/270 orientation — is
//! decided later by reading: the caller tries the likely turn first and the
//! opposite one when the labels do not read. Lighting is flattened by
//! dividing by an estimate of the paper's brightness.

use image::{GrayImage, Luma};
use imageproc::geometric_transformations::Projection;
use imageproc::region_labelling::{connected_components, Connectivity};

use super::resize::{self, Filter};

/// The normalised page: A4 at 200 dots per inch, enough for 9 pt labels.
pub const PAGE_WIDTH: u32 = 1654;
pub const PAGE_HEIGHT: u32 = 2339;
/// Long side of the reduced image the sheet is searched in: the corners
/// need only a few pixels' precision, and this is ~40× less work.
const FIND_LONG_SIDE: u32 = 640;
/// Paper is compared with the brightest pixel within about three of these
/// blocks (pixels of the reduced image): nearer than a shadow's soft edge
/// is wide, wider than the blurred edge of the sheet.
const PAPER_BLOCK: u32 = 8;
/// Paper is at least this share of the brightest paper near it; a desk
/// next to the sheet is darker (synth's desks reach 0.65, real ones less).
const PAPER_SHARE: f32 = 0.75;
/// Nothing darker than this is paper, however dark its surroundings.
const MIN_PAPER_LEVEL: f32 = 60.0;
/// A bright region smaller than this share of the photo is not the sheet
/// (the photo is then taken to be a flat scan of the page).
const MIN_PAGE_AREA: f64 = 0.15;
/// Size of the blocks the paper brightness is estimated over: larger than
/// any glyph, smaller than a shadow's soft edge.
const LIGHT_BLOCK: u32 = 24;
/// The paper is taken at least this bright when lighting is divided out:
/// a block of solid ink is no paper, and dividing by it would whiten ink.
const MIN_PAPER_BRIGHTNESS: u32 = 40;

/// A quadrilateral in image pixels: top-left, top-right, bottom-right,
/// bottom-left as seen in the image (not yet the page's own top).
pub type Quad = [(f32, f32); 4];

/// Where the sheet is in the photo.
#[derive(Debug, Clone, PartialEq)]
pub struct PageLocation {
    pub quad: Quad,
    /// False when no sheet stood out and the whole image is used.
    pub found: bool,
}

impl PageLocation {
    /// Whether the sheet appears wider than tall (turned by 90° or 270°).
    pub fn is_landscape(&self) -> bool {
        let [tl, tr, br, bl] = self.quad;
        let width = dist(tl, tr) + dist(bl, br);
        let height = dist(tl, bl) + dist(tr, br);
        width > height
    }

    /// The quarter turns worth trying, the likelier first.
    pub fn candidate_turns(&self) -> [u8; 2] {
        if self.is_landscape() {
            [1, 3]
        } else {
            [0, 2]
        }
    }

    /// Angle of the page's own top edge against the horizontal, in degrees,
    /// once the page is turned upright by `turns` quarter turns.
    pub fn skew_deg(&self, turns: u8) -> f32 {
        let k = turns as usize;
        let a = self.quad[k % 4];
        let b = self.quad[(k + 1) % 4];
        let angle = (b.1 - a.1).atan2(b.0 - a.0).to_degrees() - 90.0 * turns as f32;
        // Fold into (-180, 180].
        let mut folded = angle % 360.0;
        if folded > 180.0 {
            folded -= 360.0;
        }
        if folded <= -180.0 {
            folded += 360.0;
        }
        folded
    }
}

fn dist(a: (f32, f32), b: (f32, f32)) -> f32 {
    ((a.0 - b.0).powi(2) + (a.1 - b.1).powi(2)).sqrt()
}

/// Marks paper: pixels at least `PAPER_SHARE` as bright as the brightest
/// pixel around them. Under a soft shadow the paper and its surroundings
/// darken together and stay paper; the desk next to the sheet is compared
/// with the sheet's white and drops out, which cuts the sheet off from any
/// bright desk further away. Print fails too (holes do not matter).
fn paper_mask(small: &GrayImage) -> GrayImage {
    let (w, h) = small.dimensions();
    let (bw, bh) = (w.div_ceil(PAPER_BLOCK), h.div_ceil(PAPER_BLOCK));
    let mut block_max = vec![0u8; (bw * bh) as usize];
    for (x, y, p) in small.enumerate_pixels() {
        let i = ((y / PAPER_BLOCK) * bw + x / PAPER_BLOCK) as usize;
        block_max[i] = block_max[i].max(p.0[0]);
    }
    let around = |bx: u32, by: u32| {
        let mut m = 0;
        for ny in by.saturating_sub(1)..=(by + 1).min(bh - 1) {
            for nx in bx.saturating_sub(1)..=(bx + 1).min(bw - 1) {
                m = m.max(block_max[(ny * bw + nx) as usize]);
            }
        }
        m as f32
    };
    GrayImage::from_fn(w, h, |x, y| {
        let v = small.get_pixel(x, y).0[0] as f32;
        let local = around(x / PAPER_BLOCK, y / PAPER_BLOCK);
        Luma([if v >= PAPER_SHARE * local && local >= MIN_PAPER_LEVEL { 255 } else { 0 }])
    })
}

/// The brightest paper pixel in the central half of the image: the sheet
/// an observer photographs is in the middle of the frame.
fn brightest_near_centre(small: &GrayImage, mask: &GrayImage) -> (u32, u32) {
    let (w, h) = small.dimensions();
    let mut best = (w / 2, h / 2);
    let mut brightest = 0;
    for y in h / 4..h * 3 / 4 {
        for x in w / 4..w * 3 / 4 {
            let v = small.get_pixel(x, y).0[0];
            if v > brightest && mask.get_pixel(x, y).0[0] > 0 {
                brightest = v;
                best = (x, y);
            }
        }
    }
    best
}

/// Finds the sheet: the paper region around the bright centre of a reduced
/// copy, and its extreme points along the two diagonals.
pub fn find_page(gray: &GrayImage) -> PageLocation {
    let (w, h) = gray.dimensions();
    let whole =
        PageLocation { quad: [(0.0, 0.0), (w as f32, 0.0), (w as f32, h as f32), (0.0, h as f32)], found: false };
    if w < 16 || h < 16 {
        return whole;
    }
    let scale = FIND_LONG_SIDE as f32 / w.max(h) as f32;
    let (sw, sh) = (((w as f32 * scale).round() as u32).max(1), ((h as f32 * scale).round() as u32).max(1));
    let small = resize::gray(gray, sw, sh, Filter::Triangle);
    let small = imageproc::filter::gaussian_blur_f32(&small, 1.0);
    let mask = paper_mask(&small);
    let labels = connected_components(&mask, Connectivity::Four, Luma([0u8]));
    let seed = brightest_near_centre(&small, &mask);
    let best = labels.get_pixel(seed.0, seed.1).0[0];
    if best == 0 {
        return whole;
    }
    let area = labels.pixels().filter(|p| p.0[0] == best).count();
    if (area as f64) < MIN_PAGE_AREA * (sw * sh) as f64 {
        return whole;
    }
    let mut extremes = [(f32::MAX, (0.0, 0.0)); 4];
    for (x, y, p) in labels.enumerate_pixels() {
        if p.0[0] != best {
            continue;
        }
        let (fx, fy) = (x as f32 + 0.5, y as f32 + 0.5);
        // Minimise: TL x+y, TR -(x-y), BR -(x+y), BL x-y.
        let keys = [fx + fy, -(fx - fy), -(fx + fy), fx - fy];
        for (i, k) in keys.iter().enumerate() {
            if *k < extremes[i].0 {
                extremes[i] = (*k, (fx, fy));
            }
        }
    }
    let quad = extremes.map(|(_, (x, y))| (x / scale, y / scale));
    PageLocation { quad, found: true }
}

/// Warps the sheet to an upright `PAGE_WIDTH × PAGE_HEIGHT` page, turning it
/// by `turns` quarter turns clockwise so that `quad[turns]` becomes the
/// top-left corner.
pub fn rectify(gray: &GrayImage, location: &PageLocation, turns: u8) -> GrayImage {
    let k = turns as usize;
    let from =
        [location.quad[k % 4], location.quad[(k + 1) % 4], location.quad[(k + 2) % 4], location.quad[(k + 3) % 4]];
    let to = [(0.0, 0.0), (PAGE_WIDTH as f32, 0.0), (PAGE_WIDTH as f32, PAGE_HEIGHT as f32), (0.0, PAGE_HEIGHT as f32)];
    match Projection::from_control_points(from, to) {
        Some(projection) => warp_bilinear(gray, projection.invert(), PAGE_WIDTH, PAGE_HEIGHT),
        None => resize::gray(gray, PAGE_WIDTH, PAGE_HEIGHT, Filter::Triangle),
    }
}

/// The `width × height` image whose pixel (x, y) is the bilinear blend of
/// the four pixels of `gray` around `to_source * (x, y)` (the image's edge
/// pixels repeated beyond it): imageproc's `warp_into` with bilinear
/// interpolation, pixel for pixel (the same arithmetic, each blend cut to
/// a whole grey level), written as one plain loop. Pixels whose four
/// neighbours lie inside the photo (nearly all) are read without clamping.
/// imageproc's generic version calls a closure per pixel and took a sixth
/// of a whole scan's time; this loop takes a fraction of that
/// (`cargo bench --bench stages -- rectify`).
fn warp_bilinear(gray: &GrayImage, to_source: Projection, width: u32, height: u32) -> GrayImage {
    let (w, h) = (gray.width() as i64, gray.height() as i64);
    let source = gray.as_raw();
    let clamped = |x: i64, y: i64| source[(y.clamp(0, h - 1) * w + x.clamp(0, w - 1)) as usize];
    // `as u8` saturates and truncates, as imageproc's clamp does.
    let blend = |u: f32, v: f32, weight: f32| ((1.0 - weight) * u + weight * v) as u8;
    let mut out = GrayImage::new(width, height);
    for (y, row) in out.chunks_mut(width as usize).enumerate() {
        for (x, pixel) in row.iter_mut().enumerate() {
            let (sx, sy) = to_source * (x as f32, y as f32);
            let (left, top) = (floor(sx), floor(sy));
            let (right_weight, bottom_weight) = (sx - left as f32, sy - top as f32);
            let [top_left, top_right, bottom_left, bottom_right] =
                if left >= 0 && top >= 0 && left + 1 < w && top + 1 < h {
                    let i = (top * w + left) as usize;
                    let j = i + w as usize;
                    [source[i], source[i + 1], source[j], source[j + 1]]
                } else {
                    [clamped(left, top), clamped(left + 1, top), clamped(left, top + 1), clamped(left + 1, top + 1)]
                }
                .map(f32::from);
            let upper = blend(top_left, top_right, right_weight);
            let lower = blend(bottom_left, bottom_right, right_weight);
            *pixel = blend(upper as f32, lower as f32, bottom_weight);
        }
    }
    out
}

/// `value.floor()` as an integer, without the C library call `floor`
/// compiles to on the baseline x86-64 target (a fifth of the warp's time).
fn floor(value: f32) -> i64 {
    let truncated = value as i64;
    truncated - i64::from((truncated as f32) > value)
}

/// Every quotient of an ink level by a paper level, as `flatten_lighting`
/// divides them, made once: a division per pixel was a third of its time.
static LIGHTING_QUOTIENTS: std::sync::LazyLock<Vec<[u8; 256]>> = std::sync::LazyLock::new(|| {
    (0..=255u32)
        .map(|p| std::array::from_fn(|v| ((v as u32 * 255) / p.max(MIN_PAPER_BRIGHTNESS)).min(255) as u8))
        .collect()
});

/// Evens out the lighting: each pixel divided by the local paper brightness
/// (the brightest values of coarse blocks, smoothed), so shadows and
/// gradients vanish and ink stays dark.
pub fn flatten_lighting(page: &GrayImage) -> GrayImage {
    let (w, h) = page.dimensions();
    let (bw, bh) = (w.div_ceil(LIGHT_BLOCK), h.div_ceil(LIGHT_BLOCK));
    let mut paper = GrayImage::new(bw, bh);
    // Each band of blocks counts its pixels' levels, block by block, row
    // slice by row slice (a histogram per block, not a sorted copy).
    let mut histograms = vec![[0u32; 256]; bw as usize];
    for by in 0..bh {
        histograms.iter_mut().for_each(|h| *h = [0; 256]);
        for row in page.as_raw().chunks_exact(w as usize).skip((by * LIGHT_BLOCK) as usize).take(LIGHT_BLOCK as usize) {
            for (histogram, block) in histograms.iter_mut().zip(row.chunks(LIGHT_BLOCK as usize)) {
                block.iter().for_each(|&v| histogram[v as usize] += 1);
            }
        }
        for (bx, histogram) in histograms.iter().enumerate() {
            // A high percentile, not the maximum: noise makes single bright pixels.
            let count: u32 = histogram.iter().sum();
            let rank = (count as usize * 9 / 10).min(count as usize - 1) as u32;
            paper.put_pixel(bx as u32, by, Luma([level_at_rank(histogram, rank)]));
        }
    }
    // Blocks full of ink (a thick rule, large digits) read too dark: take the
    // brightest neighbour, then smooth.
    let paper = imageproc::morphology::grayscale_dilate(&paper, &imageproc::morphology::Mask::square(1));
    let paper = imageproc::filter::gaussian_blur_f32(&paper, 1.0);
    let paper = resize::gray(&paper, w, h, Filter::Triangle);
    let quotients = &*LIGHTING_QUOTIENTS;
    let mut flat = GrayImage::new(w, h);
    for ((out, &v), &p) in flat.iter_mut().zip(page.as_raw()).zip(paper.as_raw()) {
        *out = quotients[p as usize][v as usize];
    }
    flat
}

/// The level of the pixel at `rank` (from 0) among a block's pixels sorted
/// by level, from the block's histogram of levels.
fn level_at_rank(histogram: &[u32; 256], rank: u32) -> u8 {
    let mut below = 0;
    for (level, &count) in histogram.iter().enumerate() {
        below += count;
        if below > rank {
            return level as u8;
        }
    }
    u8::MAX
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_warp_is_imageprocs_pixel_for_pixel() {
        use imageproc::geometric_transformations::{warp_into, Border, Interpolation};
        // A photo with detail at every scale, and a sheet's quad in it
        // reaching past the photo's edge (clamped reads there).
        let photo = GrayImage::from_fn(900, 700, |x, y| Luma([((x * 7 + y * 13 + (x * y) % 97) % 256) as u8]));
        let quad = [(103.4, -17.9), (811.2, 88.1), (920.7, 660.3), (77.5, 641.0)];
        let to = [(0.0, 0.0), (400.0, 0.0), (400.0, 560.0), (0.0, 560.0)];
        let projection = Projection::from_control_points(quad, to).unwrap();
        let mut theirs = GrayImage::new(400, 560);
        warp_into(&photo, projection, Interpolation::Bilinear, Border::Replicate, &mut theirs);
        let ours = warp_bilinear(&photo, projection.invert(), 400, 560);
        assert!(
            ours == theirs,
            "differs at {} pixels",
            ours.pixels().zip(theirs.pixels()).filter(|(a, b)| a != b).count()
        );
    }
    use imageproc::drawing::draw_polygon_mut;
    use imageproc::point::Point;

    fn photo_of_quad(quad: [(i32, i32); 4]) -> GrayImage {
        let mut img = GrayImage::from_pixel(800, 1000, Luma([70]));
        let poly: Vec<Point<i32>> = quad.iter().map(|&(x, y)| Point::new(x, y)).collect();
        draw_polygon_mut(&mut img, &poly, Luma([235]));
        img
    }

    #[test]
    fn finds_a_tilted_sheet_and_its_skew() {
        // A sheet turned by about 5.7° clockwise.
        let img = photo_of_quad([(150, 100), (650, 150), (600, 850), (100, 800)]);
        let loc = find_page(&img);
        assert!(loc.found);
        assert!(!loc.is_landscape());
        let expected = [(150.0, 100.0), (650.0, 150.0), (600.0, 850.0), (100.0, 800.0)];
        for (got, want) in loc.quad.iter().zip(expected) {
            assert!(dist(*got, want) < 6.0, "{got:?} vs {want:?}");
        }
        let skew = loc.skew_deg(0);
        assert!((skew - 5.71).abs() < 0.5, "{skew}");
    }

    #[test]
    fn a_sideways_sheet_is_landscape() {
        let img = photo_of_quad([(60, 200), (740, 200), (740, 700), (60, 700)]);
        let loc = find_page(&img);
        assert!(loc.is_landscape());
        assert_eq!(loc.candidate_turns(), [1, 3]);
        assert!(loc.skew_deg(1).abs() < 0.5, "{}", loc.skew_deg(1));
    }

    #[test]
    fn flattening_removes_a_lighting_gradient() {
        let page = GrayImage::from_fn(400, 400, |x, y| {
            let light = 120 + (x * 120 / 400);
            if (180..220).contains(&y) && x % 40 < 20 {
                Luma([20])
            } else {
                Luma([light as u8])
            }
        });
        let flat = flatten_lighting(&page);
        let left = flat.get_pixel(10, 50).0[0];
        let right = flat.get_pixel(390, 50).0[0];
        // Before: 120 on the left, 240 on the right.
        assert!(left > 225 && right > 225 && left.abs_diff(right) < 25, "{left} {right}");
        assert!(flat.get_pixel(5, 200).0[0] < 120);
    }
}
