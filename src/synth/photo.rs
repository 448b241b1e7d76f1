//! Photographing a printed page the way an observer's phone does.
//!
//! The clean page is placed on a desk at an angle (rotation and keystone
//! perspective), lit unevenly with a shadow, blurred, given sensor noise and
//! saved as a JPEG of middling quality at a phone's resolution. Some photos
//! are stored sideways with an EXIF Orientation tag, as phones held in
//! landscape do; some are simply rotated, with nothing to say so.

use image::{GrayImage, ImageEncoder, RgbImage};
use imageproc::geometric_transformations::Projection;
use rand::Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

/// Phone photos in the field: the long side of the stored image.
pub const LONG_SIDE_RANGE: (u32, u32) = (1600, 4000);
/// Rotation of the page in the frame, degrees either way.
pub const MAX_ROTATION_DEG: f32 = 10.0;
/// Keystone: how far a corner moves, as a share of the page side.
pub const MAX_KEYSTONE: f32 = 0.08;
/// JPEG quality range of messenger-forwarded phone photos.
pub const JPEG_QUALITY_RANGE: (u8, u8) = (45, 90);
/// A photo as a messenger delivers it: shrunk to this long side, and
/// encoded again at this JPEG quality.
pub const MESSENGER_LONG_SIDE_RANGE: (u32, u32) = (1280, 1600);
pub const MESSENGER_JPEG_QUALITY_RANGE: (u8, u8) = (70, 85);

/// How the stored pixels are turned relative to the upright page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Storage {
    /// Stored upright, no tag.
    Upright,
    /// Stored turned, with the EXIF Orientation value that undoes it.
    ExifTagged(u16),
    /// Stored turned clockwise by this many degrees, with no tag.
    Turned(u16),
}

/// Everything random about one photo, drawn once so it can be recorded.
#[derive(Debug, Clone)]
pub struct Shot {
    pub long_side: u32,
    pub rotation_deg: f32,
    pub keystone: [(f32, f32); 4],
    pub page_fill: f32,
    pub centre_jitter: (f32, f32),
    pub desk: [f32; 3],
    pub paper: [f32; 3],
    pub light_direction: f32,
    pub light_falloff: f32,
    pub shadow: Option<(f32, f32, f32)>,
    pub blur_sigma: f32,
    pub noise_sigma: f32,
    pub jpeg_quality: u8,
    pub storage: Storage,
    /// The long side a messenger shrank the phone's photo to (then encoded
    /// again at `jpeg_quality`); `None` for the phone's own file.
    pub delivered_long_side: Option<u32>,
}

impl Shot {
    pub fn random<R: Rng>(rng: &mut R) -> Shot {
        let mut corner =
            || (rng.gen_range(-MAX_KEYSTONE..=MAX_KEYSTONE) * 0.5, rng.gen_range(-MAX_KEYSTONE..=MAX_KEYSTONE) * 0.5);
        let keystone = [corner(), corner(), corner(), corner()];
        let storage = match rng.gen_range(0..100) {
            0..=9 => Storage::ExifTagged(if rng.gen_bool(0.5) { 6 } else { 8 }),
            10..=14 => Storage::Turned(if rng.gen_bool(0.5) { 90 } else { 270 }),
            15..=19 => Storage::Turned(180),
            _ => Storage::Upright,
        };
        let grey = rng.gen_range(60.0..130.0);
        Shot {
            long_side: rng.gen_range(LONG_SIDE_RANGE.0..=LONG_SIDE_RANGE.1),
            rotation_deg: rng.gen_range(-MAX_ROTATION_DEG..=MAX_ROTATION_DEG),
            keystone,
            page_fill: rng.gen_range(0.72..0.9),
            centre_jitter: (rng.gen_range(-0.04..0.04), rng.gen_range(-0.03..0.03)),
            desk: [grey * rng.gen_range(0.9..1.2), grey * rng.gen_range(0.8..1.0), grey * rng.gen_range(0.6..0.9)],
            paper: [rng.gen_range(238.0..252.0), rng.gen_range(236.0..250.0), rng.gen_range(225.0..245.0)],
            light_direction: rng.gen_range(0.0..std::f32::consts::TAU),
            light_falloff: rng.gen_range(0.0..0.35),
            shadow: rng.gen_bool(0.5).then(|| {
                (rng.gen_range(0.0..std::f32::consts::TAU), rng.gen_range(-0.3..0.5), rng.gen_range(0.55..0.85))
            }),
            blur_sigma: rng.gen_range(0.4..1.3),
            noise_sigma: rng.gen_range(2.0..9.0),
            jpeg_quality: rng.gen_range(JPEG_QUALITY_RANGE.0..=JPEG_QUALITY_RANGE.1),
            storage,
            delivered_long_side: None,
        }
    }
}

