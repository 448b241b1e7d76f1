//! Signals for analysts — not verdicts — per election level: stations with
//! implausibly high turnout, turnout or the leading party's share piling up
//! on whole percentages (the integer-percent test of Kobak, Shpilkin and
//! Pshenichnikov), and the last digits of the vote counts against a uniform
//! distribution. Each lists the stations behind it; each p-value comes with
//! how many stations it rests on, and small samples say little.

use std::fmt::Write as _;

use serde::Serialize;

use super::stats::{chi_square_sf, normal_sf};
use super::{round1, CountedStation, LevelTotals, ISSUED, VOTERS};

/// Turnout above this (percent) is listed.
pub const HIGH_TURNOUT_PERCENT: f64 = 95.0;
/// A percentage within this of a whole number (in percentage points) reads
/// as "X.0" at one decimal: a whole percentage.
pub const WHOLE_PERCENT_TOLERANCE: f64 = 0.05;
/// Half-width (in counts) of the neighbourhood whose achievable percentages
/// give a station's chance of landing on a whole percentage by accident;
/// a twentieth of the denominator when that is larger.
const MIN_NEIGHBOURHOOD: u64 = 10;
/// Counts below this are left out of the last-digit test: small numbers'
/// last digits are not uniform even when honest.
pub const MIN_COUNT_FOR_LAST_DIGIT: u64 = 10;
/// Below this many counts the last-digit test says little.
pub const SMALL_SAMPLE: u64 = 100;

/// A station and the value that put it in a list.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StationValue {
    pub station: String,
    pub value: f64,
}

/// Whole percentages of one quantity across a level's stations.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IntegerPercent {
    /// What was tested: "turnout" or "share of <party>".
    pub what: String,
    pub stations_considered: usize,
    /// Stations at a whole percentage.
    pub observed: usize,
    /// How many would be expected there by chance.
    pub expected: f64,
    /// One-sided: the chance of at least `observed` by accident (normal
    /// approximation); `None` when nothing could vary.
    pub p_value: Option<f64>,
    pub stations: Vec<StationValue>,
}

/// Last digits of the vote counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastDigit {
    /// How many counts end in 0, 1, …, 9.
    pub counts: [u64; 10],
    pub n: u64,
    pub chi_square: Option<f64>,
    /// With 9 degrees of freedom; `None` without counts.
    pub p_value: Option<f64>,
    pub caveat: String,
}

/// Every signal of one level.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LevelSignals {
    pub high_turnout: Vec<StationValue>,
    pub whole_percent_turnout: IntegerPercent,
    pub whole_percent_leader: Option<IntegerPercent>,
    pub last_digit: LastDigit,
}

fn percent_of(num: u64, den: u64) -> f64 {
    100.0 * num as f64 / den as f64
}

fn is_whole(percent: f64) -> bool {
    (percent - percent.round()).abs() < WHOLE_PERCENT_TOLERANCE
}

/// Neighbourhoods up to this many counts are tried count by count; wider
/// ones (denominators beyond any polling station's, which only an edited
/// file holds) are counted per whole percentage, in time that does not
/// grow with the numbers.
const MAX_NEIGHBOURHOOD_TRIED: u64 = 1_000_000;

/// The chance that a count near `k` out of `den` lands on a whole percentage:
/// the share of counts in k's neighbourhood that do.
pub fn chance_of_whole_percent(k: u64, den: u64) -> f64 {
    let half = MIN_NEIGHBOURHOOD.max(den / 20);
    let (low, high) = (k.saturating_sub(half), k.saturating_add(half).min(den));
    if low > high {
        return 0.0;
    }
    let width = (high - low) as f64 + 1.0;
    if high - low < MAX_NEIGHBOURHOOD_TRIED {
        let hits = (low..=high).filter(|&j| is_whole(percent_of(j, den))).count();
        return hits as f64 / width;
    }
    // Counts j whose 100·j/den lies within the tolerance of a whole p.
    let scale = den as f64 / 100.0;
    let (first, last) = ((percent_of(low, den).floor()) as u64, (percent_of(high, den).ceil()) as u64);
    let hits: f64 = (first..=last)
        .map(|p| {
            let from = (scale * (p as f64 - WHOLE_PERCENT_TOLERANCE)).max(low as f64).ceil();
            let to = (scale * (p as f64 + WHOLE_PERCENT_TOLERANCE)).min(high as f64).floor();
            (to - from + 1.0).max(0.0)
        })
        .sum();
    hits / width
}

