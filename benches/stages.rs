//! Per-stage benchmarks on fixed inputs (one photo of the bundled sample),
//! so a regression in one stage shows alone: hashing, decoding, finding the
//! page and its skew, rectifying, lighting, label matching, the rules, one
//! glyph read by the glyph network, one cell read by the digits engine and
//! one whole protocol read (layout pass and every cell). The whole-pipeline comparison is `scripts/bench.sh`.

use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion};
use protocol_ocr::model::FormModel;
use protocol_ocr::scan::{decode, hash, normalise_and_read, ocr::Engines, page, read::Targets, StageTimes};
use protocol_ocr::textmatch::fold;

const PHOTO: &str = "fixtures/sample/day1/IMG_0001.jpg";

fn stages(c: &mut Criterion) {
    let bytes = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join(PHOTO)).expect("the bundled sample");
    let gray = decode::decode_gray(&bytes).expect("a photo");
    let model = FormModel::load(None).expect("the bundled model");
    let targets = Targets::new(&model);
    let location = page::find_page(&gray);
    let upright = page::rectify(&gray, &location, 0);

    c.bench_function("hash 1 photo", |b| b.iter(|| hash::hash_bytes(&bytes)));
    c.bench_function("decode 1 photo to grey", |b| b.iter(|| decode::decode_gray(&bytes).unwrap()));
    c.bench_function("find the page and its skew", |b| b.iter(|| page::find_page(&gray)));
    c.bench_function("rectify to A4", |b| b.iter(|| page::rectify(&gray, &location, 0)));
    c.bench_function("flatten lighting", |b| b.iter(|| page::flatten_lighting(&upright)));
    let line = fold("Число избирателей, получивших избирательные бюллетени");
    c.bench_function("match one OCR line to the labels", |b| b.iter(|| targets.classify(&line, None, &model)));
    let mut values = model.empty_values();
    for (k, v) in [("voters_on_list", 2310), ("ballots_received", 2300), ("ballots_issued", 812)] {
        values.insert(k.to_string(), Some(v));
    }
    c.bench_function("evaluate the rules", |b| b.iter(|| model.check(&values)));
    // A written 7: a bar and a stroke down, in the network's 28 × 28 input.
    let side = protocol_ocr::digits::net::SIDE;
    let seven: [f32; protocol_ocr::digits::net::INPUT] = std::array::from_fn(|i| {
        let (x, y) = (i % side, i / side);
        let bar = (5..8).contains(&y) && (6..22).contains(&x);
        let stroke = (5..24).contains(&y) && x.abs_diff(21 - (y - 5) / 2) <= 1;
        if bar || stroke {
            1.0
        } else {
            0.0
        }
    });
    let network = protocol_ocr::digits::network();
    c.bench_function("read one glyph (glyph network)", |b| b.iter(|| network.classify(&seven)));
    // The same network run by candle, as training runs it.
    let trained = protocol_ocr::digits::net_train::model_of(network).expect("the network in candle");
    c.bench_function("read one glyph (glyph network in candle)", |b| {
        b.iter(|| protocol_ocr::digits::net_train::classify_batch(&trained, &[seven]).unwrap())
    });

    // The OCR stages take tenths of a second: fewer samples. (OpenMP's
    // threads are limited by OMP_THREAD_LIMIT=1, which .cargo/config.toml
    // sets for every process cargo runs, before libtesseract loads.)
    let mut engines = Engines::new(&model.ocr_language).expect("Tesseract with the kaz, rus and eng models");
    let times = StageTimes::default();
    let read = normalise_and_read(&mut engines, &gray, &model, &targets, &times).expect("a reading");
    let cell = read.reading.values["ballots_issued"].crop.clone().expect("the sample's issued cell is read");
    let mut slow = c.benchmark_group("ocr");
    slow.sample_size(10);
    slow.bench_function("read one cell (digits engine)", |b| b.iter(|| engines.read_digits(&cell).unwrap()));
    slow.bench_function("read one whole protocol (normalise + read)", |b| {
        b.iter(|| normalise_and_read(&mut engines, &gray, &model, &targets, &times).unwrap())
    });
    slow.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
