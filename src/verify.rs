//! `verify`: does OUT_DIR still describe the photos it was made from?
//!
//! Re-hashes every input and compares with `manifest.json` (added, missing
//! and altered files), checks that the manifest's root hash matches its own
//! entries (an edited manifest), that `results.jsonl` is the file the scan
//! wrote (its SHA-256 is in the manifest's root) and names the same bytes,
//! that the reviewers' decision log is an unbroken hash chain from the
//! manifest's root, and that every evidence head published earlier (given
//! with `--head`, or recorded in report.json) is one this log has had, and
//! that every signature on a head is valid and on a head of this chain
//! (with `--key`, that the organisation's key signed one).
//! Anything found is a mismatch: the command exits non-zero. Nothing in
//! OUT_DIR is written, so an archived, write-protected copy verifies.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use anyhow::Result;
use rayon::prelude::*;

use crate::evidence::{self, Evidence};
use crate::manifest::Manifest;
use crate::result::read_results;
use crate::review::store::{verify_chain, ChainReport};
use crate::scan::discover;
use crate::scan::hash;
use crate::signing::{self, SignatureReport};
use ed25519_dalek::VerifyingKey;

/// A file whose bytes are not those in the manifest.
#[derive(Debug, Clone, PartialEq)]
pub struct Altered {
    pub file: String,
    pub manifest_sha256: Option<String>,
    /// `Err` when the file cannot be read now.
    pub now: Result<String, String>,
}

/// Everything `verify` found.
#[derive(Debug, Clone)]
pub struct VerifyReport {
    pub input: PathBuf,
    pub root_sha256: String,
    /// The manifest's root hash does not match its own entries.
    pub manifest_edited: bool,
    pub files_checked: usize,
    pub added: Vec<String>,
    pub missing: Vec<String>,
    pub altered: Vec<Altered>,
    /// Lines of results.jsonl that disagree with the manifest, in words.
    pub results_mismatches: Vec<String>,
    /// The review log's chain (empty when no reviewer has decided yet).
    pub review_log: ChainReport,
    /// Heads published earlier that this log never had, in words.
    pub head_mismatches: Vec<String>,
    /// The signatures on heads of this output (see [`crate::signing`]).
    pub signatures: SignatureReport,
    /// The head to publish now.
    pub evidence: Evidence,
}

impl VerifyReport {
    /// True when nothing changed.
    pub fn ok(&self) -> bool {
        !self.manifest_edited
            && self.added.is_empty()
            && self.missing.is_empty()
            && self.altered.is_empty()
            && self.results_mismatches.is_empty()
            && self.review_log.ok()
            && self.head_mismatches.is_empty()
            && self.signatures.problems.is_empty()
    }
}

