#!/usr/bin/env python3
"""Regenerate the expected output of script tests from CPython, the oracle.

Usage: python3 tests/oracle.py FILE_OR_DIR...

For each NAME.eddy (directories are searched recursively) this runs `python3 NAME.eddy` in the
script's folder with stdin closed, then writes:
  NAME.out   the exact stdout;
  NAME.exit  when the exit status is not 0: line 1 the status, line 2 the last non-empty stderr
             line (CPython's `ExcType: message`). A stale NAME.exit is removed when the status is 0.
Review the diff (`git diff tests/scripts`) before committing: the oracle is only as good as the
script is deterministic (no set-of-str ordering, no ids, no timing).
"""

import os
import subprocess
import sys


def scripts(paths):
    for path in paths:
        if os.path.isdir(path):
            for folder, _, files in sorted(os.walk(path)):
                for name in sorted(files):
                    if name.endswith(".eddy"):
                        yield os.path.join(folder, name)
        elif path.endswith(".eddy"):
            yield path
        else:
            print(f"oracle: skipping {path}: not a .eddy file", file=sys.stderr)


def regenerate(script):
    folder, name = os.path.split(os.path.abspath(script))
    env = dict(os.environ, PYTHONHASHSEED="0", PYTHONIOENCODING="utf-8", PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.run(
        [sys.executable, name], cwd=folder, env=env, stdin=subprocess.DEVNULL,
        capture_output=True, timeout=120,
    )
    base = os.path.join(folder, name[: -len(".eddy")])
    with open(base + ".out", "wb") as f:
        f.write(proc.stdout)
    exit_path = base + ".exit"
    if proc.returncode != 0:
        lines = [l for l in proc.stderr.decode("utf-8", "replace").splitlines() if l.strip()]
        last = lines[-1] if lines else ""
        with open(exit_path, "w", encoding="utf-8") as f:
            f.write(f"{proc.returncode}\n{last}\n")
        return f"exit {proc.returncode}: {last}"
    if os.path.exists(exit_path):
        os.remove(exit_path)
    return "ok"


def main(argv):
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    found = list(scripts(argv))
    for script in found:
        print(f"{script}: {regenerate(script)}")
    print(f"oracle: {len(found)} script(s) regenerated")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
