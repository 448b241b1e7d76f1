//! A hand-made OUT_DIR for the review tests: results whose flags, states
//! and values are known, without running a scan.

use std::path::Path;

use protocol_ocr::result::{ProtocolResult, Status};
use protocol_ocr::scan::hash::hash_bytes;

const FIELDS: [(&str, u64); 5] = [
    ("voters_on_list", 2310),
    ("ballots_received", 2300),
    ("ballots_issued", 812),
    ("ballots_unused", 1488),
    ("ballots_spoiled", 21),
];
const VOTES: [(&str, u64); 5] = [("nur_otan", 402), ("ak_zhol", 140), ("auyl", 92), ("adal", 101), ("qhp", 56)];
pub const MARKUP_FILE: &str = "<script>alert(1)</script>.jpg";

/// A protocol of the contract's example values, every relation holding.
fn protocol(file: &str, status: Status, election: &str, station: &str, flags: &[&str]) -> ProtocolResult {
    let fields: Vec<String> = FIELDS.iter().map(|(k, _)| k.to_string()).collect();
    let parties: Vec<String> = VOTES.iter().map(|(k, _)| k.to_string()).collect();
    let mut r = ProtocolResult::empty(file, &hash_bytes(file.as_bytes()), &fields, &parties);
    r.status = status;
    r.election = Some(election.into());
    r.station = Some(station.into());
    r.fields = FIELDS.iter().map(|(k, v)| (k.to_string(), Some(*v))).collect();
    r.votes = VOTES.iter().map(|(k, v)| (k.to_string(), Some(*v))).collect();
    r.flags = flags.iter().map(|f| f.to_string()).collect();
    r.boxes.insert("ballots_unused".into(), [1300, 800, 1450, 840]);
    r
}

pub fn sha(file: &str) -> String {
    hash_bytes(file.as_bytes())
}

/// OUT_DIR with a hard-rule failure, a soft one, a conflicting pair, a
/// missing value under a file name full of markup, a low-confidence value,
/// an accepted protocol, its byte copy and a failed file.
pub fn out_dir(dir: &Path) {
    let mut hard = protocol("a.jpg", Status::Flagged, "mazhilis", "101", &["rule:R1"]);
    hard.fields.insert("ballots_unused".into(), Some(1478));
    let soft = protocol("c.jpg", Status::Flagged, "oblast_maslikhat", "103", &["rule:R5"]);
    let mut one = protocol("d1.jpg", Status::Flagged, "mazhilis", "104", &["conflict:mazhilis/104"]);
    one.votes.insert("qhp".into(), Some(65));
    let two = protocol("d2.jpg", Status::Flagged, "mazhilis", "104", &["conflict:mazhilis/104"]);
    let mut markup = protocol(MARKUP_FILE, Status::Flagged, "city_maslikhat", "105", &["missing:votes.qhp"]);
    markup.votes.insert("qhp".into(), None);
    let low = protocol("low.jpg", Status::Flagged, "mazhilis", "106", &["low_confidence:ballots_issued"]);
    let accepted = protocol("b.jpg", Status::Accepted, "mazhilis", "102", &[]);
    let mut copy = accepted.clone();
    copy.file = "f.jpg".into();
    copy.status = Status::Duplicate;
    copy.duplicate_of = Some("b.jpg".into());
    let mut failed = protocol("notes.txt", Status::Failed, "mazhilis", "0", &[]);
    failed.error = Some("not an image".into());
    let mut results = vec![hard, soft, one, two, markup, low, accepted, copy, failed];
    results.sort_by(|a, b| a.file.cmp(&b.file));
    let text: String = results.iter().map(|r| serde_json::to_string(r).unwrap() + "\n").collect();
    std::fs::write(dir.join("results.jsonl"), text).unwrap();
    std::fs::create_dir_all(dir.join("pages")).unwrap();
    let page = image::GrayImage::from_pixel(40, 60, image::Luma([250]));
    page.save(dir.join("pages").join(format!("{}.jpg", sha("a.jpg")))).unwrap();
}
