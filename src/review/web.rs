//! The reviewers' web page: a small HTTP server over the review store.
//!
//! One page (HTML, script and style embedded in the binary, no outside
//! resources) and a JSON API under `/api/`. The server listens on loopback
//! unless told otherwise; any other address needs a token, and then every
//! request without it is refused. Photos are served by SHA-256 only, never
//! by a path from the request. State-changing requests are POST with a JSON
//! body, a custom header and a same-origin check (a cross-site form cannot
//! send them); bodies are size-limited; bad input is a 4xx with a sentence.
//! Everything the page shows is inserted as text, never as markup.
//!
//! Before anything else a request's `Host` must name the address the server
//! listens on (a page on another site, its name rebound to 127.0.0.1,
//! cannot talk to it), and its token must be right; only then is its body
//! read. Each request is answered on a thread of its own, a bounded number
//! at once, so a client that stalls in its body holds up nobody else. No
//! value from a request is ever written into a response header, and the
//! values of a decision are checked against the form model (digits, range,
//! keys) before they reach the store.

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};
use tiny_http::{Header, Method, Request, Response, Server};

use super::api;
use super::store::{Action, Decision, Entry, Protocol, ReviewState, ReviewStore, SaveError, SqliteStore, Values};
use super::verified::{export, verified_set};
use crate::flag::{severity_of, Flag};
use crate::model::{FormModel, LineKind};
use crate::result::Status;
use crate::rules;
use crate::scan::write::PAGES_DIR;

/// The default address: this machine only.
pub const DEFAULT_BIND: &str = "127.0.0.1:8080";
/// Environment variable holding the access token (instead of `--token`).
pub const TOKEN_ENV: &str = "PROTOCOL_OCR_TOKEN";
/// The largest request body accepted: a decision is a few hundred bytes.
pub const MAX_BODY_BYTES: u64 = 64 * 1024;
/// Header every state-changing request must carry. A cross-site form cannot
/// set it, and a cross-site script cannot without a CORS grant we never give.
pub const CSRF_HEADER: &str = "X-Protocol-OCR";
/// Cookie that carries the token once the page was opened with `?token=`.
const TOKEN_COOKIE: &str = "protocol_ocr_token";
/// Requests answered at once, each on its own thread: far more than a team
/// of reviewers sends, so a few clients stalling in their bodies (each
/// holds one until it gives up) leave room for everyone else. Beyond it a
/// request is refused at once with 503.
const MAX_REQUESTS_IN_FLIGHT: usize = 32;
/// How long a reviewer's claim on the protocol they have open lasts; the
/// page renews it every minute while the protocol stays open, so a closed
/// tab frees it within this time.
pub const LEASE_SECONDS: u64 = 180;
/// The longest station a decision may name: a number, or codes with
/// separators (`32/15/04/024`).
const MAX_STATION_CHARS: usize = 32;

const INDEX_HTML: &str = include_str!("../../assets/review/index.html");
const APP_JS: &str = include_str!("../../assets/review/app.js");
const APP_CSS: &str = include_str!("../../assets/review/app.css");

/// How the server is started.
#[derive(Debug, Clone)]
pub struct ReviewOptions {
    pub out: PathBuf,
    pub bind: SocketAddr,
    pub token: Option<String>,
}

/// Refuses to listen beyond loopback without a token, and a token that
/// could not travel safely in a link and a cookie.
pub fn check_bind(bind: &SocketAddr, token: Option<&str>) -> Result<()> {
    if !bind.ip().is_loopback() && token.is_none_or(str::is_empty) {
        bail!("binding {bind} opens the review to the network: give a token with --token or {TOKEN_ENV}");
    }
    if let Some(token) = token {
        if !token.bytes().all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b)) {
            bail!("a token may hold only letters, digits and - . _ ~ (it travels in a link and a cookie)");
        }
    }
    Ok(())
}

