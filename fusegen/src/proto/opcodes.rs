//! THE table of kernel opcodes: one row per opcode with its `fuse.h` name and value, the
//! [`Opcode`] variant the parser matches on, and how the kernel sends it ([`Sent`]), which
//! decides whether it is answered. Everything that lists opcodes is generated from it: the
//! public constants (`fusegen::abi::opcode`), [`Opcode`] (which `request::parse_op` matches
//! exhaustively, so a new row does not compile until it is parsed), the names in logs and
//! metrics (`opcode_name`), and which requests get no reply (`gets_reply`).
//!
//! The handlers serving each opcode are rows of the other table, `fusegen-macros/src/ops.rs`
//! (a handler may serve several opcodes, and some opcodes are the server's own); the tests
//! below check that the two agree.

/// How the kernel sends a request, and so whether it waits for a reply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Sent {
    /// An ordinary request: the kernel waits for exactly one reply. With io_uring it may
    /// arrive on a ring entry.
    Request,
    /// Sent with `noreply` (NOTIFY_REPLY, the data a `Notifier::retrieve` asked for): never
    /// answered.
    Unanswered,
    /// From the kernel's own forget and interrupt queues, read before ordinary requests:
    /// always read from `/dev/fuse`, even with io_uring, and not waited on (an INTERRUPT may
    /// still be answered `EAGAIN`, to have it sent again, which the server does on its own).
    Priority,
}

/// `FUSE_LOOKUP` → `LOOKUP`: the kernel's name without its prefix, for logs and metrics.
const fn short_name(name: &'static str) -> &'static str {
    match name.as_bytes() {
        [b'F', b'U', b'S', b'E', b'_', rest @ ..] => match std::str::from_utf8(rest) {
            Ok(short) => short,
            Err(_) => name,
        },
        _ => name,
    }
}

macro_rules! opcode_table {
    ($($name:ident = $value:literal => $variant:ident, $sent:ident;)*) => {
        /// The opcode constants, re-exported as `fusegen::abi::opcode`.
        pub(crate) mod values {
            $(
                #[allow(missing_docs)]
                pub const $name: u32 = $value;
            )*
        }

        /// An opcode this library knows, one variant per row of the table.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub(crate) enum Opcode {
            $($variant,)*
        }

        impl Opcode {
            /// Every opcode, in table order.
            #[cfg(test)]
            pub(crate) const ALL: &[Opcode] = &[$(Opcode::$variant,)*];

            /// The opcode of a request header, `None` for one this library does not know.
            pub(crate) fn from_raw(opcode: u32) -> Option<Opcode> {
                match opcode {
                    $(values::$name => Some(Opcode::$variant),)*
                    _ => None,
                }
            }

            /// The kernel's name without `FUSE_` (`LOOKUP`, `CUSE_INIT`).
            pub(crate) const fn name(self) -> &'static str {
                match self {
                    $(Opcode::$variant => const { short_name(stringify!($name)) },)*
                }
            }

            /// How the kernel sends it.
            pub(crate) const fn sent(self) -> Sent {
                match self {
                    $(Opcode::$variant => Sent::$sent,)*
                }
            }
        }
    };
}

