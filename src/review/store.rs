//! The review store: scan results and reviewers' decisions in a SQLite file,
//! with the decisions kept as an append-only hash chain.
//!
//! `OUT_DIR/review.db` (WAL mode, every decision committed with a full sync
//! before the answer goes out) holds the scan results, imported from
//! `results.jsonl`, and a `decisions` table that is only ever appended to:
//! triggers refuse UPDATE and DELETE, and each entry carries the SHA-256 of
//! the previous one, so an entry altered or removed behind the tool's back
//! breaks the chain that `verify` checks. The chain starts from the scan's
//! manifest root (which covers the photos and results.jsonl), so the newest
//! entry's hash stands for everything counted: see [`crate::evidence`].
//! That hash is also written to `review-head.json` before the decision is
//! committed, so removing entries from the end, or the whole log, shows
//! too. Everything above this module goes through [`ReviewStore`], so a
//! shared PostgreSQL store for several machines can replace it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{bail, Context, Result};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::result::{read_results, ProtocolResult, Status};
use crate::scan::hash::hash_bytes;

/// The store's file name inside OUT_DIR.
pub const REVIEW_DB_FILE: &str = "review.db";
/// The newest decision's sequence number and hash, beside the database.
pub const REVIEW_HEAD_FILE: &str = "review-head.json";
/// The `prev_hash` of the first entry when OUT_DIR has no manifest (and of
/// every log written before the chain started from the manifest's root).
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
/// The longest reviewer name and note a decision may carry, in characters:
/// a name, and a sentence or two on what the photo shows.
pub const MAX_REVIEWER_CHARS: usize = 100;
pub const MAX_NOTE_CHARS: usize = 2000;

/// What a reviewer decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The values are what the photo shows (even if a rule fails: then that
    /// is a finding).
    Confirm,
    /// The values were changed to what the photo shows.
    Correct,
    /// Not a protocol, unreadable, or the wrong station: left out of the totals.
    Reject,
    /// Not a reviewer's: the folder was scanned again (late photos added),
    /// and the entry's `photo_sha256` holds the new manifest root, so the
    /// chain covers every scan the decisions were made on. Never a
    /// protocol's (its `file` is empty), never sent by a reviewer.
    Rescan,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Confirm => "confirm",
            Action::Correct => "correct",
            Action::Reject => "reject",
            Action::Rescan => "rescan",
        }
    }

    fn parse(s: &str) -> Option<Action> {
        match s {
            "confirm" => Some(Action::Confirm),
            "correct" => Some(Action::Correct),
            "reject" => Some(Action::Reject),
            "rescan" => Some(Action::Rescan),
            _ => None,
        }
    }
}

/// The values a decision is about: what identifies the protocol and its counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Values {
    pub election: Option<String>,
    pub station: Option<String>,
    pub fields: BTreeMap<String, Option<u64>>,
    pub votes: BTreeMap<String, Option<u64>>,
}

impl Values {
    pub fn of(result: &ProtocolResult) -> Values {
        Values {
            election: result.election.clone(),
            station: result.station.clone(),
            fields: result.fields.clone(),
            votes: result.votes.clone(),
        }
    }
}

/// A decision as a reviewer submits it.
#[derive(Debug, Clone)]
pub struct Decision {
    pub file: String,
    pub reviewer: String,
    pub action: Action,
    pub values: Values,
    pub note: String,
}

/// One entry of the decision log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub seq: i64,
    pub file: String,
    pub photo_sha256: String,
    pub reviewer: String,
    /// RFC 3339, UTC, seconds.
    pub decided_at: String,
    pub action: Action,
    pub old: Values,
    pub new: Values,
    pub note: String,
    pub prev_hash: String,
    pub hash: String,
}

impl Entry {
    /// The SHA-256 over every field but `hash`, as canonical JSON (fields in
    /// declaration order, maps sorted by key).
    pub fn compute_hash(&self) -> String {
        #[derive(Serialize)]
        struct Hashed<'a> {
            seq: i64,
            file: &'a str,
            photo_sha256: &'a str,
            reviewer: &'a str,
            decided_at: &'a str,
            action: Action,
            old: &'a Values,
            new: &'a Values,
            note: &'a str,
            prev_hash: &'a str,
        }
        let hashed = Hashed {
            seq: self.seq,
            file: &self.file,
            photo_sha256: &self.photo_sha256,
            reviewer: &self.reviewer,
            decided_at: &self.decided_at,
            action: self.action,
            old: &self.old,
            new: &self.new,
            note: &self.note,
            prev_hash: &self.prev_hash,
        };
        hash_bytes(serde_json::to_string(&hashed).expect("entries serialise").as_bytes())
    }
}

