//! An organisation's signature on the evidence head, with a key it holds.
//!
//! Without a key, whoever can write OUT_DIR can rewrite the whole chain and
//! recompute every hash; only a head published earlier gives that away. A
//! signature does it without publishing: `protocol-ocr sign OUT_DIR --key
//! FILE` signs the current evidence head (Ed25519, `ed25519-dalek`) and
//! appends the signature to `OUT_DIR/evidence-signatures.jsonl`;
//! `protocol-ocr verify OUT_DIR --key FILE.pub` then requires a signature
//! by that key, every one of them valid and on a head the chain has had.
//! A forger without the secret key can neither sign a rewritten chain nor
//! keep an old signature valid on it. `protocol-ocr keygen --out FILE`
//! makes a key pair (FILE secret, FILE.pub public, both hex).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::evidence::Evidence;
use crate::review::store::ChainReport;

/// The signatures' file inside OUT_DIR, one JSON object per line.
pub const SIGNATURES_FILE: &str = "evidence-signatures.jsonl";

/// What is signed: a fixed prefix naming the use, then the head, so a
/// signature made for anything else never passes for one on a head.
fn message(head: &str) -> Vec<u8> {
    format!("protocol-ocr evidence head {head}").into_bytes()
}

/// One signature line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedHead {
    pub head: String,
    pub decisions: usize,
    /// RFC 3339, UTC, seconds.
    pub signed_at: String,
    /// The signer's public key, hex.
    pub public_key: String,
    /// The Ed25519 signature over `protocol-ocr evidence head HEAD`, hex.
    pub signature: String,
}

/// Makes a key pair: the secret key into `out` (readable by its owner
/// only), the public one into `out.pub`; returns the public key, hex.
pub fn keygen(out: &Path) -> Result<String> {
    let public_path = public_path_of(out);
    for path in [out, public_path.as_path()] {
        if path.exists() {
            bail!("{} exists: a key is never overwritten", path.display());
        }
    }
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let public = hex::encode(key.verifying_key().to_bytes());
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut secret = options.open(out).with_context(|| format!("cannot write {}", out.display()))?;
    writeln!(secret, "{}", hex::encode(key.to_bytes()))?;
    secret.sync_all()?;
    std::fs::write(&public_path, format!("{public}\n"))
        .with_context(|| format!("cannot write {}", public_path.display()))?;
    Ok(public)
}

/// `FILE.pub` beside `FILE`.
pub fn public_path_of(secret: &Path) -> PathBuf {
    let mut name = secret.as_os_str().to_os_string();
    name.push(".pub");
    PathBuf::from(name)
}

fn read_hex_key(path: &Path) -> Result<[u8; 32]> {
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    let bytes = hex::decode(text.trim()).with_context(|| format!("{}: not a hex key", path.display()))?;
    bytes.try_into().map_err(|_| anyhow::anyhow!("{}: a key is 32 bytes (64 hex digits)", path.display()))
}

/// Reads a public key: a `.pub` file as `keygen` writes it.
pub fn read_public_key(path: &Path) -> Result<VerifyingKey> {
    VerifyingKey::from_bytes(&read_hex_key(path)?)
        .with_context(|| format!("{}: not an Ed25519 public key", path.display()))
}

/// Signs OUT_DIR's current evidence head with the secret key in
/// `key_file` and appends the signature; refuses when the evidence does
/// not check out (nobody should vouch for an edited output).
pub fn sign(out: &Path, key_file: &Path) -> Result<SignedHead> {
    let key = SigningKey::from_bytes(&read_hex_key(key_file)?);
    let evidence = Evidence::current(out)?;
    if !evidence.intact() {
        bail!("the evidence of {} does not check out (run verify): it is not signed", out.display());
    }
    let signed = SignedHead {
        head: evidence.head.clone(),
        decisions: evidence.decisions,
        signed_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        public_key: hex::encode(key.verifying_key().to_bytes()),
        signature: hex::encode(key.sign(&message(&evidence.head)).to_bytes()),
    };
    let path = out.join(SIGNATURES_FILE);
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    writeln!(file, "{}", serde_json::to_string(&signed)?)?;
    file.sync_all()?;
    Ok(signed)
}

/// What the signatures of OUT_DIR say against its checked chain.
#[derive(Debug, Clone, Default)]
pub struct SignatureReport {
    /// Signatures by the required key that are valid, on heads the chain had.
    pub by_key: usize,
    /// Decisions made after the newest head signed by the required key.
    pub decisions_since: Option<usize>,
    /// Each problem, in words.
    pub problems: Vec<String>,
}

/// Checks every signature in OUT_DIR (valid, and on a head `chain` has
/// had); with `required`, at least one must be by that key.
pub fn check(out: &Path, chain: &ChainReport, required: Option<&VerifyingKey>) -> Result<SignatureReport> {
    let path = out.join(SIGNATURES_FILE);
    let mut report = SignatureReport::default();
    let lines = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    let mut newest_signed: Option<usize> = None;
    for (n, line) in lines.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let at = format!("{SIGNATURES_FILE} line {}", n + 1);
        let Ok(signed) = serde_json::from_str::<SignedHead>(line) else {
            report.problems.push(format!("{at} is not a signature"));
            continue;
        };
        let valid = decode_key(&signed.public_key)
            .zip(decode_signature(&signed.signature))
            .is_some_and(|(key, signature)| key.verify(&message(&signed.head), &signature).is_ok());
        if !valid {
            report.problems.push(format!("{at}: the signature on head {} does not verify", signed.head));
            continue;
        }
        let Some(position) = chain.position_of(&signed.head) else {
            report.problems.push(format!(
                "{at}: head {} was signed, but this log never had it: the output was rewritten since",
                signed.head
            ));
            continue;
        };
        if required.is_some_and(|k| hex::encode(k.to_bytes()) == signed.public_key) {
            report.by_key += 1;
            newest_signed = newest_signed.max(Some(position));
        }
    }
    if let Some(key) = required {
        match newest_signed {
            None => report.problems.push(format!(
                "no valid signature by the key {} on a head of this output",
                hex::encode(key.to_bytes())
            )),
            Some(position) => report.decisions_since = Some(chain.entries.saturating_sub(position)),
        }
    }
    Ok(report)
}

fn decode_key(text: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(text).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

fn decode_signature(text: &str) -> Option<Signature> {
    let bytes: [u8; 64] = hex::decode(text).ok()?.try_into().ok()?;
    Some(Signature::from_bytes(&bytes))
}
