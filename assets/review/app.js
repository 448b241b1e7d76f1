// The review page's script. Everything from the server is put into the page
// as text (textContent, never innerHTML): file names and OCR text may hold
// markup. State changes go out as JSON POSTs with the X-Protocol-OCR header.
"use strict";

const CSRF_HEADER = "X-Protocol-OCR";
const CHECK_DELAY_MS = 150;
const ZOOM_STEP = 1.25;
// The queue is fetched again this often, so decisions and claims made by
// the rest of the team show up without a reload.
const QUEUE_REFRESH_MS = 15000;
// A claim on the open protocol lasts three minutes on the server; it is
// renewed this often while the protocol stays open.
const CLAIM_RENEW_MS = 60000;

const state = {
  model: null,
  queue: [],
  current: null, // the protocol shown, as the server sent it
  flash: null, // [text, kind] to show once the next protocol is open
  zoom: 0, // 0 = fit
  checkTimer: null,
  involved: new Set(), // keys of the values in a failing rule
  claimTimer: null,
};

const $ = (id) => document.getElementById(id);

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (k === "class") node.className = v;
    else if (k === "data") Object.assign(node.dataset, v);
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined) continue;
    node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return node;
}

async function api(path, body) {
  const options = body === undefined ? {} : {
    method: "POST",
    headers: { "Content-Type": "application/json", [CSRF_HEADER]: "1" },
    body: JSON.stringify(body),
  };
  const response = await fetch(path, options);
  const data = await response.json().catch(() => ({ error: `HTTP ${response.status}` }));
  return { ok: response.ok, status: response.status, data };
}

function reviewer() {
  return localStorage.getItem("reviewer") || "";
}

function askName() {
  const dialog = $("name-dialog");
  $("name-input").value = reviewer();
  dialog.showModal();
}

function message(text, kind) {
  const box = $("message");
  box.textContent = text;
  box.className = kind || "";
}

// ---------- queue ----------

function filters() {
  const q = new URLSearchParams();
  q.set("state", $("f-state").value);
  for (const [id, key] of [["f-level", "level"], ["f-station", "station"], ["f-flag", "flag"]]) {
    if ($(id).value) q.set(key, $(id).value);
  }
  return q.toString();
}

async function loadQueue() {
  const { ok, data } = await api(`/api/queue?${filters()}`);
  if (!ok) return message(data.error, "error");
  state.queue = data.items;
  $("remaining").textContent = `${data.remaining} waiting for review`;
  const reasons = $("reasons");
  reasons.replaceChildren(...Object.entries(data.by_reason).map(([reason, n]) =>
    el("li", {}, el("button", { type: "button", class: "reason", onclick: () => { $("f-flag").value = reason; loadQueue(); } },
      el("span", { class: "n" }, n), " ", reason))));
  const flagSelect = $("f-flag");
  const chosen = flagSelect.value;
  flagSelect.replaceChildren(el("option", { value: "" }, "any"),
    ...Object.keys(data.by_reason).map((r) => el("option", { value: r }, r)));
  if (chosen && !data.by_reason[chosen]) flagSelect.append(el("option", { value: chosen }, chosen));
  flagSelect.value = chosen;
  const list = $("queue");
  list.replaceChildren(...state.queue.map((item) => el("li", {},
    el("a", {
      href: `#${item.sha256}`, class: `item sev${item.severity}` + (state.current && state.current.sha256 === item.sha256 ? " current" : ""),
      data: { sha: item.sha256 },
    },
      el("strong", {}, item.station ? `Station ${item.station}` : "Station ?"),
      " ", el("span", { class: "level" }, item.election || "election ?"),
      el("div", { class: "file" }, item.file),
      el("div", { class: "chips" }, item.flags.slice(0, 4).map((f) => el("span", { class: "chip" }, f)),
        item.flags.length > 4 ? el("span", { class: "chip" }, `+${item.flags.length - 4}`) : null),
      item.state !== "pending" ? el("div", { class: `state ${item.state}` }, item.state) : null,
      item.open_by && item.open_by !== reviewer() ? el("div", { class: "open-by" }, `open by ${item.open_by}`) : null))));
  if (state.queue.length === 0) list.append(el("li", { class: "done" }, "Nothing here. Well done."));
}

function step(delta) {
  if (state.queue.length === 0) return;
  const at = state.current ? state.queue.findIndex((i) => i.sha256 === state.current.sha256) : -1;
  const next = state.queue[Math.min(Math.max(at + delta, 0), state.queue.length - 1)];
  if (next) location.hash = next.sha256;
}

// ---------- one protocol ----------

