//! Stage 6, check: from what was read to a status a person can trust.
//!
//! Every value that is missing or read with low confidence is a flag, never
//! a guess; the model's rules are evaluated on the values as read, and a
//! failed rule is a flag too — never "fixed" by changing a number. One
//! exception: when handwritten values break the rules and the glyph
//! network's own rival readings of one or two of them make every rule hold,
//! the rules rank those readings above the network's and the value shown is
//! the one they choose (`chosen_by_rules:KEY`), for a person to confirm
//! against the photo — unless the sequence reader read each chosen value
//! itself, surely enough: then two witnesses, the rules and a second reader,
//! stand for it. A determined value's note says which rule determined it.
//! Across files, two photos of the same station and election that disagree are
//! both flagged as a conflict.

use std::collections::BTreeMap;

use super::reading::{Reading, ValueReading};
use super::second_opinion::{seconded_confidence, sequence_count_in_place};
use crate::flag::{severity_of, Flag};
use crate::model::{split_values, FormModel, Rule, RuleCheck};
use crate::result::{Check, ProtocolResult, Status};
use crate::rules::{Comparison, Values};

/// Below this confidence a value, the station or the election is sent to a
/// person. Chosen from `eval` runs: misread digits scored below it, clean
/// reads above (see the README's accuracy section).
pub const CONFIDENCE_THRESHOLD: f32 = 0.80;
// A count on one handwriting reader's word against the other's never
// passes on its own confidence.
const _: () = assert!(super::second_opinion::OVERRULED_CEILING < CONFIDENCE_THRESHOLD);
/// A doubt (a second read disagreeing, a glyph count differing) may be
/// cleared by arithmetic only when Tesseract's own confidence is this high.
pub const CLEARABLE_OCR_CONFIDENCE: f32 = 0.90;
/// A handwritten value no equality rule checks (the voters on the list) has
/// only the glyph network's word: it must be this sure of every digit.
/// (Chosen from `eval`: the network's misreads of handwriting fall below.)
pub const HANDWRITTEN_ALONE_CONFIDENCE: f32 = 0.98;
/// ...or this sure which digit each glyph is (the network's doubt that it
/// is one digit at all left out, see `ValueReading::identity_confidence`),
/// where a rule over corroborated values would break were it a digit
/// shorter (see [`digit_fewer_breaks`]). Such a rule answers
/// for the number of its digits, so a glyph read whole though wide enough
/// for two, or a sure cut, is no doubt; the digits themselves still need
/// the network's word. (Measured on three synthetic sets, 315 handwritten
/// protocols: every wrong value read at 0.90 or surer had a digit too many
/// or too few, was cut apart on a guess, which leaves it below 0.95, or
/// stood on one of two pages read from the wrong rows, which broke every
/// rule.)
pub const HANDWRITTEN_BOUNDED_CONFIDENCE: f32 = 0.95;
/// Such a value whose touching digits were cut apart on a guess (its
/// confidence × 0.7, see `hand`) passes when the network reads every digit
/// at least this surely: where the digits part is then the rule's to
/// answer for (a digit lost or gained), what they are the network's. (On
/// seeds 777, 778 and 779, 377 handwritten values cut on a guess read
/// every digit at 0.98 or surer, as their notes round it: the 3 wrong ones
/// had a digit too many or too few. The surest wrong one with as many
/// digits as the truth read 0.96 — 66 for 65 — and the next 0.85. At
/// 0.99, 16 voters counts read 0.981–0.989, all right, went to a person.)
pub const HANDWRITTEN_BOUNDED_CUT_CONFIDENCE: f32 = 0.98;
/// A weakly read handwritten value is determined by an equality only when
/// none of its other readings this likely would make the equality hold too.
const SINGLED_OUT_RIVAL: f32 = 0.05;
/// The rules may choose a rival reading of a handwritten value when the
/// network finds it at least this share as likely as its own reading. (At
/// 0.01 they once chose 582 over a 588 read at 0.99, in a protocol that
/// truly broke R1 by 6; every right choice in `eval` had odds above 0.05
/// but one.)
const MIN_RIVAL_ODDS: f32 = 0.05;
/// The rules choose only when their best reading is at least this many
/// times likelier than the next one that also makes every rule hold;
/// otherwise the network's reading stays and the person chooses.
const CHOICE_MARGIN: f32 = 2.0;

