//! A sparse byte store: file contents as extents, runs of whole pages each held in one buffer.
//!
//! A sequential write appends to the run that ends where it starts, so writing a file costs
//! one copy of its bytes and a buffer per chunk, not a map entry per page; a read within one
//! run is a slice of its buffer, handed to the kernel without copying. Unallocated ranges
//! (holes) read as zeros and take no memory.
//!
//! Runs start and end on page boundaries (the allocation unit, as in tmpfs: `st_blocks`,
//! `SEEK_HOLE` and the space budget count pages) and never cross a [`CHUNK`] boundary. The
//! chunk bounds what one write can cost beyond its own bytes (copying a run that a read
//! reply still shares, splitting one on a punch), and aligned reads up to a chunk long (the
//! kernel's readahead) always fall within one run of a sequentially written file.
//!
//! Nothing here knows the file's size or the space budget (`data.rs` keeps both) or locks:
//! callers hold the file's lock.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use fusegen::Bytes;

/// Allocation unit of file data, and the block size reported by `stat` and `statfs`.
pub const PAGE: u64 = 4096;

/// Longest run, and the alignment no run crosses.
pub const CHUNK: u64 = 1 << 20;

/// `offset` rounded down to a page boundary.
pub fn page_floor(offset: u64) -> u64 {
    offset / PAGE * PAGE
}

/// `offset` rounded up to a page boundary.
pub fn page_ceil(offset: u64) -> u64 {
    offset.div_ceil(PAGE) * PAGE
}

/// The bytes of one run. Read replies share them until the kernel has the data; a write to a
/// shared run copies it first (`Arc::make_mut`), so a reply never sees a later write.
#[derive(Debug, Clone)]
struct Run(Arc<Vec<u8>>);

impl Run {
    fn len(&self) -> u64 {
        self.0.len() as u64
    }

    /// The buffer, to write to (copied first if a read reply still shares it).
    fn bytes_mut(&mut self) -> &mut Vec<u8> {
        Arc::make_mut(&mut self.0)
    }

    /// The first `len` bytes as a run of their own, freeing the rest: in place unless shared.
    fn into_prefix(self, len: u64) -> Run {
        let len = len as usize;
        match Arc::try_unwrap(self.0) {
            Ok(mut bytes) => {
                bytes.truncate(len);
                bytes.shrink_to_fit();
                Run(Arc::new(bytes))
            }
            Err(shared) => Run(Arc::new(shared[..len].to_vec())),
        }
    }
}

impl AsRef<[u8]> for Run {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// Page-aligned runs of bytes at their file offsets; everything else is a hole.
#[derive(Debug, Default)]
pub struct Extents {
    /// Runs by the offset of their first byte: page-aligned, non-empty, not overlapping, each
    /// within one chunk. Neighbours are not merged (that would copy on random writes).
    runs: BTreeMap<u64, Run>,
    /// Pages in all runs.
    pages: u64,
}

impl Extents {
    /// Allocated pages.
    pub fn pages(&self) -> u64 {
        self.pages
    }

    /// The run holding byte `offset`, with its start.
    fn run_at(&self, offset: u64) -> Option<(u64, &Run)> {
        let (&start, run) = self.runs.range(..=offset).next_back()?;
        (offset < start + run.len()).then_some((start, run))
    }

    /// The runs that overlap `range`, in order.
    fn overlapping(&self, range: Range<u64>) -> impl Iterator<Item = (u64, &Run)> {
        let from = self
            .run_at(range.start)
            .map_or(range.start, |(start, _)| start);
        self.runs
            .range(from..range.end.max(from))
            .map(|(&start, run)| (start, run))
    }

    /// The unallocated parts of `range`, in order (page-aligned when `range` is).
    pub fn holes(&self, range: Range<u64>) -> impl Iterator<Item = Range<u64>> {
        let mut runs = self.overlapping(range.clone());
        let mut pos = range.start;
        std::iter::from_fn(move || {
            while pos < range.end {
                let (hole, after) = match runs.next() {
                    Some((start, run)) => (pos..start, (start + run.len()).min(range.end)),
                    None => (pos..range.end, range.end),
                };
                pos = after;
                if !hole.is_empty() {
                    return Some(hole);
                }
            }
            None
        })
    }

    /// The bytes of `range`, holes as zeros: a slice of the run when one run holds all of
    /// them (no copy), else assembled into a new buffer.
    pub fn read(&self, range: Range<u64>) -> Bytes {
        if range.is_empty() {
            return Bytes::new();
        }
        if let Some((start, run)) = self.run_at(range.start)
            && range.end <= start + run.len()
        {
            let within = (range.start - start) as usize..(range.end - start) as usize;
            return Bytes::from_owner(run.clone()).slice(within);
        }
        let mut out = vec![0u8; (range.end - range.start) as usize];
        for (start, run) in self.overlapping(range.clone()) {
            let from = range.start.max(start);
            let to = range.end.min(start + run.len());
            out[(from - range.start) as usize..(to - range.start) as usize]
                .copy_from_slice(&run.0[(from - start) as usize..(to - start) as usize]);
        }
        Bytes::from(out)
    }

