//! `scan`: a folder of protocol photos to checked, hashed, flagged results.
//!
//! The stages, each its own module with a typed result so it can be tested
//! and timed alone:
//! [`discover`] → [`hash`] → [`decode`] → [`page`] (normalise) → [`read`]
//! (labels, told by the page's [`text_segments`] read as far as needed;
//! printed counts, the station; on a handwritten page [`hand`] reads the
//! counts again) → [`check`] → [`write`]. The readers share
//! [`ink`] (ink, rules and glyph geometry) and fill the types of
//! [`reading`], which [`check`] judges; none of them imports another in a
//! cycle. Files are processed in parallel in a rayon pool
//! sized by `--jobs`, each worker thread with its own Tesseract engines made
//! once; results are sorted by file, so the output does not depend on the
//! number of jobs. A failure on one file (even a panic) is recorded on that
//! file's line and the batch goes on.

pub mod check;
pub mod decode;
pub mod discover;
pub mod file_error;
pub mod hand;
pub mod hash;
pub mod ink;
pub mod journal;
pub mod lines;
pub mod ocr;
pub mod page;
pub mod read;
pub mod reading;
pub mod resize;
pub mod row_labels;
pub mod second_opinion;
pub mod structure;
pub mod table;
pub mod text_segments;
pub mod write;

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use image::GrayImage;
use rayon::prelude::*;

use crate::flag::Flag;
use crate::model::{FormModel, LineKind};
use crate::result::{ProtocolResult, Status};
use discover::Found;
use file_error::FileError;
use journal::Journal;
use ocr::Engines;
use read::Targets;
use reading::Reading;

/// What a run tells its caller as it goes (the library never prints: the
/// binary draws a progress bar from these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// The files are found and hashed; this many will be accounted for.
    Started { files: u64 },
    /// One more file has its result.
    FileDone,
    /// Every file has its result.
    Finished,
}

/// Hears a run's [`Progress`], from any worker thread.
#[derive(Clone)]
pub struct ProgressSink(pub Arc<dyn Fn(Progress) + Send + Sync>);

impl std::fmt::Debug for ProgressSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ProgressSink")
    }
}

/// Options of one `scan` run.
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub input: PathBuf,
    pub out: PathBuf,
    pub jobs: usize,
    pub follow_symlinks: bool,
    /// Told of the run's progress, when given.
    pub progress: Option<ProgressSink>,
    pub debug_dir: Option<PathBuf>,
    /// Set (by a Ctrl-C handler) when the run should stop: files not yet
    /// started are left for the next run, what is done stays in the journal.
    pub interrupt: Option<Arc<AtomicBool>>,
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
    /// Pages (each way up tried counts) whose labels Tesseract's layout
    /// read whole, where their text segments did not tell them all.
    pub whole_page_reads: AtomicU64,
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
    /// Every file's result, by file; when interrupted, only those done.
    pub results: Vec<ProtocolResult>,
    pub times: StageTimes,
    pub wall_seconds: f64,
    /// The run was stopped before every file was read; nothing but the
    /// journal was written.
    pub interrupted: bool,
    pub resume: ResumeReport,
}

/// How much of an earlier run was reused.
#[derive(Debug, Clone, Default)]
pub struct ResumeReport {
    /// Files whose saved result was reused (same path, same SHA-256).
    pub reused: usize,
    /// Files whose bytes changed since the run that saved them (read anew).
    pub changed: Vec<String>,
    /// Why an existing journal was not used, if it was not.
    pub journal_discarded: Option<String>,
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
/// and, if too few labels read, turned half a turn and read again. Each
/// way up is first read by its text segments alone (`read::WholePage`);
/// only when neither way tells any of the form's lines is each read whole
/// by Tesseract's layout as well — a page upside down costs a second cheap
/// reading, not a whole page's.
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
    let mut uprights: Vec<structure::Levelled> = Vec::new();
    // The best reading so far: which way up (its index among the turns
    // tried), and what it read.
    let mut best: Option<(usize, Reading)> = None;
    let turns = location.candidate_turns();
    'passes: for whole_page in [read::WholePage::WhereSegmentsTellSome, read::WholePage::WhereSegmentsMissAny] {
        for (k, &turn) in turns.iter().enumerate() {
            let started = Instant::now();
            if uprights.len() <= k {
                let upright = page::flatten_lighting(&page::rectify(gray, &location, turn));
                uprights.push(structure::level_rules(upright));
            }
            let structure::Levelled { page: upright, rules, .. } = &uprights[k];
            StageTimes::add(&times.normalise, started);
            let started = Instant::now();
            let reading = read::read_page(engines, upright, rules, model, targets, whole_page)?;
            StageTimes::add(&times.read, started);
            if reading.whole_page_read {
                times.whole_page_reads.fetch_add(1, Ordering::Relaxed);
            }
            let found = reading.lines_found;
            if best.as_ref().is_none_or(|(_, b)| found > b.lines_found) {
                best = Some((k, reading));
            }
            // Most of the lines read: this is the right way up.
            if found * 2 > model.lines.len() {
                break 'passes;
            }
        }
        if best.as_ref().is_some_and(|(_, b)| b.lines_found > 0) {
            break;
        }
    }
    let (k, reading) = best.expect("at least one orientation is tried");
    let page = uprights.swap_remove(k).page;
    Ok(Normalised { page, turns: turns[k], skew_deg: location.skew_deg(turns[k]), reading })
}

