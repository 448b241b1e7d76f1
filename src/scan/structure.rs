//! The form's printed structure: its ruled lines, found from the pixels
//! alone, before any text is read.
//!
//! A phone photo's page is never quite square after the page finder: the
//! paper curls and the corners it found are a few pixels off, so a table's
//! rules slope by a degree or two, and a figure written at the right end of
//! a row stands a row lower than its label. The rules are the form's most
//! reliable print: long dark runs that no glyph makes. This module measures
//! their slope (and the page is turned back by it), and lists the
//! horizontal rules and, between two of them, the vertical ones — the rows
//! and columns that figures are written in.

use image::{GrayImage, Luma};

use super::resize;

/// A pixel this much darker than the paper (the page's median, 0–255) is
/// ink for the rule search: a faint printed rule on a phone photo is 40–60
/// below the paper; paper grain and JPEG noise stay within 15.
const RULE_INK_DEPTH: u8 = 30;
/// A horizontal run of ink at least this long (page pixels at 200 dpi,
/// about 7.6 mm) is a rule: the widest printed or written glyph is a third
/// of it.
const MIN_RULE_RUN: u32 = 60;
/// A sloping one-pixel rule steps a row every 1/tan(slope) pixels: runs are
/// looked for in the ink thickened by this many rows up and down, so a rule
/// at 2° still gives runs longer than [`MIN_RULE_RUN`].
const RUN_THICKEN: u32 = 1;
/// The slopes tried, in degrees either way, and their step: synthetic
/// photos that the page finder squared leave less than 3°, real ones up to
/// 6° (a sheet photographed beside another, its page taken askew; a bowed
/// sheet's band; further, the search's peak was a spurious one as often as
/// a rule's, on the real EC8A photos); 0.1° moves a rule's end by 3 pixels
/// across the page. Beyond 2°, a thin rule's runs stay short even
/// thickened ([`RUN_THICKEN`]): a slope that steep is measured on a photo's
/// blurred, thicker rules. The search first steps by the coarse step,
/// then by the fine one around the best coarse slope (a rule's peak is
/// wider than the coarse step: it is not stepped over).
const MAX_SLOPE_DEG: f32 = 6.0;
const COARSE_SLOPE_STEP_DEG: f32 = 0.5;
const SLOPE_STEP_DEG: f32 = 0.1;
/// Every this-many-th column's rule pixels are enough to measure a slope.
const SLOPE_SAMPLE_COLUMNS: u32 = 2;
/// A page whose slopes are all smaller than this is left alone: the
/// readers tolerate a row drifting by a few pixels across the page (a degree
/// is 14 pixels over a 800-pixel row, a third of a row's height), while the
/// resampling softens thin print and moves a label's words off the boxes
/// Tesseract gave them. Beyond it, a figure at a row's right end stands in
/// the next row.
const MIN_TURN_DEG: f32 = 1.0;
/// A page row is on a horizontal rule when rule runs cover at least this
/// many pixels of it (a fifth of the page: a table's row rule; a blank's
/// underline is shorter).
const MIN_RULE_COVER: u32 = 300;
/// How far a vertical rule may lean, as a share of the band it is looked
/// for in (tan 2°: the slope a squared phone photo leaves).
pub(super) const MAX_RULE_LEAN: f32 = 0.035;
/// Rows closer than this belong to one rule (a thick or slightly sloping one).
const RULE_MERGE_GAP: u32 = 4;

/// One horizontal rule: the page row it runs along and how far it reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HorizontalRule {
    pub y: u32,
    pub left: u32,
    pub right: u32,
}

/// The level below which a pixel is ink for the rule search: the median of
/// the `pixels` (the paper) less [`RULE_INK_DEPTH`].
fn ink_level(pixels: impl Iterator<Item = u8>) -> u8 {
    let mut histogram = [0u64; 256];
    let mut count = 0u64;
    for v in pixels {
        histogram[v as usize] += 1;
        count += 1;
    }
    let mut seen = 0;
    let median = (0..=255u8).find(|&v| {
        seen += histogram[v as usize];
        seen > count / 2
    });
    median.unwrap_or(255).saturating_sub(RULE_INK_DEPTH)
}

fn ink_mask(page: &GrayImage) -> Vec<bool> {
    let level = ink_level(page.pixels().map(|p| p.0[0]));
    page.pixels().map(|p| p.0[0] < level).collect()
}