/// Checks OUT_DIR against the inputs in `input` (default: the folder the
/// manifest names) and against evidence heads published earlier.
pub fn verify(
    out: &Path,
    input: Option<&Path>,
    published_heads: &[String],
    required_key: Option<&VerifyingKey>,
) -> Result<VerifyReport> {
    let manifest = Manifest::load(out)?;
    let input = input.map(Path::to_path_buf).unwrap_or_else(|| PathBuf::from(&manifest.input));
    if !input.is_dir() {
        anyhow::bail!("{} is not a folder (give the photos' folder with --input)", input.display());
    }
    let inputs = discover::discover(&input, manifest.follow_symlinks, Some(out));
    let now: BTreeMap<String, Result<String, String>> = inputs
        .par_iter()
        .map(|i| (i.file.clone(), hash::hash_input(i).map(|(sha, _)| sha).map_err(|e| e.to_string())))
        .collect();
    let listed: BTreeMap<&str, &Option<String>> = manifest.files.iter().map(|f| (f.path.as_str(), &f.sha256)).collect();

    let added = now.keys().filter(|f| !listed.contains_key(f.as_str())).cloned().collect();
    let missing = listed.keys().filter(|f| !now.contains_key(**f)).map(|f| f.to_string()).collect();
    let mut altered = Vec::new();
    for (file, sha_now) in &now {
        let Some(&listed_sha) = listed.get(file.as_str()) else { continue };
        let same = match (listed_sha, sha_now) {
            (Some(a), Ok(b)) => a == b,
            // Unreadable then and now: nothing to compare.
            (None, Err(_)) => true,
            _ => false,
        };
        if !same {
            altered.push(Altered { file: file.clone(), manifest_sha256: listed_sha.clone(), now: sha_now.clone() });
        }
    }

    let mut results_mismatches = Vec::new();
    let results_path = out.join("results.jsonl");
    let results_as_scanned = match evidence::results_as_scanned(out, &manifest) {
        Ok(true) => true,
        Ok(false) => {
            results_mismatches.push(
                "results.jsonl was changed after the scan wrote it (its SHA-256 is not the manifest's): \
                 its figures are not the ones read"
                    .into(),
            );
            false
        }
        Err(e) => {
            results_mismatches.push(format!("{e:#}"));
            false
        }
    };
    match read_results(&results_path) {
        Ok(results) => {
            let in_results: BTreeMap<&str, &str> =
                results.iter().map(|r| (r.file.as_str(), r.sha256.as_str())).collect();
            for (file, sha) in &listed {
                match in_results.get(file) {
                    None => results_mismatches.push(format!("{file}: in the manifest, not in results.jsonl")),
                    Some(r) if *r != sha.as_deref().unwrap_or("") => {
                        results_mismatches.push(format!("{file}: results.jsonl names other bytes than the manifest"))
                    }
                    Some(_) => {}
                }
            }
            for file in in_results.keys().filter(|f| !listed.contains_key(*f)) {
                results_mismatches.push(format!("{file}: in results.jsonl, not in the manifest"));
            }
        }
        Err(e) => results_mismatches.push(format!("{e:#}")),
    }

    let review_log = verify_chain(out, &manifest.root_sha256)?;
    let mut head_mismatches = Vec::new();
    for head in published_heads {
        if !review_log.had_head(head) {
            head_mismatches.push(format!(
                "the published head {head} is not one this log has had: the manifest, the results or the \
                 decisions were rewritten or removed since it was published"
            ));
        }
    }
    match evidence::recorded_in_report(out) {
        Ok(Some(recorded)) if !review_log.had_head(&recorded) => head_mismatches.push(format!(
            "report.json was made at evidence head {recorded}, which this output never had: the manifest, the \
             results or the decisions were rewritten or removed since (or the report is from another scan)"
        )),
        Ok(_) => {}
        Err(e) => head_mismatches.push(format!("{e:#}")),
    }
    let signatures = signing::check(out, &review_log, required_key)?;
    let evidence = Evidence::of(&manifest, &review_log, results_as_scanned);
    let recomputed = manifest.recomputed_root();
    Ok(VerifyReport {
        input,
        manifest_edited: recomputed != manifest.root_sha256,
        root_sha256: manifest.root_sha256,
        files_checked: now.len(),
        added,
        missing,
        altered,
        results_mismatches,
        review_log,
        head_mismatches,
        signatures,
        evidence,
    })
}

/// The report in words, one finding per line.
pub fn render(report: &VerifyReport) -> String {
    let mut text = String::new();
    let _ = writeln!(text, "manifest root hash: {}", report.root_sha256);
    let _ = writeln!(text, "checked {} files in {}", report.files_checked, report.input.display());
    if report.manifest_edited {
        let _ = writeln!(text, "EDITED   manifest.json: its root hash does not match its own entries");
    }
    for f in &report.added {
        let _ = writeln!(text, "ADDED    {f}: not in the manifest");
    }
    for f in &report.missing {
        let _ = writeln!(text, "MISSING  {f}: in the manifest, not in the folder");
    }
    for a in &report.altered {
        let was = a.manifest_sha256.as_deref().unwrap_or("unreadable");
        let _ = match &a.now {
            Ok(now) => writeln!(text, "ALTERED  {}: SHA-256 was {was}, is now {now}", a.file),
            Err(why) => writeln!(text, "ALTERED  {}: SHA-256 was {was}, now {why}", a.file),
        };
    }
    for m in &report.results_mismatches {
        let _ = writeln!(text, "RESULTS  {m}");
    }
    text.push_str(&report.review_log.render());
    for m in &report.head_mismatches {
        let _ = writeln!(text, "HEAD     {m}");
    }
    for p in &report.signatures.problems {
        let _ = writeln!(text, "SIGNED   {p}");
    }
    if let Some(since) = report.signatures.decisions_since {
        let _ = writeln!(
            text,
            "signed: {} signature(s) by the key on heads of this output; {since} decisions made since the newest",
            report.signatures.by_key
        );
    }
    let _ = writeln!(text, "{}", report.evidence.render());
    let _ = writeln!(text, "{}", if report.ok() { "OK: nothing changed" } else { "CHANGED: see the lines above" });
    text
}
