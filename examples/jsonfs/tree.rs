//! The document as a tree of inodes: directories for objects and arrays, files for scalars,
//! built from a JSON value and turned back into one. Every change goes through here and
//! marks the tree dirty; `handlers` decides when to save it.

use std::collections::{BTreeMap, HashMap};
use std::time::SystemTime;

use fusegen::{Errno, Result};
use serde_json::{Map, Value};

use crate::mapping::{content_to_value, key_to_name, name_to_index, name_to_key, value_to_content};

/// The root directory's inode number (FUSE's).
pub const ROOT: u64 = 1;

/// One node: its content, and what keeps it alive.
#[derive(Debug)]
pub struct Node {
    pub kind: Kind,
    pub mtime: SystemTime,
    /// Lookups the kernel holds (replies to lookup, create, mkdir and READDIRPLUS entries,
    /// minus forgets). The node is dropped once it is unlinked and this and `opens` are 0.
    lookups: u64,
    opens: u64,
    linked: bool,
}

#[derive(Debug)]
pub enum Kind {
    /// A scalar; the bytes are the file's content (see `mapping`).
    File(Vec<u8>),
    Dir(Dir),
}

/// A directory: an object (names are escaped keys) or an array (names are indices).
#[derive(Debug, Default)]
pub struct Dir {
    pub array: bool,
    /// Entries in insertion order, keyed by a cookie that never changes while the entry
    /// exists: readdir offsets stay valid when other entries come and go.
    by_cookie: BTreeMap<u64, (String, u64)>,
    by_name: HashMap<String, u64>,
    next_cookie: u64,
}

/// Readdir offsets 1 and 2 continue after `.` and `..`; entries start at 3.
const FIRST_COOKIE: u64 = 3;

impl Dir {
    fn new(array: bool) -> Dir {
        Dir {
            array,
            next_cookie: FIRST_COOKIE,
            ..Dir::default()
        }
    }

    pub fn get(&self, name: &str) -> Option<u64> {
        let cookie = self.by_name.get(name)?;
        self.by_cookie.get(cookie).map(|(_, ino)| *ino)
    }

    fn insert(&mut self, name: String, ino: u64) {
        if let Some(cookie) = self.by_name.get(&name) {
            self.by_cookie.insert(*cookie, (name, ino));
            return;
        }
        let cookie = self.next_cookie;
        self.next_cookie += 1;
        self.by_name.insert(name.clone(), cookie);
        self.by_cookie.insert(cookie, (name, ino));
    }

    fn remove(&mut self, name: &str) -> Option<u64> {
        let cookie = self.by_name.remove(name)?;
        self.by_cookie.remove(&cookie).map(|(_, ino)| ino)
    }

    pub fn is_empty(&self) -> bool {
        self.by_cookie.is_empty()
    }

    /// Entries after readdir offset `offset`, each with the offset that continues after it.
    pub fn entries_after(&self, offset: u64) -> impl Iterator<Item = (u64, &str, u64)> {
        self.by_cookie
            .range(offset.max(FIRST_COOKIE - 1) + 1..)
            .map(|(cookie, (name, ino))| (*cookie, name.as_str(), *ino))
    }

    /// Whether `name` can name an entry here: an index in an array, an escaped key otherwise.
    fn check_name(&self, name: &str) -> Result<()> {
        let ok = if self.array {
            name_to_index(name).is_some()
        } else {
            name_to_key(name).is_some()
        };
        if ok { Ok(()) } else { Err(Errno::EINVAL) }
    }
}

/// The whole document.
#[derive(Debug)]
pub struct Tree {
    nodes: HashMap<u64, Node>,
    /// Parent of each linked node (for rename loops and `..`).
    parents: HashMap<u64, u64>,
    next_ino: u64,
    /// Changed since the last save.
    pub dirty: bool,
}

impl Tree {
    /// The tree of `doc`, whose top level must be an object or an array.
    pub fn from_value(doc: &Value) -> std::result::Result<Tree, String> {
        if !doc.is_object() && !doc.is_array() {
            return Err("the document's top level must be an object or an array".into());
        }
        let mut tree = Tree {
            nodes: HashMap::new(),
            parents: HashMap::new(),
            next_ino: ROOT,
            dirty: false,
        };
        let root = tree.build(doc);
        debug_assert_eq!(root, ROOT);
        tree.parents.insert(ROOT, ROOT);
        Ok(tree)
    }

