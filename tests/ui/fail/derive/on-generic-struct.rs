use fusegen::prelude::*;

#[derive(Filesystem)]
struct Fs<B> {
    backend: B,
}

fn main() {}
