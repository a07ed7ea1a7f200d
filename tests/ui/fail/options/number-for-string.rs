use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(fsname = 5)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
