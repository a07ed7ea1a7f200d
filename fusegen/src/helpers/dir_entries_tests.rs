use super::*;
use crate::helpers::inodes::Refs;
use crate::proto::reply::ReplyPolicy;

pub(crate) const DIRENT: usize = 24;
/// `fuse_entry_out` before the `fuse_dirent` of a READDIRPLUS record.
pub(crate) const ENTRY_OUT: usize = 128;

/// (name, inode, next offset) of each record of a reply.
pub(crate) fn parse(bytes: &[u8], plus: bool) -> Vec<(String, u64, u64)> {
    let skip = if plus { ENTRY_OUT } else { 0 };
    let mut out = Vec::new();
    let mut at = 0;
    while at < bytes.len() {
        let d = &bytes[at + skip..];
        let word = |i: usize| u64::from_ne_bytes(d[i..i + 8].try_into().unwrap());
        let namelen = u32::from_ne_bytes(d[16..20].try_into().unwrap()) as usize;
        let name = String::from_utf8(d[DIRENT..DIRENT + namelen].to_vec()).unwrap();
        out.push((name, word(0), word(8)));
        at += (skip + DIRENT + namelen).div_ceil(8) * 8;
    }
    out
}

/// A directory of `n` files `f0..` with inodes from 10 on, all in `table` (held, as a
/// filesystem's directory entries hold their inodes).
fn directory(n: u64, table: &InodeTable<()>) -> DirEntries<Inode> {
    let mut dir = DirEntries::new();
    for i in 0..n {
        let ino = Inode(10 + i);
        table.insert(ino, (), Refs::HOLD).unwrap();
        dir.insert(OsStr::new(&format!("f{i}")), ino).unwrap();
    }
    dir
}

const DOTS: Option<Dots> = Some(Dots {
    dir: Inode(5),
    parent: Inode(4),
});

/// One readdir call with room for `records` plain records of short names.
fn list(
    dir: &DirEntries<Inode>,
    table: &InodeTable<()>,
    offset: u64,
    records: usize,
    plus: bool,
) -> Vec<(String, u64, u64)> {
    let policy = ReplyPolicy::default();
    let record = if plus { ENTRY_OUT + 32 } else { 32 };
    let mut out = ReaddirReply::new(records * record, plus, &policy);
    let added = dir.fill(&mut out, offset, DOTS, table, |_, &ino| {
        Some(EntryAttributes::new(ino, FileType::RegularFile, 0o644))
    });
    let entries = parse(&out.into_bytes(), plus);
    assert_eq!(added, entries.len());
    entries
}

fn names(entries: &[(String, u64, u64)]) -> Vec<&str> {
    entries.iter().map(|e| e.0.as_str()).collect()
}

#[test]
fn dots_come_first_with_offsets_1_and_2() {
    let table = InodeTable::new();
    let dir = directory(2, &table);
    let all = list(&dir, &table, 0, 100, false);
    assert_eq!(names(&all), [".", "..", "f0", "f1"]);
    assert_eq!((all[0].1, all[0].2), (5, 1));
    assert_eq!((all[1].1, all[1].2), (4, 2));
    assert_eq!(
        names(&list(&dir, &table, 1, 100, false)),
        ["..", "f0", "f1"]
    );
    assert_eq!(names(&list(&dir, &table, 2, 100, false)), ["f0", "f1"]);
    // Without dots, offsets 0 to 2 all start at the first entry.
    let policy = ReplyPolicy::default();
    let mut out = ReaddirReply::new(4096, false, &policy);
    dir.fill(&mut out, 0, None, &table, |_, &ino| {
        Some(EntryAttributes::new(ino, FileType::RegularFile, 0))
    });
    assert_eq!(names(&parse(&out.into_bytes(), false)), ["f0", "f1"]);
}

#[test]
fn a_full_buffer_resumes_exactly_where_it_stopped() {
    let table = InodeTable::new();
    let dir = directory(50, &table);
    let whole = list(&dir, &table, 0, 1000, false);
    for per_call in [1, 2, 3, 7] {
        let mut pieces = Vec::new();
        let mut offset = 0;
        loop {
            let part = list(&dir, &table, offset, per_call, false);
            let Some(last) = part.last() else { break };
            assert!(part.len() <= per_call);
            offset = last.2;
            pieces.extend(part);
        }
        assert_eq!(pieces, whole, "{per_call} entries per call");
    }
}

#[test]
fn offsets_stay_stable_across_inserts_and_deletes_between_calls() {
    let table = InodeTable::new();
    let mut dir = directory(10, &table);
    let first = list(&dir, &table, 0, 5, false); // ., .., f0, f1, f2
    assert_eq!(names(&first), [".", "..", "f0", "f1", "f2"]);
    let offset = first.last().unwrap().2;
    // Between the calls: delete listed and unlisted entries, add new ones, re-add a name.
    dir.remove(OsStr::new("f1"));
    dir.remove(OsStr::new("f5"));
    dir.insert(OsStr::new("new"), Inode(99)).unwrap();
    dir.remove(OsStr::new("f0"));
    dir.insert(OsStr::new("f0"), Inode(98)).unwrap();
    let rest = list(&dir, &table, offset, 100, false);
    assert_eq!(
        names(&rest),
        ["f3", "f4", "f6", "f7", "f8", "f9", "new", "f0"],
        "nothing repeated or skipped; new entries at the end"
    );
}

