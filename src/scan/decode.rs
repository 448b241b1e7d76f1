//! Stage 3, decode: bytes to pixels, upright as the phone meant them.
//!
//! The EXIF Orientation tag is honoured, and image's decoding limits refuse
//! decompression bombs (a few bytes declaring a gigapixel image) with a
//! clear sentence instead of exhausting memory.

use std::io::Cursor;

use image::{DynamicImage, GrayImage, ImageDecoder, ImageReader, Limits};
use zune_jpeg::zune_core::bytestream::ZCursor;
use zune_jpeg::zune_core::colorspace::ColorSpace;
use zune_jpeg::zune_core::options::DecoderOptions;
use zune_jpeg::JpegDecoder;

/// No phone photo is larger than this on a side (a 200-megapixel sensor is
/// about 16 000 px wide).
pub const MAX_SIDE: u32 = 20_000;
/// Memory one decode may take: a 20 000 × 20 000 grey image is 400 MB; an
/// RGB phone photo of 50 MP is 150 MB.
pub const MAX_DECODE_BYTES: u64 = 512 * 1024 * 1024;

/// Decodes an image file's bytes and applies its EXIF orientation.
/// Errors are sentences for a person.
pub fn decode(bytes: &[u8]) -> Result<DynamicImage, String> {
    if bytes.is_empty() {
        return Err("the file is empty (0 bytes)".into());
    }
    let mut reader =
        ImageReader::new(Cursor::new(bytes)).with_guessed_format().map_err(|e| format!("cannot read the file: {e}"))?;
    if reader.format().is_none() {
        return Err("not an image: the contents are not in any known image format".into());
    }
    if reader.format() == Some(image::ImageFormat::Jpeg) && jpeg_is_truncated(bytes) {
        return Err(
            "the JPEG is truncated (it ends before its end-of-image marker): part of the photo is missing".into()
        );
    }
    let mut limits = Limits::default();
    limits.max_image_width = Some(MAX_SIDE);
    limits.max_image_height = Some(MAX_SIDE);
    limits.max_alloc = Some(MAX_DECODE_BYTES);
    reader.limits(limits);
    let mut decoder = reader.into_decoder().map_err(describe)?;
    let orientation = decoder.orientation().unwrap_or(image::metadata::Orientation::NoTransforms);
    let mut image = DynamicImage::from_decoder(decoder).map_err(describe)?;
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

/// Decodes straight to grey, upright: what the pipeline reads. A JPEG is
/// decoded to its luma plane alone, never to RGB first — a third of the
/// memory and time for a 12-megapixel photo; anything else, and any JPEG
/// the fast path cannot take (CMYK, say), goes through [`decode`].
pub fn decode_gray(bytes: &[u8]) -> Result<GrayImage, String> {
    let orientation = match ImageReader::new(Cursor::new(bytes)).with_guessed_format() {
        Ok(reader) if reader.format() == Some(image::ImageFormat::Jpeg) && !jpeg_is_truncated(bytes) => {
            reader.into_decoder().ok().and_then(|mut d| d.orientation().ok())
        }
        _ => None,
    };
    let Some(orientation) = orientation else {
        return decode(bytes).map(|image| image.to_luma8());
    };
    let options = DecoderOptions::default()
        .set_max_width(MAX_SIDE as usize)
        .set_max_height(MAX_SIDE as usize)
        .jpeg_set_out_colorspace(ColorSpace::Luma);
    let mut decoder = JpegDecoder::new_with_options(ZCursor::new(bytes), options);
    let luma = decoder.decode_headers().ok().and_then(|()| {
        let (width, height) = decoder.dimensions()?;
        if (width as u64) * (height as u64) > MAX_DECODE_BYTES {
            return None;
        }
        let pixels = decoder.decode().ok()?;
        GrayImage::from_raw(width as u32, height as u32, pixels)
    });
    match luma {
        Some(gray) => {
            let mut image = DynamicImage::ImageLuma8(gray);
            image.apply_orientation(orientation);
            Ok(image.into_luma8())
        }
        // Limits, damage, an unusual colour model: the full decoder says why.
        None => decode(bytes).map(|image| image.to_luma8()),
    }
}

fn describe(e: image::ImageError) -> String {
    match e {
        image::ImageError::Limits(l) => format!(
            "refused: the image declares more pixels than any photo ({l}); a decompression bomb or a corrupt header"
        ),
        image::ImageError::Decoding(d) => format!("the image is damaged or truncated: {d}"),
        image::ImageError::Unsupported(u) => format!("unsupported image: {u}"),
        other => format!("cannot decode the image: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_text_and_truncated_files_give_sentences() {
        assert!(decode(b"").unwrap_err().contains("empty"));
        assert!(decode(b"hello, this is text").unwrap_err().contains("not an image"));
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
        assert!(cut.contains("truncated"), "{cut}");
    }

    #[test]
    fn grey_decoding_matches_the_full_decoder_and_keeps_the_orientation() {
        let colour = image::RgbImage::from_fn(90, 60, |x, y| image::Rgb([(x * 2) as u8, (y * 3) as u8, 128]));
        let mut jpeg = Vec::new();
        colour.write_to(&mut Cursor::new(&mut jpeg), image::ImageFormat::Jpeg).unwrap();
        let fast = decode_gray(&jpeg).unwrap();
        // A JPEG stores luma as BT.601 Y: the same grey, computed from the colours.
        let full = decode(&jpeg).unwrap().to_rgb8();
        assert_eq!(fast.dimensions(), full.dimensions());
        let bt601 =
            |p: &image::Rgb<u8>| (0.299 * p.0[0] as f32 + 0.587 * p.0[1] as f32 + 0.114 * p.0[2] as f32).round() as u8;
        let worst = fast.pixels().zip(full.pixels()).map(|(a, b)| a.0[0].abs_diff(bt601(b))).max().unwrap();
        assert!(worst <= 3, "the luma plane and the colours' grey differ by {worst}");
        // The sample's EXIF-tagged photos come out upright either way.
        let sample = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample");
        for entry in walkdir::WalkDir::new(sample)
            .into_iter()
            .flatten()
            .filter(|e| e.path().extension().is_some_and(|x| x == "jpg"))
        {
            let bytes = std::fs::read(entry.path()).unwrap();
            assert_eq!(
                decode_gray(&bytes).unwrap().dimensions(),
                decode(&bytes).unwrap().to_luma8().dimensions(),
                "{}",
                entry.path().display()
            );
        }
        assert!(decode_gray(b"").unwrap_err().contains("empty"));
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
        assert!(err.contains("refused"), "{err}");
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
