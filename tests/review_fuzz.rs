//! The review server driven with arbitrary requests — paths, methods,
//! headers (CR and LF included), bodies, and decisions whose every part may
//! be wrong — for a bounded number of cases (`PROPTEST_CASES`, as `make
//! fuzz` sets it). The real binary on a real SQLite file: it must answer
//! every request that reaches it, never with an internal error, never echo
//! a request's text into a header, and never store a decision whose values
//! the form model refuses.

#[path = "common/http.rs"]
mod http;
#[path = "common/review_fixture.rs"]
mod review_fixture;

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use http::{get, Server};
use proptest::prelude::*;
use protocol_ocr::model::FormModel;
use protocol_ocr::review::store::{ReviewStore, SqliteStore};
use protocol_ocr::review::web::validate_values;
use review_fixture::{out_dir, sha};
use serde_json::{json, Value};

/// Cases when `PROPTEST_CASES` does not say: a few seconds' worth.
const DEFAULT_CASES: u32 = 300;
/// A marker the fuzzer puts into header values and paths: it must never
/// come back in a response header.
const MARK: &str = "Injected";

/// Sends raw bytes; the status line's code, or `None` when the server
/// closed without answering (allowed for a request that is not HTTP), and
/// the header lines.
fn raw(address: SocketAddr, bytes: &[u8]) -> (Option<u16>, Vec<String>) {
    let mut stream = TcpStream::connect(address).unwrap();
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let _ = stream.write_all(bytes);
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let mut reader = BufReader::new(stream);
    let mut status = String::new();
    if reader.read_line(&mut status).unwrap_or(0) == 0 {
        return (None, Vec::new());
    }
    let code = status.split_whitespace().nth(1).and_then(|c| c.parse().ok());
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
            break;
        }
        headers.push(line.trim_end().to_string());
    }
    (code, headers)
}

fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/".to_string()),
        Just("/api/queue".to_string()),
        Just("/api/decide".to_string()),
        Just("/api/check".to_string()),
        Just("/api/claim".to_string()),
        Just(format!("/api/protocols/{}", sha("a.jpg"))),
        Just(format!("/photos/{}", sha("a.jpg"))),
        "/[a-z/%.?=&0-9]{0,40}".prop_map(|s| s),
        Just(format!("/?token=x%0d%0a{MARK}:%201")),
    ]
}

fn header() -> impl Strategy<Value = (String, String)> {
    let name = prop_oneof![
        Just("Content-Type".to_string()),
        Just("X-Protocol-OCR".to_string()),
        Just("Origin".to_string()),
        Just("Cookie".to_string()),
        Just("Transfer-Encoding".to_string()),
        Just("Sec-Fetch-Site".to_string()),
        "[A-Za-z-]{1,12}",
    ];
    let value = prop_oneof![
        Just("application/json".to_string()),
        Just("1".to_string()),
        Just(format!("x\r\n{MARK}: 1")),
        "[ -~]{0,30}",
    ];
    (name, value)
}

/// A count as a decision may carry it: right, too big, negative, not a number.
fn count() -> impl Strategy<Value = Value> {
    prop_oneof![
        (0u64..5000).prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        Just(json!(18446744073709551615u64)),
        (-5000i64..0).prop_map(|n| json!(n)),
        Just(json!(null)),
        "[0-9a-z=+]{0,8}".prop_map(|s| json!(s)),
        Just(json!(1.5)),
    ]
}

/// A decision body: a quarter of them a valid confirmation of the fixture
/// protocol (saved once, then refused as a stale version), the rest its
/// values with parts replaced.
fn decision(values: Value) -> impl Strategy<Value = Vec<u8>> {
    let valid = json!({"sha256": sha("a.jpg"), "version": 0, "action": "confirm", "values": values.clone(),
                       "reviewer": "Alice"})
    .to_string()
    .into_bytes();
    prop_oneof![1 => Just(valid), 3 => mangled_decision(values)]
}

