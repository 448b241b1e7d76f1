//! The sequence reader: a handwritten count read whole, without cutting it
//! into glyphs first.
//!
//! Touching and overlapping digits are where cutting a count into glyphs
//! goes wrong. This network reads the count's whole crop as a sequence: a
//! few convolutions turn the crop (scaled to [`HEIGHT`] pixels) into one
//! feature column per four pixels of width, two convolutions along the
//! line give each column its neighbours' context, and each column says
//! "digit d" or "nothing here" (CTC's blank). Runs of one digit are merged
//! and blanks dropped. It is the handwriting's second opinion beside the
//! glyph network: the two fail differently (one cuts, one does not), so
//! their agreement is evidence and their disagreement a doubt.
//!
//! Built on candle (its convolutions, and its autograd in `train-sequence`);
//! the weights are `models/sequence.safetensors`, compiled into the binary.

use std::sync::OnceLock;

use candle_core::{DType, Device, Module, ModuleT, Result, Tensor, D};
use candle_nn::{batch_norm, conv2d, linear, BatchNorm, BatchNormConfig, Conv2d, Conv2dConfig, Linear, VarBuilder};
use image::{imageops, GrayImage};

use super::glyph::ink_of;

/// Height, in pixels, of the crop the network reads.
pub const HEIGHT: usize = 32;
/// Pixels of width per output column (two 2×2 poolings).
pub const COLUMN_WIDTH: usize = 4;
/// Outputs per column: the digits 0–9, CTC's blank, then the word for zero.
pub const OUTPUTS: usize = 12;
/// The blank: "no new digit here".
pub const BLANK: usize = 10;
/// Zero written as a word or a stroke («NIL», «None», «—»): many forms'
/// writers write no «0». Read as a token of its own, so that neither
/// reader takes the letters for digits («NIL» cut into «1416»).
pub const ZERO_WORD: usize = 11;
/// Ink margin kept round the count inside the [`HEIGHT`]-pixel crop, so a
/// digit's top and foot are not on the edge.
const MARGIN: u32 = 3;
/// The widest crop read (a count of six digits, wide-spaced, fits).
const MAX_WIDTH: u32 = 384;
/// Share of a crop's pixels taken as paper when judging the paper's shade.
const PAPER_PERCENTILE: f32 = 0.8;
/// Contrast below which a count's crop holds no ink. Lower than a lone
/// glyph's ([`super::glyph::MIN_CONTRAST`]): the crop is cut round ink the
/// cell's reader already found there, and a ballpoint count on a bright
/// photo stands only 30–40 levels below its paper (flat paper's grain and
/// JPEG noise stay within 15).
const MIN_CONTRAST: u8 = 20;

const MAPS: [usize; 4] = [16, 32, 48, 64];
const CONTEXT: usize = 96;
const CONTEXT_KERNEL: usize = 5;

/// The trained network, as committed.
static SEQUENCE_BYTES: &[u8] = include_bytes!("../../models/sequence.safetensors");

/// The convolutional-recurrent network (the recurrence is two convolutions
/// along the line: cheaper than an LSTM on a CPU, and wide enough to see a
/// digit and its neighbours).
pub struct SequenceNet {
    convs: [Conv2d; 4],
    /// Batch normalisation after each convolution: without it the training
    /// stalls on CTC's plateau and drifts off.
    norms: [BatchNorm; 4],
    context: [AlongTheLine; 2],
    out: Linear,
}

impl SequenceNet {
    /// The network's layers, their weights from `vb`.
    pub fn new(vb: VarBuilder) -> Result<SequenceNet> {
        let same = Conv2dConfig { padding: 1, ..Default::default() };
        let mut inputs = 1;
        let mut convs = Vec::new();
        let mut norms = Vec::new();
        for (i, &maps) in MAPS.iter().enumerate() {
            convs.push(conv2d(inputs, maps, 3, same, vb.pp(format!("conv{i}")))?);
            norms.push(batch_norm(maps, BatchNormConfig::default(), vb.pp(format!("norm{i}")))?);
            inputs = maps;
        }
        // Two rows of height are left after the poolings.
        let features = MAPS[3] * (HEIGHT / 16);
        let context = [
            AlongTheLine::new(features, CONTEXT, vb.pp("context0"))?,
            AlongTheLine::new(CONTEXT, CONTEXT, vb.pp("context1"))?,
        ];
        let out = linear(CONTEXT, OUTPUTS, vb.pp("out"))?;
        let four = "four layers";
        Ok(SequenceNet {
            convs: convs.try_into().unwrap_or_else(|_| unreachable!("{four}")),
            norms: norms.try_into().unwrap_or_else(|_| unreachable!("{four}")),
            context,
            out,
        })
    }

