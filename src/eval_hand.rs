//! The two handwriting readers measured apart and together:
//! `protocol-ocr eval-sequence`.
//!
//! Counts are composed from MNIST's test digits 5000–9999 (written by
//! people neither network was trained on) by the training's own composer,
//! each read by the sequence reader (the whole count at once) and by the
//! glyph reader (the count cut into digits, each classified). Printed: how
//! often each is right, how often they agree and how often a count they
//! agree on is right, and the calibration table of the two readers'
//! weighed confidence (with `--calibrate`, the calibration fitted anew).

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use candle_core::{DType, Device};
use candle_nn::VarBuilder;
use rayon::prelude::*;

use crate::digits::mnist::{Mnist, HELD_OUT};
use crate::digits::sequence::{self, SequenceNet};
use crate::digits::sequence_train::measuring_counts;
use crate::scan::check::CONFIDENCE_THRESHOLD;
use crate::scan::hand::read_hand_crop;
use crate::scan::second_opinion::{sequence_count_in_place, Calibration};

/// The sequence reader's confidences from which its dissent is tallied.
const DISSENT_FLOORS: [f32; 3] = [0.5, 0.9, 0.98];
/// Confidence bands of the calibration table, lowest bound first.
const BANDS: [f32; 8] = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.995, 0.999];
/// The calibration's fit: Newton steps at most, and the ridge that keeps
/// its weights finite on separable counts.
const FIT_STEPS: usize = 100;
const FIT_RIDGE: f64 = 1e-4;

/// One count's readings.
struct Readings {
    truth: String,
    /// The sequence reader alone, on the composed image.
    sequence: Option<(String, f32)>,
    /// The glyph reader alone: its value and confidence before the second
    /// opinion.
    glyphs: Option<(String, f32)>,
    /// The scan's handwriting reader: the glyph reader's value with the
    /// two readers' calibrated confidence, and the sequence reader's
    /// confidence on the same crop and whether it agreed.
    combined: Option<(String, f32)>,
    opinion: Option<(f32, bool)>,
    /// Seconds each reader took over this count.
    sequence_seconds: f64,
    glyphs_seconds: f64,
}

/// Runs both readers over `count` composed counts and renders the figures;
/// with `calibrate`, also fits the calibration of the two readers'
/// confidences on these counts and prints its weights.
pub fn compare(
    mnist_dir: Option<&Path>,
    network_file: Option<&Path>,
    count: usize,
    seed: u64,
    calibrate: bool,
) -> anyhow::Result<String> {
    let set = Mnist::test_set(mnist_dir)?;
    let from_file = network_file.map(load_network).transpose()?;
    let net = from_file.as_ref();
    let counts = measuring_counts(&set, HELD_OUT, seed, count);
    let readings: Vec<Readings> = counts
        .par_iter()
        .map(|(digits, image)| {
            let started = Instant::now();
            let read = read_count(net, image);
            let sequence_seconds = started.elapsed().as_secs_f64();
            let started = Instant::now();
            // No rules here to confirm the glyph reader: the surer dissent stands.
            let hand = read_hand_crop(image);
            let hand = sequence_count_in_place(&hand).unwrap_or(hand);
            let glyphs_seconds = started.elapsed().as_secs_f64();
            let value = hand.value.map(|v| v.to_string());
            let opinion = hand.second_opinion.as_ref();
            // The glyph reader's own count, where the sequence reader's took its place.
            let glyph_value = opinion.and_then(|o| o.overruled).or(hand.value).map(|v| v.to_string());
            Readings {
                truth: digits.iter().map(|d| char::from(b'0' + d)).collect(),
                sequence: read.map(|r| (r.count_digits().to_string(), r.confidence)),
                glyphs: glyph_value.zip(opinion.map(|o| o.glyph_confidence)),
                combined: value.zip(Some(hand.confidence)),
                opinion: opinion.map(|o| (o.confidence, o.agree)),
                sequence_seconds,
                glyphs_seconds,
            }
        })
        .collect();
    let mut out = render(&readings);
    if calibrate {
        let weights = fit_calibration(&readings);
        let _ = writeln!(out, "calibration fitted on these counts: {:?}", Calibration::from_weights(weights));
    }
    Ok(out)
}

