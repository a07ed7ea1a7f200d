use fusegen::prelude::*;

#[derive(Filesystem)]
union Fs {
    a: u32,
    b: f32,
}

#[fusegen::handlers]
impl Fs {}

fn main() {}
