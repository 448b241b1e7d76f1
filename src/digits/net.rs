//! A LeNet-size convolutional network for one glyph: its weights and the
//! forward pass the scan reads with.
//!
//! Trained on candle (`net_train.rs`, in the lab); read here by a forward
//! pass of its own, as the scan classifies glyphs one at a time, hundreds a
//! page, where a framework's tensors cost more than the arithmetic. A test
//! holds this pass and candle's to the same probabilities.
//!
//! Layers: 5×5 convolution (24 maps) → ReLU → 2×2 max-pool → 5×5 convolution
//! (48 maps) → ReLU → 2×2 max-pool → 128 units → ReLU → one output per class.
//! The convolutions are matrix products (`matrixmultiply`), which made the
//! doubled width affordable: twice the maps read a glyph faster than the
//! old loops read half of them.

/// Side of the square glyph image the network reads.
pub const SIDE: usize = 28;
/// Pixels of one glyph image.
pub const INPUT: usize = SIDE * SIDE;
/// Classes: the digits 0–9, then "not one digit" (two touching digits, a
/// piece of one, a letter or a sign), so such ink is not forced into a digit.
pub const CLASSES: usize = 11;
/// The class of ink that is not one digit.
pub const NOT_A_DIGIT: usize = 10;

pub(crate) const KERNEL: usize = 5;
pub(crate) const MAPS1: usize = 24;
pub(crate) const MAPS2: usize = 48;
pub(crate) const HIDDEN: usize = 128;
const C1: usize = SIDE - KERNEL + 1; // 24
const P1: usize = C1 / 2; // 12
const C2: usize = P1 - KERNEL + 1; // 8
const P2: usize = C2 / 2; // 4
pub(crate) const FLAT: usize = MAPS2 * P2 * P2; // 768

// Offsets of each tensor in the flat parameter vector: convolution weights
// run output map, input map, row, column; layer weights output, input.
pub(crate) const W1: usize = 0;
pub(crate) const B1: usize = W1 + MAPS1 * KERNEL * KERNEL;
pub(crate) const W2: usize = B1 + MAPS1;
pub(crate) const B2: usize = W2 + MAPS2 * MAPS1 * KERNEL * KERNEL;
pub(crate) const W3: usize = B2 + MAPS2;
pub(crate) const B3: usize = W3 + HIDDEN * FLAT;
pub(crate) const W4: usize = B3 + HIDDEN;
pub(crate) const B4: usize = W4 + CLASSES * HIDDEN;
/// Number of weights and biases.
pub const PARAMETERS: usize = B4 + CLASSES;

/// Magic bytes at the start of a saved network, with the format version.
const MAGIC: &[u8; 8] = b"PODIGIT1";

/// The network's weights, flat (see the offsets above).
#[derive(Debug, Clone, PartialEq)]
pub struct Net {
    pub params: Vec<f32>,
}

impl Net {
    /// Weights drawn uniformly within ±sqrt(6 / fan-in) (He initialisation
    /// for ReLU layers), biases zero; `next` yields uniform numbers in [0, 1).
    pub fn initial(mut next: impl FnMut() -> f32) -> Net {
        let mut params = vec![0.0; PARAMETERS];
        let mut fill = |range: std::ops::Range<usize>, fan_in: usize| {
            let limit = (6.0 / fan_in as f32).sqrt();
            for p in &mut params[range] {
                *p = (next() * 2.0 - 1.0) * limit;
            }
        };
        fill(W1..B1, KERNEL * KERNEL);
        fill(W2..B2, MAPS1 * KERNEL * KERNEL);
        fill(W3..B3, FLAT);
        fill(W4..B4, HIDDEN);
        Net { params }
    }