/// Fills `result` from a page reading and sets its status and flags.
pub fn assess(model: &FormModel, reading: &Reading, result: &mut ProtocolResult) {
    let swapped = with_surer_dissents(model, reading);
    let reading = swapped.as_ref().unwrap_or(reading);
    let mut values = values_read(model, reading);
    // Equalities corroborate only what was read, never what they chose.
    let as_read = model.check(&values);
    let corroborated = corroborated_keys(model, &as_read);
    let values_as_read = values.clone();
    let breaks_a_rule = as_read.iter().any(|c| c.holds == Some(false));
    let chosen = if breaks_a_rule { choose_by_rules(model, reading, &values) } else { BTreeMap::new() };
    for (key, value) in &chosen {
        values.insert(key.clone(), Some(*value));
    }
    // The rules' choice stands without a person only where the sequence
    // reader read every chosen value so itself, surely enough together.
    let seconded: BTreeMap<String, f32> = chosen
        .iter()
        .filter_map(|(key, &value)| {
            let read = reading.values.get(key)?;
            let p = read.candidates.iter().find(|c| c.0 == value).map_or(0.0, |c| c.1);
            seconded_confidence(read, value, p).map(|sure| (key.clone(), sure))
        })
        .filter(|(_, sure)| *sure >= CONFIDENCE_THRESHOLD)
        .collect();
    let choice_seconded = !chosen.is_empty() && seconded.len() == chosen.len();
    let mut flags = Vec::new();
    for line in &model.lines {
        let mut read = reading.values.get(&line.key).cloned().unwrap_or_default();
        if let Some(&value) = chosen.get(&line.key) {
            choose(&mut read, value, choice_seconded);
            if choice_seconded {
                read.confidence = seconded[&line.key];
            } else {
                flags.push(Flag::ChosenByRules(line.key.clone()).to_string());
            }
        }
        // A doubt about a value Tesseract itself read confidently is cleared
        // when an equality over it holds exactly: a misread that keeps an
        // equality true needs a second, compensating misread. Weak readings
        // are never cleared this way.
        // For handwriting, what the reader is sure of is which digit each
        // glyph is, were it one digit: the network's doubt that a glyph is
        // one digit at all is a digit lost or added, which the equality
        // answers for as it does for a wrong parting.
        let clearable = if read.handwritten { read.identity_confidence } else { read.ocr_confidence };
        if read.confidence < CONFIDENCE_THRESHOLD && clearable >= CLEARABLE_OCR_CONFIDENCE {
            if let Some(rule) = corroborated.get(&line.key) {
                read.confidence = clearable;
                let doubt = read.problem.take().unwrap_or_default();
                read.problem = Some(format!("{doubt}; doubt cleared: {rule} holds"));
            }
        }
        // A value read weakly, singled out by an exact equality whose
        // every other value was read surely on its own: as sure as the
        // least sure of those. Handwriting, whatever its doubt (its rival
        // readings are weighed); print only where Tesseract's own
        // confidence is the one doubt — read alike at both scales, as many
        // digits as glyphs, the glyph reader not surely reading another
        // count —, as a blurred page's print reads.
        let only_weak_print = !read.handwritten && read.problem.is_none();
        if (read.handwritten || only_weak_print)
            && read.value.is_some()
            && read.confidence < CONFIDENCE_THRESHOLD
            && !chosen.contains_key(&line.key)
        {
            if let Some((rule, sure)) = singled_out(model, &line.key, reading, &values_as_read, &as_read) {
                let rivals = if read.handwritten {
                    format!("no other reading of this value at {SINGLED_OUT_RIVAL} or more would make it hold")
                } else {
                    format!("Tesseract read it alike at both scales at {:.2}", read.confidence)
                };
                let determined = format!(
                    "determined by {rule}: it holds with this reading, every other value in it read surely on its \
                     own, and {rivals}"
                );
                read.confidence = sure;
                read.add_note(determined);
            }
        }
        // Handwriting read by one reader alone, with no equality to check
        // it, must be near certain, and cut into digits without a guess (a
        // lost or added digit reads as surely as the others) — unless a
        // rule answers for how many digits it has.
        // (A seconded choice makes every rule hold: the rules checked it.)
        let seconded_choice = choice_seconded && chosen.contains_key(&line.key);
        let unchecked = !corroborated.contains_key(&line.key) && !seconded_choice;
        if read.handwritten && unchecked && read.value.is_some() {
            let bound = digit_fewer_breaks(model, &line.key, &values_as_read, &as_read, &corroborated);
            // The rule answers for the number of digits, and so for the
            // network's doubt that a glyph is one digit (a digit lost or
            // added): which digit each is must be sure. Not where the cut
            // was a guess: a wrong cut's pieces may read as as many digits.
            // Nor where the sequence reader read other digits.
            let disputed = read.second_opinion.as_ref().is_some_and(|o| !o.agree);
            let digits_sure = if read.cut_on_guess || disputed {
                read.confidence
            } else {
                read.confidence.max(read.identity_confidence)
            };
            // A dissent is a doubt of which digits they are, which no rule on
            // their number answers for.
            let weak = disputed
                || match &bound {
                    Some(_) => {
                        let cut_surely =
                            read.segmentation_guessed && read.ocr_confidence >= HANDWRITTEN_BOUNDED_CUT_CONFIDENCE;
                        (digits_sure < HANDWRITTEN_BOUNDED_CONFIDENCE && !cut_surely)
                            || longer_rival_holds(model, &line.key, &values_as_read, &read)
                    }
                    None => read.confidence < HANDWRITTEN_ALONE_CONFIDENCE || read.segmentation_guessed,
                };
            let doubt = read.problem.take().unwrap_or_default();
            read.problem = Some(match (&bound, weak) {
                (Some(rule), false) => format!(
                    "{doubt}; handwritten and checked by no equality rule, but {rule} would break were it a digit \
                     shorter, and every digit reads at {HANDWRITTEN_BOUNDED_CONFIDENCE} or more as the digit it is \
                     ({HANDWRITTEN_BOUNDED_CUT_CONFIDENCE} where cut apart on a guess)"
                ),
                (Some(rule), true) => format!(
                    "{doubt}; handwritten and checked by no equality rule ({rule} answers for its length): needs \
                     every digit at {HANDWRITTEN_BOUNDED_CONFIDENCE} ({HANDWRITTEN_BOUNDED_CUT_CONFIDENCE} where cut \
                     apart on a guess)"
                ),
                (None, true) => format!(
                    "{doubt}; handwritten and checked by no equality rule: needs every digit at \
                     {HANDWRITTEN_ALONE_CONFIDENCE} and its digits cleanly apart"
                ),
                (None, false) => doubt,
            })
            .filter(|p| !p.is_empty());
            if weak {
                read.confidence = read.confidence.min(CONFIDENCE_THRESHOLD * 0.99);
            } else if bound.is_some() {
                // The guess the cut made is the rule's to answer for.
                read.confidence = digits_sure.max(read.ocr_confidence);
            }
        }
        if read.handwritten && read.candidates.len() > 1 {
            let rounded = read.candidates.iter().map(|(v, p)| (*v, round3(*p))).collect();
            result.candidates.insert(line.key.clone(), rounded);
        }
        match read.value {
            None => flags.push(Flag::Missing(line.key.clone()).to_string()),
            Some(_) if chosen.contains_key(&line.key) && !choice_seconded => {}
            Some(_) if read.confidence < CONFIDENCE_THRESHOLD => {
                flags.push(Flag::LowConfidence(line.key.clone()).to_string())
            }
            Some(_) => {}
        }
        result.confidence.insert(line.key.clone(), round3(read.confidence));
        if let Some(p) = read.problem {
            result.notes.insert(line.key.clone(), p);
        }
        if let Some(c) = read.cell {
            result.boxes.insert(line.key.clone(), c);
        }
    }
    let (fields, votes) = split_values(model, &values);
    result.fields = fields;
    result.votes = votes;

    result.election = reading.election.clone();
    result.station = reading.station.clone();
    result.region = reading.region.clone();
    result.confidence.insert("election".into(), round3(reading.election_confidence));
    result.confidence.insert("station".into(), round3(reading.station_confidence));
    if reading.election.is_none() {
        flags.push(Flag::UnreadableElection.to_string());
    } else if reading.election_confidence < CONFIDENCE_THRESHOLD {
        flags.push(Flag::LowConfidence("election".into()).to_string());
    }
    if reading.station.is_none() {
        flags.push(Flag::UnreadableStation.to_string());
    } else if reading.station_confidence < CONFIDENCE_THRESHOLD {
        flags.push(Flag::LowConfidence("station".into()).to_string());
    }

    // A repeated total read surely must equal its line as shown; an unsure
    // or unread one says nothing (filling it in is optional).
    for (key, repeat) in &reading.repeats {
        let shown = values.get(key).copied().flatten();
        if let (Some(again), Some(shown)) = (repeat.value, shown) {
            if again != shown && repeat.confidence >= CONFIDENCE_THRESHOLD {
                flags.push(Flag::Repeat(key.clone()).to_string());
                result
                    .notes
                    .insert(format!("repeat.{key}"), format!("written again under the table as {again}, not {shown}"));
            }
        }
    }

    let checks = model.check(&values);
    for c in checks.iter().filter(|c| c.holds == Some(false)) {
        flags.push(Flag::Rule(c.rule.clone()).to_string());
    }
    result.checks = checks
        .into_iter()
        .map(|c| Check {
            rule: c.rule,
            kind: c.kind.as_str().to_string(),
            ok: c.holds == Some(true),
            detail: c.detail,
            evaluated: c.holds.is_some(),
        })
        .collect();
    result.handwritten = reading.handwritten;
    if !chosen.is_empty() && !choice_seconded {
        result.suggestions = chosen;
    } else if result.checks.iter().any(|c| c.evaluated && !c.ok) {
        result.suggestions = rank_candidates(model, reading, &values);
    }
    sort_flags(model, &mut flags);
    result.flags = flags;
    result.status = if result.flags.is_empty() { Status::Accepted } else { Status::Flagged };
}

