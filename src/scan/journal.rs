//! The scan journal: each file's result saved the moment it is known, so an
//! interrupted run (Ctrl-C, `kill -9`, a dead battery) loses nothing.
//!
//! `OUT_DIR/journal.jsonl` starts with a header naming the form model and
//! the tool version, then holds one result per line, appended and flushed
//! to disk as each photo is read. The next `scan` of the same folder into
//! the same OUT_DIR reuses a line when the file's path and SHA-256 both
//! match, so photos already read are not read again and the final
//! `results.jsonl` equals an uninterrupted run's. A line cut short by a
//! crash is dropped and its file read again. The journal holds results
//! before the cross-file steps (byte copies, conflicts), which are redone
//! over the whole batch at the end of every run.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};

use crate::result::ProtocolResult;

/// The journal's file name inside OUT_DIR.
pub const JOURNAL_FILE: &str = "journal.jsonl";

/// First line of a journal: results are only reused by the same model and
/// the same version of the tool.
#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct Header {
    journal: u32,
    model_sha256: String,
    tool_version: String,
}

/// Journal format version, bumped when the line shape changes.
const JOURNAL_FORMAT: u32 = 1;

/// An open journal, shared by the worker threads.
pub struct Journal {
    path: PathBuf,
    file: Mutex<File>,
}

/// What an earlier run left in the journal.
#[derive(Debug, Default)]
pub struct Previous {
    /// The last result saved per file.
    pub results: HashMap<String, ProtocolResult>,
    /// Why an existing journal was not used, if it was not.
    pub discarded: Option<String>,
}

impl Previous {
    /// The saved result for `file` if it was made from the same bytes.
    pub fn reusable(&self, file: &str, sha256: &str) -> Option<&ProtocolResult> {
        self.results.get(file).filter(|r| r.sha256 == sha256)
    }
}

impl Journal {
    /// Opens OUT_DIR's journal for appending, after reading what an earlier
    /// run of the same model and tool saved in it. A journal of another
    /// model or version is started afresh.
    pub fn open(out: &Path, model_sha256: &str) -> Result<(Journal, Previous)> {
        let path = out.join(JOURNAL_FILE);
        let header = Header {
            journal: JOURNAL_FORMAT,
            model_sha256: model_sha256.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let mut previous = Previous::default();
        if path.exists() {
            match read_journal(&path, &header) {
                Ok(Some(results)) => previous.results = results,
                Ok(None) => {
                    previous.discarded = Some("it was made by another form model or tool version".into());
                }
                Err(e) => previous.discarded = Some(format!("it cannot be read ({e:#})")),
            }
        }
        let file = if previous.discarded.is_none() && path.exists() {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .open(&path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            cut_torn_tail(&mut file).with_context(|| format!("cannot repair {}", path.display()))?;
            file
        } else {
            let mut file = File::create(&path).with_context(|| format!("cannot write {}", path.display()))?;
            writeln!(file, "{}", serde_json::to_string(&header)?)?;
            file.sync_data()?;
            file
        };
        Ok((Journal { path, file: Mutex::new(file) }, previous))
    }

    /// Appends one result and waits until it is on disk.
    pub fn append(&self, result: &ProtocolResult) -> Result<()> {
        let mut line = serde_json::to_string(result)?;
        line.push('\n');
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        file.write_all(line.as_bytes()).with_context(|| format!("cannot write {}", self.path.display()))?;
        file.sync_data().with_context(|| format!("cannot write {}", self.path.display()))?;
        Ok(())
    }

    /// Rewrites the journal with only `results` (one line per file of the
    /// finished run), dropping lines of files since changed or removed.
    pub fn compact(&self, model_sha256: &str, results: &[&ProtocolResult]) -> Result<()> {
        let header = Header {
            journal: JOURNAL_FORMAT,
            model_sha256: model_sha256.to_string(),
            tool_version: env!("CARGO_PKG_VERSION").to_string(),
        };
        let mut text = serde_json::to_string(&header)?;
        text.push('\n');
        for r in results {
            text.push_str(&serde_json::to_string(r)?);
            text.push('\n');
        }
        let mut file = self.file.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        super::write::write_atomically(&self.path, text.as_bytes())?;
        *file = OpenOptions::new().append(true).open(&self.path)?;
        Ok(())
    }
}

/// Reads a journal; `None` when its header is not `expected`. Lines that do
/// not parse (a crash mid-write) are skipped: their files are read again.
fn read_journal(path: &Path, expected: &Header) -> Result<Option<HashMap<String, ProtocolResult>>> {
    let reader = BufReader::new(File::open(path)?);
    let mut lines = reader.lines();
    let header: Option<Header> = lines.next().transpose()?.and_then(|l| serde_json::from_str(&l).ok());
    if header.as_ref() != Some(expected) {
        return Ok(None);
    }
    let mut results = HashMap::new();
    for line in lines {
        let Ok(line) = line else { break };
        if let Ok(r) = serde_json::from_str::<ProtocolResult>(&line) {
            results.insert(r.file.clone(), r);
        }
    }
    Ok(Some(results))
}

/// A crash can leave half a line at the end; cut it so the next append
/// starts on a line of its own.
fn cut_torn_tail(file: &mut File) -> std::io::Result<()> {
    let len = file.seek(SeekFrom::End(0))?;
    if len == 0 {
        return Ok(());
    }
    let mut bytes = Vec::new();
    file.seek(SeekFrom::Start(0))?;
    std::io::Read::read_to_end(file, &mut bytes)?;
    let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1) as u64;
    if keep < len {
        file.set_len(keep)?;
    }
    file.seek(SeekFrom::End(0))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(file: &str, sha: &str) -> ProtocolResult {
        ProtocolResult::empty(file, sha, &["voters_on_list".into()], &["qhp".into()])
    }

    #[test]
    fn saved_results_are_reused_only_for_the_same_bytes_and_model() {
        let dir = tempfile::tempdir().unwrap();
        {
            let (journal, previous) = Journal::open(dir.path(), "model-a").unwrap();
            assert!(previous.results.is_empty());
            journal.append(&result("a.jpg", "aaa")).unwrap();
            journal.append(&result("b.jpg", "bbb")).unwrap();
        }
        // A crash in the middle of a line.
        let path = dir.path().join(JOURNAL_FILE);
        let mut f = OpenOptions::new().append(true).open(&path).unwrap();
        f.write_all(b"{\"file\":\"c.jpg\",\"sha").unwrap();
        drop(f);

        let (journal, previous) = Journal::open(dir.path(), "model-a").unwrap();
        assert!(previous.reusable("a.jpg", "aaa").is_some());
        assert!(previous.reusable("b.jpg", "changed").is_none());
        assert!(previous.reusable("c.jpg", "ccc").is_none());
        journal.append(&result("c.jpg", "ccc")).unwrap();
        drop(journal);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.lines().all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok()), "{text}");

        let (_, previous) = Journal::open(dir.path(), "model-a").unwrap();
        assert_eq!(previous.results.len(), 3);
        let (_, previous) = Journal::open(dir.path(), "model-b").unwrap();
        assert!(previous.results.is_empty());
        assert!(previous.discarded.is_some());
    }
}