    /// Reads a network saved by [`Net::to_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Net, String> {
        let body = bytes.strip_prefix(MAGIC.as_slice()).ok_or("not a digit network (bad magic bytes)")?;
        if body.len() != PARAMETERS * 4 {
            return Err(format!("a digit network has {} weights; this file holds {} bytes", PARAMETERS, body.len()));
        }
        let params: Vec<f32> =
            body.chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("chunks of four"))).collect();
        if params.iter().any(|p| !p.is_finite()) {
            return Err("the digit network holds a weight that is not a finite number".into());
        }
        Ok(Net { params })
    }

    /// The network as bytes: the magic, then every weight as little-endian f32.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = MAGIC.to_vec();
        for p in &self.params {
            out.extend_from_slice(&p.to_le_bytes());
        }
        out
    }

    /// The probability of each class for one glyph image (ink 1, paper 0).
    pub fn classify(&self, input: &[f32; INPUT]) -> [f32; CLASSES] {
        let p = &self.params;
        let c1 = convolve(input, 1, SIDE, &p[W1..B1], &p[B1..W2]);
        let (p1, _) = max_pool(&c1, MAPS1, C1);
        let c2 = convolve(&p1, MAPS1, P1, &p[W2..B2], &p[B2..W3]);
        let (p2, _) = max_pool(&c2, MAPS2, C2);

        let mut hidden = vec![0.0f32; HIDDEN];
        for (h, out) in hidden.iter_mut().enumerate() {
            let w = &p[W3 + h * FLAT..][..FLAT];
            *out = (p[B3 + h] + dot(w, &p2)).max(0.0);
        }
        let mut logits = [0.0f32; CLASSES];
        for (c, out) in logits.iter_mut().enumerate() {
            *out = p[B4 + c] + dot(&p[W4 + c * HIDDEN..][..HIDDEN], &hidden);
        }
        let top = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut probs = logits.map(|l| (l - top).exp());
        let total: f32 = probs.iter().sum();
        probs.iter_mut().for_each(|v| *v /= total);
        probs
    }
}

/// A valid 5×5 convolution of `maps_in` square maps of side `side_in`
/// into one map per bias, with ReLU. Weights run output map, input map,
/// row, column. Computed as one matrix product, weights (maps × taps) by
/// the input's patches (taps × positions), which a tuned product runs
/// several times faster than loops over the kernel.
fn convolve(input: &[f32], maps_in: usize, side_in: usize, weights: &[f32], biases: &[f32]) -> Vec<f32> {
    let side = side_in - KERNEL + 1;
    let positions = side * side;
    let taps = maps_in * KERNEL * KERNEL;
    let patches = patches_of(input, maps_in, side_in);
    let mut maps = vec![0.0f32; biases.len() * positions];
    for (out, &bias) in maps.chunks_exact_mut(positions).zip(biases) {
        out.fill(bias);
    }
    multiply(Matrix::rows(weights, biases.len(), taps), Matrix::rows(&patches, taps, positions), &mut maps);
    maps.iter_mut().for_each(|v| *v = v.max(0.0));
    maps
}

/// The input's 5×5 patches as a matrix: one row per tap (input map, kernel
/// row, kernel column), one column per output position.
fn patches_of(input: &[f32], maps_in: usize, side_in: usize) -> Vec<f32> {
    let side = side_in - KERNEL + 1;
    let mut patches = vec![0.0f32; maps_in * KERNEL * KERNEL * side * side];
    for (tap, row) in patches.chunks_exact_mut(side * side).enumerate() {
        for y in 0..side {
            row[y * side..][..side].copy_from_slice(&input[patch_row_start(tap, y, side_in)..][..side]);
        }
    }
    patches
}

/// Where row `y` of tap `tap`'s patch starts, in maps of side `side_in`
/// laid one after another (a tap is an input map, a kernel row and a
/// kernel column).
fn patch_row_start(tap: usize, y: usize, side_in: usize) -> usize {
    let (map, ky, kx) = (tap / (KERNEL * KERNEL), tap / KERNEL % KERNEL, tap % KERNEL);
    map * side_in * side_in + (y + ky) * side_in + kx
}

