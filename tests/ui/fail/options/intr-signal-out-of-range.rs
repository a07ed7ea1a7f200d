use fusegen::prelude::*;

#[derive(Filesystem)]
#[fuse(intr, intr_signal = 99)]
struct Fs;

#[fusegen::handlers]
impl Fs {}

fn main() {}
