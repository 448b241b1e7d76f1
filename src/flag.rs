//! Why a protocol needs a person: the flags of `results.jsonl`, typed.
//!
//! A flag travels as the string `KIND` or `KIND:DETAIL` (`rule:R1`,
//! `missing:votes.qhp`, `conflict:mazhilis/217`); this is the one place that
//! writes and reads those strings, and the one place that says how bad each
//! is, so the scan's order of a result's flags and the review queue's order
//! of protocols agree.

use std::fmt;
use std::str::FromStr;

use crate::model::{FormModel, RuleKind};

/// One reason a protocol was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Flag {
    /// A control relation fails (`rule:R1`).
    Rule(String),
    /// Another photo of the same station and election gives other values
    /// (`conflict:mazhilis/217`).
    Conflict {
        election: String,
        station: String,
    },
    /// A line's value was not found (`missing:votes.qhp`).
    Missing(String),
    UnreadableStation,
    UnreadableElection,
    /// A handwritten value shown is the rival reading the rules chose
    /// (`chosen_by_rules:ballots_unused`).
    ChosenByRules(String),
    /// A value, the station or the election read below the confidence
    /// threshold (`low_confidence:ballots_issued`, `low_confidence:station`).
    LowConfidence(String),
    /// No line of the form was found on the image.
    NotAProtocol,
    /// A total the form asks for twice was written with two different
    /// figures (`repeat:total_valid_votes`).
    Repeat(String),
}

/// A flag string that is none of the kinds above.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a flag: {0:?}")]
pub struct UnknownFlag(pub String);

impl Flag {
    /// The kind, as the string's part before `:`.
    pub fn kind(&self) -> &'static str {
        match self {
            Flag::Rule(_) => "rule",
            Flag::Conflict { .. } => "conflict",
            Flag::Missing(_) => "missing",
            Flag::UnreadableStation => "unreadable_station",
            Flag::UnreadableElection => "unreadable_election",
            Flag::ChosenByRules(_) => "chosen_by_rules",
            Flag::LowConfidence(_) => "low_confidence",
            Flag::NotAProtocol => "not_a_protocol",
            Flag::Repeat(_) => "repeat",
        }
    }

    /// How bad it is, worst first, as a reviewer takes them: 0 a hard rule
    /// fails, 1 photos of one station disagree, 2 a value or the page is
    /// not read (or the rules chose the value), 3 a value read unsurely,
    /// 4 a soft rule fails.
    pub fn severity(&self, model: &FormModel) -> u8 {
        match self {
            Flag::Rule(id) if model.rule(id).is_some_and(|r| r.kind == RuleKind::Hard) => 0,
            Flag::Rule(_) => 4,
            // The sheet contradicts itself, as a failing hard rule does.
            Flag::Repeat(_) => 0,
            Flag::Conflict { .. } => 1,
            Flag::Missing(_)
            | Flag::UnreadableStation
            | Flag::UnreadableElection
            | Flag::ChosenByRules(_)
            | Flag::NotAProtocol => 2,
            Flag::LowConfidence(_) => 3,
        }
    }

    /// What a flag counts under in the review queue's reasons: a rule by
    /// its id (`rule:R1`), anything else by its kind (`missing`).
    pub fn reason(&self) -> String {
        match self {
            Flag::Rule(_) => self.to_string(),
            other => other.kind().to_string(),
        }
    }
}

impl fmt::Display for Flag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Flag::Rule(detail)
            | Flag::Missing(detail)
            | Flag::ChosenByRules(detail)
            | Flag::LowConfidence(detail)
            | Flag::Repeat(detail) => {
                write!(f, "{}:{detail}", self.kind())
            }
            Flag::Conflict { election, station } => write!(f, "conflict:{election}/{station}"),
            Flag::UnreadableStation | Flag::UnreadableElection | Flag::NotAProtocol => f.write_str(self.kind()),
        }
    }
}

impl FromStr for Flag {
    type Err = UnknownFlag;

    fn from_str(text: &str) -> Result<Flag, UnknownFlag> {
        let unknown = || UnknownFlag(text.to_string());
        let (kind, detail) = match text.split_once(':') {
            Some((kind, detail)) if !detail.is_empty() => (kind, Some(detail.to_string())),
            Some(_) => return Err(unknown()),
            None => (text, None),
        };
        Ok(match (kind, detail) {
            ("rule", Some(d)) => Flag::Rule(d),
            ("missing", Some(d)) => Flag::Missing(d),
            ("chosen_by_rules", Some(d)) => Flag::ChosenByRules(d),
            ("low_confidence", Some(d)) => Flag::LowConfidence(d),
            ("repeat", Some(d)) => Flag::Repeat(d),
            ("conflict", Some(d)) => {
                let (election, station) = d.split_once('/').ok_or_else(unknown)?;
                Flag::Conflict { election: election.to_string(), station: station.to_string() }
            }
            ("unreadable_station", None) => Flag::UnreadableStation,
            ("unreadable_election", None) => Flag::UnreadableElection,
            ("not_a_protocol", None) => Flag::NotAProtocol,
            _ => return Err(unknown()),
        })
    }
}

/// The severity of a flag string; one that is no flag ranks after all.
pub fn severity_of(model: &FormModel, flag: &str) -> u8 {
    flag.parse::<Flag>().map_or(5, |f| f.severity(model))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_flag_writes_and_reads_todays_strings() {
        let all = [
            ("rule:R1", Flag::Rule("R1".into())),
            ("missing:votes.qhp", Flag::Missing("votes.qhp".into())),
            ("chosen_by_rules:ballots_unused", Flag::ChosenByRules("ballots_unused".into())),
            ("low_confidence:station", Flag::LowConfidence("station".into())),
            ("conflict:mazhilis/217", Flag::Conflict { election: "mazhilis".into(), station: "217".into() }),
            ("unreadable_station", Flag::UnreadableStation),
            ("unreadable_election", Flag::UnreadableElection),
            ("not_a_protocol", Flag::NotAProtocol),
            ("repeat:total_valid_votes", Flag::Repeat("total_valid_votes".into())),
        ];
        for (text, flag) in all {
            assert_eq!(flag.to_string(), text);
            assert_eq!(text.parse::<Flag>(), Ok(flag));
        }
        for bad in ["", "rule", "rule:", "conflict:mazhilis", "bogus:1", "not_a_protocol:x"] {
            assert!(bad.parse::<Flag>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn one_severity_orders_flags_for_the_scan_and_the_queue() {
        let model = FormModel::load(None).unwrap();
        let rank = |s: &str| severity_of(&model, s);
        assert_eq!(rank("rule:R1"), 0, "R1 is hard");
        assert_eq!(rank("repeat:ballots_issued"), 0, "the sheet contradicts itself");
        assert_eq!(rank("rule:R5"), 4, "R5 is soft");
        assert!(rank("conflict:mazhilis/1") < rank("missing:ballots_issued"));
        assert_eq!(rank("not_a_protocol"), rank("missing:ballots_issued"));
        assert!(rank("missing:ballots_issued") < rank("low_confidence:ballots_issued"));
        assert_eq!(Flag::Missing("votes.qhp".into()).reason(), "missing");
        assert_eq!(Flag::Rule("R4".into()).reason(), "rule:R4");
    }
}
