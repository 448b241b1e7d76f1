//! protocol-ocr: reads photographed precinct election protocols, checks
//! their arithmetic, hashes every photo and reports the observed totals.
//!
//! The library never prints and never exits; the binary (`src/main.rs`) is a
//! thin command-line layer over it. Stages:
//! [`model`] (the form) → [`synth`] (test photos with truth) →
//! [`scan`] (discover, hash, decode, normalise, read, check, write) →
//! [`eval`] (scores against truth) → [`review`] (reviewers' decisions,
//! a hash-chained log) → [`verify`] (inputs and log against the
//! [`manifest`] and a published [`evidence`] head) → [`report`] (totals of
//! the verified set).
//!
//! The lab — `synth`, the glyph network's training and measuring, their
//! fonts and MNIST digits — is built with the `lab` feature (on by default,
//! for development and the tests); the binary observers install is built
//! without it (`make product`).

pub mod digits;
pub mod eval;
#[cfg(feature = "lab")]
pub mod eval_hand;
pub mod evidence;
pub mod flag;
#[cfg(feature = "lab")]
pub mod fonts;
pub mod manifest;
pub mod model;
pub mod report;
pub mod result;
pub mod review;
pub mod rules;
pub mod scan;
pub mod signing;
pub mod spreadsheet;
#[cfg(feature = "lab")]
pub mod synth;
pub mod textmatch;
pub mod verify;
