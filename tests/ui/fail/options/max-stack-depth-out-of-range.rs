use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(passthrough, max_stack_depth = 3)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