/// The pixels that lie on long horizontal runs of (slightly thickened) ink.
fn rule_pixels(page: &GrayImage) -> Vec<(u32, u32)> {
    let (w, h) = page.dimensions();
    let ink = ink_mask(page);
    let at = |x: u32, y: u32| ink[(y * w + x) as usize];
    let mut pixels = Vec::new();
    // The row's ink thickened: any ink in the rows around it, column by
    // column (whole rows or'ed together, not each pixel's column searched).
    let mut thickened = vec![false; w as usize];
    for y in 0..h {
        thickened.iter_mut().for_each(|d| *d = false);
        for row in y.saturating_sub(RUN_THICKEN)..=(y + RUN_THICKEN).min(h - 1) {
            let row = &ink[(row * w) as usize..((row + 1) * w) as usize];
            thickened.iter_mut().zip(row).for_each(|(d, &i)| *d |= i);
        }
        let mut run_start = None;
        for x in 0..=w {
            let dark = x < w && thickened[x as usize];
            match (dark, run_start) {
                (true, None) => run_start = Some(x),
                (false, Some(start)) => {
                    if x - start >= MIN_RULE_RUN {
                        // Only the run's own dark pixels on this row.
                        pixels.extend((start..x).filter(|&xx| at(xx, y)).map(|xx| (xx, y)));
                    }
                    run_start = None;
                }
                _ => {}
            }
        }
    }
    pixels
}

/// How peaked the rows of `pixels` are when read along `deg`: rules line
/// up with one row at their own slope, so the sum of squared row counts is
/// then largest.
fn peakedness(pixels: &[(u32, u32)], height: u32, deg: f32, histogram: &mut [u32]) -> f64 {
    let tan = deg.to_radians().tan();
    histogram.iter_mut().for_each(|v| *v = 0);
    for &(x, y) in pixels {
        let row = resize::round_half_away(y as f32 - x as f32 * tan + height as f32 * 0.5);
        if row >= 0.0 && (row as usize) < histogram.len() {
            histogram[row as usize] += 1;
        }
    }
    histogram.iter().map(|&v| (v as f64) * (v as f64)).sum()
}

/// The slope (degrees, positive: falling to the right) at which the rule
/// pixels `pixels` line up best, or `None` where they are too few to say.
/// Searched coarse, then fine around the best coarse slope.
fn best_slope(pixels: &[(u32, u32)], height: u32) -> Option<f32> {
    if pixels.len() < (MIN_RULE_COVER * 2) as usize {
        return None;
    }
    let mut histogram = vec![0u32; (height * 2) as usize];
    let mut search = |centre: f32, reach: f32, step: f32| {
        let steps = (reach / step).round() as i32;
        (-steps..=steps)
            .map(|i| (centre + i as f32 * step).clamp(-MAX_SLOPE_DEG, MAX_SLOPE_DEG))
            .map(|deg| (peakedness(pixels, height, deg, &mut histogram), deg))
            .max_by(|a, b| a.0.total_cmp(&b.0))
            .map_or(centre, |(_, deg)| deg)
    };
    let coarse = search(0.0, MAX_SLOPE_DEG, COARSE_SLOPE_STEP_DEG);
    Some(search(coarse, COARSE_SLOPE_STEP_DEG, SLOPE_STEP_DEG))
}

/// The slope of the page's horizontal rules, in degrees (positive: they
/// fall to the right), or 0 where the page has too few rules to say.
pub fn rule_slope_deg(page: &GrayImage) -> f32 {
    best_slope(&sampled(&rule_pixels(page)), page.height()).unwrap_or(0.0)
}

fn sampled(pixels: &[(u32, u32)]) -> Vec<(u32, u32)> {
    pixels.iter().copied().filter(|&(x, _)| x % SLOPE_SAMPLE_COLUMNS == 0).collect()
}

/// The page split into this many bands from top to bottom, each with its
/// own slope: a curled sheet or a photo taken at an angle slopes its top
/// table's rules by another degree than its bottom table's.
const SLOPE_BANDS: u32 = 4;

