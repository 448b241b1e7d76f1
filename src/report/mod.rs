//! `report`: the observed totals per election level, the discrepancies with
//! the official figures, and signals for analysts — from the verified data
//! set only.
//!
//! Verified protocols (accepted by the scan, or confirmed or corrected by a
//! reviewer) are grouped by election and station: a station photographed
//! twice with the same values counts once; twice with different values it
//! is an unresolved conflict and counts not at all (listed). A protocol
//! with a value still empty, or without its election or station, is left
//! out and listed. Pending and rejected protocols are counted and listed,
//! never added in. The table's layout is the reference report's
//! (see `docs/report.md`); the keys of `report.json` are those of
//! `docs/output-format.md`.

pub mod html;
pub mod official;
pub mod signals;
pub mod stats;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use serde_json::Value;

use crate::manifest::ManifestModel;
use crate::model::FormModel;
use crate::review::verified::{LeftOut, VerifiedRow, VerifiedSet};
pub use official::{Comparison, Discrepancy};
pub use signals::LevelSignals;

/// The form lines the report's ratios are made of (every model of this
/// kind of protocol has them).
pub const VOTERS: &str = "voters_on_list";
pub const RECEIVED: &str = "ballots_received";
pub const ISSUED: &str = "ballots_issued";
pub const UNUSED: &str = "ballots_unused";
pub const SPOILED: &str = "ballots_spoiled";
const REPORT_FIELDS: [&str; 5] = [VOTERS, RECEIVED, ISSUED, UNUSED, SPOILED];

/// One station as counted.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CountedStation {
    pub election: String,
    pub station: String,
    /// The photos it was read from (more than one: counted once).
    pub files: Vec<String>,
    pub fields: BTreeMap<String, u64>,
    pub votes: BTreeMap<String, u64>,
}

impl CountedStation {
    /// Ballots in the box: every party's votes plus the spoiled ones.
    pub fn cast(&self) -> u64 {
        self.votes.values().sum::<u64>() + self.fields[SPOILED]
    }

    /// Issued / voters, in percent.
    pub fn turnout(&self) -> Option<f64> {
        ratio(self.fields[ISSUED], self.fields[VOTERS])
    }

    /// A party's votes / ballots cast, in percent.
    pub fn share(&self, party: &str) -> Option<f64> {
        ratio(self.votes.get(party).copied().unwrap_or(0), self.cast())
    }
}

/// Totals of one election level.
#[derive(Debug, Clone, PartialEq)]
pub struct LevelTotals {
    pub election: String,
    pub stations: usize,
    pub fields: BTreeMap<String, u64>,
    pub votes: BTreeMap<String, u64>,
}

impl LevelTotals {
    pub fn turnout(&self) -> Option<f64> {
        ratio(self.fields[ISSUED], self.fields[VOTERS])
    }

    pub fn unused(&self) -> Option<f64> {
        ratio(self.fields[UNUSED], self.fields[RECEIVED])
    }

    fn cast(&self) -> u64 {
        self.votes.values().sum::<u64>() + self.fields[SPOILED]
    }

    /// Per party and `spoiled`: share of the ballots cast, in percent.
    pub fn shares(&self) -> BTreeMap<String, Option<f64>> {
        let cast = self.cast();
        let mut shares: BTreeMap<String, Option<f64>> =
            self.votes.iter().map(|(party, v)| (party.clone(), ratio(*v, cast))).collect();
        shares.insert("spoiled".into(), ratio(self.fields[SPOILED], cast));
        shares
    }

    /// The party with the most votes at this level.
    pub fn leader(&self) -> Option<&str> {
        self.votes.iter().max_by_key(|(party, v)| (**v, std::cmp::Reverse(party.as_str()))).map(|(p, _)| p.as_str())
    }
}

/// `num / den` in percent with one decimal; `None` when `den` is 0.
pub fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| round1(100.0 * num as f64 / den as f64))
}

