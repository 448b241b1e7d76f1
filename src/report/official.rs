//! The official figures against the observers' protocols: the finding the
//! observers publish, so every difference is listed with both numbers.
//!
//! The official CSV (UTF-8, a header row): `election`, `station`, then one
//! column per form line — the field keys (`voters_on_list`, …) and the party
//! keys (`nur_otan` or `votes.nur_otan`). Other columns are ignored; an
//! empty cell is "not published".

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::Serialize;

use super::Report;
use crate::model::{FormModel, LineKind};

/// Official values per (election, station), keyed by the model's line keys.
pub type Figures = BTreeMap<(String, String), BTreeMap<String, Option<u64>>>;

/// One line where the two sources differ.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Discrepancy {
    pub election: String,
    pub station: String,
    /// The model's line key (`ballots_issued`, `votes.nur_otan`).
    pub line: String,
    pub observed: u64,
    /// `None` when the official figures leave the line empty.
    pub official: Option<u64>,
    /// official − observed.
    pub difference: Option<i64>,
}

/// A station in one source only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OneSided {
    pub election: String,
    pub station: String,
    /// Where the observers stand on it, for a station only the officials list.
    pub note: String,
}

/// The whole comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub stations_in_both: usize,
    pub stations_differing: usize,
    pub discrepancies: Vec<Discrepancy>,
    /// Per election, per line: the sum of (official − observed) over the
    /// stations in both sources.
    pub totals: BTreeMap<String, BTreeMap<String, i64>>,
    pub only_observed: Vec<OneSided>,
    pub only_official: Vec<OneSided>,
}

/// Reads the official CSV; errors name the file and the line.
pub fn read(path: &Path, model: &FormModel) -> Result<Figures> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let headers = reader.headers().with_context(|| format!("{}: no header row", path.display()))?.clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let (Some(election_col), Some(station_col)) = (column("election"), column("station")) else {
        bail!("{}: the header must have 'election' and 'station' columns", path.display());
    };
    let mut columns = Vec::new();
    for line in &model.lines {
        let found =
            column(&line.key).or_else(|| (line.kind == LineKind::Party).then(|| column(&line.short_key)).flatten());
        match found {
            Some(i) => columns.push((line.key.clone(), i)),
            None => bail!("{}: no column for the line '{}'", path.display(), line.key),
        }
    }
    let mut figures = Figures::new();
    for (i, record) in reader.records().enumerate() {
        let row = i + 2;
        let record = record.with_context(|| format!("{}:{row}: not a CSV row", path.display()))?;
        let election = record.get(election_col).unwrap_or_default().to_string();
        let station = record.get(station_col).unwrap_or_default().to_string();
        if election.is_empty() || station.is_empty() {
            bail!("{}:{row}: election and station must not be empty", path.display());
        }
        let mut values = BTreeMap::new();
        for (key, col) in &columns {
            let cell = record.get(*col).unwrap_or_default();
            let value = if cell.is_empty() {
                None
            } else {
                Some(cell.parse::<u64>().with_context(|| {
                    format!("{}:{row}: '{cell}' in column {key} is not a whole number", path.display())
                })?)
            };
            values.insert(key.clone(), value);
        }
        if figures.insert((election.clone(), station.clone()), values).is_some() {
            bail!("{}:{row}: station {election}/{station} is listed twice", path.display());
        }
    }
    Ok(figures)
}

/// Compares the counted stations with the official figures.
pub fn compare(model: &FormModel, report: &Report, figures: &Figures) -> Comparison {
    let mut discrepancies = Vec::new();
    let mut totals: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    let mut in_both = 0;
    let mut differing = BTreeSet::new();
    let mut only_observed = Vec::new();
    for s in &report.stations {
        let Some(official) = figures.get(&(s.election.clone(), s.station.clone())) else {
            only_observed.push(OneSided {
                election: s.election.clone(),
                station: s.station.clone(),
                note: format!("observed in {}", s.files.join(", ")),
            });
            continue;
        };
        in_both += 1;
        for line in &model.lines {
            let observed = match line.kind {
                LineKind::Field => s.fields.get(&line.short_key),
                LineKind::Party => s.votes.get(&line.short_key),
            };
            let Some(&observed) = observed else { continue };
            let official_value = official.get(&line.key).copied().flatten();
            if official_value == Some(observed) {
                continue;
            }
            let difference = official_value.map(|o| o as i64 - observed as i64);
            if let Some(d) = difference {
                *totals.entry(s.election.clone()).or_default().entry(line.key.clone()).or_default() += d;
            }
            differing.insert((s.election.clone(), s.station.clone()));
            discrepancies.push(Discrepancy {
                election: s.election.clone(),
                station: s.station.clone(),
                line: line.key.clone(),
                observed,
                official: official_value,
                difference,
            });
        }
    }
    let counted: BTreeSet<(String, String)> =
        report.stations.iter().map(|s| (s.election.clone(), s.station.clone())).collect();
    let only_official = figures
        .keys()
        .filter(|k| !counted.contains(*k))
        .map(|(election, station)| {
            let here = |list: &[crate::review::verified::LeftOut]| {
                list.iter().any(|l| l.election.as_ref() == Some(election) && l.station.as_ref() == Some(station))
            };
            let note = if here(&report.pending) {
                "observed, still pending review"
            } else if here(&report.rejected) {
                "observed, rejected by a reviewer"
            } else if report.unresolved.iter().any(|u| &u.election == election && &u.station == station) {
                "observed, the photos still disagree"
            } else if here(&report.left_out) {
                "observed, not countable (see left_out)"
            } else {
                "no observer photo"
            };
            OneSided { election: election.clone(), station: station.clone(), note: note.into() }
        })
        .collect();
    Comparison {
        stations_in_both: in_both,
        stations_differing: differing.len(),
        discrepancies,
        totals,
        only_observed,
        only_official,
    }
}

impl Comparison {
    /// The comparison in words, for the terminal.
    pub fn render(&self, model: &FormModel) -> String {
        let mut text = String::new();
        let _ = writeln!(
            text,
            "\nOfficial figures: {} stations in both sources, {} of them differ ({} lines).",
            self.stations_in_both,
            self.stations_differing,
            self.discrepancies.len()
        );
        for d in &self.discrepancies {
            let official = d.official.map(|o| o.to_string()).unwrap_or_else(|| "not published".into());
            let diff = d.difference.map(|d| format!("{d:+}")).unwrap_or_default();
            let _ = writeln!(
                text,
                "  {} {:>6}  {:<24} observed {:>7}  official {:>7}  {diff}",
                model.report.name(&d.election),
                d.station,
                d.line,
                d.observed,
                official
            );
        }
        for (election, lines) in &self.totals {
            let parts: Vec<String> = lines.iter().map(|(k, v)| format!("{k} {v:+}")).collect();
            let _ = writeln!(text, "  total difference, {}: {}", model.report.name(election), parts.join(", "));
        }
        for s in &self.only_observed {
            let _ = writeln!(text, "  only in the observers' data: {} {} ({})", s.election, s.station, s.note);
        }
        for s in &self.only_official {
            let _ = writeln!(text, "  only in the official figures: {} {} ({})", s.election, s.station, s.note);
        }
        text
    }
}
