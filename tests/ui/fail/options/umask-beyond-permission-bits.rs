use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(umask = 0o17777)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
