#!/bin/sh
# Runs a command (a test suite, a load test of a service) under leakscope and
# gates on what it leaked, for CI jobs:
#
#   leak-gate.sh -o DIR [--baseline OLD.lsr] [--max-leaked SIZE]
#                [--max-growth SIZE] [--max-site-leaked SIZE] -- CMD [ARGS...]
#
# Reports of every traced process go to DIR; the command's own report is
# also copied to DIR/report.lsr (keep it as the next run's baseline). A
# baseline that does not exist yet (first run) is skipped with a note.
# Exit status: as `leakscope run --check`: the command's own failure first,
# then 1 if over budget, 2 if there was nothing to gate on.
set -eu

usage() {
  echo "usage: leak-gate.sh -o DIR [--baseline OLD.lsr] [--max-leaked SIZE] [--max-growth SIZE] [--max-site-leaked SIZE] -- CMD [ARGS...]" >&2
  exit 2
}

dir=""
limits=""
while [ "$#" -gt 0 ]; do
  case "$1" in
    -o) [ "$#" -ge 2 ] || usage; dir="$2"; shift 2 ;;
    --baseline)
      [ "$#" -ge 2 ] || usage
      if [ -f "$2" ]; then
        limits="$limits --baseline $2"
      else
        echo "leak-gate: no baseline at $2 yet; gating on --max-leaked only" >&2
      fi
      shift 2 ;;
    --max-leaked|--max-growth|--max-site-leaked)
      [ "$#" -ge 2 ] || usage; limits="$limits $1 $2"; shift 2 ;;
    --) shift; break ;;
    *) usage ;;
  esac
done
if [ -z "$dir" ] || [ "$#" -eq 0 ]; then usage; fi
case "$limits" in
  *--baseline*) ;;
  *) limits=$(echo "$limits" | sed 's/--max-growth [^ ]*//') ;;  # growth needs a baseline
esac

mkdir -p "$dir"
status=0
# shellcheck disable=SC2086  # $limits is a list of options
leakscope run --check $limits -o "$dir" -- "$@" || status=$?

# The command's own report: the oldest (lowest pid) named after it.
name=$(basename "$1")
report=""
lowest=""
for f in "$dir/$name".*.lsr; do
  pid=${f#"$dir/$name".}
  pid=${pid%.lsr}
  case "$pid" in *[!0-9]*|"") continue ;; esac  # not <pid>: a later image's ".2"
  if [ -z "$lowest" ] || [ "$pid" -lt "$lowest" ]; then
    lowest=$pid
    report=$(basename "$f")
  fi
done
if [ -n "$report" ]; then
  cp "$dir/$report" "$dir/report.lsr"
  echo "leak-gate: report $dir/report.lsr (from $report), gate exit status $status" >&2
fi
exit "$status"