// Claims the open protocol for this reviewer (renewed while it stays
// open); says so when someone else has it open.
async function claim(sha) {
  if (!reviewer() || !state.current || state.current.sha256 !== sha) return;
  const { ok, data } = await api("/api/claim", { sha256: sha, reviewer: reviewer() });
  const banner = $("claim-banner");
  banner.hidden = ok;
  if (!ok) banner.textContent = `${data.error}. You can look; saving is refused until they leave it.`;
}

async function release(sha) {
  if (reviewer()) await api("/api/release", { sha256: sha, reviewer: reviewer() });
}

async function openProtocol(sha) {
  const { ok, data } = await api(`/api/protocols/${encodeURIComponent(sha)}`);
  if (!ok) return message(data.error, "error");
  const previous = state.current && state.current.sha256;
  state.current = data;
  if (previous && previous !== sha) release(previous);
  clearInterval(state.claimTimer);
  claim(sha);
  state.claimTimer = setInterval(() => claim(sha), CLAIM_RENEW_MS);
  render();
  if (state.flash) message(...state.flash);
  else message("");
  state.flash = null;
  for (const a of document.querySelectorAll("#queue a.item")) a.classList.toggle("current", a.dataset.sha === sha);
}

function lineFlagged(p, key) {
  return p.flags.some((f) => f.endsWith(`:${key}`));
}

function render() {
  const p = state.current;
  $("empty").hidden = true;
  $("protocol").hidden = false;
  const election = state.model.elections.find((e) => e.key === p.values.election);
  $("p-title").replaceChildren(el("span", {},
    el("span", {}, p.values.station ? `Station ${p.values.station}` : "Station not read"), " · ",
    el("span", {}, election ? election.title : "election not read"),
    p.region ? el("span", { class: "region" }, ` · ${p.region}`) : null,
    el("span", { class: `state ${p.state}` }, p.state)));
  $("p-file").textContent = p.file;
  $("p-sha").textContent = p.sha256;
  $("p-flags").replaceChildren(...p.flags.map((f) => el("li", { class: "chip" }, f)));
  if (p.error) $("p-flags").append(el("li", { class: "chip" }, p.error));

  const rows = [];
  rows.push(el("tr", {},
    el("td", {}, ""), el("td", {}, "Election"),
    el("td", {}, el("select", { id: "v-election", class: "value" + (p.values.election ? "" : " flagged") },
      el("option", { value: "" }, "—"),
      state.model.elections.map((e) => el("option", { value: e.key, selected: e.key === p.values.election }, e.title)))),
    el("td", {}, "")));
  rows.push(el("tr", {},
    el("td", {}, ""), el("td", {}, "Station №"),
    el("td", {}, el("input", {
      id: "v-station", class: "value" + (p.flags.includes("unreadable_station") ? " flagged" : ""),
      value: p.values.station || "", inputmode: "numeric", autocomplete: "off",
    })),
    el("td", {}, "")));
  for (const line of state.model.lines) {
    const map = line.kind === "field" ? p.values.fields : p.values.votes;
    const value = map[line.short_key];
    const conf = p.confidence[line.key];
    const note = p.notes[line.key];
    const flagged = lineFlagged(p, line.key);
    rows.push(el("tr", { class: flagged ? "flagged-row" : "", data: { key: line.key } },
      el("td", { class: "num" }, line.number),
      el("td", { title: line.label_kk }, el("div", { class: "label" }, line.label_ru)),
      el("td", {}, el("input", {
        class: "value" + (flagged ? " flagged" : ""), inputmode: "numeric", autocomplete: "off",
        value: value === null || value === undefined ? "" : String(value), data: { key: line.key, kind: line.kind, short: line.short_key },
        "aria-label": line.label_ru,
      })),
      el("td", { class: "conf" }, conf === undefined ? "—" : `${Math.round(conf * 100)}%`,
        handwrittenCell(p, line.key),
        note ? el("div", { class: "note" }, note) : null)));
  }
  $("lines").tBodies[0].replaceChildren(...rows);
  for (const input of document.querySelectorAll("#lines .value")) {
    input.addEventListener("input", changed);
    input.addEventListener("focus", () => highlightBox(input.dataset.key));
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.ctrlKey) { e.preventDefault(); focusNextFlagged(input); }
    });
  }
  renderPhoto();
  renderChecks(p.checks);
  renderSiblings();
  $("history").replaceChildren(...p.history.map((h) => el("li", {},
    `${h.decided_at} · ${h.reviewer} · ${h.action}`, h.note ? ` · “${h.note}”` : "",
    el("div", { class: "mono small" }, `entry ${h.seq}, hash ${h.hash.slice(0, 16)}…`))));
  $("note").value = "";
  updateButtons();
}

