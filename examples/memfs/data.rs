//! File contents and the space budget: a file's size over its sparse bytes (`extents.rs`),
//! and the byte counter that makes writes beyond the size limit fail with `ENOSPC`.
//!
//! Nothing here locks or knows about inodes; callers hold the file's lock.

use std::sync::atomic::{AtomicU64, Ordering};

use fusegen::{Bytes, Errno, Result};

pub use crate::extents::PAGE;
use crate::extents::{Extents, page_ceil, page_floor};

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
/// so growing the file (truncate up, write past the end) exposes zeros without extra work,
/// and allocates nothing.
#[derive(Debug, Default)]
pub struct FileData {
    size: u64,
    extents: Extents,
}

impl FileData {
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Allocated 512-byte blocks, for `st_blocks`.
    pub fn blocks(&self) -> u64 {
        self.extents.pages() * (PAGE / 512)
    }

    /// Bytes charged to the space budget.
    pub fn charged(&self) -> u64 {
        self.extents.pages() * PAGE
    }

    /// Up to `len` bytes at `offset`; fewer only at the end of the file. Holes read as zeros.
    pub fn read(&self, offset: u64, len: u64) -> Bytes {
        let end = self.size.min(offset.saturating_add(len));
        if end <= offset {
            return Bytes::new();
        }
        self.extents.read(offset..end)
    }

    /// Frees the room kept for appends, once no open file is appending any more.
    pub fn trim(&mut self) {
        self.extents.trim();
    }

    /// Unallocated pages among those that `[offset, end)` touches.
    fn missing_pages(&self, offset: u64, end: u64) -> u64 {
        let holes = self.extents.holes(page_floor(offset)..page_ceil(end));
        holes.map(|hole| (hole.end - hole.start) / PAGE).sum()
    }

    /// Writes `data` at `offset`. When the budget runs out part-way, writes the longest prefix
    /// whose pages fit and returns its length (a short write); `ENOSPC` if nothing fits.
    pub fn write(&mut self, offset: u64, data: &[u8], space: &Space) -> Result<usize> {
        if data.is_empty() {
            return Ok(0);
        }
        let mut end = offset.checked_add(data.len() as u64).ok_or(Errno::EFBIG)?;
        let missing = self.missing_pages(offset, end);
        let granted = space.reserve_pages_up_to(missing);
        if granted < missing {
            // Stop where the first page that did not fit begins.
            let mut left = granted;
            for hole in self.extents.holes(page_floor(offset)..page_ceil(end)) {
                let pages = (hole.end - hole.start) / PAGE;
                if pages > left {
                    end = offset.max(hole.start + left * PAGE);
                    break;
                }
                left -= pages;
            }
            if end == offset {
                return Err(Errno::ENOSPC);
            }
        }
        self.extents.write(offset, &data[..(end - offset) as usize]);
        self.size = self.size.max(end);
        Ok((end - offset) as usize)
    }

