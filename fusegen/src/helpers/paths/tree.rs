//! The inode table of a path-level filesystem: which kernel inode is which path.
//!
//! Every inode the kernel knows is a node with its names (parent inode and name; several for a
//! hard link), and the number of lookups the kernel holds on it. A path is never stored: it is
//! rebuilt from the parents, so renaming a directory moves its whole subtree at once. A node
//! that loses its last name (unlinked, or replaced by a rename) keeps the path it had, for
//! handlers serving its open handles, until the kernel forgets it.
//!
//! A node's number is the file's own identity (the `ino` the filesystem's attributes carry)
//! when it has one that no other node holds, so that inode numbers are stable across mounts;
//! else the table numbers it.

use std::collections::HashMap;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;

use crate::api::types::{Forget, Inode};

mod names;

use names::{DirMap, Names};

/// File identities from here up are not used as inode numbers: the runtime numbers the files
/// whose identity is taken from here.
const OWN_BASE: u64 = 1 << 48;

/// libfuse's `FUSE_UNKNOWN_INO`, the `d_ino` of listed entries without a number yet: never a
/// node's number.
pub(crate) const UNKNOWN_INO: u64 = 0xffff_ffff;

/// Whether a file identity can be the file's inode number: not 0 (none) or 1 (the root), not
/// [`UNKNOWN_INO`], below [`OWN_BASE`].
fn usable_as_number(file_id: u64) -> bool {
    file_id > Inode::ROOT.0 && file_id < OWN_BASE && file_id != UNKNOWN_INO
}

/// Deeper than any path the kernel can pass (PATH_MAX is 4096 bytes, two per level at least).
const MAX_DEPTH: usize = 4096;

#[derive(Debug)]
struct Node {
    /// Where the node is linked: (parent, name). Empty once unlinked.
    names: Vec<(u64, OsString)>,
    /// Lookups the kernel holds (each to be forgotten).
    lookups: u64,
    /// The filesystem's own identity of the file (the `ino` of its attributes), 0 for none.
    file_id: u64,
    /// Names of other nodes that have this node as their parent.
    children: u64,
    /// The path the node had when it lost its last name.
    gone: Option<PathBuf>,
}

/// One directory's names in the table, looked up once for a run of listed entries.
pub(crate) struct DirNames<'t> {
    tree: &'t Tree,
    names: Option<&'t DirMap>,
}

impl DirNames<'_> {
    /// The inode number a listed entry shows (`d_ino`): the number the kernel knows for the
    /// name, else the one the file's identity `file_id` will have at its first lookup, else
    /// [`UNKNOWN_INO`].
    pub(crate) fn number(&self, name: &OsStr, file_id: Option<u64>) -> u64 {
        if let Some(&ino) = self.names.and_then(|names| names.get(name.as_bytes())) {
            return ino;
        }
        file_id
            .and_then(|id| self.tree.number_of_file(id))
            .map_or(UNKNOWN_INO, |ino| ino.0)
    }
}

/// The table. Not synchronized: the adapter keeps it behind one mutex.
#[derive(Debug)]
pub(crate) struct Tree {
    nodes: HashMap<u64, Node>,
    by_name: Names,
    by_file: HashMap<u64, u64>,
    /// The next number for a file without an identity.
    next: u64,
    /// The next number for a file whose identity is taken.
    next_own: u64,
}

impl Tree {
    pub(crate) fn new() -> Tree {
        let root = Node {
            names: Vec::new(),
            lookups: 1,
            file_id: 0,
            children: 0,
            gone: None,
        };
        Tree {
            nodes: HashMap::from([(Inode::ROOT.0, root)]),
            by_name: Names::default(),
            by_file: HashMap::new(),
            next: Inode::ROOT.0 + 1,
            next_own: OWN_BASE,
        }
    }

