#!/usr/bin/env python3
"""integration/mappings/<mode>: examples/mapped_buffers under leakscope. Its
report must show the program's anonymous mappings by call site with exact
bytes and counts (a partial munmap, a whole one and an mremap included), no
mapping for the file mapping, the thread's stack or glibc malloc's own mmap
of a big block, and, apart from them, the heap sites unchanged. Modes: `run`
(every allocation), `sampled` (the daemon and the shim's default sampling:
mappings are never sampled, so still exact) and `mimalloc` (its segments are
the shim's mmaps, never the program's)."""

import argparse
import os
import subprocess
import sys
import tempfile

from leakscope_report import daemon_and_report, run_and_report

MIB = 1 << 20
# examples/mapped_buffers.cc's header says why.
WANT_MAPPINGS = {
    "MAP(buffers)": dict(live_bytes=MIB // 2 + 4 * MIB, live_mappings=2, mapped_bytes=6 * MIB,
                         mappings=3),
    "MAP(shared)": dict(live_bytes=64 * 1024, live_mappings=1, mapped_bytes=64 * 1024, mappings=1),
}
WANT_TOTALS = dict(live_bytes=MIB // 2 + 4 * MIB + 64 * 1024, live_mappings=3, mappings=4)
WANT_HEAP = {
    "LEAK(small)": dict(live_bytes=1000, live_allocations=1),
    "LEAK(big)": dict(live_bytes=MIB, live_allocations=1),
}


def marker_lines(source):
    """The line of each marker that ends a line of code (not the header's)."""
    lines = {}
    with open(source) as f:
        for number, line in enumerate(f, 1):
            code, _, comment = line.partition("//")
            marker = comment.strip()
            if code.strip() and marker:
                lines[marker] = number
    return lines


def call_site(site):
    frame = site["frames"][site["call_site_frame"]]
    return os.path.basename(frame["file"]), frame["line"]


def check(report, source, mode, errors):
    name = os.path.basename(source)
    lines = marker_lines(source)
    mappings = report.get("mappings")
    if mappings is None:
        errors.append("the report has no mappings")
        return
    for field, want in WANT_TOTALS.items():
        if mappings[field] != want:
            errors.append("mappings %s is %d, expected %d" % (field, mappings[field], want))
    # Summed by call site: MapBuffer's three callers make three stacks.
    by_line = {}
    for s in mappings["sites"]:
        got = by_line.setdefault(call_site(s), dict.fromkeys(WANT_MAPPINGS["MAP(buffers)"], 0))
        for field in got:
            got[field] += s[field]
    want_lines = {(name, lines[m]): m for m in WANT_MAPPINGS}
    for key in sorted(set(by_line) - set(want_lines)):
        errors.append("unexpected mapping site %s:%d: %s" % (key[0], key[1], by_line[key]))
    for key, marker in sorted(want_lines.items()):
        got = by_line.get(key)
        if got is None:
            errors.append("no mapping site at %s (%s:%d)" % (marker, key[0], key[1]))
            continue
        for field, want in WANT_MAPPINGS[marker].items():
            if got[field] != want:
                errors.append("%s: %s is %d, expected %d" % (marker, field, got[field], want))
    if mode == "sampled":
        return  # heap figures are estimates; the mappings above are not
    heap = {call_site(s): s for s in report["sites"] if s["live_bytes"] and not s["internal"]
            and "call_site_frame" in s and call_site(s)[0] == name}
    want_heap = {(name, lines[m]): m for m in WANT_HEAP}
    for key in sorted(set(heap) - set(want_heap)):
        errors.append("unexpected heap site %s:%d" % key)
    for key, marker in sorted(want_heap.items()):
        got = heap.get(key)
        if got is None:
            errors.append("no heap site at %s" % marker)
            continue
        for field, want in WANT_HEAP[marker].items():
            if got[field] != want:
                errors.append("%s: %s is %d, expected %d" % (marker, field, got[field], want))
    memory = report.get("memory", {})
    # The mappings are touched whole, and the shim's own memory is anonymous
    # too: the figure is not cut down to the anonymous RSS outside malloc.
    if mode == "run" and memory.get("program_mappings_bytes") != mappings["live_bytes"]:
        errors.append("memory.program_mappings_bytes is %s, expected %d"
                      % (memory.get("program_mappings_bytes"), mappings["live_bytes"]))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--leakscope", required=True)
    parser.add_argument("--leakscoped", required=True)
    parser.add_argument("--shim", required=True)
    parser.add_argument("--example", required=True)
    parser.add_argument("--source", required=True)
    parser.add_argument("--mode", choices=("run", "sampled", "mimalloc"), required=True)
    args = parser.parse_args()
    errors = []
    with tempfile.TemporaryDirectory() as out_dir:
        if args.mode == "sampled":
            report, path = daemon_and_report(args.leakscope, args.leakscoped, args.shim,
                                             args.example, out_dir,
                                             {"LEAKSCOPE_SAMPLE_INTERVAL": "524288"})
        else:
            env = {"LEAKSCOPE_ALLOCATOR": "mimalloc"} if args.mode == "mimalloc" else {}
            report, path = run_and_report(args.leakscope, args.example, out_dir, env)
        if args.mode == "sampled" and report["sampling_interval_bytes"] != 524288:
            errors.append("sampling interval %d" % report["sampling_interval_bytes"])
        check(report, args.source, args.mode, errors)
        text = subprocess.run([args.leakscope, "report", path], stdout=subprocess.PIPE,
                              universal_newlines=True, timeout=120).stdout
        for want in ("Mappings by call site (3 of 3 sites): 4.6 MiB in 3 mappings live, of 4 mmap "
                     "calls", "  program mappings        4.6 MiB",
                     "4.0 MiB mapped (4,194,304 bytes) in 1 mapping; 4.0 MiB mapped here in 1 call",
                     "512.0 KiB mapped (524,288 bytes) in 1 mapping; 1.0 MiB mapped here in 1 call",
                     "mapped_example::MapBuffer(unsigned long)"):
            if want not in text:
                errors.append("text report lacks %r:\n%s" % (want, text))
    for e in errors:
        print("FAIL:", e)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
