//! Synthetic protocol photos with known true values.
//!
//! `synth` is how every later stage is tested and measured honestly: it
//! prints protocols from the form model with plausible values (a chosen
//! share broken on purpose), photographs them as phones do, mixes in exact
//! byte copies and second photos of the same protocol, and writes the truth
//! beside them in `truth.jsonl`. The same seed gives the same bytes.

pub mod hand;
pub mod photo;
pub mod render;
pub mod values;

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rayon::prelude::*;
use serde::Serialize;

use crate::fonts;
use crate::model::{split_values, FormModel, StationForm};
use crate::rules::Values;
use photo::{Shot, Storage};
use render::{FieldStyle, LabelStyle, Layout, Protocol};

/// Options of one `synth` run.
#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub out: PathBuf,
    pub count: usize,
    pub seed: u64,
    /// Share of protocols whose values break one or more rules.
    pub inconsistent: f64,
    /// Share of protocols whose counts and station number are handwritten.
    pub handwritten: f64,
    /// Which MNIST digits real-handwriting writers draw from.
    pub hand_digits: hand::HandDigits,
    /// Share of photos delivered through a messenger (shrunk to 1 280–1 600
    /// pixels on the long side, JPEG quality 70–85).
    pub messenger: f64,
}

/// Share of files that are exact byte copies of an earlier file (a photo
/// forwarded twice through a messenger).
const DUPLICATE_SHARE: f64 = 0.06;
/// Share of files that are a second photo of an earlier protocol.
const SECOND_PHOTO_SHARE: f64 = 0.06;
/// From this many files on, a set holds at least one byte copy and one
/// second photo, whatever the dice say.
const MIN_COUNT_FOR_COPIES: usize = 8;
/// Mixed into the seed of a protocol's handwriting, so it is drawn apart
/// from the photo's randomness.
const HAND_SEED_SALT: u64 = 0x4841_4E44_5752_4954;
/// Share of protocols that print no region line.
const NO_REGION_SHARE: f64 = 0.1;
/// Share of handwritten protocols on which some of the page is printed all
/// the same (the station number of a form printed for its station, a count
/// filled in by the printer), so that print or pen is decided line by line.
const MIXED_SHARE: f64 = 0.3;
/// On such a protocol: the chance the station number is printed, and the
/// chance each count is.
const PRINTED_STATION_SHARE: f64 = 0.6;
const PRINTED_LINE_SHARE: f64 = 0.3;

/// One line of `truth.jsonl`, as fixed by the contract plus extras.
#[derive(Debug, Clone, Serialize)]
pub struct TruthLine {
    pub file: String,
    pub election: String,
    pub station: String,
    pub region: Option<String>,
    pub fields: BTreeMap<String, Option<u64>>,
    pub votes: BTreeMap<String, Option<u64>>,
    pub consistent: bool,
    pub duplicate_of: Option<String>,
    /// The rules the true values break (empty when consistent).
    pub broken_rules: Vec<String>,
    /// The earlier file showing the same protocol, for second photos.
    pub second_photo_of: Option<String>,
    pub handwritten: bool,
    /// On a handwritten protocol, what the pen wrote: the keys of the lines
    /// whose counts are handwritten, and `station` when its number is.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub written_by_hand: Vec<String>,
    /// How the page was printed and photographed, for analysing failures.
    pub conditions: Conditions,
}

/// The printing and photo conditions of one file.
#[derive(Debug, Clone, Serialize)]
pub struct Conditions {
    pub font: String,
    pub fields: String,
    pub labels: String,
    pub long_side: u32,
    pub rotation_deg: f32,
    pub storage: String,
    pub jpeg_quality: u8,
    pub blur_sigma: f32,
    pub noise_sigma: f32,
    pub shadow: bool,
    /// Delivered through a messenger (see [`photo::Shot::through_messenger`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub messenger: bool,
    /// Who wrote the counts of a handwritten protocol, and in which ink.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hand: Option<String>,
}

/// What one file will be.
enum Plan {
    Original { protocol: Protocol, layout: Layout, shot: Shot, broken: Vec<String> },
    SecondPhoto { of: usize, shot: Shot },
    Duplicate { of: usize },
}

fn file_name(index: usize, count: usize) -> String {
    let day = if index < count.div_ceil(2) { 1 } else { 2 };
    format!("day{day}/IMG_{:04}.jpg", index + 1)
}

fn storage_name(storage: Storage) -> String {
    match storage {
        Storage::Upright => "upright".into(),
        Storage::ExifTagged(o) => format!("exif_orientation_{o}"),
        Storage::Turned(deg) => format!("turned_{deg}"),
    }
}

