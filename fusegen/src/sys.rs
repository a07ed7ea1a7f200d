//! The only module allowed `unsafe`: the few system calls that no safe wrapper covers.
//!
//! Every block states why it is sound. `docs/architecture.md` lists these sites.
#![allow(unsafe_code)]

use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::proto::abi;

/// Takes ownership of a raw descriptor.
///
/// # Safety
///
/// `raw` must be an open descriptor of this process that nothing else owns or will close:
/// one the kernel just installed for us (received with `SCM_RIGHTS`, returned by a system
/// call) and that no other `OwnedFd`, `File` or raw-fd user refers to.
unsafe fn adopt_fd(raw: RawFd) -> Option<OwnedFd> {
    if raw < 0 {
        return None;
    }
    // SAFETY: `raw` is non-negative and, per this function's contract, an open descriptor
    // nothing else owns, so wrapping it cannot double-close.
    Some(unsafe { OwnedFd::from_raw_fd(raw) })
}

/// Receives up to one byte from `socket` with the descriptors sent along (`SCM_RIGHTS`), marked
/// close-on-exec as they arrive. Returns the number of bytes read (0 at EOF) and the
/// descriptors, each owned once.
pub(crate) fn recv_byte_with_fds(socket: BorrowedFd<'_>) -> std::io::Result<(usize, Vec<OwnedFd>)> {
    use nix::sys::socket::{ControlMessageOwned, MsgFlags, recvmsg};
    let mut byte = [0u8; 1];
    let mut iov = [std::io::IoSliceMut::new(&mut byte)];
    let mut space = nix::cmsg_space!([RawFd; 4]);
    let msg = loop {
        match recvmsg::<()>(
            socket.as_raw_fd(),
            &mut iov,
            Some(&mut space),
            MsgFlags::MSG_CMSG_CLOEXEC,
        ) {
            Err(nix::errno::Errno::EINTR) => continue,
            other => break other?,
        }
    };
    let mut received = Vec::new();
    for cmsg in msg.cmsgs()? {
        if let ControlMessageOwned::ScmRights(fds) = cmsg {
            // SAFETY: the kernel installed these descriptors in our table while receiving
            // this message; nothing else has seen their numbers, so each is owned once here.
            received.extend(fds.into_iter().filter_map(|fd| unsafe { adopt_fd(fd) }));
        }
    }
    Ok((msg.bytes, received))
}

/// Registers an owned descriptor with the current tokio reactor.
pub(crate) fn register_async_fd(
    fd: OwnedFd,
    interest: tokio::io::Interest,
) -> std::io::Result<tokio::io::unix::AsyncFd<OwnedFd>> {
    // SAFETY: `OwnedFd` owns a valid, open descriptor, and nothing can replace or close it
    // while the `AsyncFd` owns it: the `AsyncFd` deregisters before it drops the `OwnedFd`.
    Ok(unsafe { tokio::io::unix::AsyncFd::register_with_interest(fd, interest) }?)
}

nix::ioctl_write_ptr_bad!(
    ioctl_backing_open,
    abi::FUSE_DEV_IOC_BACKING_OPEN,
    abi::fuse_backing_map
);
nix::ioctl_write_ptr_bad!(ioctl_backing_close, abi::FUSE_DEV_IOC_BACKING_CLOSE, u32);

/// `FUSE_DEV_IOC_BACKING_OPEN`: registers `backing` with the connection of `device` and
/// returns the backing id the kernel assigned (> 0).
pub(crate) fn backing_open(device: BorrowedFd<'_>, backing: BorrowedFd<'_>) -> nix::Result<u32> {
    let map = abi::fuse_backing_map {
        fd: backing.as_raw_fd(),
        flags: 0,
        padding: 0,
    };
    // SAFETY: both descriptors are open for the duration of the call, and the argument points
    // to a live `fuse_backing_map` the kernel only reads.
    let id = unsafe { ioctl_backing_open(device.as_raw_fd(), &map) }?;
    u32::try_from(id).map_err(|_| nix::errno::Errno::EIO)
}

