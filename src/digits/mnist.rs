//! The MNIST handwritten digits (IDX files, gzipped): the test set, 10 000
//! digits written by real people, as `assets/mnist/` keeps a copy of it
//! (CC BY-SA 3.0, see its README), and the 60 000-digit training set, read
//! from a folder given to `train-digits` (other writers than the test
//! set's).
//!
//! The test set is split for good: digits [`TRAIN`] may be trained on (and
//! drawn into synthetic protocols); digits [`HELD_OUT`] only ever measure.
//! The copy is compiled into the binary, so `synth --handwritten` and
//! `eval-digits` work from any folder.

use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::OnceLock;

use flate2::read::GzDecoder;
use image::{GrayImage, Luma};

/// The digits that may be trained on.
pub const TRAIN: Range<usize> = 0..5000;
/// The digits kept for measuring, never trained on.
pub const HELD_OUT: Range<usize> = 5000..10000;
/// The bundled copy's files, compiled in.
static BUNDLED_IMAGES: &[u8] = include_bytes!("../../assets/mnist/t10k-images-idx3-ubyte.gz");
static BUNDLED_LABELS: &[u8] = include_bytes!("../../assets/mnist/t10k-labels-idx1-ubyte.gz");

const IMAGES_FILE: &str = "t10k-images-idx3-ubyte.gz";
const LABELS_FILE: &str = "t10k-labels-idx1-ubyte.gz";
/// The files of MNIST's training set: 60 000 digits by about 250 writers,
/// none of whom wrote the test set (so training on all of it leaves the
/// held-out digits unseen).
const TRAINING_IMAGES_FILE: &str = "train-images-idx3-ubyte.gz";
const TRAINING_LABELS_FILE: &str = "train-labels-idx1-ubyte.gz";
const IMAGES_MAGIC: u32 = 2051;
const LABELS_MAGIC: u32 = 2049;

/// The digits, in file order.
#[derive(Clone)]
pub struct Mnist {
    pub side: u32,
    pixels: Vec<u8>,
    pub labels: Vec<u8>,
}

impl Mnist {
    /// The bundled copy (`assets/mnist/`), parsed once.
    pub fn bundled() -> &'static Mnist {
        static BUNDLED: OnceLock<Mnist> = OnceLock::new();
        BUNDLED.get_or_init(|| {
            let gunzip = |bytes: &[u8]| {
                let mut out = Vec::new();
                GzDecoder::new(bytes).read_to_end(&mut out).map(|_| out)
            };
            let images = gunzip(BUNDLED_IMAGES).expect("assets/mnist images are gzip");
            let labels = gunzip(BUNDLED_LABELS).expect("assets/mnist labels are gzip");
            Mnist::parse(images, labels).expect("assets/mnist is the MNIST test set")
        })
    }

    /// The test set from `dir`, or the bundled copy without one; checked to
    /// hold the held-out digits.
    pub fn test_set(dir: Option<&Path>) -> anyhow::Result<std::borrow::Cow<'static, Mnist>> {
        let set = match dir {
            Some(dir) => std::borrow::Cow::Owned(Mnist::load(dir)?),
            None => std::borrow::Cow::Borrowed(Mnist::bundled()),
        };
        anyhow::ensure!(set.len() >= HELD_OUT.end, "the MNIST set holds {} digits, not 10000", set.len());
        Ok(set)
    }

    /// Reads both files of the test set (`t10k-…`) from `dir`.
    pub fn load(dir: &Path) -> anyhow::Result<Mnist> {
        Mnist::load_files(dir, IMAGES_FILE, LABELS_FILE)
    }

    /// Reads both files of the training set (`train-…`) from `dir`.
    pub fn load_training(dir: &Path) -> anyhow::Result<Mnist> {
        Mnist::load_files(dir, TRAINING_IMAGES_FILE, TRAINING_LABELS_FILE)
    }

    fn load_files(dir: &Path, images_file: &str, labels_file: &str) -> anyhow::Result<Mnist> {
        let read = |name: &str| -> anyhow::Result<Vec<u8>> {
            let path = dir.join(name);
            let file = std::fs::File::open(&path).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            let mut bytes = Vec::new();
            GzDecoder::new(file).read_to_end(&mut bytes).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            Ok(bytes)
        };
        Mnist::parse(read(images_file)?, read(labels_file)?)
    }

    /// The set from the two files' unzipped bytes.
    fn parse(images: Vec<u8>, labels: Vec<u8>) -> anyhow::Result<Mnist> {
        let be = |b: &[u8], at: usize| -> anyhow::Result<u32> {
            let word = b.get(at..at + 4).ok_or_else(|| anyhow::anyhow!("IDX header cut short"))?;
            Ok(u32::from_be_bytes(word.try_into().expect("four bytes")))
        };
        anyhow::ensure!(be(&images, 0)? == IMAGES_MAGIC, "the image file is not an IDX image file");
        anyhow::ensure!(be(&labels, 0)? == LABELS_MAGIC, "the label file is not an IDX label file");
        let count = be(&images, 4)? as usize;
        let (rows, cols) = (be(&images, 8)?, be(&images, 12)?);
        anyhow::ensure!(rows == cols, "the image file's digits are not square");
        anyhow::ensure!(be(&labels, 4)? as usize == count, "the image and label files hold different counts");
        let pixels = images[16..].to_vec();
        let labels = labels[8..].to_vec();
        anyhow::ensure!(pixels.len() == count * (rows * cols) as usize && labels.len() == count, "IDX files cut short");
        anyhow::ensure!(labels.iter().all(|&l| l < 10), "the label file holds a label above 9");
        Ok(Mnist { side: rows, pixels, labels })
    }

    /// The indices of digit `label` within `range`, in file order.
    pub fn indices_of(&self, label: u8, range: Range<usize>) -> Vec<usize> {
        range.filter(|&i| self.labels[i] == label).collect()
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