impl Shot {
    /// The same shot as a messenger delivers it: the phone's photo shrunk
    /// and encoded again.
    pub fn through_messenger<R: Rng>(&mut self, rng: &mut R) {
        self.delivered_long_side =
            Some(rng.gen_range(MESSENGER_LONG_SIDE_RANGE.0..=MESSENGER_LONG_SIDE_RANGE.1).min(self.long_side));
        self.jpeg_quality = rng.gen_range(MESSENGER_JPEG_QUALITY_RANGE.0..=MESSENGER_JPEG_QUALITY_RANGE.1);
    }

    /// The long side of the stored file.
    pub fn stored_long_side(&self) -> u32 {
        self.delivered_long_side.unwrap_or(self.long_side)
    }
}

/// Bilinear sample of a grey page at a real-valued position.
fn sample(page: &GrayImage, u: f32, v: f32) -> f32 {
    let (w, h) = page.dimensions();
    let x0 = u.floor().clamp(0.0, (w - 1) as f32) as u32;
    let y0 = v.floor().clamp(0.0, (h - 1) as f32) as u32;
    let x1 = (x0 + 1).min(w - 1);
    let y1 = (y0 + 1).min(h - 1);
    let fx = (u - x0 as f32).clamp(0.0, 1.0);
    let fy = (v - y0 as f32).clamp(0.0, 1.0);
    let p = |x, y| page.get_pixel(x, y).0[0] as f32;
    let top = p(x0, y0) * (1.0 - fx) + p(x1, y0) * fx;
    let bottom = p(x0, y1) * (1.0 - fx) + p(x1, y1) * fx;
    top * (1.0 - fy) + bottom * fy
}

/// Where the page's corners land in the (upright) photo: TL, TR, BR, BL.
pub fn page_corners(shot: &Shot, page_w: u32, page_h: u32, out_w: u32, out_h: u32) -> [(f32, f32); 4] {
    let scale = shot.page_fill * out_h as f32 / page_h as f32;
    let (hw, hh) = (page_w as f32 * scale / 2.0, page_h as f32 * scale / 2.0);
    let centre = (out_w as f32 * (0.5 + shot.centre_jitter.0), out_h as f32 * (0.5 + shot.centre_jitter.1));
    let (sin, cos) = shot.rotation_deg.to_radians().sin_cos();
    let base = [(-hw, -hh), (hw, -hh), (hw, hh), (-hw, hh)];
    let mut corners = [(0.0, 0.0); 4];
    for (i, (x, y)) in base.iter().enumerate() {
        let (kx, ky) = shot.keystone[i];
        let (x, y) = (x + kx * 2.0 * hw, y + ky * 2.0 * hh);
        corners[i] = (centre.0 + x * cos - y * sin, centre.1 + x * sin + y * cos);
    }
    corners
}

/// What a pen wrote on the page: ink coverage per page pixel (0 none, 255
/// full) and the ink's colour.
pub struct PenLayer<'a> {
    pub coverage: &'a GrayImage,
    pub ink: [f32; 3],
}