/// The `Host` values a request may carry for a server listening on
/// `address`: its own address, and `localhost` on loopback; `None` (any)
/// when it listens on every interface, where the token guards it.
fn allowed_hosts(address: SocketAddr) -> Option<Vec<String>> {
    let port = address.port();
    let ip = address.ip();
    if ip.is_unspecified() {
        return None;
    }
    let mut hosts = vec![address.to_string()];
    if ip.is_loopback() {
        hosts.extend([format!("localhost:{port}"), format!("127.0.0.1:{port}"), format!("[::1]:{port}")]);
    }
    Some(hosts)
}

/// The server's state, shared by its threads.
pub struct App {
    out: PathBuf,
    input: Option<PathBuf>,
    model: FormModel,
    store: Box<dyn ReviewStore>,
    token: Option<String>,
    /// Set when the socket is bound: see [`allowed_hosts`].
    hosts: OnceLock<Option<Vec<String>>>,
    /// Who has which protocol open (by photo SHA-256), so two reviewers do
    /// not work the same one. Kept in memory: a restart frees every claim.
    leases: std::sync::Mutex<BTreeMap<String, Lease>>,
}

/// A reviewer's claim on an open protocol.
#[derive(Debug, Clone)]
struct Lease {
    reviewer: String,
    until: std::time::Instant,
}

impl Lease {
    /// "Alice has this protocol open (for 170 more seconds)".
    fn describe(&self) -> String {
        let left = self.until.saturating_duration_since(std::time::Instant::now()).as_secs();
        format!("{} has this protocol open (for {left} more seconds)", self.reviewer)
    }
}

/// A started server; dropping it does not stop it (call [`Running::wait`]).
pub struct Running {
    pub address: SocketAddr,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl Running {
    /// Blocks while the server runs.
    pub fn wait(self) {
        for t in self.threads {
            let _ = t.join();
        }
    }
}

impl App {
    /// Opens OUT_DIR's store (made from results.jsonl on first start).
    pub fn open(out: &Path, model: FormModel, token: Option<String>) -> Result<App> {
        if !out.join("results.jsonl").exists() {
            bail!("{} has no results.jsonl: run scan first", out.display());
        }
        let store = SqliteStore::open(out)?;
        let input = crate::manifest::Manifest::load(out).ok().map(|m| PathBuf::from(m.input));
        Ok(App {
            out: out.to_path_buf(),
            input,
            model,
            store: Box::new(store),
            token,
            hosts: OnceLock::new(),
            leases: Default::default(),
        })
    }

    /// Starts listening; returns once the socket is bound.
    pub fn serve(self, bind: SocketAddr) -> Result<Running> {
        check_bind(&bind, self.token.as_deref())?;
        let server = Server::http(bind).map_err(|e| anyhow::anyhow!("cannot listen on {bind}: {e}"))?;
        let address = server.server_addr().to_ip().context("not an IP address")?;
        let _ = self.hosts.set(allowed_hosts(address));
        let app = Arc::new(self);
        let in_flight = Arc::new(AtomicUsize::new(0));
        let accept = std::thread::spawn(move || {
            while let Ok(request) = server.recv() {
                if in_flight.fetch_add(1, Ordering::SeqCst) >= MAX_REQUESTS_IN_FLIGHT {
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                    let busy = Reply::error(503, "the server is busy: try again in a moment");
                    let _ = request.respond(busy.into_response());
                    continue;
                }
                let (app, in_flight) = (app.clone(), in_flight.clone());
                std::thread::spawn(move || {
                    app.answer(request);
                    in_flight.fetch_sub(1, Ordering::SeqCst);
                });
            }
        });
        Ok(Running { address, threads: vec![accept] })
    }