/// A sequence network saved by `train-sequence`.
fn load_network(path: &Path) -> anyhow::Result<SequenceNet> {
    let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[path], DType::F32, &Device::Cpu)? };
    Ok(SequenceNet::new(vb)?)
}

/// `image` read by `net`, or by the committed network.
fn read_count(net: Option<&SequenceNet>, image: &image::GrayImage) -> Option<sequence::SequenceRead> {
    match net {
        Some(net) => sequence::read_with(net, image),
        None => sequence::read_sequence(image),
    }
}

/// Whether a reading gives the true count (by value: a count with a
/// leading zero is read by value by the glyph reader).
fn same_value(read: &Option<(String, f32)>, truth: &str) -> bool {
    read.as_ref().is_some_and(|(s, _)| s.parse::<u64>().ok() == truth.parse::<u64>().ok())
}

/// Logistic regression of "the glyph reader's value is right" on the
/// calibration's features (Newton's method, a small ridge): its weights.
fn fit_calibration(readings: &[Readings]) -> [f64; 5] {
    let rows: Vec<([f64; 5], f64)> = readings
        .iter()
        .filter_map(|r| {
            let (_, glyph) = r.glyphs.as_ref()?;
            let (sequence, agree) = r.opinion?;
            let right = if same_value(&r.glyphs, &r.truth) { 1.0 } else { 0.0 };
            Some((Calibration::features(*glyph, sequence, agree), right))
        })
        .collect();
    let n = rows.len().max(1) as f64;
    let mut w = [0.0f64; 5];
    for _ in 0..FIT_STEPS {
        let mut gradient = [0.0f64; 5];
        let mut hessian = [[0.0f64; 5]; 5];
        for (x, y) in &rows {
            let z: f64 = x.iter().zip(&w).map(|(x, w)| x * w).sum();
            let p = 1.0 / (1.0 + (-z).exp());
            for ((g, row), xi) in gradient.iter_mut().zip(hessian.iter_mut()).zip(x) {
                *g += (p - y) * xi / n;
                for (h, xj) in row.iter_mut().zip(x) {
                    *h += p * (1.0 - p) * xi * xj / n;
                }
            }
        }
        for (i, (g, row)) in gradient.iter_mut().zip(hessian.iter_mut()).enumerate() {
            *g += FIT_RIDGE * w[i];
            row[i] += FIT_RIDGE;
        }
        let step = solve(hessian, gradient);
        w.iter_mut().zip(step).for_each(|(w, s)| *w -= s);
        if step.iter().all(|s| s.abs() < 1e-9) {
            break;
        }
    }
    w
}

/// Solves `a x = b` by Gaussian elimination with partial pivoting (`a` is
/// positive definite here: a Hessian with a ridge).
fn solve(mut a: [[f64; 5]; 5], mut b: [f64; 5]) -> [f64; 5] {
    for col in 0..5 {
        let pivot = (col..5).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs())).unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (pivot_row, pivot_b) = (a[col], b[col]);
        for (row, rhs) in a.iter_mut().zip(b.iter_mut()).skip(col + 1) {
            let f = row[col] / pivot_row[col];
            row.iter_mut().zip(pivot_row).skip(col).for_each(|(x, p)| *x -= f * p);
            *rhs -= f * pivot_b;
        }
    }
    let mut x = [0.0f64; 5];
    for row in (0..5).rev() {
        let rest: f64 = (row + 1..5).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - rest) / a[row][row];
    }
    x
}

