//! The review server over HTTP, every endpoint and every refusal, on a
//! hand-made OUT_DIR whose results are known: the real binary, a real
//! SQLite file, plain HTTP requests.

#[path = "common/http.rs"]
mod http;
#[path = "common/review_fixture.rs"]
mod review_fixture;

use http::{get, post_json, send, Server};
use protocol_ocr::review::store::{ReviewStore, SqliteStore};
use review_fixture::{out_dir, sha, MARKUP_FILE};
use serde_json::json;

fn values_of(protocol: &serde_json::Value) -> serde_json::Value {
    protocol["values"].clone()
}

#[test]
fn the_queue_is_worst_first_with_counts_and_filters() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &[]);
    let page = get(server.address, "/");
    assert_eq!(page.status, 200);
    assert!(page.text().contains("<title>protocol-ocr · review</title>"));
    assert!(page.headers["content-security-policy"].contains("script-src 'self'"));
    assert_eq!(get(server.address, "/app.js").status, 200);
    assert_eq!(get(server.address, "/app.css").status, 200);

    let queue = get(server.address, "/api/queue").json();
    let files: Vec<&str> = queue["items"].as_array().unwrap().iter().map(|i| i["file"].as_str().unwrap()).collect();
    // Hard rule, conflicts, missing, low confidence, soft rule.
    assert_eq!(files, ["a.jpg", "d1.jpg", "d2.jpg", MARKUP_FILE, "low.jpg", "c.jpg"]);
    assert_eq!(queue["remaining"], 6);
    assert_eq!(queue["by_reason"]["rule:R1"], 1);
    assert_eq!(queue["by_reason"]["conflict"], 2);
    assert_eq!(queue["by_reason"]["missing"], 1);
    assert_eq!(queue["by_state"]["accepted"], 1);
    assert_eq!(queue["by_state"]["not_reviewed"], 2, "the byte copy and the failed file");

    let only = |query: &str| -> Vec<String> {
        get(server.address, &format!("/api/queue?{query}")).json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["file"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(only("level=oblast_maslikhat"), ["c.jpg"]);
    assert_eq!(only("station=104"), ["d1.jpg", "d2.jpg"]);
    assert_eq!(only("flag=low_confidence"), ["low.jpg"]);
    assert_eq!(only("flag=rule%3AR5"), ["c.jpg"]);
    assert_eq!(only("state=accepted"), ["b.jpg"]);
}

#[test]
fn a_protocol_page_explains_failures_and_shows_the_other_photo() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &[]);
    let a = get(server.address, &format!("/api/protocols/{}", sha("a.jpg"))).json();
    assert_eq!(a["file"], "a.jpg");
    assert_eq!(a["version"], 0);
    let r1 = a["checks"].as_array().unwrap().iter().find(|c| c["rule"] == "R1").unwrap();
    assert_eq!(r1["ok"], false);
    assert_eq!(
        r1["words"],
        "received 2300 ≠ issued 812 + unused 1478 (= 2290): off by 10 (ballots unaccounted for, or a misread)"
    );
    assert_eq!(a["photo"]["normalised"], true);
    assert_eq!(a["boxes"]["ballots_unused"], json!([1300, 800, 1450, 840]));

    let d1 = get(server.address, &format!("/api/protocols/{}", sha("d1.jpg"))).json();
    let siblings = d1["siblings"].as_array().unwrap();
    assert_eq!(siblings.len(), 1);
    assert_eq!(siblings[0]["file"], "d2.jpg");
    assert_eq!(siblings[0]["values"]["votes"]["qhp"], 56);

    // Live re-evaluation of edited values.
    let mut values = values_of(&a);
    values["fields"]["ballots_unused"] = json!(1488);
    let checks = post_json(server.address, "/api/check", &json!({ "values": values })).json();
    assert!(checks["checks"].as_array().unwrap().iter().all(|c| c["ok"] == true), "{checks}");

    // Markup in a file name is data: JSON-escaped here, text on the page.
    let markup = get(server.address, &format!("/api/protocols/{}", sha(MARKUP_FILE))).json();
    assert_eq!(markup["file"], MARKUP_FILE);
}

