//! The form model: what a protocol of one election looks like.
//!
//! Everything election-specific — the levels and their titles, the numbered
//! lines with their Kazakh and Russian labels, the parties, the control
//! relations — lives in a TOML file under `models/`, never in code. This
//! module loads such a file, checks it (unknown keys in a rule, duplicate
//! keys, a rule that does not parse) and reports any problem with the file,
//! the line and what is wrong.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::rules::{self, Outcome, Relation, Values};

/// The model bundled with the tool, used when `--model` is not given.
pub const DEFAULT_MODEL_PATH: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/models/kz-2021.toml");
/// The bundled model's text, so the binary works from any directory.
pub const DEFAULT_MODEL_TEXT: &str = include_str!("../models/kz-2021.toml");

/// A model file that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub struct ModelError {
    pub file: String,
    /// 1-based line in the file; 0 when the file could not be read at all.
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawModel {
    form: RawForm,
    elections: Vec<RawElection>,
    lines: Vec<RawLine>,
    #[serde(default)]
    parties: Vec<RawParty>,
    #[serde(default)]
    rules: Vec<RawRule>,
    #[serde(default)]
    report: Option<RawReport>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawReport {
    #[serde(default)]
    columns: Vec<Spanned<String>>,
    #[serde(default)]
    parties: Vec<Spanned<String>>,
    #[serde(default)]
    names: std::collections::BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawForm {
    id: String,
    name: String,
    max_digits: u32,
    title: Bilingual,
    station: Bilingual,
    #[serde(default)]
    regions: RawRegions,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegions {
    names: Vec<String>,
}

/// A text printed in Kazakh and in Russian.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Bilingual {
    pub kk: String,
    pub ru: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawElection {
    key: Spanned<String>,
    kk: String,
    ru: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    number: u32,
    key: Spanned<String>,
    kk: String,
    ru: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParty {
    key: Spanned<String>,
    name_kk: String,
    name_ru: String,
    kk: String,
    ru: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    id: Spanned<String>,
    kind: Spanned<String>,
    expr: Spanned<String>,
    explain: String,
}

/// One election level (`mazhilis`, …) with its printed title.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Election {
    pub key: String,
    pub title: Bilingual,
}

/// Whether a line is one of the fixed counts or a party's votes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineKind {
    Field,
    Party,
}

/// One numbered line of the form, with its value key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub number: u32,
    /// `voters_on_list` for fields, `votes.nur_otan` for parties.
    pub key: String,
    /// The key without the `votes.` prefix.
    pub short_key: String,
    pub kind: LineKind,
    pub label: Bilingual,
    /// The party's own name, for party lines.
    pub party_name: Option<Bilingual>,
}

/// Hard rules are errors, soft rules warnings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    Hard,
    Soft,
}

impl RuleKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RuleKind::Hard => "hard",
            RuleKind::Soft => "soft",
        }
    }
}

/// A control relation from the model.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    pub id: String,
    pub kind: RuleKind,
    pub text: String,
    pub relation: Relation,
    pub explain: String,
}

/// How the published report lays out the totals: the order of the level
/// columns and of the party rows, and the names they are printed under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportLayout {
    /// Election keys, left to right.
    pub columns: Vec<String>,
    /// Party keys (without `votes.`), top to bottom.
    pub parties: Vec<String>,
    /// Printed name per election or party key.
    pub names: BTreeMap<String, String>,
}

impl ReportLayout {
    /// The printed name of an election or party key ("city_maslikhat" →
    /// "City maslikhat" unless the model names it).
    pub fn name(&self, key: &str) -> String {
        self.names.get(key).cloned().unwrap_or_else(|| {
            let spaced = key.replace('_', " ");
            let mut chars = spaced.chars();
            chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
        })
    }
}

/// A loaded and checked form model.
#[derive(Debug, Clone)]
pub struct FormModel {
    pub id: String,
    pub name: String,
    pub max_digits: u32,
    pub title: Bilingual,
    pub station: Bilingual,
    pub regions: Vec<String>,
    pub elections: Vec<Election>,
    /// Every line in form order: fields first, then parties.
    pub lines: Vec<Line>,
    pub rules: Vec<Rule>,
    pub report: ReportLayout,
    /// SHA-256 of the model file's bytes, for the chain of custody.
    pub sha256: String,
    pub source: PathBuf,
}

