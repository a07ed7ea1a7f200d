use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(attr_timeout = -1)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
