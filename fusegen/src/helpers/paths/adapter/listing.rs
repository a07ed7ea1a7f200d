//! Directory listings of a [`PathFs`]: the listing each open directory keeps, and the
//! READDIR/READDIRPLUS replies served from it.

use std::ffi::OsStr;
use std::path::PathBuf;
use std::sync::Arc;

use super::{PathFs, live_path};
use crate::api::errno::{Errno, Result};
use crate::api::types::{EntryAttributes, FileHandle, FileType, Inode, RequestContext};
use crate::helpers::paths::tree::Tree;
use crate::helpers::paths::{DirEntry, PathOperations};
use crate::proto::dir::ReaddirReply;

/// An open directory: the filesystem's handle and the listing the kernel's offsets index.
pub(super) struct OpenDir {
    pub(super) fh: FileHandle,
    pub(super) listing: Option<Arc<Vec<DirEntry>>>,
}

/// Where a run of entries added under one lock of the table stopped.
enum Stop {
    /// The kernel's buffer is full, or the listing is at its end: the reply is complete.
    Done,
    /// READDIRPLUS and the entry at this offset has no attributes: the filesystem's
    /// `getattr` of the path gives them.
    Getattr(usize, Result<PathBuf>),
}

impl<T: PathOperations> PathFs<T> {
    /// The listing of an open directory, read from the filesystem at offset 0 (a new pass
    /// or a rewind) and kept for the offsets that follow.
    async fn listing(
        &self,
        dir: Inode,
        fh: FileHandle,
        offset: u64,
        ctx: &RequestContext,
    ) -> Result<Arc<Vec<DirEntry>>> {
        let (user_fh, cached) = {
            let dirs = self.dirs();
            let open = dirs.get(&fh.0).ok_or(Errno::EBADF)?;
            (open.fh, open.listing.clone())
        };
        if let Some(listing) = cached.filter(|_| offset != 0) {
            return Ok(listing);
        }
        let path = self.path(dir)?;
        let listing = Arc::new(self.fs.readdir(&path, user_fh, ctx).await?);
        if let Some(open) = self.dirs().get_mut(&fh.0) {
            open.listing = Some(listing.clone());
        }
        Ok(listing)
    }

    /// Answers a READDIR or READDIRPLUS of the open directory `dir` from `offset` on: offset
    /// `i` is entry `i` (`.`, `..`, then the listing), continued from `i + 1`.
    pub(super) async fn fill(
        &self,
        dir: Inode,
        fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
        ctx: &RequestContext,
    ) -> Result<()> {
        let listing = self.listing(dir, fh, offset, ctx).await?;
        let mut index = usize::try_from(offset).unwrap_or(usize::MAX);
        let dot = EntryAttributes::new(dir, FileType::Directory, 0);
        while index < 2 {
            let name = if index == 0 { "." } else { ".." };
            if !out.add(OsStr::new(name), &dot, index as u64 + 1) {
                return Ok(());
            }
            index += 1;
        }
        loop {
            // Every entry up to the next that needs a `getattr` goes in under one lock.
            let stop = if out.is_plus() {
                add_plus(&mut self.tree(), dir, &listing, index, out)
            } else {
                add_plain(&self.tree(), dir, &listing, index, out)
            };
            let (at, path) = match stop {
                Stop::Done => return Ok(()),
                Stop::Getattr(at, path) => (at, path),
            };
            let Some(entry) = listing.get(at - 2) else {
                return Ok(());
            };
            // The directory's own path failing (gone, stale) fails the request, as it does
            // before any entry.
            let path = match path {
                Ok(path) => path,
                Err(_) if !out.is_empty() => return Ok(()),
                Err(e) => return Err(e),
            };
            match self.fs.getattr(&path, None, ctx).await {
                Ok(attr) => {
                    if !add_counted(&mut self.tree(), dir, entry, attr, at, out) {
                        return Ok(());
                    }
                }
                // Gone since the listing was read: left out, the listing goes on.
                Err(e) if e == Errno::ENOENT => {}
                // The entries already added may hold counted lookups: they go to the
                // kernel, which asks again from here and gets the error then.
                Err(_) if !out.is_empty() => return Ok(()),
                Err(e) => return Err(e),
            }
            index = at + 1;
        }
    }
}

/// Adds READDIR entries from offset `index` until the buffer is full or the listing ends.
/// Each shows the number the kernel knows for its name, else the file's own identity when
/// that will be its number, else unknown until its first lookup.
fn add_plain(
    tree: &Tree,
    dir: Inode,
    listing: &[DirEntry],
    index: usize,
    out: &mut ReaddirReply<'_>,
) -> Stop {
    let names = tree.names_in(dir);
    for (at, entry) in listing.iter().enumerate().skip(index.saturating_sub(2)) {
        let file_id = entry.attributes.map(|a| a.ino.0);
        let ino = names.number(&entry.name, file_id);
        let attr = EntryAttributes::new(Inode(ino), entry.kind, 0);
        if !out.add(&entry.name, &attr, at as u64 + 3) {
            break;
        }
    }
    Stop::Done
}

/// Adds READDIRPLUS entries from offset `index`, each with a counted lookup, until the
/// buffer is full, the listing ends, or an entry has no attributes (the caller gets them).
fn add_plus(
    tree: &mut Tree,
    dir: Inode,
    listing: &[DirEntry],
    index: usize,
    out: &mut ReaddirReply<'_>,
) -> Stop {
    for (i, entry) in listing.iter().enumerate().skip(index.saturating_sub(2)) {
        let at = i + 2;
        let Some(attr) = entry.attributes else {
            let path = live_path(tree, dir).map(|dir| dir.join(&entry.name));
            return Stop::Getattr(at, path);
        };
        if !add_counted(tree, dir, entry, attr, at, out) {
            break;
        }
    }
    Stop::Done
}

/// Adds one READDIRPLUS entry at offset `at` with `attr` and a counted lookup, taken back
/// when the entry does not fit.
fn add_counted(
    tree: &mut Tree,
    dir: Inode,
    entry: &DirEntry,
    mut attr: EntryAttributes,
    at: usize,
    out: &mut ReaddirReply<'_>,
) -> bool {
    attr.ino = tree.remember(dir, &entry.name, attr.ino.0);
    let added = out.add(&entry.name, &attr, at as u64 + 1);
    if !added {
        tree.unremember(attr.ino);
    }
    added
}

#[cfg(test)]
#[path = "listing_tests.rs"]
mod tests;
