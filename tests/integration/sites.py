"""Groups a report's call sites by where they are in the example's source: the
first (innermost) frame located in the example's source file gives the key
(function, file basename, line). Several stacks can share a key (an unrolled
loop calls the leaking function from two addresses of one line): they add up."""

import os


class SiteTotals:
    def __init__(self):
        self.live_bytes = 0
        self.live_allocations = 0
        self.allocations = 0
        self.stacks = 0
        self.direct = True  # only allocator frames before the example's frame

    def add(self, live_bytes, live_allocations, allocations, direct):
        self.live_bytes += live_bytes
        self.live_allocations += live_allocations
        self.allocations += allocations
        self.stacks += 1
        self.direct = self.direct and direct


def first_source_frame(frames, source):
    """Index of the first frame whose file is `source` (a basename), or None."""
    for i, frame in enumerate(frames):
        if os.path.basename(frame["file"]) == source:
            return i
    return None


def describe(frames, limit=12):
    lines = ["    %s  %s:%s  [%s]%s" % (f["function"] or "?", f["file"], f["line"],
                                       os.path.basename(f["module"]),
                                       " (inlined)" if f["inlined"] else "")
             for f in frames[:limit]]
    if len(frames) > limit:
        lines.append("    ... %d more frames" % (len(frames) - limit))
    return "\n".join(lines)
