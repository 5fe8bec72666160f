"""Allocations the C++ runtime makes on its own and never frees: they are live
at exit in every correct program, so the tests accept them, but only these,
each recognised by the functions and modules on its stack. An example lists
the ones it may show in its expected file ("runtime_internals").

A frame here is a (function, module path) pair, innermost first, so that the
same rules apply to leakscope's and heaptrack's reports."""

import os

ALLOCATOR_FUNCTIONS = {"malloc", "calloc", "realloc", "reallocarray", "aligned_alloc",
                       "posix_memalign", "memalign", "valloc", "pvalloc"}


def is_allocator_frame(function, module):
    """The allocator entry points a stack can start with (the shim skips its
    own frames; operator new and ld.so's calloc wrapper remain)."""
    name = function.split("(")[0]
    return (name in ALLOCATOR_FUNCTIONS or name.startswith("operator new")
            or os.path.basename(module).startswith("libleakscope"))


def module_is(module, prefix):
    return os.path.basename(module).startswith(prefix)


def eh_pool(frames, example_module):
    """libstdc++'s emergency exception-handling pool (~72 KiB), allocated
    once by libstdc++'s own initializer while the program is loaded: only
    libstdc++, ld.so and libc frames, never the example's."""
    if any(module_is(m, example_module) for _, m in frames):
        return False
    callers = [(f, m) for f, m in frames if not is_allocator_frame(f, m)]
    allowed = ("libstdc++", "ld-linux", "libc.so")
    return (bool(callers) and module_is(callers[0][1], "libstdc++")
            and all(any(module_is(m, p) for p in allowed) for _, m in callers))


def thread_dtv(frames, example_module):
    """The dynamic thread vector ld.so callocs for each new thread: kept with
    the thread's cached stack after the thread ends. The stack runs from
    pthread_create into ld.so, whatever called pthread_create."""
    callers = [(f, m) for f, m in frames if not is_allocator_frame(f, m)]
    if not callers:
        return False
    first_function, first_module = callers[0]
    in_ld_so = module_is(first_module, "ld-linux") or "allocate_dtv" in first_function
    return in_ld_so and any("pthread_create" in f for f, _ in callers)


RECOGNISERS = {"eh_pool": eh_pool, "thread_dtv": thread_dtv}


def recognise(frames, example_module, allowed):
    """The name of the allowed runtime internal these frames are, or None."""
    for name in allowed:
        if RECOGNISERS[name](frames, example_module):
            return name
    return None
