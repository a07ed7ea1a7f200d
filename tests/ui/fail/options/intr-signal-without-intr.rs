use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(intr_signal = 10)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
