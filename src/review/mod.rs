//! `review`: the reviewers' side — the store of their decisions with its
//! audit trail ([`store`]), the verified data set built from it
//! ([`verified`]), and the local web page they work in ([`web`]).

pub mod store;
pub mod verified;
pub mod web;
