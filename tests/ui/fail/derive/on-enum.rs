use fusegen::prelude::*;

#[derive(Filesystem)]
enum Fs {
    Empty,
}

#[fusegen::handlers]
impl Fs {}

fn main() {}