/// `FUSE_DEV_IOC_BACKING_CLOSE`: releases a backing id.
pub(crate) fn backing_close(device: BorrowedFd<'_>, id: u32) -> nix::Result<()> {
    // SAFETY: `device` is open for the call and the argument points to a live `u32` the kernel
    // only reads.
    unsafe { ioctl_backing_close(device.as_raw_fd(), &id) }?;
    Ok(())
}

/// Which side of [`fork_single_threaded`] this process is on.
#[cfg(feature = "cli")]
pub(crate) enum Forked {
    /// The original process; the value is the child's id.
    Parent(nix::unistd::Pid),
    /// The new process.
    Child,
}

/// `fork(2)`, refused unless this process has exactly one thread (counted in
/// `/proc/self/task`).
///
/// The check is what makes the call sound: after forking a multi-threaded process only the
/// calling thread exists in the child, and locks held by the others (the allocator's, a tokio
/// runtime's) would stay locked forever. That is why the daemon forks before the runtime starts.
#[cfg(feature = "cli")]
pub(crate) fn fork_single_threaded() -> std::io::Result<Forked> {
    let threads = std::fs::read_dir("/proc/self/task")
        .map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("counting threads in /proc/self/task: {e}"),
            )
        })?
        .count();
    if threads != 1 {
        return Err(std::io::Error::other(format!(
            "cannot detach: the process already runs {threads} threads (fork before starting \
             any runtime or thread, or run in the foreground with -f)"
        )));
    }
    // SAFETY: this process has a single thread (checked just above, and nothing in this
    // function starts one), so the child gets a consistent copy of every lock and allocator
    // state; the child only continues running ordinary Rust code from here.
    match unsafe { nix::unistd::fork() }? {
        nix::unistd::ForkResult::Parent { child } => Ok(Forked::Parent(child)),
        nix::unistd::ForkResult::Child => Ok(Forked::Child),
    }
}

/// Makes the child of `command` close every descriptor above stderr when it executes its
/// program, inherited ones without close-on-exec included (fusermount3's helper does the same
/// for itself): a helper that lives as long as a mount must not hold a pipe or socket that
/// the daemon inherited from its own parent open for that long.
pub(crate) fn close_inherited_fds_on_exec(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    let mark = || {
        // SAFETY: `close_range` with `CLOSE_RANGE_CLOEXEC` only sets a flag on descriptors of
        // this process; it reads and writes no memory of ours. Before Linux 5.11 it fails
        // with `EINVAL`/`ENOSYS` and changes nothing, which is acceptable.
        unsafe {
            libc::syscall(
                libc::SYS_close_range,
                3 as libc::c_uint,
                libc::c_uint::MAX,
                libc::CLOSE_RANGE_CLOEXEC,
            )
        };
        Ok(())
    };
    // SAFETY: the closure runs in the child between `fork` and `exec`, where only
    // async-signal-safe operations are allowed (the parent may have other threads holding
    // locks): it makes one raw system call, allocates nothing and takes no lock. It marks the
    // descriptors close-on-exec instead of closing them, so std's own close-on-exec pipe for
    // reporting a failed `exec` keeps working until the `exec`.
    unsafe {
        command.pre_exec(mark);
    }
}

/// Where the kernel's two buffers of one io_uring entry lie in its [`RingMemory`], and where
/// the `struct iovec[2]` naming them goes (what REGISTER points the kernel at).
#[derive(Debug, Clone)]
pub(crate) struct EntryLayout {
    /// iov[0]: the request and reply headers (`fuse_uring_req_header`).
    pub(crate) header: std::ops::Range<usize>,
    /// iov[1]: the payload buffer.
    pub(crate) payload: std::ops::Range<usize>,
    /// Offset of the iovec array.
    pub(crate) iovecs: usize,
}

