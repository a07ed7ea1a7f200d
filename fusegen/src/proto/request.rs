//! Parsing of one raw kernel message into a typed [`Request`] that borrows from the buffer.
//!
//! Pure functions over byte slices, no file descriptors: every length is checked, kernel
//! structs are read with zerocopy (never pointer casts), names must be NUL-terminated, and a
//! short or malformed message is a [`RequestError`], never a panic. Trailing bytes after the
//! arguments are tolerated, because newer kernels grow structs.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use zerocopy::{FromBytes, Immutable, KnownLayout};

use crate::api::write_data::WriteData;
use crate::proto::abi;
use crate::proto::op;
use crate::proto::opcodes::{Opcode, opcode_name};

/// Why a message could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum RequestError {
    /// Fewer bytes than a `fuse_in_header`.
    #[error("message of {0} bytes is shorter than the request header")]
    ShortHeader(usize),
    /// `header.len` disagrees with the number of bytes read.
    #[error("header says {header} bytes but {read} were read")]
    LengthMismatch { header: u32, read: usize },
    /// An argument struct, name or payload runs past the end of the message.
    #[error("{opcode} request truncated: {what} needs {need} bytes, {left} left")]
    Truncated {
        opcode: &'static str,
        what: &'static str,
        need: usize,
        left: usize,
    },
    /// A name has no terminating NUL.
    #[error("{opcode} request: name is not NUL-terminated")]
    MissingNul { opcode: &'static str },
    /// An argument struct is not 8-byte aligned (a bug in the read buffer, not the kernel).
    #[error("{opcode} request: misaligned argument")]
    Misaligned { opcode: &'static str },
    /// Only WRITE data may be left in a pipe (a bug in the transport, not the kernel).
    #[error("{opcode} request with its data in a pipe")]
    DataInPipe { opcode: &'static str },
    /// The extension area announced by `total_extlen` does not fit.
    #[error("extension length {0} exceeds the message")]
    BadExtensions(usize),
}

/// Protocol features, agreed at INIT, that change the layout of requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Layout {
    /// `FUSE_SETXATTR_EXT` was negotiated: `fuse_setxattr_in` is 16 bytes, not 8.
    pub setxattr_ext: bool,
}

/// The INIT arguments, normalised across protocol minors.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InitIn {
    pub major: u32,
    pub minor: u32,
    pub max_readahead: u32,
    /// `flags | flags2 << 32` (flags2 only when the kernel sets `FUSE_INIT_EXT`).
    pub flags: u64,
}

/// A request's header, decoded: which request it is, what it asks, about which inode, and
/// for whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub unique: u64,
    /// The opcode as sent; `opcodes::Opcode::from_raw` tells whether this library knows it.
    pub opcode: u32,
    pub nodeid: u64,
    pub uid: u32,
    pub gid: u32,
    pub pid: u32,
    /// Bytes of extension headers after the arguments (`total_extlen` counts 8-byte units).
    pub ext_len: usize,
}

impl From<&abi::fuse_in_header> for Header {
    fn from(h: &abi::fuse_in_header) -> Self {
        Header {
            unique: h.unique,
            opcode: h.opcode,
            nodeid: h.nodeid,
            uid: h.uid,
            gid: h.gid,
            pid: h.pid,
            ext_len: usize::from(h.total_extlen) * 8,
        }
    }
}

/// One parsed request: the header and the typed operation.
#[derive(Debug)]
pub(crate) struct Request<'a> {
    pub header: Header,
    pub op: Operation<'a>,
}

