//! Control relations as data.
//!
//! The form model states each rule as a text such as
//! `ballots_received = ballots_issued + ballots_unused`. This module parses
//! that text once into a small expression tree and evaluates it against the
//! values read from a protocol, so a new election's rules are a new model
//! file, never new code. Evaluation never guesses: a rule over a value that
//! was not read is reported as not evaluated, naming what is missing.

use std::collections::BTreeMap;
use std::fmt;

/// Tolerance for comparing sides that involve decimal factors (`0.95 * x`).
/// Counts are integers below 10^7, so anything smaller than this is rounding.
const COMPARE_EPSILON: f64 = 1e-6;

/// A comparison operator between the two sides of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Eq,
    Ne,
    Le,
    Lt,
    Ge,
    Gt,
}

impl Comparison {
    fn holds(self, left: f64, right: f64) -> bool {
        let diff = left - right;
        match self {
            Comparison::Eq => diff.abs() <= COMPARE_EPSILON,
            Comparison::Ne => diff.abs() > COMPARE_EPSILON,
            Comparison::Le => diff <= COMPARE_EPSILON,
            Comparison::Lt => diff < -COMPARE_EPSILON,
            Comparison::Ge => diff >= -COMPARE_EPSILON,
            Comparison::Gt => diff > COMPARE_EPSILON,
        }
    }

    /// The symbol shown when the relation holds.
    fn symbol(self) -> &'static str {
        match self {
            Comparison::Eq => "=",
            Comparison::Ne => "≠",
            Comparison::Le => "≤",
            Comparison::Lt => "<",
            Comparison::Ge => "≥",
            Comparison::Gt => ">",
        }
    }

    /// The symbol shown when the relation fails (what is actually true).
    fn negated_symbol(self) -> &'static str {
        match self {
            Comparison::Eq => "≠",
            Comparison::Ne => "=",
            Comparison::Le => ">",
            Comparison::Lt => "≥",
            Comparison::Ge => "<",
            Comparison::Gt => "≤",
        }
    }
}

/// An arithmetic expression over line values.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Number(f64),
    /// A line key such as `ballots_issued` or `votes.nur_otan`.
    Value(String),
    /// `sum(votes)`: the sum over every party line of the model.
    SumVotes,
    Add(Box<Expr>, Box<Expr>),
    Sub(Box<Expr>, Box<Expr>),
    Mul(Box<Expr>, Box<Expr>),
}

/// A parsed relation: `left op right`.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub left: Expr,
    pub op: Comparison,
    pub right: Expr,
}

/// Why a rule text could not be parsed; `column` counts characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("column {column}: {message}")]
pub struct ParseError {
    pub column: usize,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Number(f64),
    Ident(String),
    Plus,
    Minus,
    Star,
    Open,
    Close,
    Cmp(Comparison),
}