/// Rounds to one decimal, halves away from zero.
pub fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

/// A station whose photos disagree even after review.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unresolved {
    pub election: String,
    pub station: String,
    pub files: Vec<String>,
}

/// report.json's shape: one [`ElectionTotals`] per election key, beside
/// the coverage, the signals, the official comparison, the model and the
/// evidence head.
#[derive(Serialize)]
struct ReportFile<'a> {
    #[serde(flatten)]
    elections: BTreeMap<&'a str, ElectionTotals<'a>>,
    coverage: Coverage<'a>,
    signals: &'a BTreeMap<String, LevelSignals>,
    #[serde(skip_serializing_if = "Option::is_none")]
    official: Option<&'a Comparison>,
    model: ManifestModel,
    #[serde(skip_serializing_if = "Option::is_none")]
    evidence: Option<&'a crate::evidence::Evidence>,
}

/// The contract's figures for one election.
#[derive(Serialize)]
struct ElectionTotals<'a> {
    name: String,
    stations: usize,
    voters_on_list: u64,
    ballots_received: u64,
    ballots_issued: u64,
    ballots_unused: u64,
    ballots_spoiled: u64,
    votes: &'a BTreeMap<String, u64>,
    /// Per cent of the voters on the list who were issued a ballot.
    turnout: Option<f64>,
    /// Per cent of the ballots received left unused.
    unused: Option<f64>,
    /// Per cent of the ballots cast, per party and spoiled.
    shares: BTreeMap<String, Option<f64>>,
}

/// What the totals cover and what they leave out.
#[derive(Serialize)]
struct Coverage<'a> {
    summary: String,
    protocols_counted: usize,
    stations_counted: usize,
    counted_once: Vec<StationPhotos<'a>>,
    unresolved_conflicts: &'a [Unresolved],
    pending: &'a [LeftOut],
    rejected: &'a [LeftOut],
    left_out: &'a [LeftOut],
}

/// A station photographed more than once, and its photos.
#[derive(Serialize)]
struct StationPhotos<'a> {
    election: &'a str,
    station: &'a str,
    files: &'a [String],
}

/// Everything the report says.
#[derive(Debug, Clone)]
pub struct Report {
    /// In the layout's column order; a level without protocols has 0 stations.
    pub levels: Vec<LevelTotals>,
    pub stations: Vec<CountedStation>,
    /// Verified protocols read into the totals (photos, before counting stations once).
    pub protocols_counted: usize,
    /// Stations photographed more than once, with equal values: counted once.
    pub counted_once: Vec<CountedStation>,
    pub unresolved: Vec<Unresolved>,
    pub pending: Vec<LeftOut>,
    pub rejected: Vec<LeftOut>,
    /// Verified protocols that could not be counted, and why.
    pub left_out: Vec<LeftOut>,
    pub signals: BTreeMap<String, LevelSignals>,
    pub official: Option<Comparison>,
    /// The evidence head the report was made at (none without a manifest).
    pub evidence: Option<crate::evidence::Evidence>,
}

