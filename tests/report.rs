//! The report on a verified data set with known sums: a station photographed
//! twice and reconciled by a reviewer (counted once), a rejected protocol
//! (left out), a pending one (reported as pending). Every figure of the
//! table, report.json and report.csv is asserted; then the official figures
//! and the exact list of discrepancies.

use std::path::Path;
use std::process::Command;

use protocol_ocr::result::{ProtocolResult, Status};
use protocol_ocr::review::store::{Action, Decision, ReviewStore, SqliteStore, Values};
use protocol_ocr::scan::hash::hash_bytes;
use serde_json::{json, Value};

const FIELD_KEYS: [&str; 5] =
    ["voters_on_list", "ballots_received", "ballots_issued", "ballots_unused", "ballots_spoiled"];
const PARTY_KEYS: [&str; 5] = ["nur_otan", "ak_zhol", "auyl", "adal", "qhp"];

fn result(
    file: &str,
    status: Status,
    election: &str,
    station: &str,
    fields: [u64; 5],
    votes: [u64; 5],
) -> ProtocolResult {
    let f: Vec<String> = FIELD_KEYS.iter().map(|k| k.to_string()).collect();
    let p: Vec<String> = PARTY_KEYS.iter().map(|k| k.to_string()).collect();
    let mut r = ProtocolResult::empty(file, &hash_bytes(file.as_bytes()), &f, &p);
    r.status = status;
    r.election = Some(election.into());
    r.station = Some(station.into());
    r.fields = FIELD_KEYS.iter().zip(fields).map(|(k, v)| (k.to_string(), Some(v))).collect();
    r.votes = PARTY_KEYS.iter().zip(votes).map(|(k, v)| (k.to_string(), Some(v))).collect();
    if status == Status::Flagged {
        r.flags.push("low_confidence:votes.nur_otan".into());
    }
    r
}

const STATION_2: [u64; 5] = [500, 450, 400, 50, 5];

/// The data set, with the reviewers' decisions made through the store.
fn verified_out_dir(out: &Path) {
    let results = [
        result(
            "c1.jpg",
            Status::Accepted,
            "city_maslikhat",
            "10",
            [2000, 1800, 1000, 800, 20],
            [500, 200, 150, 100, 30],
        ),
        result("m1.jpg", Status::Accepted, "mazhilis", "1", [1000, 900, 600, 300, 10], [300, 100, 90, 60, 40]),
        // Two photos of station 2; the first misread Nur Otan as 250.
        result("m2a.jpg", Status::Flagged, "mazhilis", "2", STATION_2, [250, 80, 60, 35, 20]),
        result("m2b.jpg", Status::Flagged, "mazhilis", "2", STATION_2, [200, 80, 60, 35, 20]),
        result("m3.jpg", Status::Flagged, "mazhilis", "3", [700, 700, 700, 0, 0], [700, 0, 0, 0, 0]),
        result("m4.jpg", Status::Flagged, "mazhilis", "4", [900, 900, 500, 400, 5], [400, 50, 20, 20, 5]),
    ];
    let text: String = results.iter().map(|r| serde_json::to_string(r).unwrap() + "\n").collect();
    std::fs::write(out.join("results.jsonl"), text).unwrap();
    let store = SqliteStore::open(out).unwrap();
    let decide = |file: &str, action: Action, change: Option<u64>| {
        let p = store.protocol(file).unwrap().unwrap();
        let mut values = Values::of(&p.result);
        if let Some(v) = change {
            values.votes.insert("nur_otan".into(), Some(v));
        }
        let d = Decision { file: file.into(), reviewer: "Dana".into(), action, values, note: "checked".into() };
        store.decide(&d, p.version).unwrap();
    };
    decide("m2a.jpg", Action::Correct, Some(200));
    decide("m2b.jpg", Action::Confirm, None);
    decide("m3.jpg", Action::Reject, None);
}

fn run_report(out: &Path, official: Option<&Path>) -> String {
    let mut command = Command::new(env!("CARGO_BIN_EXE_protocol-ocr"));
    command.args(["report", out.to_str().unwrap()]);
    if let Some(o) = official {
        command.args(["--official", o.to_str().unwrap()]);
    }
    let output = command.output().unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    String::from_utf8(output.stdout).unwrap()
}

