//! Shared by the integration tests: the example protocol of
//! `docs/output-format.md`, on which every control relation holds.

use protocol_ocr::rules::Values;

/// The contract's example values, keyed as the model keys them.
pub fn contract_values() -> Values {
    [
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
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), Some(*v)))
    .collect()
}
