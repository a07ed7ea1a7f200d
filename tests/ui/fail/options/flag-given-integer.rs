use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(read_only = 1)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