/// The rules ranking the candidates: the handwritten readings that, put in
/// place of a value as read, make the most rules hold (and more than the
/// values as read), one value changed at a time, likeliest first. Shown to
/// the reviewer as a suggestion; never accepted without a person.
fn rank_candidates(model: &FormModel, reading: &Reading, values: &Values) -> BTreeMap<String, u64> {
    let holding = |values: &Values| model.check(values).iter().filter(|c| c.holds == Some(true)).count();
    let now = holding(values);
    let mut best: Option<(usize, f32, String, u64)> = None;
    for (key, read) in &reading.values {
        for &(candidate, probability) in read.candidates.iter().skip(1) {
            let mut trial = values.clone();
            trial.insert(key.clone(), Some(candidate));
            let held = holding(&trial);
            let better = best.as_ref().is_none_or(|b| (held, probability) > (b.0, b.1));
            if held > now && better {
                best = Some((held, probability, key.clone(), candidate));
            }
        }
    }
    best.map(|(_, _, key, value)| BTreeMap::from([(key, value)])).unwrap_or_default()
}

/// The rival readings of handwritten values that make every rule hold,
/// when one such choice is clearly likelier than any other
/// ([`CHOICE_MARGIN`]); none otherwise. One or two values are replaced (two
/// misread in one protocol are common; more rarely fit every rule by luck),
/// each in an equality rule (an inequality holding speaks for no value in
/// particular), each by a candidate at least [`MIN_RIVAL_ODDS`] as likely
/// as the network's reading. A choice's likelihood is the product of each
/// replaced value's odds against the network's own reading of it.
fn choose_by_rules(model: &FormModel, reading: &Reading, values: &Values) -> BTreeMap<String, u64> {
    let in_equalities = equality_keys(model);
    let rivals: Vec<(&String, Vec<(u64, f32)>)> = reading
        .values
        .iter()
        .filter(|(key, read)| read.handwritten && read.value.is_some() && in_equalities.contains(*key))
        .filter_map(|(key, read)| {
            let (_, own) = *read.candidates.first()?;
            let odds: Vec<(u64, f32)> = read.candidates[1..]
                .iter()
                .map(|&(value, p)| (value, p / own.max(f32::MIN_POSITIVE)))
                .filter(|&(_, odds)| odds >= MIN_RIVAL_ODDS)
                .collect();
            (!odds.is_empty()).then_some((key, odds))
        })
        .collect();
    let every_rule_holds = |trial: &Values| model.check(trial).iter().all(|c| c.holds == Some(true));
    // The best and the runner-up choice, by odds.
    let mut best: Vec<(f32, Vec<(String, u64)>)> = Vec::new();
    let mut consider = |changes: &[(&String, u64, f32)]| {
        let mut trial = values.clone();
        for (key, value, _) in changes {
            trial.insert((*key).clone(), Some(*value));
        }
        if every_rule_holds(&trial) {
            let odds = changes.iter().map(|c| c.2).product::<f32>();
            best.push((odds, changes.iter().map(|(k, v, _)| ((*k).clone(), *v)).collect()));
            best.sort_by(|a, b| b.0.total_cmp(&a.0));
            best.truncate(2);
        }
    };
    for (i, (key, odds)) in rivals.iter().enumerate() {
        for &(value, o) in odds {
            consider(&[(key, value, o)]);
            for (other, other_odds) in &rivals[i + 1..] {
                for &(other_value, p) in other_odds {
                    consider(&[(key, value, o), (other, other_value, p)]);
                }
            }
        }
    }
    match best.as_slice() {
        [(odds, changes), rest @ ..] if rest.first().is_none_or(|(next, _)| *odds >= next * CHOICE_MARGIN) => {
            changes.iter().cloned().collect()
        }
        _ => BTreeMap::new(),
    }
}

/// Puts `value`, chosen by the rules among `read`'s candidates, in place
/// of the network's reading: first among the candidates, as sure as the
/// network is of it, and said so in the note.
fn choose(read: &mut ValueReading, value: u64, seconded: bool) {
    let Some(at) = read.candidates.iter().position(|c| c.0 == value) else { return };
    let (own, own_p) = read.candidates[0];
    let (_, p) = read.candidates.remove(at);
    read.candidates.insert(0, (value, p));
    // The network's reading is now a rival: the rivals by probability.
    read.candidates[1..].sort_by(|a, b| b.1.total_cmp(&a.1));
    let doubt = read.problem.take().unwrap_or_default();
    let outcome = if seconded { "the sequence reader read it too: accepted" } else { "shown, for a person to confirm" };
    read.problem = Some(format!(
        "{doubt}; the network's reading {own} ({own_p:.2}) breaks the rules, its rival {value} ({p:.2}) makes every \
         rule hold: {outcome}"
    ));
    read.value = Some(value);
    read.confidence = p.min(read.confidence);
    read.ocr_confidence = p.min(read.ocr_confidence);
}

