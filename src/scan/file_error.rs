//! What can go wrong with one input file, typed.
//!
//! Every stage that meets a file it cannot use (discover, hash, decode, the
//! readers, the writer of its page) says so with one of these; the scan
//! records it on that file's line of `results.jsonl` (`error`) as the
//! sentence below, and the batch goes on. The sentences are what users and
//! their scripts read: they change only on purpose.

/// Why one file could not be read as a protocol.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty (0 bytes)")]
    Empty,
    /// The operating system refused or failed the read (its message).
    #[error("cannot read the file: {0}")]
    Unreadable(String),
    #[error("not an image: the contents are not in any known image format")]
    NotAnImage,
    #[error("not an image: the file name has no image extension")]
    NotAnImageName,
    #[error("the JPEG is truncated (it ends before its end-of-image marker): part of the photo is missing")]
    TruncatedJpeg,
    /// The header declares more pixels or memory than any photo (the limit hit).
    #[error("refused: the image declares more pixels than any photo ({0}); a decompression bomb or a corrupt header")]
    TooLarge(String),
    #[error("the image is damaged or truncated: {0}")]
    Damaged(String),
    #[error("unsupported image: {0}")]
    Unsupported(String),
    #[error("cannot decode the image: {0}")]
    Undecodable(String),
    #[error("a symbolic link, not followed (use --follow-symlinks)")]
    SymlinkNotFollowed,
    #[error("not a regular file (a pipe, socket or device)")]
    NotRegularFile,
    #[error("a symbolic link loop")]
    SymlinkLoop,
    /// A folder entry that could not be listed (the walker's message).
    #[error("cannot be listed: {0}")]
    Unlisted(String),
    #[error("the file changed while it was being scanned; scan again")]
    ChangedDuringScan,
    /// The OCR engines could not be made or failed on this page.
    #[error("{0}")]
    Reader(String),
    #[error("cannot save the page: {0}")]
    PageNotSaved(String),
    #[error("cannot write the debug image: {0}")]
    DebugImageNotWritten(String),
    /// A panic while reading this file: a bug, not the file's fault.
    #[error("internal error while reading this file (a bug; please report it): {0}")]
    Internal(String),
}

impl From<image::ImageError> for FileError {
    fn from(e: image::ImageError) -> FileError {
        match e {
            image::ImageError::Limits(l) => FileError::TooLarge(l.to_string()),
            image::ImageError::Decoding(d) => FileError::Damaged(d.to_string()),
            image::ImageError::Unsupported(u) => FileError::Unsupported(u.to_string()),
            other => FileError::Undecodable(other.to_string()),
        }
    }
}
