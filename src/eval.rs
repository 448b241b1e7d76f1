//! `eval`: how good a scan was, measured against synth's truth.
//!
//! The metrics are those of the contract; the one that must be zero is
//! `silent_errors`: protocols accepted without a person whose values are
//! not all right. Besides the numbers, it lists the fields read wrong most
//! often and the files behind every silent error, so a regression can be
//! chased to a photo. When the truth holds handwritten protocols, every
//! metric is also given for the printed and the handwritten ones apart
//! (`printed`, `handwritten`), since the two are read by different means.
//! And it says where the consistent protocols that went to a person went
//! and why (`held`): the reasons that held them, which of them were read
//! right throughout (a person only confirms), and how many hold a
//! handwritten value whose own evidence is weak — which no acceptance rule
//! may pass, so they bound what can be accepted without a person.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Result;
use serde::{Deserialize, Serialize};

use crate::flag::Flag;
use crate::result::{read_jsonl, read_results, ProtocolResult, Status};

/// One line of truth.jsonl (the contract's fields; extras ignored).
#[derive(Debug, Clone, Deserialize)]
pub struct Truth {
    pub file: String,
    pub election: String,
    pub station: String,
    pub fields: BTreeMap<String, Option<u64>>,
    pub votes: BTreeMap<String, Option<u64>>,
    /// Whether every relation holds on the true values; `null` where a
    /// value is ambiguous (two transcribers read it differently), which
    /// no reading can rightly accept.
    pub consistent: Option<bool>,
    pub duplicate_of: Option<String>,
    /// Counts written by hand (`synth --handwritten`); absent in older truth.
    #[serde(default)]
    pub handwritten: bool,
    /// On a handwritten protocol, the lines the pen wrote (`station` for its
    /// number); the others were printed. Empty in older truth: every line
    /// of a handwritten protocol is taken for the pen's.
    #[serde(default)]
    pub written_by_hand: Vec<String>,
}

impl Truth {
    /// Whether line `key` was written by hand.
    fn by_hand(&self, key: &str) -> bool {
        self.handwritten && (self.written_by_hand.is_empty() || self.written_by_hand.iter().any(|k| k == key))
    }
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
    /// Where the consistent protocols not accepted went, and why.
    pub held: Held,
    /// Values the pen wrote, by the confidence the scan gave them: how often
    /// a value in each band was right (empty without any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub handwritten_calibration: Vec<CalibrationBand>,
    /// Counts printed on handwritten protocols (print and pen line by line):
    /// how many, and how many were read right and accepted or right.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printed_among_handwriting: Option<PrintedAmongHandwriting>,
    /// The same metrics over the printed protocols only, and over the
    /// handwritten ones only; present when the truth holds handwritten ones.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub printed: Option<Box<Scores>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub handwritten: Option<Box<Scores>>,
}

/// The consistent protocols (byte copies left out) that were not accepted:
/// each cost a reviewer's look, and `false_flag_rate` is their share.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Held {
    pub protocols: usize,
    /// Of them, read right throughout (every value, station and election).
    pub read_right: usize,
    /// Per reason (a flag's kind; an unsure value, station and election
    /// apart), the protocols it held and those it alone held.
    pub reasons: BTreeMap<String, ReasonCount>,
    /// Of them, handwritten with a value whose own evidence is weak: the
    /// network gives readings of as many digits but other ones, together,
    /// [`WEAK_RIVAL`] of its belief or more (its doubt which digits they
    /// are, not how many). No rule may accept such a value without a
    /// person, however well the arithmetic fits, so these bound what a
    /// better checking step could still accept with this network.
    pub weak_evidence: usize,
    /// Of them, read right throughout with no value of weak evidence: the
    /// most that a better checking step could still accept with this
    /// network (the rest are wrong, or weak, which no check may pass).
    pub passable: usize,
}

