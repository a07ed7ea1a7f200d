use fusegen::prelude::*;

#[derive(Filesystem)]
#[fusegen::handlers]
struct Fs;

fn main() {}
