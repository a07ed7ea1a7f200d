//! The listings a `PathFs` serves: offsets, `d_ino`, READDIRPLUS lookups and attributes.

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::Path;
use std::sync::Mutex;

use futures_util::FutureExt;

use super::super::PathFs;
use crate::api::errno::{Errno, Result};
use crate::api::operations::{Handlers, Operations};
use crate::api::types::{EntryAttributes, FileHandle, FileType, Forget, Inode, RequestContext};
use crate::helpers::dir_entries::tests::{ENTRY_OUT, parse};
use crate::helpers::paths::tree::UNKNOWN_INO;
use crate::helpers::paths::{DirEntry, PathOperations};
use crate::proto::dir::ReaddirReply;
use crate::proto::reply::ReplyPolicy;

/// A file of [`Flat`]: its listed attributes (`None`: listed without them) and what its
/// `getattr` answers.
type File = (Option<EntryAttributes>, Result<EntryAttributes>);

/// A flat directory.
#[derive(Default)]
struct Flat {
    files: Mutex<BTreeMap<String, File>>,
}

impl Flat {
    fn with(files: &[(&str, Option<u64>, Result<u64>)]) -> Flat {
        let attr = |id| EntryAttributes::new(Inode(id), FileType::RegularFile, 0o644);
        let files = files
            .iter()
            .map(|(name, listed, got)| (name.to_string(), (listed.map(attr), got.map(attr))))
            .collect();
        Flat {
            files: Mutex::new(files),
        }
    }
}

impl PathOperations for Flat {
    const HANDLERS: Handlers = Handlers::GETATTR.union(Handlers::READDIR);

    async fn getattr(
        &self,
        path: &Path,
        _fh: Option<FileHandle>,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        if path == Path::new("/") {
            return Ok(EntryAttributes::new(Inode(0), FileType::Directory, 0o755));
        }
        let name = path.strip_prefix("/").map_err(|_| Errno::ENOENT)?;
        let files = self.files.lock().unwrap();
        let (_, got) = files.get(name.to_str().unwrap()).ok_or(Errno::ENOENT)?;
        *got
    }

    async fn readdir(
        &self,
        _path: &Path,
        _fh: FileHandle,
        _ctx: &RequestContext,
    ) -> Result<Vec<DirEntry>> {
        let files = self.files.lock().unwrap();
        let entries = files.iter().map(|(name, (listed, _))| match listed {
            Some(attr) => DirEntry::with_attributes(name, *attr),
            None => DirEntry::new(name, FileType::RegularFile),
        });
        Ok(entries.collect())
    }
}

/// (name, inode, next offset) of each record.
type Record = (String, u64, u64);

/// One READDIR(PLUS) of the root from `offset` with room for `records` records of short names.
fn readdir(
    fs: &PathFs<Flat>,
    fh: FileHandle,
    offset: u64,
    records: usize,
    plus: bool,
) -> Result<Vec<Record>> {
    let policy = ReplyPolicy::default();
    let record = if plus { ENTRY_OUT + 32 } else { 32 };
    let mut out = ReaddirReply::new(records * record, plus, &policy);
    let ctx = RequestContext::default();
    fs.readdir(Inode::ROOT, fh, offset, &mut out, &ctx)
        .now_or_never()
        .expect("the handlers never wait")?;
    Ok(parse(&out.into_bytes(), plus))
}

fn opendir(fs: &PathFs<Flat>) -> FileHandle {
    let ctx = RequestContext::default();
    let info = fs.opendir(Inode::ROOT, 0, &ctx).now_or_never().unwrap();
    info.unwrap().fh
}

fn lookup(fs: &PathFs<Flat>, name: &str) -> Inode {
    let ctx = RequestContext::default();
    let attr = fs
        .lookup(Inode::ROOT, OsStr::new(name), &ctx)
        .now_or_never();
    attr.unwrap().unwrap().ino
}

fn names(records: &[Record]) -> Vec<&str> {
    records.iter().map(|(n, ..)| n.as_str()).collect()
}