/// The rules' slope down a page `height` rows high whose rule pixels are
/// `pixels`: (band middle row, degrees) for every band with rules enough to
/// say, top to bottom.
fn rule_slopes(pixels: &[(u32, u32)], height: u32) -> Vec<(u32, f32)> {
    let pixels = sampled(pixels);
    let band = height.div_ceil(SLOPE_BANDS).max(1);
    (0..SLOPE_BANDS)
        .filter_map(|i| {
            let (top, bottom) = (i * band, (i + 1) * band);
            let own: Vec<(u32, u32)> = pixels.iter().copied().filter(|&(_, y)| y >= top && y < bottom).collect();
            best_slope(&own, height).map(|deg| ((top + bottom) / 2, deg))
        })
        .collect()
}

/// The slope at row `y`: the bands' slopes joined by straight lines, the
/// first and last held beyond their bands.
fn slope_at(slopes: &[(u32, f32)], y: f32) -> f32 {
    match slopes {
        [] => 0.0,
        [(_, only)] => *only,
        _ => {
            let last = slopes.len() - 1;
            if y <= slopes[0].0 as f32 {
                return slopes[0].1;
            }
            if y >= slopes[last].0 as f32 {
                return slopes[last].1;
            }
            let i = slopes.iter().rposition(|&(row, _)| row as f32 <= y).unwrap_or(0).min(last - 1);
            let ((y0, s0), (y1, s1)) = (slopes[i], slopes[i + 1]);
            let t = (y - y0 as f32) / (y1 as f32 - y0 as f32).max(1.0);
            s0 + (s1 - s0) * t
        }
    }
}

/// A page with its rules made level, and what was found doing it.
pub struct Levelled {
    pub page: GrayImage,
    /// The largest slope undone (degrees, 0 when the page was left as it was).
    pub slope_deg: f32,
    /// The level page's horizontal rules, top to bottom.
    pub rules: Vec<HorizontalRule>,
}

/// The page with its rules made level. Each column is shifted up or down by
/// the slope of its band — a shear, not a turn, so the columns stay where
/// they were (a degree's lean of a vertical rule moves it a pixel per row's
/// height). A page left as it was keeps the rule pixels its slope was
/// measured on for its rules.
pub fn level_rules(page: GrayImage) -> Levelled {
    let pixels = rule_pixels(&page);
    let slopes = rule_slopes(&pixels, page.height());
    let largest = slopes.iter().map(|s| s.1).fold(0.0f32, |a, b| if b.abs() > a.abs() { b } else { a });
    if largest.abs() < MIN_TURN_DEG {
        let rules = rules_of(&pixels, page.height());
        return Levelled { page, slope_deg: 0.0, rules };
    }
    let (w, h) = page.dimensions();
    let centre = w as f32 / 2.0;
    let tans: Vec<f32> = (0..h).map(|y| slope_at(&slopes, y as f32).to_radians().tan()).collect();
    let level = GrayImage::from_fn(w, h, |x, y| {
        let source = y as f32 + (x as f32 - centre) * tans[y as usize];
        if source < 0.0 || source > (h - 1) as f32 {
            return Luma([255]);
        }
        Luma([level_between_rows(&page, x, source)])
    });
    let rules = horizontal_rules(&level);
    Levelled { page: level, slope_deg: largest, rules }
}

/// The grey level of column `x` at the fractional `row` (from 0 to the
/// page's last row): the two page rows around it blended, rounded. `row`
/// is not negative, so its whole part is its floor: no call to the C
/// library's `floor` or `round` per pixel.
pub(super) fn level_between_rows(page: &GrayImage, x: u32, row: f32) -> u8 {
    let above = row as u32;
    let share = row - above as f32;
    let below = (above + 1).min(page.height() - 1);
    let (a, b) = (page.get_pixel(x, above).0[0] as f32, page.get_pixel(x, below).0[0] as f32);
    resize::round_level(a + (b - a) * share)
}

/// The horizontal rules of a level page, top to bottom.
pub fn horizontal_rules(page: &GrayImage) -> Vec<HorizontalRule> {
    rules_of(&rule_pixels(page), page.height())
}