/// The memory of one io_uring entry: a private anonymous mapping that the kernel writes
/// requests into and reads replies from, through the addresses REGISTER gave it.
///
/// The kernel keeps those addresses as long as the ring exists, not only while a command
/// runs, so the mapping is shared (reference counted) between this handle, which alone reads
/// and writes it, and every [`Ring`] it was registered on. A ring is torn down
/// asynchronously after its descriptor closes, so the kernel may still copy a request into the
/// entry after the last handle is gone: the pages are then released but the addresses stay
/// reserved, inaccessible (see [`Mapping`]'s drop), so such a copy fails (`EFAULT` for the
/// kernel) instead of landing in memory reused for something else.
#[derive(Debug)]
pub(crate) struct RingMemory {
    map: std::sync::Arc<Mapping>,
    layout: EntryLayout,
}

/// An anonymous mapping whose pages are released on drop and whose addresses stay reserved,
/// inaccessible, for the life of the process. Reached only through [`RingMemory`].
#[derive(Debug)]
struct Mapping {
    ptr: std::ptr::NonNull<u8>,
    len: usize,
}

// SAFETY: `Mapping` is an address range it owns; it reads and writes nothing itself (only
// `RingMemory`, the one handle with access, does), so sending or sharing it across threads
// cannot race.
unsafe impl Send for Mapping {}
// SAFETY: as above; `&Mapping` gives no access to the bytes.
unsafe impl Sync for Mapping {}

impl Drop for Mapping {
    fn drop(&mut self) {
        use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};
        // Not munmap: a later mmap (the allocator's) could get these addresses while a late
        // kernel copy still targets them. A fixed no-access mapping over the range releases
        // the pages and keeps the addresses (a few MiB of address space per session ended).
        let Some(len) = std::num::NonZeroUsize::new(self.len) else {
            return;
        };
        // SAFETY: `ptr`/`len` describe exactly the mapping created in `RingMemory::new`, and
        // this is its last owner: nothing in the process refers to the bytes any more, so
        // replacing them (MAP_FIXED over our own range only) invalidates no reference.
        let replaced = unsafe {
            mmap_anonymous(
                Some(self.ptr.addr()),
                len,
                ProtFlags::PROT_NONE,
                MapFlags::MAP_PRIVATE | MapFlags::MAP_FIXED | MapFlags::MAP_NORESERVE,
            )
        };
        if let Err(e) = replaced {
            // Left mapped as it is: memory kept, but never handed to anything else.
            tracing::warn!(error = %e, "releasing an io_uring entry buffer failed");
        }
    }
}

