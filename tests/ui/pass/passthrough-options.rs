//! Kernel passthrough with a stacking depth; open replies carry a backing file. The kernel
//! reads the backing files, so cache and size options need no `read` handler here.

use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(passthrough, max_stack_depth = 2, kernel_cache, max_read = 65536)]
struct Mirror {
    file: std::fs::File,
}

#[fusegen::handlers]
impl Mirror {
    async fn open(&self, _ino: Inode, _flags: i32) -> Result<FileInfo> {
        Ok(FileInfo::new(1u64).with_backing(BackingFile::from_file(&self.file)?))
    }
}

fn main() {
    let o = Mirror::mount_options();
    assert!(o.passthrough);
    assert_eq!(o.max_stack_depth, Some(2));
}
