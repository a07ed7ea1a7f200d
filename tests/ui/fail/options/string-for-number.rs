use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(attr_timeout = "60")]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
