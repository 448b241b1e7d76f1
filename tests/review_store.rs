//! The decision log as evidence: appended only, a hash chain that `verify`
//! checks, and every kind of tampering with the SQLite file found.

#[path = "common/review_fixture.rs"]
mod review_fixture;

use protocol_ocr::review::store::{verify_chain, Action, Decision, ReviewStore, SqliteStore, Values, REVIEW_DB_FILE};
use rusqlite::Connection;

fn decide_three(dir: &std::path::Path) {
    let store = SqliteStore::open(dir).unwrap();
    for (i, file) in ["a.jpg", "c.jpg", "low.jpg"].iter().enumerate() {
        let p = store.protocol(file).unwrap().unwrap();
        let decision = Decision {
            file: file.to_string(),
            reviewer: format!("reviewer {i}"),
            action: Action::Confirm,
            values: Values::of(&p.result),
            note: String::new(),
        };
        store.decide(&decision, 0).unwrap();
    }
}

fn problems(dir: &std::path::Path) -> Vec<String> {
    verify_chain(&dir.join(REVIEW_DB_FILE)).unwrap().problems
}

/// Opens the database as an attacker would, without the append-only triggers.
fn tamper(dir: &std::path::Path, sql: &str) {
    let conn = Connection::open(dir.join(REVIEW_DB_FILE)).unwrap();
    conn.execute_batch("DROP TRIGGER decisions_append_only_update; DROP TRIGGER decisions_append_only_delete;")
        .unwrap();
    conn.execute_batch(sql).unwrap();
}

#[test]
fn an_intact_log_verifies_and_the_store_refuses_edits() {
    let dir = tempfile::tempdir().unwrap();
    review_fixture::out_dir(dir.path());
    decide_three(dir.path());
    let report = verify_chain(&dir.path().join(REVIEW_DB_FILE)).unwrap();
    assert_eq!(report.entries, 3);
    assert!(report.ok(), "{:?}", report.problems);
    let conn = Connection::open(dir.path().join(REVIEW_DB_FILE)).unwrap();
    let update = conn.execute("UPDATE decisions SET reviewer = 'Mallory' WHERE seq = 1", []);
    assert!(update.unwrap_err().to_string().contains("append-only"));
    assert!(conn.execute("DELETE FROM decisions WHERE seq = 3", []).is_err());
}

#[test]
fn an_altered_entry_is_found() {
    let dir = tempfile::tempdir().unwrap();
    review_fixture::out_dir(dir.path());
    decide_three(dir.path());
    tamper(dir.path(), "UPDATE decisions SET new_json = replace(new_json, '2310', '2410') WHERE seq = 2");
    let found = problems(dir.path());
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("entry 2") && found[0].contains("altered"), "{found:?}");
}

#[test]
fn a_removed_entry_is_found_in_the_middle_and_at_the_end() {
    let dir = tempfile::tempdir().unwrap();
    review_fixture::out_dir(dir.path());
    decide_three(dir.path());
    tamper(dir.path(), "DELETE FROM decisions WHERE seq = 3");
    let found = problems(dir.path());
    assert!(found.iter().any(|p| p.contains("entries were removed")), "{found:?}");

    let dir = tempfile::tempdir().unwrap();
    review_fixture::out_dir(dir.path());
    decide_three(dir.path());
    tamper(dir.path(), "DELETE FROM decisions WHERE seq = 2");
    let found = problems(dir.path());
    assert!(found.iter().any(|p| p.contains("entries 2–2 are missing")), "{found:?}");
    assert!(found.iter().any(|p| p.contains("entry 3 does not follow")), "{found:?}");
}

#[test]
fn verify_reports_a_broken_review_log() {
    let dir = tempfile::tempdir().unwrap();
    review_fixture::out_dir(dir.path());
    decide_three(dir.path());
    tamper(dir.path(), "UPDATE decisions SET reviewer = 'Mallory' WHERE seq = 1");
    let report = verify_chain(&dir.path().join(REVIEW_DB_FILE)).unwrap();
    assert!(!report.ok());
    assert!(report.render().contains("REVIEW   entry 1 (a.jpg, by Mallory) was altered"), "{}", report.render());
}