    /// Stores `data` at `offset`, allocating the pages it touches in holes (zeros around it).
    pub fn write(&mut self, offset: u64, data: &[u8]) {
        let end = offset + data.len() as u64;
        let part = |from: u64, to: u64| &data[(from - offset) as usize..(to - offset) as usize];
        let mut pos = offset;
        while pos < end {
            match self.runs.range_mut(..=pos).next_back() {
                Some((&start, run)) if pos < start + run.len() => {
                    let to = end.min(start + run.len());
                    run.bytes_mut()[(pos - start) as usize..(to - start) as usize]
                        .copy_from_slice(part(pos, to));
                    pos = to;
                }
                _ => {
                    // A hole: fill it up to the next run, the chunk's end or the data's end.
                    let next_run = self.runs.range(pos..).next().map(|(&start, _)| start);
                    let to = end.min(next_run.unwrap_or(u64::MAX)).min(chunk_end(pos));
                    self.fill(page_floor(pos)..page_ceil(to), pos, part(pos, to));
                    pos = to;
                }
            }
        }
    }

    /// Allocates the holes in `range` (page-aligned) as zeros.
    pub fn allocate(&mut self, range: Range<u64>) {
        let holes: Vec<Range<u64>> = self.holes(range).collect();
        for hole in holes {
            let mut pos = hole.start;
            while pos < hole.end {
                let to = hole.end.min(chunk_end(pos));
                self.fill(pos..to, pos, &[]);
                pos = to;
            }
        }
    }

    /// Allocates `pages`, a page-aligned hole within one chunk, holding `bytes` at `at` and
    /// zeros around them. They extend the run that ends where the hole starts, if that run is
    /// in the same chunk (a sequential write), or else start a new run.
    fn fill(&mut self, pages: Range<u64>, at: u64, bytes: &[u8]) {
        let len = (pages.end - pages.start) as usize;
        let lead = (at - pages.start) as usize;
        let trail = len - lead - bytes.len();
        let before = match self.runs.range_mut(..pages.start).next_back() {
            Some((&start, run))
                if start + run.len() == pages.start && !pages.start.is_multiple_of(CHUNK) =>
            {
                Some(run)
            }
            _ => None,
        };
        let fill_into = |buf: &mut Vec<u8>| {
            buf.resize(buf.len() + lead, 0);
            buf.extend_from_slice(bytes);
            buf.resize(buf.len() + trail, 0);
        };
        match before {
            Some(run) => {
                let buf = run.bytes_mut();
                reserve_doubling(buf, len);
                fill_into(buf);
            }
            None => {
                let mut buf = Vec::with_capacity(len);
                fill_into(&mut buf);
                self.runs.insert(pages.start, Run(Arc::new(buf)));
            }
        }
        self.pages += len as u64 / PAGE;
    }

    /// Frees the pages of `range` (page-aligned) and returns how many there were. A run that
    /// sticks out of the range keeps the parts outside it.
    pub fn free(&mut self, range: Range<u64>) -> u64 {
        let starts: Vec<u64> = self.overlapping(range.clone()).map(|(s, _)| s).collect();
        let mut freed = 0;
        for start in starts {
            let Some(run) = self.runs.remove(&start) else {
                continue;
            };
            let end = start + run.len();
            if range.end < end {
                let tail = run.0[(range.end - start) as usize..].to_vec();
                self.runs.insert(range.end, Run(Arc::new(tail)));
            }
            if start < range.start {
                self.runs
                    .insert(start, run.into_prefix(range.start - start));
            }
            freed += (end.min(range.end) - start.max(range.start)) / PAGE;
        }
        self.pages -= freed;
        freed
    }

    /// Sets the allocated bytes of `range` to zero (holes stay holes).
    pub fn zero(&mut self, range: Range<u64>) {
        let starts: Vec<u64> = self.overlapping(range.clone()).map(|(s, _)| s).collect();
        for start in starts {
            if let Some(run) = self.runs.get_mut(&start) {
                let from = range.start.max(start) - start;
                let to = range.end.min(start + run.len()) - start;
                if from < to {
                    run.bytes_mut()[from as usize..to as usize].fill(0);
                }
            }
        }
    }

    /// Gives back the room that runs grown by appending keep for further appends. Shared runs
    /// are left as they are (trimming them would copy).
    pub fn trim(&mut self) {
        for run in self.runs.values_mut() {
            if let Some(bytes) = Arc::get_mut(&mut run.0) {
                bytes.shrink_to_fit();
            }
        }
    }

