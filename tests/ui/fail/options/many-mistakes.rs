use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(read_onyl, attr_timeout = "60", max_write = 100)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
