use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(subtype = "my fs")]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
