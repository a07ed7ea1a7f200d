//! File contents and the space budget: sparse files stored as 4 KiB pages, and the byte
//! counter that makes writes beyond the size limit fail with `ENOSPC`.
//!
//! Nothing here locks or knows about inodes; callers hold the file's lock.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

use fusegen::{Errno, Result};

/// Allocation unit of file data, and the block size reported by `stat` and `statfs`.
pub const PAGE: u64 = 4096;

/// Bytes and inodes in use, against their limits. Pages count `PAGE` bytes each; extended
/// attributes and symlink targets count their length.
#[derive(Debug)]
pub struct Space {
    limit_bytes: u64,
    used_bytes: AtomicU64,
    limit_inodes: u64,
    used_inodes: AtomicU64,
}

impl Space {
    pub fn new(limit_bytes: u64, limit_inodes: u64) -> Space {
        Space {
            limit_bytes,
            used_bytes: AtomicU64::new(0),
            limit_inodes,
            used_inodes: AtomicU64::new(0),
        }
    }

    /// Takes up to `want` bytes in steps of `unit`; returns how many were granted.
    fn reserve_up_to(counter: &AtomicU64, limit: u64, want: u64, unit: u64) -> u64 {
        let mut granted = 0;
        let _ = counter.fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
            let free = limit.saturating_sub(used);
            granted = want.min(free / unit * unit);
            Some(used + granted)
        });
        granted
    }

    /// Takes exactly `bytes`, or nothing (`ENOSPC`).
    pub fn reserve(&self, bytes: u64) -> Result<()> {
        self.used_bytes
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |used| {
                used.checked_add(bytes).filter(|&n| n <= self.limit_bytes)
            })
            .map(|_| ())
            .map_err(|_| Errno::ENOSPC)
    }

    /// Takes as many of `pages` pages as fit; returns how many.
    fn reserve_pages_up_to(&self, pages: u64) -> u64 {
        Self::reserve_up_to(&self.used_bytes, self.limit_bytes, pages * PAGE, PAGE) / PAGE
    }

    pub fn release(&self, bytes: u64) {
        self.used_bytes.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Counts one more inode, or fails with `ENOSPC` at the limit.
    pub fn take_inode(&self) -> Result<()> {
        if Self::reserve_up_to(&self.used_inodes, self.limit_inodes, 1, 1) == 1 {
            Ok(())
        } else {
            Err(Errno::ENOSPC)
        }
    }

    pub fn release_inode(&self) {
        self.used_inodes.fetch_sub(1, Ordering::AcqRel);
    }

    pub fn used_bytes(&self) -> u64 {
        self.used_bytes.load(Ordering::Acquire)
    }

    pub fn limit_bytes(&self) -> u64 {
        self.limit_bytes
    }

    pub fn used_inodes(&self) -> u64 {
        self.used_inodes.load(Ordering::Acquire)
    }

    pub fn limit_inodes(&self) -> u64 {
        self.limit_inodes
    }
}

/// The contents of a regular file. Invariant: every stored byte at or beyond `size` is zero,
/// so growing the file (truncate up, write past the end) exposes zeros without extra work.
#[derive(Debug, Default)]
pub struct FileData {
    size: u64,
    pages: BTreeMap<u64, Box<[u8]>>,
}

fn zero_page() -> Box<[u8]> {
    vec![0u8; PAGE as usize].into_boxed_slice()
}

/// The part of page `idx` covered by `[start, end)`, as offsets within the page.
fn within(idx: u64, start: u64, end: u64) -> (usize, usize) {
    let base = idx * PAGE;
    let from = start.max(base) - base;
    let to = end.min(base + PAGE) - base;
    (from as usize, to as usize)
}

impl FileData {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Allocated 512-byte blocks, for `st_blocks`.
    pub fn blocks(&self) -> u64 {
        self.pages.len() as u64 * (PAGE / 512)
    }

    /// Bytes charged to the space budget.
    pub fn charged(&self) -> u64 {
        self.pages.len() as u64 * PAGE
    }

    /// Up to `len` bytes at `offset`; fewer only at the end of the file. Holes read as zeros.
    pub fn read(&self, offset: u64, len: u64) -> Vec<u8> {
        let end = self.size.min(offset.saturating_add(len));
        if end <= offset {
            return Vec::new();
        }
        let mut out = vec![0u8; (end - offset) as usize];
        for (&idx, page) in self.pages.range(offset / PAGE..=(end - 1) / PAGE) {
            let (from, to) = within(idx, offset, end);
            let at = (idx * PAGE + from as u64 - offset) as usize;
            out[at..at + (to - from)].copy_from_slice(&page[from..to]);
        }
        out
    }

