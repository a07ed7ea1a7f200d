use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs;

#[fusegen::handlers]
impl Fs {
    async fn forget(&self, _forgets: &[Forget]) -> Result<()> {
        Ok(())
    }
}

fn main() {}
