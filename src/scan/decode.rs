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
    let (mut image, orientation) = decode_as_stored(bytes)?;
    image.apply_orientation(orientation);
    Ok(image)
}

/// Decodes an image file's bytes as stored, with the EXIF orientation that
/// turns them upright.
fn decode_as_stored(bytes: &[u8]) -> Result<(DynamicImage, image::metadata::Orientation), FileError> {
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
    Ok((DynamicImage::from_decoder(decoder)?, orientation))
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

/// Decodes to grey, upright, red ink taken out ([`without_red_ink`]):
/// what the pipeline reads. The colour image lives only inside the gate.
/// (Decoding a JPEG's luma plane alone would save the RGB buffer, but its
/// BT.601 grey differs from the BT.709 grey the reader is tuned on, and
/// the eval lost 0.6 points on one set.)
///
/// The photo is turned upright after it is grey: a third of the bytes to
/// move.
pub fn decode_gray(bytes: &[u8]) -> Result<GrayImage, FileError> {
    let _one_at_a_time = DECODE_GATE.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
    let (image, orientation) = decode_as_stored(bytes)?;
    let mut gray = DynamicImage::ImageLuma8(without_red_ink(&image));
    drop(image);
    gray.apply_orientation(orientation);
    Ok(gray.into_luma8())
}

/// Red-ness (red above the larger of green and blue) from which a pixel
/// starts to be taken for red ink, and from which it fully is: paper lit
/// warm stays below the first (about 25 on a yellowish sheet), a stamp's
/// red or orange ink is far above the second.
const RED_INK_CHROMA: (f32, f32) = (28.0, 60.0);
/// Red channel from which a pixel starts to be taken for red ink, and from
/// which it fully is: ink on paper reflects red as paper does, where a
/// brown desk or a shadow is dark in every channel.
const RED_INK_LIGHTNESS: (f32, f32) = (140.0, 190.0);

/// The image in grey (BT.709), but red and orange ink — the commission's
/// stamp across the counts, a red printed heading — shown as light as the
/// paper under it: its red channel, which such ink hardly darkens, while
/// blue and black pens and print darken every channel. Ink of other
/// colours and a grey image are as `to_luma8` gives them.
pub fn without_red_ink(image: &DynamicImage) -> GrayImage {
    if !image.color().has_color() {
        return image.to_luma8();
    }
    let ramp = |v: f32, (from, to): (f32, f32)| ((v - from) / (to - from)).clamp(0.0, 1.0);
    // A JPEG decodes to RGB: read in place, not copied.
    let converted;
    let (rgb, mut gray) = match (image, luma_weights(image)) {
        (DynamicImage::ImageRgb8(rgb), Some(weights)) => (rgb, luma_of_rgb(rgb, &weights)),
        (DynamicImage::ImageRgb8(rgb), None) => (rgb, image.to_luma8()),
        (other, _) => {
            converted = other.to_rgb8();
            (&converted, other.to_luma8())
        }
    };
    for (g, p) in gray.pixels_mut().zip(rgb.pixels()) {
        // Nearly every pixel is paper, print or pen, below either ramp's
        // start: told in whole numbers first.
        let [r8, g8, b8] = p.0;
        if f32::from(r8) <= RED_INK_LIGHTNESS.0 || f32::from(r8.saturating_sub(g8.max(b8))) <= RED_INK_CHROMA.0 {
            continue;
        }
        let [r, gr, b] = p.0.map(f32::from);
        let red_ink = ramp(r - gr.max(b), RED_INK_CHROMA) * ramp(r, RED_INK_LIGHTNESS);
        if red_ink > 0.0 {
            let luma = g.0[0] as f32;
            g.0[0] = (luma + (r - luma) * red_ink).round() as u8;
        }
    }
    gray
}

/// Each channel's level times its luma weight, as `image` computes them
/// (`level / 255 × weight` in single precision), for every level.
struct LumaWeights([[f32; 256]; 3]);

/// The luma weights of an sRGB image (what decoders give a photo), exactly
/// as `image` derives them: the grey of a pure red, green and blue pixel in
/// floating point. `None` for other colour spaces, where `image` may take
/// another path.
fn luma_weights(image: &DynamicImage) -> Option<LumaWeights> {
    if image.color_space() != image::metadata::Cicp::SRGB {
        return None;
    }
    let primaries = DynamicImage::ImageRgb32F(image::Rgb32FImage::from_fn(3, 1, |x, _| {
        image::Rgb(std::array::from_fn(|c| if c == x as usize { 1.0 } else { 0.0 }))
    }));
    let weights = primaries.to_luma32f();
    let per_level = |channel: u32| {
        let weight = weights.get_pixel(channel, 0).0[0];
        std::array::from_fn(|level| level as f32 * (1.0 / 255.0) * weight)
    };
    Some(LumaWeights([per_level(0), per_level(1), per_level(2)]))
}

/// `rgb` in grey, pixel for pixel as `image`'s `to_luma8` makes it (the
/// weighted levels added in its order, rounded half up), from three
/// look-ups a pixel: `image`'s conversion goes through four float buffers
/// and the C library's `round`, a thirtieth of a scan's time.
fn luma_of_rgb(rgb: &image::RgbImage, weights: &LumaWeights) -> GrayImage {
    let [red, green, blue] = &weights.0;
    let levels = rgb
        .as_raw()
        .chunks_exact(3)
        .map(|p| {
            let luma = red[p[0] as usize] + green[p[1] as usize] + blue[p[2] as usize];
            super::resize::round_level((luma * 255.0).clamp(0.0, 255.0))
        })
        .collect();
    GrayImage::from_raw(rgb.width(), rgb.height(), levels).expect("one level per pixel")
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
    fn red_ink_is_shown_as_paper_and_other_ink_as_it_is() {
        let paper = [244u8, 238, 222];
        let colours = [paper, [220, 90, 60], [235, 150, 110], [30, 40, 150], [25, 25, 30], [150, 104, 78]];
        let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(6, 1, |x, _| image::Rgb(colours[x as usize])));
        let gray = without_red_ink(&image);
        let plain = image.to_luma8();
        let at = |i: u32| gray.get_pixel(i, 0).0[0];
        assert_eq!(at(0), plain.get_pixel(0, 0).0[0], "warm paper as it is");
        assert!(at(1) >= 215 && at(2) >= 230, "a red and an orange stamp as light as paper: {} {}", at(1), at(2));
        assert!(plain.get_pixel(1, 0).0[0] < 130, "in plain grey the red stamp is ink");
        for i in 3..5 {
            assert_eq!(at(i), plain.get_pixel(i, 0).0[0], "blue pen and black print as they are");
        }
        assert!(at(5).abs_diff(plain.get_pixel(5, 0).0[0]) <= 5, "a brown desk about as it is: {}", at(5));
        let grey_photo = DynamicImage::ImageLuma8(plain.clone());
        assert_eq!(without_red_ink(&grey_photo), plain);
    }

    #[test]
    fn grey_is_images_own_pixel_for_pixel() {
        let photo = image::RgbImage::from_fn(257, 255, |x, y| {
            image::Rgb([(x % 256) as u8, (y * 7 + x / 3) as u8, ((x * y) % 253) as u8 ^ (y as u8)])
        });
        let mut image = DynamicImage::ImageRgb8(photo.clone());
        let weights = luma_weights(&image).expect("sRGB has weights");
        let ours = luma_of_rgb(&photo, &weights);
        let differing = ours.as_raw().iter().zip(image.to_luma8().as_raw()).filter(|(a, b)| a != b).count();
        assert_eq!(differing, 0, "pixels unlike image's grey");
        // Another colour space is left to `image`.
        image.set_rgb_primaries(image::metadata::CicpColorPrimaries::Rgb2020);
        assert!(luma_weights(&image).is_none());
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