fn line<'a>(table: &'a str, label: &str) -> Vec<&'a str> {
    let row = table.lines().find(|l| l.starts_with(label)).unwrap_or_else(|| panic!("no row {label}:\n{table}"));
    // Cells are right-aligned after two spaces; numbers are grouped with single spaces.
    row[label.len()..].split("  ").map(str::trim).filter(|c| !c.is_empty()).collect()
}

#[test]
fn every_figure_of_the_table_json_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    verified_out_dir(dir.path());
    let table = run_report(dir.path(), None);

    let header: Vec<&str> =
        table.lines().next().unwrap().split("  ").map(str::trim).filter(|c| !c.is_empty()).collect();
    assert_eq!(header, ["Mazhilis", "City maslikhat", "Oblast maslikhat"]);
    assert_eq!(line(&table, "stations (protocols)"), ["2", "1", "0"]);
    assert_eq!(line(&table, "voters on the lists"), ["1 500", "2 000", "0"]);
    assert_eq!(line(&table, "turnout (issued / voters)"), ["66.7%", "50.0%", "—"]);
    assert_eq!(line(&table, "unused ballots (unused / received)"), ["25.9%", "44.4%", "—"]);
    assert_eq!(line(&table, "Nur Otan"), ["50.0%", "50.0%", "—"]);
    assert_eq!(line(&table, "Auyl"), ["15.0%", "15.0%", "—"]);
    assert_eq!(line(&table, "Ak Zhol"), ["18.0%", "20.0%", "—"]);
    assert_eq!(line(&table, "Adal"), ["9.5%", "10.0%", "—"]);
    assert_eq!(line(&table, "QHP"), ["6.0%", "3.0%", "—"]);
    assert_eq!(line(&table, "spoiled"), ["1.5%", "2.0%", "—"]);
    assert_eq!(line(&table, "ballots received"), ["1 350", "1 800", "0"]);
    assert_eq!(line(&table, "ballots issued"), ["1 000", "1 000", "0"]);
    assert_eq!(line(&table, "ballots unused"), ["350", "800", "0"]);
    assert_eq!(line(&table, "ballots spoiled"), ["15", "20", "0"]);
    assert_eq!(line(&table, "votes: Nur Otan"), ["500", "500", "0"]);
    assert_eq!(line(&table, "votes: QHP"), ["60", "30", "0"]);
    assert!(
        table.contains(
            "Covers 4 verified protocols counted as 3 stations (1 station photographed more than once counted once). \
             Not in the totals: 1 pending review, 1 rejected"
        ),
        "{table}"
    );

    let report: Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let m = &report["mazhilis"];
    assert_eq!(m["stations"], 2);
    assert_eq!(m["voters_on_list"], 1500);
    assert_eq!(m["ballots_received"], 1350);
    assert_eq!(m["ballots_issued"], 1000);
    assert_eq!(m["ballots_unused"], 350);
    assert_eq!(m["ballots_spoiled"], 15);
    assert_eq!(m["votes"], json!({"nur_otan": 500, "ak_zhol": 180, "auyl": 150, "adal": 95, "qhp": 60}));
    assert_eq!(m["turnout"], 66.7);
    assert_eq!(m["unused"], 25.9);
    assert_eq!(
        m["shares"],
        json!({"nur_otan": 50.0, "ak_zhol": 18.0, "auyl": 15.0, "adal": 9.5, "qhp": 6.0, "spoiled": 1.5})
    );
    let c = &report["city_maslikhat"];
    assert_eq!(
        (c["stations"].clone(), c["turnout"].clone(), c["unused"].clone()),
        (json!(1), json!(50.0), json!(44.4))
    );
    assert_eq!(c["shares"]["qhp"], 3.0);
    assert_eq!(report["oblast_maslikhat"]["stations"], 0);
    assert_eq!(report["oblast_maslikhat"]["turnout"], Value::Null);
    let coverage = &report["coverage"];
    assert_eq!(coverage["protocols_counted"], 4);
    assert_eq!(
        coverage["counted_once"],
        json!([{"election": "mazhilis", "station": "2", "files": ["m2a.jpg", "m2b.jpg"]}])
    );
    assert_eq!(coverage["pending"][0]["file"], "m4.jpg");
    assert_eq!(coverage["rejected"][0]["file"], "m3.jpg");
    assert!(coverage["rejected"][0]["why"].as_str().unwrap().starts_with("rejected by Dana"));

    let csv = std::fs::read_to_string(dir.path().join("report.csv")).unwrap();
    let rows: Vec<&str> = csv.lines().collect();
    assert_eq!(rows[0], "row,mazhilis,city_maslikhat,oblast_maslikhat");
    assert!(rows.contains(&"stations,2,1,0"), "{csv}");
    assert!(rows.contains(&"voters_on_list,1500,2000,0"), "{csv}");
    assert!(rows.contains(&"turnout_percent,66.7,50.0,"), "{csv}");
    assert!(rows.contains(&"unused_percent,25.9,44.4,"), "{csv}");
    assert!(rows.contains(&"share_percent.adal,9.5,10.0,"), "{csv}");
    assert!(rows.contains(&"share_percent.spoiled,1.5,2.0,"), "{csv}");
    assert!(rows.contains(&"votes.ak_zhol,180,200,0"), "{csv}");

    let html = std::fs::read_to_string(dir.path().join("report.html")).unwrap();
    // Self-contained: inline charts, nothing fetched (the SVG namespace URI is a name, not a link).
    assert!(html.contains("<svg"));
    for outside in ["<script", "<link", "src=", "href=", "@import", "url("] {
        assert!(!html.contains(outside), "report.html refers outside: {outside}");
    }
}

