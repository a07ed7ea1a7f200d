use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(max_threads = 8)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