fn plan_protocol(
    rng: &mut ChaCha8Rng,
    model: &FormModel,
    used: &mut HashSet<(String, String)>,
    options: &SynthOptions,
) -> (Protocol, Vec<String>) {
    let election = model.elections[rng.gen_range(0..model.elections.len())].key.clone();
    let station = loop {
        let s = rng.gen_range(1..=999u32).to_string();
        if used.insert((election.clone(), s.clone())) {
            break s;
        }
    };
    let region = if rng.gen_bool(NO_REGION_SHARE) || model.regions.is_empty() {
        None
    } else {
        Some(model.regions[rng.gen_range(0..model.regions.len())].clone())
    };
    let make_inconsistent = rng.gen_bool(options.inconsistent.clamp(0.0, 1.0));
    let (values, _) = values::generate(rng, model, make_inconsistent);
    let broken = broken_rules(model, &values);
    // Drawn only when asked for, so a printed-only set keeps its bytes.
    let handwritten = options.handwritten > 0.0 && rng.gen_bool(options.handwritten);
    let mut printed_lines = BTreeSet::new();
    let mut station_printed = false;
    if handwritten && rng.gen_bool(MIXED_SHARE) {
        station_printed = rng.gen_bool(PRINTED_STATION_SHARE);
        for line in &model.lines {
            if rng.gen_bool(PRINTED_LINE_SHARE) {
                printed_lines.insert(line.key.clone());
            }
        }
    }
    (Protocol { election, station, region, values, handwritten, printed_lines, station_printed }, broken)
}

/// A photo's shot, a share of them delivered through a messenger (drawn
/// only when asked for, so a set without keeps its bytes).
fn random_shot(rng: &mut ChaCha8Rng, options: &SynthOptions) -> Shot {
    let mut shot = Shot::random(rng);
    if options.messenger > 0.0 && rng.gen_bool(options.messenger) {
        shot.through_messenger(rng);
    }
    shot
}

/// The ids of the rules that do not hold on `values`.
pub fn broken_rules(model: &FormModel, values: &Values) -> Vec<String> {
    model.check(values).into_iter().filter(|c| c.holds != Some(true)).map(|c| c.rule).collect()
}

/// Renders the page, shrinking the type until everything fits on A4; with
/// the spots left blank for the pen.
fn render_fitting(
    model: &FormModel,
    protocol: &Protocol,
    layout: &Layout,
    families: &[fonts::Family],
) -> (image::GrayImage, Vec<hand::Spot>) {
    let mut layout = layout.clone();
    loop {
        let (page, fits, spots) = render::render(model, protocol, &layout, &families[layout.family]);
        if fits || layout.label_size < 16.0 {
            return (page, spots);
        }
        layout.label_size -= 1.5;
        layout.row_padding = layout.row_padding.saturating_sub(2).max(4);
    }
}

