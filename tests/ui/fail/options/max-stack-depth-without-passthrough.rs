use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(max_stack_depth = 2)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
