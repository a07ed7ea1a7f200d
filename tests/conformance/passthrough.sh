#!/usr/bin/env bash
# Conformance of the passthrough example against third-party suites (docs/passthrough.md):
#
#   pjdfstest  POSIX semantics, run natively on the source filesystem first (the reference),
#              then through the mirror: every case that passes natively must pass mirrored.
#   fsx        random operations with data checked after each one: FSX_RUNS runs x FSX_OPS
#              operations (seeds 1..FSX_RUNS), once with fsx's defaults (read, write, mmap,
#              truncate) and once with every operation Linux supports (fsx-full.toml).
#
# Each suite runs in each mode: `handlers` (--no-kernel-passthrough: every read and write goes
# through the example's handlers) and `kernel` (--kernel-passthrough: the kernel reads and
# writes the source itself).
#
#   tests/conformance/passthrough.sh                      # both suites, both modes
#   tests/conformance/passthrough.sh --mode handlers fsx  # one mode, one suite
#   tests/conformance/passthrough.sh --source-dir /var/tmp pjdfstest
#
# The source is a fresh tmpfs unless --source-dir names a directory whose filesystem to use
# (a fresh subdirectory is created there). Needs root (pjdfstest switches users; the mirror
# mounts with mount(2) and creates files as the caller), /dev/fuse and cargo; installs pjdfstest
# and fsx with `cargo install --locked` when missing. Always unmounts; exits non-zero on any
# failure. Logs go to $CONFORMANCE_LOGS (default target/conformance/passthrough).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONF="$ROOT/tests/conformance"
LOGS="${CONFORMANCE_LOGS:-$ROOT/target/conformance/passthrough}"
FSX_RUNS="${FSX_RUNS:-10}"
FSX_OPS="${FSX_OPS:-10000}"
MODES=(handlers kernel)
SOURCE_DIR=""
SUITES=()
while [ $# -gt 0 ]; do
    case "$1" in
        --mode) MODES=("$2"); [ "$2" = both ] && MODES=(handlers kernel); shift ;;
        --source-dir) SOURCE_DIR="$2"; shift ;;
        pjdfstest | fsx) SUITES+=("$1") ;;
        -h | --help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "passthrough.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
    esac
    shift