impl RingMemory {
    /// Maps `len` bytes (rounded up to pages) of zeroed, private, read-write memory and writes
    /// the iovecs of `layout` into it. Fails with `InvalidInput` unless both buffers and the
    /// iovec array lie inside the mapping without overlapping each other.
    pub(crate) fn new(len: usize, layout: EntryLayout) -> std::io::Result<RingMemory> {
        use nix::sys::mman::{MapFlags, ProtFlags, mmap_anonymous};
        const IOVECS_LEN: usize = 2 * size_of::<libc::iovec>();
        let (header, payload) = (&layout.header, &layout.payload);
        let iovecs = layout.iovecs..layout.iovecs.saturating_add(IOVECS_LEN);
        let inside = |r: &std::ops::Range<usize>| r.start < r.end && r.end <= len;
        let apart = |a: &std::ops::Range<usize>, b: &std::ops::Range<usize>| {
            a.end <= b.start || b.end <= a.start
        };
        let fits = inside(header)
            && inside(payload)
            && inside(&iovecs)
            && apart(header, payload)
            && apart(header, &iovecs)
            && apart(payload, &iovecs);
        if !fits {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("io_uring entry layout {layout:?} does not fit {len} bytes"),
            ));
        }
        let size = std::num::NonZeroUsize::new(len)
            .ok_or_else(|| std::io::Error::from(std::io::ErrorKind::InvalidInput))?;
        // SAFETY: a fresh anonymous mapping at an address the kernel picks aliases nothing.
        let ptr = unsafe {
            mmap_anonymous(
                None,
                size,
                ProtFlags::PROT_READ | ProtFlags::PROT_WRITE,
                MapFlags::MAP_PRIVATE,
            )
        }?;
        let mut memory = RingMemory {
            map: std::sync::Arc::new(Mapping {
                ptr: ptr.cast(),
                len,
            }),
            layout,
        };
        let base = memory.map.ptr.as_ptr() as usize;
        let (header, payload, at) = (
            memory.layout.header.clone(),
            memory.layout.payload.clone(),
            memory.layout.iovecs,
        );
        // `struct iovec { void *iov_base; size_t iov_len; }`, two of them, written here so
        // that the kernel is only ever pointed inside this mapping.
        let w = size_of::<usize>();
        let bytes = memory.bytes_mut();
        for (i, r) in [header, payload].into_iter().enumerate() {
            let at = at + i * 2 * w;
            bytes[at..at + w].copy_from_slice(&(base + r.start).to_ne_bytes());
            bytes[at + w..at + 2 * w].copy_from_slice(&r.len().to_ne_bytes());
        }
        Ok(memory)
    }

    /// The mapped bytes.
    pub(crate) fn bytes(&self) -> &[u8] {
        // SAFETY: `ptr` points to `len` mapped, initialised (zero-filled) bytes that stay
        // mapped while `self` holds the `Arc`; only this handle reads or writes them.
        unsafe { std::slice::from_raw_parts(self.map.ptr.as_ptr(), self.map.len) }
    }

    /// The mapped bytes, mutably.
    pub(crate) fn bytes_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `bytes`; `&mut self` makes this the only live borrow, and the other
        // owners of the `Arc` (rings) never access the bytes.
        unsafe { std::slice::from_raw_parts_mut(self.map.ptr.as_ptr(), self.map.len) }
    }

    /// The address of the iovec array, for REGISTER's `sqe->addr`.
    fn iovecs_addr(&self) -> u64 {
        self.map.ptr.as_ptr() as u64 + self.layout.iovecs as u64
    }

    /// The address of byte `offset`, as the kernel sees it (tests compare it with the iovecs).
    #[cfg(test)]
    pub(crate) fn addr(&self, offset: usize) -> u64 {
        self.map.ptr.as_ptr() as u64 + offset as u64
    }
}

/// A FUSE io_uring command (`IORING_OP_URING_CMD` on the session's descriptor).
pub(crate) struct FuseCommand<'a> {
    /// The `/dev/fuse` descriptor of the session.
    pub(crate) dev: RawFd,
    /// `FUSE_IO_URING_CMD_*`.
    pub(crate) op: u32,
    /// The command area (`fuse_uring_cmd_req`, zero-padded to 80 bytes).
    pub(crate) cmd: [u8; 80],
    /// The entry whose buffers REGISTER hands to the kernel; `None` for COMMIT_AND_FETCH
    /// (the kernel uses the buffers registered before) and for a REGISTER meant to be refused.
    pub(crate) buffers: Option<&'a RingMemory>,
    pub(crate) user_data: u64,
}

/// An io_uring ring with 128-byte SQEs (FUSE's commands need them), together with every
/// buffer its commands name, so that no buffer goes while the kernel may use it.
///
/// Pushing is safe because each kind of operation is built here from memory the ring keeps:
/// FUSE commands name only [`RingMemory`] (kept mapped by the ring once registered), the
/// eventfd read fills the ring's own buffer, and the timeout reads the ring's own `Timespec`.
/// Fields drop in declaration order: `ring` first, which makes the kernel cancel every
/// command still outstanding, and only then the memory.
pub(crate) struct Ring {
    ring: io_uring::IoUring<io_uring::squeue::Entry128, io_uring::cqueue::Entry>,
    /// Entry memory registered through this ring: the kernel keeps its addresses until the
    /// ring is gone.
    registered: Vec<std::sync::Arc<Mapping>>,
    /// Where the eventfd reads of [`push_read_eventfd`](Ring::push_read_eventfd) land.
    /// Freed with the ring only when no read is pending (see [`Ring`]'s drop).
    read_buf: std::mem::ManuallyDrop<Box<[u8; 8]>>,
    /// The `user_data` of an eventfd read submitted and not completed yet.
    pending_read: Option<u64>,
    /// The duration of [`push_timeout`](Ring::push_timeout).
    timeout: Box<io_uring::types::Timespec>,
}

