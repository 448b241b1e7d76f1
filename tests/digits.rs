//! The committed glyph network (models/digits.bin) on glyphs it never saw:
//! freshly printed digits, in the trained faces and in DejaVu Serif, a face
//! kept out of training; and the full-scan use of it is covered by the
//! fixtures test. And handwriting: MNIST digits 5000–9999, never trained on.

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

/// Issue 8's bar: real handwriting the network never trained on (MNIST
/// digits 5000–9999, the bundled copy) read at 0.98 or better.
#[test]
fn the_glyph_reader_reads_handwriting_it_never_saw() {
    let set = digits::mnist::Mnist::bundled();
    let held_out = train::mnist_accuracy(digits::network(), set, digits::mnist::HELD_OUT);
    println!("MNIST 5000-9999 accuracy: {held_out:.4}");
    assert!(held_out >= 0.98, "MNIST 5000-9999: {held_out}");
}
