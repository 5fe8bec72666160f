"""Debian's sqlite3 (a table, 10,000 rows, queries) and git (init, commits
with fixed dates, log, fsck) doing real work, bare and under `leakscope run`:
byte-identical output, and every traced process's report ended exited/0."""

import argparse
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realprog  # noqa: E402

ROWS = 10000
SQL = """
CREATE TABLE t(id INTEGER PRIMARY KEY, name TEXT NOT NULL, v INTEGER, blob BLOB);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %(rows)d)
INSERT INTO t(name, v, blob) SELECT printf('row-%%05d', i), (i * 7919) %% 1000, zeroblob(i %% 97) FROM n;
CREATE INDEX t_v ON t(v);
SELECT count(*), sum(v), sum(length(blob)), min(name), max(name) FROM t;
SELECT v, count(*) FROM t WHERE v < 5 GROUP BY v ORDER BY v;
SELECT name FROM t WHERE v = 999 ORDER BY id LIMIT 3;
UPDATE t SET v = v + 1 WHERE id %% 2 = 0;
DELETE FROM t WHERE id > 9000;
SELECT count(*), sum(v) FROM t;
PRAGMA integrity_check;
""" % {"rows": ROWS}
# sum(v): 10,000 values (i * 7919) mod 1000 for i = 1..10000: 10 full cycles
# of a permutation of 0..999 (7919 is prime to 1000) = 10 * 499500.
EXPECTED_SQLITE_FIRST = "%d|%d|%d|row-00001|row-%05d" % (
    ROWS, 10 * 499500, sum(i % 97 for i in range(1, ROWS + 1)), ROWS)


def check_reports(leakscope, out_dir, exe_names):
    found = realprog.reports(leakscope, out_dir)
    if not found:
        raise realprog.Failed("no report in %s" % out_dir)
    for r in found:
        p = r["process"]
        if (p["end"], p.get("exit_status")) != ("exited", 0) or r["dropped_events"] != 0:
            raise realprog.Failed("%s dropped %d" % (realprog.describe(r), r["dropped_events"]))
        if os.path.basename(p["exe"]) not in exe_names:
            raise realprog.Failed("unexpected process %s" % realprog.describe(r))
        if r["totals"]["allocations"] <= 0:
            raise realprog.Failed("no allocation in %s" % r["path"])
    return found


def sqlite(leakscope, work):
    outputs = []
    for name in ("bare", "traced"):
        db = os.path.join(work, name + ".db")
        cmd = ["sqlite3", db]
        out_dir = os.path.join(work, "sqlite-" + name)
        os.makedirs(out_dir)
        if name == "traced":
            cmd = realprog.traced(leakscope, out_dir, cmd)
        done = realprog.run(cmd, stdin=SQL)
        if done.returncode != 0 or done.stderr and name == "bare":
            raise realprog.Failed("%s sqlite3 exited %d: %s" % (name, done.returncode, done.stderr))
        outputs.append(done.stdout)
    if outputs[0] != outputs[1]:
        raise realprog.Failed("sqlite3 output differs:\n%s\n---\n%s" % tuple(outputs))
    if outputs[0].splitlines()[0] != EXPECTED_SQLITE_FIRST or \
            outputs[0].splitlines()[-1] != "ok":
        raise realprog.Failed("sqlite3 printed:\n%s" % outputs[0])
    found = check_reports(leakscope, os.path.join(work, "sqlite-traced"), ("sqlite3",))
    if len(found) != 1:
        raise realprog.Failed("sqlite3: %s" % [realprog.describe(r) for r in found])
    t = found[0]["totals"]
    print("sqlite3:", realprog.describe(found[0]), t)
    # 10,000 rows went through sqlite's allocator (sqlite3MemMalloc ->
    # malloc): many more allocations than rows.
    if t["allocations"] < ROWS:
        raise realprog.Failed("sqlite3: only %d allocations" % t["allocations"])


GIT_ENV = {"GIT_AUTHOR_NAME": "A U Thor", "GIT_AUTHOR_EMAIL": "author@example.com",
           "GIT_COMMITTER_NAME": "C O Mitter", "GIT_COMMITTER_EMAIL": "committer@example.com",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}


