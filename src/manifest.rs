//! The hash manifest: one root hash an observer organisation can publish,
//! so anyone can later check that a photo, or the whole set, is the one the
//! results were made from, and that the results are the ones the scan wrote.
//!
//! `OUT_DIR/manifest.json` lists every input's path, size and SHA-256, the
//! form model's SHA-256, the tool's version and the SHA-256 of
//! `results.jsonl` (so an edited figure changes the root). The root hash is the SHA-256
//! of a plain text anyone can rebuild with standard tools (see
//! [`ROOT_METHOD`]): a hash over the sorted list, not a Merkle tree — the
//! list is small enough to publish whole, and checking one photo means
//! finding its line and recomputing one SHA-256 over the text.

use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::scan::hash::hash_bytes;

/// The manifest's file name inside OUT_DIR.
pub const MANIFEST_FILE: &str = "manifest.json";

/// First line of the text the root hash is taken over; names the method.
pub const MANIFEST_FORMAT: &str = "protocol-ocr manifest 2";
/// The format before the root covered results.jsonl: still read, and
/// verified for what it covers.
pub const MANIFEST_FORMAT_WITHOUT_RESULTS: &str = "protocol-ocr manifest 1";

/// How the root hash is made, written into every manifest.
pub const ROOT_METHOD: &str = "SHA-256 (lowercase hex) of the UTF-8 text made of the line 'protocol-ocr manifest 2', \
the line 'tool VERSION', the line 'model MODEL_SHA256', the line 'results RESULTS_SHA256' (the SHA-256 of \
results.jsonl's bytes), then one line per input file sorted by path: 'SHA256 SIZE PATH' (a '-' for the SHA-256 \
of a file that could not be read), every line ending in a newline";

/// One input file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestFile {
    pub path: String,
    pub size: u64,
    /// `None` when the file could not be read (its result says why).
    pub sha256: Option<String>,
}

/// The model the results were read with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestModel {
    pub id: String,
    pub sha256: String,
}

impl ManifestModel {
    /// The identity of the model a scan or a report was made with.
    pub fn of(model: &crate::model::FormModel) -> ManifestModel {
        ManifestModel { id: model.id.clone(), sha256: model.sha256.clone() }
    }
}

/// The whole manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub format: String,
    pub tool_version: String,
    /// The input folder as given to `scan`, the default for `verify`.
    pub input: String,
    /// Whether `scan` followed symbolic links (so `verify` lists the same files).
    pub follow_symlinks: bool,
    pub model: ManifestModel,
    /// SHA-256 of `results.jsonl` as the scan wrote it (`None` in a
    /// format-1 manifest, which did not cover it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub results_sha256: Option<String>,
    pub files: Vec<ManifestFile>,
    pub root_method: String,
    pub root_sha256: String,
}

impl Manifest {
    /// A manifest over `files` (sorted here by path) and the bytes of
    /// results.jsonl they were read into.
    pub fn new(
        input: &Path,
        follow_symlinks: bool,
        model: ManifestModel,
        results_jsonl: &[u8],
        mut files: Vec<ManifestFile>,
    ) -> Manifest {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let tool_version = env!("CARGO_PKG_VERSION").to_string();
        let results_sha256 = Some(hash_bytes(results_jsonl));
        let root_sha256 =
            hash_bytes(root_text(&tool_version, &model.sha256, results_sha256.as_deref(), &files).as_bytes());
        Manifest {
            format: MANIFEST_FORMAT.into(),
            tool_version,
            input: input.display().to_string(),
            follow_symlinks,
            model,
            results_sha256,
            files,
            root_method: ROOT_METHOD.into(),
            root_sha256,
        }
    }

    /// Reads OUT_DIR/manifest.json.
    pub fn load(out: &Path) -> Result<Manifest> {
        let path = out.join(MANIFEST_FILE);
        let text = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        let manifest: Manifest =
            serde_json::from_str(&text).with_context(|| format!("{}: not a manifest", path.display()))?;
        let covers_results = match manifest.format.as_str() {
            MANIFEST_FORMAT => true,
            MANIFEST_FORMAT_WITHOUT_RESULTS => false,
            other => bail!("{}: unknown manifest format {other:?}", path.display()),
        };
        if covers_results != manifest.results_sha256.is_some() {
            bail!(
                "{}: a {:?} manifest {} results_sha256",
                path.display(),
                manifest.format,
                if covers_results { "needs" } else { "has no" }
            );
        }
        Ok(manifest)
    }

    /// The root hash recomputed from this manifest's own entries.
    pub fn recomputed_root(&self) -> String {
        let text = root_text(&self.tool_version, &self.model.sha256, self.results_sha256.as_deref(), &self.files);
        hash_bytes(text.as_bytes())
    }
}

/// The text the root hash is taken over ([`ROOT_METHOD`]); without a
/// results hash, the format-1 text.
pub fn root_text(
    tool_version: &str,
    model_sha256: &str,
    results_sha256: Option<&str>,
    files: &[ManifestFile],
) -> String {
    let mut text = match results_sha256 {
        Some(results) => format!("{MANIFEST_FORMAT}\ntool {tool_version}\nmodel {model_sha256}\nresults {results}\n"),
        None => format!("{MANIFEST_FORMAT_WITHOUT_RESULTS}\ntool {tool_version}\nmodel {model_sha256}\n"),
    };
    for f in files {
        text.push_str(&format!("{} {} {}\n", f.sha256.as_deref().unwrap_or("-"), f.size, f.path));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, sha: &str) -> ManifestFile {
        ManifestFile { path: path.into(), size: 3, sha256: Some(sha.into()) }
    }

    #[test]
    fn the_root_covers_every_entry_and_not_their_order() {
        let model = ManifestModel { id: "m".into(), sha256: "abc".into() };
        let results = b"{}\n";
        let a = Manifest::new(Path::new("in"), false, model.clone(), results, vec![file("b", "2"), file("a", "1")]);
        let b = Manifest::new(Path::new("in"), false, model.clone(), results, vec![file("a", "1"), file("b", "2")]);
        assert_eq!(a.root_sha256, b.root_sha256);
        assert_eq!(a.recomputed_root(), a.root_sha256);
        let c = Manifest::new(Path::new("in"), false, model.clone(), results, vec![file("a", "1"), file("b", "3")]);
        assert_ne!(a.root_sha256, c.root_sha256);
        let results_sha = hash_bytes(results);
        assert_eq!(
            root_text("0.1.0", "abc", Some(&results_sha), &a.files),
            format!("protocol-ocr manifest 2\ntool 0.1.0\nmodel abc\nresults {results_sha}\n1 3 a\n2 3 b\n")
        );
        assert_eq!(
            root_text("0.1.0", "abc", None, &a.files),
            "protocol-ocr manifest 1\ntool 0.1.0\nmodel abc\n1 3 a\n2 3 b\n"
        );
    }

    #[test]
    fn an_edited_results_file_changes_the_root() {
        let model = ManifestModel { id: "m".into(), sha256: "abc".into() };
        let read = Manifest::new(Path::new("in"), false, model.clone(), b"{\"votes\":1}\n", vec![file("a", "1")]);
        let edited = Manifest::new(Path::new("in"), false, model, b"{\"votes\":5001}\n", vec![file("a", "1")]);
        assert_ne!(read.root_sha256, edited.root_sha256);
    }
}