/// The horizontal rules that rule pixels `pixels` of a level page `height`
/// rows high make, top to bottom.
fn rules_of(pixels: &[(u32, u32)], height: u32) -> Vec<HorizontalRule> {
    let mut cover = vec![(0u32, u32::MAX, 0u32); height as usize];
    for &(x, y) in pixels {
        let c = &mut cover[y as usize];
        c.0 += 1;
        c.1 = c.1.min(x);
        c.2 = c.2.max(x);
    }
    let mut rules: Vec<HorizontalRule> = Vec::new();
    let mut last_y: Option<u32> = None;
    for (y, &(count, left, right)) in cover.iter().enumerate() {
        if count < MIN_RULE_COVER {
            continue;
        }
        let y = y as u32;
        match (rules.last_mut(), last_y) {
            (Some(rule), Some(prev)) if y - prev <= RULE_MERGE_GAP => {
                rule.left = rule.left.min(left);
                rule.right = rule.right.max(right);
                // The rule's row: the middle of the rows it covers.
                rule.y = (rule.y + y).div_ceil(2);
            }
            _ => rules.push(HorizontalRule { y, left, right }),
        }
        last_y = Some(y);
    }
    rules
}

/// The columns where vertical rules cross the band between rows `top` and
/// `bottom`, left to right: x positions where ink runs down most of it.
pub fn vertical_rules(page: &GrayImage, top: u32, bottom: u32) -> Vec<u32> {
    vertical_rules_within(page, top, bottom, 0, page.width())
}

/// A rule is traced in steps of this many columns, each step's shade on a
/// row the mean of its columns.
const TRACE_STEP: u32 = 6;
/// From one step to the next the rule is looked for this many rows either
/// side of where its slope so far puts it (a curled sheet bends a rule by
/// less than a row in a step).
const TRACE_ROWS: u32 = 2;
/// Where the rule was first looked for may be this many rows off its row
/// at the start column (a row's mean over the whole page).
const TRACE_START_ROWS: u32 = 10;
/// A row is on a rule where it is this much darker (0–255) than the rows
/// this far above and below it: a printed rule is two or three rows
/// thick; a faint one on a phone photo is 15–40 darker than its paper,
/// grain between rows a few levels.
const TRACE_RIDGE_DEPTH: u32 = 10;
const TRACE_RIDGE_REACH: u32 = 3;
/// A rule crossed by nothing found for this many columns (a gap in the
/// print, a blot) is lost: the trace ends there.
const TRACE_MAX_GAP: u32 = 48;
/// The slope is the least-squares line through the points found, when at
/// least this many were.
const TRACE_MIN_POINTS: usize = 5;

/// Where a horizontal rule runs between columns `from` and `to` (from <
/// to), found near row `y` at column `from`: traced step by step along its
/// ink, each step looked for near where the steps before put it, across
/// the strokes of a figure written over it and short gaps. Returns the
/// rule's row at `from` and its slope (rows per column: negative rises to
/// the right) from the line through the steps found; `None` where too few
/// were. A paper's curl bends a row's rules past what turning the page
/// undid: a figure at a row's right end stands where the rule runs there,
/// not where it runs on average.
pub fn trace_rule(page: &GrayImage, from: u32, to: u32, y: u32) -> Option<(f32, f32)> {
    let (w, h) = page.dimensions();
    let to = to.min(w.saturating_sub(TRACE_STEP));
    if to <= from + TRACE_STEP || y >= h {
        return None;
    }
    // A step's shade on a row: its columns' mean. The rule is a thin line
    // darker than the paper just above and below it (however faint the
    // print, or shaded the paper, there).
    let shade =
        |x: u32, row: u32| (x..x + TRACE_STEP).map(|c| page.get_pixel(c, row).0[0] as u32).sum::<u32>() / TRACE_STEP;
    let on_rule = |x: u32, row: u32| {
        let (above, below) = (row.checked_sub(TRACE_RIDGE_REACH), row + TRACE_RIDGE_REACH);
        let Some(above) = above.filter(|_| below < h) else { return false };
        let here = shade(x, row) + TRACE_RIDGE_DEPTH;
        here <= shade(x, above) && here <= shade(x, below)
    };
    // The step's row nearest `expected` within `reach` that is on the rule.
    let nearest = |x: u32, expected: f32, reach: u32| {
        let centre = expected.round().max(0.0) as u32;
        (0..=reach)
            .flat_map(|d| [centre.checked_sub(d), Some(centre + d)])
            .flatten()
            .filter(|&r| r < h)
            .find(|&r| on_rule(x, r))
    };
    let mut points: Vec<(f32, f32)> = Vec::new();
    let first = nearest(from, y as f32, TRACE_START_ROWS)?;
    points.push((from as f32, first as f32));
    let (mut last_x, mut x) = (from, from + TRACE_STEP);
    while x < to && x - last_x <= TRACE_MAX_GAP {
        let expected = extrapolate(&points, x as f32);
        if let Some(row) = nearest(x, expected, TRACE_ROWS) {
            points.push((x as f32, row as f32));
            last_x = x;
        }
        x += TRACE_STEP;
    }
    if points.len() < TRACE_MIN_POINTS {
        return None;
    }
    let ((mean_x, mean_y), slope) = fitted_line(&points);
    Some((mean_y - slope * (mean_x - from as f32), slope))
}