// For a handwritten count: the cell as photographed (cut from the
// normalised page), the likeliest readings to pick from, and the reading
// that would make the failing rules hold, if any.
function handwrittenCell(p, key) {
  if (!p.handwritten) return null;
  const parts = [];
  if (p.boxes[key]) parts.push(el("canvas", { class: "cell-crop", data: { key }, title: "the handwritten cell" }));
  const choices = (p.candidates[key] || []).map(([value, probability]) => {
    const suggested = p.suggestions[key] === value;
    const button = el("button", {
      type: "button", class: "candidate" + (suggested ? " suggested" : ""),
      title: suggested ? "the rules hold with this reading" : "the glyph network's probability",
    }, `${value} (${Math.round(probability * 100)}%)${suggested ? " ✓ rules" : ""}`);
    button.addEventListener("click", () => {
      const input = document.querySelector(`#lines input[data-key="${CSS.escape(key)}"]`);
      input.value = String(value);
      input.dispatchEvent(new Event("input"));
    });
    return button;
  });
  if (choices.length) parts.push(el("div", { class: "candidates" }, ...choices));
  return el("div", { class: "handwritten" }, ...parts);
}

// Draws every handwritten cell's crop from the loaded page photo.
function drawCellCrops() {
  const img = $("photo");
  if (!img.naturalWidth || !state.current) return;
  const pad = 6;
  for (const canvas of document.querySelectorAll("canvas.cell-crop")) {
    const [l, t, r, b] = state.current.boxes[canvas.dataset.key];
    const [sx, sy] = [Math.max(0, l - pad), Math.max(0, t - pad)];
    const [sw, sh] = [r - l + 2 * pad, b - t + 2 * pad];
    const scale = Math.min(2, 48 / sh);
    canvas.width = Math.round(sw * scale);
    canvas.height = Math.round(sh * scale);
    canvas.getContext("2d").drawImage(img, sx, sy, sw, sh, 0, 0, canvas.width, canvas.height);
  }
}

function currentValues() {
  const p = state.current;
  const values = { election: $("v-election").value || null, station: $("v-station").value.trim() || null, fields: {}, votes: {} };
  let bad = false;
  for (const input of document.querySelectorAll("#lines input.value[data-key]")) {
    const text = input.value.trim();
    const ok = text === "" || /^[0-9]{1,12}$/.test(text);
    input.classList.toggle("invalid", !ok);
    bad = bad || !ok;
    const target = input.dataset.kind === "field" ? values.fields : values.votes;
    target[input.dataset.short] = text === "" || !ok ? null : Number(text);
  }
  // Keep every key the protocol had, in case the model lists more.
  for (const k of Object.keys(p.values.fields)) if (!(k in values.fields)) values.fields[k] = p.values.fields[k];
  for (const k of Object.keys(p.values.votes)) if (!(k in values.votes)) values.votes[k] = p.values.votes[k];
  return { values, bad };
}

function sameValues(a, b) {
  const norm = (v) => JSON.stringify({ e: v.election, s: v.station, f: Object.entries(v.fields).sort(), v: Object.entries(v.votes).sort() });
  return norm(a) === norm(b);
}

function changed() {
  updateButtons();
  clearTimeout(state.checkTimer);
  state.checkTimer = setTimeout(async () => {
    const { values } = currentValues();
    const { ok, data } = await api("/api/check", { values });
    if (ok) renderChecks(data.checks);
  }, CHECK_DELAY_MS);
}

function updateButtons() {
  const { values, bad } = currentValues();
  const edited = !sameValues(values, state.current.values);
  $("confirm").hidden = edited;
  $("correct").hidden = !edited;
  $("correct").disabled = bad;
  for (const input of document.querySelectorAll("#lines .value")) {
    const key = input.dataset.key;
    if (!key) continue;
    const map = input.dataset.kind === "field" ? state.current.values.fields : state.current.values.votes;
    const before = map[input.dataset.short];
    const now = input.value.trim();
    input.classList.toggle("edited", now !== (before === null || before === undefined ? "" : String(before)));
  }
}

