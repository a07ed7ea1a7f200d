//! The smallest useful filesystem: read-only, one file `hello` containing `Hello World!\n`.
//!
//! ```text
//! cargo run --example hello -- /tmp/x      # mounts in the foreground; Ctrl-C unmounts
//! cat /tmp/x/hello                          # in another terminal
//! ```
//!
//! Written against the `Operations` trait directly; each handler is an `async fn`.

use std::ffi::OsStr;
use std::process::ExitCode;
use std::time::Duration;

use fusegen::{
    Bytes, EntryAttributes, Errno, FileHandle, FileInfo, FileType, Inode, MountOptions,
    Operations, ReaddirReply, RequestContext, Result, Workers,
};

const HELLO_INO: Inode = Inode(2);
const HELLO_NAME: &str = "hello";
const CONTENT: &[u8] = b"Hello World!\n";

/// The filesystem has no state: two inodes whose attributes never change.
pub struct Hello;

fn attributes(ino: Inode) -> Result<EntryAttributes> {
    let attr = match ino {
        Inode::ROOT => EntryAttributes::new(ino, FileType::Directory, 0o755),
        HELLO_INO => EntryAttributes::new(ino, FileType::RegularFile, 0o444)
            .with_size(CONTENT.len() as u64),
        _ => return Err(Errno::ENOENT),
    };
    // Nothing ever changes, so the kernel may cache everything for a minute.
    Ok(EntryAttributes {
        entry_timeout: Duration::from_secs(60),
        attr_timeout: Duration::from_secs(60),
        ..attr
    })
}

impl Operations for Hello {
    async fn lookup(
        &self,
        parent: Inode,
        name: &OsStr,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        if parent == Inode::ROOT && name == HELLO_NAME {
            attributes(HELLO_INO)
        } else {
            Err(Errno::ENOENT)
        }
    }

    async fn getattr(
        &self,
        ino: Inode,
        _fh: Option<FileHandle>,
        _ctx: &RequestContext,
    ) -> Result<EntryAttributes> {
        attributes(ino)
    }

    async fn open(&self, ino: Inode, flags: i32, _ctx: &RequestContext) -> Result<FileInfo> {
        if ino != HELLO_INO {
            return Err(Errno::EISDIR);
        }
        if flags & libc::O_ACCMODE != libc::O_RDONLY {
            return Err(Errno::EACCES);
        }
        Ok(FileInfo::new(0u64))
    }

    async fn read(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        size: u32,
        _ctx: &RequestContext,
    ) -> Result<Bytes> {
        if ino != HELLO_INO {
            return Err(Errno::EISDIR);
        }
        let start = usize::try_from(offset).unwrap_or(usize::MAX).min(CONTENT.len());
        let end = start.saturating_add(size as usize).min(CONTENT.len());
        Ok(Bytes::from_static(&CONTENT[start..end]))
    }

    async fn readdir(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
        _ctx: &RequestContext,
    ) -> Result<()> {
        if ino != Inode::ROOT {
            return Err(Errno::ENOTDIR);
        }
        let entries = [(".", Inode::ROOT), ("..", Inode::ROOT), (HELLO_NAME, HELLO_INO)];
        // Offsets are positions in this fixed list: entry i is followed by offset i + 1.
        for (i, (name, ino)) in entries.iter().enumerate().skip(offset as usize) {
            if !out.add(OsStr::new(name), &attributes(*ino)?, i as u64 + 1) {
                break;
            }
        }
        Ok(())
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .init();
    let Some(mountpoint) = std::env::args_os().nth(1) else {
        eprintln!("usage: hello MOUNTPOINT");
        return ExitCode::from(2);
    };
    let mut options = MountOptions::default();
    if let Err(e) = options.set("ro,fsname=hello,subtype=hello") {
        eprintln!("hello: {e}");
        return ExitCode::FAILURE;
    }
    match fusegen::run_with(Hello, &mountpoint, options, Workers::default()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("hello: {e}");
            ExitCode::FAILURE
        }
    }
}
