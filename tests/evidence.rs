//! The chain of custody end to end, on a real scan of two sample photos:
//! an edited figure in results.jsonl, a deleted or emptied decision log,
//! and a decision log rewritten with every hash recomputed are each found
//! by `verify` (the last against an evidence head published earlier); the
//! report says when what it counts is not what was read; and an archived,
//! write-protected output folder is verified and reported on by a user
//! who may not write to it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use protocol_ocr::review::store::{Action, Decision, Entry, ReviewStore, SqliteStore, Values, REVIEW_DB_FILE};
use rusqlite::{params, Connection};

/// An accepted protocol and a flagged one from the bundled sample.
const ACCEPTED: &str = "IMG_0001.jpg";
const FLAGGED: &str = "IMG_0002.jpg";

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_protocol-ocr"))
}

fn run(args: &[&str]) -> Output {
    Command::new(binary()).args(args).output().unwrap()
}

fn text(output: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr))
}

/// IN (the two photos) and OUT (their scan) inside `dir`.
fn scanned(dir: &Path) -> (PathBuf, PathBuf) {
    let input = dir.join("in");
    std::fs::create_dir_all(&input).unwrap();
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/day1");
    for name in [ACCEPTED, FLAGGED] {
        std::fs::copy(sample.join(name), input.join(name)).unwrap();
    }
    let out = dir.join("out");
    let scan = run(&["scan", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "--jobs", "2"]);
    assert!(scan.status.success(), "{}", text(&scan));
    assert!(text(&scan).contains("evidence head: "), "scan prints the head to publish: {}", text(&scan));
    (input, out)
}

fn verify(out: &Path, heads: &[&str]) -> (i32, String) {
    let mut args = vec!["verify", out.to_str().unwrap()];
    for head in heads {
        args.extend(["--head", head]);
    }
    let output = run(&args);
    (output.status.code().unwrap(), text(&output))
}

/// The head `verify` prints for OUT_DIR now.
fn head_of(out: &Path) -> String {
    let (_, said) = verify(out, &[]);
    said.lines()
        .find_map(|l| l.strip_prefix("evidence head: "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no head in {said}"))
        .to_string()
}

/// Three decisions by three reviewers on the flagged protocol.
fn decide_three(out: &Path) {
    let store = SqliteStore::open(out).unwrap();
    for (version, reviewer) in ["Alice", "Bob", "Carol"].iter().enumerate() {
        let p = store.protocol(FLAGGED).unwrap().unwrap();
        let decision = Decision {
            file: FLAGGED.into(),
            reviewer: reviewer.to_string(),
            action: Action::Confirm,
            values: p.values(),
            note: String::new(),
        };
        store.decide(&decision, version as i64).unwrap();
    }
}

/// Opens the database as an attacker would, without the append-only triggers.
fn without_triggers(out: &Path) -> Connection {
    let conn = Connection::open(out.join(REVIEW_DB_FILE)).unwrap();
    conn.execute_batch("DROP TRIGGER decisions_append_only_update; DROP TRIGGER decisions_append_only_delete;")
        .unwrap();
    conn
}

#[test]
fn an_edited_figure_is_reported_by_verify_and_by_the_report() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = scanned(dir.path());
    let (code, said) = verify(&out, &[]);
    assert_eq!(code, 0, "{said}");

    // 5 000 more votes for the first party of the accepted protocol.
    let path = out.join("results.jsonl");
    let edited: Vec<String> = std::fs::read_to_string(&path)
        .unwrap()
        .lines()
        .map(|line| {
            let mut r: serde_json::Value = serde_json::from_str(line).unwrap();
            if r["file"] == ACCEPTED {
                assert_eq!(r["status"], "accepted");
                let votes = r["votes"].as_object_mut().unwrap();
                let first = votes.values_mut().next().unwrap();
                *first = serde_json::json!(first.as_u64().unwrap() + 5000);
            }
            r.to_string()
        })
        .collect();
    std::fs::write(&path, edited.join("\n") + "\n").unwrap();

    let (code, said) = verify(&out, &[]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("RESULTS  results.jsonl was changed after the scan wrote it"), "{said}");
    let report = run(&["report", out.to_str().unwrap()]);
    assert!(report.status.success(), "{}", text(&report));
    assert!(text(&report).contains("WARNING: results.jsonl is not the file the scan wrote"), "{}", text(&report));
    let json: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["evidence"]["results_as_scanned"], false);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains("The evidence does not check out"), "the page warns too");
    // Nobody signs an edited output.
    let key = dir.path().join("org.key");
    assert!(run(&["keygen", "--out", key.to_str().unwrap()]).status.success());
    let refused = run(&["sign", out.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    assert_eq!(refused.status.code(), Some(2), "{}", text(&refused));
    assert!(text(&refused).contains("does not check out"), "{}", text(&refused));
}

#[test]
fn a_deleted_decision_log_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = scanned(dir.path());
    decide_three(&out);
    assert_eq!(verify(&out, &[]).0, 0);
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(out.join(format!("{REVIEW_DB_FILE}{suffix}")));
    }
    let (code, said) = verify(&out, &[]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("the decision log was deleted"), "{said}");
}