function renderChecks(checks) {
  // The values in a failing rule are what the reviewer must compare with the photo.
  const involved = new Set();
  for (const c of checks) {
    if (!c.evaluated || c.ok) continue;
    for (const k of c.keys) involved.add(k);
    if (c.uses_votes) for (const l of state.model.lines) if (l.kind === "party") involved.add(l.key);
  }
  for (const input of document.querySelectorAll("#lines input.value[data-key]")) {
    input.closest("tr").classList.toggle("involved", involved.has(input.dataset.key));
  }
  state.involved = involved;
  for (const b of document.querySelectorAll("#boxes .box")) b.classList.toggle("involved", involved.has(b.dataset.key));
  // Failures first: they are what the reviewer is here for.
  const sorted = [...checks].sort((x, y) => Number(x.ok) - Number(y.ok));
  $("checks").replaceChildren(...sorted.map((c) => el("li", {
    class: !c.evaluated ? "check unknown" : c.ok ? "check ok" : `check fail ${c.kind}`,
  },
    el("span", { class: "mark" }, !c.evaluated ? "?" : c.ok ? "✓" : "✗"),
    el("strong", {}, `${c.rule} `), el("span", { class: "kind" }, c.kind), " ",
    el("span", {}, c.ok ? c.detail : c.words))));
}

function focusNextFlagged(from) {
  const inputs = [...document.querySelectorAll("#lines .value")];
  const start = from ? inputs.indexOf(from) + 1 : 0;
  const order = inputs.slice(start).concat(inputs.slice(0, start));
  const next = order.find((i) => i.classList.contains("flagged")) || null;
  if (next) { next.focus(); if (next.select) next.select(); }
}

// ---------- photo ----------

function renderPhoto() {
  const p = state.current;
  const img = $("photo");
  img.onload = () => { layoutPhoto(); drawCellCrops(); };
  img.src = p.photo.url;
  if (img.complete && img.naturalWidth) drawCellCrops();
  $("photo-kind").textContent = p.photo.normalised ? "normalised page" : "original photo (no saved page)";
}

function layoutPhoto() {
  const img = $("photo");
  if (!img.naturalWidth) return;
  const scroll = $("photo-scroll");
  const fit = Math.min(scroll.clientWidth / img.naturalWidth, 1.5);
  const scale = state.zoom === 0 ? fit : fit * state.zoom;
  img.style.width = `${img.naturalWidth * scale}px`;
  const boxes = $("boxes");
  boxes.replaceChildren();
  for (const [key, [l, t, r, b]] of Object.entries(state.current.boxes)) {
    const box = el("div", {
      class: "box" + (lineFlagged(state.current, key) ? " flagged" : "") + (state.involved.has(key) ? " involved" : ""),
      data: { key }, title: key,
    });
    box.style.left = `${l * scale}px`;
    box.style.top = `${t * scale}px`;
    box.style.width = `${(r - l) * scale}px`;
    box.style.height = `${(b - t) * scale}px`;
    box.addEventListener("click", () => {
      const input = document.querySelector(`#lines input[data-key="${CSS.escape(key)}"]`);
      if (input) input.focus();
    });
    boxes.append(box);
  }
}

function highlightBox(key) {
  for (const b of document.querySelectorAll("#boxes .box")) {
    const on = b.dataset.key === key;
    b.classList.toggle("active", on);
    if (on) b.scrollIntoView({ block: "center", inline: "nearest", behavior: "smooth" });
  }
}

function zoom(factor) {
  state.zoom = factor === 0 ? 0 : Math.min(Math.max((state.zoom || 1) * factor, 0.5), 6);
  layoutPhoto();
}

function renderSiblings() {
  const p = state.current;
  const box = $("siblings");
  box.hidden = p.siblings.length === 0;
  $("conflict-banner").hidden = !p.flags.some((f) => f.startsWith("conflict"));
  $("conflict-banner").textContent = "Another photo of this station gives different values: compare them below before deciding.";
  if (box.hidden) return;
  $("sibling-photos").replaceChildren(...p.siblings.map((s) =>
    el("figure", {}, el("a", { href: `#${s.sha256}` }, el("img", { src: `/photos/${s.sha256}`, alt: s.file, loading: "lazy" })),
      el("figcaption", {}, `${s.file} (${s.state})`))));
  const head = el("tr", {}, el("th", {}, "line"), el("th", {}, "this photo"), p.siblings.map((s) => el("th", {}, s.file)));
  const rows = state.model.lines.map((line) => {
    const pick = (v) => (line.kind === "field" ? v.fields : v.votes)[line.short_key];
    const mine = pick(p.values);
    return el("tr", {}, el("td", {}, line.name), el("td", {}, mine ?? "—"),
      p.siblings.map((s) => { const theirs = pick(s.values); return el("td", { class: theirs !== mine ? "differs" : "" }, theirs ?? "—"); }));
  });
  $("sibling-table").replaceChildren(head, ...rows);
}

// ---------- decisions ----------