    fn answer(&self, mut request: Request) {
        let call = Call::of(&request);
        let reply = match self.admit(&call) {
            Err(refusal) => refusal,
            Ok(()) => match read_body(&mut request) {
                Ok(body) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.route(&call, &body)))
                    .unwrap_or_else(|_| Reply::error(500, "internal error (a bug; please report it)")),
                Err(reply) => reply,
            },
        };
        let _ = request.respond(reply.into_response());
    }

    /// What is checked before a request's body is read: the Host it was
    /// sent to, its token, and for a state change its same-origin marks.
    fn admit(&self, call: &Call) -> Result<(), Reply> {
        if let Some(Some(hosts)) = self.hosts.get() {
            let host = call.header("host").unwrap_or_default();
            if !hosts.iter().any(|h| h.eq_ignore_ascii_case(host)) {
                return Err(Reply::error(
                    421,
                    "refused: the request was sent to another host name than this server's address",
                ));
            }
        }
        if let Some(token) = &self.token {
            let right = |p: &str| constant_time_eq(p.as_bytes(), token.as_bytes());
            let presented = [call.bearer(), call.cookie(TOKEN_COOKIE), call.query.get("token").cloned()];
            if !presented.iter().flatten().any(|p| right(p)) {
                return Err(Reply::error(
                    401,
                    "a token is needed: open the page with ?token=… or send Authorization: Bearer …",
                ));
            }
        }
        if call.method == Method::Post {
            call.same_origin_json().map_err(|why| Reply::error(403, &why))?;
        }
        Ok(())
    }

    fn route(&self, call: &Call, body: &[u8]) -> Reply {
        let path = call.path.as_str();
        let reply = match (&call.method, path) {
            (Method::Get, "/") => Reply::asset(INDEX_HTML, "text/html; charset=utf-8"),
            (Method::Get, "/app.js") => Reply::asset(APP_JS, "text/javascript; charset=utf-8"),
            (Method::Get, "/app.css") => Reply::asset(APP_CSS, "text/css; charset=utf-8"),
            (Method::Get, "/api/queue") => self.queue(call),
            (Method::Get, "/api/model") => Reply::json(200, &self.model_reply()),
            (Method::Get, p) if p.starts_with("/api/protocols/") => self.protocol(&p["/api/protocols/".len()..]),
            (Method::Get, p) if p.starts_with("/photos/") => self.photo(&p["/photos/".len()..]),
            (Method::Post, "/api/check") => self.check(body),
            (Method::Post, "/api/decide") => self.decide(body),
            (Method::Post, "/api/claim") => self.claim(body),
            (Method::Post, "/api/release") => self.release(body),
            (Method::Post, "/api/export") => self.export(),
            (
                _,
                "/" | "/app.js" | "/app.css" | "/api/queue" | "/api/model" | "/api/check" | "/api/decide"
                | "/api/claim" | "/api/release" | "/api/export",
            ) => Reply::error(405, "method not allowed here"),
            _ => Reply::error(404, "no such page"),
        };
        // Opening the page with the right ?token= keeps the token in a
        // cookie that only this site's same-site requests carry. The cookie
        // holds the server's own token (checked safe at start), never the
        // request's text; a wrong one in the link leaves a good cookie alone.
        match (&self.token, call.query.get("token")) {
            (Some(token), Some(t)) if path == "/" && constant_time_eq(t.as_bytes(), token.as_bytes()) => {
                reply.with_header("Set-Cookie", &format!("{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/"))
            }
            _ => reply,
        }
    }

    fn protocols(&self) -> Result<Vec<Protocol>, Reply> {
        self.store.protocols().map_err(|e| Reply::error(500, &format!("the store cannot be read: {e:#}")))
    }

    fn queue(&self, call: &Call) -> Reply {
        let protocols = match self.protocols() {
            Ok(p) => p,
            Err(reply) => return reply,
        };
        let want_state = call.query.get("state").map(String::as_str).unwrap_or("pending");
        let level = call.query.get("level").filter(|s| !s.is_empty());
        let station = call.query.get("station").filter(|s| !s.is_empty());
        let flag = call.query.get("flag").filter(|s| !s.is_empty());
        let mut by_reason: BTreeMap<String, usize> = BTreeMap::new();
        let mut by_state: BTreeMap<&str, usize> = BTreeMap::new();
        let mut items = Vec::new();
        for p in &protocols {
            let state = p.state();
            *by_state.entry(state.as_str()).or_default() += 1;
            if state == ReviewState::Pending {
                let mut kinds: Vec<String> = p.result.flags.iter().map(|f| reason(f)).collect();
                kinds.dedup();
                for k in kinds {
                    *by_reason.entry(k).or_default() += 1;
                }
            }
            let state_matches = match want_state {
                "all" => state != ReviewState::NotReviewed,
                "decided" => matches!(state, ReviewState::Confirmed | ReviewState::Corrected | ReviewState::Rejected),
                other => state.as_str() == other,
            };
            let values = p.values();
            if !state_matches
                || level.is_some_and(|l| values.election.as_deref() != Some(l.as_str()))
                || station.is_some_and(|s| !values.station.as_deref().unwrap_or("").contains(s.as_str()))
                || flag.is_some_and(|f| !p.result.flags.iter().any(|x| x == f || reason(x) == *f))
            {
                continue;
            }
            let severity = p.result.flags.iter().map(|f| severity_of(&self.model, f)).min().unwrap_or(9);
            items.push((severity, p, values, state));
        }
        items.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.result.file.cmp(&b.1.result.file)));
        let leases = self.live_leases();
        let items: Vec<api::QueueItem> = items
            .into_iter()
            .map(|(severity, p, values, state)| api::QueueItem {
                file: &p.result.file,
                sha256: &p.result.sha256,
                election: values.election,
                station: values.station,
                region: &p.result.region,
                flags: &p.result.flags,
                state: state.as_str(),
                severity,
                open_by: leases.get(&p.result.sha256).map(|l| l.reviewer.clone()),
            })
            .collect();
        Reply::json(
            200,
            &api::Queue {
                remaining: by_state.get("pending").copied().unwrap_or(0),
                by_state,
                by_reason,
                shown: items.len(),
                items,
            },
        )
    }

    fn model_reply(&self) -> api::Model<'_> {
        let model = &self.model;
        let lines = model
            .lines
            .iter()
            .map(|l| api::ModelLine {
                key: &l.key,
                short_key: &l.short_key,
                number: l.number,
                kind: if l.kind == LineKind::Field { "field" } else { "party" },
                labels: &l.label.0,
                label_kk: model.text_in(&l.label, "kk"),
                label_ru: model.text_in(&l.label, "ru"),
                name: line_name(model, &l.key),
            })
            .collect();
        let elections = model
            .elections
            .iter()
            .map(|e| api::Election { key: &e.key, title: model.reviewer_text(&e.title) })
            .collect();
        api::Model { id: &model.id, elections, lines }
    }

    fn checks(&self, values: &Values) -> Vec<api::RuleCheck<'_>> {
        let flat = crate::model::join_values(&self.model, &values.fields, &values.votes);
        let parties = self.model.party_keys();
        let name = |k: &str| line_name(&self.model, k);
        self.model
            .rules
            .iter()
            .zip(self.model.check(&flat))
            .map(|(rule, check)| {
                let words = rules::explain_failure(&rule.relation, &flat, &parties, &name, &rule.explain);
                api::RuleCheck {
                    rule: check.rule,
                    kind: check.kind.as_str(),
                    ok: check.holds == Some(true),
                    evaluated: check.holds.is_some(),
                    words: words.unwrap_or_else(|| check.detail.clone()),
                    detail: check.detail,
                    keys: rule.relation.keys(),
                    uses_votes: rule.relation.uses_votes(),
                    text: &rule.text,
                }
            })
            .collect()
    }

    fn protocol(&self, sha: &str) -> Reply {
        if !is_sha256(sha) {
            return Reply::error(400, "a protocol is named by its photo's SHA-256 (64 hex digits)");
        }
        let p = match self.store.protocol_by_sha(sha) {
            Ok(Some(p)) => p,
            Ok(None) => return Reply::error(404, "no photo with this SHA-256 in this review"),
            Err(e) => return Reply::error(500, &format!("the store cannot be read: {e:#}")),
        };
        let values = p.values();
        let history: Vec<Entry> = match self.store.log() {
            Ok(log) => log.into_iter().filter(|e| e.file == p.result.file).collect(),
            Err(e) => return Reply::error(500, &format!("the store cannot be read: {e:#}")),
        };
        let all = match self.protocols() {
            Ok(all) => all,
            Err(reply) => return reply,
        };
        let siblings: Vec<api::Sibling> = all
            .iter()
            .filter(|o| {
                o.result.file != p.result.file
                    && matches!(o.result.status, Status::Accepted | Status::Flagged)
                    && values.station.is_some()
                    && o.values().station == values.station
                    && o.values().election == values.election
            })
            .map(|o| api::Sibling {
                file: &o.result.file,
                sha256: &o.result.sha256,
                values: o.values(),
                state: o.state().as_str(),
            })
            .collect();
        let page_saved = self.out.join(PAGES_DIR).join(format!("{sha}.jpg")).exists();
        let checks = self.checks(&values);
        let reply =
            api::Protocol::of(&p.result, p.state().as_str(), p.version, values, checks, page_saved, history, siblings);
        Reply::json(200, &reply)
    }

    fn photo(&self, sha: &str) -> Reply {
        if !is_sha256(sha) {
            return Reply::error(400, "a photo is named by its SHA-256 (64 hex digits)");
        }
        let page = self.out.join(PAGES_DIR).join(format!("{sha}.jpg"));
        if let Ok(bytes) = std::fs::read(&page) {
            return Reply::bytes(200, bytes, "image/jpeg");
        }
        // No saved page (an older scan): the photo itself, found through
        // the store, never through the request.
        let original = match self.store.protocol_by_sha(sha) {
            Ok(Some(p)) => self.input.as_ref().map(|dir| dir.join(&p.result.file)),
            _ => None,
        };
        match original.and_then(|path| std::fs::read(path).ok()) {
            Some(bytes) if crate::scan::hash::hash_bytes(&bytes) == sha => {
                let kind = image::guess_format(&bytes).map(|f| f.to_mime_type()).unwrap_or("application/octet-stream");
                Reply::bytes(200, bytes, kind)
            }
            _ => Reply::error(404, "no photo with this SHA-256 is available"),
        }
    }

    fn check(&self, body: &[u8]) -> Reply {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct CheckRequest {
            values: Values,
        }
        match serde_json::from_slice::<CheckRequest>(body) {
            Ok(req) => match validate_values(&self.model, &req.values) {
                Ok(()) => Reply::json(200, &api::Checks { checks: self.checks(&req.values) }),
                Err(why) => Reply::error(400, &why),
            },
            Err(e) => Reply::error(400, &format!("the request is not valid JSON of the expected shape: {e}")),
        }
    }

    fn decide(&self, body: &[u8]) -> Reply {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct DecideRequest {
            sha256: String,
            version: i64,
            action: Action,
            values: Values,
            #[serde(default)]
            note: String,
            reviewer: String,
        }
        let req: DecideRequest = match serde_json::from_slice(body) {
            Ok(r) => r,
            Err(e) => return Reply::error(400, &format!("the request is not valid JSON of the expected shape: {e}")),
        };
        if !is_sha256(&req.sha256) {
            return Reply::error(400, "sha256 must be 64 hex digits");
        }
        if let Err(why) = validate_values(&self.model, &req.values) {
            return Reply::error(400, &why);
        }
        if let Some(lease) = self.live_leases().get(&req.sha256).filter(|l| l.reviewer != req.reviewer.trim()) {
            return Reply::error(409, &format!("{}: leave it to them", lease.describe()));
        }
        let file = match self.store.protocol_by_sha(&req.sha256) {
            Ok(Some(p)) => p.result.file,
            Ok(None) => return Reply::error(404, "no photo with this SHA-256 in this review"),
            Err(e) => return Reply::error(500, &format!("the store cannot be read: {e:#}")),
        };
        let decision =
            Decision { file, reviewer: req.reviewer, action: req.action, values: req.values, note: req.note };
        match self.store.decide(&decision, req.version) {
            Ok(entry) => {
                self.lock_leases().remove(&req.sha256);
                Reply::json(200, &api::Decided { evidence_head: &entry.hash, saved: &entry })
            }
            Err(e @ SaveError::Conflict { .. }) => Reply::error(409, &e.to_string()),
            Err(e @ SaveError::NotFound(_)) => Reply::error(404, &e.to_string()),
            Err(e @ SaveError::Invalid(_)) => Reply::error(400, &e.to_string()),
            Err(SaveError::Store(e)) => Reply::error(500, &format!("the decision was not saved: {e:#}")),
        }
    }

    fn lock_leases(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Lease>> {
        self.leases.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The claims not yet run out (those that have are dropped).
    fn live_leases(&self) -> BTreeMap<String, Lease> {
        let now = std::time::Instant::now();
        let mut leases = self.lock_leases();
        leases.retain(|_, lease| lease.until > now);
        leases.clone()
    }

    /// `{sha256, reviewer}`: claims the protocol for the reviewer for
    /// [`LEASE_SECONDS`] (renewing their own claim), or says who has it.
    fn claim(&self, body: &[u8]) -> Reply {
        let req = match ClaimRequest::parse(body) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        match self.store.protocol_by_sha(&req.sha256) {
            Ok(Some(_)) => {}
            Ok(None) => return Reply::error(404, "no photo with this SHA-256 in this review"),
            Err(e) => return Reply::error(500, &format!("the store cannot be read: {e:#}")),
        }
        let now = std::time::Instant::now();
        let mut leases = self.lock_leases();
        match leases.get(&req.sha256) {
            Some(lease) if lease.until > now && lease.reviewer != req.reviewer => {
                Reply::json(409, &api::ClaimRefused { error: lease.describe(), open_by: &lease.reviewer })
            }
            _ => {
                let until = now + std::time::Duration::from_secs(LEASE_SECONDS);
                leases.insert(req.sha256, Lease { reviewer: req.reviewer, until });
                Reply::json(200, &api::Claimed { claimed_for_seconds: LEASE_SECONDS })
            }
        }
    }

    /// `{sha256, reviewer}`: gives up the reviewer's own claim.
    fn release(&self, body: &[u8]) -> Reply {
        let req = match ClaimRequest::parse(body) {
            Ok(r) => r,
            Err(reply) => return reply,
        };
        let mut leases = self.lock_leases();
        if leases.get(&req.sha256).is_some_and(|l| l.reviewer == req.reviewer) {
            leases.remove(&req.sha256);
        }
        Reply::json(200, &api::Released { released: true })
    }

    fn export(&self) -> Reply {
        let result = verified_set(self.store.as_ref()).and_then(|set| {
            let (jsonl, csv) = export(&self.out, &self.model, &set)?;
            Ok(api::Exported {
                rows: set.rows.len(),
                pending: set.pending.len(),
                rejected: set.rejected.len(),
                jsonl: jsonl.display().to_string(),
                csv: csv.display().to_string(),
            })
        });
        match result {
            Ok(exported) => Reply::json(200, &exported),
            Err(e) => Reply::error(500, &format!("the export failed: {e:#}")),
        }
    }
}

/// The body of a claim or a release.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ClaimRequest {
    sha256: String,
    reviewer: String,
}

