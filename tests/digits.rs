//! The committed glyph network (models/digits.bin) on glyphs it never saw:
//! freshly printed digits, in the trained faces and in DejaVu Serif, a face
//! kept out of training; and the full-scan use of it is covered by the
//! fixtures test.

use protocol_ocr::digits::{self, train};
use protocol_ocr::fonts;

/// Seeds the training run never used (it draws from seed 1 and its neighbours).
const FRESH_SEED: u64 = 90_210;

#[test]
fn the_glyph_reader_reads_print_it_never_saw() {
    let net = digits::network();
    let unseen = train::printed_accuracy(net, &fonts::other_family().regular, FRESH_SEED, 1000);
    assert!(unseen >= 0.98, "DejaVu Serif, never trained on: {unseen}");
    for family in fonts::synth_families() {
        let seen = train::printed_accuracy(net, &family.regular, FRESH_SEED + 1, 500);
        assert!(seen >= 0.99, "{}: {seen}", family.name);
    }
}
