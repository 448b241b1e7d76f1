//! The page stages on photos made here with known geometry: skew measured
//! within half a degree, the page's orientation found from its content for
//! every quarter turn, and a protocol laid out by hand — another font, the
//! header in another order, labels Russian first, counts on underlines
//! instead of boxes — read by its labels all the same. Real Tesseract.

use ab_glyph::PxScale;
use image::{GrayImage, Luma};
use imageproc::drawing::{draw_filled_rect_mut, draw_text_mut, text_size};
use imageproc::rect::Rect;
use rand::SeedableRng;

use protocol_ocr::fonts;
use protocol_ocr::model::FormModel;
use protocol_ocr::rules::Values;
use protocol_ocr::scan::ocr::Engines;
use protocol_ocr::scan::read::Targets;
use protocol_ocr::scan::{normalise_and_read, page, StageTimes};
use protocol_ocr::synth::photo::{self, Shot, Storage};
use protocol_ocr::synth::render::{self, FieldStyle, HeaderItem, LabelStyle, Layout, Protocol};

mod common;
use common::contract_values;

fn printed_page(model: &FormModel) -> GrayImage {
    printed_page_styled(model, FieldStyle::Boxed, 27.0)
}

fn printed_page_styled(model: &FormModel, fields: FieldStyle, label_size: f32) -> GrayImage {
    let protocol = Protocol {
        election: "mazhilis".into(),
        station: "217".into(),
        region: Some("Алматы қ.".into()),
        values: contract_values(),
        handwritten: false,
        printed_lines: Default::default(),
        station_printed: false,
    };
    let layout = Layout {
        family: 0,
        fields,
        labels: LabelStyle::TwoLine,
        header_order: [HeaderItem::Election, HeaderItem::Station, HeaderItem::Region],
        margin_left: 140,
        margin_right: 130,
        margin_top: 140,
        label_size,
        digit_size: 44.0,
        value_width: 260,
        row_padding: 14,
        ink: 25,
        bold_digits: true,
        station_one_line: false,
    };
    let families = fonts::synth_families();
    render::render(model, &protocol, &layout, &families[0]).0
}

/// A phone photo with only the given rotation: no keystone, no shadow.
fn plain_shot(rotation_deg: f32, storage: Storage) -> Shot {
    Shot {
        long_side: 2400,
        rotation_deg,
        keystone: [(0.0, 0.0); 4],
        page_fill: 0.82,
        centre_jitter: (0.0, 0.0),
        desk: [90.0, 75.0, 60.0],
        paper: [245.0, 243.0, 236.0],
        light_direction: 0.5,
        light_falloff: 0.15,
        shadow: None,
        blur_sigma: 0.6,
        noise_sigma: 3.0,
        jpeg_quality: 85,
        storage,
        delivered_long_side: None,
    }
}

fn photograph(page_image: &GrayImage, shot: &Shot) -> GrayImage {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
    let upright = photo::photograph(&mut rng, page_image, None, shot);
    image::DynamicImage::ImageRgb8(photo::store(upright, shot.storage)).to_luma8()
}

#[test]
fn skew_of_a_rotated_photo_is_measured_within_half_a_degree() {
    let model = FormModel::load(None).unwrap();
    let printed = printed_page(&model);
    for angle in [-7.0f32, -2.5, 3.0, 9.5] {
        let gray = photograph(&printed, &plain_shot(angle, Storage::Upright));
        let location = page::find_page(&gray);
        assert!(location.found);
        let skew = location.skew_deg(0);
        assert!((skew - angle).abs() <= 0.5, "rotated {angle}°, measured {skew}°");
    }
}

#[test]
fn orientation_is_found_from_the_content_for_every_quarter_turn() {
    let model = FormModel::load(None).unwrap();
    let targets = Targets::new(&model);
    let mut engines = Engines::new(&model.ocr_language).unwrap();
    let printed = printed_page(&model);
    let truth = contract_values();
    // Turned clockwise by 0/90/180/270° with no tag: that many quarter turns undo it.
    for (storage, turns) in
        [(Storage::Upright, 0), (Storage::Turned(90), 1), (Storage::Turned(180), 2), (Storage::Turned(270), 3)]
    {
        let gray = photograph(&printed, &plain_shot(2.0, storage));
        let normalised = normalise_and_read(&mut engines, &gray, &model, &targets, &StageTimes::default()).unwrap();
        assert_eq!(normalised.turns, turns, "{storage:?}");
        assert!((normalised.skew_deg - 2.0).abs() <= 0.5, "{storage:?}: skew {}", normalised.skew_deg);
        let reading = normalised.reading;
        assert_eq!(reading.lines_found, model.lines.len(), "{storage:?}");
        // Upside down, the segments tell nothing and the other way up is
        // tried before any whole-page reading.
        assert!(!reading.whole_page_read, "{storage:?}: the labels were told by their segments alone");
        assert_eq!(reading.election.as_deref(), Some("mazhilis"), "{storage:?}");
        assert_eq!(reading.station.as_deref(), Some("217"), "{storage:?}");
        for (key, want) in &truth {
            assert_eq!(reading.values[key].value, *want, "{storage:?}: {key}");
        }
    }
}