impl Ring {
    /// A ring with room for `entries` submissions (rounded up to a power of two).
    pub(crate) fn new(entries: u32) -> std::io::Result<Ring> {
        Ok(Ring {
            ring: io_uring::IoUring::builder().build(entries.next_power_of_two())?,
            registered: Vec::new(),
            read_buf: std::mem::ManuallyDrop::new(Box::new([0; 8])),
            pending_read: None,
            timeout: Box::new(io_uring::types::Timespec::new()),
        })
    }

    /// Queues a FUSE command; `false` when the submission queue is full.
    pub(crate) fn push_fuse_command(&mut self, c: FuseCommand<'_>) -> bool {
        let mut sqe = io_uring::opcode::UringCmd80::new(io_uring::types::Fd(c.dev), c.op)
            .cmd(c.cmd)
            .addr(c.buffers.map(RingMemory::iovecs_addr))
            .build()
            .user_data(c.user_data);
        // A REGISTER says it names 2 iovecs (`sqe->len`), even one meant to be refused
        // (which names none: the kernel checks its queue id first).
        if c.op == abi::FUSE_IO_URING_CMD_REGISTER {
            set_sqe_len(&mut sqe, 2);
        }
        if let Some(memory) = c.buffers
            && !self
                .registered
                .iter()
                .any(|m| std::sync::Arc::ptr_eq(m, &memory.map))
        {
            self.registered.push(memory.map.clone());
        }
        // SAFETY: the command names memory only through `addr`, which is either 0 or the
        // iovec array of `c.buffers`, whose two iovecs `RingMemory::new` pointed inside that
        // same mapping; the mapping is now in `self.registered`, dropped after `self.ring`.
        // COMMIT_AND_FETCH names only what an earlier REGISTER on this ring kept there.
        unsafe { self.ring.submission().push(&sqe) }.is_ok()
    }

    /// Queues an 8-byte read of `eventfd` into the ring's own buffer (the value is not
    /// looked at: the completion is the wake-up); `false` when the submission queue is full.
    pub(crate) fn push_read_eventfd(&mut self, eventfd: BorrowedFd<'_>, user_data: u64) -> bool {
        let read = io_uring::opcode::Read::new(
            io_uring::types::Fd(eventfd.as_raw_fd()),
            self.read_buf.as_mut_ptr(),
            8,
        )
        .build()
        .user_data(user_data);
        // SAFETY: the read fills `self.read_buf`, 8 bytes (boxed, so they do not move) that
        // Rust code never reads, and that are freed only once no read is pending: a read
        // still pending when the ring is dropped may complete during the kernel's
        // asynchronous teardown, so the buffer is then never freed (see `Drop for Ring`).
        let pushed = unsafe {
            self.ring
                .submission()
                .push(&io_uring::squeue::Entry128::from(read))
        }
        .is_ok();
        if pushed {
            self.pending_read = Some(user_data);
        }
        pushed
    }

    /// Queues a timeout that completes after `after`; `false` when the submission queue is
    /// full.
    pub(crate) fn push_timeout(&mut self, after: std::time::Duration, user_data: u64) -> bool {
        *self.timeout = io_uring::types::Timespec::new()
            .sec(after.as_secs())
            .nsec(after.subsec_nanos());
        let timeout = io_uring::opcode::Timeout::new(&*self.timeout)
            .build()
            .user_data(user_data);
        // SAFETY: the timeout reads `self.timeout`, boxed (it does not move) and dropped
        // only after `self.ring`.
        unsafe {
            self.ring
                .submission()
                .push(&io_uring::squeue::Entry128::from(timeout))
        }
        .is_ok()
    }

    /// Submits what was queued.
    pub(crate) fn submit(&mut self) -> std::io::Result<usize> {
        self.ring.submit()
    }

    /// Submits what was queued and waits for at least `want` completions.
    pub(crate) fn submit_and_wait(&mut self, want: usize) -> std::io::Result<usize> {
        self.ring.submit_and_wait(want)
    }

