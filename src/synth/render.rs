//! Printing a protocol: the clean A4 page before it is photographed.
//!
//! The page is drawn from the form model (title, election title, station,
//! region, the numbered bilingual lines and a cell or box with the count)
//! in one of several layouts: two font families, a grid table or boxed
//! fields, labels on one line ("kk / ru") or on two, different widths,
//! spacings and header orders. The scanner must find lines by their labels,
//! so none of these choices may matter to it.

use std::collections::BTreeSet;

use ab_glyph::{Font, PxScale};
use image::{GrayImage, Luma};
use imageproc::drawing::{draw_filled_rect_mut, draw_hollow_rect_mut, draw_text_mut, text_size};
use imageproc::rect::Rect;
use rand::Rng;

use super::hand::Spot;
use crate::fonts::Family;
use crate::model::{FormModel, Labels, StationForm};
use crate::rules::Values;

/// A4 at 200 dots per inch: fine enough for 9–10 pt labels to survive the
/// photo, small enough to render hundreds of pages quickly.
pub const PAGE_WIDTH: u32 = 1654;
pub const PAGE_HEIGHT: u32 = 2339;

/// Room kept below the table for the signatures and the page's bottom margin.
const FOOTER_SPACE: u32 = 200;

/// What is printed on one protocol.
#[derive(Debug, Clone)]
pub struct Protocol {
    pub election: String,
    pub station: String,
    pub region: Option<String>,
    pub values: Values,
    /// The counts and the station number are left blank in print, to be
    /// written by hand (see [`super::hand`]), but for `printed_lines` and a
    /// `station_printed`.
    pub handwritten: bool,
    /// On a handwritten protocol, the lines (by key) whose counts were
    /// printed all the same: print or pen is a property of each line, not
    /// of the page.
    pub printed_lines: BTreeSet<String>,
    /// On a handwritten protocol, the station number was printed (a form
    /// printed for its station, its counts filled in by pen).
    pub station_printed: bool,
}

impl Protocol {
    /// Whether line `key`'s count is written by hand.
    pub fn written_by_hand(&self, key: &str) -> bool {
        self.handwritten && !self.printed_lines.contains(key)
    }

    /// Whether the station number is written by hand.
    pub fn station_by_hand(&self) -> bool {
        self.handwritten && !self.station_printed
    }
}

/// Room left blank for a handwritten station number, in label sizes.
const STATION_BLANK_OF_SIZE: f32 = 3.4;

/// A piece of a printed line: text, or a blank (with a rule under it) left
/// for the pen.
#[derive(Clone)]
enum Piece<'a> {
    Text(&'a str),
    Blank(u32),
}

/// How the count fields are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldStyle {
    /// A full grid: number, label and value columns with rules between rows.
    Table,
    /// Free text lines with a drawn box at the right holding the count.
    Boxed,
}

/// How the Kazakh and Russian labels share a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LabelStyle {
    /// "kk / ru" run together and wrapped to the column.
    OneLine,
    /// Kazakh first, then Russian on its own line(s).
    TwoLine,
}

/// The header items below the title, in the order they are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HeaderItem {
    Election,
    Station,
    Region,
}

/// One printing of the form.
#[derive(Debug, Clone)]
pub struct Layout {
    pub family: usize,
    pub fields: FieldStyle,
    pub labels: LabelStyle,
    pub header_order: [HeaderItem; 3],
    pub margin_left: u32,
    pub margin_right: u32,
    pub margin_top: u32,
    pub label_size: f32,
    pub digit_size: f32,
    pub value_width: u32,
    pub row_padding: u32,
    pub ink: u8,
    /// Counts printed in the bold face.
    pub bold_digits: bool,
    /// Station printed on one centred line rather than two lines.
    pub station_one_line: bool,
}