fn tokenize(text: &str) -> Result<Vec<(usize, Token)>, ParseError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let column = i + 1;
        let err = |message: String| ParseError { column, message };
        match c {
            ' ' | '\t' => {
                i += 1;
                continue;
            }
            '+' => tokens.push((column, Token::Plus)),
            '-' => tokens.push((column, Token::Minus)),
            '*' | '×' => tokens.push((column, Token::Star)),
            '(' => tokens.push((column, Token::Open)),
            ')' => tokens.push((column, Token::Close)),
            '=' => {
                if chars.get(i + 1) == Some(&'=') {
                    i += 1;
                }
                tokens.push((column, Token::Cmp(Comparison::Eq)));
            }
            '!' | '<' | '>' => {
                let followed_by_eq = chars.get(i + 1) == Some(&'=');
                let op = match (c, followed_by_eq) {
                    ('!', true) => Comparison::Ne,
                    ('<', true) => Comparison::Le,
                    ('<', false) => Comparison::Lt,
                    ('>', true) => Comparison::Ge,
                    ('>', false) => Comparison::Gt,
                    _ => return Err(err("'!' must be followed by '='".into())),
                };
                if followed_by_eq {
                    i += 1;
                }
                tokens.push((column, Token::Cmp(op)));
            }
            '≤' => tokens.push((column, Token::Cmp(Comparison::Le))),
            '≥' => tokens.push((column, Token::Cmp(Comparison::Ge))),
            '≠' => tokens.push((column, Token::Cmp(Comparison::Ne))),
            c if c.is_ascii_digit() => {
                let start = i;
                while i + 1 < chars.len() && (chars[i + 1].is_ascii_digit() || chars[i + 1] == '.') {
                    i += 1;
                }
                let literal: String = chars[start..=i].iter().collect();
                let value = literal.parse::<f64>().map_err(|_| err(format!("'{literal}' is not a number")))?;
                tokens.push((column, Token::Number(value)));
            }
            c if c.is_ascii_alphabetic() || c == '_' => {
                let start = i;
                while i + 1 < chars.len()
                    && (chars[i + 1].is_ascii_alphanumeric() || chars[i + 1] == '_' || chars[i + 1] == '.')
                {
                    i += 1;
                }
                tokens.push((column, Token::Ident(chars[start..=i].iter().collect())));
            }
            other => return Err(err(format!("unexpected character '{other}'"))),
        }
        i += 1;
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<(usize, Token)>,
    pos: usize,
    end_column: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos).map(|(_, t)| t)
    }

    fn column(&self) -> usize {
        self.tokens.get(self.pos).map(|(c, _)| *c).unwrap_or(self.end_column)
    }

    fn error<T>(&self, message: impl Into<String>) -> Result<T, ParseError> {
        Err(ParseError { column: self.column(), message: message.into() })
    }

    fn sum(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.product()?;
        loop {
            match self.peek() {
                Some(Token::Plus) => {
                    self.pos += 1;
                    left = Expr::Add(Box::new(left), Box::new(self.product()?));
                }
                Some(Token::Minus) => {
                    self.pos += 1;
                    left = Expr::Sub(Box::new(left), Box::new(self.product()?));
                }
                _ => return Ok(left),
            }
        }
    }

    fn product(&mut self) -> Result<Expr, ParseError> {
        let mut left = self.atom()?;
        while self.peek() == Some(&Token::Star) {
            self.pos += 1;
            left = Expr::Mul(Box::new(left), Box::new(self.atom()?));
        }
        Ok(left)
    }

    fn atom(&mut self) -> Result<Expr, ParseError> {
        match self.peek().cloned() {
            Some(Token::Number(n)) => {
                self.pos += 1;
                Ok(Expr::Number(n))
            }
            Some(Token::Open) => {
                self.pos += 1;
                let inner = self.sum()?;
                if self.peek() != Some(&Token::Close) {
                    return self.error("expected ')'");
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Token::Ident(name)) if name == "sum" => {
                self.pos += 1;
                let open = self.peek() == Some(&Token::Open);
                let arg = self.tokens.get(self.pos + 1).map(|(_, t)| t.clone());
                let close = self.tokens.get(self.pos + 2).map(|(_, t)| t) == Some(&Token::Close);
                if open && close && arg == Some(Token::Ident("votes".into())) {
                    self.pos += 3;
                    Ok(Expr::SumVotes)
                } else {
                    self.error("the only sum is 'sum(votes)'")
                }
            }
            Some(Token::Ident(name)) => {
                self.pos += 1;
                Ok(Expr::Value(name))
            }
            Some(_) => self.error("expected a number, a line key or '('"),
            None => self.error("the expression ends too early"),
        }
    }
}

impl Relation {
    /// Parses `left op right`. Keys are not checked here; see [`Relation::keys`].
    pub fn parse(text: &str) -> Result<Relation, ParseError> {
        let tokens = tokenize(text)?;
        let mut parser = Parser { tokens, pos: 0, end_column: text.chars().count() + 1 };
        let left = parser.sum()?;
        let op = match parser.peek() {
            Some(Token::Cmp(op)) => *op,
            _ => return parser.error("expected a comparison (=, !=, <=, <, >=, >)"),
        };
        parser.pos += 1;
        let right = parser.sum()?;
        if parser.peek().is_some() {
            return parser.error("unexpected text after the expression");
        }
        Ok(Relation { left, op, right })
    }

    /// Every line key the relation reads (`sum(votes)` excluded).
    pub fn keys(&self) -> Vec<String> {
        fn walk(e: &Expr, out: &mut Vec<String>) {
            match e {
                Expr::Value(k) => out.push(k.clone()),
                Expr::Add(a, b) | Expr::Sub(a, b) | Expr::Mul(a, b) => {
                    walk(a, out);
                    walk(b, out);
                }
                Expr::Number(_) | Expr::SumVotes => {}
            }
        }
        let mut out = Vec::new();
        walk(&self.left, &mut out);
        walk(&self.right, &mut out);
        out
    }

    /// Whether the relation reads `sum(votes)`.
    pub fn uses_votes(&self) -> bool {
        fn walk(e: &Expr) -> bool {
            match e {
                Expr::SumVotes => true,
                Expr::Add(a, b) | Expr::Sub(a, b) | Expr::Mul(a, b) => walk(a) || walk(b),
                _ => false,
            }
        }
        walk(&self.left) || walk(&self.right)
    }
}

/// The values of one protocol, keyed by line key (`votes.<party>` for parties).
/// `None` means the value was not read.
pub type Values = BTreeMap<String, Option<u64>>;

