//! The form model: loading, every rule on hand-made values, and malformed
//! model files that must fail with the file, the line and the problem.

use std::collections::BTreeSet;
use std::path::Path;

use protocol_ocr::model::FormModel;
use protocol_ocr::rules::Values;

mod common;
use common::contract_values as good_values;

fn failing(model: &FormModel, values: &Values) -> BTreeSet<String> {
    model.check(values).into_iter().filter(|c| c.holds != Some(true)).map(|c| c.rule).collect()
}

fn set(ids: &[&str]) -> BTreeSet<String> {
    ids.iter().map(|s| s.to_string()).collect()
}

#[test]
fn bundled_model_has_the_2021_form() {
    let model = FormModel::load(None).unwrap();
    let elections: Vec<&str> = model.elections.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(elections, ["mazhilis", "oblast_maslikhat", "city_maslikhat"]);
    assert_eq!(model.lines.len(), 10);
    assert_eq!(model.party_keys(), ["votes.nur_otan", "votes.ak_zhol", "votes.auyl", "votes.adal", "votes.qhp"]);
    assert_eq!(model.lines[5].number, 6, "party lines are numbered on after the fixed lines");
    assert_eq!(model.rules.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(), ["R1", "R2", "R3", "R4", "R5", "R6"]);
    assert_eq!(model.sha256.len(), 64);
}

#[test]
fn every_rule_holds_on_the_contract_example() {
    let model = FormModel::load(None).unwrap();
    assert_eq!(failing(&model, &good_values()), set(&[]));
}

#[test]
fn each_rule_fails_on_values_that_break_it() {
    let model = FormModel::load(None).unwrap();
    let with = |changes: &[(&str, u64)]| {
        let mut v = good_values();
        for (k, x) in changes {
            v.insert(k.to_string(), Some(*x));
        }
        v
    };
    // R1 alone: ten ballots unaccounted for.
    assert_eq!(failing(&model, &with(&[("ballots_unused", 1478)])), set(&["R1"]));
    // R2: more issued than voters; it implies R5 (issued > 95 % of voters).
    assert_eq!(failing(&model, &with(&[("voters_on_list", 800)])), set(&["R2", "R5"]));
    // R3: more in the box than issued; the equality R4 fails with it.
    assert_eq!(failing(&model, &with(&[("votes.nur_otan", 450)])), set(&["R3", "R4"]));
    // R4 alone: ten issued ballots missing from the box.
    assert_eq!(failing(&model, &with(&[("votes.nur_otan", 392)])), set(&["R4"]));
    // R5 alone: 812 issued of 850 voters is 95.5 %.
    assert_eq!(failing(&model, &with(&[("voters_on_list", 850)])), set(&["R5"]));
    // R6 alone: 100 spoiled of 812 cast.
    assert_eq!(failing(&model, &with(&[("ballots_spoiled", 100), ("votes.nur_otan", 323)])), set(&["R6"]));
}

#[test]
fn a_failed_rule_explains_itself_with_the_numbers() {
    let model = FormModel::load(None).unwrap();
    let mut v = good_values();
    v.insert("ballots_unused".into(), Some(1478));
    let r1 = model.check(&v).into_iter().find(|c| c.rule == "R1").unwrap();
    assert_eq!(r1.detail, "2300 ≠ 812 + 1478 (= 2290)");
    v.insert("votes.qhp".into(), None);
    let r4 = model.check(&v).into_iter().find(|c| c.rule == "R4").unwrap();
    assert_eq!(r4.holds, None, "a rule over a missing value is not evaluated");
    assert!(r4.detail.contains("votes.qhp"), "{}", r4.detail);
}

#[test]
fn a_new_election_is_a_new_model_file() {
    // Another party list and an "against all" line, with no code change.
    let text = protocol_ocr::model::DEFAULT_MODEL_TEXT.to_string()
        + r#"
[[parties]]
key = "against_all"
name = ["Бәріне қарсы", "Против всех"]
labels = ["Бәріне қарсы берілген дауыстар саны", "Число голосов, поданных против всех"]
"#;
    let model = FormModel::parse(&text, Path::new("models/kz-2023.toml")).unwrap();
    assert_eq!(model.party_keys().last().unwrap(), "votes.against_all");
    // The report's layout lists the 2021 parties; the new one follows them.
    assert_eq!(model.report.parties.last().unwrap(), "against_all");
    assert_eq!(model.report.parties[..2], ["nur_otan", "auyl"]);
    let mut v = good_values();
    v.insert("votes.against_all".into(), Some(0));
    assert_eq!(failing(&model, &v), set(&[]));
    v.insert("votes.against_all".into(), Some(5));
    assert_eq!(failing(&model, &v), set(&["R3", "R4"]), "sum(votes) counts the new line");
}

fn load_error(text: &str) -> String {
    FormModel::parse(text, Path::new("models/broken.toml")).unwrap_err().to_string()
}

fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap() + 1
}

