//! Ink geometry on the normalised page: what is ink and what is paper in a
//! region, the form's ruling lines told from the strokes that touch them,
//! glyph boxes grouped into rows and runs, and glyph crops cut and sized
//! for the readers. Shared by the printed reader (`read`) and the
//! handwriting reader (`hand`); it reads nothing itself.

use image::{GrayImage, ImageBuffer, Luma};
use imageproc::region_labelling::{connected_components, Connectivity};

use std::collections::BTreeMap;

use super::resize::{self, Filter};

type Rect = [u32; 4];

/// Pixels around a glyph's ink kept in its crop: the anti-aliased edge.
pub(super) const GLYPH_EDGE: u8 = 2;
/// Digits smaller than this (pixels) are enlarged to it before reading.
pub(super) const OCR_DIGIT_HEIGHT: u32 = 32;
/// White margin around a cell crop: Tesseract reads poorly at the edge.
pub(super) const CROP_MARGIN: u32 = 20;

/// Ink is never lighter than this (on the lighting-flattened page, where
/// paper is near 255): lighter is paper grain, noise or JPEG ringing.
pub(super) const MAX_INK_LEVEL: u8 = 200;
/// Ruling lines: a horizontal run of ink this long (pixels at 200 dpi,
/// 0.35 inch) is a rule or a box edge, never a stroke of one digit.
pub(super) const RULE_RUN_HORIZONTAL: u32 = 70;
/// Ink running this many pixels beyond a rule's thickness, in one pixel
/// column, is a stroke meeting the rule (a pen's stroke is at least this
/// thick; blur and noise vary a rule's by a pixel). The thickness is taken
/// over this many columns each side: wider than a written digit, so the
/// bare rule beside it sets it.
pub(super) const STROKE_OVER_RULE: u32 = 2;
pub(super) const RULE_THICKNESS_REACH: usize = 60;

pub(super) fn union(rects: impl Iterator<Item = Rect>) -> Option<Rect> {
    rects.fold(None, |acc, r| match acc {
        None => Some(r),
        Some(a) => Some([a[0].min(r[0]), a[1].min(r[1]), a[2].max(r[2]), a[3].max(r[3])]),
    })
}

/// Copies `rect` of the page onto a white canvas with a margin, keeping only
/// the pixels `keep` accepts (page coordinates).
pub(super) fn white_crop(page: &GrayImage, rect: Rect, keep: impl Fn(u32, u32) -> bool) -> GrayImage {
    paper_crop(page, rect, keep, 255)
}

/// As [`white_crop`], on a canvas of the paper's own shade: what is left out
/// looks like the paper around the ink kept, so a reader that judges the
/// paper from the crop (the sequence reader) sees no pale halo round the
/// strokes.
pub(super) fn paper_crop(page: &GrayImage, rect: Rect, keep: impl Fn(u32, u32) -> bool, paper: u8) -> GrayImage {
    let [l, t, r, b] = [rect[0], rect[1], rect[2].min(page.width()), rect[3].min(page.height())];
    let (w, h) = (r.saturating_sub(l), b.saturating_sub(t));
    let mut out = GrayImage::from_pixel(w + 2 * CROP_MARGIN, h + 2 * CROP_MARGIN, Luma([paper]));
    for y in 0..h {
        for x in 0..w {
            if keep(l + x, t + y) {
                out.put_pixel(x + CROP_MARGIN, y + CROP_MARGIN, *page.get_pixel(l + x, t + y));
            }
        }
    }
    out
}

/// A region's ink cut into connected components, for finding the glyphs of
/// a count in it.
pub(super) struct CellInk {
    /// Each pixel's component (0: paper), region coordinates.
    pub labels: ImageBuffer<Luma<u32>, Vec<u32>>,
    /// Each component's box (region coordinates) and ink pixel count.
    pub boxes: BTreeMap<u32, (Rect, u32)>,
    /// The long horizontal ink runs found (rules, box tops and bottoms).
    pub rules: GrayImage,
    /// The pixels taken out of the ink as rules: `rules` but where a
    /// glyph's stroke meets a rule, and the vertical rules when asked for.
    pub removed: GrayImage,
}

