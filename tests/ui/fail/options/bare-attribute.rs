use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