    /// The first allocated byte at or after `offset`.
    pub fn next_data(&self, offset: u64) -> Option<u64> {
        if self.run_at(offset).is_some() {
            return Some(offset);
        }
        self.runs.range(offset..).next().map(|(&start, _)| start)
    }

    /// The first unallocated byte at or after `offset`.
    pub fn next_hole(&self, offset: u64) -> u64 {
        let mut pos = offset;
        while let Some((start, run)) = self.run_at(pos) {
            pos = start + run.len();
        }
        pos
    }
}

/// The end of the chunk holding `offset`.
fn chunk_end(offset: u64) -> u64 {
    (offset / CHUNK + 1) * CHUNK
}

/// Room for `more` bytes at the end of `buf`: at least doubling its capacity (a run grown
/// page by page is moved a logarithmic number of times), but never past one chunk.
fn reserve_doubling(buf: &mut Vec<u8>, more: usize) {
    let needed = buf.len() + more;
    if needed > buf.capacity() {
        let target = needed.max((buf.capacity() * 2).min(CHUNK as usize));
        buf.reserve_exact(target - buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The runs as (start, length) pairs.
    fn layout(e: &Extents) -> Vec<(u64, u64)> {
        e.runs.iter().map(|(&s, r)| (s, r.len())).collect()
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len)
            .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
            .collect()
    }

    #[test]
    fn holes_read_as_zeros_and_take_no_pages() {
        let mut e = Extents::default();
        e.write(10_000, b"abc");
        assert_eq!(layout(&e), [(8192, 4096)]);
        assert_eq!(e.pages(), 1);
        let all = e.read(0..20_000);
        assert_eq!(all.len(), 20_000);
        assert!(all[..10_000].iter().all(|&b| b == 0));
        assert_eq!(&all[10_000..10_003], b"abc");
        assert!(all[10_003..].iter().all(|&b| b == 0));
        assert!(e.read(5..5).is_empty());
        assert_eq!(
            e.holes(0..5 * PAGE).collect::<Vec<_>>(),
            [0..8192, 12_288..5 * PAGE]
        );
        assert_eq!((e.next_data(0), e.next_hole(0)), (Some(8192), 0));
        assert_eq!((e.next_data(9000), e.next_hole(9000)), (Some(9000), 12_288));
        assert_eq!(e.next_data(12_288), None);
    }

    #[test]
    fn sequential_writes_append_to_one_run_per_chunk() {
        let mut e = Extents::default();
        let data = pattern(3 * CHUNK as usize, 1);
        // Unaligned pieces, as `write(2)` with an odd buffer size sends them.
        for piece in data.chunks(10_000).enumerate() {
            e.write(piece.0 as u64 * 10_000, piece.1);
        }
        assert_eq!(layout(&e), [(0, CHUNK), (CHUNK, CHUNK), (2 * CHUNK, CHUNK)]);
        assert_eq!(e.pages(), 3 * CHUNK / PAGE);
        assert!(e.runs.values().all(|r| r.0.capacity() == CHUNK as usize));
        assert_eq!(e.read(0..3 * CHUNK), data);
    }

    #[test]
    fn trim_gives_back_the_room_kept_for_appends() {
        let mut e = Extents::default();
        for i in 0..5 {
            e.write(i * PAGE, &[1u8; PAGE as usize]);
        }
        assert_eq!(layout(&e), [(0, 5 * PAGE)]);
        assert_eq!(e.runs[&0].0.capacity(), 8 * PAGE as usize, "doubled");
        e.trim();
        assert_eq!(e.runs[&0].0.capacity(), 5 * PAGE as usize);
        assert!(e.read(0..5 * PAGE).iter().all(|&b| b == 1));
    }

    #[test]
    fn a_read_within_one_run_shares_its_bytes_and_a_later_write_does_not_change_it() {
        let mut e = Extents::default();
        e.write(0, &[1u8; 8192]);
        let before = e.read(100..4196);
        let run_bytes = e.runs[&0].0.as_ptr();
        assert_eq!(before.as_ptr(), run_bytes.wrapping_add(100), "no copy");
        e.write(0, &[2u8; 8192]);
        assert!(
            before.iter().all(|&b| b == 1),
            "the reply keeps what was read"
        );
        assert!(e.read(0..8192).iter().all(|&b| b == 2));
    }

    #[test]
    fn reads_across_runs_and_holes_are_assembled() {
        let mut e = Extents::default();
        // Two runs meeting at a chunk boundary, and one after a hole.
        e.write(CHUNK - 100, &[7u8; 200]);
        e.write(CHUNK + 3 * PAGE, &[8u8; 10]);
        assert_eq!(
            layout(&e),
            [
                (CHUNK - PAGE, PAGE),
                (CHUNK, PAGE),
                (CHUNK + 3 * PAGE, PAGE)
            ]
        );
        let got = e.read(CHUNK - 200..CHUNK + 3 * PAGE + 20);
        let mut want = vec![0u8; got.len()];
        want[100..300].fill(7);
        want[(3 * PAGE + 200) as usize..(3 * PAGE + 210) as usize].fill(8);
        assert_eq!(got, want);
    }

    #[test]
    fn overlapping_writes_keep_the_latest_bytes() {
        let mut e = Extents::default();
        e.write(PAGE, &pattern(2 * PAGE as usize, 1));
        // Starts in a hole, runs through the existing run and on past it.
        let second = pattern(4 * PAGE as usize, 2);
        e.write(100, &second);
        let mut want = vec![0u8; 5 * PAGE as usize];
        want[PAGE as usize..3 * PAGE as usize].copy_from_slice(&pattern(2 * PAGE as usize, 1));
        want[100..100 + second.len()].copy_from_slice(&second);
        assert_eq!(e.read(0..5 * PAGE), want);
        assert_eq!(e.pages(), 5);
        assert_eq!(e.next_hole(0), 5 * PAGE);
    }

    #[test]
    fn free_keeps_the_parts_outside_the_range() {
        let mut e = Extents::default();
        let data = pattern(8 * PAGE as usize, 3);
        e.write(0, &data);
        assert_eq!(e.free(2 * PAGE..5 * PAGE), 3);
        assert_eq!(layout(&e), [(0, 2 * PAGE), (5 * PAGE, 3 * PAGE)]);
        assert_eq!(e.pages(), 5);
        let back = e.read(0..8 * PAGE);
        assert_eq!(back[..2 * PAGE as usize], data[..2 * PAGE as usize]);
        assert!(
            back[2 * PAGE as usize..5 * PAGE as usize]
                .iter()
                .all(|&b| b == 0)
        );
        assert_eq!(back[5 * PAGE as usize..], data[5 * PAGE as usize..]);
        // To the end, as a truncate does; the head gives its memory back.
        assert_eq!(e.free(PAGE..u64::MAX), 4);
        assert_eq!(layout(&e), [(0, PAGE)]);
        assert_eq!(e.runs[&0].0.capacity(), PAGE as usize);
        assert_eq!(e.free(PAGE..u64::MAX), 0);
    }

    #[test]
    fn free_while_a_read_shares_the_run_leaves_the_read_intact() {
        let mut e = Extents::default();
        e.write(0, &[5u8; 4 * PAGE as usize]);
        let held = e.read(0..4 * PAGE);
        assert_eq!(e.free(PAGE..u64::MAX), 3);
        e.zero(0..PAGE);
        assert!(held.iter().all(|&b| b == 5));
        assert!(e.read(0..PAGE).iter().all(|&b| b == 0));
    }

    #[test]
    fn allocate_fills_only_holes_and_splits_at_chunks() {
        let mut e = Extents::default();
        e.write(PAGE, &[4u8; 10]);
        e.allocate(0..CHUNK + PAGE);
        // The hole before the written page is a run of its own; the one after it extends it.
        assert_eq!(layout(&e), [(0, PAGE), (PAGE, CHUNK - PAGE), (CHUNK, PAGE)]);
        assert_eq!(e.pages(), CHUNK / PAGE + 1);
        assert_eq!(
            &e.read(PAGE..PAGE + 11)[..],
            &[4, 4, 4, 4, 4, 4, 4, 4, 4, 4, 0]
        );
        assert_eq!(e.holes(0..CHUNK + PAGE).count(), 0);
    }

    #[test]
    fn writes_far_past_the_data_allocate_only_their_pages() {
        let mut e = Extents::default();
        e.write(0, b"head");
        e.write(1 << 40, b"tail");
        assert_eq!(layout(&e), [(0, PAGE), (1 << 40, PAGE)]);
        assert_eq!(&e.read((1 << 40) - 2..(1 << 40) + 4)[..], b"\0\0tail");
        assert_eq!(e.next_hole(0), PAGE);
        assert_eq!(e.next_data(PAGE), Some(1 << 40));
    }

    #[test]
    fn zero_clears_bytes_without_allocating() {
        let mut e = Extents::default();
        e.write(PAGE, &[1u8; PAGE as usize]);
        e.zero(100..PAGE + 10);
        assert_eq!(e.pages(), 1);
        let back = e.read(PAGE..2 * PAGE);
        assert!(back[..10].iter().all(|&b| b == 0) && back[10..].iter().all(|&b| b == 1));
    }
}
