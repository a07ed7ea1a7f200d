use fusegen::prelude::*;

const TIMEOUT: u64 = 60;

#[derive(Filesystem)]
#[fuse(attr_timeout = TIMEOUT)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
