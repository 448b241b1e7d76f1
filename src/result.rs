//! One line of `results.jsonl`: the shape other tools rely on.
//!
//! The fields and their meaning are fixed by `docs/output-format.md`; this
//! struct is that contract in code, used both to write results and to read
//! them back (`eval`, later `review` and `report`). Extra fields beyond the
//! contract are additions, never renames.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// The outcome of one file, ordered from best to worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Read confidently and every check holds.
    Accepted,
    /// Same bytes as an earlier file; `duplicate_of` names it.
    Duplicate,
    /// A person must look at it; `flags` says why.
    Flagged,
    /// Could not be read as a protocol; `error` says why.
    Failed,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Accepted => "accepted",
            Status::Duplicate => "duplicate",
            Status::Flagged => "flagged",
            Status::Failed => "failed",
        }
    }
}

/// One evaluated control relation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub rule: String,
    pub kind: String,
    /// False also when the rule could not be evaluated (see `evaluated`).
    pub ok: bool,
    pub detail: String,
    /// False when a value the rule needs was not read.
    #[serde(default = "yes")]
    pub evaluated: bool,
}

fn yes() -> bool {
    true
}

/// A result line, as in the contract.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProtocolResult {
    pub file: String,
    pub sha256: String,
    pub status: Status,
    pub election: Option<String>,
    pub station: Option<String>,
    pub region: Option<String>,
    pub fields: BTreeMap<String, Option<u64>>,
    pub votes: BTreeMap<String, Option<u64>>,
    pub confidence: BTreeMap<String, f64>,
    pub checks: Vec<Check>,
    pub flags: Vec<String>,
    pub skew_deg: Option<f64>,
    #[serde(default)]
    pub duplicate_of: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    /// Size of the file in bytes.
    #[serde(default)]
    pub size: u64,
    /// Quarter turns (clockwise, 0–3) that made the page upright.
    #[serde(default)]
    pub turns: u8,
    /// Per value, what went wrong reading it, in words.
    #[serde(default)]
    pub notes: BTreeMap<String, String>,
    /// Per value, where its digits were found on the normalised page
    /// (left, top, right, bottom at 200 dpi), for the reviewer.
    #[serde(default)]
    pub boxes: BTreeMap<String, [u32; 4]>,
    /// The counts were read as handwriting (by the glyph network).
    #[serde(default)]
    pub handwritten: bool,
    /// Per handwritten value, its likeliest readings with their
    /// probabilities, best first (the value read first), for the reviewer.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub candidates: BTreeMap<String, Vec<(u64, f64)>>,
    /// Readings among the candidates that would make the failing rules
    /// hold, for the reviewer to check against the photo — never taken
    /// without a person.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub suggestions: BTreeMap<String, u64>,
}

impl ProtocolResult {
    /// A result with every key of the model and nothing read.
    pub fn empty(file: &str, sha256: &str, fields: &[String], parties: &[String]) -> ProtocolResult {
        ProtocolResult {
            file: file.to_string(),
            sha256: sha256.to_string(),
            status: Status::Failed,
            election: None,
            station: None,
            region: None,
            fields: fields.iter().map(|k| (k.clone(), None)).collect(),
            votes: parties.iter().map(|k| (k.clone(), None)).collect(),
            confidence: BTreeMap::new(),
            checks: Vec::new(),
            flags: Vec::new(),
            skew_deg: None,
            duplicate_of: None,
            error: None,
            size: 0,
            turns: 0,
            notes: BTreeMap::new(),
            boxes: BTreeMap::new(),
            handwritten: false,
            candidates: BTreeMap::new(),
            suggestions: BTreeMap::new(),
        }
    }

    /// A `failed` result with a sentence for a person.
    pub fn failed(file: &str, sha256: &str, fields: &[String], parties: &[String], error: String) -> ProtocolResult {
        let mut r = ProtocolResult::empty(file, sha256, fields, parties);
        r.error = Some(error);
        r
    }

    /// The flag kinds (`rule`, `missing`, …) of this result; a string
    /// that is no flag stands for itself.
    pub fn flag_kinds(&self) -> impl Iterator<Item = &str> {
        self.flags.iter().map(|f| f.parse::<crate::flag::Flag>().map_or(f.as_str(), |flag| flag.kind()))
    }
}

/// Reads a results.jsonl file.
pub fn read_results(path: &std::path::Path) -> anyhow::Result<Vec<ProtocolResult>> {
    read_jsonl(path, "result")
}

/// Reads a JSON Lines file of `T`; a bad line is named by file and number.
pub fn read_jsonl<T: serde::de::DeserializeOwned>(path: &std::path::Path, what: &str) -> anyhow::Result<Vec<T>> {
    use anyhow::Context;
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).with_context(|| format!("{}:{}: not a {what} line", path.display(), i + 1))
        })
        .collect()
}
