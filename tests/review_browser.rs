//! End to end in a real browser: Debian's headless Chromium, driven through
//! chromedriver's WebDriver API, on the review page of a real scan. A
//! reviewer names themself, opens the worst protocol of the queue, corrects
//! a value (the rules re-evaluate as they type), confirms another with the
//! keyboard; then the store, the export and `verify` must hold it all.
//! The last screen is saved as target/review-e2e.png (and as
//! docs/review.png with UPDATE_SCREENSHOT=1, for the README).

#[path = "common/http.rs"]
mod http;

use std::net::{SocketAddr, TcpListener};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine as _;
use http::{send, Server};
use protocol_ocr::review::store::{Action, ReviewStore, SqliteStore};
use serde_json::{json, Value};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// WebDriver's key for an element reference.
const ELEMENT_KEY: &str = "element-6066-11e4-a52e-4f735466cecf";
/// How long the page may take to show what a step waits for.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);
const MARKUP_DIR: &str = "<script>alert(1)<";
const REVIEWER: &str = "Aigerim Test";

struct Driver {
    address: SocketAddr,
    process: Child,
    session: String,
}

impl Driver {
    fn start(profile: &Path) -> Driver {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let process = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver (make test installs Debian's chromium-driver)");
        let address: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(address).is_err() {
            assert!(started.elapsed() < STEP_TIMEOUT, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        let mut driver = Driver { address, process, session: String::new() };
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--window-size=1600,1000",
        ];
        let mut args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {"binary": CHROMIUM, "args": args},
        }}});
        let answer = driver.call("POST", "/session", Some(caps));
        driver.session = answer["sessionId"].as_str().expect("a session").to_string();
        driver
    }

    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.try_call(method, path, body).unwrap_or_else(|error| panic!("{error}"))
    }

    /// A WebDriver call whose refusal (say, an element the page has just
    /// replaced) is the caller's to handle.
    fn try_call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let answer = send(self.address, method, path, &[("Content-Type", "application/json")], body.as_bytes());
        let value = answer.json();
        if answer.status != 200 {
            return Err(format!("{method} {path}: {} {}", answer.status, value));
        }
        Ok(value["value"].clone())
    }

    fn session(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        self.call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn try_session(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, String> {
        self.try_call(method, &format!("/session/{}{path}", self.session), body)
    }

    fn go(&self, url: &str) {
        self.session("POST", "/url", Some(json!({ "url": url })));
    }

    fn find_all(&self, css: &str) -> Vec<String> {
        let found = self.session("POST", "/elements", Some(json!({"using": "css selector", "value": css})));
        found.as_array().unwrap().iter().map(|e| e[ELEMENT_KEY].as_str().unwrap().to_string()).collect()
    }

    /// Waits for an element to exist and returns it.
    fn find(&self, css: &str) -> String {
        let started = Instant::now();
        loop {
            if let Some(e) = self.find_all(css).into_iter().next() {
                return e;
            }
            assert!(started.elapsed() < STEP_TIMEOUT, "no element {css}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The shown text of every element matching `css`, read inside the page
    /// in one step. The page replaces its lists (the queue, the checks) as
    /// values change, so an element found by one call may be gone by the
    /// next; reading them element by element fails at random.
    fn texts(&self, css: &str) -> Vec<String> {
        let found =
            self.script_with("return [...document.querySelectorAll(arguments[0])].map(e => e.innerText)", &[css]);
        found.as_array().unwrap().iter().map(|t| t.as_str().unwrap_or_default().to_string()).collect()
    }

    /// Clicks the first element matching `css` whose text contains
    /// `wanted`, looking again when the page replaced it in between.
    fn click_containing(&self, css: &str, wanted: &str) {
        let started = Instant::now();
        loop {
            for element in self.find_all(css) {
                let text = self.try_session("GET", &format!("/element/{element}/text"), None);
                let holds = text.is_ok_and(|t| t.as_str().unwrap_or_default().contains(wanted));
                if holds && self.try_session("POST", &format!("/element/{element}/click"), Some(json!({}))).is_ok() {
                    return;
                }
            }
            assert!(started.elapsed() < STEP_TIMEOUT, "no {css} showing {wanted:?} to click");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn click(&self, element: &str) {
        self.session("POST", &format!("/element/{element}/click"), Some(json!({})));
    }

    fn type_into(&self, element: &str, text: &str) {
        self.session("POST", &format!("/element/{element}/clear"), Some(json!({})));
        self.session("POST", &format!("/element/{element}/value"), Some(json!({ "text": text })));
    }

    fn press(&self, key: &str) {
        let actions = json!({"actions": [{"type": "key", "id": "keyboard", "actions": [
            {"type": "keyDown", "value": key}, {"type": "keyUp", "value": key}]}]});
        self.session("POST", "/actions", Some(actions));
    }

    fn script(&self, script: &str) -> Value {
        self.script_with(script, &[])
    }

    /// Runs `script` in the page with `args` as `arguments`.
    fn script_with(&self, script: &str, args: &[&str]) -> Value {
        self.session("POST", "/execute/sync", Some(json!({"script": script, "args": args})))
    }

    /// Waits until the element matching `css` shows text containing `wanted`.
    fn wait_text(&self, css: &str, wanted: &str) -> String {
        let started = Instant::now();
        loop {
            let text = self.texts(css).into_iter().next().unwrap_or_default();
            if text.contains(wanted) {
                return text;
            }
            assert!(started.elapsed() < STEP_TIMEOUT, "{css} shows {text:?}, not {wanted:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn screenshot(&self) -> Vec<u8> {
        let data = self.session("GET", "/screenshot", None);
        base64::engine::general_purpose::STANDARD.decode(data.as_str().unwrap()).unwrap()
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = send(self.address, "DELETE", &format!("/session/{}", self.session), &[], b"");
        }
        let _ = self.process.kill();
        let _ = self.process.wait();
    }
}

fn binary() -> &'static str {
    env!("CARGO_BIN_EXE_protocol-ocr")
}

/// Three real photos: a hard-rule failure, one under a file name full of
/// markup (a missing value), and a soft-rule warning.
fn scanned(dir: &Path) -> PathBuf {
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/sample/day1");
    let input = dir.join("in");
    std::fs::create_dir_all(input.join("day1")).unwrap();
    std::fs::create_dir_all(input.join(MARKUP_DIR)).unwrap();
    std::fs::copy(sample.join("IMG_0007.jpg"), input.join("day1/IMG_0007.jpg")).unwrap();
    std::fs::copy(sample.join("IMG_0002.jpg"), input.join("day1/IMG_0002.jpg")).unwrap();
    std::fs::copy(sample.join("IMG_0003.jpg"), input.join(MARKUP_DIR).join("script>.jpg")).unwrap();
    let out = dir.join("out");
    let status = Command::new(binary())
        .args(["scan", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"])
        .status()
        .unwrap();
    assert!(status.success());
    out
}

#[test]
fn a_reviewer_corrects_and_confirms_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let out = scanned(dir.path());
    let results = protocol_ocr::result::read_results(&out.join("results.jsonl")).unwrap();
    let hard = results.iter().find(|r| r.file == "day1/IMG_0007.jpg").unwrap();
    assert!(hard.flags.iter().any(|f| f == "rule:R3"), "the sample photo fails R3: {:?}", hard.flags);
    let spoiled = hard.fields["ballots_spoiled"].unwrap();
    let votes: u64 = hard.votes.values().map(|v| v.unwrap()).sum();
    let server = Server::start(&out, &[]);
    let driver = Driver::start(&dir.path().join("profile"));

    // The reviewer is asked for a name once (the dialog opens when the page
    // has loaded the form; its input is not typed into before).
    driver.go(&format!("http://{}/", server.address));
    let name = driver.find("#name-dialog[open] #name-input");
    driver.type_into(&name, REVIEWER);
    driver.click(&driver.find("#name-form button"));
    driver.wait_text("#who", REVIEWER);

    // The queue, worst first; markup in a file name shows as text.
    driver.wait_text("#remaining", "3 waiting for review");
    let items = driver.texts("#queue a.item");
    assert_eq!(items.len(), 3);
    assert!(items[0].contains("day1/IMG_0007.jpg"), "hard-rule failure first");
    assert!(items[1].contains("<script>alert(1)</script>.jpg"), "{}", items[1]);
    assert_eq!(driver.script("return document.scripts.length"), json!(1), "no script came in with the data");

    // Open it: R3 fails; fix ballots_issued and watch the rules change.
    driver.click_containing("#queue a.item", "day1/IMG_0007.jpg");
    driver.wait_text("#p-file", "day1/IMG_0007.jpg");
    driver.wait_text("#checks li.fail", "R3");
    // The boxes of the failing rule's values are red on the photo, once
    // it has loaded (the boxes are drawn again then).
    let red_boxes =
        "const img = document.getElementById('photo'); if (!img.complete || !img.naturalWidth) return null; \
        return [...document.querySelectorAll('#boxes .box')].filter(b => \
        getComputedStyle(b).borderTopColor === 'rgb(198, 40, 40)').map(b => b.dataset.key)";
    let started = Instant::now();
    let red: Vec<String> = loop {
        let found = driver.script(red_boxes);
        if let Some(keys) = found.as_array().filter(|k| !k.is_empty()) {
            break keys.iter().map(|k| k.as_str().unwrap().to_string()).collect();
        }
        assert!(started.elapsed() < STEP_TIMEOUT, "no red box on the photo: {found}");
        std::thread::sleep(Duration::from_millis(100));
    };
    let r3 = driver.texts("#checks li.fail").join(" ");
    assert!(red.iter().any(|k| k == "ballots_issued"), "R3's values are red ({red:?}; {r3})");
    // The reviewer holds a claim on it: the queue says so to everyone else.
    let queue = send(server.address, "GET", "/api/queue", &[], b"").json();
    let open = queue["items"].as_array().unwrap().iter().find(|i| i["file"] == "day1/IMG_0007.jpg").unwrap();
    assert_eq!(open["open_by"], REVIEWER);
    let issued = driver.find("#lines input[data-key='ballots_issued']");
    let new_issued = votes + spoiled;
    driver.type_into(&issued, &new_issued.to_string());
    let started = Instant::now();
    while driver.texts("#checks li.fail").iter().any(|text| text.contains("R3")) {
        assert!(started.elapsed() < STEP_TIMEOUT, "R3 still fails after the correction");
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(driver.texts("#correct")[0].contains("Save correction"));
    // Scrolled down to the buttons, as a reviewer at the bottom of a long form.
    driver.script("document.getElementById('correct').scrollIntoView({block: 'end'})");
    driver.click(&driver.find("#correct"));
    driver.wait_text("#message", "Saved: correct");
    // Wherever the reviewer has scrolled the next protocol to, the outcome shows.
    let shown = driver.script(
        "document.getElementById('form-pane').scrollTop = 0; \
         const r = document.getElementById('message').getBoundingClientRect(); \
         return r.height > 0 && r.top >= 0 && r.bottom <= window.innerHeight && r.left >= 0 && r.right <= window.innerWidth",
    );
    assert_eq!(shown, json!(true), "the save message is in view without scrolling");
    driver.wait_text("#remaining", "2 waiting for review");

    // Confirm the soft warning with the keyboard.
    driver.click_containing("#queue a.item", "IMG_0002");
    driver.wait_text("#p-file", "day1/IMG_0002.jpg");
    driver.script("document.activeElement && document.activeElement.blur()");
    driver.press("c");
    driver.wait_text("#message", "Saved: confirm");
    driver.wait_text("#remaining", "1 waiting for review");

    // Back on the markup protocol for the picture in the README.
    driver.click_containing("#queue a.item", "<script>");
    driver.wait_text("#p-file", "<script>");
    driver.script("document.getElementById('form-pane').scrollTop = 0");
    std::thread::sleep(Duration::from_millis(500));
    let png = driver.screenshot();
    let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target");
    std::fs::create_dir_all(&target).unwrap();
    std::fs::write(target.join("review-e2e.png"), &png).unwrap();
    if std::env::var_os("UPDATE_SCREENSHOT").is_some() {
        let shot = image::load_from_memory(&png).unwrap().resize(1200, 1200, image::imageops::FilterType::Triangle);
        shot.save(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/review.png")).unwrap();
    }
    drop(driver);
    drop(server);

    // The store holds both decisions, in order, by the named reviewer.
    let log = SqliteStore::open(&out).unwrap().log().unwrap();
    assert_eq!(log.len(), 2);
    assert_eq!((log[0].action, log[0].file.as_str()), (Action::Correct, "day1/IMG_0007.jpg"));
    assert_eq!(log[0].new.fields["ballots_issued"], Some(new_issued));
    assert_eq!(log[0].old.fields["ballots_issued"], hard.fields["ballots_issued"]);
    assert_eq!((log[1].action, log[1].file.as_str()), (Action::Confirm, "day1/IMG_0002.jpg"));
    assert!(log.iter().all(|e| e.reviewer == REVIEWER));

    // The export has them; verify finds the photos and the chain intact.
    let export = Command::new(binary()).args(["review", out.to_str().unwrap(), "--export"]).output().unwrap();
    assert!(export.status.success());
    let verified = std::fs::read_to_string(out.join("verified.jsonl")).unwrap();
    let row: Value = verified
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap())
        .find(|r| r["file"] == "day1/IMG_0007.jpg")
        .expect("the corrected protocol is verified");
    assert_eq!(row["fields"]["ballots_issued"], new_issued);
    assert_eq!(row["decided_by"], REVIEWER);
    assert_eq!(row["state"], "corrected");
    assert!(!verified.contains("script>.jpg"), "the pending protocol is not in the verified set");
    let check = Command::new(binary()).args(["verify", out.to_str().unwrap()]).output().unwrap();
    let report = String::from_utf8_lossy(&check.stdout);
    assert!(check.status.success(), "{report}");
    assert!(report.contains("review log: 2 decisions, hash chain intact"), "{report}");
}

/// A handwritten protocol: each handwritten count shows its cell as
/// photographed (drawn from the page, not blank) and the likeliest readings
/// as buttons; a click puts a reading in the value and the rules re-run.
#[test]
fn a_handwritten_cell_shows_its_crop_and_readings_in_a_real_browser() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in");
    let out = dir.path().join("out");
    let synth = Command::new(binary())
        .args(["synth", "--out", input.to_str().unwrap(), "--count", "1", "--seed", "8"])
        .args(["--handwritten", "1", "--inconsistent", "1"])
        .status()
        .unwrap();
    assert!(synth.success());
    std::fs::remove_file(input.join("truth.jsonl")).unwrap();
    let scan = Command::new(binary())
        .args(["scan", input.to_str().unwrap(), "--out", out.to_str().unwrap(), "-q"])
        .status()
        .unwrap();
    assert!(scan.success());
    let results = protocol_ocr::result::read_results(&out.join("results.jsonl")).unwrap();
    let protocol = &results[0];
    assert!(protocol.handwritten, "read as handwriting");
    let (key, candidates) = protocol.candidates.iter().next().expect("a handwritten value with rivals");
    let server = Server::start(&out, &[]);
    let driver = Driver::start(&dir.path().join("profile"));
    driver.go(&format!("http://{}/", server.address));
    driver.type_into(&driver.find("#name-dialog[open] #name-input"), REVIEWER);
    driver.click(&driver.find("#name-form button"));
    driver.wait_text("#who", REVIEWER);
    driver.click(&driver.find("#queue a.item"));
    driver.wait_text("#p-file", &protocol.file);

    // Every value with a box has its crop, drawn with ink from the photo.
    let started = Instant::now();
    let inked = "return [...document.querySelectorAll('canvas.cell-crop')].map(c => { \
        if (!c.width) return 0; const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data; \
        let dark = 0; for (let i = 0; i < d.length; i += 4) if (d[i] < 128) dark++; return dark; })";
    loop {
        let counts = driver.script(inked);
        let counts: Vec<u64> = counts.as_array().unwrap().iter().map(|v| v.as_u64().unwrap_or(0)).collect();
        if counts.len() == protocol.boxes.len() && counts.iter().all(|&n| n > 0) {
            break;
        }
        assert!(started.elapsed() < STEP_TIMEOUT, "crops not drawn: {counts:?} for {} boxes", protocol.boxes.len());
        std::thread::sleep(Duration::from_millis(100));
    }

    // The readings are offered; the runner-up, clicked, becomes the value.
    let row = format!("#lines tr[data-key='{key}']");
    let buttons = driver.find_all(&format!("{row} button.candidate"));
    assert_eq!(buttons.len(), candidates.len());
    let readings = driver.texts(&format!("{row} button.candidate"));
    assert!(readings[0].starts_with(&candidates[0].0.to_string()), "{readings:?}");
    driver.click(&buttons[1]);
    let value = driver.script(&format!("return document.querySelector(\"{row} input.value\").value"));
    assert_eq!(value, json!(candidates[1].0.to_string()));
    assert!(driver.texts("#correct")[0].contains("Save correction"), "the change is an edit to save");
}
