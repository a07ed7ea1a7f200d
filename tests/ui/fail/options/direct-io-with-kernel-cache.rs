use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(direct_io, kernel_cache)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