/// Every kernel opcode with its arguments: names and data borrowed from the read buffer,
/// fixed arguments decoded into the typed views of `op.rs` (no kernel struct gets out).
#[derive(Debug)]
#[allow(dead_code)] // a few fields (e.g. DAX mappings) are parsed for completeness only
pub(crate) enum Operation<'a> {
    Lookup {
        name: &'a OsStr,
    },
    Forget {
        arg: op::ForgetIn,
    },
    Getattr {
        arg: op::GetattrIn,
    },
    Setattr {
        arg: op::SetattrIn,
    },
    Readlink,
    Symlink {
        name: &'a OsStr,
        target: &'a OsStr,
    },
    Mknod {
        arg: op::MknodIn,
        name: &'a OsStr,
    },
    Mkdir {
        arg: op::MkdirIn,
        name: &'a OsStr,
    },
    Unlink {
        name: &'a OsStr,
    },
    Rmdir {
        name: &'a OsStr,
    },
    Rename {
        newdir: u64,
        flags: u32,
        name: &'a OsStr,
        newname: &'a OsStr,
    },
    Link {
        arg: op::LinkIn,
        name: &'a OsStr,
    },
    Open {
        arg: op::OpenIn,
    },
    Read {
        arg: op::ReadIn,
    },
    Write {
        arg: op::WriteIn,
        /// In the buffer, or in a pipe (`parse_write_in_pipe`).
        data: WriteData<'a>,
    },
    Statfs,
    Release {
        arg: op::ReleaseIn,
    },
    Fsync {
        arg: op::FsyncIn,
    },
    Setxattr {
        size: u32,
        flags: u32,
        setxattr_flags: u32,
        name: &'a OsStr,
        value: &'a [u8],
    },
    Getxattr {
        arg: op::GetxattrIn,
        name: &'a OsStr,
    },
    Listxattr {
        arg: op::GetxattrIn,
    },
    Removexattr {
        name: &'a OsStr,
    },
    Flush {
        arg: op::FlushIn,
    },
    Init {
        arg: InitIn,
    },
    Opendir {
        arg: op::OpenIn,
    },
    Readdir {
        arg: op::ReadIn,
    },
    Releasedir {
        arg: op::ReleaseIn,
    },
    Fsyncdir {
        arg: op::FsyncIn,
    },
    Getlk {
        arg: op::LockIn,
    },
    Setlk {
        arg: op::LockIn,
        sleep: bool,
    },
    Access {
        arg: op::AccessIn,
    },
    Create {
        arg: op::CreateIn,
        name: &'a OsStr,
    },
    Interrupt {
        arg: op::InterruptIn,
    },
    Bmap {
        arg: op::BmapIn,
    },
    Destroy,
    Ioctl {
        arg: op::IoctlIn,
        data: &'a [u8],
    },
    Poll {
        arg: op::PollIn,
    },
    NotifyReply {
        arg: op::NotifyReplyIn,
        data: &'a [u8],
    },
    BatchForget {
        forgets: op::ForgetList<'a>,
    },
    Fallocate {
        arg: op::FallocateIn,
    },
    Readdirplus {
        arg: op::ReadIn,
    },
    Lseek {
        arg: op::LseekIn,
    },
    CopyFileRange {
        arg: op::CopyFileRangeIn,
        wide: bool,
    },
    Setupmapping {
        arg: op::SetupmappingIn,
    },
    /// DAX only (virtiofs); the entries follow the 4-byte count unaligned, so stay raw bytes.
    Removemapping {
        count: u32,
        entries: &'a [u8],
    },
    Syncfs,
    Tmpfile {
        arg: op::CreateIn,
        name: &'a OsStr,
    },
    Statx {
        arg: op::StatxIn,
    },
    CuseInit {
        arg: op::CuseInitIn,
    },
    /// An opcode this library does not know; answered with `ENOSYS`.
    Unknown {
        opcode: u32,
    },
}

/// Reads arguments off the front of a message body.
struct ArgReader<'a> {
    data: &'a [u8],
    opcode: &'static str,
}

