use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(max_background = 8, congestion_threshold = 12)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
