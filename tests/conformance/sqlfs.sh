#!/usr/bin/env bash
# Conformance of the sqlfs example against third-party suites (see docs/conformance.md):
#
#   pjdfstest  POSIX semantics, run on a native tmpfs first (the reference) and then on sqlfs
#              (its database on a tmpfs): every case that passes on tmpfs must pass on sqlfs.
#   fsx        FSX_RUNS runs x FSX_OPS random operations (seeds 1..FSX_RUNS) with every
#              operation Linux supports (fsx-full.toml), data checked after each one.
#
# Needs root (pjdfstest switches users and mounts), /dev/fuse, and cargo. Installs pjdfstest and
# fsx with `cargo install --locked` when they are missing. Always unmounts; exits non-zero on
# any failure. Logs go to $CONFORMANCE_LOGS (default target/conformance/sqlfs).
#
#   tests/conformance/sqlfs.sh            # both suites
#   tests/conformance/sqlfs.sh pjdfstest  # one suite
#   tests/conformance/sqlfs.sh fsx
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CONF="$ROOT/tests/conformance"
LOGS="${CONFORMANCE_LOGS:-$ROOT/target/conformance/sqlfs}"
FSX_RUNS="${FSX_RUNS:-10}"
FSX_OPS="${FSX_OPS:-10000}"
SUITES=("$@")
[ ${#SUITES[@]} -eq 0 ] && SUITES=(pjdfstest fsx)

started=$(date +%s)
say() { echo "conformance(sqlfs): $*"; }
fail() { echo "conformance(sqlfs): FAILED: $*" >&2; exit 1; }

# shellcheck source=tests/conformance/lib.sh
. "$CONF/lib.sh"
conformance_setup
BIN="$(build_example sqlfs)"

# ---- directories, mount and cleanup --------------------------------------------------------
# Short paths: pjdfstest binds Unix sockets by absolute path (108-byte limit).
WORK="$(mktemp -d /tmp/cq.XXXXXX)"
MNT="$WORK/m"
SECOND="$(mktemp -d /dev/shm/cq.XXXXXX)" # another filesystem, for the EXDEV cases
TMPFS="$WORK/t"  # the pjdfstest reference
DBDIR="$WORK/d"  # a tmpfs for the database: the suites measure semantics, not the disk
mkdir -p "$MNT" "$TMPFS" "$DBDIR"
chmod 755 "$WORK" "$MNT"
mount -t tmpfs -o mode=0700 tmpfs "$DBDIR"
unmount_sqlfs() { stop_daemon "$MNT"; }

cleanup() {
    unmount_sqlfs
    if is_mounted "$TMPFS"; then umount -l "$TMPFS" || true; fi
    if is_mounted "$DBDIR"; then umount -l "$DBDIR" || true; fi
    rm -rf "$SECOND"
    is_mounted "$MNT" || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mount_sqlfs() {
    start_daemon sqlfs "$LOGS/sqlfs.log" "$MNT" \
        env RUST_LOG=warn "$BIN" -f -o allow_other "$DBDIR/fs.db" "$MNT"
}

# ---- pjdfstest -----------------------------------------------------------------------------

pjdfstest_suite() {
    say "pjdfstest on native tmpfs (reference)"
    mount -t tmpfs -o mode=0755 tmpfs "$TMPFS"
    run_pjdfstest "$TMPFS/p" "$SECOND" "$LOGS/pjdfstest-tmpfs.log" 1800
    umount "$TMPFS"

    say "pjdfstest on sqlfs"
    run_pjdfstest "$MNT/p" "$SECOND" "$LOGS/pjdfstest-sqlfs.log" 1800
    rm -rf "${MNT:?}/p"

    local regressions
    regressions="$(comm -23 <(failed_cases "$LOGS/pjdfstest-sqlfs.log") \
        <(failed_cases "$LOGS/pjdfstest-tmpfs.log"))"
    if [ -n "$regressions" ]; then
        echo "$regressions" | sed 's/^/  /' >&2
        FAILURES+=("pjdfstest: cases fail on sqlfs but pass on tmpfs (see $LOGS/pjdfstest-sqlfs.log)")
        return
    fi
    say "pjdfstest: no case fails on sqlfs that passes on tmpfs"
}

# ---- fsx -----------------------------------------------------------------------------------
# The runs go one after another: sqlfs serializes requests on its one connection, so running
# them at once would only make each slower.
fsx_suite() {
    say "fsx: $FSX_RUNS runs x $FSX_OPS operations (full configuration)"
    local seed
    for seed in $(seq "$FSX_RUNS"); do
        local log="$LOGS/fsx-$seed.log"
        mkdir -p "$LOGS/fsx-$seed"
        if ! timeout 900 fsx -f "$CONF/fsx-full.toml" -N "$FSX_OPS" -S "$seed" \
            -P "$LOGS/fsx-$seed" "$MNT/fsx.$seed" >"$log" 2>&1 ||
            ! grep -q 'All operations completed A-OK!' "$log"; then
            tail -n 20 "$log" >&2
            FAILURES+=("fsx seed $seed (see $log)")
        fi
        rm -f "$MNT/fsx.$seed"
    done
}

# ---- run -----------------------------------------------------------------------------------
FAILURES=()
: >"$LOGS/sqlfs.log"
mount_sqlfs
for suite in "${SUITES[@]}"; do
    suite_started=$(date +%s)
    case "$suite" in
        pjdfstest) pjdfstest_suite ;;
        fsx) fsx_suite ;;
        *) fail "unknown suite '$suite' (pjdfstest or fsx)" ;;
    esac
    say "$suite took $(($(date +%s) - suite_started)) s"
done
unmount_sqlfs
if grep -q 'panicked' "$LOGS/sqlfs.log"; then
    grep -m 5 'panicked' "$LOGS/sqlfs.log" >&2
    FAILURES+=("a sqlfs handler panicked (see $LOGS/sqlfs.log)")
fi
for f in "${FAILURES[@]}"; do echo "conformance(sqlfs): FAILED: $f" >&2; done
[ ${#FAILURES[@]} -eq 0 ] || exit 1
say "passed in $(($(date +%s) - started)) s"
