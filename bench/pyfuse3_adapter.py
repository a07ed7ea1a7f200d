#!/usr/bin/env python3
"""Runs one of pyfuse3's example file systems with the benchmark's cache settings.

    pyfuse3_adapter.py [--timeout SECS] [--keep-cache 0|1] EXAMPLE.py -- EXAMPLE-ARGS...

pyfuse3's examples hard-code their cache behaviour (passthroughfs.py replies with entry and
attribute timeouts of 0, tmpfs.py with 300 s; both keep cached file data across opens, pyfuse3's
FileInfo default). The other systems of bench/run.sh are mounted with the same timeouts and
page-cache policy, so this wrapper imports the example unchanged and only rewrites what its
handlers return: the timeouts of every EntryAttributes (lookup, getattr, setattr, create,
mknod, mkdir, symlink, link and readdir entries) and `keep_cache` of every FileInfo. It
wraps pyfuse3.init (to patch the class of the Operations instance the example mounts) and
pyfuse3.readdir_reply, then runs the example as __main__ with EXAMPLE-ARGS.

The examples are taken from pyfuse3's sdist at bench time (bench/run.sh); none is kept here.
"""

import argparse
import functools
import inspect
import runpy
import sys

import pyfuse3

ENTRY_RETURNING = ("lookup", "getattr", "setattr", "mknod", "mkdir", "symlink", "link")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("example", help="path to a pyfuse3 example (passthroughfs.py, tmpfs.py)")
    parser.add_argument("--timeout", type=float, default=None,
                        help="entry and attribute timeout of every reply, in seconds")
    parser.add_argument("--keep-cache", type=int, choices=(0, 1), default=None,
                        help="FileInfo.keep_cache of every open and create")
    parser.add_argument("rest", nargs=argparse.REMAINDER, help="-- then the example's arguments")
    args = parser.parse_args()
    rest = args.rest[1:] if args.rest[:1] == ["--"] else args.rest

    def fix_attr(attr):
        if args.timeout is not None and isinstance(attr, pyfuse3.EntryAttributes):
            attr.entry_timeout = args.timeout
            attr.attr_timeout = args.timeout
        return attr

    def fix_info(info):
        if args.keep_cache is not None and isinstance(info, pyfuse3.FileInfo):
            info.keep_cache = bool(args.keep_cache)
        return info

    def wrap(ops, name, fix):
        original = getattr(ops, name, None)
        if original is None or not inspect.iscoroutinefunction(original):
            return

        @functools.wraps(original)
        async def wrapper(self, *a, **kw):
            return fix(await original(self, *a, **kw))

        setattr(ops, name, wrapper)

    original_init = pyfuse3.init

    def init(operations, *a, **kw):
        # The example's Operations class, whatever its module layout.
        ops = type(operations)
        for name in ENTRY_RETURNING:
            wrap(ops, name, fix_attr)
        wrap(ops, "open", fix_info)
        wrap(ops, "create", lambda pair: (fix_info(pair[0]), fix_attr(pair[1])))
        return original_init(operations, *a, **kw)

    original_reply = pyfuse3.readdir_reply

    def readdir_reply(token, name, attr, next_id):
        return original_reply(token, name, fix_attr(attr), next_id)

    # The examples call both through `import pyfuse3`, i.e. this very module object.
    pyfuse3.init = init
    pyfuse3.readdir_reply = readdir_reply

    sys.argv = [args.example] + rest
    runpy.run_path(args.example, run_name="__main__")


if __name__ == "__main__":
    main()
