//! Interrupted runs and the manifest, with the real binary: a scan killed
//! with SIGKILL or stopped with Ctrl-C resumes where it stopped and ends
//! with the same results.jsonl as an uninterrupted run; files added or
//! changed since are read; `verify` reports every added, missing and
//! altered file.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Photos of the bundled sample used here: enough that a run can be
/// stopped midway, few enough to keep the test short.
const PHOTOS: [&str; 6] = [
    "day1/IMG_0001.jpg",
    "day1/IMG_0002.jpg",
    "day1/IMG_0003.jpg",
    "day1/IMG_0004.jpg",
    "day1/IMG_0005.jpg",
    "day1/IMG_0006.jpg",
];
/// A sample photo not among [`PHOTOS`], to add or swap in.
const OTHER_PHOTO: &str = "day2/IMG_0020.jpg";

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_protocol-ocr")
}

fn sample(file: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample").join(file)
}

fn photo_folder(dir: &Path) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir_all(input.join("day1")).unwrap();
    for p in PHOTOS {
        std::fs::copy(sample(p), input.join(p)).unwrap();
    }
    input
}

fn scan_command(input: &Path, out: &Path) -> Command {
    let mut c = Command::new(binary());
    c.args(["scan", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--jobs", "2"]);
    c
}

fn scan(input: &Path, out: &Path) -> Output {
    let output = scan_command(input, out).output().unwrap();
    assert!(output.status.success(), "scan failed: {}", String::from_utf8_lossy(&output.stderr));
    output
}

/// Results saved in the journal so far (its first line is a header).
fn journalled(out: &Path) -> usize {
    std::fs::read_to_string(out.join("journal.jsonl")).map(|t| t.lines().count().saturating_sub(1)).unwrap_or(0)
}

/// Starts a scan and waits until `done` results are saved.
fn start_and_wait(input: &Path, out: &Path, done: usize) -> Child {
    let child = scan_command(input, out).stdout(Stdio::null()).stderr(Stdio::piped()).spawn().unwrap();
    let started = Instant::now();
    while journalled(out) < done {
        assert!(started.elapsed() < Duration::from_secs(120), "the scan saved nothing in two minutes");
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

fn summary(out: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_killed_scan_resumes_and_ends_as_if_never_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let input = photo_folder(dir.path());
    let whole = dir.path().join("whole");
    scan(&input, &whole);

    // kill -9 after two photos are saved.
    let killed = dir.path().join("killed");
    let mut child = start_and_wait(&input, &killed, 2);
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!killed.join("results.jsonl").exists(), "results are only written by a finished run");
    let saved = journalled(&killed);
    assert!((2..PHOTOS.len()).contains(&saved), "killed midway: {saved} saved");

    scan(&input, &killed);
    assert_eq!(
        std::fs::read(whole.join("results.jsonl")).unwrap(),
        std::fs::read(killed.join("results.jsonl")).unwrap(),
        "a resumed run ends with the same results"
    );
    assert_eq!(summary(&killed)["resume"]["reused"], saved, "the saved photos were not read again");

    // Ctrl-C: the run stops cleanly with exit code 130 and keeps what is done.
    let stopped = dir.path().join("stopped");
    let child = start_and_wait(&input, &stopped, 1);
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-INT", &pid]).status().unwrap().success());
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    // A fast machine may finish before the signal lands.
    if output.status.code() == Some(130) {
        assert!(stderr.contains("run the same command again"), "{stderr}");
        assert!(!stopped.join("results.jsonl").exists());
    } else {
        assert!(output.status.success(), "{stderr}");
    }
    assert!(journalled(&stopped) >= 1);
    scan(&input, &stopped);
    assert_eq!(
        std::fs::read(whole.join("results.jsonl")).unwrap(),
        std::fs::read(stopped.join("results.jsonl")).unwrap()
    );
}

#[test]
fn files_added_or_changed_since_the_last_run_are_read_and_reported() {
    let dir = tempfile::tempdir().unwrap();
    let input = photo_folder(dir.path());
    let out = dir.path().join("out");
    scan(&input, &out);
    assert_eq!(summary(&out)["resume"]["reused"], 0);

    // One photo replaced by other bytes, one added.
    std::fs::copy(sample(OTHER_PHOTO), input.join("day1/IMG_0002.jpg")).unwrap();
    std::fs::copy(sample("day2/IMG_0021.jpg"), input.join("day1/IMG_0099.jpg")).unwrap();
    let output = scan(&input, &out);
    let s = summary(&out);
    assert_eq!(s["resume"]["reused"], PHOTOS.len() - 1);
    assert_eq!(s["resume"]["changed_since_last_run"], serde_json::json!(["day1/IMG_0002.jpg"]));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("changed since the last run, read anew: day1/IMG_0002.jpg"), "{stderr}");
    let results = protocol_ocr::result::read_results(&out.join("results.jsonl")).unwrap();
    assert_eq!(results.len(), PHOTOS.len() + 1);
    let changed = results.iter().find(|r| r.file == "day1/IMG_0002.jpg").unwrap();
    let (other_sha, _) = protocol_ocr::scan::hash::hash_file(&sample(OTHER_PHOTO)).unwrap();
    assert_eq!(changed.sha256, other_sha);
}

fn verify(out: &Path, input: &Path) -> (i32, String) {
    let output = Command::new(binary())
        .args(["verify", out.to_str().unwrap(), "--input", input.to_str().unwrap()])
        .output()
        .unwrap();
    (output.status.code().unwrap(), String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn verify_reports_every_added_missing_and_altered_file() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    // Not photos: verify is about bytes, and text files scan in no time.
    for name in ["a.txt", "b.txt", "c.txt"] {
        std::fs::write(input.join(name), name).unwrap();
    }
    let out = dir.path().join("out");
    scan(&input, &out);
    let manifest = protocol_ocr::manifest::Manifest::load(&out).unwrap();
    assert_eq!(manifest.files.len(), 3);
    assert_eq!(manifest.recomputed_root(), manifest.root_sha256);
    let (code, text) = verify(&out, &input);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("OK: nothing changed") && text.contains(&manifest.root_sha256), "{text}");

    std::fs::write(input.join("a.txt"), "altered").unwrap();
    std::fs::remove_file(input.join("b.txt")).unwrap();
    std::fs::write(input.join("d.txt"), "added").unwrap();
    let (code, text) = verify(&out, &input);
    assert_eq!(code, 1, "{text}");
    assert!(text.contains("ALTERED  a.txt"), "{text}");
    assert!(text.contains("MISSING  b.txt"), "{text}");
    assert!(text.contains("ADDED    d.txt"), "{text}");
    assert!(!text.contains("c.txt"), "{text}");

    // An edited manifest no longer matches its own root hash.
    let path = out.join("manifest.json");
    let edited = std::fs::read_to_string(&path).unwrap().replace("\"size\": 5", "\"size\": 6");
    std::fs::write(&path, edited).unwrap();
    let (code, text) = verify(&out, &input);
    assert_eq!(code, 1);
    assert!(text.contains("EDITED   manifest.json"), "{text}");
}
