//! File names for keys: any account or entitlement key becomes one safe file name, and the
//! name gives the key back.
//!
//! Bytes in `[A-Za-z0-9._-]` stay as they are (a `.` only after the first byte); every other
//! byte of the key's UTF-8 is written `%XX` (upper-case hex). So a name never holds `/` or NUL,
//! is never `.` or `..`, and never starts with `.`: names starting with `.` belong to the
//! connector itself (temporary files of atomic writes, `.key` files) and are skipped by listings.
//!
//! A key whose escaped form is longer than [`PLAIN_MAX`] bytes (up to 255 characters of
//! unicode can take 2,000+ bytes escaped, past a file system's 255-byte name limit) is named
//! `~` + the SHA-256 of the key in hex instead, and the file holds the key itself.

use sha2::{Digest, Sha256};

/// The longest escaped name kept as is; room is left for a `.json` suffix and for file
/// systems' 255-byte name limit.
const PLAIN_MAX: usize = 200;

/// The prefix of a hashed name; `~` is always escaped, so no plain name starts with it.
const HASHED_PREFIX: char = '~';

/// How a key is named on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct KeyName {
    /// The file name.
    pub(super) name: String,
    /// Whether the name is a hash, so that the key must be stored in the file.
    pub(super) hashed: bool,
}

/// What a file name found on disk stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Decoded {
    /// A plain name: the key it spells.
    Key(String),
    /// A hashed name: the key is stored in the file; check it with [`is_name_of`].
    Hashed,
    /// The connector's own file (temporary file, `.key`): not an entry.
    Internal,
    /// A name the connector never writes: put there by hand, or damaged.
    Foreign,
}

/// The file name of `key`.
pub(super) fn encode(key: &str) -> KeyName {
    let escaped = escape(key);
    if escaped.len() <= PLAIN_MAX {
        KeyName {
            name: escaped,
            hashed: false,
        }
    } else {
        KeyName {
            name: hashed_name(key),
            hashed: true,
        }
    }
}

/// What the file name `name` stands for.
pub(super) fn decode(name: &str) -> Decoded {
    if name.starts_with('.') {
        return Decoded::Internal;
    }
    if let Some(hex) = name.strip_prefix(HASHED_PREFIX) {
        let is_hash =
            hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        return if is_hash {
            Decoded::Hashed
        } else {
            Decoded::Foreign
        };
    }
    match unescape(name) {
        // Only the canonical spelling counts: `svc%2fa` would list a membership that `holds`
        // (which looks up `svc%2Fa`) never finds.
        Some(key) if encode(&key).name == name => Decoded::Key(key),
        _ => Decoded::Foreign,
    }
}

/// Whether `name` is the file name of `key` (the check for a hashed name's stored key).
pub(super) fn is_name_of(name: &str, key: &str) -> bool {
    encode(key).name == name
}

/// Escapes every byte outside `[A-Za-z0-9._-]`, and a leading `.`, as `%XX`.
fn escape(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    for (i, byte) in key.bytes().enumerate() {
        let keep =
            byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'-' || (byte == b'.' && i > 0);
        if keep {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(hex_digit(byte >> 4));
            out.push(hex_digit(byte & 0x0f));
        }
    }
    out
}

/// The key `name` spells, if it is well-formed escaped UTF-8.
fn unescape(name: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(name.len());
    let mut rest = name.bytes();
    while let Some(byte) = rest.next() {
        if byte == b'%' {
            let high = hex_value(rest.next()?)?;
            let low = hex_value(rest.next()?)?;
            bytes.push(high << 4 | low);
        } else {
            bytes.push(byte);
        }
    }
    String::from_utf8(bytes).ok().filter(|key| !key.is_empty())
}

/// `~` and the SHA-256 of `key` in lower-case hex.
fn hashed_name(key: &str) -> String {
    let digest = Sha256::digest(key.as_bytes());
    let mut name = String::with_capacity(65);
    name.push(HASHED_PREFIX);
    for byte in digest.iter() {
        name.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        name.push(char::from(b"0123456789abcdef"[usize::from(byte & 0x0f)]));
    }
    name
}

/// The upper-case hex digit of a nibble, for escapes.
fn hex_digit(nibble: u8) -> char {
    char::from(b"0123456789ABCDEF"[usize::from(nibble & 0x0f)])
}

/// The value of an upper-case hex digit.
fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}
