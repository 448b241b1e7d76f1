//! `scan`: a folder of protocol photos to checked, hashed, flagged results.
//!
//! The stages, each its own module with a typed result so it can be tested
//! and timed alone:
//! [`discover`] → [`hash`] → [`decode`] → [`page`] (normalise) → [`read`]
//! → [`check`] → [`write`]. Files are processed in parallel in a rayon pool
//! sized by `--jobs`, each worker thread with its own Tesseract engines made
//! once; results are sorted by file, so the output does not depend on the
//! number of jobs. A failure on one file (even a panic) is recorded on that
//! file's line and the batch goes on.

pub mod check;
pub mod decode;
pub mod discover;
pub mod hash;
pub mod ocr;
pub mod page;
pub mod read;
pub mod write;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use image::GrayImage;
use rayon::prelude::*;

use crate::model::{FormModel, LineKind};
use crate::result::{ProtocolResult, Status};
use discover::Found;
use ocr::Engines;
use read::{Reading, Targets};

/// Options of one `scan` run.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub input: PathBuf,
    pub out: PathBuf,
    pub jobs: usize,
    pub follow_symlinks: bool,
    pub quiet: bool,
    pub debug_dir: Option<PathBuf>,
}

/// Time spent in each stage, summed over files (milliseconds of worker time).
#[derive(Debug, Default)]
pub struct StageTimes {
    pub discover: AtomicU64,
    pub hash: AtomicU64,
    pub decode: AtomicU64,
    pub normalise: AtomicU64,
    pub read: AtomicU64,
    pub check: AtomicU64,
    pub write: AtomicU64,
}

impl StageTimes {
    fn add(counter: &AtomicU64, since: Instant) {
        counter.fetch_add(since.elapsed().as_micros() as u64, Ordering::Relaxed);
    }

    /// Stage name → seconds, for summary.json.
    pub fn seconds(&self) -> Vec<(&'static str, f64)> {
        let s = |c: &AtomicU64| c.load(Ordering::Relaxed) as f64 / 1e6;
        vec![
            ("discover", s(&self.discover)),
            ("hash", s(&self.hash)),
            ("decode", s(&self.decode)),
            ("normalise", s(&self.normalise)),
            ("read", s(&self.read)),
            ("check", s(&self.check)),
            ("write", s(&self.write)),
        ]
    }
}

/// What a scan produced.
pub struct ScanOutcome {
    pub results: Vec<ProtocolResult>,
    pub times: StageTimes,
    pub wall_seconds: f64,
}

thread_local! {
    /// This worker thread's engines, made on first use and kept.
    static ENGINES: RefCell<Option<Engines>> = const { RefCell::new(None) };
}

/// A page and how it was made upright.
pub struct Normalised {
    pub page: GrayImage,
    pub turns: u8,
    pub skew_deg: f32,
    pub reading: Reading,
}

/// Stages 4 and 5 together: the page is tried in its likelier orientation
/// and, if too few labels read, turned half a turn and read again.
pub fn normalise_and_read(
    engines: &mut Engines,
    gray: &GrayImage,
    model: &FormModel,
    targets: &Targets,
    times: &StageTimes,
) -> Result<Normalised, ocr::OcrError> {
    let started = Instant::now();
    let location = page::find_page(gray);
    StageTimes::add(&times.normalise, started);
    let mut best: Option<Normalised> = None;
    for turns in location.candidate_turns() {
        let started = Instant::now();
        let upright = page::flatten_lighting(&page::rectify(gray, &location, turns));
        StageTimes::add(&times.normalise, started);
        let started = Instant::now();
        let reading = read::read_page(engines, &upright, model, targets)?;
        StageTimes::add(&times.read, started);
        let found = reading.lines_found;
        let candidate = Normalised { page: upright, turns, skew_deg: location.skew_deg(turns), reading };
        if best.as_ref().is_none_or(|b| found > b.reading.lines_found) {
            best = Some(candidate);
        }
        // Most of the lines read: this is the right way up.
        if found * 2 > model.lines.len() {
            break;
        }
    }
    Ok(best.expect("at least one orientation is tried"))
}

fn process_image(
    input: &discover::Input,
    expected_sha: &str,
    model: &FormModel,
    targets: &Targets,
    times: &StageTimes,
    debug_dir: Option<&Path>,
    result: &mut ProtocolResult,
) -> Result<(), String> {
    let started = Instant::now();
    let bytes = std::fs::read(&input.path).map_err(|e| format!("cannot read the file: {e}"))?;
    if hash::hash_bytes(&bytes) != expected_sha {
        return Err("the file changed while it was being scanned; scan again".into());
    }
    let image = decode::decode(&bytes)?;
    drop(bytes);
    let gray = image.to_luma8();
    drop(image);
    StageTimes::add(&times.decode, started);

    let normalised = ENGINES.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Engines::new().map_err(|e| e.to_string())?);
        }
        let engines = slot.as_mut().expect("just made");
        normalise_and_read(engines, &gray, model, targets, times).map_err(|e| e.to_string())
    })?;
    drop(gray);

    let started = Instant::now();
    result.skew_deg = Some((normalised.skew_deg as f64 * 10.0).round() / 10.0);
    result.turns = normalised.turns;
    if normalised.reading.lines_found == 0 {
        result.status = Status::Flagged;
        result.flags.push("not_a_protocol".into());
        result.error = Some("no line of the protocol form was found on this image".into());
        for line in &model.lines {
            result.flags.push(format!("missing:{}", line.key));
        }
        result.flags.push("unreadable_station".into());
    } else {
        check::assess(model, &normalised.reading, result);
    }
    StageTimes::add(&times.check, started);
    if let Some(dir) = debug_dir {
        write::debug_image(dir, &input.file, &normalised.page, &normalised.reading)
            .map_err(|e| format!("cannot write the debug image: {e}"))?;
    }
    Ok(())
}