fn render(readings: &[Readings]) -> String {
    let n = readings.len().max(1) as f32;
    let right = |r: &Option<(String, f32)>, truth: &str| r.as_ref().is_some_and(|(s, _)| s == truth);
    let sequence_right = readings.iter().filter(|r| same_value(&r.sequence, &r.truth)).count();
    let sequence_exact = readings.iter().filter(|r| right(&r.sequence, &r.truth)).count();
    let glyphs_right = readings.iter().filter(|r| same_value(&r.glyphs, &r.truth)).count();
    let agree: Vec<&Readings> = readings.iter().filter(|r| r.opinion.is_some_and(|(_, agree)| agree)).collect();
    let agree_right = agree.iter().filter(|r| same_value(&r.glyphs, &r.truth)).count();
    let mut out = String::new();
    let _ = writeln!(out, "{} counts composed from MNIST t10k digits 5000-9999", readings.len());
    let _ = writeln!(
        out,
        "sequence reader right      {:.4}  (digit for digit {:.4})",
        sequence_right as f32 / n,
        sequence_exact as f32 / n
    );
    let _ = writeln!(out, "glyph reader right         {:.4}", glyphs_right as f32 / n);
    let _ = writeln!(
        out,
        "both agree                 {:.4}  (right when they agree {:.4})",
        agree.len() as f32 / n,
        agree_right as f32 / agree.len().max(1) as f32
    );
    // Where the two disagree: how often the sequence reader, when it is
    // the surer of the two and sure, has the count the glyph reader missed.
    for floor in DISSENT_FLOORS {
        let surer: Vec<&Readings> = readings
            .iter()
            .filter(|r| r.opinion.is_some_and(|(_, agree)| !agree))
            .filter(|r| match (&r.sequence, &r.glyphs) {
                (Some((_, s)), Some((_, g))) => *s >= floor && s > g,
                _ => false,
            })
            .collect();
        let right = surer.iter().filter(|r| same_value(&r.sequence, &r.truth)).count();
        let glyphs_right = surer.iter().filter(|r| same_value(&r.glyphs, &r.truth)).count();
        let _ = writeln!(
            out,
            "disagreeing, the sequence reader the surer at >= {floor:.2}: {} counts, it is right {:.4}, the glyph reader {:.4}",
            surer.len(),
            right as f32 / surer.len().max(1) as f32,
            glyphs_right as f32 / surer.len().max(1) as f32
        );
    }
    // What the scan accepts: the glyph reader alone at the acceptance
    // threshold, and the two readers' calibrated confidence there.
    for (name, of) in [("glyph reader alone", 0), ("both readers weighed", 1)] {
        let pick = |r: &Readings| if of == 0 { r.glyphs.clone() } else { r.combined.clone() };
        let sure: Vec<&Readings> =
            readings.iter().filter(|r| pick(r).is_some_and(|(_, c)| c >= CONFIDENCE_THRESHOLD)).collect();
        let sure_right = sure.iter().filter(|r| same_value(&pick(r), &r.truth)).count();
        let _ = writeln!(
            out,
            "{name:<20} at >= {CONFIDENCE_THRESHOLD:.2}: {:.4} of counts, right {:.4} ({} wrong)",
            sure.len() as f32 / n,
            sure_right as f32 / sure.len().max(1) as f32,
            sure.len() - sure_right
        );
    }
    let milliseconds = |seconds: f64| seconds * 1000.0 / n as f64;
    let _ = writeln!(
        out,
        "milliseconds per count     sequence {:.2}, glyph reader with the sequence's opinion {:.2}",
        milliseconds(readings.iter().map(|r| r.sequence_seconds).sum()),
        milliseconds(readings.iter().map(|r| r.glyphs_seconds).sum())
    );
    let _ = writeln!(out, "calibration: confidence band   counts   share right");
    for (i, low) in BANDS.iter().enumerate() {
        let high = BANDS.get(i + 1).copied().unwrap_or(1.01);
        let in_band: Vec<&Readings> =
            readings.iter().filter(|r| r.combined.as_ref().is_some_and(|(_, c)| *c >= *low && *c < high)).collect();
        let right = in_band.iter().filter(|r| same_value(&r.combined, &r.truth)).count();
        let share =
            if in_band.is_empty() { "-".to_string() } else { format!("{:.4}", right as f32 / in_band.len() as f32) };
        let _ = writeln!(
            out,
            "[{low:.3}, {:.3}{}                {:>6}   {share}",
            high.min(1.0),
            if high > 1.0 { "]" } else { ")" },
            in_band.len()
        );
    }
    out
}

/// One saved cell: its true value, the scan's and the sequence reader's.
struct SavedCell {
    /// The crop's file name: the photo's and the value's key.
    name: String,
    truth: u64,
    scanned: Option<u64>,
    sequence: Option<(String, f32)>,
}

