//! The real binary on the bundled sample: one line per file, in order, the
//! same whatever `--jobs` is, byte copies found, and nothing accepted that
//! disagrees with the truth.

use std::path::{Path, PathBuf};
use std::process::Command;

use protocol_ocr::eval;
use protocol_ocr::result::{read_results, Status};

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_protocol-ocr"))
}

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample")
}

fn scan(jobs: usize, out: &Path) {
    let status = Command::new(binary())
        .args(["scan", sample().to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--jobs", &jobs.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "scan exited with {status}");
}

#[test]
fn scanning_the_sample_keeps_every_file_and_accepts_nothing_wrong() {
    let one = tempfile::tempdir().unwrap();
    let two = tempfile::tempdir().unwrap();
    scan(1, one.path());
    scan(2, two.path());
    let a = std::fs::read(one.path().join("results.jsonl")).unwrap();
    let b = std::fs::read(two.path().join("results.jsonl")).unwrap();
    assert_eq!(a, b, "results.jsonl must not depend on --jobs");

    let results = read_results(&one.path().join("results.jsonl")).unwrap();
    let truth = eval::read_truth(&sample().join("truth.jsonl")).unwrap();
    // Every file under the folder, truth.jsonl included, exactly once and in order.
    let files: Vec<&str> = results.iter().map(|r| r.file.as_str()).collect();
    let mut expected: Vec<String> = truth.iter().map(|t| t.file.clone()).collect();
    expected.push("truth.jsonl".into());
    expected.sort();
    assert_eq!(files, expected);
    let text_file = results.iter().find(|r| r.file == "truth.jsonl").unwrap();
    assert_eq!(text_file.status, Status::Failed);
    assert!(text_file.error.as_deref().unwrap().contains("not an image"));

    for r in &results {
        assert_eq!(r.sha256.len(), 64, "{}", r.file);
        assert_eq!(r.fields.len(), 5, "{}: every field key present", r.file);
        assert_eq!(r.votes.len(), 5, "{}: every party key present", r.file);
    }
    let scores = eval::score(&truth, &results);
    assert_eq!(scores.silent_errors, 0, "accepted with wrong values: {:?}", scores.silent_error_files);
    assert_eq!(scores.flag_recall, 1.0, "an inconsistent protocol was accepted");
    assert_eq!(scores.duplicates_found, 1.0);
    // Every value that was read and accepted equals the truth.
    for t in &truth {
        let r = results.iter().find(|r| r.file == t.file).unwrap();
        if r.status == Status::Accepted {
            assert_eq!(r.fields, t.fields, "{}", t.file);
            assert_eq!(r.votes, t.votes, "{}", t.file);
        }
    }
    // The reader finds most lines of most photos: a floor that catches a
    // broken stage (the accuracy itself is measured by `make eval`).
    assert!(scores.field_accuracy >= 0.9, "field accuracy fell to {}", scores.field_accuracy);

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(one.path().join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["files"], results.len());
    assert!(summary["stage_seconds"]["read"].as_f64().unwrap() > 0.0);
    let csv = std::fs::read_to_string(one.path().join("results.csv")).unwrap();
    assert_eq!(csv.lines().count(), results.len() + 1, "a header and one row per file");
}

#[test]
fn an_unusable_input_folder_exits_with_2_and_names_it() {
    let out = tempfile::tempdir().unwrap();
    let output = Command::new(binary())
        .args(["scan", "/nonexistent/photos", "--out", out.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/photos"));
}