/// Runs the whole scan and writes OUT_DIR.
pub fn run(model: &FormModel, options: &ScanOptions) -> Result<ScanOutcome> {
    let wall = Instant::now();
    if !options.input.is_dir() {
        bail!("{} is not a folder", options.input.display());
    }
    ocr::limit_openmp_threads();
    std::fs::create_dir_all(&options.out).with_context(|| format!("cannot create {}", options.out.display()))?;
    if let Some(d) = &options.debug_dir {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let times = StageTimes::default();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.max(1))
        .build()
        .context("cannot start the worker threads")?;

    let started = Instant::now();
    let inputs = discover::discover(&options.input, options.follow_symlinks, Some(&options.out));
    StageTimes::add(&times.discover, started);

    let field_keys: Vec<String> =
        model.lines.iter().filter(|l| l.kind == LineKind::Field).map(|l| l.short_key.clone()).collect();
    let party_keys: Vec<String> =
        model.lines.iter().filter(|l| l.kind == LineKind::Party).map(|l| l.short_key.clone()).collect();

    // Hash everything first, so that byte copies are known before reading.
    let hashes: Vec<Result<(String, u64), String>> = pool.install(|| {
        inputs
            .par_iter()
            .map(|input| {
                let started = Instant::now();
                let h = match &input.found {
                    Found::Unreadable(why) => Err(why.clone()),
                    _ => hash::hash_file(&input.path).map_err(|e| format!("cannot read the file: {e}")),
                };
                StageTimes::add(&times.hash, started);
                h
            })
            .collect()
    });
    let mut first_with_hash: HashMap<&str, usize> = HashMap::new();
    let mut original_of: Vec<Option<usize>> = vec![None; inputs.len()];
    for (i, h) in hashes.iter().enumerate() {
        if let Ok((sha, _)) = h {
            match first_with_hash.get(sha.as_str()) {
                Some(&first) => original_of[i] = Some(first),
                None => {
                    first_with_hash.insert(sha, i);
                }
            }
        }
    }

    let progress = write::progress_bar(inputs.len() as u64, options.quiet);
    let targets = Targets::new(model);
    let mut results: Vec<ProtocolResult> = pool.install(|| {
        inputs
            .par_iter()
            .enumerate()
            .map(|(i, input)| {
                let (sha, size) = match &hashes[i] {
                    Ok((s, n)) => (s.clone(), *n),
                    Err(_) => (String::new(), 0),
                };
                let mut result = ProtocolResult::empty(&input.file, &sha, &field_keys, &party_keys);
                result.size = size;
                match (&hashes[i], &input.found, original_of[i]) {
                    (Err(why), _, _) => result.error = Some(why.clone()),
                    (Ok(_), _, Some(_)) => result.status = Status::Duplicate,
                    (Ok(_), Found::NotImage, _) => {
                        result.error = Some("not an image: the file name has no image extension".into())
                    }
                    (Ok(_), _, None) => {
                        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                            process_image(
                                input,
                                &sha,
                                model,
                                &targets,
                                &times,
                                options.debug_dir.as_deref(),
                                &mut result,
                            )
                        }));
                        match outcome {
                            Ok(Ok(())) => {}
                            Ok(Err(why)) => {
                                result = ProtocolResult::failed(&input.file, &sha, &field_keys, &party_keys, why);
                                result.size = size;
                            }
                            Err(panic) => {
                                let what = panic
                                    .downcast_ref::<String>()
                                    .cloned()
                                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                                    .unwrap_or_default();
                                result = ProtocolResult::failed(
                                    &input.file,
                                    &sha,
                                    &field_keys,
                                    &party_keys,
                                    format!("internal error while reading this file (a bug; please report it): {what}"),
                                );
                                result.size = size;
                            }
                        }
                    }
                }
                progress.inc(1);
                result
            })
            .collect()
    });
    progress.finish_and_clear();

    // Byte copies carry their original's reading and name it.
    for i in 0..results.len() {
        if let Some(first) = original_of[i] {
            let original = results[first].clone();
            let r = &mut results[i];
            let (file, size) = (r.file.clone(), r.size);
            *r = ProtocolResult {
                file,
                size,
                status: Status::Duplicate,
                duplicate_of: Some(original.file.clone()),
                ..original
            };
        }
    }
    check::mark_conflicts(model, &mut results);
    results.sort_by(|a, b| a.file.cmp(&b.file));

    let started = Instant::now();
    write::write_outputs(model, &options.out, &results, &times, wall.elapsed().as_secs_f64(), options)?;
    StageTimes::add(&times.write, started);
    Ok(ScanOutcome { results, times, wall_seconds: wall.elapsed().as_secs_f64() })
}
