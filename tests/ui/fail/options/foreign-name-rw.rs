use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(rw)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
