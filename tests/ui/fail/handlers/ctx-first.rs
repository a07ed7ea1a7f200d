use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn lookup(
        &self,
        ctx: &RequestContext,
        parent: Inode,
        name: &OsStr,
    ) -> Result<EntryAttributes> {
        let _ = (ctx, parent, name);
        Err(Errno::ENOENT)
    }
}

fn main() {}