#[test]
fn an_emptied_log_without_its_head_file_is_found_by_the_report_and_the_published_head() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = scanned(dir.path());
    decide_three(&out);
    let published = head_of(&out);
    let report = run(&["report", out.to_str().unwrap()]);
    assert!(text(&report).contains(&format!("evidence head: {published}")), "{}", text(&report));
    assert!(std::fs::read_to_string(out.join("report.html")).unwrap().contains(&published));

    without_triggers(&out).execute_batch("DELETE FROM decisions").unwrap();
    std::fs::remove_file(out.join(protocol_ocr::review::store::REVIEW_HEAD_FILE)).unwrap();
    let (code, said) = verify(&out, &[]);
    assert_eq!(code, 1, "report.json remembers the head: {said}");
    assert!(said.contains("HEAD     report.json was made at evidence head"), "{said}");

    std::fs::remove_file(out.join("report.json")).unwrap();
    assert_eq!(verify(&out, &[]).0, 0, "with every local trace gone, only a published head tells");
    let (code, said) = verify(&out, &[&published]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains(&format!("the published head {published} is not one this log has had")), "{said}");
}

/// Rewrites decision 2 (another reviewer, another value), recomputes every
/// hash after it and rewrites the head file: a perfect forgery without a key.
fn forge_decision_two(out: &Path) {
    let log = SqliteStore::open(out).unwrap().log().unwrap();
    let conn = without_triggers(out);
    let mut prev = log[0].hash.clone();
    for entry in &log[1..] {
        let mut forged: Entry = entry.clone();
        if forged.seq == 2 {
            forged.reviewer = "Mallory".into();
            forged.action = Action::Correct;
            let first = forged.new.votes.values_mut().next().unwrap();
            *first = Some(first.unwrap_or(0) + 100);
        }
        forged.prev_hash = prev.clone();
        forged.hash = forged.compute_hash();
        conn.execute(
            "UPDATE decisions SET reviewer = ?1, action = ?2, new_json = ?3, prev_hash = ?4, hash = ?5 WHERE seq = ?6",
            params![
                forged.reviewer,
                forged.action.as_str(),
                serde_json::to_string(&forged.new).unwrap(),
                forged.prev_hash,
                forged.hash,
                forged.seq
            ],
        )
        .unwrap();
        prev = forged.hash.clone();
    }
    std::fs::write(
        out.join(protocol_ocr::review::store::REVIEW_HEAD_FILE),
        serde_json::json!({"seq": 3, "hash": prev}).to_string(),
    )
    .unwrap();
}

#[test]
fn a_rewritten_chain_is_found_against_a_published_head() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = scanned(dir.path());
    decide_three(&out);
    let published = head_of(&out);
    let after_first = SqliteStore::open(&out).unwrap().log().unwrap()[0].hash.clone();
    assert_eq!(verify(&out, &[&published, &after_first]).0, 0, "every earlier head checks out");

    forge_decision_two(&out);

    let (code, said) = verify(&out, &[]);
    assert_eq!(code, 0, "the forgery is self-consistent: {said}");
    let (code, said) = verify(&out, &[&published]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("is not one this log has had"), "{said}");
    assert_eq!(verify(&out, &[&after_first]).0, 0, "the head before the forged entry is still in the chain");
}

