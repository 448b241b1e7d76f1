//! Debugging aid: prints every line the layout pass reads on a photo, with
//! each word's confidence and the form line it was matched to.
//!
//! `cargo run --release --example ocr_lines PHOTO [TURNS] [MODEL]` (TURNS:
//! quarter turns clockwise that make the page upright, default 0; MODEL: a
//! form model file, default the bundled one). With `PAGE_PNG=FILE` set, the
//! straightened page is written there too.

use protocol_ocr::scan::{ocr::Engines, page};
fn main() {
    let p = std::env::args().nth(1).unwrap();
    let img = image::open(&p).unwrap().to_luma8();
    let loc = page::find_page(&img);
    let turns: u8 = std::env::args().nth(2).map(|t| t.parse().unwrap()).unwrap_or(0);
    let upright = page::flatten_lighting(&page::rectify(&img, &loc, turns));
    if let Ok(out) = std::env::var("PAGE_PNG") {
        upright.save(out).unwrap();
    }
    let model_path = std::env::args().nth(3).map(std::path::PathBuf::from);
    let model = protocol_ocr::model::FormModel::load(model_path.as_deref()).unwrap();
    let mut e = Engines::new(&model.ocr_language).unwrap();
    let words = e.read_words(&upright).unwrap();
    let lines = protocol_ocr::scan::lines::group_lines(&words);
    let t = protocol_ocr::scan::read::Targets::new(&model);
    for l in lines {
        let text: Vec<String> = l.words.iter().map(|w| format!("{}({:.0})", w.text, w.conf)).collect();
        println!(
            "{:?} {:?} {:?} :: {}",
            t.classify(&l.folded, None, &model),
            t.candidates(&l.folded),
            l.letters,
            text.join(" ")
        );
    }
}