#[test]
fn photos_are_served_by_hash_only() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &[]);
    let photo = get(server.address, &format!("/photos/{}", sha("a.jpg")));
    assert_eq!(photo.status, 200);
    assert_eq!(photo.headers["content-type"], "image/jpeg");
    assert_eq!(photo.body, std::fs::read(dir.path().join("pages").join(format!("{}.jpg", sha("a.jpg")))).unwrap());
    for path in
        ["/photos/../results.jsonl", "/photos/..%2Fresults.jsonl", "/photos/a.jpg", "/api/protocols/../../etc/passwd"]
    {
        let answer = get(server.address, path);
        assert!(answer.status == 400 || answer.status == 404, "{path}: {}", answer.status);
        assert!(!answer.text().contains("voters_on_list"), "{path} leaked a file");
    }
    assert_eq!(get(server.address, &format!("/photos/{}", "0".repeat(64))).status, 404);
    assert_eq!(get(server.address, "/nothing-here").status, 404);
    assert_eq!(get(server.address, "/api/decide").status, 405);
}

#[test]
fn decisions_are_checked_versioned_and_survive_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &[]);
    let address = server.address;
    let a = get(address, &format!("/api/protocols/{}", sha("a.jpg"))).json();
    let mut corrected = values_of(&a);
    corrected["fields"]["ballots_unused"] = json!(1488);
    let decision = |action: &str, values: &serde_json::Value, version: i64, reviewer: &str| {
        json!({"sha256": sha("a.jpg"), "version": version, "action": action, "values": values,
               "note": "unused reads 1488 on the photo", "reviewer": reviewer})
    };
    let body = decision("correct", &corrected, 0, "Alice").to_string();

    // Refusals: not JSON, no anti-CSRF header, another origin, too big, malformed.
    let plain = send(
        address,
        "POST",
        "/api/decide",
        &[("Content-Type", "text/plain"), ("X-Protocol-OCR", "1")],
        body.as_bytes(),
    );
    assert_eq!(plain.status, 403);
    let no_header = send(address, "POST", "/api/decide", &[("Content-Type", "application/json")], body.as_bytes());
    assert_eq!(no_header.status, 403);
    assert!(no_header.json()["error"].as_str().unwrap().contains("X-Protocol-OCR"));
    let cross = send(
        address,
        "POST",
        "/api/decide",
        &[("Content-Type", "application/json"), ("X-Protocol-OCR", "1"), ("Origin", "http://evil.example")],
        body.as_bytes(),
    );
    assert_eq!(cross.status, 403);
    let huge = vec![b'x'; 200_000];
    let big =
        send(address, "POST", "/api/decide", &[("Content-Type", "application/json"), ("X-Protocol-OCR", "1")], &huge);
    assert_eq!(big.status, 413);
    let broken = send(
        address,
        "POST",
        "/api/decide",
        &[("Content-Type", "application/json"), ("X-Protocol-OCR", "1")],
        b"{\"sha256\": 3",
    );
    assert_eq!(broken.status, 400);
    assert!(broken.json()["error"].as_str().unwrap().contains("not valid JSON"));
    let unknown = post_json(
        address,
        "/api/decide",
        &json!({"sha256": "0".repeat(64), "version": 0, "action": "confirm", "values": values_of(&a), "reviewer": "Alice"}),
    );
    assert_eq!(unknown.status, 404);
    let no_name = post_json(address, "/api/decide", &decision("correct", &corrected, 0, " "));
    assert_eq!(no_name.status, 400);
    let confirm_changed = post_json(address, "/api/decide", &decision("confirm", &corrected, 0, "Alice"));
    assert_eq!(confirm_changed.status, 400, "a changed value is a correction");
    let copy = post_json(
        address,
        "/api/decide",
        &json!({"sha256": sha("b.jpg"), "version": 0, "action": "bogus", "values": values_of(&a), "reviewer": "Alice"}),
    );
    assert_eq!(copy.status, 400);

    // Alice corrects; Bob, who loaded the page before, is told.
    let saved = post_json(address, "/api/decide", &decision("correct", &corrected, 0, "Alice"));
    assert_eq!(saved.status, 200, "{}", saved.text());
    assert_eq!(saved.json()["saved"]["seq"], 1);
    let late = post_json(address, "/api/decide", &decision("confirm", &values_of(&a), 0, "Bob"));
    assert_eq!(late.status, 409);
    assert!(late.json()["error"].as_str().unwrap().starts_with("changed by Alice at "), "{}", late.text());

    // kill -9, start again: the decision is there.
    server.kill();
    let server = Server::start(dir.path(), &[]);
    let a = get(server.address, &format!("/api/protocols/{}", sha("a.jpg"))).json();
    assert_eq!(a["version"], 1);
    assert_eq!(a["state"], "corrected");
    assert_eq!(a["values"]["fields"]["ballots_unused"], 1488);
    assert_eq!(a["history"][0]["reviewer"], "Alice");
    assert_eq!(a["history"][0]["old"]["fields"]["ballots_unused"], 1478);
    assert_eq!(get(server.address, "/api/queue").json()["remaining"], 5);

    // The export holds it; the store's log is a chain from the genesis hash.
    let export = post_json(server.address, "/api/export", &json!({}));
    assert_eq!(export.status, 200);
    assert_eq!(export.json()["rows"], 2, "the accepted protocol and the corrected one");
    let verified = std::fs::read_to_string(dir.path().join("verified.jsonl")).unwrap();
    assert!(verified.contains("\"decided_by\":\"Alice\""), "{verified}");
    let log = SqliteStore::open(dir.path()).unwrap().log().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].prev_hash, protocol_ocr::review::store::GENESIS_HASH);
    assert_eq!(log[0].hash, log[0].compute_hash());
}

