//! Every kind of bad input, scanned by the real binary: each file gets
//! exactly one line, `failed` with a sentence (or `flagged` for a readable
//! image that is not a protocol), nothing is accepted, the run completes and
//! memory stays bounded.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use image::{Rgb, RgbImage};
use protocol_ocr::result::{read_results, ProtocolResult, Status};

/// A scan must not need more memory than this for a dozen bad files.
const MEMORY_CEILING_MIB: f64 = 1024.0;

/// A photo of something else: sky, a field and a sun, 1200 × 800.
fn landscape(path: &Path) {
    let img = RgbImage::from_fn(1200, 800, |x, y| {
        let (dx, dy) = (x as f32 - 900.0, y as f32 - 180.0);
        if dx * dx + dy * dy < 90.0 * 90.0 {
            Rgb([250, 220, 60])
        } else if y > 520 {
            Rgb([40, 120 + (x % 37) as u8, 40])
        } else {
            Rgb([90, 140, 200 + (y / 20) as u8])
        }
    });
    img.save(path).unwrap();
}

fn find<'a>(results: &'a [ProtocolResult], file: &str) -> &'a ProtocolResult {
    results.iter().find(|r| r.file == file).unwrap_or_else(|| panic!("no line for {file}"))
}

fn failed_with(results: &[ProtocolResult], file: &str, words: &str) {
    let r = find(results, file);
    assert_eq!(r.status, Status::Failed, "{file}: {r:?}");
    let error = r.error.as_deref().unwrap_or_default();
    assert!(error.contains(words), "{file}: error {error:?} should say {words:?}");
}

fn flagged_not_a_protocol(results: &[ProtocolResult], file: &str) {
    let r = find(results, file);
    assert_eq!(r.status, Status::Flagged, "{file}: {r:?}");
    assert!(r.flags.iter().any(|f| f == "not_a_protocol"), "{file}: {:?}", r.flags);
    assert!(r.fields.values().chain(r.votes.values()).all(Option::is_none), "{file}: nothing read");
}

#[test]
fn every_bad_file_gets_one_line_and_the_run_completes() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    std::fs::create_dir_all(input.join("nested")).unwrap();
    let bad = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bad");
    for entry in std::fs::read_dir(&bad).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), input.join(entry.file_name())).unwrap();
    }
    landscape(&input.join("landscape.jpg"));
    landscape(&input.join(OsStr::from_bytes(b"scan\xFF\xFD.png")));
    std::fs::copy(
        input.join(OsStr::from_bytes(b"scan\xFF\xFD.png")),
        input.join(OsStr::from_bytes(b"scan\xFF\xFE.png")),
    )
    .unwrap();
    std::os::unix::fs::symlink(&input, input.join("nested/loop")).unwrap();
    let locked = input.join("locked.jpg");
    landscape(&locked);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();

    // Root reads any file whatever its mode: then scan as `nobody`.
    let as_root = std::fs::read(&locked).is_ok();
    let binary = env!("CARGO_BIN_EXE_protocol-ocr");
    let mut command = if as_root {
        for p in [dir.path(), input.as_path()] {
            std::fs::set_permissions(p, std::fs::Permissions::from_mode(0o777)).unwrap();
        }
        let mut c = Command::new("setpriv");
        c.args(["--reuid=65534", "--regid=65534", "--clear-groups", binary]);
        c
    } else {
        Command::new(binary)
    };
    let output = command
        .args(["scan", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q", "--jobs", "2"])
        .arg("--follow-symlinks")
        .output()
        .unwrap();
    assert!(output.status.success(), "scan failed: {}", String::from_utf8_lossy(&output.stderr));

    let results = read_results(&out.join("results.jsonl")).unwrap();
    let files: Vec<&str> = results.iter().map(|r| r.file.as_str()).collect();
    assert_eq!(
        files,
        [
            "README.md",
            "blank-page.png",
            "bomb-60000x60000.png",
            "broken-checksum.png",
            "empty.jpg",
            "landscape.jpg",
            "locked.jpg",
            "nested/loop",
            "scan\\xFF\\xFD.png",
            "scan\\xFF\\xFE.png",
            "text-named.jpg",
            "truncated.jpg",
        ],
        "every file exactly once, in order"
    );
    assert!(results.iter().all(|r| r.status != Status::Accepted), "nothing here is a readable protocol");

    failed_with(&results, "README.md", "not an image");
    failed_with(&results, "empty.jpg", "empty");
    failed_with(&results, "text-named.jpg", "not an image");
    failed_with(&results, "bomb-60000x60000.png", "decompression bomb");
    failed_with(&results, "broken-checksum.png", "damaged");
    failed_with(&results, "locked.jpg", "ermission denied");
    failed_with(&results, "nested/loop", "symbolic link loop");
    flagged_not_a_protocol(&results, "blank-page.png");
    flagged_not_a_protocol(&results, "landscape.jpg");
    // Names that are not UTF-8 keep their bytes and are read like any other.
    flagged_not_a_protocol(&results, "scan\\xFF\\xFD.png");
    let copy = find(&results, "scan\\xFF\\xFE.png");
    assert_eq!(copy.status, Status::Duplicate);
    assert_eq!(copy.duplicate_of.as_deref(), Some("scan\\xFF\\xFD.png"));
    failed_with(&results, "truncated.jpg", "truncated");

    let summary: serde_json::Value = serde_json::from_slice(&std::fs::read(out.join("summary.json")).unwrap()).unwrap();
    let peak = summary["peak_memory_mib"].as_f64().expect("peak memory measured");
    assert!(peak < MEMORY_CEILING_MIB, "peak memory {peak} MiB");
    // The manifest lists the same files.
    let manifest = protocol_ocr::manifest::Manifest::load(&out).unwrap();
    assert_eq!(manifest.files.iter().map(|f| f.path.as_str()).collect::<Vec<_>>(), files);
}

#[test]
fn a_file_deleted_between_discovery_and_reading_fails_alone() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    landscape(&input.join("a.jpg"));
    landscape(&input.join("b.jpg"));
    let inputs = protocol_ocr::scan::discover::discover(&input, false, None);
    std::fs::remove_file(input.join("a.jpg")).unwrap();
    let model = protocol_ocr::model::FormModel::load(None).unwrap();
    let options = protocol_ocr::scan::ScanOptions {
        input: input.clone(),
        out: dir.path().join("out"),
        jobs: 1,
        follow_symlinks: false,
        progress: None,
        debug_dir: None,
        interrupt: None,
    };
    let outcome = protocol_ocr::scan::scan_inputs(&model, &options, &inputs).unwrap();
    let a = find(&outcome.results, "a.jpg");
    assert_eq!(a.status, Status::Failed);
    assert!(a.error.as_deref().unwrap().contains("No such file"), "{a:?}");
    assert_eq!(find(&outcome.results, "b.jpg").status, Status::Flagged);
}

#[test]
fn a_panic_on_one_file_becomes_that_files_error() {
    let error = protocol_ocr::scan::catch_panics(|| panic!("index out of bounds")).unwrap_err().to_string();
    assert!(error.contains("internal error") && error.contains("index out of bounds"), "{error}");
    assert_eq!(protocol_ocr::scan::catch_panics(|| Ok(())), Ok(()));
}
