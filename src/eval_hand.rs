//! The two handwriting readers measured apart and together:
//! `protocol-ocr eval-sequence`.
//!
//! Counts are composed from MNIST's test digits 5000–9999 (written by
//! people neither network was trained on) by the training's own composer,
//! each read by the sequence reader (the whole count at once) and by the
//! glyph reader (the count cut into digits, each classified). Printed: how
//! often each is right, how often they agree and how often a count they
//! agree on is right, and the sequence reader's calibration table.

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

/// Bands of the sequence reader's confidence, lowest bound first.
const BANDS: [f32; 7] = [0.0, 0.5, 0.8, 0.9, 0.95, 0.98, 0.995];

/// One count's readings.
struct Readings {
    truth: String,
    sequence: Option<(String, f32)>,
    glyphs: Option<(String, f32)>,
    /// Seconds each reader took over this count.
    sequence_seconds: f64,
    glyphs_seconds: f64,
}

/// Runs both readers over `count` composed counts and renders the figures.
pub fn compare(
    mnist_dir: Option<&Path>,
    network_file: Option<&Path>,
    count: usize,
    seed: u64,
) -> anyhow::Result<String> {
    let set = Mnist::test_set(mnist_dir)?;
    let from_file;
    let net: Option<&SequenceNet> = match network_file {
        Some(path) => {
            let vb = unsafe { VarBuilder::from_mmaped_safetensors(&[path], DType::F32, &Device::Cpu)? };
            from_file = SequenceNet::new(vb)?;
            Some(&from_file)
        }
        None => None,
    };
    let counts = measuring_counts(&set, HELD_OUT, seed, count);
    let readings: Vec<Readings> = counts
        .par_iter()
        .map(|(digits, image)| {
            let started = Instant::now();
            let read = match net {
                Some(net) => sequence::read_with(net, image),
                None => sequence::read_sequence(image),
            };
            let sequence_seconds = started.elapsed().as_secs_f64();
            let started = Instant::now();
            let glyphs = read_hand_crop(image);
            let glyphs_seconds = started.elapsed().as_secs_f64();
            Readings {
                truth: digits.iter().map(|d| char::from(b'0' + d)).collect(),
                sequence: read.map(|r| (r.digits, r.confidence)),
                glyphs: glyphs.value.map(|v| (v.to_string(), glyphs.confidence)),
                sequence_seconds,
                glyphs_seconds,
            }
        })
        .collect();
    Ok(render(&readings))
}

fn render(readings: &[Readings]) -> String {
    let n = readings.len().max(1) as f32;
    let right = |r: &Option<(String, f32)>, truth: &str| r.as_ref().is_some_and(|(s, _)| s == truth);
    // A count with a leading zero is read by value by the glyph reader.
    let same_value = |r: &Option<(String, f32)>, truth: &str| {
        r.as_ref().is_some_and(|(s, _)| s.parse::<u64>().ok() == truth.parse::<u64>().ok())
    };
    let sequence_right = readings.iter().filter(|r| same_value(&r.sequence, &r.truth)).count();
    let sequence_exact = readings.iter().filter(|r| right(&r.sequence, &r.truth)).count();
    let glyphs_right = readings.iter().filter(|r| same_value(&r.glyphs, &r.truth)).count();
    let value = |r: &Option<(String, f32)>| r.as_ref().and_then(|(s, _)| s.parse::<u64>().ok());
    let agree: Vec<&Readings> =
        readings.iter().filter(|r| value(&r.sequence).is_some() && value(&r.sequence) == value(&r.glyphs)).collect();
    let agree_right = agree.iter().filter(|r| same_value(&r.sequence, &r.truth)).count();
    let mut out = String::new();
    let _ = writeln!(out, "{} counts composed from MNIST t10k digits 5000-9999", readings.len());
    let _ = writeln!(
        out,
        "sequence reader right      {:.4}  (digit for digit {:.4})",
        sequence_right as f32 / n,
        sequence_exact as f32 / n
    );
    let _ = writeln!(out, "glyph reader right         {:.4}", glyphs_right as f32 / n);
    // What the scan accepts of the glyph reader alone: its readings at the
    // acceptance threshold or above.
    let sure: Vec<&Readings> =
        readings.iter().filter(|r| r.glyphs.as_ref().is_some_and(|(_, c)| *c >= CONFIDENCE_THRESHOLD)).collect();
    let sure_right = sure.iter().filter(|r| same_value(&r.glyphs, &r.truth)).count();
    let _ = writeln!(
        out,
        "glyph reader at >= {CONFIDENCE_THRESHOLD:.2}    {:.4}  (right when so {:.4})",
        sure.len() as f32 / n,
        sure_right as f32 / sure.len().max(1) as f32
    );
    let _ = writeln!(
        out,
        "both agree                 {:.4}  (right when they agree {:.4})",
        agree.len() as f32 / n,
        agree_right as f32 / agree.len().max(1) as f32
    );
    let milliseconds = |seconds: f64| seconds * 1000.0 / n as f64;
    let _ = writeln!(
        out,
        "milliseconds per count     sequence {:.2}, glyph reader {:.2}",
        milliseconds(readings.iter().map(|r| r.sequence_seconds).sum()),
        milliseconds(readings.iter().map(|r| r.glyphs_seconds).sum())
    );
    let _ = writeln!(out, "sequence confidence band   counts   share right");
    for (i, low) in BANDS.iter().enumerate() {
        let high = BANDS.get(i + 1).copied().unwrap_or(1.01);
        let in_band: Vec<&Readings> =
            readings.iter().filter(|r| r.sequence.as_ref().is_some_and(|(_, c)| *c >= *low && *c < high)).collect();
        let right = in_band.iter().filter(|r| same_value(&r.sequence, &r.truth)).count();
        let share =
            if in_band.is_empty() { "-".to_string() } else { format!("{:.4}", right as f32 / in_band.len() as f32) };
        let _ = writeln!(
            out,
            "[{low:.3}, {:.3}{}     {:>6}   {share}",
            high.min(1.0),
            if high > 1.0 { "]" } else { ")" },
            in_band.len()
        );
    }
    out
}

/// One saved cell: its true value, the scan's and the sequence reader's.
struct SavedCell {
    truth: u64,
    scanned: Option<u64>,
    sequence: Option<(String, f32)>,
}

/// The sequence reader on the cells a scan saved with `--debug-dir` (each
/// value's crop as `FILE.KEY.png`), against a truth file: how often it reads
/// the true value, beside how often the scan's own reading (from its
/// results) was right on the same cells. Cells whose truth is blank are left
/// out.
pub fn compare_on_crops(crops: &Path, truth: &Path, results: &Path) -> anyhow::Result<String> {
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
        let read = sequence::read_sequence(&image).map(|r| (r.digits, r.confidence));
        rows.push(SavedCell { truth: true_value, scanned: scan_value, sequence: read });
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
    Ok(out)
}