impl<'a> ArgReader<'a> {
    fn fetch<T: FromBytes + KnownLayout + Immutable>(
        &mut self,
        what: &'static str,
    ) -> Result<&'a T, RequestError> {
        let need = size_of::<T>();
        if self.data.len() < need {
            return Err(self.truncated(what, need));
        }
        let (value, rest) =
            T::ref_from_prefix(self.data).map_err(|_| RequestError::Misaligned {
                opcode: self.opcode,
            })?;
        self.data = rest;
        Ok(value)
    }

    fn fetch_slice<T: FromBytes + Immutable>(
        &mut self,
        count: usize,
        what: &'static str,
    ) -> Result<&'a [T], RequestError> {
        let need = count.saturating_mul(size_of::<T>());
        if self.data.len() < need {
            return Err(self.truncated(what, need));
        }
        let (items, rest) = <[T]>::ref_from_prefix_with_elems(self.data, count).map_err(|_| {
            RequestError::Misaligned {
                opcode: self.opcode,
            }
        })?;
        self.data = rest;
        Ok(items)
    }

    fn fetch_bytes(&mut self, len: usize, what: &'static str) -> Result<&'a [u8], RequestError> {
        if self.data.len() < len {
            return Err(self.truncated(what, len));
        }
        let (bytes, rest) = self.data.split_at(len);
        self.data = rest;
        Ok(bytes)
    }

    /// A NUL-terminated name; the NUL is consumed but not returned.
    fn fetch_name(&mut self) -> Result<&'a OsStr, RequestError> {
        let end = memchr::memchr(0, self.data).ok_or(RequestError::MissingNul {
            opcode: self.opcode,
        })?;
        let name = &self.data[..end];
        self.data = &self.data[end + 1..];
        Ok(OsStr::from_bytes(name))
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.data)
    }

    fn truncated(&self, what: &'static str, need: usize) -> RequestError {
        RequestError::Truncated {
            opcode: self.opcode,
            what,
            need,
            left: self.data.len(),
        }
    }
}

/// Parses the header only: transports read it once, before the arguments, so that a request
/// whose arguments are malformed can still be answered.
pub(crate) fn parse_header(buf: &[u8]) -> Result<Header, RequestError> {
    parse_split_header(buf, 0)
}

/// [`parse_header`] of a request whose last `elsewhere` bytes the transport kept out of `buf`
/// (WRITE data left in a pipe).
pub(crate) fn parse_split_header(buf: &[u8], elsewhere: usize) -> Result<Header, RequestError> {
    if buf.len() < size_of::<abi::fuse_in_header>() {
        return Err(RequestError::ShortHeader(buf.len()));
    }
    let (header, _) = abi::fuse_in_header::ref_from_prefix(buf)
        .map_err(|_| RequestError::Misaligned { opcode: "header" })?;
    if header.len as usize != buf.len() + elsewhere {
        return Err(RequestError::LengthMismatch {
            header: header.len,
            read: buf.len() + elsewhere,
        });
    }
    Ok(Header::from(header))
}

/// The WRITE whose header and `fuse_write_in` are `buf` and whose data the transport left in
/// a pipe (`data`): the size the request announces must be the data's.
pub(crate) fn parse_write_in_pipe<'a>(
    header: Header,
    buf: &[u8],
    data: WriteData<'a>,
) -> Result<Request<'a>, RequestError> {
    let opcode = opcode_name(header.opcode);
    if header.opcode != abi::opcode::FUSE_WRITE {
        return Err(RequestError::DataInPipe { opcode });
    }
    let mut r = ArgReader {
        data: buf
            .get(size_of::<abi::fuse_in_header>()..)
            .ok_or(RequestError::ShortHeader(buf.len()))?,
        opcode,
    };
    let arg: &abi::fuse_write_in = r.fetch("fuse_write_in")?;
    if arg.size as usize != data.len() {
        return Err(RequestError::Truncated {
            opcode,
            what: "write data",
            need: arg.size as usize,
            left: data.len(),
        });
    }
    Ok(Request {
        header,
        op: Operation::Write {
            arg: arg.into(),
            data,
        },
    })
}

/// Parses one whole message as read from the device.
pub(crate) fn parse(buf: &[u8], layout: Layout) -> Result<Request<'_>, RequestError> {
    parse_args(parse_header(buf)?, buf, layout)
}

