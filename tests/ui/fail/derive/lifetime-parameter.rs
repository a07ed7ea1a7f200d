use fusegen::prelude::*;

#[derive(Filesystem)]
struct Blob<'a> {
    data: &'a [u8],
}

fn main() {}