/// The counts printed on handwritten protocols, read.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct PrintedAmongHandwriting {
    pub values: usize,
    pub right: usize,
}

/// One band of a calibration table: values whose confidence was at least
/// `from` and below `to` (1.0 included), and how many were right.
#[derive(Debug, Clone, Copy, Serialize, PartialEq)]
pub struct CalibrationBand {
    pub from: f32,
    pub to: f32,
    pub values: usize,
    pub right: usize,
}

/// The handwritten values of `truth` by the confidence `results` gave
/// them, in the bands of [`crate::digits::measure::BANDS`] (its JSON names
/// the count `values`, where the network's table says `digits`).
fn handwritten_calibration(values: &[(f32, bool)]) -> Vec<CalibrationBand> {
    if values.is_empty() {
        return Vec::new();
    }
    crate::digits::measure::tally(values.iter().copied())
        .into_iter()
        .map(|b| CalibrationBand { from: b.from, to: b.to, values: b.digits, right: b.right })
        .collect()
}

/// How many held protocols one reason held, and held alone.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq)]
pub struct ReasonCount {
    pub held: usize,
    pub only: usize,
}

/// Rival readings this likely together are a live doubt: the value itself
/// is then read below the scan's confidence threshold (a fifth of the
/// network's belief or more is elsewhere), its evidence weak.
pub const WEAK_RIVAL: f64 = 1.0 - crate::scan::check::CONFIDENCE_THRESHOLD as f64;

/// Why a protocol was not accepted: its flags' kinds (an unsure station
/// or election told apart from an unsure value), else its status.
fn held_reasons(result: Option<&ProtocolResult>) -> std::collections::BTreeSet<String> {
    let Some(r) = result else { return ["no result".to_string()].into() };
    let mut reasons: std::collections::BTreeSet<String> = r
        .flags
        .iter()
        .map(|text| match text.parse::<Flag>() {
            Ok(Flag::LowConfidence(what)) if what == "station" || what == "election" => {
                format!("low_confidence:{what}")
            }
            Ok(Flag::LowConfidence(_)) => "low_confidence:value".to_string(),
            Ok(flag) => flag.kind().to_string(),
            Err(_) => text.clone(),
        })
        .collect();
    if reasons.is_empty() {
        reasons.insert(r.status.as_str().to_string());
    }
    reasons
}

/// The value `result` shows for a line key (`votes.PARTY` for votes).
fn shown_value(result: &ProtocolResult, key: &str) -> Option<u64> {
    match key.strip_prefix("votes.") {
        Some(party) => result.votes.get(party).copied().flatten(),
        None => result.fields.get(key).copied().flatten(),
    }
}

