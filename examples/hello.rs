//! The smallest useful filesystem: read-only, one file `hello` containing `Hello World!\n`.
//!
//! ```text
//! mkdir -p /tmp/x
//! cargo run --example hello -- /tmp/x      # returns once mounted; the filesystem runs detached
//! cat /tmp/x/hello                          # Hello World!
//! umount /tmp/x                             # (or `fusermount3 -u /tmp/x` as a user)
//! cargo run --example hello -- -f /tmp/x   # in the foreground instead: Ctrl-C unmounts
//! ```
//!
//! Shows the declarative API: options on the struct, `async fn` handlers in one `impl` block,
//! and `fusegen::cli::run` as the whole `main` (`-o OPTIONS`, `-f`, `-d`, `--help`).

use std::process::ExitCode;

use fusegen::prelude::*;

const HELLO: Inode = Inode(2);
const CONTENT: &[u8] = b"Hello World!\n";

#[derive(Filesystem)]
#[fuse(
    read_only,
    fsname = "hello",
    subtype = "hello",
    attr_timeout = 60,
    entry_timeout = 60
)]
struct Hello;

#[fusegen::handlers]
impl Hello {
    async fn lookup(&self, parent: Inode, name: &OsStr) -> Result<EntryAttributes> {
        match (parent, name.to_str()) {
            (Inode::ROOT, Some("hello")) => attributes(HELLO),
            _ => Err(Errno::ENOENT),
        }
    }

    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        attributes(ino)
    }

    async fn read(&self, ino: Inode, _fh: FileHandle, offset: u64, size: u32) -> Result<Bytes> {
        if ino != HELLO {
            return Err(Errno::EISDIR);
        }
        let start = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(CONTENT.len());
        let end = start.saturating_add(size as usize).min(CONTENT.len());
        Ok(Bytes::from_static(&CONTENT[start..end]))
    }

    async fn readdir(
        &self,
        ino: Inode,
        _fh: FileHandle,
        offset: u64,
        out: &mut ReaddirReply<'_>,
    ) -> Result<()> {
        if ino != Inode::ROOT {
            return Err(Errno::ENOTDIR);
        }
        let root = attributes(Inode::ROOT)?;
        // A fixed list: positions in it are stable offsets.
        out.add_listing(
            offset,
            [(".", root), ("..", root), ("hello", attributes(HELLO)?)],
        );
        Ok(())
    }
}

fn attributes(ino: Inode) -> Result<EntryAttributes> {
    match ino {
        Inode::ROOT => Ok(EntryAttributes::new(ino, FileType::Directory, 0o755)),
        HELLO => {
            Ok(EntryAttributes::new(ino, FileType::RegularFile, 0o444)
                .with_size(CONTENT.len() as u64))
        }
        _ => Err(Errno::ENOENT),
    }
}

/// Not `#[tokio::main]`: `fusegen::cli::run` detaches first and then starts the runtime.
fn main() -> ExitCode {
    fusegen::cli::run(Hello)
}
