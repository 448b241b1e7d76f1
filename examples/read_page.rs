//! Debugging aid: reads one photo as the scanner does and prints what each
//! line's reading says (value, confidence, box, problem) and the station.
//!
//! `cargo run --release --example read_page PHOTO [MODEL]`

use protocol_ocr::model::FormModel;
use protocol_ocr::scan::{normalise_and_read, ocr::Engines, read::Targets, StageTimes};

fn main() {
    let path = std::env::args().nth(1).expect("a photo");
    let model_path = std::env::args().nth(2).map(std::path::PathBuf::from);
    let model = FormModel::load(model_path.as_deref()).expect("a model");
    let photo = image::open(&path).expect("an image").to_luma8();
    let mut engines = Engines::new(&model.ocr_language).expect("tesseract");
    let targets = Targets::new(&model);
    let times = StageTimes::default();
    let read = normalise_and_read(&mut engines, &photo, &model, &targets, &times).expect("a reading");
    if let Ok(out) = std::env::var("PAGE_PNG") {
        read.page.save(out).expect("the page is written");
    }
    let reading = &read.reading;
    println!("station {:?} ({:.2}), election {:?}", reading.station, reading.station_confidence, reading.election);
    for line in &model.lines {
        let v = &reading.values[&line.key];
        println!(
            "{:<22} {:>8?} {:.2} {:?} {}",
            line.key,
            v.value,
            v.confidence,
            v.cell,
            v.problem.as_deref().unwrap_or("")
        );
    }
    for (key, v) in &reading.repeats {
        println!("repeat {key} {:?} {:.2} {:?}", v.value, v.confidence, v.cell);
    }
}