done
[ ${#SUITES[@]} -eq 0 ] && SUITES=(pjdfstest fsx)

started=$(date +%s)
say() { echo "conformance(passthrough): $*"; }
fail() { echo "conformance(passthrough): FAILED: $*" >&2; exit 1; }

# shellcheck source=tests/conformance/lib.sh
. "$CONF/lib.sh"
conformance_setup
BIN="$(build_example passthrough)"

# ---- directories, mount and cleanup --------------------------------------------------------
# Short paths: pjdfstest binds Unix sockets by absolute path (108-byte limit).
WORK="$(mktemp -d /tmp/cp.XXXXXX)"
MNT="$WORK/m"
OTHER="$(mktemp -d /dev/shm/cp.XXXXXX)" # another filesystem, for the EXDEV cases
if [ -n "$SOURCE_DIR" ]; then
    SRC="$(mktemp -d "$SOURCE_DIR/cp-src.XXXXXX")"
else
    SRC="$WORK/s"
    mkdir -p "$SRC"
    mount -t tmpfs -o mode=0755 tmpfs "$SRC"
fi
mkdir -p "$MNT"
chmod 755 "$WORK" "$MNT" "$SRC"
unmount_mirror() { stop_daemon "$MNT"; }

cleanup() {
    unmount_mirror
    if [ -z "$SOURCE_DIR" ] && is_mounted "$SRC"; then umount -l "$SRC" || true; fi
    [ -n "$SOURCE_DIR" ] && rm -rf "$SRC"
    rm -rf "$OTHER"
    is_mounted "$MNT" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# mount_mirror MODE: starts the example on $SRC at $MNT.
mount_mirror() {
    local flag=--no-kernel-passthrough
    [ "$1" = kernel ] && flag=--kernel-passthrough
    start_daemon passthrough "$LOGS/passthrough-$1.log" "$MNT" \
        env RUST_LOG=info "$BIN" "$flag" -f -o allow_other "$SRC" "$MNT"
}

# ---- pjdfstest -----------------------------------------------------------------------------

pjdfstest_reference() {
    say "pjdfstest on the source filesystem, natively (reference)"
    run_pjdfstest "$SRC/native" "$OTHER" "$LOGS/pjdfstest-native.log"
    rm -rf "${SRC:?}/native"
}

pjdfstest_suite() {
    local mode="$1" log="$LOGS/pjdfstest-$1.log"
    say "pjdfstest through the mirror ($mode)"
    run_pjdfstest "$MNT/p" "$OTHER" "$log"
    rm -rf "${MNT:?}/p"
    local regressions
    regressions="$(comm -23 <(failed_cases "$log") <(failed_cases "$LOGS/pjdfstest-native.log"))"
    if [ -n "$regressions" ]; then
        echo "$regressions" | sed 's/^/  /' >&2
        FAILURES+=("pjdfstest ($mode): cases fail mirrored but pass natively (see $log)")
    fi
}

# ---- fsx -----------------------------------------------------------------------------------
# fsx_runs MODE NAME [fsx options]: FSX_RUNS runs at once, seeds 1..FSX_RUNS.
fsx_runs() {
    local mode="$1" name="$2" seed pids=()
    shift 2
    say "fsx ($mode, $name): $FSX_RUNS runs x $FSX_OPS operations"
    for seed in $(seq "$FSX_RUNS"); do
        mkdir -p "$LOGS/fsx-$mode-$name-$seed"
        timeout 900 fsx "$@" -N "$FSX_OPS" -S "$seed" -P "$LOGS/fsx-$mode-$name-$seed" \
            "$MNT/fsx.$name.$seed" >"$LOGS/fsx-$mode-$name-$seed.log" 2>&1 &
        pids+=($!)
    done
    for seed in $(seq "$FSX_RUNS"); do
        local log="$LOGS/fsx-$mode-$name-$seed.log"
        if ! wait "${pids[$((seed - 1))]}" || ! grep -q 'All operations completed A-OK!' "$log"; then
            tail -n 20 "$log" >&2
            FAILURES+=("fsx ($mode, $name) seed $seed (see $log)")
        fi
        rm -f "$MNT/fsx.$name.$seed"
    done
}

fsx_suite() {
    fsx_runs "$1" default
    fsx_runs "$1" full -f "$CONF/fsx-full.toml"
}

# ---- run -----------------------------------------------------------------------------------
FAILURES=()
case " ${SUITES[*]} " in *" pjdfstest "*) pjdfstest_reference ;; esac
for mode in "${MODES[@]}"; do
    case "$mode" in handlers | kernel) ;; *) fail "unknown mode '$mode' (handlers, kernel or both)" ;; esac
    : >"$LOGS/passthrough-$mode.log"
    mount_mirror "$mode"
    if [ "$mode" = kernel ] && ! grep -q 'kernel_passthrough=true' "$LOGS/passthrough-$mode.log"; then
        stat "$MNT" >/dev/null # INIT is answered by now
        sleep 0.2
        grep -q 'kernel_passthrough=true' "$LOGS/passthrough-$mode.log" ||
            say "kernel passthrough not granted here (needs Linux 6.9+): 'kernel' runs like 'handlers'"
    fi
    for suite in "${SUITES[@]}"; do
        case "$suite" in
            pjdfstest) pjdfstest_suite "$mode" ;;
            fsx) fsx_suite "$mode" ;;
        esac
    done
    unmount_mirror
    if grep -q 'panicked' "$LOGS/passthrough-$mode.log"; then
        grep -m 5 'panicked' "$LOGS/passthrough-$mode.log" >&2
        FAILURES+=("a handler panicked ($mode; see $LOGS/passthrough-$mode.log)")
    fi
done

for f in "${FAILURES[@]}"; do echo "conformance(passthrough): FAILED: $f" >&2; done
[ ${#FAILURES[@]} -eq 0 ] || exit 1
say "passed in $(($(date +%s) - started)) s"
