//! The review API's replies, one type each, so the JSON shapes the page
//! and other tools rely on (docs/output-format.md) are written down once
//! and the compiler keeps them: a field renamed here is renamed on purpose.
//! The server in [`super::web`] fills them; they borrow what they show.

use std::collections::BTreeMap;

use serde::Serialize;

use super::store::{Entry, Values};
use crate::result::ProtocolResult;

/// `GET /api/queue`: the protocols in one review state, most severe first.
#[derive(Serialize)]
pub struct Queue<'a> {
    /// Protocols still waiting for a person.
    pub remaining: usize,
    pub by_state: BTreeMap<&'static str, usize>,
    /// Pending protocols per reason (a flag's kind, or the flag itself).
    pub by_reason: BTreeMap<String, usize>,
    pub shown: usize,
    pub items: Vec<QueueItem<'a>>,
}

/// One line of the queue.
#[derive(Serialize)]
pub struct QueueItem<'a> {
    pub file: &'a str,
    pub sha256: &'a str,
    pub election: Option<String>,
    pub station: Option<String>,
    pub region: &'a Option<String>,
    pub flags: &'a [String],
    pub state: &'static str,
    /// The rank of its most severe flag (0 the most severe; 9 unflagged).
    pub severity: u8,
    /// The reviewer who has it open, if anyone.
    pub open_by: Option<String>,
}

/// `GET /api/model`: the form as the page shows it.
#[derive(Serialize)]
pub struct Model<'a> {
    pub id: &'a str,
    pub elections: Vec<Election<'a>>,
    pub lines: Vec<ModelLine<'a>>,
}

/// One election of the form, titled in the reviewers' language.
#[derive(Serialize)]
pub struct Election<'a> {
    pub key: &'a str,
    pub title: &'a str,
}

/// One line of the form.
#[derive(Serialize)]
pub struct ModelLine<'a> {
    pub key: &'a str,
    pub short_key: &'a str,
    pub number: u32,
    /// `field` or `party`.
    pub kind: &'static str,
    /// The printed label, one text per language of the form.
    pub labels: &'a [String],
    /// The Kazakh and Russian labels (null where the form has none), kept
    /// for the tools written before `labels`.
    pub label_kk: Option<&'a str>,
    pub label_ru: Option<&'a str>,
    pub name: String,
}

/// One control relation, evaluated on a set of values.
#[derive(Serialize)]
pub struct RuleCheck<'a> {
    pub rule: String,
    pub kind: &'static str,
    pub ok: bool,
    /// False when a value the relation needs is missing.
    pub evaluated: bool,
    pub detail: String,
    /// The failure in words, naming the lines (the detail where none).
    pub words: String,
    /// The lines the relation uses.
    pub keys: Vec<String>,
    pub uses_votes: bool,
    pub text: &'a str,
}

/// `POST /api/check`: the relations on the values a reviewer typed.
#[derive(Serialize)]
pub struct Checks<'a> {
    pub checks: Vec<RuleCheck<'a>>,
}

/// `GET /api/protocol/SHA256`: everything the page shows of one photo.
#[derive(Serialize)]
pub struct Protocol<'a> {
    pub file: &'a str,
    pub sha256: &'a str,
    pub status: &'static str,
    pub state: &'static str,
    /// Optimistic-locking version a decision must name.
    pub version: i64,
    pub region: &'a Option<String>,
    /// The values as they stand (the last decision's, else the scan's).
    pub values: Values,
    /// The values as the scan read them.
    pub scan_values: Values,
    pub confidence: &'a BTreeMap<String, f64>,
    pub notes: &'a BTreeMap<String, String>,
    /// Where each label and cell is on the saved page; empty when no page
    /// was saved (the boxes would not match the original photo).
    pub boxes: BTreeMap<String, [u32; 4]>,
    pub handwritten: bool,
    pub candidates: &'a BTreeMap<String, Vec<(u64, f64)>>,
    pub suggestions: &'a BTreeMap<String, u64>,
    pub flags: &'a [String],
    pub error: &'a Option<String>,
    pub checks: Vec<RuleCheck<'a>>,
    pub photo: Photo,
    /// This photo's decisions, oldest first.
    pub history: Vec<Entry>,
    /// Other photos of the same station and election.
    pub siblings: Vec<Sibling<'a>>,
}

impl<'a> Protocol<'a> {
    /// The fields that come straight from the scan's result.
    #[allow(clippy::too_many_arguments)]
    pub fn of(
        result: &'a ProtocolResult,
        state: &'static str,
        version: i64,
        values: Values,
        checks: Vec<RuleCheck<'a>>,
        page_saved: bool,
        history: Vec<Entry>,
        siblings: Vec<Sibling<'a>>,
    ) -> Protocol<'a> {
        Protocol {
            file: &result.file,
            sha256: &result.sha256,
            status: result.status.as_str(),
            state,
            version,
            region: &result.region,
            values,
            scan_values: Values::of(result),
            confidence: &result.confidence,
            notes: &result.notes,
            boxes: if page_saved { result.boxes.clone() } else { BTreeMap::new() },
            handwritten: result.handwritten,
            candidates: &result.candidates,
            suggestions: &result.suggestions,
            flags: &result.flags,
            error: &result.error,
            checks,
            photo: Photo { url: format!("/photos/{}", result.sha256), normalised: page_saved },
            history,
            siblings,
        }
    }
}

/// Where the page finds the photo.
#[derive(Serialize)]
pub struct Photo {
    pub url: String,
    /// True when it is the levelled page the boxes refer to.
    pub normalised: bool,
}

/// Another photo of the same station.
#[derive(Serialize)]
pub struct Sibling<'a> {
    pub file: &'a str,
    pub sha256: &'a str,
    pub values: Values,
    pub state: &'static str,
}

/// `POST /api/decide`: the saved entry and the new head of the log.
#[derive(Serialize)]
pub struct Decided<'a> {
    pub evidence_head: &'a str,
    pub saved: &'a Entry,
}

/// `POST /api/claim`, granted.
#[derive(Serialize)]
pub struct Claimed {
    pub claimed_for_seconds: u64,
}

/// `POST /api/claim`, refused: someone else has it.
#[derive(Serialize)]
pub struct ClaimRefused<'a> {
    pub error: String,
    pub open_by: &'a str,
}

/// `POST /api/release`.
#[derive(Serialize)]
pub struct Released {
    pub released: bool,
}

/// `POST /api/export`: what was written where.
#[derive(Serialize)]
pub struct Exported {
    pub rows: usize,
    pub pending: usize,
    pub rejected: usize,
    pub jsonl: String,
    pub csv: String,
}

/// Any refusal or failure: a sentence for a person.
#[derive(Serialize)]
pub struct Failure<'a> {
    pub error: &'a str,
}