impl Layout {
    /// A random layout within the ranges a real printing shows.
    pub fn random<R: Rng>(rng: &mut R, families: usize) -> Layout {
        let orders = [
            [HeaderItem::Election, HeaderItem::Station, HeaderItem::Region],
            [HeaderItem::Station, HeaderItem::Region, HeaderItem::Election],
            [HeaderItem::Region, HeaderItem::Station, HeaderItem::Election],
        ];
        Layout {
            family: rng.gen_range(0..families),
            fields: if rng.gen_bool(0.5) { FieldStyle::Table } else { FieldStyle::Boxed },
            labels: if rng.gen_bool(0.5) { LabelStyle::OneLine } else { LabelStyle::TwoLine },
            header_order: orders[rng.gen_range(0..orders.len())],
            margin_left: rng.gen_range(110..=170),
            margin_right: rng.gen_range(100..=160),
            margin_top: rng.gen_range(110..=170),
            label_size: rng.gen_range(25.0..=30.0),
            digit_size: rng.gen_range(38.0..=48.0),
            value_width: rng.gen_range(230..=300),
            row_padding: rng.gen_range(10..=22),
            ink: rng.gen_range(10..=45),
            bold_digits: rng.gen_bool(0.5),
            station_one_line: rng.gen_bool(0.5),
        }
    }
}

/// Breaks `text` into lines no wider than `max_width` pixels.
pub fn wrap(font: &impl Font, scale: f32, text: &str, max_width: u32) -> Vec<String> {
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split_whitespace() {
        let candidate = if current.is_empty() { word.to_string() } else { format!("{current} {word}") };
        if !current.is_empty() && text_size(PxScale::from(scale), font, &candidate).0 > max_width {
            lines.push(std::mem::replace(&mut current, word.to_string()));
        } else {
            current = candidate;
        }
    }
    if !current.is_empty() {
        lines.push(current);
    }
    lines
}

/// Line height for a font size: the size plus the gap between lines.
fn line_height(size: f32) -> u32 {
    (size * 1.3).round() as u32
}

/// A page being drawn top to bottom.
struct Page<'a> {
    image: GrayImage,
    family: &'a Family,
    ink: Luma<u8>,
    y: u32,
}

impl Page<'_> {
    fn text(&mut self, x: i32, y: u32, size: f32, bold: bool, text: &str) {
        let font = if bold { &self.family.bold } else { &self.family.regular };
        draw_text_mut(&mut self.image, self.ink, x, y as i32, PxScale::from(size), font, text);
    }

    fn width_of(&self, size: f32, bold: bool, text: &str) -> u32 {
        let font = if bold { &self.family.bold } else { &self.family.regular };
        text_size(PxScale::from(size), font, text).0
    }

    /// Draws wrapped, centred lines between the margins and moves down.
    fn centred(&mut self, left: u32, right: u32, size: f32, bold: bool, text: &str) {
        let font = if bold { &self.family.bold } else { &self.family.regular };
        for line in wrap(font, size, text, right - left) {
            let w = self.width_of(size, bold, &line);
            let x = left + (right - left).saturating_sub(w) / 2;
            let y = self.y;
            self.text(x as i32, y, size, bold, &line);
            self.y += line_height(size);
        }
    }

    fn pieces_width(&self, size: f32, pieces: &[Piece]) -> u32 {
        pieces
            .iter()
            .map(|p| match p {
                Piece::Text(t) => self.width_of(size, false, t),
                Piece::Blank(w) => *w,
            })
            .sum()
    }

    /// Prints `pieces` from `x` on the current line (not moving down); a
    /// blank gets a thin rule under it and becomes a [`Spot`] for `text`.
    fn pieces(&mut self, x: u32, size: f32, pieces: &[Piece], text: &str, spots: &mut Vec<Spot>) {
        let y = self.y;
        let mut x = x;
        for piece in pieces {
            match piece {
                Piece::Text(t) => {
                    self.text(x as i32, y, size, false, t);
                    x += self.width_of(size, false, t);
                }
                Piece::Blank(w) => {
                    let underline = y + line_height(size) - 6;
                    self.rule(x, x + w, underline, 1);
                    let top = y.saturating_sub((size * 0.25) as u32);
                    spots.push(Spot {
                        rect: [x, top, x + w, underline],
                        text: text.to_string(),
                        nominal_height: size * 0.95,
                        right_aligned: false,
                    });
                    x += w;
                }
            }
        }
    }

    fn rule(&mut self, x0: u32, x1: u32, y: u32, thickness: u32) {
        let rect = Rect::at(x0 as i32, y as i32).of_size(x1 - x0, thickness);
        draw_filled_rect_mut(&mut self.image, rect, self.ink);
    }

    fn vrule(&mut self, x: u32, y0: u32, y1: u32, thickness: u32) {
        let rect = Rect::at(x as i32, y0 as i32).of_size(thickness, y1 - y0);
        draw_filled_rect_mut(&mut self.image, rect, self.ink);
    }
}