/// The result of evaluating one relation.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    /// Both sides computed; `holds` says whether the relation is true.
    Evaluated { holds: bool, left: f64, right: f64, detail: String },
    /// Some value is missing, so the rule says nothing.
    Missing { keys: Vec<String> },
}

struct Eval<'a> {
    values: &'a Values,
    party_keys: &'a [String],
    missing: Vec<String>,
    /// When set, values are shown after their line's name ("issued 812").
    names: Option<&'a dyn Fn(&str) -> String>,
}

impl Eval<'_> {
    fn value(&mut self, key: &str) -> f64 {
        match self.values.get(key).copied().flatten() {
            Some(v) => v as f64,
            None => {
                if !self.missing.iter().any(|m| m == key) {
                    self.missing.push(key.to_string());
                }
                0.0
            }
        }
    }

    fn eval(&mut self, e: &Expr) -> f64 {
        match e {
            Expr::Number(n) => *n,
            Expr::Value(k) => self.value(k),
            Expr::SumVotes => {
                let keys = self.party_keys.to_vec();
                keys.iter().map(|k| self.value(k)).sum()
            }
            Expr::Add(a, b) => self.eval(a) + self.eval(b),
            Expr::Sub(a, b) => self.eval(a) - self.eval(b),
            Expr::Mul(a, b) => self.eval(a) * self.eval(b),
        }
    }

    /// The expression with values substituted, e.g. `812 + 1488`.
    fn show(&mut self, e: &Expr) -> String {
        match e {
            Expr::Number(n) => format_number(*n),
            Expr::Value(k) => match self.names {
                Some(name) => format!("{} {}", name(k), format_number(self.value(k))),
                None => format_number(self.value(k)),
            },
            Expr::SumVotes => match self.names {
                Some(_) => format!("votes {}", format_number(self.eval(e))),
                None => format_number(self.eval(e)),
            },
            Expr::Add(a, b) => format!("{} + {}", self.show(a), self.show(b)),
            Expr::Sub(a, b) => format!("{} - {}", self.show(a), self.show(b)),
            Expr::Mul(a, b) => {
                let wrap = |s: String, e: &Expr| match e {
                    Expr::Add(..) | Expr::Sub(..) => format!("({s})"),
                    _ => s,
                };
                let left = self.show(a);
                let right = self.show(b);
                format!("{} × {}", wrap(left, a), wrap(right, b))
            }
        }
    }
}

