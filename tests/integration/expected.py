"""An example's expected leaks (examples/<name>.expected.json), with each
site's line found from its marker comment, so edits above it never make the
expectation stale."""

import json
import os
import re


class ExpectedSite:
    def __init__(self, entry, line):
        self.function = entry["function"]
        self.file = entry["file"]
        self.line = line
        self.marker = entry["marker"]
        self.direct = entry["direct"]
        self.live_bytes = entry["live_bytes"]
        self.live_allocations = entry["live_allocations"]
        self.allocations = entry["allocations"]

    @property
    def key(self):
        return (self.function, self.file, self.line)


class Expected:
    def __init__(self, path, source_path):
        with open(path) as f:
            data = json.load(f)
        self.example = data["example"]
        self.source = data["source"]
        if os.path.basename(source_path) != self.source:
            raise ValueError("%s describes %s, not %s" % (path, self.source, source_path))
        self.runtime_internals = data["runtime_internals"]
        self.sites = [ExpectedSite(e, marker_line(source_path, e["marker"])) for e in data["sites"]]

    def by_key(self):
        return {site.key: site for site in self.sites}


def marker_line(source_path, marker):
    """The 1-based line ending in the comment `// <marker>` after some code.
    Exactly one such line must exist: an ambiguous marker is an error."""
    pattern = re.compile(r"\S.*//\s*" + re.escape(marker) + r"\s*$")
    with open(source_path) as f:
        hits = [n for n, text in enumerate(f, start=1) if pattern.search(text)]
    if len(hits) != 1:
        raise ValueError("marker %r found on lines %s of %s, expected exactly one"
                         % (marker, hits, source_path))
    return hits[0]