/// The fixture protocol's values with parts replaced.
fn mangled_decision(values: Value) -> impl Strategy<Value = Vec<u8>> {
    let keys: Vec<(String, String)> = ["fields", "votes"]
        .iter()
        .flat_map(|part| {
            values[*part].as_object().unwrap().keys().map(|k| (part.to_string(), k.clone())).collect::<Vec<_>>()
        })
        .collect();
    let n = keys.len();
    (
        prop::collection::vec((0..n, count()), 0..4),
        prop_oneof![Just(json!("confirm")), Just(json!("correct")), Just(json!("reject")), Just(json!("delete"))],
        prop_oneof![Just(json!(null)), Just(json!("217")), Just(json!("=1+1")), "[ -~]{0,40}".prop_map(|s| json!(s))],
        prop_oneof![Just(json!("mazhilis")), Just(json!("senate")), Just(json!(null))],
        prop_oneof![Just("Alice".to_string()), "[ -~\r\n]{0,120}"],
        0i64..3,
        prop::option::of("[a-z_]{1,10}"),
    )
        .prop_map(move |(changes, action, station, election, reviewer, version, extra_key)| {
            let mut v = values.clone();
            for (i, value) in changes {
                let (part, key) = &keys[i];
                v[part.as_str()][key.as_str()] = value;
            }
            v["station"] = station;
            v["election"] = election;
            if let Some(extra) = extra_key {
                v["votes"][extra.as_str()] = json!(1);
            }
            let body = json!({"sha256": sha("a.jpg"), "version": version, "action": action, "values": v,
                              "reviewer": reviewer});
            body.to_string().into_bytes()
        })
}

#[test]
fn arbitrary_requests_neither_crash_the_server_nor_store_anything_invalid() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &[]);
    let address = server.address;
    let values = get(address, &format!("/api/protocols/{}", sha("a.jpg"))).json()["values"].clone();
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|n| n.parse().ok()).unwrap_or(DEFAULT_CASES);
    // Reproducible: the same requests every run (more with PROPTEST_CASES).
    let runner = || {
        use proptest::test_runner::{RngAlgorithm, TestRng, TestRunner};
        let config = ProptestConfig { cases, failure_persistence: None, ..ProptestConfig::default() };
        TestRunner::new_with_rng(config, TestRng::deterministic_rng(RngAlgorithm::ChaCha))
    };

    // Anything at all on the wire.
    let anything = (
        prop_oneof![Just("GET".to_string()), Just("POST".to_string()), "[A-Z]{1,7}"],
        path(),
        prop::collection::vec(header(), 0..5),
        prop::collection::vec(any::<u8>(), 0..300),
    );
    runner()
        .run(&anything, |(method, path, headers, body)| {
            let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
            for (k, v) in &headers {
                request.push_str(&format!("{k}: {v}\r\n"));
            }
            request.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
            let mut bytes = request.into_bytes();
            bytes.extend(&body);
            let (status, response_headers) = raw(address, &bytes);
            if let Some(status) = status {
                prop_assert!((200..600).contains(&status));
                prop_assert!(status != 500, "an internal error for {method} {path}");
            }
            prop_assert!(!response_headers.iter().any(|h| h.contains(MARK)), "{response_headers:?}");
            prop_assert!(!response_headers.iter().any(|h| h.to_ascii_lowercase().starts_with("set-cookie")));
            Ok(())
        })
        .unwrap();

    // Decisions with every part possibly wrong, sent as the page sends them.
    // A runner of its own: one that has run its cases runs no more.
    let decided = std::cell::Cell::new(0usize);
    runner()
        .run(&decision(values), |body| {
            let answer = http::send(
                address,
                "POST",
                "/api/decide",
                &[("Content-Type", "application/json"), ("X-Protocol-OCR", "1")],
                &body,
            );
            prop_assert!([200, 400, 404, 409].contains(&answer.status), "{} {}", answer.status, answer.text());
            decided.set(decided.get() + usize::from(answer.status == 200));
            Ok(())
        })
        .unwrap();

    // Still answering, and every decision stored is one the form allows.
    assert_eq!(get(address, "/api/queue").status, 200);
    assert!(decided.get() > 0, "some of the decisions were valid, and saved");
    let model = FormModel::load(None).unwrap();
    for entry in SqliteStore::open(dir.path()).unwrap().log().unwrap() {
        assert!(validate_values(&model, &entry.new).is_ok(), "stored: {:?}", entry.new);
        assert!(!entry.reviewer.chars().any(char::is_control), "{:?}", entry.reviewer);
    }
}
