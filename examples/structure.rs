//! Debugging aid: the ruled structure the scanner finds on a photo — the
//! rules' slope, every horizontal rule, and the vertical rules between each
//! pair of neighbouring horizontal ones.
//!
//! `cargo run --release --example structure PHOTO` (with `PAGE_PNG=FILE`,
//! the levelled page is written there too).

use protocol_ocr::scan::{page, structure};

fn main() {
    let path = std::env::args().nth(1).expect("a photo");
    let photo = image::open(&path).expect("an image").to_luma8();
    let location = page::find_page(&photo);
    let upright = page::flatten_lighting(&page::rectify(&photo, &location, 0));
    let started = std::time::Instant::now();
    let structure::Levelled { page: level, slope_deg: slope, rules } = structure::level_rules(upright);
    println!("slope {slope:.2}°, {} rules in {:?}", rules.len(), started.elapsed());
    for pair in rules.windows(2) {
        let columns = structure::vertical_rules(&level, pair[0].y + 3, pair[1].y.saturating_sub(3));
        println!("{:?} -> next at {}: columns {columns:?}", pair[0], pair[1].y);
    }
    if let Ok(out) = std::env::var("PAGE_PNG") {
        level.save(out).expect("the page is written");
    }
}
