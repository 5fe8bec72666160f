"""Debian's /usr/bin/python3 doing standard-library work (json, re, hashlib)
in 8 threads and then in a multiprocessing Pool(2) with the fork start
method, under `leakscope run`, every allocation recorded: stdout is byte for
byte the bare run's, and the reports show the leaks it makes through ctypes
exactly:
- the parent keeps 2,000 x 1,000 B from libc's malloc: one site, innermost
  frame in libffi (the call ctypes makes), 2,000 live, 2,000,000 B, made by
  the parent; each worker holds them as inherited;
- each of the 40 pool tasks keeps one strdup of 4,320 characters (4,321 B):
  summed over the workers' reports, 40 allocations made by the workers, all
  live, 172,840 B.
One report per process: the parent, and each worker (forked from it, exited
0); nothing dropped, no lost event."""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realprog  # noqa: E402

KEPT, KEPT_SIZE = 2000, 1000
TASKS, TASK_STRING = 40, 4320
WORKERS = 2

SCRIPT = r"""
import ctypes, hashlib, json, multiprocessing, re, threading

LIBC = ctypes.CDLL(None)
LIBC.malloc.restype = ctypes.c_void_p
LIBC.malloc.argtypes = [ctypes.c_size_t]
LIBC.strdup.restype = ctypes.c_void_p
LIBC.strdup.argtypes = [ctypes.c_char_p]
KEPT = []
WORD = re.compile(r"[a-z]+[0-9]")

def work(i):
    doc = {"id": i, "items": [{"k": "key%%d" %% j, "v": j * i} for j in range(200)]}
    text = json.dumps(doc, sort_keys=True)
    back = json.loads(text)
    return "%%d %%d %%d %%s" %% (i, len(back["items"]), len(WORD.findall(text)),
                            hashlib.sha256(text.encode()).hexdigest()[:16])

def task(i):
    KEPT.append(LIBC.strdup(b"x" * %(task_string)d))
    return [work(i * 100 + r) for r in range(20)]

def threaded():
    results = [None] * 8
    def run(t):
        results[t] = [work(t * 1000 + r) for r in range(40)]
    threads = [threading.Thread(target=run, args=(t,)) for t in range(8)]
    for t in threads: t.start()
    for t in threads: t.join()
    return results

if __name__ == "__main__":
    for _ in range(%(kept)d):
        KEPT.append(LIBC.malloc(%(kept_size)d))
    for rows in threaded():
        print(rows[0], rows[-1])
    pool = multiprocessing.get_context("fork").Pool(%(workers)d)
    for rows in pool.map(task, range(%(tasks)d), chunksize=1):
        print(rows[0], rows[-1])
    pool.close()
    pool.join()
    print("kept", len(KEPT))
""" % {"kept": KEPT, "kept_size": KEPT_SIZE, "tasks": TASKS, "task_string": TASK_STRING,
       "workers": WORKERS}


def module(frame):
    return os.path.basename(frame["module"])


def ctypes_mallocs(report):
    """Sites of malloc called straight from libffi: the script's."""
    return [s for s in report["sites"] if s["frames"] and module(s["frames"][0]).startswith("libffi")]


def ctypes_strdups(report):
    return [s for s in report["sites"] if len(s["frames"]) > 1 and
            s["frames"][0]["function"] in ("strdup", "__strdup", "__GI___strdup") and
            module(s["frames"][1]).startswith("libffi")]


def total(sites, *keys):
    return tuple(sum(s[k] for s in sites) for k in keys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope")
    args = ap.parse_args()
    leakscope = realprog.leakscope_path(args.leakscope)

    with tempfile.TemporaryDirectory(prefix="leakscope-python-fork.") as work:
        script = os.path.join(work, "threads_fork.py")
        with open(script, "w") as f:
            f.write(SCRIPT)
        cmd = [realprog.PYTHON, script]
        bare = realprog.run(cmd, timeout=120)
        out_dir = os.path.join(work, "reports")
        os.makedirs(out_dir)
        traced = realprog.run(realprog.traced(leakscope, out_dir, cmd), timeout=120)
        if bare.returncode != 0 or traced.returncode != 0:
            raise realprog.Failed("bare exited %d, traced %d: %s"
                                  % (bare.returncode, traced.returncode, traced.stderr))
        lines = bare.stdout.splitlines()
        if traced.stdout != bare.stdout or bare.stderr or len(lines) != 8 + TASKS + 1 or \
                lines[-1] != "kept %d" % KEPT:
            raise realprog.Failed("output differs:\nbare:\n%s%s\ntraced:\n%s"
                                  % (bare.stdout, bare.stderr, traced.stdout))

        found = realprog.reports(leakscope, out_dir)
        parents = [r for r in found if not r["process"]["forked"]]
        if len(parents) != 1:
            raise realprog.Failed("parents: %s" % [realprog.describe(r) for r in found])
        parent = parents[0]
        pid = parent["process"]["pid"]
        workers = [r for r in found if r is not parent]
        print("\n".join(realprog.describe(r) for r in found))
        for r in found:
            p = r["process"]
            if (p["end"], p.get("exit_status"), r["dropped_events"], r["reentrant_events"],
                    r["sampling_interval_bytes"]) != ("exited", 0, 0, 0, 1):
                raise realprog.Failed("%s: dropped %d, lost %d" % (
                    realprog.describe(r), r["dropped_events"], r["reentrant_events"]))
        if len(workers) != WORKERS or any(
                (w["process"]["ppid"], w["process"]["forked"]) != (pid, True) for w in workers):
            raise realprog.Failed("workers: %s" % [realprog.describe(r) for r in workers])

        keys = ("allocations", "live_allocations", "live_bytes")
        got = total(ctypes_mallocs(parent), *keys)
        print("parent: ctypes malloc sites %s" % (got,))
        if got != (KEPT, KEPT, KEPT * KEPT_SIZE):
            raise realprog.Failed("parent's ctypes mallocs: %s, expected %d x %d B"
                                  % (got, KEPT, KEPT_SIZE))
        for w in workers:
            inherited = total(ctypes_mallocs(w), "allocations", "live_allocations",
                              "inherited_live_allocations", "live_bytes")
            if inherited != (0, KEPT, KEPT, KEPT * KEPT_SIZE):
                raise realprog.Failed("worker %d: the parent's mallocs %s, expected inherited"
                                      % (w["process"]["pid"], inherited))
        got = tuple(sum(total(ctypes_strdups(w), *keys)[i] for w in workers) for i in range(3))
        print("workers: ctypes strdup sites %s" % (got,))
        if got != (TASKS, TASKS, TASKS * (TASK_STRING + 1)):
            raise realprog.Failed("workers' strdups: %s, expected %d x %d B"
                                  % (got, TASKS, TASK_STRING + 1))
        if ctypes_strdups(parent):
            raise realprog.Failed("the parent made no strdup of the tasks")
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except realprog.Failed as e:
        print("FAIL:", e)
        sys.exit(1)
