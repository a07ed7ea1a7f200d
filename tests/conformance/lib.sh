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

# Whether $1 is a mount point now.
is_mounted() { grep -q " $1 " /proc/self/mountinfo; }

# start_daemon NAME LOG MNT CMD...: runs CMD (a filesystem in the foreground) in the
# background, its output appended to LOG, and waits up to 20 s for MNT to be mounted.
start_daemon() {
    local name="$1" log="$2" mnt="$3"
    shift 3
    "$@" >>"$log" 2>&1 &
    DAEMON_PID=$!
    for _ in $(seq 200); do
        is_mounted "$mnt" && return 0
        kill -0 "$DAEMON_PID" 2>/dev/null || fail "$name exited at startup (see $log)"
        sleep 0.1
    done
    fail "$name did not mount within 20 s"
}

# stop_daemon MNT: Ctrl-C to the daemon (it unmounts and exits), SIGKILL after 10 s, then a
# lazy unmount of MNT if it is still mounted.
stop_daemon() {
    if [ -n "${DAEMON_PID:-}" ] && kill -0 "$DAEMON_PID" 2>/dev/null; then
        kill -INT "$DAEMON_PID" 2>/dev/null || true
        for _ in $(seq 100); do kill -0 "$DAEMON_PID" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$DAEMON_PID" 2>/dev/null || true
        wait "$DAEMON_PID" 2>/dev/null || true
    fi
    DAEMON_PID=""
    if is_mounted "$1"; then umount -l "$1" || true; fi
}

# Prints the names of failed cases in a pjdfstest log.
failed_cases() { awk '$NF == "FAILED" { print $1 }' "$1" | sort; }

# run_pjdfstest DIR SECOND LOG [SECONDS]: the whole suite in DIR (SECOND: a directory on
# another filesystem, for EXDEV), bounded in time; fails unless it printed its summary.
run_pjdfstest() {
    local dir="$1" second="$2" log="$3" limit="${4:-900}"
    mkdir -p "$dir"
    chmod 755 "$dir"
    (cd "$dir" && timeout "$limit" pjdfstest -c "$CONF/pjdfstest.toml" -p "$dir" -s "$second") >"$log" 2>&1 || true
    grep '^Summary:' "$log" || fail "pjdfstest did not finish (see $log)"
}