/// The integer-percent test over (numerator, denominator, station) triples.
pub fn whole_percent_test(what: &str, values: &[(u64, u64, &str)]) -> IntegerPercent {
    let mut observed = 0;
    let (mut expected, mut variance) = (0.0, 0.0);
    let mut stations = Vec::new();
    let mut considered = 0;
    for &(num, den, station) in values {
        if den == 0 {
            continue;
        }
        considered += 1;
        let p = chance_of_whole_percent(num, den);
        expected += p;
        variance += p * (1.0 - p);
        let percent = percent_of(num, den);
        if is_whole(percent) {
            observed += 1;
            stations.push(StationValue { station: station.to_string(), value: round1(percent) });
        }
    }
    // Continuity-corrected normal approximation of the Poisson binomial.
    let p_value = (variance > 0.0).then(|| normal_sf((observed as f64 - expected - 0.5) / variance.sqrt()).min(1.0));
    IntegerPercent {
        what: what.to_string(),
        stations_considered: considered,
        observed,
        expected: (expected * 100.0).round() / 100.0,
        p_value: p_value.map(|p| (p * 1000.0).round() / 1000.0),
        stations,
    }
}

/// The last-digit test over vote counts.
pub fn last_digit_test(counts: impl Iterator<Item = u64>) -> LastDigit {
    let mut digits = [0u64; 10];
    for c in counts.filter(|&c| c >= MIN_COUNT_FOR_LAST_DIGIT) {
        digits[(c % 10) as usize] += 1;
    }
    let n: u64 = digits.iter().sum();
    let chi_square = (n > 0).then(|| {
        let expected = n as f64 / 10.0;
        digits.iter().map(|&d| (d as f64 - expected).powi(2) / expected).sum::<f64>()
    });
    let caveat = if n < SMALL_SAMPLE {
        format!("only {n} counts of {MIN_COUNT_FOR_LAST_DIGIT} or more: too few for this test to say much")
    } else {
        format!("{n} counts of {MIN_COUNT_FOR_LAST_DIGIT} or more; a small p-value is a reason to look, not proof")
    };
    LastDigit {
        counts: digits,
        n,
        chi_square: chi_square.map(|c| (c * 100.0).round() / 100.0),
        p_value: chi_square.map(|c| (chi_square_sf(c, 9.0) * 1000.0).round() / 1000.0),
        caveat,
    }
}

/// The signals of one level's counted stations.
/// `party_name` gives the leading party's printed name.
pub fn level_signals(
    level: &LevelTotals,
    stations: &[&CountedStation],
    party_name: &dyn Fn(&str) -> String,
) -> LevelSignals {
    let high_turnout = stations
        .iter()
        .filter_map(|s| s.turnout().map(|t| (s, t)))
        .filter(|(_, t)| *t > HIGH_TURNOUT_PERCENT)
        .map(|(s, t)| StationValue { station: s.station.clone(), value: t })
        .collect();
    let turnout: Vec<(u64, u64, &str)> =
        stations.iter().map(|s| (s.fields[ISSUED], s.fields[VOTERS], s.station.as_str())).collect();
    let whole_percent_leader = level.leader().map(|party| {
        let shares: Vec<(u64, u64, &str)> =
            stations.iter().map(|s| (s.votes.get(party).copied().unwrap_or(0), s.cast(), s.station.as_str())).collect();
        whole_percent_test(&format!("share of {}", party_name(party)), &shares)
    });
    LevelSignals {
        high_turnout,
        whole_percent_turnout: whole_percent_test("turnout", &turnout),
        whole_percent_leader,
        last_digit: last_digit_test(stations.iter().flat_map(|s| s.votes.values().copied())),
    }
}