/// Takes the photo: the upright RGB image before storage rotation.
pub fn photograph<R: Rng>(rng: &mut R, page: &GrayImage, pen: Option<&PenLayer>, shot: &Shot) -> RgbImage {
    let out_h = shot.long_side;
    let out_w = shot.long_side * 3 / 4;
    let (page_w, page_h) = page.dimensions();
    let mut corners = page_corners(shot, page_w, page_h, out_w, out_h);
    // Keep the whole page in the frame, as an observer photographing a protocol does.
    let mut shrink = shot.clone();
    while corners.iter().any(|&(x, y)| x < 4.0 || y < 4.0 || x > out_w as f32 - 4.0 || y > out_h as f32 - 4.0) {
        shrink.page_fill *= 0.95;
        corners = page_corners(&shrink, page_w, page_h, out_w, out_h);
    }
    let source = [(0.0, 0.0), (page_w as f32, 0.0), (page_w as f32, page_h as f32), (0.0, page_h as f32)];
    let to_page = Projection::from_control_points(corners, source).expect("a page quad is never degenerate");

    let (ldx, ldy) = (shot.light_direction.cos(), shot.light_direction.sin());
    let diag = ((out_w * out_w + out_h * out_h) as f32).sqrt();
    let shadow = shot.shadow.map(|(angle, offset, depth)| (angle.cos(), angle.sin(), offset * diag * 0.5, depth));
    let softness = diag * 0.04;
    let seed: u64 = rng.gen();
    let noise = Normal::new(0.0f32, shot.noise_sigma).expect("positive sigma");
    let mut photo = RgbImage::new(out_w, out_h);
    photo.par_chunks_mut(out_w as usize * 3).enumerate().for_each(|(y, row)| {
        use rand::SeedableRng;
        let mut row_rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed ^ (y as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15));
        for x in 0..out_w as usize {
            let (fx, fy) = (x as f32, y as f32);
            let (u, v) = to_page * (fx, fy);
            let on_page = u >= 0.0 && v >= 0.0 && u < page_w as f32 && v < page_h as f32;
            let mut rgb = if on_page {
                let g = sample(page, u, v) / 255.0;
                // Ink is a dark, slightly blue-black; paper has the shot's tint.
                let ink = [28.0, 30.0, 45.0];
                let printed = [0, 1, 2].map(|c| ink[c] + (shot.paper[c] - ink[c]) * g);
                match pen {
                    Some(pen) => {
                        let a = sample(pen.coverage, u, v) / 255.0;
                        [0, 1, 2].map(|c| printed[c] * (1.0 - a) + pen.ink[c] * a)
                    }
                    None => printed,
                }
            } else {
                // The desk: a wood-like grain across the frame.
                let grain = 1.0 + 0.08 * ((fy * 0.02 + (fx * 0.003).sin() * 6.0).sin());
                shot.desk.map(|c| c * grain)
            };
            // Light falls off across the frame, and a shadow may cross it.
            let t = ((fx - out_w as f32 / 2.0) * ldx + (fy - out_h as f32 / 2.0) * ldy) / diag;
            let mut light = 1.0 - shot.light_falloff * (t + 0.5).clamp(0.0, 1.0);
            if let Some((sx, sy, offset, depth)) = shadow {
                let d = (fx - out_w as f32 / 2.0) * sx + (fy - out_h as f32 / 2.0) * sy - offset;
                let s = (d / softness).clamp(-1.0, 1.0) * 0.5 + 0.5;
                light *= 1.0 - (1.0 - depth) * s;
            }
            for c in &mut rgb {
                *c = *c * light + noise.sample(&mut row_rng);
            }
            for c in 0..3 {
                row[x * 3 + c] = rgb[c].round().clamp(0.0, 255.0) as u8;
            }
        }
    });
    // Optics: a little defocus, more on larger sensors' images.
    let sigma = shot.blur_sigma * (shot.long_side as f32 / 2500.0).max(0.6);
    imageproc::filter::gaussian_blur_f32(&photo, sigma)
}

