//! Stage 1, discover: every file under the input folder, in a fixed order.
//!
//! Nothing is dropped: a file that is not an image, or an entry that cannot
//! be read (no permission, a symlink loop), is still listed, so that it gets
//! its own `failed` line in the results.

use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use walkdir::WalkDir;

use super::file_error::FileError;

/// File name extensions read as images (compared case-insensitively).
pub const IMAGE_EXTENSIONS: [&str; 7] = ["jpg", "jpeg", "png", "tif", "tiff", "webp", "bmp"];

/// What discovery found at one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    Image,
    NotImage,
    /// The entry could not be listed or followed.
    Unreadable(FileError),
}

/// One input file.
#[derive(Debug, Clone)]
pub struct Input {
    /// Path relative to the input folder, `/`-separated.
    pub file: String,
    pub path: PathBuf,
    pub found: Found,
}

/// The path relative to `root`, `/`-separated. A name that is not valid
/// UTF-8 keeps every byte: each byte that is not part of valid UTF-8 is
/// written `\xNN`, so two such names never collapse into one line.
pub fn relative_name(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components().map(|c| escape_name(c.as_os_str().as_bytes())).collect::<Vec<_>>().join("/")
}

fn escape_name(mut bytes: &[u8]) -> String {
    let mut name = String::new();
    loop {
        match std::str::from_utf8(bytes) {
            Ok(valid) => {
                name.push_str(valid);
                return name;
            }
            Err(e) => {
                let (valid, rest) = bytes.split_at(e.valid_up_to());
                name.push_str(std::str::from_utf8(valid).expect("checked valid"));
                let bad = e.error_len().unwrap_or(rest.len());
                for b in &rest[..bad] {
                    name.push_str(&format!("\\x{b:02X}"));
                }
                bytes = &rest[bad..];
            }
        }
    }
}

fn is_image_name(path: &Path) -> bool {
    path.extension()
        .map(|e| e.to_string_lossy().to_ascii_lowercase())
        .is_some_and(|e| IMAGE_EXTENSIONS.contains(&e.as_str()))
}

/// Lists every file under `root` sorted by relative path. `skip` is a folder
/// to leave out (the output folder when it lies inside the input).
pub fn discover(root: &Path, follow_symlinks: bool, skip: Option<&Path>) -> Vec<Input> {
    let skip = skip.and_then(|s| s.canonicalize().ok());
    let mut inputs = Vec::new();
    let walker = WalkDir::new(root).follow_links(follow_symlinks).sort_by_file_name().into_iter();
    let walker = walker.filter_entry(|e| match &skip {
        Some(s) if e.file_type().is_dir() => e.path().canonicalize().map(|p| &p != s).unwrap_or(true),
        _ => true,
    });
    for entry in walker {
        match entry {
            Ok(e) if e.file_type().is_dir() => {}
            Ok(e) => {
                let found = if e.path_is_symlink() && !follow_symlinks {
                    Found::Unreadable(FileError::SymlinkNotFollowed)
                } else if !e.file_type().is_file() {
                    // Opening a FIFO would block the run; a socket or device is no photo.
                    Found::Unreadable(FileError::NotRegularFile)
                } else if is_image_name(e.path()) {
                    Found::Image
                } else {
                    Found::NotImage
                };
                inputs.push(Input { file: relative_name(root, e.path()), path: e.path().to_path_buf(), found });
            }
            Err(err) => {
                let path = err.path().map(Path::to_path_buf).unwrap_or_else(|| root.to_path_buf());
                let why = if err.loop_ancestor().is_some() {
                    FileError::SymlinkLoop
                } else {
                    FileError::Unlisted(err.io_error().map_or_else(|| err.to_string(), |io| io.to_string()))
                };
                inputs.push(Input { file: relative_name(root, &path), path, found: Found::Unreadable(why) });
            }
        }
    }
    inputs.sort_by(|a, b| a.file.cmp(&b.file));
    inputs.dedup_by(|a, b| a.file == b.file);
    inputs
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn names_that_are_not_utf8_keep_every_byte() {
        let root = Path::new("/in");
        let a = root.join(OsStr::from_bytes(b"caf\xE9.jpg"));
        let b = root.join(OsStr::from_bytes(b"caf\xE8.jpg"));
        assert_eq!(relative_name(root, &a), "caf\\xE9.jpg");
        assert_ne!(relative_name(root, &a), relative_name(root, &b));
        assert_eq!(relative_name(root, &root.join("день 1/фото.jpg")), "день 1/фото.jpg");
    }
}
