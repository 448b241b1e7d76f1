//! The review store: scan results and reviewers' decisions in a SQLite file,
//! with the decisions kept as an append-only hash chain.
//!
//! `OUT_DIR/review.db` (WAL mode, every decision committed with a full sync
//! before the answer goes out) holds the scan results, imported from
//! `results.jsonl`, and a `decisions` table that is only ever appended to:
//! triggers refuse UPDATE and DELETE, and each entry carries the SHA-256 of
//! the previous one, so an entry altered or removed behind the tool's back
//! breaks the chain that `verify` checks. The newest entry's hash is also
//! written to `review-head.json`, so removing entries from the end shows
//! too. Everything above this module goes through [`ReviewStore`], so a
//! shared PostgreSQL store for several machines can replace it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use anyhow::{Context, Result};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};
use serde::{Deserialize, Serialize};

use crate::result::{read_results, ProtocolResult, Status};
use crate::scan::hash::hash_bytes;

/// The store's file name inside OUT_DIR.
pub const REVIEW_DB_FILE: &str = "review.db";
/// The newest decision's sequence number and hash, beside the database.
pub const REVIEW_HEAD_FILE: &str = "review-head.json";
/// The `prev_hash` of the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

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
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Confirm => "confirm",
            Action::Correct => "correct",
            Action::Reject => "reject",
        }
    }

    fn parse(s: &str) -> Option<Action> {
        match s {
            "confirm" => Some(Action::Confirm),
            "correct" => Some(Action::Correct),
            "reject" => Some(Action::Reject),
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
    head_path: PathBuf,
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
struct Head {
    seq: i64,
    hash: String,
}

impl SqliteStore {
    /// Opens (or creates) OUT_DIR's store and brings its protocols up to
    /// date with OUT_DIR/results.jsonl. Decisions are never touched.
    pub fn open(out: &Path) -> Result<SqliteStore> {
        let path = out.join(REVIEW_DB_FILE);
        let conn = Connection::open(&path).with_context(|| format!("cannot open {}", path.display()))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        // Every decision is on disk before the reviewer is told it is saved.
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(5))?;
        conn.execute_batch(SCHEMA).with_context(|| format!("cannot set up {}", path.display()))?;
        let store = SqliteStore { conn: Mutex::new(conn), head_path: out.join(REVIEW_HEAD_FILE) };
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

    fn write_head(&self, entry: &Entry) -> Result<()> {
        let head = Head { seq: entry.seq, hash: entry.hash.clone() };
        crate::scan::write::write_atomically(&self.head_path, serde_json::to_string(&head)?.as_bytes())
    }
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
        if decision.reviewer.trim().is_empty() {
            return Err(SaveError::Invalid("a decision needs the reviewer's name".into()));
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
            .unwrap_or((0, GENESIS_HASH.to_string()));
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
        let insert = || -> Result<()> {
            tx.execute(
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
        };
        insert()?;
        tx.commit().map_err(anyhow::Error::from)?;
        self.write_head(&entry)?;
        Ok(entry)
    }

    fn log(&self) -> Result<Vec<Entry>> {
        let conn = self.lock();
        let mut stmt = conn.prepare(&format!("{ENTRY_COLUMNS} ORDER BY seq"))?;
        let entries = stmt.query_map([], row_to_entry)?.collect::<rusqlite::Result<_>>()?;
        Ok(entries)
    }
}

/// The outcome of checking the decision log's hash chain.
#[derive(Debug, Clone)]
pub struct ChainReport {
    pub entries: usize,
    /// Each break of the chain, in words.
    pub problems: Vec<String>,
}

impl ChainReport {
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    pub fn render(&self) -> String {
        let mut text = String::new();
        if self.ok() {
            let _ = writeln!(text, "review log: {} decisions, hash chain intact", self.entries);
        }
        for p in &self.problems {
            let _ = writeln!(text, "REVIEW   {p}");
        }
        text
    }
}

/// Checks the decision log in OUT_DIR's `review.db` (opened read-only):
/// sequence numbers without gaps, each entry's hash, each link to the
/// previous entry, and the newest entry against `review-head.json`.
pub fn verify_chain(db_path: &Path) -> Result<ChainReport> {
    let conn = Connection::open_with_flags(db_path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .with_context(|| format!("cannot open {}", db_path.display()))?;
    let mut problems = Vec::new();
    let mut stmt = conn.prepare(&format!("{ENTRY_COLUMNS} ORDER BY seq"))?;
    let rows: Vec<rusqlite::Result<Entry>> = stmt.query_map([], row_to_entry)?.collect();
    let mut expected_prev = GENESIS_HASH.to_string();
    let mut expected_seq = 1;
    let mut entries = 0;
    for row in rows {
        entries += 1;
        let entry = match row {
            Ok(e) => e,
            Err(e) => {
                problems.push(format!("entry {expected_seq} cannot be read: {e}"));
                expected_seq += 1;
                continue;
            }
        };
        if entry.seq != expected_seq {
            problems.push(format!("entries {expected_seq}–{} are missing (removed from the log)", entry.seq - 1));
        }
        if entry.prev_hash != expected_prev {
            problems.push(format!("entry {} does not follow the entry before it (the chain is broken)", entry.seq));
        }
        if entry.compute_hash() != entry.hash {
            problems.push(format!(
                "entry {} ({}, by {}) was altered after it was written",
                entry.seq, entry.file, entry.reviewer
            ));
        }
        expected_prev = entry.hash.clone();
        expected_seq = entry.seq + 1;
    }
    let head_path = db_path.with_file_name(REVIEW_HEAD_FILE);
    if let Ok(text) = std::fs::read_to_string(&head_path) {
        match serde_json::from_str::<Head>(&text) {
            Ok(head) if head.seq != expected_seq - 1 || (head.seq > 0 && head.hash != expected_prev) => {
                problems.push(format!(
                    "the log ends at entry {} but {} records entry {} as the newest: entries were removed",
                    expected_seq - 1,
                    REVIEW_HEAD_FILE,
                    head.seq
                ));
            }
            Ok(_) => {}
            Err(e) => problems.push(format!("{} cannot be read: {e}", head_path.display())),
        }
    } else if entries > 0 {
        problems.push(format!("{} is missing", head_path.display()));
    }
    Ok(ChainReport { entries, problems })
}
