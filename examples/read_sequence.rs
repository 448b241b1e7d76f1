//! Debugging aid: reads cell crops (PNGs written by `scan --debug-dir`)
//! with the sequence reader, one line per crop: file, digits, confidence.
//!
//! `cargo run --release --example read_sequence CROP.png...`
fn main() {
    for path in std::env::args().skip(1) {
        let crop = image::open(&path).expect("an image").to_luma8();
        match protocol_ocr::digits::sequence::read_sequence(&crop) {
            Some(read) => println!(
                "{path}\t{}\t{:.3}",
                if read.written_zero() { "0 (a word for zero)" } else { read.digits.as_str() },
                read.confidence
            ),
            None => println!("{path}\t\t0"),
        }
    }
}