/// Builds the report from a verified set.
pub fn build(model: &FormModel, set: &VerifiedSet) -> Result<Report> {
    for key in REPORT_FIELDS {
        if !model.lines.iter().any(|l| l.key == key) {
            bail!("the form model has no line '{key}', which the report needs");
        }
    }
    let mut left_out = Vec::new();
    let mut groups: BTreeMap<(String, String), Vec<&VerifiedRow>> = BTreeMap::new();
    for row in &set.rows {
        let leave = |why: &str| LeftOut {
            file: row.file.clone(),
            election: row.election.clone(),
            station: row.station.clone(),
            why: why.to_string(),
        };
        let empty: Vec<&str> =
            row.fields.iter().chain(row.votes.iter()).filter(|(_, v)| v.is_none()).map(|(k, _)| k.as_str()).collect();
        match (&row.election, &row.station) {
            (None, _) => left_out.push(leave("the election is not known")),
            (_, None) => left_out.push(leave("the station number is not known")),
            (Some(e), _) if model.election(e).is_none() => left_out.push(leave("an election this model does not have")),
            _ if !empty.is_empty() => left_out.push(leave(&format!("no value for {}", empty.join(", ")))),
            (Some(e), Some(s)) => groups.entry((e.clone(), s.clone())).or_default().push(row),
        }
    }

    let mut stations = Vec::new();
    let mut counted_once = Vec::new();
    let mut unresolved = Vec::new();
    let mut protocols_counted = 0;
    for ((election, station), rows) in groups {
        let first = rows[0];
        let agree = rows.iter().all(|r| r.fields == first.fields && r.votes == first.votes);
        let files: Vec<String> = rows.iter().map(|r| r.file.clone()).collect();
        if !agree {
            unresolved.push(Unresolved { election, station, files });
            continue;
        }
        protocols_counted += rows.len();
        let counted = CountedStation {
            election,
            station,
            files,
            fields: first.fields.iter().map(|(k, v)| (k.clone(), v.expect("checked above"))).collect(),
            votes: first.votes.iter().map(|(k, v)| (k.clone(), v.expect("checked above"))).collect(),
        };
        if rows.len() > 1 {
            counted_once.push(counted.clone());
        }
        stations.push(counted);
    }

    let levels: Vec<LevelTotals> = model
        .report
        .columns
        .iter()
        .map(|election| {
            let mut totals = LevelTotals {
                election: election.clone(),
                stations: 0,
                fields: REPORT_FIELDS.iter().map(|k| (k.to_string(), 0)).collect(),
                votes: model.report.parties.iter().map(|p| (p.clone(), 0)).collect(),
            };
            for s in stations.iter().filter(|s| &s.election == election) {
                totals.stations += 1;
                for key in REPORT_FIELDS {
                    *totals.fields.get_mut(key).expect("made above") += s.fields.get(key).copied().unwrap_or(0);
                }
                for (party, v) in &s.votes {
                    *totals.votes.entry(party.clone()).or_default() += v;
                }
            }
            totals
        })
        .collect();
    let signals = levels
        .iter()
        .map(|level| {
            let at_level: Vec<&CountedStation> = stations.iter().filter(|s| s.election == level.election).collect();
            let name = |party: &str| model.report.name(party);
            (level.election.clone(), signals::level_signals(level, &at_level, &name))
        })
        .collect();
    Ok(Report {
        levels,
        stations,
        protocols_counted,
        counted_once,
        unresolved,
        pending: set.pending.clone(),
        rejected: set.rejected.clone(),
        left_out,
        signals,
        official: None,
        evidence: None,
    })
}

fn percent(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.1}%")).unwrap_or_else(|| "—".into())
}

/// "433325" → "433 325".
pub fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

impl Report {
    /// The table's rows: a label, then one cell per level column. Ratios
    /// first (the reference layout), then the absolute totals.
    pub fn table_rows(&self, model: &FormModel) -> Vec<(String, Vec<String>)> {
        let per = |f: &dyn Fn(&LevelTotals) -> String| self.levels.iter().map(f).collect::<Vec<_>>();
        let mut rows = vec![
            ("stations (protocols)".to_string(), per(&|l| l.stations.to_string())),
            ("voters on the lists".to_string(), per(&|l| grouped(l.fields[VOTERS]))),
            ("turnout (issued / voters)".to_string(), per(&|l| percent(l.turnout()))),
            ("unused ballots (unused / received)".to_string(), per(&|l| percent(l.unused()))),
        ];
        for party in &model.report.parties {
            rows.push((model.report.name(party), per(&|l| percent(l.shares()[party]))));
        }
        rows.push(("spoiled".to_string(), per(&|l| percent(l.shares()["spoiled"]))));
        for (key, label) in [
            (RECEIVED, "ballots received"),
            (ISSUED, "ballots issued"),
            (UNUSED, "ballots unused"),
            (SPOILED, "ballots spoiled"),
        ] {
            rows.push((label.to_string(), per(&|l| grouped(l.fields[key]))));
        }
        for party in &model.report.parties {
            rows.push((format!("votes: {}", model.report.name(party)), per(&|l| grouped(l.votes[party]))));
        }
        rows
    }