#[test]
fn resuming_at_a_deleted_entry_continues_after_it() {
    let table = InodeTable::new();
    let mut dir = directory(5, &table);
    let head = list(&dir, &table, 0, 4, false); // ., .., f0, f1
    let f1_offset = head.last().unwrap().2;
    dir.remove(OsStr::new("f1"));
    dir.remove(OsStr::new("f2"));
    assert_eq!(
        names(&list(&dir, &table, f1_offset, 100, false)),
        ["f3", "f4"]
    );
}

#[test]
fn an_offset_past_the_end_lists_nothing() {
    let table = InodeTable::new();
    let dir = directory(3, &table);
    let all = list(&dir, &table, 0, 100, false);
    let end = all.last().unwrap().2;
    assert!(list(&dir, &table, end, 100, false).is_empty());
    assert!(list(&dir, &table, end + 1000, 100, false).is_empty());
    assert!(list(&dir, &table, u64::MAX, 100, false).is_empty());
}

#[test]
fn plain_readdir_counts_no_lookups() {
    let table = InodeTable::new();
    let dir = directory(4, &table);
    assert_eq!(list(&dir, &table, 0, 100, false).len(), 6);
    for i in 0..4 {
        assert_eq!(table.lookups(Inode(10 + i)), Some(0));
    }
}

#[test]
fn readdirplus_counts_one_lookup_per_added_entry_but_not_dots() {
    let table = InodeTable::new();
    table.insert(Inode(5), (), Refs::HOLD).unwrap(); // `.`
    table.insert(Inode(4), (), Refs::HOLD).unwrap(); // `..`
    let dir = directory(6, &table);
    // Room for `.`, `..` and two entries: only those two are counted.
    let first = list(&dir, &table, 0, 4, true);
    assert_eq!(names(&first), [".", "..", "f0", "f1"]);
    let counts: Vec<_> = (10..16).map(|i| table.lookups(Inode(i)).unwrap()).collect();
    assert_eq!(counts, [1, 1, 0, 0, 0, 0]);
    assert_eq!(table.lookups(Inode(5)), Some(0));
    assert_eq!(table.lookups(Inode(4)), Some(0));
    // The rest, and the first ones again (a rewind): counted again, as the kernel does.
    list(&dir, &table, first.last().unwrap().2, 100, true);
    list(&dir, &table, 2, 1, true);
    let counts: Vec<_> = (10..16).map(|i| table.lookups(Inode(i)).unwrap()).collect();
    assert_eq!(counts, [2, 1, 1, 1, 1, 1]);
}

#[test]
fn readdirplus_leaves_out_inodes_missing_from_the_table_and_skips_inode_zero() {
    let table = InodeTable::new();
    let mut dir = directory(3, &table);
    dir.insert(OsStr::new("ghost"), Inode(77)).unwrap(); // never entered in the table
    dir.insert(OsStr::new("zero"), Inode(0)).unwrap();
    dir.insert(OsStr::new("last"), Inode(12)).unwrap(); // a hard link to f2
    let plus = list(&dir, &table, 2, 100, true);
    assert_eq!(names(&plus), ["f0", "f1", "f2", "zero", "last"]);
    assert_eq!(table.lookups(Inode(12)), Some(2), "one per entry naming it");
    assert!(!table.contains(Inode(0)) && !table.contains(Inode(77)));
    let plain = list(&dir, &table, 2, 100, false);
    assert_eq!(
        plain.len(),
        6,
        "plain READDIR takes no reference: all listed"
    );
}

#[test]
fn an_invalid_entry_gives_back_the_lookups_of_the_reply() {
    let table = InodeTable::new();
    let mut dir = directory(3, &table);
    dir.insert(OsStr::new("bad/name"), Inode(11)).unwrap();
    let policy = ReplyPolicy::default();
    let mut out = ReaddirReply::new(4096, true, &policy);
    dir.fill(&mut out, 0, DOTS, &table, |_, &ino| {
        Some(EntryAttributes::new(ino, FileType::RegularFile, 0o644))
    });
    assert!(out.invalid().is_some(), "the reply becomes EIO");
    for i in 10..13 {
        assert_eq!(table.lookups(Inode(i)), Some(0), "inode {i}");
    }
}

#[test]
fn add_counted_counts_only_what_the_kernel_counts() {
    let table = InodeTable::new();
    table.insert(Inode(9), (), Refs::HOLD).unwrap();
    let policy = ReplyPolicy::default();
    let attr = EntryAttributes::new(Inode(9), FileType::RegularFile, 0o644);
    let mut plain = ReaddirReply::new(4096, false, &policy);
    assert!(plain.add_counted(OsStr::new("a"), &attr, 1, &table));
    assert_eq!(table.lookups(Inode(9)), Some(0));
    let mut plus = ReaddirReply::new(4096, true, &policy);
    assert!(plus.add_counted(OsStr::new("a"), &attr, 1, &table));
    assert!(plus.add_counted(OsStr::new(".."), &attr, 2, &table));
    assert_eq!(table.lookups(Inode(9)), Some(1), "`..` is not counted");
    let mut full = ReaddirReply::new(8, true, &policy);
    assert!(!full.add_counted(OsStr::new("a"), &attr, 1, &table));
    assert_eq!(
        table.lookups(Inode(9)),
        Some(1),
        "refused entries are not counted"
    );
    let gone = EntryAttributes::new(Inode(10), FileType::RegularFile, 0o644);
    assert!(!plus.add_counted(OsStr::new("b"), &gone, 3, &table));
    assert!(plus.invalid().is_none());
}
