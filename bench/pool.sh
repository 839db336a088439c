#!/usr/bin/env bash
# CPU-bound parallelism: 8 chunks of a sum of squares through a ProcessPoolExecutor, against the
# same work run sequentially, in Eddy and in CPython, in one hyperfine run (BENCHMARKS.md).
# Usage: bench/pool.sh   (from the repository root, after cargo build --release)
# Env: EDDY (default target/release/eddy), PYTHON (default python3), RUNS (default 5).
set -euo pipefail
EDDY=$(realpath "${EDDY:-target/release/eddy}")
PYTHON=${PYTHON:-python3}
RUNS=${RUNS:-5}
cd "$(dirname "$0")/pool"
for f in cpu_pool.py cpu_sequential.py; do
  diff -q <("$EDDY" "$f") <("$PYTHON" "$f") >/dev/null || { echo "$f: output differs from CPython" >&2; exit 1; }
done
hyperfine -N --warmup 1 --runs "$RUNS" --export-markdown /dev/stdout \
  -n "eddy cpu_pool.py" "$EDDY cpu_pool.py" \
  -n "eddy cpu_sequential.py" "$EDDY cpu_sequential.py" \
  -n "python3.11 cpu_pool.py" "$PYTHON cpu_pool.py" \
  -n "python3.11 cpu_sequential.py" "$PYTHON cpu_sequential.py"
