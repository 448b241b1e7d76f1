//! Property tests: the parsers never panic on arbitrary text (the form
//! model, a rule expression, Tesseract's TSV, a cell's OCR text), and the
//! rules evaluate as a reference computation written out by hand does.
//! `make fuzz` runs them with many more cases (`PROPTEST_CASES`).

use std::path::Path;

use proptest::prelude::*;
use protocol_ocr::model::{FormModel, DEFAULT_MODEL_TEXT};
use protocol_ocr::rules::{evaluate, Outcome, Relation, Values};
use protocol_ocr::scan::ocr::parse_tsv;
use protocol_ocr::scan::read::parse_count;

const FIELDS: [&str; 5] = ["voters_on_list", "ballots_received", "ballots_issued", "ballots_unused", "ballots_spoiled"];
const PARTIES: [&str; 5] = ["nur_otan", "ak_zhol", "auyl", "adal", "qhp"];

fn values(fields: &[u64], votes: &[u64]) -> Values {
    let mut v: Values = FIELDS.iter().zip(fields).map(|(k, n)| (k.to_string(), Some(*n))).collect();
    v.extend(PARTIES.iter().zip(votes).map(|(k, n)| (format!("votes.{k}"), Some(*n))));
    v
}

/// The six rules of the 2021 form, computed directly.
fn reference(f: &[u64], votes: &[u64]) -> [bool; 6] {
    let (voters, received, issued, unused, spoiled) = (f[0], f[1], f[2], f[3], f[4]);
    let cast: u64 = votes.iter().sum::<u64>() + spoiled;
    [
        received == issued + unused,
        issued <= voters,
        cast <= issued,
        cast == issued,
        issued as f64 <= 0.95 * voters as f64,
        spoiled as f64 <= 0.10 * cast as f64,
    ]
}

/// Counts a precinct can have, with boundaries hit often: small numbers
/// make equalities hold by chance, so both outcomes are exercised.
fn count() -> impl Strategy<Value = u64> {
    prop_oneof![0u64..20, 0u64..5000, Just(0u64)]
}

proptest! {
    #[test]
    fn rules_evaluate_as_the_reference_computation(
        fields in proptest::collection::vec(count(), 5),
        votes in proptest::collection::vec(count(), 5),
    ) {
        let model = FormModel::load(None).unwrap();
        let checks = model.check(&values(&fields, &votes));
        let expected = reference(&fields, &votes);
        prop_assert_eq!(checks.len(), 6);
        for (check, want) in checks.iter().zip(expected) {
            prop_assert_eq!(check.holds, Some(want), "{}: {}", check.rule, check.detail);
        }
    }

    #[test]
    fn a_missing_value_makes_its_rules_say_nothing(
        fields in proptest::collection::vec(count(), 5),
        votes in proptest::collection::vec(count(), 5),
        gone in 0usize..5,
    ) {
        let model = FormModel::load(None).unwrap();
        let mut v = values(&fields, &votes);
        v.insert(FIELDS[gone].to_string(), None);
        for check in model.check(&v) {
            let uses = model.rule(&check.rule).unwrap().relation.keys().iter().any(|k| k == FIELDS[gone]);
            prop_assert_eq!(check.holds.is_none(), uses, "{}", check.rule);
        }
    }

    #[test]
    fn sums_and_products_evaluate_exactly(a in 0u64..1_000_000, b in 0u64..1_000_000, c in 0u64..1_000) {
        let relation = Relation::parse("x + y * 2 - (z) >= x").unwrap();
        let v: Values = [("x", a), ("y", b), ("z", c)].iter().map(|(k, n)| (k.to_string(), Some(*n))).collect();
        match evaluate(&relation, &v, &[]) {
            Outcome::Evaluated { holds, left, .. } => {
                prop_assert_eq!(left, a as f64 + 2.0 * b as f64 - c as f64);
                prop_assert_eq!(holds, 2 * b >= c);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn the_rule_parser_never_panics(text in "\\PC{0,60}") {
        let _ = Relation::parse(&text);
    }

    #[test]
    fn the_rule_parser_never_panics_on_rule_like_text(text in "[a-z_.()0-9 +*<=>!-]{0,40}") {
        if let Ok(relation) = Relation::parse(&text) {
            let _ = evaluate(&relation, &Values::new(), &[]);
        }
    }

    #[test]
    fn the_model_parser_never_panics(text in "\\PC{0,200}") {
        let _ = FormModel::parse(&text, Path::new("fuzz.toml"));
    }

    #[test]
    fn a_damaged_model_is_refused_with_its_line_or_read(cut in 0usize..8000, len in 0usize..40, insert in "\\PC{0,8}") {
        let text = DEFAULT_MODEL_TEXT;
        let mut start = cut.min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = (start + len).min(text.len());
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        let damaged = format!("{}{}{}", &text[..start], insert, &text[end..]);
        if let Err(e) = FormModel::parse(&damaged, Path::new("damaged.toml")) {
            prop_assert!(e.to_string().starts_with("damaged.toml"), "{}", e);
        }
    }

    #[test]
    fn the_tsv_parser_never_panics(text in "\\PC{0,300}") {
        let _ = parse_tsv(&text);
    }

    #[test]
    fn tsv_like_rows_never_panic(rows in proptest::collection::vec("(-?[0-9]{1,4}\t){11}\\PC{0,6}", 0..6)) {
        let _ = parse_tsv(&rows.join("\n"));
    }

    #[test]
    fn a_count_is_exactly_its_digits(text in "\\PC{0,20}", max in 1u32..30) {
        match parse_count(&text, max) {
            Ok(n) => {
                prop_assert!(text.chars().all(|c| c.is_ascii_digit()) && !text.is_empty());
                prop_assert!(text.len() <= max as usize);
                prop_assert_eq!(n, text.parse::<u64>().unwrap());
            }
            Err(why) => prop_assert!(!why.is_empty()),
        }
    }

    #[test]
    fn digit_strings_within_the_limit_parse(n in 0u64..1_000_000_000_000) {
        prop_assert_eq!(parse_count(&n.to_string(), 12), Ok(n));
    }
}
