use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs {
    #[fuse(read_only)]
    data: Vec<u8>,
}

#[fusegen::handlers]
impl Fs {}

fn main() {}
