//! Debugging aid: reads one cell crop (a PNG written by `scan --debug-dir`)
//! with the digits engine, as the scanner does.
//!
//! `cargo run --release --example read_crop CROP.png`
fn main() {
    let path = std::env::args().nth(1).expect("a crop PNG");
    let crop = image::open(&path).expect("an image").to_luma8();
    let mut engines = protocol_ocr::scan::ocr::Engines::new("eng").expect("tesseract");
    println!("{:?}", engines.read_digits(&crop).expect("a reading"));
}