impl ClaimRequest {
    fn parse(body: &[u8]) -> Result<ClaimRequest, Reply> {
        let mut req: ClaimRequest = serde_json::from_slice(body)
            .map_err(|e| Reply::error(400, &format!("the request is not valid JSON of the expected shape: {e}")))?;
        if !is_sha256(&req.sha256) {
            return Err(Reply::error(400, "sha256 must be 64 hex digits"));
        }
        super::store::check_reviewer(&req.reviewer).map_err(|why| Reply::error(400, &why))?;
        req.reviewer = req.reviewer.trim().to_string();
        Ok(req)
    }
}

/// A flag's reason for counting ([`Flag::reason`]); a string that is no
/// flag counts as itself.
fn reason(flag: &str) -> String {
    flag.parse::<Flag>().map_or_else(|_| flag.to_string(), |f| f.reason())
}

/// A line's short English name for sentences: `ballots_received` → "received",
/// `votes.nur_otan` → "Nur Otan" (the party's name from the model).
pub fn line_name(model: &FormModel, key: &str) -> String {
    if let Some(line) = model.lines.iter().find(|l| l.key == key) {
        if let Some(party) = &line.party_name {
            return model.reviewer_text(party).to_string();
        }
    }
    key.trim_start_matches("ballots_").trim_start_matches("votes.").replace('_', " ")
}