#[test]
fn a_write_protected_archive_is_verified_and_reported_by_a_user_who_cannot_write_it() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let (input, out) = scanned(dir.path());
    decide_three(&out);
    // A checkpointed log, as an archive is copied: no -wal or -shm beside it.
    drop(SqliteStore::open(&out).unwrap());
    let elsewhere = dir.path().join("report-copy");
    std::fs::create_dir(&elsewhere).unwrap();
    std::fs::set_permissions(&elsewhere, std::fs::Permissions::from_mode(0o777)).unwrap();
    let listing = |p: &Path| -> Vec<(String, u64, std::time::SystemTime)> {
        let mut all: Vec<_> = std::fs::read_dir(p)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let m = e.metadata().unwrap();
                (e.file_name().to_string_lossy().into_owned(), m.len(), m.modified().unwrap())
            })
            .collect();
        all.sort();
        all
    };
    let before = listing(&out);
    let protect = |mode_dir: u32, mode_file: u32| {
        for entry in walkdir::WalkDir::new(&out).contents_first(true) {
            let entry = entry.unwrap();
            let mode = if entry.file_type().is_dir() { mode_dir } else { mode_file };
            std::fs::set_permissions(entry.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        }
    };
    protect(0o555, 0o444);

    // Root may write anywhere: then the commands run as `nobody`, with a
    // copy of the binary that user may run.
    let as_reader = |args: &[&str]| -> Output {
        if running_as_root() {
            let bin = dir.path().join("protocol-ocr");
            if !bin.exists() {
                std::fs::copy(binary(), &bin).unwrap();
                std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
            }
            Command::new("setpriv")
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&bin)
                .args(args)
                .output()
                .unwrap()
        } else {
            Command::new(binary()).args(args).output().unwrap()
        }
    };
    let verified = as_reader(&["verify", out.to_str().unwrap(), "--input", input.to_str().unwrap()]);
    let verified_text = text(&verified);
    let reported = as_reader(&["report", out.to_str().unwrap(), "--to", elsewhere.to_str().unwrap()]);
    let refused = as_reader(&["report", out.to_str().unwrap()]);
    protect(0o755, 0o644);

    assert_eq!(verified.status.code(), Some(0), "{verified_text}");
    assert!(verified_text.contains("review log: 3 decisions, hash chain intact"), "{verified_text}");
    assert!(reported.status.success(), "{}", text(&reported));
    assert!(elsewhere.join("report.json").exists());
    assert_eq!(refused.status.code(), Some(2));
    assert!(text(&refused).contains("report.json"), "the error names the file: {}", text(&refused));
    assert_eq!(listing(&out), before, "nothing in the archive was written");
}

/// Whether this process runs as root (who is not stopped by permissions).
fn running_as_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("Uid:")).map(|l| l.split_whitespace().nth(1) == Some("0")))
        .unwrap_or(false)
}

#[test]
fn values_of_a_decision_survive_in_the_read_only_store() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = scanned(dir.path());
    decide_three(&out);
    let read_only = SqliteStore::open_read_only(&out).unwrap();
    assert_eq!(read_only.log().unwrap().len(), 3);
    let p = read_only.protocol(FLAGGED).unwrap().unwrap();
    assert_eq!(p.version, 3);
    let refused = read_only.decide(
        &Decision {
            file: FLAGGED.into(),
            reviewer: "Dan".into(),
            action: Action::Confirm,
            values: Values::of(&p.result),
            note: String::new(),
        },
        3,
    );
    assert!(refused.unwrap_err().to_string().contains("read-only"));
}

#[test]
fn a_signed_head_holds_and_a_rewritten_chain_loses_its_signature() {
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = scanned(dir.path());
    decide_three(&out);
    let key = dir.path().join("org.key");
    let made = run(&["keygen", "--out", key.to_str().unwrap()]);
    assert!(made.status.success(), "{}", text(&made));
    assert_eq!(run(&["keygen", "--out", key.to_str().unwrap()]).status.code(), Some(2), "a key is never overwritten");
    let public = dir.path().join("org.key.pub");
    let signed = run(&["sign", out.to_str().unwrap(), "--key", key.to_str().unwrap()]);
    assert!(signed.status.success(), "{}", text(&signed));

    let verify_with_key = |out: &Path| {
        let output = run(&["verify", out.to_str().unwrap(), "--key", public.to_str().unwrap()]);
        (output.status.code().unwrap(), text(&output))
    };
    let (code, said) = verify_with_key(&out);
    assert_eq!(code, 0, "{said}");
    assert!(
        said.contains("signed: 1 signature(s) by the key on heads of this output; 0 decisions made since"),
        "{said}"
    );

    // Another organisation's key proves nothing for this one.
    let other = dir.path().join("other.key");
    assert!(run(&["keygen", "--out", other.to_str().unwrap()]).status.success());
    let other_out = dir.path().join("copy");
    copy_dir(&out, &other_out);
    std::fs::remove_file(other_out.join(protocol_ocr::signing::SIGNATURES_FILE)).unwrap();
    assert!(run(&["sign", other_out.to_str().unwrap(), "--key", other.to_str().unwrap()]).status.success());
    let (code, said) = verify_with_key(&other_out);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("SIGNED   no valid signature by the key"), "{said}");

    // A signature altered by one digit no longer verifies.
    let path = out.join(protocol_ocr::signing::SIGNATURES_FILE);
    let line = std::fs::read_to_string(&path).unwrap();
    let mut signed: serde_json::Value = serde_json::from_str(line.trim()).unwrap();
    let signature = signed["signature"].as_str().unwrap().to_string();
    let flipped = if signature.starts_with('0') { "1" } else { "0" };
    signed["signature"] = serde_json::json!(format!("{flipped}{}", &signature[1..]));
    std::fs::write(&path, format!("{signed}\n")).unwrap();
    let (code, said) = verify_with_key(&out);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("does not verify"), "{said}");
    std::fs::write(&path, line).unwrap();

    // The forger rewrites the chain: the signed head is gone from it.
    forge_decision_two(&out);
    assert_eq!(verify(&out, &[]).0, 1, "even without the key, a signature on a head the log never had shows");
    let (code, said) = verify_with_key(&out);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("was signed, but this log never had it"), "{said}");
}