async function decide(action) {
  const p = state.current;
  if (!p) return;
  if (!reviewer()) return askName();
  const { values, bad } = currentValues();
  if (bad) return message("Some values are not whole numbers: fix the red ones first.", "error");
  const empty = [...Object.values(values.fields), ...Object.values(values.votes)].filter((v) => v === null).length;
  if (action !== "reject" && empty > 0 && !window.confirm(`${empty} value(s) are empty. Save anyway (the photo shows no number there)?`)) return;
  let note = $("note").value.trim();
  if (action === "reject") note = note ? `${$("reject-why").value}: ${note}` : $("reject-why").value;
  const body = { sha256: p.sha256, version: p.version, action, values: action === "reject" ? p.values : values, note, reviewer: reviewer() };
  const { ok, status, data } = await api("/api/decide", body);
  if (!ok) {
    message(status === 409 ? `Not saved: ${data.error}` : `Not saved: ${data.error}`, "error");
    return;
  }
  const done = p.sha256;
  // Shown on the next protocol, so the reviewer sees the save went through.
  state.flash = [`Saved: ${action} of ${p.file} by ${reviewer()} (entry ${data.saved.seq}).`, "ok"];
  await loadQueue();
  const next = state.queue.find((i) => i.sha256 !== done);
  if (next && $("f-state").value === "pending") {
    if (location.hash.slice(1) === next.sha256) await openProtocol(next.sha256);
    else location.hash = next.sha256;
  } else {
    await openProtocol(done);
  }
}

function save() {
  const { values } = currentValues();
  decide(sameValues(values, state.current.values) ? "confirm" : "correct");
}

// ---------- wiring ----------

function typing(e) {
  const t = e.target;
  return t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT");
}

document.addEventListener("keydown", (e) => {
  if (document.querySelector("dialog[open]")) return;
  if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); return save(); }
  if (e.key === "Escape" && typing(e)) { e.target.blur(); return; }
  if (typing(e) || e.ctrlKey || e.metaKey || e.altKey) return;
  const actions = {
    n: () => step(1), j: () => step(1), k: () => step(-1),
    f: () => focusNextFlagged(null),
    c: () => { if (!$("confirm").hidden) decide("confirm"); },
    r: () => decide("reject"),
    "+": () => zoom(ZOOM_STEP), "=": () => zoom(ZOOM_STEP), "-": () => zoom(1 / ZOOM_STEP), "0": () => zoom(0),
    "?": () => $("help").showModal(),
  };
  if (actions[e.key]) { e.preventDefault(); actions[e.key](); }
});

window.addEventListener("hashchange", () => {
  const sha = location.hash.slice(1);
  if (sha) openProtocol(sha);
});
window.addEventListener("resize", () => layoutPhoto());

async function start() {
  const { ok, data } = await api("/api/model");
  if (!ok) return message(data.error, "error");
  state.model = data;
  $("f-level").append(...data.elections.map((e) => el("option", { value: e.key }, e.title)));
  for (const id of ["f-state", "f-level", "f-flag"]) $(id).addEventListener("change", loadQueue);
  $("f-station").addEventListener("input", () => { clearTimeout(state.filterTimer); state.filterTimer = setTimeout(loadQueue, 250); });
  $("filters").addEventListener("submit", (e) => e.preventDefault());
  $("confirm").addEventListener("click", () => decide("confirm"));
  $("correct").addEventListener("click", () => decide("correct"));
  $("reject").addEventListener("click", () => decide("reject"));
  $("zoom-in").addEventListener("click", () => zoom(ZOOM_STEP));
  $("zoom-out").addEventListener("click", () => zoom(1 / ZOOM_STEP));
  $("zoom-fit").addEventListener("click", () => zoom(0));
  $("help-button").addEventListener("click", () => $("help").showModal());
  $("who").addEventListener("click", askName);
  $("export").addEventListener("click", async () => {
    const { ok, data } = await api("/api/export", {});
    message(ok ? `Exported ${data.rows} verified protocols (${data.pending} pending, ${data.rejected} rejected) to ${data.jsonl} and ${data.csv}` : data.error, ok ? "ok" : "error");
  });
  $("name-form").addEventListener("submit", () => {
    const name = $("name-input").value.trim();
    if (name) localStorage.setItem("reviewer", name);
    $("who").textContent = `Reviewer: ${reviewer()}`;
  });
  $("who").textContent = reviewer() ? `Reviewer: ${reviewer()}` : "Reviewer: ?";
  if (!reviewer()) askName();
  await loadQueue();
  setInterval(() => { if (!document.hidden) loadQueue(); }, QUEUE_REFRESH_MS);
  window.addEventListener("pagehide", () => { if (state.current) release(state.current.sha256); });
  const sha = location.hash.slice(1);
  if (sha) openProtocol(sha);
}

start();