/// Values as a protocol of `model` can hold them: exactly its lines, each
/// count of at most the form's digits, the election one of its levels, the
/// station a short code of digits and separators.
pub fn validate_values(model: &FormModel, values: &Values) -> Result<(), String> {
    let keys = |kind: LineKind| model.lines.iter().filter(move |l| l.kind == kind).map(|l| l.short_key.as_str());
    if !values.fields.keys().map(String::as_str).eq(sorted(keys(LineKind::Field)))
        || !values.votes.keys().map(String::as_str).eq(sorted(keys(LineKind::Party)))
    {
        return Err("the values must name exactly the form's lines".into());
    }
    let limit = 10u64.checked_pow(model.max_digits).unwrap_or(u64::MAX);
    let counts = values
        .fields
        .iter()
        .map(|(k, v)| (k.clone(), v))
        .chain(values.votes.iter().map(|(k, v)| (format!("votes.{k}"), v)));
    for (key, value) in counts {
        if let Some(v) = value.filter(|&v| v >= limit) {
            return Err(format!("{key}: {v} has more than the form's {} digits", model.max_digits));
        }
    }
    if let Some(election) = &values.election {
        if !model.elections.iter().any(|e| &e.key == election) {
            return Err(format!("{election:?} is not an election of this form"));
        }
    }
    if let Some(station) = &values.station {
        let allowed = |c: char| c.is_ascii_digit() || "/-.".contains(c);
        if station.is_empty() || station.chars().count() > MAX_STATION_CHARS || !station.chars().all(allowed) {
            return Err(format!(
                "a station is up to {MAX_STATION_CHARS} digits and separators (/ - .), not {:?}",
                station.chars().take(MAX_STATION_CHARS + 1).collect::<String>()
            ));
        }
    }
    Ok(())
}

