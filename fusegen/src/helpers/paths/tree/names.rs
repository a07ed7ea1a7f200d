//! Each directory's names in the table, keyed so that looking one up is cheap: every LOOKUP,
//! unlink and listed entry looks a name up.

use std::borrow::Borrow;
use std::collections::HashMap;
use std::ffi::OsStr;
use std::hash::{Hash, Hasher};
use std::os::unix::ffi::OsStrExt;

/// Names up to this length are kept inside the key.
const INLINE: usize = 22;

/// A name as a key. Short names (nearly all) are kept inline, so that comparing a key reads
/// the map's own memory instead of a separate allocation: a listing of a large directory
/// compares every entry with its key, and those reads were its main cost.
#[derive(Clone)]
pub(super) enum Key {
    Inline { len: u8, bytes: [u8; INLINE] },
    Heap(Box<[u8]>),
}

impl Key {
    pub(super) fn new(name: &OsStr) -> Key {
        let name = name.as_bytes();
        match u8::try_from(name.len()) {
            Ok(len) if name.len() <= INLINE => {
                let mut bytes = [0; INLINE];
                bytes[..name.len()].copy_from_slice(name);
                Key::Inline { len, bytes }
            }
            _ => Key::Heap(name.into()),
        }
    }

    fn as_bytes(&self) -> &[u8] {
        match self {
            Key::Inline { len, bytes } => &bytes[..usize::from(*len)],
            Key::Heap(name) => name,
        }
    }
}

// Hashed and compared as the bytes, so that a map of keys is searched with `&[u8]`.
impl Hash for Key {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_bytes().hash(state);
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Key) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for Key {}

impl Borrow<[u8]> for Key {
    fn borrow(&self) -> &[u8] {
        self.as_bytes()
    }
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        OsStr::from_bytes(self.as_bytes()).fmt(f)
    }
}

/// One directory's names and their nodes.
pub(super) type DirMap = HashMap<Key, u64>;

/// Each directory's names and their nodes, two levels deep so that a lookup by `&OsStr`
/// builds no key.
#[derive(Debug, Default)]
pub(super) struct Names(HashMap<u64, DirMap>);

impl Names {
    pub(super) fn get(&self, parent: u64, name: &OsStr) -> Option<u64> {
        self.0.get(&parent)?.get(name.as_bytes()).copied()
    }

    pub(super) fn insert(&mut self, parent: u64, name: &OsStr, ino: u64) {
        self.0
            .entry(parent)
            .or_default()
            .insert(Key::new(name), ino);
    }

    pub(super) fn of(&self, parent: u64) -> Option<&DirMap> {
        self.0.get(&parent)
    }

    pub(super) fn remove(&mut self, parent: u64, name: &OsStr) -> Option<u64> {
        let names = self.0.get_mut(&parent)?;
        let ino = names.remove(name.as_bytes())?;
        if names.is_empty() {
            self.0.remove(&parent);
        }
        Some(ino)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_names_are_found_by_their_bytes() {
        let mut names = Names::default();
        let long = "n".repeat(INLINE + 1);
        let edge = "e".repeat(INLINE);
        for (i, name) in ["", "a", edge.as_str(), long.as_str()].iter().enumerate() {
            names.insert(7, OsStr::new(name), i as u64);
        }
        assert!(matches!(Key::new(OsStr::new(&edge)), Key::Inline { .. }));
        assert!(matches!(Key::new(OsStr::new(&long)), Key::Heap(_)));
        assert_eq!(names.get(7, OsStr::new("a")), Some(1));
        assert_eq!(names.get(7, OsStr::new(&edge)), Some(2));
        assert_eq!(names.get(7, OsStr::new(&long)), Some(3));
        assert_eq!(
            names.get(7, OsStr::new(&long[1..])),
            None,
            "a prefix is another name"
        );
        assert_eq!(
            names.get(8, OsStr::new("a")),
            None,
            "names are per directory"
        );
        assert_eq!(names.remove(7, OsStr::new(&long)), Some(3));
        assert_eq!(names.get(7, OsStr::new(&long)), None);
        assert_eq!(names.of(7).map(HashMap::len), Some(3));
    }
}
