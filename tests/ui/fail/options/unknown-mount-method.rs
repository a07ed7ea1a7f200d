use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(mount_method = "nfs")]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