/// What every file's reading shares within one run.
struct RunContext<'a> {
    model: &'a FormModel,
    targets: &'a Targets,
    times: &'a StageTimes,
    out: &'a Path,
    debug_dir: Option<&'a Path>,
}

fn process_image(
    input: &discover::Input,
    expected_sha: &str,
    run: &RunContext<'_>,
    result: &mut ProtocolResult,
) -> Result<(), FileError> {
    let RunContext { model, targets, times, out, debug_dir } = *run;
    let started = Instant::now();
    let bytes = std::fs::read(&input.path).map_err(|e| FileError::Unreadable(e.to_string()))?;
    if hash::hash_bytes(&bytes) != expected_sha {
        return Err(FileError::ChangedDuringScan);
    }
    let gray = decode::decode_gray(&bytes)?;
    drop(bytes);
    StageTimes::add(&times.decode, started);

    let normalised = ENGINES.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            *slot = Some(Engines::new(&model.ocr_language).map_err(|e| FileError::Reader(e.to_string()))?);
        }
        let engines = slot.as_mut().expect("just made");
        normalise_and_read(engines, &gray, model, targets, times).map_err(|e| FileError::Reader(e.to_string()))
    })?;
    drop(gray);

    let started = Instant::now();
    result.skew_deg = Some((normalised.skew_deg as f64 * 10.0).round() / 10.0);
    result.turns = normalised.turns;
    if normalised.reading.lines_found == 0 {
        result.status = Status::Flagged;
        result.flags.push(Flag::NotAProtocol.to_string());
        result.error = Some("no line of the protocol form was found on this image".into());
        for line in &model.lines {
            result.flags.push(Flag::Missing(line.key.clone()).to_string());
        }
        result.flags.push(Flag::UnreadableStation.to_string());
    } else {
        check::assess(model, &normalised.reading, result);
    }
    StageTimes::add(&times.check, started);
    let started = Instant::now();
    write::save_page(out, expected_sha, &normalised.page).map_err(|e| FileError::PageNotSaved(format!("{e:#}")))?;
    StageTimes::add(&times.write, started);
    if let Some(dir) = debug_dir {
        write::debug_image(dir, &input.file, &normalised.page, &normalised.reading)
            .map_err(|e| FileError::DebugImageNotWritten(e.to_string()))?;
    }
    Ok(())
}

/// Runs `work`, turning a panic into an error sentence, so that a bug met
/// on one file fails that file and the batch goes on.
pub fn catch_panics(work: impl FnOnce() -> Result<(), FileError>) -> Result<(), FileError> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)) {
        Ok(outcome) => outcome,
        Err(panic) => {
            let what = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_default();
            Err(FileError::Internal(what))
        }
    }
}

/// Runs the whole scan: discovers IN_DIR and scans what it finds.
pub fn run(model: &FormModel, options: &ScanOptions) -> Result<ScanOutcome> {
    if !options.input.is_dir() {
        bail!("{} is not a folder", options.input.display());
    }
    std::fs::create_dir_all(&options.out).with_context(|| format!("cannot create {}", options.out.display()))?;
    let times = StageTimes::default();
    let started = Instant::now();
    let inputs = discover::discover(&options.input, options.follow_symlinks, Some(&options.out));
    StageTimes::add(&times.discover, started);
    scan_with_times(model, options, &inputs, times)
}

/// Scans discovered inputs and, unless interrupted, writes OUT_DIR. Results
/// saved in OUT_DIR's journal by an earlier run are reused for files whose
/// bytes have not changed.
pub fn scan_inputs(model: &FormModel, options: &ScanOptions, inputs: &[discover::Input]) -> Result<ScanOutcome> {
    scan_with_times(model, options, inputs, StageTimes::default())
}