    /// Scores per column: `(batch, 1, HEIGHT, width)` → `(batch, width / 4, OUTPUTS)`,
    /// not yet normalised; `training` normalises by the batch's own
    /// statistics (and updates the running ones), reading by the running ones.
    pub fn forward(&self, input: &Tensor, training: bool) -> Result<Tensor> {
        let mut x = input.clone();
        for (i, (conv, norm)) in self.convs.iter().zip(&self.norms).enumerate() {
            x = norm.forward_t(&conv.forward(&x)?, training)?.relu()?;
            // Halve height and width twice, then height alone.
            // Average pooling: candle's max pooling hands a tie's gradient
            // to every tied input (paper is one large tie), which measured
            // against finite differences inflates the gradient manyfold.
            x = if i < 2 { x.avg_pool2d(2)? } else { halve_height(&x)? };
        }
        let (batch, maps, rows, columns) = x.dims4()?;
        // One feature vector per column, `(batch, columns, features)`;
        // contiguous, as candle's linear layer reads a transposed view wrong
        // (measured against finite differences).
        let mut x = x.reshape((batch, maps * rows, columns))?.transpose(1, 2)?.contiguous()?;
        for layer in &self.context {
            x = layer.forward(&x)?.relu()?;
        }
        self.out.forward(&x)
    }
}

/// A convolution along the line, `(batch, columns, inputs)` →
/// `(batch, columns, outputs)`, over [`CONTEXT_KERNEL`] neighbouring
/// columns: each column's window of features times the weights. Written
/// out because candle's `conv1d` gets its weights' gradient wrong for a
/// batch of more than one (measured against finite differences); the
/// weights keep conv1d's layout, `(outputs, inputs, kernel)`.
struct AlongTheLine {
    /// `(outputs, inputs, kernel)`, as conv1d keeps them (laid out anew at
    /// each pass: a copy made once would not see the training's updates).
    weight: Tensor,
    bias: Tensor,
}

impl AlongTheLine {
    fn new(inputs: usize, outputs: usize, vb: VarBuilder) -> Result<AlongTheLine> {
        let weight =
            vb.get_with_hints((outputs, inputs, CONTEXT_KERNEL), "weight", candle_nn::init::DEFAULT_KAIMING_NORMAL)?;
        let bias = vb.get_with_hints(outputs, "bias", candle_nn::init::ZERO)?;
        Ok(AlongTheLine { weight, bias })
    }

    fn forward(&self, x: &Tensor) -> Result<Tensor> {
        let columns = x.dim(1)?;
        let half = CONTEXT_KERNEL / 2;
        let padded = x.pad_with_zeros(1, half, half)?;
        let shifted: Vec<Tensor> = (0..CONTEXT_KERNEL).map(|j| padded.narrow(1, j, columns)).collect::<Result<_>>()?;
        let windows = Tensor::cat(&shifted, 2)?;
        // Window position major, as the windows are laid side by side.
        let (outputs, inputs, kernel) = self.weight.dims3()?;
        let weight = self.weight.transpose(1, 2)?.reshape((outputs, kernel * inputs))?;
        windows.broadcast_matmul(&weight.t()?)?.broadcast_add(&self.bias)
    }
}

/// The mean of each two rows' values, `(b, c, h, w)` → `(b, c, h / 2, w)`.
fn halve_height(x: &Tensor) -> Result<Tensor> {
    let (batch, maps, rows, columns) = x.dims4()?;
    x.reshape((batch, maps, rows / 2, 2, columns))?.mean(3)
}

/// The network the scan reads with, loaded once.
fn network() -> &'static SequenceNet {
    static NETWORK: OnceLock<SequenceNet> = OnceLock::new();
    NETWORK.get_or_init(|| {
        let vb = VarBuilder::from_buffered_safetensors(SEQUENCE_BYTES.to_vec(), DType::F32, &Device::Cpu)
            .expect("models/sequence.safetensors holds tensors");
        SequenceNet::new(vb).expect("models/sequence.safetensors is a sequence network")
    })
}

/// What the sequence reader made of a count.
#[derive(Debug, Clone, PartialEq)]
pub struct SequenceRead {
    /// The digits read, left to right (empty when it saw none).
    pub digits: String,
    /// Whether it read zero written as a word or a dash.
    pub zero_word: bool,
    /// The probability of the best reading's path: the product, over the
    /// columns, of the likeliest output's probability.
    pub confidence: f32,
}