/// `photo` as delivered: shrunk by the messenger when it came through one.
pub fn deliver(photo: RgbImage, shot: &Shot) -> RgbImage {
    let Some(long) = shot.delivered_long_side else { return photo };
    let (w, h) = photo.dimensions();
    let scale = long as f32 / w.max(h) as f32;
    let size = |side: u32| ((side as f32 * scale).round() as u32).max(1);
    image::imageops::resize(&photo, size(w), size(h), image::imageops::FilterType::Triangle)
}

/// Turns the upright photo as it is stored.
pub fn store(photo: RgbImage, storage: Storage) -> RgbImage {
    use image::imageops::{rotate180, rotate270, rotate90};
    match storage {
        Storage::Upright => photo,
        // Orientation 6 means "turn 90° clockwise to display": the pixels are
        // the upright image turned 90° counter-clockwise.
        Storage::ExifTagged(6) => rotate270(&photo),
        Storage::ExifTagged(_) => rotate90(&photo),
        Storage::Turned(90) => rotate90(&photo),
        Storage::Turned(180) => rotate180(&photo),
        Storage::Turned(_) => rotate270(&photo),
    }
}

/// A minimal EXIF APP1 segment holding only the Orientation tag.
fn exif_orientation_segment(orientation: u16) -> Vec<u8> {
    let mut tiff = Vec::new();
    tiff.extend_from_slice(b"MM\0\x2A");
    tiff.extend_from_slice(&8u32.to_be_bytes()); // first IFD right after the header
    tiff.extend_from_slice(&1u16.to_be_bytes()); // one entry
    tiff.extend_from_slice(&0x0112u16.to_be_bytes()); // Orientation
    tiff.extend_from_slice(&3u16.to_be_bytes()); // SHORT
    tiff.extend_from_slice(&1u32.to_be_bytes()); // one value
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0]);
    tiff.extend_from_slice(&0u32.to_be_bytes()); // no next IFD
    let mut segment = vec![0xFF, 0xE1];
    let length = (2 + 6 + tiff.len()) as u16;
    segment.extend_from_slice(&length.to_be_bytes());
    segment.extend_from_slice(b"Exif\0\0");
    segment.extend_from_slice(&tiff);
    segment
}

/// Encodes the stored photo as a JPEG, with the EXIF tag when there is one.
pub fn encode_jpeg(photo: &RgbImage, quality: u8, storage: Storage) -> Vec<u8> {
    let mut bytes = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, quality)
        .write_image(photo.as_raw(), photo.width(), photo.height(), image::ExtendedColorType::Rgb8)
        .expect("encoding to memory cannot fail");
    if let Storage::ExifTagged(orientation) = storage {
        // Right after the SOI marker.
        let segment = exif_orientation_segment(orientation);
        bytes.splice(2..2, segment);
    }
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageDecoder;

    #[test]
    fn exif_tag_is_read_back_by_the_decoder() {
        let photo = RgbImage::from_pixel(40, 30, image::Rgb([200, 200, 200]));
        let stored = store(photo, Storage::ExifTagged(6));
        let bytes = encode_jpeg(&stored, 80, Storage::ExifTagged(6));
        let mut decoder = image::codecs::jpeg::JpegDecoder::new(std::io::Cursor::new(&bytes)).unwrap();
        assert_eq!(decoder.orientation().unwrap(), image::metadata::Orientation::Rotate90);
        let mut img = image::DynamicImage::from_decoder(decoder).unwrap();
        assert_eq!(img.width(), 30);
        img.apply_orientation(image::metadata::Orientation::Rotate90);
        assert_eq!((img.width(), img.height()), (40, 30));
    }
}