/// Where a protocol stands in review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ReviewState {
    /// Accepted by the scan; no person needed.
    Accepted,
    /// Waiting for a reviewer.
    Pending,
    Confirmed,
    Corrected,
    Rejected,
    /// Not for review: a byte copy or a file that is not a readable image.
    NotReviewed,
}

impl ReviewState {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewState::Accepted => "accepted",
            ReviewState::Pending => "pending",
            ReviewState::Confirmed => "confirmed",
            ReviewState::Corrected => "corrected",
            ReviewState::Rejected => "rejected",
            ReviewState::NotReviewed => "not_reviewed",
        }
    }

    /// Counted in the totals.
    pub fn is_verified(self) -> bool {
        matches!(self, ReviewState::Accepted | ReviewState::Confirmed | ReviewState::Corrected)
    }
}

/// A protocol with its review history.
#[derive(Debug, Clone)]
pub struct Protocol {
    pub result: ProtocolResult,
    /// Decisions made on this photo so far; a save must name it.
    pub version: i64,
    /// The newest decision on these bytes, if any.
    pub last: Option<Entry>,
}

impl Protocol {
    pub fn state(&self) -> ReviewState {
        match (&self.last, self.result.status) {
            (Some(e), _) => match e.action {
                Action::Confirm => ReviewState::Confirmed,
                Action::Correct => ReviewState::Corrected,
                Action::Reject => ReviewState::Rejected,
                // A rescan entry names no file, so it is no protocol's last.
                Action::Rescan => ReviewState::Pending,
            },
            (None, Status::Accepted) => ReviewState::Accepted,
            (None, Status::Flagged) => ReviewState::Pending,
            (None, Status::Duplicate | Status::Failed) => ReviewState::NotReviewed,
        }
    }

    /// The values as they stand: the newest decision's, else the scan's.
    pub fn values(&self) -> Values {
        self.last.as_ref().map(|e| e.new.clone()).unwrap_or_else(|| Values::of(&self.result))
    }
}

/// Why a save was refused.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("changed by {by} at {at} meanwhile: reload the protocol to see their decision")]
    Conflict { by: String, at: String, version: i64 },
    #[error("no protocol {0:?} in this review")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] anyhow::Error),
}

/// What the review page and the report need from a store.
pub trait ReviewStore: Send + Sync {
    /// Every protocol with its review state, ordered by file.
    fn protocols(&self) -> Result<Vec<Protocol>>;
    /// One protocol by file.
    fn protocol(&self, file: &str) -> Result<Option<Protocol>>;
    /// One protocol by its photo's SHA-256.
    fn protocol_by_sha(&self, sha256: &str) -> Result<Option<Protocol>>;
    /// Appends a decision if the protocol is still at `expected_version`.
    fn decide(&self, decision: &Decision, expected_version: i64) -> Result<Entry, SaveError>;
    /// The whole decision log, oldest first.
    fn log(&self) -> Result<Vec<Entry>>;
}