/// The network's input for a grey crop of a count (dark ink on light
/// paper): ink as 1 and paper as 0, the ink's box scaled to [`HEIGHT`]
/// pixels with a margin, its width in proportion (a multiple of
/// [`COLUMN_WIDTH`]). `None` for a crop without ink.
pub fn sequence_input(crop: &GrayImage) -> Option<(Vec<f32>, usize)> {
    let ink = ink_of(crop, PAPER_PERCENTILE, MIN_CONTRAST)?;
    let inner = HEIGHT as u32 - 2 * MARGIN;
    let scale = inner as f32 / ink.height() as f32;
    let width = ((ink.width() as f32 * scale).round() as u32).clamp(1, MAX_WIDTH - 2 * MARGIN);
    let small = imageops::resize(&ink, width, inner, imageops::FilterType::Triangle);
    let columns = (width + 2 * MARGIN).div_ceil(COLUMN_WIDTH as u32).max(2) as usize * COLUMN_WIDTH;
    let mut input = vec![0.0f32; HEIGHT * columns];
    for (x, y, p) in small.enumerate_pixels() {
        input[(y + MARGIN) as usize * columns + (x + MARGIN) as usize] = p.0[0] as f32 / 255.0;
    }
    Some((input, columns))
}

/// The best path through per-column probabilities `(columns, OUTPUTS)`:
/// each column's likeliest output, runs merged, blanks dropped.
pub fn best_path(probabilities: &[Vec<f32>]) -> SequenceRead {
    let mut digits = String::new();
    let mut zero_word = false;
    let mut confidence = 1.0f32;
    let mut previous = BLANK;
    for column in probabilities {
        let (best, p) =
            column.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)).expect("a column has outputs");
        confidence *= p;
        if best == ZERO_WORD {
            zero_word = true;
        } else if best != BLANK && best != previous {
            digits.push(char::from(b'0' + best as u8));
        }
        previous = best;
    }
    SequenceRead { digits, zero_word, confidence }
}

impl SequenceRead {
    /// The count as digits: a word for zero and nothing else is «0».
    pub fn count_digits(&self) -> &str {
        if self.written_zero() {
            "0"
        } else {
            &self.digits
        }
    }

    /// Whether it read zero written as a word or a dash, and no digit.
    pub fn written_zero(&self) -> bool {
        self.zero_word && self.digits.is_empty()
    }
}

/// Reads a count's crop with `net`; `None` when the crop holds no ink.
pub fn read_with(net: &SequenceNet, crop: &GrayImage) -> Option<SequenceRead> {
    let (input, width) = sequence_input(crop)?;
    let run = || -> Result<Vec<Vec<f32>>> {
        let x = Tensor::from_vec(input, (1, 1, HEIGHT, width), &Device::Cpu)?;
        let probabilities = candle_nn::ops::softmax(&net.forward(&x, false)?, D::Minus1)?;
        probabilities.squeeze(0)?.to_vec2::<f32>()
    };
    run().ok().map(|columns| best_path(&columns))
}

/// Reads a count's crop with the committed network.
pub fn read_sequence(crop: &GrayImage) -> Option<SequenceRead> {
    read_with(network(), crop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(best: usize, p: f32) -> Vec<f32> {
        let mut c = vec![(1.0 - p) / (OUTPUTS - 1) as f32; OUTPUTS];
        c[best] = p;
        c
    }

    #[test]
    fn best_path_merges_runs_and_drops_blanks() {
        // 1 1 _ 1 _ 0 0 → «110»: a blank between two 1s keeps both.
        let columns: Vec<Vec<f32>> = [1, 1, BLANK, 1, BLANK, 0, 0].iter().map(|&c| column(c, 0.9)).collect();
        let read = best_path(&columns);
        assert_eq!(read.digits, "110");
        assert!((read.confidence - 0.9f32.powi(7)).abs() < 1e-5);
        assert!(!read.zero_word);
    }

    #[test]
    fn a_word_for_zero_reads_as_the_count_0_and_only_alone() {
        let nil: Vec<Vec<f32>> = [BLANK, ZERO_WORD, ZERO_WORD, BLANK].iter().map(|&c| column(c, 0.9)).collect();
        let read = best_path(&nil);
        assert!(read.written_zero());
        assert_eq!((read.digits.as_str(), read.count_digits()), ("", "0"));
        let mixed: Vec<Vec<f32>> = [ZERO_WORD, BLANK, 7].iter().map(|&c| column(c, 0.9)).collect();
        let read = best_path(&mixed);
        assert!(!read.written_zero());
        assert_eq!(read.count_digits(), "7");
    }

    #[test]
    fn a_blank_crop_gives_no_input() {
        assert!(sequence_input(&GrayImage::from_pixel(40, 20, image::Luma([250]))).is_none());
    }

    #[test]
    fn the_input_is_the_network_height_and_whole_columns() {
        let mut crop = GrayImage::from_pixel(90, 40, image::Luma([250]));
        for x in 10..80 {
            for y in 10..30 {
                crop.put_pixel(x, y, image::Luma([20]));
            }
        }
        let (input, width) = sequence_input(&crop).expect("ink");
        assert_eq!(width % COLUMN_WIDTH, 0);
        assert_eq!(input.len(), HEIGHT * width);
        // 70×20 of ink scaled to 26 rows: about 91 columns wide, with margins.
        assert!((94..=100).contains(&width), "width {width}");
    }
}
