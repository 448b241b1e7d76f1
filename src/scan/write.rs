//! Stage 7, write: results.jsonl, results.csv and summary.json.
//!
//! `results.jsonl` is the contract (one line per input file, ordered by
//! file); the CSV is the same in a spreadsheet's shape, one column per form
//! line; the summary counts statuses, flag kinds and elections and says
//! where the time went. Also the debug images.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use image::{Rgb, RgbImage};
use imageproc::drawing::draw_hollow_rect_mut;
use serde::Serialize;

use super::reading::Reading;
use super::{ResumeReport, ScanOptions, StageTimes};
use crate::manifest::{Manifest, ManifestFile, ManifestModel, MANIFEST_FILE};
use crate::model::{FormModel, LineKind};
use crate::result::{ProtocolResult, Status};

/// Writes `bytes` to a temporary file of a unique name beside `path`,
/// flushes it to disk and renames it over `path`, so a reader never sees
/// half a file; on failure the temporary file is removed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir).with_context(|| format!("cannot write {}", path.display()))?;
    tmp.write_all(bytes).with_context(|| format!("cannot write {}", path.display()))?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).with_context(|| format!("cannot write {}", path.display()))?;
    Ok(())
}

/// Writes the three output files.
pub fn write_outputs(
    model: &FormModel,
    out: &Path,
    results: &[ProtocolResult],
    times: &StageTimes,
    wall_seconds: f64,
    options: &ScanOptions,
    resume: &ResumeReport,
) -> Result<()> {
    let mut jsonl = String::new();
    for r in results {
        jsonl.push_str(&serde_json::to_string(r)?);
        jsonl.push('\n');
    }
    write_atomically(&out.join("results.jsonl"), jsonl.as_bytes())?;
    write_atomically(&out.join("results.csv"), &csv_bytes(model, results)?)?;
    let manifest = manifest(model, results, jsonl.as_bytes(), options);
    write_atomically(&out.join(MANIFEST_FILE), serde_json::to_string_pretty(&manifest)?.as_bytes())?;
    let summary = summary(model, results, times, wall_seconds, options, &manifest.root_sha256, resume);
    // Through a JSON map, so its keys are written sorted.
    let summary = serde_json::to_value(summary)?;
    write_atomically(&out.join("summary.json"), serde_json::to_string_pretty(&summary)?.as_bytes())?;
    Ok(())
}

/// The manifest of the inputs the results were made from, and of the
/// results file's bytes.
pub fn manifest(
    model: &FormModel,
    results: &[ProtocolResult],
    results_jsonl: &[u8],
    options: &ScanOptions,
) -> Manifest {
    let files = results
        .iter()
        .map(|r| ManifestFile {
            path: r.file.clone(),
            size: r.size,
            sha256: (!r.sha256.is_empty()).then(|| r.sha256.clone()),
        })
        .collect();
    let model = ManifestModel::of(model);
    // An absolute path, so `verify` finds the photos from any folder.
    let input = options.input.canonicalize().unwrap_or_else(|_| options.input.clone());
    Manifest::new(&input, options.follow_symlinks, model, results_jsonl, files)
}

/// The most memory this process has held (resident), in MiB, where the
/// system says (Linux's `VmHWM`).
pub fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some((kib / 1024.0 * 10.0).round() / 10.0)
}

fn csv_bytes(model: &FormModel, results: &[ProtocolResult]) -> Result<Vec<u8>> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> =
        ["file", "status", "election", "station", "region"].iter().map(|s| s.to_string()).collect();
    header.extend(model.lines.iter().map(|l| l.key.clone()));
    header.extend(["flags", "skew_deg", "duplicate_of", "error", "sha256"].iter().map(|s| s.to_string()));
    w.write_record(&header)?;
    for r in results {
        let mut row = vec![
            r.file.clone(),
            r.status.as_str().to_string(),
            r.election.clone().unwrap_or_default(),
            r.station.clone().unwrap_or_default(),
            r.region.clone().unwrap_or_default(),
        ];
        for line in &model.lines {
            let v = match line.kind {
                LineKind::Field => r.fields.get(&line.short_key),
                LineKind::Party => r.votes.get(&line.short_key),
            };
            row.push(v.copied().flatten().map(|v| v.to_string()).unwrap_or_default());
        }
        row.push(r.flags.join(";"));
        row.push(r.skew_deg.map(|s| s.to_string()).unwrap_or_default());
        row.push(r.duplicate_of.clone().unwrap_or_default());
        row.push(r.error.clone().unwrap_or_default());
        row.push(r.sha256.clone());
        crate::spreadsheet::write_record(&mut w, &row)?;
    }
    Ok(w.into_inner()?)
}

/// summary.json: what a scan made of its folder, and what it cost.
#[derive(Serialize)]
pub struct Summary<'a> {
    pub files: usize,
    /// Files per status (every status present, 0 where none).
    pub status: BTreeMap<&'static str, usize>,
    /// Files per flag kind (a file counted once per kind).
    pub flags: BTreeMap<String, usize>,
    /// Files per election and status (`unknown` where none was read).
    pub elections: BTreeMap<String, BTreeMap<&'static str, usize>>,
    /// Worker-seconds per stage, summed over the workers.
    pub stage_seconds: BTreeMap<&'static str, f64>,
    /// Pages whose labels needed Tesseract's layout of the whole page (the
    /// others were told by their text segments alone, at a fraction of the
    /// cost); each way up tried counts.
    pub whole_page_reads: u64,
    pub wall_seconds: f64,
    pub jobs: usize,
    pub input: String,
    pub model: ManifestModel,
    pub tool_version: &'static str,
    pub peak_memory_mib: Option<f64>,
    pub manifest_root_sha256: &'a str,
    pub resume: Resumed<'a>,
}