/// The SQLite store of one OUT_DIR.
pub struct SqliteStore {
    conn: Mutex<Connection>,
    /// Where the newest entry's hash is written; `None` for a read-only copy.
    head_path: Option<PathBuf>,
    /// The first entry's `prev_hash`: the manifest's root, when there is one.
    genesis: String,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS protocols (
    file TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    result_json TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS protocols_sha ON protocols(sha256);
CREATE TABLE IF NOT EXISTS decisions (
    seq INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    photo_sha256 TEXT NOT NULL,
    reviewer TEXT NOT NULL,
    decided_at TEXT NOT NULL,
    action TEXT NOT NULL,
    old_json TEXT NOT NULL,
    new_json TEXT NOT NULL,
    note TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS decisions_file ON decisions(file, photo_sha256);
CREATE TRIGGER IF NOT EXISTS decisions_append_only_update BEFORE UPDATE ON decisions
    BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS decisions_append_only_delete BEFORE DELETE ON decisions
    BEGIN SELECT RAISE(ABORT, 'the decision log is append-only'); END;
";

/// The newest entry, as written to `review-head.json`.
#[derive(Debug, Serialize, Deserialize)]
pub struct Head {
    pub seq: i64,
    pub hash: String,
}

impl Head {
    /// Reads a head file; `Ok(None)` when there is none.
    pub fn load(path: &Path) -> Result<Option<Head>> {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                Ok(Some(serde_json::from_str(&text).with_context(|| format!("{} cannot be read", path.display()))?))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(anyhow::anyhow!("{} cannot be read: {e}", path.display())),
        }
    }
}

/// The first entry's `prev_hash` for OUT_DIR: its manifest's root hash, or
/// [`GENESIS_HASH`] when it has no manifest.
pub fn genesis_of(out: &Path) -> String {
    crate::manifest::Manifest::load(out).map(|m| m.root_sha256).unwrap_or_else(|_| GENESIS_HASH.to_string())
}

impl SqliteStore {
    /// Opens (or creates) OUT_DIR's store and brings its protocols up to
    /// date with OUT_DIR/results.jsonl. Decisions are never touched.
    pub fn open(out: &Path) -> Result<SqliteStore> {
        let path = out.join(REVIEW_DB_FILE);
        let conn = Connection::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")
            .with_context(|| format!("cannot open {} for writing", path.display()))?;
        // Every decision is on disk before the reviewer is told it is saved.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA).with_context(|| format!("cannot set up {}", path.display()))?;
        let store = SqliteStore {
            conn: Mutex::new(conn),
            head_path: Some(out.join(REVIEW_HEAD_FILE)),
            genesis: genesis_of(out),
        };
        store.import(&out.join("results.jsonl"))?;
        Ok(store)
    }

    /// After a scan of this folder again: when decisions were made on an
    /// earlier scan's results and the manifest's root is new, appends a
    /// rescan entry carrying `root`, so the chain (and its head) covers the
    /// new scan too. `None` when there was nothing to record.
    pub fn record_rescan(&self, root: &str) -> Result<Option<Entry>> {
        let Some(head_path) = &self.head_path else { bail!("this copy of the review is read-only") };
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let log = all_entries(&tx)?;
        let Some(last) = log.last() else { return Ok(None) };
        if scan_root_of(&log).is_some_and(|r| r == root) {
            return Ok(None);
        }
        let empty = Values { election: None, station: None, fields: BTreeMap::new(), votes: BTreeMap::new() };
        let mut entry = Entry {
            seq: last.seq + 1,
            file: String::new(),
            photo_sha256: root.to_string(),
            reviewer: "protocol-ocr scan".into(),
            decided_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            action: Action::Rescan,
            old: empty.clone(),
            new: empty,
            note: "the folder was scanned again; later decisions are on this scan's results".into(),
            prev_hash: last.hash.clone(),
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        append(tx, head_path, &entry)?;
        Ok(Some(entry))
    }

    /// OUT_DIR's store for reading only, never writing a byte of OUT_DIR
    /// (an archived or write-protected copy can be reported on): the
    /// results from results.jsonl and the decisions copied from review.db
    /// (opened read-only, when there is one) into memory. Deciding on it
    /// is refused.
    pub fn open_read_only(out: &Path) -> Result<SqliteStore> {
        let conn = Connection::open_in_memory()?;
        conn.execute_batch(SCHEMA)?;
        let db = out.join(REVIEW_DB_FILE);
        if db.exists() {
            let log = read_log(&db)?;
            let entries: Vec<Entry> = log
                .into_iter()
                .collect::<rusqlite::Result<_>>()
                .with_context(|| format!("{} cannot be read", db.display()))?;
            for entry in &entries {
                insert_entry(&conn, entry)?;
            }
        }
        let store = SqliteStore { conn: Mutex::new(conn), head_path: None, genesis: genesis_of(out) };
        store.import(&out.join("results.jsonl"))?;
        Ok(store)
    }

    fn import(&self, results_path: &Path) -> Result<()> {
        let results = read_results(results_path)?;
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        {
            let mut upsert = tx.prepare(
                "INSERT INTO protocols (file, sha256, result_json) VALUES (?1, ?2, ?3)
                 ON CONFLICT(file) DO UPDATE SET sha256 = excluded.sha256, result_json = excluded.result_json",
            )?;
            for r in &results {
                upsert.execute(params![r.file, r.sha256, serde_json::to_string(r)?])?;
            }
        }
        tx.commit()?;
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn load_protocol(conn: &Connection, result_json: &str) -> Result<Protocol> {
        let result: ProtocolResult = serde_json::from_str(result_json).context("a stored result does not parse")?;
        let version: i64 = conn.query_row(
            "SELECT COUNT(*) FROM decisions WHERE file = ?1 AND photo_sha256 = ?2",
            params![result.file, result.sha256],
            |row| row.get(0),
        )?;
        let last = conn
            .query_row(
                &format!("{ENTRY_COLUMNS} WHERE file = ?1 AND photo_sha256 = ?2 ORDER BY seq DESC LIMIT 1"),
                params![result.file, result.sha256],
                row_to_entry,
            )
            .optional()?;
        Ok(Protocol { result, version, last })
    }

    fn one_protocol(&self, condition: &str, key: &str) -> Result<Option<Protocol>> {
        let conn = self.lock();
        let json: Option<String> = conn
            .query_row(&format!("SELECT result_json FROM protocols WHERE {condition} LIMIT 1"), [key], |row| row.get(0))
            .optional()?;
        json.map(|j| Self::load_protocol(&conn, &j)).transpose()
    }
}

/// Appends `entry` within `tx` and commits. The head goes to disk before
/// the entry is committed: a head that cannot be written leaves the entry
/// unsaved (and the caller is told so), never saved behind a head that
/// says otherwise; a commit that fails puts the head back.
fn append(tx: rusqlite::Transaction<'_>, head_path: &Path, entry: &Entry) -> Result<(), SaveError> {
    insert_entry(&tx, entry)?;
    let previous = Head::load(head_path).ok().flatten();
    write_head(head_path, &Head { seq: entry.seq, hash: entry.hash.clone() })
        .map_err(|e| anyhow::anyhow!("{e:#}; the decision was not saved"))?;
    if let Err(e) = tx.commit() {
        let restored = match &previous {
            Some(head) => write_head(head_path, head),
            None => std::fs::remove_file(head_path).map_err(anyhow::Error::from),
        };
        let restored = if restored.is_ok() { "" } else { " (and review-head.json could not be put back)" };
        return Err(SaveError::Store(anyhow::anyhow!("the decision could not be committed: {e}{restored}")));
    }
    Ok(())
}

/// Writes `review-head.json` (atomically).
fn write_head(path: &Path, head: &Head) -> Result<()> {
    crate::scan::write::write_atomically(path, serde_json::to_string(head)?.as_bytes())
}

fn insert_entry(conn: &Connection, entry: &Entry) -> Result<()> {
    conn.execute(
        "INSERT INTO decisions (seq, file, photo_sha256, reviewer, decided_at, action, old_json, new_json, \
         note, prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
        params![
            entry.seq,
            entry.file,
            entry.photo_sha256,
            entry.reviewer,
            entry.decided_at,
            entry.action.as_str(),
            serde_json::to_string(&entry.old)?,
            serde_json::to_string(&entry.new)?,
            entry.note,
            entry.prev_hash,
            entry.hash
        ],
    )?;
    Ok(())
}

/// A reviewer's name as the log may hold it: not blank, at most
/// [`MAX_REVIEWER_CHARS`] characters, no control characters.
pub fn check_reviewer(name: &str) -> Result<(), String> {
    if name.trim().is_empty() {
        return Err("the reviewer's name is needed".into());
    }
    if name.chars().count() > MAX_REVIEWER_CHARS || name.chars().any(char::is_control) {
        return Err(format!(
            "a reviewer's name is at most {MAX_REVIEWER_CHARS} characters, without control characters"
        ));
    }
    Ok(())
}

/// Every entry of the log, oldest first.
fn all_entries(conn: &Connection) -> rusqlite::Result<Vec<Entry>> {
    let mut stmt = conn.prepare(&format!("{ENTRY_COLUMNS} ORDER BY seq"))?;
    let entries = stmt.query_map([], row_to_entry)?.collect();
    entries
}

/// The manifest root a log's newest decisions were made on: the newest
/// rescan entry's, else the first entry's `prev_hash` (the root the log
/// began on); `None` for an empty log.
fn scan_root_of(log: &[Entry]) -> Option<&str> {
    let rescan = log.iter().rev().find(|e| e.action == Action::Rescan).map(|e| e.photo_sha256.as_str());
    rescan.or_else(|| log.first().map(|e| e.prev_hash.as_str()))
}

/// Opens a review database without ever writing to it or beside it: read
/// only, and where the folder is write-protected (SQLite cannot make its
/// shared-memory file there), as an immutable file.
fn open_read_only_file(db_path: &Path) -> Result<Connection> {
    let read_only = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_URI | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let probe = |conn: Connection| -> rusqlite::Result<Connection> {
        conn.query_row("SELECT COUNT(*) FROM sqlite_master", [], |r| r.get::<_, i64>(0))?;
        Ok(conn)
    };
    let plain = Connection::open_with_flags(db_path, read_only).and_then(probe);
    match plain {
        Ok(conn) => Ok(conn),
        Err(_) => {
            let uri = format!("file:{}?immutable=1", uri_path(db_path));
            Connection::open_with_flags(uri, read_only)
                .and_then(probe)
                .with_context(|| format!("cannot open {} for reading", db_path.display()))
        }
    }
}

/// A path as the path part of an SQLite `file:` URI (`?`, `#` and `%` escaped).
fn uri_path(path: &Path) -> String {
    let absolute = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    let mut out = String::new();
    for c in absolute.to_string_lossy().chars() {
        match c {
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            '%' => out.push_str("%25"),
            c => out.push(c),
        }
    }
    out
}

/// Every entry of the log in `db_path`, oldest first, each as read (an
/// entry whose columns do not parse is an error in its place).
fn read_log(db_path: &Path) -> Result<Vec<rusqlite::Result<Entry>>> {
    let conn = open_read_only_file(db_path)?;
    let mut stmt = conn
        .prepare(&format!("{ENTRY_COLUMNS} ORDER BY seq"))
        .with_context(|| format!("{} holds no decision log", db_path.display()))?;
    let rows = stmt.query_map([], row_to_entry)?.collect();
    Ok(rows)
}

const ENTRY_COLUMNS: &str = "SELECT seq, file, photo_sha256, reviewer, decided_at, action, old_json, new_json, note, \
                             prev_hash, hash FROM decisions";

fn row_to_entry(row: &rusqlite::Row<'_>) -> rusqlite::Result<Entry> {
    let json_col = |i: usize| -> rusqlite::Result<Values> {
        let text: String = row.get(i)?;
        serde_json::from_str(&text)
            .map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, e.into()))
    };
    let action: String = row.get(5)?;
    Ok(Entry {
        seq: row.get(0)?,
        file: row.get(1)?,
        photo_sha256: row.get(2)?,
        reviewer: row.get(3)?,
        decided_at: row.get(4)?,
        action: Action::parse(&action).ok_or_else(|| {
            rusqlite::Error::FromSqlConversionFailure(
                5,
                rusqlite::types::Type::Text,
                format!("action {action:?}").into(),
            )
        })?,
        old: json_col(6)?,
        new: json_col(7)?,
        note: row.get(8)?,
        prev_hash: row.get(9)?,
        hash: row.get(10)?,
    })
}

impl ReviewStore for SqliteStore {
    fn protocols(&self) -> Result<Vec<Protocol>> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT result_json FROM protocols ORDER BY file")?;
        let jsons: Vec<String> = stmt.query_map([], |row| row.get(0))?.collect::<rusqlite::Result<_>>()?;
        jsons.iter().map(|j| Self::load_protocol(&conn, j)).collect()
    }

    fn protocol(&self, file: &str) -> Result<Option<Protocol>> {
        self.one_protocol("file = ?1", file)
    }

    fn protocol_by_sha(&self, sha256: &str) -> Result<Option<Protocol>> {
        self.one_protocol("sha256 = ?1 ORDER BY file", sha256)
    }

    fn decide(&self, decision: &Decision, expected_version: i64) -> Result<Entry, SaveError> {
        let Some(head_path) = &self.head_path else {
            return Err(SaveError::Invalid("this copy of the review is read-only".into()));
        };
        check_reviewer(&decision.reviewer).map_err(SaveError::Invalid)?;
        if decision.action == Action::Rescan {
            return Err(SaveError::Invalid("a rescan is recorded by scan, not decided".into()));
        }
        if decision.note.chars().count() > MAX_NOTE_CHARS {
            return Err(SaveError::Invalid(format!("a note is at most {MAX_NOTE_CHARS} characters")));
        }
        let mut conn = self.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(anyhow::Error::from)?;
        let json: Option<String> = tx
            .query_row("SELECT result_json FROM protocols WHERE file = ?1", [&decision.file], |row| row.get(0))
            .optional()
            .map_err(anyhow::Error::from)?;
        let json = json.ok_or_else(|| SaveError::NotFound(decision.file.clone()))?;
        let protocol = Self::load_protocol(&tx, &json)?;
        if matches!(protocol.result.status, Status::Duplicate | Status::Failed) {
            return Err(SaveError::Invalid(format!(
                "{} is a {} file: there is nothing to review",
                decision.file,
                protocol.result.status.as_str()
            )));
        }
        if protocol.version != expected_version {
            let (by, at) = protocol
                .last
                .as_ref()
                .map(|e| (e.reviewer.clone(), e.decided_at.clone()))
                .unwrap_or_else(|| ("another reviewer".into(), "an unknown time".into()));
            return Err(SaveError::Conflict { by, at, version: protocol.version });
        }
        let old = protocol.values();
        if decision.values.fields.keys().ne(old.fields.keys()) || decision.values.votes.keys().ne(old.votes.keys()) {
            return Err(SaveError::Invalid("the values must name exactly the form's lines".into()));
        }
        if decision.action == Action::Confirm && decision.values != old {
            return Err(SaveError::Invalid(
                "values were changed: save them as a correction, not a confirmation".into(),
            ));
        }
        let (last_seq, prev_hash): (i64, String) = tx
            .query_row("SELECT seq, hash FROM decisions ORDER BY seq DESC LIMIT 1", [], |row| {
                Ok((row.get(0)?, row.get(1)?))
            })
            .optional()
            .map_err(anyhow::Error::from)?
            .unwrap_or_else(|| (0, self.genesis.clone()));
        let mut entry = Entry {
            seq: last_seq + 1,
            file: decision.file.clone(),
            photo_sha256: protocol.result.sha256.clone(),
            reviewer: decision.reviewer.trim().to_string(),
            decided_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            action: decision.action,
            old,
            new: decision.values.clone(),
            note: decision.note.clone(),
            prev_hash,
            hash: String::new(),
        };
        entry.hash = entry.compute_hash();
        append(tx, head_path, &entry)?;
        Ok(entry)
    }

    fn log(&self) -> Result<Vec<Entry>> {
        Ok(all_entries(&self.lock())?)
    }
}

/// The outcome of checking the decision log's hash chain.
#[derive(Debug, Clone, Default)]
pub struct ChainReport {
    pub entries: usize,
    /// The hash the chain starts from (the manifest's root).
    pub genesis: String,
    /// Every entry's hash, oldest first: the heads the log has had.
    pub hashes: Vec<String>,
    /// The manifest roots the log's decisions were made on, each with how
    /// many entries came before it: the one it began on (0), then each
    /// rescan's (heads too, before any decision on them).
    pub roots: Vec<(usize, String)>,
    /// Each break of the chain, in words.
    pub problems: Vec<String>,
    /// What is worth knowing but no sign of tampering, in words.
    pub notes: Vec<String>,
}

impl ChainReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    /// The newest head: the last entry's hash, or the genesis.
    pub fn head(&self) -> &str {
        self.hashes.last().unwrap_or(&self.genesis)
    }