    /// Sets the size; shrinking frees the pages past the end and zeroes the tail of the last.
    pub fn set_size(&mut self, size: u64, space: &Space) {
        if size < self.size {
            let freed = self.extents.free(page_ceil(size)..u64::MAX);
            space.release(freed * PAGE);
            self.extents.zero(size..page_ceil(size));
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
        space.reserve(self.missing_pages(offset, end) * PAGE)?;
        self.extents.allocate(page_floor(offset)..page_ceil(end));
        if !keep_size {
            self.size = self.size.max(end);
        }
        Ok(())
    }

    /// Zeroes `[offset, offset + len)`, freeing the pages it covers whole.
    pub fn punch_hole(&mut self, offset: u64, len: u64, space: &Space) {
        if len == 0 {
            return;
        }
        let end = offset.saturating_add(len);
        let whole = page_ceil(offset)..page_floor(end);
        if !whole.is_empty() {
            space.release(self.extents.free(whole) * PAGE);
        }
        self.extents.zero(offset..end);
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
        self.extents.zero(offset..offset + len);
        Ok(())
    }

    /// `SEEK_DATA` (`data`) or `SEEK_HOLE` from `offset`: the next allocated (or unallocated)
    /// byte; the end of the file counts as a hole. `ENXIO` at or past the end.
    pub fn seek(&self, offset: u64, data: bool) -> Result<u64> {
        if offset >= self.size {
            return Err(Errno::ENXIO);
        }
        if data {
            let found = self.extents.next_data(offset);
            found.filter(|&at| at < self.size).ok_or(Errno::ENXIO)
        } else {
            Ok(self.extents.next_hole(offset).min(self.size))
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

    /// A plain model of a sparse file: its bytes and its allocated pages.
    #[derive(Default)]
    struct Model {
        bytes: Vec<u8>,
        pages: std::collections::BTreeSet<u64>,
    }

    impl Model {
        fn allocate(&mut self, from: u64, to: u64) {
            self.pages.extend(from / PAGE..to.div_ceil(PAGE));
        }

        fn zero(&mut self, from: u64, to: u64) {
            let to = to.min(self.bytes.len() as u64);
            if from < to {
                self.bytes[from as usize..to as usize].fill(0);
            }
        }
    }

    /// xorshift64: a fixed, dependency-free sequence of pseudo-random numbers.
    struct Rng(u64);

    impl Rng {
        fn below(&mut self, n: u64) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0 % n
        }
    }

    #[test]
    fn random_operations_match_a_plain_model() {
        let s = space(1 << 40);
        let mut f = FileData::default();
        let mut m = Model::default();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        // Offsets over three chunks, so that runs meet chunk boundaries.
        let span = 3 << 20;
        for step in 0..3000u64 {
            let offset = rng.below(span);
            let most = if rng.below(4) == 0 { 300_000 } else { 9000 };
            let len = 1 + rng.below(most);
            let end = offset + len;
            match rng.below(10) {
                0..=4 => {
                    let data: Vec<u8> = (0..len).map(|i| (i + step) as u8 | 1).collect();
                    assert_eq!(f.write(offset, &data, &s).unwrap(), len as usize);
                    if m.bytes.len() < end as usize {
                        m.bytes.resize(end as usize, 0);
                    }
                    m.bytes[offset as usize..end as usize].copy_from_slice(&data);
                    m.allocate(offset, end);
                }
                5 => {
                    f.set_size(offset, &s);
                    if offset < m.bytes.len() as u64 {
                        m.pages.retain(|&p| p < offset.div_ceil(PAGE));
                    }
                    m.bytes.resize(offset as usize, 0);
                }
                6 => {
                    f.punch_hole(offset, len, &s);
                    m.pages
                        .retain(|&p| !(offset.div_ceil(PAGE)..end / PAGE).contains(&p));
                    m.zero(offset, end);
                }
                7 => {
                    let keep_size = rng.below(2) == 0;
                    f.allocate(offset, len, keep_size, &s).unwrap();
                    m.allocate(offset, end);
                    if !keep_size && m.bytes.len() < end as usize {
                        m.bytes.resize(end as usize, 0);
                    }
                }
                8 => {
                    f.zero_range(offset, len, true, &s).unwrap();
                    m.allocate(offset, end);
                    m.zero(offset, end);
                }
                _ => {
                    let size = m.bytes.len() as u64;
                    let want_data = m
                        .pages
                        .range(offset / PAGE..)
                        .next()
                        .map(|&p| (p * PAGE).max(offset));
                    let want_data = want_data.filter(|&at| at < size).ok_or(Errno::ENXIO);
                    let mut hole = offset / PAGE;
                    while m.pages.contains(&hole) {
                        hole += 1;
                    }
                    let want_hole = (hole * PAGE).max(offset).min(size);
                    if offset < size {
                        assert_eq!(f.seek(offset, true), want_data, "SEEK_DATA at step {step}");
                        assert_eq!(
                            f.seek(offset, false),
                            Ok(want_hole),
                            "SEEK_HOLE at step {step}"
                        );
                    } else {
                        assert_eq!(f.seek(offset, false), Err(Errno::ENXIO));
                    }
                }
            }
            assert_eq!(f.size(), m.bytes.len() as u64, "size after step {step}");
            assert_eq!(
                f.charged(),
                m.pages.len() as u64 * PAGE,
                "pages after step {step}"
            );
            assert_eq!(s.used_bytes(), f.charged(), "budget after step {step}");
            let (from, len) = (rng.below(span), rng.below(2 << 20));
            let want = &m.bytes
                [(from as usize).min(m.bytes.len())..((from + len) as usize).min(m.bytes.len())];
            assert!(
                f.read(from, len) == want,
                "read at {from}+{len} after step {step}"
            );
        }
        f.set_size(0, &s);
        assert_eq!(s.used_bytes(), 0);
    }
}
