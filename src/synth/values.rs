//! True values for synthetic protocols.
//!
//! Plausible counts of one precinct (voters, ballots, votes per party) that
//! satisfy every control relation of the model, or — for the share asked to
//! be inconsistent — break one or more of them in the ways real protocols do
//! (ballots unaccounted for, stuffing, missing ballots, implausible turnout,
//! many spoiled). Whether a protocol is consistent is decided by evaluating
//! the model's rules on the values, never assumed.

use rand::Rng;

use crate::model::FormModel;
use crate::rules::Values;

/// The fixed lines this generator knows how to fill plausibly.
pub const REQUIRED_FIELDS: [&str; 5] =
    ["voters_on_list", "ballots_received", "ballots_issued", "ballots_unused", "ballots_spoiled"];

/// How a generated protocol was made to break the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Breakage {
    /// received ≠ issued + unused.
    UnaccountedBallots,
    /// issued > voters.
    MoreIssuedThanVoters,
    /// votes + spoiled > issued.
    Stuffing,
    /// votes + spoiled < issued.
    MissingFromBox,
    /// issued > 95 % of voters.
    HighTurnout,
    /// spoiled > 10 % of cast.
    ManySpoiled,
}

const BREAKAGES: [Breakage; 6] = [
    Breakage::UnaccountedBallots,
    Breakage::MoreIssuedThanVoters,
    Breakage::Stuffing,
    Breakage::MissingFromBox,
    Breakage::HighTurnout,
    Breakage::ManySpoiled,
];

/// Smallest and largest precinct (voters on the list) generated; real
/// Kazakh precincts range from a few hundred to about three thousand voters.
const VOTERS_RANGE: (u64, u64) = (300, 3200);

/// Splits `total` into `weights.len()` parts proportional to the weights.
fn apportion<R: Rng>(rng: &mut R, total: u64, weights: &[f64]) -> Vec<u64> {
    let sum: f64 = weights.iter().sum();
    let mut parts: Vec<u64> = weights.iter().map(|w| ((w / sum) * total as f64).floor() as u64).collect();
    let mut left = total - parts.iter().sum::<u64>();
    while left > 0 {
        let i = rng.gen_range(0..parts.len());
        parts[i] += 1;
        left -= 1;
    }
    parts
}

/// Generates values that satisfy every rule of a standard protocol.
fn consistent_values<R: Rng>(rng: &mut R, model: &FormModel) -> Values {
    let voters = rng.gen_range(VOTERS_RANGE.0..=VOTERS_RANGE.1);
    // Commissions receive about as many ballots as voters, sometimes fewer.
    let received = (voters as f64 * rng.gen_range(0.85..1.0)).round() as u64;
    let turnout = rng.gen_range(0.15..0.88);
    let issued = ((voters as f64 * turnout).round() as u64).min(received);
    let unused = received - issued;
    let spoiled_share = rng.gen_range(0.0..0.06);
    let spoiled = (issued as f64 * spoiled_share).round() as u64;
    let cast_valid = issued - spoiled;
    let parties = model.party_keys();
    // A leading party and a long tail, as in the 2021 results.
    let weights: Vec<f64> = parties
        .iter()
        .enumerate()
        .map(|(i, _)| if i == 0 { rng.gen_range(2.0..6.0) } else { rng.gen_range(0.2..2.0) })
        .collect();
    let votes = apportion(rng, cast_valid, &weights);

    let mut values = model.empty_values();
    values.insert("voters_on_list".into(), Some(voters));
    values.insert("ballots_received".into(), Some(received));
    values.insert("ballots_issued".into(), Some(issued));
    values.insert("ballots_unused".into(), Some(unused));
    values.insert("ballots_spoiled".into(), Some(spoiled));
    for (key, v) in parties.iter().zip(votes) {
        values.insert(key.clone(), Some(v));
    }
    values
}

fn get(values: &Values, key: &str) -> u64 {
    values.get(key).copied().flatten().unwrap_or(0)
}