/// A ruled table's labels are told by their text segments, each read only
/// as far as it takes: every line, the header and every count read right
/// without Tesseract's layout of the whole page.
#[test]
fn a_ruled_table_is_read_by_its_text_segments_alone() {
    let model = FormModel::load(None).unwrap();
    let targets = Targets::new(&model);
    let mut engines = Engines::new(&model.ocr_language).unwrap();
    let printed = printed_page_styled(&model, FieldStyle::Table, 27.0);
    let gray = photograph(&printed, &plain_shot(-1.5, Storage::Upright));
    let reading = normalise_and_read(&mut engines, &gray, &model, &targets, &StageTimes::default()).unwrap().reading;
    assert!(!reading.whole_page_read);
    assert_eq!(reading.lines_found, model.lines.len());
    assert_eq!(reading.election.as_deref(), Some("mazhilis"));
    assert_eq!(reading.station.as_deref(), Some("217"));
    assert_eq!(reading.region.as_deref(), Some("Алматы қ."));
    for (key, want) in contract_values() {
        assert_eq!(reading.values[&key].value, want, "{key}");
    }
}

/// A printing synth never makes: DejaVu Serif, the region first, the station
/// only in Russian words, Russian labels before Kazakh ones, no line numbers,
/// and each count written on an underline rather than in a box or a cell.
fn hand_laid_page(model: &FormModel, values: &Values) -> GrayImage {
    let family = fonts::other_family();
    let ink = Luma([30u8]);
    let mut page = GrayImage::from_pixel(page::PAGE_WIDTH, page::PAGE_HEIGHT, Luma([255u8]));
    let text = |page: &mut GrayImage, x: u32, y: u32, size: f32, s: &str| {
        draw_text_mut(page, ink, x as i32, y as i32, PxScale::from(size), &family.regular, s);
    };
    let mut y = 130;
    text(&mut page, 150, y, 28.0, "г. Алматы / Алматы қ.");
    y += 50;
    text(&mut page, 150, y, 30.0, "Избирательный участок № 538");
    y += 70;
    for line in model.title.0.iter().rev() {
        text(&mut page, 150, y, 28.0, line);
        y += 40;
    }
    y += 20;
    let election = model.election("city_maslikhat").unwrap();
    for line in election.title.0.iter().rev() {
        text(&mut page, 150, y, 28.0, line);
        y += 40;
    }
    y += 50;
    let label_width = 1000;
    for line in &model.lines {
        let top = y;
        for label in line.label.0.iter().rev() {
            for part in render::wrap(&family.regular, 25.0, label, label_width) {
                text(&mut page, 150, y, 25.0, &part);
                y += 33;
            }
        }
        let value = values[&line.key].unwrap().to_string();
        let (w, _) = text_size(PxScale::from(40.0), &family.regular, &value);
        let baseline = top + (y - top) / 2 + 18;
        text(&mut page, 1480 - w, baseline - 36, 40.0, &value);
        draw_filled_rect_mut(&mut page, Rect::at(1230, baseline as i32 + 8).of_size(270, 2), ink);
        y += 26;
    }
    page
}

#[test]
fn a_protocol_laid_out_differently_reads_by_its_labels() {
    let model = FormModel::load(None).unwrap();
    let targets = Targets::new(&model);
    let mut engines = Engines::new(&model.ocr_language).unwrap();
    let mut values = contract_values();
    values.insert("votes.adal".into(), Some(1017));
    values.insert("ballots_spoiled".into(), Some(3));
    let printed = hand_laid_page(&model, &values);
    let gray = photograph(&printed, &plain_shot(-4.0, Storage::Upright));
    let normalised = normalise_and_read(&mut engines, &gray, &model, &targets, &StageTimes::default()).unwrap();
    let reading = normalised.reading;
    assert_eq!(reading.election.as_deref(), Some("city_maslikhat"));
    assert_eq!(reading.station.as_deref(), Some("538"));
    assert_eq!(reading.region.as_deref(), Some("Алматы қ."));
    for (key, want) in &values {
        assert_eq!(reading.values[key].value, *want, "{key}: {:?}", reading.values[key]);
    }
}

/// A ruled table whose labels are printed small, photographed small: the
/// layout pass over the whole page finds 7 of its 10 lines, and each
/// ruled row's label, read alone and scaled to the size Tesseract reads
/// best, finds nearly all. Every count found is right.
#[test]
fn labels_too_small_for_the_page_pass_are_read_row_by_row() {
    let model = FormModel::load(None).unwrap();
    let targets = Targets::new(&model);
    let mut engines = Engines::new(&model.ocr_language).unwrap();
    let printed = printed_page_styled(&model, FieldStyle::Table, 20.0);
    let shot = Shot { long_side: 1200, ..plain_shot(0.0, Storage::Upright) };
    let gray = photograph(&printed, &shot);
    let normalised = normalise_and_read(&mut engines, &gray, &model, &targets, &StageTimes::default()).unwrap();
    let reading = normalised.reading;
    assert!(reading.lines_found >= 9, "{} lines found: {:?}", reading.lines_found, reading.values);
    for (key, want) in contract_values() {
        let read = reading.values[&key].value;
        assert!(read.is_none() || read == want, "{key}: {:?}", reading.values[&key]);
    }
}