fn scan_with_times(
    model: &FormModel,
    options: &ScanOptions,
    inputs: &[discover::Input],
    times: StageTimes,
) -> Result<ScanOutcome> {
    let wall = Instant::now();
    std::fs::create_dir_all(&options.out).with_context(|| format!("cannot create {}", options.out.display()))?;
    if let Some(d) = &options.debug_dir {
        std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
    }
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.jobs.max(1))
        .build()
        .context("cannot start the worker threads")?;
    let (journal, previous) = Journal::open(&options.out, &model.sha256)?;

    let field_keys: Vec<String> =
        model.lines.iter().filter(|l| l.kind == LineKind::Field).map(|l| l.short_key.clone()).collect();
    let party_keys: Vec<String> =
        model.lines.iter().filter(|l| l.kind == LineKind::Party).map(|l| l.short_key.clone()).collect();

    // Hash everything first, so that byte copies are known before reading.
    let hashes: Vec<Result<(String, u64), FileError>> = pool.install(|| {
        inputs
            .par_iter()
            .map(|input| {
                let started = Instant::now();
                let h = hash::hash_input(input);
                StageTimes::add(&times.hash, started);
                h
            })
            .collect()
    });
    let mut first_with_hash: HashMap<&str, usize> = HashMap::new();
    let mut original_of: Vec<Option<usize>> = vec![None; inputs.len()];
    let mut changed = Vec::new();
    for (i, h) in hashes.iter().enumerate() {
        if let Ok((sha, _)) = h {
            match first_with_hash.get(sha.as_str()) {
                Some(&first) => original_of[i] = Some(first),
                None => {
                    first_with_hash.insert(sha, i);
                }
            }
            if previous.results.get(&inputs[i].file).is_some_and(|p| !p.sha256.is_empty() && &p.sha256 != sha) {
                changed.push(inputs[i].file.clone());
            }
        }
    }

    let tell = |event: Progress| {
        if let Some(sink) = &options.progress {
            (sink.0)(event);
        }
    };
    tell(Progress::Started { files: inputs.len() as u64 });
    let targets = Targets::new(model);
    let context = RunContext {
        model,
        targets: &targets,
        times: &times,
        out: &options.out,
        debug_dir: options.debug_dir.as_deref(),
    };
    let reused = AtomicUsize::new(0);
    let journal_error: Mutex<Option<String>> = Mutex::new(None);
    let stop_requested = || options.interrupt.as_ref().is_some_and(|flag| flag.load(Ordering::SeqCst));
    let done: Vec<Option<ProtocolResult>> = pool.install(|| {
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
                    (Err(why), _, _) => result.error = Some(why.to_string()),
                    (Ok(_), _, Some(_)) => result.status = Status::Duplicate,
                    (Ok(_), Found::NotImage, _) => result.error = Some(FileError::NotAnImageName.to_string()),
                    (Ok(_), _, None) => {
                        if let Some(saved) = previous.reusable(&input.file, &sha) {
                            reused.fetch_add(1, Ordering::Relaxed);
                            result = saved.clone();
                        } else {
                            if stop_requested() {
                                return None;
                            }
                            let outcome = catch_panics(|| process_image(input, &sha, &context, &mut result));
                            if let Err(why) = outcome {
                                result = ProtocolResult::failed(
                                    &input.file,
                                    &sha,
                                    &field_keys,
                                    &party_keys,
                                    why.to_string(),
                                );
                                result.size = size;
                            }
                            if let Err(e) = journal.append(&result) {
                                journal_error.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(format!("{e:#}"));
                            }
                        }
                    }
                }
                tell(Progress::FileDone);
                Some(result)
            })
            .collect()
    });
    tell(Progress::Finished);
    if let Some(e) = journal_error.into_inner().unwrap_or_else(|p| p.into_inner()) {
        bail!("cannot save results as they are made: {e}");
    }
    let resume = ResumeReport { reused: reused.into_inner(), changed, journal_discarded: previous.discarded.clone() };
    if done.iter().any(Option::is_none) {
        let results: Vec<ProtocolResult> = done.into_iter().flatten().collect();
        return Ok(ScanOutcome {
            results,
            times,
            wall_seconds: wall.elapsed().as_secs_f64(),
            interrupted: true,
            resume,
        });
    }
    let mut results: Vec<ProtocolResult> = done.into_iter().flatten().collect();
    // What the journal keeps: the files that were read (or reused), before
    // the cross-file steps change their status.
    let journalled: Vec<ProtocolResult> = (0..results.len())
        .filter(|&i| inputs[i].found == Found::Image && hashes[i].is_ok() && original_of[i].is_none())
        .map(|i| results[i].clone())
        .collect();

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
    let wall_seconds = wall.elapsed().as_secs_f64();
    write::write_outputs(model, &options.out, &results, &times, wall_seconds, options, &resume)?;
    journal.compact(&model.sha256, &journalled.iter().collect::<Vec<_>>())?;
    StageTimes::add(&times.write, started);
    Ok(ScanOutcome { results, times, wall_seconds: wall.elapsed().as_secs_f64(), interrupted: false, resume })
}