/// Whether a handwritten value of `result` has rival readings of as many
/// digits holding [`WEAK_RIVAL`] or more of the network's belief (only the
/// candidates the result keeps are summed, so this may miss a doubt, never
/// invent one).
fn has_weak_value(result: &ProtocolResult) -> bool {
    result.candidates.iter().any(|(key, readings)| {
        let Some(shown) = shown_value(result, key) else { return false };
        let digits = shown.to_string().len();
        let rivals: f64 =
            readings.iter().filter(|&&(v, _)| v != shown && v.to_string().len() == digits).map(|&(_, p)| p).sum();
        rivals >= WEAK_RIVAL
    })
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

/// One value of a protocol, as shown and as true.
struct Compared {
    key: String,
    shown: Option<u64>,
    want: Option<u64>,
    right: bool,
}

/// Every value of `truth` beside what `result` shows. A line the sheet
/// leaves blank (`null` in the truth) is read right when the result shows
/// no value for it either.
fn compare_values(truth: &Truth, result: Option<&ProtocolResult>) -> Vec<Compared> {
    let fields = truth.fields.iter().map(|(key, want)| (key.clone(), *want));
    let votes = truth.votes.iter().map(|(party, want)| (format!("votes.{party}"), *want));
    fields
        .chain(votes)
        .map(|(key, want)| {
            let shown = result.and_then(|r| shown_value(r, &key));
            let right = result.is_some() && shown == want;
            Compared { key, shown, want, right }
        })
        .collect()
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
    let mut held = Held::default();
    let mut wrong_by_field: BTreeMap<String, usize> = BTreeMap::new();
    let mut status: BTreeMap<String, usize> = BTreeMap::new();
    let mut handwritten_values: Vec<(f32, bool)> = Vec::new();
    let mut printed_among_handwriting = PrintedAmongHandwriting::default();
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
        for value in &values {
            if value.right {
                pairs_right += 1;
            } else {
                *wrong_by_field.entry(value.key.clone()).or_default() += 1;
            }
        }
        if let Some(r) = result.filter(|r| r.handwritten && t.handwritten) {
            // A value the pen wrote and the scan read, with the confidence
            // the scan gave it.
            for value in values.iter().filter(|v| t.by_hand(&v.key)) {
                if let Some(&confidence) = r.confidence.get(&value.key).filter(|_| value.shown.is_some()) {
                    handwritten_values.push((confidence as f32, value.right));
                }
            }
        }
        if t.handwritten {
            for value in values.iter().filter(|v| !t.by_hand(&v.key)) {
                printed_among_handwriting.values += 1;
                printed_among_handwriting.right += value.right as usize;
            }
        }
        let header_right = result.is_some_and(|r| {
            r.station.as_deref() == Some(t.station.as_str()) && r.election.as_deref() == Some(t.election.as_str())
        });
        let all_right = header_right && values.iter().all(|value| value.right);
        if all_right {
            exact += 1;
        }
        let accepted = result.is_some_and(|r| r.status == Status::Accepted);
        if accepted && !all_right {
            silent.push(t.file.clone());
        }
        if t.consistent == Some(true) {
            consistent += 1;
            if !accepted {
                consistent_flagged += 1;
                held.protocols += 1;
                held.read_right += all_right as usize;
                let weak = result.is_some_and(has_weak_value);
                held.weak_evidence += weak as usize;
                held.passable += (all_right && !weak) as usize;
                let reasons = held_reasons(result);
                let alone = reasons.len() == 1;
                for reason in reasons {
                    let count = held.reasons.entry(reason).or_default();
                    count.held += 1;
                    count.only += alone as usize;
                }
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
        held,
        handwritten_calibration: handwritten_calibration(&handwritten_values),
        printed_among_handwriting: (printed_among_handwriting.values > 0).then_some(printed_among_handwriting),
        printed: None,
        handwritten: None,
    }
}

/// Reads both files and scores them.
pub fn run(truth_path: &Path, results_path: &Path) -> Result<(Scores, Vec<PhotoRow>)> {
    let truth = read_truth(truth_path)?;
    let results = read_results(results_path)?;
    Ok((score(&truth, &results), per_photo(&truth, &results)))
}

/// One photo's outcome, for the per-photo table: how many of its values
/// were read right, read wrong or not read, and why it stands where it does.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PhotoRow {
    pub file: String,
    /// The result's status, `none` when the scan wrote no line for it.
    pub status: String,
    pub right: usize,
    pub wrong: usize,
    pub not_read: usize,
    pub station_right: bool,
    /// Whether the true values satisfy every relation (`None`: ambiguous).
    pub consistent: Option<bool>,
    /// The values shown wrong: (key, shown, true).
    pub wrong_values: Vec<(String, Option<u64>, Option<u64>)>,
    /// The result's flags, or its error.
    pub why: String,
}

/// A result's flags in a few words: rules, repeats and conflicts by name,
/// the many values missing or unsure by count (`rule:E3 missing×4
/// low_confidence×2 unreadable_station`).
fn summarise_flags(flags: &[String]) -> String {
    let mut counted: BTreeMap<&'static str, usize> = BTreeMap::new();
    let mut named = Vec::new();
    for flag in flags {
        match flag.parse::<Flag>() {
            Ok(f @ (Flag::Missing(_) | Flag::LowConfidence(_) | Flag::ChosenByRules(_))) => {
                *counted.entry(f.kind()).or_default() += 1
            }
            _ => named.push(flag.clone()),
        }
    }
    named.extend(counted.into_iter().map(|(kind, n)| format!("{kind}×{n}")));
    named.join(" ")
}

/// Every photo of `truth` with its outcome, in the truth's order, except
/// that photos accepted with a wrong value come first: they are the ones
/// that must never happen.
pub fn per_photo(truth: &[Truth], results: &[ProtocolResult]) -> Vec<PhotoRow> {
    let by_file: HashMap<&str, &ProtocolResult> = results.iter().map(|r| (r.file.as_str(), r)).collect();
    let mut rows: Vec<PhotoRow> = truth
        .iter()
        .map(|t| {
            let result = by_file.get(t.file.as_str()).copied();
            let mut row = PhotoRow {
                file: t.file.clone(),
                status: result.map_or("none", |r| r.status.as_str()).to_string(),
                right: 0,
                wrong: 0,
                not_read: 0,
                station_right: result.is_some_and(|r| r.station.as_deref() == Some(t.station.as_str())),
                consistent: t.consistent,
                wrong_values: Vec::new(),
                why: result.map_or_else(String::new, |r| r.error.clone().unwrap_or_else(|| summarise_flags(&r.flags))),
            };
            for Compared { key, shown, want, right } in compare_values(t, result) {
                if right {
                    row.right += 1;
                } else if shown.is_none() {
                    row.not_read += 1;
                } else {
                    row.wrong += 1;
                    row.wrong_values.push((key, shown, want));
                }
            }
            row
        })
        .collect();
    let accepted_wrong =
        |r: &PhotoRow| r.status == Status::Accepted.as_str() && (r.wrong + r.not_read > 0 || !r.station_right);
    rows.sort_by_key(|r| !accepted_wrong(r));
    rows
}

/// The per-photo table for the terminal: a line per photo, then under
/// each photo accepted with a wrong value its wrong values.
pub fn render_per_photo(rows: &[PhotoRow]) -> String {
    let number = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    let mut out = format!(
        "{:<32} {:<10} {:>5} {:>5} {:>8} {:>7} {:>10}  why\n",
        "file", "status", "right", "wrong", "not read", "station", "consistent"
    );
    for row in rows {
        let consistent = row.consistent.map_or("ambiguous", |c| if c { "yes" } else { "no" });
        let station = if row.station_right { "right" } else { "wrong" };
        out.push_str(&format!(
            "{:<32} {:<10} {:>5} {:>5} {:>8} {:>7} {:>10}  {}\n",
            row.file, row.status, row.right, row.wrong, row.not_read, station, consistent, row.why
        ));
        if row.status == Status::Accepted.as_str() {
            for (key, shown, want) in &row.wrong_values {
                out.push_str(&format!("    ACCEPTED WRONG {key}: shown {} true {}\n", number(*shown), number(*want)));
            }
        }
    }
    out
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
    // Held protocols per part where the set has parts, else for all.
    let held_parts = match (s.printed.as_deref(), s.handwritten.as_deref()) {
        (Some(printed), Some(handwritten)) => vec![(" printed", printed), (" handwritten", handwritten)],
        _ => vec![("", s)],
    };
    for (name, part) in held_parts.into_iter().filter(|(_, p)| p.held.protocols > 0) {
        out.push_str(&render_held(name, &part.held));
    }
    if !s.handwritten_calibration.is_empty() {
        out.push_str(&render_calibration(&s.handwritten_calibration));
    }
    if let Some(p) = s.printed_among_handwriting {
        out.push_str(&format!(
            "counts printed on handwritten protocols: {}, read right {:.4}\n",
            p.values,
            ratio(p.right, p.values)
        ));
    }
    for f in &s.silent_error_files {
        out.push_str(&format!("silent error: {f}\n"));
    }
    out
}

/// The calibration table of handwritten values, one band a line.
fn render_calibration(table: &[CalibrationBand]) -> String {
    let mut out = String::from("handwritten values by the confidence given them (band: values, share right):");
    for band in table.iter().filter(|b| b.values > 0) {
        let close = if band.to >= 1.0 { "]" } else { ")" };
        out.push_str(&format!(
            " [{:.3}, {:.3}{close}: {}, {:.3};",
            band.from,
            band.to,
            band.values,
            band.right as f64 / band.values as f64
        ));
    }
    out.pop();
    out.push('\n');
    out
}

/// The held protocols of one part in a few lines: reasons, most frequent
/// first, each with how many it held alone.
fn render_held(part: &str, held: &Held) -> String {
    let mut reasons: Vec<(&String, &ReasonCount)> = held.reasons.iter().collect();
    reasons.sort_by(|a, b| b.1.held.cmp(&a.1.held).then(a.0.cmp(b.0)));
    let listed: Vec<String> = reasons.iter().map(|(r, c)| format!("{r} {} (alone {})", c.held, c.only)).collect();
    let mut out = format!(
        "held{part} (consistent, not accepted): {}, read right throughout {}; reasons: {}\n",
        held.protocols,
        held.read_right,
        listed.join(", ")
    );
    if held.weak_evidence > 0 {
        out.push_str(&format!(
            "  weak evidence in {}: a handwritten value the network reads as other digits at {WEAK_RIVAL:.2} or \
             more, for a person whatever the rules; read right with none: {} (the most a better check could \
             still accept)\n",
            held.weak_evidence, held.passable
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn truth(file: &str, votes: u64, consistent: bool) -> Truth {
        Truth {
            file: file.into(),
            election: "mazhilis".into(),
            station: "217".into(),
            fields: [("ballots_issued".to_string(), Some(146))].into(),
            votes: [("qhp".to_string(), Some(votes))].into(),
            consistent: Some(consistent),
            duplicate_of: None,
            handwritten: true,
            written_by_hand: Vec::new(),
        }
    }

    #[test]
    fn counts_printed_among_handwriting_are_scored_apart_from_the_pens() {
        let mut t = truth("a.jpg", 31, true);
        t.written_by_hand = vec!["station".into(), "votes.qhp".into()];
        let mut r = result("a.jpg", 31, &[], &[]);
        r.handwritten = true;
        r.confidence.insert("votes.qhp".into(), 0.99);
        r.confidence.insert("ballots_issued".into(), 0.99);
        let scores = score(std::slice::from_ref(&t), std::slice::from_ref(&r));
        // 146 issued was printed: scored apart, and not in the pen's table.
        assert_eq!(scores.printed_among_handwriting, Some(PrintedAmongHandwriting { values: 1, right: 1 }));
        assert_eq!(scores.handwritten_calibration.iter().map(|b| b.values).sum::<usize>(), 1);
        assert!(render_table(&scores).contains("counts printed on handwritten protocols: 1, read right 1.0000"));
        // Older truth says nothing: every line is the pen's.
        t.written_by_hand.clear();
        let scores = score(&[t], &[r]);
        assert_eq!(scores.printed_among_handwriting, None);
        assert_eq!(scores.handwritten_calibration.iter().map(|b| b.values).sum::<usize>(), 2);
    }

    /// A result showing `votes` for the party, with `flags` and, for the
    /// flagged, `candidates` as the scan keeps them.
    fn result(file: &str, votes: u64, flags: &[&str], candidates: &[(&str, Vec<(u64, f64)>)]) -> ProtocolResult {
        let mut r = ProtocolResult::empty(file, "0", &["ballots_issued".into()], &["qhp".into()]);
        r.status = if flags.is_empty() { Status::Accepted } else { Status::Flagged };
        r.election = Some("mazhilis".into());
        r.station = Some("217".into());
        r.fields.insert("ballots_issued".into(), Some(146));
        r.votes.insert("qhp".into(), Some(votes));
        r.flags = flags.iter().map(|f| f.to_string()).collect();
        r.candidates = candidates.iter().map(|(k, c)| (k.to_string(), c.clone())).collect();
        r.handwritten = true;
        r
    }

    #[test]
    fn held_protocols_are_told_by_reason_rightness_and_weak_evidence() {
        let truths = [
            truth("accepted.jpg", 17, true),
            truth("station.jpg", 17, true),
            truth("weak.jpg", 17, true),
            truth("cut.jpg", 17, true),
            truth("inconsistent.jpg", 17, false),
        ];
        let results = [
            result("accepted.jpg", 17, &[], &[]),
            result("station.jpg", 17, &["low_confidence:station"], &[]),
            // Shows 19 (a misread of 17); 17 and 11, as many digits, hold
            // 0.35 of the network's belief together.
            result(
                "weak.jpg",
                19,
                &["low_confidence:votes.qhp", "rule:R4"],
                &[("votes.qhp", vec![(19, 0.6), (17, 0.25), (11, 0.1), (1, 0.05)])],
            ),
            // Its doubt is how many digits (1461), not which: not weak.
            result(
                "cut.jpg",
                17,
                &["low_confidence:ballots_issued"],
                &[("ballots_issued", vec![(146, 0.3), (1461, 0.67), (148, 0.03)])],
            ),
            result("inconsistent.jpg", 17, &["rule:R1"], &[]),
        ];
        let scores = score(&truths, &results);
        let held = &scores.handwritten.as_ref().expect("a handwritten part").held;
        assert_eq!(held.protocols, 3, "the inconsistent protocol is rightly held, not counted: {held:?}");
        assert_eq!(held.read_right, 2, "{held:?}");
        assert_eq!(held.weak_evidence, 1, "{held:?}");
        assert_eq!(held.passable, 2, "station.jpg and cut.jpg are right and not weak: {held:?}");
        let count = |r: &str| held.reasons.get(r).copied().unwrap_or_default();
        assert_eq!(count("low_confidence:station"), ReasonCount { held: 1, only: 1 });
        assert_eq!(count("low_confidence:value"), ReasonCount { held: 2, only: 1 });
        assert_eq!(count("rule"), ReasonCount { held: 1, only: 0 });
        assert_eq!(held, &scores.held, "every protocol is handwritten: the part is the whole");
        let table = render_table(&scores);
        assert!(table.contains("held handwritten (consistent, not accepted): 3, read right throughout 2;"), "{table}");
        assert!(table.contains("weak evidence in 1: a handwritten value"), "{table}");
        assert!(table.contains("read right with none: 2"), "{table}");
    }
}

#[cfg(test)]
mod calibration_tests {
    use super::*;

    #[test]
    fn handwritten_values_are_banded_by_their_confidence() {
        let table = handwritten_calibration(&[(0.999, true), (0.999, false), (0.85, true), (0.3, false), (1.0, true)]);
        let band = |from: f32| *table.iter().find(|b| b.from == from).unwrap();
        assert_eq!((band(0.995).values, band(0.995).right), (3, 2), "1.0 belongs to the top band");
        assert_eq!((band(0.8).values, band(0.8).right), (1, 1));
        assert_eq!((band(0.0).values, band(0.0).right), (1, 0));
        assert_eq!(table.iter().map(|b| b.values).sum::<usize>(), 5);
        assert!(handwritten_calibration(&[]).is_empty(), "no table without handwritten values");
        let text = render_calibration(&table);
        assert!(text.contains("[0.995, 1.000]: 3, 0.667"), "{text}");
        assert!(!text.contains("[0.500, 0.800)"), "empty bands are left out: {text}");
    }
}
