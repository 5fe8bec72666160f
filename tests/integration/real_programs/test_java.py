"""Debian's OpenJDK running LeakyJava.java (threads, Deflaters never ended,
direct buffers) under `leakscope run`, every allocation recorded: the JVM
finishes (it used to hang at its first thread: the shim called
pthread_getattr_np from inside glibc's realloc under that thread's lock), its
output is the bare run's, and the native memory it holds shows at its sites
with exact counts:
- each Deflater's z_stream, calloc'd by Java_java_util_zip_Deflater_init;
- zlib's deflate state and its four buffers, allocated by deflateInit2_
  (their sizes are asked of the same libz, through a zalloc of our own);
- each direct buffer: Unsafe.allocateMemory rounds the size up to 8 bytes
  and os::malloc allocates exactly that."""

import argparse
import ctypes
import os
import shutil
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import realprog  # noqa: E402

SOURCE = os.path.join(realprog.HERE, "LeakyJava.java")
# As in LeakyJava.java.
THREADS = 4
DEFLATERS_PER_THREAD = 3
DIRECT_BUFFERS = 5
DIRECT_SIZE = 777777
DEFLATERS = THREADS * DEFLATERS_PER_THREAD

_ALLOC = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_void_p, ctypes.c_uint, ctypes.c_uint)
_FREE = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_void_p)


class ZStream(ctypes.Structure):
    """zlib.h's z_stream."""
    _fields_ = [("next_in", ctypes.c_void_p), ("avail_in", ctypes.c_uint),
                ("total_in", ctypes.c_ulong), ("next_out", ctypes.c_void_p),
                ("avail_out", ctypes.c_uint), ("total_out", ctypes.c_ulong),
                ("msg", ctypes.c_char_p), ("state", ctypes.c_void_p), ("zalloc", _ALLOC),
                ("zfree", _FREE), ("opaque", ctypes.c_void_p), ("data_type", ctypes.c_int),
                ("adler", ctypes.c_ulong), ("reserved", ctypes.c_ulong)]


def deflate_init_sizes():
    """The sizes libz's deflateInit2_ allocates for `new Deflater()` (JDK's
    Deflater.c: level -1, Z_DEFLATED, windowBits 15, DEF_MEM_LEVEL 8,
    strategy 0)."""
    libc = ctypes.CDLL(None)
    libc.calloc.restype = ctypes.c_void_p
    libc.calloc.argtypes = [ctypes.c_size_t, ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    z = ctypes.CDLL("libz.so.1")
    z.zlibVersion.restype = ctypes.c_char_p
    sizes = []

    def zalloc(_opaque, items, size):
        sizes.append(items * size)
        return libc.calloc(items, size)

    def zfree(_opaque, p):
        libc.free(p)

    alloc, free = _ALLOC(zalloc), _FREE(zfree)
    s = ZStream(zalloc=alloc, zfree=free)
    rc = z.deflateInit2_(ctypes.byref(s), -1, 8, 15, 8, 0, z.zlibVersion(), ctypes.sizeof(s))
    if rc != 0:
        raise realprog.Failed("deflateInit2_ returned %d" % rc)
    z.deflateEnd(ctypes.byref(s))
    return sizes


def sites_where(report, test):
    return [s for s in report["sites"] if s["frames"] and test([f["function"] for f in s["frames"]])]


def expect_sum(report, what, sites, allocations, live_bytes):
    got = (sum(s["allocations"] for s in sites), sum(s["live_allocations"] for s in sites),
           sum(s["live_bytes"] for s in sites))
    print("%s: %d sites, %d allocations, %d live in %d B" % ((what, len(sites)) + got))
    if got != (allocations, allocations, live_bytes):
        raise realprog.Failed("%s: %d allocations, %d live in %d B; expected %d, all live, %d B"
                              % ((what,) + got + (allocations, live_bytes)))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--leakscope")
    args = ap.parse_args()
    leakscope = realprog.leakscope_path(args.leakscope)
    java, javac = shutil.which("java"), shutil.which("javac")
    if not java or not javac:
        raise realprog.Failed("no java/javac: run scripts/install-deps.sh")

    with tempfile.TemporaryDirectory(prefix="leakscope-java.") as work:
        built = realprog.run([javac, "-d", work, SOURCE], timeout=120)
        if built.returncode != 0:
            raise realprog.Failed("javac: %s" % built.stderr)
        cmd = [java, "-cp", work, "LeakyJava"]
        bare = realprog.run(cmd, timeout=120)
        out_dir = os.path.join(work, "reports")
        os.makedirs(out_dir)
        traced = realprog.run(realprog.traced(leakscope, out_dir, cmd), timeout=120)
        if bare.returncode != 0 or traced.returncode != 0:
            raise realprog.Failed("bare exited %d, traced %d: %s"
                                  % (bare.returncode, traced.returncode, traced.stderr))
        if traced.stdout != bare.stdout or bare.stderr:
            raise realprog.Failed("output differs:\nbare:\n%s%s\ntraced:\n%s"
                                  % (bare.stdout, bare.stderr, traced.stdout))
        found = realprog.reports(leakscope, out_dir)
        if len(found) != 1:
            raise realprog.Failed("expected one report: %s" % [realprog.describe(r) for r in found])
        report = found[0]
        p = report["process"]
        if (p["end"], p.get("exit_status"), report["dropped_events"]) != ("exited", 0, 0):
            raise realprog.Failed("process %s, dropped %d" % (p, report["dropped_events"]))

        zlib_sizes = deflate_init_sizes()
        expect_sum(report, "deflateInit2_", sites_where(report, lambda f: f[0] == "deflateInit2_"),
                   DEFLATERS * len(zlib_sizes), DEFLATERS * sum(zlib_sizes))
        expect_sum(report, "z_stream", sites_where(
            report, lambda f: f[0] == "Java_java_util_zip_Deflater_init"),
            DEFLATERS, DEFLATERS * ctypes.sizeof(ZStream))
        expect_sum(report, "direct buffers", sites_where(
            report, lambda f: len(f) > 1 and f[1] == "Unsafe_AllocateMemory0"),
            DIRECT_BUFFERS, DIRECT_BUFFERS * ((DIRECT_SIZE + 7) // 8 * 8))
    print("ok")


if __name__ == "__main__":
    try:
        main()
    except realprog.Failed as e:
        print("FAIL:", e)
        sys.exit(1)