    /// The path of `ino` (`/` for the root), or `None` for an inode the table does not hold.
    pub(crate) fn path(&self, ino: Inode) -> Option<PathBuf> {
        let mut names: Vec<&OsStr> = Vec::new();
        let mut at = ino.0;
        while at != Inode::ROOT.0 {
            let node = self.nodes.get(&at)?;
            match node.names.first() {
                Some((parent, name)) => {
                    names.push(name);
                    at = *parent;
                }
                None => {
                    let mut path = node.gone.clone()?;
                    path.extend(names.iter().rev());
                    return Some(path);
                }
            }
            if names.len() > MAX_DEPTH {
                tracing::error!(ino = ino.0, "path table has a cycle");
                return None;
            }
        }
        let mut path = PathBuf::from("/");
        path.extend(names.iter().rev());
        Some(path)
    }

    /// Whether `ino` has lost its last name (unlinked or replaced while open).
    pub(crate) fn is_gone(&self, ino: Inode) -> bool {
        self.nodes.get(&ino.0).is_some_and(|n| n.gone.is_some())
    }

    /// The path of `name` in directory `parent`.
    pub(crate) fn child_path(&self, parent: Inode, name: &OsStr) -> Option<PathBuf> {
        let mut path = self.path(parent)?;
        path.push(name);
        Some(path)
    }