/// The keys that take part in any equality rule (`=`) of the model.
fn equality_keys(model: &FormModel) -> std::collections::BTreeSet<String> {
    model.rules.iter().filter(|r| r.relation.op == Comparison::Eq).flat_map(|r| rule_keys(model, r)).collect()
}

/// The keys a rule reads (every party's, where it sums the votes).
fn rule_keys(model: &FormModel, rule: &Rule) -> Vec<String> {
    let mut keys = rule.relation.keys();
    if rule.relation.uses_votes() {
        keys.extend(model.party_keys());
    }
    keys
}

/// The first rule that holds over `key`'s value as read (`as_read`: the
/// model's rules checked on `values`, in order) and every other value it
/// reads corroborated (in a holding equality), and that would break were
/// the value one digit shorter. Such a rule answers for the value's
/// length: a digit read too many would mean the protocol itself breaks the
/// rule («ballots_issued ≤ voters_on_list»: a voters count with an extra
/// digit makes the turnout a tenth of the true one, so a turnout above a
/// tenth rules it out). A digit too few breaks it as read unless the true
/// figures were that far apart (a turnout below a tenth).
fn digit_fewer_breaks(
    model: &FormModel,
    key: &str,
    values: &Values,
    as_read: &[RuleCheck],
    corroborated: &BTreeMap<String, String>,
) -> Option<String> {
    let value = (*values.get(key)?)?;
    let mut shorter = values.clone();
    shorter.insert(key.to_string(), Some(value / 10));
    let if_shorter = model.check(&shorter);
    model.rules.iter().zip(as_read).zip(&if_shorter).find_map(|((rule, read), short)| {
        let keys = rule_keys(model, rule);
        let others_corroborated = keys.iter().all(|k| k == key || corroborated.contains_key(k));
        let answers = keys.iter().any(|k| k == key) && others_corroborated;
        (answers && read.holds == Some(true) && short.holds == Some(false)).then(|| rule.id.clone())
    })
}

/// Each form line's value as `reading` has it.
fn values_read(model: &FormModel, reading: &Reading) -> Values {
    let mut values = model.empty_values();
    for line in &model.lines {
        values.insert(line.key.clone(), reading.values.get(&line.key).and_then(|r| r.value));
    }
    values
}

/// The reading with the sequence reader's count in place of the glyph
/// reader's wherever the sequence reader, the surer, read another count
/// (`second_opinion::sequence_count_in_place`) and no equality of the form
/// holds over the glyph reader's count as read: an equality that holds is
/// the glyph reader's evidence, which the rules weigh as they would without
/// the dissent. `None` where nothing changes.
fn with_surer_dissents(model: &FormModel, reading: &Reading) -> Option<Reading> {
    let swaps: Vec<(String, ValueReading)> =
        reading.values.iter().filter_map(|(key, read)| Some((key.clone(), sequence_count_in_place(read)?))).collect();
    if swaps.is_empty() {
        return None;
    }
    let confirmed = corroborated_keys(model, &model.check(&values_read(model, reading)));
    let mut swapped = reading.clone();
    for (key, read) in swaps {
        if !confirmed.contains_key(&key) {
            swapped.values.insert(key, read);
        }
    }
    Some(swapped)
}

/// Whether a rival reading of `key` with more digits than its value, at
/// [`SINGLED_OUT_RIVAL`] or more, keeps every rule holding: a rule that
/// breaks were the value a digit shorter answers for a digit lost, not for
/// one the reader took two touching digits for («1629» read «1624», its
/// rival «16214»).
fn longer_rival_holds(model: &FormModel, key: &str, values: &Values, read: &ValueReading) -> bool {
    let Some(value) = read.value else { return false };
    read.candidates
        .iter()
        .filter(|(v, p)| *p >= SINGLED_OUT_RIVAL && *v > value && v.ilog10() > value.max(1).ilog10())
        .any(|(v, _)| {
            let mut with_rival = values.clone();
            with_rival.insert(key.to_string(), Some(*v));
            model.check(&with_rival).iter().all(|c| c.holds != Some(false))
        })
}

/// The keys that take part in an equality rule (`=`) that holds in
/// `checks` (the model's rules checked, in order), each with the first such
/// rule's id.
fn corroborated_keys(model: &FormModel, checks: &[RuleCheck]) -> BTreeMap<String, String> {
    let mut keys = BTreeMap::new();
    for (rule, check) in model.rules.iter().zip(checks) {
        if rule.relation.op != Comparison::Eq || check.holds != Some(true) {
            continue;
        }
        for key in rule_keys(model, rule) {
            keys.entry(key).or_insert_with(|| rule.id.clone());
        }
    }
    keys
}

/// The first exact equality that singles out `key`'s value as read: it
/// holds as read, every other value it reads was read at the acceptance
/// threshold or above on its own (`reading`, before any rule cleared a
/// doubt), and none of the value's other candidates at
/// [`SINGLED_OUT_RIVAL`] or more would make it hold. A misread would need
/// a second, compensating misread among values read surely. The rule's
/// id and the least confidence among those other values.
fn singled_out(
    model: &FormModel,
    key: &str,
    reading: &Reading,
    values: &Values,
    as_read: &[RuleCheck],
) -> Option<(String, f32)> {
    let read = reading.values.get(key)?;
    for (i, (rule, check)) in model.rules.iter().zip(as_read).enumerate() {
        let keys = rule_keys(model, rule);
        if rule.relation.op != Comparison::Eq || check.holds != Some(true) || !keys.iter().any(|k| k == key) {
            continue;
        }
        let others: Option<Vec<f32>> = keys
            .iter()
            .filter(|k| k.as_str() != key)
            .map(|k| reading.values.get(k).filter(|v| v.value.is_some()).map(|v| v.confidence))
            .collect();
        let Some(least) = others.and_then(|c| c.into_iter().reduce(f32::min)) else { continue };
        if least < CONFIDENCE_THRESHOLD {
            continue;
        }
        let rival_holds = read.candidates.iter().skip(1).filter(|(_, p)| *p >= SINGLED_OUT_RIVAL).any(|(v, _)| {
            let mut with_rival = values.clone();
            with_rival.insert(key.to_string(), Some(*v));
            model.check(&with_rival).get(i).is_some_and(|c| c.holds == Some(true))
        });
        if !rival_holds {
            return Some((rule.id.clone(), least));
        }
    }
    None
}

