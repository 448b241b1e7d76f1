//! `synth`: deterministic for a seed, truth that agrees with the rules, and
//! photos that decode at the documented sizes.

use std::collections::HashMap;
use std::path::Path;

use protocol_ocr::model::{join_values, FormModel};
use protocol_ocr::synth::{self, photo, SynthOptions};

fn all_files(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| (e.path().strip_prefix(dir).unwrap().display().to_string(), std::fs::read(e.path()).unwrap()))
        .collect();
    files.sort();
    files
}

#[test]
fn the_same_seed_writes_the_same_bytes_and_another_seed_does_not() {
    let model = FormModel::load(None).unwrap();
    let dirs: Vec<tempfile::TempDir> = (0..3).map(|_| tempfile::tempdir().unwrap()).collect();
    for (dir, seed) in dirs.iter().zip([11, 11, 12]) {
        let options = SynthOptions {
            out: dir.path().to_path_buf(),
            count: 4,
            seed,
            inconsistent: 0.5,
            handwritten: 0.5,
            hand_digits: Default::default(),
            messenger: 0.0,
        };
        synth::run(&model, &options).unwrap();
    }
    let a = all_files(dirs[0].path());
    assert_eq!(a.len(), 5, "four photos and truth.jsonl");
    assert_eq!(a, all_files(dirs[1].path()));
    assert_ne!(a, all_files(dirs[2].path()));
}

#[test]
fn truth_agrees_with_the_rules_and_photos_decode_at_phone_sizes() {
    let model = FormModel::load(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = SynthOptions {
        out: dir.path().to_path_buf(),
        count: 10,
        seed: 5,
        inconsistent: 0.4,
        handwritten: 0.0,
        hand_digits: Default::default(),
        messenger: 0.3,
    };
    let truth = synth::run(&model, &options).unwrap();
    assert_eq!(truth.len(), 10);
    let text = std::fs::read_to_string(dir.path().join("truth.jsonl")).unwrap();
    assert_eq!(text.lines().count(), 10);

    let mut bytes_by_file = HashMap::new();
    for t in &truth {
        // Every key of the model, with a value.
        assert_eq!(t.fields.len() + t.votes.len(), model.lines.len());
        let values = join_values(&model, &t.fields, &t.votes);
        assert!(values.values().all(Option::is_some));
        let holds = model.check(&values).iter().all(|c| c.holds == Some(true));
        assert_eq!(holds, t.consistent, "{}: consistent must mean every rule holds", t.file);
        assert_eq!(t.broken_rules.is_empty(), t.consistent);

        let bytes = std::fs::read(dir.path().join(&t.file)).unwrap();
        let image = protocol_ocr::scan::decode::decode(&bytes).unwrap();
        let (w, h) = (image.width(), image.height());
        let long = w.max(h);
        let sizes = if t.conditions.messenger { photo::MESSENGER_LONG_SIDE_RANGE } else { photo::LONG_SIDE_RANGE };
        assert!((sizes.0..=sizes.1).contains(&long), "{}: {w}x{h}", t.file);
        if t.conditions.storage == "upright" || t.conditions.storage.starts_with("exif") {
            assert!(h > w, "{}: an upright or EXIF-tagged photo decodes portrait", t.file);
        }
        bytes_by_file.insert(t.file.clone(), bytes);
    }
    let copies: Vec<_> = truth.iter().filter(|t| t.duplicate_of.is_some()).collect();
    assert!(!copies.is_empty(), "a set of 10 holds a byte copy");
    for t in copies {
        let original = t.duplicate_of.as_ref().unwrap();
        assert!(original < &t.file, "the original sorts first");
        assert_eq!(bytes_by_file[&t.file], bytes_by_file[original]);
    }
    assert!(truth.iter().any(|t| t.second_photo_of.is_some()), "a set of 10 holds a second photo");
    assert!(truth.iter().any(|t| !t.consistent));
    assert!(truth.iter().any(|t| t.conditions.messenger), "--messenger 0.3 delivers some through a messenger");
}

#[test]
fn print_or_pen_is_drawn_line_by_line_and_the_truth_says_which() {
    let model = FormModel::load(None).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let options = SynthOptions {
        out: dir.path().to_path_buf(),
        count: 24,
        seed: 3,
        inconsistent: 0.0,
        handwritten: 1.0,
        hand_digits: Default::default(),
        messenger: 0.0,
    };
    let truth = synth::run(&model, &options).unwrap();
    let every_line: Vec<String> =
        std::iter::once("station".to_string()).chain(model.lines.iter().map(|l| l.key.clone())).collect();
    let mut all_by_hand = 0;
    let mut mixed = 0;
    for t in truth.iter().filter(|t| t.duplicate_of.is_none()) {
        assert!(t.handwritten);
        assert!(!t.written_by_hand.is_empty(), "{}: a handwritten protocol says what the pen wrote", t.file);
        assert!(t.written_by_hand.iter().all(|k| every_line.contains(k)), "{}: {:?}", t.file, t.written_by_hand);
        if t.written_by_hand == every_line {
            all_by_hand += 1;
        } else {
            mixed += 1;
        }
    }
    assert!(all_by_hand > mixed, "most handwritten protocols are written throughout ({all_by_hand} against {mixed})");
    assert!(mixed > 0, "some have a printed station number or printed counts among the handwriting");
    let text = std::fs::read_to_string(dir.path().join("truth.jsonl")).unwrap();
    assert!(text.contains("\"written_by_hand\""));
}
