//! jsonfs: a JSON document as a directory tree, read and write. Objects and arrays are
//! directories, scalars are files; changing the tree changes the document, which is saved
//! back to its file.
//!
//! ```text
//! echo '{"name": "fusegen", "tags": ["fuse", "rust"], "stars": 5}' > /tmp/doc.json
//! mkdir -p /tmp/j
//! cargo run --example jsonfs -- /tmp/doc.json /tmp/j   # returns once mounted; -f: foreground
//! cat /tmp/j/name                  # fusegen
//! ls /tmp/j/tags                   # 0  1
//! echo 6 > /tmp/j/stars            # a number again: `6`, not "6"
//! mkdir /tmp/j/owner && echo me > /tmp/j/owner/login
//! umount /tmp/j                    # saves; /tmp/doc.json now has "owner": {"login": "me"}
//! ```
//!
//! The mapping (module `mapping`):
//!
//! - An object is a directory whose entries are its keys (`/` in a key is written `%2F`, `%` is
//!   `%25`; the empty key is `%`). An array is a directory whose entries are `0`, `1`, …;
//!   creating `7` in it adds an element, removing one closes the gap when the document is
//!   saved, and only such index names are accepted there (`EINVAL` otherwise).
//! - A scalar is a file holding its text and a newline: strings as they are (`fusegen`),
//!   numbers, `true`, `false` and `null` as JSON. What is written is typed by its form: text
//!   that is a JSON scalar is that scalar (`6`, `true`, `"6"` for the string), anything else is
//!   a string. So reading a file and writing the same bytes back changes nothing.
//! - `mkdir` makes an empty object, `create` an empty string; `unlink`, `rmdir` (empty
//!   directories) and `rename` (also between directories; `RENAME_NOREPLACE`) change the
//!   document. Modes and owners are fixed: `chmod` and `chown` fail with `EPERM`.
//!
//! Saving: the whole document is written when a file is closed, on `fsync` of a file or
//! directory, and at unmount, whenever something changed since the last save; atomically
//! (a temporary file in the same directory, synced, renamed over the document). Object keys
//! keep their order, new ones go last; an array's elements are saved in index order.
//!
//! Modules: `handlers` (the `#[fusegen::handlers]` block), `tree` (the document as inodes and
//! directories, lookup counts), `mapping` (names and contents), `store` (load and save).

mod handlers;
mod mapping;
mod store;
mod tree;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use fusegen::prelude::*;
use parking_lot::Mutex;

use crate::tree::Tree;

/// The filesystem: the document's tree, and where it is saved.
#[derive(Filesystem)]
#[fuse(fsname = "jsonfs", subtype = "json")]
pub struct JsonFs {
    tree: Mutex<Tree>,
    /// Serializes saves, so that an older snapshot never overwrites a newer one.
    saving: Mutex<()>,
    path: PathBuf,
    owner: (u32, u32),
}

impl JsonFs {
    /// The document in the file at `path` (absolute: the daemon leaves its directory).
    pub fn load(path: PathBuf, owner: (u32, u32)) -> Result<JsonFs, String> {
        let doc = store::load(&path)?;
        let tree = Tree::from_value(&doc).map_err(|e| format!("{}: {e}", path.display()))?;
        Ok(JsonFs {
            tree: Mutex::new(tree),
            saving: Mutex::new(()),
            path,
            owner,
        })
    }

    /// Writes the document if it changed since the last save; `EIO` if writing fails (the
    /// reason is logged).
    fn save_if_dirty(&self) -> fusegen::Result<()> {
        let _one_at_a_time = self.saving.lock();
        let doc = {
            let mut tree = self.tree.lock();
            if !tree.dirty {
                return Ok(());
            }
            tree.dirty = false;
            tree.to_value()
        };
        store::save(&self.path, &doc).map_err(|e| {
            tracing::error!("saving {}: {e}", self.path.display());
            // Still unsaved: the next chance tries again.
            self.tree.lock().dirty = true;
            Errno::EIO
        })
    }
}

/// A JSON document as a directory tree
#[derive(Parser)]
#[command(name = "jsonfs")]
struct Args {
    /// The JSON file to mount (its top level must be an object or an array); changes are
    /// saved back to it
    json_file: PathBuf,
    /// `-o`, `-f`, `-d` and MOUNTPOINT, as for every FUSE filesystem
    #[command(flatten)]
    mount: fusegen::cli::MountArgs,
}

fn main() -> ExitCode {
    let args: Args = fusegen::cli::parse();
    // Absolute before detaching: the background process runs in `/`.
    let path = match std::path::absolute(&args.json_file) {
        Ok(path) => path,
        Err(e) => {
            eprintln!("jsonfs: {}: {e}", args.json_file.display());
            return ExitCode::FAILURE;
        }
    };
    let me = fusegen::Owner::of_process();
    let owner = (me.uid, me.gid);
    match JsonFs::load(path, owner) {
        Ok(fs) => fusegen::cli::Serve::new(fs).run(&args.mount),
        Err(e) => {
            eprintln!("jsonfs: {e}");
            ExitCode::FAILURE
        }
    }
}
