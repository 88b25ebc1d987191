#!/usr/bin/env python3
"""Checks that README.md's code is the code CI builds: every ```cpp block
that follows a line `<!-- example: examples/readme/NAME.cc -->` equals that
file byte for byte, every file in examples/readme/*.cc is shown so, and no
other ```cpp block exists (it would not be compiled by anything).

Usage: check_readme.py [repo-root]   (exit 1 and one line per problem)
"""
import glob
import os
import re
import sys

MARK = re.compile(r"^<!-- example: (\S+) -->\n```cpp\n(.*?)^```$", re.M | re.S)
BLOCK = re.compile(r"^```cpp$", re.M)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..")
    readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    problems = []
    shown = set()
    for m in MARK.finditer(readme):
        path, code = m.group(1), m.group(2)
        shown.add(path)
        full = os.path.join(root, path)
        if not os.path.exists(full):
            problems.append(f"README.md: {path} does not exist")
            continue
        if open(full, encoding="utf-8").read() != code:
            problems.append(f"README.md: the block of {path} differs from "
                            "the file (paste the file again)")
    blocks = len(BLOCK.findall(readme))
    if blocks != len(shown):
        problems.append(f"README.md: {blocks - len(shown)} ```cpp block(s) "
                        "without an <!-- example: FILE --> line above them")
    for f in sorted(glob.glob(os.path.join(root, "examples/readme/*.cc"))):
        rel = os.path.relpath(f, root)
        if rel not in shown:
            problems.append(f"README.md: {rel} is not shown")
    for p in problems:
        print(p)
    print(f"{len(shown)} examples checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