/// Writes `count` photos and `truth.jsonl` into `out`. Returns the truth lines.
pub fn run(model: &FormModel, options: &SynthOptions) -> Result<Vec<TruthLine>> {
    if options.count == 0 {
        bail!("--count must be at least 1");
    }
    if !(0.0..=1.0).contains(&options.inconsistent) {
        bail!("--inconsistent must be between 0 and 1, not {}", options.inconsistent);
    }
    if !(0.0..=1.0).contains(&options.handwritten) {
        bail!("--handwritten must be between 0 and 1, not {}", options.handwritten);
    }
    if !(0.0..=1.0).contains(&options.messenger) {
        bail!("--messenger must be between 0 and 1, not {}", options.messenger);
    }
    if !matches!(model.station, StationForm::Number { .. }) {
        bail!("synth draws forms whose station is a number after a caption; {} has code boxes", model.source.display());
    }
    for key in values::REQUIRED_FIELDS {
        if !model.lines.iter().any(|l| l.key == key) {
            bail!("the model {} has no line '{key}', which synth fills", model.source.display());
        }
    }
    let families = fonts::synth_families();
    let hand_faces = fonts::hand_faces();
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let mut used = HashSet::new();
    let mut plans: Vec<Plan> = Vec::with_capacity(options.count);
    for i in 0..options.count {
        let originals: Vec<usize> = (0..i).filter(|&j| matches!(plans[j], Plan::Original { .. })).collect();
        let mut roll: f64 = rng.gen();
        // A set large enough always holds at least one of each kind of copy.
        let has = |dup: bool| {
            plans.iter().any(|p| matches!((p, dup), (Plan::Duplicate { .. }, true) | (Plan::SecondPhoto { .. }, false)))
        };
        if options.count >= MIN_COUNT_FOR_COPIES && i == options.count - 1 && !has(true) {
            roll = 0.0;
        } else if options.count >= MIN_COUNT_FOR_COPIES && i == options.count - 2 && !has(false) {
            roll = DUPLICATE_SHARE;
        }
        let plan = if !originals.is_empty() && roll < DUPLICATE_SHARE {
            Plan::Duplicate { of: originals[rng.gen_range(0..originals.len())] }
        } else if !originals.is_empty() && roll < DUPLICATE_SHARE + SECOND_PHOTO_SHARE {
            let of = originals[rng.gen_range(0..originals.len())];
            Plan::SecondPhoto { of, shot: random_shot(&mut rng, options) }
        } else {
            let (protocol, broken) = plan_protocol(&mut rng, model, &mut used, options);
            let layout = Layout::random(&mut rng, families.len());
            Plan::Original { protocol, layout, shot: random_shot(&mut rng, options), broken }
        };
        plans.push(plan);
    }

    std::fs::create_dir_all(&options.out).with_context(|| format!("cannot create {}", options.out.display()))?;
    // Photos are made in parallel, each from its own seed, so the bytes do
    // not depend on the number of threads.
    let photos: Vec<Option<(Vec<u8>, Conditions)>> = (0..options.count)
        .into_par_iter()
        .map(|i| {
            let (protocol_index, shot) = match &plans[i] {
                Plan::Original { shot, .. } => (i, shot),
                Plan::SecondPhoto { of, shot } => (*of, shot),
                Plan::Duplicate { .. } => return None,
            };
            let Plan::Original { protocol, layout, .. } = &plans[protocol_index] else { unreachable!() };
            let mut photo_rng = ChaCha8Rng::seed_from_u64(options.seed.wrapping_mul(1_000_003).wrapping_add(i as u64));
            let (page, spots) = render_fitting(model, protocol, layout, &families);
            // The writing belongs to the protocol, not the photo: a second
            // photo shows the same handwriting.
            let mut hand_rng = ChaCha8Rng::seed_from_u64(options.seed ^ HAND_SEED_SALT ^ protocol_index as u64);
            let writer =
                protocol.handwritten.then(|| hand::Writer::random(&mut hand_rng, &hand_faces, options.hand_digits));
            let coverage = writer
                .as_ref()
                .map(|w| hand::write_all(&mut hand_rng, page.width(), page.height(), w, &spots, &hand_faces));
            let pen =
                writer.as_ref().zip(coverage.as_ref()).map(|(w, coverage)| photo::PenLayer { coverage, ink: w.ink });
            let upright = photo::photograph(&mut photo_rng, &page, pen.as_ref(), shot);
            let stored = photo::store(photo::deliver(upright, shot), shot.storage);
            let bytes = photo::encode_jpeg(&stored, shot.jpeg_quality, shot.storage);
            let conditions = Conditions {
                font: families[layout.family].name.to_string(),
                fields: match layout.fields {
                    FieldStyle::Table => "table".into(),
                    FieldStyle::Boxed => "boxed".into(),
                },
                labels: match layout.labels {
                    LabelStyle::OneLine => "one_line".into(),
                    LabelStyle::TwoLine => "two_line".into(),
                },
                long_side: shot.stored_long_side(),
                rotation_deg: (shot.rotation_deg * 10.0).round() / 10.0,
                storage: storage_name(shot.storage),
                jpeg_quality: shot.jpeg_quality,
                blur_sigma: (shot.blur_sigma * 100.0).round() / 100.0,
                noise_sigma: (shot.noise_sigma * 100.0).round() / 100.0,
                shadow: shot.shadow.is_some(),
                messenger: shot.delivered_long_side.is_some(),
                hand: writer.map(|w| w.description),
            };
            Some((bytes, conditions))
        })
        .collect();

    let mut truth = Vec::with_capacity(options.count);
    for i in 0..options.count {
        let name = file_name(i, options.count);
        let path = options.out.join(&name);
        std::fs::create_dir_all(path.parent().expect("file names have a folder"))?;
        let (source, duplicate_of, second_of) = match &plans[i] {
            Plan::Original { .. } => (i, None, None),
            Plan::SecondPhoto { of, .. } => (*of, None, Some(file_name(*of, options.count))),
            Plan::Duplicate { of } => (*of, Some(file_name(*of, options.count)), None),
        };
        let bytes_index = if duplicate_of.is_some() { source } else { i };
        let (bytes, conditions) = photos[bytes_index].clone().expect("originals and second photos have bytes");
        write_file(&path, &bytes)?;
        let Plan::Original { protocol, broken, .. } = &plans[source] else { unreachable!() };
        let (fields, votes) = split_values(model, &protocol.values);
        truth.push(TruthLine {
            file: name,
            election: protocol.election.clone(),
            station: protocol.station.clone(),
            region: protocol.region.clone(),
            fields,
            votes,
            consistent: broken.is_empty(),
            duplicate_of,
            broken_rules: broken.clone(),
            second_photo_of: second_of,
            handwritten: protocol.handwritten,
            written_by_hand: written_by_hand(model, protocol),
            conditions,
        });
    }
    truth.sort_by(|a, b| a.file.cmp(&b.file));
    let mut text = String::new();
    for line in &truth {
        text.push_str(&serde_json::to_string(line)?);
        text.push('\n');
    }
    write_file(&options.out.join("truth.jsonl"), text.as_bytes())?;
    Ok(truth)
}

/// The keys of what the pen wrote on `protocol` (`station` for its number).
fn written_by_hand(model: &FormModel, protocol: &Protocol) -> Vec<String> {
    let station = protocol.station_by_hand().then(|| "station".to_string());
    let lines = model.lines.iter().filter(|l| protocol.written_by_hand(&l.key)).map(|l| l.key.clone());
    station.into_iter().chain(lines).collect()
}

fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}
