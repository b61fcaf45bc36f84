//! Key material: random bytes from the operating system, and key files that are created
//! once, readable by their owner alone and never overwritten.

use std::io::Write as _;
use std::path::Path;

use crate::error::CoreError;

/// Writes `text` to a new file at `path` with mode 0600 and syncs it; an existing file is
/// refused, so a key in use is never replaced by accident.
pub fn write_new_private(path: &Path, text: &str) -> Result<(), CoreError> {
    let shown = path.display();
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(path)
        .map_err(|e| CoreError::Invalid(format!("cannot create `{shown}`: {e}")))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| CoreError::Invalid(format!("cannot write `{shown}`: {e}")))
}

/// Fills `buf` from the operating system's CSPRNG.
pub fn random(buf: &mut [u8]) -> Result<(), CoreError> {
    getrandom::fill(buf)
        .map_err(|e| CoreError::Internal(format!("the operating system's CSPRNG failed: {e}")))
}