    /// Whether `hash` was this log's head at some point (the genesis and
    /// the roots it began on included).
    pub fn had_head(&self, hash: &str) -> bool {
        self.position_of(hash).is_some()
    }

    /// How many entries the log held when `hash` was its head: an entry's
    /// hash, a root it began on or was rescanned onto, or the genesis (the
    /// manifest's root now).
    pub fn position_of(&self, hash: &str) -> Option<usize> {
        let entry = self.hashes.iter().position(|h| h == hash).map(|i| i + 1);
        let root = || self.roots.iter().find(|(_, root)| root == hash).map(|(before, _)| *before);
        let genesis = || (self.genesis == hash).then_some(0);
        entry.or_else(root).or_else(genesis)
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        match (self.ok(), self.entries) {
            (true, 0) => {
                let _ = writeln!(text, "review log: no decisions yet");
            }
            (true, n) => {
                let _ = writeln!(text, "review log: {n} decisions, hash chain intact");
            }
            (false, _) => {}
        }
        for n in &self.notes {
            let _ = writeln!(text, "note: {n}");
        }
        for p in &self.problems {
            let _ = writeln!(text, "REVIEW   {p}");
        }
        text
    }
}

/// Checks OUT_DIR's decision log (opened read-only; never written): the
/// review database present whenever the head file says decisions were
/// made, sequence numbers without gaps, each entry's hash, each link to the
/// previous entry, the newest decisions made on `genesis` (the manifest's
/// root: the root the log began on, or the newest rescan entry's), and the
/// newest entry against `review-head.json`.
pub fn verify_chain(out: &Path, genesis: &str) -> Result<ChainReport> {
    let db_path = out.join(REVIEW_DB_FILE);
    let head_path = out.join(REVIEW_HEAD_FILE);
    let mut report = ChainReport { genesis: genesis.to_string(), ..ChainReport::default() };
    let head = match Head::load(&head_path) {
        Ok(head) => head,
        Err(e) => {
            report.problems.push(format!("{e:#}"));
            None
        }
    };
    if !db_path.exists() {
        if let Some(head) = head.filter(|h| h.seq > 0) {
            report.problems.push(format!(
                "{REVIEW_DB_FILE} is missing but {REVIEW_HEAD_FILE} records {} decisions: the decision log was deleted",
                head.seq
            ));
        }
        return Ok(report);
    }
    let mut expected_prev = genesis.to_string();
    let mut expected_seq = 1;
    for (i, row) in read_log(&db_path)?.into_iter().enumerate() {
        report.entries += 1;
        let entry = match row {
            Ok(e) => e,
            Err(e) => {
                report.problems.push(format!("entry {expected_seq} cannot be read: {e}"));
                expected_seq += 1;
                continue;
            }
        };
        if i == 0 {
            // The root the log began on; that it is this manifest's (or a
            // rescan entry links the two) is checked at the end.
            report.roots.push((0, entry.prev_hash.clone()));
            expected_prev = entry.prev_hash.clone();
        }
        if entry.action == Action::Rescan {
            report.roots.push((i, entry.photo_sha256.clone()));
        }
        if entry.seq != expected_seq {
            report
                .problems
                .push(format!("entries {expected_seq}–{} are missing (removed from the log)", entry.seq - 1));
        }
        if entry.prev_hash != expected_prev {
            report
                .problems
                .push(format!("entry {} does not follow the entry before it (the chain is broken)", entry.seq));
        }
        if entry.compute_hash() != entry.hash {
            report.problems.push(format!(
                "entry {} ({}, by {}) was altered after it was written",
                entry.seq, entry.file, entry.reviewer
            ));
        }
        report.hashes.push(entry.hash.clone());
        expected_prev = entry.hash.clone();
        expected_seq = entry.seq + 1;
    }
    match report.roots.last().map(|(_, root)| root) {
        Some(root) if root == GENESIS_HASH && report.roots.len() == 1 && genesis != GENESIS_HASH => {
            // A log begun before the chain started from the manifest.
            report.notes.push("the log starts from the zero hash, not from the manifest's root".into());
        }
        Some(root) if root != genesis => report.problems.push(format!(
            "the newest decisions were made on another scan (manifest root {root}) than this manifest's, and no \
             rescan entry records this one: the manifest or the log was replaced"
        )),
        _ => {}
    }
    match head {
        Some(head) if head.seq != expected_seq - 1 || (head.seq > 0 && head.hash != expected_prev) => {
            report.problems.push(format!(
                "the log ends at entry {} but {REVIEW_HEAD_FILE} records entry {} as the newest: entries were removed or rewritten",
                expected_seq - 1,
                head.seq
            ));
        }
        Some(_) => {}
        None if report.entries > 0 => report.problems.push(format!("{} is missing", head_path.display())),
        None => {}
    }
    Ok(report)
}
