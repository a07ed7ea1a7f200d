use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(min_tasks = 200)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