/// Orders flags worst first, as a reviewer takes them ([`Flag::severity`]).
pub fn sort_flags(model: &FormModel, flags: &mut Vec<String>) {
    flags.sort_by(|a, b| severity_of(model, a).cmp(&severity_of(model, b)).then(a.cmp(b)));
    flags.dedup();
}

fn round3(v: f32) -> f64 {
    (v as f64 * 1000.0).round() / 1000.0
}

/// Flags `conflict:<election>/<station>` on every readable photo of a
/// station whose values disagree with another photo of the same station.
pub fn mark_conflicts(model: &FormModel, results: &mut [ProtocolResult]) {
    let mut groups: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, r) in results.iter().enumerate() {
        if matches!(r.status, Status::Accepted | Status::Flagged) {
            if let (Some(e), Some(s)) = (&r.election, &r.station) {
                groups.entry((e.clone(), s.clone())).or_default().push(i);
            }
        }
    }
    for ((election, station), members) in groups {
        if members.len() < 2 {
            continue;
        }
        let first = &results[members[0]];
        let agree = members.iter().all(|&i| results[i].fields == first.fields && results[i].votes == first.votes);
        if agree {
            continue;
        }
        for &i in &members {
            let r = &mut results[i];
            r.flags.push(Flag::Conflict { election: election.clone(), station: station.clone() }.to_string());
            sort_flags(model, &mut r.flags);
            r.status = Status::Flagged;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::reading::SecondOpinion;

    fn reading(model: &FormModel, values: &[(&str, u64)], confidence: f32) -> Reading {
        let mut r = Reading {
            election: Some("mazhilis".into()),
            election_confidence: 1.0,
            station: Some("217".into()),
            station_confidence: 0.95,
            ..Default::default()
        };
        for line in &model.lines {
            let v = values.iter().find(|(k, _)| *k == line.key).map(|(_, v)| *v);
            r.values.insert(
                line.key.clone(),
                ValueReading { value: v, confidence, ocr_confidence: confidence, ..Default::default() },
            );
        }
        r
    }

    const GOOD: [(&str, u64); 10] = [
        ("voters_on_list", 2310),
        ("ballots_received", 2300),
        ("ballots_issued", 812),
        ("ballots_unused", 1488),
        ("ballots_spoiled", 21),
        ("votes.nur_otan", 402),
        ("votes.ak_zhol", 140),
        ("votes.auyl", 92),
        ("votes.adal", 101),
        ("votes.qhp", 56),
    ];

    fn assessed(model: &FormModel, reading: &Reading) -> ProtocolResult {
        let mut r = ProtocolResult::empty("a.jpg", "00", &[], &[]);
        assess(model, reading, &mut r);
        r
    }

    #[test]
    fn a_repeated_total_written_otherwise_is_flagged_and_an_unsure_one_is_not() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("models/ng-2023-ec8a.toml");
        let model = FormModel::load(Some(&path)).unwrap();
        // Unit 024 of the real set: every relation holds.
        let mut values: Vec<(&str, u64)> = vec![
            ("voters_on_register", 163),
            ("accredited_voters", 98),
            ("ballots_issued", 199),
            ("ballots_unused", 100),
            ("ballots_spoiled", 1),
            ("ballots_rejected", 3),
            ("total_valid_votes", 95),
            ("total_used", 99),
            ("votes.lp", 90),
            ("votes.apga", 1),
            ("votes.nnpp", 1),
            ("votes.pdp", 1),
            ("votes.zlp", 2),
        ];
        let zeros: Vec<String> =
            model.party_keys().into_iter().filter(|k| !values.iter().any(|(v, _)| v == k)).collect();
        values.extend(zeros.iter().map(|k| (k.as_str(), 0)));
        let mut r = reading(&model, &values, 0.99);
        r.election = Some("presidential".into());
        r.station = Some("32/15/04/024".into());
        assert_eq!(assessed(&model, &r).status, Status::Accepted, "{:?}", assessed(&model, &r).flags);
        let repeat = |value, confidence| ValueReading { value: Some(value), confidence, ..Default::default() };
        r.repeats.insert("total_valid_votes".into(), repeat(95, 0.99));
        assert_eq!(assessed(&model, &r).status, Status::Accepted, "the same figure twice");
        r.repeats.insert("total_valid_votes".into(), repeat(96, 0.99));
        let flagged = assessed(&model, &r);
        assert_eq!(flagged.flags, ["repeat:total_valid_votes"]);
        assert!(flagged.notes["repeat.total_valid_votes"].contains("96, not 95"));
        r.repeats.insert("total_valid_votes".into(), repeat(96, 0.5));
        assert_eq!(assessed(&model, &r).status, Status::Accepted, "an unsure second figure says nothing");
    }

    #[test]
    fn confident_consistent_reading_is_accepted() {
        let model = FormModel::load(None).unwrap();
        let r = assessed(&model, &reading(&model, &GOOD, 0.95));
        assert_eq!(r.status, Status::Accepted, "{:?}", r.flags);
        assert_eq!(r.fields["ballots_issued"], Some(812));
        assert_eq!(r.votes["qhp"], Some(56));
        assert!(r.checks.iter().all(|c| c.ok));
        assert_eq!(r.checks[0].detail, "2300 = 812 + 1488 (= 2300)");
    }

    #[test]
    fn a_broken_rule_is_flagged_not_fixed() {
        let model = FormModel::load(None).unwrap();
        let mut values = GOOD;
        values[3] = ("ballots_unused", 1478);
        let r = assessed(&model, &reading(&model, &values, 0.95));
        assert_eq!(r.status, Status::Flagged);
        assert_eq!(r.flags, vec!["rule:R1".to_string()]);
        assert_eq!(r.fields["ballots_unused"], Some(1478), "the value stays as read");
    }

    #[test]
    fn low_confidence_and_missing_values_are_flagged() {
        let model = FormModel::load(None).unwrap();
        let r = assessed(&model, &reading(&model, &GOOD, 0.5));
        assert_eq!(r.status, Status::Flagged);
        assert!(r.flags.contains(&"low_confidence:votes.qhp".to_string()));
        let r = assessed(&model, &reading(&model, &GOOD[..9], 0.95));
        assert!(r.flags.contains(&"missing:votes.qhp".to_string()), "{:?}", r.flags);
        assert_eq!(r.votes["qhp"], None);
        assert!(r.checks.iter().any(|c| !c.evaluated));
    }

    #[test]
    fn an_equality_determines_print_whose_one_doubt_is_tesseracts_confidence() {
        let model = FormModel::load(None).unwrap();
        let weak = |r: &mut Reading, key: &str| {
            let v = r.values.get_mut(key).unwrap();
            v.confidence = 0.6;
            v.ocr_confidence = 0.6;
        };
        // qhp read at 0.6, nothing else doubted: R4 holds over it and every
        // other value in R4 was read surely.
        let mut r = reading(&model, &GOOD, 0.95);
        weak(&mut r, "votes.qhp");
        let a = assessed(&model, &r);
        assert_eq!(a.status, Status::Accepted, "{:?}", a.flags);
        assert!(a.notes["votes.qhp"].starts_with("determined by R4"), "{:?}", a.notes);
        // Two weak values in the same equality: neither is determined.
        weak(&mut r, "votes.adal");
        let flags = assessed(&model, &r).flags;
        assert!(flags.contains(&"low_confidence:votes.qhp".to_string()), "{flags:?}");
        assert!(flags.contains(&"low_confidence:votes.adal".to_string()), "{flags:?}");
        // No equality over the voters on the list.
        let mut r = reading(&model, &GOOD, 0.95);
        weak(&mut r, "voters_on_list");
        assert_eq!(assessed(&model, &r).flags, vec!["low_confidence:voters_on_list".to_string()]);
        // A print with a doubt of its own (the two scales disagree) is
        // never determined: only a sure Tesseract read is cleared.
        let mut r = reading(&model, &GOOD, 0.95);
        weak(&mut r, "votes.qhp");
        r.values.get_mut("votes.qhp").unwrap().problem = Some("read '56', and '66' at 1.5× scale".into());
        assert_eq!(assessed(&model, &r).flags, vec!["low_confidence:votes.qhp".to_string()]);
    }

    #[test]
    fn arithmetic_clears_a_doubt_only_about_a_confident_read() {
        let model = FormModel::load(None).unwrap();
        let mut r = reading(&model, &GOOD, 0.95);
        let doubt = |r: &mut Reading, key: &str, ocr: f32| {
            let v = r.values.get_mut(key).unwrap();
            v.ocr_confidence = ocr;
            v.confidence = ocr * 0.5;
            v.problem = Some("read 2 digits but saw 3 glyphs".into());
        };
        // R1 holds and Tesseract was sure: the doubt about ballots_unused goes.
        doubt(&mut r, "ballots_unused", 0.96);
        let a = assessed(&model, &r);
        assert_eq!(a.status, Status::Accepted, "{:?}", a.flags);
        assert!(a.notes["ballots_unused"].contains("doubt cleared: R1 holds"));
        // voters_on_list is in no equality: its doubt stays.
        doubt(&mut r, "voters_on_list", 0.96);
        assert_eq!(assessed(&model, &r).flags, vec!["low_confidence:voters_on_list".to_string()]);
        // A weak read is never cleared, however well the sums fit.
        let mut r = reading(&model, &GOOD, 0.95);
        doubt(&mut r, "ballots_issued", 0.7);
        assert_eq!(assessed(&model, &r).flags, vec!["low_confidence:ballots_issued".to_string()]);
    }

    /// `key` read as handwriting: `candidates`, the network's reading first.
    fn handwritten(r: &mut Reading, key: &str, candidates: &[(u64, f32)]) {
        let v = r.values.get_mut(key).unwrap();
        v.handwritten = true;
        v.value = Some(candidates[0].0);
        v.confidence = candidates[0].1;
        v.ocr_confidence = candidates[0].1;
        v.identity_confidence = candidates[0].1;
        v.candidates = candidates.to_vec();
    }

    #[test]
    fn an_equality_clears_a_doubt_whether_a_glyph_is_one_digit_never_which_digit_it_is() {
        let model = FormModel::load(None).unwrap();
        // The network reads ballots_unused's digits at 0.79 at least, the
        // rest of the glyph's probability on "not one digit": among the
        // digits, 0.99 sure. Were it no digit, a digit is lost or added,
        // which R1 (holding as read) answers for.
        let unsure = |key: &str, least: f32, identity: f32| {
            let mut r = reading(&model, &GOOD, 0.95);
            let value = GOOD.iter().find(|(k, _)| *k == key).unwrap().1;
            handwritten(&mut r, key, &[(value, least)]);
            r.values.get_mut(key).unwrap().identity_confidence = identity;
            assessed(&model, &r)
        };
        let a = unsure("ballots_unused", 0.79, 0.99);
        assert_eq!(a.status, Status::Accepted, "{:?}", a.flags);
        assert!(a.notes["ballots_unused"].contains("doubt cleared: R1 holds"), "{:?}", a.notes);
        assert!(a.confidence["ballots_unused"] >= 0.99);
        // Torn between two digits, R1 holding determines it when every
        // other value R1 reads was read surely...
        let a = unsure("ballots_unused", 0.5, 0.6);
        assert_eq!(a.status, Status::Accepted, "{:?}", a.flags);
        assert!(a.notes["ballots_unused"].contains("determined by R1"), "{:?}", a.notes);
        assert!((a.confidence["ballots_unused"] - 0.95).abs() < 1e-6, "as sure as the values that determine it");
        // ...and not when one of them was read unsurely itself.
        let mut r = reading(&model, &GOOD, 0.95);
        handwritten(&mut r, "ballots_unused", &[(1488, 0.5)]);
        handwritten(&mut r, "ballots_issued", &[(812, 0.7)]);
        let a = assessed(&model, &r);
        assert!(a.flags.contains(&"low_confidence:ballots_unused".to_string()), "{:?}", a.flags);
        assert!(a.notes.get("ballots_unused").is_none_or(|n| !n.contains("determined by")));
        // ballots_issued itself, read at 0.7, is determined by R4 (every
        // vote and the spoiled ballots read surely), not by R1.
        assert!(a.notes["ballots_issued"].contains("determined by R4"), "{:?}", a.notes);
        // The voters on the list are in no equality: as 23100, no rule
        // answers for a digit added either, and the doubt stays.
        let mut r = reading(&model, &GOOD, 0.95);
        handwritten(&mut r, "voters_on_list", &[(23100, 0.79)]);
        r.values.get_mut("voters_on_list").unwrap().identity_confidence = 0.99;
        assert_eq!(assessed(&model, &r).flags, vec!["low_confidence:voters_on_list".to_string()]);
    }

    #[test]
    fn the_rules_choose_a_handwritten_rival_but_never_accept_it() {
        let model = FormModel::load(None).unwrap();
        // ballots_unused is 1488; the network leans to 1478, which breaks R1.
        let mut r = reading(&model, &GOOD, 0.95);
        handwritten(&mut r, "ballots_unused", &[(1478, 0.6), (1488, 0.3), (14788, 0.7), (1476, 0.05)]);
        let a = assessed(&model, &r);
        assert_eq!(a.fields["ballots_unused"], Some(1488));
        let rivals: Vec<u64> = a.candidates["ballots_unused"][1..].iter().map(|c| c.0).collect();
        assert_eq!(rivals, vec![14788, 1478, 1476], "the network's own reading among the rivals, by probability");
        assert_eq!(a.flags, vec!["chosen_by_rules:ballots_unused".to_string()]);
        assert_eq!(a.status, Status::Flagged);
        assert!(a.checks.iter().all(|c| c.ok), "the checks are of the values shown");
        assert_eq!(a.candidates["ballots_unused"][0], (1488, 0.3), "the value shown first");
        assert_eq!(a.suggestions["ballots_unused"], 1488);
        assert!(a.confidence["ballots_unused"] < CONFIDENCE_THRESHOLD as f64);
        assert!(a.notes["ballots_unused"].contains("reading 1478 (0.60) breaks the rules"));
        // R1 held only by the choice: the other values in it are not
        // corroborated by it (a handwritten one must then stand alone).
        handwritten(&mut r, "ballots_received", &[(2300, 0.9), (2800, 0.05)]);
        let a = assessed(&model, &r);
        assert!(a.flags.contains(&"low_confidence:ballots_received".to_string()), "{:?}", a.flags);
    }

    #[test]
    fn the_rules_choice_stands_when_the_sequence_reader_read_it_too() {
        let model = FormModel::load(None).unwrap();
        let with_sequence = |digits: &str, confidence: f32| {
            let mut r = reading(&model, &GOOD, 0.95);
            handwritten(&mut r, "ballots_unused", &[(1478, 0.6), (1488, 0.3), (1476, 0.05)]);
            r.values.get_mut("ballots_unused").unwrap().second_opinion = Some(SecondOpinion {
                digits: digits.into(),
                confidence,
                glyph_confidence: 0.6,
                agree: false,
                added_candidate: false,
                overruled: None,
            });
            assessed(&model, &r)
        };
        // Less sure than the glyph reader (0.55 against 0.6), the
        // sequence reader seconds the rules' choice.
        let a = with_sequence("1488", 0.55);
        assert_eq!(a.status, Status::Accepted, "{:?}", a.flags);
        assert_eq!(a.fields["ballots_unused"], Some(1488));
        assert!(a.confidence["ballots_unused"] >= CONFIDENCE_THRESHOLD as f64);
        assert!(
            a.notes["ballots_unused"]
                .contains("its rival 1488 (0.30) makes every rule hold: the sequence reader read it too: accepted"),
            "{:?}",
            a.notes
        );
        assert!(a.suggestions.is_empty());
        // Surer than the glyph reader (0.8), its count takes the place of
        // the glyph reader's, which no equality holds over; R5 then singles
        // it out among values read surely.
        let a = with_sequence("1488", 0.8);
        assert_eq!(a.status, Status::Accepted, "{:?}", a.flags);
        assert_eq!(a.fields["ballots_unused"], Some(1488));
        let note = &a.notes["ballots_unused"];
        assert!(note.contains("the sequence reader, the surer, is taken") && note.contains("determined by"), "{note}");
        // Where an equality holds over the glyph reader's count, the surer
        // dissent does not take its place.
        let mut r = reading(&model, &GOOD, 0.95);
        handwritten(&mut r, "ballots_unused", &[(1488, 0.6), (1478, 0.3)]);
        r.values.get_mut("ballots_unused").unwrap().second_opinion =
            Some(SecondOpinion { digits: "1478".into(), confidence: 0.8, glyph_confidence: 0.6, ..Default::default() });
        let a = assessed(&model, &r);
        assert_eq!(a.fields["ballots_unused"], Some(1488));
        assert!(!a.notes["ballots_unused"].contains("the surer, is taken"));
        // Read otherwise by it, or read so too unsurely: for a person.
        assert_eq!(with_sequence("1478", 0.8).flags, vec!["chosen_by_rules:ballots_unused".to_string()]);
        assert_eq!(with_sequence("1488", 0.001).flags, vec!["chosen_by_rules:ballots_unused".to_string()]);
    }

    #[test]
    fn the_rules_do_not_choose_between_equally_likely_rivals_or_unlikely_ones() {
        let model = FormModel::load(None).unwrap();
        // Either 1478 → 1488 or 2300 → 2290 makes R1 hold, equally likely.
        let mut r = reading(&model, &GOOD, 0.95);
        handwritten(&mut r, "ballots_unused", &[(1478, 0.6), (1488, 0.3)]);
        handwritten(&mut r, "ballots_received", &[(2300, 0.6), (2290, 0.3)]);
        let a = assessed(&model, &r);
        assert_eq!(a.fields["ballots_unused"], Some(1478), "the network's reading stays");
        assert_eq!(a.fields["ballots_received"], Some(2300));
        assert!(a.flags.contains(&"rule:R1".to_string()), "{:?}", a.flags);
        assert!(!a.flags.iter().any(|f| f.starts_with("chosen_by_rules")));
        // A rival far less likely than the network's reading is no choice.
        let mut r = reading(&model, &GOOD, 0.95);
        handwritten(&mut r, "ballots_unused", &[(1478, 0.99), (1488, 0.005)]);
        let a = assessed(&model, &r);
        assert_eq!(a.fields["ballots_unused"], Some(1478));
        assert_eq!(a.flags, vec!["rule:R1".to_string()]);
        assert_eq!(a.suggestions["ballots_unused"], 1488, "still suggested to the reviewer");
        // An inequality holding speaks for no value in particular: a rival
        // of the voters on the list (in no equality) is never chosen.
        let mut r = reading(&model, &GOOD, 0.95);
        handwritten(&mut r, "voters_on_list", &[(310, 0.99), (2310, 0.6)]);
        let a = assessed(&model, &r);
        assert_eq!(a.fields["voters_on_list"], Some(310));
        assert!(a.flags.contains(&"rule:R2".to_string()), "{:?}", a.flags);
    }

    #[test]
    fn a_rule_that_answers_for_its_length_lets_a_lone_handwritten_count_pass() {
        let model = FormModel::load(None).unwrap();
        // 2310 voters, 812 issued: R2 would break were it 231, so neither a
        // digit too many nor a glyph read whole though wide is a doubt; the
        // digits still need 0.95.
        let voters = |value: u64, sure: f32, guessed: bool, issued: u64| {
            let mut r = reading(&model, &GOOD, 0.95);
            r.values.get_mut("ballots_issued").unwrap().value = Some(issued);
            handwritten(&mut r, "voters_on_list", &[(value, sure)]);
            r.values.get_mut("voters_on_list").unwrap().segmentation_guessed = guessed;
            assessed(&model, &r)
        };
        let a = voters(2310, 0.96, true, 812);
        assert_eq!(a.status, Status::Accepted, "{:?}", a.flags);
        assert!(a.notes["voters_on_list"].contains("R2 would break were it a digit shorter"));
        let held = vec!["low_confidence:voters_on_list".to_string()];
        // A rival with a digit more (a wide glyph read as one where it was
        // two touching digits), which R2 would let stand: no answer.
        let mut r = reading(&model, &GOOD, 0.95);
        handwritten(&mut r, "voters_on_list", &[(2310, 0.99), (23710, 0.7)]);
        assert_eq!(assessed(&model, &r).flags, held, "a longer rival R2 does not rule out");
        // A faint one (under 0.05) does not stand in the way.
        handwritten(&mut r, "voters_on_list", &[(2310, 0.99), (23710, 0.04)]);
        assert_eq!(assessed(&model, &r).status, Status::Accepted);
        assert_eq!(voters(2310, 0.93, false, 812).flags, held, "a digit read at 0.93");
        // A digit the network doubts is one digit at all (0.6), but is sure
        // which digit it is were it one (0.97): R2 answers for that doubt.
        let mut r = reading(&model, &GOOD, 0.95);
        handwritten(&mut r, "voters_on_list", &[(2310, 0.6)]);
        r.values.get_mut("voters_on_list").unwrap().identity_confidence = 0.97;
        let a = assessed(&model, &r);
        assert_eq!(a.status, Status::Accepted, "{:?}", a.flags);
        assert!(a.confidence["voters_on_list"] >= 0.97);
        // 23100: a digit too many would leave R2 holding (812 ≤ 2310), so
        // the network's word must stand alone: 0.98, cleanly parted.
        assert_eq!(voters(23100, 0.96, false, 812).flags, held);
        assert_eq!(voters(23100, 0.99, true, 812).flags, held);
        assert_eq!(voters(23100, 0.99, false, 812).status, Status::Accepted);
        // Digits cut apart on a guess (× 0.7): the rule answers for where
        // they part only when every digit reads at 0.98. The network's
        // doubt that a piece is one digit is then maybe a wrong cut, no
        // digit lost or added: sure which digit each piece is (0.999),
        // they still need 0.98.
        let cut = |least: f32| {
            let mut r = reading(&model, &GOOD, 0.95);
            handwritten(&mut r, "voters_on_list", &[(2310, least * 0.7)]);
            let v = r.values.get_mut("voters_on_list").unwrap();
            (v.ocr_confidence, v.segmentation_guessed, v.cut_on_guess) = (least, true, true);
            v.identity_confidence = 0.999;
            assessed(&model, &r)
        };
        let a = cut(0.985);
        assert_eq!(a.status, Status::Accepted, "{:?}", a.flags);
        assert!(a.confidence["voters_on_list"] > 0.98);
        assert_eq!(cut(0.975).flags, held);
        // Issued is corroborated only while an equality over it holds as
        // read (813 breaks R1 and R4).
        let a = voters(2310, 0.96, true, 813);
        assert!(a.flags.contains(&"low_confidence:voters_on_list".to_string()), "{:?}", a.flags);
        // The sequence reader read other digits (2316): R2 answers for how
        // many digits there are, not which, however surely the glyph
        // network read each piece of a cut.
        let mut r = reading(&model, &GOOD, 0.95);
        handwritten(&mut r, "voters_on_list", &[(2310, 0.2)]);
        let v = r.values.get_mut("voters_on_list").unwrap();
        (v.ocr_confidence, v.segmentation_guessed, v.cut_on_guess) = (0.99, true, true);
        v.identity_confidence = 0.999;
        v.second_opinion = Some(SecondOpinion {
            digits: "2316".into(),
            confidence: 0.8,
            glyph_confidence: 0.99,
            ..Default::default()
        });
        let a = assessed(&model, &r);
        assert_eq!(a.flags, held, "a dissent stands whatever rule answers for the length");
        assert!(a.confidence["voters_on_list"] < 0.5);
    }

    #[test]
    fn disagreeing_photos_of_one_station_conflict_and_agreeing_ones_do_not() {
        let model = FormModel::load(None).unwrap();
        let a = assessed(&model, &reading(&model, &GOOD, 0.95));
        let mut b = a.clone();
        b.file = "b.jpg".into();
        let mut c = a.clone();
        c.file = "c.jpg".into();
        c.station = Some("218".into());
        let mut results = vec![a.clone(), b.clone(), c];
        mark_conflicts(&model, &mut results);
        assert!(results.iter().all(|r| r.status == Status::Accepted));
        b.votes.insert("qhp".into(), Some(57));
        let mut results = vec![a, b];
        mark_conflicts(&model, &mut results);
        for r in &results {
            assert_eq!(r.status, Status::Flagged);
            assert!(r.flags.contains(&"conflict:mazhilis/217".to_string()));
        }
    }
}