    /// Writes `data` at `offset`. When the budget runs out part-way, writes the longest prefix
    /// whose pages fit and returns its length (a short write); `ENOSPC` if nothing fits.
    pub fn write(&mut self, offset: u64, data: &[u8], space: &Space) -> Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let mut end = offset.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        let (first, last) = (offset / PAGE, (end - 1) / PAGE);
        let present = self.pages.range(first..=last).count() as u64;
        let missing = (last - first + 1) - present;
        let granted = space.reserve_pages_up_to(missing);
        if granted < missing {
            let mut budget = granted;
            for idx in first..=last {
                if !self.pages.contains_key(&idx) {
                    if budget == 0 {
                        end = offset.max(idx * PAGE);
                        break;
                    }
                    budget -= 1;
                }
            }
            if end == offset {
                return Err(Errno::ENOSPC);
            }
        }
        for idx in first..=(end - 1) / PAGE {
            let page = self.pages.entry(idx).or_insert_with(zero_page);
            let (from, to) = within(idx, offset, end);
            let at = (idx * PAGE + from as u64 - offset) as usize;
            page[from..to].copy_from_slice(&data[at..at + (to - from)]);
        }
        self.size = self.size.max(end);
        Ok((end - offset) as usize)
    }

    /// Sets the size; shrinking frees the pages past the end and zeroes the tail of the last.
    pub fn set_size(&mut self, size: u64, space: &Space) {
        if size < self.size {
            let removed = self.pages.split_off(&size.div_ceil(PAGE));
            space.release(removed.len() as u64 * PAGE);
            if !size.is_multiple_of(PAGE)
                && let Some(page) = self.pages.get_mut(&(size / PAGE))
            {
                page[(size % PAGE) as usize..].fill(0);
            }
        }
        self.size = size;
    }

    /// Allocates zeroed pages for `[offset, offset + len)` (all or nothing), growing the size
    /// unless `keep_size`.
    pub fn allocate(
        &mut self,
        offset: u64,
        len: u64,
        keep_size: bool,
        space: &Space,
    ) -> Result<()> {
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        if len == 0 {
            return Err(Errno::EINVAL);
        }
        let (first, last) = (offset / PAGE, (end - 1) / PAGE);
        let present = self.pages.range(first..=last).count() as u64;
        space.reserve(((last - first + 1) - present) * PAGE)?;
        for idx in first..=last {
            self.pages.entry(idx).or_insert_with(zero_page);
        }
        if !keep_size {
            self.size = self.size.max(end);
        }
        Ok(())
    }

    /// Zeroes `[offset, offset + len)` within the file, freeing the pages it covers whole.
    pub fn punch_hole(&mut self, offset: u64, len: u64, space: &Space) {
        let end = offset.saturating_add(len);
        if len == 0 {
            return;
        }
        let (first_whole, end_whole) = (offset.div_ceil(PAGE), end / PAGE);
        let whole: Vec<u64> = if first_whole < end_whole {
            self.pages
                .range(first_whole..end_whole)
                .map(|(&idx, _)| idx)
                .collect()
        } else {
            Vec::new()
        };
        for idx in &whole {
            self.pages.remove(idx);
        }
        space.release(whole.len() as u64 * PAGE);
        for (&idx, page) in self.pages.range_mut(offset / PAGE..=(end - 1) / PAGE) {
            let (from, to) = within(idx, offset, end);
            page[from..to].fill(0);
        }
    }

    /// Zeroes `[offset, offset + len)` and allocates it (`FALLOC_FL_ZERO_RANGE`).
    pub fn zero_range(
        &mut self,
        offset: u64,
        len: u64,
        keep_size: bool,
        space: &Space,
    ) -> Result<()> {
        self.allocate(offset, len, keep_size, space)?;
        let end = offset + len;
        for (&idx, page) in self.pages.range_mut(offset / PAGE..=(end - 1) / PAGE) {
            let (from, to) = within(idx, offset, end);
            page[from..to].fill(0);
        }
        Ok(())
    }

    /// `SEEK_DATA` (`data`) or `SEEK_HOLE` from `offset`: the next allocated (or unallocated)
    /// byte; the end of the file counts as a hole. `ENXIO` at or past the end.
    pub fn seek(&self, offset: u64, data: bool) -> Result<u64> {
        if offset >= self.size {
            return Err(Errno::ENXIO);
        }
        if data {
            match self.pages.range(offset / PAGE..).next() {
                Some((&idx, _)) if idx * PAGE < self.size => Ok(offset.max(idx * PAGE)),
                _ => Err(Errno::ENXIO),
            }
        } else {
            let mut idx = offset / PAGE;
            for (&present, _) in self.pages.range(idx..) {
                if present != idx {
                    break;
                }
                idx += 1;
            }
            Ok(offset.max(idx * PAGE).min(self.size))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn space(limit: u64) -> Space {
        Space::new(limit, 100)
    }

    #[test]
    fn sparse_write_reads_back_with_zero_holes() {
        let s = space(1 << 20);
        let mut f = FileData::default();
        assert_eq!(f.write(10_000, b"abc", &s).unwrap(), 3);
        assert_eq!(f.size(), 10_003);
        assert_eq!(f.blocks(), 8);
        let all = f.read(0, 20_000);
        assert_eq!(all.len(), 10_003);
        assert!(f.read(4096, 0).is_empty());
        assert!(all[..10_000].iter().all(|&b| b == 0));
        assert_eq!(&all[10_000..], b"abc");
        assert_eq!(f.seek(0, true).unwrap(), 8192);
        assert_eq!(f.seek(0, false).unwrap(), 0);
        assert_eq!(f.seek(9000, false).unwrap(), 10_003);
        assert_eq!(f.seek(10_003, true), Err(Errno::ENXIO));
    }

    #[test]
    fn write_beyond_budget_is_short_then_enospc() {
        let s = space(2 * PAGE);
        let mut f = FileData::default();
        let data = vec![7u8; 3 * PAGE as usize];
        assert_eq!(f.write(0, &data, &s).unwrap(), 2 * PAGE as usize);
        assert_eq!(f.write(2 * PAGE, &data, &s), Err(Errno::ENOSPC));
        // Rewriting allocated pages needs no new space.
        assert_eq!(f.write(0, &data[..100], &s).unwrap(), 100);
        assert_eq!(s.used_bytes(), 2 * PAGE);
        f.set_size(PAGE + 1, &s);
        assert_eq!(s.used_bytes(), 2 * PAGE);
        f.set_size(0, &s);
        assert_eq!(s.used_bytes(), 0);
    }

    #[test]
    fn shrink_then_grow_exposes_zeros() {
        let s = space(1 << 20);
        let mut f = FileData::default();
        f.write(0, &[1u8; 100], &s).unwrap();
        f.set_size(50, &s);
        f.set_size(100, &s);
        let data = f.read(0, 100);
        assert!(data[..50].iter().all(|&b| b == 1));
        assert!(data[50..].iter().all(|&b| b == 0));
    }

    #[test]
    fn punch_hole_frees_whole_pages_and_zeroes_edges() {
        let s = space(1 << 20);
        let mut f = FileData::default();
        f.write(0, &vec![9u8; 4 * PAGE as usize], &s).unwrap();
        f.punch_hole(10, 20, &s); // within one page: zeroes only
        assert_eq!(f.blocks(), 4 * 8);
        f.write(10, &[9u8; 20], &s).unwrap();
        f.punch_hole(100, 2 * PAGE, &s);
        assert_eq!(f.size(), 4 * PAGE);
        assert_eq!(f.blocks(), 3 * 8);
        let data = f.read(0, 4 * PAGE);
        assert!(data[..100].iter().all(|&b| b == 9));
        assert!(data[100..(2 * PAGE + 100) as usize].iter().all(|&b| b == 0));
        assert!(data[(2 * PAGE + 100) as usize..].iter().all(|&b| b == 9));
        assert_eq!(f.seek(0, false).unwrap(), PAGE);
        assert_eq!(f.seek(PAGE, true).unwrap(), 2 * PAGE);
    }

    #[test]
    fn allocate_is_all_or_nothing() {
        let s = space(2 * PAGE);
        let mut f = FileData::default();
        assert_eq!(f.allocate(0, 3 * PAGE, false, &s), Err(Errno::ENOSPC));
        assert_eq!((f.size(), s.used_bytes()), (0, 0));
        f.allocate(0, 2 * PAGE, true, &s).unwrap();
        assert_eq!((f.size(), f.blocks()), (0, 16));
    }
}
