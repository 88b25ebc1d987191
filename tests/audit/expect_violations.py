#!/usr/bin/python3
"""Runs a command and checks its exit status and output lines.

  expect_violations.py [--source FILE] [--exit N] [--expect REGEX]...
                       [--forbid REGEX]... -- COMMAND [ARG...]

--source reads the expectations from a file's "// EXIT: <n>",
"// EXPECT: <regex>" and "// FORBID: <regex>" lines (tests/audit/*.cc).
Passes (exit 0) when the command exits with N, every EXPECT regex matches
some line of its output (stdout and stderr) and no FORBID regex matches
any. Prints the command's output either way, then what went wrong.
"""

import argparse
import re
import subprocess
import sys


def main(argv):
    if "--" not in argv:
        sys.stderr.write(
            "usage: expect_violations.py [options] -- COMMAND...\n")
        return 2
    split = argv.index("--")
    p = argparse.ArgumentParser(prog="expect_violations.py")
    p.add_argument("--source")
    p.add_argument("--exit", type=int)
    p.add_argument("--expect", action="append", default=[])
    p.add_argument("--forbid", action="append", default=[])
    args = p.parse_args(argv[:split])
    command = argv[split + 1:]
    if not command:
        sys.stderr.write("expect_violations.py: no command\n")
        return 2
    want_exit, expect, forbid = args.exit, list(args.expect), list(args.forbid)
    if args.source:
        with open(args.source, encoding="utf-8") as f:
            for line in f:
                m = re.match(r"\s*// (EXIT|EXPECT|FORBID): (.*?)\s*$", line)
                if not m:
                    continue
                if m.group(1) == "EXIT":
                    want_exit = int(m.group(2))
                elif m.group(1) == "EXPECT":
                    expect.append(m.group(2))
                else:
                    forbid.append(m.group(2))
    if want_exit is None and not expect and not forbid:
        sys.stderr.write("expect_violations.py: nothing to check\n")
        return 2

    try:
        proc = subprocess.run(command, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, check=False)
    except OSError as e:
        print("expect_violations.py: FAIL: cannot run %s: %s" % (
            command[0], e))
        return 1
    out = proc.stdout.decode("utf-8", "replace")
    sys.stdout.write(out)
    lines = out.splitlines()
    errors = []
    if want_exit is not None and proc.returncode != want_exit:
        errors.append("exit status %d, expected %d" % (proc.returncode,
                                                       want_exit))
    for rx in expect:
        r = re.compile(rx)
        if not any(r.search(line) for line in lines):
            errors.append("no output line matches: %s" % rx)
    for rx in forbid:
        r = re.compile(rx)
        hits = [line for line in lines if r.search(line)]
        if hits:
            errors.append("output must not match %s, but has: %s" % (
                rx, hits[0]))
    for e in errors:
        print("expect_violations.py: FAIL: " + e)
    if not errors:
        print("expect_violations.py: OK (exit %d, %d expected line(s), "
              "%d forbidden pattern(s))" % (proc.returncode, len(expect),
                                            len(forbid)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
