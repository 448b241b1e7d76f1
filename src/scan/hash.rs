//! Stage 2, hash: the SHA-256 of every file's bytes as found.
//!
//! The hash is the photo's identity for the chain of custody and for
//! finding byte copies: the first file (by path) with a given hash is read,
//! the others are marked duplicates of it.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

/// Read buffer for streaming a file through the hasher.
const HASH_BUFFER: usize = 256 * 1024;

/// Streams the file at `path` through SHA-256; returns (lowercase hex, size).
pub fn hash_file(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; HASH_BUFFER];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buffer[..n]);
    }
    Ok((hex::encode(hasher.finalize()), size))
}

/// Hashes a discovered input: (SHA-256, size), or why it cannot be read.
/// `scan` and `verify` must agree on this to the letter.
pub fn hash_input(input: &super::discover::Input) -> Result<(String, u64), super::file_error::FileError> {
    match &input.found {
        super::discover::Found::Unreadable(why) => Err(why.clone()),
        _ => hash_file(&input.path).map_err(|e| super::file_error::FileError::Unreadable(e.to_string())),
    }
}

/// SHA-256 of bytes in memory, lowercase hex.
pub fn hash_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streamed_hash_equals_in_memory_hash() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.bin");
        let bytes: Vec<u8> = (0..700_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(&path, &bytes).unwrap();
        let (hex, size) = hash_file(&path).unwrap();
        assert_eq!(size, 700_000);
        assert_eq!(hex, hash_bytes(&bytes));
        assert_eq!(hash_bytes(b"test"), "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
    }
}
