// SPDX-License-Identifier: GPL-2.0

//! Reading a copy of a device's evidence directory.
//!
//! Layout (see the crate documentation): `signatures/N_FIELD` for each
//! logged entry `N`, `measurements/record`, `measurements/blocks`,
//! `certificates/slot0..7`.  Files whose names do not follow the layout
//! (e.g. the kernel's write-only `signatures/next_requester_nonce`) are
//! listed as ignored.  Every file is read with a size bound.

use std::collections::BTreeMap;
use std::io::{self, Read};
use std::path::{Path, PathBuf};

/// Largest file read (the kernel's default `spdm.max_signatures_size`
/// bounds the whole log to 16 MiB).
pub const MAX_FILE_SIZE: u64 = 16 << 20;

/// The per-entry files of `signatures/`.
pub const FIELDS: [&str; 8] = [
    "type",
    "hash_algorithm",
    "transcript",
    "signature",
    "combined_spdm_prefix",
    "requester_nonce",
    "responder_nonce",
    "certificate_chain",
];

/// The files of one logged entry.
#[derive(Debug, Clone, Default)]
pub struct RawEntry {
    /// Entry number.
    pub number: u64,
    /// Field name (one of [`FIELDS`]) to file contents.
    pub files: BTreeMap<&'static str, Vec<u8>>,
    /// Files of this entry that could not be read (name: reason).
    pub errors: Vec<String>,
}

impl RawEntry {
    /// The contents of `N_field`, if present.
    pub fn get(&self, field: &str) -> Option<&[u8]> {
        self.files.get(field).map(Vec::as_slice)
    }
}

/// A loaded evidence directory.
#[derive(Debug, Clone, Default)]
pub struct Evidence {
    /// The directory.
    pub dir: PathBuf,
    /// Logged entries by number.
    pub entries: BTreeMap<u64, RawEntry>,
    /// `measurements/record`.
    pub record: Option<Vec<u8>>,
    /// `measurements/blocks`.
    pub blocks: Option<Vec<u8>>,
    /// `certificates/slotN`.
    pub slots: [Option<Vec<u8>>; 8],
    /// Files not part of the layout (relative paths).
    pub ignored: Vec<String>,
}

/// Reads `path` up to [`MAX_FILE_SIZE`] bytes.
pub fn read_bounded(path: &Path) -> io::Result<Vec<u8>> {
    let f = std::fs::File::open(path)?;
    let mut out = Vec::new();
    f.take(MAX_FILE_SIZE + 1).read_to_end(&mut out)?;
    if out.len() as u64 > MAX_FILE_SIZE {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            format!("larger than {} bytes", MAX_FILE_SIZE),
        ));
    }
    Ok(out)
}

/// Reads `path` if it exists.
fn read_optional(path: &Path) -> io::Result<Option<Vec<u8>>> {
    match read_bounded(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("{}: {}", path.display(), e),
        )),
    }
}

/// Splits `N_field` into its entry number and field.
pub fn split_name(name: &str) -> Option<(u64, &'static str)> {
    let (n, field) = name.split_once('_')?;
    if n.is_empty() || n.len() > 19 || !n.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    if n.len() > 1 && n.starts_with('0') {
        return None;
    }
    let field = FIELDS.iter().find(|f| **f == field)?;
    Some((n.parse().ok()?, field))
}

/// Loads `dir` (which must hold `signatures/`).
pub fn load(dir: &Path) -> io::Result<Evidence> {
    let mut ev = Evidence {
        dir: dir.to_path_buf(),
        ..Evidence::default()
    };
    let sig = dir.join("signatures");
    let list = std::fs::read_dir(&sig)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {}", sig.display(), e)))?;
    let mut names = Vec::new();
    for e in list {
        let e = e?;
        names.push(e.file_name().to_string_lossy().into_owned());
    }
    names.sort();
    for name in names {
        let Some((number, field)) = split_name(&name) else {
            ev.ignored.push(format!("signatures/{}", name));
            continue;
        };
        let entry = ev.entries.entry(number).or_insert_with(|| RawEntry {
            number,
            ..RawEntry::default()
        });
        match read_bounded(&sig.join(&name)) {
            Ok(b) => {
                entry.files.insert(field, b);
            }
            Err(e) => entry.errors.push(format!("{}: {}", name, e)),
        }
    }
    let meas = dir.join("measurements");
    ev.record = read_optional(&meas.join("record"))?;
    ev.blocks = read_optional(&meas.join("blocks"))?;
    for (slot, out) in ev.slots.iter_mut().enumerate() {
        *out = read_optional(&dir.join("certificates").join(format!("slot{}", slot)))?;
    }
    Ok(ev)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(split_name("0_type"), Some((0, "type")));
        assert_eq!(
            split_name("17_certificate_chain"),
            Some((17, "certificate_chain"))
        );
        assert_eq!(split_name("next_requester_nonce"), None);
        assert_eq!(split_name("01_type"), None);
        assert_eq!(split_name("1_bogus"), None);
        assert_eq!(split_name("_type"), None);
        assert_eq!(split_name("99999999999999999999_type"), None);
    }
}