#[test]
fn a_token_guards_every_request_and_the_network_needs_one() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let refused = std::process::Command::new(env!("CARGO_BIN_EXE_protocol-ocr"))
        .args(["review", dir.path().to_str().unwrap(), "--bind", "0.0.0.0:0"])
        .env_remove("PROTOCOL_OCR_TOKEN")
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("give a token"));

    let server = Server::start(dir.path(), &["--token", "s3cret-token"]);
    for path in ["/", "/api/queue", &format!("/photos/{}", sha("a.jpg"))] {
        assert_eq!(get(server.address, path).status, 401, "{path}");
    }
    assert_eq!(get(server.address, "/?token=wrong").status, 401);
    let opened = get(server.address, "/?token=s3cret-token");
    assert_eq!(opened.status, 200);
    assert!(opened.headers["set-cookie"].contains("HttpOnly"));
    let with_cookie = send(server.address, "GET", "/api/queue", &[("Cookie", "protocol_ocr_token=s3cret-token")], b"");
    assert_eq!(with_cookie.status, 200);
    let with_bearer = send(server.address, "GET", "/api/queue", &[("Authorization", "Bearer s3cret-token")], b"");
    assert_eq!(with_bearer.status, 200);
}

#[test]
fn a_crafted_token_link_cannot_write_headers_or_replace_a_good_cookie() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &["--token", "s3cret-token"]);
    // A reviewer already signed in (a good cookie) follows a link whose
    // token ends the headers early and adds its own.
    let cookie = [("Cookie", "protocol_ocr_token=s3cret-token")];
    let crafted = "/?token=x%0d%0aX-Injected:%201%0d%0a%0d%0a%3Cscript%3Ealert(1)%3C/script%3E";
    let answer = send(server.address, "GET", crafted, &cookie, b"");
    assert_eq!(answer.status, 200);
    assert!(!answer.headers.contains_key("x-injected"), "{:?}", answer.headers);
    assert!(!answer.headers.contains_key("set-cookie"), "{:?}", answer.headers);
    assert!(answer.headers["content-security-policy"].contains("script-src 'self'"));
    assert!(!answer.text().contains("alert(1)"));
    // Without the cookie the same link is refused outright.
    assert_eq!(get(server.address, crafted).status, 401);
    // A reviewer with a good cookie who follows a link with a wrong token
    // is neither logged out nor handed the link's token.
    let followed = send(server.address, "GET", "/?token=wrong", &cookie, b"");
    assert_eq!(followed.status, 200);
    assert!(!followed.headers.contains_key("set-cookie"), "{:?}", followed.headers);
    // The right token sets the server's own token as the cookie.
    let opened = get(server.address, "/?token=s3cret-token");
    assert_eq!(opened.headers["set-cookie"], "protocol_ocr_token=s3cret-token; HttpOnly; SameSite=Strict; Path=/");
    // A token that could not travel safely in a cookie is refused at start.
    let unsafe_token = std::process::Command::new(env!("CARGO_BIN_EXE_protocol-ocr"))
        .args(["review", dir.path().to_str().unwrap(), "--bind", "127.0.0.1:0", "--token", "a;b"])
        .output()
        .unwrap();
    assert_eq!(unsafe_token.status.code(), Some(2));
}

