"""Runs a program under heaptrack and reads its leaks back from heaptrack_print.

heaptrack_print's leak listing (-l) gives, per backtrace, the frames with file
and line, the number of allocation calls made from it ("leaked over N calls"),
and the leaked bytes, but rounded ("16.38K"). Its flame-graph output with the
"leaked" cost type gives the exact leaked bytes per backtrace, with functions
and file names but no lines. The tests use both: calls by (function, file,
line), exact bytes by (function, file). heaptrack prints no count of live
allocations."""

import glob
import os
import re
import subprocess

HEADER = re.compile(r"^(\S+) leaked over (\d+) calls from$")


class HeaptrackFailed(Exception):
    pass


class Backtrace:
    def __init__(self, leaked_text, calls):
        self.leaked_text = leaked_text  # as printed, e.g. "16.38K"
        self.calls = calls
        self.leaked_bytes = None  # exact, from the flame graph
        self.frames = []  # dicts: function, file, line, module; innermost first


def run(example, out_dir, args=()):
    """Runs heaptrack, returns the path of its data file."""
    try:
        done = subprocess.run(["heaptrack", "-o", os.path.join(out_dir, "x"), example] + list(args),
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                              universal_newlines=True, timeout=300)
    except FileNotFoundError:
        raise HeaptrackFailed("heaptrack is not installed (scripts/install-deps.sh installs it)")
    data = glob.glob(os.path.join(out_dir, "x.*"))
    if done.returncode != 0 or len(data) != 1:
        raise HeaptrackFailed("heaptrack exited %d, data files %s:\n%s"
                              % (done.returncode, data, done.stdout))
    return data[0]


def print_leaks(data_file, flamegraph_path):
    """heaptrack_print's leak listing, unmerged and with full template names;
    also writes the leaked-bytes flame graph to flamegraph_path."""
    done = subprocess.run(["heaptrack_print", "-f", data_file, "--print-leaks", "1",
                           "--print-allocators", "0", "--print-peaks", "0",
                           "--print-temporary", "0", "--merge-backtraces", "0",
                           "--shorten-templates", "0", "--disable-builtin-suppressions",
                           "--flamegraph-cost-type", "leaked", "--print-flamegraph",
                           flamegraph_path],
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          universal_newlines=True, timeout=300)
    if done.returncode != 0:
        raise HeaptrackFailed("heaptrack_print exited %d: %s" % (done.returncode, done.stderr))
    return done.stdout


def parse_leaks(text):
    """Backtraces of the MEMORY LEAKS section, frames innermost first."""
    backtraces, in_leaks = [], False
    for line in text.splitlines():
        if line == "MEMORY LEAKS":
            in_leaks = True
        elif line.startswith("total runtime:"):
            in_leaks = False
        elif in_leaks:
            parse_leak_line(line, backtraces)
    for bt in backtraces:
        fill_modules(bt.frames)
    return backtraces


def parse_leak_line(line, backtraces):
    header = HEADER.match(line)
    if header:
        backtraces.append(Backtrace(header.group(1), int(header.group(2))))
    elif line.startswith("    at "):
        where = line[len("    at "):]
        path, _, number = where.rpartition(":")
        if not number.isdigit():
            path, number = where, "0"
        backtraces[-1].frames[-1].update(file=path, line=int(number))
    elif line.startswith("    in "):
        backtraces[-1].frames[-1]["module"] = line[len("    in "):]
    elif line.startswith("  ") and line.strip():
        backtraces[-1].frames.append({"function": line.strip(), "file": "", "line": 0,
                                      "module": None})


def fill_modules(frames):
    """heaptrack names a frame's module only on the outermost frame of an
    inline chain: the inlined frames before it share it."""
    module = ""
    for frame in reversed(frames):
        if frame["module"] is not None:
            module = frame["module"]
        frame["module"] = module


def parse_flamegraph(path):
    """[(frames outermost first as "function (file)" strings, leaked bytes)]"""
    stacks = []
    with open(path) as f:
        for line in f:
            stack, _, cost = line.rstrip("\n").rpartition(" ")
            stacks.append(([e for e in stack.split(";") if e], int(cost)))
    return stacks


def flamegraph_entries(frames):
    """A backtrace's frames as the flame graph names them, sorted: the flame
    graph orders an inline chain differently, so only the multiset compares."""
    return sorted("%s (%s)" % (f["function"], os.path.basename(f["file"])) if f["file"]
                  else f["function"] for f in frames)


def attach_exact_bytes(backtraces, stacks):
    """Sets each backtrace's leaked_bytes from the flame-graph stack with the
    same frames. Identical frame lists (one function called from two addresses
    of a line) pair up in order: their sum is what the tests compare."""
    unmatched = [(sorted(entries), cost) for entries, cost in stacks if cost > 0]
    for bt in backtraces:
        entries = flamegraph_entries(bt.frames)
        for i, (stack_entries, cost) in enumerate(unmatched):
            if stack_entries == entries:
                bt.leaked_bytes = cost
                del unmatched[i]
                break
        else:
            raise HeaptrackFailed("no flame-graph stack for the backtrace leaking %s:\n  %s"
                                  % (bt.leaked_text, "\n  ".join(entries)))


def leaks(example, out_dir, args=()):
    """heaptrack's leaks of `example` as report-like sites: frames, live_bytes
    (exact), allocations (calls from the backtrace); live_allocations unknown (0)."""
    data_file = run(example, out_dir, args)
    flamegraph = os.path.join(out_dir, "leaked.stacks")
    backtraces = parse_leaks(print_leaks(data_file, flamegraph))
    attach_exact_bytes(backtraces, parse_flamegraph(flamegraph))
    return [{"frames": [dict(f, inlined=False) for f in bt.frames], "live_bytes": bt.leaked_bytes,
             "live_allocations": 0, "allocations": bt.calls} for bt in backtraces]
