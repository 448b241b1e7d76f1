//! `review`: the reviewers' side — the store of their decisions with its
//! audit trail ([`store`]), the verified data set built from it
//! ([`verified`]), and the local web page they work in ([`web`]) with its
//! API's reply shapes ([`api`]).

pub mod api;
pub mod store;
pub mod verified;
pub mod web;
