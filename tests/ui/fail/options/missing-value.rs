use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(fsname)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
