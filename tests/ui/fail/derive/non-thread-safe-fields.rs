use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::sync::atomic::AtomicU64;
use std::sync::Mutex;

use fusegen::prelude::*;

// One error per field that is not `Send + Sync`, on its type, with the fix for what it names.
#[derive(Filesystem)]
struct Fs {
    cache: RefCell<HashMap<u64, Vec<u8>>>,
    opened: Cell<u64>,
    shared: Rc<RefCell<Vec<String>>>,
    served: AtomicU64,
    base: *const u8,
    hook: Box<dyn Fn(u64)>,
    children: Mutex<Vec<Rc<Self>>>,
    name: String,
}

#[fusegen::handlers]
impl Fs {
    async fn getattr(&self, ino: Inode, _fh: Option<FileHandle>) -> Result<EntryAttributes> {
        self.opened.set(self.opened.get() + 1);
        Ok(EntryAttributes::new(ino, FileType::Directory, 0o755))
    }
}

fn main() {}
