use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(handle_killpriv_v2 = false)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
