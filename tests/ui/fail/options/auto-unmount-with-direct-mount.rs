use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(auto_unmount, mount_method = "direct")]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