/// What a run took over from an interrupted one.
#[derive(Serialize)]
pub struct Resumed<'a> {
    pub reused: usize,
    pub changed_since_last_run: &'a [String],
    pub journal_discarded: &'a Option<String>,
}

/// The summary: counts per status, flag kind and election, timings.
pub fn summary<'a>(
    model: &FormModel,
    results: &[ProtocolResult],
    times: &StageTimes,
    wall_seconds: f64,
    options: &ScanOptions,
    manifest_root_sha256: &'a str,
    resume: &'a ResumeReport,
) -> Summary<'a> {
    let mut by_status: BTreeMap<&str, usize> = [Status::Accepted, Status::Flagged, Status::Duplicate, Status::Failed]
        .iter()
        .map(|s| (s.as_str(), 0))
        .collect();
    let mut by_flag: BTreeMap<String, usize> = BTreeMap::new();
    let mut by_election: BTreeMap<String, BTreeMap<&str, usize>> = BTreeMap::new();
    for r in results {
        *by_status.entry(r.status.as_str()).or_default() += 1;
        let mut kinds: Vec<&str> = r.flag_kinds().collect();
        kinds.dedup();
        for k in kinds {
            *by_flag.entry(k.to_string()).or_default() += 1;
        }
        let e = r.election.clone().unwrap_or_else(|| "unknown".into());
        *by_election.entry(e).or_default().entry(r.status.as_str()).or_default() += 1;
    }
    let stage_seconds: BTreeMap<&str, f64> =
        times.seconds().into_iter().map(|(k, v)| (k, (v * 1000.0).round() / 1000.0)).collect();
    Summary {
        files: results.len(),
        status: by_status,
        flags: by_flag,
        elections: by_election,
        stage_seconds,
        whole_page_reads: times.whole_page_reads.load(std::sync::atomic::Ordering::Relaxed),
        wall_seconds: (wall_seconds * 1000.0).round() / 1000.0,
        jobs: options.jobs,
        input: options.input.display().to_string(),
        model: ManifestModel::of(model),
        tool_version: env!("CARGO_PKG_VERSION"),
        peak_memory_mib: peak_memory_mib(),
        manifest_root_sha256,
        resume: Resumed {
            reused: resume.reused,
            changed_since_last_run: &resume.changed,
            journal_discarded: &resume.journal_discarded,
        },
    }
}

/// Folder inside OUT_DIR holding each photo's normalised page, named by the
/// photo's SHA-256, for the review page (boxes are in its coordinates).
pub const PAGES_DIR: &str = "pages";
/// JPEG quality of the saved pages: digits stay sharp at a quarter of the
/// size of a lossless PNG.
const PAGE_JPEG_QUALITY: u8 = 80;

/// Saves the normalised page as OUT_DIR/pages/SHA256.jpg.
pub fn save_page(out: &Path, sha256: &str, page: &image::GrayImage) -> Result<()> {
    let dir = out.join(PAGES_DIR);
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let (width, height) = (u16::try_from(page.width())?, u16::try_from(page.height())?);
    let mut bytes = Vec::new();
    // `jpeg-encoder`, not `image`'s own encoder: half the time for the same
    // size (its transforms vectorised), a fiftieth of a photo's time.
    jpeg_encoder::Encoder::new(&mut bytes, PAGE_JPEG_QUALITY).encode(
        page.as_raw(),
        width,
        height,
        jpeg_encoder::ColorType::Luma,
    )?;
    write_atomically(&dir.join(format!("{sha256}.jpg")), &bytes)
}

/// Writes the normalised page with the found labels (blue) and digit
/// cells (red) outlined, and each cell crop as the digits engine saw it,
/// so a person can see why a reading went wrong.
pub fn debug_image(dir: &Path, file: &str, page: &image::GrayImage, reading: &Reading) -> Result<()> {
    let mut rgb = RgbImage::from_fn(page.width(), page.height(), |x, y| {
        let v = page.get_pixel(x, y).0[0];
        Rgb([v, v, v])
    });
    for value in reading.values.values() {
        for (rect, colour) in [(value.label, Rgb([40, 90, 230])), (value.cell, Rgb([230, 40, 40]))] {
            if let Some([l, t, r, b]) = rect {
                for grow in 0..2 {
                    let rect = imageproc::rect::Rect::at(l as i32 - grow, t as i32 - grow)
                        .of_size(r - l + 2 * grow as u32, b - t + 2 * grow as u32);
                    draw_hollow_rect_mut(&mut rgb, rect, colour);
                }
            }
        }
    }
    let name = file.replace('/', "__");
    let path = dir.join(format!("{name}.page.png"));
    rgb.save(&path).with_context(|| format!("cannot write {}", path.display()))?;
    for (key, value) in &reading.values {
        if let Some(crop) = &value.crop {
            let path = dir.join(format!("{name}.{key}.png"));
            crop.save(&path).with_context(|| format!("cannot write {}", path.display()))?;
        }
    }
    Ok(())
}
