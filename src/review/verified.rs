//! The verified data set: what the totals may be computed from.
//!
//! A protocol is verified when the scan accepted it and no reviewer
//! overruled that, or when a reviewer confirmed or corrected it; its values
//! are then the scan's or the newest decision's. Rejected and still
//! pending protocols are listed beside it, never mixed in. Byte copies and
//! files that are not readable images are not protocols and are left out.
//! `review --export` (and the review page's export button) writes it as
//! `verified.jsonl` and `verified.csv`; `report` reads it from the store.

use std::path::{Path, PathBuf};

use anyhow::Result;
use serde::Serialize;

use super::store::{ReviewState, ReviewStore};
use crate::model::FormModel;

/// One verified protocol with its final values and who decided.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VerifiedRow {
    pub file: String,
    pub sha256: String,
    pub election: Option<String>,
    pub station: Option<String>,
    pub region: Option<String>,
    pub fields: std::collections::BTreeMap<String, Option<u64>>,
    pub votes: std::collections::BTreeMap<String, Option<u64>>,
    /// `accepted` (by the scan), `confirmed` or `corrected`.
    pub state: ReviewState,
    /// The reviewer, or `scan` for a protocol accepted without review.
    pub decided_by: String,
    pub decided_at: Option<String>,
    pub note: String,
}

/// A protocol left out of the totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LeftOut {
    pub file: String,
    pub election: Option<String>,
    pub station: Option<String>,
    /// Why, in words: the flags still open, or the reviewer's note.
    pub why: String,
}

/// The verified rows and what was left out.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct VerifiedSet {
    pub rows: Vec<VerifiedRow>,
    pub pending: Vec<LeftOut>,
    pub rejected: Vec<LeftOut>,
}

/// Builds the verified set from a store.
pub fn verified_set(store: &dyn ReviewStore) -> Result<VerifiedSet> {
    let mut set = VerifiedSet::default();
    for p in store.protocols()? {
        let state = p.state();
        let values = p.values();
        let left_out = |why: String| LeftOut {
            file: p.result.file.clone(),
            election: values.election.clone(),
            station: values.station.clone(),
            why,
        };
        match state {
            ReviewState::NotReviewed => {}
            ReviewState::Pending => set.pending.push(left_out(p.result.flags.join(", "))),
            ReviewState::Rejected => {
                let e = p.last.as_ref().expect("a rejection is a decision");
                set.rejected.push(left_out(format!("rejected by {}: {}", e.reviewer, e.note)));
            }
            ReviewState::Accepted | ReviewState::Confirmed | ReviewState::Corrected => set.rows.push(VerifiedRow {
                file: p.result.file.clone(),
                sha256: p.result.sha256.clone(),
                election: values.election,
                station: values.station,
                region: p.result.region.clone(),
                fields: values.fields,
                votes: values.votes,
                state,
                decided_by: p.last.as_ref().map_or_else(|| "scan".to_string(), |e| e.reviewer.clone()),
                decided_at: p.last.as_ref().map(|e| e.decided_at.clone()),
                note: p.last.as_ref().map(|e| e.note.clone()).unwrap_or_default(),
            }),
        }
    }
    Ok(set)
}

/// Writes OUT_DIR/verified.jsonl and verified.csv; returns their paths.
pub fn export(out: &Path, model: &FormModel, set: &VerifiedSet) -> Result<(PathBuf, PathBuf)> {
    let mut jsonl = String::new();
    for row in &set.rows {
        jsonl.push_str(&serde_json::to_string(row)?);
        jsonl.push('\n');
    }
    let jsonl_path = out.join("verified.jsonl");
    crate::scan::write::write_atomically(&jsonl_path, jsonl.as_bytes())?;

    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = ["file", "election", "station", "region"].iter().map(|s| s.to_string()).collect();
    header.extend(model.lines.iter().map(|l| l.key.clone()));
    header.extend(["state", "decided_by", "decided_at", "note", "sha256"].iter().map(|s| s.to_string()));
    w.write_record(&header)?;
    for row in &set.rows {
        let mut record = vec![
            row.file.clone(),
            row.election.clone().unwrap_or_default(),
            row.station.clone().unwrap_or_default(),
            row.region.clone().unwrap_or_default(),
        ];
        for line in &model.lines {
            let map = if line.kind == crate::model::LineKind::Field { &row.fields } else { &row.votes };
            record.push(map.get(&line.short_key).copied().flatten().map(|v| v.to_string()).unwrap_or_default());
        }
        record.extend([
            row.state.as_str().to_string(),
            row.decided_by.clone(),
            row.decided_at.clone().unwrap_or_default(),
            row.note.clone(),
            row.sha256.clone(),
        ]);
        crate::spreadsheet::write_record(&mut w, &record)?;
    }
    let csv_path = out.join("verified.csv");
    crate::scan::write::write_atomically(&csv_path, &w.into_inner()?)?;
    Ok((jsonl_path, csv_path))
}
