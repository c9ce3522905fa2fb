"""recipes.cpu_memory: after keep_freed_memory, glibc serves a large block from its heap, not from fresh pages."""

from __future__ import annotations

import ctypes
import ctypes.util
import platform

import pytest

from recipes import cpu_memory


class _MallInfo2(ctypes.Structure):  # glibc malloc.h, struct mallinfo2 (glibc >= 2.33)
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's malloc")
def test_a_64_mb_block_comes_from_the_heap_and_stays_there_after_free():
    libc = ctypes.CDLL(ctypes.util.find_library("c"))
    if not hasattr(libc, "mallinfo2"):
        pytest.skip("glibc before 2.33: no mallinfo2")
    libc.mallinfo2.restype = _MallInfo2
    libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    assert cpu_memory.keep_freed_memory()
    size = 64 << 20  # above glibc's largest dynamic mmap threshold (32 MB): mmapped without the settings
    mapped_before = libc.mallinfo2().hblkhd
    block = libc.malloc(size)
    try:
        info = libc.mallinfo2()
        assert info.hblkhd == mapped_before  # not a fresh mapping, but heap
        heap_before_free = info.arena
    finally:
        libc.free(block)
    assert libc.mallinfo2().arena == heap_before_free  # and kept by the heap (under the 256 MB trim threshold)