#[test]
fn a_request_to_a_foreign_host_name_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &[]);
    let a = get(server.address, &format!("/api/protocols/{}", sha("a.jpg"))).json();
    let body = json!({"sha256": sha("a.jpg"), "version": 0, "action": "confirm", "values": values_of(&a),
                      "reviewer": "Mallory"})
    .to_string();
    let headers = [("Host", "evil.example:8080"), ("Content-Type", "application/json"), ("X-Protocol-OCR", "1")];
    let rebound = send(server.address, "POST", "/api/decide", &headers, body.as_bytes());
    assert_eq!(rebound.status, 421, "{}", rebound.text());
    assert_eq!(send(server.address, "GET", "/api/queue", &[("Host", "evil.example")], b"").status, 421);
    let port = server.address.port();
    let by_name = send(server.address, "GET", "/api/queue", &[("Host", &format!("localhost:{port}"))], b"");
    assert_eq!(by_name.status, 200);
    let a = get(server.address, &format!("/api/protocols/{}", sha("a.jpg"))).json();
    assert_eq!(a["version"], 0, "nothing was saved");
}

#[test]
fn values_no_protocol_can_hold_are_refused_at_the_api() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &[]);
    let a = get(server.address, &format!("/api/protocols/{}", sha("a.jpg"))).json();
    let decide = |values: &serde_json::Value| {
        post_json(
            server.address,
            "/api/decide",
            &json!({"sha256": sha("a.jpg"), "version": 0, "action": "correct", "values": values, "reviewer": "Alice"}),
        )
    };
    let mut huge = values_of(&a);
    huge["votes"]["nur_otan"] = json!(18446744073709551615u64);
    let refused = decide(&huge);
    assert_eq!(refused.status, 400, "{}", refused.text());
    assert!(refused.json()["error"].as_str().unwrap().contains("votes.nur_otan"), "{}", refused.text());
    assert_eq!(post_json(server.address, "/api/check", &json!({ "values": huge })).status, 400);
    let mut seven_digits = values_of(&a);
    seven_digits["fields"]["voters_on_list"] = json!(1_000_000);
    assert_eq!(decide(&seven_digits).status, 400);
    let mut station = values_of(&a);
    station["station"] = json!("=1+1");
    assert_eq!(decide(&station).status, 400);
    let mut election = values_of(&a);
    election["election"] = json!("senate");
    assert_eq!(decide(&election).status, 400);
    let mut extra = values_of(&a);
    extra["votes"]["new_party"] = json!(1);
    assert_eq!(decide(&extra).status, 400);
    let a = get(server.address, &format!("/api/protocols/{}", sha("a.jpg"))).json();
    assert_eq!(a["version"], 0, "nothing was saved");
    let mut fine = values_of(&a);
    fine["votes"]["nur_otan"] = json!(999_999);
    assert_eq!(decide(&fine).status, 200);
}

#[test]
fn clients_stalled_in_their_bodies_hold_up_nobody_else() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &[]);
    // Four connections announce a chunked body, send a piece, and stall.
    let stalled: Vec<std::net::TcpStream> = (0..4)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(server.address).unwrap();
            let head = format!(
                "POST /api/check HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nX-Protocol-OCR: 1\r\n\
                 Transfer-Encoding: chunked\r\n\r\n5\r\n{{\"val",
                server.address
            );
            s.write_all(head.as_bytes()).unwrap();
            s
        })
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(300));
    let started = std::time::Instant::now();
    let queue = get(server.address, "/api/queue");
    assert_eq!(queue.status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(1), "answered in {:?}", started.elapsed());
    let a = get(server.address, &format!("/api/protocols/{}", sha("a.jpg"))).json();
    let checked = post_json(server.address, "/api/check", &json!({ "values": values_of(&a) }));
    assert_eq!(checked.status, 200);
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "answered in {:?}", started.elapsed());
    drop(stalled);
}

