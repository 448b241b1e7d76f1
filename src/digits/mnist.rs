//! The MNIST handwritten digits (IDX files, gzipped), as `../shared/data`
//! ships them.
//!
//! The set is split for good: digits [`TRAIN`] may be trained on (and drawn
//! into synthetic protocols); digits [`HELD_OUT`] only ever measure.

use std::io::Read;
use std::ops::Range;
use std::path::Path;

use flate2::read::GzDecoder;
use image::{GrayImage, Luma};

/// The digits that may be trained on.
pub const TRAIN: Range<usize> = 0..5000;
/// The digits kept for measuring, never trained on.
pub const HELD_OUT: Range<usize> = 5000..10000;
/// Where the data is, from the project's root.
pub const DEFAULT_DIR: &str = "../shared/data/mnist-t10k";

const IMAGES_FILE: &str = "t10k-images-idx3-ubyte.gz";
const LABELS_FILE: &str = "t10k-labels-idx1-ubyte.gz";
const IMAGES_MAGIC: u32 = 2051;
const LABELS_MAGIC: u32 = 2049;

/// The digits, in file order.
pub struct Mnist {
    pub side: u32,
    pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Mnist {
    /// Reads both files of the set from `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Mnist> {
        let read = |name: &str| -> anyhow::Result<Vec<u8>> {
            let path = dir.join(name);
            let file = std::fs::File::open(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let mut bytes = Vec::new();
            GzDecoder::new(file).read_to_end(&mut bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Ok(bytes)
        };
        let be = |b: &[u8], at: usize| -> anyhow::Result<u32> {
            let word = b.get(at..at + 4).ok_or_else(|| anyhow::anyhow!("IDX header cut short"))?;
            Ok(u32::from_be_bytes(word.try_into().expect("four bytes")))
        };
        let images = read(IMAGES_FILE)?;
        let labels = read(LABELS_FILE)?;
        anyhow::ensure!(be(&images, 0)? == IMAGES_MAGIC, "{IMAGES_FILE}: not an IDX image file");
        anyhow::ensure!(be(&labels, 0)? == LABELS_MAGIC, "{LABELS_FILE}: not an IDX label file");
        let count = be(&images, 4)? as usize;
        let (rows, cols) = (be(&images, 8)?, be(&images, 12)?);
        anyhow::ensure!(rows == cols, "{IMAGES_FILE}: digits are not square");
        anyhow::ensure!(be(&labels, 4)? as usize == count, "the image and label files hold different counts");
        let pixels = images[16..].to_vec();
        let labels = labels[8..].to_vec();
        anyhow::ensure!(pixels.len() == count * (rows * cols) as usize && labels.len() == count, "IDX files cut short");
        anyhow::ensure!(labels.iter().all(|&l| l < 10), "{LABELS_FILE}: a label above 9");
        Ok(Mnist { side: rows, pixels, labels })
    }

    pub fn len(&self) -> usize {
        self.labels.len()
    }

    pub fn is_empty(&self) -> bool {
        self.labels.is_empty()
    }

    /// Digit `i` as dark ink on white paper, the way a cell shows it.
    pub fn as_print(&self, i: usize) -> GrayImage {
        let n = (self.side * self.side) as usize;
        let ink = &self.pixels[i * n..][..n];
        GrayImage::from_fn(self.side, self.side, |x, y| Luma([255 - ink[(y * self.side + x) as usize]]))
    }
}
