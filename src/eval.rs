//! `eval`: how good a scan was, measured against synth's truth.
//!
//! The metrics are those of the contract; the one that must be zero is
//! `silent_errors`: protocols accepted without a person whose values are
//! not all right. Besides the numbers, it lists the fields read wrong most
//! often and the files behind every silent error, so a regression can be
//! chased to a photo. When the truth holds handwritten protocols, every
//! metric is also given for the printed and the handwritten ones apart
//! (`printed`, `handwritten`), since the two are read by different means.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::result::{read_jsonl, read_results, ProtocolResult, Status};

/// One line of truth.jsonl (the contract's fields; extras ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct Truth {
    pub file: String,
    pub election: String,
    pub station: String,
    pub fields: BTreeMap<String, Option<u64>>,
    pub votes: BTreeMap<String, Option<u64>>,
    pub consistent: bool,
    pub duplicate_of: Option<String>,
    /// Counts written by hand (`synth --handwritten`); absent in older truth.
    #[serde(default)]
    pub handwritten: bool,
}

/// The scores; key names as fixed by the contract.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Scores {
    pub files: usize,
    pub field_accuracy: f64,
    pub protocols_exact: f64,
    pub silent_errors: usize,
    pub flag_recall: f64,
    pub false_flag_rate: f64,
    pub duplicates_found: f64,
    /// Result lines with no truth line, and truth lines with no result.
    pub unmatched_results: usize,
    pub missing_results: usize,
    /// Counts per status among the results that have truth.
    pub status: BTreeMap<String, usize>,
    /// Fields read wrong, most often first: (key, wrong count).
    pub worst_fields: Vec<(String, usize)>,
    /// Files accepted with a wrong value.
    pub silent_error_files: Vec<String>,
    /// The same metrics over the printed protocols only, and over the
    /// handwritten ones only; present when the truth holds handwritten ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printed: Option<Box<Scores>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handwritten: Option<Box<Scores>>,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 {
        1.0
    } else {
        (num as f64 / den as f64 * 10_000.0).round() / 10_000.0
    }
}

pub fn read_truth(path: &Path) -> Result<Vec<Truth>> {
    read_jsonl(path, "truth")
}

/// Which values of `result` equal the truth: (key, right).
fn compare_values(truth: &Truth, result: Option<&ProtocolResult>) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    for (key, want) in &truth.fields {
        let got = result.and_then(|r| r.fields.get(key).copied().flatten());
        out.push((key.clone(), got.is_some() && got == *want));
    }
    for (key, want) in &truth.votes {
        let got = result.and_then(|r| r.votes.get(key).copied().flatten());
        out.push((format!("votes.{key}"), got.is_some() && got == *want));
    }
    out
}

/// Scores `results` against `truth`, and, where some protocols are
/// handwritten, the printed and the handwritten ones apart.
pub fn score(truth: &[Truth], results: &[ProtocolResult]) -> Scores {
    let mut scores = score_set(truth, results);
    if truth.iter().any(|t| t.handwritten) {
        let part = |handwritten: bool| {
            let subset: Vec<Truth> = truth.iter().filter(|t| t.handwritten == handwritten).cloned().collect();
            let mut part = score_set(&subset, results);
            // Results of the other kind are not "unmatched" within a part.
            part.unmatched_results = 0;
            Box::new(part)
        };
        scores.printed = Some(part(false));
        scores.handwritten = Some(part(true));
    }
    scores
}