fn apply_breakage<R: Rng>(rng: &mut R, model: &FormModel, values: &mut Values, how: Breakage) {
    let parties = model.party_keys();
    let voters = get(values, "voters_on_list");
    let issued = get(values, "ballots_issued");
    match how {
        Breakage::UnaccountedBallots => {
            let unused = get(values, "ballots_unused");
            let off = rng.gen_range(1..=25u64);
            let new = if rng.gen_bool(0.5) || unused < off { unused + off } else { unused - off };
            values.insert("ballots_unused".into(), Some(new));
        }
        Breakage::MoreIssuedThanVoters => {
            let extra = rng.gen_range(5..=60u64);
            let new_voters = issued.saturating_sub(extra).max(1);
            values.insert("voters_on_list".into(), Some(new_voters));
        }
        Breakage::Stuffing => {
            let party = &parties[0];
            let extra = rng.gen_range(10..=150u64);
            values.insert(party.clone(), Some(get(values, party) + extra));
        }
        Breakage::MissingFromBox => {
            let party = &parties[rng.gen_range(0..parties.len())];
            let cut = rng.gen_range(3..=40u64).min(get(values, party));
            values.insert(party.clone(), Some(get(values, party) - cut.max(1).min(get(values, party))));
        }
        Breakage::HighTurnout => {
            // Issued 96–100 % of the list; keep the other relations intact.
            let new_issued = (voters as f64 * rng.gen_range(0.96..1.0)).round() as u64;
            let spoiled = get(values, "ballots_spoiled").min(new_issued / 20);
            let weights: Vec<f64> = parties.iter().map(|k| get(values, k) as f64 + 1.0).collect();
            let votes = apportion(rng, new_issued - spoiled, &weights);
            for (k, v) in parties.iter().zip(votes) {
                values.insert(k.clone(), Some(v));
            }
            let received = new_issued + rng.gen_range(0..=voters / 20);
            values.insert("ballots_issued".into(), Some(new_issued));
            values.insert("ballots_spoiled".into(), Some(spoiled));
            values.insert("ballots_received".into(), Some(received));
            values.insert("ballots_unused".into(), Some(received - new_issued));
        }
        Breakage::ManySpoiled => {
            // Move votes to spoiled until spoiled is 12–30 % of cast.
            let share = rng.gen_range(0.12..0.30);
            let target = (issued as f64 * share).round() as u64;
            let spoiled = get(values, "ballots_spoiled");
            let mut to_move = target.saturating_sub(spoiled);
            values.insert("ballots_spoiled".into(), Some(spoiled + to_move));
            for k in &parties {
                let v = get(values, k);
                let take = to_move.min(v);
                values.insert(k.clone(), Some(v - take));
                to_move -= take;
            }
        }
    }
}

/// True values for one protocol: consistent, or broken in one or more ways.
/// Returns the values and the breakages applied (empty when consistent).
pub fn generate<R: Rng>(rng: &mut R, model: &FormModel, inconsistent: bool) -> (Values, Vec<Breakage>) {
    let mut values = consistent_values(rng, model);
    let mut applied = Vec::new();
    if inconsistent {
        let count = if rng.gen_bool(0.25) { 2 } else { 1 };
        for _ in 0..count {
            let how = BREAKAGES[rng.gen_range(0..BREAKAGES.len())];
            apply_breakage(rng, model, &mut values, how);
            applied.push(how);
        }
    }
    (values, applied)
}

/// Whether every rule of the model holds on `values`.
pub fn is_consistent(model: &FormModel, values: &Values) -> bool {
    model.check(values).iter().all(|c| c.holds == Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn consistent_values_satisfy_every_rule_and_broken_ones_do_not() {
        let model = FormModel::load(None).unwrap();
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        for _ in 0..500 {
            let (v, broken) = generate(&mut rng, &model, false);
            assert!(broken.is_empty());
            assert!(is_consistent(&model, &v), "{v:?}");
            for key in model.lines.iter().map(|l| &l.key) {
                assert!(get(&v, key) < 1_000_000, "{key} has more than 6 digits");
            }
        }
        let mut failed = 0;
        for _ in 0..500 {
            let (v, _) = generate(&mut rng, &model, true);
            if !is_consistent(&model, &v) {
                failed += 1;
            }
        }
        // A second breakage can, rarely, undo the first; nearly all must fail.
        assert!(failed >= 490, "only {failed} of 500 broke a rule");
    }
}
