use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(ro)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
