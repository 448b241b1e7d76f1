//! Stage 3, decode: bytes to pixels, upright as the phone meant them.
//!
//! The EXIF Orientation tag is honoured, and image's decoding limits refuse
//! decompression bombs (a few bytes declaring a gigapixel image) with a
//! clear sentence instead of exhausting memory.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader, Limits};

use super::file_error::FileError;

/// No phone photo is larger than this on a side (a 200-megapixel sensor is
/// about 16 000 px wide).
pub const MAX_SIDE: u32 = 20_000;
/// Memory one decode may take: a 20 000 × 20 000 grey image is 400 MB; an
/// RGB phone photo of 50 MP is 150 MB.
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// Decodes an image file's bytes and applies its EXIF orientation.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, FileError> {
    if bytes.is_empty() {
        return Err(FileError::Empty);
    }
    let mut reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| FileError::Unreadable(e.to_string()))?;
    if reader.format().is_none() {
        return Err(FileError::NotAnImage);
    }
    if reader.format() == Some(image::ImageFormat::Jpeg) && jpeg_is_truncated(bytes) {
        return Err(FileError::TruncatedJpeg);
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder()?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// A JPEG's compressed data (after its last start-of-scan marker) must be
/// followed by the end-of-image marker; decoders fill a cut-off photo with
/// grey instead of failing, which would hide a broken transfer.
fn jpeg_is_truncated(bytes: &[u8]) -> bool {
    const START_OF_SCAN: [u8; 2] = [0xFF, 0xDA];
    const END_OF_IMAGE: [u8; 2] = [0xFF, 0xD9];
    let last_scan = bytes.windows(2).rposition(|w| w == START_OF_SCAN);
    let last_end = bytes.windows(2).rposition(|w| w == END_OF_IMAGE);
    match (last_scan, last_end) {
        (Some(scan), Some(end)) => end < scan,
        (_, None) => true,
        (None, Some(_)) => false,
    }
}

/// One full decode at a time across the worker threads: a 12-megapixel
/// photo is a 36 MB RGB buffer for a moment, and two of them in flight at
/// once was the batch's memory peak; decoding is about 2 % of a photo's
/// time, so waiting for the gate costs next to nothing.
static DECODE_GATE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Decodes to grey, upright: what the pipeline reads. The colour image
/// lives only inside the gate. (Decoding a JPEG's luma plane alone would
/// save the RGB buffer, but its BT.601 grey differs from the BT.709 grey
/// the reader is tuned on, and the eval lost 0.6 points on one set.)
pub fn decode_gray(bytes: &[u8]) -> Result<GrayImage, FileError> {
    let _one_at_a_time = DECODE_GATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    decode(bytes).map(|image| image.to_luma8())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_and_truncated_files_give_sentences() {
        assert_eq!(decode(b"").unwrap_err(), FileError::Empty);
        assert_eq!(decode(b"hello, this is text").unwrap_err(), FileError::NotAnImage);
        let mut png = Vec::new();
        image::GrayImage::new(64, 64).write_to(&mut Cursor::new(&mut png), image::ImageFormat::Png).unwrap();
        let truncated = &png[..png.len() / 2];
        assert!(decode(truncated).is_err());
        assert!(decode(&png).is_ok());

        let mut jpeg = Vec::new();
        image::GrayImage::from_fn(64, 64, |x, y| image::Luma([(x * y) as u8]))
            .write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg)
            .unwrap();
        assert!(decode(&jpeg).is_ok());
        let cut = decode(&jpeg[..jpeg.len() - 40]).unwrap_err();
        assert_eq!(cut, FileError::TruncatedJpeg);
        assert!(cut.to_string().contains("truncated"), "{cut}");
    }

    #[test]
    fn decompression_bomb_is_refused() {
        // A PNG header declaring 60000 × 60000 pixels.
        let mut png = Vec::new();
        png.extend_from_slice(b"\x89PNG\r\n\x1a\n");
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(b"IHDR");
        ihdr.extend_from_slice(&60_000u32.to_be_bytes());
        ihdr.extend_from_slice(&60_000u32.to_be_bytes());
        ihdr.extend_from_slice(&[8, 0, 0, 0, 0]);
        png.extend_from_slice(&13u32.to_be_bytes());
        png.extend_from_slice(&ihdr);
        png.extend_from_slice(&crc32(&ihdr).to_be_bytes());
        let err = decode(&png).unwrap_err();
        assert!(matches!(err, FileError::TooLarge(_)), "{err}");
        assert!(err.to_string().starts_with("refused: "), "{err}");
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &b in data {
            crc ^= b as u32;
            for _ in 0..8 {
                crc = if crc & 1 != 0 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
            }
        }
        !crc
    }
}
