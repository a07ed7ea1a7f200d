use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(noforget)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn forget(&self, _forgets: &[Forget]) {}
}

fn main() {}