/// Scores `results` against the protocols of `truth`.
fn score_set(truth: &[Truth], results: &[ProtocolResult]) -> Scores {
    let by_file: HashMap<&str, &ProtocolResult> = results.iter().map(|r| (r.file.as_str(), r)).collect();
    let truth_files: std::collections::HashSet<&str> = truth.iter().map(|t| t.file.as_str()).collect();
    let mut pairs = 0;
    let mut pairs_right = 0;
    let mut originals = 0;
    let mut exact = 0;
    let mut silent = Vec::new();
    let mut inconsistent = 0;
    let mut inconsistent_held = 0;
    let mut consistent = 0;
    let mut consistent_flagged = 0;
    let mut copies = 0;
    let mut copies_found = 0;
    let mut wrong_by_field: BTreeMap<String, usize> = BTreeMap::new();
    let mut status: BTreeMap<String, usize> = BTreeMap::new();
    for t in truth {
        let result = by_file.get(t.file.as_str()).copied();
        if let Some(r) = result {
            *status.entry(r.status.as_str().to_string()).or_default() += 1;
        }
        if let Some(original) = &t.duplicate_of {
            copies += 1;
            if result.is_some_and(|r| r.status == Status::Duplicate && r.duplicate_of.as_ref() == Some(original)) {
                copies_found += 1;
            }
            continue;
        }
        originals += 1;
        let values = compare_values(t, result);
        pairs += values.len();
        for (key, right) in &values {
            if *right {
                pairs_right += 1;
            } else {
                *wrong_by_field.entry(key.clone()).or_default() += 1;
            }
        }
        let header_right = result.is_some_and(|r| {
            r.station.as_deref() == Some(t.station.as_str()) && r.election.as_deref() == Some(t.election.as_str())
        });
        let all_right = header_right && values.iter().all(|(_, ok)| *ok);
        if all_right {
            exact += 1;
        }
        let accepted = result.is_some_and(|r| r.status == Status::Accepted);
        if accepted && !all_right {
            silent.push(t.file.clone());
        }
        if t.consistent {
            consistent += 1;
            if !accepted {
                consistent_flagged += 1;
            }
        } else {
            inconsistent += 1;
            if !accepted {
                inconsistent_held += 1;
            }
        }
    }
    let mut worst_fields: Vec<(String, usize)> = wrong_by_field.into_iter().collect();
    worst_fields.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    Scores {
        files: truth.len(),
        field_accuracy: ratio(pairs_right, pairs),
        protocols_exact: ratio(exact, originals),
        silent_errors: silent.len(),
        flag_recall: ratio(inconsistent_held, inconsistent),
        false_flag_rate: if consistent == 0 { 0.0 } else { ratio(consistent_flagged, consistent) },
        duplicates_found: ratio(copies_found, copies),
        unmatched_results: results.iter().filter(|r| !truth_files.contains(r.file.as_str())).count(),
        missing_results: truth.iter().filter(|t| !by_file.contains_key(t.file.as_str())).count(),
        status,
        worst_fields,
        silent_error_files: silent,
        printed: None,
        handwritten: None,
    }
}

/// Reads both files and scores them.
pub fn run(truth_path: &Path, results_path: &Path) -> Result<Scores> {
    let truth = read_truth(truth_path)?;
    let results = read_results(results_path)?;
    Ok(score(&truth, &results))
}

/// The scores as a table for the terminal: one column, or three (all,
/// printed, handwritten) when the set holds handwritten protocols.
pub fn render_table(s: &Scores) -> String {
    let mut out = String::new();
    let parts: Vec<&Scores> = std::iter::once(s).chain(s.printed.as_deref()).chain(s.handwritten.as_deref()).collect();
    if parts.len() > 1 {
        out.push_str(&format!("{:<18} {:>8} {:>8} {:>8}\n", "", "all", "printed", "handwr."));
    }
    let row = |out: &mut String, k: &str, v: &dyn Fn(&Scores) -> String, note: &str| {
        let cells: String = parts.iter().map(|p| format!(" {:>8}", v(p))).collect();
        out.push_str(&format!("{k:<18}{cells}  {note}\n"))
    };
    row(&mut out, "files", &|s| s.files.to_string(), "lines in truth");
    row(&mut out, "field_accuracy", &|s| format!("{:.4}", s.field_accuracy), "values equal to the truth");
    row(&mut out, "protocols_exact", &|s| format!("{:.4}", s.protocols_exact), "protocols with every value right");
    row(&mut out, "silent_errors", &|s| s.silent_errors.to_string(), "accepted with a wrong value (must be 0)");
    row(&mut out, "flag_recall", &|s| format!("{:.4}", s.flag_recall), "inconsistent protocols not accepted");
    row(&mut out, "false_flag_rate", &|s| format!("{:.4}", s.false_flag_rate), "consistent protocols sent to review");
    row(&mut out, "duplicates_found", &|s| format!("{:.4}", s.duplicates_found), "byte copies marked duplicate");
    out.push_str(&format!("status: {:?}\n", s.status));
    if s.missing_results > 0 || s.unmatched_results > 0 {
        out.push_str(&format!(
            "{} truth files have no result; {} results have no truth\n",
            s.missing_results, s.unmatched_results
        ));
    }
    if !s.worst_fields.is_empty() {
        let worst: Vec<String> = s.worst_fields.iter().take(5).map(|(k, n)| format!("{k} ({n})")).collect();
        out.push_str(&format!("fields read wrong most often: {}\n", worst.join(", ")));
    }
    for f in &s.silent_error_files {
        out.push_str(&format!("silent error: {f}\n"));
    }
    out
}