    /// Replaces `out` with the completions so far, as `(user_data, result)`; the caller keeps
    /// `out` from one wait to the next, so the serving loop allocates nothing per request.
    pub(crate) fn completions_into(&mut self, out: &mut Vec<(u64, i32)>) {
        out.clear();
        out.extend(self.ring.completion().map(|c| (c.user_data(), c.result())));
        if let Some(read) = self.pending_read
            && out.iter().any(|&(user_data, _)| user_data == read)
        {
            self.pending_read = None;
        }
    }
}

impl Drop for Ring {
    fn drop(&mut self) {
        // Closing the ring's descriptor does not end its operations at once: the kernel
        // cancels them later, and a pending read whose eventfd is written in between still
        // fills its buffer. So the buffer of a read still pending is left allocated (8 bytes
        // per ring that ends while waiting for a wake-up).
        if self.pending_read.is_none() {
            // SAFETY: no read is pending, so the kernel holds no address of the buffer, and
            // `read_buf` is not used again (this is the ring's drop).
            unsafe { std::mem::ManuallyDrop::drop(&mut self.read_buf) };
        }
    }
}

/// Sets `sqe->len` of a 128-byte SQE, which `io_uring::opcode::UringCmd80` leaves at 0
/// although FUSE's REGISTER needs it (the number of iovecs at `sqe->addr`).
fn set_sqe_len(entry: &mut io_uring::squeue::Entry128, len: u32) {
    const _: () = assert!(size_of::<io_uring::squeue::Entry128>() == 128);
    // Offset of `len` in `struct io_uring_sqe` (opcode, flags, ioprio, fd, off, addr, len).
    const LEN_OFFSET: usize = 24;
    let base = (entry as *mut io_uring::squeue::Entry128).cast::<u8>();
    // SAFETY: `Entry128` is `repr(C)` and begins with the kernel's 64-byte `io_uring_sqe`,
    // so bytes 24..28 are its `u32 len` field; the write is in bounds and unaligned-safe.
    unsafe { base.add(LEN_OFFSET).cast::<u32>().write_unaligned(len) };
}

