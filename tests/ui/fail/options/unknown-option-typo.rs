use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(writeback_cach)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
