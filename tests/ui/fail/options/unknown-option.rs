use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(foo)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