    /// The inode for `name` in `parent`, creating it if needed, with one more lookup.
    /// `file_id` (non-zero) makes names of one file share an inode, so hard links are one
    /// inode as on a native filesystem.
    pub(crate) fn remember(&mut self, parent: Inode, name: &OsStr, file_id: u64) -> Inode {
        let ino = self.linked(parent, name, file_id);
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.lookups += 1;
        }
        Inode(ino)
    }

    /// A hard link just made: `name` in `parent` is another name of `ino` (one lookup).
    pub(crate) fn remember_link(&mut self, ino: Inode, parent: Inode, name: &OsStr) -> Inode {
        if !self.nodes.contains_key(&ino.0) {
            return self.remember(parent, name, 0);
        }
        if self.by_name.get(parent.0, name).is_some() {
            self.unlink(parent, name);
        }
        self.add_name(ino.0, parent.0, name.to_os_string());
        if let Some(node) = self.nodes.get_mut(&ino.0) {
            node.lookups += 1;
        }
        ino
    }

    /// The number the file with identity `file_id` has, or will have at its first lookup,
    /// when that is known now.
    pub(crate) fn number_of_file(&self, file_id: u64) -> Option<Inode> {
        if file_id == 0 {
            return None;
        }
        match self.by_file.get(&file_id) {
            Some(&ino) => Some(Inode(ino)),
            None => (usable_as_number(file_id) && !self.nodes.contains_key(&file_id))
                .then_some(Inode(file_id)),
        }
    }

    /// The names the kernel knows in `dir`, for numbering the entries of its listing.
    pub(crate) fn names_in(&self, dir: Inode) -> DirNames<'_> {
        DirNames {
            tree: self,
            names: self.by_name.of(dir.0),
        }
    }

    /// The node linked as `name` in `parent` (found or made), without counting a lookup.
    fn linked(&mut self, parent: Inode, name: &OsStr, file_id: u64) -> u64 {
        if let Some(ino) = self.by_name.get(parent.0, name) {
            let same = self
                .nodes
                .get(&ino)
                .is_some_and(|n| file_id == 0 || n.file_id == 0 || n.file_id == file_id);
            if same {
                if let Some(node) = self.nodes.get_mut(&ino)
                    && node.file_id == 0
                    && file_id != 0
                {
                    node.file_id = file_id;
                    self.by_file.entry(file_id).or_insert(ino);
                }
                return ino;
            }
            // Another file took the name behind the kernel's back: the old node loses it.
            self.unlink(parent, name);
        }
        let existing = (file_id != 0)
            .then(|| self.by_file.get(&file_id).copied())
            .flatten();
        let ino = match existing {
            Some(ino) => ino,
            None => {
                let ino = self.number_for(file_id);
                self.nodes.insert(
                    ino,
                    Node {
                        names: Vec::new(),
                        lookups: 0,
                        file_id,
                        children: 0,
                        gone: None,
                    },
                );
                if file_id != 0 {
                    self.by_file.insert(file_id, ino);
                }
                ino
            }
        };
        self.add_name(ino, parent.0, name.to_os_string());
        ino
    }

    /// The inode number of a new node: the file's own `file_id` when it can be one, so that
    /// the number (and `st_ino`) stays the same across mounts; else the next free number of
    /// the runtime's own, counted up from 2 for files without an identity and from
    /// [`OWN_BASE`] for those whose identity cannot be used (another node still has it: a
    /// file deleted while open whose identity the filesystem gave to a new file).
    fn number_for(&mut self, file_id: u64) -> u64 {
        if usable_as_number(file_id) && !self.nodes.contains_key(&file_id) {
            return file_id;
        }
        let next = if file_id == 0 {
            &mut self.next
        } else {
            &mut self.next_own
        };
        while self.nodes.contains_key(next) || *next == UNKNOWN_INO {
            *next += 1;
        }
        let ino = *next;
        *next += 1;
        ino
    }

    fn add_name(&mut self, ino: u64, parent: u64, name: OsString) {
        if let Some(p) = self.nodes.get_mut(&parent) {
            p.children += 1;
        }
        self.by_name.insert(parent, &name, ino);
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.names.push((parent, name));
            node.gone = None;
        }
    }

    /// Removes the name `name` in `parent` (unlink, rmdir, or a rename's replaced target).
    pub(crate) fn unlink(&mut self, parent: Inode, name: &OsStr) {
        let Some(ino) = self.by_name.get(parent.0, name) else {
            return;
        };
        // Only a node losing its last name needs the path it had, for its open handles.
        let last_name = self.nodes.get(&ino).is_some_and(|n| n.names.len() == 1);
        let path = if last_name {
            self.child_path(parent, name)
        } else {
            None
        };
        self.detach(parent.0, name);
        if let Some(node) = self.nodes.get_mut(&ino)
            && node.names.is_empty()
        {
            node.gone = path;
            // No path leads to it any more: a name with its identity is a new file (the
            // filesystem gave the identity again), which must not share its inode.
            let file_id = node.file_id;
            if self.by_file.get(&file_id) == Some(&ino) {
                self.by_file.remove(&file_id);
            }
        }
        self.collect(ino);
    }

    /// Takes `name` in `parent` off its node, without collecting anything.
    fn detach(&mut self, parent: u64, name: &OsStr) -> Option<u64> {
        let ino = self.by_name.remove(parent, name)?;
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.names.retain(|(p, n)| !(*p == parent && n == name));
        }
        if let Some(p) = self.nodes.get_mut(&parent) {
            p.children = p.children.saturating_sub(1);
        }
        self.collect(parent);
        Some(ino)
    }

    /// Moves `name` in `parent` to `new_name` in `new_parent`, replacing what was there;
    /// with `exchange`, the two names swap their inodes.
    pub(crate) fn rename(
        &mut self,
        parent: Inode,
        name: &OsStr,
        new_parent: Inode,
        new_name: &OsStr,
        exchange: bool,
    ) {
        if parent == new_parent && name == new_name {
            return;
        }
        let source = self.by_name.get(parent.0, name);
        let target = self.by_name.get(new_parent.0, new_name);
        if source.is_some() && source == target && !exchange {
            // Two links of one file: rename(2) leaves both in place.
            return;
        }
        // Held so that detaching names does not collect either node half-way.
        for ino in [source, target].into_iter().flatten() {
            if let Some(node) = self.nodes.get_mut(&ino) {
                node.lookups += 1;
            }
        }
        if exchange {
            self.detach(parent.0, name);
            self.detach(new_parent.0, new_name);
            if let Some(ino) = target {
                self.add_name(ino, parent.0, name.to_os_string());
            }
        } else {
            self.unlink(new_parent, new_name);
            self.detach(parent.0, name);
        }
        if let Some(ino) = source {
            self.add_name(ino, new_parent.0, new_name.to_os_string());
        }
        for ino in [source, target].into_iter().flatten() {
            self.forget_one(ino, 1);
        }
    }

    /// The kernel forgets lookups.
    pub(crate) fn forget(&mut self, forgets: &[Forget]) {
        for f in forgets {
            self.forget_one(f.ino.0, f.nlookup);
        }
    }

    fn forget_one(&mut self, ino: u64, nlookup: u64) {
        if let Some(node) = self.nodes.get_mut(&ino) {
            node.lookups = node.lookups.saturating_sub(nlookup);
        }
        self.collect(ino);
    }

    /// Drops the lookup a READDIRPLUS entry would have counted, when the entry did not fit.
    pub(crate) fn unremember(&mut self, ino: Inode) {
        self.forget_one(ino.0, 1);
    }

    /// Removes `ino` once nothing refers to it: no lookups and no named children. Its own
    /// names go too, which may free its parents in turn.
    fn collect(&mut self, ino: u64) {
        let mut pending = vec![ino];
        while let Some(ino) = pending.pop() {
            if ino == Inode::ROOT.0 {
                continue;
            }
            let free = self
                .nodes
                .get(&ino)
                .is_some_and(|n| n.lookups == 0 && n.children == 0);
            if !free {
                continue;
            }
            let Some(node) = self.nodes.remove(&ino) else {
                continue;
            };
            if node.file_id != 0 && self.by_file.get(&node.file_id) == Some(&ino) {
                self.by_file.remove(&node.file_id);
            }
            for (parent, name) in node.names {
                self.by_name.remove(parent, &name);
                if let Some(p) = self.nodes.get_mut(&parent) {
                    p.children = p.children.saturating_sub(1);
                    pending.push(parent);
                }
            }
        }
    }

    /// Inodes held, the root included.
    pub(crate) fn len(&self) -> usize {
        self.nodes.len()
    }

    /// Lookups the kernel holds on `ino` (tests).
    #[cfg(test)]
    fn lookups(&self, ino: Inode) -> Option<u64> {
        self.nodes.get(&ino.0).map(|n| n.lookups)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn os(s: &str) -> &OsStr {
        OsStr::new(s)
    }

    fn forget(t: &mut Tree, ino: Inode, n: u64) {
        t.forget(&[Forget { ino, nlookup: n }]);
    }

    #[test]
    fn paths_are_built_from_parents() {
        let mut t = Tree::new();
        assert_eq!(t.path(Inode::ROOT).unwrap(), Path::new("/"));
        let a = t.remember(Inode::ROOT, os("a"), 0);
        let b = t.remember(a, os("b"), 0);
        assert_eq!(t.path(b).unwrap(), Path::new("/a/b"));
        assert_eq!(t.remember(a, os("b"), 0), b, "same name, same inode");
        assert_eq!(t.lookups(b), Some(2));
    }

    #[test]
    fn renaming_a_directory_moves_its_subtree() {
        let mut t = Tree::new();
        let a = t.remember(Inode::ROOT, os("a"), 0);
        let b = t.remember(a, os("b"), 0);
        let c = t.remember(Inode::ROOT, os("c"), 0);
        t.rename(Inode::ROOT, os("a"), c, os("z"), false);
        assert_eq!(t.path(b).unwrap(), Path::new("/c/z/b"));
        assert_eq!(t.path(a).unwrap(), Path::new("/c/z"));
    }

    #[test]
    fn a_replaced_target_keeps_its_path_for_open_handles_until_forgotten() {
        let mut t = Tree::new();
        let x = t.remember(Inode::ROOT, os("x"), 0);
        let y = t.remember(Inode::ROOT, os("y"), 0);
        t.rename(Inode::ROOT, os("x"), Inode::ROOT, os("y"), false);
        assert_eq!(t.path(x).unwrap(), Path::new("/y"));
        assert_eq!(
            t.path(y).unwrap(),
            Path::new("/y"),
            "the old file's last path"
        );
        forget(&mut t, y, 1);
        assert_eq!(t.path(y), None);
        assert_eq!(t.len(), 2);
    }

    #[test]
    fn exchange_swaps_names() {
        let mut t = Tree::new();
        let x = t.remember(Inode::ROOT, os("x"), 0);
        let d = t.remember(Inode::ROOT, os("d"), 0);
        let y = t.remember(d, os("y"), 0);
        t.rename(Inode::ROOT, os("x"), d, os("y"), true);
        assert_eq!(t.path(x).unwrap(), Path::new("/d/y"));
        assert_eq!(t.path(y).unwrap(), Path::new("/x"));
    }

    #[test]
    fn hard_links_share_an_inode_by_file_id() {
        let mut t = Tree::new();
        let f = t.remember(Inode::ROOT, os("f"), 77);
        let g = t.remember(Inode::ROOT, os("g"), 77);
        assert_eq!(f, g);
        t.unlink(Inode::ROOT, os("f"));
        assert_eq!(t.path(f).unwrap(), Path::new("/g"), "the remaining name");
        t.unlink(Inode::ROOT, os("g"));
        assert_eq!(t.path(f).unwrap(), Path::new("/g"), "unlinked, still open");
        forget(&mut t, f, 2);
        assert_eq!(t.len(), 1);
        let h = t.remember(Inode::ROOT, os("h"), 77);
        assert_eq!(
            h, f,
            "once forgotten, the file's identity is its number again"
        );
    }

    #[test]
    fn a_file_identity_is_its_number_unless_taken() {
        let mut t = Tree::new();
        let f = t.remember(Inode::ROOT, os("f"), 42);
        assert_eq!(
            f,
            Inode(42),
            "stable across mounts: the filesystem's own number"
        );
        assert_eq!(t.number_of_file(42), Some(f));
        assert_eq!(
            t.number_of_file(43),
            Some(Inode(43)),
            "free: its number to be"
        );
        // Deleted while open, and its identity given to a new file: the new file gets a
        // number of the table's own, away from the identities.
        t.unlink(Inode::ROOT, os("f"));
        let g = t.remember(Inode::ROOT, os("g"), 42);
        assert_ne!(g, f);
        assert!(g.0 >= OWN_BASE, "{g:?}");
        // Identities that cannot be numbers: the root's, and the table's own range.
        let r = t.remember(Inode::ROOT, os("r"), 1);
        assert!(r != Inode::ROOT && r.0 >= OWN_BASE, "{r:?}");
        let big = t.remember(Inode::ROOT, os("big"), u64::MAX);
        assert!(big.0 >= OWN_BASE && big.0 != u64::MAX, "{big:?}");
        assert_eq!(t.number_of_file(1), Some(r));
        assert_eq!(t.number_of_file(OWN_BASE + 5), None);
    }

    #[test]
    fn files_without_identity_are_numbered_around_the_identities() {
        let mut t = Tree::new();
        let two = t.remember(Inode::ROOT, os("two"), 2);
        let plain = t.remember(Inode::ROOT, os("plain"), 0);
        assert_eq!(two, Inode(2));
        assert_eq!(plain, Inode(3), "2 is taken");
    }

    #[test]
    fn a_link_without_file_ids_is_still_the_same_inode() {
        let mut t = Tree::new();
        let f = t.remember(Inode::ROOT, os("f"), 0);
        let d = t.remember(Inode::ROOT, os("d"), 0);
        assert_eq!(t.remember_link(f, d, os("g")), f);
        assert_eq!(t.names_in(d).number(os("g"), None), f.0);
        assert_eq!(t.lookups(f), Some(2));
        t.unlink(Inode::ROOT, os("f"));
        assert_eq!(t.path(f).unwrap(), Path::new("/d/g"));
    }

    #[test]
    fn a_name_taken_by_another_file_gets_a_new_inode() {
        let mut t = Tree::new();
        let old = t.remember(Inode::ROOT, os("n"), 5);
        let new = t.remember(Inode::ROOT, os("n"), 6);
        assert_ne!(old, new);
        assert_eq!(t.path(old).unwrap(), Path::new("/n"));
        forget(&mut t, old, 1);
        assert_eq!(t.path(new).unwrap(), Path::new("/n"));
    }

    #[test]
    fn forgetting_everything_empties_the_table_bottom_up() {
        let mut t = Tree::new();
        let a = t.remember(Inode::ROOT, os("a"), 0);
        let b = t.remember(a, os("b"), 0);
        // The kernel may forget the parent first; the child keeps it alive.
        forget(&mut t, a, 1);
        assert_eq!(t.path(b).unwrap(), Path::new("/a/b"));
        forget(&mut t, b, 1);
        assert_eq!(t.len(), 1, "only the root is left");
        forget(&mut t, Inode::ROOT, 1);
        assert!(t.path(Inode::ROOT).is_some(), "the root is never forgotten");
        assert_eq!(t.path(Inode(999)), None);
    }
}