/// A row-major matrix borrowed from a slice.
#[derive(Clone, Copy)]
struct Matrix<'a> {
    data: &'a [f32],
    rows: usize,
    cols: usize,
    /// Strides of a row and a column step in `data`.
    row_stride: usize,
    col_stride: usize,
}

impl<'a> Matrix<'a> {
    fn rows(data: &'a [f32], rows: usize, cols: usize) -> Matrix<'a> {
        assert_eq!(data.len(), rows * cols, "a {rows}×{cols} matrix");
        Matrix { data, rows, cols, row_stride: cols, col_stride: 1 }
    }
}

/// `out` (row-major, a.rows × b.cols) += a · b, by `matrixmultiply`'s
/// kernels (which pick the machine's vector instructions at run time).
fn multiply(a: Matrix, b: Matrix, out: &mut [f32]) {
    assert_eq!(a.cols, b.rows, "matrices that multiply");
    assert_eq!(out.len(), a.rows * b.cols, "an output of the product's size");
    // SAFETY: each matrix's largest index, (rows − 1) · row stride +
    // (cols − 1) · col stride, lies inside its slice: `Matrix::rows`
    // checked the slice length for its layout; `out` was checked just
    // above and is borrowed mutably.
    unsafe {
        matrixmultiply::sgemm(
            a.rows,
            a.cols,
            b.cols,
            1.0,
            a.data.as_ptr(),
            a.row_stride as isize,
            a.col_stride as isize,
            b.data.as_ptr(),
            b.row_stride as isize,
            b.col_stride as isize,
            1.0,
            out.as_mut_ptr(),
            b.cols as isize,
            1,
        );
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// 2×2 max-pooling of `maps` square maps of side `side`; also returns where
/// each maximum was (the first of equals), where training's gradient goes.
pub(crate) fn max_pool(input: &[f32], maps: usize, side: usize) -> (Vec<f32>, Vec<u32>) {
    let half = side / 2;
    let mut out = vec![0.0f32; maps * half * half];
    let mut at = vec![0u32; maps * half * half];
    for m in 0..maps {
        for y in 0..half {
            for x in 0..half {
                let mut best = (f32::NEG_INFINITY, 0usize);
                for (dy, dx) in [(0, 0), (0, 1), (1, 0), (1, 1)] {
                    let i = m * side * side + (2 * y + dy) * side + 2 * x + dx;
                    if input[i] > best.0 {
                        best = (input[i], i);
                    }
                }
                let o = m * half * half + y * half + x;
                out[o] = best.0;
                at[o] = best.1 as u32;
            }
        }
    }
    (out, at)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lcg(seed: u64) -> impl FnMut() -> f32 {
        let mut s = seed;
        move || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (s >> 40) as f32 / (1u64 << 24) as f32
        }
    }

    #[test]
    fn products_of_matrices_add_to_the_output() {
        // a = [[1 2 3] [4 5 6]], b = [[1 0] [0 1] [1 1]]: a·b = [[4 5] [10 11]].
        let a = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
        let b = [1.0, 0.0, 0.0, 1.0, 1.0, 1.0];
        let mut out = [1.0; 4];
        multiply(Matrix::rows(&a, 2, 3), Matrix::rows(&b, 3, 2), &mut out);
        assert_eq!(out, [5.0, 6.0, 11.0, 12.0]);
    }

    #[test]
    fn saved_networks_read_back_and_broken_files_are_refused() {
        let net = Net::initial(lcg(1));
        assert_eq!(Net::from_bytes(&net.to_bytes()).unwrap(), net);
        assert!(Net::from_bytes(b"PODIGIT1abc").unwrap_err().contains("weights"));
        assert!(Net::from_bytes(b"something else").unwrap_err().contains("magic"));
        let probs = net.classify(&[0.5; INPUT]);
        assert!((probs.iter().sum::<f32>() - 1.0).abs() < 1e-4);
    }
}
