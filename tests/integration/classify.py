"""Sorts a report's live call sites into: sites of the example (keyed by the
first frame in its source, see sites.py), the runtime internals the example
may show, and everything else (unexplained: a test failure)."""

from runtime_internals import is_allocator_frame, recognise
from sites import SiteTotals, first_source_frame


class Classified:
    def __init__(self):
        self.by_key = {}       # (function, file, line) -> SiteTotals
        self.internals = []    # (name, site)
        self.unexplained = []  # live sites neither the example's nor runtime internals

    def live_keys(self):
        return {k for k, t in self.by_key.items() if t.live_bytes or t.live_allocations}


def frame_pairs(frames):
    return [(f["function"], f["module"]) for f in frames]


def classify(sites, source, example_module, allowed_internals):
    """`sites`: dicts with frames (function, file, line, module), live_bytes,
    live_allocations, allocations, as in leakscope's JSON report."""
    result = Classified()
    for site in sites:
        frames = site["frames"]
        live = site["live_bytes"] > 0 or site["live_allocations"] > 0
        internal = live and recognise(frame_pairs(frames), example_module, allowed_internals)
        if internal:
            result.internals.append((internal, site))
            continue
        i = first_source_frame(frames, source)
        if i is None:
            if live:
                result.unexplained.append(site)
            continue
        key = (frames[i]["function"], source, frames[i]["line"])
        direct = all(is_allocator_frame(f["function"], f["module"]) for f in frames[:i])
        result.by_key.setdefault(key, SiteTotals()).add(
            site["live_bytes"], site["live_allocations"], site["allocations"], direct)
    return result