/// The ink of `region` (darker than `level`), without
/// label text (`letter_boxes`, page coordinates), long horizontal rules (but
/// where a stroke crosses or rests on one, see [`strokes_on_rules`]) and,
/// given `vertical_rule_run`, vertical ink runs at least that long (judged
/// on the page above and below the region too, see
/// [`vertical_rules_through`]), one-pixel breaks bridged, cut into
/// connected components. A horizontal
/// rule may break for `rule_gap` pixels (see [`rule_mask`]).
pub(super) fn cell_ink(
    page: &GrayImage,
    region: Rect,
    level: u8,
    letter_boxes: &[Rect],
    vertical_rule_run: Option<u32>,
    rule_gap: u32,
) -> CellInk {
    let [l, t, r, b] = region;
    let (w, h) = (r - l, b - t);
    let in_letters = |x: u32, y: u32| letter_boxes.iter().any(|bx| x >= bx[0] && x < bx[2] && y >= bx[1] && y < bx[3]);
    let mut ink = GrayImage::from_fn(w, h, |x, y| {
        let (px, py) = (l + x, t + y);
        Luma([if page.get_pixel(px, py).0[0] < level && !in_letters(px, py) { 255 } else { 0 }])
    });
    let rules = rule_mask(&ink, rule_gap);
    let mut removed = match vertical_rule_run {
        Some(run) => vertical_rules_through(page, region, level, run),
        None => GrayImage::new(w, h),
    };
    for (p, v) in ink.pixels_mut().zip(removed.pixels()) {
        if v.0[0] > 0 {
            p.0[0] = 0;
        }
    }
    let strokes = strokes_on_rules(&ink, &rules);
    for (p, rule) in ink.pixels_mut().zip(rules.pixels()) {
        if rule.0[0] > 0 {
            p.0[0] = 0;
        }
    }
    // Bridge the one-pixel breaks blur leaves in thin strokes, so a glyph
    // is one component (digits stand further apart than that).
    let ink = imageproc::morphology::close(&ink, imageproc::distance_transform::Norm::LInf, 1);
    let mut labels = connected_components(&ink, Connectivity::Eight, Luma([0u8]));
    // A stroke's part on a rule goes back to the glyph it belongs to (only
    // to it: digits resting on one rule stay apart).
    for &(x, top, bottom) in &strokes {
        let glyph = (top..bottom).map(|y| labels.get_pixel(x, y).0[0]).find(|&id| id > 0);
        if let Some(id) = glyph {
            for y in top..bottom {
                if labels.get_pixel(x, y).0[0] == 0 {
                    labels.put_pixel(x, y, Luma([id]));
                }
            }
        }
    }
    for (x, y, rule) in rules.enumerate_pixels() {
        if rule.0[0] > 0 && labels.get_pixel(x, y).0[0] == 0 {
            removed.put_pixel(x, y, Luma([255]));
        }
    }
    let mut boxes: BTreeMap<u32, (Rect, u32)> = BTreeMap::new();
    for (x, y, p) in labels.enumerate_pixels() {
        let id = p.0[0];
        if id == 0 {
            continue;
        }
        let e = boxes.entry(id).or_insert(([x, y, x + 1, y + 1], 0));
        e.0 = [e.0[0].min(x), e.0[1].min(y), e.0[2].max(x + 1), e.0[3].max(y + 1)];
        e.1 += 1;
    }
    CellInk { labels, boxes, rules, removed }
}

