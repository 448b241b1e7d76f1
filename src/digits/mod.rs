//! A second reader of counts, independent of Tesseract: each glyph of a
//! cell classified by a small convolutional network.
//!
//! Tesseract now and then drops a digit of a clean count or returns nothing
//! for it; a reading two unrelated readers agree on is far safer than one
//! reader's confidence. The network (`models/digits.bin`, trained by
//! `protocol-ocr train-digits`) is compiled into the binary; it also knows
//! "not one digit", so touching digits or stray marks are not forced into a
//! digit.

pub mod glyph;
#[cfg(feature = "lab")]
pub mod hand;
pub mod measure;
#[cfg(feature = "lab")]
pub mod mnist;
pub mod net;
#[cfg(feature = "lab")]
pub mod net_train;
pub mod sequence;
#[cfg(feature = "lab")]
pub mod sequence_train;
#[cfg(feature = "lab")]
pub mod train;

use std::sync::OnceLock;

use image::GrayImage;

pub use glyph::glyph_input;
pub use net::{Net, CLASSES, NOT_A_DIGIT};

/// The trained network, as committed.
static NETWORK_BYTES: &[u8] = include_bytes!("../../models/digits.bin");

/// The network the scan reads with, loaded once.
pub fn network() -> &'static Net {
    static NETWORK: OnceLock<Net> = OnceLock::new();
    NETWORK.get_or_init(|| Net::from_bytes(NETWORK_BYTES).expect("models/digits.bin is a digit network"))
}

/// A network file as `train-digits` writes it; the error names the file.
#[cfg(feature = "lab")]
pub fn network_file(path: &std::path::Path) -> anyhow::Result<Net> {
    let bytes = std::fs::read(path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
    Net::from_bytes(&bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
}

/// A glyph read less surely than this is looked at again, turned
/// [`SECOND_LOOK_TURN_DEG`] each way.
const SECOND_LOOK_BELOW: f32 = 0.98;
/// How far the second look turns a glyph: about the spread of a hand's
/// slant from one digit to the next that the network was shown less of.
const SECOND_LOOK_TURN_DEG: f32 = 4.6;

/// The class probabilities of one glyph as a handwriting reader takes
/// them: a glyph read less surely than [`SECOND_LOOK_BELOW`] is read again
/// turned [`SECOND_LOOK_TURN_DEG`] each way (a hand's slant varies more
/// than the network was shown), and the three readings averaged: the
/// likeliest digit is then more often the right one. A sure reading is
/// kept as it is (averaging would only blunt it), and so costs nothing
/// more.
pub fn classify_looking_twice(net: &Net, input: &[f32; net::INPUT]) -> [f32; CLASSES] {
    look_again_if_unsure(net, input, net.classify(input))
}

/// [`classify_looking_twice`] given the network's first look at `input`
/// (`probs`), for a caller that keeps the first look too.
pub fn look_again_if_unsure(net: &Net, input: &[f32; net::INPUT], mut probs: [f32; CLASSES]) -> [f32; CLASSES] {
    if probs.iter().copied().fold(0.0, f32::max) < SECOND_LOOK_BELOW {
        for degrees in [-SECOND_LOOK_TURN_DEG, SECOND_LOOK_TURN_DEG] {
            let again = net.classify(&glyph::turned(input, degrees));
            probs.iter_mut().zip(again).for_each(|(p, q)| *p += q);
        }
        probs.iter_mut().for_each(|p| *p /= 3.0);
    }
    probs
}

/// One glyph as the network reads it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GlyphRead {
    /// The likeliest digit, `None` when the likeliest class is "not one digit".
    pub digit: Option<u8>,
    /// Its probability.
    pub probability: f32,
    /// The second likeliest digit and its probability, for the reviewer.
    pub runner_up: (u8, f32),
}

/// Reads one glyph crop (dark ink on light paper); `None` when it holds no ink.
pub fn read_glyph(net: &Net, crop: &GrayImage) -> Option<GlyphRead> {
    let probs = net.classify(&glyph_input(crop)?);
    let mut order: Vec<usize> = (0..CLASSES).collect();
    order.sort_by(|a, b| probs[*b].total_cmp(&probs[*a]));
    let best = order[0];
    let runner = order.iter().copied().find(|&c| c != best && c != NOT_A_DIGIT).unwrap_or(0);
    Some(GlyphRead {
        digit: (best != NOT_A_DIGIT).then_some(best as u8),
        probability: probs[best],
        runner_up: (runner as u8, probs[runner]),
    })
}
