//! The hash manifest: one root hash an observer organisation can publish,
//! so anyone can later check that a photo, or the whole set, is the one the
//! results were made from.
//!
//! `OUT_DIR/manifest.json` lists every input's path, size and SHA-256, the
//! form model's SHA-256 and the tool's version. The root hash is the SHA-256
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
pub const MANIFEST_FORMAT: &str = "protocol-ocr manifest 1";

/// How the root hash is made, written into every manifest.
pub const ROOT_METHOD: &str = "SHA-256 (lowercase hex) of the UTF-8 text made of the line 'protocol-ocr manifest 1', \
the line 'tool VERSION', the line 'model MODEL_SHA256', then one line per input file sorted by path: \
'SHA256 SIZE PATH' (a '-' for the SHA-256 of a file that could not be read), every line ending in a newline";

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
    pub files: Vec<ManifestFile>,
    pub root_method: String,
    pub root_sha256: String,
}

impl Manifest {
    /// A manifest over `files` (sorted here by path).
    pub fn new(input: &Path, follow_symlinks: bool, model: ManifestModel, mut files: Vec<ManifestFile>) -> Manifest {
        files.sort_by(|a, b| a.path.cmp(&b.path));
        let tool_version = env!("CARGO_PKG_VERSION").to_string();
        let root_sha256 = root_hash(&tool_version, &model.sha256, &files);
        Manifest {
            format: MANIFEST_FORMAT.into(),
            tool_version,
            input: input.display().to_string(),
            follow_symlinks,
            model,
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
        if manifest.format != MANIFEST_FORMAT {
            bail!("{}: unknown manifest format {:?}", path.display(), manifest.format);
        }
        Ok(manifest)
    }

    /// The root hash recomputed from this manifest's own entries.
    pub fn recomputed_root(&self) -> String {
        root_hash(&self.tool_version, &self.model.sha256, &self.files)
    }
}

/// The text the root hash is taken over ([`ROOT_METHOD`]).
pub fn root_text(tool_version: &str, model_sha256: &str, files: &[ManifestFile]) -> String {
    let mut text = format!("{MANIFEST_FORMAT}\ntool {tool_version}\nmodel {model_sha256}\n");
    for f in files {
        text.push_str(&format!("{} {} {}\n", f.sha256.as_deref().unwrap_or("-"), f.size, f.path));
    }
    text
}

fn root_hash(tool_version: &str, model_sha256: &str, files: &[ManifestFile]) -> String {
    hash_bytes(root_text(tool_version, model_sha256, files).as_bytes())
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
        let a = Manifest::new(Path::new("in"), false, model.clone(), vec![file("b", "2"), file("a", "1")]);
        let b = Manifest::new(Path::new("in"), false, model.clone(), vec![file("a", "1"), file("b", "2")]);
        assert_eq!(a.root_sha256, b.root_sha256);
        assert_eq!(a.recomputed_root(), a.root_sha256);
        let c = Manifest::new(Path::new("in"), false, model, vec![file("a", "1"), file("b", "3")]);
        assert_ne!(a.root_sha256, c.root_sha256);
        assert_eq!(
            root_text("0.1.0", "abc", &a.files),
            "protocol-ocr manifest 1\ntool 0.1.0\nmodel abc\n1 3 a\n2 3 b\n"
        );
    }
}