#[test]
fn without_the_token_a_body_is_never_read() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &["--token", "s3cret-token"]);
    // A stalled chunked body without a token is refused on its headers alone.
    let mut s = std::net::TcpStream::connect(server.address).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5))).unwrap();
    let head = format!(
        "POST /api/decide HTTP/1.1\r\nHost: {}\r\nContent-Type: application/json\r\nX-Protocol-OCR: 1\r\n\
         Transfer-Encoding: chunked\r\n\r\n5\r\n{{\"sha",
        server.address
    );
    s.write_all(head.as_bytes()).unwrap();
    let mut answer = [0u8; 12];
    s.read_exact(&mut answer).unwrap();
    assert_eq!(&answer, b"HTTP/1.1 401");
}

#[test]
fn a_head_file_that_cannot_be_written_is_reported_truthfully() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &[]);
    let a = get(server.address, &format!("/api/protocols/{}", sha("a.jpg"))).json();
    let body = json!({"sha256": sha("a.jpg"), "version": 0, "action": "confirm", "values": values_of(&a),
                      "reviewer": "Alice"});
    let head = dir.path().join(protocol_ocr::review::store::REVIEW_HEAD_FILE);
    std::fs::create_dir(&head).unwrap();
    let failed = post_json(server.address, "/api/decide", &body);
    assert_eq!(failed.status, 500);
    assert!(failed.json()["error"].as_str().unwrap().contains("not saved"), "{}", failed.text());
    std::fs::remove_dir(&head).unwrap();
    // The page's retry, with the same version, is saved: no 409 naming the same reviewer.
    let retried = post_json(server.address, "/api/decide", &body);
    assert_eq!(retried.status, 200, "{}", retried.text());
    assert_eq!(retried.json()["evidence_head"], retried.json()["saved"]["hash"]);
    let chain =
        protocol_ocr::review::store::verify_chain(dir.path(), protocol_ocr::review::store::GENESIS_HASH).unwrap();
    assert!(chain.ok(), "{:?}", chain.problems);
    assert_eq!(chain.entries, 1);
}

#[test]
fn a_protocol_one_reviewer_has_open_is_not_decided_by_another() {
    let dir = tempfile::tempdir().unwrap();
    out_dir(dir.path());
    let server = Server::start(dir.path(), &[]);
    let address = server.address;
    let claim = |who: &str| post_json(address, "/api/claim", &json!({"sha256": sha("a.jpg"), "reviewer": who}));
    assert_eq!(claim("Alice").status, 200);
    assert_eq!(claim("Alice").status, 200, "renewing one's own claim");
    let taken = claim("Bob");
    assert_eq!(taken.status, 409);
    assert_eq!(taken.json()["open_by"], "Alice");
    let queue = get(address, "/api/queue").json();
    let item = queue["items"].as_array().unwrap().iter().find(|i| i["file"] == "a.jpg").unwrap().clone();
    assert_eq!(item["open_by"], "Alice");

    let a = get(address, &format!("/api/protocols/{}", sha("a.jpg"))).json();
    let decide = |who: &str| {
        post_json(
            address,
            "/api/decide",
            &json!({"sha256": sha("a.jpg"), "version": 0, "action": "confirm", "values": values_of(&a), "reviewer": who}),
        )
    };
    let refused = decide("Bob");
    assert_eq!(refused.status, 409);
    assert!(
        refused.json()["error"].as_str().unwrap().starts_with("Alice has this protocol open"),
        "{}",
        refused.text()
    );
    assert_eq!(decide("Alice").status, 200);
    // Deciding frees the claim.
    assert_eq!(claim("Bob").status, 200);
    let released = post_json(address, "/api/release", &json!({"sha256": sha("a.jpg"), "reviewer": "Bob"}));
    assert_eq!(released.status, 200);
    let queue = get(address, "/api/queue?state=all").json();
    let item = queue["items"].as_array().unwrap().iter().find(|i| i["file"] == "a.jpg").unwrap().clone();
    assert!(item["open_by"].is_null(), "{item}");
    assert_eq!(post_json(address, "/api/claim", &json!({"sha256": sha("a.jpg"), "reviewer": " "})).status, 400);
}