fn sorted<'a>(keys: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let mut keys: Vec<&str> = keys.collect();
    keys.sort_unstable();
    keys
}

fn is_sha256(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Whether two secrets are equal, in time that does not tell how much of
/// them matched (`subtle`).
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    use subtle::ConstantTimeEq;
    a.ct_eq(b).into()
}

/// A request's line and headers: what admitting and routing need (the body
/// is read apart, once the request is admitted).
struct Call {
    method: Method,
    path: String,
    query: BTreeMap<String, String>,
    headers: BTreeMap<String, String>,
}

impl Call {
    fn of(request: &Request) -> Call {
        let url = request.url();
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let query = query
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                (percent_decode(k), percent_decode(v))
            })
            .collect();
        let headers = request
            .headers()
            .iter()
            .map(|h| (h.field.as_str().as_str().to_ascii_lowercase(), h.value.as_str().to_string()))
            .collect();
        Call { method: request.method().clone(), path: path.to_string(), query, headers }
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(&name.to_ascii_lowercase()).map(String::as_str)
    }

    fn bearer(&self) -> Option<String> {
        self.header("authorization").and_then(|v| v.strip_prefix("Bearer ")).map(str::to_string)
    }

    fn cookie(&self, name: &str) -> Option<String> {
        self.header("cookie")?
            .split(';')
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    }

    /// A state change must come from this page's own script: JSON, the
    /// custom header, and an Origin (when the browser sends one) naming
    /// this host.
    fn same_origin_json(&self) -> Result<(), String> {
        if !self.header("content-type").is_some_and(|c| c.starts_with("application/json")) {
            return Err("state changes must be sent as application/json".into());
        }
        if self.header(CSRF_HEADER).is_none() {
            return Err(format!("refused: the {CSRF_HEADER} header is missing (a cross-site request?)"));
        }
        if let Some(origin) = self.header("origin") {
            let host = self.header("host").unwrap_or_default();
            let origin_host = origin.split_once("://").map_or(origin, |(_, h)| h);
            if origin_host != host {
                return Err(format!("refused: a request from {origin} to {host} (cross-site)"));
            }
        }
        if self.header("sec-fetch-site").is_some_and(|s| s != "same-origin" && s != "none") {
            return Err("refused: a cross-site request".into());
        }
        Ok(())
    }
}