#[test]
fn plain_entries_show_the_known_number_else_the_identity_else_unknown() {
    let fs = PathFs::new(Flat::with(&[
        ("a", None, Ok(0)),
        ("b", Some(40), Ok(40)),
        ("c", None, Ok(0)),
        ("d", Some(0), Ok(0)),
    ]));
    let c = lookup(&fs, "c");
    let fh = opendir(&fs);
    let all = readdir(&fs, fh, 0, 100, false).unwrap();
    let numbers: Vec<(&str, u64)> = all.iter().map(|(n, ino, _)| (n.as_str(), *ino)).collect();
    assert_eq!(
        numbers,
        [
            (".", 1),
            ("..", 1),
            ("a", UNKNOWN_INO),
            ("b", 40),
            ("c", c.0),
            ("d", UNKNOWN_INO)
        ]
    );
    let offsets: Vec<u64> = all.iter().map(|(.., off)| *off).collect();
    assert_eq!(offsets, [1, 2, 3, 4, 5, 6]);
}

#[test]
fn a_pass_over_several_requests_reads_the_listing_once_and_resumes_at_each_offset() {
    let fs = PathFs::new(Flat::with(&[
        ("a", None, Ok(0)),
        ("b", None, Ok(0)),
        ("c", None, Ok(0)),
    ]));
    let fh = opendir(&fs);
    let first = readdir(&fs, fh, 0, 3, false).unwrap();
    assert_eq!(names(&first), [".", "..", "a"]);
    // Added after the pass began: not in this pass, whose offsets stay put.
    fs.get_ref().files.lock().unwrap().insert(
        "0".into(),
        (
            None,
            Ok(EntryAttributes::new(Inode(0), FileType::RegularFile, 0)),
        ),
    );
    let rest = readdir(&fs, fh, first[2].2, 3, false).unwrap();
    assert_eq!(names(&rest), ["b", "c"]);
    assert!(readdir(&fs, fh, rest[1].2, 3, false).unwrap().is_empty());
    // A rewind reads the directory again.
    let again = readdir(&fs, fh, 0, 10, false).unwrap();
    assert_eq!(names(&again), [".", "..", "0", "a", "b", "c"]);
}

#[test]
fn plus_entries_are_counted_lookups_with_getattr_for_the_unlisted_and_vanished_left_out() {
    let fs = PathFs::new(Flat::with(&[
        ("a", Some(30), Ok(30)),
        ("b", None, Ok(31)),
        ("gone", None, Err(Errno::ENOENT)),
        ("z", Some(0), Ok(0)),
    ]));
    let fh = opendir(&fs);
    // Room for `.`, `..` and two entries: `z` does not fit and is not counted.
    let first = readdir(&fs, fh, 0, 4, true).unwrap();
    assert_eq!(names(&first), [".", "..", "a", "b"]);
    assert_eq!(first[2].1, 30);
    assert_eq!(first[3].1, 31, "b's attributes come from getattr");
    assert_eq!(fs.inodes(), 3, "the root, a and b");
    let rest = readdir(&fs, fh, first[3].2, 4, true).unwrap();
    assert_eq!(names(&rest), ["z"], "gone vanished since the listing");
    assert_eq!(rest[0].2, 6, "offsets count the vanished entry");
    assert_eq!(fs.inodes(), 4);
    // One lookup each: one forget each empties the table.
    let forgets: Vec<Forget> = [first[2].1, first[3].1, rest[0].1]
        .into_iter()
        .map(|ino| Forget {
            ino: Inode(ino),
            nlookup: 1,
        })
        .collect();
    fs.forget(&forgets).now_or_never().unwrap();
    assert_eq!(fs.inodes(), 1);
}

#[test]
fn a_getattr_error_after_counted_entries_ends_the_reply_and_comes_with_the_next() {
    let fs = PathFs::new(Flat::with(&[
        ("a", Some(30), Ok(30)),
        ("b", None, Err(Errno::EIO)),
        ("c", Some(32), Ok(32)),
    ]));
    let fh = opendir(&fs);
    let first = readdir(&fs, fh, 0, 10, true).unwrap();
    assert_eq!(
        names(&first),
        [".", "..", "a"],
        "a's lookup reaches the kernel"
    );
    assert_eq!(fs.inodes(), 2);
    assert_eq!(readdir(&fs, fh, first[2].2, 10, true), Err(Errno::EIO));
    assert_eq!(fs.inodes(), 2, "nothing counted for the failed reply");
}
