#!/usr/bin/env python3
"""The cost of fusegen's handler modes: path-level against inode-level handlers, and blocking
(plain `fn`) against async ones, on the metadata workload (create, stat, readdir, unlink).

    bench/modes.py [--rounds R] [--files N ...] [--transport dev|io_uring] [--output FILE]

Pairs of filesystems that differ only in the mode:
  inode / paths        the guide's notes filesystem: `examples/guide.rs` (inode-level handlers)
                       and `examples/guide_paths.rs` (the same filesystem with path handlers)
  async / blocking     `bench/modes/`: one flat in-memory filesystem whose path handlers are
                       expanded twice from one body, as `async fn` and as plain `fn` under
                       `#[fusegen::handlers(paths, blocking)]`

Every system is mounted with entry, attribute and negative timeouts of 0, so that every `stat`
is a LOOKUP the daemon answers, on the transport named (default `/dev/fuse`: without it a
session takes io_uring wherever the kernel allows it, and the two transports place work
differently). Rounds are interleaved (each round rotates the order), so a
machine that drifts cannot favour one side; the report gives the median of the rounds and the
ratio to the pair's first member. Must run as root (mount); run it on a quiet machine.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(BENCH)
TARGET = os.path.join(BENCH, "target")
PHASES = ["create", "stat", "readdir", "unlink"]
TIMEOUTS = "entry_timeout=0,attr_timeout=0,negative_timeout=0"


def build():
    """Builds the daemons and metabench into bench/target; returns name -> argv prefix."""
    def cargo(*args, target):
        env = dict(os.environ, CARGO_TARGET_DIR=os.path.join(TARGET, target))
        subprocess.run(["cargo", "build", "--quiet", "--release", *args], check=True, env=env,
                       cwd=ROOT)
    cargo("-p", "fusegen-examples", "--example", "guide", "--example", "guide_paths",
          target="examples")
    cargo("--manifest-path", os.path.join(BENCH, "modes", "Cargo.toml"), target="modes")
    cargo("--manifest-path", os.path.join(BENCH, "metabench", "Cargo.toml"), target="metabench")
    examples = os.path.join(TARGET, "examples", "release", "examples")
    modebench = os.path.join(TARGET, "modes", "release", "modebench")
    systems = {
        "inode": ([os.path.join(examples, "guide")], {}),
        "paths": ([os.path.join(examples, "guide_paths")], {}),
        "async": ([modebench], {"MODEBENCH": "async"}),
        "blocking": ([modebench], {"MODEBENCH": "blocking"}),
    }
    return systems, os.path.join(TARGET, "metabench", "release", "metabench")


def mounted(mountpoint):
    with open("/proc/mounts") as mounts:
        return any(line.split()[1] == mountpoint for line in mounts)


def run_once(argv, env, metabench, files, transport):
    """Mounts one system, runs metabench on its root, unmounts; returns {phase: (ops/s, cpu µs/op)}."""
    mountpoint = tempfile.mkdtemp(prefix="fusegen-modes.")
    daemon = subprocess.Popen([*argv, "-f", "-o", f"transport={transport},{TIMEOUTS}", mountpoint],
                              env=dict(os.environ, **env),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not mounted(mountpoint):
            if daemon.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"modes: {argv[0]} did not mount")
            time.sleep(0.02)
        out = subprocess.run([metabench, "meta", "--dir", mountpoint, "--files", str(files),
                              "--readdir-passes", "1", "--daemon-pid", str(daemon.pid),
                              "--in-place"],
                             capture_output=True, text=True, timeout=1800, check=True)
        result = {}
        for line in out.stdout.splitlines():
            phase = json.loads(line)
            cpu = phase["cpu"] / phase["ops"] * 1e6 if phase.get("cpu") is not None else None
            result[phase["phase"]] = (phase["ops"] / phase["secs"], cpu)
        return result
    finally:
        subprocess.run(["umount", mountpoint], stderr=subprocess.DEVNULL)
        try:
            daemon.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.kill()
            subprocess.run(["umount", "-l", mountpoint], stderr=subprocess.DEVNULL)
        os.rmdir(mountpoint)


def report(pairs, results, files_list, rounds, transport):
    lines = [f"Interleaved rounds: {rounds}; transport {transport}; timeouts 0; median ops/s, ratio to the pair's first "
             "member, daemon CPU µs per operation.", ""]
    for files in files_list:
        lines.append(f"**{files:,} files**")
        lines.append("")
        lines.append("| system | " + " | ".join(PHASES) + " |")
        lines.append("|---|" + "---:|" * len(PHASES))
        for base, other in pairs:
            for name in (base, other):
                cells = []
                for phase in PHASES:
                    ops = statistics.median(r[phase][0] for r in results[files][name])
                    base_ops = statistics.median(r[phase][0] for r in results[files][base])
                    cpus = [r[phase][1] for r in results[files][name] if r[phase][1] is not None]
                    cpu = f", {statistics.median(cpus):.0f} µs" if cpus else ""
                    ratio = "" if name == base else f" ({ops / base_ops:.2f}×)"
                    cells.append(f"{ops:,.0f}/s{ratio}{cpu}")
                lines.append(f"| {name} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--files", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--transport", choices=["dev", "io_uring"], default="dev")
    parser.add_argument("--output")
    args = parser.parse_args()
    if os.geteuid() != 0:
        sys.exit("modes: must run as root (mount)")
    systems, metabench = build()
    pairs = [("inode", "paths"), ("async", "blocking")]
    names = [name for pair in pairs for name in pair]
    results = {files: {name: [] for name in names} for files in args.files}
    for files in args.files:
        for r in range(args.rounds):
            order = names[r % len(names):] + names[:r % len(names)]
            for name in order:
                argv, env = systems[name]
                results[files][name].append(run_once(argv, env, metabench, files,
                                                            args.transport))
                print(f"files={files} round={r + 1} {name} done", file=sys.stderr)
    text = report(pairs, results, args.files, args.rounds, args.transport)
    print(text)
    if args.output:
        with open(args.output, "w") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    main()