/// The boxes (left, top, right, bottom; right and bottom exclusive) of the
/// 8-connected pieces of `ink` (non-zero pixels), in the order of their
/// first pixel down the image.
pub(super) fn component_boxes(ink: &GrayImage) -> Vec<Rect> {
    let labels = connected_components(ink, Connectivity::Eight, Luma([0u8]));
    // Labels run from 1 without gaps.
    let mut boxes: Vec<Option<Rect>> = Vec::new();
    for (x, y, label) in labels.enumerate_pixels() {
        let id = label.0[0] as usize;
        if id == 0 {
            continue;
        }
        if boxes.len() < id {
            boxes.resize(id, None);
        }
        let b = boxes[id - 1].get_or_insert([x, y, x + 1, y + 1]);
        *b = [b[0].min(x), b[1].min(y), b[2].max(x + 1), b[3].max(y + 1)];
    }
    boxes.into_iter().flatten().collect()
}

/// The page's pixels of one glyph (`rect`, page coordinates) with a rim of
/// paper; pixels outside the glyph mask `keep` are painted paper.
pub(super) fn glyph_crop(page: &GrayImage, rect: Rect, keep: impl Fn(u32, u32) -> bool) -> GrayImage {
    let pad = GLYPH_EDGE as u32 + 1;
    let [l, t] = [rect[0].saturating_sub(pad), rect[1].saturating_sub(pad)];
    let [r, b] = [(rect[2] + pad).min(page.width()), (rect[3] + pad).min(page.height())];
    let raw = image::imageops::crop_imm(page, l, t, r - l, b - t).to_image();
    let paper = raw.pixels().map(|p| p.0[0]).max().unwrap_or(255);
    // Only the glyph's own columns: a touching neighbour was cut off at `rect`'s sides.
    let own = |x: u32, y: u32| x >= rect[0] && x < rect[2] && keep(x, y);
    GrayImage::from_fn(
        raw.width(),
        raw.height(),
        |x, y| if own(l + x, t + y) { *raw.get_pixel(x, y) } else { Luma([paper]) },
    )
}

pub(super) fn height(b: &Rect) -> u32 {
    b[3] - b[1]
}

pub(super) fn width(b: &Rect) -> u32 {
    b[2] - b[0]
}

/// Boxes grouped into rows: taken by their middles, top to bottom, each
/// joining the row above when its middle is within `tolerance` of that
/// row's first box's middle.
pub(super) fn rows_by_middle(mut boxes: Vec<Rect>, tolerance: f32) -> Vec<Vec<Rect>> {
    boxes.sort_by_key(|b| b[1] + b[3]);
    let mut rows: Vec<Vec<Rect>> = Vec::new();
    for b in boxes {
        let middle = (b[1] + b[3]) as f32 / 2.0;
        match rows.last_mut() {
            Some(row) if (middle - (row[0][1] + row[0][3]) as f32 / 2.0).abs() <= tolerance => row.push(b),
            _ => rows.push(vec![b]),
        }
    }
    rows
}

/// Boxes grouped into runs, left to right: each joins the run before it
/// when it starts within `gap` of that run's right edge.
pub(super) fn runs_by_gap(mut boxes: Vec<Rect>, gap: u32) -> Vec<Vec<Rect>> {
    boxes.sort_by_key(|b| b[0]);
    let mut runs: Vec<Vec<Rect>> = Vec::new();
    for b in boxes {
        match runs.last_mut() {
            Some(run) if b[0] <= run.iter().map(|r| r[2]).max().unwrap_or(0) + gap => run.push(b),
            _ => runs.push(vec![b]),
        }
    }
    runs
}

