use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse = "x"]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