/// The outcome of one rule on one protocol.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleCheck {
    pub rule: String,
    pub kind: RuleKind,
    /// `None` when a value the rule needs is missing.
    pub holds: Option<bool>,
    pub detail: String,
}

fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

impl FormModel {
    /// Loads the model at `path`, or the bundled one when `path` is `None`.
    pub fn load(path: Option<&Path>) -> Result<FormModel, ModelError> {
        match path {
            None => FormModel::parse(DEFAULT_MODEL_TEXT, Path::new(DEFAULT_MODEL_PATH)),
            Some(p) => {
                let text = std::fs::read_to_string(p).map_err(|e| ModelError {
                    file: p.display().to_string(),
                    line: 0,
                    message: format!("cannot read the model: {e}"),
                })?;
                FormModel::parse(&text, p)
            }
        }
    }

    /// Parses and checks a model text; `path` names it in errors.
    pub fn parse(text: &str, path: &Path) -> Result<FormModel, ModelError> {
        let file = path.display().to_string();
        let at =
            |offset: usize, message: String| ModelError { file: file.clone(), line: line_of(text, offset), message };
        let raw: RawModel = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            at(offset, e.message().trim().to_string())
        })?;

        let mut seen = HashSet::new();
        let mut elections = Vec::new();
        for e in raw.elections {
            if !seen.insert(e.key.get_ref().clone()) {
                return Err(at(e.key.span().start, format!("election '{}' is defined twice", e.key.get_ref())));
            }
            elections.push(Election { key: e.key.into_inner(), title: Bilingual { kk: e.kk, ru: e.ru } });
        }
        if elections.is_empty() {
            return Err(at(0, "the model defines no election".into()));
        }

        let mut lines = Vec::new();
        let mut seen_keys = HashSet::new();
        let mut seen_numbers = HashSet::new();
        for l in raw.lines {
            let key = l.key.get_ref().clone();
            if !is_valid_key(&key) {
                return Err(at(
                    l.key.span().start,
                    format!("line key '{key}' must be lowercase letters, digits and '_'"),
                ));
            }
            if !seen_keys.insert(key.clone()) {
                return Err(at(l.key.span().start, format!("line key '{key}' is defined twice")));
            }
            if !seen_numbers.insert(l.number) {
                return Err(at(l.key.span().start, format!("line number {} is used twice", l.number)));
            }
            lines.push(Line {
                number: l.number,
                short_key: key.clone(),
                key,
                kind: LineKind::Field,
                label: Bilingual { kk: l.kk, ru: l.ru },
                party_name: None,
            });
        }
        let first_party_number = lines.iter().map(|l| l.number).max().unwrap_or(0) + 1;
        for (number, p) in (first_party_number..).zip(raw.parties) {
            let short = p.key.get_ref().clone();
            if !is_valid_key(&short) {
                return Err(at(
                    p.key.span().start,
                    format!("party key '{short}' must be lowercase letters, digits and '_'"),
                ));
            }
            let key = format!("votes.{short}");
            if !seen_keys.insert(key.clone()) {
                return Err(at(p.key.span().start, format!("party '{short}' is defined twice")));
            }
            lines.push(Line {
                number,
                key,
                short_key: short,
                kind: LineKind::Party,
                label: Bilingual { kk: p.kk, ru: p.ru },
                party_name: Some(Bilingual { kk: p.name_kk, ru: p.name_ru }),
            });
        }
        if lines.is_empty() {
            return Err(at(0, "the model defines no line".into()));
        }

        let mut rules = Vec::new();
        let mut seen_rules = HashSet::new();
        for r in raw.rules {
            let id = r.id.get_ref().clone();
            if !seen_rules.insert(id.clone()) {
                return Err(at(r.id.span().start, format!("rule '{id}' is defined twice")));
            }
            let kind = match r.kind.get_ref().as_str() {
                "hard" => RuleKind::Hard,
                "soft" => RuleKind::Soft,
                other => {
                    return Err(at(
                        r.kind.span().start,
                        format!("rule {id}: kind '{other}' must be \"hard\" or \"soft\""),
                    ));
                }
            };
            let text = r.expr.get_ref().clone();
            let relation = Relation::parse(&text)
                .map_err(|e| at(r.expr.span().start, format!("rule {id}: cannot parse '{text}' at {e}")))?;
            for key in relation.keys() {
                if !seen_keys.contains(&key) {
                    return Err(at(r.expr.span().start, format!("rule {id}: unknown line key '{key}' in '{text}'")));
                }
            }
            rules.push(Rule { id, kind, text, relation, explain: r.explain });
        }

        let raw_report =
            raw.report.unwrap_or(RawReport { columns: vec![], parties: vec![], names: Default::default() });
        let mut report = ReportLayout {
            columns: elections.iter().map(|e| e.key.clone()).collect(),
            parties: lines.iter().filter(|l| l.kind == LineKind::Party).map(|l| l.short_key.clone()).collect(),
            names: raw_report.names,
        };
        for (given, known, what) in [
            (&raw_report.columns, &mut report.columns, "election"),
            (&raw_report.parties, &mut report.parties, "party"),
        ] {
            if given.is_empty() {
                continue;
            }
            let mut order = Vec::new();
            for key in given {
                if !known.contains(key.get_ref()) || order.contains(key.get_ref()) {
                    return Err(at(
                        key.span().start,
                        format!("report: '{}' is not a {what} of this model, or is listed twice", key.get_ref()),
                    ));
                }
                order.push(key.get_ref().clone());
            }
            // Keys the layout does not list (a party added later) follow in model order.
            let rest: Vec<String> = known.iter().filter(|k| !order.contains(k)).cloned().collect();
            order.extend(rest);
            *known = order;
        }

        use sha2::Digest;
        let sha256 = hex::encode(sha2::Sha256::digest(text.as_bytes()));
        Ok(FormModel {
            id: raw.form.id,
            name: raw.form.name,
            max_digits: raw.form.max_digits,
            title: raw.form.title,
            station: raw.form.station,
            regions: raw.form.regions.names,
            elections,
            lines,
            rules,
            report,
            sha256,
            source: path.to_path_buf(),
        })
    }

    /// The `votes.<party>` keys in ballot order.
    pub fn party_keys(&self) -> Vec<String> {
        self.lines.iter().filter(|l| l.kind == LineKind::Party).map(|l| l.key.clone()).collect()
    }

    /// The fixed (non-party) lines.
    pub fn field_lines(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.kind == LineKind::Field)
    }

    /// The party lines.
    pub fn party_lines(&self) -> impl Iterator<Item = &Line> {
        self.lines.iter().filter(|l| l.kind == LineKind::Party)
    }

    pub fn election(&self, key: &str) -> Option<&Election> {
        self.elections.iter().find(|e| e.key == key)
    }

    /// Evaluates every rule on `values` in model order.
    pub fn check(&self, values: &Values) -> Vec<RuleCheck> {
        let parties = self.party_keys();
        self.rules
            .iter()
            .map(|rule| match rules::evaluate(&rule.relation, values, &parties) {
                Outcome::Evaluated { holds, detail, .. } => {
                    RuleCheck { rule: rule.id.clone(), kind: rule.kind, holds: Some(holds), detail }
                }
                Outcome::Missing { keys } => RuleCheck {
                    rule: rule.id.clone(),
                    kind: rule.kind,
                    holds: None,
                    detail: format!("not evaluated: {} not read", keys.join(", ")),
                },
            })
            .collect()
    }

    /// An empty value map with every key of the model.
    pub fn empty_values(&self) -> Values {
        self.lines.iter().map(|l| (l.key.clone(), None)).collect()
    }

    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }
}

fn is_valid_key(key: &str) -> bool {
    !key.is_empty() && key.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Splits a flat value map into the contract's `fields` and `votes` objects.
pub fn split_values(
    model: &FormModel,
    values: &Values,
) -> (BTreeMap<String, Option<u64>>, BTreeMap<String, Option<u64>>) {
    let mut fields = BTreeMap::new();
    let mut votes = BTreeMap::new();
    for line in &model.lines {
        let v = values.get(&line.key).copied().flatten();
        match line.kind {
            LineKind::Field => fields.insert(line.short_key.clone(), v),
            LineKind::Party => votes.insert(line.short_key.clone(), v),
        };
    }
    (fields, votes)
}

/// Joins the contract's `fields` and `votes` objects into one flat value map.
pub fn join_values(
    model: &FormModel,
    fields: &BTreeMap<String, Option<u64>>,
    votes: &BTreeMap<String, Option<u64>>,
) -> Values {
    model
        .lines
        .iter()
        .map(|l| {
            let v = match l.kind {
                LineKind::Field => fields.get(&l.short_key).copied().flatten(),
                LineKind::Party => votes.get(&l.short_key).copied().flatten(),
            };
            (l.key.clone(), v)
        })
        .collect()
}