    fn build(&mut self, value: &Value) -> u64 {
        let kind = match value {
            Value::Object(map) => {
                let mut dir = Dir::new(false);
                let ino = self.add_node(Kind::Dir(Dir::new(false)));
                for (key, child) in map {
                    let child_ino = self.build(child);
                    self.parents.insert(child_ino, ino);
                    dir.insert(key_to_name(key), child_ino);
                }
                self.node_mut(ino).kind = Kind::Dir(dir);
                return ino;
            }
            Value::Array(items) => {
                let mut dir = Dir::new(true);
                let ino = self.add_node(Kind::Dir(Dir::new(true)));
                for (i, child) in items.iter().enumerate() {
                    let child_ino = self.build(child);
                    self.parents.insert(child_ino, ino);
                    dir.insert(i.to_string(), child_ino);
                }
                self.node_mut(ino).kind = Kind::Dir(dir);
                return ino;
            }
            scalar => Kind::File(value_to_content(scalar)),
        };
        self.add_node(kind)
    }

    fn add_node(&mut self, kind: Kind) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        self.nodes.insert(
            ino,
            Node {
                kind,
                mtime: SystemTime::now(),
                lookups: 0,
                opens: 0,
                linked: true,
            },
        );
        ino
    }

    /// The document as JSON: arrays list their elements in index order (so indices close up
    /// after removals), objects their keys in the order they were added.
    pub fn to_value(&self) -> Value {
        self.value_of(ROOT)
    }

    fn value_of(&self, ino: u64) -> Value {
        match self.nodes.get(&ino).map(|n| &n.kind) {
            Some(Kind::File(content)) => content_to_value(content),
            Some(Kind::Dir(dir)) if dir.array => {
                let mut items: Vec<(u64, u64)> = dir
                    .by_cookie
                    .values()
                    .filter_map(|(name, ino)| Some((name_to_index(name)?, *ino)))
                    .collect();
                items.sort_unstable();
                Value::Array(items.into_iter().map(|(_, i)| self.value_of(i)).collect())
            }
            Some(Kind::Dir(dir)) => {
                let mut map = Map::new();
                for (name, child) in dir.by_cookie.values() {
                    if let Some(key) = name_to_key(name) {
                        map.insert(key, self.value_of(*child));
                    }
                }
                Value::Object(map)
            }
            None => Value::Null,
        }
    }

    pub fn node(&self, ino: u64) -> Result<&Node> {
        self.nodes.get(&ino).ok_or(Errno::ENOENT)
    }

    fn node_mut(&mut self, ino: u64) -> &mut Node {
        self.nodes.get_mut(&ino).expect("inode in the table")
    }

    pub fn dir(&self, ino: u64) -> Result<&Dir> {
        match &self.node(ino)?.kind {
            Kind::Dir(dir) => Ok(dir),
            Kind::File(_) => Err(Errno::ENOTDIR),
        }
    }

    fn dir_mut(&mut self, ino: u64) -> Result<&mut Dir> {
        match self.nodes.get_mut(&ino).map(|n| &mut n.kind) {
            Some(Kind::Dir(dir)) => Ok(dir),
            Some(Kind::File(_)) => Err(Errno::ENOTDIR),
            None => Err(Errno::ENOENT),
        }
    }

    pub fn content_mut(&mut self, ino: u64) -> Result<&mut Vec<u8>> {
        let node = self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)?;
        node.mtime = SystemTime::now();
        self.dirty = true;
        match &mut node.kind {
            Kind::File(content) => Ok(content),
            Kind::Dir(_) => Err(Errno::EISDIR),
        }
    }

    pub fn set_mtime(&mut self, ino: u64, mtime: SystemTime) -> Result<()> {
        self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)?.mtime = mtime;
        Ok(())
    }

    pub fn parent(&self, ino: u64) -> u64 {
        self.parents.get(&ino).copied().unwrap_or(ROOT)
    }

    /// `name` in `parent`, counted as one kernel lookup.
    pub fn lookup(&mut self, parent: u64, name: &str) -> Result<u64> {
        let ino = self.dir(parent)?.get(name).ok_or(Errno::ENOENT)?;
        self.node_mut(ino).lookups += 1;
        Ok(ino)
    }

    /// One more lookup of `ino`, for an entry returned by READDIRPLUS.
    pub fn count_lookup(&mut self, ino: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.lookups += 1;
        }
    }

    /// The kernel forgot `count` lookups of `ino`.
    pub fn forget(&mut self, ino: u64, count: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.lookups = node.lookups.saturating_sub(count);
        }
        self.drop_if_unused(ino);
    }

    pub fn open(&mut self, ino: u64) -> Result<()> {
        self.nodes.get_mut(&ino).ok_or(Errno::ENOENT)?.opens += 1;
        Ok(())
    }

    pub fn release(&mut self, ino: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.opens = node.opens.saturating_sub(1);
        }
        self.drop_if_unused(ino);
    }

    fn drop_if_unused(&mut self, ino: u64) {
        let unused = self
            .nodes
            .get(&ino)
            .is_some_and(|n| !n.linked && n.lookups == 0 && n.opens == 0);
        if unused && ino != ROOT {
            self.nodes.remove(&ino);
        }
    }

    /// A new empty string (`dir == false`) or empty object in `parent`, counted as a lookup.
    pub fn create(&mut self, parent: u64, name: &str, dir: bool) -> Result<u64> {
        let parent_dir = self.dir(parent)?;
        parent_dir.check_name(name)?;
        if parent_dir.get(name).is_some() {
            return Err(Errno::EEXIST);
        }
        let kind = if dir {
            Kind::Dir(Dir::new(false))
        } else {
            Kind::File(value_to_content(&Value::String(String::new())))
        };
        let ino = self.add_node(kind);
        self.node_mut(ino).lookups = 1;
        self.dir_mut(parent)?.insert(name.to_string(), ino);
        self.parents.insert(ino, parent);
        self.touch(parent);
        Ok(ino)
    }

    /// Removes `name` from `parent`: a file (`dir == false`) or an empty directory.
    pub fn remove(&mut self, parent: u64, name: &str, dir: bool) -> Result<()> {
        let ino = self.dir(parent)?.get(name).ok_or(Errno::ENOENT)?;
        match (&self.node(ino)?.kind, dir) {
            (Kind::Dir(_), false) => return Err(Errno::EISDIR),
            (Kind::File(_), true) => return Err(Errno::ENOTDIR),
            (Kind::Dir(d), true) if !d.is_empty() => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        self.unlink_entry(parent, name);
        Ok(())
    }

    fn unlink_entry(&mut self, parent: u64, name: &str) {
        let Ok(dir) = self.dir_mut(parent) else {
            return;
        };
        if let Some(ino) = dir.remove(name) {
            self.parents.remove(&ino);
            if let Some(node) = self.nodes.get_mut(&ino) {
                node.linked = false;
            }
            self.drop_if_unused(ino);
        }
        self.touch(parent);
    }

    /// Moves `name` in `parent` to `new_name` in `new_parent`, replacing a file with a file
    /// or an empty directory with a directory; `noreplace` refuses any existing target.
    pub fn rename(
        &mut self,
        parent: u64,
        name: &str,
        new_parent: u64,
        new_name: &str,
        noreplace: bool,
    ) -> Result<()> {
        let ino = self.dir(parent)?.get(name).ok_or(Errno::ENOENT)?;
        let target_dir = self.dir(new_parent)?;
        target_dir.check_name(new_name)?;
        let moving_dir = matches!(self.node(ino)?.kind, Kind::Dir(_));
        if moving_dir && self.is_ancestor(ino, new_parent) {
            return Err(Errno::EINVAL);
        }
        if let Some(existing) = target_dir.get(new_name) {
            if existing == ino {
                return Ok(());
            }
            if noreplace {
                return Err(Errno::EEXIST);
            }
            match (&self.node(existing)?.kind, moving_dir) {
                (Kind::Dir(_), false) => return Err(Errno::EISDIR),
                (Kind::File(_), true) => return Err(Errno::ENOTDIR),
                (Kind::Dir(d), true) if !d.is_empty() => return Err(Errno::ENOTEMPTY),
                _ => {}
            }
            self.unlink_entry(new_parent, new_name);
        }
        self.dir_mut(parent)?.remove(name);
        self.dir_mut(new_parent)?.insert(new_name.to_string(), ino);
        self.parents.insert(ino, new_parent);
        self.touch(parent);
        self.touch(new_parent);
        Ok(())
    }

    /// Whether `ancestor` is `ino` or one of its parents.
    fn is_ancestor(&self, ancestor: u64, mut ino: u64) -> bool {
        loop {
            if ino == ancestor {
                return true;
            }
            if ino == ROOT {
                return false;
            }
            ino = self.parent(ino);
        }
    }

    fn touch(&mut self, ino: u64) {
        self.dirty = true;
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.mtime = SystemTime::now();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn tree() -> Tree {
        Tree::from_value(&json!({"name": "x", "tags": ["a", "b"], "n": {"k": 1}})).unwrap()
    }

    #[test]
    fn a_document_round_trips_unchanged() {
        let doc =
            json!({"z": 1, "a": [true, null, "s", {"deep": [1.5]}], "": "empty key", "a/b": "42"});
        assert_eq!(Tree::from_value(&doc).unwrap().to_value(), doc);
        assert!(Tree::from_value(&json!(3)).is_err());
    }

    #[test]
    fn removing_an_array_element_closes_the_gap_when_saved() {
        let mut t = tree();
        let tags = t.lookup(ROOT, "tags").unwrap();
        t.remove(tags, "0", false).unwrap();
        assert!(t.dirty);
        assert_eq!(t.to_value()["tags"], json!(["b"]));
        assert_eq!(t.create(tags, "name", false), Err(Errno::EINVAL));
        t.create(tags, "5", false).unwrap();
        assert_eq!(t.to_value()["tags"], json!(["b", ""]));
    }

    #[test]
    fn rename_moves_values_and_refuses_loops() {
        let mut t = tree();
        let n = t.lookup(ROOT, "n").unwrap();
        t.rename(ROOT, "name", n, "title", false).unwrap();
        assert_eq!(
            t.to_value(),
            json!({"tags": ["a", "b"], "n": {"k": 1, "title": "x"}})
        );
        assert_eq!(t.rename(ROOT, "n", n, "inside", false), Err(Errno::EINVAL));
        assert_eq!(t.rename(n, "k", n, "title", true), Err(Errno::EEXIST));
        assert_eq!(t.rename(ROOT, "tags", n, "k", false), Err(Errno::ENOTDIR));
        assert_eq!(t.remove(ROOT, "n", true), Err(Errno::ENOTEMPTY));
    }

    #[test]
    fn an_unlinked_node_lives_until_forgotten_and_closed() {
        let mut t = tree();
        let ino = t.lookup(ROOT, "name").unwrap();
        t.open(ino).unwrap();
        t.remove(ROOT, "name", false).unwrap();
        assert!(t.node(ino).is_ok(), "still looked up and open");
        t.forget(ino, 1);
        assert!(t.node(ino).is_ok(), "still open");
        t.release(ino);
        assert_eq!(t.node(ino).err(), Some(Errno::ENOENT));
    }

    #[test]
    fn readdir_offsets_survive_removals() {
        let mut t = tree();
        let names: Vec<(u64, String)> = t
            .dir(ROOT)
            .unwrap()
            .entries_after(0)
            .map(|(c, n, _)| (c, n.to_string()))
            .collect();
        assert_eq!(names.len(), 3);
        let (first_cookie, first) = names[0].clone();
        t.remove(ROOT, &first, false).unwrap();
        let rest: Vec<String> = t
            .dir(ROOT)
            .unwrap()
            .entries_after(first_cookie)
            .map(|(_, n, _)| n.to_string())
            .collect();
        assert_eq!(rest, [names[1].1.clone(), names[2].1.clone()]);
    }
}