/// Parses the arguments of a message whose header `parse_header` has read, so that a caller
/// that needs the header even when the arguments are malformed reads it once.
pub(crate) fn parse_args<'a>(
    header: Header,
    buf: &'a [u8],
    layout: Layout,
) -> Result<Request<'a>, RequestError> {
    let body = buf
        .get(size_of::<abi::fuse_in_header>()..)
        .ok_or(RequestError::ShortHeader(buf.len()))?;
    // Extension headers (security context, supplementary groups) sit after the arguments.
    let body = match body.len().checked_sub(header.ext_len) {
        Some(args_len) => &body[..args_len],
        None => return Err(RequestError::BadExtensions(header.ext_len)),
    };
    let mut r = ArgReader {
        data: body,
        opcode: opcode_name(header.opcode),
    };
    let op = parse_op(header.opcode, &mut r, layout)?;
    Ok(Request { header, op })
}

fn parse_op<'a>(
    opcode: u32,
    r: &mut ArgReader<'a>,
    layout: Layout,
) -> Result<Operation<'a>, RequestError> {
    use Operation as O;
    let Some(opcode) = Opcode::from_raw(opcode) else {
        let _ = r.rest();
        return Ok(O::Unknown { opcode });
    };
    Ok(match opcode {
        Opcode::Lookup => O::Lookup {
            name: r.fetch_name()?,
        },
        Opcode::Forget => O::Forget {
            arg: r.fetch::<abi::fuse_forget_in>("fuse_forget_in")?.into(),
        },
        Opcode::Getattr => O::Getattr {
            arg: r.fetch::<abi::fuse_getattr_in>("fuse_getattr_in")?.into(),
        },
        Opcode::Setattr => O::Setattr {
            arg: r.fetch::<abi::fuse_setattr_in>("fuse_setattr_in")?.into(),
        },
        Opcode::Readlink => O::Readlink,
        // The entry name comes first, then the link target.
        Opcode::Symlink => O::Symlink {
            name: r.fetch_name()?,
            target: r.fetch_name()?,
        },
        Opcode::Mknod => O::Mknod {
            arg: r.fetch::<abi::fuse_mknod_in>("fuse_mknod_in")?.into(),
            name: r.fetch_name()?,
        },
        Opcode::Mkdir => O::Mkdir {
            arg: r.fetch::<abi::fuse_mkdir_in>("fuse_mkdir_in")?.into(),
            name: r.fetch_name()?,
        },
        Opcode::Unlink => O::Unlink {
            name: r.fetch_name()?,
        },
        Opcode::Rmdir => O::Rmdir {
            name: r.fetch_name()?,
        },
        Opcode::Rename => {
            let arg: &abi::fuse_rename_in = r.fetch("fuse_rename_in")?;
            O::Rename {
                newdir: arg.newdir,
                flags: 0,
                name: r.fetch_name()?,
                newname: r.fetch_name()?,
            }
        }
        Opcode::Rename2 => {
            let arg: &abi::fuse_rename2_in = r.fetch("fuse_rename2_in")?;
            O::Rename {
                newdir: arg.newdir,
                flags: arg.flags,
                name: r.fetch_name()?,
                newname: r.fetch_name()?,
            }
        }
        Opcode::Link => O::Link {
            arg: r.fetch::<abi::fuse_link_in>("fuse_link_in")?.into(),
            name: r.fetch_name()?,
        },
        Opcode::Open => O::Open {
            arg: r.fetch::<abi::fuse_open_in>("fuse_open_in")?.into(),
        },
        Opcode::Read => O::Read {
            arg: r.fetch::<abi::fuse_read_in>("fuse_read_in")?.into(),
        },
        Opcode::Write => {
            let arg: &abi::fuse_write_in = r.fetch("fuse_write_in")?;
            O::Write {
                data: WriteData::from(r.fetch_bytes(arg.size as usize, "write data")?),
                arg: arg.into(),
            }
        }
        Opcode::Statfs => O::Statfs,
        Opcode::Release => O::Release {
            arg: r.fetch::<abi::fuse_release_in>("fuse_release_in")?.into(),
        },
        Opcode::Fsync => O::Fsync {
            arg: r.fetch::<abi::fuse_fsync_in>("fuse_fsync_in")?.into(),
        },
        Opcode::Setxattr => {
            let (size, flags, setxattr_flags) = if layout.setxattr_ext {
                let a: &abi::fuse_setxattr_in = r.fetch("fuse_setxattr_in")?;
                (a.size, a.flags, a.setxattr_flags)
            } else {
                // Without SETXATTR_EXT the kernel sends the 8-byte compat layout.
                let a: &abi::fuse_getxattr_in = r.fetch("fuse_setxattr_in (compat)")?;
                (a.size, a.padding, 0)
            };
            let name = r.fetch_name()?;
            let value = r.fetch_bytes(size as usize, "xattr value")?;
            O::Setxattr {
                size,
                flags,
                setxattr_flags,
                name,
                value,
            }
        }
        Opcode::Getxattr => O::Getxattr {
            arg: r.fetch::<abi::fuse_getxattr_in>("fuse_getxattr_in")?.into(),
            name: r.fetch_name()?,
        },
        Opcode::Listxattr => O::Listxattr {
            arg: r.fetch::<abi::fuse_getxattr_in>("fuse_getxattr_in")?.into(),
        },
        Opcode::Removexattr => O::Removexattr {
            name: r.fetch_name()?,
        },
        Opcode::Flush => O::Flush {
            arg: r.fetch::<abi::fuse_flush_in>("fuse_flush_in")?.into(),
        },
        Opcode::Init => O::Init {
            arg: parse_init(r)?,
        },
        Opcode::Opendir => O::Opendir {
            arg: r.fetch::<abi::fuse_open_in>("fuse_open_in")?.into(),
        },
        Opcode::Readdir => O::Readdir {
            arg: r.fetch::<abi::fuse_read_in>("fuse_read_in")?.into(),
        },
        Opcode::Releasedir => O::Releasedir {
            arg: r.fetch::<abi::fuse_release_in>("fuse_release_in")?.into(),
        },
        Opcode::Fsyncdir => O::Fsyncdir {
            arg: r.fetch::<abi::fuse_fsync_in>("fuse_fsync_in")?.into(),
        },
        Opcode::Getlk => O::Getlk {
            arg: r.fetch::<abi::fuse_lk_in>("fuse_lk_in")?.into(),
        },
        Opcode::Setlk => O::Setlk {
            arg: r.fetch::<abi::fuse_lk_in>("fuse_lk_in")?.into(),
            sleep: false,
        },
        Opcode::Setlkw => O::Setlk {
            arg: r.fetch::<abi::fuse_lk_in>("fuse_lk_in")?.into(),
            sleep: true,
        },
        Opcode::Access => O::Access {
            arg: r.fetch::<abi::fuse_access_in>("fuse_access_in")?.into(),
        },
        Opcode::Create => O::Create {
            arg: r.fetch::<abi::fuse_create_in>("fuse_create_in")?.into(),
            name: r.fetch_name()?,
        },
        Opcode::Interrupt => O::Interrupt {
            arg: r
                .fetch::<abi::fuse_interrupt_in>("fuse_interrupt_in")?
                .into(),
        },
        Opcode::Bmap => O::Bmap {
            arg: r.fetch::<abi::fuse_bmap_in>("fuse_bmap_in")?.into(),
        },
        Opcode::Destroy => O::Destroy,
        Opcode::Ioctl => {
            let arg: &abi::fuse_ioctl_in = r.fetch("fuse_ioctl_in")?;
            O::Ioctl {
                data: r.fetch_bytes(arg.in_size as usize, "ioctl input")?,
                arg: arg.into(),
            }
        }
        Opcode::Poll => O::Poll {
            arg: r.fetch::<abi::fuse_poll_in>("fuse_poll_in")?.into(),
        },
        Opcode::NotifyReply => {
            let arg: &abi::fuse_notify_retrieve_in = r.fetch("fuse_notify_retrieve_in")?;
            O::NotifyReply {
                data: r.fetch_bytes(arg.size as usize, "retrieved data")?,
                arg: arg.into(),
            }
        }
        Opcode::BatchForget => {
            let arg: &abi::fuse_batch_forget_in = r.fetch("fuse_batch_forget_in")?;
            O::BatchForget {
                forgets: op::ForgetList(r.fetch_slice(arg.count as usize, "fuse_forget_one list")?),
            }
        }
        Opcode::Fallocate => O::Fallocate {
            arg: r
                .fetch::<abi::fuse_fallocate_in>("fuse_fallocate_in")?
                .into(),
        },
        Opcode::Readdirplus => O::Readdirplus {
            arg: r.fetch::<abi::fuse_read_in>("fuse_read_in")?.into(),
        },
        Opcode::Lseek => O::Lseek {
            arg: r.fetch::<abi::fuse_lseek_in>("fuse_lseek_in")?.into(),
        },
        Opcode::CopyFileRange => O::CopyFileRange {
            arg: r
                .fetch::<abi::fuse_copy_file_range_in>("fuse_copy_file_range_in")?
                .into(),
            wide: false,
        },
        Opcode::CopyFileRange64 => O::CopyFileRange {
            arg: r
                .fetch::<abi::fuse_copy_file_range_in>("fuse_copy_file_range_in")?
                .into(),
            wide: true,
        },
        Opcode::Setupmapping => O::Setupmapping {
            arg: r
                .fetch::<abi::fuse_setupmapping_in>("fuse_setupmapping_in")?
                .into(),
        },
        Opcode::Removemapping => {
            let count = r
                .fetch::<abi::fuse_removemapping_in>("fuse_removemapping_in")?
                .count;
            let len = (count as usize).saturating_mul(size_of::<abi::fuse_removemapping_one>());
            O::Removemapping {
                count,
                entries: r.fetch_bytes(len, "removemapping list")?,
            }
        }
        Opcode::Syncfs => {
            // Only padding, but required: a shorter message is malformed.
            r.fetch::<abi::fuse_syncfs_in>("fuse_syncfs_in")?;
            O::Syncfs
        }
        Opcode::Tmpfile => O::Tmpfile {
            arg: r.fetch::<abi::fuse_create_in>("fuse_create_in")?.into(),
            name: r.fetch_name()?,
        },
        Opcode::Statx => O::Statx {
            arg: r.fetch::<abi::fuse_statx_in>("fuse_statx_in")?.into(),
        },
        Opcode::CuseInit => O::CuseInit {
            arg: r.fetch::<abi::cuse_init_in>("cuse_init_in")?.into(),
        },
    })
}

/// INIT grew from 16 to 64 bytes in 7.36; read `flags2` only when the kernel says it is there.
fn parse_init(r: &mut ArgReader<'_>) -> Result<InitIn, RequestError> {
    #[derive(FromBytes, KnownLayout, Immutable)]
    #[repr(C)]
    struct InitInV1 {
        major: u32,
        minor: u32,
        max_readahead: u32,
        flags: u32,
    }
    let v1: &InitInV1 = r.fetch("fuse_init_in")?;
    let mut flags = u64::from(v1.flags);
    if flags & abi::FUSE_INIT_EXT != 0 {
        let flags2: &u32 = r.fetch("fuse_init_in.flags2")?;
        flags |= u64::from(*flags2) << 32;
    }
    Ok(InitIn {
        major: v1.major,
        minor: v1.minor,
        max_readahead: v1.max_readahead,
        flags,
    })
}

#[cfg(test)]
#[path = "request_tests/mod.rs"]
mod tests;
