use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(allow_other, allow_root)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
