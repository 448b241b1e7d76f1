//! The form model: what a protocol of one election looks like.
//!
//! Everything election-specific — the levels and their titles, the numbered
//! lines with their labels in each language the form is printed in, where a
//! line's figure stands, how the station names itself, the parties, the
//! control relations — lives in a TOML file under `models/`, never in code. This
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
    #[serde(default)]
    columns: Vec<RawColumn>,
    #[serde(default)]
    party_cells: Option<RawParties>,
    #[serde(default)]
    repeated_totals: Vec<RawRepeat>,
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
    #[serde(default)]
    leading_zeros: bool,
    languages: Spanned<Vec<String>>,
    #[serde(default = "default_ocr_language")]
    ocr_language: String,
    #[serde(default)]
    reviewer_language: Option<Spanned<String>>,
    title: Spanned<Labels>,
    station: RawStation,
    #[serde(default)]
    regions: RawRegions,
}

fn default_ocr_language() -> String {
    "eng".into()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStation {
    #[serde(default)]
    labels: Option<Spanned<Labels>>,
    #[serde(default)]
    boxes: Vec<RawCodeBox>,
    /// The word printed before each group of code boxes (`Code`).
    #[serde(default)]
    marker: Option<Spanned<Labels>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCodeBox {
    key: String,
    labels: Spanned<Labels>,
    digits: u32,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawColumn {
    key: Spanned<String>,
    labels: Spanned<Labels>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRepeat {
    key: Spanned<String>,
    labels: Spanned<Labels>,
    #[serde(default)]
    column: Option<Spanned<String>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRegions {
    names: Vec<String>,
}

/// One text as the form prints it, once per language of `[form] languages`
/// and in that order (`["Дауыс беруге …", "Число избирателей …"]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Labels(pub Vec<String>);

impl Labels {
    /// Every language's text, one after the other: what reading matches a
    /// printed line against (a line may print any of them, or all).
    pub fn joined(&self) -> String {
        self.0.join(" ")
    }

    /// The text in the form's `index`-th language, or the first one.
    pub fn text(&self, index: usize) -> &str {
        self.0.get(index).or(self.0.first()).map_or("", String::as_str)
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawElection {
    key: Spanned<String>,
    labels: Spanned<Labels>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLine {
    number: u32,
    key: Spanned<String>,
    labels: Spanned<Labels>,
    #[serde(default)]
    column: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParty {
    key: Spanned<String>,
    /// The party's own name; the label when not given.
    #[serde(default)]
    name: Option<Spanned<Labels>>,
    labels: Spanned<Labels>,
    #[serde(default)]
    column: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParties {
    /// What an empty party cell means: `"zero"` (the form's convention
    /// that a party with no votes is left blank) or `"missing"`.
    #[serde(default)]
    blank: Option<Spanned<String>>,
    /// The column every party's figure stands in, unless a party says.
    #[serde(default)]
    column: Option<Spanned<String>>,
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
    pub title: Labels,
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
    pub label: Labels,
    /// The party's own name, for party lines.
    pub party_name: Option<Labels>,
    /// Where the figure stands: `None` beside the label, to its right;
    /// otherwise the index into [`FormModel::columns`] of the table column
    /// it is written in (the "in figures" column of a party table).
    pub column: Option<usize>,
    /// An empty cell means 0 (a form whose parties with no votes are left
    /// blank), not a value missing.
    pub blank_is_zero: bool,
}

/// A named column of a table on the form, found by its printed heading.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub key: String,
    pub labels: Labels,
}

/// One box group of a station code (`state`, `lga`, …): its caption and
/// how many digits it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeBox {
    pub key: String,
    pub labels: Labels,
    pub digits: u32,
}

/// How the form names its polling station.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StationForm {
    /// One number beside a caption («Избирательный участок № 217»).
    Number { caption: Labels },
    /// Digit boxes after several captions (state, LGA, ward, unit), each
    /// group right after the printed `marker` word (`Code`); the station is
    /// their digits joined with `/`, zero-padded to each group's width
    /// (`32/15/04/024`).
    CodeBoxes { boxes: Vec<CodeBox>, marker: Labels },
}

/// A total the form asks for a second time (a TOTAL row under the party
/// table repeating line 7): when filled in, it must equal the line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepeatedTotal {
    /// The line key it repeats.
    pub key: String,
    pub labels: Labels,
    /// The column its figure stands in, as for [`Line::column`].
    pub column: Option<usize>,
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
    /// Writers of this form put zeros before a count («015», «099»): a
    /// leading zero is how it is written, not a sign of a misread digit.
    pub leading_zeros: bool,
    /// The languages the form is printed in, in the order of every
    /// [`Labels`] list (`["kk", "ru"]`).
    pub languages: Vec<String>,
    /// The Tesseract language data the page's text is read with (`kaz`).
    pub ocr_language: String,
    /// The index into `languages` of the language reviewers read names in.
    pub reviewer_language: usize,
    pub title: Labels,
    pub station: StationForm,
    pub regions: Vec<String>,
    /// Named table columns that lines refer to.
    pub columns: Vec<Column>,
    pub repeated_totals: Vec<RepeatedTotal>,
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

        let languages = raw.form.languages.get_ref().clone();
        if languages.is_empty() {
            return Err(at(raw.form.languages.span().start, "form.languages names no language".into()));
        }
        // Every printed text gives one entry per language, in that order.
        let labels = |spanned: Spanned<Labels>, what: &str| -> Result<Labels, ModelError> {
            let count = spanned.get_ref().0.len();
            if count != languages.len() || spanned.get_ref().0.iter().any(|t| t.trim().is_empty()) {
                return Err(at(
                    spanned.span().start,
                    format!("{what}: {count} text(s) for {} language(s) {languages:?}, none empty", languages.len()),
                ));
            }
            Ok(spanned.into_inner())
        };
        let reviewer_language = match &raw.form.reviewer_language {
            None => 0,
            Some(l) => languages.iter().position(|x| x == l.get_ref()).ok_or_else(|| {
                at(l.span().start, format!("reviewer_language '{}' is not one of {languages:?}", l.get_ref()))
            })?,
        };

        let mut columns = Vec::new();
        for c in raw.columns {
            if !is_valid_key(c.key.get_ref()) || columns.iter().any(|k: &Column| &k.key == c.key.get_ref()) {
                return Err(at(c.key.span().start, format!("column '{}' is not a fresh key", c.key.get_ref())));
            }
            let key = c.key.into_inner();
            columns.push(Column { labels: labels(c.labels, &format!("column {key}"))?, key });
        }
        let column_of = |name: Option<Spanned<String>>| -> Result<Option<usize>, ModelError> {
            name.map(|n| {
                columns.iter().position(|c| &c.key == n.get_ref()).ok_or_else(|| {
                    at(n.span().start, format!("column '{}' is not defined under [[columns]]", n.get_ref()))
                })
            })
            .transpose()
        };

        let raw_station = raw.form.station;
        let station = match (raw_station.labels, raw_station.boxes.is_empty(), raw_station.marker) {
            (Some(caption), true, None) => StationForm::Number { caption: labels(caption, "form.station")? },
            (None, false, Some(marker)) => StationForm::CodeBoxes {
                boxes: raw_station
                    .boxes
                    .into_iter()
                    .map(|b| {
                        let labels = labels(b.labels, &format!("station box {}", b.key))?;
                        Ok(CodeBox { labels, key: b.key, digits: b.digits })
                    })
                    .collect::<Result<_, ModelError>>()?,
                marker: labels(marker, "form.station.marker")?,
            },
            _ => {
                return Err(at(
                    0,
                    "form.station needs either `labels` (a number after a caption) or `boxes` and `marker` (code \
                     boxes after a printed word)"
                        .into(),
                ));
            }
        };

        let mut seen = HashSet::new();
        let mut elections = Vec::new();
        for e in raw.elections {
            if !seen.insert(e.key.get_ref().clone()) {
                return Err(at(e.key.span().start, format!("election '{}' is defined twice", e.key.get_ref())));
            }
            let key = e.key.into_inner();
            elections.push(Election { title: labels(e.labels, &format!("election {key}"))?, key });
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
                label: labels(l.labels, &format!("line {key}"))?,
                key,
                kind: LineKind::Field,
                party_name: None,
                column: column_of(l.column)?,
                blank_is_zero: false,
            });
        }
        let party_cells = raw.party_cells.unwrap_or(RawParties { blank: None, column: None });
        let blank_is_zero = match &party_cells.blank {
            None => false,
            Some(b) if b.get_ref() == "zero" => true,
            Some(b) if b.get_ref() == "missing" => false,
            Some(b) => {
                return Err(at(
                    b.span().start,
                    format!("party_cells.blank '{}' must be \"zero\" or \"missing\"", b.get_ref()),
                ));
            }
        };
        let party_column = column_of(party_cells.column)?;
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
            let label = labels(p.labels, &format!("party {short}"))?;
            let party_name = match p.name {
                Some(name) => labels(name, &format!("party {short} name"))?,
                None => label.clone(),
            };
            lines.push(Line {
                number,
                key,
                short_key: short,
                kind: LineKind::Party,
                label,
                party_name: Some(party_name),
                column: column_of(p.column)?.or(party_column),
                blank_is_zero,
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

        let mut repeated_totals = Vec::new();
        for r in raw.repeated_totals {
            if !seen_keys.contains(r.key.get_ref()) {
                return Err(at(r.key.span().start, format!("repeated total of unknown line '{}'", r.key.get_ref())));
            }
            let key = r.key.into_inner();
            repeated_totals.push(RepeatedTotal {
                labels: labels(r.labels, &format!("repeated total {key}"))?,
                column: column_of(r.column)?,
                key,
            });
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
            leading_zeros: raw.form.leading_zeros,
            title: labels(raw.form.title, "form.title")?,
            languages,
            ocr_language: raw.form.ocr_language,
            reviewer_language,
            station,
            regions: raw.form.regions.names,
            columns,
            repeated_totals,
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

    /// A printed text in the reviewers' language.
    pub fn reviewer_text<'a>(&self, labels: &'a Labels) -> &'a str {
        labels.text(self.reviewer_language)
    }

    /// A printed text in the language named `language` (`"kk"`), if the
    /// form is printed in it.
    pub fn text_in<'a>(&self, labels: &'a Labels, language: &str) -> Option<&'a str> {
        self.languages.iter().position(|l| l == language).map(|i| labels.text(i))
    }

    /// Every caption the station is printed under, in every language: the
    /// number's caption, or the code boxes' captions.
    pub fn station_caption(&self) -> String {
        match &self.station {
            StationForm::Number { caption } => caption.joined(),
            StationForm::CodeBoxes { boxes, .. } => {
                boxes.iter().map(|b| b.labels.joined()).collect::<Vec<_>>().join(" ")
            }
        }
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