/// A query string's part decoded as a form encodes it: `+` is a space,
/// `%XX` a byte (`percent-encoding`); bytes that are not UTF-8 become U+FFFD.
fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

/// Reads the body, refusing more than [`MAX_BODY_BYTES`].
fn read_body(request: &mut Request) -> Result<Vec<u8>, Reply> {
    if request.body_length().is_some_and(|n| n as u64 > MAX_BODY_BYTES) {
        return Err(Reply::error(413, "the request body is too large"));
    }
    let mut body = Vec::new();
    request
        .as_reader()
        .take(MAX_BODY_BYTES + 1)
        .read_to_end(&mut body)
        .map_err(|_| Reply::error(400, "the request body could not be read"))?;
    if body.len() as u64 > MAX_BODY_BYTES {
        return Err(Reply::error(413, "the request body is too large"));
    }
    Ok(body)
}

/// A response before it is sent.
struct Reply {
    status: u16,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

impl Reply {
    fn json(status: u16, value: &impl Serialize) -> Reply {
        Reply {
            status,
            body: serde_json::to_vec(value).expect("the API's replies serialise"),
            headers: vec![("Content-Type".into(), "application/json; charset=utf-8".into())],
        }
    }

    fn error(status: u16, message: &str) -> Reply {
        Reply::json(status, &api::Failure { error: message })
    }

