use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(read_only(true))]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