    /// The table and what it covers, for the terminal.
    pub fn render(&self, model: &FormModel) -> String {
        let rows = self.table_rows(model);
        let headers: Vec<String> = self.levels.iter().map(|l| model.report.name(&l.election)).collect();
        let label_width = rows.iter().map(|(l, _)| l.chars().count()).max().unwrap_or(0);
        let widths: Vec<usize> = (0..headers.len())
            .map(|i| {
                rows.iter().map(|(_, c)| c[i].chars().count()).chain([headers[i].chars().count()]).max().unwrap_or(0)
            })
            .collect();
        let mut text = String::new();
        let _ = write!(text, "{:label_width$}", "");
        for (h, w) in headers.iter().zip(&widths) {
            let _ = write!(text, "  {h:>w$}");
        }
        text.push('\n');
        for (i, (label, cells)) in rows.iter().enumerate() {
            if i == 4 + model.report.parties.len() + 1 {
                let _ = writeln!(text, "{:-<1$}", "", label_width + widths.iter().map(|w| w + 2).sum::<usize>());
            }
            let _ = write!(text, "{label:label_width$}");
            for (c, w) in cells.iter().zip(&widths) {
                let _ = write!(text, "  {c:>w$}");
            }
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&self.coverage_sentence());
        text.push('\n');
        if let Some(official) = &self.official {
            text.push_str(&official.render(model));
        }
        for level in &self.levels {
            if let Some(signals) = self.signals.get(&level.election) {
                text.push_str(&signals.render(&model.report.name(&level.election)));
            }
        }
        if let Some(evidence) = &self.evidence {
            let _ = writeln!(text, "\n{}", evidence.render());
        }
        text
    }

    /// What the totals cover, in words.
    pub fn coverage_sentence(&self) -> String {
        let mut s =
            format!("Covers {} verified protocols counted as {} stations", self.protocols_counted, self.stations.len());
        match self.counted_once.len() {
            0 => {}
            1 => s.push_str(" (1 station photographed more than once counted once)"),
            n => {
                let _ = write!(s, " ({n} stations photographed more than once counted once)");
            }
        }
        let _ =
            write!(s, ". Not in the totals: {} pending review, {} rejected", self.pending.len(), self.rejected.len());
        if !self.unresolved.is_empty() {
            let _ = write!(s, ", {} stations whose photos still disagree", self.unresolved.len());
        }
        if !self.left_out.is_empty() {
            let _ = write!(s, ", {} verified protocols that cannot be counted", self.left_out.len());
        }
        s.push_str(" (each listed in report.json).");
        s
    }

    /// report.json: per election key the contract's figures, plus metadata.
    /// Its keys are written sorted, as they always were: the typed shape
    /// goes through a JSON map, which keeps keys in order.
    pub fn to_json(&self, model: &FormModel) -> Value {
        let elections = self
            .levels
            .iter()
            .map(|level| {
                let totals = ElectionTotals {
                    name: model.report.name(&level.election),
                    stations: level.stations,
                    voters_on_list: level.fields[VOTERS],
                    ballots_received: level.fields[RECEIVED],
                    ballots_issued: level.fields[ISSUED],
                    ballots_unused: level.fields[UNUSED],
                    ballots_spoiled: level.fields[SPOILED],
                    votes: &level.votes,
                    turnout: level.turnout(),
                    unused: level.unused(),
                    shares: level.shares(),
                };
                (level.election.as_str(), totals)
            })
            .collect();
        let coverage = Coverage {
            summary: self.coverage_sentence(),
            protocols_counted: self.protocols_counted,
            stations_counted: self.stations.len(),
            counted_once: self
                .counted_once
                .iter()
                .map(|s| StationPhotos { election: &s.election, station: &s.station, files: &s.files })
                .collect(),
            unresolved_conflicts: &self.unresolved,
            pending: &self.pending,
            rejected: &self.rejected,
            left_out: &self.left_out,
        };
        let file = ReportFile {
            elections,
            coverage,
            signals: &self.signals,
            official: self.official.as_ref(),
            model: ManifestModel::of(model),
            evidence: self.evidence.as_ref(),
        };
        serde_json::to_value(file).expect("the report serialises")
    }