#[test]
fn the_official_figures_give_the_exact_discrepancies() {
    let dir = tempfile::tempdir().unwrap();
    verified_out_dir(dir.path());
    let official = dir.path().join("official.csv");
    std::fs::write(
        &official,
        "election,station,voters_on_list,ballots_received,ballots_issued,ballots_unused,ballots_spoiled,nur_otan,ak_zhol,auyl,adal,votes.qhp\n\
         mazhilis,1,1000,900,620,300,10,320,100,90,60,40\n\
         mazhilis,2,500,450,400,50,5,200,80,60,35,20\n\
         mazhilis,3,700,700,700,0,0,700,0,0,0,0\n\
         mazhilis,4,900,900,500,400,5,400,50,20,20,5\n\
         mazhilis,5,100,100,50,50,0,50,0,0,0,0\n\
         city_maslikhat,10,2000,1800,1000,800,20,500,200,150,100,\n",
    )
    .unwrap();
    let text = run_report(dir.path(), Some(&official));
    let report: Value = serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    let o = &report["official"];
    assert_eq!(o["stations_in_both"], 3);
    assert_eq!(o["stations_differing"], 2);
    assert_eq!(
        o["discrepancies"],
        json!([
            {"election": "city_maslikhat", "station": "10", "line": "votes.qhp", "observed": 30, "official": null, "difference": null},
            {"election": "mazhilis", "station": "1", "line": "ballots_issued", "observed": 600, "official": 620, "difference": 20},
            {"election": "mazhilis", "station": "1", "line": "votes.nur_otan", "observed": 300, "official": 320, "difference": 20},
        ])
    );
    assert_eq!(o["totals"], json!({"mazhilis": {"ballots_issued": 20, "votes.nur_otan": 20}}));
    assert_eq!(o["only_observed"], json!([]));
    assert_eq!(
        o["only_official"],
        json!([
            {"election": "mazhilis", "station": "3", "note": "observed, rejected by a reviewer"},
            {"election": "mazhilis", "station": "4", "note": "observed, still pending review"},
            {"election": "mazhilis", "station": "5", "note": "no observer photo"},
        ])
    );
    assert!(text.contains("3 stations in both sources, 2 of them differ (3 lines)"), "{text}");
    assert!(text.contains("votes.nur_otan           observed     300  official     320  +20"), "{text}");

    // A broken official file is refused with its line.
    std::fs::write(&official, "election,station,voters_on_list\nmazhilis,1,12\n").unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_protocol-ocr"))
        .args(["report", dir.path().to_str().unwrap(), "--official", official.to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("no column for the line 'ballots_received'"));
}