fn copy_dir(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn scanning_late_photos_into_a_reviewed_folder_extends_the_chain() {
    let dir = tempfile::tempdir().unwrap();
    let (input, out) = scanned(dir.path());
    // Signed right after the first scan, before any decision.
    let key = dir.path().join("org.key");
    assert!(run(&["keygen", "--out", key.to_str().unwrap()]).status.success());
    assert!(run(&["sign", out.to_str().unwrap(), "--key", key.to_str().unwrap()]).status.success());
    decide_three(&out);
    let published = head_of(&out);

    // Unchanged folder, scanned again: nothing new to record.
    let again = run(&["scan", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(again.status.success(), "{}", text(&again));
    assert_eq!(SqliteStore::open(&out).unwrap().log().unwrap().len(), 3);

    // A late photo: the new scan is recorded in the log, no false alarm.
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/day1");
    std::fs::copy(sample.join("IMG_0004.jpg"), input.join("IMG_0004.jpg")).unwrap();
    let late = run(&["scan", input.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert!(late.status.success(), "{}", text(&late));
    assert!(text(&late).contains("the new scan is entry 4 of the decision log"), "{}", text(&late));
    let log = SqliteStore::open(&out).unwrap().log().unwrap();
    assert_eq!(log.len(), 4);
    assert_eq!(log[3].action, Action::Rescan);
    let manifest = protocol_ocr::manifest::Manifest::load(&out).unwrap();
    assert_eq!(log[3].photo_sha256, manifest.root_sha256);
    let (code, said) = verify(&out, &[&published]);
    assert_eq!(code, 0, "the head published before the late photos is still in the chain: {said}");
    assert_ne!(head_of(&out), published, "the head now covers the new scan");
    let public = dir.path().join("org.key.pub");
    let signed = run(&["verify", out.to_str().unwrap(), "--key", public.to_str().unwrap()]);
    assert_eq!(signed.status.code(), Some(0), "the first scan's signed root is still a head: {}", text(&signed));
    assert!(text(&signed).contains("4 decisions made since the newest"), "{}", text(&signed));
    assert_eq!(SqliteStore::open(&out).unwrap().protocol(FLAGGED).unwrap().unwrap().version, 3, "decisions stand");

    // A manifest replaced behind the log's back is found.
    let edited = std::fs::read_to_string(out.join("manifest.json")).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&edited).unwrap();
    manifest["files"].as_array_mut().unwrap().pop();
    let files = manifest["files"].as_array().unwrap().clone();
    let rebuilt = protocol_ocr::manifest::Manifest::new(
        Path::new(manifest["input"].as_str().unwrap()),
        false,
        serde_json::from_value(manifest["model"].clone()).unwrap(),
        &std::fs::read(out.join("results.jsonl")).unwrap(),
        serde_json::from_value(serde_json::Value::Array(files)).unwrap(),
    );
    std::fs::write(out.join("manifest.json"), serde_json::to_string_pretty(&rebuilt).unwrap()).unwrap();
    let (code, said) = verify(&out, &[]);
    assert_eq!(code, 1, "{said}");
    assert!(said.contains("no rescan entry records this one"), "{said}");
}