#[test]
fn malformed_models_fail_with_file_line_and_problem() {
    let base = protocol_ocr::model::DEFAULT_MODEL_TEXT;

    let bad_key = base.replace("ballots_issued <= voters_on_list", "ballots_isued <= voters_on_list");
    let err = load_error(&bad_key);
    let line = line_of(&bad_key, "ballots_isued <=");
    assert_eq!(
        err,
        format!(
            "models/broken.toml:{line}: rule R2: unknown line key 'ballots_isued' in 'ballots_isued <= voters_on_list'"
        )
    );

    let bad_syntax = base.replace("ballots_issued <= voters_on_list", "ballots_issued <= + voters_on_list");
    let err = load_error(&bad_syntax);
    assert!(
        err.starts_with(&format!("models/broken.toml:{}: rule R2: cannot parse", line_of(&bad_syntax, "<= +"))),
        "{err}"
    );

    let bad_kind = base.replacen("kind = \"soft\"", "kind = \"maybe\"", 1);
    let err = load_error(&bad_kind);
    assert!(err.starts_with(&format!("models/broken.toml:{}:", line_of(&bad_kind, "maybe"))), "{err}");
    assert!(err.contains("\"hard\" or \"soft\""), "{err}");

    let bad_toml = base.replace("key = \"adal\"", "key = adal");
    let err = load_error(&bad_toml);
    assert!(err.starts_with(&format!("models/broken.toml:{}:", line_of(&bad_toml, "key = adal"))), "{err}");

    let twice = base.replace("key = \"qhp\"", "key = \"adal\"");
    let err = load_error(&twice);
    assert!(err.contains("party 'adal' is defined twice"), "{err}");

    let one_language = base.replacen("  \"Число избирателей, включённых в списки для голосования\",\n", "", 1);
    let err = load_error(&one_language);
    assert!(err.contains("line voters_on_list: 1 text(s) for 2 language(s)"), "{err}");

    let no_column = base.replacen("key = \"qhp\"", "key = \"qhp\"\ncolumn = \"figures\"", 1);
    let err = load_error(&no_column);
    assert!(err.contains("column 'figures' is not defined under [[columns]]"), "{err}");

    let missing = FormModel::load(Some(Path::new("/nonexistent/model.toml"))).unwrap_err().to_string();
    assert!(missing.starts_with("/nonexistent/model.toml:0: cannot read the model"), "{missing}");
}

fn ec8a() -> FormModel {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ng-2023-ec8a.toml");
    FormModel::load(Some(&path)).unwrap()
}

#[test]
fn the_nigerian_result_sheet_is_a_model_file_too() {
    use protocol_ocr::model::StationForm;
    let model = ec8a();
    assert_eq!(model.languages, ["en"]);
    assert_eq!(model.ocr_language, "eng");
    assert_eq!(model.field_lines().count(), 8);
    assert_eq!(model.party_keys().len(), 18);
    assert_eq!(model.party_keys()[0], "votes.a");
    // The station is four groups of code boxes.
    let StationForm::CodeBoxes { boxes, marker } = &model.station else { panic!("code boxes expected") };
    assert_eq!(marker.0, ["Code"]);
    assert_eq!(boxes.iter().map(|b| b.digits).collect::<Vec<_>>(), [2, 2, 2, 3]);
    // Party figures stand in the "in figures" column, and a blank cell is 0;
    // the eight lines' figures stand to the right of their labels.
    let figures = model.columns.iter().position(|c| c.key == "figures").unwrap();
    assert!(model.party_lines().all(|l| l.column == Some(figures) && l.blank_is_zero));
    assert!(model.field_lines().all(|l| l.column.is_none() && !l.blank_is_zero));
    assert_eq!(model.repeated_totals.len(), 1);
    // Its writers put zeros before counts; the Kazakh protocol's do not.
    assert!(model.leading_zeros);
    assert!(!FormModel::load(None).unwrap().leading_zeros);
    assert_eq!(model.repeated_totals[0].key, "total_valid_votes");
    // The bundled Kazakh model leaves blanks missing.
    assert!(FormModel::load(None).unwrap().lines.iter().all(|l| !l.blank_is_zero && l.column.is_none()));
}

#[test]
fn the_nigerian_relations_hold_and_break_as_the_sheet_says() {
    let model = ec8a();
    // Unit 024 of the real set, as two people transcribed it.
    let mut v: Values = model.empty_values();
    for (key, value) in [
        ("voters_on_register", 163),
        ("accredited_voters", 98),
        ("ballots_issued", 199),
        ("ballots_unused", 100),
        ("ballots_spoiled", 1),
        ("ballots_rejected", 3),
        ("total_valid_votes", 95),
        ("total_used", 99),
    ] {
        v.insert(key.into(), Some(value));
    }
    for party in model.party_keys() {
        v.insert(party, Some(0));
    }
    for (party, votes) in [("votes.apga", 1), ("votes.lp", 90), ("votes.nnpp", 1), ("votes.pdp", 1), ("votes.zlp", 2)] {
        v.insert(party.into(), Some(votes));
    }
    assert_eq!(failing(&model, &v), set(&[]));
    v.insert("votes.lp".into(), Some(91));
    assert_eq!(failing(&model, &v), set(&["E3"]));
    v.insert("votes.lp".into(), Some(90));
    v.insert("accredited_voters".into(), Some(97));
    assert_eq!(failing(&model, &v), set(&["E5"]), "95 valid + 3 rejected > 97 accredited");
    v.insert("accredited_voters".into(), Some(164));
    assert_eq!(failing(&model, &v), set(&["E4"]));
    v.insert("accredited_voters".into(), Some(98));
    v.insert("ballots_unused".into(), Some(101));
    assert_eq!(failing(&model, &v), set(&["E1"]));
    v.insert("ballots_unused".into(), Some(100));
    v.insert("total_used".into(), Some(98));
    assert_eq!(failing(&model, &v), set(&["E1", "E2"]));
}
