use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers(paths)]
impl Fs {
    async fn unlink(&self, _path: &str) -> Result<()> {
        Ok(())
    }
}

fn main() {}