// name in fuse.h              value    variant            sent as
opcode_table! {
    FUSE_LOOKUP             =  1 => Lookup,            Request;
    FUSE_FORGET             =  2 => Forget,            Priority;
    FUSE_GETATTR            =  3 => Getattr,           Request;
    FUSE_SETATTR            =  4 => Setattr,           Request;
    FUSE_READLINK           =  5 => Readlink,          Request;
    FUSE_SYMLINK            =  6 => Symlink,           Request;
    FUSE_MKNOD              =  8 => Mknod,             Request;
    FUSE_MKDIR              =  9 => Mkdir,             Request;
    FUSE_UNLINK             = 10 => Unlink,            Request;
    FUSE_RMDIR              = 11 => Rmdir,             Request;
    FUSE_RENAME             = 12 => Rename,            Request;
    FUSE_LINK               = 13 => Link,              Request;
    FUSE_OPEN               = 14 => Open,              Request;
    FUSE_READ               = 15 => Read,              Request;
    FUSE_WRITE              = 16 => Write,             Request;
    FUSE_STATFS             = 17 => Statfs,            Request;
    FUSE_RELEASE            = 18 => Release,           Request;
    FUSE_FSYNC              = 20 => Fsync,             Request;
    FUSE_SETXATTR           = 21 => Setxattr,          Request;
    FUSE_GETXATTR           = 22 => Getxattr,          Request;
    FUSE_LISTXATTR          = 23 => Listxattr,         Request;
    FUSE_REMOVEXATTR        = 24 => Removexattr,       Request;
    FUSE_FLUSH              = 25 => Flush,             Request;
    FUSE_INIT               = 26 => Init,              Request;
    FUSE_OPENDIR            = 27 => Opendir,           Request;
    FUSE_READDIR            = 28 => Readdir,           Request;
    FUSE_RELEASEDIR         = 29 => Releasedir,        Request;
    FUSE_FSYNCDIR           = 30 => Fsyncdir,          Request;
    FUSE_GETLK              = 31 => Getlk,             Request;
    FUSE_SETLK              = 32 => Setlk,             Request;
    FUSE_SETLKW             = 33 => Setlkw,            Request;
    FUSE_ACCESS             = 34 => Access,            Request;
    FUSE_CREATE             = 35 => Create,            Request;
    FUSE_INTERRUPT          = 36 => Interrupt,         Priority;
    FUSE_BMAP               = 37 => Bmap,              Request;
    FUSE_DESTROY            = 38 => Destroy,           Request;
    FUSE_IOCTL              = 39 => Ioctl,             Request;
    FUSE_POLL               = 40 => Poll,              Request;
    FUSE_NOTIFY_REPLY       = 41 => NotifyReply,       Unanswered;
    FUSE_BATCH_FORGET       = 42 => BatchForget,       Priority;
    FUSE_FALLOCATE          = 43 => Fallocate,         Request;
    FUSE_READDIRPLUS        = 44 => Readdirplus,       Request;
    FUSE_RENAME2            = 45 => Rename2,           Request;
    FUSE_LSEEK              = 46 => Lseek,             Request;
    FUSE_COPY_FILE_RANGE    = 47 => CopyFileRange,     Request;
    FUSE_SETUPMAPPING       = 48 => Setupmapping,      Request;
    FUSE_REMOVEMAPPING      = 49 => Removemapping,     Request;
    FUSE_SYNCFS             = 50 => Syncfs,            Request;
    FUSE_TMPFILE            = 51 => Tmpfile,           Request;
    FUSE_STATX              = 52 => Statx,             Request;
    FUSE_COPY_FILE_RANGE_64 = 53 => CopyFileRange64,   Request;
    CUSE_INIT               = 4096 => CuseInit,        Request;
}

/// The kernel's name of an opcode, for logs; `UNKNOWN` for one not in the table.
pub(crate) fn opcode_name(opcode: u32) -> &'static str {
    Opcode::from_raw(opcode).map_or("UNKNOWN", Opcode::name)
}

/// Whether the kernel waits for a reply to this opcode. An opcode not in the table is
/// answered (`ENOSYS`): every opcode the kernel sends without waiting is in the table.
pub(crate) fn gets_reply(opcode: u32) -> bool {
    Opcode::from_raw(opcode).is_none_or(|op| op.sent() == Sent::Request)
}

/// Whether the kernel sends this opcode on `/dev/fuse` even when io_uring serves requests
/// (its forget and interrupt queues).
pub(crate) fn always_on_dev(opcode: u32) -> bool {
    Opcode::from_raw(opcode).is_some_and(|op| op.sent() == Sent::Priority)
}

#[cfg(test)]
#[path = "opcodes_tests.rs"]
mod tests;