/// The sequence reader on the cells a scan saved with `--debug-dir` (each
/// value's crop as `FILE.KEY.png`), against a truth file: how often it reads
/// the true value, beside how often the scan's own reading (from its
/// results) was right on the same cells. Cells whose truth is blank are left
/// out.
pub fn compare_on_crops(
    crops: &Path,
    truth: &Path,
    results: &Path,
    network_file: Option<&Path>,
) -> anyhow::Result<String> {
    let from_file = network_file.map(load_network).transpose()?;
    let truths = crate::eval::read_truth(truth)?;
    let scanned = crate::result::read_results(results)?;
    let mut rows: Vec<SavedCell> = Vec::new();
    let mut names: Vec<std::path::PathBuf> = std::fs::read_dir(crops)
        .map_err(|e| anyhow::anyhow!("{}: {e}", crops.display()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "png"))
        .collect();
    names.sort();
    for path in names {
        let name = path.file_stem().map(|s| s.to_string_lossy().to_string()).unwrap_or_default();
        let prefix = |t: &crate::eval::Truth| format!("{}.", t.file.replace('/', "__"));
        let Some(t) = truths.iter().find(|t| name.starts_with(&prefix(t))) else {
            continue;
        };
        let key = &name[prefix(t).len()..];
        let true_value = match key.strip_prefix("votes.") {
            Some(party) => t.votes.get(party),
            None => t.fields.get(key),
        };
        let Some(Some(true_value)) = true_value.copied() else { continue };
        let scan_value = scanned.iter().find(|r| r.file == t.file).and_then(|r| match key.strip_prefix("votes.") {
            Some(party) => r.votes.get(party).copied().flatten(),
            None => r.fields.get(key).copied().flatten(),
        });
        let image = image::open(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?.to_luma8();
        let read = read_count(from_file.as_ref(), &image).map(|r| (r.count_digits().to_string(), r.confidence));
        rows.push(SavedCell { name: name.clone(), truth: true_value, scanned: scan_value, sequence: read });
    }
    let n = rows.len().max(1) as f32;
    let value = |r: &Option<(String, f32)>| r.as_ref().and_then(|(s, _)| s.parse::<u64>().ok());
    let sequence_right = rows.iter().filter(|c| value(&c.sequence) == Some(c.truth)).count();
    let scan_right = rows.iter().filter(|c| c.scanned == Some(c.truth)).count();
    let agree = rows.iter().filter(|c| c.scanned.is_some() && value(&c.sequence) == c.scanned).count();
    let agree_right = rows.iter().filter(|c| c.scanned == Some(c.truth) && value(&c.sequence) == c.scanned).count();
    let mut out = String::new();
    let _ = writeln!(out, "{} saved cells with a true value", rows.len());
    let _ = writeln!(out, "sequence reader right      {:.4}", sequence_right as f32 / n);
    let _ = writeln!(out, "the scan's reading right   {:.4}", scan_right as f32 / n);
    let _ = writeln!(
        out,
        "both agree                 {:.4}  (right when they agree {:.4})",
        agree as f32 / n,
        agree_right as f32 / agree.max(1) as f32
    );
    let _ = writeln!(out, "\ncells either reader read wrong (truth, sequence reader at its confidence, the scan):");
    for c in rows.iter().filter(|c| value(&c.sequence) != Some(c.truth) || c.scanned != Some(c.truth)) {
        let sequence = c.sequence.as_ref().map_or("no ink".to_string(), |(s, p)| format!("'{s}' {p:.2}"));
        let scanned = c.scanned.map_or("-".to_string(), |v| v.to_string());
        let _ = writeln!(out, "{:<60} {:>6}  {:>14}  {:>6}", c.name, c.truth, sequence, scanned);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solve_finds_the_solution_of_a_pivoted_system() {
        // A zero on the diagonal's first place needs the pivot.
        let a = [
            [0.0, 2.0, 0.0, 0.0, 1.0],
            [1.0, 0.0, 0.0, 0.0, 0.0],
            [0.0, 0.0, 3.0, 0.0, 0.0],
            [0.0, 0.0, 1.0, 4.0, 0.0],
            [0.0, 1.0, 0.0, 0.0, 5.0],
        ];
        let x = [1.0, -2.0, 0.5, 3.0, 0.25];
        let b: [f64; 5] = std::array::from_fn(|i| a[i].iter().zip(x).map(|(a, x)| a * x).sum());
        let solved = solve(a, b);
        for (s, x) in solved.iter().zip(x) {
            assert!((s - x).abs() < 1e-9, "{solved:?}");
        }
    }
}
