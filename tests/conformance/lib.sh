# Shared setup of the conformance scripts (sourced, not run). Expects `say`, `fail`, `ROOT` and
# `LOGS` to be defined by the caller.

# Root and /dev/fuse, pjdfstest and fsx (installed when missing), and the `tests` user that
# pjdfstest switches to (see tests/conformance/pjdfstest.toml).
conformance_setup() {
    [ "$(id -u)" -eq 0 ] || fail "must run as root (pjdfstest changes users; the filesystems mount with mount(2))"
    [ -c /dev/fuse ] || fail "/dev/fuse is missing"
    mkdir -p "$LOGS"
    export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
    for tool in pjdfstest fsx; do
        if ! command -v "$tool" >/dev/null; then
            say "installing $tool (cargo install --locked $tool)"
            cargo install --locked "$tool" >"$LOGS/install-$tool.log" 2>&1 ||
                fail "cargo install $tool (see $LOGS/install-$tool.log)"
        fi
    done
    if ! id tests >/dev/null 2>&1; then
        say "creating the user 'tests' that pjdfstest switches to"
        useradd -M -d / -s /usr/sbin/nologin tests
    fi
}

# Builds example $1 in release mode and prints the path of its binary.
build_example() {
    say "building $1 (release)" >&2
    (cd "$ROOT" && cargo build --release --example "$1" --quiet) || fail "cargo build --example $1"
    echo "$ROOT/target/release/examples/$1"
}