/// Runs `f` on descriptor `n` (one the parent process left open, `/dev/fd/N`), borrowed,
/// after checking that it is open: `EBADF` otherwise. Lets the caller look at a descriptor
/// before [`adopt_inherited_fd`] takes it over.
pub(crate) fn with_inherited_fd<T>(
    n: RawFd,
    f: impl FnOnce(BorrowedFd<'_>) -> T,
) -> std::io::Result<T> {
    if n < 0 {
        return Err(nix::errno::Errno::EBADF.into());
    }
    // SAFETY: F_GETFD only reads the descriptor's flags; a number that is not open fails
    // with EBADF and touches nothing.
    if unsafe { libc::fcntl(n, libc::F_GETFD) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `n` is open (checked above), and nothing in this function closes it while `f`
    // holds the borrow, which cannot outlive the call.
    Ok(f(unsafe { BorrowedFd::borrow_raw(n) }))
}

/// Takes descriptor `n`, which the parent process left open for us (the `/dev/fd/N`
/// mountpoint convention of libfuse 3.3+), as an owned, close-on-exec descriptor.
///
/// Descriptors 0 to 2 belong to the standard streams, which detaching later replaces: those
/// are duplicated to a new number instead (the original stays open). Any other `n` is taken
/// over; only the command line's mountpoint may name one, and nothing else in the process
/// owns a descriptor it inherited unasked. Fails with `EBADF` if `n` is not open.
pub(crate) fn adopt_inherited_fd(n: RawFd) -> std::io::Result<OwnedFd> {
    if n < 0 {
        return Err(nix::errno::Errno::EBADF.into());
    }
    // SAFETY: F_GETFD only reads the descriptor's flags; a number that is not open fails
    // with EBADF and touches nothing.
    if unsafe { libc::fcntl(n, libc::F_GETFD) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    if n <= 2 {
        // SAFETY: `n` is open (checked above) and stays open for the duration of the
        // borrow: nothing in this function closes it.
        let borrowed = unsafe { BorrowedFd::borrow_raw(n) };
        return borrowed.try_clone_to_owned();
    }
    // SAFETY: `n` is open (checked above) and, per this function's contract, an inherited
    // descriptor that no other owner in the process will close.
    let fd = unsafe { OwnedFd::from_raw_fd(n) };
    nix::fcntl::fcntl(
        &fd,
        nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::FD_CLOEXEC),
    )?;
    Ok(fd)
}

nix::ioctl_read_bad!(ioctl_dev_clone, abi::FUSE_DEV_IOC_CLONE, u32);

/// `FUSE_DEV_IOC_CLONE`: a new, blocking descriptor of `/dev/fuse` attached to the connection
/// of `session`. Requests read from it must be answered on it; closing it ends (with
/// `ECONNABORTED`) the requests read from it and not answered.
pub(crate) fn clone_device(session: BorrowedFd<'_>) -> std::io::Result<OwnedFd> {
    let fd = nix::fcntl::open(
        "/dev/fuse",
        nix::fcntl::OFlag::O_RDWR | nix::fcntl::OFlag::O_CLOEXEC,
        nix::sys::stat::Mode::empty(),
    )?;
    let mut session_fd =
        u32::try_from(session.as_raw_fd()).map_err(|_| nix::errno::Errno::EBADF)?;
    // SAFETY: both descriptors are open for the call, and the argument points to a live `u32`
    // (the session's descriptor number) that the kernel only reads.
    unsafe { ioctl_dev_clone(fd.as_raw_fd(), &mut session_fd) }?;
    Ok(fd)
}

/// The signal that interrupts a reader thread sleeping in `read(2)` on the device when the
/// session stops (nothing else wakes such a thread; libfuse cancels its threads instead).
/// Chosen once per process among the highest real-time signals, skipping any that has a
/// handler already; its handler does nothing and is installed without `SA_RESTART`, so the
/// read returns `EINTR`. `None` when every candidate is taken: readers then wait in
/// `epoll_wait` instead.
pub(crate) fn wake_signal() -> Option<libc::c_int> {
    static SIGNAL: std::sync::OnceLock<Option<libc::c_int>> = std::sync::OnceLock::new();
    *SIGNAL.get_or_init(|| {
        extern "C" fn nothing(_: libc::c_int) {}
        let max = libc::SIGRTMAX();
        (0..4).map(|k| max - k).find(|&signal| {
            // SAFETY: an all-zero `sigaction` is a valid value of the C struct.
            let mut old: libc::sigaction = unsafe { std::mem::zeroed() };
            // SAFETY: a null new action only reads the current one into `old`, which we own.
            let read = unsafe { libc::sigaction(signal, std::ptr::null(), &mut old) };
            if read != 0 || old.sa_sigaction != libc::SIG_DFL {
                return false;
            }
            // SAFETY: as above.
            let mut action: libc::sigaction = unsafe { std::mem::zeroed() };
            action.sa_sigaction = nothing as extern "C" fn(libc::c_int) as libc::sighandler_t;
            // SAFETY: the handler is an `extern "C"` function that touches nothing (so it is
            // async-signal-safe); flags 0 means no `SA_RESTART`; the old action is not read.
            unsafe { libc::sigaction(signal, &action, std::ptr::null_mut()) == 0 }
        })
    })
}

/// Lets `signal` reach the calling thread (a program may block it in the thread that spawns
/// the session's threads, which inherit the mask).
pub(crate) fn unblock_signal(signal: libc::c_int) -> nix::Result<()> {
    // SAFETY: an all-zero `sigset_t` is a valid value; `sigemptyset` initialises it anyway.
    let mut set: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a live `sigset_t` we own; `signal` comes from `wake_signal`, a valid
    // signal number; `pthread_sigmask` only reads `set` and does not write an old mask.
    let rc = unsafe {
        libc::sigemptyset(&mut set);
        libc::sigaddset(&mut set, signal);
        libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut())
    };
    nix::errno::Errno::result(rc).map(drop)
}

/// Sends `signal` to the thread `tid` of this process. A thread that has ended makes this
/// fail with `ESRCH`; the caller keeps its list of threads current so that an id is not
/// reused by the time it is signalled.
pub(crate) fn signal_thread(tid: nix::unistd::Pid, signal: libc::c_int) -> nix::Result<()> {
    // SAFETY: `tgkill` takes plain integers and touches no memory of ours.
    let rc = unsafe { libc::tgkill(libc::getpid(), tid.as_raw(), signal) };
    nix::errno::Errno::result(rc).map(drop)
}

#[cfg(test)]
mod tests {
    use std::os::fd::AsFd;

    use super::*;

    #[test]
    fn entry_layouts_that_leave_the_mapping_or_overlap_are_refused() {
        let layout = |header: std::ops::Range<usize>, payload, iovecs| EntryLayout {
            header,
            payload,
            iovecs,
        };
        assert!(RingMemory::new(8192, layout(0..288, 4096..8192, 512)).is_ok());
        // The payload runs past the end.
        assert!(RingMemory::new(8192, layout(0..288, 4096..8193, 512)).is_err());
        // The iovecs would overwrite the header.
        assert!(RingMemory::new(8192, layout(0..288, 4096..8192, 256)).is_err());
        // Header and payload overlap.
        assert!(RingMemory::new(8192, layout(0..4097, 4096..8192, 5000)).is_err());
    }

    /// Header at 0, iovecs at 512, payload in the second page.
    fn two_page_entry() -> RingMemory {
        let layout = EntryLayout {
            header: 0..288,
            payload: 4096..8192,
            iovecs: 512,
        };
        RingMemory::new(8192, layout).unwrap()
    }

    #[test]
    fn iovecs_point_inside_the_mapping() {
        let m = two_page_entry();
        let w = size_of::<usize>();
        let word = |at: usize| usize::from_ne_bytes(m.bytes()[at..at + w].try_into().unwrap());
        let base = m.addr(0) as usize;
        assert_eq!((word(512), word(512 + w)), (base, 288));
        assert_eq!((word(512 + 2 * w), word(512 + 3 * w)), (base + 4096, 4096));
    }

    /// A released entry's addresses stay reserved and inaccessible: what the kernel might
    /// still copy there after the ring closed can never land in memory reused by the process.
    #[test]
    fn a_released_entry_keeps_its_addresses_reserved() {
        let m = two_page_entry();
        let start = m.addr(0) as usize;
        drop(m);
        let maps = std::fs::read_to_string("/proc/self/maps").unwrap();
        let line = maps
            .lines()
            .find(|l| {
                let range = l.split_whitespace().next().unwrap_or("");
                let from = range.split('-').next().unwrap_or("");
                usize::from_str_radix(from, 16).is_ok_and(|a| a <= start)
                    && range
                        .split('-')
                        .nth(1)
                        .and_then(|to| usize::from_str_radix(to, 16).ok())
                        .is_some_and(|to| start < to)
            })
            .unwrap_or_else(|| panic!("{start:#x} was unmapped: it could be reused\n{maps}"));
        let perms = line.split_whitespace().nth(1).unwrap_or("");
        assert!(perms.starts_with("---"), "still accessible: {line}");
    }

    /// An eventfd read is pending from its submission to its completion; only a ring with no
    /// read pending frees the read's buffer when it is dropped.
    #[test]
    fn eventfd_reads_are_tracked_until_they_complete() {
        let Ok(mut ring) = Ring::new(4) else {
            eprintln!("skipping: no io_uring here");
            return;
        };
        let efd = nix::sys::eventfd::EventFd::new().unwrap();
        assert!(ring.push_read_eventfd(efd.as_fd(), 7));
        ring.submit().unwrap();
        assert_eq!(ring.pending_read, Some(7));
        efd.write(1).unwrap();
        let mut done = Vec::new();
        while done.is_empty() {
            ring.submit_and_wait(1).unwrap();
            ring.completions_into(&mut done);
        }
        assert_eq!(done, [(7, 8)]);
        assert_eq!(ring.pending_read, None);
        // Pending again when dropped: the buffer stays allocated (nothing to observe but that
        // dropping is fine, and a write after the drop lands in live memory).
        assert!(ring.push_read_eventfd(efd.as_fd(), 8));
        ring.submit().unwrap();
        drop(ring);
        efd.write(1).unwrap();
    }
}
