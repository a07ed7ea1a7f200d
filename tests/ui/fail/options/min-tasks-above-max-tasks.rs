use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(min_tasks = 10, max_tasks = 2)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