/// Whole numbers without a decimal point, others with at most two decimals.
fn format_number(n: f64) -> String {
    if (n - n.round()).abs() < COMPARE_EPSILON {
        format!("{}", n.round() as i64)
    } else {
        let s = format!("{n:.2}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

fn is_compound(e: &Expr) -> bool {
    !matches!(e, Expr::Number(_) | Expr::Value(_))
}

/// Evaluates `relation` on `values`; `party_keys` are the `votes.<party>` keys
/// that `sum(votes)` adds up.
pub fn evaluate(relation: &Relation, values: &Values, party_keys: &[String]) -> Outcome {
    evaluate_with(relation, values, party_keys, None)
}

/// A failed relation in words for a reviewer: the values with their lines'
/// names, the gap, and what it may mean — "received 2300 ≠ issued 812 +
/// unused 1478 (= 2290): off by 10 (ballots unaccounted for)". `None` when
/// the relation holds or cannot be evaluated.
pub fn explain_failure(
    relation: &Relation,
    values: &Values,
    party_keys: &[String],
    name: &dyn Fn(&str) -> String,
    meaning: &str,
) -> Option<String> {
    match evaluate_with(relation, values, party_keys, Some(name)) {
        Outcome::Evaluated { holds: false, left, right, detail } => {
            let gap = format_number((left - right).abs());
            let by = match relation.op {
                Comparison::Eq => format!("off by {gap}"),
                Comparison::Le | Comparison::Lt => format!("over by {gap}"),
                Comparison::Ge | Comparison::Gt => format!("short by {gap}"),
                Comparison::Ne => "equal".to_string(),
            };
            Some(format!("{detail}: {by} ({meaning})"))
        }
        _ => None,
    }
}

fn evaluate_with(
    relation: &Relation,
    values: &Values,
    party_keys: &[String],
    names: Option<&dyn Fn(&str) -> String>,
) -> Outcome {
    let mut ev = Eval { values, party_keys, missing: Vec::new(), names };
    let left = ev.eval(&relation.left);
    let right = ev.eval(&relation.right);
    if !ev.missing.is_empty() {
        return Outcome::Missing { keys: ev.missing };
    }
    let holds = relation.op.holds(left, right);
    let symbol = if holds { relation.op.symbol() } else { relation.op.negated_symbol() };
    let mut left_text = ev.show(&relation.left);
    let mut right_text = ev.show(&relation.right);
    // A compound side is followed by its value, so the failure reads with numbers:
    // "812 + 1478 (= 2290)".
    if is_compound(&relation.left) {
        left_text = format!("{left_text} (= {})", format_number(left));
    }
    if is_compound(&relation.right) {
        right_text = format!("{right_text} (= {})", format_number(right));
    }
    Outcome::Evaluated { holds, left, right, detail: format!("{left_text} {symbol} {right_text}") }
}

impl fmt::Display for Comparison {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.symbol())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failure_reads_in_words_with_the_gap() {
        let relation = Relation::parse("ballots_received = ballots_issued + ballots_unused").unwrap();
        let v = values(&[("ballots_received", 2300), ("ballots_issued", 812), ("ballots_unused", 1478)]);
        let name = |k: &str| k.trim_start_matches("ballots_").to_string();
        let words = explain_failure(&relation, &v, &[], &name, "ballots unaccounted for").unwrap();
        assert_eq!(words, "received 2300 ≠ issued 812 + unused 1478 (= 2290): off by 10 (ballots unaccounted for)");
        let v = values(&[("ballots_received", 2290), ("ballots_issued", 812), ("ballots_unused", 1478)]);
        assert_eq!(explain_failure(&relation, &v, &[], &name, "x"), None);
    }

    fn values(pairs: &[(&str, u64)]) -> Values {
        pairs.iter().map(|(k, v)| (k.to_string(), Some(*v))).collect()
    }

    #[test]
    fn parses_precedence_and_parentheses() {
        let r = Relation::parse("a <= 0.10 * (sum(votes) + b)").unwrap();
        assert_eq!(r.op, Comparison::Le);
        assert_eq!(r.left, Expr::Value("a".into()));
        assert_eq!(
            r.right,
            Expr::Mul(
                Box::new(Expr::Number(0.10)),
                Box::new(Expr::Add(Box::new(Expr::SumVotes), Box::new(Expr::Value("b".into()))))
            )
        );
        assert_eq!(r.keys(), vec!["a".to_string(), "b".to_string()]);
        assert!(r.uses_votes());
    }

    #[test]
    fn reports_column_of_syntax_errors() {
        let e = Relation::parse("a + = b").unwrap_err();
        assert_eq!(e.column, 5);
        let e = Relation::parse("a + b").unwrap_err();
        assert!(e.message.contains("comparison"), "{e}");
        let e = Relation::parse("a = b $").unwrap_err();
        assert_eq!(e.column, 7);
        assert!(Relation::parse("sum(parties) = 1").is_err());
        assert!(Relation::parse("a = (b + c").is_err());
    }

    #[test]
    fn evaluates_with_detail() {
        let r = Relation::parse("received = issued + unused").unwrap();
        let ok = evaluate(&r, &values(&[("received", 2300), ("issued", 812), ("unused", 1488)]), &[]);
        match ok {
            Outcome::Evaluated { holds, detail, .. } => {
                assert!(holds);
                assert_eq!(detail, "2300 = 812 + 1488 (= 2300)");
            }
            other => panic!("{other:?}"),
        }
        let bad = evaluate(&r, &values(&[("received", 2300), ("issued", 812), ("unused", 1478)]), &[]);
        match bad {
            Outcome::Evaluated { holds, detail, .. } => {
                assert!(!holds);
                assert_eq!(detail, "2300 ≠ 812 + 1478 (= 2290)");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn sums_votes_and_reports_missing() {
        let r = Relation::parse("sum(votes) + spoiled <= issued").unwrap();
        let parties = vec!["votes.a".to_string(), "votes.b".to_string()];
        let mut v = values(&[("votes.a", 10), ("votes.b", 5), ("spoiled", 1), ("issued", 16)]);
        assert!(matches!(evaluate(&r, &v, &parties), Outcome::Evaluated { holds: true, .. }));
        v.insert("issued".into(), Some(15));
        assert!(matches!(evaluate(&r, &v, &parties), Outcome::Evaluated { holds: false, .. }));
        v.insert("votes.b".into(), None);
        assert_eq!(evaluate(&r, &v, &parties), Outcome::Missing { keys: vec!["votes.b".into()] });
    }

    #[test]
    fn decimal_factors_compare_at_the_boundary() {
        let r = Relation::parse("issued <= 0.95 * voters").unwrap();
        let at = values(&[("issued", 95), ("voters", 100)]);
        assert!(matches!(evaluate(&r, &at, &[]), Outcome::Evaluated { holds: true, .. }));
        let over = values(&[("issued", 96), ("voters", 100)]);
        assert!(matches!(evaluate(&r, &over, &[]), Outcome::Evaluated { holds: false, .. }));
    }
}