def git_session(leakscope, repo, out_dir):
    """init, 5 commits of 20 files each, then log, fsck and a diff; each git
    command its own process (under `leakscope run` when out_dir)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    env.update(GIT_ENV, HOME=repo + ".home")
    os.makedirs(env["HOME"])
    transcript = []

    def git(*args):
        cmd = ["git", "-c", "init.defaultBranch=main", "-c", "gc.auto=0"] + list(args)
        if out_dir:
            cmd = realprog.traced(leakscope, out_dir, cmd)
        done = realprog.run(cmd, env=env, cwd=repo)
        if done.returncode != 0:
            raise realprog.Failed("git %s exited %d: %s" % (args, done.returncode, done.stderr))
        transcript.append("$ git %s\n%s" % (" ".join(args), done.stdout))

    os.makedirs(repo)
    git("init", "-q")
    for c in range(5):
        for f in range(20):
            with open(os.path.join(repo, "file%02d.txt" % f), "a") as out:
                out.write("commit %d file %d\n" % (c, f) * (f + 1))
        env["GIT_AUTHOR_DATE"] = env["GIT_COMMITTER_DATE"] = "%d +0000" % (1700000000 + c * 60)
        git("add", "-A")
        git("commit", "-q", "-m", "commit %d" % c)
    git("log", "--stat", "--format=%H %an %s")
    git("fsck", "--strict")
    git("diff", "HEAD~3", "HEAD", "--", "file07.txt")
    git("count-objects")
    return "".join(transcript)


def git_test(leakscope, work):
    bare = git_session(leakscope, os.path.join(work, "bare-repo"), None)
    out_dir = os.path.join(work, "git-reports")
    os.makedirs(out_dir)
    traced = git_session(leakscope, os.path.join(work, "traced-repo"), out_dir)
    if bare != traced:
        raise realprog.Failed("git output differs:\n%s\n---\n%s" % (bare, traced))
    if bare.count(" A U Thor commit ") != 5:
        raise realprog.Failed("git log:\n%s" % bare)
    # 15 commands: 1 init + 5 x (add + commit) + log, fsck, diff,
    # count-objects, each exited/0. git runs its builtins in-process, but
    # `commit` forks and execs `git maintenance run --auto` and `fsck` forks
    # and execs `git commit-graph verify` and `git multi-pack-index verify`:
    # 7 forked children, each with two reports under its pid, the forked
    # image's (no allocation of its own, ended by the exec) and the exec'd
    # git's (exited/0; its parent is the command that forked it).
    found = realprog.reports(leakscope, out_dir)
    by_pid = {}
    for r in found:
        by_pid.setdefault(r["process"]["pid"], []).append(r)
    commands, children = [], []
    for pid, rs in sorted(by_pid.items()):
        if len(rs) == 1:
            commands.append(rs[0])
            continue
        images = sorted(rs, key=lambda r: r["process"]["forked"])
        execd, forked = images if len(images) == 2 else (None, None)
        if execd is None or execd["process"]["forked"] or not forked["process"]["forked"] or \
                sorted(os.path.basename(r["path"]) for r in rs) != \
                ["git.%d.2.lsr" % pid, "git.%d.lsr" % pid]:
            raise realprog.Failed("pid %d: %s" % (pid, [realprog.describe(r) for r in rs]))
        f = forked["process"]
        if (f["end"], f["ppid"], forked["totals"]["allocations"]) != (
                "ended", execd["process"]["ppid"], 0):
            raise realprog.Failed("forked image %s, totals %s"
                                  % (realprog.describe(forked), forked["totals"]))
        children.append(execd)
    for r in commands + children:
        p = r["process"]
        if (p["end"], p.get("exit_status"), p["forked"]) != ("exited", 0, False) or \
                r["dropped_events"] != 0 or r["totals"]["allocations"] <= 0:
            raise realprog.Failed("%s dropped %d totals %s"
                                  % (realprog.describe(r), r["dropped_events"], r["totals"]))
    command_pids = set(r["process"]["pid"] for r in commands)
    spawned = sorted(" ".join(r["process"]["argv"][1:3]) for r in children
                     if r["process"]["ppid"] in command_pids)
    expected = ["commit-graph verify", "multi-pack-index verify"] + ["maintenance run"] * 5
    if len(commands) != 15 or spawned != sorted(expected) or len(children) != len(expected):
        raise realprog.Failed("git: %d commands, children %s: %s"
                              % (len(commands), spawned, [realprog.describe(r) for r in found]))
    print("git: %d reports: %d commands, %d children (%s)"
          % (len(found), len(commands), len(children), ", ".join(sorted(set(spawned)))))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope")
    args = ap.parse_args()
    leakscope = realprog.leakscope_path(args.leakscope)
    for tool in ("sqlite3", "git"):
        if not shutil.which(tool):
            raise realprog.Failed("%s is not installed (scripts/install-deps.sh)" % tool)
    with tempfile.TemporaryDirectory(prefix="leakscope-sqlite-git.") as work:
        sqlite(leakscope, work)
        git_test(leakscope, work)
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except realprog.Failed as e:
        print("FAIL:", e)
        sys.exit(1)
