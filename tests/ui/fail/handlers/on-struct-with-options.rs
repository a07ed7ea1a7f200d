use fusegen::prelude::*;

// One mistake (the attribute on the struct): the options that need handlers add no errors.
#[derive(Filesystem)]
#[fuse(writeback_cache, noforget)]
#[fusegen::handlers]
struct Fs;

fn main() {}