    fn asset(text: &str, kind: &str) -> Reply {
        Reply::bytes(200, text.as_bytes().to_vec(), kind)
    }

    fn bytes(status: u16, body: Vec<u8>, kind: &str) -> Reply {
        Reply { status, body, headers: vec![("Content-Type".into(), kind.into())] }
    }

    fn with_header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    fn into_response(self) -> Response<std::io::Cursor<Vec<u8>>> {
        let mut response = Response::from_data(self.body).with_status_code(self.status);
        let security = [
            (
                "Content-Security-Policy",
                "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; \
                 frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Cache-Control", "no-store"),
        ];
        let all = self.headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).chain(security);
        for (name, value) in all {
            if let Ok(h) = Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(h);
            }
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_goes_without_a_token() {
        assert!(check_bind(&"127.0.0.1:8080".parse().unwrap(), None).is_ok());
        assert!(check_bind(&"[::1]:8080".parse().unwrap(), None).is_ok());
        assert!(check_bind(&"0.0.0.0:8080".parse().unwrap(), None).is_err());
        assert!(check_bind(&"0.0.0.0:8080".parse().unwrap(), Some("")).is_err());
        assert!(check_bind(&"0.0.0.0:8080".parse().unwrap(), Some("s3cret")).is_ok());
    }

    #[test]
    fn query_text_is_decoded() {
        assert_eq!(percent_decode("a%20b+c%2F%"), "a b c/%");
        assert_eq!(percent_decode("%D0%B0"), "а");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert!(is_sha256(&"a".repeat(64)));
        assert!(!is_sha256("../../etc/passwd"));
        assert!(!is_sha256(&"A".repeat(64)));
    }
}