/// Prepares a cell crop for Tesseract: the darkest ink stretched to black
/// (faint print reads as well as bold), and small digits enlarged to
/// `OCR_DIGIT_HEIGHT` pixels, the size Tesseract reads best.
pub(super) fn normalise_crop(crop: GrayImage, digit_height: u32) -> GrayImage {
    let darkest = crop.pixels().map(|p| p.0[0]).min().unwrap_or(0) as u32;
    let span = (255 - darkest).max(1);
    let stretched = GrayImage::from_fn(crop.width(), crop.height(), |x, y| {
        let v = crop.get_pixel(x, y).0[0] as u32;
        Luma([((v.saturating_sub(darkest)) * 255 / span) as u8])
    });
    if digit_height == 0 || digit_height >= OCR_DIGIT_HEIGHT {
        return stretched;
    }
    let scale = OCR_DIGIT_HEIGHT as f32 / digit_height as f32;
    let (w, h) = ((crop.width() as f32 * scale) as u32, (crop.height() as f32 * scale) as u32);
    resize::gray(&stretched, w, h, Filter::CatmullRom)
}

/// The ink threshold of a region: half-way between the paper and its
/// darkest print, so faint (blurred, thin) digits are ink as much as bold
/// ones; never above `MAX_INK_LEVEL`, so a blank region stays blank.
pub(super) fn ink_level(page: &GrayImage, region: Rect) -> u8 {
    let (_, darkest) = paper_and_darkest(page, region);
    ((darkest as u32 + 255) / 2).min(MAX_INK_LEVEL as u32) as u8
}

/// The paper's shade of a region (its median: a cell is mostly paper) and
/// its darkest print, ignoring the darkest few pixels (noise).
pub(super) fn paper_and_darkest(page: &GrayImage, region: Rect) -> (u8, u8) {
    let mut histogram = [0u32; 256];
    let mut total = 0u32;
    for y in region[1]..region[3].min(page.height()) {
        for x in region[0]..region[2].min(page.width()) {
            histogram[page.get_pixel(x, y).0[0] as usize] += 1;
            total += 1;
        }
    }
    let nth = |n: u32| {
        let mut seen = 0;
        for (v, &count) in histogram.iter().enumerate() {
            seen += count;
            if seen > n {
                return v as u8;
            }
        }
        255
    };
    (nth(total / 2), nth(total / 2000))
}

/// Marks the pixels of long horizontal ink runs (ruling lines, box tops
/// and bottoms) in a binary image; vertical rules are left to the
/// component filter, which knows a digit's shape. A run goes on across
/// breaks of up to `gap` pixels (a faint rule, photographed, breaks into
/// dashes).
pub(super) fn rule_mask(ink: &GrayImage, gap: u32) -> GrayImage {
    let (w, h) = ink.dimensions();
    let mut mask = GrayImage::new(w, h);
    for y in 0..h {
        let mut mark = |(start, end): (u32, u32)| {
            if end - start >= RULE_RUN_HORIZONTAL {
                for x in start..end {
                    mask.put_pixel(x, y, Luma([255]));
                }
            }
        };
        // The run being followed: its first column and one past its last.
        let mut run: Option<(u32, u32)> = None;
        for x in (0..w).filter(|&x| ink.get_pixel(x, y).0[0] > 0) {
            run = match run {
                Some((start, end)) if x - end <= gap => Some((start, x + 1)),
                ended => {
                    if let Some(ended) = ended {
                        mark(ended);
                    }
                    Some((x, x + 1))
                }
            };
        }
        if let Some(last) = run {
            mark(last);
        }
    }
    // Rules are blurred a pixel or two wider than their core runs.
    dilate_square(&mask, 1)
}

