#!/usr/bin/env bash
# Runs every workload in ../shared/bench (or $BENCH_DIR) under Eddy and CPython side by side with
# hyperfine, checks both print the same, and records each one's peak resident memory.
# Usage: bench/compare.sh [WORKLOAD...]   (from the repository root, after cargo build --release)
# Env: EDDY (default target/release/eddy), PYTHON (default python3), RUNS (default 5).
set -euo pipefail
EDDY=$(realpath "${EDDY:-target/release/eddy}")
PYTHON=${PYTHON:-python3}
RUNS=${RUNS:-5}
BENCH_DIR=$(realpath "${BENCH_DIR:-../shared/bench}")
cd "$BENCH_DIR"
names=("$@")
if [ ${#names[@]} -eq 0 ]; then
  for f in *.py; do names+=("${f%.py}"); done
fi
peak_kb() { /usr/bin/time -f "%M" "$@" 2>&1 >/dev/null | tail -1; }
printf '| workload | Eddy mean | CPython mean | speed-up | Eddy peak RSS | CPython peak RSS |\n'
printf '| --- | ---: | ---: | ---: | ---: | ---: |\n'
for n in "${names[@]}"; do
  if ! diff -q <("$EDDY" "$n.py" 2>/dev/null) <("$PYTHON" "$n.py" 2>/dev/null) >/dev/null; then
    printf '| %s | output differs from CPython | | | | |\n' "$n"
    continue
  fi
  json=$(mktemp)
  hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$json" \
    "$EDDY $n.py" "$PYTHON $n.py" >/dev/null 2>&1
  read -r e c < <(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]; print(r[0]["mean"], r[1]["mean"])' "$json")
  rm -f "$json"
  em=$(peak_kb "$EDDY" "$n.py")
  cm=$(peak_kb "$PYTHON" "$n.py")
  python3 -c 'import sys; n,e,c,em,cm=sys.argv[1:]; e,c=float(e),float(c); print(f"| {n} | {e:.3f} s | {c:.3f} s | {c/e:.2f}x | {int(em)/1024:.0f} MiB | {int(cm)/1024:.0f} MiB |")' "$n" "$e" "$c" "$em" "$cm"
done
