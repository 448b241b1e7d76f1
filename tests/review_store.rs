//! The decision log as evidence: appended only, a hash chain that `verify`
//! checks, and every kind of tampering with the SQLite file found.

#[path = "common/review_fixture.rs"]
mod review_fixture;

use protocol_ocr::review::store::{
    verify_chain, Action, Decision, ReviewStore, SqliteStore, Values, GENESIS_HASH, REVIEW_DB_FILE, REVIEW_HEAD_FILE,
};
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
    verify_chain(dir, GENESIS_HASH).unwrap().problems
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
    let report = verify_chain(dir.path(), GENESIS_HASH).unwrap();
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
    let report = verify_chain(dir.path(), GENESIS_HASH).unwrap();
    assert!(!report.ok());
    assert!(report.render().contains("REVIEW   entry 1 (a.jpg, by Mallory) was altered"), "{}", report.render());
}

#[test]
fn a_deleted_log_is_found_while_its_head_file_remains() {
    let dir = tempfile::tempdir().unwrap();
    review_fixture::out_dir(dir.path());
    decide_three(dir.path());
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(dir.path().join(format!("{REVIEW_DB_FILE}{suffix}")));
    }
    let found = problems(dir.path());
    assert!(found.iter().any(|p| p.contains("records 3 decisions: the decision log was deleted")), "{found:?}");
}

#[test]
fn an_emptied_log_is_found_against_its_head_file() {
    let dir = tempfile::tempdir().unwrap();
    review_fixture::out_dir(dir.path());
    decide_three(dir.path());
    tamper(dir.path(), "DELETE FROM decisions");
    let found = problems(dir.path());
    assert!(found.iter().any(|p| p.contains("records entry 3 as the newest")), "{found:?}");
}

#[test]
fn a_head_file_that_cannot_be_written_leaves_the_decision_unsaved() {
    let dir = tempfile::tempdir().unwrap();
    review_fixture::out_dir(dir.path());
    let store = SqliteStore::open(dir.path()).unwrap();
    let p = store.protocol("a.jpg").unwrap().unwrap();
    let decision = Decision {
        file: "a.jpg".into(),
        reviewer: "Alice".into(),
        action: Action::Confirm,
        values: Values::of(&p.result),
        note: String::new(),
    };
    // A folder where the head file should go: it cannot be replaced.
    let head = dir.path().join(REVIEW_HEAD_FILE);
    std::fs::create_dir(&head).unwrap();
    let refused = store.decide(&decision, 0).unwrap_err().to_string();
    assert!(refused.contains("the decision was not saved"), "{refused}");
    assert_eq!(store.protocol("a.jpg").unwrap().unwrap().version, 0, "nothing was committed");
    assert!(store.log().unwrap().is_empty());

    // Once the head can be written, the same save (same version) goes through,
    // and the log verifies: no false alarm from the failed attempt.
    std::fs::remove_dir(&head).unwrap();
    let saved = store.decide(&decision, 0).unwrap();
    assert_eq!(saved.seq, 1);
    let report = verify_chain(dir.path(), GENESIS_HASH).unwrap();
    assert!(report.ok(), "{:?}", report.problems);
    assert_eq!(report.head(), saved.hash);
}

#[test]
fn overlong_names_notes_and_control_characters_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    review_fixture::out_dir(dir.path());
    let store = SqliteStore::open(dir.path()).unwrap();
    let p = store.protocol("a.jpg").unwrap().unwrap();
    let decision = |reviewer: &str, note: &str| Decision {
        file: "a.jpg".into(),
        reviewer: reviewer.into(),
        action: Action::Confirm,
        values: Values::of(&p.result),
        note: note.into(),
    };
    assert!(store.decide(&decision(&"A".repeat(101), ""), 0).is_err());
    assert!(store.decide(&decision("Alice\r\nX-Evil: 1", ""), 0).is_err());
    assert!(store.decide(&decision("Alice", &"n".repeat(2001)), 0).is_err());
    assert!(store.log().unwrap().is_empty());
    assert!(store.decide(&decision("Alice", "fine"), 0).is_ok());
}