/// Where a stroke meets a rule (`rules`, a rule mask of the binary `ink`),
/// as column runs (x, top, bottom) to be kept: in a pixel column, an ink
/// run through the rule [`STROKE_OVER_RULE`] pixels longer than the rule is
/// thick there (the median run through it over [`RULE_THICKNESS_REACH`]
/// columns each side) is a digit crossing the rule, kept whole, or resting
/// on it, kept down to the rule's middle. Taken out with the rule, a digit
/// written on the line loses its foot, and a 6 its bowl.
pub(super) fn strokes_on_rules(ink: &GrayImage, rules: &GrayImage) -> Vec<(u32, u32, u32)> {
    let (w, h) = ink.dimensions();
    let on = |x: u32, y: u32| ink.get_pixel(x, y).0[0] > 0;
    let on_rule = |x: u32, y: u32| rules.get_pixel(x, y).0[0] > 0;
    // Each column's ink runs that touch a rule: (top, bottom) of the run,
    // and (first, last) of its rows on the rule.
    type Run = ((u32, u32), (u32, u32));
    let mut runs: Vec<Vec<Run>> = vec![Vec::new(); w as usize];
    for (x, column) in runs.iter_mut().enumerate() {
        let x = x as u32;
        let mut y = 0;
        while y < h {
            if !on(x, y) {
                y += 1;
                continue;
            }
            let top = y;
            let mut on_the_rule: Option<(u32, u32)> = None;
            while y < h && on(x, y) {
                if on_rule(x, y) {
                    on_the_rule = Some(on_the_rule.map_or((y, y + 1), |(first, _)| (first, y + 1)));
                }
                y += 1;
            }
            if let Some(rows) = on_the_rule {
                column.push(((top, y), rows));
            }
        }
    }
    let mut strokes = Vec::new();
    let mut near: Vec<u32> = Vec::new();
    for (x, column) in runs.iter().enumerate() {
        for &((top, bottom), (first, last)) in column {
            // The runs of the same rule nearby: those beside this one.
            let reach = x.saturating_sub(RULE_THICKNESS_REACH)..(x + RULE_THICKNESS_REACH + 1).min(w as usize);
            near.clear();
            near.extend(
                runs[reach].iter().flatten().filter(|((t, b), _)| *t < bottom && top < *b).map(|((t, b), _)| b - t),
            );
            let median = near.len() / 2;
            let thickness = *near.select_nth_unstable(median).1;
            if bottom - top >= thickness + STROKE_OVER_RULE {
                // A stroke resting on the rule from one side ends somewhere
                // in it: it is given the rule's near half.
                let half_way = (first + last) / 2;
                let (top, bottom) = match (first > top, last < bottom) {
                    (true, false) => (top, half_way),
                    (false, true) => (half_way, bottom),
                    _ => (top, bottom),
                };
                strokes.push((x as u32, top, bottom));
            }
        }
    }
    strokes
}

/// The vertical rules through `region` (ink darker than `level` in runs at
/// least `run` long), judged on the page from `run` above it to `run`
/// below it, in region coordinates. A table's column rule runs on through
/// the rows around a cell: judged on a low row alone, its piece there is
/// shorter than `run`, stays, and reads as a 1.
fn vertical_rules_through(page: &GrayImage, region: Rect, level: u8, run: u32) -> GrayImage {
    let [l, t, r, b] = region;
    let (top, bottom) = (t.saturating_sub(run), (b + run).min(page.height()));
    let strip = GrayImage::from_fn(r - l, bottom - top, |x, y| {
        Luma([if page.get_pixel(l + x, top + y).0[0] < level { 255 } else { 0 }])
    });
    let mask = vertical_rule_mask(&strip, run);
    image::imageops::crop_imm(&mask, 0, t - top, r - l, b - t).to_image()
}

/// Marks the pixels of vertical ink runs at least `run` long (box sides,
/// a table's column rules) in a binary image, widened by a pixel for blur.
pub(super) fn vertical_rule_mask(ink: &GrayImage, run: u32) -> GrayImage {
    let (w, h) = ink.dimensions();
    let mut mask = GrayImage::new(w, h);
    for x in 0..w {
        let mut start = 0;
        for y in 0..=h {
            if y == h || ink.get_pixel(x, y).0[0] == 0 {
                if y - start >= run {
                    for yy in start..y {
                        mask.put_pixel(x, yy, Luma([255]));
                    }
                }
                start = y + 1;
            }
        }
    }
    dilate_square(&mask, 1)
}

