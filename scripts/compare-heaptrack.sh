#!/usr/bin/env bash
# Runs one example under leakscope and under heaptrack and prints both leak
# reports, one after the other, for a side-by-side reading.
# usage: scripts/compare-heaptrack.sh EXAMPLE   (e.g. listener_leak; BUILD=build)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$root/build}
if [[ $# -ne 1 ]]; then
  echo "usage: $0 EXAMPLE" >&2
  echo "examples:" $(cd "$root/examples" && ls *.expected.json | sed 's/\.expected\.json$//') >&2
  exit 2
fi
example=$1
exe=$build/bin/$example
[[ -x $exe ]] || { echo "$exe not found: run 'make build' first" >&2; exit 2; }

out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

echo "=================== leakscope ==================="
# run prints its own summary on stderr; show the full report instead.
if ! "$build/bin/leakscope" run -o "$out" -- "$exe" >/dev/null 2>"$out/run.log"; then
  cat "$out/run.log" >&2
  exit 1
fi
NO_COLOR=1 "$build/bin/leakscope" report "$out/$example".*.lsr

echo
echo "=================== heaptrack ==================="
heaptrack -o "$out/data" "$exe" >"$out/heaptrack-run.log" 2>&1 || { cat "$out/heaptrack-run.log" >&2; exit 1; }
heaptrack_print -f "$out"/data.* --print-leaks 1 --print-allocators 0 --print-peaks 0 \
  --print-temporary 0 --shorten-templates 0
