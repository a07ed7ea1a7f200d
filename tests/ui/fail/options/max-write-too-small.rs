use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(max_write = 100)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