/// `mask` grown by `radius` pixels every way, corners included: white
/// wherever a non-zero pixel stands within the square around it, as
/// imageproc's `dilate` with the L∞ norm makes it, but by a sliding count
/// along each row and rows or-ed together, not a distance transform of
/// the whole mask (a seventieth of a scan's time).
pub fn dilate_square(mask: &GrayImage, radius: u8) -> GrayImage {
    let (width, height) = (mask.width() as usize, mask.height() as usize);
    let reach = radius as usize;
    let mut across = vec![0u8; width * height];
    for (row, out) in mask.as_raw().chunks_exact(width.max(1)).zip(across.chunks_exact_mut(width.max(1))) {
        // Ink pixels in the window [x - reach, x + reach].
        let mut count = row.iter().take(reach).filter(|&&v| v > 0).count();
        for x in 0..width {
            count += usize::from(row.get(x + reach).is_some_and(|&v| v > 0));
            if x > reach {
                count -= usize::from(row[x - reach - 1] > 0);
            }
            out[x] = if count > 0 { 255 } else { 0 };
        }
    }
    let mut grown = GrayImage::new(mask.width(), mask.height());
    for (y, out) in grown.chunks_exact_mut(width.max(1)).enumerate() {
        for near in y.saturating_sub(reach)..(y + reach + 1).min(height) {
            let row = &across[near * width..(near + 1) * width];
            out.iter_mut().zip(row).for_each(|(o, &v)| *o |= v);
        }
    }
    grown
}

/// The glyphs side by side, left to right, each as the box of its parts:
/// boxes that share most of the narrower one's columns are parts of one
/// glyph (a "5" broken into its bar and its bowl).
pub(super) fn glyph_columns(boxes: &[Rect]) -> Vec<Rect> {
    joined_where(boxes, |a, b| share_columns(a, b, 0.5))
}

/// Whether boxes `a` and `b` share at least `share` of the narrower one's
/// columns.
pub(super) fn share_columns(a: &Rect, b: &Rect, share: f32) -> bool {
    let overlap = a[2].min(b[2]).saturating_sub(a[0].max(b[0])) as f32;
    overlap >= share * width(a).min(width(b)) as f32
}

