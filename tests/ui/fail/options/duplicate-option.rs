use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(attr_timeout = 1, attr_timeout = 2)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