/// The row the last points found put column `x` at: the line through the
/// last few of them (one point alone: its row).
fn extrapolate(points: &[(f32, f32)], x: f32) -> f32 {
    let recent = &points[points.len().saturating_sub(TRACE_MIN_POINTS * 2)..];
    let last = recent[recent.len() - 1];
    if recent.len() < 2 {
        return last.1;
    }
    last.1 + fitted_line(recent).1 * (x - last.0)
}

/// The least-squares line through `points`: the points' mean and the
/// line's slope (rows per column; 0 where the points share one column).
fn fitted_line(points: &[(f32, f32)]) -> ((f32, f32), f32) {
    let n = points.len() as f32;
    let (mean_x, mean_y) = (points.iter().map(|p| p.0).sum::<f32>() / n, points.iter().map(|p| p.1).sum::<f32>() / n);
    let spread: f32 = points.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    let slope =
        if spread <= 0.0 { 0.0 } else { points.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum::<f32>() / spread };
    ((mean_x, mean_y), slope)
}

/// [`vertical_rules`] between columns `left` and `right` only. A rule may
/// lean (a photo's perspective, a curled sheet): its ink is looked for
/// within [`MAX_RULE_LEAN`] of the band's height either side of its column.
/// The ink level is the band's own (its median less [`RULE_INK_DEPTH`]).
pub fn vertical_rules_within(page: &GrayImage, top: u32, bottom: u32, left: u32, right: u32) -> Vec<u32> {
    let (w, h) = page.dimensions();
    let (top, bottom, left, right) = (top.min(h), bottom.min(h), left.min(w), right.min(w));
    if bottom <= top + 2 || right <= left {
        return Vec::new();
    }
    let (span, width) = (bottom - top, (right - left) as usize);
    let level = ink_level((top..bottom).flat_map(|y| (left..right).map(move |x| page.get_pixel(x, y).0[0])));
    let reach = 1 + (span as f32 * MAX_RULE_LEAN) as usize;
    let mut rows_dark = vec![0u32; width];
    let mut prefix = vec![0u32; width + 1];
    for y in top..bottom {
        for (i, x) in (left..right).enumerate() {
            prefix[i + 1] = prefix[i] + u32::from(page.get_pixel(x, y).0[0] < level);
        }
        for (i, count) in rows_dark.iter_mut().enumerate() {
            let (from, to) = (i.saturating_sub(reach), (i + reach + 1).min(width));
            *count += u32::from(prefix[to] > prefix[from]);
        }
    }
    let columns = rows_dark.iter().enumerate().filter(|(_, &dark)| dark * 10 >= span * 8).map(|(i, _)| left + i as u32);
    // Neighbouring columns are one rule: its middle.
    let mut merged: Vec<(u32, u32)> = Vec::new();
    for x in columns {
        match merged.last_mut() {
            Some((_, end)) if x <= *end + RULE_MERGE_GAP => *end = x,
            _ => merged.push((x, x)),
        }
    }
    merged.into_iter().map(|(a, b)| (a + b) / 2).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use imageproc::drawing::draw_line_segment_mut;

    #[test]
    fn a_faint_rule_is_traced_along_its_bend_across_a_figures_strokes() {
        // Paper at 245, a rule 25 darker (fainter than the rule search's
        // ink), rising 1 row in 10 to the right from row 300 at x 100; the
        // strokes of a figure cross it at x 300.
        let mut page = GrayImage::from_pixel(800, 500, Luma([245]));
        for x in 100..700u32 {
            let y = (300.0 - 0.1 * (x - 100) as f32).round() as u32;
            page.put_pixel(x, y, Luma([220]));
            page.put_pixel(x, y + 1, Luma([220]));
        }
        for x in [300u32, 320] {
            for y in 240..300 {
                for dx in 0..4 {
                    page.put_pixel(x + dx, y, Luma([40]));
                }
            }
        }
        // Looked for 4 rows off, at x 120 (where the rule is at row 298).
        let (row, slope) = trace_rule(&page, 120, 600, 302).expect("traced");
        assert!((row - 298.5).abs() <= 1.5, "{row}");
        assert!((slope + 0.1).abs() <= 0.01, "{slope}");
        // Nothing near where it is looked for: no rule.
        assert!(trace_rule(&page, 120, 600, 400).is_none());
    }

    /// A white page with ruled rows sloping by `deg`.
    fn ruled_page(deg: f32) -> GrayImage {
        ruled_page_of(deg, 2)
    }

    /// A white page with ruled rows `thickness` pixels thick sloping by `deg`.
    fn ruled_page_of(deg: f32, thickness: u32) -> GrayImage {
        let mut page = GrayImage::from_pixel(1200, 900, Luma([255]));
        let tan = deg.to_radians().tan();
        for row in 0..8 {
            let y = 150.0 + row as f32 * 60.0;
            for thick in 0..thickness {
                let y = y + thick as f32;
                draw_line_segment_mut(&mut page, (100.0, y), (1100.0, y + 1000.0 * tan), Luma([40]));
            }
        }
        // Some text-like blobs that are no rules.
        for i in 0..20 {
            let x = 120 + i * 45;
            for y in 100..130 {
                for dx in 0..6 {
                    page.put_pixel(x + dx, y, Luma([30]));
                }
            }
        }
        page
    }

    #[test]
    fn the_slope_of_ruled_rows_is_measured() {
        for deg in [-1.7f32, 0.0, 0.8, 2.4] {
            let got = rule_slope_deg(&ruled_page(deg));
            assert!((got - deg).abs() <= 0.15, "drawn at {deg}°, measured {got}°");
        }
        // A photo's blurred rules, thicker, measured as steep as a sheet
        // photographed askew leaves them.
        for deg in [-5.5f32, 4.5] {
            let got = rule_slope_deg(&ruled_page_of(deg, 4));
            assert!((got - deg).abs() <= 0.15, "drawn at {deg}°, measured {got}°");
        }
    }

    #[test]
    fn a_level_page_gives_its_rules_and_columns() {
        let Levelled { page: level, slope_deg: turned, rules } = level_rules(ruled_page(1.2));
        let untouched = level_rules(ruled_page(0.0));
        assert!(untouched.slope_deg == 0.0, "a level page is left alone");
        assert_eq!(untouched.page, ruled_page(0.0));
        assert_eq!(untouched.rules.len(), 8, "its rules come from the pixels its slope was measured on");
        assert!(level_rules(ruled_page(0.6)).slope_deg == 0.0, "so is one sloping less than a degree");
        assert!((turned - 1.2).abs() <= 0.15, "{turned}");
        assert_eq!(rules, horizontal_rules(&level));
        assert_eq!(rules.len(), 8, "{rules:?}");
        let pitch: Vec<i64> = rules.windows(2).map(|p| p[1].y as i64 - p[0].y as i64).collect();
        assert!(pitch.iter().all(|&d| (d - 60).abs() <= 2), "{pitch:?}");

        let mut table = GrayImage::from_pixel(600, 400, Luma([255]));
        for x in [50u32, 300, 550] {
            draw_line_segment_mut(&mut table, (x as f32, 20.0), (x as f32, 380.0), Luma([40]));
        }
        assert_eq!(vertical_rules(&table, 30, 370), [50, 300, 550]);
        assert!(vertical_rules(&table, 390, 399).is_empty());
        // A rule leaning by 1.5° is still one rule, where it stands at mid-height.
        let mut leaning = GrayImage::from_pixel(600, 400, Luma([255]));
        draw_line_segment_mut(&mut leaning, (300.0, 20.0), (309.0, 380.0), Luma([40]));
        let found = vertical_rules(&leaning, 30, 370);
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].abs_diff(304) <= 3, "{found:?}");
        assert_eq!(vertical_rules_within(&table, 30, 370, 200, 600), [300, 550]);
    }
}