    /// report.csv: the table, one column per level, numbers as numbers.
    pub fn to_csv(&self, model: &FormModel) -> Result<Vec<u8>> {
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header = vec!["row".to_string()];
        header.extend(self.levels.iter().map(|l| l.election.clone()));
        w.write_record(&header)?;
        let num = |n: u64| n.to_string();
        let pct = |p: Option<f64>| p.map(|p| format!("{p:.1}")).unwrap_or_default();
        let mut rows: Vec<(String, Vec<String>)> = vec![
            ("stations".into(), self.levels.iter().map(|l| num(l.stations as u64)).collect()),
            (VOTERS.into(), self.levels.iter().map(|l| num(l.fields[VOTERS])).collect()),
            ("turnout_percent".into(), self.levels.iter().map(|l| pct(l.turnout())).collect()),
            ("unused_percent".into(), self.levels.iter().map(|l| pct(l.unused())).collect()),
        ];
        for party in model.report.parties.iter().chain(std::iter::once(&"spoiled".to_string())) {
            rows.push((format!("share_percent.{party}"), self.levels.iter().map(|l| pct(l.shares()[party])).collect()));
        }
        for key in [RECEIVED, ISSUED, UNUSED, SPOILED] {
            rows.push((key.into(), self.levels.iter().map(|l| num(l.fields[key])).collect()));
        }
        for party in &model.report.parties {
            rows.push((format!("votes.{party}"), self.levels.iter().map(|l| num(l.votes[party])).collect()));
        }
        for (label, cells) in rows {
            let mut record = vec![label];
            record.extend(cells);
            crate::spreadsheet::write_record(&mut w, &record)?;
        }
        Ok(w.into_inner()?)
    }
}

/// Builds the report for OUT_DIR, compares it with `official` if given,
/// and writes report.json, report.csv and report.html into `dest` (OUT_DIR
/// itself unless told otherwise: an archived, write-protected OUT_DIR is
/// read, never written).
pub fn run(out: &Path, model: &FormModel, official_csv: Option<&Path>, dest: Option<&Path>) -> Result<Report> {
    if !out.join("results.jsonl").exists() {
        bail!("{} has no results.jsonl: run scan first", out.display());
    }
    let store = crate::review::store::SqliteStore::open_read_only(out)?;
    let set = crate::review::verified::verified_set(&store)?;
    let mut report = build(model, &set)?;
    report.evidence = match crate::manifest::Manifest::load(out) {
        Ok(manifest) => Some(crate::evidence::Evidence::of_output(out, &manifest)?),
        Err(_) => None,
    };
    if let Some(path) = official_csv {
        let figures = official::read(path, model)?;
        report.official = Some(official::compare(model, &report, &figures));
    }
    let dest = dest.unwrap_or(out);
    let write = |name: &str, bytes: &[u8]| {
        let path = dest.join(name);
        crate::scan::write::write_atomically(&path, bytes).with_context(|| {
            format!("cannot write {} (a write-protected folder? give another with --to)", path.display())
        })
    };
    write("report.json", serde_json::to_string_pretty(&report.to_json(model))?.as_bytes())?;
    write("report.csv", &report.to_csv(model)?)?;
    write("report.html", html::render(model, &report)?.as_bytes())?;
    Ok(report)
}