/// Boxes joined into one wherever `joins` says a box belongs with one
/// already joined (taken left to right), the result left to right.
pub(super) fn joined_where(boxes: &[Rect], joins: impl Fn(&Rect, &Rect) -> bool) -> Vec<Rect> {
    let mut sorted = boxes.to_vec();
    sorted.sort_unstable_by_key(|b| (b[0], b[2]));
    let mut joined: Vec<Rect> = Vec::new();
    for b in sorted {
        match joined.iter_mut().find(|c| joins(&b, c)) {
            Some(c) => *c = [c[0].min(b[0]), c[1].min(b[1]), c[2].max(b[2]), c[3].max(b[3])],
            None => joined.push(b),
        }
    }
    joined.sort_unstable_by_key(|c| c[0]);
    joined
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growing_a_mask_is_imageprocs_linf_dilation() {
        use imageproc::distance_transform::Norm;
        let scattered =
            GrayImage::from_fn(53, 41, |x, y| Luma([if (x * 31 + y * 17 + x * y) % 23 == 0 { 200 } else { 0 }]));
        let sparse =
            GrayImage::from_fn(40, 30, |x, y| Luma([if (x, y) == (0, 29) || (x, y) == (21, 7) { 1 } else { 0 }]));
        let empty = GrayImage::new(20, 9);
        let line = GrayImage::from_fn(30, 1, |x, _| Luma([if x == 12 { 255 } else { 0 }]));
        for mask in [&scattered, &sparse, &empty, &line] {
            for radius in 0..4 {
                assert_eq!(
                    dilate_square(mask, radius),
                    imageproc::morphology::dilate(mask, Norm::LInf, radius),
                    "{radius}"
                );
            }
        }
    }

    #[test]
    fn a_rule_broken_into_dashes_is_a_rule_only_when_its_breaks_are_bridged() {
        // A 100-pixel underline on row 5, broken every 12 pixels for 2;
        // on row 9, a count's digits' feet, 8 pixels apart.
        let ink = GrayImage::from_fn(120, 12, |x, y| {
            let dash = y == 5 && (10..110).contains(&x) && x % 14 < 12;
            let feet = y == 9 && x % 16 < 8;
            Luma([if dash || feet { 255 } else { 0 }])
        });
        let on_row = |mask: &GrayImage, y: u32| (0..120).filter(|&x| mask.get_pixel(x, y).0[0] > 0).count();
        assert_eq!(on_row(&rule_mask(&ink, 0), 5), 0, "unbridged, no dash is long enough");
        let bridged = rule_mask(&ink, 3);
        assert!(on_row(&bridged, 5) >= 100, "bridged, the dashes are one rule");
        assert_eq!(on_row(&bridged, 9), 0, "feet farther apart than the bridge are no rule");
    }

    #[test]
    fn digits_on_a_rule_keep_their_feet_and_stay_apart() {
        // A rule 4 px thick across a 300 × 60 region (rows 40–43); two
        // strokes 3 px wide rest on it, 4 px apart (bottoms in the rule),
        // and one crosses it.
        let page = GrayImage::from_fn(300, 60, |x, y| {
            let rule = (40..44).contains(&y);
            let rests = (100..103).contains(&x) || (107..110).contains(&x);
            let crosses = (200..203).contains(&x);
            let ink = rule || (rests && (15..42).contains(&y)) || (crosses && (15..56).contains(&y));
            Luma([if ink { 20 } else { 235 }])
        });
        let ink = cell_ink(&page, [0, 0, 300, 60], 128, &[], None, 0);
        let boxes: Vec<Rect> = ink.boxes.values().map(|(b, _)| *b).collect();
        // The rule's mask is rows 39–44 (widened a pixel for blur). Each
        // resting stroke keeps the rule's upper half as a foot (to row 40);
        // the crossing one all of it, its part below staying a piece of
        // its own, stacked under it.
        assert_eq!(boxes, vec![[100, 15, 103, 41], [107, 15, 110, 41], [200, 15, 203, 45], [200, 45, 203, 56]]);
        let removed = |x: u32, y: u32| ink.removed.get_pixel(x, y).0[0] > 0;
        assert!(removed(50, 41) && !removed(101, 40) && removed(101, 42) && !removed(201, 42));
    }

    #[test]
    fn a_column_rule_through_a_low_row_is_a_rule_and_a_written_one_is_not() {
        // A column rule 2 px wide down the whole page at x 20–21; a row from
        // y 100 to 130, lower than the rule run (40); a written 1 at x 60,
        // from y 104 to 126, in the row only.
        let page = GrayImage::from_fn(120, 240, |x, y| {
            let rule = (20..22).contains(&x);
            let one = (60..63).contains(&x) && (104..126).contains(&y);
            Luma([if rule || one { 20 } else { 235 }])
        });
        let ink = cell_ink(&page, [10, 100, 110, 130], 128, &[], Some(40), 0);
        let boxes: Vec<Rect> = ink.boxes.values().map(|(b, _)| *b).collect();
        assert_eq!(boxes, vec![[50, 4, 53, 26]], "the rule is taken out, the 1 stays");
        assert!(ink.removed.get_pixel(10, 15).0[0] > 0);
    }

    #[test]
    fn glyph_columns_merge_overlapping_parts() {
        // A small piece first by its left edge still joins its glyph.
        assert_eq!(glyph_columns(&[[6, 14, 8, 21], [6, 6, 25, 21]]), vec![[6, 6, 25, 21]]);
        let boxes = [[0, 0, 10, 20], [12, 0, 22, 20], [13, 5, 21, 8], [30, 0, 40, 20]];
        assert_eq!(glyph_columns(&boxes).len(), 3);
    }
}