fn p(p: Option<f64>) -> String {
    p.map(|p| format!("{p:.3}")).unwrap_or_else(|| "—".into())
}

impl LevelSignals {
    /// The signals in words, for the terminal.
    pub fn render(&self, level_name: &str) -> String {
        let mut text = String::new();
        let _ = writeln!(text, "\nSignals, {level_name} (reasons to look, not verdicts):");
        let listed = |v: &[StationValue]| {
            v.iter().map(|s| format!("{} ({:.1}%)", s.station, s.value)).collect::<Vec<_>>().join(", ")
        };
        let _ = writeln!(
            text,
            "  turnout above {HIGH_TURNOUT_PERCENT:.0}%: {} stations{}",
            self.high_turnout.len(),
            if self.high_turnout.is_empty() { String::new() } else { format!(": {}", listed(&self.high_turnout)) }
        );
        for test in std::iter::once(&self.whole_percent_turnout).chain(self.whole_percent_leader.as_ref()) {
            let _ = writeln!(
                text,
                "  whole-percent {}: {} of {} stations (expected {:.1} by chance; p = {}){}",
                test.what,
                test.observed,
                test.stations_considered,
                test.expected,
                p(test.p_value),
                if test.stations.is_empty() { String::new() } else { format!(": {}", listed(&test.stations)) }
            );
        }
        let d = &self.last_digit;
        let _ = writeln!(
            text,
            "  last digits of the vote counts: χ² = {} (9 df), p = {}; {}",
            d.chi_square.map(|c| format!("{c:.2}")).unwrap_or_else(|| "—".into()),
            p(d.p_value),
            d.caveat
        );
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_percentages_are_found_and_expected_by_chance() {
        // 500 of 1000 is exactly 50 %; 333 of 1000 is 33.3 %.
        let test = whole_percent_test("turnout", &[(500, 1000, "1"), (333, 1000, "2"), (601, 1000, "3")]);
        assert_eq!(test.observed, 1);
        assert_eq!(test.stations, vec![StationValue { station: "1".into(), value: 50.0 }]);
        // With 1000 voters one count in ten is a whole percentage.
        assert!((chance_of_whole_percent(500, 1000) - 0.1).abs() < 0.02);
        // With 100 voters every count is.
        assert_eq!(chance_of_whole_percent(40, 100), 1.0);
        // A value no protocol holds (an edited file) is answered at once,
        // and as the count-by-count reckoning would.
        let huge = chance_of_whole_percent(u64::MAX / 3, u64::MAX);
        assert!((huge - 0.1).abs() < 1e-3, "{huge}");
        let wide = chance_of_whole_percent(40_000_000, 100_000_000);
        assert!((wide - 0.1).abs() < 1e-3, "{wide}");
        // Every station on a whole percentage where one in ten is expected.
        let piled: Vec<(u64, u64, &str)> = (0..30).map(|i| (400 + 10 * i, 1000, "s")).collect();
        assert!(whole_percent_test("turnout", &piled).p_value.unwrap() < 0.001);
    }

    #[test]
    fn last_digits_far_from_uniform_give_a_small_p_value() {
        let uniform = last_digit_test((0..1000u64).map(|i| 100 + i));
        assert_eq!(uniform.chi_square, Some(0.0));
        assert_eq!(uniform.p_value, Some(1.0));
        let fives = last_digit_test((0..200u64).map(|i| 105 + 10 * (i % 3)));
        assert!(fives.p_value.unwrap() < 0.001);
        let few = last_digit_test([3u64, 15, 27].into_iter());
        assert_eq!(few.n, 2, "counts below 10 are left out");
        assert!(few.caveat.contains("too few"));
    }
}
