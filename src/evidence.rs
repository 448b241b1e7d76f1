//! The evidence head: one hash that stands for everything counted, for an
//! observer organisation to publish.
//!
//! The manifest's root covers every photo and `results.jsonl`; the
//! reviewers' decision log is a hash chain that starts from that root; so
//! the newest decision's hash (or the root itself, before any decision)
//! fixes the photos, the figures read and every decision made on them.
//! `scan`, `review` and `report` print it, `report` writes it into
//! report.json and report.html, and `verify --head HASH` checks a copy of
//! OUT_DIR against a head published earlier: a copy whose manifest,
//! results or decisions were rewritten since (even with every hash
//! recomputed) no longer has that head in its chain.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::manifest::Manifest;
use crate::review::store::{verify_chain, ChainReport};

/// The key of report.json that records the evidence head the report was made at.
pub const REPORT_KEY: &str = "evidence";

/// The head to publish, with what it covers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// The newest decision's hash, or the manifest's root before any decision.
    pub head: String,
    pub manifest_root: String,
    pub decisions: usize,
    /// Whether the decision log checked out (a broken chain's head proves little).
    pub chain_intact: bool,
    /// Whether results.jsonl is the file the scan wrote (its SHA-256 in the manifest).
    pub results_as_scanned: bool,
}

impl Evidence {
    /// The head of a manifest, its checked decision log, and whether
    /// results.jsonl still has the bytes the manifest names.
    pub fn of(manifest: &Manifest, chain: &ChainReport, results_as_scanned: bool) -> Evidence {
        Evidence {
            head: chain.head().to_string(),
            manifest_root: manifest.root_sha256.clone(),
            decisions: chain.entries,
            chain_intact: chain.ok(),
            results_as_scanned,
        }
    }

    /// OUT_DIR's head now, its log read (never written).
    pub fn current(out: &Path) -> Result<Evidence> {
        Evidence::of_output(out, &Manifest::load(out)?)
    }

    /// OUT_DIR's head now, with its manifest already read.
    pub fn of_output(out: &Path, manifest: &Manifest) -> Result<Evidence> {
        let chain = verify_chain(out, &manifest.root_sha256)?;
        Ok(Evidence::of(manifest, &chain, results_as_scanned(out, manifest)?))
    }

    /// Whether the chain and the results check out.
    pub fn intact(&self) -> bool {
        self.chain_intact && self.results_as_scanned
    }

    /// One line for the terminal.
    pub fn render(&self) -> String {
        let mut line = format!(
            "evidence head: {} (manifest root and {} decisions; publish it, then `verify --head` checks any copy)",
            self.head, self.decisions
        );
        if !self.results_as_scanned {
            line.push_str(
                "\nWARNING: results.jsonl is not the file the scan wrote: its figures were edited (run verify)",
            );
        }
        if !self.chain_intact {
            line.push_str("\nWARNING: the reviewers' decision log is broken (run verify)");
        }
        line
    }
}

/// Whether OUT_DIR/results.jsonl has the SHA-256 the manifest names (a
/// format-1 manifest names none: then it cannot be told, and is taken as is).
pub fn results_as_scanned(out: &Path, manifest: &Manifest) -> Result<bool> {
    let Some(expected) = &manifest.results_sha256 else { return Ok(true) };
    let path = out.join("results.jsonl");
    let bytes = std::fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(crate::scan::hash::hash_bytes(&bytes) == *expected)
}

/// After a scan: when OUT_DIR already holds reviewers' decisions made on an
/// earlier scan of the folder, records the new manifest root in the log (a
/// rescan entry), so the head covers the new results too. `None` when
/// there is no log, or nothing new to record.
pub fn record_scan(out: &Path) -> Result<Option<crate::review::store::Entry>> {
    if !out.join(crate::review::store::REVIEW_DB_FILE).exists() {
        return Ok(None);
    }
    let manifest = Manifest::load(out)?;
    crate::review::store::SqliteStore::open(out)?.record_rescan(&manifest.root_sha256)
}

/// The evidence head recorded in OUT_DIR/report.json, when there is a report.
pub fn recorded_in_report(out: &Path) -> Result<Option<String>> {
    let path = out.join("report.json");
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let report: serde_json::Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))?;
    Ok(report[REPORT_KEY]["head"].as_str().map(str::to_string))
}
