"""How many malloc arenas a server process may use (glibc).

glibc gives threads that allocate at the same time arenas of their own, up to 8 per core,
and each arena keeps what its threads free for their reuse. A server's request threads,
each parsing a bulk of 1,000 lines at some point, so left each process holding hundreds of
MiB it no longer used: benchmark (e) measured 971 MiB for two processes, 401 MiB with two
arenas each, at the same speed (ADR 0015)."""

from __future__ import annotations

import ctypes

_M_ARENA_MAX = -8  # mallopt's parameter number, from glibc's malloc.h


def limit_malloc_arenas(arenas: int | None) -> bool:
    """Ask glibc for at most `arenas` arenas in this process (None: leave glibc's default,
    or the operator's MALLOC_ARENA_MAX, alone). True if glibc took it; False where there is
    no glibc `mallopt` (musl, macOS) or it refused."""
    if arenas is None:
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    mallopt.restype = ctypes.c_int
    return bool(mallopt(_M_ARENA_MAX, arenas))