/// The label of a line as printed in the chosen style, wrapped to `width`.
fn label_lines(font: &impl Font, size: f32, style: LabelStyle, label: &Labels, width: u32) -> Vec<String> {
    match style {
        LabelStyle::OneLine => wrap(font, size, &label.0.join(" / "), width),
        LabelStyle::TwoLine => label.0.iter().flat_map(|text| wrap(font, size, text, width)).collect(),
    }
}

/// Prints `protocol` on a clean white A4 page. Returns the page, whether
/// everything fitted on it (a layout with large type may run off the bottom),
/// and for a handwritten protocol the spots left blank for the pen.
pub fn render(
    model: &FormModel,
    protocol: &Protocol,
    layout: &Layout,
    family: &Family,
) -> (GrayImage, bool, Vec<Spot>) {
    let mut spots = Vec::new();
    let mut page = Page {
        image: GrayImage::from_pixel(PAGE_WIDTH, PAGE_HEIGHT, Luma([255])),
        family,
        ink: Luma([layout.ink]),
        y: layout.margin_top,
    };
    let left = layout.margin_left;
    let right = PAGE_WIDTH - layout.margin_right;
    let title_size = layout.label_size + 4.0;

    for text in &model.title.0 {
        page.centred(left, right, title_size, true, text);
    }
    // The station's caption: the number stands before the first language's
    // words and after the second's («№ 217 сайлау учаскесі» / «Избирательный
    // участок № 217»). Forms with code boxes are not drawn (see `synth::run`).
    let caption = match &model.station {
        StationForm::Number { caption } => caption,
        StationForm::CodeBoxes { .. } => unreachable!("synth refuses models whose station is code boxes"),
    };
    let (station_kk, station_ru) = (caption.text(0), caption.text(1));
    page.y += 20;

    for item in layout.header_order {
        match item {
            HeaderItem::Election => {
                let election = model.election(&protocol.election).expect("synth picks a model election");
                for text in &election.title.0 {
                    page.centred(left, right, layout.label_size + 2.0, true, text);
                }
            }
            HeaderItem::Station if protocol.station_by_hand() => {
                let size = layout.label_size;
                let (kk_caption, ru_caption) = (format!(" {station_kk}"), format!("{station_ru} № "));
                let blank_width = (size * STATION_BLANK_OF_SIZE) as u32;
                let kk = [Piece::Text("№ "), Piece::Blank(blank_width), Piece::Text(&kk_caption)];
                let ru = [Piece::Text(&ru_caption), Piece::Blank(blank_width)];
                if layout.station_one_line {
                    let both = [&kk[..], &[Piece::Text(" / ")], &ru[..]].concat();
                    let width = page.pieces_width(size, &both);
                    let x = left + (right - left).saturating_sub(width) / 2;
                    page.pieces(x, size, &both, &protocol.station, &mut spots);
                } else {
                    page.pieces(left, size, &kk, &protocol.station, &mut spots);
                    let w = page.pieces_width(size, &ru);
                    page.pieces(right - w, size, &ru, &protocol.station, &mut spots);
                }
                page.y += line_height(size);
            }
            HeaderItem::Station => {
                let kk = format!("№ {} {station_kk}", protocol.station);
                let ru = format!("{station_ru} № {}", protocol.station);
                if layout.station_one_line {
                    page.centred(left, right, layout.label_size, false, &format!("{kk} / {ru}"));
                } else {
                    let y = page.y;
                    page.text(left as i32, y, layout.label_size, false, &kk);
                    let w = page.width_of(layout.label_size, false, &ru);
                    page.text((right - w) as i32, y, layout.label_size, false, &ru);
                    page.y += line_height(layout.label_size);
                }
            }
            HeaderItem::Region => {
                if let Some(region) = &protocol.region {
                    page.centred(left, right, layout.label_size, false, region);
                }
            }
        }
        page.y += 12;
    }
    page.y += 24;

    let number_width = (layout.label_size * 2.2) as u32;
    let gap = 24;
    let value_left = right - layout.value_width;
    let label_left = left + number_width;
    let label_width = value_left - gap - label_left;
    let cell_height = (layout.digit_size * 1.45) as u32;
    let table_top = page.y;
    if layout.fields == FieldStyle::Table {
        page.rule(left, right, table_top, 2);
    }

    for line in &model.lines {
        let font = &family.regular;
        let lines = label_lines(font, layout.label_size, layout.labels, &line.label, label_width);
        let text_height = lines.len() as u32 * line_height(layout.label_size);
        let row_height = text_height.max(cell_height) + 2 * layout.row_padding;
        let row_top = page.y;
        let text_top = row_top + (row_height - text_height) / 2;

        let number = format!("{}.", line.number);
        page.text(left as i32 + 6, text_top, layout.label_size, false, &number);
        for (i, text) in lines.iter().enumerate() {
            page.text(
                label_left as i32,
                text_top + i as u32 * line_height(layout.label_size),
                layout.label_size,
                false,
                text,
            );
        }

        let value = protocol.values.get(&line.key).copied().flatten().map(|v| v.to_string()).unwrap_or_default();
        let cell_top = row_top + (row_height - cell_height) / 2;
        let by_hand = protocol.written_by_hand(&line.key);
        if by_hand {
            // The cell's free area, inside its border or rules.
            let rect = match layout.fields {
                FieldStyle::Table => [value_left + 6, row_top + 3, right - 12, row_top + row_height],
                FieldStyle::Boxed => [value_left + 3, cell_top + 3, right - 3, cell_top + cell_height - 3],
            };
            spots.push(Spot {
                rect,
                text: value.clone(),
                nominal_height: layout.digit_size * 0.73,
                right_aligned: layout.fields == FieldStyle::Table,
            });
        }
        let value = if by_hand { String::new() } else { value };
        let digit_width = page.width_of(layout.digit_size, layout.bold_digits, &value);
        // The digits' glyph box starts about a fifth of the size below `y`.
        let digits_y = cell_top + (cell_height as f32 - layout.digit_size * 0.95) as u32 / 2;
        match layout.fields {
            FieldStyle::Table => {
                let x = right - 18 - digit_width;
                page.text(x as i32, digits_y, layout.digit_size, layout.bold_digits, &value);
                page.rule(left, right, row_top + row_height, 2);
            }
            FieldStyle::Boxed => {
                let border = 3;
                for t in 0..border {
                    let rect = Rect::at((value_left + t) as i32, (cell_top + t) as i32)
                        .of_size(layout.value_width - 2 * t, cell_height - 2 * t);
                    draw_hollow_rect_mut(&mut page.image, rect, page.ink);
                }
                let x = value_left + (layout.value_width - digit_width) / 2;
                page.text(x as i32, digits_y, layout.digit_size, layout.bold_digits, &value);
            }
        }
        page.y = row_top + row_height;
    }
    if layout.fields == FieldStyle::Table {
        let bottom = page.y + 2;
        for x in [left, label_left - 8, value_left, right - 2] {
            page.vrule(x, table_top, bottom, 2);
        }
    }

    let fits = page.y + FOOTER_SPACE < PAGE_HEIGHT;
    page.y += 60;
    let size = layout.label_size;
    for signature in ["Комиссия төрағасы / Председатель комиссии", "Комиссия хатшысы / Секретарь комиссии"]
    {
        let y = page.y;
        if y + line_height(size) + 10 >= PAGE_HEIGHT {
            break;
        }
        page.text(left as i32, y, size, false, signature);
        page.rule(right - 380, right, y + line_height(size) - 6, 2);
        page.y += line_height(size) + 30;
    }
    (page.image, fits, spots)
}
